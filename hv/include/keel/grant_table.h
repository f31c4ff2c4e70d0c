/*
 * Grant tables, versions 1 and 2 (core: hv/common/grant_table.c,
 * host-testable; hypercall layer: hv/common/grant_table_op.c).
 *
 * A domain's grant table is the array of entries it shares with Keel
 * (frames Keel allocates, owned by the domain, each holding Keel's general
 * and PGT_writable_page references), the active entries (Keel's private
 * record of every granted ref someone has pinned: pin counts, the granted
 * frame, the mapping domain) and the maptrack (the handles of the mappings
 * this domain made of other domains' grants).
 *
 * Version 2 (GNTTABOP_set_version): 16-byte entries (full page, sub-page
 * for copies, or transitive: a grant of another domain's grant, for
 * copies, one step deep), and the GTF_reading/GTF_writing bits in separate
 * status frames (one u16 per entry; Keel's frames like the shared ones).
 * Switching, as Xen: only while no entry past the first 8 is pinned
 * (-EBUSY), back to 1 only when no sub-page or transitive copy is in
 * progress (-EAGAIN), the first 8 entries are representable in v1
 * (-ERANGE) and the guest no longer maps a status frame (-EBUSY); the
 * first 8 entries are carried over, the rest cleared.
 *
 * References (how frames stay alive):
 *  - A host mapping (GNTMAP_host_map) holds one general reference on the
 *    granted frame, plus a PGT_writable_page type reference when writable:
 *    exactly what an ordinary L1 entry of that frame holds, so the PTE owns
 *    them once written.  Unmap drops them after the TLB flush.  If the
 *    guest removes the PTE with an ordinary page-table update, that update
 *    drops them (as Xen's release builds do), the mapping stays pinned and
 *    its handle's unmap later fails with GNTST_general_error; relinquish
 *    frees the handle without touching the frame.
 *  - A host mapping by a translated (HVM/PVH) domain is an entry of its
 *    p2m at GFN host_addr >> 12 (Xen's create_grant_p2m_mapping): the
 *    same references, held by the mapping itself (a p2m entry owns
 *    nothing); unmap takes the entry out, every CPU leaves the guest, then
 *    they go.  Relinquish takes out what the domain still maps and drops
 *    them (its vCPUs never run again; a new ASID generation or a fresh
 *    ASID is all any CPU uses after it).
 *  - A device mapping holds its own general (+ writable type if writable)
 *    reference, dropped at unmap or relinquish.
 *  - A maptrack entry holds a reference on the granting table (struct
 *    grant_table refcnt), so the active entry and shared entry it names stay
 *    valid after the granting domain is destroyed (a zombie) until unmap.
 *  - The owning domain holds one reference on its table, dropped by
 *    gnttab_domain_free when the struct domain itself is freed.
 *
 * Locks (never two tables' locks at once, never both locks of one table):
 *  - gt->lock: the table's frames, growth, active entries, and every update
 *    Keel makes to its shared entries' flags.
 *  - gt->maptrack_lock: the table's maptrack (entries, free list, growth).
 * The grant layer takes them inside evtchn/domain locks never, and holds
 * neither while writing a page-table entry.
 *
 * Workers return GNTST_* statuses (s16); table management returns 0 or a
 * negative Xen errno.
 */
#ifndef KEEL_GRANT_TABLE_H
#define KEEL_GRANT_TABLE_H
#include <keel/spinlock.h>
#include <keel/arch.h>
#include <keel/types.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

struct domain;
struct page_info;

#define GNTTAB_MAX_FRAMES 64            /* Xen's default limit, and Keel's ceiling */
#define GNTTAB_MAX_MAPTRACK_FRAMES 1024 /* Xen's default */
/*
 * The highest version Keel offers (Xen's default gnttab_max_version).
 * NOTE for the lead: physinfo (XEN_SYSCTL_physinfo, branch core) should
 * advertise XEN_SYSCTL_PHYSCAP_gnttab_v2 when this is 2, as Xen does.
 */
#define GNTTAB_MAX_VERSION 2
#define GNTTAB_PER_FRAME (PAGE_SIZE / sizeof(grant_entry_v1_t))  /* 512 */
#define GNTTAB_PER_FRAME_V2 (PAGE_SIZE / sizeof(grant_entry_v2_t))  /* 256 */
#define GNTTAB_STATUS_PER_FRAME (PAGE_SIZE / sizeof(grant_status_t)) /* 2048 */
/* Status frames for n v2 frames (Xen's grant_to_status_frames). */
#define GNTTAB_STATUS_FRAMES(n) \
    (((n) * GNTTAB_PER_FRAME_V2 + GNTTAB_STATUS_PER_FRAME - 1) / GNTTAB_STATUS_PER_FRAME)
