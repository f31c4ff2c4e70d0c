/*
 * Real-time reservations: the semantics of Xen 4.17's RTDS.
 *
 * Each vCPU has a period and a budget (set in microseconds).  Within each
 * period it may run for its budget at priority level 0; vCPUs at level 0
 * are served earliest deadline first, the deadline being the end of the
 * current period.  Budget is replenished (and the level reset) at every
 * deadline.  A vCPU with the "extratime" flag (the default, as in Xen) may
 * run past its budget at level 1, 2, ... in whatever time nobody at a lower
 * level wants; without it, it waits for the next period.  Defaults: 10 ms
 * period, 4 ms budget, extratime.
 *
 * Where Keel differs from Xen 4.17, and why (docs/sched.md):
 *  - Admission.  Xen admits every parameter set, so an over-committed set
 *    silently misses deadlines.  Keel gives a vCPU a reservation only if
 *    the reservations placed on a CPU add up to at most that CPU
 *    (sum of budget/period <= 1): each reservation has a home CPU of the
 *    vCPU's hard affinity, chosen at admission (the least reserved one, its
 *    soft affinity first).  Setting parameters that do not fit fails with
 *    -ENOSPC and changes nothing.  A vCPU that could not be given a
 *    reservation when it was created, or whose new hard affinity leaves no
 *    room for it, still runs, as if all its time were extratime
 *    ("unadmitted").
 *  - Placement.  Xen runs one global EDF queue.  Keel serves a vCPU's
 *    level-0 time first on its home CPU: a CPU prefers level-0 work homed
 *    on it, then level-0 work homed elsewhere (an idle CPU helps out), then
 *    extratime and unadmitted vCPUs, each by level and deadline.  Per CPU
 *    this is uniprocessor EDF over the reservations, which meets every
 *    deadline when they add up to at most 1 -- what admission checks.
 *  - Wake-up.  Xen keeps a waking vCPU's deadline and remaining budget
 *    (a deferrable server), which lets a vCPU that sleeps through most of
 *    its period take its whole budget just before its deadline and push
 *    others past theirs.  Keel starts a fresh period at the wake-up when
 *    the budget left would exceed the vCPU's share of the time left
 *    (a constant-bandwidth server), and the first period starts when the
 *    vCPU first wakes (Xen aligns periods to multiples from boot).
 *  - New parameters start with the next period, as in Xen; what is left
 *    of the current budget is cut to what the new share allows until then
 *    (Xen keeps it).
 *
 * Locks: one lock for the whole instance, as Xen's RTDS.
 */
#define __XEN_TOOLS__ 1
#include <keel/sched_policy.h>
#include <xen/domctl.h>

#define RT_DEFAULT_PERIOD MICROSECS(10000)
#define RT_DEFAULT_BUDGET MICROSECS(4000)
#define RT_MIN_PERIOD MICROSECS(10)
#define RT_MIN_BUDGET MICROSECS(10)
/* Utilization, budget/period, in fixed point from the microsecond figures
 * (which the parameters always are); rounded up, so admission errs on the
 * safe side, by at most 2^-32 per vCPU. */
#define RT_UTIL_SHIFT 32
#define RT_UTIL_ONE (1ULL << RT_UTIL_SHIFT)

/* vCPU flags */
#define RT_AWAKE 0x01
#define RT_SCHEDULED 0x02 /* on a CPU, or being switched off one */
#define RT_DELAYED 0x04   /* back to a queue once its context is saved */
#define RT_DEPLETED 0x08  /* out of budget, no extratime: waits for its deadline */
#define RT_EXTRA 0x10
#define RT_ADMITTED 0x20  /* holds a reservation on CPU `home` */

struct rt_vcpu {
    struct list q_link;    /* runq or depletedq */
    struct list repl_link; /* replq while active */
    struct list all_link;  /* priv->vcpus */
    s_time_t period, budget;
    s_time_t cur_budget, cur_deadline, last_start;
    u64 util;
    u32 level;
    u16 flags;
    u16 home;
};
SCHED_CHECK_VCPU_PRIV(struct rt_vcpu);

