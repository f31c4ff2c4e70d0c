/*
 * The p2m of a translated domain as 4-level nested page tables
 * (keel/p2m.h).  Leaves are 4 KiB; the tables are only ever added to
 * while the domain lives and all go at p2m_destroy.  Nested walks are
 * user-mode accesses, so every level carries U; the type lives in bits
 * the CPU ignores (52-55).
 */
#include <keel/frametable.h>
#include <keel/p2m.h>
#include <keel/page_alloc.h>
#include <xen/errno.h>

#define NPT_P 0x1ULL
#define NPT_RW 0x2ULL
#define NPT_US 0x4ULL
#define NPT_A 0x20ULL
#define NPT_D 0x40ULL
#define NPT_PS 0x80ULL
#define NPT_TABLE (NPT_P | NPT_RW | NPT_US | NPT_A)
#define NPT_TYPE_SHIFT 52
#define NPT_TYPE_MASK (0xfULL << NPT_TYPE_SHIFT)
#define NPT_ADDR_MASK 0x000ffffffffff000ULL
#define ENTRIES 512

static u64 *table_va(mfn_t mfn)
{
    return mfn_to_virt(mfn);
}

static bool type_writable(enum p2m_type t)
{
    return t == p2m_ram_rw || t == p2m_special || t == p2m_grant_rw;
}

u64 p2m_leaf(mfn_t mfn, enum p2m_type t)
{
    u64 e = ((u64)mfn << PAGE_SHIFT) | NPT_P | NPT_US | NPT_A | NPT_D |
            ((u64)t << NPT_TYPE_SHIFT);

    return type_writable(t) ? e | NPT_RW : e;
}

static enum p2m_type leaf_type(u64 e)
{
    return (enum p2m_type)((e & NPT_TYPE_MASK) >> NPT_TYPE_SHIFT);
}

static mfn_t entry_mfn(u64 e)
{
    return (mfn_t)((e & NPT_ADDR_MASK) >> PAGE_SHIFT);
}

static unsigned int index_at(u64 gfn, unsigned int level)
{
    return (unsigned int)(gfn >> (9 * level)) & (ENTRIES - 1);
}

/* A zeroed table frame from the pool: false when none. */
static bool table_alloc(struct p2m *p, mfn_t *out)
{
    struct page_info *pg;

    if (p->nr_tables >= p->pool_frames)
        return false;
    pg = alloc_pages(0);
    if (!pg)
        return false;
    memset(table_va(page_to_mfn(pg)), 0, PAGE_SIZE);
    p->nr_tables++;
    *out = page_to_mfn(pg);
    return true;
}

int p2m_init(struct p2m *p)
{
    memset(p, 0, sizeof(*p));
    p->lock = (spinlock_t)SPINLOCK_INIT;
    p->pool_frames = P2M_POOL_MIN;
    p->ready = table_alloc(p, &p->root);
    return p->ready ? 0 : -XEN_ENOMEM;
}

/* The L1 entry of gfn; with `make`, missing tables are added.  NULL when
 * absent (or no table could be had: *rc says which). */
static u64 *leaf_slot(struct p2m *p, u64 gfn, bool make, int *rc)
{
    mfn_t t = p->root;

    *rc = 0;
    for (unsigned int level = 3; level > 0; level--) {
        u64 *e = &table_va(t)[index_at(gfn, level)];
        u64 v = READ_ONCE(*e);

        if (!(v & NPT_P)) {
            mfn_t n;
            if (!make)
                return NULL;
            if (!table_alloc(p, &n)) {
                *rc = -XEN_ENOMEM;
                return NULL;
            }
            v = ((u64)n << PAGE_SHIFT) | NPT_TABLE;
            WRITE_ONCE(*e, v);
        }
        t = entry_mfn(v);
    }
    return &table_va(t)[index_at(gfn, 0)];
}

static void report_old(u64 old, mfn_t *old_mfn, enum p2m_type *old_t)
{
    if (old_mfn)
        *old_mfn = (old & NPT_P) ? entry_mfn(old) : P2M_INVALID_MFN;
    if (old_t)
        *old_t = (old & NPT_P) ? leaf_type(old) : p2m_none;
}

