/* The scheduling simulator (see sim_sched.h). */
#include "sim_sched.h"

#include <stdarg.h>

/* SIM_TRACE=1 in the environment: every framework step on stderr. */
static int trace_on = -1;
#define TRACE(sim, ...)                                                        \
    do {                                                                       \
        if (trace_on < 0)                                                      \
            trace_on = getenv("SIM_TRACE") != NULL;                            \
        if (trace_on) {                                                        \
            fprintf(stderr, "%12lld ", (long long)(sim)->now);                 \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)
#define VNAME(v) (v)->domain->domid, (v)->vcpu_id

static void sim_fail(struct sim *sim, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (sim->error)
        return;
    n = snprintf(sim->error_buf, sizeof(sim->error_buf), "t=%lld: ", (long long)sim->now);
    va_start(ap, fmt);
    vsnprintf(sim->error_buf + n, sizeof(sim->error_buf) - (size_t)n, fmt, ap);
    va_end(ap);
    sim->error = sim->error_buf;
}

struct sim_vcpu *sim_vcpu(struct sim *sim, const struct vcpu *v)
{
    for (unsigned int i = 0; i < sim->nvcpus; i++)
        if (sim->vcpus[i].v == v)
            return &sim->vcpus[i];
    abort();
}

static struct scheduler *sched_of(const struct vcpu *v)
{
    return v->domain->sched.sched;
}

static bool runnable(const struct sim_vcpu *sv)
{
    return sv->kind != SIM_OFF && !sv->blocked && !sv->migrating && !sv->paused;
}

/* ---------------------------------------------------------------- callbacks */

static void sim_tickle(struct scheduler *s, unsigned int cpu)
{
    struct sim *sim = s->owner;

    if (cpu >= sim->ncpus || sim->cpu[cpu].s != s) {
        sim_fail(sim, "%s tickled CPU %u outside its pool", s->policy->name, cpu);
        return;
    }
    sim->cpu[cpu].tickled = true;
    sim->cpu[cpu].tickles++;
    TRACE(sim, "tickle CPU %u", cpu);
}

static void sim_arm(struct scheduler *s, s_time_t when)
{
    struct sim *sim = s->owner;

    sim->event_at[s - sim->pools] = when;
    TRACE(sim, "arm pool %d at %lld", (int)(s - sim->pools), (long long)when);
}

/* Framework locks: single-threaded, so a lock found held was leaked. */
static spinlock_t *lock_cpu(struct sim *sim, struct scheduler *s, unsigned int cpu)
{
    spinlock_t *l = s->policy->cpu_lock(s, cpu);

    if (!spin_trylock(l)) {
        sim_fail(sim, "%s: lock of CPU %u left held", s->policy->name, cpu);
        return NULL;
    }
    return l;
}

static void unlock(spinlock_t *l)
{
    if (l)
        spin_unlock(l);
}

/* ---------------------------------------------------------------- framework */

static void note_waiting(struct sim *sim, struct sim_vcpu *sv)
{
    if (runnable(sv) && sv->running_on < 0 && sv->waiting_since < 0)
        sv->waiting_since = sim->now;
}

static void end_waiting(struct sim *sim, struct sim_vcpu *sv)
{
    if (sv->waiting_since >= 0)
        sv->max_wait = MAX(sv->max_wait, sim->now - sv->waiting_since);
    sv->waiting_since = -1;
}

static void fw_wake(struct sim *sim, struct sim_vcpu *sv)
{
    struct scheduler *s = sched_of(sv->v);
    spinlock_t *l;

    if (!runnable(sv))
        return;
    TRACE(sim, "wake d%u.v%u (CPU %u)", VNAME(sv->v), sv->v->processor);
    l = lock_cpu(sim, s, sv->v->processor);
    s->policy->wake(s, sv->v, sim->now);
    unlock(l);
    sv->wakes++;
    if (sv->running_on < 0) {
        if (sv->woke_at < 0)
            sv->woke_at = sim->now;
        note_waiting(sim, sv);
    }
}

static void fw_sleep(struct sim *sim, struct sim_vcpu *sv)
{
    struct scheduler *s = sched_of(sv->v);
    spinlock_t *l;

    if (runnable(sv))
        return;
    TRACE(sim, "sleep d%u.v%u (CPU %u)", VNAME(sv->v), sv->v->processor);
    l = lock_cpu(sim, s, sv->v->processor);
    s->policy->sleep(s, sv->v, sim->now);
    unlock(l);
    end_waiting(sim, sv);
    sv->woke_at = -1;
}

static void check_pick(struct sim *sim, unsigned int cpu, struct vcpu *next)
{
    struct scheduler *s = sim->cpu[cpu].s;
    struct sim_vcpu *sv = sim_vcpu(sim, next);

    if (sched_of(next) != s)
        sim_fail(sim, "CPU %u picked d%u.v%u of another pool", cpu, next->domain->domid,
                 next->vcpu_id);
    else if (!runnable(sv))
        sim_fail(sim, "CPU %u picked d%u.v%u, which is not runnable", cpu, next->domain->domid,
                 next->vcpu_id);
    else if (!sched_mask_test(sched_hard(s, next), cpu))
        sim_fail(sim, "CPU %u picked d%u.v%u outside its hard affinity", cpu,
                 next->domain->domid, next->vcpu_id);
    else if (next->processor != cpu)
        sim_fail(sim, "CPU %u picked d%u.v%u whose processor is %u", cpu, next->domain->domid,
                 next->vcpu_id, next->processor);
    else if (sv->running_on >= 0 && sv->running_on != (int)cpu)
        sim_fail(sim, "CPU %u picked d%u.v%u, running on CPU %d", cpu, next->domain->domid,
                 next->vcpu_id, sv->running_on);
    else if (sv->saving && sim->cpu[cpu].curr != next)
        sim_fail(sim, "CPU %u picked d%u.v%u before its context was saved", cpu,
                 next->domain->domid, next->vcpu_id);
}

static void switch_to(struct sim *sim, unsigned int cpu, struct vcpu *next)
{
    struct sim_cpu *c = &sim->cpu[cpu];

    if (c->curr) {
        struct sim_vcpu *p = sim_vcpu(sim, c->curr);
        p->running_on = -1;
        p->saving = true;
        p->save_at = sim->now + sim->save_delay;
        p->saving_cpu = cpu;
        note_waiting(sim, p);
    }
    if (next) {
        struct sim_vcpu *n = sim_vcpu(sim, next);
        n->running_on = (int)cpu;
        end_waiting(sim, n);
        if (n->woke_at >= 0)
            n->max_wake_latency = MAX(n->max_wake_latency, sim->now - n->woke_at);
        n->woke_at = -1;
        if (n->last_cpu >= 0 && n->last_cpu != (int)cpu)
            n->picks_elsewhere++;
        n->last_cpu = (int)cpu;
    }
    c->curr = next;
}

static void save_context(struct sim *sim, struct sim_vcpu *sv);

static void schedule(struct sim *sim, unsigned int cpu)
{
    struct sim_cpu *c = &sim->cpu[cpu];
    struct scheduler *s = c->s;
    struct sched_pick p;
    spinlock_t *l;

    for (unsigned int i = 0; i < sim->nvcpus; i++)
        if (sim->vcpus[i].saving && sim->vcpus[i].saving_cpu == cpu)
            save_context(sim, &sim->vcpus[i]);
    c->tickled = false;
    l = lock_cpu(sim, s, cpu);
    p = s->policy->pick(s, cpu, sim->now);
    unlock(l);
    c->picks++;
    if (p.next)
        TRACE(sim, "CPU %u picks d%u.v%u until %lld", cpu, VNAME(p.next), (long long)p.until);
    else
        TRACE(sim, "CPU %u idles", cpu);
    if (p.next)
        check_pick(sim, cpu, p.next);
    if (sim->error)
        return;
    if (p.next != c->curr)
        switch_to(sim, cpu, p.next);
    c->until = p.until;
}

static void finish_move(struct sim *sim, struct sim_vcpu *sv)
{
    struct scheduler *s = sched_of(sv->v);

    s->policy->move(s, sv->v, sim->now);
    if (!sched_mask_test(sched_hard(s, sv->v), sv->v->processor))
        sim_fail(sim, "move left d%u.v%u on CPU %u, outside its hard affinity",
                 sv->v->domain->domid, sv->v->vcpu_id, sv->v->processor);
    sv->migrating = false;
    fw_wake(sim, sv);
}

static void save_context(struct sim *sim, struct sim_vcpu *sv)
{
    struct scheduler *s = sched_of(sv->v);

    sv->saving = false;
    TRACE(sim, "saved d%u.v%u", VNAME(sv->v));
    s->policy->context_saved(s, sv->v, sim->now);
    if (sv->migrating)
        finish_move(sim, sv);
}

static void block(struct sim *sim, struct sim_vcpu *sv)
{
    sv->blocked = true;
    sv->wake_at = sim->now + sv->pause;
    fw_sleep(sim, sv);
}

static void unblock(struct sim *sim, struct sim_vcpu *sv)
{
    sv->blocked = false;
    sv->wake_at = STIME_MAX;
    sv->left = sv->burst;
    fw_wake(sim, sv);
}

/* One round of everything due now; false when there was nothing. */
static bool step(struct sim *sim)
{
    bool did = false;

    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        if (sv->saving && sv->save_at <= sim->now) {
            save_context(sim, sv);
            did = true;
        }
    }
    for (unsigned int i = 0; i < sim->npools; i++)
        if (sim->event_at[i] <= sim->now) {
            sim->event_at[i] = STIME_MAX;
            TRACE(sim, "event pool %u", i);
            sim->pools[i].policy->event(&sim->pools[i], sim->now);
            did = true;
        }
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        if (sv->kind != SIM_IO)
            continue;
        if (sv->blocked && sv->wake_at <= sim->now) {
            unblock(sim, sv);
            did = true;
        } else if (!sv->blocked && sv->running_on >= 0 && sv->left <= 0) {
            block(sim, sv);
            did = true;
        }
    }
    for (unsigned int cpu = 0; cpu < sim->ncpus; cpu++) {
        struct sim_cpu *c = &sim->cpu[cpu];
        if (c->s && (c->tickled || c->until <= sim->now)) {
            schedule(sim, cpu);
            did = true;
        }
    }
    return did;
}

