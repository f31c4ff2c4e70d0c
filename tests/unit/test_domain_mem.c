/*
 * A domain's frame list and its relinquishment: every frame owned is
 * listed and counted, relinquish drops pins and PGC_allocated (page tables
 * cascade through pv_mm's real validation), frames mapped from elsewhere
 * keep the domain a zombie until they go, and the allocator gets every
 * frame back.
 */
#include <keel/domain_mem.h>
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

#include "harness.h"

#define NR 128
static struct page_info table[NR];

/* Host code sees struct domain as opaque: the test defines its own. */
struct domain {
    struct domain_mem mem;
    int refs;     /* the reference the frames hold collectively */
    int each;     /* frames relinquish reported */
};

static bool t_assign(struct page_info *pg, struct domain *d)
{
    bool first;

    if (dmem_assign(&d->mem, pg, d, &first))
        return false;
    d->refs += first;
    return true;
}

static bool t_release(struct page_info *pg, struct domain *d)
{
    return dmem_release(&d->mem, pg);
}

static void t_released(struct domain *d)
{
    d->refs--;
}

static const struct page_owner_ops owner_ops = {t_assign, t_release, t_released};
static struct domain dom_u, dom_0;
static unsigned long free_at_start;

static void setup(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    pv_mm_init();
    page_owner_set_ops(&owner_ops);
    memset(&dom_u, 0, sizeof(dom_u));
    memset(&dom_0, 0, sizeof(dom_0));
    dmem_init(&dom_u.mem);
    dmem_init(&dom_0.mem);
    free_at_start = heap_free_frames();
}

static mfn_t frame_of(struct domain *d)
{
    struct page_info *pg = alloc_pages(0);

    CHECK(pg != NULL);
    CHECK(page_assign(pg, d));
    memset(mfn_to_virt(page_to_mfn(pg)), 0, PAGE_SIZE);
    return page_to_mfn(pg);
}

static void count_each(struct page_info *pg, void *ctx)
{
    (void)pg;
    ((struct domain *)ctx)->each++;
}

static u64 ent(mfn_t m, u64 flags)
{
    return ((u64)m << PAGE_SHIFT) | flags;
}

static u64 *tab(mfn_t m)
{
    return mfn_to_virt(m);
}

TEST(frames_listed_and_counted)
{
    setup();
    mfn_t a = frame_of(&dom_u), b = frame_of(&dom_u), c = frame_of(&dom_u);
    CHECK_EQ(dom_u.mem.nr_owned, 3);
    CHECK_EQ(dom_u.refs, 1);
    CHECK_EQ(dmem_verify(&dom_u.mem, &dom_u), 0);
    page_unassign(mfn_to_page(b)); /* a balloon-out: freed, off the list */
    CHECK_EQ(dom_u.mem.nr_owned, 2);
    CHECK_EQ(dmem_verify(&dom_u.mem, &dom_u), 0);
    page_unassign(mfn_to_page(a));
    page_unassign(mfn_to_page(c));
    CHECK_EQ(dom_u.mem.nr_owned, 0);
    CHECK_EQ(dom_u.refs, 0);
    CHECK_EQ(heap_free_frames(), free_at_start);
}

TEST(closed_domain_takes_nothing)
{
    setup();
    frame_of(&dom_u);
    dmem_close(&dom_u.mem);
    struct page_info *pg = alloc_pages(0);
    CHECK(!page_assign(pg, &dom_u));
    CHECK(pg->owner == NULL);
    free_pages(pg, 0);
    CHECK_EQ(dmem_relinquish(&dom_u.mem, &dom_u, 100, count_each, &dom_u), 0);
    CHECK_EQ(dom_u.each, 1);
    CHECK_EQ(dom_u.refs, 0);
    CHECK_EQ(heap_free_frames(), free_at_start);
}

/* A domU's L4 -> L3 -> L2 -> L1 -> data, pinned, plus a frame dom0 maps
 * through an L1 entry of its own (a foreign mapping). */
TEST(relinquish_page_tables_and_zombie)
{
    setup();
    mfn_t l4 = frame_of(&dom_u), l3 = frame_of(&dom_u), l2 = frame_of(&dom_u);
    mfn_t l1 = frame_of(&dom_u), data = frame_of(&dom_u), shown = frame_of(&dom_u);
    tab(l4)[0] = ent(l3, PTE_P | PTE_RW);
    tab(l3)[0] = ent(l2, PTE_P | PTE_RW);
    tab(l2)[0] = ent(l1, PTE_P | PTE_RW);
    tab(l1)[0] = ent(data, PTE_P | PTE_RW);
    tab(l1)[1] = ent(l4, PTE_P); /* read-only view of its own table */
    CHECK(page_pin(mfn_to_page(l4), &dom_u, PGT_l4_page_table));
    /* dom0's own L1 maps `shown`, a domU frame, writable. */
    u64 foreign = ent(shown, PTE_P | PTE_RW);
    CHECK_EQ(pv_l1e_get_foreign(&dom_0, &dom_u, foreign), 0);
    /* ...but not as its own frame, nor without naming its owner. */
    CHECK_EQ(pv_l1e_get(&dom_0, foreign), -XEN_EBUSY);
    CHECK_EQ(dmem_verify(&dom_u.mem, &dom_u), 0);

    dmem_close(&dom_u.mem);
    /* A batch of 2, then the rest: preemptible, resumable. */
    unsigned long left = dmem_relinquish(&dom_u.mem, &dom_u, 2, count_each, &dom_u);
    CHECK(left > 0);
    while ((left = dmem_relinquish(&dom_u.mem, &dom_u, 2, count_each, &dom_u)))
        ;
    CHECK_EQ(dom_u.each, 6);
    /* Only the foreign-mapped frame is left: a zombie. */
    CHECK_EQ(dom_u.mem.nr_owned, 1);
    CHECK_EQ(dom_u.refs, 1);
    CHECK_EQ(heap_free_frames(), free_at_start - 1);
    pv_l1e_put(foreign); /* dom0 unmaps */
    CHECK_EQ(dom_u.mem.nr_owned, 0);
    CHECK_EQ(dom_u.refs, 0);
    CHECK_EQ(heap_free_frames(), free_at_start);
}

