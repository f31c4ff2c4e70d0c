/*
 * Weighted fair share with caps: the semantics of Xen 4.17's credit2.
 *
 * Credits.  Every vCPU holds credit, in nanoseconds of the heaviest vCPU's
 * time.  Running burns it at max_weight/weight per nanosecond, so a vCPU of
 * half the top weight burns twice as fast.  Each runqueue keeps its waiting
 * vCPUs in credit order and runs the richest; when the richest has none
 * left (an "epoch" ends), everyone on the runqueue gets CREDIT_INIT more,
 * clipped to CREDIT_INIT + CARRYOVER_MAX.  Over an epoch each vCPU thus
 * gets time in proportion to its weight.
 *
 * Runqueues.  CPUs share runqueues (up to 16 CPUs each, as Xen's default
 * arrangement gives on one socket) or have one each (credit2_runqueue=cpu).
 * A vCPU waits on its runqueue and any CPU of it may take it; load is
 * balanced between runqueues at the end of an epoch by moving vCPUs that
 * are not on a CPU.
 *
 * Latency.  A waking vCPU goes into the queue by its credit and the best CPU
 * is tickled: an idle one in its soft, then hard affinity, else the busy one
 * whose vCPU it beats by the most.  The rate limit (default 1 ms) keeps a
 * vCPU on its CPU for at least that long after it was switched in.
 *
 * Caps.  A capped domain gets cap% of CAP_PERIOD (10 ms) of budget every
 * period; its vCPUs take budget in quotas before they run and give back
 * what is left when they stop; without budget a vCPU is parked until the
 * next replenishment.
 *
 * Where Keel differs from Xen 4.17 (each explained in docs/sched.md): a
 * CPU inside its rate-limit interval is still tickled by a waker that would
 * win, and decides again when the interval ends; a capped vCPU's slice never
 * passes its budget; quotas are the budget split evenly, and a vCPU that had
 * its part parks while a sibling waits for its own; equal credits go by who
 * ran longest ago; the balancer moves only vCPUs off a CPU, and not twice
 * before they run; an idle CPU takes any waiter it may run; vCPUs added to a
 * capped domain are capped.
 *
 * Locks (order): instance lock -> runqueue locks -> a domain's budget lock.
 * A second runqueue lock is only ever trylocked from a LOCKED hook.
 */
#define __XEN_TOOLS__ 1
#include <keel/sched_policy.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>

#define C2_DEFAULT_WEIGHT 256
#define C2_MIN_TIMER MICROSECS(500)
#define C2_CREDIT_INIT MILLISECS(10)
#define C2_CREDIT_MIN (-C2_CREDIT_INIT)
#define C2_CREDIT_MAX (C2_CREDIT_INIT + C2_CARRYOVER_MAX)
#define C2_IDLE_CREDIT (C2_CREDIT_MIN - 1)
#define C2_CARRYOVER_MAX C2_MIN_TIMER
#define C2_MAX_TIMER C2_CREDIT_INIT
#define C2_MIGRATE_RESIST MICROSECS(500)
#define C2_MIGRATE_COMPENSATION MICROSECS(50)
#define C2_CAP_PERIOD MILLISECS(10)
#define C2_DEFAULT_RATELIMIT_US 1000
#define C2_MAX_CPUS_RUNQ 16
#define C2_NO_CAP STIME_MAX /* a vCPU's budget when its domain has no cap */

/* Load: a decaying average of the number of runnable vCPUs, in fixed point
 * with LOAD_SHIFT fraction bits, over a window of about a second. */
#define C2_LOAD_SHIFT 18
#define C2_LOAD_TIME_SHIFT 10   /* ns -> ~us */
#define C2_LOAD_WINDOW_SHIFT 20 /* 2^20 us */

/* vCPU flags */
#define C2_AWAKE 0x01     /* runnable, as wake/sleep told */
#define C2_SCHEDULED 0x02 /* on a CPU, or being switched off one */
#define C2_DELAYED 0x04   /* back to the runqueue once its context is saved */
#define C2_PARKED 0x08    /* waits for its domain's budget */
#define C2_YIELD 0x10
#define C2_LOADED 0x20    /* counted in its runqueue's load */
#define C2_MOVED 0x40     /* moved by the balancer and has not run since */

struct c2_rq {
    spinlock_t lock;
    struct list runq;  /* waiting vCPUs, most credit first */
    struct list vcpus; /* every vCPU assigned to this runqueue */
    sched_mask_t active, idle, tickled;
    u32 max_weight;
    unsigned int nr_cpus, pick_bias;
    int load;          /* runnable vCPUs assigned here, running included */
    s64 avgload, b_avgload;
    s_time_t load_update;
};

struct c2_cpu {
    struct c2_rq *rq;  /* fixed at init: cpu_lock never changes */
    struct vcpu *curr;
};

struct c2_priv {
    spinlock_t lock;   /* runqueue membership of CPUs, the capped list */
    u32 ratelimit_us;
    struct list capped; /* domains with a cap: replenishment events */
    struct c2_cpu cpu[SCHED_MAX_CPUS];
    struct c2_rq rq[SCHED_MAX_CPUS];
};

struct c2_vcpu {
    struct list runq_link;  /* on rq->runq */
    struct list rq_link;    /* on rq->vcpus */
    struct list park_link;  /* on the domain's parked list */
    struct c2_rq *rq;
    s64 credit;
    s64 budget;             /* C2_NO_CAP when uncapped */
    s64 budget_quota;
    s64 period_used;        /* budget taken this period (domain's budget lock) */
    s_time_t start_time;    /* credit burnt up to here */
    s_time_t run_since;     /* switched in at (rate limit) */
    s64 avgload;
    s_time_t load_update;
    u32 weight, residual;
    int tickled_cpu;
    u32 flags;
};
SCHED_CHECK_VCPU_PRIV(struct c2_vcpu);

struct c2_dom {
    spinlock_t budget_lock;
    struct list parked;      /* vCPUs waiting for budget */
    struct list capped_link; /* on priv->capped while capped */
    s64 tot_budget, budget;  /* per period; what is left of it */
    s_time_t next_repl;
    u32 weight, cap, nr_vcpus;
};
SCHED_CHECK_DOM_PRIV(struct c2_dom);

