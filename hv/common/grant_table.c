/*
 * Grant tables v1 and v2: the core (see keel/grant_table.h for references
 * and locks).  Free of guest pointers and hardware: the hypercall layer
 * (grant_table_op.c) copies operations in and out and names the tables;
 * the arch supplies the walk of the current page tables (linear-address
 * mappings) and the TLB flush.  Compiles on the host for unit tests.
 *
 * Trust: the shared entries live in guest memory and change under our
 * feet.  In v1 their flags+domid word is only ever updated by
 * compare-exchange, each decision made on the value the exchange saw
 * (never a second read); in v2 Keel writes only the status frames, sets
 * the status bits first and then reads the entry again (the guest clears
 * an entry, then reads the status), as Xen does.  The frame field is read
 * once, after the entry was pinned.
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
    return &gt->active[ref / GNTTAB_ACTIVE_PER_CHUNK][ref % GNTTAB_ACTIVE_PER_CHUNK];
}

static grant_entry_v1_t *shared_v1(struct grant_table *gt, grant_ref_t ref)
{
    return (grant_entry_v1_t *)mfn_to_virt(gt->frames[ref / GNTTAB_PER_FRAME]) +
           ref % GNTTAB_PER_FRAME;
}

static grant_entry_v2_t *shared_v2(struct grant_table *gt, grant_ref_t ref)
{
    return (grant_entry_v2_t *)mfn_to_virt(gt->frames[ref / GNTTAB_PER_FRAME_V2]) +
           ref % GNTTAB_PER_FRAME_V2;
}

/* The flags (low half) and domid (high half) of either version's entry. */
static u32 *header_of(struct grant_table *gt, grant_ref_t ref)
{
    BUILD_BUG_ON(offsetof(grant_entry_v1_t, flags) != 0);
    BUILD_BUG_ON(offsetof(grant_entry_v1_t, domid) != 2);
    BUILD_BUG_ON(offsetof(grant_entry_v2_t, hdr.flags) != 0);
    BUILD_BUG_ON(offsetof(grant_entry_v2_t, hdr.domid) != 2);
    return gt->version == 1 ? (u32 *)shared_v1(gt, ref) : (u32 *)shared_v2(gt, ref);
}

/* Where GTF_reading/GTF_writing live: the v1 entry, or the status frame. */
static u16 *status_of(struct grant_table *gt, grant_ref_t ref)
{
    if (gt->version == 1)
        return &shared_v1(gt, ref)->flags;
    return (grant_status_t *)mfn_to_virt(gt->status[ref / GNTTAB_STATUS_PER_FRAME]) +
           ref % GNTTAB_STATUS_PER_FRAME;
}

static struct gnttab_maptrack *mt_of(struct grant_table *gt, u32 handle)
{
    return &gt->maptrack[handle / GNTTAB_CHUNK][handle % GNTTAB_CHUNK];
}

static unsigned int nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * (gt->version == 1 ? GNTTAB_PER_FRAME : GNTTAB_PER_FRAME_V2);
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
    gt->version = 1;
    gt->max_version = GNTTAB_MAX_VERSION;
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
    for (unsigned int i = 0; i < gt->nr_status; i++)
        page_unassign(mfn_to_page(gt->status[i]));
}

