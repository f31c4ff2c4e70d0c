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
 *  - Writable and "none" types need no validation: they are valid at once.
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
};

#define PG_LIST_NONE 0xffffffffU

/* count_info */
#define PGC_count_mask 0xffffffffUL
#define PGC_state_shift 60
#define PGC_state_mask (3UL << PGC_state_shift)
#define PGC_state_inuse (0UL << PGC_state_shift)
#define PGC_state_free (1UL << PGC_state_shift)
#define PGC_state_reserved (2UL << PGC_state_shift)
#define PGC_allocated (1UL << 63) /* owned by a domain; holds one reference */

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
#define PGT_count_mask 0xffffffffUL

static inline bool pgt_needs_validation(unsigned long type)
{
    return type >= PGT_l1_page_table && type <= PGT_seg_desc_page;
}

/*
 * Hooks supplied by the PV memory code.  validate: check every entry of a
 * frame about to become `type` and take what the entries need; 0 or < 0.
 * release: undo what validate took.  Without hooks everything validates.
 */
struct page_type_ops {
    int (*validate)(struct page_info *pg, unsigned long type);
    void (*release)(struct page_info *pg, unsigned long type);
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
void put_page_type(struct page_info *pg);
bool get_page_and_type(struct page_info *pg, const struct domain *owner,
                       unsigned long type);
void put_page_and_type(struct page_info *pg);
/* A pin is a type reference kept on the guest's behalf (e.g. a top-level
 * page table); false if already pinned or the type cannot be taken. */
bool page_pin(struct page_info *pg, const struct domain *owner, unsigned long type);
bool page_unpin(struct page_info *pg);

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
#endif
