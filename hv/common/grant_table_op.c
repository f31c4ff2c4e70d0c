/*
 * grant_table_op: the guest-facing layer over the grant-table core
 * (grant_table.c).  It copies operations in and out, turns domids into
 * tables, batches (unmaps: one TLB flush per 32), and yields long batches
 * with continuations.  Versions 1 and 2 (set_version, get_version,
 * get_status_frames); transfer, unmap_and_replace, swap_grant_ref and
 * cache_flush are -ENOSYS.
 *
 * Who may do what (as Xen's default policy): map, unmap and copy name any
 * domain (the grant entry itself says who may use it); setup_table,
 * query_size and get_version on another domain are for the privileged
 * domain only.
 */
#include <asm/pv_mm.h>
#include <asm/hvm.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/m2p.h>
#include <keel/sched.h>
#include <xen/memory.h>

#define CMD_MASK 0xfffU          /* Xen keeps continuation state above it */
#define UNMAP_BATCH 32           /* unmaps per TLB flush, as Xen */
#define MAPPING_BITS (GNTMAP_device_map | GNTMAP_host_map)

static long gnttab_setup_table(unsigned long uop);
static long gnttab_query_size(unsigned long uop);
static long op_set_version(unsigned long uop);
static long op_get_version(unsigned long uop);
static long op_get_status_frames(unsigned long uop);
static long gnttab_map_batch(struct hcall *h, unsigned long uop, unsigned int count);
static long gnttab_unmap_batch(struct hcall *h, unsigned long uop, unsigned int count);
static long gnttab_copy_batch(struct hcall *h, unsigned long uop, unsigned int count);

/* What Xen 4.17 lets an HVM guest ask for (the rest "needs auditing"). */
static bool hvm_op_allowed(unsigned int cmd)
{
    switch (cmd) {
    case GNTTABOP_query_size:
    case GNTTABOP_setup_table:
    case GNTTABOP_set_version:
    case GNTTABOP_get_version:
    case GNTTABOP_copy:
    case GNTTABOP_map_grant_ref:
    case GNTTABOP_unmap_grant_ref:
    case GNTTABOP_swap_grant_ref:
        return true;
    default:
        return false;
    }
}

long do_grant_table_op(struct hcall *h)
{
    unsigned int cmd = (unsigned int)h->arg[0];
    unsigned long uop = h->arg[1];
    unsigned int count = (unsigned int)h->arg[2];

    if (is_hvm_domain(current->domain) && !hvm_op_allowed(cmd))
        return -XEN_ENOSYS;
    if ((int)count < 0 || (cmd & ~CMD_MASK))
        return -XEN_EINVAL;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return gnttab_map_batch(h, uop, count);
    case GNTTABOP_unmap_grant_ref:
        return gnttab_unmap_batch(h, uop, count);
    case GNTTABOP_copy:
        return gnttab_copy_batch(h, uop, count);
    /* Xen ignores the count of these two ... */
    case GNTTABOP_set_version:
        return op_set_version(uop);
    case GNTTABOP_get_version:
        return op_get_version(uop);
    case GNTTABOP_setup_table:
    case GNTTABOP_query_size:
    case GNTTABOP_get_status_frames:
        break;
    default:
        return -XEN_ENOSYS;
    }
    /* ... and takes exactly one of these per call. */
    if (count != 1)
        return -XEN_EINVAL;
    switch (cmd) {
    case GNTTABOP_setup_table:
        return gnttab_setup_table(uop);
    case GNTTABOP_query_size:
        return gnttab_query_size(uop);
    default:
        return op_get_status_frames(uop);
    }
}

/* ------------------------------------------------------------- tables */

/* d's table, created on first use with Xen's default limits (two vCPUs
 * may race to create it).  NULL when out of memory, or for a dying domain
 * that has none. */
static struct grant_table *table_of(struct domain *d)
{
    struct grant_table *gt = __atomic_load_n(&d->grant_table, __ATOMIC_ACQUIRE);
    struct grant_table *expected = NULL;

