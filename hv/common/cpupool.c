/*
 * The CPU pool registry and Xen 4.17's rules for XEN_SYSCTL_cpupool_op
 * (keel/cpupool.h).  Plain values, no locks: sched.c holds the cpupool
 * lock around every call.
 */
#include <keel/cpupool.h>
#include <xen/errno.h>

static sched_mask_t bit(unsigned int cpu)
{
    return cpu < SCHED_MAX_CPUS ? 1ULL << cpu : 0;
}

void cpupool_table_init(struct cpupool_table *t, sched_mask_t cpus, unsigned int nr_cpu_ids)
{
    *t = (struct cpupool_table){0};
    t->pool[0].used = true;
    t->pool[0].cpus = cpus;
    t->moving_cpu = -1;
    t->moving_slot = -1;
    t->nr_cpu_ids = nr_cpu_ids < SCHED_MAX_CPUS ? nr_cpu_ids : SCHED_MAX_CPUS;
}

int cpupool_find(const struct cpupool_table *t, u32 id, bool exact)
{
    int best = -XEN_ENOENT;

    for (int i = 0; i < CPUPOOL_SLOTS; i++) {
        const struct cpupool_entry *p = &t->pool[i];
        if (!p->used || p->id < id || (exact && p->id != id))
            continue;
        if (best < 0 || p->id < t->pool[best].id)
            best = i;
    }
    return best;
}

static unsigned int nr_pools(const struct cpupool_table *t)
{
    unsigned int n = 0;

    for (int i = 0; i < CPUPOOL_SLOTS; i++)
        n += t->pool[i].used;
    return n;
}

/* The id CPUPOOL_ANY gets: one past the highest, or (that being
 * CPUPOOL_NONE) the first gap above an existing id. */
static u32 next_free_id(const struct cpupool_table *t)
{
    u32 high = 0;

    for (int i = 0; i < CPUPOOL_SLOTS; i++)
        if (t->pool[i].used && t->pool[i].id > high)
            high = t->pool[i].id;
    if (high + 1 != CPUPOOL_NONE)
        return high + 1;
    high = CPUPOOL_NONE;
    for (int i = 0; i < CPUPOOL_SLOTS; i++) {
        u32 gap = t->pool[i].id + 1;
        if (t->pool[i].used && gap != CPUPOOL_NONE && gap < high &&
            cpupool_find(t, gap, true) < 0)
            high = gap;
    }
    return high; /* some gap exists: fewer slots than ids */
}

int cpupool_create(struct cpupool_table *t, u32 want, bool sched_known)
{
    int slot = -1;

    for (int i = 1; i < CPUPOOL_SLOTS && slot < 0; i++)
        if (!t->pool[i].used)
            slot = i;
    if (nr_pools(t) >= 2 * t->nr_cpu_ids || slot < 0)
        return -XEN_ENOSPC;
    if (want != CPUPOOL_ANY && cpupool_find(t, want, true) >= 0)
        return -XEN_EEXIST;
    if (!sched_known)
        return -XEN_ENOENT;
    t->pool[slot] = (struct cpupool_entry){
        .used = true,
        .id = want == CPUPOOL_ANY ? next_free_id(t) : want,
    };
    return slot;
}

int cpupool_destroy(struct cpupool_table *t, u32 id)
{
    int slot = cpupool_find(t, id, true);

    if (slot < 0)
        return slot;
    /* Pool 0 keeps CPU 0, so it is always busy. */
    if (t->pool[slot].n_dom || t->pool[slot].cpus || t->moving_slot == slot)
        return -XEN_EBUSY;
    t->pool[slot].used = false;
    return slot;
}

int cpupool_addcpu_check(const struct cpupool_table *t, u32 id, u32 cpu, sched_mask_t online,
                         unsigned int *cpu_out)
{
    int slot = cpupool_find(t, id, true);

    if (slot < 0)
        return slot;
    if (cpu == CPUPOOL_ANY) {
        if (!t->free)
            return -XEN_ENODEV;
        cpu = (u32)__builtin_ctzll(t->free);
    }
    if (cpu >= t->nr_cpu_ids)
        return -XEN_EINVAL;
    if (!(online & bit(cpu)) || !(t->free & bit(cpu)))
        return -XEN_ENODEV;
    *cpu_out = cpu;
    return slot;
}

void cpupool_addcpu_done(struct cpupool_table *t, int slot, unsigned int cpu)
{
    t->free &= ~bit(cpu);
    t->pool[slot].cpus |= bit(cpu);
}

int cpupool_rmcpu_start(struct cpupool_table *t, u32 id, u32 cpu, sched_mask_t online,
                        unsigned int *cpu_out)
{
    int slot = cpupool_find(t, id, true);
    struct cpupool_entry *p;
    bool again;

    if (slot < 0)
        return slot;
    p = &t->pool[slot];
    if (cpu == CPUPOOL_ANY)
        cpu = p->cpus ? 63u - (u32)__builtin_clzll(p->cpus) : t->nr_cpu_ids;
    if (cpu >= t->nr_cpu_ids)
        return -XEN_EINVAL;
    if ((p->id == 0 && cpu == 0) || !(online & bit(cpu)))
        return -XEN_EINVAL; /* CPU 0 stays in pool 0, as on Xen */
    again = t->moving_cpu == (int)cpu;
    if (again && t->moving_slot != slot)
        return -XEN_EADDRNOTAVAIL;
    if (!again && (t->moving_cpu >= 0 || !(p->cpus & bit(cpu))))
        return -XEN_EADDRNOTAVAIL;
    /* Xen moves dying domains to pool 0 here; Keel refuses while any
     * domain is bound (a dying one goes away by itself). */
    if (!again && p->n_dom && p->cpus == bit(cpu))
        return -XEN_EBUSY;
    p->cpus &= ~bit(cpu);
    t->moving_cpu = (int)cpu;
    t->moving_slot = slot;
    *cpu_out = cpu;
    return slot;
}

void cpupool_rmcpu_done(struct cpupool_table *t)
{
    if (t->moving_cpu < 0)
        return;
    t->free |= bit((unsigned int)t->moving_cpu);
    t->moving_cpu = -1;
    t->moving_slot = -1;
}

int cpupool_target(const struct cpupool_table *t, u32 id, bool create)
{
    int slot = cpupool_find(t, id, true);

    if (slot < 0)
        return create ? -XEN_ESRCH : -XEN_ENOENT;
    if (!t->pool[slot].cpus)
        return create ? -XEN_ENODEV : -XEN_ENOENT;
    return slot;
}
