/*
 * mmuext_op: the page-table operations that are not entry writes — pinning
 * and unpinning tables, switching the kernel/user page-table roots, TLB
 * flushes, the LDT, and whole-page clear/copy.  Like mmu_update, a batch
 * stops at the first refusal and `done` counts the operations performed.
 */
#include <asm/cpu.h>
#include <asm/flushtlb.h>
#include <asm/page.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>

#define LDT_MAX_ENTS 8192

static long one_op(struct vcpu *v, struct domain *pg_owner, const struct mmuext_op *op);

static long one_ext_op(void *pg_owner, const void *op)
{
    return one_op(current, pg_owner, op);
}

long do_mmuext_op(struct hcall *h)
{
    struct domain *pg_owner;
    struct mmuext_op op;
    long rc = 0;

    if (pv_batch_prologue(h, &rc))
        return rc;
    pg_owner = pv_pg_owner(h->arg[3], &rc);
    if (!pg_owner)
        return rc;
    if (pg_owner != current->domain && !current->domain->is_privileged) {
        domain_put(pg_owner);
        return -XEN_EPERM;
    }
    rc = pv_run_batch(h, sizeof(op), &op, one_ext_op, pg_owner);
    domain_put(pg_owner);
    return rc;
}

/* ------------------------------------------------------------- pinning */

/* Xen's answers: -EINVAL for a frame that is not the owner's or is
 * pinned already, else what validating the table said (an entry's
 * refusal, e.g. -EBUSY for another domain's frame).  A large tree is
 * validated over several continuations (-KEEL_ERESTART). */
static long pin(struct domain *pg_owner, mfn_t mfn, unsigned int level)
{
    struct page_info *pg = pv_domain_page(mfn, pg_owner);
    long rc;

    if (!pg)
        return -XEN_EINVAL;
    /* A refusal's undo may be parked in the vCPU, as Xen's. */
    rc = page_pin_preemptible_later(pg, pg_owner, pgt_of_level(level),
                                    &current->arch.old_table);
    if (rc == -KEEL_ERESTART && pg_owner != current->domain &&
        READ_ONCE(pg_owner->is_dying)) {
        /* Relinquish may have passed this frame: no partial state left. */
        page_drop_partial(pg);
        return -XEN_EINVAL;
    }
    if (rc)
        return rc;
    /* A toolstack pinning a dying domain's table (it races destruction):
     * relinquish may have passed this frame already, so undo at once. */
    if (pg_owner != current->domain && READ_ONCE(pg_owner->is_dying))
        page_unpin(pg);
    return 0;
}

/* Succeeds at once, as on Xen; releasing a large tree goes on in
 * continuations (the rest parked in the calling vCPU). */
static long unpin(struct vcpu *v, struct domain *pg_owner, mfn_t mfn)
{
    struct page_info *pg = pv_domain_page(mfn, pg_owner);

    if (!pg || !pv_table_level(pg) || !page_unpin_later(pg, &v->arch.old_table))
        return -XEN_EINVAL;
    return 0;
}

/* --------------------------------------------------- page-table roots */

/* Make *root point at L4 `mfn` (0: none, if allowed): take the new
 * reference before dropping the old, so re-loading the same root works.
 * Validating a new root may continue (-KEEL_ERESTART); releasing the old
 * one may be parked (the request succeeded). */
static long set_root(struct vcpu *v, mfn_t *root, mfn_t mfn, bool zero_ok)
{
    struct domain *d = v->domain;
    struct page_info *pg = NULL;
    mfn_t old = *root;

    if (mfn || !zero_ok) {
        long rc;

        pg = pv_domain_page(mfn, d);
        if (!pg || !get_page(pg, d))
            return -XEN_EINVAL;
        rc = get_page_type_preemptible(pg, PGT_l4_page_table);
        if (rc) {
            if (rc == -KEEL_ERESTART || !page_park_partial(pg, &v->arch.old_table))
                put_page(pg);
            return rc == -KEEL_ERESTART ? rc : -XEN_EINVAL;
        }
    }
    *root = mfn;
    switch_cr3(pv_active_cr3(v));
    if (old)
        (void)put_page_and_type_later(mfn_to_page(old), &v->arch.old_table);
    return 0;
}

/* --------------------------------------------------------- flushes, LDT */