struct rt_priv {
    spinlock_t lock;
    struct list runq;      /* budget or extratime left: by level, then deadline */
    struct list depletedq; /* waiting for their next period */
    struct list replq;     /* active vCPUs by deadline: replenishments */
    struct list vcpus;     /* all of them */
    s_time_t armed;        /* what s->arm was last asked for (STIME_MAX: none) */
    sched_mask_t tickled;
    unsigned long misses;  /* admitted vCPUs that reached a deadline short of budget */
    u64 reserved[SCHED_MAX_CPUS]; /* sum of the utilizations homed on each CPU */
    struct vcpu *curr[SCHED_MAX_CPUS];
};

static struct rt_priv *rt_priv(const struct scheduler *s)
{
    return s->priv;
}

static struct rt_vcpu *rtv(const struct vcpu *v)
{
    return SCHED_VCPU_PRIV(v, struct rt_vcpu);
}

static struct vcpu *rt_vcpu_of(struct rt_vcpu *rv)
{
    return SCHED_PRIV_VCPU(rv);
}

static bool rt_queued(const struct rt_vcpu *rv)
{
    return !list_empty(&rv->q_link);
}

static bool rt_on_replq(const struct rt_vcpu *rv)
{
    return !list_empty(&rv->repl_link);
}

static bool rt_is_curr(struct scheduler *s, const struct vcpu *v)
{
    return rt_priv(s)->curr[v->processor] == v;
}

static u64 rt_util(s_time_t budget, s_time_t period)
{
    u64 b = (u64)(budget / MICROSECS(1)), p = (u64)(period / MICROSECS(1));

    if (b >= p)
        return b == p ? RT_UTIL_ONE : RT_UTIL_ONE + 1;
    return ((b << RT_UTIL_SHIFT) + p - 1) / p;
}

/* ---------------------------------------------------------------- priority */

/* Lower is better.  cls 0: level-0 time on its home CPU; 1: level-0 time
 * elsewhere; 2: extratime or no reservation (whose level counts one up). */
struct rt_key {
    u32 cls, level;
    s_time_t deadline;
};

static struct rt_key rt_key(const struct rt_vcpu *rv, unsigned int cpu)
{
    bool admitted = rv->flags & RT_ADMITTED;
    struct rt_key k = {2, rv->level + !admitted, rv->cur_deadline};

    if (admitted && rv->level == 0)
        k.cls = rv->home == cpu ? 0 : 1;
    return k;
}

static int rt_cmp(struct rt_key a, struct rt_key b)
{
    if (a.cls != b.cls)
        return a.cls < b.cls ? -1 : 1;
    if (a.level != b.level)
        return a.level < b.level ? -1 : 1;
    return a.deadline < b.deadline ? -1 : a.deadline > b.deadline;
}

/* The queue order (CPU-independent): level (unadmitted one up), deadline. */
static bool rt_before(const struct rt_vcpu *a, const struct rt_vcpu *b)
{
    u32 la = a->level + !(a->flags & RT_ADMITTED), lb = b->level + !(b->flags & RT_ADMITTED);

    return la != lb ? la < lb : a->cur_deadline < b->cur_deadline;
}

/* ---------------------------------------------------------------- queues */

static void rt_runq_insert(struct rt_priv *p, struct rt_vcpu *rv)
{
    struct list *l;

    if (rv->cur_budget <= 0 && !(rv->flags & RT_EXTRA)) {
        list_add_tail(&rv->q_link, &p->depletedq);
        return;
    }
    list_for_each(l, &p->runq)
        if (rt_before(rv, list_entry(l, struct rt_vcpu, q_link)))
            break;
    list_insert_before(&rv->q_link, l);
}

static void rt_replq_insert(struct rt_priv *p, struct rt_vcpu *rv)
{
    struct list *l;

    list_for_each(l, &p->replq)
        if (rv->cur_deadline < list_entry(l, struct rt_vcpu, repl_link)->cur_deadline)
            break;
    list_insert_before(&rv->repl_link, l);
}

/* Ask for the next replenishment if it is earlier than what was asked
 * for: a request that comes too early only finds nothing due and asks
 * again, which costs less than moving the timer at every wake-up. */
static void rt_rearm(struct scheduler *s)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *head = list_first(&p->replq, struct rt_vcpu, repl_link);
    s_time_t when = head ? head->cur_deadline : STIME_MAX;

    if (when < p->armed) {
        p->armed = when;
        s->arm(s, when);
    }
}