    if (gt || READ_ONCE(d->is_dying))
        return gt;
    /* The limits createdomain set (dom0's builder sets Xen's defaults). */
    gt = gnttab_create(d, d->domid, d->max_grant_frames ? d->max_grant_frames : GNTTAB_MAX_FRAMES,
                       d->max_maptrack_frames ? d->max_maptrack_frames
                                              : GNTTAB_MAX_MAPTRACK_FRAMES);
    if (!gt)
        return NULL;
    if (d->max_grant_version)
        gt->max_version = (u8)MIN(d->max_grant_version, (unsigned int)GNTTAB_MAX_VERSION);
    /* A PVH guest's grant entries name guest frames, and it maps grants
     * into its physical space. */
    if (is_hvm_domain(d)) {
        gt->gfn_to_mfn = hvm_gfn_to_ram;
        gt->translated = true;
    }
    if (!__atomic_compare_exchange_n(&d->grant_table, &expected, gt, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        gnttab_put(gt);
        return expected;
    }
    return gt;
}

bool gnttab_is_frame(const struct domain *d, mfn_t mfn)
{
    const struct grant_table *gt = __atomic_load_n(&d->grant_table, __ATOMIC_ACQUIRE);

    return gt && gnttab_has_frame(gt, mfn);
}

void gnttab_arch_new_frame(mfn_t mfn)
{
    m2p_set(mfn, INVALID_M2P_ENTRY);
}

/* A domain by id, referenced; DOMID_SELF is no id here (Xen's map and
 * unmap look domains up by id only). */
static struct domain *domain_by_id(domid_t id)
{
    return id < DOMID_FIRST_RESERVED ? domain_get(id) : NULL;
}

/* The domain setup/query name, or a GNTST_* status.  On GNTST_okay the
 * caller holds a reference and drops it with domain_put. */
static int gnttab_target(domid_t id, struct domain **out)
{
    struct domain *self = current->domain;

    if (id == DOMID_SELF || id == self->domid) {
        domain_get_ref(self);
        *out = self;
        return GNTST_okay;
    }
    *out = domain_by_id(id);
    if (!*out)
        return GNTST_bad_domain;
    if (!self->is_privileged) {
        domain_put(*out);
        return GNTST_permission_denied;
    }
    return GNTST_okay;
}

/* ------------------------------------------------- setup, size, version */

static long gnttab_setup_table(unsigned long uop)
{
    struct gnttab_setup_table op;
    struct grant_table *gt;
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
        gt = table_of(d);
        if (!gt || gnttab_frame_mfns(gt, 0, op.nr_frames, frames))
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
        op.nr_frames = gt ? gnttab_nr_frames(gt) : 0;
        op.max_nr_frames = GNTTAB_MAX_FRAMES;
        domain_put(d);
    }
    return copy_to_guest_obj(uop, &op);
}

/* The version in force is reported back whatever the answer (Xen). */
static long op_set_version(unsigned long uop)
{
    struct gnttab_set_version op;
    struct grant_table *gt;
    long rc;

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    gt = table_of(current->domain);
    if (!gt)
        return -XEN_ENOMEM;
    rc = gnttab_set_version(gt, op.version);
    op.version = READ_ONCE(gt->version);
    return copy_to_guest_obj(uop, &op) ? -XEN_EFAULT : rc;
}

static long op_get_version(unsigned long uop)
{
    struct gnttab_get_version op;
    struct grant_table *gt;
    struct domain *d;
    int st;

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    st = gnttab_target(op.dom, &d);
    if (st == GNTST_bad_domain)
        return -XEN_ESRCH;
    if (st != GNTST_okay)
        return -XEN_EPERM;
    gt = table_of(d);
    op.version = gt ? READ_ONCE(gt->version) : 1;
    domain_put(d);
    return copy_to_guest(uop + offsetof(struct gnttab_get_version, version), &op.version,
                         sizeof(op.version)) ? -XEN_EFAULT : 0;
}

/* Xen's order: the list, the domain, its permission, the count. */
static long op_get_status_frames(unsigned long uop)
{
    struct gnttab_get_status_frames op;
    mfn_t frames[GNTTAB_MAX_STATUS_FRAMES];
    struct grant_table *gt;
    struct domain *d;

    if (copy_from_guest_obj(&op, uop))
        return -XEN_EFAULT;
    if (!guest_range_ok((unsigned long)op.frame_list.p, (size_t)op.nr_frames * sizeof(u64)))
        return -XEN_EFAULT;
    op.status = (s16)gnttab_target(op.dom, &d);
    if (op.status == GNTST_okay) {
        gt = table_of(d);
        if (!gt || op.nr_frames > gnttab_nr_status(gt) ||
            (op.nr_frames && gnttab_status_mfns(gt, 0, op.nr_frames, frames, false)))
            op.status = GNTST_general_error;
        domain_put(d);
    }
    for (unsigned int i = 0; op.status == GNTST_okay && i < op.nr_frames; i++) {
        u64 f = frames[i];
        if (copy_to_guest((unsigned long)op.frame_list.p + i * sizeof(f), &f, sizeof(f)))
            op.status = GNTST_bad_virt_addr;
    }
    return copy_to_guest(uop + offsetof(struct gnttab_get_status_frames, status), &op.status,
                         sizeof(op.status)) ? -XEN_EFAULT : 0;
}