static void settle(struct sim *sim)
{
    for (unsigned int n = 0; step(sim) && !sim->error; n++)
        if (n > 10000) {
            sim_fail(sim, "no progress: the same instant keeps asking for decisions");
            return;
        }
}

static s_time_t next_event(struct sim *sim)
{
    s_time_t t = STIME_MAX;

    for (unsigned int cpu = 0; cpu < sim->ncpus; cpu++)
        if (sim->cpu[cpu].s)
            t = MIN(t, sim->cpu[cpu].until);
    for (unsigned int i = 0; i < sim->npools; i++)
        t = MIN(t, sim->event_at[i]);
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        if (sv->saving)
            t = MIN(t, sv->save_at);
        if (sv->kind == SIM_IO && sv->blocked)
            t = MIN(t, sv->wake_at);
        if (sv->kind == SIM_IO && !sv->blocked && sv->running_on >= 0)
            t = MIN(t, sim->now + sv->left);
    }
    return t;
}

static void advance(struct sim *sim, s_time_t to)
{
    s_time_t dt = to - sim->now;

    for (unsigned int cpu = 0; cpu < sim->ncpus; cpu++) {
        struct vcpu *v = sim->cpu[cpu].curr;
        if (v) {
            struct sim_vcpu *sv = sim_vcpu(sim, v);
            sv->runtime += dt;
            if (sv->kind == SIM_IO)
                sv->left -= dt;
        }
    }
    sim->now = to;
}

