/*
 * The per-CPU timer queue: a doubly linked list in deadline order.  New
 * deadlines are usually the latest ones, so insertion walks from the tail;
 * removal of any timer and taking the earliest are O(1).
 */
#include <keel/console.h>
#include <keel/timer.h>

void timerq_insert(struct timer_queue *q, struct timer *t)
{
    struct timer *after = q->tail;

    BUG_ON(t->queued);
    while (after && after->expires > t->expires)
        after = after->prev;
    t->prev = after;
    t->next = after ? after->next : q->head;
    if (t->next)
        t->next->prev = t;
    else
        q->tail = t;
    if (after)
        after->next = t;
    else
        q->head = t;
    t->queued = true;
}

void timerq_remove(struct timer_queue *q, struct timer *t)
{
    if (!t->queued)
        return;
    if (t->prev)
        t->prev->next = t->next;
    else
        q->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        q->tail = t->prev;
    t->prev = t->next = NULL;
    t->queued = false;
}

struct timer *timerq_pop_expired(struct timer_queue *q, s_time_t now)
{
    struct timer *t = q->head;

    if (!t || t->expires > now)
        return NULL;
    timerq_remove(q, t);
    return t;
}
