/*
 * CPU pools: the registry and its rules (hv/common/cpupool.c), on plain
 * values so the host tests and the fuzzer run them.  The mechanics (a
 * scheduler instance per pool, moving CPUs and domains between instances)
 * are hv/common/sched.c's; the sysctl layer (hv/common/sysctl.c) calls
 * those, which call these rules under the one cpupool lock.
 *
 * The rules and error codes are Xen 4.17's XEN_SYSCTL_cpupool_op.  Pool 0
 * (Pool-0) always exists and keeps CPU 0.  A CPU is in one pool or free.
 * Removing a CPU is two-step as in Xen: the first call takes it out of the
 * pool's mask and marks it "moving"; it is free once nothing of the pool
 * runs there (the sysctl answers -EAGAIN until then, and libxc retries).
 */
#ifndef KEEL_CPUPOOL_H
#define KEEL_CPUPOOL_H
#include <keel/sched_types.h>
#include <keel/types.h>

#define CPUPOOL_SLOTS 16         /* pools at once (Xen: 2 per CPU) */
#define CPUPOOL_ANY 0xFFFFFFFFu  /* XEN_SYSCTL_CPUPOOL_PAR_ANY */
#define CPUPOOL_NONE 0xFFFFFFFFu /* Xen's CPUPOOLID_NONE: no pool */

struct cpupool_entry {
    bool used;
    u32 id;
    sched_mask_t cpus; /* Xen's cpu_valid: what INFO reports */
    u32 n_dom;         /* domains bound to it (dom0 and dying ones too) */
};

struct cpupool_table {
    struct cpupool_entry pool[CPUPOOL_SLOTS]; /* slot 0 is pool 0 */
    sched_mask_t free;      /* online CPUs in no pool */
    int moving_cpu;         /* taken out of a pool, not yet free; -1: none */
    int moving_slot;
    unsigned int nr_cpu_ids; /* CPUs that may exist (ids above: -EINVAL) */
};

/* Pool 0 with `cpus`, nothing free. */
void cpupool_table_init(struct cpupool_table *t, sched_mask_t cpus, unsigned int nr_cpu_ids);
/* The slot of pool `id` (exact), or of the lowest id >= `id` (!exact);
 * -XEN_ENOENT if none. */
int cpupool_find(const struct cpupool_table *t, u32 id, bool exact);
/* CREATE: `want` or CPUPOOL_ANY (the id after the highest).  -XEN_ENOSPC
 * (2 pools per CPU, or no slot), -XEN_EEXIST, then -XEN_ENOENT when the
 * scheduler is unknown (`sched_known` false).  The new slot (no CPUs). */
int cpupool_create(struct cpupool_table *t, u32 want, bool sched_known);
/* DESTROY: -XEN_ENOENT, -XEN_EBUSY (domains or CPUs left); the freed slot. */
int cpupool_destroy(struct cpupool_table *t, u32 id);
/* ADDCPU, checks only: -XEN_ENOENT, -XEN_ENODEV (ANY and nothing free),
 * -XEN_EINVAL (cpu >= nr_cpu_ids), -XEN_ENODEV (offline or not free).
 * The slot; *cpu_out the CPU.  cpupool_addcpu_done once it is in. */
int cpupool_addcpu_check(const struct cpupool_table *t, u32 id, u32 cpu, sched_mask_t online,
                         unsigned int *cpu_out);
void cpupool_addcpu_done(struct cpupool_table *t, int slot, unsigned int cpu);
/* RMCPU, first step: -XEN_ENOENT, -XEN_EINVAL (ANY in an empty pool, cpu
 * >= nr_cpu_ids, CPU 0 of pool 0, offline), -XEN_EADDRNOTAVAIL (another CPU
 * is moving, or the CPU is not in the pool), -XEN_EBUSY (the pool's last
 * CPU while domains are bound to it).  The CPU leaves the pool's mask and
 * is the moving one; the slot, *cpu_out the CPU.  A repeat for the moving
 * CPU passes again.  cpupool_rmcpu_done once nothing runs there. */
int cpupool_rmcpu_start(struct cpupool_table *t, u32 id, u32 cpu, sched_mask_t online,
                        unsigned int *cpu_out);
void cpupool_rmcpu_done(struct cpupool_table *t);
/* MOVEDOMAIN's target, and a domain created in a pool: the slot, or
 * -XEN_ENOENT (move) / -XEN_ESRCH (create) when it does not exist, and
 * -XEN_ENOENT (move) / -XEN_ENODEV (create) when it has no CPU. */
int cpupool_target(const struct cpupool_table *t, u32 id, bool create);
#endif