void sim_run(struct sim *sim, s_time_t until)
{
    while (!sim->error) {
        s_time_t t;
        settle(sim);
        sim_check(sim);
        t = next_event(sim);
        if (t >= until) {
            advance(sim, until);
            return;
        }
        advance(sim, t);
    }
}

void sim_check(struct sim *sim)
{
    for (unsigned int i = 0; i < sim->nvcpus && !sim->error; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        struct vcpu *v = sv->v;
        struct scheduler *s = sched_of(v);
        spinlock_t *l = lock_cpu(sim, s, v->processor);
        enum sched_vstate st = s->policy->vcpu_state(s, v, sim->now);
        unsigned int d = v->domain->domid, n = v->vcpu_id;

        unlock(l);
        if (st == SCHED_VS_BROKEN)
            sim_fail(sim, "%s: d%u.v%u: internal state broken", s->policy->name, d, n);
        else if (sv->running_on >= 0 &&
                 (st != SCHED_VS_RUNNING || v->processor != (unsigned)sv->running_on))
            sim_fail(sim, "d%u.v%u runs on CPU %d but the policy says state %d, CPU %u", d, n,
                     sv->running_on, st, v->processor);
        else if (sv->running_on >= 0 && !runnable(sv))
            sim_fail(sim, "d%u.v%u stopped being runnable but still runs on CPU %d", d, n,
                     sv->running_on);
        else if (sv->running_on < 0 && st == SCHED_VS_RUNNING)
            sim_fail(sim, "the policy thinks d%u.v%u runs, but it does not", d, n);
        else if (sv->running_on < 0 && !sv->saving && runnable(sv) &&
                 st != SCHED_VS_QUEUED && st != SCHED_VS_HELD)
            sim_fail(sim, "d%u.v%u is runnable but on no queue (state %d)", d, n, st);
        else if (sv->running_on < 0 && !sv->saving && !runnable(sv) && st != SCHED_VS_ASLEEP)
            sim_fail(sim, "d%u.v%u is not runnable but the policy has it in state %d", d, n, st);
    }
}