/* Keel's boot option credit2_runqueue=cpu sets this before init. */
bool sched_credit2_runq_per_cpu;

static struct c2_priv *c2_priv(const struct scheduler *s)
{
    return s->priv;
}

static struct c2_vcpu *c2v(const struct vcpu *v)
{
    return SCHED_VCPU_PRIV(v, struct c2_vcpu);
}

static struct c2_dom *c2d(const struct domain *d)
{
    return SCHED_DOM_PRIV(d, struct c2_dom);
}

static struct vcpu *c2_vcpu_of(struct c2_vcpu *sv)
{
    return SCHED_PRIV_VCPU(sv);
}

static bool c2_capped(const struct c2_vcpu *sv)
{
    return sv->budget != C2_NO_CAP;
}

static struct c2_rq *c2_rq_of(struct scheduler *s, unsigned int cpu)
{
    return c2_priv(s)->cpu[cpu].rq;
}

static bool c2_is_curr(struct scheduler *s, struct vcpu *v)
{
    return c2_priv(s)->cpu[v->processor].curr == v;
}

/* ---------------------------------------------------------------- load */

static s64 c2_decay(s64 avg, int load, s_time_t last, s_time_t now)
{
    s64 t = now >> C2_LOAD_TIME_SHIFT, delta = t - last;
    s64 target = (s64)load << C2_LOAD_SHIFT;

    if (delta <= 0)
        return avg;
    if (delta >= (1LL << C2_LOAD_WINDOW_SHIFT))
        return target;
    return avg + (((target - avg) * delta) >> C2_LOAD_WINDOW_SHIFT);
}

/* b_avgload is the same average, but also carries the vCPUs the balancer
 * just moved in or out, so one move is not repeated while the history
 * catches up. */
static void c2_rq_load_update(struct c2_rq *rq, int change, s_time_t now)
{
    rq->avgload = c2_decay(rq->avgload, rq->load, rq->load_update, now);
    rq->b_avgload = c2_decay(rq->b_avgload, rq->load, rq->load_update, now);
    rq->load_update = now >> C2_LOAD_TIME_SHIFT;
    rq->load += change;
}

static void c2_vcpu_load_update(struct c2_vcpu *sv, s_time_t now)
{
    sv->avgload = c2_decay(sv->avgload, !!(sv->flags & C2_LOADED), sv->load_update, now);
    sv->load_update = now >> C2_LOAD_TIME_SHIFT;
}

/* Count sv in its runqueue's load, or stop counting it. */
static void c2_set_loaded(struct c2_vcpu *sv, bool on, s_time_t now)
{
    bool was = sv->flags & C2_LOADED;

    c2_vcpu_load_update(sv, now);
    c2_rq_load_update(sv->rq, was == on ? 0 : on ? 1 : -1, now);
    if (on)
        sv->flags |= C2_LOADED;
    else
        sv->flags &= ~C2_LOADED;
}

/* ---------------------------------------------------------------- runqueues */

static void c2_update_max_weight(struct c2_rq *rq)
{
    struct list *l;
    u32 max = 1;

    list_for_each(l, &rq->vcpus)
        max = MAX(max, list_entry(l, struct c2_vcpu, rq_link)->weight);
    rq->max_weight = max;
}

static void c2_assign(struct c2_vcpu *sv, struct c2_rq *rq)
{
    sv->rq = rq;
    list_add_tail(&sv->rq_link, &rq->vcpus);
    c2_update_max_weight(rq);
    rq->b_avgload += sv->avgload;
}

static void c2_deassign(struct c2_vcpu *sv)
{
    struct c2_rq *rq = sv->rq;

    list_del(&sv->rq_link);
    c2_update_max_weight(rq);
    rq->b_avgload = MAX(rq->b_avgload - sv->avgload, 0);
    sv->rq = NULL;
}

static bool c2_on_runq(const struct c2_vcpu *sv)
{
    return !list_empty(&sv->runq_link);
}

/* In credit order; on a tie, whoever was switched in longest ago goes
 * first (credits clipped at a reset tie often, and a fixed order would let
 * one capped vCPU take its domain's budget period after period). */
static void c2_runq_insert(struct c2_vcpu *sv)
{
    struct list *l;

    list_for_each(l, &sv->rq->runq) {
        struct c2_vcpu *o = list_entry(l, struct c2_vcpu, runq_link);
        if (sv->credit > o->credit || (sv->credit == o->credit && sv->run_since < o->run_since))
            break;
    }
    list_insert_before(&sv->runq_link, l);
}

static struct c2_vcpu *c2_runq_head(struct c2_rq *rq)
{
    return list_first(&rq->runq, struct c2_vcpu, runq_link);
}

/* ---------------------------------------------------------------- credit */

static void c2_burn(struct c2_vcpu *sv, s_time_t now)
{
    s_time_t delta = now - sv->start_time;
    u64 t;
    s64 used;

    if (delta <= 0)
        return;
    if (c2_capped(sv))
        sv->budget -= delta;
    sv->start_time = now;
    /* Past a second the credit has hit its floor anyway: keep the product
     * far from overflow. */
    t = (u64)MIN(delta, SECONDS(1)) * sv->rq->max_weight + sv->residual;
    used = (s64)(t / sv->weight);
    sv->residual = (u32)(t % sv->weight);
    sv->credit = MAX(sv->credit - used, C2_CREDIT_MIN);
}

/* How long `credit` lasts for sv. */
static s_time_t c2_credit_time(const struct c2_vcpu *sv, s64 credit)
{
    return credit * sv->weight / sv->rq->max_weight;
}

static void c2_tickle_cpu(struct scheduler *s, struct c2_rq *rq, unsigned int cpu)
{
    rq->tickled |= 1ULL << cpu;
    s->tickle(s, cpu);
}

