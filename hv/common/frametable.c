/*
 * Frame ownership, reference counts and types (see frametable.h for the
 * invariants).  Each operation is one compare-exchange loop on one word:
 * compute the new value from a snapshot, refuse if a rule would break,
 * retry if another CPU changed the word in between.
 */
#include <keel/console.h>
#include <keel/frametable.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>

BUILD_BUG_ON(sizeof(struct page_info) > 32);

struct page_info *frame_table;
unsigned long frame_table_nr;
#ifdef KEEL_HOST
u8 *host_directmap;
#endif

static const struct page_type_ops *type_ops;

static bool cas(unsigned long *p, unsigned long *old, unsigned long nw)
{
    return __atomic_compare_exchange_n(p, old, nw, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

void page_type_set_ops(const struct page_type_ops *ops)
{
    type_ops = ops;
}

void frametable_init(struct page_info *table, unsigned long nr_frames)
{
    frame_table = table;
    frame_table_nr = nr_frames;
    for (unsigned long i = 0; i < nr_frames; i++)
        table[i] = (struct page_info){
            .count_info = PGC_state_reserved,
            .list_next = PG_LIST_NONE,
            .list_prev = PG_LIST_NONE,
        };
}

/* ------------------------------------------------------ general references */

bool get_page(struct page_info *pg, const struct domain *owner)
{
    unsigned long x = READ_ONCE(pg->count_info), n;

    do {
        n = x & PGC_count_mask;
        /* 0: unowned or being freed, never revived; mask: would overflow. */
        if ((x & PGC_state_mask) != PGC_state_inuse || n == 0 || n == PGC_count_mask)
            return false;
    } while (!cas(&pg->count_info, &x, x + 1));
    /* Our reference pins the owner (it changes only at count 0). */
    if (READ_ONCE(pg->owner) != owner) {
        put_page(pg);
        return false;
    }
    return true;
}

static const struct page_owner_ops *owner_ops;

void page_owner_set_ops(const struct page_owner_ops *ops)
{
    owner_ops = ops;
}

/* The last reference is gone: the frame goes back to the allocator. */
static void page_released(struct page_info *pg)
{
    struct domain *d = pg->owner;
    bool last = false;

    BUG_ON(pg->count_info & PGC_allocated);
    BUG_ON(pg->u.type_info & PGT_count_mask);
    if (d && owner_ops)
        last = owner_ops->release(pg, d);
    pg->owner = NULL;
    pg->u.type_info = 0;
    pg->list_next = pg->list_prev = PG_LIST_NONE;
    free_pages(pg, 0);
    if (last)
        owner_ops->released(d);
}

void put_page(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->count_info);

    do {
        BUG_ON((x & PGC_count_mask) == 0);
    } while (!cas(&pg->count_info, &x, x - 1));
    if (((x - 1) & PGC_count_mask) == 0)
        page_released(pg);
}

void page_set_owner(struct page_info *pg, struct domain *d)
{
    BUG_ON(READ_ONCE(pg->count_info) != PGC_state_inuse || pg->owner);
    pg->owner = d;
    pg->u.type_info = 0;
    /* Publish the owner before the reference that makes get_page work. */
    __atomic_store_n(&pg->count_info, PGC_state_inuse | PGC_allocated | 1,
                     __ATOMIC_RELEASE);
}

bool page_assign(struct page_info *pg, struct domain *d)
{
    if (owner_ops)
        return owner_ops->assign(pg, d);
    page_set_owner(pg, d);
    return true;
}

bool page_clear_allocated(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->count_info);

    do {
        if (!(x & PGC_allocated))
            return false;
    } while (!cas(&pg->count_info, &x, x & ~PGC_allocated));
    return true;
}

void page_unassign(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->count_info);

    do {
        BUG_ON(!(x & PGC_allocated));
    } while (!cas(&pg->count_info, &x, x & ~PGC_allocated));
    put_page(pg); /* the reference PGC_allocated held */
}

/* ---------------------------------------------------------- type references */

static int validate(struct page_info *pg, unsigned long type)
{
    return type_ops && type_ops->validate ? type_ops->validate(pg, type) : 0;
}

static void release(struct page_info *pg, unsigned long type)
{
    if (type_ops && type_ops->release)
        type_ops->release(pg, type);
}

/*
 * Note for validate hooks: taking a same-type reference on the frame being
 * validated (a table mapping itself) would wait forever; check for it first.
 */
bool get_page_type(struct page_info *pg, unsigned long type)
{
    unsigned long x, nx;

    BUG_ON(type & ~PGT_type_mask);
    for (;;) {
        unsigned long n;

        x = READ_ONCE(pg->u.type_info);
        n = x & PGT_count_mask;
        if (n == PGT_count_mask)
            return false;
        if (n == 0 && ((x & PGT_type_mask) != type || !(x & PGT_validated))) {
            /* First user: (re)type it; validation may be needed. */
            nx = type | 1 | (pgt_needs_validation(type) ? 0 : PGT_validated);
        } else if ((x & PGT_type_mask) != type) {
            return false; /* in use as something else */
        } else if (!(x & PGT_validated)) {
            cpu_relax(); /* another CPU validates or releases it */
            continue;
        } else {
            nx = x + 1;
        }
        if (cas(&pg->u.type_info, &x, nx))
            break;
    }
    if (nx & PGT_validated)
        return true;
    if (validate(pg, type) < 0) {
        /* Nobody else changes the word while count > 0 and unvalidated. */
        unsigned long cur = nx;
        BUG_ON(!cas(&pg->u.type_info, &cur, x));
        return false;
    }
    __atomic_fetch_or(&pg->u.type_info, PGT_validated, __ATOMIC_RELEASE);
    return true;
}

void put_page_type(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    for (;;) {
        unsigned long n = x & PGT_count_mask;

        BUG_ON(n == 0);
        if (n == 1 && pgt_needs_validation(x & PGT_type_mask) && (x & PGT_validated)) {
            /* Last user of a table: clearing validated (count still 1)
             * makes others wait while its entries' references go. */
            unsigned long busy = x & ~PGT_validated;
            if (!cas(&pg->u.type_info, &x, busy))
                continue;
            release(pg, x & PGT_type_mask);
            BUG_ON(!cas(&pg->u.type_info, &busy, busy - 1));
            return;
        }
        if (cas(&pg->u.type_info, &x, x - 1))
            return;
    }
}

bool get_page_and_type(struct page_info *pg, const struct domain *owner,
                       unsigned long type)
{
    if (!get_page(pg, owner))
        return false;
    if (!get_page_type(pg, type)) {
        put_page(pg);
        return false;
    }
    return true;
}

void put_page_and_type(struct page_info *pg)
{
    put_page_type(pg);
    put_page(pg);
}

bool page_pin(struct page_info *pg, const struct domain *owner, unsigned long type)
{
    unsigned long x;

    if (!get_page_and_type(pg, owner, type))
        return false;
    x = READ_ONCE(pg->u.type_info);
    do {
        if (x & PGT_pinned) {
            put_page_and_type(pg);
            return false;
        }
    } while (!cas(&pg->u.type_info, &x, x | PGT_pinned));
    return true;
}

bool page_unpin(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    do {
        if (!(x & PGT_pinned))
            return false;
    } while (!cas(&pg->u.type_info, &x, x & ~PGT_pinned));
    put_page_and_type(pg);
    return true;
}
