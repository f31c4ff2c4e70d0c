/*
 * XENMEM_acquire_resource: the frames of a domain's resource, for the
 * caller to map.  Keel has one resource, the grant table's shared frames
 * (libxenguest writes a new domain's console and xenstore grants through
 * them); every other type is -EOPNOTSUPP, which tells libxenguest to take
 * its fallback, where -ENOSYS would be fatal.  A PV caller gets MFNs and
 * maps them itself (mmu_update with the domain as foreigndom).
 */
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_access.h>
#include <keel/memory_op.h>
#include <keel/sched.h>
#include <xen/memory.h>

#define CHUNK 32 /* frames per step, as Xen */

/* The domain named, referenced: another domain, for the privileged
 * caller only (Xen: a remote domain, and device-model privilege). */
static long resource_domain(domid_t id, struct domain **out)
{
    struct domain *self = current->domain;

    /* By id only: DOMID_SELF names nobody, and oneself is not remote. */
    *out = id < DOMID_FIRST_RESERVED ? domain_get(id) : NULL;
    if (!*out)
        return -XEN_ESRCH;
    if (*out == self) {
        domain_put(*out);
        return -XEN_EPERM;
    }
    if (!self->is_privileged) {
        domain_put(*out);
        return -XEN_EPERM;
    }
    return 0;
}

static unsigned int resource_max_frames(struct domain *d, unsigned int type, unsigned int id)
{
    /* Xen's "not supported" is -EOPNOTSUPP as an unsigned count. */
    if (type != XENMEM_resource_grant_table)
        return (unsigned int)-XEN_EOPNOTSUPP;
    return gnttab_resource_max_frames(d, id);
}

static long fill_frames(struct domain *d, const struct xen_mem_acquire_resource *x,
                        unsigned long start)
{
    for (unsigned long i = start; i < x->nr_frames; i += CHUNK) {
        xen_pfn_t mfns[CHUNK];
        unsigned int n = x->nr_frames - i < CHUNK ? x->nr_frames - i : CHUNK;
        long rc;

        if (x->type != XENMEM_resource_grant_table)
            return -XEN_EOPNOTSUPP;
        rc = gnttab_acquire_frames(d, x->id, (unsigned int)(x->frame + i), n, mfns);
        if (rc)
            return rc;
        if (copy_to_guest((unsigned long)x->frame_list.p + i * sizeof(xen_pfn_t), mfns,
                          n * sizeof(xen_pfn_t)))
            return -XEN_EFAULT;
    }
    return 0;
}

long memop_acquire_resource(unsigned long start, unsigned long arg)
{
    struct xen_mem_acquire_resource x;
    struct domain *d;
    unsigned int max;
    long rc;

    if (copy_from_guest_obj(&x, arg))
        return -XEN_EFAULT;
    if (x.pad != 0)
        return -XEN_EINVAL;
    /* nr_frames is 32-bit, frame 64: the range must fit in 32 bits. */
    if (x.frame > 0xffffffffUL || x.nr_frames > 0xffffffffUL - x.frame)
        return -XEN_EINVAL;
    rc = resource_domain(x.domid, &d);
    if (rc)
        return rc;
    max = resource_max_frames(d, x.type, x.id);
    rc = -XEN_EINVAL;
    if (!max)
        goto out;
    if (!x.frame_list.p) {
        /* A size query. */
        if (x.nr_frames || start)
            goto out;
        x.nr_frames = max;
        rc = copy_to_guest((unsigned long)arg + offsetof(struct xen_mem_acquire_resource, nr_frames),
                           &x.nr_frames, sizeof(x.nr_frames))
                 ? -XEN_EFAULT
                 : 0;
        goto out;
    }
    if (start >= x.nr_frames)
        goto out;
    rc = fill_frames(d, &x, start);
out:
    domain_put(d);
    return rc;
}
