/* Hypercall wrappers, issued the way libxc issues them. */
#include "toolstack.h"

long domctl(struct xen_domctl *op)
{
    op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    return hypercall1(__HYPERVISOR_domctl, op);
}

long sysctl(struct xen_sysctl *op)
{
    op->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return hypercall1(__HYPERVISOR_sysctl, op);
}

long memop(unsigned int cmd, void *arg)
{
    static multicall_entry_t e;
    long rc;

    memset(&e, 0, sizeof(e));
    e.op = __HYPERVISOR_memory_op;
    e.args[0] = cmd;
    e.args[1] = (unsigned long)arg;
    rc = HYPERVISOR_multicall(&e, 1);
    return rc ? rc : (long)e.result;
}

long mmu_update(struct mmu_update *req, unsigned int n, unsigned int *done, unsigned int dom)
{
    return hypercall4(__HYPERVISOR_mmu_update, req, n, done, dom);
}

long mmuext(struct mmuext_op *op, unsigned int n, unsigned int *done, unsigned int dom)
{
    return hypercall4(__HYPERVISOR_mmuext_op, op, n, done, dom);
}

void flush_tlb(void)
{
    struct mmuext_op op = {.cmd = MMUEXT_TLB_FLUSH_LOCAL};

    CHECK(mmuext(&op, 1, NULL, DOMID_SELF) == 0);
}

long getdomaininfo(domid_t dom, struct xen_domctl_getdomaininfo *out)
{
    static struct xen_domctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_getdomaininfo;
    op.domain = dom;
    rc = domctl(&op);
    if (!rc)
        *out = op.u.getdomaininfo;
    return rc;
}

long physinfo(struct xen_sysctl_physinfo *out)
{
    static struct xen_sysctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_physinfo;
    rc = sysctl(&op);
    if (!rc)
        *out = op.u.physinfo;
    return rc;
}
