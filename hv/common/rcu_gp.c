/*
 * Grace periods, one at a time (keel/rcu_gp.h): callbacks queued while one
 * runs wait for the next, which starts as soon as the current one ends.
 *
 * Two rules keep a grace period from stalling:
 *  - every CPU it waits for is kicked when it starts, except the CPU that
 *    starts it, which is not idle and so passes a quiescent point soon;
 *  - every bump of a counter is followed by a check, so the CPU that moves
 *    last ends the period and nobody has to notice later.
 * The second is why rcu_gp_quiescent loops after running callbacks: they
 * may have started a period that waits for this very CPU (a callback's
 * own call_rcu, or the restart of a period queued meanwhile), and this CPU
 * may go idle next with nobody left to kick it.
 */
#include <keel/rcu_gp.h>

static u64 count_of(const struct rcu_gp *g, unsigned int cpu)
{
    return __atomic_load_n(&g->count[cpu].n, __ATOMIC_ACQUIRE);
}

/* Lock held, nothing running: the queued callbacks start their wait. */
static void gp_start(struct rcu_gp *g, u64 online)
{
    g->cur = g->next;
    g->next = NULL;
    g->next_tail = &g->next;
    /* Whatever the callers unpublished is visible before any counter is
     * read: a reader that passes after this point cannot have seen it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    g->waiting = online;
    for (u64 w = online; w; w &= w - 1) {
        unsigned int cpu = (unsigned int)__builtin_ctzll(w);
        g->snap[cpu] = count_of(g, cpu);
    }
    g->active = true;
}

void rcu_gp_call(struct rcu_gp *g, unsigned int me, u64 online, struct rcu_head *head,
                 void (*fn)(struct rcu_head *head))
{
    unsigned long f;
    u64 kick = 0;

    head->fn = fn;
    head->next = NULL;
    f = spin_lock_irqsave(&g->lock);
    *g->next_tail = head;
    g->next_tail = &head->next;
    if (!g->active) {
        gp_start(g, online);
        kick = g->waiting & ~(1ULL << me);
    }
    spin_unlock_irqrestore(&g->lock, f);
    if (kick)
        g->kick(kick);
}

/* Lock held.  The period is over when every CPU it waits for moved on (or
 * went offline); returns the callbacks it covered, and starts the next
 * period if callbacks wait for one (*kick: the CPUs to kick for it). */
static struct rcu_head *gp_check(struct rcu_gp *g, unsigned int me, u64 online, u64 *kick)
{
    struct rcu_head *done;

    for (u64 w = g->waiting; w; w &= w - 1) {
        unsigned int cpu = (unsigned int)__builtin_ctzll(w);
        if (!((online >> cpu) & 1) || count_of(g, cpu) != g->snap[cpu])
            g->waiting &= ~(1ULL << cpu);
    }
    if (g->waiting)
        return NULL;
    done = g->cur;
    g->cur = NULL;
    g->active = false;
    g->completed++;
    if (g->next) {
        gp_start(g, online);
        *kick = g->waiting & ~(1ULL << me);
    }
    return done;
}

void rcu_gp_quiescent(struct rcu_gp *g, unsigned int me, u64 online)
{
    for (;;) {
        struct rcu_head *done;
        u64 kick = 0;

        /* Only this CPU writes its counter: a release store is enough. */
        __atomic_store_n(&g->count[me].n, g->count[me].n + 1, __ATOMIC_RELEASE);
        if (!__atomic_load_n(&g->active, __ATOMIC_ACQUIRE))
            return;
        spin_lock(&g->lock);
        done = g->active ? gp_check(g, me, online, &kick) : NULL;
        spin_unlock(&g->lock);
        if (kick)
            g->kick(kick);
        if (!done)
            return;
        while (done) {
            struct rcu_head *n = done->next;
            done->fn(done);
            done = n;
        }
        /* Holding nothing still: count this point again (see above). */
    }
}
