/*
 * Soft timers: a callback at a system time, on a chosen CPU.  Each CPU keeps
 * its timers in deadline order; TIMER_SOFTIRQ runs the expired ones and
 * points the hardware timer at the next deadline.  Callbacks run in softirq
 * context with interrupts off and may set (or stop) timers, their own too.
 */
#ifndef KEEL_TIMER_H
#define KEEL_TIMER_H
#include <keel/time.h>

struct timer {
    s_time_t expires;
    void (*fn)(void *data);
    void *data;
    unsigned int cpu;
    bool queued;
    bool killed;  /* kill_timer: set_timer does nothing any more */
    struct timer *prev, *next; /* queue links, valid while queued */
};

/* The ordered queue itself: no locking, no hardware (host-testable). */
struct timer_queue {
    struct timer *head, *tail;
};

/* Timers with equal deadlines keep the order they were inserted in. */
void timerq_insert(struct timer_queue *q, struct timer *t);
void timerq_remove(struct timer_queue *q, struct timer *t); /* no-op if idle */
static inline struct timer *timerq_first(const struct timer_queue *q)
{
    return q->head;
}
/* Removes and returns the earliest timer due at `now`, or NULL. */
struct timer *timerq_pop_expired(struct timer_queue *q, s_time_t now);

#ifndef KEEL_HOST
void timer_init(void); /* once, on the BSP */
void init_timer(struct timer *t, void (*fn)(void *), void *data, unsigned int cpu);
void set_timer(struct timer *t, s_time_t expires);
void stop_timer(struct timer *t);
/* Stop it for good: set_timer is ignored from now on, even from its own
 * callback running on another CPU (used before the timer's memory goes). */
void kill_timer(struct timer *t);
/* Move a timer (queued or not) to another CPU. */
void migrate_timer(struct timer *t, unsigned int cpu);
bool timer_is_active(const struct timer *t);
#endif
#endif
