/* Grant tables v1 core: pins, shared-entry flags, maptrack, host/device
 * mappings and their references, copy, relinquish and zombie tables. */
#include <pthread.h>
#include <keel/grant_table.h>
#include <keel/p2m.h>
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

/* B as a translated (HVM) mapper: its host maps go into this p2m. */
static struct p2m b_p2m;
static int b_crashed;
s16 gnttab_arch_p2m_map(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    bool moved;
    int rc;

    CHECK(ld == dom_b);
    rc = p2m_grant_place(&b_p2m, gfn, mfn, ro, P2M_INVALID_GFN, &moved, NULL, NULL);
    if (rc == -XEN_EPERM)
        b_crashed++;
    return rc ? GNTST_general_error : GNTST_okay;
}
s16 gnttab_arch_p2m_unmap(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    CHECK(ld == dom_b);
    return p2m_take(&b_p2m, gfn, P2M_TYPE_BIT(ro ? p2m_grant_ro : p2m_grant_rw), mfn, NULL,
                    NULL) ? GNTST_general_error : GNTST_okay;
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
    /* A bus address is looked at only for a device mapping (Xen 4.17). */
    CHECK_EQ(unmap(op.handle, 0, 1), GNTST_okay);
    CHECK_EQ(gta->refcnt, 2); /* nothing was unmapped */
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

/* ------------------------------------------------------------ version 2 */

static struct domain *dom_c = (struct domain *)0x3000;
#define DOMID_C 2
static struct grant_table *gtc;

/* Transitive grants look tables up by domid. */
struct grant_table *gnttab_arch_table_by_id(domid_t domid)
{
    struct grant_table *t = domid == DOMID_A ? gta : domid == DOMID_B ? gtb :
                            domid == DOMID_C ? gtc : NULL;
    if (t)
        gnttab_get(t);
    return t;
}

static grant_entry_v2_t *entry2(struct grant_table *gt, grant_ref_t ref)
{
    return (grant_entry_v2_t *)mfn_to_virt(gt->frames[ref / GNTTAB_PER_FRAME_V2]) +
           ref % GNTTAB_PER_FRAME_V2;
}

static grant_status_t *status2(struct grant_table *gt, grant_ref_t ref)
{
    return (grant_status_t *)mfn_to_virt(gt->status[ref / GNTTAB_STATUS_PER_FRAME]) +
           ref % GNTTAB_STATUS_PER_FRAME;
}

static void grant2(struct grant_table *gt, grant_ref_t ref, domid_t to, mfn_t frame,
                   u16 flags)
{
    grant_entry_v2_t *e = entry2(gt, ref);
    e->full_page.frame = frame;
    e->hdr.domid = to;
    __atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
}

static s16 copy_from(struct grant_table *src, grant_ref_t ref, u16 off, u16 len, mfn_t dst)
{
    struct gnttab_copy op = {.flags = GNTCOPY_source_gref, .len = len};
    op.source.u.ref = ref;
    op.source.offset = off;
    op.dest.u.gmfn = dst;
    op.dest.offset = off;
    return gnttab_copy_one(dom_b, DOMID_B, src, NULL, &op);
}

TEST(v2_switch_rules)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    mfn_t f0 = gta->frames[0];

    CHECK_EQ(gta->version, 1);
    CHECK_EQ(gnttab_set_version(gta, 0), -XEN_EINVAL);
    CHECK_EQ(gnttab_set_version(gta, 3), -XEN_EINVAL);
    CHECK_EQ(gnttab_set_version(gta, 1), 0);
    gta->max_version = 1;
    CHECK_EQ(gnttab_set_version(gta, 2), -XEN_ENOSYS);
    gta->max_version = 2;
    /* Pinned past the reserved 8: refused; a reserved one is carried. */
    grant(9, DOMID_B, p, 0);
    grant(2, DOMID_B, p, GTF_readonly);
    CHECK_EQ(map(9, GNTMAP_host_map, VA_BASE, &op), GNTST_okay);
    CHECK_EQ(gnttab_set_version(gta, 2), -XEN_EBUSY);
    CHECK_EQ(gta->nr_status, 0);
    CHECK_EQ(unmap(op.handle, VA_BASE, 0), GNTST_okay);
    CHECK_EQ(map(2, GNTMAP_host_map | GNTMAP_readonly, VA_BASE, &op), GNTST_okay);
    CHECK_EQ(gnttab_set_version(gta, 2), 0);
    CHECK_EQ(gta->version, 2);
    CHECK_EQ(gta->nr_status, 1);
    CHECK_EQ(entry2(gta, 2)->hdr.flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(entry2(gta, 2)->full_page.frame, p);
    CHECK_EQ(*status2(gta, 2), GTF_reading);
    CHECK_EQ(entry2(gta, 4)->hdr.flags, 0); /* cleared: 9 was in its place */
    mfn_t s0 = gta->status[0];
    CHECK_EQ(COUNT(s0), 2);
    CHECK_EQ(TCOUNT(s0), 1);
    CHECK(gnttab_has_frame(gta, s0));
    CHECK_EQ(unmap(op.handle, VA_BASE, 0), GNTST_okay);
    CHECK_EQ(*status2(gta, 2), 0);
    /* Back: a status frame still referenced (mapped) -EBUSY, a reserved
     * entry past 32 bits -ERANGE, a sub-page copy pin -EAGAIN. */
    CHECK(get_page(&table[s0], dom_a));
    CHECK_EQ(gnttab_set_version(gta, 1), -XEN_EBUSY);
    CHECK_EQ(gta->version, 2);
    put_page(&table[s0]);
    grant2(gta, 5, DOMID_B, 1UL << 33, GTF_permit_access);
    CHECK_EQ(gnttab_set_version(gta, 1), -XEN_ERANGE);
    grant2(gta, 5, DOMID_B, 0, GTF_transitive);
    CHECK_EQ(gnttab_set_version(gta, 1), -XEN_ERANGE);
    entry2(gta, 5)->hdr.flags = 0;
    gta->nr_v2_ops = 1;
    CHECK_EQ(gnttab_set_version(gta, 1), -XEN_EAGAIN);
    gta->nr_v2_ops = 0;
    CHECK_EQ(gnttab_set_version(gta, 1), 0);
    CHECK_EQ(gta->nr_status, 0);
    CHECK(FREE(s0));
    CHECK_EQ(entry(gta, 2)->flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(entry(gta, 2)->frame, p);
    CHECK_EQ(gta->frames[0], f0);
}

TEST(v2_status_frames_grow_with_the_table)
{
    setup_tables(4);
    mfn_t out[8];
    CHECK_EQ(gnttab_status_mfns(gta, 0, 1, out, true), -XEN_EINVAL); /* v1 */
    CHECK_EQ(gnttab_set_version(gta, 2), 0);
    CHECK_EQ(gnttab_nr_status(gta), 1);
    CHECK_EQ(GNTTAB_STATUS_FRAMES(9), 2);
    CHECK_EQ(GNTTAB_MAX_STATUS_FRAMES, 8);
    CHECK_EQ(gnttab_grow(gta, 4), 0);
    CHECK_EQ(gnttab_nr_status(gta), 1); /* 4 x 256 entries: one status frame */
    CHECK_EQ(gnttab_status_mfns(gta, 1, 1, out, false), -XEN_EINVAL);
    CHECK_EQ(gnttab_status_mfns(gta, 1, 1, out, true), -XEN_EINVAL); /* needs 9 > 4 */
    CHECK_EQ(gnttab_status_mfns(gta, 0, 1, out, true), 0);
    CHECK_EQ(out[0], gta->status[0]);
    struct grant_table *big = gnttab_create(dom_a, 5, 64, 1);
    CHECK(big);
    CHECK_EQ(gnttab_set_version(big, 2), 0); /* no frames yet: nothing to carry */
    CHECK_EQ(gnttab_status_mfns(big, 7, 1, out, true), 0); /* grows to 64 frames */
    CHECK_EQ(gnttab_nr_frames(big), 64);
    CHECK_EQ(gnttab_nr_status(big), 8);
    CHECK_EQ(gnttab_status_mfns(big, 8, 1, out, true), -XEN_EINVAL);
    CHECK(gnttab_has_frame(big, big->status[7]));
    CHECK_EQ(gnttab_relinquish(big, 10), 0);
    gnttab_put(big);
}

TEST(v2_map_sets_the_status_frame)
{
    setup_tables(4);
    struct gnttab_map_grant_ref op;
    mfn_t p = page_of(dom_a);
    CHECK_EQ(gnttab_set_version(gta, 2), 0);
    grant2(gta, 300, DOMID_B, p, GTF_permit_access); /* v2 has 256 a frame */
    CHECK_EQ(map(300, GNTMAP_host_map, VA_BASE, &op), GNTST_bad_gntref);
    CHECK_EQ(gnttab_grow(gta, 2), 0);
    grant2(gta, 300, DOMID_B, p, GTF_permit_access);
    CHECK_EQ(map(300, GNTMAP_host_map, VA_BASE, &op), GNTST_okay);
    CHECK_EQ(*status2(gta, 300), GTF_reading | GTF_writing);
    CHECK_EQ(entry2(gta, 300)->hdr.flags, GTF_permit_access);
    CHECK_EQ(TCOUNT(p), 1);
    CHECK_EQ(unmap(op.handle, VA_BASE, 0), GNTST_okay);
    CHECK_EQ(*status2(gta, 300), 0);
    /* Revoked between the status and the second look: the bits go back. */
    grant2(gta, 301, DOMID_B, p, GTF_permit_access | GTF_readonly);
    CHECK_EQ(map(301, GNTMAP_host_map, VA_BASE, &op), GNTST_general_error);
    CHECK_EQ(*status2(gta, 301), 0);
    grant2(gta, 302, DOMID_B, p, GTF_permit_access | GTF_sub_page);
    CHECK_EQ(map(302, GNTMAP_host_map, VA_BASE, &op), GNTST_general_error);
    grant2(gta, 302, DOMID_B, p, GTF_transitive);
    CHECK_EQ(map(302, GNTMAP_host_map, VA_BASE, &op), GNTST_general_error);
    CHECK_EQ(*status2(gta, 302), 0);
}

TEST(v2_sub_page_copy_window)
{
    setup_tables(4);
    mfn_t p = page_of(dom_a), mine = page_of(dom_b);
    grant_entry_v2_t *e;
    CHECK_EQ(gnttab_set_version(gta, 2), 0);
    e = entry2(gta, 9);
    e->sub_page.frame = p;
    e->sub_page.page_off = 64;
    e->sub_page.length = 128;
    e->hdr.domid = DOMID_B;
    e->hdr.flags = GTF_permit_access | GTF_sub_page;
    memset(mfn_to_virt(p), 0x77, PAGE_SIZE);
    CHECK_EQ(copy_from(gta, 9, 64, 128, mine), GNTST_okay);
    CHECK_EQ(((u8 *)mfn_to_virt(mine))[64], 0x77);
    CHECK_EQ(((u8 *)mfn_to_virt(mine))[63], 0);
    CHECK_EQ(copy_from(gta, 9, 63, 8, mine), GNTST_general_error);
    CHECK_EQ(copy_from(gta, 9, 180, 16, mine), GNTST_general_error);
    CHECK_EQ(copy_from(gta, 9, 4090, 16, mine), GNTST_bad_copy_arg);
    CHECK_EQ(*status2(gta, 9), 0);
    CHECK_EQ(gta->nr_v2_ops, 0);
    CHECK_EQ(gta->active[0][9].pin, 0);
    CHECK_EQ(COUNT(p), 1);
}

TEST(v2_transitive_copy)
{
    setup_tables(4);
    gtc = gnttab_create(dom_c, DOMID_C, 4, 4);
    CHECK(gtc);
    CHECK_EQ(gnttab_grow(gtc, 1), 0);
    mfn_t cp = page_of(dom_c), mine = page_of(dom_b);
    memset(mfn_to_virt(cp), 0x3c, PAGE_SIZE);
    /* C grants its frame to A; A grants that on to B, transitively. */
    grant_entry_v1_t *ce = (grant_entry_v1_t *)mfn_to_virt(gtc->frames[0]) + 4;
    ce->frame = (u32)cp;
    ce->domid = DOMID_A;
    ce->flags = GTF_permit_access;
    CHECK_EQ(gnttab_set_version(gta, 2), 0);
    grant_entry_v2_t *ae = entry2(gta, 11);
    ae->transitive.trans_domid = DOMID_C;
    ae->transitive.gref = 4;
    ae->hdr.domid = DOMID_B;
    ae->hdr.flags = GTF_transitive;
    CHECK_EQ(copy_from(gta, 11, 0, 64, mine), GNTST_okay);
    CHECK_EQ(((u8 *)mfn_to_virt(mine))[63], 0x3c);
    /* Everything let go again: pins, status bits, table references. */
    CHECK_EQ(gta->active[0][11].pin, 0);
    CHECK_EQ(gtc->active[0][4].pin, 0);
    CHECK_EQ(ce->flags, GTF_permit_access);
    CHECK_EQ(*status2(gta, 11), 0);
    CHECK_EQ(gtc->refcnt, 1);
    CHECK_EQ(gta->nr_v2_ops, 0);
    CHECK_EQ(COUNT(cp), 1);
    /* Never to oneself, nor to nobody, nor two steps. */
    ae->transitive.trans_domid = DOMID_A;
    CHECK_EQ(copy_from(gta, 11, 0, 8, mine), GNTST_general_error);
    ae->transitive.trans_domid = 9;
    CHECK_EQ(copy_from(gta, 11, 0, 8, mine), GNTST_general_error);
    CHECK_EQ(gnttab_set_version(gtc, 2), 0);
    grant_entry_v2_t *ce2 = entry2(gtc, 4);
    ce2->transitive.trans_domid = DOMID_B;
    ce2->transitive.gref = 1;
    ce2->hdr.domid = DOMID_A;
    ce2->hdr.flags = GTF_transitive;
    ae->transitive.trans_domid = DOMID_C;
    CHECK_EQ(copy_from(gta, 11, 0, 8, mine), GNTST_general_error);
    CHECK_EQ(*status2(gta, 11), 0);
    CHECK_EQ(*status2(gtc, 4), 0);
    CHECK_EQ(gtc->refcnt, 1);
    gnttab_put(gtc);
    gtc = NULL;
}

/*
 * What dom0's backends do (issue 8), in the order they do it: blkback maps
 * a request's segments writable by kernel address over ballooned-out pages
 * (PTE 0) and keeps them (persistent grants); netback maps a packet's
 * fragments read-only and copies its header from the same grant while the
 * mapping stands, and copies into the domU's grants from its own frames
 * (DOMID_SELF) on receive.  The domU then dies in the middle of it.  Every
 * unmap leaves the dom0 PTE as it was before the map (0), every pin and
 * reference goes, and nothing of the dead domain is reachable afterwards.
 */
TEST(backend_patterns_and_a_domu_dying_mid_io)
{
    setup_tables(4);
    enum { SEGS = 11 }; /* BLKIF_MAX_SEGMENTS_PER_REQUEST */
    struct gnttab_map_grant_ref seg[SEGS], frag, late;
    mfn_t data[SEGS], pkt = page_of(dom_a), rx = page_of(dom_a), own = page_of(dom_b);

    for (unsigned int i = 0; i < SEGS; i++) {
        data[i] = page_of(dom_a);
        grant(20 + i, DOMID_B, data[i], 0);
        CHECK_EQ(*slot_of(va_l1, 100 + i), 0); /* ballooned out */
        CHECK_EQ(map(20 + i, GNTMAP_host_map, VA_BASE + (100 + i) * PAGE_SIZE, &seg[i]),
                 GNTST_okay);
        CHECK_EQ(pte_mfn(*slot_of(va_l1, 100 + i)), data[i]);
    }
    CHECK_EQ(flushes, 0); /* nothing was mapped there before */
    /* A persistent grant is unmapped and mapped again at the same place. */
    CHECK_EQ(unmap(seg[3].handle, VA_BASE + 103 * PAGE_SIZE, 0), GNTST_okay);
    CHECK_EQ(*slot_of(va_l1, 103), 0);
    CHECK_EQ(map(23, GNTMAP_host_map, VA_BASE + 103 * PAGE_SIZE, &seg[3]), GNTST_okay);

    /* netback: a fragment mapped read-only, its header copied from it. */
    grant(40, DOMID_B, pkt, GTF_readonly);
    ((u8 *)mfn_to_virt(pkt))[0] = 0xab;
    CHECK_EQ(map(40, GNTMAP_host_map | GNTMAP_readonly, VA_BASE + 200 * PAGE_SIZE, &frag),
             GNTST_okay);
    CHECK_EQ(copy(GNTCOPY_source_gref, 40, 0, 0, 0, own, 0, 64), GNTST_okay);
    CHECK_EQ(((u8 *)mfn_to_virt(own))[0], 0xab);
    CHECK_EQ(gta->active[0][40].pin, GNTPIN_hstr_inc); /* the copy's pin went */
    /* Received: from dom0's frame into the domU's grant, and from the
     * mapped fragment straight into another (a bridge between domUs). */
    grant(41, DOMID_B, rx, 0);
    CHECK_EQ(copy(GNTCOPY_dest_gref, 0, own, 0, 41, 0, 100, 64), GNTST_okay);
    CHECK_EQ(copy(GNTCOPY_source_gref | GNTCOPY_dest_gref, 40, 0, 0, 41, 0, 0, 1), GNTST_okay);
    CHECK_EQ(((u8 *)mfn_to_virt(rx))[0], 0xab);
    CHECK_EQ(((u8 *)mfn_to_virt(rx))[100], 0xab);
    CHECK_EQ(entry(gta, 41)->flags, GTF_permit_access);

    /* The domU dies with all of it mapped. */
    CHECK_EQ(gnttab_relinquish(gta, 100), 0);
    CHECK_EQ(copy(GNTCOPY_dest_gref, 0, own, 0, 41, 0, 0, 1), GNTST_bad_domain);
    CHECK_EQ(copy(GNTCOPY_source_gref, 40, 0, 0, 0, own, 0, 1), GNTST_bad_domain);
    CHECK_EQ(map(24, GNTMAP_host_map, VA_BASE + 300 * PAGE_SIZE, &late), GNTST_general_error);
    CHECK_EQ(*slot_of(va_l1, 300), 0);
    for (unsigned int i = 0; i < SEGS; i++)
        page_unassign(&table[data[i]]);
    page_unassign(&table[pkt]);
    page_unassign(&table[rx]);
    gnttab_put(gta);
    gta = NULL;
    /* dom0's backends unmap as they disconnect: each PTE goes back to 0. */
    for (unsigned int i = 0; i < SEGS; i++) {
        CHECK(!FREE(data[i]));
        CHECK_EQ(unmap(seg[i].handle, VA_BASE + (100 + i) * PAGE_SIZE, 0), GNTST_okay);
        CHECK_EQ(*slot_of(va_l1, 100 + i), 0);
        CHECK(FREE(data[i]));
    }
    CHECK(FREE(rx));
    CHECK(!FREE(pkt)); /* the fragment's mapping holds it */
    CHECK_EQ(unmap(frag.handle, VA_BASE + 200 * PAGE_SIZE, 0), GNTST_okay);
    CHECK_EQ(*slot_of(va_l1, 200), 0);
    CHECK(FREE(pkt));
    CHECK_EQ(gtb->maptrack_used, 0);
}

/* B is an HVM guest: GNTMAP_host_map puts the frame at GFN host_addr >> 12
 * of its p2m, with the same references a PTE would hold; unmap takes it
 * out and tells the caller to flush B's guest TLBs; relinquish drops what
 * B still maps. */
static void translated_b(void)
{
    setup_tables(4);
    gtb->translated = true;
    b_crashed = 0;
    CHECK(p2m_init(&b_p2m) == 0);
}

static void translated_b_done(void)
{
    u64 cursor = 0;

    while (p2m_drain(&b_p2m, &cursor, 64, NULL, NULL))
        ;
    p2m_destroy(&b_p2m);
}

static s16 unmap_done(u32 handle, u64 host_addr, u64 dev, struct gnttab_unmap_done *done)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = host_addr, .dev_bus_addr = dev,
                                        .handle = handle};
    s16 rc = gnttab_unmap(gtb, &op, done);
    gnttab_unmap_complete(done);
    return rc;
}

