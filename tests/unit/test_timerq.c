/* The per-CPU timer queue: ordering, removal, re-setting, many timers. */
#include <keel/timer.h>

#include "harness.h"

static void set(struct timer_queue *q, struct timer *t, s_time_t when)
{
    timerq_remove(q, t);
    t->expires = when;
    timerq_insert(q, t);
}

/* Pops everything due at `now`, writing the timers' data chars to out. */
static void drain(struct timer_queue *q, s_time_t now, char *out, size_t size)
{
    size_t n = 0;
    struct timer *t;

    while ((t = timerq_pop_expired(q, now)) && n + 1 < size) {
        CHECK(!t->queued);
        out[n++] = *(const char *)t->data;
    }
    out[n] = '\0';
}

TEST(pops_in_deadline_order)
{
    struct timer_queue q = {0};
    struct timer t[4] = {{.data = "a"}, {.data = "b"}, {.data = "c"}, {.data = "d"}};
    char out[8];

    set(&q, &t[2], 30);
    set(&q, &t[0], 10);
    set(&q, &t[3], 40);
    set(&q, &t[1], 20);
    CHECK(timerq_first(&q) == &t[0]);
    drain(&q, 25, out, sizeof(out));
    CHECK_STR(out, "ab");
    drain(&q, 100, out, sizeof(out));
    CHECK_STR(out, "cd");
    CHECK(timerq_first(&q) == NULL);
}

TEST(equal_deadlines_keep_insertion_order)
{
    struct timer_queue q = {0};
    struct timer t[3] = {{.data = "x"}, {.data = "y"}, {.data = "z"}};
    char out[8];

    set(&q, &t[1], 5);
    set(&q, &t[0], 5);
    set(&q, &t[2], 5);
    drain(&q, 5, out, sizeof(out));
    CHECK_STR(out, "yxz");
}

TEST(remove_prevents_firing_and_is_idempotent)
{
    struct timer_queue q = {0};
    struct timer t[3] = {{.data = "a"}, {.data = "b"}, {.data = "c"}};
    char out[8];

    set(&q, &t[0], 1);
    set(&q, &t[1], 2);
    set(&q, &t[2], 3);
    timerq_remove(&q, &t[1]); /* middle */
    timerq_remove(&q, &t[1]); /* again: no-op */
    timerq_remove(&q, &t[2]); /* tail */
    CHECK(!t[1].queued);
    drain(&q, 10, out, sizeof(out));
    CHECK_STR(out, "a");
    /* The queue is still consistent: new timers go in and come out. */
    set(&q, &t[2], 4);
    set(&q, &t[1], 3);
    drain(&q, 10, out, sizeof(out));
    CHECK_STR(out, "bc");
}

TEST(reset_moves_a_queued_timer)
{
    struct timer_queue q = {0};
    struct timer t[3] = {{.data = "a"}, {.data = "b"}, {.data = "c"}};
    char out[8];

    set(&q, &t[0], 10);
    set(&q, &t[1], 20);
    set(&q, &t[2], 30);
    set(&q, &t[0], 25); /* head to middle */
    set(&q, &t[2], 5);  /* tail to head */
    CHECK(timerq_first(&q) == &t[2]);
    drain(&q, 100, out, sizeof(out));
    CHECK_STR(out, "cba");
}

TEST(nothing_pops_before_its_time)
{
    struct timer_queue q = {0};
    struct timer t = {.data = "a"};

    CHECK(timerq_pop_expired(&q, 1000) == NULL);
    set(&q, &t, 50);
    CHECK(timerq_pop_expired(&q, 49) == NULL);
    CHECK(timerq_pop_expired(&q, 50) == &t);
}

TEST(many_timers_come_out_sorted)
{
    enum { N = 2000 };
    static struct timer t[N];
    struct timer_queue q = {0};
    unsigned seed = 12345;
    s_time_t last = -1;
    int popped = 0, removed = 0;

    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        set(&q, &t[i], (s_time_t)(seed >> 8) % 100000);
    }
    /* Re-set some and remove some, then check order and count. */
    for (int i = 0; i < N; i += 7)
        set(&q, &t[i], (s_time_t)i * 31 % 100000);
    for (int i = 3; i < N; i += 11) {
        timerq_remove(&q, &t[i]);
        removed++;
    }
    for (struct timer *x; (x = timerq_pop_expired(&q, 100000));) {
        CHECK(x->expires >= last);
        last = x->expires;
        popped++;
    }
    CHECK_EQ(popped, N - removed);
    CHECK(q.head == NULL && q.tail == NULL);
}
