/*
 * PV direct paging: the rules a guest's page-table entries must obey, and
 * the references each entry holds while it sits in a validated table.
 *
 * A frame a guest uses as a page table is typed L1..L4 in the frame table;
 * the type hooks below (installed with pv_mm_init) check every entry when
 * a frame gains its type and drop what the entries held when it loses it.
 * Per entry:
 *  - L1, present: a RAM frame the domain owns (one general reference, plus
 *    a PGT_writable_page type reference when the entry is writable), or,
 *    for a privileged domain only, a non-RAM (I/O) frame (no reference).
 *  - L2/L3/L4, present: a frame of this domain that can be typed one level
 *    down (general + type reference).  No superpages.  Or, read-only, a
 *    table of the same level (Xen's linear page tables): the table itself
 *    (holds nothing) or another one already in use (general + type
 *    reference, and the linear counts of frametable.h).
 *  - L4 slots 256-271 belong to Keel, whatever the guest wrote there.
 * Whether an existing entry holds references is derived from the frame's
 * state (in use = RAM with references), never stored, so validation and
 * release always agree.
 *
 * Core logic only: it compiles on the host for unit tests.  The arch code
 * supplies the pv_mm_arch_* functions.
 */
#ifndef KEEL_PV_MM_H
#define KEEL_PV_MM_H
#include <keel/frametable.h>
#include <keel/arch.h>

struct domain;

/* x86-64 page-table entry bits the rules talk about. */
#define PTE_P (1UL << 0)
#define PTE_RW (1UL << 1)
#define PTE_US (1UL << 2)
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)
#define PTE_A (1UL << 5)
#define PTE_D (1UL << 6)
#define PTE_PSE (1UL << 7) /* L2/L3: superpage; L1: PAT */
#define PTE_G (1UL << 8)
#define PTE_NX (1UL << 63)
#define PTE_MFN_MASK 0x000ffffffffff000UL
/* Bits 59-62: protection keys, which Keel does not offer.  (52-58 are the
 * guest's own: the CPU ignores them, and Xen accepts them too.) */
#define PTE_HIGH_RSVD 0x7800000000000000UL
/* Keel marks the L1 entries a grant mapping wrote (one of the bits guests
 * may not set, ignored by the CPU without protection keys), so an ordinary
 * update that drops one can be told apart (grant_table.h). */
#define PTE_GNTTAB (1UL << 62)
/* Cache attributes in a leaf: only domains with I/O access choose them. */
#define PTE_CACHE_ATTRS (PTE_PWT | PTE_PCD | PTE_PSE)
/* Non-leaf entries: no superpages, no caching tricks, no global. */
#define PTE_TABLE_DISALLOW (PTE_HIGH_RSVD | PTE_PWT | PTE_PCD | PTE_PSE | PTE_G)

#define PT_SLOTS 512
#define L4_KEEL_FIRST 256 /* L4 slots 256..271 are Keel's */
#define L4_KEEL_END 272

static inline mfn_t pte_mfn(u64 e) { return (e & PTE_MFN_MASK) >> PAGE_SHIFT; }
static inline bool l4_slot_is_keel(unsigned int i)
{
    return i >= L4_KEEL_FIRST && i < L4_KEEL_END;
}

/* ---- supplied by the arch code (or by the unit tests): keel/arch.h */

/* ---- the rules */
/* What is actually written for a guest L1 entry: 64-bit PV kernels run in
 * ring 3, so every mapping must be user-accessible; global mappings would
 * survive the CR3 switch between guest kernel and user, so none. */
u64 pv_l1e_adjust(u64 e);
/* Non-leaf entries: user-accessible too (the walk needs U at every level). */
u64 pv_ltable_adjust(u64 e);

/* Check an L1 entry for domain d and take what it holds: 0, or -XEN_EINVAL
 * (bad bits, no such frame), -XEN_EPERM (I/O frame for an unprivileged
 * domain), -XEN_EBUSY (RAM that is not d's, or a writable mapping of a
 * frame typed as a table or descriptor page). */
