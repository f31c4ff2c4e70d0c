/*
 * Softirqs: work an interrupt handler defers until it is safe to run, done
 * on the way out of an interrupt that hit interruptible code, or by the idle
 * loop.  Pending bits are per CPU; a handler runs on the CPU that saw the bit.
 * Handlers run with interrupts off, on top of whatever interrupts-enabled
 * code was interrupted: a lock they share with such code must be taken with
 * spin_lock_irqsave there.
 */
#ifndef KEEL_SOFTIRQ_H
#define KEEL_SOFTIRQ_H
#include <keel/types.h>

enum softirq_nr {
    TIMER_SOFTIRQ,
    SCHEDULE_SOFTIRQ,
    SELFTEST_SOFTIRQ, /* only the boot self-test opens it */
    TLBCLOCK_SOFTIRQ, /* the TLB-flush clock wrapped here: flush everyone (safe points only) */
    NR_SOFTIRQS
};

typedef void (*softirq_handler_t)(void);

void open_softirq(enum softirq_nr nr, softirq_handler_t fn);
void raise_softirq(enum softirq_nr nr);
void cpu_raise_softirq(unsigned cpu, enum softirq_nr nr);
#ifdef KEEL_HOST
bool softirq_pending(unsigned cpu);
#else
#include <asm/percpu.h>
DECLARE_PER_CPU(unsigned long, softirq_pending_bits);
/* Inline: every way back into a guest and every idle pass asks. */
static inline bool softirq_pending(unsigned cpu)
{
    return __atomic_load_n(&per_cpu(softirq_pending_bits, cpu), __ATOMIC_RELAXED) != 0;
}
#endif
/* Runs this CPU's pending handlers; does nothing when already inside one. */
/* At safe points (idle loop, way back into a guest): everything, the
 * scheduler last.  From interrupt context: everything but the scheduler. */
void do_softirq(void);
void process_pending_softirqs(void);

/* Makes a remote CPU notice new softirq bits.  The default does nothing
 * (one CPU); SMP supplies the IPI. */
void smp_send_event_check(unsigned cpu);
#endif
