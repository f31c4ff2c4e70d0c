/*
 * The TLB-flush clock (see keel/tlbclock.h for the rules and why they are
 * safe).  All state is a few words; updates are single atomics.
 */
#include <keel/tlbclock.h>

static u32 clock_now = 1;
static u32 clock_mask = TLBCLOCK_FULL_MASK;
static u32 cpu_stamp[TLBCLOCK_CPUS];

void tlbclock_init(u32 mask)
{
    clock_mask = mask ? mask : TLBCLOCK_FULL_MASK;
    __atomic_store_n(&clock_now, 1, __ATOMIC_SEQ_CST);
    for (unsigned int i = 0; i < TLBCLOCK_CPUS; i++)
        cpu_stamp[i] = 0;
}

u32 tlbclock_now(void)
{
    return __atomic_load_n(&clock_now, __ATOMIC_SEQ_CST);
}

u32 tlbclock_tick(bool *wrapped)
{
    u32 t = tlbclock_now(), next;

    *wrapped = false;
    do {
        if (t == 0)
            return 0; /* a wrap is in progress: nothing to count */
        next = (t + 1) & clock_mask;
    } while (!__atomic_compare_exchange_n(&clock_now, &t, next, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    *wrapped = next == 0;
    return next;
}

void tlbclock_flushed(unsigned int cpu, u32 stamp)
{
    if (cpu < TLBCLOCK_CPUS)
        __atomic_store_n(&cpu_stamp[cpu], stamp, __ATOMIC_SEQ_CST);
}

u32 tlbclock_cpu_stamp(unsigned int cpu)
{
    /* An unknown CPU never flushed: it needs every flush. */
    return cpu < TLBCLOCK_CPUS ? __atomic_load_n(&cpu_stamp[cpu], __ATOMIC_SEQ_CST) : 0;
}

void tlbclock_period_done(void)
{
    u32 zero = 0;

    __atomic_compare_exchange_n(&clock_now, &zero, 1, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
}

/* A stamp taken in the current period (or 0, taken during a wrap). */
static bool live(u32 stamp, u32 now)
{
    return stamp <= now;
}

bool tlbclock_need_flush(u32 cpu_stamp_v, u32 frame_stamp)
{
    u32 now = tlbclock_now();

    if (now == 0)
        return true; /* a wrap is in progress: trust no stamp */
    /* A frame stamp from before the last wrap is older than the global
     * flush that ended it. */
    return live(frame_stamp, now) && cpu_stamp_v <= frame_stamp;
}

u64 tlbclock_stale_cpus(u64 cpus, u32 frame_stamp)
{
    u64 stale = 0;

    for (unsigned int c = 0; c < TLBCLOCK_CPUS; c++)
        if (((cpus >> c) & 1) && tlbclock_need_flush(tlbclock_cpu_stamp(c), frame_stamp))
            stale |= 1UL << c;
    return stale;
}

u32 tlbclock_latest(u32 a, u32 b)
{
    u32 now = tlbclock_now();
    bool la = live(a, now), lb = live(b, now);

    if (la && lb)
        return a > b ? a : b;
    return lb ? b : a;
}

#ifdef KEEL_HOST
/* Host builds have no TLBs; tests that count flushes supply their own. */
__attribute__((weak)) void tlb_flush_stale(u32 stamp)
{
    (void)stamp;
}
#endif