#define GNTTAB_MAX_STATUS_FRAMES GNTTAB_STATUS_FRAMES(GNTTAB_MAX_FRAMES)
#define GNTTAB_CHUNK 256 /* maptrack entries per allocated page */
#define GNTTAB_MAPTRACK_PER_FRAME GNTTAB_CHUNK /* handles per maptrack frame, as Xen */
#define GNTTAB_ACTIVE_PER_CHUNK (PAGE_SIZE / sizeof(struct gnttab_active))
#define GNTTAB_ACTIVE_CHUNKS (GNTTAB_MAX_FRAMES * GNTTAB_PER_FRAME / GNTTAB_ACTIVE_PER_CHUNK)
#define GNTTAB_MAPTRACK_END 0xffffffffU

/* Pin counts, as Xen keeps them: four 8-bit counters. */
#define GNTPIN_hstw_inc (1U << 0)
#define GNTPIN_hstw_mask (0xffU << 0)
#define GNTPIN_hstr_inc (1U << 8)
#define GNTPIN_hstr_mask (0xffU << 8)
#define GNTPIN_devw_inc (1U << 16)
#define GNTPIN_devw_mask (0xffU << 16)
#define GNTPIN_devr_inc (1U << 24)
#define GNTPIN_devr_mask (0xffU << 24)

struct grant_table;

/* While pin != 0: */
struct gnttab_active {
    u32 pin;       /* GNTPIN_* counts; 0 = not in use */
    domid_t domid; /* who pinned it */
    u16 start;     /* the part of the frame granted (sub-page and */
    u16 length;    /* transitive grants: copies only), else 0, 4096 */
    bool is_sub_page;
    grant_ref_t trans_ref;        /* transitive: the grant it stands for ... */
    struct grant_table *trans_gt; /* ... in this table (NULL: none) */
    mfn_t mfn;     /* the granted frame */
};

/* flags: GNTMAP_device_map/host_map/readonly/application_map/contains_pte
 * of the live mapping; 0 = free (ref then links the free list). */
struct gnttab_maptrack {
    u32 ref;
    u16 flags;
    domid_t domid;            /* granting domain, for the record */
    struct grant_table *rgt;  /* granting table, referenced */
};
#define GNTTAB_MT_BUSY (1U << 15) /* an unmap is working on this handle */

struct grant_table {
    spinlock_t lock;
    spinlock_t maptrack_lock;
    unsigned int refcnt;       /* owner + live maptrack entries naming it */
    struct domain *owner;      /* owns the frames (frame-table owner) */
    domid_t domid;
    bool dead;                 /* relinquished: nothing new is pinned or grown */
    bool translated;           /* owner's host maps go into its p2m (HVM) */
    u8 version, max_version;   /* 1 or 2 */
    unsigned int nr_v2_ops;    /* pinned sub-page / in-flight transitive copies */
    unsigned int nr_frames, max_frames;
    unsigned int nr_status;    /* status frames (version 2) */
    mfn_t status[GNTTAB_MAX_STATUS_FRAMES];
    unsigned int maptrack_limit;   /* handles allocated so far */
    unsigned int maptrack_max;     /* handle limit */
    unsigned int maptrack_used;    /* live handles (checks, tests) */
    u32 maptrack_free;             /* head of the free list */
    unsigned int relinquish_next;  /* next handle relinquish looks at */
    mfn_t frames[GNTTAB_MAX_FRAMES];
    /* A translated (HVM) owner names granted frames by GFN: this gives the
     * machine frame (~0 when none).  NULL: frames are machine frames. */
    mfn_t (*gfn_to_mfn)(struct domain *owner, u64 gfn);
    struct gnttab_active *active[GNTTAB_ACTIVE_CHUNKS];
    struct gnttab_maptrack *maptrack[GNTTAB_MAX_MAPTRACK_FRAMES];
};

/* ---- table management */
/* A new empty table (no frames yet); NULL when out of memory or a limit is
 * beyond Keel's ceilings. */
struct grant_table *gnttab_create(struct domain *owner, domid_t domid,
                                  unsigned int max_frames, unsigned int max_maptrack_frames);
void gnttab_get(struct grant_table *gt);
/* Drops a reference; the last one frees the table and releases its frames. */
void gnttab_put(struct grant_table *gt);
/* Grows to at least `nr` frames: 0, -XEN_EINVAL (beyond the limit, or dead)
 * or -XEN_ENOMEM. */
