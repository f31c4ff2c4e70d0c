/*
 * Scheduler framework: per-CPU state, runstates, switching, placement, and
 * the glue to the policy (keel/sched_policy.h), which decides what runs
 * where and for how long.  Keel has one CPU pool holding every CPU; its
 * policy comes from sched= (round-robin unless told otherwise).  The
 * locking rules are in keel/sched.h.
 */
#include <asm/hvm.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/physdev.h>
#include <keel/mm.h>
#include <keel/options.h>
#include <keel/sched.h>
#include <keel/sched_policy.h>
#include <keel/softirq.h>
#include <keel/vtime.h>

struct sched_cpu {
    struct vcpu *curr;
    struct vcpu *idle;
    struct timer slice_timer;
    unsigned int nr_vcpus; /* guest vCPUs first placed here (a hint only) */
};

static struct sched_cpu sched_cpus[NR_CPUS];
static struct scheduler pool0;   /* the one CPU pool: every CPU */
static struct timer pool0_timer; /* when the policy asked for event() */

static const struct sched_policy *const policies[] = {
    &sched_rr_policy, &sched_credit2_policy, &sched_rtds_policy,
};

bool vcpu_runnable(const struct vcpu *v)
{
    return !READ_ONCE(v->pause_flags) && !READ_ONCE(v->pause_count) &&
           !READ_ONCE(v->domain->is_shutting_down) && !READ_ONCE(v->domain->is_dying);
}

static void runstate_change(struct vcpu *v, int state, s_time_t now)
{
    v->runstate.time[v->runstate.state] += now - v->runstate.state_entry_time;
    v->runstate.state = state;
    v->runstate.state_entry_time = now;
}

/* The runstate of a vCPU that is not on a CPU. */
static int off_cpu_state(const struct vcpu *v)
{
    if (vcpu_runnable(v))
        return RUNSTATE_runnable;
    return v->pause_flags & (1UL << VPF_down) ? RUNSTATE_offline : RUNSTATE_blocked;
}

static struct scheduler *sched_of(const struct vcpu *v)
{
    return v->domain->sched.sched;
}

static spinlock_t *lock_vcpu(const struct vcpu *v, unsigned long *f)
{
    *f = irq_save();
    return sched_lock_vcpu(sched_of(v), v);
}

unsigned int vcpu_schedule_lock(struct vcpu *v, unsigned long *flags)
{
    struct scheduler *s = v->domain->is_idle ? &pool0 : sched_of(v);

    *flags = irq_save();
    sched_lock_vcpu(s, v);
    return v->processor;
}

void vcpu_schedule_unlock(unsigned int cpu, unsigned long flags)
{
    spin_unlock_irqrestore(pool0.policy->cpu_lock(&pool0, cpu), flags);
}

/* ---------------------------------------------------------------- policy's callbacks */

static void fw_tickle(struct scheduler *s, unsigned int cpu)
{
    (void)s;
    cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
}

static void fw_arm(struct scheduler *s, s_time_t when)
{
    (void)s;
    if (when == STIME_MAX)
        stop_timer(&pool0_timer);
    else
        set_timer(&pool0_timer, when);
}

static void pool_event(void *data)
{
    struct scheduler *s = data;

    s->policy->event(s, NOW());
}

static void slice_expired(void *data)
{
    (void)data;
    raise_softirq(SCHEDULE_SOFTIRQ);
}

/* ---------------------------------------------------------------- vCPUs */

