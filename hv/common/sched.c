/*
 * Scheduler framework: per-CPU state, runstates, switching, placement, and
 * the glue to the policy (keel/sched_policy.h), which decides what runs
 * where and for how long.  Each CPU pool has its own instance of a policy
 * (pool 0's comes from sched=, round-robin unless told otherwise); CPUs
 * and domains move between pools here, by the rules of hv/common/cpupool.c.
 * The locking rules are in keel/sched.h.
 */
#include <asm/hvm.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/cpupool.h>
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
    struct scheduler *s;   /* its pool's instance; NULL: a free CPU */
    spinlock_t free_lock;  /* covers the CPU while it is free */
};

/* A CPU pool's instance of its policy.  The slot's memory (priv sized for
 * the largest policy) is never freed: a CPU that read a stale pool pointer
 * may still lock what it names, then sees the change and retries. */
struct sched_pool {
    struct scheduler s;
    struct timer timer; /* when the policy asked for event() */
};

static struct sched_cpu sched_cpus[NR_CPUS];
static struct sched_pool pools[CPUPOOL_SLOTS];
#define pool0 (pools[0].s)
/* The registry (keel/cpupool.h), under cpupool_lock (interrupts off, held
 * briefly; inside the sysctl lock, outside every scheduler lock). */
static struct cpupool_table cpupools;
static spinlock_t cpupool_lock = SPINLOCK_INIT;

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
    return READ_ONCE(v->domain->sched.sched);
}

static struct sched_pool *pool_of(struct scheduler *s)
{
    return container_of(s, struct sched_pool, s);
}

/* The lock that covers `cpu` now: its pool's for it, or its own while it
 * is free.  Whoever changes a CPU's pool holds the lock the old value
 * names, so a re-check after locking suffices.  *sp: the pool. */
static spinlock_t *lock_cpu(unsigned int cpu, struct scheduler **sp)
{
    struct sched_cpu *sc = &sched_cpus[cpu];

    for (;;) {
        struct scheduler *s = READ_ONCE(sc->s);
        spinlock_t *l = s ? s->policy->cpu_lock(s, cpu) : &sc->free_lock;
        spin_lock(l);
        if (READ_ONCE(sc->s) == s) {
            *sp = s;
            return l;
        }
        spin_unlock(l);
    }
}

/* v's lock; a domain moving to another pool changes its instance while
 * paused, so re-check that too. */
static spinlock_t *lock_vcpu(const struct vcpu *v, unsigned long *f)
{
    *f = irq_save();
    for (;;) {
        struct scheduler *s = sched_of(v);
        spinlock_t *l = sched_lock_vcpu(s, v);
        if (sched_of(v) == s)
            return l;
        spin_unlock(l);
    }
}

spinlock_t *vcpu_schedule_lock(struct vcpu *v, unsigned long *flags)
{
    struct scheduler *s;

    if (!v->domain->is_idle && sched_of(v))
        return lock_vcpu(v, flags);
    *flags = irq_save();
    return lock_cpu(v->processor, &s);
}

void vcpu_schedule_unlock(spinlock_t *l, unsigned long flags)
{
    spin_unlock_irqrestore(l, flags);
}

/* ---------------------------------------------------------------- policy's callbacks */

static void fw_tickle(struct scheduler *s, unsigned int cpu)
{
    (void)s;
    cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
}

