/* Grant tables v1 core: pins, shared-entry flags, maptrack, host/device
 * mappings and their references, copy, relinquish and zombie tables. */
#include <pthread.h>
#include <keel/grant_table.h>
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

#include "harness.h"

#define NR 512
#define VA_BASE 0x40000000UL
static struct page_info table[NR];
static struct domain *dom_a = (struct domain *)0x1000, *dom_b = (struct domain *)0x2000;
#define DOMID_A 1
#define DOMID_B 0
static mfn_t va_l1; /* the L1 table mapping VA_BASE.. for the linear form */
static int flushes;

void gnttab_arch_flush_all(void) { flushes++; }
struct page_info *gnttab_arch_va_l1(struct domain *ld, u64 va, u64 **slot)
{
    if (ld != dom_b || va < VA_BASE || va >= VA_BASE + 512 * PAGE_SIZE)
        return NULL;
    CHECK(get_page_and_type(&table[va_l1], dom_b, PGT_l1_page_table));
    *slot = (u64 *)mfn_to_virt(va_l1) + ((va - VA_BASE) >> PAGE_SHIFT);
    return &table[va_l1];
}

#define COUNT(m) (table[m].count_info & PGC_count_mask)
#define TCOUNT(m) (table[m].u.type_info & PGT_count_mask)
#define FREE(m) (page_state(&table[m]) == PGC_state_free)

static mfn_t page_of(struct domain *d)
{
    struct page_info *pg = alloc_pages(0);
    page_assign(pg, d);
    memset(mfn_to_virt(page_to_mfn(pg)), 0, PAGE_SIZE);
    return page_to_mfn(pg);
}

/* B's L1 table, validated and held as the guest's page tables would. */
static mfn_t l1_of_b(void)
{
    mfn_t l1 = page_of(dom_b);
    CHECK(get_page_and_type(&table[l1], dom_b, PGT_l1_page_table));
    return l1;
}

static struct grant_table *gta, *gtb;

static void setup_tables(unsigned int maptrack_frames)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    /* The previous test's tables go with its heap (tests may leave them). */
    free(gta);
    free(gtb);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(1, NR - 1); /* frame 0 stays reserved */
    pv_mm_init();
    flushes = 0;
    gta = gnttab_create(dom_a, DOMID_A, 4, 4);
    gtb = gnttab_create(dom_b, DOMID_B, 4, maptrack_frames);
    CHECK(gta && gtb);
    CHECK_EQ(gnttab_grow(gta, 1), 0);
    va_l1 = l1_of_b();
}

static grant_entry_v1_t *entry(struct grant_table *gt, grant_ref_t ref)
{
    return (grant_entry_v1_t *)mfn_to_virt(gt->frames[ref / GNTTAB_PER_FRAME]) +
           ref % GNTTAB_PER_FRAME;
}

static void grant(grant_ref_t ref, domid_t to, mfn_t frame, u16 extra)
{
    grant_entry_v1_t *e = entry(gta, ref);
    e->frame = (u32)frame;
    e->domid = to;
    __atomic_store_n(&e->flags, GTF_permit_access | extra, __ATOMIC_RELEASE);
}

static s16 map(grant_ref_t ref, u32 flags, u64 addr, struct gnttab_map_grant_ref *op)
{
    *op = (struct gnttab_map_grant_ref){.host_addr = addr, .flags = flags, .ref = ref,
                                        .dom = DOMID_A};
    return gnttab_map(gtb, gta, op);
}

static s16 unmap(u32 handle, u64 host_addr, u64 dev)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = host_addr, .dev_bus_addr = dev,
                                        .handle = handle};
    struct gnttab_unmap_done done;
    s16 rc = gnttab_unmap(gtb, &op, &done);
    gnttab_unmap_complete(&done);
    return rc;
}

static u64 pte_maddr(mfn_t l1, unsigned int slot) { return ((u64)l1 << PAGE_SHIFT) + slot * 8; }
static u64 *slot_of(mfn_t l1, unsigned int slot) { return (u64 *)mfn_to_virt(l1) + slot; }

