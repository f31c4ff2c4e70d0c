/*
 * PV direct paging rules (see keel/pv_mm.h): per-entry checks and the
 * frame-table type hooks that apply them to whole tables.
 *
 * Recursion through the type system terminates and cannot wait on itself:
 * validating a level-n table asks for level n-1 types (or the writable
 * type); a level-n entry naming a level-n table (a linear entry) only
 * takes a reference on one validated already, or on nothing for the
 * table itself, so validation never waits for its own end.
 */
#include <keel/console.h>
#include <keel/desc_check.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

unsigned int pgt_level(unsigned long type)
{
    switch (type & PGT_type_mask) {
    case PGT_l1_page_table: return 1;
    case PGT_l2_page_table: return 2;
    case PGT_l3_page_table: return 3;
    case PGT_l4_page_table: return 4;
    default: return 0;
    }
}

unsigned long pgt_of_level(unsigned int level)
{
    static const unsigned long types[] = {PGT_none, PGT_l1_page_table, PGT_l2_page_table,
                                          PGT_l3_page_table, PGT_l4_page_table};
    return level < ARRAY_SIZE(types) ? types[level] : PGT_none;
}

u64 pv_l1e_adjust(u64 e)
{
    if (!(e & PTE_P))
        return e;
    e = (e | PTE_US) & ~PTE_G;
    /* Device memory Keel writes itself (MSI-X tables): read-only, as Xen's
     * mmio_ro ranges; stores there fault and are dropped. */
    if ((e & PTE_RW) && pv_mm_arch_io_frame_ro(pte_mfn(e)))
        e &= ~PTE_RW;
    return e;
}

u64 pv_ltable_adjust(u64 e)
{
    return (e & PTE_P) ? e | PTE_US : e;
}

/* A RAM frame that references may be taken on (allocated, not free or
 * reserved).  Frames never move between this and "I/O". */
static struct page_info *ram_page(mfn_t mfn)
{
    if (!mfn_valid(mfn))
        return NULL;
    struct page_info *pg = mfn_to_page(mfn);
    return page_state(pg) == PGC_state_inuse ? pg : NULL;
}

int pv_l1e_get_foreign(struct domain *l1e_owner, struct domain *pg_owner, u64 e)
{
    struct page_info *pg;
    bool priv;

    if (!(e & PTE_P))
        return 0;
    priv = pv_mm_arch_privileged(l1e_owner);
    /* The bits are the table owner's business, as its privilege says. */
    if ((e & PTE_HIGH_RSVD) || ((e & PTE_CACHE_ATTRS) && !priv))
        return -XEN_EINVAL;
    pg = ram_page(pte_mfn(e));
    if (!pg) {
        if (!pv_mm_arch_io_frame(pte_mfn(e)))
            /* Free or Keel's RAM is someone else's frame (as Xen says);
             * past the frame table it is no frame at all. */
            return mfn_valid(pte_mfn(e)) ? -XEN_EBUSY : -XEN_EINVAL;
        /* Device memory: both the named domain and the table's owner
         * must have I/O access. */
        return priv && pv_mm_arch_privileged(pg_owner) ? 0 : -XEN_EPERM;
    }
    /* RAM must belong to the domain the caller named (itself, or the
     * foreign domain of a privileged caller's mmu_update). */
    if (!get_page(pg, pg_owner))
        return -XEN_EBUSY;
    if ((e & PTE_RW) && !get_page_type(pg, PGT_writable_page)) {
        put_page(pg);
        return -XEN_EBUSY;
    }
    return 0;
}

int pv_l1e_get(struct domain *d, u64 e)
{
    return pv_l1e_get_foreign(d, d, e);
}

void pv_l1e_put(u64 e)
{
    struct page_info *pg;

    if (!(e & PTE_P) || !(pg = ram_page(pte_mfn(e))))
        return;
    if (e & PTE_RW)
        put_page_type(pg);
    put_page(pg);
}

/*
 * A linear entry (Xen's pv-linear-pt rules, on by default): an Ln entry
 * naming a table of level n, read-only.  Naming its own table holds
 * nothing.  Naming another one takes a general reference and a type
 * reference of that level on a table already validated and in use
 * (never validating, so never waiting), and the linear counts: the
 * containing table has linear entries, the named one linear uses, and
 * neither may be on the other side, so chains stop after one step.
 */