static void fw_arm(struct scheduler *s, s_time_t when)
{
    if (when == STIME_MAX)
        stop_timer(&pool_of(s)->timer);
    else
        set_timer(&pool_of(s)->timer, when);
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

/* The online CPU of `pool` with the fewest vCPUs first placed there,
 * lowest first. */
static unsigned int pick_cpu(sched_mask_t pool)
{
    unsigned int cpu, best = sched_mask_first(pool), best_n = ~0U;

    for_each_online_cpu(cpu)
        if (sched_mask_test(pool, cpu) && READ_ONCE(sched_cpus[cpu].nr_vcpus) < best_n) {
            best = cpu;
            best_n = READ_ONCE(sched_cpus[cpu].nr_vcpus);
        }
    return best;
}

/* A new domain joins the pool d->cpupool names (pool 0 if that has gone
 * since createdomain checked it). */
static void dom_join_pool(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    int slot = cpupool_target(&cpupools, d->cpupool, true);

    if (slot < 0)
        slot = 0;
    cpupools.pool[slot].n_dom++;
    d->cpupool = cpupools.pool[slot].id;
    d->sched.sched = &pools[slot].s;
    spin_unlock_irqrestore(&cpupool_lock, f);
}

void sched_add_vcpu(struct vcpu *v, int cpu)
{
    struct domain *d = v->domain;
    struct scheduler *s;
    unsigned long f;

    if (!d->is_idle && !d->sched.sched) { /* the domain's first vCPU */
        dom_join_pool(d);
        f = irq_save();
        d->sched.sched->policy->dom_init(d->sched.sched, d);
        irq_restore(f);
    }
    s = d->is_idle ? NULL : d->sched.sched;
    if (s && (cpu < 0 || !sched_mask_test(READ_ONCE(s->cpus), (unsigned int)cpu)))
        cpu = (int)pick_cpu(READ_ONCE(s->cpus));
    else if (cpu < 0)
        cpu = (int)pick_cpu(SCHED_MASK_ALL);
    v->processor = v->placed_cpu = (unsigned int)cpu;
    v->ctx_saved = true;
    v->runstate.state = RUNSTATE_offline;
    v->runstate.state_entry_time = NOW();
    if (!s)
        return; /* idle vCPUs are the framework's own */
    __atomic_fetch_add(&sched_cpus[cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
    f = irq_save();
    /* Asleep (VPF_down): the policy may place it elsewhere. */
    s->policy->vcpu_insert(s, v, NOW());
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
    s = sched_of(v);
    s->policy->sleep(s, v, NOW()); /* already asleep: says it again */
    /* Under the lock: a racing wake/sleep that locks after us sees it
     * gone and leaves the policy alone. */
    v->sched_inserted = false;
    spin_unlock(l);
    s->policy->vcpu_remove(s, v);
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
    f = spin_lock_irqsave(&cpupool_lock);
    cpupools.pool[pool_of(s) - pools].n_dom--;
    d->sched.sched = NULL;
    spin_unlock_irqrestore(&cpupool_lock, f);
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
    if (v->sched_inserted && vcpu_runnable(v)) {
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
    if (v->sched_inserted && !vcpu_runnable(v)) {
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
           !__atomic_load_n(&v->ctx_saved, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&v->in_saved_hook, __ATOMIC_ACQUIRE))
        cpu_relax();
}

void vcpu_yield(void)
{
    struct vcpu *v = current;
    unsigned long f;
    spinlock_t *l;

    if (v->sched_inserted) {
        l = lock_vcpu(v, &f);
        if (v->sched_inserted)
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
    struct scheduler *s;
    unsigned long f = irq_save();
    spinlock_t *l = lock_cpu(cpu, &s);
    struct vcpu *prev, *next;
    struct sched_pick p = {NULL, STIME_MAX}; /* a free CPU idles */
    s_time_t now;

    prev = sc->curr;
    now = NOW();
    if (s)
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
    bool hook = prev->sched_inserted; /* not the idle vCPU */
    struct scheduler *s;

    /* vcpu_sleep_sync waits for the hooks too (context_saved, and move
     * below): a domain moving to another pool must not leave its old
     * instance while they run. */
    if (hook)
        __atomic_store_n(&prev->in_saved_hook, true, __ATOMIC_SEQ_CST);
    __atomic_store_n(&prev->ctx_saved, true, __ATOMIC_RELEASE);
    __atomic_store_n(&prev->is_running, false, __ATOMIC_SEQ_CST);
    if (!hook)
        return;
    s = sched_of(prev);
    s->policy->context_saved(s, prev, NOW());
    /* Pairs with vcpu_set_affinity: whoever sees the move owed and the
     * vCPU off its CPU does it, once. */
    if (__atomic_exchange_n(&prev->migrate_pending, false, __ATOMIC_SEQ_CST))
        migrate_finish(prev);
    __atomic_store_n(&prev->in_saved_hook, false, __ATOMIC_SEQ_CST);
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

unsigned int sched_dom_id(const struct domain *d)
{
    struct scheduler *s = READ_ONCE(d->sched.sched);

    return (s ? s : &pool0)->policy->sched_id;
}

u64 sched_dom_cpus(const struct domain *d)
{
    struct scheduler *s = READ_ONCE(d->sched.sched);

    return READ_ONCE((s ? s : &pool0)->cpus);
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

int sched_pool_id(u32 poolid, unsigned int *id)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    int slot = cpupool_find(&cpupools, poolid, true);

    if (slot >= 0)
        *id = pools[slot].s.policy->sched_id;
    spin_unlock_irqrestore(&cpupool_lock, f);
    return slot < 0 ? -XEN_ESRCH : 0;
}

int sched_adjust_global(u32 poolid, struct sched_global *g, bool put)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    int slot = cpupool_find(&cpupools, poolid, true);
    int rc = -XEN_ESRCH;

    /* Under the registry lock: the pool cannot go meanwhile (the policy
     * takes only its own locks). */
    if (slot >= 0)
        rc = pools[slot].s.policy->global_params(&pools[slot].s, g, put);
    spin_unlock_irqrestore(&cpupool_lock, f);
    return rc;
}

/* ---------------------------------------------------------------- CPU pools */

static sched_mask_t online_mask(void)
{
    return __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE);
}

/* The policy behind a XEN_SCHEDULER_* id (round-robin has none). */
static const struct sched_policy *policy_by_id(u32 id)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(policies); i++)
        if (policies[i]->sched_id && policies[i]->sched_id == id)
            return policies[i];
    return NULL;
}

static size_t largest_priv(void)
{
    size_t n = 0;

    for (unsigned int i = 0; i < ARRAY_SIZE(policies); i++)
        n = MAX(n, policies[i]->priv_size);
    return n;
}

/* A fresh instance of `pol` in slot p (no CPUs yet). */
static void pool_start(struct sched_pool *p, const struct sched_policy *pol)
{
    memset(p->s.priv, 0, largest_priv());
    p->s.policy = pol;
    p->s.cpus = 0;
    p->s.tickle = fw_tickle;
    p->s.arm = fw_arm;
    pol->init(&p->s);
    init_timer(&p->timer, pool_event, &p->s, 0);
}

int sched_cpupool_create(u32 want, u32 sched_id, u32 *id_out)
{
    const struct sched_policy *pol = policy_by_id(sched_id);
    void *mem = xzalloc(largest_priv());
    unsigned long f;
    int slot;

    if (!mem)
        return -XEN_ENOMEM;
    f = spin_lock_irqsave(&cpupool_lock);
    slot = cpupool_create(&cpupools, want, pol != NULL);
    if (slot >= 0) {
        if (!pools[slot].s.priv) {
            pools[slot].s.priv = mem;
            mem = NULL;
        }
        pool_start(&pools[slot], pol);
        *id_out = cpupools.pool[slot].id;
    }
    spin_unlock_irqrestore(&cpupool_lock, f);
    xfree(mem);
    if (slot >= 0)
        printk("sched: cpupool %u created (%s)\n", *id_out, pol->name);
    return slot < 0 ? slot : 0;
}

int sched_cpupool_destroy(u32 id)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    int slot = cpupool_destroy(&cpupools, id);

    spin_unlock_irqrestore(&cpupool_lock, f);
    if (slot < 0)
        return slot;
    /* No CPU and no domain: nothing arms its timer any more. */
    kill_timer(&pools[slot].timer);
    return 0;
}

int sched_cpupool_info(u32 want, struct sched_cpupool_info *out)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    int slot = cpupool_find(&cpupools, want, false);

    if (slot >= 0) {
        out->id = cpupools.pool[slot].id;
        out->sched_id = pools[slot].s.policy->sched_id;
        out->n_dom = cpupools.pool[slot].n_dom;
        out->cpus = cpupools.pool[slot].cpus;
    }
    spin_unlock_irqrestore(&cpupool_lock, f);
    return slot < 0 ? slot : 0;
}