static void table_free(struct grant_table *gt)
{
    release_frames_locked(gt);
    /* Keel's own references: the frames stay while anyone maps them. */
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        put_page_keel_write(mfn_to_page(gt->frames[i]));
    for (unsigned int i = 0; i < gt->nr_status; i++)
        put_page_keel_write(mfn_to_page(gt->status[i]));
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
__attribute__((weak)) struct grant_table *gnttab_arch_table_by_id(domid_t domid)
{
    (void)domid;
    return NULL;
}
__attribute__((weak)) void gnttab_arch_flush_all(void) {}
__attribute__((weak)) s16 gnttab_arch_p2m_map(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    (void)ld, (void)gfn, (void)mfn, (void)ro;
    return GNTST_general_error;
}
__attribute__((weak)) s16 gnttab_arch_p2m_unmap(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    (void)ld, (void)gfn, (void)mfn, (void)ro;
    return GNTST_general_error;
}
__attribute__((weak)) struct page_info *gnttab_arch_va_l1(struct domain *ld, u64 va,
                                                          u64 **slot)
{
    (void)ld, (void)va, (void)slot;
    return NULL;
}
#endif

/* A fresh zeroed frame of the owner's that Keel writes into (shared or
 * status): the writable type keeps it from becoming a page table or
 * descriptor page while the table has it. */
static int new_frame(struct grant_table *gt, mfn_t *out)
{
    struct page_info *pg = alloc_pages(0);

    if (!pg)
        return -XEN_ENOMEM;
    *out = page_to_mfn(pg);
    memset(mfn_to_virt(*out), 0, PAGE_SIZE);
    gnttab_arch_new_frame(*out);
    /* Keel writes into it: its write reference keeps it from becoming a
     * page table or descriptor page while the table exists, and from being
     * given back; it is not in the owner's tot_pages. */
    if (!page_share_with_guest(pg, gt->owner)) { /* the owner is dying */
        free_pages(pg, 0);
        return -XEN_EINVAL;
    }
    return 0;
}

/* Version 2: status frames for the first nr shared frames. */
static int populate_status_locked(struct grant_table *gt, unsigned int nr)
{
    unsigned int want = GNTTAB_STATUS_FRAMES(nr);

    while (gt->nr_status < want) {
        int rc = new_frame(gt, &gt->status[gt->nr_status]);
        if (rc)
            return rc;
        __atomic_store_n(&gt->nr_status, gt->nr_status + 1, __ATOMIC_RELEASE);
    }
    return 0;
}

/* Back to version 1: the status frames go, unless the guest still maps
 * one (Xen's -EBUSY): then nothing changes. */
static int unpopulate_status_locked(struct grant_table *gt)
{
    for (unsigned int i = 0; i < gt->nr_status; i++) {
        const struct page_info *pg = mfn_to_page(gt->status[i]);
        /* Only the allocation's and Keel's references. */
        if ((READ_ONCE(pg->count_info) & PGC_count_mask) != 2 ||
            (READ_ONCE(pg->u.type_info) & PGT_count_mask) != 1)
            return -XEN_EBUSY;
    }
    for (unsigned int i = 0; i < gt->nr_status; i++) {
        struct page_info *pg = mfn_to_page(gt->status[i]);
        page_unshare(pg);
    }
    __atomic_store_n(&gt->nr_status, 0, __ATOMIC_RELEASE);
    return 0;
}

/* One more shared frame, with its active entries.  Under gt->lock. */
static int add_frame_locked(struct grant_table *gt)
{
    unsigned int f = gt->nr_frames;
    unsigned int per = GNTTAB_PER_FRAME / GNTTAB_ACTIVE_PER_CHUNK;
    mfn_t mfn;
    int rc;

    /* Active entries for v1's count, the larger. */
    for (unsigned int c = f * per; c < (f + 1) * per; c++)
        if (!gt->active[c] && !(gt->active[c] = chunk_alloc()))
            return -XEN_ENOMEM;
    if (gt->version == 2 && (rc = populate_status_locked(gt, f + 1)))
        return rc;
    if ((rc = new_frame(gt, &mfn)))
        return rc;
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

/* ------------------------------------------------------------ versions */

/* v1 form of the first entries (Xen carries the 8 reserved ones over). */
static void save_reserved(struct grant_table *gt, grant_entry_v1_t *keep, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (gt->version == 1) {
            keep[i] = *shared_v1(gt, i);
            continue;
        }
        grant_entry_v2_t *e = shared_v2(gt, i);
        u16 flags = e->hdr.flags;
        keep[i] = (grant_entry_v1_t){0};
        if ((flags & GTF_type_mask) == GTF_permit_access)
            keep[i] = (grant_entry_v1_t){.flags = flags | *status_of(gt, i),
                                         .domid = e->hdr.domid,
                                         .frame = (u32)e->full_page.frame};
    }
}

static void restore_reserved(struct grant_table *gt, const grant_entry_v1_t *keep,
                             unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (gt->version == 1) {
            *shared_v1(gt, i) = keep[i];
            continue;
        }
        grant_entry_v2_t *e = shared_v2(gt, i);
        *status_of(gt, i) = keep[i].flags & (GTF_reading | GTF_writing);
        e->hdr.flags = keep[i].flags & ~(GTF_reading | GTF_writing);
        e->hdr.domid = keep[i].domid;
        e->full_page.frame = keep[i].frame;
    }
}