/* The epoch is over on rq: everyone gets more credit. */
static void c2_reset_credit(struct scheduler *s, struct c2_rq *rq, struct c2_vcpu *snext,
                            s_time_t now)
{
    s64 add = C2_CREDIT_INIT;
    struct list *l;

    /* A vCPU that overran to the floor still ends up in the black. */
    if (snext->credit <= C2_CREDIT_MIN)
        add += C2_CREDIT_INIT;
    list_for_each(l, &rq->vcpus) {
        struct c2_vcpu *sv = list_entry(l, struct c2_vcpu, rq_link);
        struct vcpu *v = c2_vcpu_of(sv);

        if (c2_is_curr(s, v)) {
            c2_burn(sv, now);
            if (c2_capped(sv) && sv->budget <= 0)
                c2_tickle_cpu(s, rq, v->processor);
        }
        sv->credit = MIN(sv->credit + add, C2_CREDIT_MAX);
        sv->start_time = now;
    }
}

/* ---------------------------------------------------------------- caps */

/* Each vCPU's fair part of its domain's budget.  Xen makes it at least
 * 500 us, which under a small cap lets one vCPU take the whole budget
 * every period while its siblings never run. */
static s64 c2_quota(const struct c2_dom *sd)
{
    return MAX(sd->tot_budget / MAX(sd->nr_vcpus, 1u), 1);
}

/* Whether a sibling of v that is awake still waits for its part of this
 * period's budget (budget lock held; flags read without their lock: a
 * stale answer only shifts budget between siblings). */
static bool c2_sibling_wants(const struct vcpu *v)
{
    const struct domain *d = v->domain;

    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        const struct vcpu *w = d->vcpus[i];
        if (w && w != v && (READ_ONCE(c2v(w)->flags) & C2_AWAKE) &&
            c2v(w)->period_used < c2v(w)->budget_quota)
            return true;
    }
    return false;
}

static void c2_park(struct c2_vcpu *sv, struct c2_dom *sd, s_time_t now)
{
    sv->flags |= C2_PARKED;
    if (c2_on_runq(sv))
        list_del(&sv->runq_link);
    c2_set_loaded(sv, false, now);
    list_add_tail(&sv->park_link, &sd->parked);
}

/* Before it runs, a capped vCPU takes a quota from its domain's budget
 * (settling its overrun first); with nothing there -- or when it had its
 * part this period and a sibling still waits for its own -- it is parked. */
static bool c2_grab_budget(struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);
    struct c2_dom *sd = c2d(v->domain);

    if (sv->budget > 0)
        return true;
    spin_lock(&sd->budget_lock);
    sd->budget += sv->budget;
    sv->budget = 0;
    if (sd->budget > 0 && (sv->period_used < sv->budget_quota || !c2_sibling_wants(v))) {
        sv->budget = MIN(sv->budget_quota, sd->budget);
        sd->budget -= sv->budget;
        sv->period_used += sv->budget;
    } else {
        sv->budget = 0;
        c2_park(sv, sd, now);
    }
    spin_unlock(&sd->budget_lock);
    return sv->budget > 0;
}

/* A vCPU leaving its CPU gives back what it did not use. */
static bool c2_return_budget(struct vcpu *v)
{
    struct c2_vcpu *sv = c2v(v);
    struct c2_dom *sd = c2d(v->domain);
    bool unpark;

    spin_lock(&sd->budget_lock);
    sd->budget += sv->budget;
    sv->period_used = MAX(sv->period_used - sv->budget, 0);
    sv->budget = 0;
    unpark = sd->budget > 0 && !list_empty(&sd->parked);
    spin_unlock(&sd->budget_lock);
    return unpark;
}

static void c2_tickle(struct scheduler *s, struct vcpu *v, s_time_t now);

/* Budget came back: parked vCPUs of d compete for it again.  UNLOCKED:
 * one at a time off the list (budget lock), then under its runqueue lock;
 * a vCPU that slept or woke meanwhile has lost C2_PARKED and is left be. */
static void c2_unpark_all(struct scheduler *s, struct domain *d, s_time_t now)
{
    struct c2_dom *sd = c2d(d);

    for (;;) {
        struct c2_vcpu *sv;
        struct vcpu *v;
        spinlock_t *l;

        spin_lock(&sd->budget_lock);
        sv = list_first(&sd->parked, struct c2_vcpu, park_link);
        if (sv)
            list_del(&sv->park_link);
        spin_unlock(&sd->budget_lock);
        if (!sv)
            return;
        v = c2_vcpu_of(sv);
        l = sched_lock_vcpu(s, v);
        if (sv->flags & C2_PARKED) {
            sv->flags &= ~C2_PARKED;
            if (!(sv->flags & C2_AWAKE))
                ;
            else if (sv->flags & C2_SCHEDULED)
                sv->flags |= C2_DELAYED;
            else {
                c2_set_loaded(sv, true, now);
                c2_runq_insert(sv);
                c2_tickle(s, v, now);
            }
        }
        spin_unlock(l);
    }
}

/* ---------------------------------------------------------------- tickling */

/* How much better new would do on cpu than what runs there; <= 0: no. */
static s64 c2_tickle_score(struct scheduler *s, struct vcpu *new, unsigned int cpu, s_time_t now)
{
    struct vcpu *cur = c2_priv(s)->cpu[cpu].curr;
    struct c2_vcpu *sn = c2v(new), *sc;
    s64 score;

    if (!cur)
        return 0;
    sc = c2v(cur);
    c2_burn(sc, now);
    score = sn->credit - sc->credit;
    if (new->processor != cpu)
        score -= C2_MIGRATE_RESIST;
    if (score > 0) {
        if (sched_mask_test(sched_soft(s, new), cpu))
            score += C2_CREDIT_INIT;
        if (!sched_mask_test(sched_soft(s, cur), cpu))
            score += C2_CREDIT_INIT;
    }
    return score;
}