TEST(table_frames_are_owned_typed_and_bounded)
{
    setup_tables(4);
    mfn_t f = gta->frames[0];
    CHECK(table[f].owner == dom_a);
    CHECK_EQ(COUNT(f), 2); /* allocation + Keel's */
    CHECK_EQ(TCOUNT(f), 1);
    CHECK_EQ(table[f].u.type_info & PGT_type_mask, PGT_writable_page);
    CHECK(gnttab_has_frame(gta, f));
    CHECK_EQ(gnttab_grow(gta, 5), -XEN_EINVAL);
    mfn_t out[4];
    CHECK_EQ(gnttab_frame_mfns(gta, 1, 3, out), 0); /* grows to 4 */
    CHECK_EQ(gnttab_nr_frames(gta), 4);
    CHECK_EQ(out[2], gta->frames[3]);
    CHECK_EQ(gnttab_frame_mfns(gta, 3, 2, out), -XEN_EINVAL);
    CHECK(!gnttab_create(dom_a, 1, GNTTAB_MAX_FRAMES + 1, 1));
}

TEST(map_errors_in_xens_order)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a), theirs = page_of(dom_b);
    u64 a = pte_maddr(va_l1, 3);

    CHECK_EQ(map(0, GNTMAP_readonly, a, &op), GNTST_bad_gntref); /* no host/device */
    CHECK_EQ(map(GNTTAB_PER_FRAME, GNTMAP_host_map | GNTMAP_contains_pte, a, &op),
             GNTST_bad_gntref);
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, a, &op), GNTST_general_error);
    grant(5, DOMID_A, p, 0); /* granted to the wrong domain */
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, a, &op), GNTST_general_error);
    grant(5, DOMID_B, p, GTF_readonly);
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, a, &op), GNTST_general_error);
    grant(5, DOMID_B, p, GTF_sub_page);
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, a, &op), GNTST_general_error);
    grant(5, DOMID_B, theirs, 0); /* a frame A does not own */
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, a, &op), GNTST_bad_page);
    CHECK_EQ(entry(gta, 5)->flags, GTF_permit_access); /* reading/writing undone */
    grant(5, DOMID_B, p, 0);
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, a + 4, &op), GNTST_general_error);
    CHECK_EQ(map(5, GNTMAP_host_map | GNTMAP_contains_pte, pte_maddr(p, 0), &op),
             GNTST_general_error); /* not B's L1 */
    CHECK_EQ(map(5, GNTMAP_host_map, VA_BASE - PAGE_SIZE, &op), GNTST_general_error);
    CHECK_EQ(entry(gta, 5)->flags, GTF_permit_access);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(gtb->maptrack_used, 0);
    CHECK_EQ(gta->active[0][5].pin, 0);
}

