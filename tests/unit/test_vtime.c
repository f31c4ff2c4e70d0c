/* Guest timer and runstate arithmetic (hv/common/vtime.c). */
#include <keel/vtime.h>
#include <xen/errno.h>

#include "harness.h"

TEST(period_limits)
{
    CHECK_EQ(vtime_period_ok(0), -XEN_EINVAL);
    CHECK_EQ(vtime_period_ok(100000), -XEN_EINVAL);          /* 0.1 ms */
    CHECK_EQ(vtime_period_ok(MILLISECS(1) - 1), -XEN_EINVAL);
    CHECK_EQ(vtime_period_ok(MILLISECS(1)), 0);
    CHECK_EQ(vtime_period_ok(MILLISECS(10)), 0);
    CHECK_EQ(vtime_period_ok(~0ULL), -XEN_EINVAL);           /* negative as s_time_t */
}

TEST(periodic_next_on_time)
{
    /* Fired on time: exactly one period later, no drift. */
    CHECK_EQ(vtime_periodic_next(1000, 100, 1000), 1100);
    CHECK_EQ(vtime_periodic_next(1000, 100, 1099), 1100);
}

TEST(periodic_next_skips_missed_ticks)
{
    /* Fired late by 3.5 periods: next is on the original grid, in the future. */
    CHECK_EQ(vtime_periodic_next(1000, 100, 1350), 1400);
    /* Exactly on a grid point counts as passed. */
    CHECK_EQ(vtime_periodic_next(1000, 100, 1400), 1500);
    CHECK(vtime_periodic_next(0, 7, 1000000) > 1000000);
}

TEST(periodic_next_zero_period)
{
    CHECK_EQ(vtime_periodic_next(1000, 0, 5000), 5000);
}

TEST(deadline_passthrough_and_clamp)
{
    s_time_t now = SECONDS(100);
    CHECK_EQ(vtime_deadline(5, now), 5);                        /* past: fires at once */
    CHECK_EQ(vtime_deadline((u64)now + 1000, now), now + 1000);
    CHECK_EQ(vtime_deadline((u64)now + VTIMER_MAX_AHEAD, now), now + VTIMER_MAX_AHEAD);
    CHECK_EQ(vtime_deadline((u64)now + VTIMER_MAX_AHEAD + 1, now), now + VTIMER_MAX_AHEAD);
    CHECK_EQ(vtime_deadline(~0ULL, now), now + VTIMER_MAX_AHEAD);
    CHECK_EQ(vtime_deadline(1ULL << 63, now), now + VTIMER_MAX_AHEAD);
}

TEST(vcpu_info_offset)
{
    CHECK_EQ(sizeof(struct vcpu_info), 64);
    CHECK_EQ(vtime_vcpu_info_offset_ok(0), 0);
    CHECK_EQ(vtime_vcpu_info_offset_ok(0x80), 0);
    CHECK_EQ(vtime_vcpu_info_offset_ok(4096 - 64), 0);
    CHECK_EQ(vtime_vcpu_info_offset_ok(4096 - 63), -XEN_ENXIO);
    CHECK_EQ(vtime_vcpu_info_offset_ok(4096 - 32), -XEN_ENXIO);
    CHECK_EQ(vtime_vcpu_info_offset_ok(1ULL << 40), -XEN_ENXIO);
}

TEST(runstate_snapshot_adds_current_state)
{
    struct vcpu_runstate_info in, out;
    memset(&in, 0, sizeof(in));
    in.state = RUNSTATE_running;
    in.state_entry_time = 1000;
    in.time[RUNSTATE_running] = 50;
    in.time[RUNSTATE_blocked] = 7;
    vtime_runstate_snapshot(&in, 1600, &out);
    CHECK_EQ(out.state, RUNSTATE_running);
    CHECK_EQ(out.state_entry_time, 1000);
    CHECK_EQ(out.time[RUNSTATE_running], 650);
    CHECK_EQ(out.time[RUNSTATE_blocked], 7);
    CHECK_EQ(in.time[RUNSTATE_running], 50); /* input untouched */
}

TEST(runstate_snapshot_clock_behind_entry)
{
    struct vcpu_runstate_info in, out;
    memset(&in, 0, sizeof(in));
    in.state = RUNSTATE_blocked;
    in.state_entry_time = 2000;
    vtime_runstate_snapshot(&in, 1500, &out); /* never negative time */
    CHECK_EQ(out.time[RUNSTATE_blocked], 0);
    in.state = 9; /* corrupt state: nothing indexed out of range */
    vtime_runstate_snapshot(&in, 3000, &out);
    CHECK_EQ(out.state, 9);
}