u64 sched_cpupool_free_cpus(void)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    u64 m = cpupools.free;

    spin_unlock_irqrestore(&cpupool_lock, f);
    return m;
}

int sched_cpupool_check(u32 id)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    int rc = cpupool_target(&cpupools, id, true);

    spin_unlock_irqrestore(&cpupool_lock, f);
    return rc < 0 ? rc : 0;
}

/* A free CPU joins instance s. */
static void cpu_join(struct scheduler *s, unsigned int cpu)
{
    unsigned long f = irq_save();
    struct scheduler *was;
    spinlock_t *l;

    s->policy->add_cpu(s, cpu);
    l = lock_cpu(cpu, &was);
    BUG_ON(was);
    WRITE_ONCE(sched_cpus[cpu].s, s);
    spin_unlock(l);
    __atomic_or_fetch(&s->cpus, 1ULL << cpu, __ATOMIC_SEQ_CST);
    irq_restore(f);
}

static bool pool_reaffine(struct scheduler *s, unsigned int cpu);

int sched_cpupool_addcpu(u32 id, u32 cpu_in)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    unsigned int cpu;
    int slot = cpupool_addcpu_check(&cpupools, id, cpu_in, online_mask(), &cpu);

    spin_unlock_irqrestore(&cpupool_lock, f);
    if (slot < 0)
        return slot;
    /* Only sysctl (serialised) changes pools: slot and CPU stay valid. */
    cpu_join(&pools[slot].s, cpu);
    pool_reaffine(&pools[slot].s, cpu);
    cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
    f = spin_lock_irqsave(&cpupool_lock);
    cpupool_addcpu_done(&cpupools, slot, cpu);
    spin_unlock_irqrestore(&cpupool_lock, f);
    return 0;
}

