/*
 * The round-robin policy in the simulator: FIFO order with 10 ms slices,
 * per-CPU queues (vCPUs stay where they are), no slice for a vCPU alone,
 * a waker on an idle CPU runs at once, pinning moves a vCPU.
 */
#include "harness.h"
#include "sim_sched.h"

static const struct sched_policy *rr = &sched_rr_policy;

/* Three hogs on one CPU take 10 ms turns in the order they woke. */
TEST(fifo_slices)
{
    struct sim *sim = sim_new(rr, 1);
    struct vcpu *v[3];

    for (int i = 0; i < 3; i++) {
        v[i] = sim_domain(sim, &sim->pools[0], 1)->vcpus[0];
        sim_hog(sim, v[i]);
    }
    for (int turn = 0; turn < 9; turn++) {
        sim_run(sim, turn * MILLISECS(10) + MILLISECS(5));
        CHECK_EQ(sim_vcpu(sim, v[turn % 3])->running_on, 0);
    }
    sim_run(sim, SECONDS(3));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(sim_vcpu(sim, v[i])->runtime, SECONDS(1));
    CHECK_EQ(sim->cpu[0].picks, 300);
    CHECK(!sim->error);
    sim_free(sim);
}

/* A vCPU alone has no slice: no decisions until someone else wakes. */
TEST(no_slice_alone)
{
    struct sim *sim = sim_new(rr, 1);
    struct vcpu *a = sim_domain(sim, &sim->pools[0], 1)->vcpus[0];
    struct vcpu *b = sim_domain(sim, &sim->pools[0], 1)->vcpus[0];

    sim_hog(sim, a);
    sim_run(sim, SECONDS(1));
    CHECK_EQ(sim->cpu[0].picks, 1);
    CHECK_EQ(sim->cpu[0].until, STIME_MAX);
    sim_hog(sim, b); /* a keeps the CPU for one slice from now */
    sim_run(sim, SECONDS(1) + MILLISECS(9));
    CHECK_EQ(sim_vcpu(sim, a)->running_on, 0);
    sim_run(sim, SECONDS(1) + MILLISECS(11));
    CHECK_EQ(sim_vcpu(sim, b)->running_on, 0);
    CHECK(!sim->error);
    sim_free(sim);
}

/* Queues are per CPU: vCPUs stay on the CPU they were given; a waker on
 * an idle CPU runs at once; yield rotates. */
TEST(per_cpu_queues)
{
    struct sim *sim = sim_new(rr, 2);
    struct domain *d = sim_domain(sim, &sim->pools[0], 4);
    struct vcpu *io = sim_domain(sim, &sim->pools[0], 1)->vcpus[0];

    for (int i = 0; i < 4; i++)
        sim_hog(sim, d->vcpus[i]);
    sim_affinity(sim, io, 1ULL << 1, SCHED_MASK_ALL);
    sim_io(sim, io, MICROSECS(100), MILLISECS(50));
    sim_run(sim, SECONDS(2));
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(sim_vcpu(sim, d->vcpus[i])->picks_elsewhere, 0);
        CHECK_EQ(sim_vcpu(sim, d->vcpus[i])->last_cpu, i % 2);
    }
    CHECK_EQ(sim_vcpu(sim, io)->last_cpu, 1);
    sim_yield(sim, d->vcpus[sim_vcpu(sim, d->vcpus[0])->running_on == 0 ? 0 : 2]);
    sim_run(sim, sim->now + 1);
    CHECK(!sim->error);
    sim_free(sim);
}

/* Pinning moves a vCPU to the named CPU, running or not. */
TEST(pin_moves)
{
    struct sim *sim = sim_new(rr, 3);
    struct domain *d = sim_domain(sim, &sim->pools[0], 3);
    struct sim_vcpu *sv = sim_vcpu(sim, d->vcpus[0]);

    for (int i = 0; i < 3; i++)
        sim_hog(sim, d->vcpus[i]);
    for (unsigned int cpu = 2; cpu < 5; cpu++) {
        sim_affinity(sim, d->vcpus[0], 1ULL << (cpu % 3), SCHED_MASK_ALL);
        sim_run(sim, sim->now + MILLISECS(100));
        CHECK_EQ(sv->last_cpu, cpu % 3);
        CHECK_EQ(d->vcpus[0]->processor, cpu % 3);
    }
    CHECK(!sim->error);
    sim_free(sim);
}

TEST(no_params)
{
    struct sim *sim = sim_new(rr, 1);
    struct domain *d = sim_domain(sim, &sim->pools[0], 1);
    struct sched_params p = {0};

    CHECK_EQ(sim_dom_params(sim, d, &p, false), -XEN_EINVAL);
    CHECK_EQ(sim_vcpu_params(sim, d->vcpus[0], &p, true), -XEN_EINVAL);
    sim_free(sim);
}

/* Found by the fuzzer: the waiter that started a slice leaves before it
 * ends; the slice must not stay behind in the past (a CPU that keeps
 * deciding at the same instant never runs a guest). */
TEST(slice_dropped_when_waiter_leaves)
{
    struct sim *sim = sim_new(rr, 1);
    struct vcpu *a = sim_domain(sim, &sim->pools[0], 1)->vcpus[0];
    struct vcpu *b = sim_domain(sim, &sim->pools[0], 1)->vcpus[0];

    sim_hog(sim, a);
    sim_run(sim, MILLISECS(5));
    sim_hog(sim, b);
    sim_run(sim, MILLISECS(8));
    sim_stop(sim, b);
    sim_run(sim, MILLISECS(100));
    CHECK_EQ(sim->cpu[0].until, STIME_MAX);
    CHECK_EQ(sim_vcpu(sim, a)->runtime, MILLISECS(100));
    CHECK(!sim->error);
    sim_free(sim);
}