/* ---------------------------------------------------------------- setup */

static void pool_init(struct sim *sim, struct scheduler *s, const struct sched_policy *policy)
{
    s->policy = policy;
    s->priv = calloc(1, policy->priv_size);
    s->cpus = 0;
    s->tickle = sim_tickle;
    s->arm = sim_arm;
    s->owner = sim;
    sim->event_at[s - sim->pools] = STIME_MAX;
    policy->init(s);
}

static void pool_add_cpu(struct sim *sim, struct scheduler *s, unsigned int cpu)
{
    s->cpus |= 1ULL << cpu;
    s->policy->add_cpu(s, cpu);
    sim->cpu[cpu].s = s;
    sim->cpu[cpu].until = STIME_MAX;
    sim->cpu[cpu].tickled = true;
}

struct sim *sim_new(const struct sched_policy *policy, unsigned int ncpus)
{
    struct sim *sim = calloc(1, sizeof(*sim));

    if (ncpus > SIM_MAX_CPUS)
        abort();
    sim->ncpus = ncpus;
    sim->npools = 1;
    pool_init(sim, &sim->pools[0], policy);
    for (unsigned int cpu = 0; cpu < ncpus; cpu++)
        pool_add_cpu(sim, &sim->pools[0], cpu);
    return sim;
}

struct scheduler *sim_pool(struct sim *sim, const struct sched_policy *policy, sched_mask_t cpus)
{
    struct scheduler *s = &sim->pools[sim->npools++];

    pool_init(sim, s, policy);
    for (unsigned int cpu = 0; cpu < sim->ncpus; cpu++) {
        struct scheduler *old = sim->cpu[cpu].s;
        if (!sched_mask_test(cpus, cpu))
            continue;
        if (old) {
            if (sim->cpu[cpu].curr)
                sim_fail(sim, "CPU %u leaves its pool while it runs a vCPU", cpu);
            old->cpus &= ~(1ULL << cpu);
            old->policy->remove_cpu(old, cpu);
        }
        pool_add_cpu(sim, s, cpu);
    }
    return s;
}

struct domain *sim_domain(struct sim *sim, struct scheduler *s, unsigned int nr)
{
    struct domain *d = calloc(1, sizeof(*d));

