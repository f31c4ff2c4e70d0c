/*
 * sched_op: give up the CPU (yield, block, poll) and shut domains down.
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/sched.h>

static long sched_shutdown(unsigned long arg)
{
    struct sched_shutdown s;

    if (copy_from_guest_obj(&s, arg))
        return -XEN_EFAULT;
    if (s.reason > SHUTDOWN_MAX)
        return -XEN_EINVAL;
    domain_shutdown(current->domain, s.reason);
    return 0;
}

static long sched_shutdown_code(unsigned long arg)
{
    struct sched_shutdown s;
    struct domain *d = current->domain;

    if (copy_from_guest_obj(&s, arg))
        return -XEN_EFAULT;
    if (s.reason > SHUTDOWN_MAX)
        return -XEN_EINVAL;
    /* Only records the reason a later shutdown will report. */
    spin_lock(&d->lock);
    if (!d->is_shutting_down)
        d->shutdown_code = s.reason;
    spin_unlock(&d->lock);
    return 0;
}

static long sched_remote_shutdown(unsigned long arg)
{
    struct sched_remote_shutdown s;
    struct domain *d;

    if (!current->domain->is_privileged)
        return -XEN_EPERM;
    if (copy_from_guest_obj(&s, arg))
        return -XEN_EFAULT;
    if (s.reason > SHUTDOWN_MAX)
        return -XEN_EINVAL;
    d = domain_by_id(s.domain_id);
    if (!d)
        return -XEN_ESRCH;
    domain_shutdown(d, s.reason);
    return 0;
}

/* SCHEDOP_block also re-enables event delivery, atomically with blocking. */
static long sched_block(void)
{
    struct vcpu *v = current;

    v->vcpu_info->evtchn_upcall_mask = 0;
    vcpu_block(v);
    return 0;
}

long do_sched_op(struct hcall *h)
{
    switch (h->arg[0]) {
    case SCHEDOP_yield:
        vcpu_yield();
        return 0;
    case SCHEDOP_block:
        return sched_block();
    case SCHEDOP_shutdown:
        return sched_shutdown(h->arg[1]);
    case SCHEDOP_shutdown_code:
        return sched_shutdown_code(h->arg[1]);
    case SCHEDOP_remote_shutdown:
        return sched_remote_shutdown(h->arg[1]);
    default:
        return -XEN_ENOSYS;
    }
}