/* v was just queued: make the best CPU of its runqueue look at it. */
static void c2_tickle(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);
    struct c2_rq *rq = sv->rq;
    sched_mask_t hard = sched_hard(s, v) & rq->active, soft = sched_soft(s, v) & rq->active;
    sched_mask_t busy = rq->active & ~rq->idle & ~rq->tickled & hard;
    unsigned int cpu = v->processor, best = SCHED_MAX_CPUS;
    s64 max = 0;

    /* Idle and not yet tickled: in its soft affinity first, then hard. */
    for (int step = soft ? 0 : 1; step < 2; step++) {
        sched_mask_t m = (step ? hard : soft) & rq->idle & ~rq->tickled;
        unsigned int i = sched_mask_test_or_cycle(cpu, m);
        if (i < SCHED_MAX_CPUS) {
            best = i;
            goto tickle;
        }
    }
    /* Busy: the CPU where v's credit beats the running vCPU's most, its
     * own first (and taken at once when it is in v's soft affinity).  A
     * CPU inside its rate-limit interval counts too: it will decide again
     * when the interval ends. */
    if (sched_mask_test(busy, cpu)) {
        s64 sc = c2_tickle_score(s, v, cpu, now);
        if (sc > max) {
            max = sc;
            best = cpu;
            if (sched_mask_test(soft, cpu))
                goto tickle;
        }
        busy &= ~(1ULL << cpu);
    }
    for (unsigned int i = 0; busy; i++, busy >>= 1) {
        s64 sc;
        if (!(busy & 1))
            continue;
        sc = c2_tickle_score(s, v, i, now);
        if (sc > max) {
            max = sc;
            best = i;
        }
    }
    if (best == SCHED_MAX_CPUS)
        return;
tickle:
    c2_tickle_cpu(s, rq, best);
    sv->tickled_cpu = (int)best;
}

/* ---------------------------------------------------------------- placement */

/* The least loaded runqueue v may use (one in its soft affinity when
 * there is one), and a CPU of it; cycles through CPUs so that vCPUs
 * placed together spread.  Loads of other runqueues are read unlocked:
 * a stale figure only makes a placement less good. */
static unsigned int c2_choose_cpu(struct scheduler *s, struct vcpu *v)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_vcpu *sv = c2v(v);
    sched_mask_t hard = sched_hard(s, v), soft = sched_soft(s, v), m;
    struct c2_rq *best = NULL, *best_soft = NULL;
    s64 min = STIME_MAX, min_soft = STIME_MAX;
    unsigned int cpu;

    for (unsigned int i = 0; i < SCHED_MAX_CPUS; i++) {
        struct c2_rq *rq = &p->rq[i];
        sched_mask_t act = READ_ONCE(rq->active);
        s64 load = READ_ONCE(rq->b_avgload);
        if (!(act & hard))
            continue;
        if (rq == sv->rq)
            load = MAX(load - sv->avgload, 0);
        if ((act & soft) && load < min_soft) {
            min_soft = load;
            best_soft = rq;
        }
        if (load < min) {
            min = load;
            best = rq;
        }
    }
    if (best_soft)
        best = best_soft;
    if (!best)
        return sched_mask_first(hard);
    m = (best_soft ? soft : hard) & READ_ONCE(best->active);
    cpu = sched_mask_cycle(READ_ONCE(best->pick_bias), m);
    if (cpu >= SCHED_MAX_CPUS) /* raced with a CPU leaving */
        cpu = sched_mask_first(hard);
    WRITE_ONCE(best->pick_bias, cpu);
    return cpu;
}

static void c2_lock_pair(spinlock_t *a, spinlock_t *b)
{
    if (a == b) {
        spin_lock(a);
        return;
    }
    spin_lock(a < b ? a : b);
    spin_lock(a < b ? b : a);
}

static void c2_unlock_pair(spinlock_t *a, spinlock_t *b)
{
    spin_unlock(a);
    if (a != b)
        spin_unlock(b);
}

/* ---------------------------------------------------------------- balancing */

struct c2_balance {
    struct c2_rq *l, *o;
    s64 best_delta;
    struct c2_vcpu *push, *pull;
};

/* A vCPU that is not on a CPU and may run somewhere in `to`.  One the
 * balancer moved must run before it moves again: credit is only compared
 * within a runqueue, and a waiter pushed from queue to queue at each one's
 * credit reset would miss every reset and never run. */
static bool c2_movable(struct scheduler *s, struct c2_vcpu *sv, struct c2_rq *to)
{
    return !(sv->flags & (C2_SCHEDULED | C2_PARKED | C2_MOVED)) &&
           (sched_hard(s, c2_vcpu_of(sv)) & to->active);
}

static void c2_consider(struct c2_balance *b, struct c2_vcpu *push, struct c2_vcpu *pull)
{
    s64 l = b->l->b_avgload, o = b->o->b_avgload, d;

    if (push) {
        l -= push->avgload;
        o += push->avgload;
    }
    if (pull) {
        l += pull->avgload;
        o -= pull->avgload;
    }
    d = l > o ? l - o : o - l;
    if (d < b->best_delta) {
        b->best_delta = d;
        b->push = push;
        b->pull = pull;
    }
}

/* Move sv (not on a CPU) to runqueue `to`; both runqueue locks held. */
static void c2_migrate(struct scheduler *s, struct c2_vcpu *sv, struct c2_rq *to, s_time_t now)
{
    struct vcpu *v = c2_vcpu_of(sv);
    bool queued = c2_on_runq(sv), loaded = sv->flags & C2_LOADED;
    unsigned int cpu;

    if (queued)
        list_del(&sv->runq_link);
    if (loaded)
        c2_set_loaded(sv, false, now);
    c2_deassign(sv);
    cpu = sched_mask_cycle(to->pick_bias, sched_hard(s, v) & to->active);
    to->pick_bias = cpu;
    v->processor = cpu;
    c2_assign(sv, to);
    sv->flags |= C2_MOVED;
    if (loaded)
        c2_set_loaded(sv, true, now);
    if (queued) {
        c2_runq_insert(sv);
        c2_tickle(s, v, now);
    }
}

static struct c2_rq *c2_most_different(struct c2_priv *p, struct c2_rq *l, s_time_t now)
{
    struct c2_rq *max_rq = NULL;
    s64 max = 0;

    for (unsigned int i = 0; i < SCHED_MAX_CPUS; i++) {
        struct c2_rq *o = &p->rq[i];
        s64 d;
        if (o == l || !o->active || !spin_trylock(&o->lock))
            continue;
        c2_rq_load_update(o, 0, now);
        d = l->b_avgload - o->b_avgload;
        if (d < 0)
            d = -d;
        if (d > max) {
            max = d;
            max_rq = o;
        }
        spin_unlock(&o->lock);
    }
    return max_rq;
}

