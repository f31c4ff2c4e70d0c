/*
 * The p2m: mappings in and out with their types and permissions, tables
 * counted against the paging pool (a full pool is -ENOMEM and changes
 * nothing), GFN limits, drain in budgets that report every entry once,
 * and destroy giving every table frame back.
 */
#include <keel/p2m.h>
#include <keel/page_alloc.h>
#include <xen/errno.h>

#include "harness.h"

#define NR 2048
static struct page_info table[NR];
static struct p2m p;

static void setup(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    CHECK(p2m_init(&p) == 0);
}

static void teardown(void)
{
    u64 cursor = 0;

    while (p2m_drain(&p, &cursor, 7, NULL, NULL))
        ;
    p2m_destroy(&p);
    CHECK_EQ(p.nr_tables, 0);
    CHECK_EQ(heap_free_frames(), NR);
    CHECK(heap_verify() == 0);
}

TEST(set_lookup_clear)
{
    enum p2m_type t;
    mfn_t old;

    setup();
    CHECK_EQ(p2m_lookup(&p, 5, &t), P2M_INVALID_MFN);
    CHECK_EQ(t, p2m_none);
    CHECK(p2m_set(&p, 5, 100, p2m_ram_rw, &old, &t) == 0);
    CHECK_EQ(old, P2M_INVALID_MFN);
    CHECK_EQ(t, p2m_none);
    CHECK_EQ(p2m_lookup(&p, 5, &t), 100);
    CHECK_EQ(t, p2m_ram_rw);
    /* Replacing reports the old entry. */
    CHECK(p2m_set(&p, 5, 101, p2m_grant_ro, &old, &t) == 0);
    CHECK_EQ(old, 100);
    CHECK_EQ(t, p2m_ram_rw);
    CHECK_EQ(p.nr_entries, 1);
    CHECK(p2m_verify(&p) == 0);
    CHECK(p2m_clear(&p, 5, &old, &t) == 0);
    CHECK_EQ(old, 101);
    CHECK_EQ(t, p2m_grant_ro);
    CHECK_EQ(p2m_clear(&p, 5, NULL, NULL), -XEN_ENOENT);
    CHECK_EQ(p2m_clear(&p, 1ULL << 40, NULL, NULL), -XEN_ENOENT);
    CHECK_EQ(p.nr_entries, 0);
    CHECK(p2m_verify(&p) == 0);
    teardown();
}

TEST(permissions_in_leaves)
{
    /* Read-only grants lose RW; everything is present, user, accessed. */
    CHECK_EQ(p2m_leaf(0x1234, p2m_grant_ro) & 7, 5);
    CHECK_EQ(p2m_leaf(0x1234, p2m_ram_rw) & 7, 7);
    CHECK_EQ(p2m_leaf(0x1234, p2m_special) & 7, 7);
    CHECK_EQ((p2m_leaf(0x1234, p2m_ram_rw) >> 12) & 0xffffffffffULL, 0x1234);
    CHECK_EQ(p2m_leaf(0x1234, p2m_ram_rw) >> 63, 0); /* executable */
}

TEST(bad_arguments)
{
    setup();
    CHECK_EQ(p2m_set(&p, P2M_MAX_GFN, 1, p2m_ram_rw, NULL, NULL), -XEN_EINVAL);
    CHECK_EQ(p2m_set(&p, ~0ULL, 1, p2m_ram_rw, NULL, NULL), -XEN_EINVAL);
    CHECK_EQ(p2m_set(&p, 1, 1, p2m_none, NULL, NULL), -XEN_EINVAL);
    CHECK_EQ(p2m_set(&p, 1, 1, p2m_nr_types, NULL, NULL), -XEN_EINVAL);
    CHECK_EQ(p2m_set(&p, 1, 1ULL << 41, p2m_ram_rw, NULL, NULL), -XEN_EINVAL);
    CHECK_EQ(p2m_lookup(&p, ~0ULL, NULL), P2M_INVALID_MFN);
    CHECK_EQ(p.nr_tables, 1);
    teardown();
}

TEST(pool_limits_tables)
{
    unsigned long before;
    enum p2m_type t;

    setup();
    CHECK(p2m_set_pool(&p, 0) == 0);
    CHECK_EQ(p.pool_frames, 1); /* the root is in use */
    CHECK(p2m_set_pool(&p, 4) == 0);
    CHECK(p2m_set(&p, 0, 1, p2m_ram_rw, NULL, NULL) == 0); /* L3, L2, L1 */
    CHECK_EQ(p.nr_tables, 4);
    CHECK(p2m_set(&p, 511, 2, p2m_ram_rw, NULL, NULL) == 0); /* same L1 */
    before = heap_free_frames();
    CHECK_EQ(p2m_set(&p, 512, 3, p2m_ram_rw, NULL, NULL), -XEN_ENOMEM);
    CHECK_EQ(heap_free_frames(), before);
    CHECK_EQ(p2m_lookup(&p, 512, &t), P2M_INVALID_MFN);
    CHECK(p2m_set_pool(&p, 5) == 0);
    CHECK(p2m_set(&p, 512, 3, p2m_ram_rw, NULL, NULL) == 0);
    CHECK(p2m_verify(&p) == 0);
    teardown();
}

