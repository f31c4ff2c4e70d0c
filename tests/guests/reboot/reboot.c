/*
 * dom0 asks for a reboot.  SCHEDOP_shutdown_code records a reason without
 * shutting down (any value: Xen keeps its low byte), and the first reason
 * recorded is the one that counts:
 * the runtime's closing SCHEDOP_shutdown(poweroff) becomes a reboot, and
 * a hardware domain rebooting resets the machine (Xen 4.17: "Hardware
 * Dom0 shutdown: rebooting machine"), which ends a QEMU run under
 * -no-reboot instead of halting it.  The verdict is printed before.
 */
#include <rt.h>

void test_main(start_info_t *si)
{
    struct sched_shutdown reboot = {.reason = SHUTDOWN_reboot};
    struct sched_shutdown poweroff = {.reason = SHUTDOWN_poweroff};

    CHECK(si->flags & SIF_INITDOMAIN);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, (void *)0x10), -XEN_EFAULT);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)0x10), -XEN_EFAULT);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &reboot), 0);
    /* Later codes do not replace it; any reason is taken (as a byte). */
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &poweroff), 0);
    poweroff.reason = 0x1234;
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &poweroff), 0);
    printf("reboot: shutdown code set; the machine resets after the verdict\n");
}