/* End of an epoch on cpu's runqueue: even out load with the runqueue whose
 * load differs most, by a push, a pull or a swap.  Only trylocks: it is an
 * optimisation and gives up rather than wait. */
static void c2_balance(struct scheduler *s, unsigned int cpu, s_time_t now)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_balance b = {.l = c2_rq_of(s, cpu)};
    struct list *i, *j;
    s64 load_max, diff;
    unsigned int cpus_max;

    c2_rq_load_update(b.l, 0, now);
    if (!spin_trylock(&p->lock))
        return;
    b.o = c2_most_different(p, b.l, now);
    spin_unlock(&p->lock);
    if (!b.o || !spin_trylock(&b.o->lock))
        return;
    load_max = MAX(b.l->b_avgload, b.o->b_avgload);
    cpus_max = MAX(b.l->nr_cpus, b.o->nr_cpus);
    diff = b.l->b_avgload - b.o->b_avgload;
    if (diff < 0)
        diff = -diff;
    /* Under capacity only a whole vCPU of difference is worth a move;
     * over it, an eighth. */
    if (diff < (load_max < ((s64)cpus_max << C2_LOAD_SHIFT) ? 1LL << C2_LOAD_SHIFT
                                                            : 1LL << (C2_LOAD_SHIFT - 3)))
        goto out;
    b.best_delta = diff;
    list_for_each(i, &b.l->vcpus) {
        struct c2_vcpu *push = list_entry(i, struct c2_vcpu, rq_link);
        c2_vcpu_load_update(push, now);
        if (!c2_movable(s, push, b.o))
            continue;
        list_for_each(j, &b.o->vcpus) {
            struct c2_vcpu *pull = list_entry(j, struct c2_vcpu, rq_link);
            if (c2_movable(s, pull, b.l))
                c2_consider(&b, push, pull);
        }
        c2_consider(&b, push, NULL);
    }
    list_for_each(j, &b.o->vcpus) {
        struct c2_vcpu *pull = list_entry(j, struct c2_vcpu, rq_link);
        if (c2_movable(s, pull, b.l))
            c2_consider(&b, NULL, pull);
    }
    if (b.push)
        c2_migrate(s, b.push, b.o, now);
    if (b.pull)
        c2_migrate(s, b.pull, b.l, now);
out:
    spin_unlock(&b.o->lock);
}

/* ---------------------------------------------------------------- instance */

static void c2_init(struct scheduler *s)
{
    struct c2_priv *p = c2_priv(s);

    p->lock = (spinlock_t)SPINLOCK_INIT;
    p->ratelimit_us = C2_DEFAULT_RATELIMIT_US;
    list_init(&p->capped);
    for (unsigned int i = 0; i < SCHED_MAX_CPUS; i++) {
        struct c2_rq *rq = &p->rq[i];
        rq->lock = (spinlock_t)SPINLOCK_INIT;
        list_init(&rq->runq);
        list_init(&rq->vcpus);
        rq->max_weight = 1;
        p->cpu[i].rq = &p->rq[sched_credit2_runq_per_cpu ? i : i / C2_MAX_CPUS_RUNQ];
    }
}

static spinlock_t *c2_cpu_lock(struct scheduler *s, unsigned int cpu)
{
    return &c2_rq_of(s, cpu)->lock;
}

static void c2_add_cpu(struct scheduler *s, unsigned int cpu)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_rq *rq = c2_rq_of(s, cpu);

    spin_lock(&p->lock);
    spin_lock(&rq->lock);
    rq->active |= 1ULL << cpu;
    rq->idle |= 1ULL << cpu;
    rq->nr_cpus++;
    p->cpu[cpu].curr = NULL;
    spin_unlock(&rq->lock);
    spin_unlock(&p->lock);
}

static void c2_remove_cpu(struct scheduler *s, unsigned int cpu)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_rq *rq = c2_rq_of(s, cpu);
    sched_mask_t bit = 1ULL << cpu;

    spin_lock(&p->lock);
    spin_lock(&rq->lock);
    rq->active &= ~bit;
    rq->idle &= ~bit;
    rq->tickled &= ~bit;
    rq->nr_cpus--;
    spin_unlock(&rq->lock);
    spin_unlock(&p->lock);
}

static void c2_dom_init(struct scheduler *s, struct domain *d)
{
    struct c2_dom *sd = c2d(d);

    (void)s;
    memset(sd, 0, sizeof(*sd));
    sd->budget_lock = (spinlock_t)SPINLOCK_INIT;
    list_init(&sd->parked);
    list_init(&sd->capped_link);
    sd->weight = C2_DEFAULT_WEIGHT;
}

static void c2_dom_destroy(struct scheduler *s, struct domain *d)
{
    struct c2_priv *p = c2_priv(s);

    spin_lock(&p->lock);
    list_del(&c2d(d)->capped_link);
    spin_unlock(&p->lock);
}

static void c2_vcpu_insert(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);
    struct c2_dom *sd = c2d(v->domain);
    spinlock_t *l;

    memset(sv, 0, sizeof(*sv));
    list_init(&sv->runq_link);
    list_init(&sv->rq_link);
    list_init(&sv->park_link);
    sv->credit = C2_CREDIT_INIT;
    sv->weight = sd->weight;
    sv->avgload = 1LL << (C2_LOAD_SHIFT - 1); /* starts as half a vCPU */
    sv->load_update = now >> C2_LOAD_TIME_SHIFT;
    sv->tickled_cpu = -1;
    sv->budget = C2_NO_CAP;
    /* Not visible to anyone yet: placed without its lock. */
    v->processor = c2_choose_cpu(s, v);
    l = sched_lock_vcpu(s, v);
    c2_assign(sv, c2_rq_of(s, v->processor));
    spin_unlock(l);
    spin_lock(&sd->budget_lock);
    sd->nr_vcpus++;
    if (sd->cap) {
        sv->budget = 0;
        sv->budget_quota = c2_quota(sd);
    }
    spin_unlock(&sd->budget_lock);
}

