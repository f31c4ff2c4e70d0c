/* PV page-table rules: per-entry checks, references, and whole-table
 * validation through the frame table's type hooks. */
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

#include "harness.h"

#define NR 320
#define IO_MFN 0x1000 /* past the frame table: "device memory" */
#define KEEL_MARK 0xabc000UL
static struct page_info table[NR];
static struct domain *dom_a = (struct domain *)0x1000, *dom_b = (struct domain *)0x2000;
static struct domain *dom_priv = (struct domain *)0x3000;
static int flushes;

bool pv_mm_arch_privileged(const struct domain *d) { return d == dom_priv; }
bool pv_mm_arch_io_frame(mfn_t mfn) { return mfn >= IO_MFN && mfn < IO_MFN + 16; }
void pv_mm_arch_keel_slots(u64 *l4)
{
    for (unsigned int i = L4_KEEL_FIRST; i < L4_KEEL_END; i++)
        l4[i] = KEEL_MARK | PTE_P;
}
void tlb_flush_stale(u32 stamp) { (void)stamp; flushes++; }

static void setup(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    pv_mm_init();
    flushes = 0;
}

/* A zeroed frame owned by d. */
static mfn_t page_of(struct domain *d)
{
    struct page_info *pg = alloc_pages(0);
    page_assign(pg, d);
    memset(mfn_to_virt(page_to_mfn(pg)), 0, PAGE_SIZE);
    return page_to_mfn(pg);
}

static u64 *tab(mfn_t m) { return mfn_to_virt(m); }
static u64 ent(mfn_t m, u64 flags) { return ((u64)m << PAGE_SHIFT) | flags; }
#define COUNT(m) (table[m].count_info & PGC_count_mask)
#define TCOUNT(m) (table[m].u.type_info & PGT_count_mask)
#define TYPE(m) (table[m].u.type_info & PGT_type_mask)

TEST(l1_entry_references)
{
    setup();
    mfn_t p = page_of(dom_a);
    CHECK_EQ(pv_l1e_get(dom_a, 0), 0); /* not present: nothing */
    CHECK_EQ(pv_l1e_get(dom_a, ent(p, PTE_P)), 0);
    CHECK_EQ(COUNT(p), 2);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(pv_l1e_get(dom_a, ent(p, PTE_P | PTE_RW)), 0);
    CHECK_EQ(COUNT(p), 3);
    CHECK_EQ(TYPE(p), PGT_writable_page);
    CHECK_EQ(TCOUNT(p), 1);
    pv_l1e_put(ent(p, PTE_P | PTE_RW));
    pv_l1e_put(ent(p, PTE_P));
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
}

TEST(l1_entry_refusals)
{
    setup();
    mfn_t mine = page_of(dom_a), theirs = page_of(dom_b);
    CHECK_EQ(pv_l1e_get(dom_a, ent(theirs, PTE_P)), -XEN_EBUSY);
    CHECK_EQ(COUNT(theirs), 1);
    CHECK_EQ(pv_l1e_get(dom_a, ent(NR - 1, PTE_P)), -XEN_EBUSY); /* free frame */
    CHECK_EQ(pv_l1e_get(dom_a, ent(0x100000, PTE_P)), -XEN_EINVAL); /* no such frame */
    CHECK_EQ(pv_l1e_get(dom_a, ent(IO_MFN, PTE_P)), -XEN_EPERM);
    CHECK_EQ(pv_l1e_get(dom_priv, ent(IO_MFN, PTE_P | PTE_RW | PTE_PCD)), 0);
    pv_l1e_put(ent(IO_MFN, PTE_P | PTE_RW)); /* holds nothing: no effect */
    CHECK_EQ(pv_l1e_get(dom_a, ent(mine, PTE_P | (1UL << 60))), -XEN_EINVAL);
    CHECK_EQ(pv_l1e_get(dom_a, ent(mine, PTE_P | PTE_PCD)), -XEN_EINVAL);
    CHECK_EQ(pv_l1e_get(dom_a, ent(mine, PTE_P | (1UL << 55))), 0); /* guest-available */
    pv_l1e_put(ent(mine, PTE_P));
    CHECK_EQ(COUNT(mine), 1);
}

TEST(adjust_forces_user_and_drops_global)
{
    CHECK_EQ(pv_l1e_adjust(PTE_P | PTE_G), PTE_P | PTE_US);
    CHECK_EQ(pv_l1e_adjust(PTE_RW), PTE_RW); /* not present: untouched */
    CHECK_EQ(pv_ltable_adjust(PTE_P), PTE_P | PTE_US);
}

TEST(l1_table_validates_and_releases)
{
    setup();
    mfn_t l1 = page_of(dom_a), p = page_of(dom_a), q = page_of(dom_a);
    tab(l1)[0] = ent(p, PTE_P | PTE_RW | PTE_G);
    tab(l1)[7] = ent(q, PTE_P);
    tab(l1)[8] = ent(l1, PTE_P); /* itself, read-only: fine */
    flushes = 0;
    CHECK(get_page_and_type(&table[l1], dom_a, PGT_l1_page_table));
    CHECK_EQ(tab(l1)[0], ent(p, PTE_P | PTE_RW | PTE_US));
    CHECK_EQ(TYPE(p), PGT_writable_page);
    CHECK_EQ(COUNT(q), 2);
    CHECK_EQ(COUNT(l1), 3); /* ours + its own entry */
    CHECK_EQ(flushes, 0); /* fresh frames: nothing to flush */
    /* A table may not be mapped writable while it is one. */
    CHECK_EQ(pv_l1e_get(dom_a, ent(l1, PTE_P | PTE_RW)), -XEN_EBUSY);
    put_page_and_type(&table[l1]);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(COUNT(q), 1);
    CHECK_EQ(COUNT(l1), 1);
}

