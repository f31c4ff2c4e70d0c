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

void set_timer(struct timer *t, s_time_t expires)
{
    struct cpu_timers *ct = &per_cpu(cpu_timers, t->cpu);
    unsigned long flags = spin_lock_irqsave(&ct->lock);
    bool local = t->cpu == smp_processor_id();

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
    struct cpu_timers *ct = &per_cpu(cpu_timers, t->cpu);
    unsigned long flags = spin_lock_irqsave(&ct->lock);

    /* The hardware may still fire for it: the softirq then finds nothing. */
    timerq_remove(&ct->q, t);
    spin_unlock_irqrestore(&ct->lock, flags);
}

bool timer_is_active(const struct timer *t)
{
    return READ_ONCE(t->queued);
}
