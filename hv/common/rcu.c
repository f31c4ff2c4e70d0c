/*
 * call_rcu on this machine's CPUs (keel/rcu.h); the grace-period machine
 * itself is host-built, in rcu_gp.c.
 */
#include <asm/smp.h>
#include <keel/rcu.h>
#include <keel/rcu_gp.h>
#include <keel/softirq.h>

_Static_assert(NR_CPUS <= RCU_MAX_CPUS, "rcu_gp masks hold NR_CPUS bits");

/* Idle CPUs and guests that never leave must pass a quiescent point. */
static void kick_cpus(u64 cpus)
{
    for (; cpus; cpus &= cpus - 1)
        smp_send_event_check((unsigned int)__builtin_ctzll(cpus));
}

static struct rcu_gp rcu = RCU_GP_INIT(rcu, kick_cpus);

static u64 online(void)
{
    return __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE);
}

void call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
    rcu_gp_call(&rcu, smp_processor_id(), online(), head, fn);
}

void rcu_quiescent(void)
{
    rcu_gp_quiescent(&rcu, smp_processor_id(), online());
}

unsigned long rcu_completed(void)
{
    return __atomic_load_n(&rcu.completed, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ self-test */
#include <keel/selftest.h>
#include <keel/time.h>

static volatile int selftest_ran;

static void selftest_cb(struct rcu_head *h)
{
    (void)h;
    selftest_ran = 1;
}

SELFTEST(rcu, "rcu: a callback runs after every CPU passed a quiescent point")
{
    static struct rcu_head head;
    s_time_t until;

    selftest_ran = 0;
    call_rcu(&head, selftest_cb);
    if (selftest_ran)
        return -1; /* this CPU has not passed one yet */
    /* Self-tests run at boot outside the idle loop: pass by hand. */
    until = NOW() + MILLISECS(500);
    while (!selftest_ran && NOW() < until) {
        unsigned long f = irq_save();
        rcu_quiescent();
        irq_restore(f);
        cpu_relax();
    }
    return selftest_ran ? 0 : -1;
}