TEST(bad_entry_fails_validation_without_leaks)
{
    setup();
    mfn_t l1 = page_of(dom_a), p = page_of(dom_a), theirs = page_of(dom_b);
    tab(l1)[0] = ent(p, PTE_P | PTE_RW);
    tab(l1)[1] = ent(theirs, PTE_P);
    CHECK(!get_page_and_type(&table[l1], dom_a, PGT_l1_page_table));
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(TCOUNT(l1), 0);
    CHECK_EQ(COUNT(l1), 1);
    /* Writable self-mapping: refused, no wait on itself. */
    tab(l1)[1] = ent(l1, PTE_P | PTE_RW);
    CHECK(!get_page_and_type(&table[l1], dom_a, PGT_l1_page_table));
    CHECK_EQ(COUNT(l1), 1);
}

TEST(levels_recurse_and_refuse_loops_and_superpages)
{
    setup();
    mfn_t l2 = page_of(dom_a), l1 = page_of(dom_a), p = page_of(dom_a);
    tab(l1)[3] = ent(p, PTE_P | PTE_RW);
    tab(l2)[0] = ent(l1, PTE_P | PTE_RW);
    CHECK(get_page_and_type(&table[l2], dom_a, PGT_l2_page_table));
    CHECK_EQ(TYPE(l1), PGT_l1_page_table);
    CHECK_EQ(TCOUNT(l1), 1);
    CHECK_EQ(tab(l2)[0] & PTE_US, PTE_US);
    put_page_and_type(&table[l2]);
    CHECK_EQ(TCOUNT(l1), 0); /* released all the way down */
    CHECK_EQ(TCOUNT(p), 0);
    tab(l2)[1] = ent(l2, PTE_P | PTE_RW); /* an L2 as its own L1, writable */
    CHECK(!get_page_and_type(&table[l2], dom_a, PGT_l2_page_table));
    tab(l2)[1] = ent(l1, PTE_P | PTE_PSE);
    CHECK(!get_page_and_type(&table[l2], dom_a, PGT_l2_page_table));
    CHECK_EQ(TCOUNT(l1), 0);
    CHECK_EQ(COUNT(l1), 1);
}

TEST(l4_keel_slots)
{
    setup();
    mfn_t l4 = page_of(dom_a), l3 = page_of(dom_a), theirs = page_of(dom_b);
    tab(l4)[260] = ent(theirs, PTE_P); /* ignored and overwritten */
    tab(l4)[511] = ent(l3, PTE_P | PTE_RW);
    CHECK(page_pin(&table[l4], dom_a, PGT_l4_page_table));
    CHECK_EQ(tab(l4)[260], KEEL_MARK | PTE_P);
    CHECK_EQ(COUNT(theirs), 1);
    CHECK_EQ(TYPE(l3), PGT_l3_page_table);
    CHECK_EQ(pv_entry_update(dom_a, &tab(l4)[256], 4, 256, ent(l3, PTE_P), false), -XEN_EINVAL);
    CHECK_EQ(tab(l4)[256], KEEL_MARK | PTE_P);
    CHECK(page_unpin(&table[l4]));
    CHECK_EQ(TCOUNT(l3), 0);
}

TEST(entry_update_swaps_references)
{
    setup();
    mfn_t l1 = page_of(dom_a), p = page_of(dom_a), q = page_of(dom_a);
    CHECK(get_page_and_type(&table[l1], dom_a, PGT_l1_page_table));
    u64 *s = &tab(l1)[9];
    CHECK_EQ(pv_entry_update(dom_a, s, 1, 9, ent(p, PTE_P | PTE_RW), false), 0);
    CHECK_EQ(TCOUNT(p), 1);
    *s |= PTE_A | PTE_D; /* as the CPU would */
    CHECK_EQ(pv_entry_update(dom_a, s, 1, 9, ent(q, PTE_P), true), 0);
    CHECK_EQ(*s, ent(q, PTE_P | PTE_US | PTE_A | PTE_D));
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(COUNT(q), 2);
    /* A stale expectation changes nothing and leaks nothing. */
    CHECK_EQ(pv_entry_replace(dom_a, s, 1, 9, 0, ent(p, PTE_P), false), -XEN_EAGAIN);
    CHECK_EQ(COUNT(p), 1);
    /* A refused entry leaves the old one in place. */
    CHECK_EQ(pv_entry_update(dom_a, s, 1, 9, ent(l1, PTE_P | PTE_RW), false), -XEN_EBUSY);
    CHECK_EQ(*s & PTE_MFN_MASK, ent(q, 0));
    CHECK_EQ(pv_entry_update(dom_a, s, 1, 9, 0, false), 0);
    CHECK_EQ(COUNT(q), 1);
    put_page_and_type(&table[l1]);
}

/* Descriptor pages are checked when they gain their type, like tables. */
TEST(seg_desc_pages_validated)
{
    setup();
    mfn_t g = page_of(dom_a);
    tab(g)[2] = 0x00af9b000000ffffULL; /* DPL 0 code: fixed */
    CHECK(get_page_and_type(&table[g], dom_a, PGT_seg_desc_page));
    CHECK_EQ(tab(g)[2], 0x00affb000000ffffULL);
    put_page_and_type(&table[g]);

    tab(g)[7] = 0x0000ec00e0080000ULL; /* call gate into Keel's CS */
    CHECK(!get_page_and_type(&table[g], dom_a, PGT_seg_desc_page));
    CHECK_EQ(TCOUNT(g), 0);
    /* Refused: still an ordinary page. */
    CHECK(get_page_and_type(&table[g], dom_a, PGT_writable_page));
    put_page_and_type(&table[g]);
}

/* ---- linear (recursive) page tables, Xen's pv-linear-pt rules */

#define LIN(m) page_linear_count(&table[m])