int gnttab_grow(struct grant_table *gt, unsigned int nr);
/* MFNs of frames first..first+n-1, growing the table to cover them first
 * (acquire_resource, setup_table): 0 or as gnttab_grow. */
int gnttab_frame_mfns(struct grant_table *gt, unsigned int first, unsigned int n, mfn_t *out);
/* Is mfn one of the table's shared or status frames? */
bool gnttab_has_frame(const struct grant_table *gt, mfn_t mfn);
unsigned int gnttab_nr_frames(const struct grant_table *gt);
/* GNTTABOP_set_version (version 1 or 2): 0 or -XEN_E* as Xen (the
 * caller reports gt->version back either way). */
int gnttab_set_version(struct grant_table *gt, unsigned int version);
/* MFNs of status frames first..first+n-1 (version 2; grows the table to
 * cover them, as acquire_resource does): 0 or -XEN_EINVAL/-XEN_ENOMEM. */
int gnttab_status_mfns(struct grant_table *gt, unsigned int first, unsigned int n,
                       mfn_t *out, bool grow);
unsigned int gnttab_nr_status(const struct grant_table *gt);

/* ---- operations (ld's table lgt maps / copies from rgt) */
/* The checks of a map's flags Xen makes before it looks the granting
 * domain up: no host or device map → GNTST_bad_gntref; a translated
 * mapper asking for a device, application or PTE mapping →
 * GNTST_general_error. */
s16 gnttab_map_flags_check(bool translated, unsigned int flags);
s16 gnttab_map(struct grant_table *lgt, struct grant_table *rgt,
               struct gnttab_map_grant_ref *op);

/* Unmap in two steps around the TLB flush the caller makes. */
struct gnttab_unmap_done {
    struct grant_table *rgt; /* NULL: nothing to complete */
    grant_ref_t ref;
    mfn_t mfn;
    u16 what;          /* GNTMAP_host_map / device_map / readonly taken down */
    bool put_rgt;      /* the handle went free: drop its table reference */
    bool full_flush;   /* a PTE by machine address: the VA is unknown */
    bool p2m;          /* a translated mapper's p2m entry: flush its guest TLBs */
    u64 va;            /* else the linear address unmapped */
};
s16 gnttab_unmap(struct grant_table *lgt, const struct gnttab_unmap_grant_ref *op,
                 struct gnttab_unmap_done *done);
void gnttab_unmap_complete(struct gnttab_unmap_done *done);

/* One GNTTABOP_copy.  src_gt/dst_gt: the tables named by {ref, domid}
 * (NULL for a frame of the caller, {gmfn, DOMID_SELF}); `self` is the
 * caller's domain and domid.  Domain lookup (GNTST_bad_domain) and the
 * DOMID_SELF rule are the caller's. */
s16 gnttab_copy_one(struct domain *self, domid_t self_id, struct grant_table *src_gt,
                    struct grant_table *dst_gt, const struct gnttab_copy *op);

/* Undoes the mappings gt's domain holds (preemptible: at most `budget`
 * handles per call; returns 1 when more remain), then releases the
 * table's frames from the domain and marks it dead.  0 when done. */
int gnttab_relinquish(struct grant_table *gt, unsigned int budget);

/* ---- supplied by the arch (PV) code, or by the unit tests: keel/arch.h */

/* ---- the hypercall layer's (grant_table_op.c) view of domains */
/* Is mfn one of d's grant-table frames (which Keel keeps, the guest may
 * not give away)? */
bool gnttab_is_frame(const struct domain *d, mfn_t mfn);
/*
 * Domain destruction (called by destroydomain, d dying and paused):
 * undoes every mapping d holds of grants (its maptrack), releases d's
 * grant frames (they stay allocated while others still map them or its
 * entries are still pinned) and marks its table dead.  Returns 0 when
 * done, or a positive value when preempted: the caller re-issues it.
 */
int gnttab_domain_relinquish(struct domain *d);
/* The struct domain is being freed: drop its reference on its table
 * (which lives on while other domains still map its grants). */
void gnttab_domain_free(struct domain *d);
/* XENMEM_acquire_resource for XENMEM_resource_grant_table: MFNs of frames
 * frame..frame+n-1 of d's table (id 0 = shared; 1 = status is -EINVAL
 * for a v1 table), growing it as Xen does; 0 or -XEN_EINVAL/-XEN_ENOMEM. */
int gnttab_acquire_frames(struct domain *d, unsigned int id, unsigned int frame,
                          unsigned int n, xen_pfn_t *out);
/* The table's frame limit (XENMEM_acquire_resource size query), 0 if none. */
unsigned int gnttab_resource_max_frames(struct domain *d, unsigned int id);
#endif
