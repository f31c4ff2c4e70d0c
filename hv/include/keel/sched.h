/*
 * The scheduler.  Keel never preempts itself: a CPU switches vCPUs only in
 * schedule(), which runs from SCHEDULE_SOFTIRQ at the two safe points (the
 * idle loop, and the way back into a guest).  A switch resets the CPU's
 * stack, so no Keel call chain survives it.
 *
 * Which vCPU runs where and for how long is a policy's decision, behind
 * keel/sched_policy.h: round-robin (the default), credit2 or RTDS, chosen
 * with sched= as on Xen.  docs/sched.md has the design and the lock rules.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H
#include <keel/domain.h>

struct sched_params;
struct sched_global;

void scheduler_init(void);            /* once, on the BSP, before any vCPU exists */
void scheduler_cpu_up(unsigned cpu);  /* each CPU joins the CPU pool, before it is online */
void scheduler_start_cpu(unsigned cpu) __noreturn; /* each CPU, last step */
void sched_add_vcpu(struct vcpu *v, unsigned cpu);
/* Before d is freed, its vCPUs down or dead and off every CPU. */
void sched_destroy_domain(struct domain *d);
bool vcpu_runnable(const struct vcpu *v);
void vcpu_wake(struct vcpu *v);   /* maybe runnable now */
void vcpu_sleep(struct vcpu *v);  /* maybe not runnable any more */
void vcpu_yield(void);
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
 * sched_context_saved(prev) once prev's registers are in memory. */
__noreturn void context_switch(struct vcpu *prev, struct vcpu *next);
void sched_context_saved(struct vcpu *prev);

/* xl vcpu-pin: new affinity masks; a vCPU whose CPU is no longer allowed
 * leaves it and moves (as on Xen, this never fails). */
void vcpu_set_affinity(struct vcpu *v, u64 hard, u64 soft);

/* For the domctl/sysctl scheduler_op layer: the policy's XEN_SCHEDULER_*
 * (0: round-robin, which has no parameters), and parameter workers that
 * return 0 or -XEN_E* (semantics in keel/sched_policy.h, docs/sched.md). */
unsigned int sched_id(void);
int sched_adjust_dom(struct domain *d, struct sched_params *p, bool put);
int sched_adjust_vcpu(struct vcpu *v, struct sched_params *p, bool put);
int sched_adjust_global(struct sched_global *g, bool put);
__noreturn void idle_loop(void);
#endif