TEST(linear_self_map_holds_nothing)
{
    setup();
    mfn_t l4 = page_of(dom_a);
    tab(l4)[5] = ent(l4, PTE_P);
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    CHECK_EQ(COUNT(l4), 2);   /* the domain's + the pin's: nothing for the entry */
    CHECK_EQ(TCOUNT(l4), 1);
    CHECK_EQ(LIN(l4), 0);
    /* Added by an update, and removed: still nothing. */
    CHECK_EQ(pv_entry_update(dom_a, &tab(l4)[6], 4, 6, ent(l4, PTE_P), false), 0);
    CHECK_EQ(COUNT(l4), 2);
    CHECK_EQ(pv_entry_update(dom_a, &tab(l4)[6], 4, 6, ent(l4, PTE_P | PTE_RW), false),
             -XEN_EINVAL); /* writable: the guest would write its own tables */
    CHECK_EQ(pv_entry_update(dom_a, &tab(l4)[6], 4, 6, 0, false), 0);
    CHECK(page_unpin(&table[l4]));
    CHECK_EQ(COUNT(l4), 1);
    CHECK_EQ(TCOUNT(l4), 0);
    /* Self-maps at L2 and L3 too. */
    mfn_t l2 = page_of(dom_a), l3 = page_of(dom_a);
    tab(l2)[0] = ent(l2, PTE_P);
    tab(l3)[0] = ent(l3, PTE_P);
    CHECK_EQ(page_pin_err(&table[l2], dom_a, PGT_l2_page_table), 0);
    CHECK_EQ(page_pin_err(&table[l3], dom_a, PGT_l3_page_table), 0);
    CHECK(page_unpin(&table[l2]));
    CHECK(page_unpin(&table[l3]));
    CHECK_EQ(COUNT(l2) + COUNT(l3), 2);
}

TEST(linear_entry_between_tables)
{
    setup();
    mfn_t a = page_of(dom_a), b = page_of(dom_a), c = page_of(dom_a);
    mfn_t theirs = page_of(dom_b);
    CHECK_EQ(page_pin_err(&table[a], dom_a, PGT_l4_page_table), 0);
    /* b is no L4 yet: not a linear target (Xen: validated and in use). */
    CHECK_EQ(pv_entry_update(dom_a, &tab(a)[1], 4, 1, ent(b, PTE_P), false), 0);
    CHECK_EQ(TYPE(b), PGT_l3_page_table); /* an ordinary L3 entry */
    CHECK_EQ(pv_entry_update(dom_a, &tab(a)[1], 4, 1, 0, false), 0);
    CHECK_EQ(page_pin_err(&table[b], dom_a, PGT_l4_page_table), 0);
    CHECK_EQ(pv_entry_update(dom_a, &tab(a)[1], 4, 1, ent(b, PTE_P), false), 0);
    CHECK_EQ(COUNT(b), 3);
    CHECK_EQ(TCOUNT(b), 2);
    CHECK_EQ(LIN(a), 1);
    CHECK_EQ(LIN(b), -1);
    /* b is mapped linearly: it may not have linear entries itself ... */
    CHECK_EQ(page_pin_err(&table[c], dom_a, PGT_l4_page_table), 0);
    CHECK_EQ(pv_entry_update(dom_a, &tab(b)[1], 4, 1, ent(c, PTE_P), false), -XEN_EINVAL);
    /* ... and a, which has one, may not be mapped linearly. */
    CHECK_EQ(pv_entry_update(dom_a, &tab(c)[1], 4, 1, ent(a, PTE_P), false), -XEN_EINVAL);
    CHECK_EQ(LIN(c), 0);
    /* Another domain's table, or a writable entry: refused. */
    CHECK_EQ(page_pin_err(&table[theirs], dom_b, PGT_l4_page_table), 0);
    CHECK_EQ(pv_entry_update(dom_a, &tab(a)[2], 4, 2, ent(theirs, PTE_P), false), -XEN_EINVAL);
    CHECK_EQ(pv_entry_update(dom_a, &tab(a)[2], 4, 2, ent(c, PTE_P | PTE_RW), false),
             -XEN_EINVAL);
    /* b unpinned: the linear entry keeps it an L4. */
    CHECK(page_unpin(&table[b]));
    CHECK_EQ(TCOUNT(b), 1);
    CHECK_EQ(TYPE(b), PGT_l4_page_table);
    /* a goes: its entries go, b's last type reference with them. */
    CHECK(page_unpin(&table[a]));
    CHECK_EQ(LIN(a), 0);
    CHECK_EQ(LIN(b), 0);
    CHECK_EQ(TCOUNT(b), 0);
    CHECK_EQ(COUNT(b), 1);
    CHECK_EQ(COUNT(a), 1);
    CHECK(page_unpin(&table[c]));
    CHECK(page_unpin(&table[theirs]));
}

TEST(linear_l2_through_validation)
{
    setup();
    mfn_t target = page_of(dom_a), l2 = page_of(dom_a), l1 = page_of(dom_a);
    tab(target)[0] = ent(l1, PTE_P);
    CHECK_EQ(page_pin_err(&table[target], dom_a, PGT_l2_page_table), 0);
    tab(l2)[0] = ent(target, PTE_P); /* an L2 naming an L2: read-only */
    tab(l2)[1] = ent(l2, PTE_P);     /* and itself */
    CHECK_EQ(page_pin_err(&table[l2], dom_a, PGT_l2_page_table), 0);
    CHECK_EQ(LIN(l2), 1);
    CHECK_EQ(LIN(target), -1);
    CHECK_EQ(TCOUNT(l1), 1); /* only target's entry holds l1 */
    CHECK(page_unpin(&table[l2]));
    CHECK_EQ(LIN(target), 0);
    CHECK_EQ(TCOUNT(target), 1);
    /* A level mismatch is no linear entry: an L3 naming an L2 in use as
     * an L2 is an ordinary entry, an L3 naming an L4 is refused. */
    mfn_t l3 = page_of(dom_a), l4 = page_of(dom_a);
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    tab(l3)[0] = ent(l4, PTE_P);
    CHECK_EQ(page_pin_err(&table[l3], dom_a, PGT_l3_page_table), -XEN_EINVAL);
    CHECK_EQ(TCOUNT(l4), 1);
    CHECK_EQ(COUNT(l4), 2);
    CHECK(page_unpin(&table[l4]));
    CHECK(page_unpin(&table[target]));
    CHECK_EQ(TCOUNT(l1), 0);
}

