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
#include <keel/tlbclock.h>
#include <xen/errno.h>

BUILD_BUG_ON(sizeof(struct page_info) > 40);

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
            .tlbflush_stamp = 0,
            .keel_writes = 0,
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

/* The last reference is gone (a domain's frame: its last mapping too): the
 * frame goes back to the allocator, stamped so that whoever gets it next
 * is safe from TLBs that still hold a mapping. */
static void page_released(struct page_info *pg)
{
    struct domain *d = pg->owner;
    bool last = false;

    BUG_ON(pg->count_info & PGC_allocated);
    BUG_ON(pg->u.type_info & PGT_count_mask);
    BUG_ON(pg->keel_writes);
    if (d && owner_ops)
        last = owner_ops->release(pg, d);
    pg->owner = NULL;
    pg->u.type_info = 0;
    pg->list_next = pg->list_prev = PG_LIST_NONE;
    pg->tlbflush_stamp = tlbclock_now();
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

bool page_claim(struct page_info *pg, const struct domain *d)
{
    unsigned long x;

    if (!get_page(pg, d)) /* pins the owner while we look */
        return false;
    x = READ_ONCE(pg->count_info);
    do {
        if (!(x & PGC_allocated)) {
            put_page(pg);
            return false;
        }
    } while (!cas(&pg->count_info, &x, x & ~PGC_allocated));
    /* The flag's reference is ours now; the one get_page took goes. */
    put_page(pg);
    return true;
}

void page_unclaim(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->count_info);

    do {
        BUG_ON((x & PGC_allocated) || !(x & PGC_count_mask));
    } while (!cas(&pg->count_info, &x, x | PGC_allocated));
}

#define PGC_ONLY_ALLOCATED (PGC_state_inuse | PGC_allocated | 1)

bool page_steal(struct page_info *pg, const struct domain *d)
{
    unsigned long x = PGC_ONLY_ALLOCATED;

    if (!cas(&pg->count_info, &x, PGC_state_inuse))
        return false;
    /* Count 0: nobody can take a reference, and the owner we see is the
     * one that had it a moment ago (it changes only through the count). */
    if (READ_ONCE(pg->owner) != d || pg->keel_writes ||
        (READ_ONCE(pg->u.type_info) & (PGT_count_mask | PGT_pinned))) {
        page_unsteal(pg);
        return false;
    }
    return true;
}

void page_unsteal(struct page_info *pg)
{
    unsigned long x = PGC_state_inuse;

    BUG_ON(!cas(&pg->count_info, &x, PGC_ONLY_ALLOCATED));
}

void page_free_stolen(struct page_info *pg)
{
    BUG_ON(READ_ONCE(pg->count_info) != PGC_state_inuse);
    page_released(pg);
}

/* ---------------------------------------------------------- type references */

static int validate(struct page_info *pg, unsigned long type, bool preemptible)
{
    /* Impossible by the type rules (a Keel write reference is a writable
     * type reference); checked because the whole of finding 1 rests on it. */
    BUG_ON(READ_ONCE(pg->keel_writes));
    return type_ops && type_ops->validate ? type_ops->validate(pg, type, preemptible) : 0;
}

static int release(struct page_info *pg, unsigned long type, bool preemptible)
{
    return type_ops && type_ops->release ? type_ops->release(pg, type, preemptible) : 0;
}

static bool should_yield(bool preemptible)
{
    return preemptible && type_ops && type_ops->should_yield && type_ops->should_yield();
}

/* A general reference for a holder that cannot lose the frame meanwhile
 * (the caller holds one): PGT_partial's. */
static void get_page_light(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->count_info);

    do {
        BUG_ON((x & PGC_count_mask) == 0 || (x & PGC_count_mask) == PGC_count_mask);
    } while (!cas(&pg->count_info, &x, x + 1));
}

/*
 * A frame that changes type must not stay reachable through a translation
 * from its old life on any CPU (a writable mapping of a frame that becomes
 * a table, or a walk through a table that becomes writable).  A fresh
 * frame (type none) has none: the allocator flushed what its previous life
 * left.  Until the flush is done the frame stays unvalidated, so other
 * users of the new type wait (Xen does the same).
 */
static bool type_change_needs_flush(unsigned long x, unsigned long type)
{
    return !(x & PGT_count_mask) && (x & PGT_type_mask) != type &&
           (x & PGT_type_mask) != PGT_none;
}

