/*
 * Minimal unit-test harness for host builds of Keel's core.  A test file
 * defines TEST(name) { ... CHECK(cond); ... }; the harness runs every test
 * and prints one "PASS unit/<file>/<name>" or "FAIL ..." line per test,
 * which tests/run.py counts.
 */
#ifndef KEEL_TEST_HARNESS_H
#define KEEL_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void harness_register(const char *file, const char *name, void (*fn)(void));
void harness_fail(const char *file, int line, const char *expr);

#define TEST(name)                                                             \
    static void test_##name(void);                                             \
    __attribute__((constructor)) static void register_##name(void)             \
    {                                                                          \
        harness_register(__FILE__, #name, test_##name);                        \
    }                                                                          \
    static void test_##name(void)

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            harness_fail(__FILE__, __LINE__, #c);                              \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "  %s = %lld, expected %lld\n", #a, a_, b_);       \
            harness_fail(__FILE__, __LINE__, #a " == " #b);                    \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (strcmp(a_, b_)) {                                                  \
            fprintf(stderr, "  %s = \"%s\", expected \"%s\"\n", #a, a_, b_);   \
            harness_fail(__FILE__, __LINE__, #a " == " #b);                    \
        }                                                                      \
    } while (0)

#endif