/* Xen passes an entry's refusal up through a pin. */
TEST(pin_reports_the_entry_error)
{
    setup();
    mfn_t l1 = page_of(dom_a), theirs = page_of(dom_b);
    tab(l1)[3] = ent(theirs, PTE_P);
    CHECK_EQ(page_pin_err(&table[l1], dom_a, PGT_l1_page_table), -XEN_EBUSY);
    CHECK_EQ(page_pin_err(&table[l1], dom_b, PGT_l1_page_table), -XEN_EINVAL);
    tab(l1)[3] = 0;
    CHECK_EQ(page_pin_err(&table[l1], dom_a, PGT_l1_page_table), 0);
    CHECK_EQ(page_pin_err(&table[l1], dom_a, PGT_l1_page_table), -XEN_EINVAL);
    CHECK_EQ(page_pin_err(&table[l1], dom_a, PGT_l2_page_table), -XEN_EINVAL);
    CHECK(page_unpin(&table[l1]));
}

/* Validation passes over empty entries and writes only what it adjusts;
 * release leaves a table's bytes alone and drops exactly what it took,
 * wherever the present entries sit among empty ones. */
TEST(validation_skips_empty_entries)
{
    setup();
    mfn_t l1 = page_of(dom_a), p = page_of(dom_a), l2 = page_of(dom_a);
    tab(l1)[0] = 0x1234000; /* not present: guest's bits, kept as they are */
    tab(l1)[300] = ent(p, PTE_P | PTE_US);
    tab(l1)[511] = ent(p, PTE_P | PTE_RW);
    tab(l2)[511] = ent(l1, PTE_P | PTE_RW);
    CHECK(get_page_and_type(&table[l2], dom_a, PGT_l2_page_table));
    CHECK_EQ(tab(l1)[0], 0x1234000);
    CHECK_EQ(tab(l1)[300], ent(p, PTE_P | PTE_US));
    CHECK_EQ(tab(l1)[511], ent(p, PTE_P | PTE_RW | PTE_US));
    CHECK_EQ(tab(l2)[511], ent(l1, PTE_P | PTE_RW | PTE_US));
    CHECK_EQ(COUNT(p), 3);
    CHECK_EQ(TCOUNT(p), 1);
    CHECK_EQ(TCOUNT(l1), 1);
    put_page_and_type(&table[l2]);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(TCOUNT(l1), 0);
    CHECK_EQ(COUNT(l1), 1);
    /* A refusal after empty entries and before others undoes what it took. */
    tab(l1)[400] = ent(page_of(dom_b), PTE_P);
    CHECK(!get_page_and_type(&table[l1], dom_a, PGT_l1_page_table));
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
}

/* mmu_update runs: one frame's references are held across requests to
 * it, dropped when a request names another frame and at the end; every
 * request is checked as if it were alone. */
TEST(pt_writer_holds_one_frame_at_a_time)
{
    setup();
    mfn_t l1 = page_of(dom_a), p = page_of(dom_a), plain = page_of(dom_a);
    mfn_t theirs = page_of(dom_b);
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a};
    u64 base = (u64)l1 << PAGE_SHIFT;

    CHECK(page_pin(&table[l1], dom_a, PGT_l1_page_table));
    CHECK_EQ(pv_pt_write(&w, base + 8 * 3, ent(p, PTE_P | PTE_RW), false), 0);
    CHECK_EQ(pv_pt_write(&w, base + 8 * 4, ent(p, PTE_P), false), 0);
    CHECK_EQ(TCOUNT(l1), 2); /* the pin and the writer's */
    CHECK_EQ(COUNT(p), 3);
    CHECK_EQ(TCOUNT(p), 1);
    /* Each entry is still validated: another domain's frame is refused,
     * and the slot is untouched. */
    CHECK_EQ(pv_pt_write(&w, base + 8 * 5, ent(theirs, PTE_P), false), -XEN_EBUSY);
    CHECK_EQ(tab(l1)[5], 0);
    CHECK_EQ(pv_pt_write(&w, base + 8 * 6, ent(l1, PTE_P | PTE_RW), false), -XEN_EBUSY);
    /* Another frame: the table's references go, the plain frame takes a
     * writable type with a Keel write reference. */
    CHECK_EQ(pv_pt_write(&w, ((u64)plain << PAGE_SHIFT) + 16, 0x5555, false), 0);
    CHECK_EQ(TCOUNT(l1), 1);
    CHECK_EQ(TYPE(plain), PGT_writable_page);
    CHECK_EQ(page_keel_writes(&table[plain]), 1);
    CHECK_EQ(tab(plain)[2], 0x5555);
    /* Held writable, it cannot become a table; after the run it can. */
    CHECK(!get_page_and_type(&table[plain], dom_a, PGT_l1_page_table));
    pv_pt_writer_done(&w);
    CHECK_EQ(page_keel_writes(&table[plain]), 0);
    CHECK_EQ(TCOUNT(plain), 0);
    CHECK_EQ(COUNT(plain), 1);
    tab(plain)[2] = 0;
    CHECK(get_page_and_type(&table[plain], dom_a, PGT_l1_page_table));
    put_page_and_type(&table[plain]);
    pv_pt_writer_done(&w); /* twice: nothing held */
    /* Frames that are not the owner's, or no frames at all. */
    CHECK_EQ(pv_pt_write(&w, (u64)theirs << PAGE_SHIFT, 1, false), -XEN_EINVAL);
    CHECK_EQ(pv_pt_write(&w, (u64)(NR - 1) << PAGE_SHIFT, 1, false), -XEN_EINVAL);
    CHECK_EQ(pv_pt_write(&w, 0x100000UL << PAGE_SHIFT, 1, false), -XEN_EINVAL);
    CHECK(w.held == NULL);
    /* Foreign frames go into L1 entries of the writer's tables only. */
    w.pg_owner = dom_b;
    CHECK_EQ(pv_pt_write(&w, base + 8 * 7, ent(theirs, PTE_P), false), 0);
    CHECK_EQ(COUNT(theirs), 2);
    pv_pt_writer_done(&w);
    CHECK(page_unpin(&table[l1]));
    CHECK_EQ(COUNT(theirs), 1);
    CHECK_EQ(COUNT(p), 1);
    CHECK_EQ(TCOUNT(p), 0);
    CHECK_EQ(TCOUNT(l1), 0);
}

