/*
 * Round-robin: one FIFO queue per CPU and fixed time slices.  A vCPU stays
 * on its CPU; only a change of hard affinity moves it (move()).  A slice is
 * only needed while someone waits: a vCPU running alone has none until a
 * second one wakes on its CPU.
 */
#include <keel/sched_policy.h>

#define RR_SLICE MILLISECS(10)

struct rr_vcpu {
    struct list link; /* on its CPU's queue */
    bool awake;
    bool yield;
};
SCHED_CHECK_VCPU_PRIV(struct rr_vcpu);

struct rr_cpu {
    spinlock_t lock;
    struct list queue;
    unsigned int nr_queued;
    struct vcpu *curr;
    s_time_t slice_end; /* STIME_MAX: no one waits, no slice */
};

struct rr_priv {
    struct rr_cpu cpu[SCHED_MAX_CPUS];
};

static struct rr_priv *rr_priv(const struct scheduler *s)
{
    return s->priv;
}

static struct rr_vcpu *rr_vcpu(const struct vcpu *v)
{
    return SCHED_VCPU_PRIV(v, struct rr_vcpu);
}

static void rr_init(struct scheduler *s)
{
    for (unsigned int i = 0; i < SCHED_MAX_CPUS; i++) {
        struct rr_cpu *c = &rr_priv(s)->cpu[i];
        c->lock = (spinlock_t)SPINLOCK_INIT;
        list_init(&c->queue);
        c->slice_end = STIME_MAX;
    }
}

static void rr_cpu_nop(struct scheduler *s, unsigned int cpu)
{
    (void)s;
    (void)cpu;
}

static spinlock_t *rr_cpu_lock(struct scheduler *s, unsigned int cpu)
{
    return &rr_priv(s)->cpu[cpu].lock;
}

static void rr_dom_nop(struct scheduler *s, struct domain *d)
{
    (void)s;
    (void)d;
}

static void rr_enqueue(struct rr_cpu *c, struct vcpu *v)
{
    list_add_tail(&rr_vcpu(v)->link, &c->queue);
    c->nr_queued++;
}

static void rr_dequeue(struct rr_cpu *c, struct vcpu *v)
{
    list_del(&rr_vcpu(v)->link);
    c->nr_queued--;
}

static bool rr_queued(const struct vcpu *v)
{
    return !list_empty(&rr_vcpu(v)->link);
}

/* The CPU of `allowed` with the shortest queue, `prefer` on a tie. */
static unsigned int rr_least_loaded(struct rr_priv *p, sched_mask_t allowed, unsigned int prefer)
{
    unsigned int best = sched_mask_test_or_cycle(prefer, allowed);

    for (unsigned int i = 0; i < SCHED_MAX_CPUS; i++)
        if (sched_mask_test(allowed, i) &&
            READ_ONCE(p->cpu[i].nr_queued) < READ_ONCE(p->cpu[best].nr_queued))
            best = i;
    return best;
}

/* Where v should live: its CPU if allowed (and preferred, when it has a
 * soft affinity), else the least loaded allowed CPU. */
static unsigned int rr_place(struct scheduler *s, const struct vcpu *v)
{
    sched_mask_t hard = sched_hard(s, v), soft = sched_soft(s, v);

    if (soft)
        return sched_mask_test(soft, v->processor)
                   ? v->processor : rr_least_loaded(rr_priv(s), soft, v->processor);
    return sched_mask_test(hard, v->processor)
               ? v->processor : rr_least_loaded(rr_priv(s), hard, v->processor);
}

static void rr_vcpu_insert(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rr_vcpu *rv = rr_vcpu(v);

    (void)now;
    memset(rv, 0, sizeof(*rv));
    list_init(&rv->link);
    /* Not visible to anyone yet: no lock needed to place it. */
    v->processor = rr_place(s, v);
}

static void rr_vcpu_remove(struct scheduler *s, struct vcpu *v)
{
    (void)s;
    (void)v;
}

static void rr_wake(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rr_cpu *c = &rr_priv(s)->cpu[v->processor];
    struct rr_vcpu *rv = rr_vcpu(v);

    rv->awake = true;
    if (c->curr == v || rr_queued(v))
        return;
    rr_enqueue(c, v);
    /* An idle CPU should notice at once; a busy one needs a slice now
     * that someone waits (pick tells the framework when it ends). */
    if (!c->curr)
        s->tickle(s, v->processor);
    else if (c->slice_end == STIME_MAX) {
        c->slice_end = now + RR_SLICE;
        s->tickle(s, v->processor);
    }
}

static void rr_sleep(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    struct rr_cpu *c = &rr_priv(s)->cpu[v->processor];

    (void)now;
    rr_vcpu(v)->awake = false;
    if (rr_queued(v))
        rr_dequeue(c, v);
    if (c->curr == v)
        s->tickle(s, v->processor);
}

static void rr_affinity(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    (void)s;
    (void)v;
    (void)now; /* queues are per CPU: only a move changes anything */
}

