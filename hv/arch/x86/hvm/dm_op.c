/*
 * dm_op: a device model's operations on the HVM domain it serves.  Keel
 * has no device models (no ioreq servers, no emulated devices beyond the
 * PVH set), so no operation is carried out; the checks before one are
 * Xen 4.17's, in its order, so that what a guest sees for a bad call is
 * what Xen gives it: no buffers -ENODATA, too many -E2BIG, an unreadable
 * list -EFAULT, no such domain (or DOMID_SELF) -ESRCH, the caller itself
 * -EPERM, a PV target -EINVAL, and then the right to act on it -EPERM.
 */
#define __XEN_TOOLS__ 1
#include <asm/hvm.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/hvm/dm_op.h>

#define DMOP_MAX_BUFS 2 /* Xen's dmop_args */

long do_dm_op(struct hcall *h)
{
    domid_t id = (domid_t)h->arg[0];
    unsigned int nr_bufs = (unsigned int)h->arg[1];
    struct xen_dm_op_buf bufs[DMOP_MAX_BUFS];
    struct domain *d;
    long rc;

    if (!nr_bufs)
        return -XEN_ENODATA;
    if (nr_bufs > DMOP_MAX_BUFS)
        return -XEN_E2BIG;
    if (copy_from_guest(bufs, h->arg[2], nr_bufs * sizeof(bufs[0])))
        return -XEN_EFAULT;
    d = domain_get(id); /* DOMID_SELF names no domain here */
    if (!d)
        return -XEN_ESRCH;
    if (d == current->domain)
        rc = -XEN_EPERM;
    else if (!is_hvm_domain(d))
        rc = -XEN_EINVAL;
    else if (!current->domain->is_privileged)
        rc = -XEN_EPERM;
    else
        rc = -XEN_ENOSYS; /* nothing to do it with */
    domain_put(d);
    return rc;
}