/* ---- preemptible validation (Xen's PGT_partial) */

static unsigned int yield_every, yield_looks;
bool pv_mm_arch_should_yield(void)
{
    return yield_every && ++yield_looks % yield_every == 0;
}

#define PARTIAL(m) (table[m].u.type_info & PGT_partial)

/* A tree under a fresh L4: 3 L3s, each with 2 L2s, each with 2 L1s, each
 * mapping one data page writable (34 frames).  bad: the last L1 also maps
 * another domain's frame, so the whole tree is refused at its very end. */
static mfn_t tree[40];
static unsigned int tree_n;
static mfn_t build_tree(bool bad)
{
    mfn_t l4 = page_of(dom_a);
    tree_n = 0;
    tree[tree_n++] = l4;
    for (unsigned int a = 0; a < 3; a++) {
        mfn_t l3 = page_of(dom_a);
        tree[tree_n++] = l3;
        tab(l4)[a * 100] = ent(l3, PTE_P | PTE_RW);
        for (unsigned int b = 0; b < 2; b++) {
            mfn_t l2 = page_of(dom_a);
            tree[tree_n++] = l2;
            tab(l3)[b * 7] = ent(l2, PTE_P | PTE_RW);
            for (unsigned int c = 0; c < 2; c++) {
                mfn_t l1 = page_of(dom_a), p = page_of(dom_a);
                tree[tree_n++] = l1;
                tree[tree_n++] = p;
                tab(l2)[c * 9] = ent(l1, PTE_P | PTE_RW);
                tab(l1)[5] = ent(p, PTE_P | PTE_RW);
            }
        }
    }
    if (bad)
        tab(tree[tree_n - 2])[6] = ent(page_of(dom_b), PTE_P);
    return l4;
}

/* Every frame of the tree back to "owned, nothing else". */
static void check_tree_clean(void)
{
    for (unsigned int i = 0; i < tree_n; i++) {
        mfn_t m = tree[i];
        CHECK_EQ(COUNT(m), 1);
        CHECK_EQ(TCOUNT(m), 0);
        CHECK(!PARTIAL(m));
        CHECK_EQ(LIN(m), 0);
    }
}

/* Pin preemptibly until done; returns the final answer, *calls the number
 * of tries. */
static int pin_until_done(mfn_t m, unsigned int level, unsigned int *calls)
{
    int rc;
    *calls = 0;
    do {
        rc = page_pin_preemptible(&table[m], dom_a, pgt_of_level(level));
        ++*calls;
    } while (rc == -KEEL_ERESTART && *calls < 1000);
    return rc;
}

TEST(preemptible_pin_matches_synchronous_one)
{
    unsigned long counts[40], types[40];
    unsigned int calls;

    setup();
    yield_every = 0;
    mfn_t l4 = build_tree(false);
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    for (unsigned int i = 0; i < tree_n; i++) {
        counts[i] = table[tree[i]].count_info;
        types[i] = table[tree[i]].u.type_info;
    }
    CHECK(page_unpin(&table[l4]));
    check_tree_clean();

    /* Yielding at every look: each call checks one L1 and stops. */
    yield_every = 1;
    CHECK_EQ(pin_until_done(l4, 4, &calls), 0);
    CHECK_EQ(calls, 12); /* one per L1 */
    for (unsigned int i = 0; i < tree_n; i++) {
        CHECK_EQ(table[tree[i]].count_info, counts[i]);
        CHECK_EQ(table[tree[i]].u.type_info, types[i]);
    }
    CHECK(page_unpin(&table[l4]));
    check_tree_clean();
    yield_every = 0;
}