/* ---------------------------------------------------------------- budget */

static void rt_burn(struct rt_vcpu *rv, s_time_t now)
{
    s_time_t delta = now - rv->last_start;

    if (delta <= 0)
        return;
    rv->last_start = now;
    rv->cur_budget -= delta;
    if (rv->cur_budget > 0)
        return;
    if (rv->flags & RT_EXTRA) {
        rv->level++;
        rv->cur_budget = rv->budget;
    } else {
        rv->cur_budget = 0;
        rv->flags |= RT_DEPLETED;
    }
}

static void rt_new_period(struct rt_vcpu *rv, s_time_t start)
{
    rv->cur_deadline = start + rv->period;
    rv->cur_budget = rv->budget;
    rv->level = 0;
    rv->last_start = start;
    rv->flags &= ~RT_DEPLETED;
}

/* The deadline passed while v stayed active: next period(s). */
static void rt_replenish(struct rt_vcpu *rv, s_time_t now)
{
    s_time_t behind = now - rv->cur_deadline;

    rv->cur_deadline += (behind / rv->period + 1) * rv->period;
    rv->cur_budget = rv->budget;
    rv->level = 0;
    rv->last_start = now;
    rv->flags &= ~RT_DEPLETED;
}

/* Waking: keep the current period only if the budget left fits in the
 * vCPU's share of the time left (the constant-bandwidth server rule). */
static void rt_wake_period(struct rt_vcpu *rv, s_time_t now)
{
    if (now >= rv->cur_deadline ||
        (__int128)rv->cur_budget * rv->period > (__int128)(rv->cur_deadline - now) * rv->budget)
        rt_new_period(rv, now);
    else
        rv->last_start = now;
}

/* ---------------------------------------------------------------- admission */

/* The CPU where a reservation of `util` fits best: the least reserved CPU
 * of v's soft affinity, else of its hard affinity; -1 if none has room. */
static int rt_find_home(struct scheduler *s, const struct vcpu *v, u64 util)
{
    struct rt_priv *p = rt_priv(s);
    sched_mask_t soft = sched_soft(s, v), hard = sched_hard(s, v);

    for (int step = soft ? 0 : 1; step < 2; step++) {
        sched_mask_t m = step ? hard : soft;
        int best = -1;
        for (unsigned int c = 0; c < SCHED_MAX_CPUS; c++)
            if (sched_mask_test(m, c) && p->reserved[c] + util <= RT_UTIL_ONE &&
                (best < 0 || p->reserved[c] < p->reserved[best]))
                best = (int)c;
        if (best >= 0)
            return best;
    }
    return -1;
}

static void rt_release(struct rt_priv *p, struct rt_vcpu *rv)
{
    if (rv->flags & RT_ADMITTED)
        p->reserved[rv->home] -= rv->util;
    rv->flags &= ~RT_ADMITTED;
}

static void rt_runq_insert(struct rt_priv *p, struct rt_vcpu *rv);

/* Give v a reservation for its current parameters, if there is room.  A
 * queued vCPU is put back in order: admission changes its rank. */
static bool rt_admit(struct scheduler *s, struct vcpu *v)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);
    u64 util = rt_util(rv->budget, rv->period);
    int home = util <= RT_UTIL_ONE ? rt_find_home(s, v, util) : -1;

    rt_release(p, rv);
    if (home >= 0) {
        rv->util = util;
        rv->home = (u16)home;
        rv->flags |= RT_ADMITTED;
        p->reserved[home] += util;
    }
    if (rt_queued(rv)) {
        list_del(&rv->q_link);
        rt_runq_insert(p, rv);
    }
    return home >= 0;
}

/* ---------------------------------------------------------------- tickling */

