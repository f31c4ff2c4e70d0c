/*
 * The CPU pool registry's rules (hv/common/cpupool.c), as Xen 4.17's
 * XEN_SYSCTL_cpupool_op: ids, error codes, the two-step CPU removal.
 */
#include "harness.h"
#include <keel/cpupool.h>
#include <xen/errno.h>

#define ONLINE 0x3ULL /* two CPUs, as the QEMU machines */

static void two_cpus(struct cpupool_table *t)
{
    cpupool_table_init(t, ONLINE, 2);
}

/* Pool 0 exists, INFO walks ids upwards, ANY takes the next id. */
TEST(create_and_walk)
{
    struct cpupool_table t;
    int a, b;

    two_cpus(&t);
    CHECK_EQ(cpupool_find(&t, 0, true), 0);
    CHECK_EQ(cpupool_find(&t, 1, false), -XEN_ENOENT);
    a = cpupool_create(&t, CPUPOOL_ANY, true);
    CHECK(a > 0);
    CHECK_EQ(t.pool[a].id, 1);
    b = cpupool_create(&t, 7, true);
    CHECK_EQ(t.pool[b].id, 7);
    CHECK_EQ(cpupool_find(&t, 2, false), b); /* the lowest id >= 2 */
    CHECK_EQ(cpupool_find(&t, 8, false), -XEN_ENOENT);
    CHECK_EQ(cpupool_create(&t, 7, true), -XEN_EEXIST);
    /* Two pools per CPU at most: 4 here, three exist. */
    CHECK_EQ(t.pool[cpupool_create(&t, CPUPOOL_ANY, true)].id, 8);
    CHECK_EQ(cpupool_create(&t, CPUPOOL_ANY, true), -XEN_ENOSPC);
    CHECK_EQ(cpupool_destroy(&t, 7), b);
    CHECK_EQ(cpupool_destroy(&t, 7), -XEN_ENOENT);
}

/* The order of CREATE's failures: room, id, then the scheduler. */
TEST(create_errors_in_order)
{
    struct cpupool_table t;

    two_cpus(&t);
    CHECK_EQ(cpupool_create(&t, 0, false), -XEN_EEXIST);
    CHECK_EQ(cpupool_create(&t, 3, false), -XEN_ENOENT);
    CHECK_EQ(cpupool_find(&t, 3, true), -XEN_ENOENT); /* nothing left behind */
}

