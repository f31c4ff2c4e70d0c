/*
 * Grace periods: freeing what lockless readers may still hold.
 *
 * Some of Keel's readers use an object without a lock or a reference:
 * event-channel peer pointers taken under one lock and used after it,
 * vCPU kicks and timer callbacks from interrupt context, the scheduler's
 * vCPU pointers.  Such an object (a struct domain and its vCPUs, a frame
 * Keel writes into) is first unpublished — removed from every table and
 * list a reader could find it through — and then handed to call_rcu; its
 * callback runs only after every CPU has passed a quiescent point after
 * the hand-over.
 *
 * Quiescent points are the two places where a CPU holds nothing: the top
 * of the idle loop and the way back into a guest (pv_exit_work).  Each
 * bumps a per-CPU counter; a grace period snapshots the counters of the
 * online CPUs and ends when each has moved (an idle or busy CPU is kicked
 * with an event-check IPI, which always ends in one of the two places).
 * The CPU that sees the last counter move runs the callbacks, at its
 * quiescent point, with interrupts off: they may take irqsave locks, free
 * memory and queue further callbacks, but must not wait, nor keep a
 * pointer found without a reference past their return (the CPU counts
 * another quiescent point after them).  The machine is hv/common/rcu_gp.c.
 *
 * Rules for readers: a pointer found without a reference may be used until
 * the reader's CPU next reaches a quiescent point, never kept past it.
 */
#ifndef KEEL_RCU_H
#define KEEL_RCU_H
#include <keel/types.h>

struct rcu_head {
    struct rcu_head *next;
    void (*fn)(struct rcu_head *head);
};

/* Run fn(head) once every CPU has passed a quiescent point. */
void call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head));
/* The quiescent points call this (interrupts off). */
void rcu_quiescent(void);
/* Grace periods started and completed so far (tests and debugging). */
unsigned long rcu_completed(void);
#endif