/*
 * Takes a type reference: 0 at once when the frame is a validated `type`
 * in use; else, as its first user, the validation "lock" (type, count 1,
 * not validated): a fresh start, or PGT_partial's type reference taken
 * over (`resumed`, its general reference ours to drop).  Waits while
 * another CPU validates.  1: the caller must validate; < 0: refused.
 */
static int type_ref_or_lock(struct page_info *pg, unsigned long type, bool preemptible,
                            unsigned long *old, bool *resumed)
{
    unsigned long x, nx;

    for (;;) {
        unsigned long n;

        x = READ_ONCE(pg->u.type_info);
        n = x & PGT_count_mask;
        if (n == PGT_count_mask)
            return -XEN_EINVAL;
        if (n == 0 && ((x & PGT_type_mask) != type || !(x & PGT_validated))) {
            /* First user: (re)type it; a flush or validation may be needed. */
            BUG_ON(x & (PGT_linear_mask | PGT_partial));
            nx = type | 1;
            if (!pgt_needs_validation(type) && !type_change_needs_flush(x, type))
                nx |= PGT_validated;
        } else if ((x & PGT_type_mask) != type) {
            return -XEN_EINVAL; /* in use as something else */
        } else if (x & PGT_partial) {
            BUG_ON(n != 1 || (x & PGT_validated));
            nx = x & ~PGT_partial; /* its type reference is ours now */
        } else if (!(x & PGT_validated)) {
            /* Another CPU validates or releases it. */
            if (should_yield(preemptible))
                return -KEEL_ERESTART;
            spin_relax();
            continue;
        } else {
            nx = x + 1;
        }
        if (cas(&pg->u.type_info, &x, nx))
            break;
    }
    *old = x;
    *resumed = x & PGT_partial;
    return (nx & PGT_validated) ? 0 : 1;
}

/*
 * Note for validate hooks: taking a same-type reference on the frame being
 * validated (a table mapping itself) would wait forever; check for it first.
 */
static int get_type(struct page_info *pg, unsigned long type, bool preemptible)
{
    unsigned long x, cur;
    bool resumed;
    int rc;

    BUG_ON(type & ~PGT_type_mask);
    rc = type_ref_or_lock(pg, type, preemptible, &x, &resumed);
    if (rc <= 0)
        return rc;
    /* Before anything (validation included) relies on the new type. */
    if (type_change_needs_flush(x, type))
        tlb_flush_stale(READ_ONCE(pg->tlbflush_stamp));
    if (!pgt_needs_validation(type)) {
        __atomic_fetch_or(&pg->u.type_info, PGT_validated, __ATOMIC_RELEASE);
        return 0;
    }
    if (!resumed)
        pg->nr_validated = 0; /* the stamp is spent: the field is validation's now */
    rc = validate(pg, type, preemptible);
    if (rc == -KEEL_ERESTART) {
        /* Stopped part-way: the flag keeps the type reference and a general
         * one (a resumed validation's already came with it). */
        BUG_ON(!preemptible);
        if (!resumed)
            get_page_light(pg);
        __atomic_fetch_or(&pg->u.type_info, PGT_partial, __ATOMIC_RELEASE);
        return rc;
    }
    if (rc < 0 && preemptible && pg->nr_validated) {
        /* Refused with earlier entries still holding theirs (Xen's way):
         * PGT_partial as for a stop; the caller parks its release. */
        if (!resumed)
            get_page_light(pg);
        __atomic_fetch_or(&pg->u.type_info, PGT_partial, __ATOMIC_RELEASE);
        return rc;
    }
    if (rc < 0) {
        /* Nobody else changes the word while count > 0 and unvalidated
         * (validation undid any linear count it took): back to count 0,
         * as before (a resumed one: its type, not validated). */
        cur = READ_ONCE(pg->u.type_info);
        BUG_ON(cur & PGT_linear_mask);
        pg->tlbflush_stamp = tlbclock_now(); /* conservative: the field was reused */
        BUG_ON(!cas(&pg->u.type_info, &cur, resumed ? type : x));
    } else {
        __atomic_fetch_or(&pg->u.type_info, PGT_validated, __ATOMIC_RELEASE);
    }
    if (resumed)
        put_page(pg); /* the flag's; the caller holds its own */
    return rc;
}

