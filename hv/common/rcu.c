/*
 * Grace periods (see keel/rcu.h).  One grace period at a time: callbacks
 * queued while one runs wait for the next, which starts as soon as the
 * current one ends.
 */
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/rcu.h>
#include <keel/softirq.h>
#include <keel/spinlock.h>

/* One cache line per CPU: the counter is written on every guest entry. */
static struct {
    u64 n;
} __aligned(64) qs_count[NR_CPUS];

static struct {
    spinlock_t lock;
    struct rcu_head *next, **next_tail; /* waiting for a grace period */
    struct rcu_head *cur;               /* waiting for the running one */
    bool active;
    u64 waiting;                        /* CPUs yet to pass */
    u64 snap[NR_CPUS];
    unsigned long completed;
} rcu = {.lock = SPINLOCK_INIT, .next_tail = &rcu.next};

static u64 count_of(unsigned int cpu)
{
    return __atomic_load_n(&qs_count[cpu].n, __ATOMIC_ACQUIRE);
}

/* Lock held, nothing running: the queued callbacks start their wait. */
static void gp_start(void)
{
    unsigned int cpu;

    rcu.cur = rcu.next;
    rcu.next = NULL;
    rcu.next_tail = &rcu.next;
    /* Whatever the callers unpublished is visible before any counter is
     * read: a reader that passes after this point cannot have seen it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    rcu.waiting = __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE);
    for_each_online_cpu(cpu)
        rcu.snap[cpu] = count_of(cpu);
    rcu.active = true;
}

/* Idle CPUs and guests that never leave must pass a quiescent point. */
static void kick_others(void)
{
    unsigned int cpu, me = smp_processor_id();

    for_each_online_cpu(cpu)
        if (cpu != me && (rcu.waiting >> cpu) & 1)
            smp_send_event_check(cpu);
}

void call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
    unsigned long f;
    bool started = false;

    head->fn = fn;
    head->next = NULL;
    f = spin_lock_irqsave(&rcu.lock);
    *rcu.next_tail = head;
    rcu.next_tail = &head->next;
    if (!rcu.active) {
        gp_start();
        started = true;
    }
    spin_unlock_irqrestore(&rcu.lock, f);
    if (started)
        kick_others();
}

/* The grace period is over when every CPU it waits for moved on (or went
 * offline); returns the callbacks it covered. */
static struct rcu_head *gp_check(bool *restarted)
{
    struct rcu_head *done = NULL;
    unsigned int cpu;

    for (u64 w = rcu.waiting; w; w &= w - 1) {
        cpu = (unsigned int)__builtin_ctzll(w);
        if (!cpu_online(cpu) || count_of(cpu) != rcu.snap[cpu])
            rcu.waiting &= ~(1ULL << cpu);
    }
    if (rcu.waiting)
        return NULL;
    done = rcu.cur;
    rcu.cur = NULL;
    rcu.active = false;
    rcu.completed++;
    if (rcu.next) {
        gp_start();
        *restarted = true;
    }
    return done;
}

void rcu_quiescent(void)
{
    unsigned int cpu = smp_processor_id();
    struct rcu_head *done;
    bool restarted;

    /* A callback run here may queue another (a domain's last frame freed
     * by one queues the domain's own release) and so start a grace period
     * that waits for this CPU: it is at a quiescent point again once the
     * callbacks are done, and passes it, or the period would wait for a
     * CPU that goes idle next and that nobody kicks. */
    do {
        restarted = false;
        /* Only this CPU writes its counter: a release store is enough. */
        __atomic_store_n(&qs_count[cpu].n, qs_count[cpu].n + 1, __ATOMIC_RELEASE);
        if (!__atomic_load_n(&rcu.active, __ATOMIC_ACQUIRE))
            return;
        spin_lock(&rcu.lock); /* interrupts are off here, as in call_rcu */
        done = rcu.active ? gp_check(&restarted) : NULL;
        /* A grace period this CPU starts here need not wait for it: it is
         * at a quiescent point now, after every callback of that period was
         * queued.  Waiting for it would stall the period if the CPU went
         * idle next, for nobody kicks the CPU that started one. */
        if (restarted)
            rcu.waiting &= ~(1ULL << cpu);
        spin_unlock(&rcu.lock);
        if (restarted)
            kick_others();
        for (struct rcu_head *h = done; h;) {
            struct rcu_head *n = h->next;
            h->fn(h);
            h = n;
        }
    } while (done);
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
