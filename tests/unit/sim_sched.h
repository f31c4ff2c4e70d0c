/*
 * A scheduling simulator for the host: a simulated clock, simulated CPUs and
 * simulated vCPUs (CPU hogs, I/O-bound vCPUs that block and wake) driving a
 * policy through exactly the contract of keel/sched_policy.h, the way the
 * hypervisor's framework does.  It checks the policy as it goes (a pick
 * must name a runnable vCPU allowed on that CPU that no other CPU runs or
 * is still saving; the policy's own state must agree with the framework's)
 * and records run times and wake-up latencies for the tests.
 *
 * Switches take no time; a context save completes `save_delay` after the
 * switch (0: at once, but after the pick has returned), which lets the
 * fuzzer open the window in which another CPU could wrongly take a vCPU.
 * A CPU finishes its own save before it decides again, as a real one does.
 */
#ifndef SIM_SCHED_H
#define SIM_SCHED_H
#include <keel/sched_policy.h>

#define SIM_MAX_CPUS 8
#define SIM_MAX_POOLS 4
#define SIM_MAX_VCPUS 32

enum sim_kind {
    SIM_OFF, /* never runnable (created, not started) */
    SIM_HOG, /* always runnable */
    SIM_IO,  /* runs `burst` of CPU time, blocks `pause`, again and again */
};

struct sim_vcpu {
    struct vcpu *v;
    enum sim_kind kind;
    s_time_t burst, pause, left; /* SIM_IO: CPU time still to use this burst */
    s_time_t wake_at;            /* SIM_IO: blocked until (STIME_MAX: not) */
    bool blocked, migrating, paused;
    int running_on;              /* CPU, or -1 */
    bool saving;                 /* switched off, context save pending */
    s_time_t save_at;
    unsigned int saving_cpu;     /* the CPU doing the save */
    /* Statistics. */
    s_time_t runtime;            /* total time on a CPU */
    s_time_t waiting_since;      /* runnable but not running since (-1: not) */
    s_time_t max_wait;           /* longest such stretch that ended */
    s_time_t max_wake_latency;   /* longest wake -> running */
    s_time_t woke_at;            /* last wake (-1: latency already counted) */
    unsigned long wakes, picks_elsewhere;
    int last_cpu;
};

struct sim_cpu {
    struct scheduler *s;         /* the pool it belongs to, or NULL */
    struct vcpu *curr;
    s_time_t until;
    bool tickled;
    unsigned long picks, tickles;
};

struct sim {
    s_time_t now;
    unsigned int ncpus;
    s_time_t save_delay;
    struct sim_cpu cpu[SIM_MAX_CPUS];
    struct scheduler pools[SIM_MAX_POOLS];
    s_time_t event_at[SIM_MAX_POOLS];
    unsigned int npools;
    struct sim_vcpu vcpus[SIM_MAX_VCPUS];
    unsigned int nvcpus;
    struct domain *doms[SIM_MAX_VCPUS];
    unsigned int ndoms;
    /* What went wrong first (NULL: nothing).  Tests CHECK it; the fuzzer
     * aborts on it. */
    const char *error;
    char error_buf[200];
};

/* A simulator with one pool of `ncpus` CPUs under `policy`. */
struct sim *sim_new(const struct sched_policy *policy, unsigned int ncpus);
void sim_free(struct sim *sim);
/* Another pool: `cpus` leave their pool (which must have nothing on them
 * that cannot go elsewhere) and form a new one under `policy`. */
struct scheduler *sim_pool(struct sim *sim, const struct sched_policy *policy, sched_mask_t cpus);
/* A domain of nr vCPUs in pool `s`; its vCPUs are SIM_OFF. */
struct domain *sim_domain(struct sim *sim, struct scheduler *s, unsigned int nr);
struct sim_vcpu *sim_vcpu(struct sim *sim, const struct vcpu *v);

void sim_hog(struct sim *sim, struct vcpu *v);
void sim_io(struct sim *sim, struct vcpu *v, s_time_t burst, s_time_t pause);
void sim_stop(struct sim *sim, struct vcpu *v); /* block for good */
void sim_yield(struct sim *sim, struct vcpu *v);
void sim_affinity(struct sim *sim, struct vcpu *v, sched_mask_t hard, sched_mask_t soft);
/* cpupool-cpu-remove + -add, as the hypervisor does it: the CPU leaves its
 * pool's mask, vCPUs placed there move (a hard affinity left with none of
 * the pool's CPUs is reset to all), time runs until nothing of the old pool
 * is on it, then it joins `to`.  False (nothing done) when it is its
 * pool's last CPU. */
bool sim_move_cpu(struct sim *sim, unsigned int cpu, struct scheduler *to);
/* cpupool-migrate: pause d, move it to pool `to`, unpause. */
void sim_move_domain(struct sim *sim, struct domain *d, struct scheduler *to);
int sim_dom_params(struct sim *sim, struct domain *d, struct sched_params *p, bool put);
int sim_vcpu_params(struct sim *sim, struct vcpu *v, struct sched_params *p, bool put);

/* Run the simulation until `until` (events at `until` itself not yet). */
void sim_run(struct sim *sim, s_time_t until);
/* Check that the policy's view of every vCPU matches the framework's. */
void sim_check(struct sim *sim);
#endif