/* v is queued and ready: find a CPU that should take it now. */
static void rt_tickle(struct scheduler *s, struct vcpu *v)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);
    sched_mask_t cand = sched_hard(s, v) & ~p->tickled, soft = sched_soft(s, v) & cand;
    unsigned int target = SCHED_MAX_CPUS, home = rv->home;
    struct rt_key worst = {0, 0, 0};

    if (rv->cur_budget <= 0 && !(rv->flags & RT_EXTRA))
        return;
    /* Its own reservation's CPU first, if v beats what runs there. */
    if ((rv->flags & RT_ADMITTED) && rv->level == 0 && sched_mask_test(cand, home) &&
        (!p->curr[home] || rt_cmp(rt_key(rv, home), rt_key(rtv(p->curr[home]), home)) < 0)) {
        target = home;
        goto tickle;
    }
    /* An idle CPU: where it ran last, its soft affinity, any. */
    for (int step = 0; step < 2; step++) {
        sched_mask_t m = step ? cand : soft, idle = 0;
        for (unsigned int c = 0; c < SCHED_MAX_CPUS; c++)
            if (sched_mask_test(m, c) && !p->curr[c])
                idle |= 1ULL << c;
        target = sched_mask_test_or_cycle(v->processor, idle);
        if (target < SCHED_MAX_CPUS)
            goto tickle;
    }
    /* The CPU running the least important vCPU that v beats. */
    for (unsigned int c = 0; c < SCHED_MAX_CPUS; c++) {
        struct rt_key k;
        if (!sched_mask_test(cand, c) || !p->curr[c])
            continue;
        k = rt_key(rtv(p->curr[c]), c);
        if (rt_cmp(rt_key(rv, c), k) < 0 && (target == SCHED_MAX_CPUS || rt_cmp(k, worst) > 0)) {
            worst = k;
            target = c;
        }
    }
    if (target == SCHED_MAX_CPUS)
        return;
tickle:
    p->tickled |= 1ULL << target;
    s->tickle(s, target);
}

/* ---------------------------------------------------------------- instance */

static void rt_init(struct scheduler *s)
{
    struct rt_priv *p = rt_priv(s);

    p->lock = (spinlock_t)SPINLOCK_INIT;
    list_init(&p->runq);
    list_init(&p->depletedq);
    list_init(&p->replq);
    list_init(&p->vcpus);
    p->armed = STIME_MAX;
}

static spinlock_t *rt_cpu_lock(struct scheduler *s, unsigned int cpu)
{
    (void)cpu;
    return &rt_priv(s)->lock;
}

static void rt_add_cpu(struct scheduler *s, unsigned int cpu)
{
    struct rt_priv *p = rt_priv(s);

    spin_lock(&p->lock);
    p->curr[cpu] = NULL;
    p->reserved[cpu] = 0;
    spin_unlock(&p->lock);
}

/* Reservations homed on a CPU that leaves move elsewhere if they can. */
static void rt_remove_cpu(struct scheduler *s, unsigned int cpu)
{
    struct rt_priv *p = rt_priv(s);
    struct list *l;

    spin_lock(&p->lock);
    p->tickled &= ~(1ULL << cpu);
    list_for_each(l, &p->vcpus) {
        struct rt_vcpu *rv = list_entry(l, struct rt_vcpu, all_link);
        if ((rv->flags & RT_ADMITTED) && rv->home == cpu)
            rt_admit(s, rt_vcpu_of(rv));
    }
    spin_unlock(&p->lock);
}

static void rt_dom_nop(struct scheduler *s, struct domain *d)
{
    (void)s;
    (void)d;
}

static void rt_vcpu_insert(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);

    (void)now;
    memset(rv, 0, sizeof(*rv));
    list_init(&rv->q_link);
    list_init(&rv->repl_link);
    rv->period = RT_DEFAULT_PERIOD;
    rv->budget = RT_DEFAULT_BUDGET;
    rv->flags = RT_EXTRA;
    spin_lock(&p->lock);
    list_add_tail(&rv->all_link, &p->vcpus);
    rt_admit(s, v);
    v->processor = rv->flags & RT_ADMITTED
                       ? rv->home : sched_mask_test_or_cycle(v->processor, sched_hard(s, v));
    spin_unlock(&p->lock);
}

static void rt_vcpu_remove(struct scheduler *s, struct vcpu *v)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);

    spin_lock(&p->lock);
    rt_release(p, rv);
    list_del(&rv->all_link);
    list_del(&rv->q_link);
    list_del(&rv->repl_link);
    rt_rearm(s);
    spin_unlock(&p->lock);
}

/* ---------------------------------------------------------------- events */

