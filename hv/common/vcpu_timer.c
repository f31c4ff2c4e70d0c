/*
 * set_timer_op, and the per-vCPU timers behind it, VCPUOP_*_timer and
 * SCHEDOP_poll.  Every timer of a vCPU sits on the CPU the vCPU is placed
 * on (and moves with it, sched_move_vcpu), so a callback refreshes the
 * vCPU's clock with that CPU's TSC, then raises VIRQ_TIMER, whose handler
 * in the guest reads the clock.
 */
#include <asm/hvm.h>
#include <asm/pv.h>
#include <asm/smp.h>
#include <keel/domain.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/vtime.h>

/* The legacy one-shot timer: 0 cancels it. */
long do_set_timer_op(struct hcall *h)
{
    struct vcpu *v = current;

    if (!h->arg[0])
        vcpu_stop_singleshot(v);
    else
        vcpu_set_singleshot(v, h->arg[0]);
    return 0;
}

static void fire_virq_timer(struct vcpu *v)
{
    /* A vCPU that is not running gets a fresh clock when it is switched
     * in (load_guest_state), before it can look; only a running one needs
     * it now.  Timers sit on the vCPU's CPU, so this cannot race a switch
     * (a callback that ran just before a move sees another CPU: skipped). */
    if (READ_ONCE(v->is_running) && READ_ONCE(v->processor) == smp_processor_id())
        pv_update_vcpu_time(v);
    send_guest_vcpu_virq(v, VIRQ_TIMER);
}

static void singleshot_fn(void *data)
{
    fire_virq_timer(data);
}

static void periodic_fn(void *data)
{
    struct vcpu *v = data;
    s_time_t period;

    fire_virq_timer(v);
    /* Re-read: the guest may have stopped the tick meanwhile. */
    period = READ_ONCE(v->periodic_period);
    if (period)
        set_timer(&v->periodic_timer,
                  vtime_periodic_next(v->periodic_timer.expires, period, NOW()));
}

static void poll_timeout_fn(void *data)
{
    vcpu_poll_wake(data);
}

void vcpu_timers_init(struct vcpu *v)
{
    init_timer(&v->singleshot_timer, singleshot_fn, v, v->processor);
    init_timer(&v->periodic_timer, periodic_fn, v, v->processor);
    init_timer(&v->poll_timer, poll_timeout_fn, v, v->processor);
    v->periodic_period = VCPU_DEFAULT_PERIOD;
}

void vcpu_timers_switch_in(struct vcpu *v)
{
    s_time_t period = READ_ONCE(v->periodic_period);

    if (period && !timer_is_active(&v->periodic_timer))
        set_timer(&v->periodic_timer, NOW() + period);
}

void vcpu_timers_stop(struct vcpu *v)
{
    stop_timer(&v->singleshot_timer);
    stop_timer(&v->periodic_timer);
    stop_timer(&v->poll_timer);
}

void vcpu_timers_kill(struct vcpu *v)
{
    WRITE_ONCE(v->periodic_period, 0);
    kill_timer(&v->singleshot_timer);
    kill_timer(&v->periodic_timer);
    kill_timer(&v->poll_timer);
}

void vcpu_timers_migrate(struct vcpu *v, unsigned int cpu)
{
    if (is_hvm_vcpu(v))
        hvm_vlapic_migrate(v, cpu);
    migrate_timer(&v->singleshot_timer, cpu);
    migrate_timer(&v->periodic_timer, cpu);
    migrate_timer(&v->poll_timer, cpu);
}

long vcpu_set_singleshot(struct vcpu *v, u64 deadline)
{
    /* A deadline in the past fires at once, whatever the flags say: that
     * is what Xen 4.17 does, and Linux BUG()s on an error here. */
    set_timer(&v->singleshot_timer, vtime_deadline(deadline, NOW()));
    return 0;
}

void vcpu_stop_singleshot(struct vcpu *v)
{
    stop_timer(&v->singleshot_timer);
}

long vcpu_set_periodic(struct vcpu *v, u64 period_ns)
{
    if (!period_ns) {
        WRITE_ONCE(v->periodic_period, 0);
        stop_timer(&v->periodic_timer);
        return 0;
    }
    if (vtime_period_ok(period_ns))
        return -XEN_EINVAL;
    WRITE_ONCE(v->periodic_period, (s_time_t)period_ns);
    set_timer(&v->periodic_timer, NOW() + (s_time_t)period_ns);
    return 0;
}

void vcpu_set_poll_timeout(struct vcpu *v, u64 deadline)
{
    set_timer(&v->poll_timer, vtime_deadline(deadline, NOW()));
}

void vcpu_stop_poll_timeout(struct vcpu *v)
{
    stop_timer(&v->poll_timer);
}
