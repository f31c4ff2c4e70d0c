/*
 * Grant tables v1: the core (see keel/grant_table.h for references and
 * locks).  Free of guest pointers and hardware: the hypercall layer
 * (grant_table_op.c) copies operations in and out and names the tables;
 * the arch supplies the walk of the current page tables (linear-address
 * mappings) and the TLB flush.  Compiles on the host for unit tests.
 *
 * Trust: the shared entries live in guest memory and change under our
 * feet.  Their flags+domid word is only ever updated by compare-exchange,
 * each decision made on the value the exchange saw (never a second read);
 * the frame field is read once, after the exchange that pinned it.
 */
#include <keel/console.h>
#include <keel/frametable.h>
#include <keel/grant_table.h>
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

#ifdef KEEL_HOST
static void *gt_zalloc(size_t n) { return calloc(1, n); }
static void gt_free(void *p) { free(p); }
#else
#include <keel/mm.h>
#define gt_zalloc xzalloc
#define gt_free xfree
#endif

#define MAPPING_BITS (GNTMAP_device_map | GNTMAP_host_map)
#define WRITE_PINS (GNTPIN_hstw_mask | GNTPIN_devw_mask)
#define PIN_OVERFLOW 0x80808080U /* any counter at half range: refuse more */

/* ------------------------------------------------------------ storage */

/* One zeroed page of Keel's for active or maptrack entries. */
static void *chunk_alloc(void)
{
    struct page_info *pg = alloc_pages(0);
    void *p;

    if (!pg)
        return NULL;
    p = mfn_to_virt(page_to_mfn(pg));
    memset(p, 0, PAGE_SIZE);
    return p;
}

static void chunk_free(void *p)
{
    if (p)
        free_pages(mfn_to_page(virt_to_mfn(p)), 0);
}

static struct gnttab_active *active_of(struct grant_table *gt, grant_ref_t ref)
{
    return &gt->active[ref / GNTTAB_CHUNK][ref % GNTTAB_CHUNK];
}

static grant_entry_v1_t *shared_of(struct grant_table *gt, grant_ref_t ref)
{
    return (grant_entry_v1_t *)mfn_to_virt(gt->frames[ref / GNTTAB_PER_FRAME]) +
           ref % GNTTAB_PER_FRAME;
}

static struct gnttab_maptrack *mt_of(struct grant_table *gt, u32 handle)
{
    return &gt->maptrack[handle / GNTTAB_CHUNK][handle % GNTTAB_CHUNK];
}

static unsigned int nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * GNTTAB_PER_FRAME;
}

/* ------------------------------------------------------- table lifetime */

struct grant_table *gnttab_create(struct domain *owner, domid_t domid,
                                  unsigned int max_frames, unsigned int max_maptrack_frames)
{
    struct grant_table *gt;

    if (max_frames > GNTTAB_MAX_FRAMES || max_maptrack_frames > GNTTAB_MAX_MAPTRACK_FRAMES)
        return NULL;
    gt = gt_zalloc(sizeof(*gt));
    if (!gt)
        return NULL;
    gt->lock = (spinlock_t)SPINLOCK_INIT;
    gt->maptrack_lock = (spinlock_t)SPINLOCK_INIT;
    gt->refcnt = 1;
    gt->owner = owner;
    gt->domid = domid;
    gt->max_frames = max_frames;
    gt->maptrack_max = max_maptrack_frames * GNTTAB_MAPTRACK_PER_FRAME;
    gt->maptrack_free = GNTTAB_MAPTRACK_END;
    return gt;
}

void gnttab_get(struct grant_table *gt)
{
    unsigned int old = __atomic_fetch_add(&gt->refcnt, 1, __ATOMIC_ACQUIRE);

    BUG_ON(old == 0);
}

/* The frames go back to the owner's accounting (page_unassign) once. */
static void release_frames_locked(struct grant_table *gt)
{
    if (gt->dead)
        return;
    gt->dead = true;
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        page_unassign(mfn_to_page(gt->frames[i]));
}

static void table_free(struct grant_table *gt)
{
    release_frames_locked(gt);
    /* Keel's own references: the frames stay while anyone maps them. */
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        put_page_and_type(mfn_to_page(gt->frames[i]));
    for (unsigned int i = 0; i < GNTTAB_ACTIVE_CHUNKS; i++)
        chunk_free(gt->active[i]);
    for (unsigned int i = 0; i < GNTTAB_MAX_MAPTRACK_FRAMES; i++)
        chunk_free(gt->maptrack[i]);
    gt_free(gt);
}

