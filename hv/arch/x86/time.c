/*
 * Time: TSC calibrated against the PIT, system time in ns from the TSC,
 * and per-CPU timer interrupts (TSC-deadline mode when the CPU has it,
 * otherwise the LAPIC timer in one-shot mode, calibrated against the TSC).
 * Assumes the TSCs of all CPUs run in step (invariant, synchronised).
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/percpu.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/spinlock.h>
#include <keel/softirq.h>
#include <keel/time.h>

#define PIT_HZ 1193182
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE_PORT 0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */
#define CALIBRATE_MS 50
#define APIC_DIV_1 0xb

static u64 tsc_hz;
static u64 tsc_at_boot;
static struct time_scale tsc_to_ns, ns_to_tsc, ns_to_apic;
static bool use_tsc_deadline;

/*
 * One PIT countdown of CALIBRATE_MS on channel 2 (which only drives the
 * speaker, so nobody else cares), counted in TSC ticks.  Returns 0 if the
 * PIT never finishes, e.g. on a machine without one.
 */
static u64 __init tsc_ticks_in_pit_countdown(void)
{
    const u16 count = PIT_HZ * CALIBRATE_MS / 1000;
    u8 gate = inb(PIT_GATE_PORT);
    u64 start, end;
    unsigned long spins = 0;

    outb(PIT_GATE_PORT, (gate & ~0x02) | 0x01);
    outb(PIT_CMD, 0xb0); /* channel 2, lo/hi byte, mode 0, binary */
    outb(PIT_CH2, count & 0xff);
    outb(PIT_CH2, count >> 8);
    start = rdtsc();
    while (!(inb(PIT_GATE_PORT) & 0x20))
        if (++spins > (1UL << 30))
            return 0;
    end = rdtsc();
    outb(PIT_GATE_PORT, gate);
    return end - start;
}

static void __init calibrate_tsc(void)
{
    u64 ticks = tsc_ticks_in_pit_countdown();

    if (!ticks)
        panic("time: the PIT did not count down; cannot calibrate the TSC");
    tsc_hz = ticks * 1000 / CALIBRATE_MS;
    time_scale_init(&tsc_to_ns, tsc_hz, 1000000000);
    time_scale_init(&ns_to_tsc, 1000000000, tsc_hz);
    printk("time: TSC %lu.%03lu MHz (tsc_to_system_mul %#x, tsc_shift %d)\n",
           (unsigned long)(tsc_hz / 1000000), (unsigned long)(tsc_hz / 1000 % 1000),
           tsc_to_ns.mul, tsc_to_ns.shift);
}

/* LAPIC timer ticks (divide by 1) per second, measured in TSC time. */
static u64 __init calibrate_lapic_timer(void)
{
    u64 start, wait = tsc_hz / 100; /* 10 ms */
    u32 left;

    apic_write(APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_TIMER);
    apic_write(APIC_TIMER_INIT, 0xffffffff);
    start = rdtsc();
    while (rdtsc() - start < wait)
        __asm__ __volatile__("pause");
    left = apic_read(APIC_TIMER_CUR);
    apic_write(APIC_TIMER_INIT, 0);
    return (u64)(0xffffffffU - left) * 100;
}

static void timer_interrupt(struct regs *regs)
{
    (void)regs;
    raise_softirq(TIMER_SOFTIRQ);
}

void time_init_cpu(void)
{
    if (use_tsc_deadline) {
        apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | VECTOR_TIMER);
        /* The mode switch must be visible before the first deadline write. */
        __asm__ __volatile__("mfence" ::: "memory");
        wrmsr(MSR_TSC_DEADLINE, 0);
    } else {
        apic_write(APIC_TIMER_DIV, APIC_DIV_1);
        apic_write(APIC_LVT_TIMER, VECTOR_TIMER); /* one-shot */
        apic_write(APIC_TIMER_INIT, 0);
    }
}

