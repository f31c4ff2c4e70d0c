/*
 * System time: nanoseconds since boot, from the TSC.  A tick count becomes
 * nanoseconds with the same 32.32 multiplier and power-of-two shift that
 * Xen's struct vcpu_time_info gives PV guests (tsc_to_system_mul,
 * tsc_shift), so the numbers Keel uses are exactly the ones guests get.
 */
#ifndef KEEL_TIME_H
#define KEEL_TIME_H
#include <keel/types.h>

typedef s64 s_time_t;

#define MILLISECS(ms) ((s_time_t)(ms) * 1000000)
#define MICROSECS(us) ((s_time_t)(us) * 1000)
#define SECONDS(s) ((s_time_t)(s) * 1000000000)
#define STIME_MAX INT64_MAX

/* out = ((in << shift) * mul) >> 32, shifting right when shift < 0. */
struct time_scale {
    u32 mul;
    s8 shift;
};

/* Scale for converting counts at from_hz into counts at to_hz. */
void time_scale_init(struct time_scale *s, u64 from_hz, u64 to_hz);

static inline u64 scale_delta(u64 delta, const struct time_scale *s)
{
    if (s->shift < 0)
        delta >>= -s->shift;
    else
        delta <<= s->shift;
    return (u64)(((unsigned __int128)delta * s->mul) >> 32);
}

#ifndef KEEL_HOST
void time_init(void);     /* BSP: calibrate, then time_init_cpu() */
void time_init_cpu(void); /* every CPU: set up its LAPIC timer */
s_time_t NOW(void);
u64 tsc_khz(void);
/* The scale from TSC ticks to ns, and the TSC at system time 0 (for PV). */
const struct time_scale *tsc_to_ns_scale(void);
u64 boot_tsc(void);
/* Ask for a timer interrupt on this CPU at system time `deadline` (a time
 * already past fires at once); 0 cancels. */
void reprogram_timer(s_time_t deadline);
#endif
#endif