static bool linear_get(struct domain *d, u64 e, unsigned int level, mfn_t table)
{
    struct page_info *pg, *tpg = mfn_to_page(table);

    if (e & PTE_RW)
        return false;
    if (pte_mfn(e) == table)
        return true;
    pg = ram_page(pte_mfn(e));
    if (!pg || READ_ONCE(tpg->owner) != d || !get_page(pg, d))
        return false;
    if (!page_linear_inc_entries(tpg))
        goto no;
    if (!page_linear_inc_uses(pg))
        goto no_entries;
    if (get_page_type_in_use(pg, pgt_of_level(level)))
        return true;
    page_linear_dec_uses(pg);
no_entries:
    page_linear_dec_entries(tpg);
no:
    put_page(pg);
    return false;
}

/* preemptible: the child's validation may stop (-KEEL_ERESTART, holding
 * nothing here; the child keeps what it checked, PGT_partial). */
static int lnext_get(struct domain *d, u64 e, unsigned int level, mfn_t table,
                     bool preemptible)
{
    unsigned long type = pgt_of_level(level - 1);
    struct page_info *pg;
    int rc;

    if (!(e & PTE_P))
        return 0;
    if (level < 2 || level > 4 || (e & PTE_TABLE_DISALLOW))
        return -XEN_EINVAL;
    pg = ram_page(pte_mfn(e));
    if (!pg || !get_page(pg, d))
        return -XEN_EINVAL;
    rc = preemptible ? get_page_type_preemptible(pg, type) : get_page_type_err(pg, type);
    if (!rc)
        return 0;
    put_page(pg);
    /* As Xen: only a type conflict may be a linear entry. */
    if (rc == -XEN_EINVAL && linear_get(d, e, level, table))
        return 0;
    return rc;
}

int pv_lnext_get(struct domain *d, u64 e, unsigned int level, mfn_t table)
{
    return lnext_get(d, e, level, table, false);
}

/* later: the child's release may stop part-way (-KEEL_ERESTART): then it
 * is PGT_partial, our references its flag's or, with `later`, parked
 * there (0). */
static int lnext_put(u64 e, unsigned int level, mfn_t table, bool preemptible,
                     struct page_put_later *later)
{
    struct page_info *pg;
    int rc;

    if (!(e & PTE_P) || pte_mfn(e) == table || !(pg = ram_page(pte_mfn(e))))
        return 0;
    /* Our type reference pins the child's type: its own level means a
     * linear entry.  The counts go before the reference, while it still
     * keeps the type. */
    if ((READ_ONCE(pg->u.type_info) & PGT_type_mask) == pgt_of_level(level)) {
        page_linear_dec_uses(pg);
        page_linear_dec_entries(mfn_to_page(table));
    }
    if (later) {
        (void)put_page_and_type_later(pg, later);
        return 0;
    }
    if (!preemptible) {
        put_page_and_type(pg);
        return 0;
    }
    rc = put_page_type_preemptible(pg);
    put_page(pg); /* on a stop the flag holds one of its own */
    return rc;
}

void pv_lnext_put(u64 e, unsigned int level, mfn_t table)
{
    (void)lnext_put(e, level, table, false, NULL);
}

/* ---------------------------------------------------------- entry updates */

static u64 adjust(u64 e, unsigned int level)
{
    return level == 1 ? pv_l1e_adjust(e) : pv_ltable_adjust(e);
}

static int entry_get(struct domain *d, struct domain *pg_owner, u64 e, unsigned int level,
                     mfn_t table, bool preemptible);
static void entry_put(u64 e, unsigned int level, mfn_t table);

static bool child_partial(u64 e, unsigned int level);

/* A new child refused may be left partial (its earlier entries holding
 * theirs): its release is parked in `later`, or done now. */
static void park_refused_child(struct domain *d, u64 e, unsigned int level,
                               struct page_put_later *later)
{
    struct page_info *c;

    if (!child_partial(e, level) || !(c = ram_page(pte_mfn(e))) || !get_page(c, d))
        return;
    if (!page_park_partial(c, later))
        put_page(c);
}

/* The old entry's references: with `later`, a child table's release goes
 * preemptibly, what is left of it parked there. */