void __init time_init(void)
{
    calibrate_tsc();
    tsc_at_boot = rdtsc();
    use_tsc_deadline = cpuid(1).ecx & (1U << 24);
    if (use_tsc_deadline) {
        printk("time: timer interrupts from TSC-deadline mode\n");
    } else {
        u64 apic_hz = calibrate_lapic_timer();
        if (!apic_hz)
            panic("time: the LAPIC timer does not count");
        time_scale_init(&ns_to_apic, 1000000000, apic_hz);
        printk("time: timer interrupts from the LAPIC timer, %lu kHz\n",
               (unsigned long)(apic_hz / 1000));
    }
    set_irq_handler(VECTOR_TIMER, timer_interrupt);
    time_init_cpu();
}

s_time_t NOW(void)
{
    return (s_time_t)scale_delta(rdtsc() - tsc_at_boot, &tsc_to_ns);
}

u64 tsc_khz(void)
{
    return tsc_hz / 1000;
}

const struct time_scale *tsc_to_ns_scale(void)
{
    return &tsc_to_ns;
}

u64 boot_tsc(void)
{
    return tsc_at_boot;
}

void reprogram_timer(s_time_t deadline)
{
    s_time_t delta;
    u64 count;

    if (use_tsc_deadline) {
        /* A deadline in the past fires at once; 0 disarms. */
        u64 tsc = deadline ? tsc_at_boot + scale_delta((u64)MAX(deadline, 1), &ns_to_tsc) : 0;
        wrmsr(MSR_TSC_DEADLINE, tsc);
        return;
    }
    if (!deadline) {
        apic_write(APIC_TIMER_INIT, 0);
        return;
    }
    delta = deadline - NOW();
    count = delta > 0 ? scale_delta((u64)delta, &ns_to_apic) : 1;
    apic_write(APIC_TIMER_INIT, (u32)MIN(MAX(count, 1), 0xffffffffULL));
}

/* ------------------------------------------------------------ self-tests */
#include <keel/selftest.h>
#include <keel/timer.h>

SELFTEST(tsc_freq, "time: TSC frequency is plausible, NOW() advances")
{
    s_time_t a = NOW(), b;
    u64 t = rdtsc();

    while (rdtsc() - t < 1000)
        __asm__ __volatile__("pause");
    b = NOW();
    if (tsc_hz < 100000000ULL || tsc_hz > 10000000000ULL || b <= a) {
        printk("time: TSC %lu Hz, NOW %ld -> %ld\n", (unsigned long)tsc_hz, (long)a, (long)b);
        return -1;
    }
    return 0;
}

static char fired[4];
static unsigned nr_fired;

static void record_fire(void *data)
{
    if (nr_fired < sizeof(fired))
        fired[nr_fired] = *(const char *)data;
    nr_fired++;
}

SELFTEST(soft_timers, "timer: soft timers fire in order; stop_timer cancels")
{
    static struct timer a, b, c;
    s_time_t start = NOW();
    unsigned long flags;

    nr_fired = 0;
    init_timer(&a, record_fire, "a", smp_processor_id());
    init_timer(&b, record_fire, "b", smp_processor_id());
    init_timer(&c, record_fire, "c", smp_processor_id());
    /* Set out of order, and move one: the queue must sort them. */
    set_timer(&b, start + MILLISECS(20));
    set_timer(&a, start + MILLISECS(30));
    set_timer(&c, start + MILLISECS(15));
    set_timer(&a, start + MILLISECS(10));
    stop_timer(&c);
    /* Sleep until both fired; the bound only guards against a dead timer. */
    flags = irq_save();
    while (nr_fired < 2 && NOW() - start < SECONDS(5)) {
        __asm__ __volatile__("sti; hlt; cli" ::: "memory");
        do_softirq();
    }
    irq_restore(flags);
    stop_timer(&a);
    stop_timer(&b);
    if (nr_fired != 2 || fired[0] != 'a' || fired[1] != 'b' || timer_is_active(&c)) {
        printk("timer: %u fired (%.2s)\n", nr_fired, fired);
        return -1;
    }
    return 0;
}