static void rr_yield(struct scheduler *s, struct vcpu *v)
{
    (void)s;
    rr_vcpu(v)->yield = true;
}

static struct sched_pick rr_pick(struct scheduler *s, unsigned int cpu, s_time_t now)
{
    struct rr_cpu *c = &rr_priv(s)->cpu[cpu];
    struct vcpu *prev = c->curr, *next;
    bool keep = prev && rr_vcpu(prev)->awake && !rr_vcpu(prev)->yield &&
                (list_empty(&c->queue) || now < c->slice_end);

    if (prev)
        rr_vcpu(prev)->yield = false;
    if (keep) {
        next = prev;
        if (list_empty(&c->queue)) /* whoever waited has gone */
            c->slice_end = STIME_MAX;
    } else {
        /* Queued behind everyone else: per-CPU queues, so no other CPU
         * can take it before this one has switched away from it. */
        if (prev && rr_vcpu(prev)->awake)
            rr_enqueue(c, prev);
        next = list_empty(&c->queue)
                   ? NULL : SCHED_PRIV_VCPU(list_entry(c->queue.next, struct rr_vcpu, link));
        if (next)
            rr_dequeue(c, next);
        c->slice_end = next && !list_empty(&c->queue) ? now + RR_SLICE : STIME_MAX;
    }
    c->curr = next;
    return (struct sched_pick){next, next ? c->slice_end : STIME_MAX};
}

static void rr_context_saved(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    (void)s;
    (void)v;
    (void)now;
}

/* Lock two CPUs' locks in address order (once if they are the same). */
static void rr_lock_pair(spinlock_t *a, spinlock_t *b)
{
    if (a == b) {
        spin_lock(a);
        return;
    }
    spin_lock(a < b ? a : b);
    spin_lock(a < b ? b : a);
}

static void rr_unlock_pair(spinlock_t *a, spinlock_t *b)
{
    spin_unlock(a);
    if (a != b)
        spin_unlock(b);
}

static void rr_move(struct scheduler *s, struct vcpu *v, s_time_t now)
{
    unsigned int old = v->processor, cpu = rr_place(s, v);
    spinlock_t *lo = rr_cpu_lock(s, old), *ln = rr_cpu_lock(s, cpu);

    (void)now;
    /* Asleep and saved: on no queue, so only v->processor changes. */
    rr_lock_pair(lo, ln);
    v->processor = cpu;
    rr_unlock_pair(lo, ln);
}

static void rr_event(struct scheduler *s, s_time_t now)
{
    (void)s;
    (void)now;
}

static int rr_dom_params(struct scheduler *s, struct domain *d, struct sched_params *p, bool put,
                         s_time_t now)
{
    (void)s;
    (void)d;
    (void)p;
    (void)put;
    (void)now;
    return -XEN_EINVAL;
}

static int rr_vcpu_params(struct scheduler *s, struct vcpu *v, struct sched_params *p, bool put,
                          s_time_t now)
{
    (void)s;
    (void)v;
    (void)p;
    (void)put;
    (void)now;
    return -XEN_EINVAL;
}

static int rr_global_params(struct scheduler *s, struct sched_global *g, bool put)
{
    (void)s;
    (void)g;
    (void)put;
    return 0;
}

static enum sched_vstate rr_vcpu_state(struct scheduler *s, const struct vcpu *v, s_time_t now)
{
    struct rr_cpu *c = &rr_priv(s)->cpu[v->processor];
    const struct rr_vcpu *rv = rr_vcpu(v);
    const struct list *l;
    unsigned int n = 0, found = 0;

    (void)now;
    list_for_each(l, &c->queue) {
        n++;
        found += l == &rv->link;
    }
    if (n != c->nr_queued || found > 1 || (found && (c->curr == v || !rv->awake)) ||
        (rr_queued(v) && !found))
        return SCHED_VS_BROKEN;
    if (c->curr == v)
        return SCHED_VS_RUNNING;
    return found ? SCHED_VS_QUEUED : SCHED_VS_ASLEEP;
}

const struct sched_policy sched_rr_policy = {
    .name = "round-robin",
    .opt_name = "rr",
    .sched_id = 0,
    .priv_size = sizeof(struct rr_priv),
    .init = rr_init,
    .add_cpu = rr_cpu_nop,
    .remove_cpu = rr_cpu_nop,
    .cpu_lock = rr_cpu_lock,
    .dom_init = rr_dom_nop,
    .dom_destroy = rr_dom_nop,
    .vcpu_insert = rr_vcpu_insert,
    .vcpu_remove = rr_vcpu_remove,
    .wake = rr_wake,
    .sleep = rr_sleep,
    .yield = rr_yield,
    .affinity = rr_affinity,
    .pick = rr_pick,
    .context_saved = rr_context_saved,
    .move = rr_move,
    .event = rr_event,
    .dom_params = rr_dom_params,
    .vcpu_params = rr_vcpu_params,
    .global_params = rr_global_params,
    .vcpu_state = rr_vcpu_state,
};