/* ----------------------------------------------------------- batches */

/* Yields what is left of a batch of `size`-byte ops after `done` of them. */
static long batch_continue(struct hcall *h, unsigned long uop, unsigned int count,
                           unsigned int done, size_t size)
{
    h->arg[1] = uop + done * size;
    h->arg[2] = count - done;
    return hypercall_continue(h);
}

static s16 map_one(struct gnttab_map_grant_ref *op)
{
    struct grant_table *lgt, *rgt;
    struct domain *rd;
    s16 rc;

    rc = gnttab_map_flags_check(is_hvm_domain(current->domain), op->flags);
    if (rc)
        return rc;
    rd = domain_by_id(op->dom);
    if (!rd)
        return GNTST_bad_domain;
    lgt = table_of(current->domain);
    rgt = table_of(rd);
    if (!lgt)
        rc = GNTST_no_space;
    else if (!rgt)
        rc = GNTST_general_error; /* dying without a table: nothing granted */
    else
        rc = gnttab_map(lgt, rgt, op);
    domain_put(rd);
    return rc;
}

static long gnttab_map_batch(struct hcall *h, unsigned long uop, unsigned int count)
{
    struct gnttab_map_grant_ref op;

    if (!guest_range_ok(uop, (size_t)count * sizeof(op)))
        return -XEN_EFAULT;
    for (unsigned int i = 0; i < count; i++) {
        unsigned long at = uop + i * sizeof(op);
        if (i && hypercall_preempt_check(h))
            return batch_continue(h, uop, count, i, sizeof(op));
        if (copy_from_guest_obj(&op, at))
            return -XEN_EFAULT;
        op.status = map_one(&op);
        if (copy_to_guest_obj(at, &op))
            return -XEN_EFAULT;
    }
    return 0;
}

/* Completes the unmaps of one batch after one flush for all of them: the
 * PV caller's TLB entries of the linear addresses (or all), or an HVM
 * caller's guest translations (every CPU leaves its guest once). */
static void unmap_finish(struct gnttab_unmap_done *done, unsigned int n)
{
    u64 vas[UNMAP_BATCH];
    unsigned int nva = 0;
    bool full = false, any = false, p2m = false;

    for (unsigned int i = 0; i < n; i++) {
        if (!(done[i].what & GNTMAP_host_map))
            continue; /* a device mapping has no PTE to flush */
        if (done[i].p2m) {
            p2m = true;
            continue;
        }
        any = true;
        full |= done[i].full_flush;
        if (!done[i].full_flush)
            vas[nva++] = done[i].va;
    }
    if (any)
        pv_flush_list(full ? NULL : vas, nva);
    if (p2m)
        memop_arch_flush_released(current->domain);
    for (unsigned int i = 0; i < n; i++)
        gnttab_unmap_complete(&done[i]);
}

static long gnttab_unmap_batch(struct hcall *h, unsigned long uop, unsigned int count)
{
    struct gnttab_unmap_done done[UNMAP_BATCH];
    struct gnttab_unmap_grant_ref op;
    struct grant_table *lgt;
    unsigned int i = 0;

    if (!guest_range_ok(uop, (size_t)count * sizeof(op)))
        return -XEN_EFAULT;
    lgt = table_of(current->domain);
    while (i < count) {
        unsigned int n = 0;
        long rc = 0;
        if (i && hypercall_preempt_check(h))
            return batch_continue(h, uop, count, i, sizeof(op));
        for (; n < UNMAP_BATCH && i < count; i++) {
            unsigned long at = uop + i * sizeof(op);
            if (copy_from_guest_obj(&op, at)) {
                rc = -XEN_EFAULT;
                break;
            }
            op.status = lgt ? gnttab_unmap(lgt, &op, &done[n]) : GNTST_bad_handle;
            if (!lgt)
                done[n].rgt = NULL;
            n++;
            if (copy_to_guest(at + offsetof(struct gnttab_unmap_grant_ref, status),
                              &op.status, sizeof(op.status))) {
                rc = -XEN_EFAULT;
                break;
            }
        }
        unmap_finish(done, n);
        if (rc)
            return rc;
    }
    return 0;
}

/* The domain one side of a copy names: a grant of any domain, or (only as
 * DOMID_SELF) a frame of the caller's own.  A domain that does not exist
 * is GNTST_bad_domain even for a frame (what Xen 4.17 answers a domU). */
