/*
 * Round-robin policy: one FIFO run queue per CPU, fixed time slice.
 * Callers hold the CPU's scheduler lock.
 */
#include <keel/sched.h>

struct rr_queue {
    struct vcpu *head, *tail;
};

static struct rr_queue queues[NR_CPUS_SCHED];

static void rr_enqueue(unsigned cpu, struct vcpu *v)
{
    struct rr_queue *q = &queues[cpu];

    if (v->on_runqueue)
        return;
    v->rq_next = NULL;
    if (q->tail)
        q->tail->rq_next = v;
    else
        q->head = v;
    q->tail = v;
    v->on_runqueue = true;
}

static void rr_dequeue(unsigned cpu, struct vcpu *v)
{
    struct rr_queue *q = &queues[cpu];
    struct vcpu **pp = &q->head, *prev = NULL;

    if (!v->on_runqueue)
        return;
    while (*pp && *pp != v) {
        prev = *pp;
        pp = &(*pp)->rq_next;
    }
    if (*pp) {
        *pp = v->rq_next;
        if (q->tail == v)
            q->tail = prev;
    }
    v->rq_next = NULL;
    v->on_runqueue = false;
}

static struct vcpu *rr_pick_next(unsigned cpu)
{
    struct vcpu *v = queues[cpu].head;

    if (v)
        rr_dequeue(cpu, v);
    return v;
}

static bool rr_has_waiting(unsigned cpu)
{
    return queues[cpu].head != NULL;
}

const struct sched_policy sched_rr_policy = {
    .name = "round-robin",
    .enqueue = rr_enqueue,
    .dequeue = rr_dequeue,
    .pick_next = rr_pick_next,
    .has_waiting = rr_has_waiting,
    .slice = MILLISECS(10),
};