    d->domid = (domid_t)sim->ndoms;
    sim->doms[sim->ndoms++] = d;
    d->nr_vcpus = nr;
    d->sched.sched = s;
    s->policy->dom_init(s, d);
    for (unsigned int i = 0; i < nr; i++) {
        struct vcpu *v = calloc(1, sizeof(*v));
        struct sim_vcpu *sv = &sim->vcpus[sim->nvcpus++];

        if (sim->nvcpus > SIM_MAX_VCPUS)
            abort();
        v->vcpu_id = i;
        v->domain = d;
        v->processor = sched_mask_first(s->cpus);
        for (unsigned int k = 0; k < i; k++)
            v->processor = sched_mask_cycle(v->processor, s->cpus);
        v->affinity_hard = v->affinity_soft = SCHED_MASK_ALL;
        d->vcpus[i] = v;
        memset(sv, 0, sizeof(*sv));
        sv->v = v;
        sv->kind = SIM_OFF;
        sv->running_on = -1;
        sv->waiting_since = sv->woke_at = -1;
        sv->wake_at = STIME_MAX;
        sv->last_cpu = -1;
        s->policy->vcpu_insert(s, v, sim->now);
        if (!sched_mask_test(sched_hard(s, v), v->processor))
            sim_fail(sim, "insert put d%u.v%u on CPU %u, outside its pool", d->domid, i,
                     v->processor);
    }
    return d;
}

void sim_free(struct sim *sim)
{
    for (unsigned int i = 0; i < sim->nvcpus; i++)
        free(sim->vcpus[i].v);
    for (unsigned int i = 0; i < sim->ndoms; i++)
        free(sim->doms[i]);
    for (unsigned int i = 0; i < sim->npools; i++)
        free(sim->pools[i].priv);
    free(sim);
}

/* ---------------------------------------------------------------- workloads */

void sim_hog(struct sim *sim, struct vcpu *v)
{
    struct sim_vcpu *sv = sim_vcpu(sim, v);

    sv->kind = SIM_HOG;
    sv->blocked = false;
    sv->wake_at = STIME_MAX;
    fw_wake(sim, sv);
}

void sim_io(struct sim *sim, struct vcpu *v, s_time_t burst, s_time_t pause)
{
    struct sim_vcpu *sv = sim_vcpu(sim, v);

    sv->kind = SIM_IO;
    sv->burst = sv->left = burst;
    sv->pause = pause;
    sv->blocked = false;
    sv->wake_at = STIME_MAX;
    fw_wake(sim, sv);
}

void sim_stop(struct sim *sim, struct vcpu *v)
{
    struct sim_vcpu *sv = sim_vcpu(sim, v);

    sv->kind = SIM_OFF;
    fw_sleep(sim, sv);
}

void sim_yield(struct sim *sim, struct vcpu *v)
{
    struct sim_vcpu *sv = sim_vcpu(sim, v);
    struct scheduler *s = sched_of(v);
    spinlock_t *l;

    if (sv->running_on < 0)
        return;
    l = lock_cpu(sim, s, v->processor);
    s->policy->yield(s, v);
    unlock(l);
    sim->cpu[sv->running_on].tickled = true;
}

/* As the framework does for xl vcpu-pin: new masks under v's lock; when v's
 * CPU is no longer allowed, v stops being runnable (Xen's "migrating"),
 * leaves its CPU, and once saved the policy moves it and it wakes again. */
void sim_affinity(struct sim *sim, struct vcpu *v, sched_mask_t hard, sched_mask_t soft)
{
    struct sim_vcpu *sv = sim_vcpu(sim, v);
    struct scheduler *s = sched_of(v);
    spinlock_t *l = lock_cpu(sim, s, v->processor);
    bool must_move;

    v->affinity_hard = hard;
    v->affinity_soft = soft;
    TRACE(sim, "affinity d%u.v%u hard %llx soft %llx", VNAME(v), (unsigned long long)hard,
          (unsigned long long)soft);
    s->policy->affinity(s, v, sim->now);
    must_move = !sched_mask_test(sched_hard(s, v), v->processor) && !sv->migrating;
    unlock(l);
    if (!must_move)
        return;
    sv->migrating = true;
    fw_sleep(sim, sv);
    if (sv->running_on < 0 && !sv->saving)
        finish_move(sim, sv);
}

