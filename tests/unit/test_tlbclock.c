/* The TLB-flush clock: stamps, filters and the wrap, plus a model of CPUs
 * with TLBs checking that a reused frame is never left in any of them. */
#include <keel/tlbclock.h>

#include "harness.h"

/* One full flush of `cpu`, as the arch code does it; returns "wrapped". */
static bool flush_cpu(unsigned cpu)
{
    bool wrapped;
    u32 t = tlbclock_tick(&wrapped);
    tlbclock_flushed(cpu, t);
    return wrapped;
}

TEST(flush_after_unmap_is_clean)
{
    tlbclock_init(0);
    flush_cpu(0);
    flush_cpu(1);
    u32 frame = tlbclock_now(); /* unmapped now: both may hold it */
    CHECK(tlbclock_need_flush(tlbclock_cpu_stamp(0), frame));
    CHECK(tlbclock_need_flush(tlbclock_cpu_stamp(1), frame));
    flush_cpu(1);
    CHECK(tlbclock_need_flush(tlbclock_cpu_stamp(0), frame));
    CHECK(!tlbclock_need_flush(tlbclock_cpu_stamp(1), frame));
    CHECK_EQ(tlbclock_stale_cpus(0x3, frame), 0x1);
    CHECK_EQ(tlbclock_stale_cpus(0x2, frame), 0);
}

TEST(never_flushed_cpu_is_stale)
{
    tlbclock_init(0);
    CHECK_EQ(tlbclock_cpu_stamp(5), 0);
    CHECK(tlbclock_need_flush(tlbclock_cpu_stamp(5), tlbclock_now()));
    CHECK_EQ(tlbclock_cpu_stamp(TLBCLOCK_CPUS + 3), 0); /* unknown: always stale */
}

TEST(latest_prefers_newer_and_ignores_older_periods)
{
    tlbclock_init(0xff);
    for (int i = 0; i < 100; i++)
        flush_cpu(0);
    u32 now = tlbclock_now();
    CHECK_EQ(now, 101);
    CHECK_EQ(tlbclock_latest(10, 50), 50);
    CHECK_EQ(tlbclock_latest(50, 10), 50);
    /* 200 > now: stamped before the last wrap, so already covered. */
    CHECK_EQ(tlbclock_latest(200, 10), 10);
    CHECK_EQ(tlbclock_latest(10, 200), 10);
    CHECK(!tlbclock_need_flush(0, 200));
}

TEST(wrap_forces_flushes_until_the_period_ends)
{
    tlbclock_init(0xf); /* 15 ticks a period */
    bool wrapped = false;
    unsigned ticks = 0;
    while (!wrapped) {
        wrapped = flush_cpu(0);
        ticks++;
    }
    CHECK_EQ(ticks, 15);
    CHECK_EQ(tlbclock_now(), 0);
    /* During the wrap: every question says flush, ticks count nothing. */
    CHECK(tlbclock_need_flush(14, 3));
    CHECK(tlbclock_need_flush(0xffffffff, 0));
    CHECK(!flush_cpu(1));
    CHECK_EQ(tlbclock_cpu_stamp(1), 0);
    CHECK_EQ(tlbclock_now(), 0);
    u32 during = tlbclock_now(); /* a frame unmapped during the wrap */
    /* The global flush: every CPU, then the new period. */
    flush_cpu(0);
    flush_cpu(1);
    tlbclock_period_done();
    CHECK_EQ(tlbclock_now(), 1);
    /* Stamped before the wrap: covered by the global flush. */
    CHECK(!tlbclock_need_flush(tlbclock_cpu_stamp(0), 14));
    /* Stamped during it: CPUs that flushed only during the wrap may hold it
     * (they flushed before it was unmapped, perhaps). */
    CHECK(tlbclock_need_flush(tlbclock_cpu_stamp(0), during));
    flush_cpu(0);
    CHECK(!tlbclock_need_flush(tlbclock_cpu_stamp(0), during));
    CHECK(tlbclock_need_flush(tlbclock_cpu_stamp(1), during));
    /* A second ending of the same wrap changes nothing. */
    tlbclock_period_done();
    CHECK_EQ(tlbclock_now(), 2);
}