int pv_l1e_get(struct domain *d, u64 e);
/* The same for an entry in an L1 table of l1e_owner naming a frame of
 * pg_owner (mmu_update with foreigndom): the flags follow l1e_owner's
 * privilege, RAM must be pg_owner's, device memory needs both privileged.
 * A table validated later takes its entries as its owner's only, so a
 * foreign entry in it is refused then (as Xen). */
int pv_l1e_get_foreign(struct domain *l1e_owner, struct domain *pg_owner, u64 e);
void pv_l1e_put(u64 e);
/* Same for an entry of table `table` at `level` (2..4): the child must
 * become a validated table of level-1, or be a linear entry. */
int pv_lnext_get(struct domain *d, u64 e, unsigned int level, mfn_t table);
void pv_lnext_put(u64 e, unsigned int level, mfn_t table);

/*
 * Replace entry `index` of a validated level-`level` table (slot points at
 * it) with nval for domain d: validated, references taken, swapped in
 * atomically only if the slot still holds `old`, old references dropped.
 * Returns 0, -XEN_EAGAIN if the slot changed meanwhile (nothing done), or
 * the refusal.  With preserve_ad the A/D bits of `old` are kept.
 */
int pv_entry_replace(struct domain *d, u64 *slot, unsigned int level, unsigned int index,
                     u64 old, u64 nval, bool preserve_ad);
/* The same, retrying until the swap happens (a CPU may set A/D bits). */
int pv_entry_update(struct domain *d, u64 *slot, unsigned int level, unsigned int index,
                    u64 nval, bool preserve_ad);
/* pv_entry_update for a table of d whose new entry may name pg_owner's
 * frames: L1 only (-XEN_EINVAL at other levels unless pg_owner == d). */
int pv_entry_update_foreign(struct domain *d, struct domain *pg_owner, u64 *slot,
                            unsigned int level, unsigned int index, u64 nval, bool preserve_ad);
/* Level (1..4) of frame pg if it is a validated page table in use, else 0. */
unsigned int pv_table_level(const struct page_info *pg);

/*
 * mmu_update's writes by machine address, one request at a time, keeping
 * the references of the frame written last: Linux writes whole runs of
 * entries of one table in a batch (fork copies a range's entries, mremap
 * and mprotect rewrite them), and a run pays for the frame's references
 * once.  A request naming another frame drops them first, and nothing
 * else runs on the CPU between two requests, so every request sees the
 * frame exactly as it would with references of its own:
 *  - a validated table in use keeps its type (a general and a type
 *    reference of its level) and the entry is checked and swapped as
 *    pv_entry_update_foreign does;
 *  - any other frame of pt_owner is written plainly under a Keel write
 *    reference (it cannot become a table meanwhile).
 * The caller must call pv_pt_writer_done before it returns to the guest
 * (a continuation included).  0, the request's refusal, or -KEEL_ERESTART
 * (only with w->preemptible).
 */
struct pv_pt_writer {
    struct domain *pt_owner; /* whose tables are written */
    struct domain *pg_owner; /* whose frames L1 entries may name */
    struct page_info *held;  /* general + type reference, or NULL */
    unsigned int held_level; /* its table level; 0: a Keel write reference */
    /* If set, turns a table entry's frame number into a machine frame
     * first (a translated foreign domain's GFN): 0 or the refusal. */
    int (*translate)(const struct pv_pt_writer *w, u64 *val);
    /* Set: validating a new entry's child table may stop part-way, the
     * request then answering -KEEL_ERESTART (nothing written: re-issue it
     * later; the child keeps what it checked, keel/frametable.h). */
    bool preemptible;
    /* With preemptible: an entry's old child table is released
     * preemptibly, the rest parked here if it stops (the request still
     * succeeds; the caller must finish it before its next request). */
    struct page_put_later *later;
};
int pv_pt_write(struct pv_pt_writer *w, u64 maddr, u64 val, bool preserve_ad);
void pv_pt_writer_done(struct pv_pt_writer *w);

/* Type hooks for the frame table; call once before any guest exists. */
void pv_mm_init(void);
/* Level (1..4) of a page-table type, 0 for anything else. */
unsigned int pgt_level(unsigned long type);
unsigned long pgt_of_level(unsigned int level);
#endif
