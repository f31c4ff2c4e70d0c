/*
 * Scheduling policies behind one interface.  A policy (round-robin, credit2,
 * RTDS) decides which vCPU runs where and for how long; the framework (the
 * hypervisor's sched.c, or the host simulator in tests/unit/sim_sched.c)
 * switches CPUs, keeps runstates, arms timers and owns the locks.  Policies
 * never call the hardware, the timer code or the allocator, so they build
 * and run on the host.  docs/sched.md has the design; the contract is here.
 *
 * Instances.  A `struct scheduler` is one instance of a policy: the CPUs of
 * one CPU pool.  Its state (policy->priv_size bytes, zeroed by whoever
 * allocates it) holds the policy's per-CPU and per-runqueue data.  A vCPU's
 * and a domain's policy state live in v->sched.priv and d->sched.priv.
 * The idle vCPU is never shown to a policy: "nothing" (NULL) is idle.
 *
 * Locks.  policy->cpu_lock(s, cpu) names the lock that covers `cpu` (a
 * per-CPU lock for round-robin, the runqueue's for credit2, the instance's
 * for RTDS).  v->processor is protected by the lock of the CPU it names:
 * it is written only by the policy, holding the locks of both the old and
 * the new CPU; readers lock, then re-check (sched_lock_vcpu).
 *  - LOCKED hooks (wake, sleep, yield, pick) are called with the lock of
 *    v->processor (for pick: of `cpu`) held and interrupts off.  They may
 *    take another CPU's lock only with spin_trylock.
 *  - UNLOCKED hooks (everything else) are called with interrupts off and
 *    no scheduler lock held (the caller may hold a domain's lock: domain
 *    locks come before scheduler locks); the policy takes what it needs.
 *
 * Life of a vCPU.  vcpu_insert (asleep; the policy sets v->processor),
 * then any sequence of wake/sleep/yield/affinity, picks that run it,
 * context_saved after it left a CPU, move when its hard affinity no longer
 * allows its CPU; finally vcpu_remove (asleep and saved).  wake and sleep may repeat: the policy
 * keeps its own "awake" state from them.
 *
 * Switching.  pick(cpu) says what runs on `cpu` next and until when (the
 * framework calls pick again then; STIME_MAX: only when tickled).  When the
 * answer differs from the vCPU that ran, the framework switches and, once
 * the old vCPU's registers are saved, calls context_saved(old); until then
 * no CPU may pick the old vCPU, so policies keep it "scheduled".
 */
#ifndef KEEL_SCHED_POLICY_H
#define KEEL_SCHED_POLICY_H
#include <keel/domain.h>
#include <keel/list.h>
#include <keel/sched_types.h>
#include <keel/spinlock.h>
#include <keel/time.h>

/* What a policy says about one of its vCPUs, checking its own invariants
 * on the way (host tests and fuzzing; LOCKED). */
enum sched_vstate {
    SCHED_VS_BROKEN = -1, /* an internal invariant does not hold */
    SCHED_VS_ASLEEP,      /* not runnable as far as the policy knows */
    SCHED_VS_QUEUED,      /* runnable, waiting on a runqueue */
    SCHED_VS_HELD,        /* runnable, held back until budget comes (caps, RTDS) */
    SCHED_VS_RUNNING,     /* what pick last chose for v->processor */
    SCHED_VS_SAVING,      /* switched off a CPU, context not saved yet */
};

struct sched_pick {
    struct vcpu *next; /* NULL: idle */
    s_time_t until;    /* pick again at this time; STIME_MAX: when tickled */
};

struct sched_policy {
    const char *name;     /* for the boot log */
    const char *opt_name; /* the value of sched= */
    unsigned int sched_id; /* XEN_SCHEDULER_*, 0 for round-robin */
    size_t priv_size;     /* bytes of struct scheduler.priv */

    /* UNLOCKED.  The instance and its CPUs. */
    void (*init)(struct scheduler *s);
    void (*add_cpu)(struct scheduler *s, unsigned int cpu);
    /* The CPU has left s->cpus; it runs nothing of this instance and no
     * vCPU names it. */
    void (*remove_cpu)(struct scheduler *s, unsigned int cpu);
    spinlock_t *(*cpu_lock)(struct scheduler *s, unsigned int cpu);

    /* UNLOCKED.  Domains and vCPUs joining and leaving the instance. */
    void (*dom_init)(struct scheduler *s, struct domain *d);
    void (*dom_destroy)(struct scheduler *s, struct domain *d);
    void (*vcpu_insert)(struct scheduler *s, struct vcpu *v, s_time_t now);
    void (*vcpu_remove)(struct scheduler *s, struct vcpu *v);

    /* LOCKED.  v became runnable / stopped being runnable / yields. */
    void (*wake)(struct scheduler *s, struct vcpu *v, s_time_t now);
    void (*sleep)(struct scheduler *s, struct vcpu *v, s_time_t now);
    void (*yield)(struct scheduler *s, struct vcpu *v);
    /* LOCKED.  v's affinity masks just changed (if its CPU is no longer
     * allowed, sleep and move follow). */
    void (*affinity)(struct scheduler *s, struct vcpu *v, s_time_t now);
    /* LOCKED.  What runs on `cpu` from `now`. */
    struct sched_pick (*pick)(struct scheduler *s, unsigned int cpu, s_time_t now);

