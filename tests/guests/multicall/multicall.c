/*
 * multicall: a batch of xen_version and console_io calls with an unknown
 * hypercall in the middle; every entry gets its own result and the batch
 * itself succeeds.
 */
#include <rt.h>

static void entry(multicall_entry_t *e, unsigned long op, unsigned long a0,
                  unsigned long a1, unsigned long a2)
{
    memset(e, 0, sizeof(*e));
    e->op = op;
    e->result = 0x5a5a5a5a;     /* must be overwritten */
    e->args[0] = a0;
    e->args[1] = a1;
    e->args[2] = a2;
}

void test_main(start_info_t *si)
{
    (void)si;
    static const char l1[] = "multicall: entry 1\n";
    static const char l2[] = "multicall: entry 4\n";
    static multicall_entry_t mc[6];
    static xen_feature_info_t fi;

    _Static_assert(sizeof(multicall_entry_t) == 64, "ABI");
    long ver = HYPERVISOR_xen_version(XENVER_version, NULL);

    entry(&mc[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    entry(&mc[1], __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(l1) - 1,
          (uintptr_t)l1);
    entry(&mc[2], 1000, 1, 2, 3);
    entry(&mc[3], __HYPERVISOR_xen_version, XENVER_get_features,
          (uintptr_t)&fi, 0);
    entry(&mc[4], __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(l2) - 1,
          (uintptr_t)l2);
    entry(&mc[5], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);

    EXPECT_EQ(HYPERVISOR_multicall(mc, 6), 0);
    EXPECT_EQ(mc[0].result, ver);
    EXPECT_EQ(mc[1].result, 0);
    EXPECT_EQ(mc[2].result, -XEN_ENOSYS);
    EXPECT_EQ(mc[3].result, 0);
    EXPECT(fi.submap & (1u << 5));
    EXPECT_EQ(mc[4].result, 0);
    EXPECT_EQ(mc[5].result, 4096);

    /* An entry's own error does not stop the batch or fail it. */
    entry(&mc[0], __HYPERVISOR_console_io, CONSOLEIO_write, 4, 0);
    entry(&mc[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    EXPECT_EQ(HYPERVISOR_multicall(mc, 2), 0);
    EXPECT_EQ(mc[0].result, -XEN_EFAULT);
    EXPECT_EQ(mc[1].result, 4096);

    /* Empty batch, and a batch whose array is not readable. */
    EXPECT_EQ(HYPERVISOR_multicall(mc, 0), 0);
    EXPECT_EQ(HYPERVISOR_multicall(NULL, 1), -XEN_EFAULT);
}