static void rt_wake(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);

    if (rv->flags & RT_AWAKE)
        return;
    rv->flags |= RT_AWAKE;
    if (rt_is_curr(s, v))
        return;
    rt_wake_period(rv, now);
    if (rt_on_replq(rv))
        list_del(&rv->repl_link);
    rt_replq_insert(p, rv);
    if (rv->flags & RT_SCHEDULED)
        rv->flags |= RT_DELAYED; /* still being switched off */
    else {
        rt_runq_insert(p, rv);
        rt_tickle(s, v);
    }
    rt_rearm(s);
}

static void rt_sleep(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rt_vcpu *rv = rtv(v);

    (void)now;
    rv->flags &= ~(RT_AWAKE | RT_DELAYED);
    if (rt_is_curr(s, v)) {
        rt_priv(s)->tickled |= 1ULL << v->processor;
        s->tickle(s, v->processor);
    } else if (rt_queued(rv)) {
        list_del(&rv->q_link);
        list_del(&rv->repl_link);
        rt_rearm(s);
    }
}

/* A reservation whose home CPU the new hard affinity excludes moves to an
 * allowed CPU with room, or is given up (the vCPU runs unadmitted). */
static void rt_affinity(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rt_vcpu *rv = rtv(v);

    (void)now;
    if (!(rv->flags & RT_ADMITTED) || sched_mask_test(sched_hard(s, v), rv->home))
        return;
    rt_admit(s, v);
    if (rt_is_curr(s, v)) {
        rt_priv(s)->tickled |= 1ULL << v->processor;
        s->tickle(s, v->processor);
    }
}

static void rt_yield(struct scheduler *s, struct vcpu *v)
{
    (void)s;
    (void)v; /* as Xen's RTDS: a yield only makes the CPU decide again */
}

static struct sched_pick rt_pick(struct scheduler *s, unsigned int cpu, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct vcpu *cur = p->curr[cpu], *next;
    struct rt_vcpu *rc = cur ? rtv(cur) : NULL, *best = NULL;
    struct list *l;

    p->tickled &= ~(1ULL << cpu);
    if (rc) {
        rt_burn(rc, now);
        if ((rc->flags & RT_AWAKE) && !(rc->flags & RT_DEPLETED))
            best = rc;
    }
    list_for_each(l, &p->runq) {
        struct rt_vcpu *rv = list_entry(l, struct rt_vcpu, q_link);
        if (sched_mask_test(sched_hard(s, rt_vcpu_of(rv)), cpu) &&
            (!best || rt_cmp(rt_key(rv, cpu), rt_key(best, cpu)) < 0))
            best = rv;
    }
    if (rc && best != rc && (rc->flags & RT_AWAKE))
        rc->flags |= RT_DELAYED;
    p->curr[cpu] = NULL;
    if (!best)
        return (struct sched_pick){NULL, STIME_MAX};
    next = rt_vcpu_of(best);
    if (best != rc) {
        list_del(&best->q_link);
        best->flags |= RT_SCHEDULED;
        next->processor = cpu; /* one lock for all CPUs */
    }
    best->last_start = now;
    p->curr[cpu] = next;
    return (struct sched_pick){next, now + best->cur_budget};
}

static void rt_context_saved(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);

    (void)now;
    spin_lock(&p->lock);
    rv->flags &= ~RT_SCHEDULED;
    if ((rv->flags & RT_DELAYED) && (rv->flags & RT_AWAKE)) {
        rt_runq_insert(p, rv);
        rt_tickle(s, v);
    } else
        list_del(&rv->repl_link);
    rv->flags &= ~RT_DELAYED;
    rt_rearm(s);
    spin_unlock(&p->lock);
}

/* A vCPU whose hard affinity changed: its reservation (if its home is no
 * longer allowed) and its CPU move; no room means no reservation. */
static void rt_move(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);
    sched_mask_t hard = sched_hard(s, v);

    (void)now;
    spin_lock(&p->lock);
    if ((rv->flags & RT_ADMITTED) && !sched_mask_test(hard, rv->home))
        rt_admit(s, v);
    if (!sched_mask_test(hard, v->processor))
        v->processor = rv->flags & RT_ADMITTED
                           ? rv->home : sched_mask_test_or_cycle(v->processor, hard);
    spin_unlock(&p->lock);
}

