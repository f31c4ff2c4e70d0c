#include "harness.h"

#define MAX_TESTS 512

static struct {
    const char *file, *name;
    void (*fn)(void);
} tests[MAX_TESTS];
static int nr_tests, current_failures;

void harness_register(const char *file, const char *name, void (*fn)(void))
{
    if (nr_tests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests\n");
        exit(2);
    }
    tests[nr_tests].file = file;
    tests[nr_tests].name = name;
    tests[nr_tests].fn = fn;
    nr_tests++;
}

void harness_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "  %s:%d: CHECK failed: %s\n", file, line, expr);
    current_failures++;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int main(void)
{
    int failed = 0;

    for (int i = 0; i < nr_tests; i++) {
        current_failures = 0;
        tests[i].fn();
        printf("%s unit/%s/%s\n", current_failures ? "FAIL" : "PASS",
               base_name(tests[i].file), tests[i].name);
        failed += current_failures != 0;
    }
    return failed ? 1 : 0;
}
