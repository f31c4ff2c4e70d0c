/*
 * The scheduler.  Keel never preempts itself: a CPU switches vCPUs only in
 * schedule(), which runs from SCHEDULE_SOFTIRQ at the two safe points (the
 * idle loop, and the way back into a guest).  A switch resets the CPU's
 * stack, so no Keel call chain survives it.
 *
 * The policy is behind struct sched_policy; round-robin with time slices is
 * the one policy today (hv/common/sched_rr.c).  The toolstack sees credit2
 * (sysctl sched_id) and may store weight and cap per domain; they do not
 * change the round-robin decisions yet.
 *
 * Locking rules (the one place they are written down):
 *  - Each CPU has a scheduler lock guarding its run queue, its current
 *    vCPU and, for every vCPU placed on it, on_runqueue, is_running and the
 *    runstate.  Taken with interrupts off (timer callbacks wake vCPUs).
 *  - v->processor names the CPU whose lock guards v.  It changes only in
 *    sched_move_vcpu, with both CPUs' locks held and v off every CPU and
 *    queue.  Code that needs v's lock uses vcpu_schedule_lock, which reads
 *    v->processor, locks that CPU and checks it again.  A bare read of
 *    v->processor (vcpu_kick's IPI) is only a hint and must stay harmless
 *    when stale.
 *  - A vCPU's timers live on v->processor and move with it (migrate_timer
 *    takes both CPUs' timer locks).  Scheduler locks nest outside timer
 *    locks, never the other way round.
 *  - is_running goes false in schedule() under the lock, before the old
 *    vCPU's registers are saved; ctx_saved goes true once they are, after
 *    the CPU stopped using its page tables.  vcpu_sleep_sync waits for
 *    both: only then may another CPU read or change the saved state, move
 *    the vCPU, or release its page tables.
 *  - pause_count and pause_flags are changed atomically by anyone;
 *    whoever makes a vCPU runnable or not calls vcpu_wake / vcpu_sleep.
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
/* Place a new vCPU on `cpu`, or on the least loaded CPU when cpu < 0. */
void sched_add_vcpu(struct vcpu *v, int cpu);
/* A vCPU about to be freed (off every CPU and queue). */
void sched_remove_vcpu(struct vcpu *v);
bool vcpu_runnable(const struct vcpu *v);
void vcpu_wake(struct vcpu *v);   /* maybe runnable now */
void vcpu_sleep(struct vcpu *v);  /* maybe not runnable any more */
/* vcpu_sleep, then wait until v is off its CPU with its state saved
 * (v must not be runnable, and must not be the caller). */
void vcpu_sleep_sync(struct vcpu *v);
void vcpu_yield(void);
/* The lock of the CPU v is placed on (returned; pass it back to unlock). */
unsigned int vcpu_schedule_lock(struct vcpu *v, unsigned long *flags);
void vcpu_schedule_unlock(unsigned int cpu, unsigned long flags);
/* Move a paused, saved vCPU to `cpu`: 0, -XEN_EINVAL (no such CPU) or
 * -XEN_EBUSY (it is running or queued). */
int sched_move_vcpu(struct vcpu *v, unsigned int cpu);
/* v's runstate as of now (cpu_time for getdomaininfo). */
void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *out);
/* context_switch: prev's state is saved and its tables are no longer used. */
void context_saved(struct vcpu *prev);
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
