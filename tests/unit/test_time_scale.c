/* TSC-to-ns scales in vcpu_time_info format. */
#include <keel/time.h>

#include "harness.h"

/* The frequency a PV guest would derive from the scale (xen.h's formula). */
static double implied_hz(const struct time_scale *s)
{
    double hz = 1e9 * 4294967296.0 / s->mul;
    return s->shift >= 0 ? hz / (double)(1u << s->shift) : hz * (double)(1u << -s->shift);
}

TEST(exact_rates)
{
    struct time_scale s;

    time_scale_init(&s, 1000000000, 1000000000); /* 1 GHz: 1 tick = 1 ns */
    CHECK_EQ(s.shift, 1);
    CHECK_EQ(s.mul, 0x80000000u);
    CHECK_EQ(scale_delta(123456789, &s), 123456789);

    time_scale_init(&s, 2000000000, 1000000000); /* 2 GHz */
    CHECK_EQ(s.shift, 0);
    CHECK_EQ(s.mul, 0x80000000u);
    CHECK_EQ(scale_delta(2000, &s), 1000);
}

TEST(mul_is_normalised_and_accurate)
{
    static const unsigned long long rates[] = {100000000ULL, 1193182ULL, 999999999ULL,
                                               2599136000ULL, 3000000000ULL,
                                               4294967296ULL, 10000000000ULL};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        struct time_scale s;
        time_scale_init(&s, rates[i], 1000000000);
        CHECK(s.mul >= 0x80000000u);
        double err = implied_hz(&s) / (double)rates[i] - 1;
        CHECK(err > -1e-8 && err < 1e-8);
        /* One second of ticks is one second, to within a few ns. */
        long long ns = (long long)scale_delta(rates[i], &s);
        CHECK(ns > 1000000000LL - 10 && ns <= 1000000000LL);
    }
}

TEST(inverse_scale_for_deadlines)
{
    struct time_scale s;

    time_scale_init(&s, 1000000000, 2599136000ULL); /* ns -> TSC ticks */
    CHECK_EQ(s.shift, 2);
    unsigned long long ticks = scale_delta(1000000, &s); /* 1 ms */
    CHECK(ticks >= 2599136 - 2 && ticks <= 2599136);
}

TEST(large_deltas_do_not_overflow)
{
    struct time_scale s;

    time_scale_init(&s, 3000000000ULL, 1000000000);
    /* A year of TSC ticks at 3 GHz. */
    unsigned long long year = 365ULL * 24 * 3600 * 3000000000ULL;
    long long ns = (long long)scale_delta(year, &s);
    long long want = 365LL * 24 * 3600 * 1000000000LL;
    /* The 32-bit fraction is good to ~2^-31 relative: 1e-9 is the bound. */
    CHECK(ns <= want && want - ns < want / 1000000000);
}

TEST(nonsense_rates_give_zero_scale)
{
    struct time_scale s = {1, 1};

    time_scale_init(&s, 0, 1000000000);
    CHECK_EQ(s.mul, 0);
    time_scale_init(&s, 1000, 0);
    CHECK_EQ(s.mul, 0);
    CHECK_EQ(scale_delta(12345, &s), 0);
}