    /* UNLOCKED.  v's registers are saved: it may run elsewhere now. */
    void (*context_saved)(struct scheduler *s, struct vcpu *v, s_time_t now);
    /* UNLOCKED.  v (asleep, saved) must go to a CPU of its hard affinity. */
    void (*move)(struct scheduler *s, struct vcpu *v, s_time_t now);
    /* UNLOCKED.  The time s->arm asked for has come. */
    void (*event)(struct scheduler *s, s_time_t now);

    /* UNLOCKED.  Parameters: get (put == false) or set.  0 or -XEN_E*. */
    int (*dom_params)(struct scheduler *s, struct domain *d, struct sched_params *p,
                      bool put, s_time_t now);
    int (*vcpu_params)(struct scheduler *s, struct vcpu *v, struct sched_params *p,
                       bool put, s_time_t now);
    int (*global_params)(struct scheduler *s, struct sched_global *g, bool put);

    /* LOCKED.  For tests: v's state; SCHED_VS_BROKEN if v's data (its
     * queue links, neighbours' order, credit or budget bounds) is wrong. */
    enum sched_vstate (*vcpu_state)(struct scheduler *s, const struct vcpu *v, s_time_t now);
};

struct scheduler {
    const struct sched_policy *policy;
    void *priv;         /* policy->priv_size bytes */
    sched_mask_t cpus;  /* the CPUs this instance schedules */
    /* Supplied by the framework; both may be called under any lock. */
    void (*tickle)(struct scheduler *s, unsigned int cpu); /* pick on cpu soon */
    void (*arm)(struct scheduler *s, s_time_t when);       /* event() at `when` */
    void *owner;        /* the framework's */
};

extern const struct sched_policy sched_rr_policy;
extern const struct sched_policy sched_credit2_policy;
extern const struct sched_policy sched_rtds_policy;

/* Boot option credit2_runqueue=cpu: one runqueue per CPU (set before init). */
extern bool sched_credit2_runq_per_cpu;
/* RTDS, for tests and diagnostics: deadlines reached by an admitted,
 * runnable vCPU still owed budget; whether v holds a reservation. */
unsigned long sched_rtds_misses(const struct scheduler *s);
bool sched_rtds_admitted(const struct vcpu *v);

/* ------------------------------------------------------------ helpers */

static inline bool sched_mask_test(sched_mask_t m, unsigned int cpu)
{
    return cpu < SCHED_MAX_CPUS && ((m >> cpu) & 1);
}

static inline unsigned int sched_mask_weight(sched_mask_t m)
{
    return (unsigned int)__builtin_popcountll(m);
}

/* The lowest CPU in m; SCHED_MAX_CPUS if none. */
static inline unsigned int sched_mask_first(sched_mask_t m)
{
    return m ? (unsigned int)__builtin_ctzll(m) : SCHED_MAX_CPUS;
}

/* The next CPU in m after `cpu`, wrapping round; SCHED_MAX_CPUS if none. */
static inline unsigned int sched_mask_cycle(unsigned int cpu, sched_mask_t m)
{
    sched_mask_t above = cpu + 1 >= SCHED_MAX_CPUS ? 0 : m & (SCHED_MASK_ALL << (cpu + 1));
    return sched_mask_first(above ? above : m);
}

/* `cpu` itself if it is in m, else the next one. */
static inline unsigned int sched_mask_test_or_cycle(unsigned int cpu, sched_mask_t m)
{
    return sched_mask_test(m, cpu) ? cpu : sched_mask_cycle(cpu, m);
}

/* Where v may run in this instance.  Never empty: a hard affinity that
 * misses the pool entirely counts as "anywhere in the pool", as with Xen. */
static inline sched_mask_t sched_hard(const struct scheduler *s, const struct vcpu *v)
{
    sched_mask_t m = v->affinity_hard & s->cpus;
    return m ? m : s->cpus;
}

/* Where v would rather run; 0 when that says nothing more than sched_hard. */
static inline sched_mask_t sched_soft(const struct scheduler *s, const struct vcpu *v)
{
    sched_mask_t h = sched_hard(s, v), m = v->affinity_soft & h;
    return m == h ? 0 : m;
}

/* Lock the CPU v->processor names, re-checking that it still does. */
static inline spinlock_t *sched_lock_vcpu(struct scheduler *s, const struct vcpu *v)
{
    for (;;) {
        unsigned int cpu = READ_ONCE(v->processor);
        spinlock_t *l = s->policy->cpu_lock(s, cpu);
        spin_lock(l);
        if (cpu == READ_ONCE(v->processor) && l == s->policy->cpu_lock(s, cpu))
            return l;
        spin_unlock(l);
    }
}

/* The policy's state of a vCPU / domain, and back. */
#define SCHED_VCPU_PRIV(v, type) ((type *)(void *)(v)->sched.priv)
#define SCHED_DOM_PRIV(d, type) ((type *)(void *)(d)->sched.priv)
#define SCHED_PRIV_VCPU(p) container_of((void *)(p), struct vcpu, sched.priv)
#define SCHED_CHECK_VCPU_PRIV(type)                                            \
    BUILD_BUG_ON(sizeof(type) > sizeof(((struct vcpu *)0)->sched.priv))
#define SCHED_CHECK_DOM_PRIV(type)                                             \
    BUILD_BUG_ON(sizeof(type) > sizeof(((struct domain *)0)->sched.priv))

#endif
