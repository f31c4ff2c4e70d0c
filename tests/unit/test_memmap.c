/* Memory map sanitizing and carving. */
#include <keel/memmap.h>

#include "harness.h"

static struct memmap m, ram;
static struct memmap_report rep;

#define R(s, l, t) ((struct mem_range){(s), (l), (t)})

static void check_entry(unsigned int i, u64 start, u64 end, u32 type)
{
    CHECK(i < m.nr);
    if (i >= m.nr)
        return;
    if (m.r[i].start != start || range_end(&m.r[i]) != end || m.r[i].type != type) {
        fprintf(stderr, "  entry %u = [%#llx, %#llx) type %u, expected [%#llx, %#llx) %u\n",
                i, (unsigned long long)m.r[i].start,
                (unsigned long long)range_end(&m.r[i]), m.r[i].type,
                (unsigned long long)start, (unsigned long long)end, type);
        CHECK(0);
    }
}

/* The result is sorted, disjoint, RAM page-aligned, neighbours differ. */
static void check_clean(const struct memmap *x)
{
    for (unsigned int i = 0; i < x->nr; i++) {
        const struct mem_range *r = &x->r[i];
        CHECK(r->len > 0);
        CHECK(range_end(r) <= PADDR_LIMIT);
        if (r->type == E820_RAM)
            CHECK(IS_ALIGNED(r->start, PAGE_SIZE) && IS_ALIGNED(r->len, PAGE_SIZE));
        if (i) {
            CHECK(range_end(&x->r[i - 1]) <= r->start);
            CHECK(range_end(&x->r[i - 1]) < r->start || x->r[i - 1].type != r->type);
        }
    }
}

TEST(unsorted_with_zero_length)
{
    struct mem_range in[] = {
        R(0x100000, 0x7ee0000, E820_RAM), R(0, 0x9fc00, E820_RAM),
        R(0x5000000, 0, E820_RESERVED), R(0xf0000, 0x10000, E820_RESERVED),
        R(0x9fc00, 0x400, E820_RESERVED),
    };
    memmap_sanitize(&m, in, 5, &rep);
    check_clean(&m);
    CHECK_EQ(rep.empty, 1);
    CHECK_EQ(rep.overlaps, 0);
    CHECK_EQ(m.nr, 4);
    check_entry(0, 0, 0x9f000, E820_RAM); /* shrunk to a page boundary */
    check_entry(1, 0x9fc00, 0xa0000, E820_RESERVED);
    check_entry(2, 0xf0000, 0x100000, E820_RESERVED);
    check_entry(3, 0x100000, 0x7fe0000, E820_RAM);
    CHECK_EQ(rep.holes, 2); /* [9f000,9fc00) and [a0000,f0000) */
}

TEST(reserved_beats_ram_in_overlap)
{
    struct mem_range in[] = {
        R(0x100000, 0x1000000, E820_RAM),    /* 1 MiB .. 17 MiB */
        R(0x800000, 0x200000, E820_RESERVED), /* punches 8..10 MiB */
        R(0x1000000, 0x400000, E820_RAM),     /* overlaps the first RAM: merges */
    };
    memmap_sanitize(&m, in, 3, &rep);
    check_clean(&m);
    CHECK_EQ(m.nr, 3);
    check_entry(0, 0x100000, 0x800000, E820_RAM);
    check_entry(1, 0x800000, 0xa00000, E820_RESERVED);
    check_entry(2, 0xa00000, 0x1400000, E820_RAM);
    CHECK_EQ(rep.overlaps, 2);
}

TEST(ram_never_grows_over_partial_pages)
{
    struct mem_range in[] = {
        R(0x1800, 0x3000, E820_RAM), /* [0x1800, 0x4800) -> [0x2000, 0x4000) */
        R(0x5000, 0x800, E820_RAM),  /* under a page: vanishes */
        R(0x4800, 0x800, E820_ACPI),
    };
    memmap_sanitize(&m, in, 3, &rep);
    check_clean(&m);
    CHECK_EQ(m.nr, 2);
    check_entry(0, 0x2000, 0x4000, E820_RAM);
    check_entry(1, 0x4800, 0x5000, E820_ACPI);
}

TEST(clip_at_52_bits)
{
    struct mem_range in[] = {
        R(0x100000, 0x100000, E820_RAM),
        R(PADDR_LIMIT - 0x2000, 0x10000, E820_RAM),
        R(PADDR_LIMIT + 0x1000, 0x1000, E820_RAM),
        R(0xfffffffffffff000ULL, 0x2000, E820_RESERVED), /* wraps around */
    };
    memmap_sanitize(&m, in, 4, &rep);
    check_clean(&m);
    CHECK_EQ(rep.clipped, 3);
    CHECK_EQ(m.nr, 2);
    check_entry(1, PADDR_LIMIT - 0x2000, PADDR_LIMIT, E820_RAM);
}

