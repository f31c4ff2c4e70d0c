/*
 * The frame table: one struct page_info per machine frame, indexed by MFN.
 * It carries what PV memory safety rests on: who owns a frame, how many
 * references to it exist, and what it is currently used as (its type).
 *
 * Invariants (every transition below keeps them):
 *  - count_info's state field says whether the frame is free (in the buddy
 *    allocator), in use, or reserved (never managed: firmware, Keel's image,
 *    boot-time allocations, holes).  Only in-use frames take references.
 *  - A frame allocated to a domain has PGC_allocated set, and that flag owns
 *    one general reference; so the count is >= 1 while a domain owns it, and
 *    a count of 0 means nobody may take a new reference (get_page fails).
 *  - owner changes only while the count is 0 (allocation and freeing), so a
 *    reference holder can trust the owner it checked.
 *  - type_info's type can change only while its type count is 0.  A frame
 *    with a type reference always holds a general reference too (callers
 *    take get_page before get_page_type, and drop in reverse).
 *  - Page-table and descriptor types are checked by a validation hook the
 *    first time the count goes 0 -> 1; PGT_validated is set only after it
 *    succeeded.  While count > 0 and PGT_validated is clear, someone is
 *    validating (or releasing): other users wait.  A failed validation puts
 *    type_info back exactly as it was.
 *  - When a page-table type's count falls to 0, the release hook drops what
 *    the table's entries held, and PGT_validated is cleared, so the next
 *    use validates again.
 *  - Preemptible validation (get_page_type_preemptible) and preemptible
 *    release (put_page_type_preemptible, dropping a table's last type
 *    reference) may stop part-way: the frame is then PGT_partial, with a
 *    type count of exactly 1 and one general reference, both owned by the
 *    flag, and its first nr_validated entries holding their references
 *    (the same state whichever way it was going, as Xen's).  A partial
 *    table is never usable: the next get of the same type (by anyone)
 *    takes the flag's type reference over and validates on from
 *    nr_validated; any other type is refused; page_release_partial goes on
 *    releasing it (a parked release, domain destruction).  With
 *    PG_NR_PARTIAL_CHILD the entry at nr_validated names a child table
 *    this one stopped in (itself PGT_partial, unless someone took it
 *    over): it holds nothing here, but releasing this table finishes it.
 *  - Writable and "none" types need no validation: they are valid at once,
 *    unless the frame had another type before (see TLBs below): then it
 *    stays unvalidated, and other users wait, until the flush is done.
 *  - TLBs (keel/tlbclock.h): tlbflush_stamp is the clock time at which a
 *    mapping of the frame, or a walk through it, was last removed: set when
 *    a domain's frame is freed and when a type count falls to 0.  Before a
 *    frame is handed out again, and before its type changes (0 -> 1 with
 *    another type), every CPU that may still hold such a translation is
 *    flushed, so no CPU can write a frame that became a page table, or
 *    reach a frame that belongs to someone else now.
 *  - Frames Keel itself writes through its direct map hold a Keel write
 *    reference (keel_writes, with a general and a PGT_writable_page type
 *    reference under it) for as long as Keel writes: such a frame can never
 *    be a page table or descriptor page, nor change owner, under Keel.
 * All updates are compare-exchange loops on one word, so no lock is needed.
 */
#ifndef KEEL_FRAMETABLE_H
#define KEEL_FRAMETABLE_H

#include <keel/types.h>

struct domain;

struct page_info {
    unsigned long count_info; /* PGC_* state and flags, general reference count */
    union {
        unsigned long type_info;  /* in use: PGT_* type, flags, type count */
        unsigned long free_order; /* free: order of the block it heads, or ~0 */
    } u;
    struct domain *owner; /* NULL: Keel's own, or free */
    u32 list_next, list_prev; /* MFNs: free lists, or its owner's list */
    union {
        /* Free, or type count 0: TLB clock when last unmapped (tlbclock.h). */
        u32 tlbflush_stamp;
        /* Being validated, or PGT_partial: entries checked so far. */
        u32 nr_validated;
    };
    u32 keel_writes;          /* Keel write references (see above) */
};

#define PG_LIST_NONE 0xffffffffU
/* nr_validated: see the invariants above; PG_NR_ALL: every entry. */
#define PG_NR_PARTIAL_CHILD (1U << 31)
#define PG_NR_ALL 0x7fffffffU

