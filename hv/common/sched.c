/*
 * Scheduler framework: per-CPU state, run/sleep bookkeeping, schedule(),
 * placement of vCPUs on CPUs.  The policy (which vCPU next) is delegated to
 * struct sched_policy.  The locking rules are in keel/sched.h.
 */
#include <asm/percpu.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/physdev.h>
#include <keel/sched.h>
#include <keel/softirq.h>
#include <keel/vtime.h>

struct sched_cpu {
    spinlock_t lock;
    struct vcpu *curr;
    struct vcpu *idle;
    struct timer slice_timer;
    unsigned int nr_vcpus; /* guest vCPUs placed here (placement only) */
};

static struct sched_cpu sched_cpus[NR_CPUS];
static const struct sched_policy *policy = &sched_rr_policy;

bool vcpu_runnable(const struct vcpu *v)
{
    return !READ_ONCE(v->pause_flags) && !READ_ONCE(v->pause_count) &&
           !READ_ONCE(v->domain->is_shutting_down) && !READ_ONCE(v->domain->is_dying);
}

unsigned int vcpu_schedule_lock(struct vcpu *v, unsigned long *flags)
{
    for (;;) {
        unsigned int cpu = READ_ONCE(v->processor);

        *flags = spin_lock_irqsave(&sched_cpus[cpu].lock);
        if (READ_ONCE(v->processor) == cpu)
            return cpu;
        spin_unlock_irqrestore(&sched_cpus[cpu].lock, *flags);
    }
}

void vcpu_schedule_unlock(unsigned int cpu, unsigned long flags)
{
    spin_unlock_irqrestore(&sched_cpus[cpu].lock, flags);
}

static void runstate_change(struct vcpu *v, int state, s_time_t now)
{
    v->runstate.time[v->runstate.state] += now - v->runstate.state_entry_time;
    v->runstate.state = state;
    v->runstate.state_entry_time = now;
}

/* The least loaded online CPU (by vCPUs placed), lowest number on a tie. */
static unsigned int pick_cpu(void)
{
    unsigned int cpu, best = 0, best_n = ~0U;

    for_each_online_cpu(cpu)
        if (READ_ONCE(sched_cpus[cpu].nr_vcpus) < best_n) {
            best = cpu;
            best_n = READ_ONCE(sched_cpus[cpu].nr_vcpus);
        }
    return best;
}

void sched_add_vcpu(struct vcpu *v, int cpu)
{
    if (cpu < 0)
        cpu = (int)pick_cpu();
    v->processor = (unsigned int)cpu;
    v->ctx_saved = true;
    v->runstate.state = RUNSTATE_offline;
    v->runstate.state_entry_time = NOW();
    if (!v->domain->is_idle)
        __atomic_fetch_add(&sched_cpus[cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
}

void sched_remove_vcpu(struct vcpu *v)
{
    unsigned long f;
    unsigned int cpu = vcpu_schedule_lock(v, &f);

    BUG_ON(v->is_running || v->on_runqueue);
    __atomic_fetch_sub(&sched_cpus[cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
    vcpu_schedule_unlock(cpu, f);
}

void vcpu_wake(struct vcpu *v)
{
    unsigned long f;
    unsigned int cpu = vcpu_schedule_lock(v, &f);
    struct sched_cpu *sc = &sched_cpus[cpu];

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
    vcpu_schedule_unlock(cpu, f);
}

void vcpu_sleep(struct vcpu *v)
{
    unsigned long f;
    unsigned int cpu = vcpu_schedule_lock(v, &f);

    if (!vcpu_runnable(v)) {
        if (v->on_runqueue) {
            policy->dequeue(cpu, v);
            runstate_change(v, v->pause_flags & (1UL << VPF_down)
                                   ? RUNSTATE_offline : RUNSTATE_blocked, NOW());
        }
        if (v->is_running)
            cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
    }
    vcpu_schedule_unlock(cpu, f);
}

void vcpu_sleep_sync(struct vcpu *v)
{
    vcpu_sleep(v);
    /* Off its CPU and its registers saved: only then may others read or
     * change its state, or take its page tables away. */
    while (__atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE) ||
           !__atomic_load_n(&v->ctx_saved, __ATOMIC_ACQUIRE))
        cpu_relax();
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

static int stopped_state(const struct vcpu *v)
{
    if (vcpu_runnable(v))
        return RUNSTATE_runnable;
    return v->pause_flags & (1UL << VPF_down) ? RUNSTATE_offline : RUNSTATE_blocked;
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
        runstate_change(prev, stopped_state(prev), now);
    if (next != sc->idle)
        runstate_change(next, RUNSTATE_running, now);
    BUG_ON(next->processor != cpu);
    next->ctx_saved = false;
    prev->is_running = false;
    next->is_running = true;
    sc->curr = next;
    get_cpu_info()->current_vcpu = next;
    spin_unlock(&sc->lock);
    (void)f; /* context_switch runs with interrupts off and never returns */
    context_switch(prev, next);
}

void context_saved(struct vcpu *prev)
{
    __atomic_store_n(&prev->ctx_saved, true, __ATOMIC_RELEASE);
}

/*
 * Placement: a vCPU moves only while it is off every CPU and queue (the
 * caller paused it with vcpu_sleep_sync), under both CPUs' locks; its
 * timers follow it, so they keep firing where it runs.
 */
int sched_move_vcpu(struct vcpu *v, unsigned int cpu)
{
    unsigned int old = READ_ONCE(v->processor);
    struct sched_cpu *a, *b;
    unsigned long f;
    int rc = 0;

    if (cpu >= NR_CPUS || !cpu_online(cpu))
        return -XEN_EINVAL;
    if (old == cpu)
        return 0;
    a = &sched_cpus[MIN(old, cpu)];
    b = &sched_cpus[MAX(old, cpu)];
    f = spin_lock_irqsave(&a->lock);
    spin_lock(&b->lock);
    if (v->is_running || v->on_runqueue || !v->ctx_saved || v->processor != old) {
        rc = -XEN_EBUSY;
    } else {
        __atomic_fetch_sub(&sched_cpus[old].nr_vcpus, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&sched_cpus[cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
        WRITE_ONCE(v->processor, cpu);
    }
    spin_unlock(&b->lock);
    spin_unlock_irqrestore(&a->lock, f);
    if (!rc) {
        vcpu_timers_migrate(v, cpu);
        pirq_vcpu_moved(v); /* its physical interrupts too (dom0's PIRQs) */
    }
    return rc;
}

void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out)
{
    unsigned long f;
    unsigned int cpu = vcpu_schedule_lock(v, &f);

    vtime_runstate_snapshot(&v->runstate, NOW(), out);
    vcpu_schedule_unlock(cpu, f);
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
    sc->idle->ctx_saved = false;
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
