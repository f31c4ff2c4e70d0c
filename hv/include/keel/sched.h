/*
 * The scheduler.  Keel never preempts itself: a CPU switches vCPUs only in
 * schedule(), which runs from SCHEDULE_SOFTIRQ at the two safe points (the
 * idle loop, and the way back into a guest).  A switch resets the CPU's
 * stack, so no Keel call chain survives it.
 *
 * Which vCPU runs where and for how long is a policy's decision, behind
 * keel/sched_policy.h: round-robin (the default), credit2 or RTDS, chosen
 * with sched= as on Xen (docs/sched.md).  Under round-robin
 * the toolstack sees credit2 (sysctl sched_id) and may store weight and cap;
 * they change nothing.
 *
 * Locking rules (the one place they are written down; docs/sched.md has
 * the reasons):
 *  - The policy names the lock of each CPU (per CPU for round-robin, per
 *    runqueue for credit2, one for RTDS).  It guards what runs on that CPU,
 *    the policy's queues and, for every vCPU placed on it, is_running,
 *    ctx_saved and the runstate.  Taken with interrupts off (timer
 *    callbacks wake vCPUs).
 *  - v->processor names the CPU whose lock guards v.  Only the policy
 *    changes it, holding the locks of both the old and the new CPU.  Code
 *    that needs v's lock uses vcpu_schedule_lock, which reads v->processor,
 *    locks, and checks again.  A bare read of v->processor (vcpu_kick's
 *    IPI) is only a hint and must stay harmless when stale.
 *  - A vCPU's timers live on the CPU it last ran on: schedule() moves them
 *    when it switches a vCPU in elsewhere (migrate_timer takes both CPUs'
 *    timer locks).  Order: domain locks, scheduler locks, timer locks.
 *  - is_running goes true when schedule() picks a vCPU and false, with
 *    ctx_saved true, in context_saved() once the old vCPU's registers are
 *    saved and the CPU stopped using its page tables; until then no CPU
 *    may pick it.  vcpu_sleep_sync waits for that: only then may another
 *    CPU read or change the saved state, move the vCPU, or release its
 *    page tables.
 *  - CPU pools: each CPU names its pool's instance (or none: free, covered
 *    by its own lock).  Whoever changes that holds the lock the old value
 *    names, with the CPU idle; lock_cpu re-checks after locking.  A domain
 *    changes instance only while paused, its vCPUs saved and out of the
 *    old one (sched_inserted cleared under their lock: wake/sleep/yield
 *    re-check it).  Order: sysctl lock, cpupool_lock (brief), then the
 *    rest as above.
 *  - pause_count and pause_flags are changed atomically by anyone;
 *    whoever makes a vCPU runnable or not calls vcpu_wake / vcpu_sleep.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H
#include <keel/domain.h>

struct sched_params;
struct sched_global;

void scheduler_init(void);            /* once, on the BSP, before any vCPU exists */
void scheduler_cpu_up(unsigned cpu);  /* each CPU joins the CPU pool, before it is online */
void scheduler_start_cpu(unsigned cpu) __noreturn; /* each CPU, last step */
/* A new vCPU, placed on `cpu` (or, when cpu < 0, the CPU with the fewest
 * vCPUs) unless its policy places it elsewhere. */
void sched_add_vcpu(struct vcpu *v, int cpu);
/* A vCPU about to be freed (off every CPU, not runnable). */
void sched_remove_vcpu(struct vcpu *v);
/* A domain about to be freed, after its vCPUs were removed. */
void sched_destroy_domain(struct domain *d);
bool vcpu_runnable(const struct vcpu *v);
void vcpu_wake(struct vcpu *v);   /* maybe runnable now */
void vcpu_sleep(struct vcpu *v);  /* maybe not runnable any more */
/* vcpu_sleep, then wait until v is off its CPU with its state saved
 * (v must not be runnable, and must not be the caller). */
