/*
 * Boot-time self-tests, run when "selftest" is on the command line.  Each
 * subsystem declares its own with SELFTEST(); they land in a linker section,
 * so nothing central lists them.  A test returns 0 on success, or a negative
 * number and prints why.
 */
#ifndef KEEL_SELFTEST_H
#define KEEL_SELFTEST_H
#include <keel/types.h>

struct selftest {
    const char *name;
    int (*fn)(void);
};

#define SELFTEST(id, title)                                                    \
    static int selftest_fn_##id(void);                                         \
    static const struct selftest selftest_##id                                 \
        __attribute__((used, section(".selftests"), aligned(8))) = {           \
            title, selftest_fn_##id};                                          \
    static int selftest_fn_##id(void)

/* Runs them all; returns the number that failed. */
int selftests_run(void);
#endif