/* pv_mm asks whether to stop between entries of a release: every n-th time. */
static unsigned int yield_every, yield_looks;
bool pv_mm_arch_should_yield(void)
{
    return yield_every && ++yield_looks % yield_every == 0;
}

/* A pinned tree (L4 -> L3 -> L2 -> 16 L1s -> 2 data frames each) released
 * by destruction with pv_mm asking to stop at every look: the unpin parks
 * part-way, relinquish reports work left, and the calls that follow
 * finish it; every frame goes back to the allocator. */
TEST(relinquish_big_tree_preemptibly)
{
    unsigned long left;
    unsigned int calls = 0, parked = 0;

    setup();
    mfn_t l4 = frame_of(&dom_u), l3 = frame_of(&dom_u), l2 = frame_of(&dom_u);
    tab(l4)[3] = ent(l3, PTE_P | PTE_RW);
    tab(l3)[4] = ent(l2, PTE_P | PTE_RW);
    for (unsigned int i = 0; i < 16; i++) {
        mfn_t l1 = frame_of(&dom_u);
        tab(l2)[i * 5] = ent(l1, PTE_P | PTE_RW);
        for (unsigned int k = 0; k < 2; k++)
            tab(l1)[k * 17 + i] = ent(frame_of(&dom_u), PTE_P | PTE_RW);
    }
    CHECK(page_pin(mfn_to_page(l4), &dom_u, PGT_l4_page_table));
    dmem_close(&dom_u.mem);
    yield_every = 1;
    yield_looks = 0;
    do {
        left = dmem_relinquish(&dom_u.mem, &dom_u, 4, count_each, &dom_u);
        parked += dom_u.mem.later.pg != NULL;
        CHECK_EQ(dmem_verify(&dom_u.mem, &dom_u), 0);
    } while (left && ++calls < 10000);
    yield_every = 0;
    CHECK_EQ(left, 0);
    CHECK(parked > 0);
    CHECK(!dom_u.mem.later.pg);
    CHECK_EQ(dom_u.each, 3 + 16 + 32);
    CHECK_EQ(dom_u.mem.nr_owned, 0);
    CHECK_EQ(dom_u.refs, 0);
    CHECK_EQ(heap_free_frames(), free_at_start);
}

/* A frame whose allocation reference went earlier (ballooned out) but that
 * a table still maps is dropped by the cascade, and counted once. */
TEST(relinquish_unallocated_but_mapped)
{
    setup();
    mfn_t l1 = frame_of(&dom_u), data = frame_of(&dom_u);
    tab(l1)[5] = ent(data, PTE_P);
    CHECK(page_pin(mfn_to_page(l1), &dom_u, PGT_l1_page_table));
    page_unassign(mfn_to_page(data)); /* still mapped: stays */
    CHECK_EQ(dom_u.mem.nr_owned, 2);
    dmem_close(&dom_u.mem);
    CHECK_EQ(dmem_relinquish(&dom_u.mem, &dom_u, 100, count_each, &dom_u), 0);
    CHECK_EQ(dom_u.each, 1); /* only l1 still had PGC_allocated */
    CHECK_EQ(dom_u.mem.nr_owned, 0);
    CHECK_EQ(heap_free_frames(), free_at_start);
}

TEST(foreign_entry_rules)
{
    setup();
    mfn_t theirs = frame_of(&dom_u), mine = frame_of(&dom_0), l1 = frame_of(&dom_0);
    /* A frame of neither named domain: refused. */
    CHECK_EQ(pv_l1e_get_foreign(&dom_0, &dom_u, ent(mine, PTE_P)), -XEN_EBUSY);
    /* Cache attributes follow the table owner's privilege (none here). */
    CHECK_EQ(pv_l1e_get_foreign(&dom_0, &dom_u, ent(theirs, PTE_P | PTE_PCD)), -XEN_EINVAL);
    /* Bit 9 (Linux's _PAGE_SPECIAL) is the guest's own. */
    CHECK_EQ(pv_l1e_get_foreign(&dom_0, &dom_u, ent(theirs, PTE_P | (1UL << 9))), 0);
    pv_l1e_put(ent(theirs, PTE_P | (1UL << 9)));
    /* Foreign frames only in L1 entries. */
    CHECK(page_pin(mfn_to_page(l1), &dom_0, PGT_l1_page_table));
    u64 slot = 0;
    CHECK_EQ(pv_entry_update_foreign(&dom_0, &dom_u, &slot, 2, 0, ent(theirs, PTE_P), false),
             -XEN_EINVAL);
    u64 *l1e = &tab(l1)[3];
    CHECK_EQ(pv_entry_update_foreign(&dom_0, &dom_u, l1e, 1, 3, ent(theirs, PTE_P | PTE_RW),
                                     false),
             0);
    CHECK_EQ(mfn_to_page(theirs)->count_info & PGC_count_mask, 2);
    CHECK_EQ(pv_entry_update_foreign(&dom_0, &dom_0, l1e, 1, 3, 0, false), 0);
    CHECK_EQ(mfn_to_page(theirs)->count_info & PGC_count_mask, 1);
}