static long flush_multi(unsigned int type, unsigned long va, unsigned long mask_gva)
{
    if (pv_check_vcpumask(mask_gva))
        return -XEN_EFAULT;
    pv_flush(type, va, true);
    return 0;
}

static long set_ldt(struct vcpu *v, unsigned long base, unsigned long ents)
{
    if (ents > LDT_MAX_ENTS || (base & (PAGE_SIZE - 1)) ||
        (ents && !guest_range_ok(base, ents * 8)))
        return -XEN_EINVAL;
    long rc = pv_vcpu_set_ldt(v, ents ? base : 0, (unsigned int)ents);

    if (rc)
        return rc;
    v->arch.ldt_base = ents ? base : 0;
    v->arch.ldt_ents = (unsigned int)ents;
    return 0;
}

/* ------------------------------------------------------ page contents */

static long clear_page(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = pv_domain_page(mfn, d);

    if (!pg || !get_page_keel_write(pg, d))
        return -XEN_EINVAL;
    memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
    put_page_keel_write(pg);
    return 0;
}

static long copy_page(struct domain *d, mfn_t dst, mfn_t src)
{
    struct page_info *dpg = pv_domain_page(dst, d), *spg = pv_domain_page(src, d);

    if (!spg || !get_page(spg, d))
        return -XEN_EINVAL;
    if (!dpg || !get_page_keel_write(dpg, d)) {
        put_page(spg);
        return -XEN_EINVAL;
    }
    memcpy(mfn_to_virt(dst), mfn_to_virt(src), PAGE_SIZE);
    put_page_keel_write(dpg);
    put_page(spg);
    return 0;
}

static long one_op(struct vcpu *v, struct domain *pg_owner, const struct mmuext_op *op)
{
    unsigned long a1 = op->arg1.mfn;

    /* On another domain's behalf only pins, unpins and page contents. */
    if (pg_owner != v->domain && op->cmd != MMUEXT_PIN_L1_TABLE &&
        op->cmd != MMUEXT_PIN_L2_TABLE && op->cmd != MMUEXT_PIN_L3_TABLE &&
        op->cmd != MMUEXT_PIN_L4_TABLE && op->cmd != MMUEXT_UNPIN_TABLE &&
        op->cmd != MMUEXT_CLEAR_PAGE && op->cmd != MMUEXT_COPY_PAGE &&
        op->cmd != MMUEXT_MARK_SUPER && op->cmd != MMUEXT_UNMARK_SUPER &&
        op->cmd <= MMUEXT_UNMARK_SUPER)
        return -XEN_EPERM;
    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
        return pin(pg_owner, a1, op->cmd - MMUEXT_PIN_L1_TABLE + 1);
    case MMUEXT_UNPIN_TABLE:
        return unpin(v, pg_owner, a1);
    case MMUEXT_NEW_BASEPTR:
        return set_root(v, &v->arch.guest_table, a1, false);
    case MMUEXT_NEW_USER_BASEPTR:
        return set_root(v, &v->arch.guest_table_user, a1, true);
    case MMUEXT_TLB_FLUSH_LOCAL:
        pv_flush(UVMF_TLB_FLUSH, 0, false);
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        if (guest_range_ok(a1, 1))
            pv_flush(UVMF_INVLPG, a1, false);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
        return flush_multi(UVMF_TLB_FLUSH, 0, (unsigned long)op->arg2.vcpumask.p);
    case MMUEXT_INVLPG_MULTI:
        return flush_multi(guest_range_ok(a1, 1) ? UVMF_INVLPG : UVMF_NONE, a1,
                           (unsigned long)op->arg2.vcpumask.p);
    case MMUEXT_TLB_FLUSH_ALL:
        pv_flush(UVMF_TLB_FLUSH, 0, true);
        return 0;
    case MMUEXT_INVLPG_ALL:
        if (guest_range_ok(a1, 1))
            pv_flush(UVMF_INVLPG, a1, true);
        return 0;
    case MMUEXT_SET_LDT:
        return set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
    case MMUEXT_CLEAR_PAGE:
        return clear_page(pg_owner, a1);
    case MMUEXT_COPY_PAGE:
        return copy_page(pg_owner, a1, op->arg2.src_mfn);
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_ENOSYS;
    }
}