TEST(partial_table_is_never_usable)
{
    setup();
    yield_every = 1;
    mfn_t l4 = build_tree(false), l3 = tree[1], other = page_of(dom_a);
    CHECK_EQ(page_pin_preemptible(&table[l4], dom_a, PGT_l4_page_table), -KEEL_ERESTART);
    /* The first L1 checked; its L2, L3 and the L4 stopped part-way. */
    CHECK(PARTIAL(l4) && PARTIAL(l3) && PARTIAL(tree[2]));
    CHECK_EQ(TCOUNT(l4), 1);
    CHECK_EQ(COUNT(l4), 2); /* the domain's + the flag's */
    CHECK(!(table[l4].u.type_info & PGT_validated));
    CHECK_EQ(pv_table_level(&table[l4]), 0);
    CHECK_EQ(TCOUNT(tree[3]), 1); /* the L1: validated, held by its L2 */
    /* Not pinned, not writable, no other type, not a linear target. */
    CHECK(!page_unpin(&table[l4]));
    CHECK_EQ(pv_l1e_get(dom_a, ent(l4, PTE_P | PTE_RW)), -XEN_EBUSY);
    CHECK_EQ(get_page_type_err(&table[l3], PGT_l2_page_table), -XEN_EINVAL);
    CHECK_EQ(page_pin_err(&table[other], dom_a, PGT_l4_page_table), 0);
    yield_every = 0;
    CHECK_EQ(pv_entry_update(dom_a, &tab(other)[3], 4, 3, ent(l4, PTE_P), false), -XEN_EINVAL);
    /* mmu_update writing into it: neither a table in use nor writable. */
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a, .preemptible = true};
    CHECK_EQ(pv_pt_write(&w, (u64)l4 << PAGE_SHIFT, 0, false), -XEN_EINVAL);
    pv_pt_writer_done(&w);
    CHECK(page_unpin(&table[other]));
    /* Anyone may finish it: here a synchronous reference on the L3 ... */
    CHECK(get_page_and_type(&table[l3], dom_a, PGT_l3_page_table));
    CHECK(!PARTIAL(l3));
    CHECK_EQ(TCOUNT(l3), 1);
    CHECK_EQ(COUNT(l3), 2);
    /* ... then the pin goes on from where it stopped. */
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    CHECK(!PARTIAL(l4));
    CHECK_EQ(COUNT(l4), 2); /* the domain's + the pin's */
    CHECK_EQ(TCOUNT(l3), 2);
    put_page_and_type(&table[l3]);
    CHECK(page_unpin(&table[l4]));
    tree[tree_n++] = other;
    check_tree_clean();
}

TEST(refusal_after_resumption_unwinds_everything)
{
    unsigned int calls;

    setup();
    yield_every = 1;
    mfn_t l4 = build_tree(true);
    CHECK_EQ(pin_until_done(l4, 4, &calls), -XEN_EBUSY);
    CHECK_EQ(calls, 12);
    tree_n--; /* not the other domain's frame (the tree did not count it) */
    check_tree_clean();
    /* A page table no more: it may be written now. */
    CHECK(get_page_and_type(&table[l4], dom_a, PGT_writable_page));
    put_page_and_type(&table[l4]);
    yield_every = 0;
}

TEST(partial_tables_dropped_in_any_order)
{
    setup();
    yield_every = 1;
    mfn_t l4 = build_tree(false);
    CHECK_EQ(page_pin_preemptible(&table[l4], dom_a, PGT_l4_page_table), -KEEL_ERESTART);
    CHECK_EQ(page_pin_preemptible(&table[l4], dom_a, PGT_l4_page_table), -KEEL_ERESTART);
    yield_every = 0;
    /* As domain destruction meets them: the L2 before its L4 and L3. */
    for (unsigned int i = tree_n; i-- > 0;)
        page_drop_partial(&table[tree[i]]);
    check_tree_clean();
    page_drop_partial(&table[l4]); /* nothing partial: no effect */
    check_tree_clean();
}

/* mmu_update's path: an L4 entry naming a new tree stops part-way and
 * writes nothing until the tree is validated. */
TEST(entry_write_continues)
{
    setup();
    mfn_t root = page_of(dom_a), l4 = build_tree(false), l3 = tree[1];
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a, .preemptible = true};
    unsigned int calls = 0;
    int rc;

    tab(l4)[100] = tab(l4)[200] = 0; /* one L3 (4 L1s) under the root */
    CHECK_EQ(page_pin_err(&table[root], dom_a, PGT_l4_page_table), 0);
    yield_every = 1;
    do {
        rc = pv_pt_write(&w, ((u64)root << PAGE_SHIFT) + 8 * 2, ent(l3, PTE_P | PTE_RW), false);
        if (rc == -KEEL_ERESTART)
            CHECK_EQ(tab(root)[2], 0);
        pv_pt_writer_done(&w); /* as before a continuation */
    } while (rc == -KEEL_ERESTART && ++calls < 100);
    CHECK_EQ(rc, 0);
    CHECK_EQ(calls, 3); /* 4 L1s: 3 stops */
    CHECK_EQ(tab(root)[2], ent(l3, PTE_P | PTE_RW | PTE_US));
    CHECK_EQ(TCOUNT(l3), 1);
    yield_every = 0;
    CHECK(page_unpin(&table[root]));
    tree_n = 15; /* the L4 and the first L3's subtree */
    check_tree_clean();
}

/* ---- preemptible release (Xen's put_page_type_preemptible) */

/* A big tree: an L4, one L3, two L2s of 64 L1s each (128 L1s), every L1
 * mapping the same four data pages (two writable) at spread-out slots,
 * and the second L2 also mapping itself read-only (a linear entry that
 * holds nothing).  big[] lists its frames. */
static mfn_t big[140];
static unsigned int big_n;
static mfn_t build_big_tree(void)
{
    mfn_t l4 = page_of(dom_a), l3 = page_of(dom_a), data[4];

    big_n = 0;
    big[big_n++] = l4;
    big[big_n++] = l3;
    for (unsigned int k = 0; k < 4; k++)
        big[big_n++] = data[k] = page_of(dom_a);
    tab(l4)[5] = ent(l3, PTE_P | PTE_RW);
    for (unsigned int b = 0; b < 2; b++) {
        mfn_t l2 = page_of(dom_a);
        big[big_n++] = l2;
        tab(l3)[b * 300] = ent(l2, PTE_P | PTE_RW);
        if (b)
            tab(l2)[511] = ent(l2, PTE_P);
        for (unsigned int c = 0; c < 64; c++) {
            mfn_t l1 = page_of(dom_a);
            big[big_n++] = l1;
            tab(l2)[c * 7] = ent(l1, PTE_P | PTE_RW);
            for (unsigned int k = 0; k < 4; k++)
                tab(l1)[k * 100 + c] = ent(data[k], PTE_P | (k < 2 ? PTE_RW : 0));
        }
    }
    return l4;
}