void gnttab_put(struct grant_table *gt)
{
    unsigned int old = __atomic_fetch_sub(&gt->refcnt, 1, __ATOMIC_ACQ_REL);

    BUG_ON(old == 0);
    if (old == 1)
        table_free(gt);
}

#ifdef KEEL_HOST
__attribute__((weak)) void gnttab_arch_new_frame(mfn_t mfn) { (void)mfn; }
__attribute__((weak)) void gnttab_arch_flush_all(void) {}
__attribute__((weak)) struct page_info *gnttab_arch_va_l1(struct domain *ld, u64 va,
                                                          u64 **slot)
{
    (void)ld, (void)va, (void)slot;
    return NULL;
}
#endif

/* One more shared frame, with its active entries.  Under gt->lock. */
static int add_frame_locked(struct grant_table *gt)
{
    unsigned int f = gt->nr_frames;
    unsigned int c0 = f * GNTTAB_PER_FRAME / GNTTAB_CHUNK;
    struct page_info *pg;
    mfn_t mfn;

    for (unsigned int c = c0; c < c0 + GNTTAB_PER_FRAME / GNTTAB_CHUNK; c++)
        if (!gt->active[c] && !(gt->active[c] = chunk_alloc()))
            return -XEN_ENOMEM;
    pg = alloc_pages(0);
    if (!pg)
        return -XEN_ENOMEM;
    mfn = page_to_mfn(pg);
    memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
    gnttab_arch_new_frame(mfn);
    if (!page_assign(pg, gt->owner)) { /* the owner is dying: no new frame */
        free_pages(pg, 0);
        return -XEN_EINVAL;
    }
    /* Keel writes into it: the writable type keeps it from becoming a
     * page table or descriptor page while the table exists. */
    BUG_ON(!get_page_and_type(pg, gt->owner, PGT_writable_page));
    gt->frames[f] = mfn;
    /* Publish the frame before the count lockless readers use. */
    __atomic_store_n(&gt->nr_frames, f + 1, __ATOMIC_RELEASE);
    return 0;
}

static int grow_locked(struct grant_table *gt, unsigned int nr)
{
    int rc = 0;

    if (gt->dead || nr > gt->max_frames)
        return -XEN_EINVAL;
    while (!rc && gt->nr_frames < nr)
        rc = add_frame_locked(gt);
    return rc;
}

int gnttab_grow(struct grant_table *gt, unsigned int nr)
{
    int rc;

    spin_lock(&gt->lock);
    rc = grow_locked(gt, nr);
    spin_unlock(&gt->lock);
    return rc;
}

int gnttab_frame_mfns(struct grant_table *gt, unsigned int first, unsigned int n, mfn_t *out)
{
    int rc = 0;

    if (n == 0)
        return 0;
    if (first + n < first)
        return -XEN_EINVAL;
    spin_lock(&gt->lock);
    if (first + n > gt->nr_frames)
        rc = grow_locked(gt, first + n);
    if (!rc)
        memcpy(out, &gt->frames[first], n * sizeof(*out));
    spin_unlock(&gt->lock);
    return rc;
}

bool gnttab_has_frame(const struct grant_table *gt, mfn_t mfn)
{
    unsigned int n = __atomic_load_n(&gt->nr_frames, __ATOMIC_ACQUIRE);

    for (unsigned int i = 0; i < n; i++)
        if (gt->frames[i] == mfn)
            return true;
    return false;
}