/* Deadlines reached: new periods, new budgets, and maybe new decisions. */
static void rt_event(struct scheduler *s, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct list done;

    list_init(&done);
    spin_lock(&p->lock);
    for (;;) {
        struct rt_vcpu *rv = list_first(&p->replq, struct rt_vcpu, repl_link);
        struct vcpu *v;
        if (!rv || rv->cur_deadline > now)
            break;
        v = rt_vcpu_of(rv);
        list_del(&rv->repl_link);
        list_add_tail(&rv->repl_link, &done);
        if (rt_is_curr(s, v))
            rt_burn(rv, now);
        /* Runnable with its reservation and still owed budget: a miss. */
        if ((rv->flags & (RT_ADMITTED | RT_AWAKE)) == (RT_ADMITTED | RT_AWAKE) &&
            rv->level == 0 && rv->cur_budget > 0)
            p->misses++;
        rt_replenish(rv, now);
        if (rt_queued(rv)) {
            list_del(&rv->q_link);
            rt_runq_insert(p, rv);
            rt_tickle(s, v);
        } else if (rt_is_curr(s, v)) {
            /* Its priority changed: the CPU compares again. */
            p->tickled |= 1ULL << v->processor;
            s->tickle(s, v->processor);
        }
    }
    while (!list_empty(&done)) {
        struct rt_vcpu *rv = list_entry(done.next, struct rt_vcpu, repl_link);
        list_del(&rv->repl_link);
        rt_replq_insert(p, rv);
    }
    p->armed = STIME_MAX; /* the request was used up (even if early): ask anew */
    rt_rearm(s);
    spin_unlock(&p->lock);
}

/* ---------------------------------------------------------------- parameters */

/* a * b / c without a 128-bit divide, which the freestanding build has no
 * runtime for: a shift-subtract long division of the 128-bit product. */
static u64 muldiv_u64(u64 a, u64 b, u64 c)
{
    unsigned __int128 n = (unsigned __int128)a * b;
    unsigned __int128 rem = 0;
    u64 q = 0;

    if ((u64)(n >> 64) == 0)
        return (u64)n / c;
    for (int i = 127; i >= 0; i--) {
        rem = (rem << 1) | (u64)((n >> i) & 1);
        if (rem >= c) {
            rem -= c;
            if (i < 64)
                q |= 1ull << i;
        }
    }
    return q;
}

/* New parameters for v.  Asleep, its next wake starts a period with them.
 * Active, it keeps its deadline, and what is left of its budget is cut to
 * what the new share allows until then: a fresh period now would let it
 * spend an old and a new budget in one window and push others past their
 * deadlines (the fuzzer found it); new periods start at the deadline. */
static void rt_apply(struct scheduler *s, struct vcpu *v, s_time_t period, s_time_t budget,
                     s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);
    s64 allow;

    rv->period = period;
    rv->budget = budget;
    if (!rt_on_replq(rv)) {
        rt_new_period(rv, 0);
        rv->cur_deadline = 0;
        return;
    }
    if (rt_is_curr(s, v))
        rt_burn(rv, now); /* what it used so far counts */
    allow = rv->cur_deadline > now
                ? (s64)muldiv_u64((u64)(rv->cur_deadline - now), (u64)budget, (u64)period)
                : 0;
    rv->cur_budget = MIN(rv->cur_budget, MIN(budget, allow));
    rv->flags &= ~RT_DEPLETED; /* the extratime flag may have changed too */
    if (rv->cur_budget <= 0) {
        rv->cur_budget = 0;
        if (rv->flags & RT_EXTRA) {
            rv->level++;
            rv->cur_budget = budget;
        } else
            rv->flags |= RT_DEPLETED;
    }
    if (rt_queued(rv)) {
        list_del(&rv->q_link);
        rt_runq_insert(p, rv);
        rt_tickle(s, v);
    } else if (rt_is_curr(s, v)) {
        p->tickled |= 1ULL << v->processor;
        s->tickle(s, v->processor);
    }
}

/* Reserve (period, budget) for the vCPUs in `vs` as one set: all or none.
 * Instance lock held. */
