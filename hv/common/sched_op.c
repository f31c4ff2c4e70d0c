/*
 * sched_op: give up the CPU (yield, block, poll) and shut domains down.
 *
 * Block and poll only mark the vCPU not runnable and ask for a reschedule;
 * the hypercall's result (0) is already in the saved frame when the switch
 * happens, so the guest simply sees it return once woken.
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/vtime.h>
#include <xen/sched.h>

#define POLL_MAX_PORTS 128

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
    d = domain_get(s.domain_id);
    if (!d)
        return -XEN_ESRCH;
    domain_shutdown(d, s.reason);
    domain_put(d);
    return 0;
}

/*
 * SCHEDOP_block also re-enables event delivery, atomically with blocking:
 * an event already pending (even one that arrived while masked) makes it
 * return at once, and the upcall follows on the way out.
 */
static long sched_block(void)
{
    struct vcpu *v = current;

    WRITE_ONCE(v->vcpu_info->evtchn_upcall_mask, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vcpu_block(v);
    return 0;
}

/* Whoever clears VPF_polling (it is set only with nr_polling counted)
 * takes the vCPU off the count; true if that was this caller. */
static bool poll_end(struct vcpu *v)
{
    if (!(__atomic_fetch_and(&v->pause_flags, ~(1UL << VPF_polling), __ATOMIC_SEQ_CST) &
          (1UL << VPF_polling)))
        return false;
    __atomic_fetch_sub(&v->domain->nr_polling, 1, __ATOMIC_SEQ_CST);
    return true;
}

void vcpu_poll_wake(struct vcpu *v)
{
    if (!poll_end(v))
        return;
    vcpu_stop_poll_timeout(v);
    vcpu_wake(v);
}

static bool any_pending(struct domain *d, const evtchn_port_t *ports, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (evtchn_is_pending(&d->evtchn, ports[i]))
            return true;
    return false;
}

/*
 * SCHEDOP_poll: sleep until one of the ports is pending (masked or not) or
 * the absolute deadline passes (0: no deadline).  Pending bits are left
 * alone: the guest consumes them.  The flag goes up before the ports are
 * looked at, so a sender either sees the flag or the check sees its bit.
 */
static long sched_poll(unsigned long arg)
{
    struct vcpu *v = current;
    struct domain *d = v->domain;
    evtchn_port_t ports[POLL_MAX_PORTS];
    struct sched_poll p;

    if (copy_from_guest_obj(&p, arg))
        return -XEN_EFAULT;
    if (p.nr_ports > POLL_MAX_PORTS)
        return -XEN_EINVAL;
    if (copy_from_guest(ports, (unsigned long)p.ports.p, p.nr_ports * sizeof(ports[0])))
        return -XEN_EFAULT;
    for (unsigned i = 0; i < p.nr_ports; i++)
        if (ports[i] >= d->evtchn.nr_ports)
            return -XEN_EINVAL;

    WRITE_ONCE(v->poll_port, p.nr_ports == 1 ? ports[0] : ~0U);
    /* Counted first: senders skip the poller scan while the count is 0. */
    __atomic_fetch_add(&d->nr_polling, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&v->pause_flags, 1UL << VPF_polling, __ATOMIC_SEQ_CST);
    if (any_pending(d, ports, p.nr_ports) ||
        (p.timeout && vtime_deadline(p.timeout, NOW()) <= NOW())) {
        poll_end(v);
        return 0;
    }
    if (p.timeout)
        vcpu_set_poll_timeout(v, p.timeout);
    vcpu_sleep(v);
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
    case SCHEDOP_poll:
        return sched_poll(h->arg[1]);
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
