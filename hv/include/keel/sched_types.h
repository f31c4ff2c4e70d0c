/*
 * What the scheduler keeps inside struct vcpu and struct domain: affinity
 * masks the framework owns, and fixed areas for a policy's private state, so
 * that adding a vCPU or a domain to a policy never allocates (and never
 * fails).  Each policy checks at build time that its state fits.
 */
#ifndef KEEL_SCHED_TYPES_H
#define KEEL_SCHED_TYPES_H
#include <keel/types.h>

#define SCHED_MAX_CPUS 64
typedef u64 sched_mask_t; /* one bit per physical CPU */
#define SCHED_MASK_ALL (~(sched_mask_t)0)

struct scheduler;

struct sched_vcpu {
    sched_mask_t hard_affinity; /* may run only here (xl vcpu-pin) */
    sched_mask_t soft_affinity; /* would rather run here */
    u64 priv[24];               /* the policy's per-vCPU state */
};

struct sched_dom {
    struct scheduler *sched;    /* the instance (CPU pool) it runs in */
    u64 priv[16];               /* the policy's per-domain state */
};

#endif
