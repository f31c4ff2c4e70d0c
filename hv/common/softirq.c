/* Softirq bookkeeping (see keel/softirq.h). */
#include <asm/percpu.h>
#include <keel/console.h>
#include <keel/softirq.h>

static softirq_handler_t handlers[NR_SOFTIRQS];
DEFINE_PER_CPU(unsigned long, softirq_pending_bits);
static DEFINE_PER_CPU(bool, in_softirq);

void open_softirq(enum softirq_nr nr, softirq_handler_t fn)
{
    BUG_ON(nr >= NR_SOFTIRQS);
    handlers[nr] = fn;
}

void raise_softirq(enum softirq_nr nr)
{
    __atomic_fetch_or(&this_cpu(softirq_pending_bits), 1UL << nr, __ATOMIC_SEQ_CST);
}

__attribute__((weak)) void smp_send_event_check(unsigned cpu)
{
    (void)cpu;
}

void cpu_raise_softirq(unsigned cpu, enum softirq_nr nr)
{
    unsigned long old = __atomic_fetch_or(&per_cpu(softirq_pending_bits, cpu), 1UL << nr,
                                          __ATOMIC_SEQ_CST);
    /* Only the first bit needs a kick; later ones ride along with it. */
    if (cpu != smp_processor_id() && !(old & (1UL << nr)))
        smp_send_event_check(cpu);
}

/* Runs pending handlers except those in `skip`, never re-entered. */
static void run_softirqs(unsigned long skip)
{
    bool *busy = &this_cpu(in_softirq);
    unsigned long *pend = &this_cpu(softirq_pending_bits);

    /* An interrupt during a handler must not start the handlers again:
     * they are not reentrant, and the outer loop will see the new bits. */
    if (*busy)
        return;
    *busy = true;
    for (;;) {
        unsigned long bits = __atomic_fetch_and(pend, skip, __ATOMIC_SEQ_CST) & ~skip;
        if (!bits)
            break;
        while (bits) {
            unsigned nr = (unsigned)__builtin_ctzl(bits);
            bits &= bits - 1;
            if (handlers[nr])
                handlers[nr]();
        }
    }
    *busy = false;
}

/* Interrupt context: not the scheduler, and not the TLB clock's global
 * flush (it waits for other CPUs, and this CPU may be inside a cross-CPU
 * call of its own); both wait for the next safe point. */
void process_pending_softirqs(void)
{
    run_softirqs((1UL << SCHEDULE_SOFTIRQ) | (1UL << TLBCLOCK_SOFTIRQ));
}

/*
 * The scheduler runs last and outside the busy section: it may switch to
 * another vCPU, which resets the stack and never returns here.
 */
void do_softirq(void)
{
    unsigned long *pend = &this_cpu(softirq_pending_bits);

    for (;;) {
        run_softirqs(1UL << SCHEDULE_SOFTIRQ);
        if (this_cpu(in_softirq))
            return;
        if (!(__atomic_fetch_and(pend, ~(1UL << SCHEDULE_SOFTIRQ), __ATOMIC_SEQ_CST) &
              (1UL << SCHEDULE_SOFTIRQ)))
            return;
        if (handlers[SCHEDULE_SOFTIRQ])
            handlers[SCHEDULE_SOFTIRQ]();
    }
}

#ifndef KEEL_HOST
#include <keel/selftest.h>

static int selftest_runs;

static void test_softirq_fn(void)
{
    selftest_runs++;
    /* Raised from inside a handler: must run in the same do_softirq. */
    if (selftest_runs == 1)
        raise_softirq(SELFTEST_SOFTIRQ);
}

SELFTEST(softirq, "softirq: raised work runs once per raise")
{
    selftest_runs = 0;
    open_softirq(SELFTEST_SOFTIRQ, test_softirq_fn);
    raise_softirq(SELFTEST_SOFTIRQ);
    do_softirq();
    do_softirq();
    open_softirq(SELFTEST_SOFTIRQ, NULL);
    return selftest_runs == 2 && !softirq_pending(smp_processor_id()) ? 0 : -1;
}
#endif
