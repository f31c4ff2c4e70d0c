/*
 * hvm_op: HVM parameters (the toolstack's, and the few a guest sets on
 * itself: above all its event callback), the per-vCPU upcall vector, and
 * the small queries.  The rules are in hv/common/hvm_param.c.
 */
#include <asm/hvm.h>
#include <keel/domain.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hvm_param.h>
#include <keel/hvm_upcall.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/time.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

static long hvmop_param(unsigned int op, unsigned long arg);
static long hvmop_upcall_vector(unsigned long arg);
static long hvmop_get_time(unsigned long arg);

long do_hvm_op(struct hcall *h)
{
    unsigned long arg = h->arg[1];

    switch (h->arg[0]) {
    case HVMOP_set_param:
    case HVMOP_get_param:
        return hvmop_param((unsigned int)h->arg[0], arg);
    case HVMOP_set_evtchn_upcall_vector:
        return hvmop_upcall_vector(arg);
    case HVMOP_get_time:
        return hvmop_get_time(arg);
    case HVMOP_flush_tlbs:
        /* Keel's guests flush their own TLBs (no shadow paging). */
        return arg ? -XEN_EINVAL : 0;
    default:
        return -XEN_ENOSYS;
    }
}

/* The domain a call names: itself, or any one for dom0; referenced. */
static long target(domid_t id, struct domain **out)
{
    struct domain *self = current->domain, *d;

    if (id == DOMID_SELF || id == self->domid) {
        domain_get_ref(self);
        *out = self;
        return 0;
    }
    d = domain_get(id);
    if (!d)
        return -XEN_ESRCH;
    if (!self->is_privileged) {
        domain_put(d);
        return -XEN_EPERM;
    }
    *out = d;
    return 0;
}

static void param_set(struct domain *d, unsigned int index, u64 value)
{
    struct hvm_domain *h = d->arch.hvm;
    u8 vec;

    h->params[index] = value;
    if (index != HVM_PARAM_CALLBACK_IRQ || !hvm_param_callback_vector(value, &vec))
        return;
    WRITE_ONCE(h->callback_vector, vec);
    /* As Xen's hvm_set_callback_via: every online vCPU is asserted, which
     * raises a per-vCPU vector whether or not an upcall is pending. */
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i] && !(READ_ONCE(d->vcpus[i]->pause_flags) & (1UL << VPF_down)))
            hvm_assert_upcall(d->vcpus[i]);
}

static long hvmop_param(unsigned int op, unsigned long arg)
{
    struct xen_hvm_param p;
    struct domain *d;
    long rc;

    if (copy_from_guest_obj(&p, arg))
        return -XEN_EFAULT;
    if (p.index >= HVM_NR_PARAMS)
        return -XEN_EINVAL;
    /* Xen's order: the lookup, a PV target -EINVAL, then the privilege. */
    d = p.domid == DOMID_SELF ? NULL : domain_get(p.domid);
    if (p.domid != DOMID_SELF && !d)
        return -XEN_ESRCH;
    if (d && !is_hvm_domain(d)) {
        domain_put(d);
        return -XEN_EINVAL;
    }
    if (d)
        domain_put(d);
    rc = target(p.domid, &d);
    if (rc)
        return rc;
    if (!is_hvm_domain(d)) {
        domain_put(d);
        return -XEN_EINVAL;
    }
    if (op == HVMOP_set_param) {
        rc = hvm_param_check_set(d == current->domain, p.index,
                                 d->arch.hvm->params[p.index], p.value);
        if (!rc)
            param_set(d, p.index, p.value);
    } else {
        rc = hvm_param_check_get(d == current->domain, p.index);
        if (!rc) {
            p.value = d->arch.hvm->params[p.index];
            rc = copy_to_guest_obj(arg, &p);
        }
    }
    domain_put(d);
    return rc;
}

/* The guest's own vCPUs only, any of them, up or down (a Linux sets an
 * AP's before starting it); the vector is raised once at once, pending
 * upcall or not, as on Xen. */
static long hvmop_upcall_vector(unsigned long arg)
{
    struct xen_hvm_evtchn_upcall_vector u;
    struct domain *d = current->domain;
    struct vcpu *v;
    int rc;

    if (!is_hvm_domain(d))
        return -XEN_EINVAL;
    if (copy_from_guest_obj(&u, arg))
        return -XEN_EFAULT;
    rc = hvm_upcall_vector_check(u.vcpu, u.vector, d->nr_vcpus);
    if (rc)
        return rc;
    v = d->vcpus[u.vcpu];
    if (!v)
        return -XEN_ENOENT;
    /* Said once per vCPU (a guest must not flood the console). */
    if (!v->arch.hvm->upcall_vector)
        printk(KLOG_INFO "d%uv%u: upcall vector %#x\n", d->domid, v->vcpu_id, u.vector);
    WRITE_ONCE(v->arch.hvm->upcall_vector, u.vector);
    hvm_assert_upcall(v);
    return 0;
}

static long hvmop_get_time(unsigned long arg)
{
    struct xen_hvm_get_time t = {.now = (u64)NOW()};

    return copy_to_guest_obj(arg, &t);
}