/* Writes gfn's leaf (adding tables): 0 or -XEN_ENOMEM.  Under p->lock. */
static int set_locked(struct p2m *p, u64 gfn, mfn_t mfn, enum p2m_type t, u64 *old)
{
    u64 *slot;
    int rc;

    slot = leaf_slot(p, gfn, true, &rc);
    if (!slot)
        return rc;
    *old = READ_ONCE(*slot);
    WRITE_ONCE(*slot, p2m_leaf(mfn, t));
    if (!(*old & NPT_P))
        p->nr_entries++;
    else
        p->generation++; /* a translation changed under the guest's TLB */
    if (gfn > p->max_gfn)
        p->max_gfn = gfn;
    return 0;
}

static bool set_args_ok(u64 gfn, mfn_t mfn, enum p2m_type t)
{
    return gfn < P2M_MAX_GFN && t != p2m_none && t < p2m_nr_types &&
           !(((u64)mfn << PAGE_SHIFT) & ~NPT_ADDR_MASK);
}

int p2m_set(struct p2m *p, u64 gfn, mfn_t mfn, enum p2m_type t, mfn_t *old_mfn,
            enum p2m_type *old_t)
{
    unsigned long f;
    u64 old = 0;
    int rc;

    if (!set_args_ok(gfn, mfn, t))
        return -XEN_EINVAL;
    f = spin_lock_irqsave(&p->lock);
    rc = set_locked(p, gfn, mfn, t, &old);
    spin_unlock_irqrestore(&p->lock, f);
    if (!rc)
        report_old(old, old_mfn, old_t);
    return rc;
}

/* gfn's present leaf slot, or NULL.  Under p->lock. */
static u64 *present_slot(struct p2m *p, u64 gfn, u64 *e)
{
    u64 *slot;
    int rc;

    *e = 0;
    if (gfn >= P2M_MAX_GFN)
        return NULL;
    slot = leaf_slot(p, gfn, false, &rc);
    if (slot)
        *e = READ_ONCE(*slot);
    return (*e & NPT_P) ? slot : NULL;
}

static void clear_locked(struct p2m *p, u64 *slot)
{
    WRITE_ONCE(*slot, 0);
    p->nr_entries--;
    p->generation++;
}

int p2m_clear(struct p2m *p, u64 gfn, mfn_t *old_mfn, enum p2m_type *old_t)
{
    return p2m_take(p, gfn, ~0U, P2M_INVALID_MFN, old_mfn, old_t);
}

int p2m_take(struct p2m *p, u64 gfn, unsigned int types, mfn_t mfn, mfn_t *old_mfn,
             enum p2m_type *old_t)
{
    unsigned long f;
    u64 *slot, e;
    int rc = -XEN_ENOENT;

    f = spin_lock_irqsave(&p->lock);
    slot = present_slot(p, gfn, &e);
    if (slot) {
        rc = -XEN_EINVAL;
        if ((types & P2M_TYPE_BIT(leaf_type(e))) &&
            (mfn == P2M_INVALID_MFN || entry_mfn(e) == mfn)) {
            clear_locked(p, slot);
            rc = 0;
        }
    }
    spin_unlock_irqrestore(&p->lock, f);
    report_old(e, old_mfn, old_t);
    return rc;
}

int p2m_grant_place(struct p2m *p, u64 gfn, mfn_t mfn, bool ro, u64 alias, bool *dealiased,
                    mfn_t *old_mfn, enum p2m_type *old_t)
{
    enum p2m_type t = ro ? p2m_grant_ro : p2m_grant_rw;
    unsigned long f;
    u64 *slot, e, old = 0;
    int rc = 0;

    *dealiased = false;
    f = spin_lock_irqsave(&p->lock);
    if (present_slot(p, gfn, &e) && (P2M_GRANT_TYPES & P2M_TYPE_BIT(leaf_type(e))))
        rc = -XEN_EPERM;
    if (!rc && alias != gfn && (slot = present_slot(p, alias, &e)) &&
        leaf_type(e) == p2m_ram_rw && entry_mfn(e) == mfn) {
        clear_locked(p, slot);
        *dealiased = true;
    }
    if (!rc)
        rc = set_args_ok(gfn, mfn, t) ? set_locked(p, gfn, mfn, t, &old) : -XEN_EINVAL;
    spin_unlock_irqrestore(&p->lock, f);
    report_old(old, old_mfn, old_t);
    return rc;
}