/*
 * The model: NCPU CPUs with TLBs (sets of frames), NFRAME frames that are
 * mapped or not.  A CPU may load any mapped frame into its TLB at any time;
 * unmapping does not flush.  Reusing a frame flushes exactly the CPUs the
 * clock names, and afterwards no TLB may hold it.  Small clocks wrap
 * often; the global flush of a wrap happens some steps after the tick that
 * wrapped, as the softirq would.
 */
#define NCPU 4
#define NFRAME 16
static bool tlb[NCPU][NFRAME], mapped[NFRAME];
static u32 stamp[NFRAME];
static unsigned long long flushes;

static u64 rng = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static bool model_flush(unsigned cpu)
{
    bool wrapped;
    u32 t = tlbclock_tick(&wrapped);
    memset(tlb[cpu], 0, sizeof(tlb[cpu]));
    tlbclock_flushed(cpu, t);
    flushes++;
    return wrapped;
}

static void run_model(u32 mask, unsigned steps)
{
    int wrap_pending = -1; /* steps until the global flush, or -1 */
    unsigned reuses = 0, wraps = 0;

    tlbclock_init(mask);
    memset(tlb, 0, sizeof(tlb));
    memset(mapped, 0, sizeof(mapped));
    memset(stamp, 0, sizeof(stamp));
    flushes = 0;
    for (unsigned s = 0; s < steps; s++) {
        unsigned f = rnd(NFRAME), c = rnd(NCPU);
        bool wrapped = false;

        switch (rnd(5)) {
        case 0: /* a CPU walks to a mapped frame */
            if (mapped[f])
                tlb[c][f] = true;
            break;
        case 1: /* the last mapping goes; stamped after */
            if (mapped[f]) {
                mapped[f] = false;
                stamp[f] = tlbclock_now();
            }
            break;
        case 2: /* a CPU flushes on its own (context switch) */
            wrapped = model_flush(c);
            break;
        case 3: /* the frame is handed out again */
            if (!mapped[f]) {
                u64 stale = tlbclock_stale_cpus((1UL << NCPU) - 1, stamp[f]);
                for (unsigned k = 0; k < NCPU; k++)
                    if (stale >> k & 1)
                        wrapped |= model_flush(k);
                for (unsigned k = 0; k < NCPU; k++)
                    if (tlb[k][f]) {
                        fprintf(stderr, "  step %u: CPU %u still holds frame %u "
                                "(frame stamp %u, cpu stamp %u, now %u)\n",
                                s, k, f, stamp[f], tlbclock_cpu_stamp(k), tlbclock_now());
                        CHECK(!tlb[k][f]);
                        return;
                    }
                mapped[f] = true;
                reuses++;
            }
            break;
        default:
            break;
        }
        if (wrapped) {
            CHECK_EQ(wrap_pending, -1); /* one wrap at a time */
            wrap_pending = (int)rnd(20);
            wraps++;
        }
        if (wrap_pending == 0) {
            for (unsigned k = 0; k < NCPU; k++)
                model_flush(k);
            tlbclock_period_done();
            wrap_pending = -1;
        } else if (wrap_pending > 0) {
            wrap_pending--;
        }
    }
    CHECK(reuses > steps / 20);
    if (mask && mask != TLBCLOCK_FULL_MASK)
        CHECK(wraps > 0);
}

TEST(model_full_width)
{
    run_model(0, 200000);
}

TEST(model_wraps_often)
{
    run_model(0xf, 200000);
    run_model(0x3f, 200000);
}

/* The clock spares flushes: with CPUs that flush now and then, most reuses
 * flush nobody. */
TEST(model_spares_flushes)
{
    run_model(0, 100000);
    CHECK(flushes < 100000 / 5 * 2);
}
