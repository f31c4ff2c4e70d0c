/*
 * TLB flushes and the TLB-flush clock (keel/tlbclock.h): every full flush
 * of a CPU ticks the clock before it and stamps the CPU after it, with
 * interrupts off in between so the stamp belongs to this flush.  The CPU
 * whose tick wraps the clock flushes every CPU from a softirq and then
 * starts the next period; until then every flush request is honoured in
 * full.
 */
#include <asm/cpu.h>
#include <asm/flushtlb.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/options.h>
#include <keel/softirq.h>
#include <keel/spinlock.h>
#include <keel/tlbclock.h>

void switch_cr3(unsigned long cr3)
{
    unsigned long f = irq_save();
    bool wrapped;
    u32 t = tlbclock_tick(&wrapped);

    write_cr3(cr3);
    tlbclock_flushed(smp_processor_id(), t);
    irq_restore(f);
    if (wrapped)
        raise_softirq(TLBCLOCK_SOFTIRQ);
}

void flush_tlb_local(void)
{
    switch_cr3(read_cr3());
}

static void flush_ipi(void *unused)
{
    (void)unused;
    flush_tlb_local();
}

void flush_tlb_mask(u64 mask)
{
    u64 self = 1UL << smp_processor_id();

    if (mask & self)
        flush_tlb_local();
    mask &= ~self & __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE);
    if (mask)
        smp_call_function_mask(mask, flush_ipi, NULL, true);
}

void tlb_flush_stale(u32 stamp)
{
    u64 stale = tlbclock_stale_cpus(__atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE),
                                    stamp);

    if (stale)
        flush_tlb_mask(stale);
}

/* The clock wrapped on this CPU: every CPU flushes, then it counts again. */
static void new_period(void)
{
    flush_tlb_mask(__atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE));
    tlbclock_period_done();
}

void flushtlb_init(void)
{
    unsigned int bits = opts.tlbclock_bits;

    tlbclock_init(bits >= 4 && bits < 32 ? (1U << bits) - 1 : TLBCLOCK_FULL_MASK);
    if (bits >= 4 && bits < 32)
        printk("TLB clock: %u bits (wraps every %u flushes)\n", bits, (1U << bits) - 1);
    open_softirq(TLBCLOCK_SOFTIRQ, new_period);
}