/* count_info */
#define PGC_count_mask 0xffffffffUL
#define PGC_state_shift 60
#define PGC_state_mask (3UL << PGC_state_shift)
#define PGC_state_inuse (0UL << PGC_state_shift)
#define PGC_state_free (1UL << PGC_state_shift)
#define PGC_state_reserved (2UL << PGC_state_shift)
#define PGC_allocated (1UL << 63) /* owned by a domain; holds one reference */
#define PGC_shared (1UL << 62)    /* Keel's, shared with its owner: not in tot_pages */

/* type_info */
#define PGT_type_shift 61
#define PGT_type_mask (7UL << PGT_type_shift)
#define PGT_none (0UL << PGT_type_shift)
#define PGT_l1_page_table (1UL << PGT_type_shift)
#define PGT_l2_page_table (2UL << PGT_type_shift)
#define PGT_l3_page_table (3UL << PGT_type_shift)
#define PGT_l4_page_table (4UL << PGT_type_shift)
#define PGT_seg_desc_page (5UL << PGT_type_shift) /* GDT/LDT frames */
#define PGT_writable_page (6UL << PGT_type_shift)
#define PGT_validated (1UL << 60)
#define PGT_pinned (1UL << 59)
#define PGT_partial (1UL << 58) /* validation stopped part-way (see above) */
/* Linear page tables (pv_mm.h), a signed 16-bit count: > 0, entries of
 * this table that map a table of its own level; < 0, entries of other
 * tables that map this one so.  Never both, so no chain is longer than
 * one step.  Only non-zero while the frame holds a type count. */
#define PGT_linear_shift 32
#define PGT_linear_mask (0xffffUL << PGT_linear_shift)
#define PGT_count_mask 0xffffffffUL

static inline bool pgt_needs_validation(unsigned long type)
{
    return type >= PGT_l1_page_table && type <= PGT_seg_desc_page;
}

/*
 * Hooks supplied by the PV memory code.  validate: check the entries of a
 * frame about to become `type` from pg->nr_validated on and take what they
 * need; 0, < 0 (having dropped what it took, all entries), or, only when
 * `preemptible`, -KEEL_ERESTART with pg->nr_validated saying how far it
 * got (those entries keep what they hold).  release: undo what validate
 * took for the first pg->nr_validated entries (PG_NR_ALL: all), last
 * first; 0, or, only when `preemptible`, -KEEL_ERESTART with
 * pg->nr_validated saying which entries still hold theirs.  Without
 * hooks everything validates.  should_yield: preemptible work should stop
 * now (other work is pending); NULL: never.
 */
struct page_type_ops {
    int (*validate)(struct page_info *pg, unsigned long type, bool preemptible);
    int (*release)(struct page_info *pg, unsigned long type, bool preemptible);
    bool (*should_yield)(void);
};
void page_type_set_ops(const struct page_type_ops *ops);

extern struct page_info *frame_table;
extern unsigned long frame_table_nr; /* frames covered: MFNs below this */

static inline struct page_info *mfn_to_page(mfn_t mfn) { return frame_table + mfn; }
static inline mfn_t page_to_mfn(const struct page_info *pg)
{
    return (mfn_t)(pg - frame_table);
}
static inline bool mfn_valid(mfn_t mfn) { return mfn < frame_table_nr; }

#ifdef KEEL_HOST
/* Host tests back "machine memory" with a buffer: frame n at base + n pages. */
extern u8 *host_directmap;
#define mfn_to_virt(m) ((void *)(host_directmap + ((u64)(m) << PAGE_SHIFT)))
#define virt_to_mfn(v) ((mfn_t)(((u8 *)(v)-host_directmap) >> PAGE_SHIFT))
#else
#include <asm/layout.h>
#define mfn_to_virt(m) __va((paddr_t)(m) << PAGE_SHIFT)
#define virt_to_mfn(v) ((mfn_t)(__pa(v) >> PAGE_SHIFT))
#endif

static inline unsigned long page_state(const struct page_info *pg)
{
    return READ_ONCE(pg->count_info) & PGC_state_mask;
}

