/*
 * The guest-memory half of the CPUID policy sub-ops (domctl set/get_cpu_policy,
 * sysctl get_cpu_policy and get_cpu_featureset): buffers in and out, NULL
 * handles as size queries, Xen's error codes; the rules are in
 * hv/common/cpu_policy.c.  Callers hold the domctl or sysctl lock.
 */
#define __XEN_TOOLS__ 1
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/domctl.h>
#include <keel/guest_access.h>
#include <keel/mm.h>
#include <keel/sched.h>

/* Room for the largest serialised policy (2.9 KiB): one at a time. */
static xen_cpuid_leaf_t leaves[CP_MAX_LEAVES];
static xen_msr_entry_t msrs[CP_MAX_MSRS];
static spinlock_t buf_lock = SPINLOCK_INIT;

/* *nr leaves of p into the guest's array at gva (room for *nr). */
static long leaves_out(const struct cpu_policy *p, unsigned long gva, u32 *nr)
{
    u32 n = MIN(*nr, (u32)CP_MAX_LEAVES);
    long rc;

    spin_lock(&buf_lock);
    rc = cpu_policy_serialise(p, leaves, &n);
    if (!rc && n > *nr)
        rc = -XEN_ENOBUFS;
    if (!rc && copy_to_guest(gva, leaves, n * sizeof(leaves[0])))
        rc = -XEN_EFAULT;
    spin_unlock(&buf_lock);
    if (!rc)
        *nr = n;
    return rc;
}

static long msrs_out(const struct cpu_policy *p, unsigned long gva, u32 *nr)
{
    u32 n = *nr;
    long rc = cpu_msrs_serialise(p, msrs, &n);

    if (!rc && copy_to_guest(gva, msrs, n * sizeof(msrs[0])))
        rc = -XEN_EFAULT;
    if (!rc)
        *nr = n;
    return rc;
}

/* ------------------------------------------------------------- domctl */

/* The machine's default and maximum policies for d's kind of guest. */
static const struct cpu_policy *kind_policy(const struct domain *d, bool max)
{
    if (is_hvm_domain(d))
        return arch_system_policy(max ? XEN_SYSCTL_cpu_policy_hvm_max
                                      : XEN_SYSCTL_cpu_policy_hvm_default);
    return arch_system_policy(max ? XEN_SYSCTL_cpu_policy_pv_max
                                  : XEN_SYSCTL_cpu_policy_pv_default);
}

long domctl_get_cpu_policy(struct domain *d, struct xen_domctl_cpu_policy *cp, bool *copyback)
{
    const struct cpu_policy *p = d->arch.cpuid ? d->arch.cpuid : kind_policy(d, false);
    long rc = 0;

    if (!cp->leaves.p)
        cp->nr_leaves = CP_MAX_LEAVES;
    else if ((rc = leaves_out(p, (unsigned long)cp->leaves.p, &cp->nr_leaves)))
        return rc;
    if (!cp->msrs.p)
        cp->nr_msrs = CP_MAX_MSRS;
    else if ((rc = msrs_out(p, (unsigned long)cp->msrs.p, &cp->nr_msrs)))
        return rc;
    *copyback = true;
    return 0;
}

/* The toolstack's leaves and MSRs merged into the domain's policy, checked
 * against what Keel can offer, installed only if all is well. */
static long merge(struct cpu_policy *np, struct xen_domctl_cpu_policy *cp)
{
    long rc = 0;

    if (cp->nr_leaves > CP_MAX_LEAVES)
        return -XEN_E2BIG;
    if (cp->nr_msrs > CP_MAX_MSRS)
        return -XEN_E2BIG;
    spin_lock(&buf_lock);
    if (copy_from_guest(leaves, (unsigned long)cp->leaves.p,
                        cp->nr_leaves * sizeof(leaves[0])) ||
        copy_from_guest(msrs, (unsigned long)cp->msrs.p, cp->nr_msrs * sizeof(msrs[0])))
        rc = -XEN_EFAULT;
    if (!rc)
        rc = cpu_policy_deserialise(np, leaves, cp->nr_leaves, &cp->err_leaf, &cp->err_subleaf);
    if (!rc)
        rc = cpu_msrs_deserialise(np, msrs, cp->nr_msrs, &cp->err_msr);
    spin_unlock(&buf_lock);
    return rc;
}

