/*
 * grant_table_op, the part a guest needs to set up its grant table: the
 * version (1 only), the size, and the shared frames it writes its grant
 * entries into.  Nothing maps or copies grants yet (no other domain to
 * share with), so those operations are -ENOSYS.
 *
 * The frames are owned by the domain (so its page tables may map them) and
 * Keel holds a write reference on each (page_share_with_guest): they
 * outlive any mapping, can never become page tables, and the guest cannot
 * give them back with decrease_reservation.  They do not count in
 * tot_pages, as with Xen.
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/grant_table.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/m2p.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/spinlock.h>
#include <xen/grant_table.h>

/* Xen's default limit; Linux asks for it with query_size. */
#define GNTTAB_MAX_FRAMES 64

struct grant_table {
    spinlock_t lock;
    unsigned int nr_frames;
    mfn_t frames[GNTTAB_MAX_FRAMES];
};

static long gnttab_setup_table(unsigned long uop);
static long gnttab_query_size(unsigned long uop);
static long gnttab_set_version(unsigned long uop);
static long gnttab_get_version(unsigned long uop);

long do_grant_table_op(struct hcall *h)
{
    unsigned int cmd = (unsigned int)h->arg[0];
    unsigned long uop = h->arg[1];
    unsigned int count = (unsigned int)h->arg[2];

    switch (cmd) {
    case GNTTABOP_setup_table:
    case GNTTABOP_query_size:
    case GNTTABOP_set_version:
    case GNTTABOP_get_version:
        /* Xen takes exactly one of these per call. */
        if (count != 1)
            return -XEN_EINVAL;
        break;
    default:
        return -XEN_ENOSYS;
    }
    switch (cmd) {
    case GNTTABOP_setup_table:
        return gnttab_setup_table(uop);
    case GNTTABOP_query_size:
        return gnttab_query_size(uop);
    case GNTTABOP_set_version:
        return gnttab_set_version(uop);
    default:
        return gnttab_get_version(uop);
    }
}

/* The domain an operation names, or a GNTST_* status.  On GNTST_okay the
 * caller holds a reference and drops it with domain_put. */
static int gnttab_target(domid_t id, struct domain **out)
{
    struct domain *self = current->domain;

    if (id == DOMID_SELF || id == self->domid) {
        domain_get_ref(self);
        *out = self;
        return GNTST_okay;
    }
    if (!self->is_privileged)
        return GNTST_permission_denied;
    *out = domain_get(id);
    return *out ? GNTST_okay : GNTST_bad_domain;
}

/* d's table, created on first use (two vCPUs may race to create it). */
static struct grant_table *gnttab_of(struct domain *d)
{
    struct grant_table *gt = __atomic_load_n(&d->grant_table, __ATOMIC_ACQUIRE);
    struct grant_table *expected = NULL;

    if (gt)
        return gt;
    gt = xzalloc(sizeof(*gt));
    if (!gt)
        return NULL;
    gt->lock = (spinlock_t)SPINLOCK_INIT;
    if (!__atomic_compare_exchange_n(&d->grant_table, &expected, gt, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        xfree(gt);
        return expected;
    }
    return gt;
}

bool gnttab_is_frame(const struct domain *d, mfn_t mfn)
{
    const struct grant_table *gt = __atomic_load_n(&d->grant_table, __ATOMIC_ACQUIRE);
    unsigned int n = gt ? __atomic_load_n(&gt->nr_frames, __ATOMIC_ACQUIRE) : 0;

    for (unsigned int i = 0; i < n; i++)
        if (gt->frames[i] == mfn)
            return true;
    return false;
}

/* Grow gt to n frames (under its lock); false when memory runs out. */
static bool gnttab_grow(struct domain *d, struct grant_table *gt, unsigned int n)
{
    while (gt->nr_frames < n) {
        struct page_info *pg = alloc_pages(0);
        mfn_t mfn;

        if (!pg)
            return false;
        mfn = page_to_mfn(pg);
        memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
        m2p_set(mfn, INVALID_M2P_ENTRY);
        /* Keel writes into it (grant status, later): it stays an ordinary
         * page while the table does. */
        page_share_with_guest(pg, d);
        gt->frames[gt->nr_frames] = mfn;
        /* Publish the frame before the count gnttab_is_frame reads. */
        __atomic_store_n(&gt->nr_frames, gt->nr_frames + 1, __ATOMIC_RELEASE);
    }
    return true;
}

/* The first n frames of d's table, grown to n if need be. */
static bool gnttab_frames(struct domain *d, unsigned int n, mfn_t *out)
{
    struct grant_table *gt = gnttab_of(d);
    bool ok;

    if (!gt)
        return false;
    spin_lock(&gt->lock);
    ok = gnttab_grow(d, gt, n);
    if (ok)
        memcpy(out, gt->frames, n * sizeof(*out));
    spin_unlock(&gt->lock);
    return ok;
}

static long gnttab_setup_table(unsigned long uop)
{
    struct gnttab_setup_table op;
    struct domain *d;
    mfn_t frames[GNTTAB_MAX_FRAMES];

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    /* Checked in Xen's order: size, then the list, then the domain. */
    if (op.nr_frames > GNTTAB_MAX_FRAMES) {
        op.status = GNTST_general_error;
        return copy_to_guest_obj(uop, &op);
    }
    if (!guest_range_ok((unsigned long)op.frame_list.p, op.nr_frames * sizeof(xen_pfn_t)))
        return -XEN_EFAULT;
    op.status = (s16)gnttab_target(op.dom, &d);
    if (op.status == GNTST_okay) {
        if (!gnttab_frames(d, op.nr_frames, frames))
            op.status = GNTST_general_error;
        domain_put(d);
    }
    for (unsigned int i = 0; op.status == GNTST_okay && i < op.nr_frames; i++) {
        xen_pfn_t f = frames[i];
        if (copy_to_guest((unsigned long)op.frame_list.p + i * sizeof(f), &f, sizeof(f)))
            op.status = GNTST_bad_virt_addr;
    }
    return copy_to_guest_obj(uop, &op);
}

static long gnttab_query_size(unsigned long uop)
{
    struct gnttab_query_size op;
    struct domain *d;

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    op.status = (s16)gnttab_target(op.dom, &d);
    if (op.status == GNTST_okay) {
        const struct grant_table *gt = __atomic_load_n(&d->grant_table, __ATOMIC_ACQUIRE);
        op.nr_frames = gt ? __atomic_load_n(&gt->nr_frames, __ATOMIC_ACQUIRE) : 0;
        op.max_nr_frames = GNTTAB_MAX_FRAMES;
        domain_put(d);
    }
    return copy_to_guest_obj(uop, &op);
}

/* Version 1 only: version 2 (split status frames) is not implemented. */
static long gnttab_set_version(unsigned long uop)
{
    struct gnttab_set_version op;

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    if (op.version == 2)
        return -XEN_EOPNOTSUPP;
    if (op.version != 0 && op.version != 1)
        return -XEN_EINVAL;
    op.version = 1; /* 0 asks which version is in force */
    return copy_to_guest_obj(uop, &op);
}

static long gnttab_get_version(unsigned long uop)
{
    struct gnttab_get_version op;
    struct domain *d;

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    if (gnttab_target(op.dom, &d) != GNTST_okay)
        return -XEN_ESRCH;
    domain_put(d);
    op.version = 1;
    return copy_to_guest_obj(uop, &op);
}