/* s->cpus changed: every vCPU of s is told (the policy re-homes what it
 * kept for a CPU that left, e.g. RTDS reservations; a hard affinity that
 * missed the pool may now name a CPU that joined) and moves if it must.
 * When `cpu` left, a hard affinity that keeps none of the pool's other
 * CPUs is reset to all CPUs, as Xen's cpu_disable_scheduler does.  True if
 * nothing of s is placed on `cpu` any more. */
static bool pool_reaffine(struct scheduler *s, unsigned int cpu)
{
    sched_mask_t left = READ_ONCE(s->cpus), bit = 1ULL << cpu;
    bool clear = true;

    if (left & bit)
        bit = 0; /* it joined: no affinity to break */

    for (struct domain *d = domain_get_next(0), *next; d; d = next) {
        for (unsigned int i = 0; READ_ONCE(d->sched.sched) == s && i < d->nr_vcpus; i++) {
            struct vcpu *v = d->vcpus[i];
            u64 hard;
            if (!v || !v->sched_inserted)
                continue;
            hard = READ_ONCE(v->affinity_hard);
            if (bit && (hard & bit) && !(hard & left)) {
                printk("sched: d%uv%u: breaking affinity (CPU %u leaves its pool)\n",
                       d->domid, v->vcpu_id, cpu);
                hard = ~0ULL;
            }
            vcpu_set_affinity(v, hard, READ_ONCE(v->affinity_soft));
            if (bit && READ_ONCE(v->processor) == cpu)
                clear = false;
        }
        next = d->domid + 1U < MAX_DOMAINS ? domain_get_next((domid_t)(d->domid + 1)) : NULL;
        domain_put(d);
    }
    return clear;
}

int sched_cpupool_rmcpu(u32 id, u32 cpu_in)
{
    unsigned long f = spin_lock_irqsave(&cpupool_lock);
    unsigned int cpu;
    int slot = cpupool_rmcpu_start(&cpupools, id, cpu_in, online_mask(), &cpu);
    struct scheduler *s, *was;
    spinlock_t *l;

    spin_unlock_irqrestore(&cpupool_lock, f);
    if (slot < 0)
        return slot;
    s = &pools[slot].s;
    __atomic_and_fetch(&s->cpus, ~(1ULL << cpu), __ATOMIC_SEQ_CST);
    cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
    if (!pool_reaffine(s, cpu))
        return -XEN_EAGAIN; /* libxc asks again; the CPU stays "moving" */
    /* Nothing placed there and the policy places nothing there now: once
     * it idles it may leave (checked under its lock, so no pick races). */
    f = irq_save();
    l = lock_cpu(cpu, &was);
    if (sched_cpus[cpu].curr != sched_cpus[cpu].idle) {
        spin_unlock_irqrestore(l, f);
        cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ);
        return -XEN_EAGAIN;
    }
    WRITE_ONCE(sched_cpus[cpu].s, NULL);
    spin_unlock(l);
    s->policy->remove_cpu(s, cpu);
    irq_restore(f);
    f = spin_lock_irqsave(&cpupool_lock);
    cpupool_rmcpu_done(&cpupools);
    spin_unlock_irqrestore(&cpupool_lock, f);
    return 0;
}