static int rt_admit_set(struct scheduler *s, struct vcpu **vs, unsigned int n, s_time_t period,
                        s_time_t budget)
{
    struct rt_priv *p = rt_priv(s);
    u64 util = rt_util(budget, period);
    u16 old_home[MAX_VIRT_CPUS];
    u64 old_util[MAX_VIRT_CPUS];
    bool old_adm[MAX_VIRT_CPUS], ok = util <= RT_UTIL_ONE;
    unsigned int i;

    for (i = 0; i < n; i++) {
        struct rt_vcpu *rv = rtv(vs[i]);
        old_home[i] = rv->home;
        old_util[i] = rv->util;
        old_adm[i] = rv->flags & RT_ADMITTED;
        rt_release(p, rv);
    }
    for (i = 0; ok && i < n; i++) {
        struct rt_vcpu *rv = rtv(vs[i]);
        int home = rt_find_home(s, vs[i], util);
        if (home < 0) {
            ok = false;
            break;
        }
        rv->home = (u16)home;
        rv->util = util;
        rv->flags |= RT_ADMITTED;
        p->reserved[home] += util;
    }
    if (ok)
        return 0;
    /* Point of return: put every reservation back as it was. */
    for (i = 0; i < n; i++) {
        struct rt_vcpu *rv = rtv(vs[i]);
        rt_release(p, rv);
        rv->home = old_home[i];
        rv->util = old_util[i];
        if (old_adm[i]) {
            rv->flags |= RT_ADMITTED;
            p->reserved[rv->home] += rv->util;
        }
    }
    return -XEN_ENOSPC;
}

/* As Xen: get returns the defaults; put sets every vCPU, refusing only a
 * zero period or budget -- and, in Keel, a set that does not fit. */
static int rt_dom_params(struct scheduler *s, struct domain *d, struct sched_params *prm, bool put,
                         s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct vcpu *vs[MAX_VIRT_CPUS];
    s_time_t period = MICROSECS(prm->period_us), budget = MICROSECS(prm->budget_us);
    unsigned int n = 0;
    int rc;

    if (!put) {
        prm->period_us = RT_DEFAULT_PERIOD / MICROSECS(1);
        prm->budget_us = RT_DEFAULT_BUDGET / MICROSECS(1);
        return 0;
    }
    if (!prm->period_us || !prm->budget_us)
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < d->nr_vcpus && i < MAX_VIRT_CPUS; i++)
        if (d->vcpus[i])
            vs[n++] = d->vcpus[i];
    spin_lock(&p->lock);
    rc = rt_admit_set(s, vs, n, period, budget);
    for (unsigned int i = 0; !rc && i < n; i++)
        rt_apply(s, vs[i], period, budget, now);
    rt_rearm(s);
    spin_unlock(&p->lock);
    return rc;
}

/* As Xen: 10 us <= budget <= period, else -EINVAL; Keel adds -ENOSPC. */
static int rt_vcpu_params(struct scheduler *s, struct vcpu *v, struct sched_params *prm, bool put,
                          s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    struct rt_vcpu *rv = rtv(v);
    s_time_t period = MICROSECS(prm->period_us), budget = MICROSECS(prm->budget_us);
    int rc;

    spin_lock(&p->lock);
    if (!put) {
        prm->period_us = (u32)(rv->period / MICROSECS(1));
        prm->budget_us = (u32)(rv->budget / MICROSECS(1));
        prm->flags = rv->flags & RT_EXTRA ? SCHED_RTDS_EXTRA : 0;
        spin_unlock(&p->lock);
        return 0;
    }
    if (budget < RT_MIN_BUDGET || budget > period || period < RT_MIN_PERIOD) {
        spin_unlock(&p->lock);
        return -XEN_EINVAL;
    }
    rc = rt_admit_set(s, &v, 1, period, budget);
    if (!rc) {
        rv->flags = (u16)((rv->flags & ~RT_EXTRA) | (prm->flags & SCHED_RTDS_EXTRA ? RT_EXTRA : 0));
        rt_apply(s, v, period, budget, now);
        rt_rearm(s);
    }
    spin_unlock(&p->lock);
    return rc;
}

static int rt_global_params(struct scheduler *s, struct sched_global *g, bool put)
{
    (void)s;
    (void)g;
    (void)put;
    return 0; /* as Xen: RTDS has no instance-wide parameters */
}

