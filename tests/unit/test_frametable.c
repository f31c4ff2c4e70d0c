/* Frame ownership, general references and typed references. */
#include <keel/page_alloc.h>
#include <keel/tlbclock.h>

#include "harness.h"

#define NR 64
static struct page_info table[NR];
static struct domain *dom_a = (struct domain *)0x1000, *dom_b = (struct domain *)0x2000;
static int validations, releases, fail_validation;
static unsigned long last_type;

static int v_hook(struct page_info *pg, unsigned long type, bool preemptible)
{
    (void)pg;
    (void)preemptible;
    validations++;
    last_type = type;
    return fail_validation ? -1 : 0;
}

static int r_hook(struct page_info *pg, unsigned long type, bool preemptible)
{
    (void)pg;
    (void)preemptible;
    releases++;
    last_type = type;
    return 0;
}

static const struct page_type_ops ops = {v_hook, r_hook};

/* Flush requests: how many, and the stamp of the last one. */
static int flush_calls;
static u32 flush_stamp;
static struct page_info *flush_watch;
static bool watched_valid_during_flush;
void tlb_flush_stale(u32 stamp)
{
    flush_calls++;
    flush_stamp = stamp;
    if (flush_watch)
        watched_valid_during_flush |= flush_watch->u.type_info & PGT_validated;
}

static struct page_info *fresh_domain_page(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    page_type_set_ops(&ops);
    tlbclock_init(0);
    validations = releases = fail_validation = 0;
    struct page_info *pg = alloc_pages(0);
    page_assign(pg, dom_a);
    return pg;
}

#define COUNT(pg) ((pg)->count_info & PGC_count_mask)
#define TCOUNT(pg) ((pg)->u.type_info & PGT_count_mask)

TEST(struct_is_small)
{
    CHECK(sizeof(struct page_info) <= 40);
}

TEST(references_and_owner)
{
    struct page_info *pg = fresh_domain_page();
    CHECK_EQ(COUNT(pg), 1);
    CHECK(pg->count_info & PGC_allocated);
    CHECK(get_page(pg, dom_a));
    CHECK_EQ(COUNT(pg), 2);
    CHECK(!get_page(pg, dom_b)); /* wrong owner: refused, count unchanged */
    CHECK_EQ(COUNT(pg), 2);
    put_page(pg);
    CHECK_EQ(COUNT(pg), 1);
}

TEST(free_or_unowned_frames_refuse_references)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(!get_page(&table[NR - 1], NULL)); /* free frame */
    struct page_info *keel = alloc_pages(0);  /* Keel's own: count 0 */
    CHECK(!get_page(keel, NULL));
    table[NR - 1].count_info = PGC_state_reserved | 5;
    CHECK(!get_page(&table[NR - 1], NULL)); /* reserved, whatever its count */
    (void)pg;
}

TEST(reference_overflow_refused)
{
    struct page_info *pg = fresh_domain_page();
    pg->count_info = PGC_state_inuse | PGC_allocated | (PGC_count_mask - 1);
    CHECK(get_page(pg, dom_a));
    CHECK_EQ(COUNT(pg), PGC_count_mask);
    CHECK(!get_page(pg, dom_a));
    CHECK_EQ(COUNT(pg), PGC_count_mask);
    CHECK(pg->count_info & PGC_allocated); /* flags untouched by the refusal */
}

TEST(last_reference_frees_the_frame)
{
    struct page_info *pg = fresh_domain_page();
    unsigned long free_before = heap_free_frames();
    CHECK(get_page(pg, dom_a));
    page_unassign(pg); /* the domain lets go; our reference keeps it */
    CHECK_EQ(COUNT(pg), 1);
    CHECK_EQ(page_state(pg), PGC_state_inuse);
    CHECK(get_page(pg, dom_a)); /* owner unchanged until the frame is freed */
    put_page(pg);
    put_page(pg);
    CHECK_EQ(page_state(pg), PGC_state_free);
    CHECK(pg->owner == NULL);
    CHECK_EQ(heap_free_frames(), free_before + 1);
    CHECK_EQ(heap_verify(), 0);
}

TEST(writable_needs_no_validation)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_writable_page));
    CHECK_EQ(validations, 0);
    CHECK(pg->u.type_info & PGT_validated);
    CHECK(get_page_type(pg, PGT_writable_page));
    CHECK_EQ(TCOUNT(pg), 2);
    CHECK(!get_page_type(pg, PGT_l1_page_table)); /* writable in use */
    put_page_type(pg);
    put_page_type(pg);
    CHECK_EQ(TCOUNT(pg), 0);
    CHECK_EQ(releases, 0);
}

