/*
 * Arithmetic of guest timers and runstate (see keel/vtime.h); no
 * hardware, so it also builds on the host for the unit tests.
 */
#include <keel/vtime.h>
#include <xen/errno.h>

int vtime_period_ok(u64 period_ns)
{
    if (period_ns < (u64)VCPU_MIN_PERIOD || period_ns > (u64)VTIMER_MAX_AHEAD)
        return -XEN_EINVAL;
    return 0;
}

s_time_t vtime_periodic_next(s_time_t due, s_time_t period, s_time_t now)
{
    s_time_t next = due + period;

    if (period <= 0)
        return now;
    /* A vCPU that did not run for a while gets one tick, not a burst. */
    if (next <= now)
        next += ((now - next) / period + 1) * period;
    return next;
}

s_time_t vtime_deadline(u64 deadline, s_time_t now)
{
    s_time_t d = (s_time_t)deadline;

    if (d < 0 || (d > now && d - now > VTIMER_MAX_AHEAD))
        return now + VTIMER_MAX_AHEAD;
    return d;
}

int vtime_vcpu_info_offset_ok(u64 offset)
{
    return offset <= PAGE_SIZE - sizeof(struct vcpu_info) ? 0 : -XEN_ENXIO;
}

void vtime_runstate_snapshot(const struct vcpu_runstate_info *in, s_time_t now,
                             struct vcpu_runstate_info *out)
{
    *out = *in;
    if (in->state >= 0 && (size_t)in->state < ARRAY_SIZE(out->time) && now > (s_time_t)in->state_entry_time)
        out->time[in->state] += (u64)(now - (s_time_t)in->state_entry_time);
}