/* The online CPU with the fewest vCPUs first placed there, lowest first. */
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
    struct domain *d = v->domain;
    unsigned long f;

    if (cpu < 0)
        cpu = (int)pick_cpu();
    v->processor = v->placed_cpu = (unsigned int)cpu;
    v->ctx_saved = true;
    v->runstate.state = RUNSTATE_offline;
    v->runstate.state_entry_time = NOW();
    if (d->is_idle)
        return; /* idle vCPUs are the framework's own */
    __atomic_fetch_add(&sched_cpus[cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
    f = irq_save();
    if (!d->sched.sched) { /* the domain's first vCPU */
        d->sched.sched = &pool0;
        pool0.policy->dom_init(&pool0, d);
    }
    /* Asleep (VPF_down): the policy may place it elsewhere. */
    pool0.policy->vcpu_insert(&pool0, v, NOW());
    v->sched_inserted = true;
    irq_restore(f);
}

void sched_remove_vcpu(struct vcpu *v)
{
    struct scheduler *s = sched_of(v);
    unsigned long f;
    spinlock_t *l;

    if (!v->sched_inserted)
        return;
    BUG_ON(READ_ONCE(v->is_running) || vcpu_runnable(v));
    l = lock_vcpu(v, &f);
    s->policy->sleep(s, v, NOW()); /* already asleep: says it again */
    spin_unlock(l);
    s->policy->vcpu_remove(s, v);
    v->sched_inserted = false;
    irq_restore(f);
    __atomic_fetch_sub(&sched_cpus[v->placed_cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
}

void sched_destroy_domain(struct domain *d)
{
    struct scheduler *s = d->sched.sched;
    unsigned long f;

    if (!s)
        return;
    f = irq_save();
    s->policy->dom_destroy(s, d);
    irq_restore(f);
    d->sched.sched = NULL;
}

void vcpu_wake(struct vcpu *v)
{
    unsigned long f;
    spinlock_t *l;
    s_time_t now;

    if (!v->sched_inserted)
        return;
    l = lock_vcpu(v, &f);
    now = NOW();
    if (vcpu_runnable(v)) {
        if (v->runstate.state >= RUNSTATE_blocked)
            runstate_change(v, RUNSTATE_runnable, now);
        sched_of(v)->policy->wake(sched_of(v), v, now);
    }
    spin_unlock_irqrestore(l, f);
}

void vcpu_sleep(struct vcpu *v)
{
    unsigned long f;
    spinlock_t *l;
    s_time_t now;

    if (!v->sched_inserted)
        return;
    l = lock_vcpu(v, &f);
    now = NOW();
    if (!vcpu_runnable(v)) {
        /* A running vCPU: the policy makes its CPU decide again, and the
         * switch sets the runstate. */
        sched_of(v)->policy->sleep(sched_of(v), v, now);
        if (v->runstate.state == RUNSTATE_runnable)
            runstate_change(v, off_cpu_state(v), now);
    }
    spin_unlock_irqrestore(l, f);
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
    struct vcpu *v = current;
    unsigned long f;
    spinlock_t *l;

    if (v->sched_inserted) {
        l = lock_vcpu(v, &f);
        sched_of(v)->policy->yield(sched_of(v), v);
        spin_unlock_irqrestore(l, f);
    }
    raise_softirq(SCHEDULE_SOFTIRQ);
}

/* ---------------------------------------------------------------- switching */

/* Pick what runs next on this CPU; switch if it is not what runs now. */
static void schedule(void)
{
    unsigned cpu = smp_processor_id();
    struct sched_cpu *sc = &sched_cpus[cpu];
    struct scheduler *s = &pool0;
    unsigned long f = irq_save();
    spinlock_t *l = s->policy->cpu_lock(s, cpu);
    struct vcpu *prev, *next;
    struct sched_pick p;
    s_time_t now;

    spin_lock(l);
    prev = sc->curr;
    now = NOW();
    p = s->policy->pick(s, cpu, now);
    next = p.next ? p.next : sc->idle;
    if (next == prev) {
        if (prev != sc->idle)
            runstate_change(prev, RUNSTATE_running, now);
    } else {
        if (prev != sc->idle)
            runstate_change(prev, off_cpu_state(prev), now);
        if (next != sc->idle)
            runstate_change(next, RUNSTATE_running, now);
        /* prev stays "running" until its registers are saved: no other
         * CPU may take it before (context_saved). */
        BUG_ON(next->processor != cpu);
        next->ctx_saved = false;
        next->is_running = true;
        sc->curr = next;
        get_cpu_info()->current_vcpu = next;
    }
    spin_unlock(l);
    /* The rest is this CPU's own business (the lock is shared with other
     * CPUs under credit2 and RTDS: hold it briefly). */
    if (p.until != STIME_MAX)
        set_timer(&sc->slice_timer, p.until);
    else if (timer_is_active(&sc->slice_timer))
        stop_timer(&sc->slice_timer);
    if (next == prev) {
        irq_restore(f);
        return;
    }
    /* The policy moved it here (next->processor == cpu): its timers
     * follow, so their callbacks run where it runs. */
    if (next != sc->idle && READ_ONCE(next->singleshot_timer.cpu) != cpu)
        vcpu_timers_migrate(next, cpu);
    (void)f; /* context_switch runs with interrupts off and never returns */
    context_switch(prev, next);
}

/* A vCPU whose CPU its hard affinity no longer allows has left it: the
 * policy places it anew and it may run again. */
static void migrate_finish(struct vcpu *v)
{
    struct scheduler *s = sched_of(v);
    unsigned long f = irq_save();

    s->policy->move(s, v, NOW());
    irq_restore(f);
    __atomic_and_fetch(&v->pause_flags, ~(1UL << VPF_migrating), __ATOMIC_SEQ_CST);
    vcpu_wake(v);
}

void context_saved(struct vcpu *prev)
{
    struct scheduler *s;

    __atomic_store_n(&prev->ctx_saved, true, __ATOMIC_RELEASE);
    __atomic_store_n(&prev->is_running, false, __ATOMIC_SEQ_CST);
    if (!prev->sched_inserted)
        return; /* the idle vCPU */
    s = sched_of(prev);
    s->policy->context_saved(s, prev, NOW());
    /* Pairs with vcpu_set_affinity: whoever sees the move owed and the
     * vCPU off its CPU does it, once. */
    if (__atomic_exchange_n(&prev->migrate_pending, false, __ATOMIC_SEQ_CST))
        migrate_finish(prev);
}

int sched_move_vcpu(struct vcpu *v, unsigned int cpu)
{
    struct scheduler *s = sched_of(v);
    unsigned long f;
    spinlock_t *l;

    if (cpu >= NR_CPUS || !cpu_online(cpu) || !sched_mask_test(s->cpus, cpu))
        return -XEN_EINVAL;
    if (READ_ONCE(v->processor) == cpu)
        return 0;
    if (READ_ONCE(v->is_running) || !READ_ONCE(v->ctx_saved) || vcpu_runnable(v))
        return -XEN_EBUSY;
    l = lock_vcpu(v, &f);
    s->policy->affinity(s, v, NOW());
    spin_unlock(l);
    s->policy->move(s, v, NOW());
    irq_restore(f);
    vcpu_timers_migrate(v, READ_ONCE(v->processor));
    pirq_vcpu_moved(v); /* its physical interrupts too (dom0's PIRQs) */
    return 0;
}

void vcpu_set_affinity(struct vcpu *v, u64 hard, u64 soft)
{
    unsigned long f;
    spinlock_t *l = lock_vcpu(v, &f);
    bool move;

    v->affinity_hard = hard;
    v->affinity_soft = soft;
    sched_of(v)->policy->affinity(sched_of(v), v, NOW());
    move = !sched_mask_test(sched_hard(sched_of(v), v), v->processor) &&
           !(__atomic_fetch_or(&v->pause_flags, 1UL << VPF_migrating, __ATOMIC_SEQ_CST) &
             (1UL << VPF_migrating));
    if (move)
        __atomic_store_n(&v->migrate_pending, true, __ATOMIC_SEQ_CST);
    spin_unlock_irqrestore(l, f);
    if (!move)
        return; /* allowed where it is, or a move already under way */
    vcpu_sleep(v);
    if (!__atomic_load_n(&v->is_running, __ATOMIC_SEQ_CST) &&
        __atomic_exchange_n(&v->migrate_pending, false, __ATOMIC_SEQ_CST))
        migrate_finish(v);
}

/* ---------------------------------------------------------------- parameters */

unsigned int sched_id(void)
{
    return pool0.policy->sched_id;
}

int sched_adjust_dom(struct domain *d, struct sched_params *p, bool put)
{
    struct scheduler *s = d->sched.sched ? d->sched.sched : &pool0;
    unsigned long f = irq_save();
    int rc = s->policy->dom_params(s, d, p, put, NOW());

    irq_restore(f);
    return rc;
}

int sched_adjust_vcpu(struct vcpu *v, struct sched_params *p, bool put)
{
    struct scheduler *s = sched_of(v);
    unsigned long f;
    int rc;

    if (!v->sched_inserted)
        return -XEN_EINVAL;
    f = irq_save();
    rc = s->policy->vcpu_params(s, v, p, put, NOW());
    irq_restore(f);
    return rc;
}

int sched_adjust_global(struct sched_global *g, bool put)
{
    unsigned long f = irq_save();
    int rc = pool0.policy->global_params(&pool0, g, put);

    irq_restore(f);
    return rc;
}

/* ---------------------------------------------------------------- bring-up */

static const struct sched_policy *chosen_policy(void)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(policies); i++)
        if (!strcmp(opts.sched, policies[i]->opt_name))
            return policies[i];
    if (opts.sched[0])
        printk(KLOG_WARN "sched: unknown scheduler '%s', using round-robin\n", opts.sched);
    return &sched_rr_policy;
}

void scheduler_init(void)
{
    const struct sched_policy *pol = chosen_policy();

    sched_credit2_runq_per_cpu = opts.credit2_runq_per_cpu;
    pool0.policy = pol;
    pool0.priv = xzalloc(pol->priv_size);
    if (!pool0.priv)
        panic("sched: no memory for the %s scheduler", pol->name);
    pool0.tickle = fw_tickle;
    pool0.arm = fw_arm;
    pol->init(&pool0);
    init_timer(&pool0_timer, pool_event, &pool0, 0);
    open_softirq(SCHEDULE_SOFTIRQ, schedule);
    scheduler_cpu_up(0);
    printk("sched: %s\n", pol->name);
}

void scheduler_cpu_up(unsigned cpu)
{
    unsigned long f = irq_save();

    pool0.policy->add_cpu(&pool0, cpu);
    __atomic_or_fetch(&pool0.cpus, 1ULL << cpu, __ATOMIC_SEQ_CST);
    irq_restore(f);
}

void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out)
{
    unsigned long f;
    unsigned int cpu = vcpu_schedule_lock(v, &f);

    vtime_runstate_snapshot(&v->runstate, NOW(), out);
    vcpu_schedule_unlock(cpu, f);
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

/* What wakes a blocked vCPU: an upcall, or for an HVM vCPU an interrupt
 * its local APIC holds (an IPI or its timer, whose senders kick the vCPU
 * only if it was already blocked), as Xen's hvm_vcpu_has_pending_irq. */
static bool wake_pending(struct vcpu *v)
{
    return READ_ONCE(v->vcpu_info->evtchn_upcall_pending) ||
           (is_hvm_vcpu(v) && hvm_vlapic_pending(v) >= 0);
}

void vcpu_block(struct vcpu *v)
{
    __atomic_or_fetch(&v->pause_flags, 1UL << VPF_blocked, __ATOMIC_SEQ_CST);
    /* An event that raced in before the flag was set must not be lost. */
    if (wake_pending(v)) {
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