static void c2_vcpu_remove(struct scheduler *s, struct vcpu *v)
{
    struct c2_vcpu *sv = c2v(v);
    struct c2_dom *sd = c2d(v->domain);
    spinlock_t *l = sched_lock_vcpu(s, v);

    if (sv->flags & C2_LOADED) { /* asleep: only if a wake never came to run */
        sv->flags &= ~C2_LOADED;
        sv->rq->load--;
    }
    c2_deassign(sv);
    spin_unlock(l);
    spin_lock(&sd->budget_lock);
    list_del(&sv->park_link);
    if (c2_capped(sv) && sv->budget > 0)
        sd->budget += sv->budget;
    sd->nr_vcpus--;
    spin_unlock(&sd->budget_lock);
}

/* ---------------------------------------------------------------- events */

static void c2_wake(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);

    if (sv->flags & C2_AWAKE)
        return;
    sv->flags |= C2_AWAKE;
    if (sv->flags & C2_SCHEDULED) {
        /* Still on (or leaving) its CPU: the switch decides. */
        if (!c2_is_curr(s, v))
            sv->flags |= C2_DELAYED;
        return;
    }
    c2_set_loaded(sv, true, now);
    c2_runq_insert(sv);
    c2_tickle(s, v, now);
}

static void c2_sleep(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);

    sv->flags &= ~(C2_AWAKE | C2_DELAYED);
    if (c2_is_curr(s, v))
        c2_tickle_cpu(s, sv->rq, v->processor);
    else if (c2_on_runq(sv)) {
        list_del(&sv->runq_link);
        c2_set_loaded(sv, false, now);
    } else if (sv->flags & C2_PARKED) {
        struct c2_dom *sd = c2d(v->domain);
        spin_lock(&sd->budget_lock);
        list_del(&sv->park_link);
        spin_unlock(&sd->budget_lock);
        sv->flags &= ~C2_PARKED;
    }
}

/* Nothing to keep: picks, tickles and the balancer read the masks. */
static void c2_affinity(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    (void)s;
    (void)v;
    (void)now;
}

static void c2_yield(struct scheduler *s, struct vcpu *v)
{
    (void)s;
    c2v(v)->flags |= C2_YIELD;
}

static bool c2_runnable(const struct c2_vcpu *sv)
{
    return (sv->flags & (C2_AWAKE | C2_PARKED)) == C2_AWAKE;
}

/* Whether scurr, running off its soft affinity, should make way because
 * an idle CPU of its soft affinity could take it. */
static bool c2_soft_preempt(struct scheduler *s, struct c2_rq *rq, struct vcpu *cur,
                            unsigned int cpu)
{
    sched_mask_t soft = sched_soft(s, cur);

    return soft && !sched_mask_test(soft, cpu) && (soft & rq->idle & ~rq->tickled);
}

/* Who runs next on cpu: the current vCPU, or the richest eligible waiter. */
static struct c2_vcpu *c2_candidate(struct scheduler *s, struct c2_rq *rq, struct vcpu *cur,
                                    unsigned int cpu, s_time_t now)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_vcpu *scur = cur ? c2v(cur) : NULL, *snext = NULL;
    struct list *l, *n;
    bool yield = false;
    s64 credit;

    if (scur) {
        yield = scur->flags & C2_YIELD;
        scur->flags &= ~C2_YIELD;
        /* Inside its rate-limit interval a runnable vCPU stays. */
        if (!yield && p->ratelimit_us && c2_runnable(scur) &&
            now - scur->run_since < MICROSECS(p->ratelimit_us))
            return scur;
        if (c2_runnable(scur) && !c2_soft_preempt(s, rq, cur, cpu))
            snext = scur;
    }
    credit = snext ? snext->credit : C2_IDLE_CREDIT;
    list_for_each_safe(l, n, &rq->runq) {
        struct c2_vcpu *sv = list_entry(l, struct c2_vcpu, runq_link);
        struct vcpu *v = c2_vcpu_of(sv);

        if (!yield && sv->credit <= credit)
            break;
        if (!sched_mask_test(sched_hard(s, v), cpu))
            continue;
        /* Meant for another CPU that has not scheduled yet. */
        if (sv->tickled_cpu >= 0 && (unsigned int)sv->tickled_cpu != cpu &&
            sched_mask_test(rq->tickled, (unsigned int)sv->tickled_cpu))
            continue;
        /* Resisting a move only makes sense against someone who would
         * run instead: an idle CPU takes any waiter it may run. */
        if (snext && v->processor != cpu && credit + C2_MIGRATE_RESIST > sv->credit)
            continue;
        /* Last: taking budget has side effects (or parks it). */
        if (c2_capped(sv) && !c2_grab_budget(v, now))
            continue;
        return sv;
    }
    return snext;
}

/* How long snext may run before the CPU decides again. */
static s_time_t c2_runtime(struct scheduler *s, struct c2_rq *rq, struct c2_vcpu *snext,
                           bool continuing, s_time_t now)
{
    u32 rl = c2_priv(s)->ratelimit_us;
    s_time_t min = C2_MIN_TIMER, time;
    struct c2_vcpu *head = c2_runq_head(rq);
    s64 credit = snext->credit;

    /* Inside its rate-limit interval, exactly to the end of it (a waker
     * that beats it waits no longer); a fresh start gets the interval. */
    if (continuing && rl && now - snext->run_since < MICROSECS(rl))
        min = snext->run_since + MICROSECS(rl) - now;
    else if (!continuing)
        min = MAX(min, MICROSECS(rl));
    /* Until its credit is down to the next waiter's (or to nothing). */
    if (head && head->credit > 0)
        credit -= head->credit;
    time = credit > 0 ? c2_credit_time(snext, credit) : 0;
    time = MIN(MAX(time, min), C2_MAX_TIMER);
    /* A cap is a hard bound: it wins over the minimum slice. */
    if (c2_capped(snext))
        time = MIN(time, snext->budget);
    return time;
}

static void c2_set_idle(struct c2_rq *rq, unsigned int cpu, bool idle)
{
    if (idle)
        rq->idle |= 1ULL << cpu;
    else
        rq->idle &= ~(1ULL << cpu);
}

