/*
 * Buddy allocator.  A free block is marked on its head frame only
 * (state free, u.free_order = order); the other frames of a free block
 * are state free with free_order ~0, so a stale head can never be
 * mistaken for a buddy.  Allocated frames are all marked in use, which
 * is what lets free_pages() catch a double free on any frame of a block.
 */
#include <keel/console.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <keel/tlbclock.h>

#define NOT_HEAD (~0UL)

static spinlock_t heap_lock = SPINLOCK_INIT;
static u32 free_head[MAX_ORDER + 1] = {[0 ... MAX_ORDER] = PG_LIST_NONE};
static unsigned long nr_free, nr_total;

static void list_push(unsigned int order, struct page_info *pg)
{
    u32 mfn = (u32)page_to_mfn(pg);

    pg->list_prev = PG_LIST_NONE;
    pg->list_next = free_head[order];
    if (free_head[order] != PG_LIST_NONE)
        mfn_to_page(free_head[order])->list_prev = mfn;
    free_head[order] = mfn;
}

static void list_del(unsigned int order, struct page_info *pg)
{
    if (pg->list_prev != PG_LIST_NONE)
        mfn_to_page(pg->list_prev)->list_next = pg->list_next;
    else
        free_head[order] = pg->list_next;
    if (pg->list_next != PG_LIST_NONE)
        mfn_to_page(pg->list_next)->list_prev = pg->list_prev;
    pg->list_next = pg->list_prev = PG_LIST_NONE;
}

static void mark_head(struct page_info *pg, unsigned int order)
{
    pg->count_info = PGC_state_free;
    pg->u.free_order = order;
    list_push(order, pg);
}

/* Caller holds the lock; every frame of the block is already state free. */
static void merge_and_insert(mfn_t mfn, unsigned int order)
{
    while (order < MAX_ORDER) {
        mfn_t buddy = mfn ^ (1UL << order);
        struct page_info *b;

        if (!mfn_valid(buddy))
            break;
        b = mfn_to_page(buddy);
        if (page_state(b) != PGC_state_free || b->u.free_order != order)
            break;
        list_del(order, b);
        b->u.free_order = NOT_HEAD;
        mfn &= ~(1UL << order);
        order++;
    }
    mark_head(mfn_to_page(mfn), order);
}

/* NULL, or the first frame of the block that may not be freed. */
static struct page_info *bad_frame(struct page_info *pg, unsigned int order)
{
    for (unsigned long i = 0; i < (1UL << order); i++) {
        struct page_info *p = pg + i;
        if (page_state(p) != PGC_state_inuse || (p->count_info & PGC_count_mask) ||
            p->owner || (p->u.type_info & PGT_count_mask))
            return p;
    }
    return NULL;
}

void free_pages(struct page_info *pg, unsigned int order)
{
    mfn_t mfn = page_to_mfn(pg);
    struct page_info *bad;
    unsigned long f;

    BUG_ON(order > MAX_ORDER);
    BUG_ON(!mfn_valid(mfn) || (mfn & ((1UL << order) - 1)));
    f = spin_lock_irqsave(&heap_lock);
    bad = bad_frame(pg, order);
    if (bad) {
        spin_unlock_irqrestore(&heap_lock, f);
        panic("free_pages: mfn %#llx is %s", (unsigned long long)page_to_mfn(bad),
              page_state(bad) != PGC_state_inuse ? "not allocated (double free?)"
                                                 : "still owned or referenced");
    }
    for (unsigned long i = 0; i < (1UL << order); i++) {
        pg[i].count_info = PGC_state_free;
        pg[i].u.free_order = NOT_HEAD;
    }
    nr_free += 1UL << order;
    merge_and_insert(mfn, order);
    spin_unlock_irqrestore(&heap_lock, f);
}

/* Returns the stamp covering every frame of the block (tlbclock.h); each
 * frame keeps its own, for the first change of its type. */
static u32 mark_allocated(struct page_info *pg, unsigned int order)
{
    u32 stamp = pg[0].tlbflush_stamp;

    for (unsigned long i = 0; i < (1UL << order); i++) {
        pg[i].count_info = PGC_state_inuse;
        pg[i].u.type_info = 0;
        pg[i].owner = NULL;
        pg[i].keel_writes = 0;
        pg[i].list_next = pg[i].list_prev = PG_LIST_NONE;
        stamp = tlbclock_latest(stamp, pg[i].tlbflush_stamp);
    }
    return stamp;
}

struct page_info *alloc_pages(unsigned int order)
{
    struct page_info *pg;
    unsigned int cur = order;
    unsigned long f;
    u32 stamp;

    if (order > MAX_ORDER)
        return NULL;
    f = spin_lock_irqsave(&heap_lock);
    while (cur <= MAX_ORDER && free_head[cur] == PG_LIST_NONE)
        cur++;
    if (cur > MAX_ORDER) {
        spin_unlock_irqrestore(&heap_lock, f);
        return NULL;
    }
    pg = mfn_to_page(free_head[cur]);
    list_del(cur, pg);
    /* Split: keep the low half, give the high halves back. */
    while (cur > order) {
        cur--;
        mark_head(pg + (1UL << cur), cur);
    }
    stamp = mark_allocated(pg, order);
    nr_free -= 1UL << order;
    spin_unlock_irqrestore(&heap_lock, f);
    /* Never skipped: a CPU may still translate to a frame of this block
     * through a mapping its last owner dropped without a flush. */
    tlb_flush_stale(stamp);
    return pg;
}

