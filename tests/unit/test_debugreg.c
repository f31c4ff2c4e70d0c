/* Debug-register rules shared by set_debugreg and VCPUOP_initialise. */
#include <keel/debugreg.h>
#include <xen/errno.h>

#include "harness.h"

static int check(unsigned reg, unsigned long val, unsigned *reg_out, unsigned long *val_out)
{
    int rc = debugreg_check(&reg, &val);
    *reg_out = reg;
    *val_out = val;
    return rc;
}

TEST(breakpoint_addresses)
{
    unsigned r;
    unsigned long v;
    CHECK_EQ(check(0, 0x1000, &r, &v), 0);
    CHECK_EQ(v, 0x1000);
    CHECK_EQ(check(3, 0x00007ffffffffff8UL, &r, &v), 0);
    CHECK_EQ(check(1, 0xffff880000000000UL, &r, &v), 0);  /* above the hole */
    CHECK_EQ(check(1, 0xffffffff80000000UL, &r, &v), 0);
    CHECK_EQ(check(2, 0xffff800000000000UL, &r, &v), -XEN_EPERM); /* the hypervisor's */
    CHECK_EQ(check(2, 0xffff87ffffffffffUL, &r, &v), -XEN_EPERM);
    CHECK_EQ(check(0, 0x0000800000000000UL, &r, &v), -XEN_EPERM); /* not canonical */
    CHECK_EQ(check(0, 0x8000000000000000UL, &r, &v), -XEN_EPERM);
}

TEST(dr6_normalised_and_aliased)
{
    unsigned r;
    unsigned long v;
    CHECK_EQ(check(6, 0, &r, &v), 0);
    CHECK_EQ(v, DR6_DEFAULT);
    CHECK_EQ(check(4, 0x4001, &r, &v), 0); /* BS, B0; DR4 is DR6 */
    CHECK_EQ(r, 6);
    CHECK_EQ(v, DR6_DEFAULT | 0x4001);
    CHECK_EQ(check(6, 0x1000, &r, &v), 0); /* bit 12 reads 0 */
    CHECK_EQ(v, DR6_DEFAULT);
    CHECK_EQ(check(6, 1UL << 32, &r, &v), -XEN_EINVAL);
}

TEST(dr7_rules)
{
    unsigned r;
    unsigned long v;
    CHECK_EQ(check(7, 0, &r, &v), 0);
    CHECK_EQ(v, DR7_DEFAULT);
    CHECK_EQ(check(5, 0xd803, &r, &v), 0); /* DR5 is DR7; reserved bits go */
    CHECK_EQ(r, 7);
    CHECK_EQ(v, 0x403);
    CHECK_EQ(check(7, 1UL << 32, &r, &v), -XEN_EINVAL);
    CHECK_EQ(check(7, 0x2000, &r, &v), -XEN_EPERM); /* general detect */
    /* An I/O breakpoint (R/W = 2) is refused once anything is enabled,
     * whichever breakpoint it is in. */
    CHECK_EQ(check(7, 0x00200001UL, &r, &v), -XEN_EPERM);
    CHECK_EQ(check(7, 0x00000001UL | (2UL << 28), &r, &v), -XEN_EPERM);
    CHECK_EQ(check(7, 2UL << 16, &r, &v), 0); /* nothing enabled: fine */
    CHECK_EQ(check(7, 0x00110003UL, &r, &v), 0); /* write watch, 1 byte */
}

TEST(other_registers)
{
    unsigned r;
    unsigned long v;
    CHECK_EQ(check(8, 0, &r, &v), -XEN_ENODEV);
    CHECK_EQ(check(~0U, 0, &r, &v), -XEN_ENODEV);
}