static s16 copy_side(domid_t domid, bool is_gref, struct domain **d, struct grant_table **gt)
{
    if (domid == DOMID_SELF) {
        domain_get_ref(current->domain);
        *d = current->domain;
    } else if (!(*d = domain_by_id(domid))) {
        return GNTST_bad_domain;
    } else if (!is_gref) {
        domain_put(*d);
        *d = NULL;
        return GNTST_permission_denied;
    }
    *gt = NULL;
    if (is_gref && !(*gt = table_of(*d))) {
        domain_put(*d);
        *d = NULL;
        return GNTST_bad_domain;
    }
    return GNTST_okay;
}

static s16 copy_one(const struct gnttab_copy *op)
{
    struct domain *sd = NULL, *dd = NULL, *self = current->domain;
    struct grant_table *sgt, *dgt;
    s16 rc;

    rc = copy_side(op->source.domid, op->flags & GNTCOPY_source_gref, &sd, &sgt);
    if (!rc)
        rc = copy_side(op->dest.domid, op->flags & GNTCOPY_dest_gref, &dd, &dgt);
    if (!rc)
        rc = gnttab_copy_one(self, self->domid, sgt, dgt, op);
    if (sd)
        domain_put(sd);
    if (dd)
        domain_put(dd);
    return rc;
}

static long gnttab_copy_batch(struct hcall *h, unsigned long uop, unsigned int count)
{
    struct gnttab_copy op;

    if (!guest_range_ok(uop, (size_t)count * sizeof(op)))
        return -XEN_EFAULT;
    for (unsigned int i = 0; i < count; i++) {
        unsigned long at = uop + i * sizeof(op);
        if (i && hypercall_preempt_check(h))
            return batch_continue(h, uop, count, i, sizeof(op));
        if (copy_from_guest_obj(&op, at))
            return -XEN_EFAULT;
        op.status = copy_one(&op);
        if (copy_to_guest(at + offsetof(struct gnttab_copy, status), &op.status,
                          sizeof(op.status)))
            return -XEN_EFAULT;
    }
    return 0;
}

/* -------------------------------------------- domain lifetime, resources */

#define RELINQUISH_BUDGET 256 /* handles per call before yielding */

int gnttab_domain_relinquish(struct domain *d)
{
    struct grant_table *gt = __atomic_load_n(&d->grant_table, __ATOMIC_ACQUIRE);

    return gt ? gnttab_relinquish(gt, RELINQUISH_BUDGET) : 0;
}

void gnttab_domain_free(struct domain *d)
{
    struct grant_table *gt = __atomic_exchange_n(&d->grant_table, NULL, __ATOMIC_ACQ_REL);

    if (gt)
        gnttab_put(gt);
}

unsigned int gnttab_resource_max_frames(struct domain *d, unsigned int id)
{
    (void)d;
    switch (id) {
    case XENMEM_resource_grant_table_id_shared:
        return GNTTAB_MAX_FRAMES;
    case XENMEM_resource_grant_table_id_status:
        return GNTTAB_MAX_STATUS_FRAMES;
    default:
        return 0;
    }
}

int gnttab_acquire_frames(struct domain *d, unsigned int id, unsigned int frame,
                          unsigned int n, xen_pfn_t *out)
{
    mfn_t mfns[GNTTAB_MAX_FRAMES];
    struct grant_table *gt;
    int rc = -XEN_EINVAL;

    if (!n || n > GNTTAB_MAX_FRAMES)
        return -XEN_EINVAL;
    gt = table_of(d);
    if (!gt)
        return -XEN_EINVAL;
    /* Growing beyond the limit, or failing to, is -EINVAL as with Xen;
     * status frames exist only for version 2. */
    if (id == XENMEM_resource_grant_table_id_shared)
        rc = gnttab_frame_mfns(gt, frame, n, mfns) ? -XEN_EINVAL : 0;
    else if (id == XENMEM_resource_grant_table_id_status)
        rc = gnttab_status_mfns(gt, frame, n, mfns, true) ? -XEN_EINVAL : 0;
    for (unsigned int i = 0; !rc && i < n; i++)
        out[i] = mfns[i];
    return rc;
}

/* ------------------------------------------------------- arch hooks */

struct page_info *gnttab_arch_va_l1(struct domain *ld, u64 va, u64 **slot)
{
    if (current->domain != ld || !guest_range_ok(va, 1))
        return NULL;
    return pv_find_l1(current, va, slot);
}

void gnttab_arch_flush_all(void)
{
    pv_flush(UVMF_TLB_FLUSH, 0, true);
}

struct grant_table *gnttab_arch_table_by_id(domid_t domid)
{
    struct domain *d = domain_by_id(domid);
    struct grant_table *gt;

    if (!d)
        return NULL;
    gt = table_of(d);
    if (gt)
        gnttab_get(gt);
    domain_put(d);
    return gt;
}