/* v2 entries v1 cannot express: a frame past 32 bits, transitive. */
static bool reserved_fit_v1(struct grant_table *gt, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        grant_entry_v2_t *e = shared_v2(gt, i);
        switch (__atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE) & GTF_type_mask) {
        case GTF_permit_access:
            if (e->full_page.frame >> 32)
                return false;
            break;
        case GTF_transitive:
            return false;
        }
    }
    return true;
}

static int switch_version_locked(struct grant_table *gt, unsigned int version)
{
    grant_entry_v1_t keep[GNTTAB_NR_RESERVED_ENTRIES];
    unsigned int n = nr_entries(gt), nres = MIN(n, (unsigned int)GNTTAB_NR_RESERVED_ENTRIES);
    int rc;

    /* The reserved entries may stay in use (xenstore, console). */
    for (unsigned int i = GNTTAB_NR_RESERVED_ENTRIES; i < n; i++)
        if (active_of(gt, i)->pin)
            return -XEN_EBUSY;
    if (gt->version == 1) {
        if ((rc = populate_status_locked(gt, gt->nr_frames)))
            return rc;
    } else {
        if (gt->nr_v2_ops)
            return -XEN_EAGAIN;
        if (!reserved_fit_v1(gt, nres))
            return -XEN_ERANGE;
    }
    save_reserved(gt, keep, nres);
    if (version == 1 && (rc = unpopulate_status_locked(gt)))
        return rc;
    /* No crud from the old layout. */
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        memset(mfn_to_virt(gt->frames[i]), 0, PAGE_SIZE);
    gt->version = (u8)version;
    restore_reserved(gt, keep, nres);
    return 0;
}

int gnttab_set_version(struct grant_table *gt, unsigned int version)
{
    int rc;

    if (version != 1 && version != 2)
        return -XEN_EINVAL;
    if (version > gt->max_version)
        return -XEN_ENOSYS; /* as before set_version existed */
    spin_lock(&gt->lock);
    rc = gt->version == version ? 0 : switch_version_locked(gt, version);
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
    n = __atomic_load_n(&gt->nr_status, __ATOMIC_ACQUIRE);
    for (unsigned int i = 0; i < n; i++)
        if (gt->status[i] == mfn)
            return true;
    return false;
}

unsigned int gnttab_nr_status(const struct grant_table *gt)
{
    return __atomic_load_n(&gt->nr_status, __ATOMIC_ACQUIRE);
}