static void check_big_clean(void)
{
    for (unsigned int i = 0; i < big_n; i++) {
        mfn_t m = big[i];
        CHECK_EQ(COUNT(m), 1);
        CHECK_EQ(TCOUNT(m), 0);
        CHECK(!PARTIAL(m));
        CHECK(!(table[m].u.type_info & PGT_validated) || (i >= 2 && i < 6));
        CHECK_EQ(LIN(m), 0);
    }
}

/* Run a parked release to its end; the number of calls it took. */
static unsigned int run_until_done(struct page_put_later *l)
{
    unsigned int calls = 1;

    while (page_put_later_run(l, true) == -KEEL_ERESTART && calls < 100000)
        calls++;
    CHECK(!l->pg);
    return calls;
}

TEST(release_of_big_tree_resumed_equals_one_go)
{
    static const unsigned int every[] = {1, 2, 3, 7, 50, 0};
    unsigned long counts[140], types[140];

    setup();
    yield_every = 0;
    mfn_t l4 = build_big_tree();
    for (unsigned int i = 0; i < big_n; i++) {
        counts[i] = table[big[i]].count_info;
        types[i] = table[big[i]].u.type_info;
    }
    /* One go. */
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    CHECK_EQ(TCOUNT(big[2]), 128); /* a writable data page: one per L1 */
    CHECK(page_unpin(&table[l4]));
    check_big_clean();
    for (unsigned int i = 0; i < big_n; i++) {
        CHECK_EQ(table[big[i]].count_info, counts[i]);
        types[i] = table[big[i]].u.type_info; /* the one go's end state */
    }

    /* Resumed: stopping at every look, every 2nd, ... and never. */
    for (unsigned int r = 0; r < ARRAY_SIZE(every); r++) {
        struct page_put_later later = {0};
        unsigned int calls;

        yield_every = 0;
        CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
        yield_every = every[r];
        yield_looks = 0;
        CHECK(page_unpin_later(&table[l4], &later));
        calls = later.pg ? 1 + run_until_done(&later) : 1;
        if (every[r] == 1)
            CHECK(calls > 128); /* at least one L1 per call */
        if (!every[r])
            CHECK_EQ(calls, 1);
        check_big_clean();
        for (unsigned int i = 0; i < big_n; i++) {
            CHECK_EQ(table[big[i]].count_info, counts[i]);
            CHECK_EQ(table[big[i]].u.type_info, types[i]);
        }
    }
    yield_every = 0;
}

TEST(half_released_table_unusable_until_taken_over)
{
    struct page_put_later later = {0};
    unsigned long types[140];

    setup();
    yield_every = 0;
    mfn_t l4 = build_big_tree(), l3 = big[1], other = page_of(dom_a);
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    for (unsigned int i = 0; i < big_n; i++)
        types[i] = table[big[i]].u.type_info;
    yield_every = 1;
    CHECK(page_unpin_later(&table[l4], &later));
    CHECK(later.pg == &table[l4] && later.partial);
    /* One L1 released; its L2, the L3 and the L4 stopped part-way. */
    CHECK(PARTIAL(l4) && PARTIAL(l3));
    CHECK_EQ(TCOUNT(l4), 1);
    CHECK_EQ(COUNT(l4), 3); /* the domain's, the flag's, the parked one */
    CHECK_EQ(pv_table_level(&table[l4]), 0);
    CHECK_EQ(pv_table_level(&table[l3]), 0);
    yield_every = 0;
    /* Not pinned, not writable, no other type, not a linear target, not
     * written by mmu_update. */
    CHECK(!page_unpin(&table[l4]));
    CHECK_EQ(pv_l1e_get(dom_a, ent(l4, PTE_P | PTE_RW)), -XEN_EBUSY);
    CHECK_EQ(get_page_type_err(&table[l3], PGT_l2_page_table), -XEN_EINVAL);
    CHECK_EQ(get_page_type_err(&table[l4], PGT_writable_page), -XEN_EINVAL);
    CHECK_EQ(page_pin_err(&table[other], dom_a, PGT_l4_page_table), 0);
    CHECK_EQ(pv_entry_update(dom_a, &tab(other)[3], 4, 3, ent(l4, PTE_P), false), -XEN_EINVAL);
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a, .preemptible = true};
    CHECK_EQ(pv_pt_write(&w, (u64)l4 << PAGE_SHIFT, 0, false), -XEN_EINVAL);
    pv_pt_writer_done(&w);
    CHECK(page_unpin(&table[other]));
    /* As Xen: a get of its own type takes it over and validates it again
     * (here a pin); the parked claim is then void. */
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    for (unsigned int i = 0; i < big_n; i++)
        CHECK_EQ(table[big[i]].u.type_info, types[i]);
    CHECK_EQ(run_until_done(&later), 1);
    CHECK_EQ(table[l4].u.type_info, types[0]);
    CHECK(page_unpin(&table[l4]));
    big[big_n++] = other;
    check_big_clean();
}

/* mmu_update overwriting the entry that held a subtree's last reference:
 * the write is done at once, the release parked and resumed. */
TEST(overwritten_entry_releases_preemptibly)
{
    struct page_put_later later = {0};
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a, .preemptible = true,
                             .later = &later};

    setup();
    yield_every = 0;
    mfn_t l4 = build_big_tree();
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    yield_every = 1;
    CHECK_EQ(pv_pt_write(&w, ((u64)l4 << PAGE_SHIFT) + 8 * 5, 0, false), 0);
    pv_pt_writer_done(&w);
    CHECK_EQ(tab(l4)[5], 0);
    CHECK(later.pg == &table[big[1]] && PARTIAL(big[1]));
    CHECK(run_until_done(&later) > 100);
    yield_every = 0;
    CHECK(page_unpin(&table[l4]));
    check_big_clean();
}