TEST(nested_and_identical_entries)
{
    struct mem_range in[] = {
        R(0, 0x10000000, E820_RAM), R(0, 0x10000000, E820_RAM),
        R(0x2000000, 0x1000, E820_NVS), R(0x2000000, 0x1000, E820_ACPI),
    };
    memmap_sanitize(&m, in, 4, &rep);
    check_clean(&m);
    CHECK_EQ(m.nr, 3);
    check_entry(1, 0x2000000, 0x2001000, E820_NVS);
    CHECK_EQ(memmap_total(&m, E820_RAM), 0x10000000 - 0x1000);
}

TEST(carve_splits_and_removes)
{
    struct mem_range in[] = {R(0, 0x9f000, E820_RAM), R(0x100000, 0x7f00000, E820_RAM),
                             R(0xf0000, 0x10000, E820_RESERVED)};
    memmap_sanitize(&m, in, 3, &rep);
    memmap_ram(&ram, &m);
    CHECK_EQ(ram.nr, 2);
    CHECK_EQ(memmap_carve(&ram, 0, 0x100000), 0); /* low 1 MiB: whole entry */
    CHECK_EQ(ram.nr, 1);
    CHECK_EQ(memmap_carve(&ram, 0x200000, 0x300123), 0); /* middle: split, widened */
    CHECK_EQ(ram.nr, 2);
    CHECK_EQ(ram.r[0].start, 0x100000);
    CHECK_EQ(range_end(&ram.r[0]), 0x200000);
    CHECK_EQ(ram.r[1].start, 0x301000);
    CHECK_EQ(memmap_carve(&ram, 0x7000000, 0x9000000), 0); /* tail */
    CHECK_EQ(range_end(&ram.r[1]), 0x7000000);
    CHECK_EQ(memmap_carve(&ram, 0x50, 0x100800), 0); /* head */
    CHECK_EQ(ram.r[0].start, 0x101000);
    CHECK_EQ(memmap_total(&ram, E820_RAM),
             (0x200000 - 0x101000) + (0x7000000 - 0x301000));
}

TEST(carve_spanning_several)
{
    ram.nr = 0;
    for (int i = 0; i < 10; i++)
        ram.r[ram.nr++] = R((u64)i << 24, 1 << 20, E820_RAM);
    CHECK_EQ(memmap_carve(&ram, 0x1080000, 0x8000000), 0);
    CHECK_EQ(ram.nr, 4);
    CHECK_EQ(range_end(&ram.r[1]), 0x1080000);
    CHECK_EQ(ram.r[2].start, 0x8000000);
}

TEST(carve_full_map)
{
    ram.nr = 0;
    for (int i = 0; i < MEMMAP_MAX; i++)
        ram.r[ram.nr++] = R((u64)i << 24, 1 << 20, E820_RAM);
    CHECK_EQ(memmap_carve(&ram, 0x1000, 0x2000), -1);
}

TEST(steal_from_top_aligned)
{
    ram.nr = 0;
    ram.r[ram.nr++] = R(0x100000, 0x300000, E820_RAM); /* 1..4 MiB */
    ram.r[ram.nr++] = R(0x800000, 0x180000, E820_RAM); /* 8..9.5 MiB */
    CHECK_EQ(memmap_steal(&ram, 0x1000, 0x1000, ~0ULL), 0x97f000);
    CHECK_EQ(memmap_steal(&ram, 0x200000, 0x200000, ~0ULL), 0x200000);
    CHECK_EQ(memmap_steal(&ram, 0x1000, 0x1000, 0x800000), 0x1ff000);
    CHECK_EQ(memmap_steal(&ram, 0x10000000, 0x1000, ~0ULL), 0);
    CHECK_EQ(memmap_total(&ram, E820_RAM), 0x300000 + 0x180000 - 0x202000);
}

/* Random maps: whatever comes in, the output is clean and RAM is only
 * reported where every input entry covering it said RAM. */
TEST(random_maps_stay_clean)
{
    static struct mem_range in[64];
    unsigned seed = 7;
    for (int round = 0; round < 2000; round++) {
        unsigned n = round % 64;
        for (unsigned i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            in[i].start = (u64)(seed % 64) << 16 | (seed & 0xfff);
            seed = seed * 1103515245 + 12345;
            in[i].len = (u64)(seed % 16) << 15 | (seed & 0x7ff);
            in[i].type = 1 + (seed >> 16) % 5;
        }
        memmap_sanitize(&m, in, n, &rep);
        check_clean(&m);
        for (unsigned int k = 0; k < m.nr; k++) {
            if (m.r[k].type != E820_RAM)
                continue;
            for (unsigned int i = 0; i < n; i++) {
                u64 s = MAX(in[i].start, m.r[k].start);
                u64 e = MIN(range_end(&in[i]), range_end(&m.r[k]));
                if (s < e && in[i].type != E820_RAM) {
                    CHECK(0);
                    return;
                }
            }
        }
    }
}