static unsigned long seen[4096];
static unsigned int nseen;

static void record(void *ctx, u64 gfn, mfn_t mfn, enum p2m_type t)
{
    (void)ctx;
    CHECK(t == p2m_ram_rw);
    CHECK_EQ(mfn, gfn + 7);
    CHECK(nseen < 4096);
    seen[nseen++] = gfn;
}

TEST(drain_reports_each_once)
{
    static const u64 gfns[] = {0, 1, 511, 512, 262144, 262145, (1ULL << 27) + 3,
                               P2M_MAX_GFN - 1};
    u64 cursor = 0;
    int rounds = 0;

    setup();
    CHECK(p2m_set_pool(&p, 64) == 0);
    for (unsigned i = 0; i < sizeof(gfns) / sizeof(gfns[0]); i++)
        CHECK(p2m_set(&p, gfns[i], gfns[i] + 7, p2m_ram_rw, NULL, NULL) == 0);
    CHECK(p2m_verify(&p) == 0);
    nseen = 0;
    while (p2m_drain(&p, &cursor, 3, record, NULL))
        rounds++;
    CHECK_EQ(rounds, 2);
    CHECK_EQ(nseen, 8);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(seen[i], gfns[i]); /* in GFN order, none twice */
    CHECK_EQ(p.nr_entries, 0);
    CHECK(p2m_verify(&p) == 0);
    teardown();
}

TEST(generation_moves_on_removal)
{
    unsigned long g;

    setup();
    g = p.generation;
    CHECK(p2m_set(&p, 9, 9, p2m_ram_rw, NULL, NULL) == 0);
    CHECK_EQ(p.generation, g); /* adding needs no flush */
    CHECK(p2m_set(&p, 9, 10, p2m_ram_rw, NULL, NULL) == 0);
    CHECK(p.generation != g);
    g = p.generation;
    CHECK(p2m_clear(&p, 9, NULL, NULL) == 0);
    CHECK(p.generation != g);
    teardown();
}

TEST(take_only_what_was_asked_for)
{
    enum p2m_type t;
    mfn_t old;

    setup();
    CHECK(p2m_set(&p, 9, 200, p2m_grant_rw, NULL, NULL) == 0);
    CHECK(p2m_set(&p, 10, 201, p2m_ram_rw, NULL, NULL) == 0);
    /* Wrong type, wrong frame: left alone, and reported. */
    CHECK_EQ(p2m_take(&p, 10, P2M_GRANT_TYPES, 201, &old, &t), -XEN_EINVAL);
    CHECK_EQ(old, 201);
    CHECK_EQ(t, p2m_ram_rw);
    CHECK_EQ(p2m_take(&p, 9, P2M_GRANT_TYPES, 999, NULL, NULL), -XEN_EINVAL);
    CHECK_EQ(p2m_lookup(&p, 9, &t), 200);
    CHECK_EQ(p2m_take(&p, 11, P2M_GRANT_TYPES, 200, &old, &t), -XEN_ENOENT);
    CHECK_EQ(t, p2m_none);
    CHECK_EQ(p2m_take(&p, P2M_MAX_GFN, ~0U, P2M_INVALID_MFN, NULL, NULL), -XEN_ENOENT);
    unsigned long gen = p.generation;
    CHECK_EQ(p2m_take(&p, 9, P2M_GRANT_TYPES, 200, &old, &t), 0);
    CHECK_EQ(t, p2m_grant_rw);
    CHECK(p.generation > gen); /* a translation went: guest TLBs go */
    CHECK_EQ(p2m_lookup(&p, 9, &t), P2M_INVALID_MFN);
    /* Any frame of a listed type. */
    CHECK_EQ(p2m_take(&p, 10, P2M_TYPE_BIT(p2m_ram_rw), P2M_INVALID_MFN, NULL, NULL), 0);
    CHECK_EQ(p.nr_entries, 0);
    CHECK(p2m_verify(&p) == 0);
    teardown();
}

