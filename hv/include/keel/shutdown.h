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
/* ACPI S5 with dom0's PM1a/PM1b control values (SLP_TYP); without ACPI,
 * or with debug-exit (tests), a halt. */
__noreturn void machine_power_off(u16 pm1a, u16 pm1b);
/* Reset the machine (dom0 rebooted). */
__noreturn void machine_restart(void);
#endif