int get_page_type_err(struct page_info *pg, unsigned long type)
{
    return get_type(pg, type, false);
}

int get_page_type_preemptible(struct page_info *pg, unsigned long type)
{
    return get_type(pg, type, true);
}

/*
 * The caller owns pg's last type reference, PGT_validated already clear
 * (others wait or, once PGT_partial is set, may take it over), and
 * pg->nr_validated says which entries still hold references.  Releases
 * them; when that stops part-way the frame becomes PGT_partial (the flag
 * keeping the type reference and a general one: `flag_ref` says whether
 * the caller came with that general reference already, from an earlier
 * PGT_partial).
 */
static int finish_release(struct page_info *pg, unsigned long type, bool preemptible,
                          bool flag_ref)
{
    unsigned long busy;
    int rc = release(pg, type, preemptible);

    if (rc == -KEEL_ERESTART) {
        BUG_ON(!preemptible);
        if (!flag_ref)
            get_page_light(pg);
        __atomic_fetch_or(&pg->u.type_info, PGT_partial, __ATOMIC_RELEASE);
        return rc;
    }
    BUG_ON(rc);
    /* The release dropped the table's linear entries: reread. */
    WRITE_ONCE(pg->tlbflush_stamp, tlbclock_now());
    busy = READ_ONCE(pg->u.type_info);
    BUG_ON(busy & (PGT_linear_mask | PGT_partial | PGT_validated));
    BUG_ON((busy & PGT_count_mask) != 1);
    BUG_ON(!cas(&pg->u.type_info, &busy, busy - 1));
    if (flag_ref)
        put_page(pg);
    return 0;
}

int page_release_partial(struct page_info *pg, bool preemptible)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    do {
        if (!(x & PGT_partial))
            return 0; /* finished, or taken over by a get of its type */
        BUG_ON((x & PGT_count_mask) != 1 || (x & PGT_validated));
    } while (!cas(&pg->u.type_info, &x, x & ~PGT_partial));
    /* Ours now, as for a resumed validation: release what it holds. */
    return finish_release(pg, x & PGT_type_mask, preemptible, true);
}

void page_drop_partial(struct page_info *pg)
{
    BUG_ON(page_release_partial(pg, false));
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

static int put_type(struct page_info *pg, bool preemptible)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    for (;;) {
        unsigned long n = x & PGT_count_mask;

        BUG_ON(n == 0);
        BUG_ON(x & PGT_partial); /* its type reference is nobody's to drop */
        if (n == 1 && pgt_needs_validation(x & PGT_type_mask) && (x & PGT_validated)) {
            /* Last user of a table: clearing validated (count still 1)
             * makes others wait while its entries' references go. */
            if (!cas(&pg->u.type_info, &x, x & ~PGT_validated))
                continue;
            pg->nr_validated = PG_NR_ALL; /* the field is the release's now */
            return finish_release(pg, x & PGT_type_mask, preemptible, false);
        }
        /* The last type user's mappings are gone: stamp before the count
         * says so, while nobody can retype the frame (a retry restamps). */
        if (n == 1)
            WRITE_ONCE(pg->tlbflush_stamp, tlbclock_now());
        if (cas(&pg->u.type_info, &x, x - 1))
            return 0;
    }
}

void put_page_type(struct page_info *pg)
{
    BUG_ON(put_type(pg, false));
}

int put_page_type_preemptible(struct page_info *pg)
{
    return put_type(pg, true);
}

void put_page_type_keep(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    if ((x & PGT_count_mask) == 1 && (x & PGT_validated) &&
        (x & PGT_type_mask) >= PGT_l2_page_table && (x & PGT_type_mask) <= PGT_l4_page_table) {
        /* The flag's general reference first (ours keeps the frame
         * meanwhile); the field is unused while the table is in use. */
        get_page_light(pg);
        pg->nr_validated = PG_NR_ALL;
        if (cas(&pg->u.type_info, &x, (x & ~PGT_validated) | PGT_partial))
            return;
        put_page(pg); /* someone else took a reference: an ordinary put */
    }
    put_type(pg, false);
}

/* ------------------------------------------------- releases for later */

void page_put_later_set(struct page_put_later *l, struct page_info *pg, bool partial)
{
    BUG_ON(l->pg);
    l->pg = pg;
    l->partial = partial;
}