/* CPU 0 never leaves pool 0; the last CPU of a pool with domains stays. */
TEST(rmcpu_rules)
{
    struct cpupool_table t;
    unsigned int cpu = 99;
    int p1;

    two_cpus(&t);
    t.pool[0].n_dom = 1;
    CHECK_EQ(cpupool_rmcpu_start(&t, 0, 0, ONLINE, &cpu), -XEN_EINVAL);
    CHECK_EQ(cpupool_rmcpu_start(&t, 0, 2, ONLINE, &cpu), -XEN_EINVAL);
    CHECK_EQ(cpupool_rmcpu_start(&t, 0, 1, 0x1, &cpu), -XEN_EINVAL); /* offline */
    CHECK_EQ(cpupool_rmcpu_start(&t, 5, 1, ONLINE, &cpu), -XEN_ENOENT);
    /* ANY: the highest CPU of the pool. */
    CHECK_EQ(cpupool_rmcpu_start(&t, 0, CPUPOOL_ANY, ONLINE, &cpu), 0);
    CHECK_EQ(cpu, 1);
    CHECK_EQ(t.pool[0].cpus, 0x1);
    CHECK_EQ(t.free, 0);
    /* Still moving (the hypervisor said -EAGAIN): a repeat passes, a
     * different pool for that CPU cannot take it. */
    CHECK_EQ(cpupool_rmcpu_start(&t, 0, 1, ONLINE, &cpu), 0);
    p1 = cpupool_create(&t, CPUPOOL_ANY, true);
    CHECK_EQ(cpupool_rmcpu_start(&t, 1, 1, ONLINE, &cpu), -XEN_EADDRNOTAVAIL);
    CHECK_EQ(cpupool_addcpu_check(&t, 1, 1, ONLINE, &cpu), -XEN_ENODEV);
    cpupool_rmcpu_done(&t);
    CHECK_EQ(t.free, 0x2);
    CHECK_EQ(t.moving_cpu, -1);
    /* Into p1, then p1 with a domain keeps its only CPU. */
    CHECK_EQ(cpupool_addcpu_check(&t, 1, CPUPOOL_ANY, ONLINE, &cpu), p1);
    CHECK_EQ(cpu, 1);
    cpupool_addcpu_done(&t, p1, cpu);
    CHECK_EQ(t.free, 0);
    t.pool[p1].n_dom = 1;
    CHECK_EQ(cpupool_rmcpu_start(&t, 1, 1, ONLINE, &cpu), -XEN_EBUSY);
    CHECK_EQ(cpupool_destroy(&t, 1), -XEN_EBUSY);
    t.pool[p1].n_dom = 0;
    CHECK_EQ(cpupool_destroy(&t, 1), -XEN_EBUSY); /* a CPU left */
    CHECK_EQ(cpupool_rmcpu_start(&t, 1, 0, ONLINE, &cpu), -XEN_EADDRNOTAVAIL); /* not its CPU */
    CHECK_EQ(cpupool_rmcpu_start(&t, 1, 1, ONLINE, &cpu), p1);
    CHECK_EQ(cpupool_rmcpu_start(&t, 0, 0, ONLINE, &cpu), -XEN_EINVAL);
    CHECK_EQ(cpupool_destroy(&t, 1), -XEN_EBUSY); /* its CPU still moving */
    cpupool_rmcpu_done(&t);
    CHECK_EQ(cpupool_destroy(&t, 1), p1);
    /* ANY in an empty pool names no CPU. */
    p1 = cpupool_create(&t, CPUPOOL_ANY, true);
    CHECK_EQ(cpupool_rmcpu_start(&t, t.pool[p1].id, CPUPOOL_ANY, ONLINE, &cpu), -XEN_EINVAL);
}

TEST(addcpu_rules)
{
    struct cpupool_table t;
    unsigned int cpu;

    two_cpus(&t);
    CHECK_EQ(cpupool_addcpu_check(&t, 0, CPUPOOL_ANY, ONLINE, &cpu), -XEN_ENODEV);
    CHECK_EQ(cpupool_addcpu_check(&t, 3, 1, ONLINE, &cpu), -XEN_ENOENT);
    CHECK_EQ(cpupool_addcpu_check(&t, 0, 2, ONLINE, &cpu), -XEN_EINVAL);
    CHECK_EQ(cpupool_addcpu_check(&t, 0, 1, ONLINE, &cpu), -XEN_ENODEV); /* not free */
    t.pool[0].cpus = 0x1;
    t.free = 0x2;
    CHECK_EQ(cpupool_addcpu_check(&t, 0, 1, 0x1, &cpu), -XEN_ENODEV); /* offline */
    CHECK_EQ(cpupool_addcpu_check(&t, 0, 1, ONLINE, &cpu), 0);
}

/* Where domains may go: MOVEDOMAIN's and createdomain's codes. */
TEST(targets)
{
    struct cpupool_table t;
    int p;

    two_cpus(&t);
    CHECK_EQ(cpupool_target(&t, 0, false), 0);
    CHECK_EQ(cpupool_target(&t, 4, false), -XEN_ENOENT);
    CHECK_EQ(cpupool_target(&t, 4, true), -XEN_ESRCH);
    p = cpupool_create(&t, 4, true);
    CHECK_EQ(cpupool_target(&t, 4, false), -XEN_ENOENT); /* no CPU */
    CHECK_EQ(cpupool_target(&t, 4, true), -XEN_ENODEV);
    t.pool[p].cpus = 0x2;
    CHECK_EQ(cpupool_target(&t, 4, true), p);
}

/* Ids wrap: after the highest possible id, ANY takes the first gap. */
TEST(id_wrap)
{
    struct cpupool_table t;

    cpupool_table_init(&t, 0x1, 8);
    CHECK(cpupool_create(&t, CPUPOOL_NONE - 1, true) > 0);
    CHECK_EQ(t.pool[cpupool_create(&t, CPUPOOL_ANY, true)].id, 1);
    CHECK_EQ(t.pool[cpupool_create(&t, CPUPOOL_ANY, true)].id, 2);
}