/* NEW_BASEPTR's path: the old root's last reference. */
TEST(old_root_release_parked)
{
    struct page_put_later later = {0};

    setup();
    yield_every = 0;
    mfn_t l4 = build_big_tree();
    CHECK(get_page_and_type(&table[l4], dom_a, PGT_l4_page_table));
    yield_every = 5;
    CHECK_EQ(put_page_and_type_later(&table[l4], &later), -KEEL_ERESTART);
    CHECK(later.pg == &table[l4]);
    run_until_done(&later);
    yield_every = 0;
    check_big_clean();
    /* A small table goes at once, nothing parked. */
    mfn_t l1 = big[8];
    CHECK(get_page_and_type(&table[l1], dom_a, PGT_l1_page_table));
    yield_every = 1;
    CHECK_EQ(put_page_and_type_later(&table[l1], &later), 0);
    CHECK(!later.pg);
    yield_every = 0;
    check_big_clean();
}

/* Domain destruction meets half-released tables in any order, and the
 * parked claim is void afterwards. */
TEST(half_released_tree_dropped_in_any_order)
{
    struct page_put_later later = {0};

    setup();
    yield_every = 0;
    mfn_t l4 = build_big_tree();
    CHECK_EQ(page_pin_err(&table[l4], dom_a, PGT_l4_page_table), 0);
    yield_every = 1;
    CHECK(page_unpin_later(&table[l4], &later));
    CHECK_EQ(page_put_later_run(&later, true), -KEEL_ERESTART);
    CHECK_EQ(page_put_later_run(&later, true), -KEEL_ERESTART);
    yield_every = 0;
    for (unsigned int i = big_n; i-- > 0;)
        page_drop_partial(&table[big[i]]);
    CHECK_EQ(run_until_done(&later), 1);
    check_big_clean();
}

/* A validation stopped in a child, then given up (dropped): the child it
 * stopped in is finished too, not left partial. */
TEST(dropping_a_stopped_validation_finishes_its_child)
{
    setup();
    yield_every = 1;
    mfn_t l4 = build_tree(false);
    CHECK_EQ(page_pin_preemptible(&table[l4], dom_a, PGT_l4_page_table), -KEEL_ERESTART);
    CHECK(PARTIAL(tree[1]) && PARTIAL(tree[2]));
    yield_every = 0;
    page_drop_partial(&table[l4]);
    check_tree_clean();
}

/* A refused validation keeps what the entries before the bad one took
 * (Xen's promote does): the table is left partial and its undo parked,
 * then released preemptibly like any other. */
TEST(refused_validation_undone_through_the_park)
{
    struct page_put_later later = {0};
    unsigned int calls;

    setup();
    yield_every = 0;
    mfn_t l4 = build_tree(true);
    CHECK_EQ(page_pin_preemptible_later(&table[l4], dom_a, PGT_l4_page_table, &later),
             -XEN_EBUSY);
    CHECK(later.pg == &table[l4] && PARTIAL(l4));
    CHECK(!(table[l4].u.type_info & PGT_pinned));
    yield_every = 1;
    calls = run_until_done(&later);
    CHECK(calls > 1);
    yield_every = 0;
    tree_n--; /* not the other domain's frame */
    check_tree_clean();
    CHECK(get_page_and_type(&table[l4], dom_a, PGT_writable_page));
    put_page_and_type(&table[l4]);
}

/* The same for mmu_update naming a bad subtree: refused, nothing written,
 * the half-validated child parked. */
TEST(refused_entry_child_undone_through_the_park)
{
    struct page_put_later later = {0};
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a, .preemptible = true,
                             .later = &later};

    setup();
    yield_every = 0;
    mfn_t root = page_of(dom_a), l4 = build_tree(true);
    mfn_t l3 = tree[23]; /* the last L3: its last L1 maps the other domain's frame */
    CHECK_EQ(page_pin_err(&table[root], dom_a, PGT_l4_page_table), 0);
    CHECK_EQ(pv_pt_write(&w, ((u64)root << PAGE_SHIFT) + 8 * 2, ent(l3, PTE_P | PTE_RW), false),
             -XEN_EBUSY);
    pv_pt_writer_done(&w);
    CHECK_EQ(tab(root)[2], 0);
    CHECK(later.pg == &table[l3] && PARTIAL(l3));
    yield_every = 1;
    run_until_done(&later);
    yield_every = 0;
    CHECK(page_unpin(&table[root]));
    (void)l4;
    tree_n--;
    check_tree_clean();
}

/* VCPUOP_initialise's kernel root when the user root stopped: kept whole
 * as partial, taken over at once by the next get, or dropped. */
TEST(root_kept_whole_between_calls)
{
    unsigned long types[140];

    setup();
    yield_every = 0;
    mfn_t l4 = build_big_tree();
    CHECK(get_page_and_type(&table[l4], dom_a, PGT_l4_page_table));
    for (unsigned int i = 0; i < big_n; i++)
        types[i] = table[big[i]].u.type_info;
    put_page_type_keep(&table[l4]);
    put_page(&table[l4]);
    CHECK(PARTIAL(l4));
    CHECK_EQ(pv_table_level(&table[l4]), 0);
    CHECK_EQ(TCOUNT(big[1]), 1); /* the L3 still held by the L4's entry */
    yield_every = 1; /* nothing left to check: done in one call */
    CHECK(get_page(&table[l4], dom_a));
    CHECK_EQ(get_page_type_preemptible(&table[l4], PGT_l4_page_table), 0);
    for (unsigned int i = 0; i < big_n; i++)
        CHECK_EQ(table[big[i]].u.type_info, types[i]);
    yield_every = 0;
    /* Not the last reference: an ordinary put. */
    CHECK(get_page_and_type(&table[l4], dom_a, PGT_l4_page_table));
    put_page_type_keep(&table[l4]);
    put_page(&table[l4]);
    CHECK(!PARTIAL(l4));
    put_page_type_keep(&table[l4]);
    put_page(&table[l4]);
    page_drop_partial(&table[l4]);
    check_big_clean();
}