TEST(host_map_by_pte_and_unmap)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    grant(7, DOMID_B, p, 0);
    u32 fl = GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_application_map | (1U << 16);
    CHECK_EQ(map(7, fl, pte_maddr(va_l1, 9), &op), GNTST_okay);
    CHECK_EQ(op.dev_bus_addr, (u64)p << PAGE_SHIFT);
    CHECK_EQ(*slot_of(va_l1, 9), ((u64)p << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US | PTE_A |
                                     PTE_D | PTE_GNTTAB | (1UL << 9));
    CHECK_EQ(entry(gta, 7)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(COUNT(p), 2);
    CHECK_EQ(TCOUNT(p), 1);
    CHECK_EQ(gta->refcnt, 2); /* the handle's */

    CHECK_EQ(unmap(op.handle + 1, pte_maddr(va_l1, 9), 0), GNTST_bad_handle);
    CHECK_EQ(unmap(100000, pte_maddr(va_l1, 9), 0), GNTST_bad_handle);
    CHECK_EQ(unmap(op.handle, pte_maddr(va_l1, 10), 0), GNTST_general_error);
    CHECK_EQ(unmap(op.handle, 0, 1), GNTST_bad_dev_addr); /* wrong bus address */
    CHECK_EQ(unmap(op.handle, pte_maddr(va_l1, 9), 0), GNTST_okay);
    CHECK_EQ(*slot_of(va_l1, 9), 0);
    CHECK_EQ(entry(gta, 7)->flags, GTF_permit_access);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(gta->refcnt, 1);
    CHECK_EQ(unmap(op.handle, pte_maddr(va_l1, 9), 0), GNTST_bad_handle);
}

TEST(readonly_then_writable_pins)
{
    setup_tables(4);
    struct gnttab_map_grant_ref r, w;
    mfn_t p = page_of(dom_a);
    grant(1, DOMID_B, p, 0);
    CHECK_EQ(map(1, GNTMAP_host_map | GNTMAP_readonly, VA_BASE, &r), GNTST_okay);
    CHECK_EQ(entry(gta, 1)->flags, GTF_permit_access | GTF_reading);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK(!(*slot_of(va_l1, 0) & PTE_RW));
    /* The guest may now make it read-only: further rw pins fail. */
    entry(gta, 1)->flags |= GTF_readonly;
    CHECK_EQ(map(1, GNTMAP_host_map, VA_BASE + PAGE_SIZE, &w), GNTST_general_error);
    entry(gta, 1)->flags &= ~GTF_readonly;
    CHECK_EQ(map(1, GNTMAP_host_map, VA_BASE + PAGE_SIZE, &w), GNTST_okay);
    CHECK_EQ(entry(gta, 1)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(gta->active[0][1].pin, GNTPIN_hstr_inc | GNTPIN_hstw_inc);
    /* Already pinned: the entry's domid is no longer looked at. */
    entry(gta, 1)->domid = 77;
    struct gnttab_map_grant_ref r2;
    CHECK_EQ(map(1, GNTMAP_host_map | GNTMAP_readonly, VA_BASE + 2 * PAGE_SIZE, &r2),
             GNTST_okay);
    CHECK_EQ(unmap(w.handle, VA_BASE + PAGE_SIZE, 0), GNTST_okay);
    CHECK_EQ(entry(gta, 1)->flags, GTF_permit_access | GTF_reading);
    CHECK_EQ(unmap(r.handle, VA_BASE, 0), GNTST_okay);
    CHECK_EQ(unmap(r2.handle, VA_BASE + 2 * PAGE_SIZE, 0), GNTST_okay);
    CHECK_EQ(entry(gta, 1)->flags, GTF_permit_access);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(gta->active[0][1].pin, 0);
}

TEST(device_and_host_in_one_handle)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    grant(2, DOMID_B, p, 0);
    CHECK_EQ(map(2, GNTMAP_host_map | GNTMAP_device_map, VA_BASE, &op), GNTST_okay);
    CHECK_EQ(COUNT(p), 3);
    CHECK_EQ(TCOUNT(p), 2);
    CHECK_EQ(unmap(op.handle, 0, op.dev_bus_addr), GNTST_okay); /* device half */
    CHECK_EQ(COUNT(p), 2);
    CHECK_EQ(gtb->maptrack_used, 1);
    CHECK_EQ(unmap(op.handle, 0, op.dev_bus_addr), GNTST_okay); /* nothing left of it */
    CHECK_EQ(COUNT(p), 2);
    CHECK_EQ(unmap(op.handle, VA_BASE, 0), GNTST_okay);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(gtb->maptrack_used, 0);
}

TEST(maptrack_exhaustion_and_reuse)
{
    setup_tables(1); /* 256 handles */
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a), q = page_of(dom_a);
    grant(3, DOMID_B, p, GTF_readonly);
    grant(5, DOMID_B, p, GTF_readonly);
    /* Pin counters stop at half range (128), so two refs fill the handles. */
    for (unsigned int i = 0; i < GNTTAB_MAPTRACK_PER_FRAME; i++)
        CHECK_EQ(map(i & 1 ? 3 : 5, GNTMAP_device_map | GNTMAP_readonly, 0, &op), GNTST_okay);
    CHECK_EQ(gtb->maptrack_used, GNTTAB_MAPTRACK_PER_FRAME);
    struct gnttab_map_grant_ref more;
    grant(4, DOMID_B, q, 0);
    CHECK_EQ(map(4, GNTMAP_device_map, 0, &more), GNTST_no_space);
    CHECK_EQ(entry(gta, 4)->flags, GTF_permit_access);
    for (u32 h = 0; h < GNTTAB_MAPTRACK_PER_FRAME; h++)
        CHECK_EQ(unmap(h, 0, (u64)p << PAGE_SHIFT), GNTST_okay);
    CHECK_EQ(gtb->maptrack_used, 0);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(map(4, GNTMAP_device_map, 0, &more), GNTST_okay);
}

TEST(pin_overflow_refused)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    grant(3, DOMID_B, p, GTF_readonly);
    int ok = 0;
    for (unsigned int i = 0; i < 200; i++)
        ok += map(3, GNTMAP_device_map | GNTMAP_readonly, 0, &op) == GNTST_okay;
    CHECK_EQ(ok, 128);
    CHECK_EQ(COUNT(p), 129);
}