/* ---------------------------------------------------------------- checks */

static bool rt_on_list(const struct list *head, const struct list *node)
{
    const struct list *l;

    list_for_each(l, head)
        if (l == node)
            return true;
    return false;
}

static bool rt_reservations_add_up(struct scheduler *s)
{
    struct rt_priv *p = rt_priv(s);
    u64 sum[SCHED_MAX_CPUS] = {0};
    struct list *l;

    list_for_each(l, &p->vcpus) {
        struct rt_vcpu *rv = list_entry(l, struct rt_vcpu, all_link);
        if (rv->flags & RT_ADMITTED) {
            if (!sched_mask_test(sched_hard(s, rt_vcpu_of(rv)), rv->home))
                return false;
            sum[rv->home] += rv->util;
        }
    }
    for (unsigned int c = 0; c < SCHED_MAX_CPUS; c++)
        if (sum[c] != p->reserved[c] || sum[c] > RT_UTIL_ONE)
            return false;
    return true;
}

static enum sched_vstate rt_vcpu_state(struct scheduler *s, const struct vcpu *v, s_time_t now)
{
    struct rt_priv *p = rt_priv(s);
    const struct rt_vcpu *rv = rtv(v);
    bool runq = rt_on_list(&p->runq, &rv->q_link), depl = rt_on_list(&p->depletedq, &rv->q_link);
    bool curr = rt_is_curr(s, v), awake = rv->flags & RT_AWAKE;
    bool active = curr || awake || (rv->flags & RT_SCHEDULED);

    if (rv->cur_budget < 0 || rv->cur_budget > rv->budget || rt_queued(rv) != (runq || depl) ||
        rt_on_replq(rv) != active || (rt_on_replq(rv) && rv->cur_deadline <= now) ||
        (depl && !(rv->flags & RT_DEPLETED)) || (runq && (rv->flags & RT_DEPLETED)) ||
        !rt_reservations_add_up(s))
        return SCHED_VS_BROKEN;
    if (runq && ((rv->q_link.prev != &p->runq &&
                  rt_before(rv, list_entry(rv->q_link.prev, struct rt_vcpu, q_link))) ||
                 (rv->q_link.next != &p->runq &&
                  rt_before(list_entry(rv->q_link.next, struct rt_vcpu, q_link), rv))))
        return SCHED_VS_BROKEN;
    if (curr)
        return (rv->flags & RT_SCHEDULED) && !rt_queued(rv) ? SCHED_VS_RUNNING : SCHED_VS_BROKEN;
    if (rv->flags & RT_SCHEDULED)
        return rt_queued(rv) ? SCHED_VS_BROKEN : SCHED_VS_SAVING;
    if (rt_queued(rv))
        return !awake ? SCHED_VS_BROKEN : depl ? SCHED_VS_HELD : SCHED_VS_QUEUED;
    return awake ? SCHED_VS_BROKEN : SCHED_VS_ASLEEP;
}

unsigned long sched_rtds_misses(const struct scheduler *s)
{
    return rt_priv(s)->misses;
}

bool sched_rtds_admitted(const struct vcpu *v)
{
    return rtv(v)->flags & RT_ADMITTED;
}

const struct sched_policy sched_rtds_policy = {
    .name = "RTDS",
    .opt_name = "rtds",
    .sched_id = XEN_SCHEDULER_RTDS,
    .priv_size = sizeof(struct rt_priv),
    .init = rt_init,
    .add_cpu = rt_add_cpu,
    .remove_cpu = rt_remove_cpu,
    .cpu_lock = rt_cpu_lock,
    .dom_init = rt_dom_nop,
    .dom_destroy = rt_dom_nop,
    .vcpu_insert = rt_vcpu_insert,
    .vcpu_remove = rt_vcpu_remove,
    .wake = rt_wake,
    .sleep = rt_sleep,
    .yield = rt_yield,
    .affinity = rt_affinity,
    .pick = rt_pick,
    .context_saved = rt_context_saved,
    .move = rt_move,
    .event = rt_event,
    .dom_params = rt_dom_params,
    .vcpu_params = rt_vcpu_params,
    .global_params = rt_global_params,
    .vcpu_state = rt_vcpu_state,
};