long domctl_set_cpu_policy(struct domain *d, struct xen_domctl_cpu_policy *cp, bool *copyback)
{
    const struct cpu_policy *max = kind_policy(d, true);
    struct cpu_policy *np, *old;
    long rc;

    if (d == current->domain)
        return -XEN_EINVAL;
    if (READ_ONCE(d->creation_finished))
        return -XEN_EEXIST; /* no changing once the domain has run */
    np = xzalloc(sizeof(*np));
    if (!np)
        return -XEN_ENOMEM;
    domain_pause(d);
    *np = d->arch.cpuid ? *d->arch.cpuid : *kind_policy(d, false);
    cp->err_leaf = cp->err_subleaf = cp->err_msr = ~0U;
    rc = merge(np, cp);
    if (!rc) {
        cpu_policy_clear_out_of_range(np);
        rc = cpu_policy_compatible(max, np, &cp->err_leaf, &cp->err_subleaf, &cp->err_msr);
    }
    old = np;
    if (!rc) {
        old = d->arch.cpuid;
        d->arch.cpuid = np; /* the domain is paused: nobody reads it now */
    }
    domain_unpause(d);
    xfree(old);
    *copyback = rc != 0; /* the err_* fields */
    return rc;
}

/* ------------------------------------------------------------- sysctl */

long sysctl_get_cpu_policy(struct xen_sysctl_cpu_policy *cp, unsigned long arg)
{
    const struct cpu_policy *p;
    unsigned long off = arg + offsetof(struct xen_sysctl, u.cpu_policy);
    long rc;

    if (cp->_rsvd || cp->index > XEN_SYSCTL_cpu_policy_hvm_default)
        return -XEN_EINVAL;
    p = arch_system_policy(cp->index);
    if (!p)
        return -XEN_EOPNOTSUPP;
    if (!cp->leaves.p)
        cp->nr_leaves = CP_MAX_LEAVES;
    else if ((rc = leaves_out(p, (unsigned long)cp->leaves.p, &cp->nr_leaves)))
        return rc;
    if (copy_to_guest(off + offsetof(struct xen_sysctl_cpu_policy, nr_leaves), &cp->nr_leaves,
                      sizeof(cp->nr_leaves)))
        return -XEN_EFAULT;
    if (!cp->msrs.p)
        cp->nr_msrs = CP_MAX_MSRS;
    else if ((rc = msrs_out(p, (unsigned long)cp->msrs.p, &cp->nr_msrs)))
        return rc;
    if (copy_to_guest(off + offsetof(struct xen_sysctl_cpu_policy, nr_msrs), &cp->nr_msrs,
                      sizeof(cp->nr_msrs)))
        return -XEN_EFAULT;
    return 0;
}

/* Featureset index -> policy index (Xen's two numberings differ). */
static const u32 featureset_policy[] = {
    [XEN_SYSCTL_cpu_featureset_raw] = XEN_SYSCTL_cpu_policy_raw,
    [XEN_SYSCTL_cpu_featureset_host] = XEN_SYSCTL_cpu_policy_host,
    [XEN_SYSCTL_cpu_featureset_pv] = XEN_SYSCTL_cpu_policy_pv_default,
    [XEN_SYSCTL_cpu_featureset_hvm] = XEN_SYSCTL_cpu_policy_hvm_default,
    [XEN_SYSCTL_cpu_featureset_pv_max] = XEN_SYSCTL_cpu_policy_pv_max,
    [XEN_SYSCTL_cpu_featureset_hvm_max] = XEN_SYSCTL_cpu_policy_hvm_max,
};

long sysctl_get_cpu_featureset(struct xen_sysctl_cpu_featureset *f, unsigned long arg)
{
    unsigned long nr_field = arg + offsetof(struct xen_sysctl, u.cpu_featureset.nr_features);
    const struct cpu_policy *p;
    u32 fs[CP_FEATURESET_WORDS], nr;

    if (!f->features.p) { /* how many words there are */
        f->nr_features = CP_FEATURESET_WORDS;
        return copy_to_guest(nr_field, &f->nr_features, sizeof(f->nr_features));
    }
    nr = MIN(f->nr_features, (u32)CP_FEATURESET_WORDS);
    if (f->index >= ARRAY_SIZE(featureset_policy))
        return -XEN_EINVAL;
    p = arch_system_policy(featureset_policy[f->index]);
    if (!p)
        return -XEN_EOPNOTSUPP;
    cpu_policy_featureset(p, fs);
    if (copy_to_guest((unsigned long)f->features.p, fs, nr * sizeof(fs[0])))
        return -XEN_EFAULT;
    f->nr_features = nr;
    if (copy_to_guest(nr_field, &f->nr_features, sizeof(f->nr_features)))
        return -XEN_EFAULT;
    return nr < CP_FEATURESET_WORDS ? -XEN_ENOBUFS : 0;
}
