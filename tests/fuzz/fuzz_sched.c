/*
 * libFuzzer target for the scheduling policies: the input picks a policy
 * (round-robin, credit2 with shared or per-CPU runqueues, RTDS), a CPU
 * count, a context-save delay and a second CPU pool, then drives random
 * wake / sleep / block / yield / affinity / parameter / pool-migration
 * sequences through the simulator.  The simulator checks every pick (a
 * runnable vCPU of that pool, allowed on that CPU, run by no other CPU and
 * not still being saved) and, after every instant, that each runnable vCPU
 * is running or on exactly one queue as the policy sees it, that the
 * policy's own invariants hold (queue order and links, credit bounds,
 * budgets, RTDS reservations adding up).  Here on top: no runnable vCPU
 * waits beyond a bound, and no admitted RTDS vCPU misses a deadline.
 */
#include "../unit/sim_sched.h"

#define MAX_DOMS 4
#define MIN_OPS 150 /* short inputs go on with ops drawn from their hash */

/* The input's bytes, then a pseudo-random stream seeded by them: every
 * input drives a long sequence, and the fuzzer still steers its start. */
struct source {
    const u8 *data;
    size_t size, pos;
    u64 rng;
};

static u8 next_byte(struct source *src)
{
    if (src->pos < src->size)
        return src->data[src->pos++];
    src->rng ^= src->rng << 13;
    src->rng ^= src->rng >> 7;
    src->rng ^= src->rng << 17;
    return (u8)(src->rng >> 32);
}

static const struct sched_policy *policy_of(unsigned int k)
{
    return k == 0 ? &sched_rr_policy : k == 3 ? &sched_rtds_policy : &sched_credit2_policy;
}

static void fail(struct sim *sim, const char *what)
{
    fprintf(stderr, "fuzz_sched: %s\n", what ? what : sim->error);
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        struct scheduler *s = sv->v->domain->sched.sched;
        fprintf(stderr, "  d%u.v%u: %s, CPU %u, hard %llx, kind %d%s%s, state %d, ran %lld us\n",
                sv->v->domain->domid, sv->v->vcpu_id, s->policy->name, sv->v->processor,
                (unsigned long long)sv->v->affinity_hard, sv->kind,
                sv->blocked ? " blocked" : "", sv->running_on >= 0 ? " running" : "",
                s->policy->vcpu_state(s, sv->v, sim->now), (long long)sv->runtime / 1000);
    }
    abort();
}

/* How long a runnable vCPU may wait without running. */
static s_time_t wait_bound(struct sim *sim, struct sim_vcpu *sv)
{
    struct scheduler *s = sv->v->domain->sched.sched;
    struct sched_params p = {0};

    if (s->policy == &sched_rr_policy)
        return MILLISECS(10) * (sim->nvcpus + 1);
    if (s->policy == &sched_credit2_policy) {
        s->policy->dom_params(s, sv->v->domain, &p, false, sim->now);
        /* One that ran first in an epoch may run last in the next: two
         * epochs, each at most 10.5 ms of credit per vCPU plus rate-limit
         * slack.  A capped domain may wait for budget a few periods more. */
        return MILLISECS(25) * sim->nvcpus + MILLISECS(20) + (p.cap ? MILLISECS(100) : 0);
    }
    return STIME_MAX; /* RTDS: only reservations are promised (misses below) */
}

/* Waits since the last check, judged by the policy the vCPU is under. */
static void check_waits(struct sim *sim)
{
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        s_time_t waited = sv->waiting_since >= 0 ? sim->now - sv->waiting_since : 0;
        if (MAX(waited, sv->max_wait) > wait_bound(sim, sv)) {
            char buf[120];
            snprintf(buf, sizeof(buf), "d%u.v%u waited %lld us to run", sv->v->domain->domid,
                     sv->v->vcpu_id, (long long)MAX(waited, sv->max_wait) / 1000);
            fail(sim, buf);
        }
        sv->max_wait = 0;
    }
}

static void check_misses(struct sim *sim)
{
    if (sim->save_delay)
        return; /* slow saves cost CPU time the reservations did not plan for */
    for (unsigned int i = 0; i < sim->npools; i++)
        if (sim->pools[i].policy == &sched_rtds_policy && sched_rtds_misses(&sim->pools[i]))
            fail(sim, "an admitted RTDS vCPU missed a deadline");
}