TEST(page_table_type_lifecycle)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_l1_page_table));
    CHECK_EQ(validations, 1);
    CHECK_EQ(last_type, PGT_l1_page_table);
    CHECK(pg->u.type_info & PGT_validated);
    CHECK(get_page_type(pg, PGT_l1_page_table)); /* no second validation */
    CHECK_EQ(validations, 1);
    CHECK(!get_page_type(pg, PGT_writable_page)); /* no writable while a table */
    CHECK(!get_page_type(pg, PGT_l2_page_table));
    put_page_type(pg);
    CHECK_EQ(releases, 0);
    put_page_type(pg);
    CHECK_EQ(releases, 1); /* last use: entries' references dropped */
    CHECK(!(pg->u.type_info & PGT_validated));
    CHECK_EQ(TCOUNT(pg), 0);
    CHECK(get_page_type(pg, PGT_writable_page)); /* now it can change */
    put_page_type(pg);
    CHECK(get_page_type(pg, PGT_l1_page_table)); /* and back: validated again */
    CHECK_EQ(validations, 2);
    put_page_type(pg);
}

TEST(failed_validation_leaves_frame_untouched)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_writable_page));
    put_page_type(pg);
    unsigned long before = pg->u.type_info, count_before = pg->count_info;
    fail_validation = 1;
    CHECK(!get_page_type(pg, PGT_l2_page_table));
    CHECK_EQ(validations, 1);
    CHECK_EQ(pg->u.type_info, before);
    CHECK_EQ(pg->count_info, count_before);
    fail_validation = 0;
    CHECK(get_page_type(pg, PGT_l2_page_table));
    CHECK_EQ(validations, 2);
}

TEST(type_count_overflow_refused)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_seg_desc_page));
    pg->u.type_info = PGT_seg_desc_page | PGT_validated | PGT_count_mask;
    CHECK(!get_page_type(pg, PGT_seg_desc_page));
    CHECK_EQ(pg->u.type_info, PGT_seg_desc_page | PGT_validated | PGT_count_mask);
}

TEST(get_page_and_type_undoes_on_failure)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_and_type(pg, dom_a, PGT_l4_page_table));
    CHECK_EQ(COUNT(pg), 2);
    CHECK(!get_page_and_type(pg, dom_a, PGT_l3_page_table));
    CHECK_EQ(COUNT(pg), 2); /* general reference given back */
    CHECK(!get_page_and_type(pg, dom_b, PGT_l4_page_table));
    CHECK_EQ(TCOUNT(pg), 1);
    put_page_and_type(pg);
    CHECK_EQ(COUNT(pg), 1);
    CHECK_EQ(TCOUNT(pg), 0);
}

TEST(pin_and_unpin)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(!page_unpin(pg));
    CHECK(page_pin(pg, dom_a, PGT_l4_page_table));
    CHECK(pg->u.type_info & PGT_pinned);
    CHECK_EQ(TCOUNT(pg), 1);
    CHECK(!page_pin(pg, dom_a, PGT_l4_page_table)); /* twice: refused, undone */
    CHECK_EQ(TCOUNT(pg), 1);
    CHECK_EQ(COUNT(pg), 2);
    CHECK(page_unpin(pg));
    CHECK_EQ(TCOUNT(pg), 0);
    CHECK_EQ(COUNT(pg), 1);
    CHECK_EQ(releases, 1);
}

/* ------------------------------------------------------ TLB stamps */

static void tick(void)
{
    bool w;
    tlbclock_flushed(0, tlbclock_tick(&w));
}

TEST(fresh_frame_takes_a_type_without_flush)
{
    struct page_info *pg = fresh_domain_page();
    flush_calls = 0;
    CHECK(get_page_type(pg, PGT_l1_page_table));
    CHECK_EQ(flush_calls, 0);
    put_page_type(pg);
}

TEST(type_change_flushes_since_the_last_unmap)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_writable_page));
    tick();
    tick();
    put_page_type(pg); /* the last writable mapping went now */
    u32 when = pg->tlbflush_stamp;
    CHECK_EQ(when, tlbclock_now());
    tick();
    flush_calls = 0;
    CHECK(get_page_type(pg, PGT_writable_page)); /* same type: nothing stale */
    CHECK_EQ(flush_calls, 0);
    put_page_type(pg);
    when = pg->tlbflush_stamp;
    tick();
    CHECK(get_page_type(pg, PGT_l1_page_table)); /* writable -> table */
    CHECK_EQ(flush_calls, 1);
    CHECK_EQ(flush_stamp, when);
    /* The flush comes before validation sees the frame. */
    CHECK_EQ(validations, 1);
    tick();
    put_page_type(pg); /* released: stamped after the release */
    CHECK_EQ(releases, 1);
    CHECK_EQ(pg->tlbflush_stamp, tlbclock_now());
    when = pg->tlbflush_stamp;
    CHECK(get_page_type(pg, PGT_writable_page)); /* table -> writable */
    CHECK_EQ(flush_calls, 2);
    CHECK_EQ(flush_stamp, when);
    put_page_type(pg);
}

