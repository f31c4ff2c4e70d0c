/* printk's formatter against the cases Keel's messages use. */
#include <keel/console.h>

#include "harness.h"

static const char *fmt(const char *f, ...)
{
    static char buf[128];
    va_list ap;

    va_start(ap, f);
    kvsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

TEST(integers)
{
    CHECK_STR(fmt("%d %i %u", -42, 7, 4000000000U), "-42 7 4000000000");
    CHECK_STR(fmt("%x %X %#x", 0xbeefU, 0xbeefU, 0x10U), "beef BEEF 0x10");
    CHECK_STR(fmt("%lx", 0xffff828000000000UL), "ffff828000000000");
    CHECK_STR(fmt("%llu", 18446744073709551615ULL), "18446744073709551615");
    CHECK_STR(fmt("%ld", (long)-9223372036854775807L - 1), "-9223372036854775808");
    CHECK_STR(fmt("%zu %o", (size_t)12, 8U), "12 10");
}

TEST(width_and_padding)
{
    CHECK_STR(fmt("[%5d]", 42), "[   42]");
    CHECK_STR(fmt("[%-5d]", 42), "[42   ]");
    CHECK_STR(fmt("[%05d]", -42), "[-0042]");
    CHECK_STR(fmt("[%016lx]", 0x1234UL), "[0000000000001234]");
    CHECK_STR(fmt("[%*d]", 4, 1), "[   1]");
    CHECK_STR(fmt("[%.3d]", 5), "[005]");
}

TEST(strings_and_chars)
{
    CHECK_STR(fmt("%s|%8s|%-4s|", "ab", "right", "l"), "ab|   right|l   |");
    CHECK_STR(fmt("%.3s", "abcdef"), "abc");
    CHECK_STR(fmt("%.*s", 2, "xyz"), "xy");
    CHECK_STR(fmt("%s", (char *)NULL), "(null)");
    CHECK_STR(fmt("%c%c%%", 'o', 'k'), "ok%");
    CHECK_STR(fmt("%p", (void *)0x1000), "0x1000");
}

TEST(truncation_reports_full_length)
{
    char small[6];
    int n = ksnprintf(small, sizeof(small), "%s", "hypervisor");
    CHECK_EQ(n, 10);
    CHECK_STR(small, "hyper");
    CHECK_EQ(ksnprintf(NULL, 0, "%d", 12345), 5);
}

TEST(odd_formats_do_not_crash)
{
    CHECK_STR(fmt("100%"), "100");
    CHECK_STR(fmt("%q"), "%q");
}
