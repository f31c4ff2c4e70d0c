/* Buddy allocator: splitting, coalescing, double-free detection, stress. */
#include <keel/page_alloc.h>

#include <setjmp.h>
#include <signal.h>

#include "harness.h"

#define NR 4096 /* frames of fake machine memory */
static struct page_info table[NR];

static void setup(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
}

TEST(split_and_coalesce)
{
    setup();
    heap_add_range(0, 1024); /* one order-10 block */
    CHECK_EQ(heap_free_frames(), 1024);
    CHECK_EQ(heap_verify(), 0);
    struct page_info *a = alloc_pages(0);
    CHECK(a == &table[0]);
    CHECK_EQ(heap_free_frames(), 1023);
    CHECK_EQ(heap_verify(), 0);
    struct page_info *b = alloc_pages(3);
    CHECK(b == &table[8]);
    struct page_info *c = alloc_pages(0);
    CHECK(c == &table[1]);
    CHECK_EQ(page_state(a), PGC_state_inuse);
    CHECK_EQ(page_state(&table[2]), PGC_state_free);
    free_pages(a, 0);
    free_pages(b, 3);
    free_pages(c, 0);
    CHECK_EQ(heap_verify(), 0);
    CHECK_EQ(heap_free_frames(), 1024);
    /* Everything merged back: one order-10 allocation must succeed. */
    CHECK(alloc_pages(10) == &table[0]);
    CHECK(alloc_pages(0) == NULL);
    CHECK_EQ(heap_verify(), 0);
}

TEST(unaligned_ranges_and_holes)
{
    setup();
    heap_add_range(3, 1000);   /* 3..1002 */
    heap_add_range(1100, 1000); /* a hole at 1003..1099 */
    CHECK_EQ(heap_free_frames(), 2000);
    CHECK_EQ(heap_total_frames(), 2000);
    CHECK_EQ(heap_verify(), 0);
    CHECK_EQ(page_state(&table[1050]), PGC_state_reserved);
    CHECK_EQ(page_state(&table[0]), PGC_state_reserved);
    /* The only order-9 block: 1536..2047 (the others hit a hole). */
    struct page_info *big = alloc_pages(9);
    CHECK(big == &table[1536]);
    if (!big)
        return;
    CHECK(alloc_pages(10) == NULL);
    free_pages(big, 9);
    CHECK_EQ(heap_verify(), 0);
}

TEST(too_big_order)
{
    setup();
    heap_add_range(0, NR);
    CHECK(alloc_pages(MAX_ORDER + 1) == NULL);
    CHECK(alloc_pages(12) == &table[0]);
}

TEST(alloc_page_va_zeroes_and_maps)
{
    setup();
    heap_add_range(16, 16);
    memset(mfn_to_virt(16), 0xaa, PAGE_SIZE);
    u8 *va = alloc_page_va();
    CHECK(va == mfn_to_virt(16));
    CHECK(va[0] == 0 && va[PAGE_SIZE - 1] == 0);
    free_page_va(va);
    CHECK_EQ(heap_free_frames(), 16);
}

static sigjmp_buf jb;
static void on_abort(int sig)
{
    (void)sig;
    siglongjmp(jb, 1);
}

/* A BUG/panic on the host is abort(): catch it to prove it fired. */
static bool aborts(void (*fn)(void))
{
    struct sigaction sa = {.sa_handler = on_abort}, old;
    bool fired = false;
    sigaction(SIGABRT, &sa, &old);
    if (sigsetjmp(jb, 1) == 0)
        fn();
    else
        fired = true;
    sigaction(SIGABRT, &old, NULL);
    return fired;
}

static struct page_info *victim;
static void free_victim(void) { free_pages(victim, 0); }
static void free_victim_order1(void) { free_pages(victim, 1); }

TEST(double_free_detected)
{
    setup();
    heap_add_range(0, 64);
    victim = alloc_pages(0);
    free_pages(victim, 0);
    CHECK(aborts(free_victim));
}

TEST(free_of_reserved_or_half_free_detected)
{
    setup();
    heap_add_range(0, 64);
    victim = &table[100]; /* never given to the allocator */
    CHECK(aborts(free_victim));
    victim = alloc_pages(0); /* frame 0; frame 1 is free */
    CHECK(aborts(free_victim_order1));
}

TEST(free_with_references_detected)
{
    setup();
    heap_add_range(0, 64);
    victim = alloc_pages(0);
    victim->count_info |= 1;
    CHECK(aborts(free_victim));
}

/* Random alloc/free with invariant checks after every step. */
TEST(random_stress)
{
    static struct { struct page_info *pg; unsigned order; } live[512];
    unsigned n = 0, seed = 42;
    setup();
    heap_add_range(5, NR - 5);
    unsigned long total = heap_free_frames();
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245 + 12345;
        bool do_alloc = n == 0 || (n < 512 && (seed >> 16) % 3 != 0);
        if (do_alloc) {
            unsigned order = (seed >> 20) % 7;
            struct page_info *pg = alloc_pages(order);
            if (!pg)
                continue;
            CHECK_EQ(page_to_mfn(pg) % (1U << order), 0);
            for (unsigned i = 0; i < (1U << order); i++)
                CHECK_EQ(page_state(pg + i), PGC_state_inuse);
            /* no overlap with anything live */
            for (unsigned k = 0; k < n; k++) {
                mfn_t a = page_to_mfn(pg), b = page_to_mfn(live[k].pg);
                CHECK(a + (1U << order) <= b || b + (1U << live[k].order) <= a);
            }
            live[n].pg = pg;
            live[n++].order = order;
        } else {
            unsigned k = (seed >> 8) % n;
            free_pages(live[k].pg, live[k].order);
            live[k] = live[--n];
        }
        if (step % 97 == 0 && heap_verify() != 0) {
            CHECK(0);
            return;
        }
    }
    while (n--)
        free_pages(live[n].pg, live[n].order);
    CHECK_EQ(heap_verify(), 0);
    CHECK_EQ(heap_free_frames(), total);
    /* Fully coalesced again: the aligned middle is one order-11 block. */
    CHECK(alloc_pages(11) != NULL);
}
