/*
 * console_io: writes of various sizes, reads with no input pending, bad
 * buffers and unknown commands (dom0 view: the domain may use the console).
 */
#include <rt.h>

#define NOT_MAPPED 0xffffffff90000000UL   /* above any test kernel's mapping */

void test_main(start_info_t *si)
{
    (void)si;
    static const char msg[] = "console: plain write\n";
    char buf[64];

    /* A write returns 0 (not a byte count) on Xen. */
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg), 0);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0, msg), 0);
    /* count 0 must not even look at the buffer. */
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 0, NULL), 0);
    /* A long write (more than one internal chunk) works as one call. */
    static char big[3000];
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    big[sizeof(big) - 1] = '\n';
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(big), big), 0);

    /*
     * Negative counts.  Xen 4.17 takes the count as unsigned: a write of
     * -1 bytes from a valid buffer prints memory until it reaches an
     * unmapped page and then returns -EFAULT, so we only try it with a
     * NULL buffer (nothing printed).  A read of -1 bytes is refused with
     * -E2BIG.
     */
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, -1, NULL), -XEN_EFAULT);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_read, -1, buf), -XEN_E2BIG);


    /* Nothing typed: read returns 0 bytes, repeatedly. */
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf), 0);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf), 0);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_read, 0, buf), 0);

    /* Bad buffers. */
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 4, NULL), -XEN_EFAULT);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 4, (char *)NOT_MAPPED),
              -XEN_EFAULT);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 16,
                                    (char *)0xffff800000000000UL),
              -XEN_EFAULT);

    /* Unknown sub-commands. */
    EXPECT_EQ(HYPERVISOR_console_io(2, 1, msg), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_console_io(-1, 1, msg), -XEN_ENOSYS);

    printf("console: %u check(s) failed\n", rt_failures);
}