static struct sched_pick c2_pick(struct scheduler *s, unsigned int cpu, s_time_t now)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_rq *rq = c2_rq_of(s, cpu);
    struct vcpu *cur = p->cpu[cpu].curr, *next;
    struct c2_vcpu *scur = cur ? c2v(cur) : NULL, *snext, *head;

    rq->tickled &= ~(1ULL << cpu);
    if (scur) {
        c2_burn(scur, now);
        if (c2_capped(scur) && scur->budget <= 0 && c2_runnable(scur))
            c2_grab_budget(cur, now);
    }
    snext = c2_candidate(s, rq, cur, cpu, now);
    if (scur && snext != scur && c2_runnable(scur))
        scur->flags |= C2_DELAYED;
    if (!snext) {
        c2_set_idle(rq, cpu, true);
        c2_rq_load_update(rq, 0, now);
        p->cpu[cpu].curr = NULL;
        return (struct sched_pick){NULL, STIME_MAX};
    }
    next = c2_vcpu_of(snext);
    if (snext != scur) {
        list_del(&snext->runq_link);
        snext->flags = (snext->flags | C2_SCHEDULED) & ~C2_MOVED;
        snext->run_since = now;
    } else
        c2_set_loaded(snext, true, now);
    c2_set_idle(rq, cpu, false);
    /* The epoch ends when the richest vCPU around has no credit left. */
    head = c2_runq_head(rq);
    if (MAX(snext->credit, head ? head->credit : C2_CREDIT_MIN) <= 0) {
        c2_reset_credit(s, rq, snext, now);
        c2_balance(s, cpu, now);
    }
    snext->start_time = now;
    snext->tickled_cpu = -1;
    if (next->processor != cpu) {
        /* Same runqueue, same lock: moving within it is just this. */
        snext->credit = MIN(snext->credit + C2_MIGRATE_COMPENSATION, C2_CREDIT_MAX);
        next->processor = cpu;
    }
    p->cpu[cpu].curr = next;
    return (struct sched_pick){next, now + c2_runtime(s, rq, snext, snext == scur, now)};
}

static void c2_context_saved(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);
    spinlock_t *l = sched_lock_vcpu(s, v);
    bool unpark = false;

    sv->flags &= ~C2_SCHEDULED;
    if (c2_capped(sv) && sv->budget > 0)
        unpark = c2_return_budget(v);
    /* Runnable means delayed here: pick set it for a runnable vCPU it
     * switched off, wake and unpark set it while it was being saved. */
    if ((sv->flags & C2_DELAYED) && c2_runnable(sv)) {
        c2_set_loaded(sv, true, now);
        c2_runq_insert(sv);
        c2_tickle(s, v, now);
    } else if (!(sv->flags & C2_PARKED))
        c2_set_loaded(sv, false, now);
    sv->flags &= ~C2_DELAYED;
    spin_unlock(l);
    if (unpark)
        c2_unpark_all(s, v->domain, now);
}

static void c2_move(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct c2_vcpu *sv = c2v(v);
    sched_mask_t hard = sched_hard(s, v), soft = sched_soft(s, v);
    unsigned int old = v->processor, cpu;
    spinlock_t *lo, *ln;

    (void)now;
    if (sched_mask_test(soft ? soft : hard, old))
        return;
    cpu = c2_choose_cpu(s, v);
    lo = c2_cpu_lock(s, old);
    ln = c2_cpu_lock(s, cpu);
    c2_lock_pair(lo, ln);
    /* Asleep and saved: on no queue; only its runqueue may change. */
    if (c2_rq_of(s, cpu) != sv->rq) {
        c2_deassign(sv);
        c2_assign(sv, c2_rq_of(s, cpu));
    }
    v->processor = cpu;
    c2_unlock_pair(lo, ln);
}

/* Ask for the earliest replenishment of any capped domain; instance lock
 * held. */
static void c2_rearm(struct scheduler *s)
{
    s_time_t next = STIME_MAX;
    struct list *l;

    list_for_each(l, &c2_priv(s)->capped)
        next = MIN(next, READ_ONCE(list_entry(l, struct c2_dom, capped_link)->next_repl));
    s->arm(s, next);
}

/* Replenish every capped domain whose period is over. */
static void c2_event(struct scheduler *s, s_time_t now)
{
    struct c2_priv *p = c2_priv(s);
    struct list *l;

    spin_lock(&p->lock);
    list_for_each(l, &p->capped) {
        struct c2_dom *sd = list_entry(l, struct c2_dom, capped_link);
        struct domain *d = container_of((void *)sd, struct domain, sched.priv);
        bool unpark = false;

        spin_lock(&sd->budget_lock);
        if (sd->next_repl <= now) {
            /* A late timer still gives one period's budget per period. */
            while (sd->next_repl <= now) {
                sd->next_repl += C2_CAP_PERIOD;
                sd->budget += sd->tot_budget;
            }
            sd->budget = MIN(sd->budget, sd->tot_budget);
            for (unsigned int i = 0; i < d->nr_vcpus; i++)
                if (d->vcpus[i])
                    c2v(d->vcpus[i])->period_used = 0;
            unpark = sd->budget > 0;
        }
        spin_unlock(&sd->budget_lock);
        if (unpark)
            c2_unpark_all(s, d, now);
    }
    c2_rearm(s);
    spin_unlock(&p->lock);
}

/* ---------------------------------------------------------------- parameters */

static void c2_set_weight(struct scheduler *s, struct domain *d, u32 weight)
{
    c2d(d)->weight = weight;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        spinlock_t *l;
        if (!v)
            continue;
        l = sched_lock_vcpu(s, v);
        c2v(v)->weight = weight;
        c2_update_max_weight(c2v(v)->rq);
        spin_unlock(l);
    }
}

/* A cap, new or changed; the instance lock is held. */
static void c2_set_cap(struct scheduler *s, struct domain *d, u32 cap, s_time_t now)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_dom *sd = c2d(d);
    bool was_capped = sd->cap != 0;

    spin_lock(&sd->budget_lock);
    sd->tot_budget = C2_CAP_PERIOD * cap / 100;
    if (!was_capped) {
        sd->budget = sd->tot_budget;
        sd->next_repl = now + C2_CAP_PERIOD;
    }
    sd->cap = cap;
    spin_unlock(&sd->budget_lock);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        struct c2_vcpu *sv;
        spinlock_t *l;
        if (!v)
            continue;
        sv = c2v(v);
        l = sched_lock_vcpu(s, v);
        sv->budget_quota = c2_quota(sd);
        if (!was_capped) {
            /* Time run so far is not charged to the new budget. */
            if (c2_is_curr(s, v)) {
                c2_burn(sv, now);
                c2_tickle_cpu(s, sv->rq, v->processor);
            }
            sv->budget = 0;
        }
        spin_unlock(l);
    }
    if (!was_capped) {
        list_add_tail(&sd->capped_link, &p->capped);
        c2_rearm(s);
    }
}