void vcpu_sleep_sync(struct vcpu *v);
void vcpu_yield(void);
/* The lock of the CPU v is placed on (returned; pass it back to unlock). */
spinlock_t *vcpu_schedule_lock(struct vcpu *v, unsigned long *flags);
void vcpu_schedule_unlock(spinlock_t *l, unsigned long flags);
/* Move a paused, saved vCPU (its hard affinity already changed) to a CPU
 * its policy allows, `cpu` when it can: 0, -XEN_EINVAL (no such CPU) or
 * -XEN_EBUSY (it is running or runnable). */
int sched_move_vcpu(struct vcpu *v, unsigned int cpu);
/* xl vcpu-pin: new affinity masks, the policy told; a vCPU whose CPU is no
 * longer allowed leaves it and moves (as on Xen, this never fails). */
void vcpu_set_affinity(struct vcpu *v, u64 hard, u64 soft);
/* v's runstate as of now (cpu_time for getdomaininfo). */
void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out);
/* context_switch: prev's state is saved and its tables are no longer used. */
void context_saved(struct vcpu *prev);

/* For the domctl/sysctl scheduler_op layer: the policy's XEN_SCHEDULER_*
 * (0: round-robin, which has no parameters) of pool 0 (sysctl sched_id),
 * of d's pool, of pool `poolid` (-XEN_ESRCH: none), and parameter workers
 * that return 0 or -XEN_E* (semantics in keel/sched_policy.h,
 * docs/sched.md). */
unsigned int sched_id(void);
unsigned int sched_dom_id(const struct domain *d);
int sched_pool_id(u32 poolid, unsigned int *id);
/* The CPUs of d's pool (what setvcpuaffinity checks masks against). */
u64 sched_dom_cpus(const struct domain *d);
int sched_adjust_dom(struct domain *d, struct sched_params *p, bool put);
int sched_adjust_vcpu(struct vcpu *v, struct sched_params *p, bool put);
int sched_adjust_global(u32 poolid, struct sched_global *g, bool put);

/* CPU pools (XEN_SYSCTL_cpupool_op; rules and codes in keel/cpupool.h).
 * Called by sysctl, one at a time.  rmcpu answers -XEN_EAGAIN while a
 * vCPU of the pool is still on the CPU (libxc retries); move_domain
 * pauses d (not the caller's own domain) and resets its affinities. */
struct sched_cpupool_info {
    u32 id, sched_id, n_dom; /* sched_id: the policy's (0: round-robin) */
    u64 cpus;
};
int sched_cpupool_create(u32 want, u32 sched_id, u32 *id_out);
int sched_cpupool_destroy(u32 id);
int sched_cpupool_info(u32 want, struct sched_cpupool_info *out); /* first id >= want */
u64 sched_cpupool_free_cpus(void);
int sched_cpupool_addcpu(u32 id, u32 cpu);
int sched_cpupool_rmcpu(u32 id, u32 cpu);
int sched_cpupool_move_domain(struct domain *d, u32 id);
/* createdomain's pool: 0, -XEN_ESRCH (none), -XEN_ENODEV (no CPU). */
int sched_cpupool_check(u32 id);

#ifdef KEEL_HOST
struct vcpu *current_vcpu(void);
#else
#include <asm/percpu.h>
/* schedule() keeps this copy in step with its own: reading it is a few
 * instructions, and every hypercall and exit asks for it several times. */
static inline struct vcpu *current_vcpu(void)
{
    return get_cpu_info()->current_vcpu;
}
#endif
#define current (current_vcpu())

/* Set/clear a pause flag and tell the scheduler. */
void vcpu_block(struct vcpu *v);  /* VPF_blocked unless events pending */
void vcpu_unblock(struct vcpu *v);

/* arch: switch this CPU from prev to next; does not return.  It calls
 * context_saved(prev) once prev's registers are saved and its page
 * tables unused. */
__noreturn void context_switch(struct vcpu *prev, struct vcpu *next);
__noreturn void idle_loop(void);
#endif