static void entry_put_old(u64 e, unsigned int level, mfn_t table,
                          struct page_put_later *later)
{
    if (level == 1 || !later)
        entry_put(e, level, table);
    else
        (void)lnext_put(e, level, table, true, later);
}

static int entry_replace(struct domain *d, struct domain *pg_owner, u64 *slot,
                         unsigned int level, unsigned int index, u64 old, u64 nval,
                         bool preserve_ad, bool preemptible, struct page_put_later *later)
{
    mfn_t table = virt_to_mfn(slot);
    int rc;

    if (level < 1 || level > 4 || index >= PT_SLOTS)
        return -XEN_EINVAL;
    if (level == 4 && l4_slot_is_keel(index))
        return -XEN_EINVAL; /* Keel's own slots: never the guest's */
    rc = entry_get(d, pg_owner, nval, level, table, preemptible);
    if (rc) {
        if (preemptible && rc != -KEEL_ERESTART)
            park_refused_child(d, nval, level, later);
        return rc;
    }
    nval = adjust(nval, level);
    if (preserve_ad)
        nval |= old & (PTE_A | PTE_D);
    if (!__atomic_compare_exchange_n(slot, &old, nval, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
        entry_put(nval, level, table);
        return -XEN_EAGAIN;
    }
    entry_put_old(old, level, table, later);
    return 0;
}

int pv_entry_replace(struct domain *d, u64 *slot, unsigned int level, unsigned int index,
                     u64 old, u64 nval, bool preserve_ad)
{
    return entry_replace(d, d, slot, level, index, old, nval, preserve_ad, false, NULL);
}

static int entry_update(struct domain *d, struct domain *pg_owner, u64 *slot,
                        unsigned int level, unsigned int index, u64 nval, bool preserve_ad,
                        bool preemptible, struct page_put_later *later)
{
    int rc;

    /* Another domain's frames only ever go into L1 entries (Xen's rule). */
    if (pg_owner != d && level != 1)
        return -XEN_EINVAL;
    do
        rc = entry_replace(d, pg_owner, slot, level, index, READ_ONCE(*slot), nval,
                           preserve_ad, preemptible, later);
    while (rc == -XEN_EAGAIN);
    return rc;
}

int pv_entry_update_foreign(struct domain *d, struct domain *pg_owner, u64 *slot,
                            unsigned int level, unsigned int index, u64 nval, bool preserve_ad)
{
    return entry_update(d, pg_owner, slot, level, index, nval, preserve_ad, false, NULL);
}

int pv_entry_update(struct domain *d, u64 *slot, unsigned int level, unsigned int index,
                    u64 nval, bool preserve_ad)
{
    return pv_entry_update_foreign(d, d, slot, level, index, nval, preserve_ad);
}

unsigned int pv_table_level(const struct page_info *pg)
{
    unsigned long t = READ_ONCE(pg->u.type_info);

    if (!(t & PGT_validated) || !(t & PGT_count_mask))
        return 0;
    return pgt_level(t);
}

/* ------------------------------------------------- runs of mmu_update */

void pv_pt_writer_done(struct pv_pt_writer *w)
{
    struct page_info *pg = w->held;

    if (!pg)
        return;
    w->held = NULL;
    if (w->held_level)
        put_page_type(pg);
    else
        put_page_type_keel_write(pg);
    put_page(pg);
}

/* References on the frame of a request: a validated table in use keeps
 * its type; any other frame takes the writable type. */
static int writer_hold(struct pv_pt_writer *w, mfn_t mfn)
{
    struct page_info *pg = ram_page(mfn);
    unsigned int level;

    if (!pg || !get_page(pg, w->pt_owner))
        return -XEN_EINVAL;
    level = pv_table_level(pg);
    if (!level || !get_page_type(pg, pgt_of_level(level))) {
        level = 0;
        if (!get_page_type_keel_write(pg)) {
            put_page(pg);
            return -XEN_EINVAL;
        }
    }
    w->held = pg;
    w->held_level = level;
    return 0;
}

int pv_pt_write(struct pv_pt_writer *w, u64 maddr, u64 val, bool preserve_ad)
{
    unsigned int index = (maddr & (PAGE_SIZE - 1)) >> 3;
    mfn_t mfn = maddr >> PAGE_SHIFT;
    u64 *slot;
    int rc;

    if (!w->held || page_to_mfn(w->held) != mfn) {
        pv_pt_writer_done(w);
        if ((rc = writer_hold(w, mfn)))
            return rc;
    }
    slot = (u64 *)mfn_to_virt(mfn) + index;
    if (!w->held_level) {
        WRITE_ONCE(*slot, val);
        return 0;
    }
    if (w->translate && (rc = w->translate(w, &val)))
        return rc;
    return entry_update(w->pt_owner, w->pg_owner, slot, w->held_level, index, val, preserve_ad,
                        w->preemptible, w->preemptible ? w->later : NULL);
}

/* ------------------------------------------------------------ type hooks */

#ifdef KEEL_HOST
/* Unit tests that do not exercise these still link this file. */
__attribute__((weak)) bool pv_mm_arch_privileged(const struct domain *d)
{
    (void)d;
    return false;
}
__attribute__((weak)) bool pv_mm_arch_io_frame(mfn_t mfn)
{
    (void)mfn;
    return false;
}
__attribute__((weak)) bool pv_mm_arch_io_frame_ro(mfn_t mfn)
{
    (void)mfn;
    return false;
}
__attribute__((weak)) void pv_mm_arch_keel_slots(u64 *l4) { (void)l4; }
__attribute__((weak)) bool pv_mm_arch_should_yield(void) { return false; }
#endif

static int entry_get(struct domain *d, struct domain *pg_owner, u64 e, unsigned int level,
                     mfn_t table, bool preemptible)
{
    return level == 1 ? pv_l1e_get_foreign(d, pg_owner, e)
                      : lnext_get(d, e, level, table, preemptible);
}

static void entry_put(u64 e, unsigned int level, mfn_t table)
{
    if (level == 1)
        pv_l1e_put(e);
    else
        pv_lnext_put(e, level, table);
}

static bool slot_is_guests(unsigned int level, unsigned int i)
{
    return level != 4 || !l4_slot_is_keel(i);
}

/* Most entries of a table are empty: they hold nothing, so both loops
 * pass over them without a call. */
static void release_entries(u64 *t, unsigned int level, unsigned int upto)
{
    mfn_t table = virt_to_mfn(t);

    for (unsigned int i = 0; i < upto; i++) {
        u64 e = READ_ONCE(t[i]);

        if ((e & PTE_P) && slot_is_guests(level, i))
            entry_put(e, level, table);
    }
}

/* The child an Ln entry names is a partial table of level n-1 (a refusal
 * or stop left it so). */
static bool child_partial(u64 e, unsigned int level)
{
    struct page_info *c;

    if (level < 2 || !(e & PTE_P) || !(c = ram_page(pte_mfn(e))))
        return false;
    unsigned long t = READ_ONCE(c->u.type_info);
    return (t & PGT_partial) && (t & PGT_type_mask) == pgt_of_level(level - 1);
}

/*
 * The frame has no writable mapping and is reachable by no live table
 * (its type count was 0, or it is ours as PGT_partial's), so nothing but
 * Keel changes it meanwhile; the entries are rewritten in their adjusted
 * form as they are accepted.  Goes on from pg->nr_validated (0 for a
 * fresh start).  Preemptible, it stops before an entry when work is
 * pending, never before the first of this call (each call makes
 * progress: an L1 is checked whole), or when a child table stopped;
 * either way the entries before nr_validated keep what they hold
 * (Xen's PGT_partial).  A refusal drops what every earlier entry took,
 * those of earlier calls included.
 */
static int validate_table(struct page_info *pg, unsigned long type, bool preemptible)
{
    unsigned int level = pgt_level(type), start = pg->nr_validated & ~PG_NR_PARTIAL_CHILD;

    if (start == PG_NR_ALL)
        start = PT_SLOTS; /* kept whole (put_page_type_keep) */
    struct domain *d = pg->owner;
    mfn_t mfn = page_to_mfn(pg);
    u64 *t;

    if (!level) /* a GDT/LDT page: every descriptor must be safe */
        return desc_page_check(mfn_to_virt(page_to_mfn(pg)));
    if (!d)
        return -XEN_EINVAL;
    BUG_ON(start > PT_SLOTS || (start && level == 1)); /* an L1 never stops */
    /* Writable a moment ago?  get_page_type flushed every CPU that may
     * still hold such a mapping before asking us. */
    t = mfn_to_virt(mfn);
    for (unsigned int i = start; i < PT_SLOTS; i++) {
        u64 e = READ_ONCE(t[i]), a;
        int rc;

        /* Not present: accepted as it is (the adjustments leave it). */
        if (!(e & PTE_P) || !slot_is_guests(level, i))
            continue;
        if (preemptible && level > 1 && i > start && pv_mm_arch_should_yield()) {
            pg->nr_validated = i;
            return -KEEL_ERESTART;
        }
        rc = entry_get(d, d, e, level, mfn, preemptible && level > 1);
        if (rc == -KEEL_ERESTART) {
            pg->nr_validated = i | PG_NR_PARTIAL_CHILD; /* the child stopped */
            return rc;
        }
        if (rc) {
            printk(KLOG_DEBUG "pv_mm: mfn %lx as L%u: entry %u (%016lx) refused (%d)\n",
                   (unsigned long)mfn, level, i, (unsigned long)e, rc);
            if (preemptible && level > 1) {
                /* As Xen: the entries before keep theirs (a refusing
                 * child may be partial too); the frame table makes this
                 * table partial and its caller releases it preemptibly. */
                pg->nr_validated = i | (child_partial(e, level) ? PG_NR_PARTIAL_CHILD : 0);
                return rc;
            }
            release_entries(t, level, i);
            pg->nr_validated = 0;
            return rc;
        }
        a = adjust(e, level);
        if (a != e)
            WRITE_ONCE(t[i], a);
    }
    if (level == 4)
        pv_mm_arch_keel_slots(t);
    return 0;
}

/* A child table left PGT_partial at entry n by this table's own stop:
 * finish releasing it first (unless someone took it over meanwhile). */
static int release_stopped_child(u64 *t, unsigned int level, unsigned int n, bool preemptible)
{
    u64 e = READ_ONCE(t[n]);
    struct page_info *child;

    if (!(e & PTE_P) || !slot_is_guests(level, n) || !(child = ram_page(pte_mfn(e))))
        return 0;
    if ((READ_ONCE(child->u.type_info) & PGT_type_mask) != pgt_of_level(level - 1))
        return 0;
    return page_release_partial(child, preemptible);
}

/*
 * Drops what the first pg->nr_validated entries hold, last first (Xen's
 * order).  Preemptible (L2-L4), it stops before an entry when work is
 * pending, never before the first of this call (every call makes
 * progress: an L1 is released whole), or when a child's release stopped;
 * pg->nr_validated then says which entries still hold theirs.  CPUs may
 * still walk through the table: the frame table stamps it after this, and
 * flushes them before it can take another type.  (A partial one was never
 * reachable.)
 */
static int release_table(struct page_info *pg, unsigned long type, bool preemptible)
{
    unsigned int level = pgt_level(type), nr = pg->nr_validated;
    unsigned int n = nr & ~PG_NR_PARTIAL_CHILD;
    mfn_t mfn = page_to_mfn(pg);
    u64 *t = mfn_to_virt(mfn);
    bool moved = false;

    if (!level)
        return 0;
    if (n > PT_SLOTS)
        n = PT_SLOTS;
    preemptible = preemptible && level > 1;
    if ((nr & PG_NR_PARTIAL_CHILD) && n < PT_SLOTS && level > 1) {
        if (release_stopped_child(t, level, n, preemptible) == -KEEL_ERESTART)
            return -KEEL_ERESTART;
        pg->nr_validated = n;
        moved = true;
    }
    for (unsigned int i = n; i-- > 0;) {
        u64 e = READ_ONCE(t[i]);

        if (!(e & PTE_P) || !slot_is_guests(level, i))
            continue;
        if (preemptible && moved && pv_mm_arch_should_yield()) {
            pg->nr_validated = i + 1;
            return -KEEL_ERESTART;
        }
        moved = true;
        if (level == 1)
            pv_l1e_put(e);
        else if (lnext_put(e, level, mfn, preemptible, NULL) == -KEEL_ERESTART) {
            pg->nr_validated = i | PG_NR_PARTIAL_CHILD;
            return -KEEL_ERESTART;
        }
    }
    return 0;
}

static const struct page_type_ops pv_type_ops = {
    .validate = validate_table,
    .release = release_table,
    .should_yield = pv_mm_arch_should_yield,
};

void pv_mm_init(void)
{
    page_type_set_ops(&pv_type_ops);
}
