/*
 * libFuzzer target for the grace-period machine (hv/common/rcu_gp.c): each
 * input byte is one step on one of 4 simulated CPUs — call_rcu (perhaps a
 * callback that queues another, as a domain's last frame going does), a
 * quiescent point of a busy CPU, a CPU going idle, or an idle CPU woken by
 * its kick.  Invariants:
 *  - safety: a callback runs only after every CPU passed a quiescent point
 *    after its call_rcu (a callback's CPU holds nothing from before it);
 *  - each callback runs once;
 *  - liveness: at the end, with every CPU idle and only kicks waking them,
 *    nothing is left waiting.
 */
#include <keel/rcu_gp.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#define NCPU 4
#define NOBJ 512

static struct rcu_gp g;
static u64 kicked, idle, passes[NCPU];
static unsigned int cur_cpu, nobj, nran;
static bool in_callback;

static struct obj {
    struct rcu_head head;
    u64 queued_at[NCPU];
    bool ran, chain;
} objs[NOBJ];

static void sim_kick(u64 cpus)
{
    kicked |= cpus;
}

static void call_on(unsigned int cpu, bool chain);

static void cb(struct rcu_head *h)
{
    struct obj *o = (struct obj *)h;

    if (o->ran)
        abort();
    for (unsigned int c = 0; c < NCPU; c++)
        if (passes[c] <= o->queued_at[c])
            abort();
    o->ran = true;
    nran++;
    if (o->chain) {
        in_callback = true;
        call_on(cur_cpu, false);
        in_callback = false;
    }
}

static void call_on(unsigned int cpu, bool chain)
{
    struct obj *o;

    if (nobj == NOBJ)
        return;
    o = &objs[nobj++];
    o->chain = chain;
    memcpy(o->queued_at, passes, sizeof(passes));
    if (in_callback)
        o->queued_at[cpu]--; /* its reader section ended before the callback */
    rcu_gp_call(&g, cpu, (1ULL << NCPU) - 1, &o->head, cb);
}

static void pass(unsigned int cpu)
{
    passes[cpu]++;
    kicked &= ~(1ULL << cpu);
    cur_cpu = cpu;
    rcu_gp_quiescent(&g, cpu, (1ULL << NCPU) - 1);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    memset(&g, 0, sizeof(g));
    g.next_tail = &g.next;
    g.kick = sim_kick;
    memset(objs, 0, sizeof(objs));
    memset(passes, 0, sizeof(passes));
    kicked = idle = 0;
    nobj = nran = 0;

    for (size_t i = 0; i < size; i++) {
        unsigned int cpu = data[i] & 3, op = data[i] >> 2;
        bool is_idle = (idle >> cpu) & 1;

        if (is_idle && !((kicked >> cpu) & 1))
            continue; /* an idle CPU runs only when kicked */
        idle &= ~(1ULL << cpu);
        if (op < 16)
            call_on(cpu, op & 1);
        else if (op < 48)
            pass(cpu);
        else {
            pass(cpu); /* the idle loop's quiescent point, then hlt */
            idle |= 1ULL << cpu;
        }
    }
    /* Busy CPUs pass once more and idle; then only kicks wake anyone. */
    for (unsigned int c = 0; c < NCPU; c++)
        if (!((idle >> c) & 1))
            pass(c);
    for (unsigned int round = 0; kicked; round++) {
        if (round > 10000)
            abort();
        pass((unsigned int)__builtin_ctzll(kicked));
    }
    if (nran != nobj || g.active || g.next)
        abort(); /* a period waits for a CPU nobody will kick */
    return 0;
}
