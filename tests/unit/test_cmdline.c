/* Command-line splitting and number parsing. */
#include <keel/cmdline.h>

#include "harness.h"

static char seen[8][32];
static int nr_seen, nr_unknown;

static int record(const struct cmdline_word *w)
{
    char val[16] = "-";
    if (w->value && !cmdline_word_value(w, val, sizeof(val)))
        return -1;
    snprintf(seen[nr_seen++ % 8], 32, "%.*s=%s", (int)w->name_len, w->name, val);
    return 0;
}

static void unknown(const struct cmdline_word *w)
{
    (void)w;
    nr_unknown++;
}

static const struct cmdline_opt opts[] = {{"a", record}, {"bee", record}};

TEST(splits_words_and_values)
{
    nr_seen = nr_unknown = 0;
    int errs = cmdline_parse("  a  bee=12   zzz=1 a= ", opts, 2, unknown);
    CHECK_EQ(errs, 1);
    CHECK_EQ(nr_unknown, 1);
    CHECK_EQ(nr_seen, 3);
    CHECK_STR(seen[0], "a=-");
    CHECK_STR(seen[1], "bee=12");
    CHECK_STR(seen[2], "a=");
}

TEST(null_and_empty)
{
    nr_seen = nr_unknown = 0;
    CHECK_EQ(cmdline_parse(NULL, opts, 2, unknown), 0);
    CHECK_EQ(cmdline_parse("   ", opts, 2, unknown), 0);
    CHECK_EQ(nr_seen, 0);
}

TEST(value_too_long_is_an_error)
{
    nr_seen = 0;
    CHECK_EQ(cmdline_parse("a=0123456789abcdefXYZ", opts, 2, NULL), 1);
}

TEST(sizes)
{
    u64 v = 0;
    CHECK(parse_size("512M", 4, &v) && v == 512ULL << 20);
    CHECK(parse_size("4g", 2, &v) && v == 4ULL << 30);
    CHECK(parse_size("4096", 4, &v) && v == 4096);
    CHECK(!parse_size("M", 1, &v));
    CHECK(!parse_size("12MB", 4, &v));
    CHECK(!parse_size("99999999999999999999", 20, &v));
    CHECK(!parse_size("17179869184T", 12, &v)); /* overflows once shifted */
}

TEST(uints)
{
    u64 v = 0;
    CHECK(parse_uint("64", 2, &v) && v == 64);
    CHECK(!parse_uint("6x", 2, &v));
    CHECK(!parse_uint("", 0, &v));
}