int sched_cpupool_move_domain(struct domain *d, u32 id)
{
    struct scheduler *from = d->sched.sched, *to;
    unsigned long f;
    unsigned int cpu;
    int slot;

    if (!from)
        return -XEN_EINVAL;
    if (id == d->cpupool)
        return 0;
    f = spin_lock_irqsave(&cpupool_lock);
    slot = cpupool_target(&cpupools, id, false);
    spin_unlock_irqrestore(&cpupool_lock, f);
    if (slot < 0)
        return slot;
    to = &pools[slot].s;
    /* Off every CPU, saved, out of the old instance. */
    domain_pause(d);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i])
            sched_remove_vcpu(d->vcpus[i]);
    f = irq_save();
    from->policy->dom_destroy(from, d);
    irq_restore(f);
    f = spin_lock_irqsave(&cpupool_lock);
    cpupools.pool[pool_of(from) - pools].n_dom--;
    cpupools.pool[slot].n_dom++;
    d->cpupool = cpupools.pool[slot].id;
    WRITE_ONCE(d->sched.sched, to);
    spin_unlock_irqrestore(&cpupool_lock, f);
    f = irq_save();
    to->policy->dom_init(to, d);
    irq_restore(f);
    /* Into the new one, spread over its CPUs; Xen resets both affinities
     * to all CPUs on a move. */
    cpu = sched_mask_first(READ_ONCE(to->cpus));
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        v->affinity_hard = v->affinity_soft = ~0ULL;
        v->processor = v->placed_cpu = cpu;
        __atomic_fetch_add(&sched_cpus[cpu].nr_vcpus, 1, __ATOMIC_RELAXED);
        f = irq_save();
        to->policy->vcpu_insert(to, v, NOW());
        v->sched_inserted = true;
        irq_restore(f);
        vcpu_timers_migrate(v, READ_ONCE(v->processor));
        pirq_vcpu_moved(v);
        cpu = sched_mask_cycle(cpu, READ_ONCE(to->cpus));
    }
    /* Runnable ones wake in the new instance. */
    domain_unpause(d);
    printk("sched: d%u moved to cpupool %u\n", d->domid, id);
    return 0;
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
    cpupool_table_init(&cpupools, 0, 0);
    pool0.priv = xzalloc(largest_priv());
    if (!pool0.priv)
        panic("sched: no memory for the %s scheduler", pol->name);
    pool_start(&pools[0], pol);
    open_softirq(SCHEDULE_SOFTIRQ, schedule);
    scheduler_cpu_up(0);
    printk("sched: %s\n", pol->name);
}

void scheduler_cpu_up(unsigned cpu)
{
    unsigned long f;

    cpu_join(&pool0, cpu);
    f = spin_lock_irqsave(&cpupool_lock);
    /* Xen's nr_cpu_ids: the CPUs that came up (no hot-plug here). */
    cpupools.nr_cpu_ids = MAX(cpupools.nr_cpu_ids, cpu + 1);
    cpupool_addcpu_done(&cpupools, 0, cpu);
    spin_unlock_irqrestore(&cpupool_lock, f);
}

void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out)
{
    unsigned long f;
    spinlock_t *l = vcpu_schedule_lock(v, &f);

    vtime_runstate_snapshot(&v->runstate, NOW(), out);
    vcpu_schedule_unlock(l, f);
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
    if (is_hvm_vcpu(v))
        return hvm_wake_pending(v);
    return READ_ONCE(v->vcpu_info->evtchn_upcall_pending);
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
