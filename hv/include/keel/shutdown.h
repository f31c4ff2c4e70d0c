/* Ways out of Keel. */
#ifndef KEEL_SHUTDOWN_H
#define KEEL_SHUTDOWN_H
#include <keel/types.h>

/*
 * Status codes for the isa-debug-exit device: QEMU exits with (code << 1) | 1,
 * so the test runner sees 1 for a clean end and 3 for a panic.
 */
enum keel_exit {
    KEEL_EXIT_OK = 0,
    KEEL_EXIT_PANIC = 1,
    KEEL_EXIT_SELFTEST_FAILED = 2,
    KEEL_EXIT_DOM0_CRASH = 3, /* dom0 shut down with reason "crash" */
};

/* Stop every CPU; with debug-exit on the command line, end the QEMU run. */
__noreturn void machine_halt(enum keel_exit code);
/* Stop every CPU, wait delay_ms, and reset the machine (under QEMU's
 * -no-reboot, the run ends with status 0). */
__noreturn void machine_restart(unsigned int delay_ms);
/*
 * dom0 shut down with `reason`, as Xen's rules go: poweroff halts; reboot,
 * watchdog and soft_reset reset the machine; crash and anything else reset
 * it after 5 seconds unless `noreboot` (or `debug-exit`: a test run wants
 * the status) was given, then it halts.
 */
__noreturn void hwdom_shutdown(unsigned int reason);
/* ACPI S5 with dom0's PM1a/PM1b control values (SLP_TYP); without ACPI,
 * or with debug-exit (tests), a halt. */
__noreturn void machine_power_off(u16 pm1a, u16 pm1b);
#endif
