/*
 * Scheduler framework: per-CPU state, run/sleep bookkeeping, schedule().
 * The policy (which vCPU next) is delegated to struct sched_policy.
 */
#include <asm/percpu.h>
#include <keel/console.h>
#include <keel/sched.h>
#include <keel/softirq.h>

struct sched_cpu {
    spinlock_t lock;
    struct vcpu *curr;
    struct vcpu *idle;
    struct timer slice_timer;
};

static struct sched_cpu sched_cpus[NR_CPUS];
static const struct sched_policy *policy = &sched_rr_policy;

bool vcpu_runnable(const struct vcpu *v)
{
    return !READ_ONCE(v->pause_flags) && !READ_ONCE(v->pause_count) &&
           !v->domain->is_shutting_down && !v->domain->is_dying;
}

static void runstate_change(struct vcpu *v, int state, s_time_t now)
{
    v->runstate.time[v->runstate.state] += now - v->runstate.state_entry_time;
    v->runstate.state = state;
    v->runstate.state_entry_time = now;
}

void sched_add_vcpu(struct vcpu *v, unsigned cpu)
{
    v->processor = cpu;
    v->runstate.state = RUNSTATE_offline;
    v->runstate.state_entry_time = NOW();
}

void vcpu_wake(struct vcpu *v)
{
    unsigned cpu = v->processor;
    struct sched_cpu *sc = &sched_cpus[cpu];
    unsigned long f = spin_lock_irqsave(&sc->lock);

    if (vcpu_runnable(v) && !v->is_running && !v->on_runqueue) {
        runstate_change(v, RUNSTATE_runnable, NOW());
        policy->enqueue(cpu, v);
        /* An idle CPU should notice at once; a busy one at its slice end,
         * and a guest that ran alone had no slice yet: it starts now. */
        if (sc->curr == sc->idle)
            cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
        else if (!timer_is_active(&sc->slice_timer))
            set_timer(&sc->slice_timer, NOW() + policy->slice);
    }
    spin_unlock_irqrestore(&sc->lock, f);
}

void vcpu_sleep(struct vcpu *v)
{
    unsigned cpu = v->processor;
    struct sched_cpu *sc = &sched_cpus[cpu];
    unsigned long f = spin_lock_irqsave(&sc->lock);

    if (!vcpu_runnable(v)) {
        if (v->on_runqueue) {
            policy->dequeue(cpu, v);
            runstate_change(v, v->pause_flags & (1UL << VPF_down)
                                   ? RUNSTATE_offline : RUNSTATE_blocked, NOW());
        }
        if (v->is_running)
            cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
    }
    spin_unlock_irqrestore(&sc->lock, f);
}

void vcpu_yield(void)
{
    raise_softirq(SCHEDULE_SOFTIRQ);
}

static void slice_expired(void *data)
{
    (void)data;
    raise_softirq(SCHEDULE_SOFTIRQ);
}

/* Pick what runs next on this CPU; switch if it is not what runs now. */
static void schedule(void)
{
    unsigned cpu = smp_processor_id();
    struct sched_cpu *sc = &sched_cpus[cpu];
    unsigned long f = spin_lock_irqsave(&sc->lock);
    struct vcpu *prev = sc->curr, *next;
    s_time_t now = NOW();

    /* Round-robin: a still-runnable guest goes to the back of the queue. */
    if (prev != sc->idle && vcpu_runnable(prev))
        policy->enqueue(cpu, prev);
    next = policy->pick_next(cpu);
    if (!next)
        next = sc->idle;
    /* Slices only share the CPU: a guest running alone (or the idle vCPU)
     * needs no timer; vcpu_wake starts one when someone queues up. */
    if (next != sc->idle && policy->has_waiting(cpu))
        set_timer(&sc->slice_timer, now + policy->slice);
    else if (timer_is_active(&sc->slice_timer))
        stop_timer(&sc->slice_timer);
    if (next == prev) {
        if (prev != sc->idle)
            runstate_change(prev, RUNSTATE_running, now);
        spin_unlock_irqrestore(&sc->lock, f);
        return;
    }
    if (prev != sc->idle)
        runstate_change(prev, vcpu_runnable(prev) ? RUNSTATE_runnable
                              : prev->pause_flags & (1UL << VPF_down) ? RUNSTATE_offline
                                                                       : RUNSTATE_blocked,
                        now);
    if (next != sc->idle)
        runstate_change(next, RUNSTATE_running, now);
    prev->is_running = false;
    next->is_running = true;
    next->processor = cpu;
    sc->curr = next;
    get_cpu_info()->current_vcpu = next;
    spin_unlock(&sc->lock);
    (void)f; /* context_switch runs with interrupts off and never returns */
    context_switch(prev, next);
}

void scheduler_init(void)
{
    for (unsigned i = 0; i < NR_CPUS; i++)
        sched_cpus[i].lock = (spinlock_t)SPINLOCK_INIT;
    open_softirq(SCHEDULE_SOFTIRQ, schedule);
    printk("sched: %s, %lld ms slices\n", policy->name,
           (long long)(policy->slice / MILLISECS(1)));
}

void scheduler_start_cpu(unsigned cpu)
{
    struct sched_cpu *sc = &sched_cpus[cpu];

    sc->idle = idle_vcpu_create(cpu);
    sc->idle->is_running = true;
    sc->curr = sc->idle;
    get_cpu_info()->current_vcpu = sc->idle;
    init_timer(&sc->slice_timer, slice_expired, NULL, cpu);
    context_switch(sc->idle, sc->idle);
}

void vcpu_block(struct vcpu *v)
{
    __atomic_or_fetch(&v->pause_flags, 1UL << VPF_blocked, __ATOMIC_SEQ_CST);
    /* An event that raced in before the flag was set must not be lost. */
    if (READ_ONCE(v->vcpu_info->evtchn_upcall_pending)) {
        __atomic_and_fetch(&v->pause_flags, ~(1UL << VPF_blocked), __ATOMIC_SEQ_CST);
        return;
    }
    vcpu_sleep(v);
}

void vcpu_unblock(struct vcpu *v)
{
    unsigned long old = __atomic_fetch_and(&v->pause_flags, ~(1UL << VPF_blocked),
                                           __ATOMIC_SEQ_CST);
    if (old & (1UL << VPF_blocked))
        vcpu_wake(v);
}