/* Every frame starts reserved; the allocator is given the free ones. */
void frametable_init(struct page_info *table, unsigned long nr_frames);

/* General references.  get_page fails (false) for a free or unowned frame,
 * a wrong owner, or a count at its limit. */
bool get_page(struct page_info *pg, const struct domain *owner);
void put_page(struct page_info *pg);

/* Type references; false when the frame has another type in use, the
 * count is at its limit, or validation refused. */
bool get_page_type(struct page_info *pg, unsigned long type);
/* The same with Xen's answer: 0, -XEN_EINVAL (another type in use, or
 * the count at its limit) or what validation said. */
int get_page_type_err(struct page_info *pg, unsigned long type);
/* The same, but validation stops when hypercall work should yield (the
 * type ops' preempt check): -KEEL_ERESTART means "call again" (the frame
 * may be left PGT_partial, keeping what was checked).  A refusal may also
 * leave it PGT_partial (see page_park_partial).  For callers that can
 * continue a hypercall. */
int get_page_type_preemptible(struct page_info *pg, unsigned long type);
/* Release what a PGT_partial frame holds (no-op for any other frame):
 * 0, or (preemptible) -KEEL_ERESTART, the frame still partial. */
int page_release_partial(struct page_info *pg, bool preemptible);
/* The same, in one go (domain destruction). */
void page_drop_partial(struct page_info *pg);
/* A type reference on a frame that is a validated, in-use `type` right
 * now, with nothing else tried (no validation, no wait). */
bool get_page_type_in_use(struct page_info *pg, unsigned long type);
/* The linear counts (see PGT_linear_mask): false when the frame is on
 * the other side already, or the count would overflow. */
bool page_linear_inc_entries(struct page_info *pg);
void page_linear_dec_entries(struct page_info *pg);
bool page_linear_inc_uses(struct page_info *pg);
void page_linear_dec_uses(struct page_info *pg);
static inline int page_linear_count(const struct page_info *pg)
{
    return (s16)((READ_ONCE(pg->u.type_info) & PGT_linear_mask) >> PGT_linear_shift);
}
void put_page_type(struct page_info *pg);
/* The same, but releasing a table (its last type reference) stops when
 * work should yield: -KEEL_ERESTART, the frame left PGT_partial (the type
 * reference is the flag's now; finish with page_release_partial). */
int put_page_type_preemptible(struct page_info *pg);
/* Drop a type reference on a table (the caller keeps its general one)
 * without releasing it: if it was the last on a validated L2-L4, the
 * table becomes PGT_partial with every entry checked (nr_validated
 * PG_NR_ALL), so the next get of its type takes it over at once.  For a
 * call that validated a root and must continue before it can keep it. */
void put_page_type_keep(struct page_info *pg);
/*
 * A release parked for later (Xen's old_guest_table): a general reference
 * on pg, and either a type reference (partial false) or the claim to
 * finish pg's PGT_partial release (partial true; void if someone took the
 * frame over meanwhile).  One per vCPU: mmu_update and mmuext_op finish
 * it before anything else, continuing the hypercall until it is done.
 */
struct page_put_later {
    struct page_info *pg; /* NULL: nothing parked */
    bool partial;
};
void page_put_later_set(struct page_put_later *l, struct page_info *pg, bool partial);
/* Go on with it: 0 (nothing left; l empty) or -KEEL_ERESTART. */
int page_put_later_run(struct page_put_later *l, bool preemptible);
/* After get_page_type_preemptible refused: the refusal may have left pg
 * PGT_partial (earlier entries holding theirs, as Xen's promote leaves
 * them).  Parks its release in l, the caller's general reference going
 * with it (true), or (false: the caller keeps its reference) finds it
 * not partial, or releases it in one go when l is NULL or taken. */
bool page_park_partial(struct page_info *pg, struct page_put_later *l);
/* put_page_and_type, preemptibly: 0, or -KEEL_ERESTART with the rest
 * parked in l (which must be empty). */
int put_page_and_type_later(struct page_info *pg, struct page_put_later *l);
bool get_page_and_type(struct page_info *pg, const struct domain *owner,
                       unsigned long type);
void put_page_and_type(struct page_info *pg);
/* A pin is a type reference kept on the guest's behalf (e.g. a top-level
 * page table); false if already pinned or the type cannot be taken. */
