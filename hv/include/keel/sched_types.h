/*
 * What the scheduler keeps inside struct vcpu and struct domain: fixed areas
 * for a policy's private state, so that adding a vCPU or a domain to a policy
 * never allocates (and never fails).  Each policy checks at build time that
 * its state fits.
 */
#ifndef KEEL_SCHED_TYPES_H
#define KEEL_SCHED_TYPES_H
#include <keel/types.h>

#define SCHED_MAX_CPUS 64
typedef u64 sched_mask_t; /* one bit per physical CPU */
#define SCHED_MASK_ALL (~(sched_mask_t)0)

struct scheduler;

/* The affinity masks are struct vcpu's affinity_hard / affinity_soft. */
struct sched_vcpu {
    u64 priv[24];               /* the policy's per-vCPU state */
};

struct sched_dom {
    struct scheduler *sched;    /* the instance (CPU pool) it runs in */
    u64 priv[16];               /* the policy's per-domain state */
};

/* Parameters of a domain or of one vCPU, as the domctl carries them. */
struct sched_params {
    u32 weight;    /* credit2: relative share, 1..65535 (put: 0 = keep) */
    u32 cap;       /* credit2: % of one CPU, 0 = none */
    u32 period_us; /* rtds */
    u32 budget_us; /* rtds */
    u32 flags;     /* rtds: SCHED_RTDS_EXTRA */
};
#define SCHED_RTDS_EXTRA 1u /* = XEN_DOMCTL_SCHEDRT_extra: may run past budget */

/* Instance-wide parameters, as the sysctl carries them. */
struct sched_global {
    u32 ratelimit_us; /* credit2: 0 = no rate limit */
};

#endif