TEST(grant_place_as_xens_p2m_add_page)
{
    enum p2m_type t;
    bool moved;
    mfn_t old;

    setup();
    /* Into a hole: read-only grants map without RW. */
    CHECK(p2m_grant_place(&p, 0x100, 300, true, P2M_INVALID_GFN, &moved, &old, &t) == 0);
    CHECK(!moved);
    CHECK_EQ(t, p2m_none);
    CHECK_EQ(p2m_lookup(&p, 0x100, &t), 300);
    CHECK_EQ(t, p2m_grant_ro);
    CHECK(!(p2m_leaf(300, p2m_grant_ro) & 2));
    CHECK(p2m_leaf(300, p2m_grant_rw) & 2);
    /* A grant there already: refused, nothing changes. */
    CHECK_EQ(p2m_grant_place(&p, 0x100, 301, false, P2M_INVALID_GFN, &moved, &old, &t),
             -XEN_EPERM);
    CHECK_EQ(p2m_lookup(&p, 0x100, &t), 300);
    /* Over RAM: replaced and reported. */
    CHECK(p2m_set(&p, 0x20, 320, p2m_ram_rw, NULL, NULL) == 0);
    CHECK(p2m_grant_place(&p, 0x20, 302, false, P2M_INVALID_GFN, &moved, &old, &t) == 0);
    CHECK_EQ(old, 320);
    CHECK_EQ(t, p2m_ram_rw);
    CHECK_EQ(p2m_lookup(&p, 0x20, &t), 302);
    CHECK_EQ(t, p2m_grant_rw);
    /* The mapper's own frame leaves its GFN ... */
    CHECK(p2m_set(&p, 0x30, 330, p2m_ram_rw, NULL, NULL) == 0);
    CHECK(p2m_grant_place(&p, 0x101, 330, false, 0x30, &moved, &old, &t) == 0);
    CHECK(moved);
    CHECK_EQ(p2m_lookup(&p, 0x30, NULL), P2M_INVALID_MFN);
    CHECK_EQ(p2m_lookup(&p, 0x101, NULL), 330);
    /* ... only if that GFN still maps it as RAM ... */
    CHECK(p2m_set(&p, 0x31, 999, p2m_ram_rw, NULL, NULL) == 0);
    CHECK(p2m_set(&p, 0x32, 332, p2m_special, NULL, NULL) == 0);
    CHECK(p2m_grant_place(&p, 0x102, 331, false, 0x31, &moved, &old, &t) == 0);
    CHECK(!moved);
    CHECK(p2m_grant_place(&p, 0x103, 332, false, 0x32, &moved, &old, &t) == 0);
    CHECK(!moved);
    CHECK_EQ(p2m_lookup(&p, 0x31, NULL), 999);
    CHECK_EQ(p2m_lookup(&p, 0x32, NULL), 332);
    /* ... even when the placement then fails (GFN out of range) ... */
    CHECK(p2m_set(&p, 0x33, 333, p2m_ram_rw, NULL, NULL) == 0);
    CHECK_EQ(p2m_grant_place(&p, P2M_MAX_GFN, 333, false, 0x33, &moved, &old, &t),
             -XEN_EINVAL);
    CHECK(moved);
    CHECK_EQ(p2m_lookup(&p, 0x33, NULL), P2M_INVALID_MFN);
    /* ... but not when the target holds a grant. */
    CHECK(p2m_set(&p, 0x34, 334, p2m_ram_rw, NULL, NULL) == 0);
    CHECK_EQ(p2m_grant_place(&p, 0x100, 334, false, 0x34, &moved, &old, &t), -XEN_EPERM);
    CHECK(!moved);
    CHECK_EQ(p2m_lookup(&p, 0x34, NULL), 334);
    /* At its own GFN: the RAM entry becomes the grant entry. */
    CHECK(p2m_grant_place(&p, 0x34, 334, true, 0x34, &moved, &old, &t) == 0);
    CHECK(!moved);
    CHECK_EQ(old, 334);
    CHECK_EQ(t, p2m_ram_rw);
    CHECK_EQ(p2m_lookup(&p, 0x34, &t), 334);
    CHECK_EQ(t, p2m_grant_ro);
    /* The highest GFN; a full pool is -ENOMEM and changes nothing. */
    CHECK(p2m_grant_place(&p, P2M_MAX_GFN - 1, 335, false, P2M_INVALID_GFN, &moved, &old,
                          &t) == 0);
    CHECK(p2m_set_pool(&p, 0) == 0);
    unsigned long entries = p.nr_entries;
    CHECK_EQ(p2m_grant_place(&p, 1ULL << 30, 336, false, P2M_INVALID_GFN, &moved, &old, &t),
             -XEN_ENOMEM);
    CHECK_EQ(p.nr_entries, entries);
    CHECK(p2m_verify(&p) == 0);
    teardown();
}
