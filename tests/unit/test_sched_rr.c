/* The round-robin policy: FIFO order per CPU, removal anywhere, idempotence. */
#include <keel/sched.h>

#include "harness.h"

static struct vcpu v[4];

static void reset(void)
{
    for (unsigned i = 0; i < 4; i++) {
        while (sched_rr_policy.pick_next(i))
            ;
        memset(&v[i], 0, sizeof(v[i]));
        v[i].vcpu_id = i;
    }
}

TEST(fifo_order)
{
    const struct sched_policy *p = &sched_rr_policy;

    reset();
    CHECK(!p->has_waiting(0));
    CHECK(p->pick_next(0) == NULL);
    p->enqueue(0, &v[0]);
    p->enqueue(0, &v[1]);
    p->enqueue(0, &v[2]);
    CHECK(p->has_waiting(0));
    CHECK(p->pick_next(0) == &v[0]);
    p->enqueue(0, &v[0]); /* back of the queue */
    CHECK(p->pick_next(0) == &v[1]);
    CHECK(p->pick_next(0) == &v[2]);
    CHECK(p->pick_next(0) == &v[0]);
    CHECK(p->pick_next(0) == NULL);
    CHECK(!p->has_waiting(0));
}

TEST(enqueue_twice_is_once)
{
    const struct sched_policy *p = &sched_rr_policy;

    reset();
    p->enqueue(1, &v[0]);
    p->enqueue(1, &v[0]);
    CHECK(p->pick_next(1) == &v[0]);
    CHECK(p->pick_next(1) == NULL);
    CHECK(!v[0].on_runqueue);
}

TEST(dequeue_head_middle_tail)
{
    const struct sched_policy *p = &sched_rr_policy;

    reset();
    for (unsigned i = 0; i < 4; i++)
        p->enqueue(2, &v[i]);
    p->dequeue(2, &v[1]); /* middle */
    p->dequeue(2, &v[3]); /* tail */
    p->dequeue(2, &v[0]); /* head */
    p->dequeue(2, &v[0]); /* not queued: nothing happens */
    CHECK(p->pick_next(2) == &v[2]);
    CHECK(p->pick_next(2) == NULL);
    /* The tail was fixed: a new arrival is found. */
    p->enqueue(2, &v[3]);
    CHECK(p->pick_next(2) == &v[3]);
}

TEST(queues_are_per_cpu)
{
    const struct sched_policy *p = &sched_rr_policy;

    reset();
    p->enqueue(0, &v[0]);
    p->enqueue(3, &v[1]);
    CHECK(p->pick_next(3) == &v[1]);
    CHECK(p->pick_next(3) == NULL);
    CHECK(p->pick_next(0) == &v[0]);
    CHECK(p->slice > 0);
}
