/*
 * Guest-visible time for vCPUs: the single-shot, periodic and poll timers
 * behind VCPUOP_*_timer, set_timer_op and SCHEDOP_poll, and the runstate
 * record.  The arithmetic at the bottom needs no hardware and is unit
 * tested on the host (hv/common/vtime.c).
 */
#ifndef KEEL_VTIME_H
#define KEEL_VTIME_H
#include <keel/time.h>
#include <keel/types.h>
#include <xen/xen.h>
#include <xen/vcpu.h>

/* Xen starts every PV vCPU with this periodic VIRQ_TIMER tick (100 Hz). */
#define VCPU_DEFAULT_PERIOD MILLISECS(10)
/* Shortest period VCPUOP_set_periodic_timer accepts. */
#define VCPU_MIN_PERIOD MILLISECS(1)
/* Deadlines further away than this are clamped (about 13 days). */
#define VTIMER_MAX_AHEAD ((s_time_t)1 << 50)

#ifndef KEEL_HOST
struct vcpu;
/* At vCPU creation: the timers live on the vCPU's CPU. */
void vcpu_timers_init(struct vcpu *v);
/* The vCPU runs on this CPU now: start its periodic tick if due. */
void vcpu_timers_switch_in(struct vcpu *v);
/* Stops every timer of v (VCPUOP_down, shutdown). */
void vcpu_timers_stop(struct vcpu *v);
/* Stops them for good (domain destruction): nothing re-arms them. */
void vcpu_timers_kill(struct vcpu *v);
/* The vCPU was placed on another CPU: its timers follow. */
void vcpu_timers_migrate(struct vcpu *v, unsigned int cpu);
long vcpu_set_singleshot(struct vcpu *v, u64 deadline);
void vcpu_stop_singleshot(struct vcpu *v);
/* period 0 stops; else -XEN_EINVAL for periods vtime_period_ok refuses. */
long vcpu_set_periodic(struct vcpu *v, u64 period_ns);
void vcpu_set_poll_timeout(struct vcpu *v, u64 deadline);
void vcpu_stop_poll_timeout(struct vcpu *v);
#endif

/* VCPUOP_set_periodic_timer's limits: 0 or -XEN_EINVAL. */
int vtime_period_ok(u64 period_ns);
/* When a periodic timer that was due at `due` fires next, given that it
 * is `now`: one period on, skipping ticks that were missed entirely. */
s_time_t vtime_periodic_next(s_time_t due, s_time_t period, s_time_t now);
/* A guest's absolute deadline as a timer expiry: deadlines absurdly far
 * ahead (or negative as s_time_t) become now + VTIMER_MAX_AHEAD. */
s_time_t vtime_deadline(u64 deadline, s_time_t now);
/* VCPUOP_register_vcpu_info: 0 when a vcpu_info fits at `offset` in a
 * page, else -XEN_ENXIO (Xen's answer). */
int vtime_vcpu_info_offset_ok(u64 offset);
/* The runstate as of `now`: the current state's time brought up to date. */
void vtime_runstate_snapshot(const struct vcpu_runstate_info *in, s_time_t now,
                             struct vcpu_runstate_info *out);
#endif
