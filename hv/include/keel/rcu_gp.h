/*
 * The grace-period machine behind call_rcu (keel/rcu.h), apart from the
 * CPU it runs on so that the host can test it: the caller names its CPU
 * and the online CPUs, and gives the function that kicks CPUs a new grace
 * period waits for.
 */
#ifndef KEEL_RCU_GP_H
#define KEEL_RCU_GP_H
#include <keel/rcu.h>
#include <keel/spinlock.h>
#include <keel/types.h>

#define RCU_MAX_CPUS 64 /* one bit each in a u64 mask */

struct rcu_gp {
    spinlock_t lock;
    struct rcu_head *next, **next_tail; /* waiting for a grace period */
    struct rcu_head *cur;               /* waiting for the running one */
    bool active;
    u64 waiting;                        /* CPUs yet to pass */
    u64 snap[RCU_MAX_CPUS];
    unsigned long completed;
    /* Written on every guest entry: one cache line per CPU. */
    struct {
        u64 n;
    } __attribute__((aligned(64))) count[RCU_MAX_CPUS];
    /* Makes each CPU in `cpus` reach a quiescent point soon (never the
     * caller's own CPU). */
    void (*kick)(u64 cpus);
};

#define RCU_GP_INIT(g, kick_fn) {.lock = SPINLOCK_INIT, .next_tail = &(g).next, .kick = (kick_fn)}

/* Queue head; starts a grace period if none runs.  Interrupts off or not. */
void rcu_gp_call(struct rcu_gp *g, unsigned int me, u64 online, struct rcu_head *head,
                 void (*fn)(struct rcu_head *head));
/* CPU `me` is at a quiescent point (interrupts off): counts it, ends the
 * grace period if it was the last one waited for, runs what that ended. */
void rcu_gp_quiescent(struct rcu_gp *g, unsigned int me, u64 online);
#endif
