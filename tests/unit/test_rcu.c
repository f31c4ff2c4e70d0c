/*
 * The grace-period machine (hv/common/rcu_gp.c) on simulated CPUs.  A CPU
 * is busy (it passes quiescent points whenever the test says) or idle (it
 * passes one only when kicked).  Two properties:
 *  - safety: no callback runs before every CPU that was online when it was
 *    queued passed a quiescent point after that;
 *  - liveness: once every kicked CPU has answered and the busy ones went
 *    idle, no callback is left waiting — a period never waits for a CPU
 *    that nobody will kick.
 */
#include "harness.h"
#include <keel/rcu_gp.h>

#define NCPU 4
#define NOBJ 256

static u64 kicked;
static void sim_kick(u64 cpus)
{
    kicked |= cpus;
}

static struct rcu_gp g;
static u64 passes[NCPU];        /* quiescent points per CPU, by the test */
static unsigned int cur_cpu;    /* the CPU a callback runs on */

struct obj {
    struct rcu_head head;
    u64 queued_at[NCPU];        /* passes[] when call_rcu was made */
    bool ran, chain;
    int nested;                 /* index of a callback this one queues */
};
static struct obj objs[NOBJ];
static unsigned int nobj, nran, unsafe;
static bool in_callback;

static void reset(void)
{
    memset(&g, 0, sizeof(g));
    g.next_tail = &g.next;
    g.kick = sim_kick;
    memset(passes, 0, sizeof(passes));
    memset(objs, 0, sizeof(objs));
    kicked = 0;
    nobj = nran = unsafe = 0;
}

static void call_on(unsigned int cpu, struct obj *o);

static void cb(struct rcu_head *h)
{
    struct obj *o = (struct obj *)h;

    unsafe += o->ran;
    for (unsigned int c = 0; c < NCPU; c++)
        unsafe += passes[c] <= o->queued_at[c]; /* safety */
    o->ran = true;
    nran++;
    if (o->chain && nobj < NOBJ) { /* a domain's last frame going, say */
        in_callback = true;
        call_on(cur_cpu, &objs[nobj++]);
        in_callback = false;
    }
}

static void call_on(unsigned int cpu, struct obj *o)
{
    memcpy(o->queued_at, passes, sizeof(passes));
    /* A callback holds nothing its CPU read before: that CPU's reader
     * section ended at the quiescent point running the callback. */
    if (in_callback)
        o->queued_at[cpu]--;
    rcu_gp_call(&g, cpu, (1ULL << NCPU) - 1, &o->head, cb);
}

static void pass(unsigned int cpu)
{
    passes[cpu]++; /* before the machine counts it: callbacks may run */
    kicked &= ~(1ULL << cpu);
    cur_cpu = cpu;
    rcu_gp_quiescent(&g, cpu, (1ULL << NCPU) - 1);
}

/* Every CPU idle: only kicks make them run.  True if all callbacks ran. */
static bool settle(void)
{
    for (unsigned int round = 0; kicked && round < 1000; round++)
        pass((unsigned int)__builtin_ctzll(kicked));
    return nran == nobj && !g.active && !g.next;
}

TEST(callback_waits_for_every_cpu)
{
    reset();
    call_on(0, &objs[nobj++]);
    CHECK_EQ(kicked, 0xe);
    pass(0);
    pass(1);
    pass(2);
    CHECK_EQ(nran, 0);
    pass(3);
    CHECK_EQ(nran, 1);
    CHECK_EQ(unsafe, 0);
}

/* The period this CPU restarts, for callbacks queued meanwhile, must not
 * wait for it if it goes idle next. */
TEST(restarted_period_does_not_wait_for_the_idle_restarter)
{
    reset();
    call_on(0, &objs[nobj++]);
    kicked = 0; /* the others answer below */
    pass(1);
    pass(2);
    pass(3);
    call_on(1, &objs[nobj++]); /* waits for the next period */
    pass(0);                   /* ends the first, restarts, then idles */
    CHECK_EQ(nran, 1);
    CHECK(settle());
    CHECK_EQ(unsafe, 0);
}

/* A callback's own call_rcu must not leave a period waiting for the CPU
 * that ran it. */
TEST(call_rcu_from_a_callback_does_not_stall)
{
    reset();
    objs[0].chain = true;
    call_on(2, &objs[nobj++]);
    pass(0);
    pass(1);
    pass(3);
    pass(2); /* runs objs[0], whose call_rcu starts a period; then idles */
    CHECK_EQ(nran, 1);
    CHECK_EQ(nobj, 2);
    CHECK(settle());
    CHECK_EQ(unsafe, 0);
}

TEST(offline_cpus_are_not_waited_for)
{
    reset();
    objs[0].head.next = NULL;
    memcpy(objs[0].queued_at, passes, sizeof(passes));
    rcu_gp_call(&g, 0, 0x3, &objs[0].head, cb);
    nobj = 1;
    passes[2] = passes[3] = 1; /* offline: vacuously past */
    pass(1);
    CHECK_EQ(nran, 0);
    passes[0]++;
    rcu_gp_quiescent(&g, 0, 0x1); /* CPU 1 went offline meanwhile */
    CHECK_EQ(nran, 1);
}

/* Random busy/idle schedules, calls from any CPU and from callbacks. */
TEST(random_schedules_are_safe_and_live)
{
    for (unsigned int seed = 1; seed <= 2000; seed++) {
        unsigned int x = seed;
        reset();
        for (unsigned int step = 0; step < 200; step++) {
            x = x * 1103515245u + 12345u;
            unsigned int cpu = (x >> 16) % NCPU, what = (x >> 8) % 8;
            if (what < 2 && nobj < NOBJ) {
                objs[nobj].chain = (x >> 24) % 4 == 0;
                call_on(cpu, &objs[nobj]);
                nobj++;
            } else if (what < 5 || (kicked >> cpu) & 1) {
                pass(cpu);
            }
        }
        /* Whoever called last is busy: it passes once more, then idles. */
        for (unsigned int c = 0; c < NCPU; c++)
            pass(c);
        if (!settle() || unsafe) {
            fprintf(stderr, "  seed %u: %u of %u callbacks ran, %u too early\n", seed, nran,
                    nobj, unsafe);
            CHECK(false);
            return;
        }
    }
}