int gnttab_status_mfns(struct grant_table *gt, unsigned int first, unsigned int n,
                       mfn_t *out, bool grow)
{
    int rc = 0;

    if (first + n < first)
        return -XEN_EINVAL;
    spin_lock(&gt->lock);
    if (gt->version != 2) {
        rc = -XEN_EINVAL;
    } else if (first + n > gt->nr_status) {
        /* The shared frames whose status frames these are (Xen's
         * status_to_grant_frames), within the limit. */
        unsigned int frames = (unsigned int)(((u64)(first + n) * GNTTAB_STATUS_PER_FRAME +
                                              GNTTAB_PER_FRAME_V2 - 1) / GNTTAB_PER_FRAME_V2);
        rc = grow && frames <= gt->max_frames ? grow_locked(gt, frames) : -XEN_EINVAL;
        if (!rc && first + n > gt->nr_status)
            rc = -XEN_EINVAL;
    }
    if (!rc && n)
        memcpy(out, &gt->status[first], n * sizeof(*out));
    spin_unlock(&gt->lock);
    return rc;
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

/* May `ldomid` use an entry with these flags and domid (before a pin)? */
static bool entry_usable(u32 word, bool mapping, domid_t ldomid)
{
    u16 flags = (u16)word, type = flags & (GTF_type_mask | (mapping ? GTF_sub_page : 0));

    if ((domid_t)(word >> 16) != ldomid)
        return false;
    return type == GTF_permit_access || (!mapping && type == GTF_transitive);
}

/*
 * v1: sets GTF_reading (and GTF_writing) in a shared entry, checking its
 * type and domid first unless the entry is already pinned.  The guest may
 * race us; a few lost exchanges are tolerated, after that it is
 * misbehaving.  (v1 has no transitive entries.)
 */
static s16 set_status_v1(grant_entry_v1_t *sh, bool pinned, bool ro, bool mapping,
                         domid_t ldomid)
{
    u32 *word = (u32 *)sh; /* flags in the low half, domid in the high */
    u16 mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    u32 cur = __atomic_load_n(word, __ATOMIC_ACQUIRE);

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

/*
 * v2: the status bits go up first, then the entry is read again: a guest
 * that revokes an entry clears it and then looks at the status, so one of
 * the two sees the other.  A change in between takes the bits back.
 */
static s16 set_status_v2(const u32 *word, u16 *status, bool pinned, bool ro, bool mapping,
                         domid_t ldomid)
{
    u32 cur = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    if (!pinned && !entry_usable(cur, mapping, ldomid))
        return GNTST_general_error;
    if (!ro && ((u16)cur & GTF_readonly))
        return GNTST_general_error;
    __atomic_fetch_or(status, ro ? GTF_reading : GTF_reading | GTF_writing, __ATOMIC_SEQ_CST);
    cur = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (!pinned && (!entry_usable(cur, mapping, ldomid) || (!ro && ((u16)cur & GTF_readonly)))) {
        __atomic_fetch_and(status, (u16)~(GTF_reading | GTF_writing), __ATOMIC_SEQ_CST);
        return GNTST_general_error;
    }
    if (pinned && ((u16)cur & GTF_readonly)) {
        __atomic_fetch_and(status, (u16)~GTF_writing, __ATOMIC_SEQ_CST);
        return GNTST_general_error;
    }
    return GNTST_okay;
}

static s16 set_status(struct grant_table *gt, grant_ref_t ref, bool pinned, bool ro,
                      bool mapping, domid_t ldomid)
{
    if (gt->version == 1)
        return set_status_v1(shared_v1(gt, ref), pinned, ro, mapping, ldomid);
    return set_status_v2(header_of(gt, ref), status_of(gt, ref), pinned, ro, mapping, ldomid);
}

/* After pins went down: the guest learns the entry is no longer read or
 * written through (so it may reuse the frame). */
static void reduce_status(struct grant_table *gt, grant_ref_t ref,
                          const struct gnttab_active *act, bool ro)
{
    u16 clear = 0;

    if (!act->pin)
        clear |= GTF_reading;
    if (!ro && !(act->pin & WRITE_PINS))
        clear |= GTF_writing;
    if (clear)
        __atomic_fetch_and(status_of(gt, ref), (u16)~clear, __ATOMIC_ACQ_REL);
}

/* The frame a first pin grants, and the part of it: RAM the granting
 * domain owns, referenced. */
static struct page_info *granted_frame(struct grant_table *gt, grant_ref_t ref, bool mapping,
                                       u16 *start, u16 *length, bool *sub_page)
{
    u64 mfn;
    struct page_info *pg;

    *start = 0;
    *length = PAGE_SIZE;
    *sub_page = false;
    if (gt->version == 1) {
        mfn = __atomic_load_n(&shared_v1(gt, ref)->frame, __ATOMIC_ACQUIRE);
    } else {
        grant_entry_v2_t *e = shared_v2(gt, ref);
        /* The flags were checked when the status went up; read them once
         * more only to pick the layout, then each field once. */
        if (!mapping && (__atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE) & GTF_sub_page)) {
            u16 off = __atomic_load_n(&e->sub_page.page_off, __ATOMIC_ACQUIRE);
            u16 len = __atomic_load_n(&e->sub_page.length, __ATOMIC_ACQUIRE);
            /* Out-of-page windows make every copy fail its bounds check,
             * as on Xen; clamp them so sums cannot wrap. */
            *start = off > PAGE_SIZE ? PAGE_SIZE : off;
            *length = len > PAGE_SIZE ? PAGE_SIZE : len;
            *sub_page = true;
            mfn = __atomic_load_n(&e->sub_page.frame, __ATOMIC_ACQUIRE);
        } else {
            mfn = __atomic_load_n(&e->full_page.frame, __ATOMIC_ACQUIRE);
        }
    }
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
    bool ro = flags & GNTMAP_readonly, sub;
    struct gnttab_active *act;
    struct page_info *pg;
    u16 start, len;
    s16 rc;

    if (rgt->dead)
        return GNTST_general_error;
    if (ref >= nr_entries(rgt))
        return GNTST_bad_gntref;
    act = active_of(rgt, ref);
    /* A sub-page or transitive grant pinned by a copy is never mapped. */
    if (act->pin && (act->domid != ldomid || (act->pin & PIN_OVERFLOW) || act->is_sub_page))
        return GNTST_general_error;
    if (!act->pin || (!ro && !(act->pin & WRITE_PINS))) {
        rc = set_status(rgt, ref, act->pin, ro, true, ldomid);
        if (rc)
            return rc;
    }
    if (!act->pin) {
        pg = granted_frame(rgt, ref, true, &start, &len, &sub);
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
        reduce_status(rgt, ref, act, ro);
        return rc;
    }
    if (!act->pin)
        *act = (struct gnttab_active){.domid = ldomid, .length = PAGE_SIZE,
                                      .mfn = page_to_mfn(pg)};
    act->pin += pin_incs(flags);
    *mfn = act->mfn;
    return GNTST_okay;
}

/* Drops pins of `flags`; for a transitive entry, returns the table whose
 * grant (*trans_ref) each of its pins also pinned: the caller releases
 * that pin and the table reference that went with it. */
static struct grant_table *unpin_locked(struct grant_table *rgt, grant_ref_t ref,
                                        unsigned int flags, grant_ref_t *trans_ref)
{
    struct gnttab_active *act = active_of(rgt, ref);
    struct grant_table *trans = act->trans_gt;

    BUG_ON(act->pin < pin_incs(flags));
    act->pin -= pin_incs(flags);
    reduce_status(rgt, ref, act, flags & GNTMAP_readonly);
    *trans_ref = act->trans_ref;
    if (!act->pin && act->is_sub_page)
        rgt->nr_v2_ops--;
    if (!act->pin)
        *act = (struct gnttab_active){0};
    return trans;
}

static void unpin(struct grant_table *rgt, grant_ref_t ref, unsigned int flags)
{
    grant_ref_t tref;

    spin_lock(&rgt->lock);
    BUG_ON(unpin_locked(rgt, ref, flags, &tref)); /* mappings are never transitive */
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

/* A translated mapper's host map: the frame at GFN addr >> 12 of its
 * physical map, and nothing but host_map and readonly asked for (Xen's
 * create_grant_p2m_mapping; the low 12 bits of addr do not matter). */
static s16 p2m_map_create(struct domain *ld, u64 addr, unsigned int flags, mfn_t mfn)
{
    if ((flags & ~GNTMAP_readonly) != GNTMAP_host_map)
        return GNTST_general_error;
    return gnttab_arch_p2m_map(ld, addr >> PAGE_SHIFT, mfn, flags & GNTMAP_readonly);
}

/* Writes the grant PTE (or p2m entry); the references it holds were taken
 * already. */
static s16 host_map_create(struct grant_table *lgt, u64 addr, unsigned int flags, mfn_t mfn)
{
    struct domain *ld = lgt->owner;
    struct page_info *l1;
    u64 *slot, old;

    if (lgt->translated)
        return p2m_map_create(ld, addr, flags, mfn);
    l1 = host_slot(ld, addr, flags, &slot);

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

s16 gnttab_map_flags_check(bool translated, unsigned int flags)
{
    if (!(flags & MAPPING_BITS))
        return GNTST_bad_gntref;
    if (translated &&
        (flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte)))
        return GNTST_general_error;
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

    rc = gnttab_map_flags_check(lgt->translated, flags);
    if (rc)
        return rc;
    h = mt_get(lgt);
    if (h == GNTTAB_MAPTRACK_END)
        return GNTST_no_space;
    spin_lock(&rgt->lock);
    rc = pin_for_map(rgt, lgt->domid, op->ref, flags, &mfn);
    spin_unlock(&rgt->lock);
    pinned = !rc;
    if (!rc && (flags & GNTMAP_host_map))
        rc = host_map_create(lgt, op->host_addr, flags, mfn);
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
 * writable bits (Xen's check), or a translated mapper's p2m entry at GFN
 * addr >> 12 if it is the grant mapping of `mfn` with the mapping's
 * access; the references are the caller's to drop. */
static s16 host_map_remove(struct grant_table *lgt, u64 addr, unsigned int flags, mfn_t mfn,
                           struct gnttab_unmap_done *done)
{
    u64 want = PTE_P | ((flags & GNTMAP_readonly) ? 0 : PTE_RW);
    struct domain *ld = lgt->owner;
    struct page_info *l1;
    s16 rc = GNTST_general_error;
    u64 *slot, old;

    if (lgt->translated) {
        done->p2m = true;
        return gnttab_arch_p2m_unmap(ld, addr >> PAGE_SHIFT, mfn, flags & GNTMAP_readonly);
    }
    l1 = host_slot(ld, addr, flags, &slot);
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
    /* Xen 4.17 looks at the bus address only for a device mapping. */
    if (op->dev_bus_addr && (m.flags & GNTMAP_device_map) &&
        op->dev_bus_addr != (u64)mfn << PAGE_SHIFT)
        rc = GNTST_bad_dev_addr;
    if (!rc && op->host_addr && (m.flags & GNTMAP_host_map)) {
        rc = host_map_remove(lgt, op->host_addr, m.flags, mfn, done);
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
    u16 start, length;      /* the part granted */
    bool ro, have_type;
};

#define TRANSITIVE_TRIES 3 /* the entry changed while we followed it: retry */

/* The pin a copy takes; a copy releases exactly what it acquired. */
static void release_for_copy(struct grant_table *gt, grant_ref_t ref, bool ro)
{
    unsigned int flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
    struct grant_table *trans;
    grant_ref_t tref;

    spin_lock(&gt->lock);
    trans = unpin_locked(gt, ref, flags, &tref);
    spin_unlock(&gt->lock);
    if (trans) { /* one step deep: the far end is never transitive */
        release_for_copy(trans, tref, ro);
        gnttab_put(trans);
    }
}

/* The far end of a transitive grant, pinned for `ldomid` (gt's domain);
 * gt->lock is dropped meanwhile, so the caller checks nothing moved. */
static s16 follow_transitive(struct grant_table *gt, grant_ref_t ref, bool ro,
                             struct grant_table **td, grant_ref_t *tref,
                             struct copy_buf *far);

static s16 acquire_for_copy_locked(struct grant_table *gt, grant_ref_t ref, domid_t ldomid,
                                   bool ro, bool allow_transitive, struct copy_buf *b);

/* Pins `ref` for a copy (reading, or writing) and references its frame;
 * fills b's frame and window.  allow_transitive: one step only. */
static s16 acquire_for_copy(struct grant_table *gt, grant_ref_t ref, domid_t ldomid,
                            bool ro, bool allow_transitive, struct copy_buf *b)
{
    s16 rc;

    spin_lock(&gt->lock);
    rc = acquire_for_copy_locked(gt, ref, ldomid, ro, allow_transitive, b);
    spin_unlock(&gt->lock);
    return rc;
}

/* Records a first pin's frame and window. */
static void first_pin(struct grant_table *gt, struct gnttab_active *act, domid_t ldomid,
                      const struct copy_buf *b, bool sub, struct grant_table *trans,
                      grant_ref_t tref)
{
    *act = (struct gnttab_active){.domid = ldomid, .start = b->start, .length = b->length,
                                  .is_sub_page = sub, .trans_ref = tref, .trans_gt = trans,
                                  .mfn = page_to_mfn(b->pg)};
    if (sub)
        gt->nr_v2_ops++; /* v2 work in progress: no switch back to v1 */
}

static s16 acquire_transitive(struct grant_table *gt, grant_ref_t ref, domid_t ldomid,
                              bool ro, bool allow_transitive, struct copy_buf *b)
{
    struct gnttab_active *act = active_of(gt, ref);
    u32 old_pin = act->pin;
    struct grant_table *td;
    grant_ref_t tref;
    s16 rc;

    if ((!old_pin || (!ro && !(old_pin & WRITE_PINS))) &&
        (rc = set_status(gt, ref, old_pin, ro, false, ldomid)))
        return rc;
    if (!allow_transitive) {
        reduce_status(gt, ref, act, ro);
        return GNTST_general_error;
    }
    gt->nr_v2_ops++; /* in flight: the lock goes while we follow it */
    rc = follow_transitive(gt, ref, ro, &td, &tref, b);
    gt->nr_v2_ops--;
    act = active_of(gt, ref);
    if (rc) {
        reduce_status(gt, ref, act, ro);
        return rc;
    }
    /* The lock was dropped: the entry must be as we left it. */
    if (gt->dead || gt->version != 2 || act->pin != old_pin ||
        (old_pin && (act->domid != ldomid || act->mfn != page_to_mfn(b->pg) ||
                     act->start != b->start || act->length != b->length ||
                     act->trans_gt != td || act->trans_ref != tref || !act->is_sub_page))) {
        spin_unlock(&gt->lock);
        release_for_copy(td, tref, ro);
        gnttab_put(td);
        put_page(b->pg);
        b->pg = NULL;
        spin_lock(&gt->lock);
        reduce_status(gt, ref, active_of(gt, ref), ro);
        return 1; /* try again */
    }
    /* Each copy pin holds its own pin on the far end and a reference on
     * its table, which its release drops. */
    if (!old_pin) /* a transitive grant is never mapped: treated as sub-page */
        first_pin(gt, act, ldomid, b, true, td, tref);
    act->pin += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
    return GNTST_okay;
}

static s16 follow_transitive(struct grant_table *gt, grant_ref_t ref, bool ro,
                             struct grant_table **td, grant_ref_t *tref,
                             struct copy_buf *far)
{
    grant_entry_v2_t *e = shared_v2(gt, ref);
    domid_t tdom = __atomic_load_n(&e->transitive.trans_domid, __ATOMIC_ACQUIRE);
    s16 rc;

    *tref = __atomic_load_n(&e->transitive.gref, __ATOMIC_ACQUIRE);
    if (tdom == gt->domid)
        return GNTST_general_error; /* never self-referential (Xen) */
    *td = gnttab_arch_table_by_id(tdom);
    if (!*td)
        return GNTST_general_error;
    spin_unlock(&gt->lock);
    rc = acquire_for_copy(*td, *tref, gt->domid, ro, false, far);
    spin_lock(&gt->lock);
    if (rc)
        gnttab_put(*td);
    return rc;
}

static s16 acquire_for_copy_locked(struct grant_table *gt, grant_ref_t ref, domid_t ldomid,
                                   bool ro, bool allow_transitive, struct copy_buf *b)
{
    struct gnttab_active *act;
    struct page_info *pg;
    bool sub;
    s16 rc;

    for (unsigned int tries = 0;; tries++) {
        if (gt->dead)
            return GNTST_bad_domain;
        if (ref >= nr_entries(gt))
            return GNTST_bad_gntref;
        act = active_of(gt, ref);
        if (act->pin && (act->domid != ldomid || (act->pin & PIN_OVERFLOW)))
            return GNTST_general_error;
        if (gt->version == 2 && act->trans_gt == NULL && !act->pin &&
            ((u16)__atomic_load_n(header_of(gt, ref), __ATOMIC_ACQUIRE) & GTF_type_mask) ==
                GTF_transitive) {
            rc = acquire_transitive(gt, ref, ldomid, ro, allow_transitive, b);
            if (rc != 1)
                return rc;
            if (tries == TRANSITIVE_TRIES)
                return GNTST_general_error;
            continue;
        }
        if (act->trans_gt) { /* pinned transitive: another pin on both ends */
            rc = acquire_transitive(gt, ref, ldomid, ro, allow_transitive, b);
            if (rc != 1)
                return rc;
            if (tries == TRANSITIVE_TRIES)
                return GNTST_general_error;
            continue;
        }
        break;
    }
    if ((!act->pin || (!ro && !(act->pin & WRITE_PINS))) &&
        (rc = set_status(gt, ref, act->pin, ro, false, ldomid)))
        return rc;
    if (!act->pin) {
        pg = granted_frame(gt, ref, false, &b->start, &b->length, &sub);
        if (!pg) {
            reduce_status(gt, ref, act, ro);
            return GNTST_bad_page;
        }
        b->pg = pg;
        first_pin(gt, act, ldomid, b, sub, NULL, 0);
    } else {
        pg = mfn_to_page(act->mfn);
        if (!get_page(pg, gt->owner)) {
            reduce_status(gt, ref, act, ro);
            return GNTST_bad_domain;
        }
        b->pg = pg;
        b->start = act->start;
        b->length = act->length;
    }
    act->pin += ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
    return GNTST_okay;
}

static void copy_release(struct copy_buf *b)
{
    if (!b->pg)
        return;
    if (b->have_type)
        put_page_type_keel_write(b->pg);
    if (b->gt)
        release_for_copy(b->gt, b->ref, b->ro);
    put_page(b->pg);
    b->pg = NULL;
}

static s16 copy_claim(struct domain *self, domid_t self_id, struct grant_table *gt,
                      const struct gnttab_copy_ptr *ptr, bool ro, struct copy_buf *b)
{
    *b = (struct copy_buf){.gt = gt, .ro = ro};
    if (gt) {
        s16 rc = acquire_for_copy(gt, ptr->u.ref, self_id, ro, true, b);
        if (rc) {
            b->gt = NULL;
            return rc;
        }
        b->ref = ptr->u.ref;
    } else {
        /* A PV caller names its own frame by MFN. */
        if (!mfn_valid(ptr->u.gmfn) || !get_page(mfn_to_page(ptr->u.gmfn), self))
            return GNTST_bad_page;
        b->pg = mfn_to_page(ptr->u.gmfn);
        b->start = 0;
        b->length = PAGE_SIZE;
    }
    if (!ro) {
        /* Keel writes the destination through its direct map. */
        if (!get_page_type_keel_write(b->pg)) {
            copy_release(b);
            return GNTST_general_error;
        }
        b->have_type = true;
    }
    return GNTST_okay;
}

/* Xen's order: the whole page first, then the part granted. */
static s16 copy_bounds(const struct gnttab_copy *op, const struct copy_buf *src,
                       const struct copy_buf *dst)
{
    if (op->source.offset + op->len > PAGE_SIZE || op->dest.offset + op->len > PAGE_SIZE)
        return GNTST_bad_copy_arg;
    if (op->source.offset < src->start ||
        op->source.offset + op->len > (u32)src->start + src->length)
        return GNTST_general_error;
    if (op->dest.offset < dst->start || op->dest.offset + op->len > (u32)dst->start + dst->length)
        return GNTST_general_error;
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
    if (!rc)
        rc = copy_bounds(op, &src, &dst);
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

/* A dying domain's mapping goes: pins and device references; a PV host
 * mapping's references belong to its PTE, which the page-table teardown
 * (or the update that already removed it) drops.  A translated domain's
 * host mapping holds its own (as Xen's gnttab_release_host_mappings): they
 * go now, its p2m entry with the p2m (the domain never runs again). */
static void relinquish_one(const struct grant_table *gt, const struct gnttab_maptrack *e)
{
    unsigned int mask = GNTMAP_device_map | GNTMAP_readonly;
    mfn_t mfn;

    spin_lock(&e->rgt->lock);
    mfn = active_of(e->rgt, e->ref)->mfn;
    spin_unlock(&e->rgt->lock);
    unpin(e->rgt, e->ref, e->flags);
    if (gt->translated)
        mask |= GNTMAP_host_map;
    if (e->flags & mask & MAPPING_BITS)
        drop_mapping_refs(mfn_to_page(mfn), e->flags & mask);
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
        relinquish_one(gt, &m);
    }
    spin_lock(&gt->lock);
    release_frames_locked(gt);
    spin_unlock(&gt->lock);
    return 0;
}
