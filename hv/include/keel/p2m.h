/*
 * The physical memory of a translated (HVM/PVH) domain: a map from guest
 * frame numbers to machine frames with a type, kept directly in the format
 * the CPU's nested paging walks (x86-64 4-level tables; AMD's NPT, later
 * Intel's EPT through a different leaf encoding).  Keel owns the tables;
 * the guest never sees them.
 *
 * Who holds what:
 *  - ram: a frame the domain owns (its PGC_allocated reference keeps it);
 *    the map holds no reference of its own.  Freed by whoever removes it
 *    (decrease_reservation, relinquish).
 *  - special: a frame Keel writes into and shows to the guest
 *    (shared_info, grant-table frames placed by add_to_physmap).  The map
 *    holds nothing; the owner of the frame keeps its type reference.
 *  - grant_rw/ro: another domain's frame mapped by a grant; the grant
 *    code holds the reference and removes the entry on unmap.
 * Every table frame counts against the domain's paging pool (the
 * toolstack sizes it with set_paging_mempool_size / shadow_op); past it,
 * a new mapping fails with -ENOMEM as on Xen.
 *
 * Core logic: builds on the host for unit tests and the fuzzer.
 */
#ifndef KEEL_P2M_H
#define KEEL_P2M_H
#include <keel/spinlock.h>
#include <keel/types.h>

/* Guest-physical addresses Keel gives HVM guests: 48 bits (a 4-level walk). */
#define P2M_GPADDR_BITS 48
#define P2M_MAX_GFN (1ULL << (P2M_GPADDR_BITS - PAGE_SHIFT))
#define P2M_INVALID_MFN (~(mfn_t)0)
/* Xen's minimum paging pool for a HAP domain (frames). */
#define P2M_POOL_MIN 256

enum p2m_type {
    p2m_none = 0,    /* no entry */
    p2m_ram_rw,      /* the domain's own memory */
    p2m_special,     /* Keel-shared frame (shared_info, grant frames) */
    p2m_grant_rw,    /* another domain's frame, by a grant */
    p2m_grant_ro,
    p2m_nr_types
};

struct p2m {
    spinlock_t lock;
    mfn_t root;               /* the top table: the CPU's nested CR3 */
    bool ready;               /* root allocated (until p2m_destroy) */
    unsigned long nr_tables;  /* table frames in use, root included */
    unsigned long pool_frames;/* the paging pool: the most nr_tables may reach */
    unsigned long nr_entries; /* leaf entries present */
    u64 max_gfn;              /* highest GFN ever mapped */
    /* Bumped on every change that removes or downgrades a translation:
     * vCPUs that ran with an older value flush their guest TLB (ASID). */
    unsigned long generation;
};

/* An empty map with its root table: 0, or -XEN_ENOMEM. */
int p2m_init(struct p2m *p);
/*
 * Map gfn to mfn with type t (replacing what was there, which is
 * returned through old_mfn/old_t when not NULL): 0, -XEN_EINVAL for a
 * GFN out of range or a bad type, -XEN_ENOMEM when a table is needed and
 * the pool is full or memory is out.
 */
int p2m_set(struct p2m *p, u64 gfn, mfn_t mfn, enum p2m_type t, mfn_t *old_mfn,
            enum p2m_type *old_t);
/* Remove gfn's entry: 0 and what it was, or -XEN_ENOENT when none. */
int p2m_clear(struct p2m *p, u64 gfn, mfn_t *old_mfn, enum p2m_type *old_t);
/* A set of types for p2m_take: P2M_TYPES(p2m_grant_rw) | ... */
#define P2M_TYPE_BIT(t) (1U << (t))
#define P2M_GRANT_TYPES (P2M_TYPE_BIT(p2m_grant_rw) | P2M_TYPE_BIT(p2m_grant_ro))
/*
 * Remove gfn's entry only if its type is one of `types` and, unless mfn
 * is P2M_INVALID_MFN, it maps mfn: 0; -XEN_ENOENT when there is none;
 * -XEN_EINVAL when something else is there (left alone).  What was there
 * is reported through old_mfn/old_t in every case.
 */
int p2m_take(struct p2m *p, u64 gfn, unsigned int types, mfn_t mfn, mfn_t *old_mfn,
             enum p2m_type *old_t);
/*
 * A granted frame placed in the physical map of the domain that mapped it
 * (Xen's create_grant_p2m_mapping through p2m_add_page):
 *  - gfn holding a grant mapping already: -XEN_EPERM, nothing changed
 *    (Xen crashes the domain for it: the caller does);
 *  - `alias` (not P2M_INVALID_GFN): the frame is the mapper's own and its
 *    M2P entry names that GFN: if alias still maps mfn as RAM, that entry
 *    goes first (*dealiased), even when the placement then fails, as on
 *    Xen: a PVH guest mapping its own grant moves the frame;
 *  - then gfn maps mfn as p2m_grant_rw/ro, replacing RAM or a Keel frame
 *    (reported through old_mfn/old_t; the frame stays its owner's): 0, or
 *    -XEN_EINVAL (gfn out of range), -XEN_ENOMEM (no table).
 */
#define P2M_INVALID_GFN (~0ULL)
int p2m_grant_place(struct p2m *p, u64 gfn, mfn_t mfn, bool ro, u64 alias, bool *dealiased,
                    mfn_t *old_mfn, enum p2m_type *old_t);
/* gfn's frame and type; P2M_INVALID_MFN (type p2m_none) when unmapped. */
mfn_t p2m_lookup(struct p2m *p, u64 gfn, enum p2m_type *t);
/*
 * Visit up to `budget` entries from `*cursor` on (a GFN; start at 0),
 * calling each(ctx, gfn, mfn, type) after removing them; *cursor moves
 * past the last one.  Returns 1 when entries remain (call again), 0 when
 * the map is empty; then p2m_destroy frees the tables.
 */
int p2m_drain(struct p2m *p, u64 *cursor, unsigned long budget,
              void (*each)(void *ctx, u64 gfn, mfn_t mfn, enum p2m_type t), void *ctx);
void p2m_destroy(struct p2m *p);
/* The pool size in frames; never below what the tables already use. */
int p2m_set_pool(struct p2m *p, unsigned long frames);
/* Entry encoding (exposed for the unit tests and the fuzzer). */
u64 p2m_leaf(mfn_t mfn, enum p2m_type t);
/* Check every table: counts, entry bits, types (tests): 0, or -1. */
int p2m_verify(struct p2m *p);
#endif