TEST(implicit_unmap_by_ordinary_update)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    grant(6, DOMID_B, p, 0);
    CHECK_EQ(map(6, GNTMAP_host_map | GNTMAP_contains_pte, pte_maddr(va_l1, 1), &op),
             GNTST_okay);
    /* mmu_update writing 0 over it: the PTE's references go with it. */
    CHECK_EQ(pv_entry_update(dom_b, slot_of(va_l1, 1), 1, 1, 0, false), 0);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    /* The grant stays pinned; its handle can no longer be unmapped. */
    CHECK_EQ(unmap(op.handle, pte_maddr(va_l1, 1), 0), GNTST_general_error);
    CHECK_EQ(entry(gta, 6)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    /* Until B goes: relinquish drops the pin without touching the frame. */
    CHECK_EQ(gnttab_relinquish(gtb, 100), 0);
    CHECK_EQ(entry(gta, 6)->flags, GTF_permit_access);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(gta->refcnt, 1);
}

TEST(map_replaces_a_present_pte_and_flushes)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a), mine = page_of(dom_b);
    CHECK_EQ(pv_entry_update(dom_b, slot_of(va_l1, 2), 1, 2,
                             ((u64)mine << PAGE_SHIFT) | PTE_P | PTE_RW, false), 0);
    CHECK_EQ(COUNT(mine), 2);
    grant(6, DOMID_B, p, 0);
    CHECK_EQ(map(6, GNTMAP_host_map, VA_BASE + 2 * PAGE_SIZE, &op), GNTST_okay);
    CHECK_EQ(COUNT(mine), 1);
    CHECK_EQ(TCOUNT(mine), 0);
    CHECK(flushes >= 1);
    CHECK_EQ(unmap(op.handle, VA_BASE + 2 * PAGE_SIZE, 0), GNTST_okay);
}

static s16 copy(u16 flags, grant_ref_t sref, mfn_t sframe, u16 soff, grant_ref_t dref,
                mfn_t dframe, u16 doff, u16 len)
{
    struct gnttab_copy op = {.flags = flags, .len = len};
    op.source.offset = soff;
    op.dest.offset = doff;
    if (flags & GNTCOPY_source_gref)
        op.source.u.ref = sref;
    else
        op.source.u.gmfn = sframe;
    if (flags & GNTCOPY_dest_gref)
        op.dest.u.ref = dref;
    else
        op.dest.u.gmfn = dframe;
    return gnttab_copy_one(dom_b, DOMID_B, (flags & GNTCOPY_source_gref) ? gta : NULL,
                           (flags & GNTCOPY_dest_gref) ? gta : NULL, &op);
}

