/* Per-CPU soft timers on top of the ordered queue (see keel/timer.h). */
#include <asm/percpu.h>
#include <keel/console.h>
#include <keel/softirq.h>
#include <keel/spinlock.h>
#include <keel/timer.h>

struct cpu_timers {
    spinlock_t lock;
    struct timer_queue q;
};

static DEFINE_PER_CPU(struct cpu_timers, cpu_timers);

static void program_first(struct cpu_timers *ct)
{
    struct timer *first = timerq_first(&ct->q);
    reprogram_timer(first ? first->expires : 0);
}

static void timer_softirq(void)
{
    struct cpu_timers *ct = &this_cpu(cpu_timers);
    unsigned long flags = spin_lock_irqsave(&ct->lock);
    struct timer *t;

    while ((t = timerq_pop_expired(&ct->q, NOW()))) {
        void (*fn)(void *) = t->fn;
        void *data = t->data;
        /* Unlocked, so the callback may set timers on this CPU. */
        spin_unlock_irqrestore(&ct->lock, flags);
        fn(data);
        flags = spin_lock_irqsave(&ct->lock);
    }
    program_first(ct);
    spin_unlock_irqrestore(&ct->lock, flags);
}

void timer_init(void)
{
    open_softirq(TIMER_SOFTIRQ, timer_softirq);
}

void init_timer(struct timer *t, void (*fn)(void *), void *data, unsigned int cpu)
{
    BUG_ON(cpu >= NR_CPUS);
    memset(t, 0, sizeof(*t));
    t->fn = fn;
    t->data = data;
    t->cpu = cpu;
}

/*
 * A timer's CPU changes only under both CPUs' locks (migrate_timer), so
 * whoever holds the lock of the CPU it names may use it: look, lock, and
 * look again.
 */
static struct cpu_timers *lock_timer(struct timer *t, unsigned long *flags)
{
    for (;;) {
        unsigned int cpu = READ_ONCE(t->cpu);
        struct cpu_timers *ct = &per_cpu(cpu_timers, cpu);

        *flags = spin_lock_irqsave(&ct->lock);
        if (READ_ONCE(t->cpu) == cpu)
            return ct;
        spin_unlock_irqrestore(&ct->lock, *flags);
    }
}

void set_timer(struct timer *t, s_time_t expires)
{
    unsigned long flags;
    struct cpu_timers *ct = lock_timer(t, &flags);
    bool local = t->cpu == smp_processor_id();

    /* A killed timer stays dead, even for a callback that was running. */
    if (t->killed) {
        spin_unlock_irqrestore(&ct->lock, flags);
        return;
    }
    timerq_remove(&ct->q, t);
    t->expires = expires;
    timerq_insert(&ct->q, t);
    /* Only a new earliest deadline changes what the hardware must do; a
     * remote CPU reprograms its own timer from its softirq. */
    if (timerq_first(&ct->q) == t) {
        if (local)
            reprogram_timer(expires);
        else
            cpu_raise_softirq(t->cpu, TIMER_SOFTIRQ);
    }
    spin_unlock_irqrestore(&ct->lock, flags);
}

void stop_timer(struct timer *t)
{
    unsigned long flags;
    struct cpu_timers *ct = lock_timer(t, &flags);

    /* The hardware may still fire for it: the softirq then finds nothing. */
    timerq_remove(&ct->q, t);
    spin_unlock_irqrestore(&ct->lock, flags);
}

void kill_timer(struct timer *t)
{
    unsigned long flags;
    struct cpu_timers *ct = lock_timer(t, &flags);

    timerq_remove(&ct->q, t);
    t->killed = true;
    spin_unlock_irqrestore(&ct->lock, flags);
}

void migrate_timer(struct timer *t, unsigned int cpu)
{
    for (;;) {
        unsigned int old = READ_ONCE(t->cpu);
        struct cpu_timers *a = &per_cpu(cpu_timers, MIN(old, cpu));
        struct cpu_timers *b = &per_cpu(cpu_timers, MAX(old, cpu));
        unsigned long flags;
        bool queued;

        if (old == cpu)
            return;
        /* Both locks, lower CPU first, so two migrations cannot deadlock. */
        flags = spin_lock_irqsave(&a->lock);
        spin_lock(&b->lock);
        if (READ_ONCE(t->cpu) != old) {
            spin_unlock(&b->lock);
            spin_unlock_irqrestore(&a->lock, flags);
            continue;
        }
        queued = t->queued;
        timerq_remove(&per_cpu(cpu_timers, old).q, t);
        WRITE_ONCE(t->cpu, cpu);
        if (queued) {
            timerq_insert(&per_cpu(cpu_timers, cpu).q, t);
            cpu_raise_softirq(cpu, TIMER_SOFTIRQ);
        }
        spin_unlock(&b->lock);
        spin_unlock_irqrestore(&a->lock, flags);
        return;
    }
}

bool timer_is_active(const struct timer *t)
{
    return READ_ONCE(t->queued);
}