int page_put_later_run(struct page_put_later *l, bool preemptible)
{
    int rc;

    if (!l->pg)
        return 0;
    rc = l->partial ? page_release_partial(l->pg, preemptible)
                    : put_type(l->pg, preemptible);
    if (rc == -KEEL_ERESTART) {
        l->partial = true;
        return rc;
    }
    put_page(l->pg);
    l->pg = NULL;
    return 0;
}

int put_page_and_type_later(struct page_info *pg, struct page_put_later *l)
{
    int rc = put_type(pg, true);

    if (rc == -KEEL_ERESTART) {
        page_put_later_set(l, pg, true); /* our general reference goes with it */
        return rc;
    }
    put_page(pg);
    return 0;
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

bool page_park_partial(struct page_info *pg, struct page_put_later *l)
{
    if (!(READ_ONCE(pg->u.type_info) & PGT_partial))
        return false;
    if (!l || l->pg) {
        page_drop_partial(pg); /* nowhere to park it: in one go */
        return false;
    }
    page_put_later_set(l, pg, true);
    return true;
}

static int pin(struct page_info *pg, const struct domain *owner, unsigned long type,
               bool preemptible, struct page_put_later *l)
{
    unsigned long x;
    int rc;

    if (!get_page(pg, owner))
        return -XEN_EINVAL;
    rc = get_type(pg, type, preemptible);
    if (rc) {
        /* A refusal may leave the table partial: its release is parked
         * (with our general reference), or done now. */
        if (rc == -KEEL_ERESTART || !page_park_partial(pg, l))
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

int page_pin_err(struct page_info *pg, const struct domain *owner, unsigned long type)
{
    return pin(pg, owner, type, false, NULL);
}

int page_pin_preemptible(struct page_info *pg, const struct domain *owner, unsigned long type)
{
    return pin(pg, owner, type, true, NULL);
}

int page_pin_preemptible_later(struct page_info *pg, const struct domain *owner,
                               unsigned long type, struct page_put_later *l)
{
    return pin(pg, owner, type, true, l);
}

bool page_pin(struct page_info *pg, const struct domain *owner, unsigned long type)
{
    return page_pin_err(pg, owner, type) == 0;
}

static bool clear_pinned(struct page_info *pg)
{
    unsigned long x = READ_ONCE(pg->u.type_info);

    do {
        if (!(x & PGT_pinned))
            return false;
    } while (!cas(&pg->u.type_info, &x, x & ~PGT_pinned));
    return true;
}

bool page_unpin(struct page_info *pg)
{
    if (!clear_pinned(pg))
        return false;
    put_page_and_type(pg);
    return true;
}

bool page_unpin_later(struct page_info *pg, struct page_put_later *l)
{
    if (!clear_pinned(pg))
        return false;
    (void)put_page_and_type_later(pg, l);
    return true;
}

/* ------------------------------------------------------- Keel's writes */

bool get_page_type_keel_write(struct page_info *pg)
{
    if (!get_page_type(pg, PGT_writable_page))
        return false;
    BUG_ON(__atomic_add_fetch(&pg->keel_writes, 1, __ATOMIC_ACQ_REL) == 0);
    return true;
}

void put_page_type_keel_write(struct page_info *pg)
{
    BUG_ON(__atomic_fetch_sub(&pg->keel_writes, 1, __ATOMIC_ACQ_REL) == 0);
    put_page_type(pg);
}

bool get_page_keel_write(struct page_info *pg, const struct domain *owner)
{
    if (!get_page(pg, owner))
        return false;
    if (!get_page_type_keel_write(pg)) {
        put_page(pg);
        return false;
    }
    return true;
}

void put_page_keel_write(struct page_info *pg)
{
    put_page_type_keel_write(pg);
    put_page(pg);
}

bool page_share_with_guest(struct page_info *pg, struct domain *d)
{
    if (!page_assign(pg, d))
        return false; /* d is dying: it takes no new frames */
    __atomic_fetch_or(&pg->count_info, PGC_shared, __ATOMIC_ACQ_REL);
    /* A fresh frame of d's: nothing can refuse. */
    BUG_ON(!get_page_keel_write(pg, d));
    return true;
}

void page_unshare(struct page_info *pg)
{
    put_page_keel_write(pg);
    page_unassign(pg);
}
