/*
 * mmu_update: a batch of checked writes into page tables (by machine
 * address) and into the M2P.  Each request is validated before it changes
 * anything; the batch stops at the first refusal, with `done` telling the
 * guest exactly how far it got (pv_run_batch: long batches continue).
 *
 * foreigndom, as Xen encodes it: the low 16 bits name the domain whose
 * frames new L1 entries may map (DOMID_SELF: the caller's own; the
 * caller's own numeric id is refused as Xen refuses it), the high 16 bits,
 * if not 0, the domain (+1) whose page tables are written.  Only the
 * control domain may name another domain; a foreign frame may only go
 * into an L1 entry.  Linux's privcmd foreign mappings are exactly this:
 * dom0's own L1 entries naming a domU's frames, each holding a reference
 * on the frame until the entry is cleared again.
 */
#include <asm/page.h>
#include <asm/hvm.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/m2p.h>
#include <keel/sched.h>

struct update_ctx {
    struct domain *d;         /* the caller */
    struct pv_pt_writer w;    /* whose tables, whose frames; the frame held */
};

static long pt_update(struct update_ctx *c, u64 ptr, u64 val, bool preserve_ad,
                      bool translate);
static long machphys_update(const struct update_ctx *c, u64 ptr, u64 val);

/* Xen checks the caller's right to the other domains per request, so an
 * empty batch naming them succeeds: the control domain may, others not. */
static long may_touch(const struct update_ctx *c)
{
    if ((c->w.pg_owner != c->d || c->w.pt_owner != c->d) && !c->d->is_privileged)
        return -XEN_EPERM;
    return 0;
}

static long one_update(void *ctx, const void *item)
{
    struct update_ctx *c = ctx;
    const struct mmu_update *req = item;
    unsigned int cmd = req->ptr & 7;
    long rc;

    switch (cmd) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
    case MMU_PT_UPDATE_NO_TRANSLATE: /* machine frames even for a translated foreign domain */
        if ((rc = may_touch(c)))
            return rc;
        return pt_update(c, req->ptr - cmd, req->val, cmd == MMU_PT_UPDATE_PRESERVE_AD,
                         cmd != MMU_PT_UPDATE_NO_TRANSLATE);
    case MMU_MACHPHYS_UPDATE:
        if (c->w.pt_owner != c->d)
            return -XEN_EPERM;
        if ((rc = may_touch(c)))
            return rc;
        return machphys_update(c, req->ptr - cmd, req->val);
    default:
        return -XEN_ENOSYS;
    }
}

/* The page-table owner named in foreigndom's high half, referenced. */
static long pt_owner_of(unsigned long foreigndom, struct domain **out)
{
    unsigned long pt_dom = (foreigndom >> 16) & 0xffff;
    struct domain *d = current->domain;

    if (!pt_dom) {
        domain_get_ref(d);
        *out = d;
        return 0;
    }
    *out = domain_get((domid_t)(pt_dom - 1));
    return *out ? 0 : -XEN_ESRCH;
}

long do_mmu_update(struct hcall *h)
{
    struct update_ctx ctx = {.d = current->domain, .w.preemptible = true,
                             .w.later = &current->arch.old_table};
    struct mmu_update req;
    long rc;

    if (pv_batch_prologue(h, &rc))
        return rc;
    if ((rc = pt_owner_of(h->arg[3], &ctx.w.pt_owner)))
        return rc;
    ctx.w.pg_owner = pv_pg_owner(h->arg[3] & 0xffff, &rc);
    if (!ctx.w.pg_owner) {
        domain_put(ctx.w.pt_owner);
        return rc;
    }
    rc = pv_run_batch(h, sizeof(req), &req, one_update, &ctx);
    pv_pt_writer_done(&ctx.w); /* before a continuation too */
    domain_put(ctx.w.pg_owner);
    domain_put(ctx.w.pt_owner);
    return rc;
}

#define PTE_FRAME 0x000ffffffffff000ULL

/* A translated foreign domain's frames are named by GFN: the entry gets
 * the machine frame its p2m has there (RAM, or a frame Keel shares with
 * it), or the update is refused, as on Xen.  Only for entries of tables
 * (pv_pt_write asks when the frame written is one). */
static int translate_foreign(const struct pv_pt_writer *w, u64 *val)
{
    enum p2m_type t;
    mfn_t mfn;

    if (!is_hvm_domain(w->pg_owner) || w->pg_owner == w->pt_owner || !(*val & 1))
        return 0;
    mfn = p2m_lookup(&w->pg_owner->arch.hvm->p2m, (*val & PTE_FRAME) >> PAGE_SHIFT, &t);
    if (t != p2m_ram_rw && t != p2m_special)
        return -XEN_EINVAL;
    *val = (*val & ~PTE_FRAME) | ((u64)mfn << PAGE_SHIFT);
    return 0;
}

static long pt_update(struct update_ctx *c, u64 ptr, u64 val, bool preserve_ad,
                      bool translate)
{
    c->w.translate = translate ? translate_foreign : NULL;
    return pv_pt_write(&c->w, ptr, val, preserve_ad);
}

static long machphys_update(const struct update_ctx *c, u64 ptr, u64 val)
{
    struct page_info *pg = pv_domain_page(ptr >> PAGE_SHIFT, c->w.pg_owner);

    if (!pg || !get_page(pg, c->w.pg_owner))
        return -XEN_EINVAL;
    m2p_set(ptr >> PAGE_SHIFT, val);
    put_page(pg);
    return 0;
}