static void c2_clear_cap(struct scheduler *s, struct domain *d, s_time_t now)
{
    struct c2_dom *sd = c2d(d);

    list_del(&sd->capped_link);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        spinlock_t *l;
        if (!v)
            continue;
        l = sched_lock_vcpu(s, v);
        c2v(v)->budget = C2_NO_CAP;
        c2v(v)->budget_quota = 0;
        spin_unlock(l);
    }
    spin_lock(&sd->budget_lock);
    sd->cap = 0;
    sd->budget = sd->tot_budget = 0;
    spin_unlock(&sd->budget_lock);
    c2_unpark_all(s, d, now);
    c2_rearm(s);
}

/* As Xen: weight 0 keeps the weight; cap 0 removes a cap; a cap beyond
 * 100% per vCPU is -EINVAL (checked before anything changes). */
static int c2_dom_params(struct scheduler *s, struct domain *d, struct sched_params *prm,
                         bool put, s_time_t now)
{
    struct c2_priv *p = c2_priv(s);
    struct c2_dom *sd = c2d(d);

    if (!put) {
        prm->weight = sd->weight;
        prm->cap = sd->cap;
        return 0;
    }
    if (prm->weight > 65535 || prm->cap > 100 * sd->nr_vcpus)
        return -XEN_EINVAL;
    spin_lock(&p->lock);
    if (prm->weight)
        c2_set_weight(s, d, prm->weight);
    if (prm->cap)
        c2_set_cap(s, d, prm->cap, now);
    else if (sd->cap)
        c2_clear_cap(s, d, now);
    spin_unlock(&p->lock);
    return 0;
}

static int c2_vcpu_params(struct scheduler *s, struct vcpu *v, struct sched_params *p, bool put,
                          s_time_t now)
{
    (void)s;
    (void)v;
    (void)p;
    (void)put;
    (void)now;
    return -XEN_EINVAL; /* credit2 has no per-vCPU parameters */
}

static int c2_global_params(struct scheduler *s, struct sched_global *g, bool put)
{
    struct c2_priv *p = c2_priv(s);

    if (put) {
        if (g->ratelimit_us && (g->ratelimit_us > XEN_SYSCTL_SCHED_RATELIMIT_MAX ||
                                g->ratelimit_us < XEN_SYSCTL_SCHED_RATELIMIT_MIN))
            return -XEN_EINVAL;
        WRITE_ONCE(p->ratelimit_us, g->ratelimit_us);
    }
    g->ratelimit_us = READ_ONCE(p->ratelimit_us);
    return 0;
}

/* ---------------------------------------------------------------- checks */

static bool c2_on_list(const struct list *head, const struct list *node)
{
    const struct list *l;

    list_for_each(l, head)
        if (l == node)
            return true;
    return false;
}

static enum sched_vstate c2_vcpu_state(struct scheduler *s, const struct vcpu *v, s_time_t now)
{
    const struct c2_vcpu *sv = c2v(v);
    const struct c2_rq *rq = sv->rq;
    bool queued = c2_on_runq(sv), curr = c2_priv(s)->cpu[v->processor].curr == v;

    (void)now;
    if (!rq || rq != c2_rq_of(s, v->processor) || !c2_on_list(&rq->vcpus, &sv->rq_link) ||
        sv->credit < C2_CREDIT_MIN || sv->credit > C2_CREDIT_MAX || !sv->weight ||
        sv->weight > rq->max_weight || (queued && !c2_on_list(&rq->runq, &sv->runq_link)))
        return SCHED_VS_BROKEN;
    /* The runqueue is in credit order around v. */
    if (queued) {
        const struct list *prev = sv->runq_link.prev, *next = sv->runq_link.next;
        if ((prev != &rq->runq &&
             list_entry(prev, struct c2_vcpu, runq_link)->credit < sv->credit) ||
            (next != &rq->runq && list_entry(next, struct c2_vcpu, runq_link)->credit > sv->credit))
            return SCHED_VS_BROKEN;
    }
    if (curr)
        return (sv->flags & C2_SCHEDULED) && !queued ? SCHED_VS_RUNNING : SCHED_VS_BROKEN;
    if (sv->flags & C2_SCHEDULED)
        return queued ? SCHED_VS_BROKEN : SCHED_VS_SAVING;
    if (sv->flags & C2_PARKED)
        return !queued && (sv->flags & C2_AWAKE) ? SCHED_VS_HELD : SCHED_VS_BROKEN;
    if (queued)
        return (sv->flags & C2_AWAKE) && (sv->flags & C2_LOADED) ? SCHED_VS_QUEUED
                                                                 : SCHED_VS_BROKEN;
    return (sv->flags & C2_AWAKE) ? SCHED_VS_BROKEN : SCHED_VS_ASLEEP;
}

const struct sched_policy sched_credit2_policy = {
    .name = "credit2",
    .opt_name = "credit2",
    .sched_id = XEN_SCHEDULER_CREDIT2,
    .priv_size = sizeof(struct c2_priv),
    .init = c2_init,
    .add_cpu = c2_add_cpu,
    .remove_cpu = c2_remove_cpu,
    .cpu_lock = c2_cpu_lock,
    .dom_init = c2_dom_init,
    .dom_destroy = c2_dom_destroy,
    .vcpu_insert = c2_vcpu_insert,
    .vcpu_remove = c2_vcpu_remove,
    .wake = c2_wake,
    .sleep = c2_sleep,
    .yield = c2_yield,
    .affinity = c2_affinity,
    .pick = c2_pick,
    .context_saved = c2_context_saved,
    .move = c2_move,
    .event = c2_event,
    .dom_params = c2_dom_params,
    .vcpu_params = c2_vcpu_params,
    .global_params = c2_global_params,
    .vcpu_state = c2_vcpu_state,
};