TEST(freed_domain_frame_is_stamped_and_flushed_before_reuse)
{
    struct page_info *pg = fresh_domain_page();
    tick();
    tick();
    page_unassign(pg); /* last reference: freed now */
    CHECK_EQ(page_state(pg), PGC_state_free);
    u32 when = pg->tlbflush_stamp;
    CHECK_EQ(when, tlbclock_now());
    tick();
    flush_calls = 0;
    struct page_info *again = alloc_pages(0);
    CHECK(again == pg); /* the allocator is LIFO */
    CHECK_EQ(flush_calls, 1);
    CHECK_EQ(flush_stamp, when);
}

TEST(block_allocation_flushes_for_its_newest_frame)
{
    struct page_info *pg = fresh_domain_page();
    (void)pg;
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    struct page_info *a = alloc_pages(0), *b = alloc_pages(0);
    CHECK(b == a + 1);
    page_assign(a, dom_a);
    page_assign(b, dom_a);
    tick();
    page_unassign(b);
    tick();
    tick();
    page_unassign(a); /* newer */
    u32 newest = a->tlbflush_stamp;
    CHECK(newest > b->tlbflush_stamp);
    flush_calls = 0;
    struct page_info *blk = alloc_pages(1);
    CHECK(blk == a);
    CHECK_EQ(flush_calls, 1);
    CHECK_EQ(flush_stamp, newest);
}

/* ------------------------------------------------- Keel's own writes */

TEST(keel_write_frames_can_never_be_tables)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_keel_write(pg, dom_a));
    CHECK_EQ(page_keel_writes(pg), 1);
    CHECK_EQ(TCOUNT(pg), 1);
    CHECK_EQ(COUNT(pg), 2);
    for (unsigned long t = PGT_l1_page_table; t <= PGT_seg_desc_page; t += PGT_l1_page_table) {
        CHECK(!get_page_type(pg, t));
        CHECK(!page_pin(pg, dom_a, t));
    }
    CHECK(!get_page_keel_write(pg, dom_b)); /* not b's */
    CHECK(get_page_keel_write(pg, dom_a));  /* several writers are fine */
    CHECK_EQ(page_keel_writes(pg), 2);
    put_page_keel_write(pg);
    put_page_keel_write(pg);
    CHECK_EQ(page_keel_writes(pg), 0);
    CHECK_EQ(TCOUNT(pg), 0);
    CHECK_EQ(COUNT(pg), 1);
    CHECK(get_page_type(pg, PGT_l1_page_table)); /* free to become one now */
    put_page_type(pg);
}

TEST(keel_write_refused_on_tables)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_l1_page_table));
    CHECK(!get_page_keel_write(pg, dom_a));
    CHECK_EQ(page_keel_writes(pg), 0);
    CHECK_EQ(COUNT(pg), 1);
    put_page_type(pg);
}

TEST(shared_page_lives_with_its_domain)
{
    fresh_domain_page();
    struct page_info *pg = alloc_pages(0);
    page_share_with_guest(pg, dom_a);
    CHECK(pg->count_info & PGC_allocated);
    CHECK_EQ(page_keel_writes(pg), 1);
    CHECK(!page_pin(pg, dom_a, PGT_l1_page_table));
    page_unshare(pg);
    CHECK_EQ(page_state(pg), PGC_state_free);
}

/* Nobody may use the frame in its new type before every stale translation
 * is gone: it is published validated only after the flush. */
TEST(new_type_unusable_until_flushed)
{
    struct page_info *pg = fresh_domain_page();
    CHECK(get_page_type(pg, PGT_l1_page_table));
    put_page_type(pg);
    tick();
    flush_calls = 0;
    flush_watch = pg;
    watched_valid_during_flush = false;
    CHECK(get_page_type(pg, PGT_writable_page));
    flush_watch = NULL;
    CHECK_EQ(flush_calls, 1);
    CHECK(!watched_valid_during_flush);
    CHECK(pg->u.type_info & PGT_validated);
    put_page_type(pg);
}