unsigned int gnttab_nr_frames(const struct grant_table *gt)
{
    return __atomic_load_n(&gt->nr_frames, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ maptrack */

static bool mt_grow_locked(struct grant_table *gt)
{
    struct gnttab_maptrack *chunk;
    unsigned int base = gt->maptrack_limit;

    if (base >= gt->maptrack_max || !(chunk = chunk_alloc()))
        return false;
    for (unsigned int i = 0; i < GNTTAB_CHUNK; i++)
        chunk[i].ref = i + 1 < GNTTAB_CHUNK ? base + i + 1 : gt->maptrack_free;
    gt->maptrack[base / GNTTAB_CHUNK] = chunk;
    gt->maptrack_free = base;
    __atomic_store_n(&gt->maptrack_limit, base + GNTTAB_CHUNK, __ATOMIC_RELEASE);
    return true;
}

/* A reserved handle (flags BUSY, no mapping yet), or GNTTAB_MAPTRACK_END. */
static u32 mt_get(struct grant_table *gt)
{
    u32 h = GNTTAB_MAPTRACK_END;

    spin_lock(&gt->maptrack_lock);
    if (gt->maptrack_free != GNTTAB_MAPTRACK_END || mt_grow_locked(gt)) {
        struct gnttab_maptrack *e;
        h = gt->maptrack_free;
        e = mt_of(gt, h);
        gt->maptrack_free = e->ref;
        *e = (struct gnttab_maptrack){.flags = GNTTAB_MT_BUSY};
        gt->maptrack_used++;
    }
    spin_unlock(&gt->maptrack_lock);
    return h;
}

static void mt_put_locked(struct grant_table *gt, u32 h)
{
    struct gnttab_maptrack *e = mt_of(gt, h);

    *e = (struct gnttab_maptrack){.ref = gt->maptrack_free};
    gt->maptrack_free = h;
    gt->maptrack_used--;
}

static void mt_put(struct grant_table *gt, u32 h)
{
    spin_lock(&gt->maptrack_lock);
    mt_put_locked(gt, h);
    spin_unlock(&gt->maptrack_lock);
}

/* ------------------------------------------------- shared-entry flags */

/*
 * Sets GTF_reading (and GTF_writing) in a shared entry, checking its type
 * and domid first unless the entry is already pinned.  The guest may race
 * us; a few lost exchanges are tolerated, after that it is misbehaving.
 */
static s16 set_status(grant_entry_v1_t *sh, bool pinned, bool ro, bool mapping,
                      domid_t ldomid)
{
    u32 *word = (u32 *)sh; /* flags in the low half, domid in the high */
    u16 mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    u32 cur = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    BUILD_BUG_ON(offsetof(grant_entry_v1_t, flags) != 0);
    BUILD_BUG_ON(offsetof(grant_entry_v1_t, domid) != 2);
    for (unsigned int tries = 0;; tries++) {
        u16 flags = (u16)cur;
        u32 want = cur | GTF_reading;

        if (!pinned && ((flags & mask) != GTF_permit_access || (domid_t)(cur >> 16) != ldomid))
            return GNTST_general_error;
        if (!ro) {
            if (flags & GTF_readonly)
                return GNTST_general_error;
            want |= GTF_writing;
        }
        if (__atomic_compare_exchange_n(word, &cur, want, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return GNTST_okay;
        if (tries == 4)
            return GNTST_general_error;
    }
}

/* After pins went down: the guest learns the entry is no longer read or
 * written through (so it may reuse the frame). */
static void reduce_status(grant_entry_v1_t *sh, const struct gnttab_active *act, bool ro)
{
    u16 clear = 0;

    if (!act->pin)
        clear |= GTF_reading;
    if (!ro && !(act->pin & WRITE_PINS))
        clear |= GTF_writing;
    if (clear)
        __atomic_fetch_and(&sh->flags, (u16)~clear, __ATOMIC_ACQ_REL);
}

/* The frame a first pin grants: RAM the granting domain owns, referenced. */
static struct page_info *granted_frame(struct grant_table *gt, grant_entry_v1_t *sh)
{
    mfn_t mfn = __atomic_load_n(&sh->frame, __ATOMIC_ACQUIRE);
    struct page_info *pg;

    if (gt->gfn_to_mfn)
        mfn = gt->gfn_to_mfn(gt->owner, mfn);
    if (!mfn_valid(mfn))
        return NULL;
    pg = mfn_to_page(mfn);
    return get_page(pg, gt->owner) ? pg : NULL;
}

/* ----------------------------------------------------------------- map */

static u32 pin_incs(unsigned int flags)
{
    bool ro = flags & GNTMAP_readonly;
    u32 inc = 0;

    if (flags & GNTMAP_device_map)
        inc += ro ? GNTPIN_devr_inc : GNTPIN_devw_inc;
    if (flags & GNTMAP_host_map)
        inc += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
    return inc;
}

/* References one mapping holds: a general one per kind (host, device), and
 * a writable type one per kind when writable.  One general is held. */
static bool take_mapping_refs(struct page_info *pg, struct domain *owner, unsigned int flags)
{
    unsigned int kinds = !!(flags & GNTMAP_device_map) + !!(flags & GNTMAP_host_map);
    unsigned int g = 1, t = 0;

    while (g < kinds && get_page(pg, owner))
        g++;
    if (g == kinds && !(flags & GNTMAP_readonly))
        while (t < kinds && get_page_type(pg, PGT_writable_page))
            t++;
    if (g == kinds && (t == kinds || (flags & GNTMAP_readonly)))
        return true;
    while (t--)
        put_page_type(pg);
    while (g--)
        put_page(pg);
    return false;
}

static void drop_mapping_refs(struct page_info *pg, unsigned int flags)
{
    unsigned int kinds = !!(flags & GNTMAP_device_map) + !!(flags & GNTMAP_host_map);

    for (unsigned int i = 0; i < kinds; i++) {
        if (!(flags & GNTMAP_readonly))
            put_page_type(pg);
        put_page(pg);
    }
}

/* Pins rgt's `ref` for a mapping by `ldomid` and takes the mapping's frame
 * references.  Under rgt->lock. */
static s16 pin_for_map(struct grant_table *rgt, domid_t ldomid, grant_ref_t ref,
                       unsigned int flags, mfn_t *mfn)
{
    bool ro = flags & GNTMAP_readonly;
    struct gnttab_active *act;
    grant_entry_v1_t *sh;
    struct page_info *pg;
    s16 rc;

    if (rgt->dead)
        return GNTST_general_error;
    if (ref >= nr_entries(rgt))
        return GNTST_bad_gntref;
    act = active_of(rgt, ref);
    sh = shared_of(rgt, ref);
    if (act->pin && (act->domid != ldomid || (act->pin & PIN_OVERFLOW)))
        return GNTST_general_error;
    if (!act->pin || (!ro && !(act->pin & WRITE_PINS))) {
        rc = set_status(sh, act->pin, ro, true, ldomid);
        if (rc)
            return rc;
    }
    if (!act->pin) {
        pg = granted_frame(rgt, sh);
        rc = GNTST_bad_page;
    } else {
        pg = mfn_to_page(act->mfn);
        pg = get_page(pg, rgt->owner) ? pg : NULL;
        rc = GNTST_general_error;
    }
    if (pg && !take_mapping_refs(pg, rgt->owner, flags)) {
        pg = NULL;
        rc = GNTST_general_error;
    }
    if (!pg) {
        reduce_status(sh, act, ro);
        return rc;
    }
    if (!act->pin) {
        act->mfn = page_to_mfn(pg);
        act->domid = ldomid;
    }
    act->pin += pin_incs(flags);
    *mfn = act->mfn;
    return GNTST_okay;
}

static void unpin(struct grant_table *rgt, grant_ref_t ref, unsigned int flags)
{
    struct gnttab_active *act;

    spin_lock(&rgt->lock);
    act = active_of(rgt, ref);
    BUG_ON(act->pin < pin_incs(flags));
    act->pin -= pin_incs(flags);
    reduce_status(shared_of(rgt, ref), act, flags & GNTMAP_readonly);
    spin_unlock(&rgt->lock);
}

/* The L1 page of ld named by a PTE's machine address, with a general and
 * L1 type reference, and the slot; NULL if it is not one of ld's L1s. */
static struct page_info *l1_by_maddr(struct domain *ld, u64 maddr, u64 **slot)
{
    mfn_t mfn = maddr >> PAGE_SHIFT;
    struct page_info *pg;

    if ((maddr & 7) || !mfn_valid(mfn))
        return NULL;
    pg = mfn_to_page(mfn);
    if (!get_page(pg, ld))
        return NULL;
    if (pv_table_level(pg) != 1 || !get_page_type(pg, PGT_l1_page_table)) {
        put_page(pg);
        return NULL;
    }
    *slot = (u64 *)mfn_to_virt(mfn) + ((maddr & (PAGE_SIZE - 1)) >> 3);
    return pg;
}

static struct page_info *host_slot(struct domain *ld, u64 addr, unsigned int flags, u64 **slot)
{
    if (flags & GNTMAP_contains_pte)
        return l1_by_maddr(ld, addr, slot);
    return gnttab_arch_va_l1(ld, addr, slot);
}

/* The L1 entry a host mapping writes (as Xen builds it: present, accessed,
 * dirty, user for application maps, the guest's avail bits 9-11). */
static u64 grant_pte(mfn_t mfn, unsigned int flags)
{
    u64 e = ((u64)mfn << PAGE_SHIFT) | PTE_P | PTE_A | PTE_D | PTE_GNTTAB;

    if (flags & GNTMAP_application_map)
        e |= PTE_US;
    if (!(flags & GNTMAP_readonly))
        e |= PTE_RW;
    e |= (u64)((flags >> _GNTMAP_guest_avail0) & 7) << 9;
    return pv_l1e_adjust(e);
}

/* Writes the grant PTE; the references it holds were taken already. */
static s16 host_map_create(struct domain *ld, u64 addr, unsigned int flags, mfn_t mfn)
{
    u64 *slot, old;
    struct page_info *l1 = host_slot(ld, addr, flags, &slot);

    if (!l1)
        return GNTST_general_error;
    old = __atomic_exchange_n(slot, grant_pte(mfn, flags), __ATOMIC_SEQ_CST);
    put_page_and_type(l1);
    if (old & PTE_P) {
        /* Whatever it mapped may be cached: gone everywhere before its
         * references are. */
        gnttab_arch_flush_all();
        pv_l1e_put(old);
    }
    return GNTST_okay;
}

s16 gnttab_map(struct grant_table *lgt, struct grant_table *rgt,
               struct gnttab_map_grant_ref *op)
{
    unsigned int flags = op->flags;
    struct gnttab_maptrack *e;
    mfn_t mfn = 0;
    bool pinned;
    u32 h;
    s16 rc;

    if (!(flags & MAPPING_BITS))
        return GNTST_bad_gntref;
    h = mt_get(lgt);
    if (h == GNTTAB_MAPTRACK_END)
        return GNTST_no_space;
    spin_lock(&rgt->lock);
    rc = pin_for_map(rgt, lgt->domid, op->ref, flags, &mfn);
    spin_unlock(&rgt->lock);
    pinned = !rc;
    if (!rc && (flags & GNTMAP_host_map))
        rc = host_map_create(lgt->owner, op->host_addr, flags, mfn);
    if (rc) {
        if (pinned) { /* but the PTE could not be written */
            unpin(rgt, op->ref, flags);
            drop_mapping_refs(mfn_to_page(mfn), flags);
        }
        mt_put(lgt, h);
        return rc;
    }
    gnttab_get(rgt); /* the handle's */
    spin_lock(&lgt->maptrack_lock);
    e = mt_of(lgt, h);
    *e = (struct gnttab_maptrack){
        .ref = op->ref,
        .flags = (u16)(flags & (MAPPING_BITS | GNTMAP_readonly | GNTMAP_application_map |
                                GNTMAP_contains_pte)),
        .domid = rgt->domid,
        .rgt = rgt,
    };
    spin_unlock(&lgt->maptrack_lock);
    op->dev_bus_addr = (u64)mfn << PAGE_SHIFT;
    op->handle = h;
    return GNTST_okay;
}

/* --------------------------------------------------------------- unmap */

/* Clears the PTE at addr if it maps `mfn` with the mapping's present and
 * writable bits (Xen's check); its references are the caller's to drop. */
static s16 host_map_remove(struct domain *ld, u64 addr, unsigned int flags, mfn_t mfn,
                           struct gnttab_unmap_done *done)
{
    u64 want = PTE_P | ((flags & GNTMAP_readonly) ? 0 : PTE_RW);
    u64 *slot, old;
    struct page_info *l1 = host_slot(ld, addr, flags, &slot);
    s16 rc = GNTST_general_error;

    if (!l1)
        return rc;
    old = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    while (pte_mfn(old) == mfn && !((old ^ want) & (PTE_P | PTE_RW))) {
        if (__atomic_compare_exchange_n(slot, &old, 0, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_ACQUIRE)) {
            rc = GNTST_okay;
            break;
        }
    }
    put_page_and_type(l1);
    if (flags & GNTMAP_contains_pte)
        done->full_flush = true;
    else
        done->va = addr;
    return rc;
}

/* Claims a live handle for unmapping (BUSY), copying its entry. */
static bool mt_claim(struct grant_table *lgt, u32 h, struct gnttab_maptrack *copy)
{
    struct gnttab_maptrack *e;
    bool ok = false;

    spin_lock(&lgt->maptrack_lock);
    if (h < lgt->maptrack_limit) {
        e = mt_of(lgt, h);
        ok = (e->flags & MAPPING_BITS) && !(e->flags & GNTTAB_MT_BUSY);
        if (ok) {
            *copy = *e;
            e->flags |= GNTTAB_MT_BUSY;
        }
    }
    spin_unlock(&lgt->maptrack_lock);
    return ok;
}

s16 gnttab_unmap(struct grant_table *lgt, const struct gnttab_unmap_grant_ref *op,
                 struct gnttab_unmap_done *done)
{
    struct gnttab_maptrack m, *e;
    unsigned int what = 0;
    mfn_t mfn;
    s16 rc = GNTST_okay;

    *done = (struct gnttab_unmap_done){0};
    if (!mt_claim(lgt, op->handle, &m))
        return GNTST_bad_handle;
    /* The handle's pin keeps the active entry (and its frame) put. */
    spin_lock(&m.rgt->lock);
    mfn = active_of(m.rgt, m.ref)->mfn;
    spin_unlock(&m.rgt->lock);
    if (op->dev_bus_addr && op->dev_bus_addr != (u64)mfn << PAGE_SHIFT)
        rc = GNTST_bad_dev_addr; /* Xen 4.17's answer */
    if (!rc && op->host_addr && (m.flags & GNTMAP_host_map)) {
        rc = host_map_remove(lgt->owner, op->host_addr, m.flags, mfn, done);
        if (!rc)
            what |= GNTMAP_host_map;
    }
    if (!rc && op->dev_bus_addr && (m.flags & GNTMAP_device_map))
        what |= GNTMAP_device_map;

    spin_lock(&lgt->maptrack_lock);
    e = mt_of(lgt, op->handle);
    e->flags = m.flags & ~what;
    if (!(e->flags & MAPPING_BITS)) {
        mt_put_locked(lgt, op->handle);
        done->put_rgt = true; /* the handle's table reference passes to done */
    }
    spin_unlock(&lgt->maptrack_lock);
    if (what) {
        done->rgt = m.rgt;
        done->ref = m.ref;
        done->mfn = mfn;
        done->what = (u16)(what | (m.flags & GNTMAP_readonly));
    }
    return rc;
}

void gnttab_unmap_complete(struct gnttab_unmap_done *done)
{
    if (!done->rgt)
        return;
    /* Pins first: our references keep the frame while they go down. */
    unpin(done->rgt, done->ref, done->what);
    drop_mapping_refs(mfn_to_page(done->mfn), done->what);
    if (done->put_rgt)
        gnttab_put(done->rgt);
    done->rgt = NULL;
}

/* ---------------------------------------------------------------- copy */

struct copy_buf {
    struct grant_table *gt; /* pinned ref of gt, or NULL: own frame */
    grant_ref_t ref;
    struct page_info *pg;   /* general reference held */
    bool ro, have_type;
};

/* Pins `ref` for a copy (reading, or writing) and references its frame. */
static s16 acquire_for_copy(struct grant_table *gt, grant_ref_t ref, domid_t ldomid,
                            bool ro, struct page_info **out)
{
    struct gnttab_active *act;
    grant_entry_v1_t *sh;
    struct page_info *pg;
    s16 rc = GNTST_okay;

    spin_lock(&gt->lock);
    if (gt->dead) {
        rc = GNTST_bad_domain;
        goto out;
    }
    if (ref >= nr_entries(gt)) {
        rc = GNTST_bad_gntref;
        goto out;
    }
    act = active_of(gt, ref);
    sh = shared_of(gt, ref);
    if (act->pin && (act->domid != ldomid || (act->pin & PIN_OVERFLOW))) {
        rc = GNTST_general_error;
        goto out;
    }
    if ((!act->pin || (!ro && !(act->pin & WRITE_PINS))) &&
        (rc = set_status(sh, act->pin, ro, false, ldomid)))
        goto out;
    if (!act->pin) {
        pg = granted_frame(gt, sh);
        rc = GNTST_bad_page;
    } else {
        pg = mfn_to_page(act->mfn);
        pg = get_page(pg, gt->owner) ? pg : NULL;
        rc = GNTST_bad_domain;
    }
    if (!pg) {
        reduce_status(sh, act, ro);
        goto out;
    }
    rc = GNTST_okay;
    if (!act->pin) {
        act->mfn = page_to_mfn(pg);
        act->domid = ldomid;
    }
    act->pin += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
    *out = pg;
out:
    spin_unlock(&gt->lock);
    return rc;
}

static void copy_release(struct copy_buf *b)
{
    if (!b->pg)
        return;
    if (b->have_type)
        put_page_type(b->pg);
    if (b->gt)
        unpin(b->gt, b->ref, GNTMAP_host_map | (b->ro ? GNTMAP_readonly : 0));
    put_page(b->pg);
    b->pg = NULL;
}

static s16 copy_claim(struct domain *self, domid_t self_id, struct grant_table *gt,
                      const struct gnttab_copy_ptr *ptr, bool ro, struct copy_buf *b)
{
    *b = (struct copy_buf){.gt = gt, .ro = ro};
    if (gt) {
        s16 rc = acquire_for_copy(gt, ptr->u.ref, self_id, ro, &b->pg);
        if (rc)
            return rc;
        b->ref = ptr->u.ref;
    } else {
        /* A PV caller names its own frame by MFN. */
        if (!mfn_valid(ptr->u.gmfn) || !get_page(mfn_to_page(ptr->u.gmfn), self))
            return GNTST_bad_page;
        b->pg = mfn_to_page(ptr->u.gmfn);
    }
    if (!ro) {
        if (!get_page_type(b->pg, PGT_writable_page)) {
            copy_release(b);
            return GNTST_general_error;
        }
        b->have_type = true;
    }
    return GNTST_okay;
}

s16 gnttab_copy_one(struct domain *self, domid_t self_id, struct grant_table *src_gt,
                    struct grant_table *dst_gt, const struct gnttab_copy *op)
{
    struct copy_buf src, dst = {0};
    s16 rc;

    rc = copy_claim(self, self_id, src_gt, &op->source, true, &src);
    if (!rc)
        rc = copy_claim(self, self_id, dst_gt, &op->dest, false, &dst);
    if (!rc && (op->source.offset + op->len > PAGE_SIZE ||
                op->dest.offset + op->len > PAGE_SIZE))
        rc = GNTST_bad_copy_arg;
    if (!rc) {
        /* memmove: source and destination may be the same frame. */
        memmove((u8 *)mfn_to_virt(page_to_mfn(dst.pg)) + op->dest.offset,
                (const u8 *)mfn_to_virt(page_to_mfn(src.pg)) + op->source.offset, op->len);
    }
    copy_release(&dst);
    copy_release(&src);
    return rc;
}

/* ----------------------------------------------------------- relinquish */

/* A dying domain's mapping goes: pins and device references; a host
 * mapping's references belong to its PTE, which the page-table teardown
 * (or the update that already removed it) drops. */
static void relinquish_one(const struct gnttab_maptrack *e)
{
    mfn_t mfn;

    spin_lock(&e->rgt->lock);
    mfn = active_of(e->rgt, e->ref)->mfn;
    spin_unlock(&e->rgt->lock);
    unpin(e->rgt, e->ref, e->flags);
    if (e->flags & GNTMAP_device_map)
        drop_mapping_refs(mfn_to_page(mfn), e->flags & ~GNTMAP_host_map);
    gnttab_put(e->rgt);
}

int gnttab_relinquish(struct grant_table *gt, unsigned int budget)
{
    unsigned int limit = __atomic_load_n(&gt->maptrack_limit, __ATOMIC_ACQUIRE);

    for (; gt->relinquish_next < limit; gt->relinquish_next++) {
        struct gnttab_maptrack *e = mt_of(gt, gt->relinquish_next), m;
        if (!(e->flags & MAPPING_BITS))
            continue;
        if (budget-- == 0)
            return 1;
        /* The owner is dying and paused: nobody else uses its handles. */
        m = *e;
        mt_put(gt, gt->relinquish_next);
        relinquish_one(&m);
    }
    spin_lock(&gt->lock);
    release_frames_locked(gt);
    spin_unlock(&gt->lock);
    return 0;
}
