#include <keel/console.h>
#include <keel/selftest.h>

extern const struct selftest __selftests_start[], __selftests_end[];

int selftests_run(void)
{
    int passed = 0, failed = 0;

    for (const struct selftest *t = __selftests_start; t < __selftests_end; t++) {
        int rc = t->fn();
        printk("selftest: %s: %s\n", t->name, rc == 0 ? "PASS" : "FAIL");
        if (rc == 0)
            passed++;
        else
            failed++;
    }
    printk("selftest: %d passed, %d failed\n", passed, failed);
    return failed;
}