TEST(translated_flags_checked_as_xen)
{
    CHECK_EQ(gnttab_map_flags_check(true, GNTMAP_readonly), GNTST_bad_gntref);
    CHECK_EQ(gnttab_map_flags_check(true, GNTMAP_host_map), GNTST_okay);
    CHECK_EQ(gnttab_map_flags_check(true, GNTMAP_host_map | GNTMAP_readonly | (1U << 16)),
             GNTST_okay); /* refused later, after the pin */
    CHECK_EQ(gnttab_map_flags_check(true, GNTMAP_device_map), GNTST_general_error);
    CHECK_EQ(gnttab_map_flags_check(true, GNTMAP_host_map | GNTMAP_application_map),
             GNTST_general_error);
    CHECK_EQ(gnttab_map_flags_check(true, GNTMAP_host_map | GNTMAP_contains_pte),
             GNTST_general_error);
    CHECK_EQ(gnttab_map_flags_check(false, GNTMAP_device_map | GNTMAP_contains_pte),
             GNTST_okay);
}

TEST(translated_host_map_into_the_p2m)
{
    translated_b();
    struct gnttab_map_grant_ref op, ro, bad;
    struct gnttab_unmap_done done;
    enum p2m_type t;
    mfn_t p = page_of(dom_a), q = page_of(dom_a);
    const u64 gpa = 0x20100123, gfn = 0x20100;

    grant(7, DOMID_B, p, 0);
    CHECK_EQ(map(7, GNTMAP_host_map, gpa, &op), GNTST_okay);
    CHECK_EQ(op.dev_bus_addr, (u64)p << PAGE_SHIFT);
    CHECK_EQ(p2m_lookup(&b_p2m, gfn, &t), p);
    CHECK_EQ(t, p2m_grant_rw);
    CHECK_EQ(COUNT(p), 2);  /* allocation + the mapping */
    CHECK_EQ(TCOUNT(p), 1); /* writable: it cannot become a page table */
    CHECK_EQ(entry(gta, 7)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    CHECK_EQ(gta->refcnt, 2);
    CHECK_EQ(flushes, 0);

    /* Refused after the pin: everything taken is given back. */
    CHECK_EQ(map(7, GNTMAP_host_map | (1U << 16), gpa + PAGE_SIZE, &bad), GNTST_general_error);
    CHECK_EQ(map(7, GNTMAP_host_map, 1ULL << 52, &bad), GNTST_general_error);
    CHECK_EQ(map(7, GNTMAP_host_map | GNTMAP_device_map, gpa, &bad), GNTST_general_error);
    CHECK_EQ(COUNT(p), 2);
    CHECK_EQ(TCOUNT(p), 1);
    CHECK_EQ(b_crashed, 0);
    /* Over a grant mapping: the domain is crashed (the hook's job). */
    grant(8, DOMID_B, q, GTF_readonly);
    CHECK_EQ(map(8, GNTMAP_host_map | GNTMAP_readonly, gpa, &bad), GNTST_general_error);
    CHECK_EQ(b_crashed, 1);
    CHECK_EQ(COUNT(q), 1);
    CHECK_EQ(entry(gta, 8)->flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(p2m_lookup(&b_p2m, gfn, NULL), p);

    /* Read-only: no type reference, a read-only entry. */
    CHECK_EQ(map(8, GNTMAP_host_map | GNTMAP_readonly, gpa + PAGE_SIZE, &ro), GNTST_okay);
    CHECK_EQ(p2m_lookup(&b_p2m, gfn + 1, &t), q);
    CHECK_EQ(t, p2m_grant_ro);
    CHECK_EQ(COUNT(q), 2);
    CHECK_EQ(TCOUNT(q), 0);

    /* Unmaps that do nothing: wrong GFN, another frame's GFN, no address. */
    CHECK_EQ(unmap_done(op.handle, gpa + 2 * PAGE_SIZE, 0, &done), GNTST_general_error);
    CHECK_EQ(unmap_done(op.handle, gpa + PAGE_SIZE, 0, &done), GNTST_general_error);
    CHECK_EQ(p2m_lookup(&b_p2m, gfn + 1, NULL), q);
    CHECK_EQ(unmap_done(op.handle, 0, 1, &done), GNTST_okay); /* no device half */
    CHECK(!done.rgt);
    CHECK_EQ(COUNT(p), 2);
    /* The real one: the entry goes, B's guest TLBs are the caller's to
     * flush, then the references and pins go. */
    CHECK_EQ(unmap_done(op.handle, gfn << PAGE_SHIFT, 0, &done), GNTST_okay);
    CHECK(done.p2m);
    CHECK_EQ(p2m_lookup(&b_p2m, gfn, &t), P2M_INVALID_MFN);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(entry(gta, 7)->flags, GTF_permit_access);
    CHECK_EQ(unmap_done(op.handle, gpa, 0, &done), GNTST_bad_handle);
    CHECK_EQ(flushes, 0); /* never the PV flush */

    /* B dies with the read-only one mapped: its references and pin go,
     * the p2m entry with the p2m. */
    CHECK_EQ(gnttab_relinquish(gtb, 100), 0);
    CHECK_EQ(COUNT(q), 1);
    CHECK_EQ(entry(gta, 8)->flags, GTF_permit_access | GTF_readonly);
    CHECK_EQ(gta->refcnt, 1);
    CHECK_EQ(gtb->maptrack_used, 0);
    translated_b_done();
}

TEST(translated_writable_mappings_keep_the_type)
{
    translated_b();
    struct gnttab_map_grant_ref a, b;
    mfn_t p = page_of(dom_a);

    grant(9, DOMID_B, p, 0);
    CHECK_EQ(map(9, GNTMAP_host_map, 0x30000000, &a), GNTST_okay);
    CHECK_EQ(map(9, GNTMAP_host_map | GNTMAP_readonly, 0x30001000, &b), GNTST_okay);
    CHECK_EQ(COUNT(p), 3);
    CHECK_EQ(TCOUNT(p), 1);
    /* A writable mapping's frame cannot be made a page table meanwhile. */
    CHECK(!get_page_type(&table[p], PGT_l1_page_table));
    /* Each handle takes only an entry with its own access: the writable
     * one's unmap at the read-only entry would leave a writable entry
     * behind a read-only handle, without the type reference. */
    CHECK_EQ(unmap(a.handle, 0x30001000, 0), GNTST_general_error);
    CHECK_EQ(unmap(b.handle, 0x30000000, 0), GNTST_general_error);
    CHECK_EQ(TCOUNT(p), 1);
    CHECK_EQ(unmap(a.handle, 0x30000000, 0), GNTST_okay);
    CHECK_EQ(entry(gta, 9)->flags, GTF_permit_access | GTF_reading);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(unmap(b.handle, 0x30001000, 0), GNTST_okay);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(entry(gta, 9)->flags, GTF_permit_access);
    CHECK_EQ(b_p2m.nr_entries, 0);
    translated_b_done();
}
