/*
 * The scheduler.  Keel never preempts itself: a CPU switches vCPUs only in
 * schedule(), which runs from SCHEDULE_SOFTIRQ at the two safe points (the
 * idle loop, and the way back into a guest).  A switch resets the CPU's
 * stack, so no Keel call chain survives it.
 *
 * The policy is behind struct sched_policy; round-robin with time slices is
 * the one policy today (hv/common/sched_rr.c).
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H
#include <keel/domain.h>

struct sched_policy {
    const char *name;
    /* Queue a runnable vCPU that is not running. */
    void (*enqueue)(unsigned cpu, struct vcpu *v);
    void (*dequeue)(unsigned cpu, struct vcpu *v);
    /* The next vCPU to run on `cpu`, removed from the queue, or NULL. */
    struct vcpu *(*pick_next)(unsigned cpu);
    /* Whether any vCPU waits in `cpu`'s queue (a slice is only needed then). */
    bool (*has_waiting)(unsigned cpu);
    s_time_t slice;
};

extern const struct sched_policy sched_rr_policy;

void scheduler_init(void);            /* once, before any vCPU exists */
void scheduler_start_cpu(unsigned cpu) __noreturn; /* each CPU, last step */
void sched_add_vcpu(struct vcpu *v, unsigned cpu);
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

/* arch: switch this CPU from prev to next; does not return. */
__noreturn void context_switch(struct vcpu *prev, struct vcpu *next);
__noreturn void idle_loop(void);
#endif