static bool domain_quiet(struct sim *sim, struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct sim_vcpu *sv = sim_vcpu(sim, d->vcpus[i]);
        if (sv->running_on >= 0 || sv->saving)
            return false;
    }
    return true;
}

void sim_move_domain(struct sim *sim, struct domain *d, struct scheduler *to)
{
    struct scheduler *from = d->sched.sched;

    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct sim_vcpu *sv = sim_vcpu(sim, d->vcpus[i]);
        sv->paused = true;
        fw_sleep(sim, sv);
    }
    for (;;) {
        settle(sim);
        if (sim->error || domain_quiet(sim, d))
            break;
        advance(sim, next_event(sim));
    }
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        from->policy->vcpu_remove(from, d->vcpus[i]);
    from->policy->dom_destroy(from, d);
    d->sched.sched = to;
    to->policy->dom_init(to, d);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        v->processor = sched_mask_first(to->cpus);
        to->policy->vcpu_insert(to, v, sim->now);
    }
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct sim_vcpu *sv = sim_vcpu(sim, d->vcpus[i]);
        sv->paused = false;
        fw_wake(sim, sv);
    }
}

/* Nothing of `s` is placed on, runs on, or is being saved on `cpu`. */
static bool cpu_quiet(struct sim *sim, struct scheduler *s, unsigned int cpu)
{
    if (sim->cpu[cpu].curr)
        return false;
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct sim_vcpu *sv = &sim->vcpus[i];
        if (sched_of(sv->v) == s &&
            (sv->v->processor == cpu || (sv->saving && sv->saving_cpu == cpu)))
            return false;
    }
    return true;
}

bool sim_move_cpu(struct sim *sim, unsigned int cpu, struct scheduler *to)
{
    struct scheduler *from = sim->cpu[cpu].s;
    sched_mask_t bit = 1ULL << cpu;

    if (from == to)
        return false;
    for (unsigned int i = 0; from->cpus == bit && i < sim->ndoms; i++)
        if (sim->doms[i]->sched.sched == from)
            return false; /* the last CPU of a pool with domains */
    TRACE(sim, "CPU %u leaves pool %d", cpu, (int)(from - sim->pools));
    from->cpus &= ~bit;
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct vcpu *v = sim->vcpus[i].v;
        sched_mask_t hard = v->affinity_hard;
        if (sched_of(v) != from)
            continue;
        if ((hard & bit) && !(hard & from->cpus))
            hard = SCHED_MASK_ALL;
        /* Every vCPU of the pool: the policy re-homes what it kept for
         * the CPU (RTDS reservations). */
        sim_affinity(sim, v, hard, v->affinity_soft);
    }
    sim->cpu[cpu].tickled = true;
    for (;;) {
        settle(sim);
        if (sim->error || cpu_quiet(sim, from, cpu))
            break;
        advance(sim, next_event(sim));
    }
    from->policy->remove_cpu(from, cpu);
    sim->cpu[cpu].s = NULL;
    pool_add_cpu(sim, to, cpu);
    /* A hard affinity that missed `to` ("anywhere") may now name the new
     * CPU only: its vCPUs are told, and move if they must. */
    for (unsigned int i = 0; i < sim->nvcpus; i++) {
        struct vcpu *v = sim->vcpus[i].v;
        if (sched_of(v) == to)
            sim_affinity(sim, v, v->affinity_hard, v->affinity_soft);
    }
    return true;
}

int sim_dom_params(struct sim *sim, struct domain *d, struct sched_params *p, bool put)
{
    struct scheduler *s = d->sched.sched;

    if (put)
        TRACE(sim, "d%u params w %u cap %u period %u budget %u", d->domid, p->weight, p->cap,
              p->period_us, p->budget_us);
    return s->policy->dom_params(s, d, p, put, sim->now);
}

int sim_vcpu_params(struct sim *sim, struct vcpu *v, struct sched_params *p, bool put)
{
    struct scheduler *s = sched_of(v);

    return s->policy->vcpu_params(s, v, p, put, sim->now);
}