bool page_pin(struct page_info *pg, const struct domain *owner, unsigned long type);
/* The same with Xen's answer: 0, -XEN_EINVAL (not the owner's, already
 * pinned, another type) or what validation said. */
int page_pin_err(struct page_info *pg, const struct domain *owner, unsigned long type);
/* ... validating preemptibly: also -KEEL_ERESTART (not pinned; call again).
 * A refusal undoes what was validated in one go; with the _later variant
 * (l empty) the undo may be parked in l instead, as Xen's. */
int page_pin_preemptible(struct page_info *pg, const struct domain *owner, unsigned long type);
int page_pin_preemptible_later(struct page_info *pg, const struct domain *owner,
                               unsigned long type, struct page_put_later *l);
bool page_unpin(struct page_info *pg);
/* The same, releasing preemptibly (what is left parked in l). */
bool page_unpin_later(struct page_info *pg, struct page_put_later *l);

/*
 * Hand a frame (in use, unowned, no references) to a domain with
 * PGC_allocated and its reference: false when the domain takes no more
 * frames (it is dying), the frame untouched.  page_unassign takes it back
 * (drops PGC_allocated's reference).
 */
bool page_assign(struct page_info *pg, struct domain *d);
void page_unassign(struct page_info *pg);
/* Clear PGC_allocated if set; true if it was (the caller then owns the
 * reference it held and drops it with put_page). */
bool page_clear_allocated(struct page_info *pg);
/* What page_assign does to the frame itself, for the owner hooks. */
void page_set_owner(struct page_info *pg, struct domain *d);

/*
 * Owner bookkeeping (the domain layer's frame lists, keel/domain_mem.h).
 * assign: does page_assign's work (calling page_set_owner) or refuses.
 * release: a frame's last reference went, before it is freed; returns true
 * if it was the owner's last frame, and then released(owner) follows once
 * the frame is back in the allocator.  Without hooks, page_assign just
 * sets the owner.
 */
struct page_owner_ops {
    bool (*assign)(struct page_info *pg, struct domain *d);
    bool (*release)(struct page_info *pg, struct domain *d);
    void (*released)(struct domain *d);
};
void page_owner_set_ops(const struct page_owner_ops *ops);

/*
 * Taking frames back for "all or nothing" operations, one frame at a time,
 * so that a frame named twice is caught by its second claim:
 *  - page_claim: clear PGC_allocated of a frame d owns (its reference is
 *    now the caller's; mappings keep it alive); false if not d's, or
 *    already claimed.  Undo with page_unclaim, or commit with put_page.
 *  - page_steal: the same, only for a frame that nothing else references
 *    (unmapped, untyped, unpinned, not written by Keel); afterwards nobody
 *    can take a reference.  Undo with page_unsteal, or page_free_stolen.
 */
bool page_claim(struct page_info *pg, const struct domain *d);
void page_unclaim(struct page_info *pg);
bool page_steal(struct page_info *pg, const struct domain *d);
void page_unsteal(struct page_info *pg);
void page_free_stolen(struct page_info *pg);

/*
 * The one way Keel gets a frame it will write through its direct map
 * (shared_info, vcpu_info areas, grant frames, the hypercall page while it
 * is filled, rings): a general and a PGT_writable_page type reference plus
 * a Keel write reference.  false (nothing taken) when the frame is not the
 * owner's, or is a page table or descriptor page right now.
 */
bool get_page_keel_write(struct page_info *pg, const struct domain *owner);
void put_page_keel_write(struct page_info *pg);
/* The same for a caller that already holds a general reference. */
bool get_page_type_keel_write(struct page_info *pg);
void put_page_type_keel_write(struct page_info *pg);
static inline u32 page_keel_writes(const struct page_info *pg)
{
    return __atomic_load_n(&pg->keel_writes, __ATOMIC_ACQUIRE);
}
/* A fresh frame Keel allocated for d and keeps writing into (shared_info,
 * grant frames): assigned to d with a Keel write reference and PGC_shared
 * (not in tot_pages); false, untouched, when d takes no more frames. */
bool page_share_with_guest(struct page_info *pg, struct domain *d);
/* ... and its end: the Keel write reference and the domain's go. */
void page_unshare(struct page_info *pg);
#endif