static unsigned int lowest_bit(unsigned long x)
{
    return (unsigned int)__builtin_ctzl(x);
}

/* Largest naturally aligned block starting at mfn that fits in nr frames. */
static unsigned int fit_order(mfn_t mfn, unsigned long nr)
{
    unsigned int order = 63 - (unsigned int)__builtin_clzl(nr);

    if (mfn)
        order = MIN(order, lowest_bit(mfn));
    return MIN(order, MAX_ORDER);
}

void heap_add_range(mfn_t mfn, unsigned long nr)
{
    unsigned long f;

    BUG_ON(mfn + nr > frame_table_nr || mfn + nr < mfn);
    BUG_ON(mfn + nr > PG_LIST_NONE);
    for (unsigned long i = 0; i < nr; i++)
        if (page_state(mfn_to_page(mfn + i)) != PGC_state_reserved)
            panic("heap_add_range: mfn %#llx given to the allocator twice",
                  (unsigned long long)(mfn + i));
    f = spin_lock_irqsave(&heap_lock);
    while (nr) {
        unsigned int order = fit_order(mfn, nr);
        for (unsigned long i = 0; i < (1UL << order); i++) {
            mfn_to_page(mfn + i)->count_info = PGC_state_free;
            mfn_to_page(mfn + i)->u.free_order = NOT_HEAD;
        }
        merge_and_insert(mfn, order);
        nr_free += 1UL << order;
        nr_total += 1UL << order;
        mfn += 1UL << order;
        nr -= 1UL << order;
    }
    spin_unlock_irqrestore(&heap_lock, f);
}

void *alloc_page_va(void)
{
    struct page_info *pg = alloc_pages(0);
    void *va;

    if (!pg)
        return NULL;
    va = mfn_to_virt(page_to_mfn(pg));
    memset(va, 0, PAGE_SIZE);
    return va;
}

void free_page_va(void *va)
{
    free_pages(mfn_to_page(virt_to_mfn(va)), 0);
}

unsigned long heap_free_frames(void)
{
    return READ_ONCE(nr_free);
}

unsigned long heap_total_frames(void)
{
    return READ_ONCE(nr_total);
}

static int verify_block(unsigned int order, mfn_t mfn, unsigned long *count)
{
    const struct page_info *pg = mfn_to_page(mfn);

    if (!mfn_valid(mfn) || mfn + (1UL << order) > frame_table_nr ||
        (mfn & ((1UL << order) - 1))) {
        printk(KLOG_ERR "heap: order-%u block at %#llx misplaced\n", order,
               (unsigned long long)mfn);
        return -1;
    }
    if (page_state(pg) != PGC_state_free || pg->u.free_order != order) {
        printk(KLOG_ERR "heap: listed block %#llx not marked free/order %u\n",
               (unsigned long long)mfn, order);
        return -2;
    }
    for (unsigned long i = 1; i < (1UL << order); i++)
        if (page_state(pg + i) != PGC_state_free || pg[i].u.free_order != NOT_HEAD) {
            printk(KLOG_ERR "heap: frame %#llx inside a free block is not free\n",
                   (unsigned long long)(mfn + i));
            return -3;
        }
    if (order < MAX_ORDER) {
        mfn_t buddy = mfn ^ (1UL << order);
        if (mfn_valid(buddy) && page_state(mfn_to_page(buddy)) == PGC_state_free &&
            mfn_to_page(buddy)->u.free_order == order) {
            printk(KLOG_ERR "heap: buddies %#llx/%#llx not merged\n",
                   (unsigned long long)mfn, (unsigned long long)buddy);
            return -4;
        }
    }
    *count += 1UL << order;
    return 0;
}

int heap_verify(void)
{
    unsigned long count = 0, f = spin_lock_irqsave(&heap_lock);
    int rc = 0;

    for (unsigned int o = 0; o <= MAX_ORDER && !rc; o++) {
        u32 prev = PG_LIST_NONE;
        unsigned long steps = 0;
        for (u32 m = free_head[o]; m != PG_LIST_NONE && !rc; m = mfn_to_page(m)->list_next) {
            if (++steps > frame_table_nr || !mfn_valid(m) ||
                mfn_to_page(m)->list_prev != prev) {
                printk(KLOG_ERR "heap: order-%u list corrupt at %#x\n", o, m);
                rc = -5;
                break;
            }
            rc = verify_block(o, m, &count);
            prev = m;
        }
    }
    if (!rc && count != nr_free) {
        printk(KLOG_ERR "heap: lists hold %lu frames, counter says %lu\n", count, nr_free);
        rc = -6;
    }
    spin_unlock_irqrestore(&heap_lock, f);
    return rc;
}

void heap_reset(void)
{
    heap_lock = (spinlock_t)SPINLOCK_INIT; /* a test may have died holding it */
    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        free_head[o] = PG_LIST_NONE;
    nr_free = nr_total = 0;
}