mfn_t p2m_lookup(struct p2m *p, u64 gfn, enum p2m_type *t)
{
    unsigned long f;
    u64 *slot, e = 0;
    int rc;

    if (gfn < P2M_MAX_GFN && p->ready) {
        f = spin_lock_irqsave(&p->lock);
        slot = leaf_slot(p, gfn, false, &rc);
        if (slot)
            e = READ_ONCE(*slot);
        spin_unlock_irqrestore(&p->lock, f);
    }
    if (t)
        *t = (e & NPT_P) ? leaf_type(e) : p2m_none;
    return (e & NPT_P) ? entry_mfn(e) : P2M_INVALID_MFN;
}

/* Remove and report leaves from *cursor on, at most *budget of them. */
static bool drain_table(struct p2m *p, mfn_t t, unsigned int level, u64 base, u64 *cursor,
                        unsigned long *budget,
                        void (*each)(void *, u64, mfn_t, enum p2m_type), void *ctx)
{
    u64 *tab = table_va(t);
    u64 span = 1ULL << (9 * level);

    for (unsigned int i = 0; i < ENTRIES; i++) {
        u64 gfn = base + i * span, e = READ_ONCE(tab[i]);

        if (gfn + span <= *cursor || !(e & NPT_P))
            continue;
        if (level) {
            if (!drain_table(p, entry_mfn(e), level - 1, gfn, cursor, budget, each, ctx))
                return false;
            continue;
        }
        if (!*budget)
            return false;
        WRITE_ONCE(tab[i], 0);
        p->nr_entries--;
        p->generation++;
        (*budget)--;
        *cursor = gfn + 1;
        if (each)
            each(ctx, gfn, entry_mfn(e), leaf_type(e));
    }
    return true;
}

int p2m_drain(struct p2m *p, u64 *cursor, unsigned long budget,
              void (*each)(void *ctx, u64 gfn, mfn_t mfn, enum p2m_type t), void *ctx)
{
    unsigned long f;
    bool done;

    if (!p->ready)
        return 0;
    /* each() runs under the lock: it must not come back into the p2m. */
    f = spin_lock_irqsave(&p->lock);
    done = drain_table(p, p->root, 3, 0, cursor, &budget, each, ctx);
    spin_unlock_irqrestore(&p->lock, f);
    return done ? 0 : 1;
}

static void free_tables(struct p2m *p, mfn_t t, unsigned int level)
{
    u64 *tab = table_va(t);

    for (unsigned int i = 0; level && i < ENTRIES; i++)
        if (tab[i] & NPT_P)
            free_tables(p, entry_mfn(tab[i]), level - 1);
    free_pages(mfn_to_page(t), 0);
    p->nr_tables--;
}

void p2m_destroy(struct p2m *p)
{
    if (!p->ready)
        return;
    free_tables(p, p->root, 3);
    p->ready = false;
    p->nr_entries = 0;
}

int p2m_set_pool(struct p2m *p, unsigned long frames)
{
    unsigned long f = spin_lock_irqsave(&p->lock);

    /* Tables in use stay: a smaller pool stops at them, as Xen's does. */
    p->pool_frames = MAX(frames, p->nr_tables);
    spin_unlock_irqrestore(&p->lock, f);
    return 0;
}

static int verify_table(const struct p2m *p, mfn_t t, unsigned int level,
                        unsigned long *tables, unsigned long *leaves)
{
    const u64 *tab = table_va(t);

    (*tables)++;
    for (unsigned int i = 0; i < ENTRIES; i++) {
        u64 e = tab[i];
        if (!(e & NPT_P)) {
            if (e)
                return -1; /* stale bits in an absent entry */
            continue;
        }
        if (!(e & NPT_US) || (e & NPT_PS))
            return -1;
        if (level) {
            if ((e & ~NPT_ADDR_MASK) != NPT_TABLE || !mfn_valid(entry_mfn(e)))
                return -1;
            if (verify_table(p, entry_mfn(e), level - 1, tables, leaves))
                return -1;
            continue;
        }
        if (leaf_type(e) == p2m_none || leaf_type(e) >= p2m_nr_types ||
            e != p2m_leaf(entry_mfn(e), leaf_type(e)))
            return -1;
        (*leaves)++;
    }
    return 0;
}

int p2m_verify(struct p2m *p)
{
    unsigned long tables = 0, leaves = 0;

    if (!p->ready)
        return p->nr_tables || p->nr_entries ? -1 : 0;
    if (verify_table(p, p->root, 3, &tables, &leaves))
        return -1;
    if (tables != p->nr_tables || leaves != p->nr_entries || tables > p->pool_frames)
        return -1;
    return 0;
}