TEST(copy_both_ways_and_bounds)
{
    setup_tables(4);
    mfn_t gp = page_of(dom_a), mine = page_of(dom_b), ro = page_of(dom_a);
    u8 *g = mfn_to_virt(gp), *m = mfn_to_virt(mine);
    grant(8, DOMID_B, gp, 0);
    grant(9, DOMID_B, ro, GTF_readonly);
    memset(m, 0x5a, 16);
    CHECK_EQ(copy(GNTCOPY_dest_gref, 0, mine, 0, 8, 0, 100, 16), GNTST_okay);
    CHECK_EQ(g[100], 0x5a);
    CHECK_EQ(g[116], 0);
    g[4000] = 0x77;
    CHECK_EQ(copy(GNTCOPY_source_gref, 8, 0, 4000, 0, mine, 10, 1), GNTST_okay);
    CHECK_EQ(m[10], 0x77);
    CHECK_EQ(copy(GNTCOPY_source_gref, 8, 0, 4000, 0, mine, 4095, 2), GNTST_bad_copy_arg);
    CHECK_EQ(copy(GNTCOPY_source_gref, 8, 0, 4095, 0, mine, 0, 2), GNTST_bad_copy_arg);
    CHECK_EQ(copy(GNTCOPY_dest_gref, 0, mine, 0, 9, 0, 0, 1), GNTST_general_error);
    CHECK_EQ(copy(GNTCOPY_source_gref, 9, 0, 0, 0, mine, 0, 1), GNTST_okay); /* reading it is fine */
    CHECK_EQ(copy(GNTCOPY_source_gref, 4096, 0, 0, 0, mine, 0, 1), GNTST_bad_gntref);
    CHECK_EQ(copy(0, 0, gp, 0, 0, mine, 0, 1), GNTST_bad_page); /* not B's frame */
    CHECK_EQ(copy(0, 0, NR + 5, 0, 0, mine, 0, 1), GNTST_bad_page);
    CHECK_EQ(copy(GNTCOPY_source_gref | GNTCOPY_dest_gref, 8, 0, 0, 8, 0, 1, 8), GNTST_okay);
    /* Nothing stays pinned or referenced. */
    CHECK_EQ(entry(gta, 8)->flags, GTF_permit_access);
    CHECK_EQ(entry(gta, 9)->flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(COUNT(gp), 1);
    CHECK_EQ(TCOUNT(gp), 0);
    CHECK_EQ(COUNT(mine), 1);
    CHECK_EQ(TCOUNT(mine), 0);
}

TEST(granter_dies_while_mapped_then_zombie_goes)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    mfn_t f = gta->frames[0];
    grant(11, DOMID_B, p, 0);
    CHECK_EQ(map(11, GNTMAP_host_map, VA_BASE + 5 * PAGE_SIZE, &op), GNTST_okay);
    /* A is destroyed: its table dies, its memory is given back. */
    CHECK_EQ(gnttab_relinquish(gta, 100), 0);
    CHECK(!(table[f].count_info & PGC_allocated));
    struct gnttab_map_grant_ref again;
    CHECK_EQ(map(11, GNTMAP_host_map, VA_BASE + 6 * PAGE_SIZE, &again), GNTST_general_error);
    page_unassign(&table[p]); /* A's relinquish_memory */
    gnttab_put(gta);          /* struct domain A freed */
    gta = NULL;
    CHECK(!FREE(p));          /* B's PTE holds it */
    CHECK(!FREE(f));          /* B's pin holds the table */
    CHECK_EQ(unmap(op.handle, VA_BASE + 5 * PAGE_SIZE, 0), GNTST_okay);
    CHECK(FREE(p));
    CHECK(FREE(f));
}

TEST(relinquish_is_preemptible_and_complete)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    grant(12, DOMID_B, p, 0);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(map(12, GNTMAP_device_map, 0, &op), GNTST_okay);
    CHECK_EQ(COUNT(p), 11);
    int calls = 1;
    while (gnttab_relinquish(gtb, 3) > 0)
        calls++;
    CHECK_EQ(calls, 4);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(gtb->maptrack_used, 0);
    CHECK_EQ(entry(gta, 12)->flags, GTF_permit_access);
    CHECK_EQ(gta->refcnt, 1);
    gnttab_put(gtb);
    gnttab_put(gta);
    gta = gtb = NULL;
    CHECK(FREE(p) == false); /* still A's allocation */
}

/* The guest rewrites its entry while B maps and unmaps: whatever wins,
 * nothing leaks and the flags end up clear. */
static volatile int stop;
static void *flipper(void *arg)
{
    grant_entry_v1_t *e = arg;
    u32 *w = (u32 *)e;
    while (!stop) {
        u32 v = __atomic_load_n(w, __ATOMIC_RELAXED);
        __atomic_compare_exchange_n(w, &v, v ^ (GTF_readonly | (3U << 16)), false,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
    return NULL;
}

TEST(entry_races_leave_no_trace)
{
    setup_tables(4);
    mfn_t p = page_of(dom_a);
    grant(13, DOMID_B, p, 0);
    pthread_t t;
    stop = 0;
    CHECK_EQ(pthread_create(&t, NULL, flipper, entry(gta, 13)), 0);
    int ok = 0;
    for (int i = 0; i < 20000; i++) {
        struct gnttab_map_grant_ref op;
        if (map(13, GNTMAP_device_map, 0, &op) == GNTST_okay) {
            ok++;
            CHECK_EQ(unmap(op.handle, 0, op.dev_bus_addr), GNTST_okay);
        }
    }
    stop = 1;
    pthread_join(t, NULL);
    u16 fl = entry(gta, 13)->flags;
    CHECK_EQ(fl & (GTF_reading | GTF_writing), 0);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(gta->active[0][13].pin, 0);
    CHECK_EQ(gtb->maptrack_used, 0);
    fprintf(stderr, "  %d of 20000 maps won the race\n", ok);
}