static void op(struct sim *sim, struct domain **doms, unsigned int ndoms, const u8 *b)
{
    struct sim_vcpu *sv = &sim->vcpus[b[1] % sim->nvcpus];
    struct vcpu *v = sv->v;
    struct domain *d = doms[b[1] % ndoms];
    struct scheduler *s = d->sched.sched;
    sched_mask_t all = (1ULL << sim->ncpus) - 1;
    struct sched_params p = {0};
    struct sched_global g = {0};

    switch (b[0] % 10) {
    case 0:
        sim_hog(sim, v);
        break;
    case 1:
        sim_io(sim, v, MICROSECS(20) * (b[2] + 1), MICROSECS(40) * (b[3] + 1));
        break;
    case 2:
        sim_stop(sim, v);
        break;
    case 3:
        sim_yield(sim, v);
        break;
    case 4: /* masks may miss the vCPU's pool: that means "anywhere in it" */
        sim_affinity(sim, v, b[2] & 0x80 ? SCHED_MASK_ALL : (b[2] & all),
                     b[3] & 0x80 ? SCHED_MASK_ALL : (b[3] & all));
        break;
    case 5:
        if (s->policy == &sched_credit2_policy) {
            p.weight = (u32)b[2] << 8 | b[3];
            p.cap = b[3] & 1 ? 0 : b[2] % 110;
        } else {
            p.period_us = (b[2] + 1) * 100u;
            p.budget_us = (b[3] + 1) * 20u;
        }
        sim_dom_params(sim, d, &p, true);
        break;
    case 6:
        p.period_us = (b[2] + 1) * 50u;
        p.budget_us = (b[3] + 1) * 10u;
        p.flags = b[2] & 1 ? SCHED_RTDS_EXTRA : 0;
        sim_vcpu_params(sim, v, &p, true);
        break;
    case 7:
        g.ratelimit_us = b[2] & 1 ? 0 : (u32)b[3] * 40;
        s = &sim->pools[(b[2] >> 7) % sim->npools];
        s->policy->global_params(s, &g, true);
        break;
    case 8: /* waits so far count under the pool they happened in; a pool
             * with no CPU takes no domain (-ENOENT in the hypervisor) */
        if (sim->npools > 1 && sim->pools[s == &sim->pools[0]].cpus) {
            check_waits(sim);
            sim_move_domain(sim, d, &sim->pools[s == &sim->pools[0]]);
            for (unsigned int k = 0; k < d->nr_vcpus; k++)
                sim_vcpu(sim, d->vcpus[k])->max_wait = 0;
        }
        break;
    case 9: /* a CPU changes pools (never a pool's last): waits restart */
        if (sim->npools > 1) {
            unsigned int cpu = b[2] % sim->ncpus;
            check_waits(sim);
            if (sim_move_cpu(sim, cpu, &sim->pools[sim->cpu[cpu].s == &sim->pools[0]]))
                for (unsigned int k = 0; k < sim->nvcpus; k++)
                    sim->vcpus[k].max_wait = 0;
        }
        break;
    default:
        break;
    }
    if (sim->error)
        fail(sim, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const s_time_t delays[4] = {0, MICROSECS(1), MICROSECS(20), MICROSECS(300)};
    struct source src = {data, size, 0, 0x9e3779b97f4a7c15ULL};
    struct domain *doms[MAX_DOMS];
    unsigned int ndoms, ncpus;
    struct sim *sim;

    if (size < 3)
        return 0;
    for (size_t k = 0; k < size; k++)
        src.rng = (src.rng ^ data[k]) * 0x100000001b3ULL;
    src.pos = 3;
    sched_credit2_runq_per_cpu = (data[0] & 3) == 2;
    ncpus = 1 + data[1] % 4;
    sim = sim_new(policy_of(data[0] & 3), ncpus);
    sim->save_delay = delays[(data[1] >> 2) & 3];
    if ((data[0] & 4) && ncpus > 1)
        sim_pool(sim, policy_of((data[0] >> 3) & 3), 1ULL << (ncpus - 1));
    ndoms = 1 + data[2] % MAX_DOMS;
    for (unsigned int k = 0; k < ndoms; k++)
        doms[k] = sim_domain(sim, &sim->pools[(data[2] >> (2 + k)) & 1 ? sim->npools - 1 : 0],
                             1 + (data[2] >> (4 + k % 4)) % 3);
    for (size_t n = 0; (n < MIN_OPS || src.pos < size) && sim->now < SECONDS(20); n++) {
        u8 b[5];
        for (int k = 0; k < 5; k++)
            b[k] = next_byte(&src);
        op(sim, doms, ndoms, b);
        /* Then let time pass: up to ~16 ms, sometimes none. */
        sim_run(sim, sim->now + (s_time_t)b[4] * b[4] * 250);
        if (sim->error)
            fail(sim, NULL);
        check_waits(sim);
        check_misses(sim);
    }
    /* A last stretch with everything awake: nobody may starve. */
    for (unsigned int k = 0; k < sim->nvcpus; k++)
        if (sim->vcpus[k].kind == SIM_OFF)
            sim_hog(sim, sim->vcpus[k].v);
    sim_run(sim, sim->now + MILLISECS(300));
    if (sim->error)
        fail(sim, NULL);
    check_waits(sim);
    check_misses(sim);
    sim_free(sim);
    sched_credit2_runq_per_cpu = false;
    return 0;
}
