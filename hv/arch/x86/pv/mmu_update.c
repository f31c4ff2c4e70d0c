/*
 * mmu_update: a batch of checked writes into the guest's own page tables
 * (by machine address) and into the M2P.  Each request is validated before
 * it changes anything; the batch stops at the first refusal, with `done`
 * telling the guest how far it got (pv_run_batch: long batches continue).
 */
#include <asm/page.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/m2p.h>
#include <keel/sched.h>


static long pt_update(struct domain *d, struct domain *pg_owner, u64 ptr, u64 val);
static long machphys_update(struct domain *pg_owner, u64 ptr, u64 val);

struct update_ctx {
    struct domain *d, *pg_owner;
};

static long one_update(void *c, const void *item)
{
    const struct update_ctx *ctx = c;
    const struct mmu_update *req = item;

    switch (req->ptr & 3) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
        return pt_update(ctx->d, ctx->pg_owner, req->ptr, req->val);
    case MMU_MACHPHYS_UPDATE:
        return machphys_update(ctx->pg_owner, req->ptr, req->val);
    default:
        return -XEN_ENOSYS;
    }
}

long do_mmu_update(struct hcall *h)
{
    struct update_ctx ctx = {current->domain, NULL};
    struct mmu_update req;
    long rc = 0;

    ctx.pg_owner = pv_pg_owner(h->arg[3], &rc);
    if (!ctx.pg_owner)
        return rc;
    rc = pv_run_batch(h, sizeof(req), &req, one_update, &ctx);
    domain_put(ctx.pg_owner);
    return rc;
}

/* A plain write into a frame of d that is not a page table right now. */
static long plain_update(struct domain *d, struct page_info *pg, u64 *slot, u64 val)
{
    if (!get_page_keel_write(pg, d))
        return -XEN_EINVAL;
    WRITE_ONCE(*slot, val);
    put_page_keel_write(pg);
    return 0;
}

static long pt_update(struct domain *d, struct domain *pg_owner, u64 ptr, u64 val)
{
    bool preserve_ad = (ptr & 3) == MMU_PT_UPDATE_PRESERVE_AD;
    unsigned int index = (ptr & (PAGE_SIZE - 1)) >> 3;
    struct page_info *pg = pv_domain_page(ptr >> PAGE_SHIFT, d);
    u64 *slot;
    unsigned int level;
    long rc;

    /* Tables are d's own; pg_owner only says whose frames entries name. */
    if (!pg || !get_page(pg, d))
        return -XEN_EINVAL;
    slot = (u64 *)mfn_to_virt(page_to_mfn(pg)) + index;
    level = pv_table_level(pg);
    if (level && get_page_type(pg, pgt_of_level(level))) {
        rc = pv_entry_update(level == 1 ? pg_owner : d, slot, level, index, val, preserve_ad);
        put_page_type(pg);
    } else {
        rc = plain_update(d, pg, slot, val);
    }
    put_page(pg);
    return rc;
}

static long machphys_update(struct domain *pg_owner, u64 ptr, u64 val)
{
    struct page_info *pg = pv_domain_page(ptr >> PAGE_SHIFT, pg_owner);

    if (!pg)
        return -XEN_EINVAL;
    m2p_set(ptr >> PAGE_SHIFT, val);
    return 0;
}
