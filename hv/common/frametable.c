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
#include <xen/errno.h>

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
int get_page_type_err(struct page_info *pg, unsigned long type)
{
    unsigned long x, nx;
    int rc;

    BUG_ON(type & ~PGT_type_mask);
    for (;;) {
        unsigned long n;

        x = READ_ONCE(pg->u.type_info);
        n = x & PGT_count_mask;
        if (n == PGT_count_mask)
            return -XEN_EINVAL;
        if (n == 0 && ((x & PGT_type_mask) != type || !(x & PGT_validated))) {
            /* First user: (re)type it; validation may be needed. */
            BUG_ON(x & PGT_linear_mask);
            nx = type | 1 | (pgt_needs_validation(type) ? 0 : PGT_validated);
        } else if ((x & PGT_type_mask) != type) {
            return -XEN_EINVAL; /* in use as something else */
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
        return 0;
    rc = validate(pg, type);
    if (rc < 0) {
        /* Nobody else changes the word while count > 0 and unvalidated
         * (validation undid any linear count it took). */
        unsigned long cur = nx;
        BUG_ON(!cas(&pg->u.type_info, &cur, x));
        return rc;
    }
    __atomic_fetch_or(&pg->u.type_info, PGT_validated, __ATOMIC_RELEASE);
    return 0;
}

bool get_page_type(struct page_info *pg, unsigned long type)
{
    return get_page_type_err(pg, type) == 0;
}

bool get_page_type_in_use(struct page_info *pg, unsigned long type)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    do {
        if ((x & (PGT_type_mask | PGT_validated)) != (type | PGT_validated) ||
            !(x & PGT_count_mask) || (x & PGT_count_mask) == PGT_count_mask)
            return false;
    } while (!cas(&pg->u.type_info, &x, x + 1));
    return true;
}

/* Moves the linear count one step, if it is on the side `side` (+1:
 * entries, -1: uses, or 0) and stays within 16 bits; `away` moves it
 * back towards 0 instead (and requires the side strictly). */
static bool linear_step(struct page_info *pg, int side, bool away)
{
    unsigned long x = READ_ONCE(pg->u.type_info), nx;

    do {
        int c = (s16)((x & PGT_linear_mask) >> PGT_linear_shift);
        int n = away ? c - side : c + side;
        if ((side > 0 ? c < 0 : c > 0) || (away && c == 0) || n > 0x7fff || n < -0x8000)
            return false;
        nx = (x & ~PGT_linear_mask) | ((unsigned long)(u16)n << PGT_linear_shift);
    } while (!cas(&pg->u.type_info, &x, nx));
    return true;
}

bool page_linear_inc_entries(struct page_info *pg)
{
    return linear_step(pg, 1, false);
}

void page_linear_dec_entries(struct page_info *pg)
{
    BUG_ON(!linear_step(pg, 1, true));
}

bool page_linear_inc_uses(struct page_info *pg)
{
    return linear_step(pg, -1, false);
}

void page_linear_dec_uses(struct page_info *pg)
{
    BUG_ON(!linear_step(pg, -1, true));
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
            /* The release dropped the table's linear entries: reread. */
            busy = READ_ONCE(pg->u.type_info);
            BUG_ON(busy & PGT_linear_mask);
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

int page_pin_err(struct page_info *pg, const struct domain *owner, unsigned long type)
{
    unsigned long x;
    int rc;

    if (!get_page(pg, owner))
        return -XEN_EINVAL;
    rc = get_page_type_err(pg, type);
    if (rc) {
        put_page(pg);
        return rc;
    }
    x = READ_ONCE(pg->u.type_info);
    do {
        if (x & PGT_pinned) {
            put_page_and_type(pg);
            return -XEN_EINVAL;
        }
    } while (!cas(&pg->u.type_info, &x, x | PGT_pinned));
    return 0;
}

bool page_pin(struct page_info *pg, const struct domain *owner, unsigned long type)
{
    return page_pin_err(pg, owner, type) == 0;
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
