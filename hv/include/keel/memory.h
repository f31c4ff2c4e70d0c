/*
 * A domain's memory on hypervisor types: frames joining and leaving it
 * (reservations, exchange), tot_pages and the M2P.  memory_op.c copies the
 * guest's lists in and out and calls these one extent (or one exchange) at
 * a time; they never touch guest memory, so the host tests and fuzzes them.
 *
 * Rules they keep:
 *  - A domain holds at most mem_limit(d) frames; Keel keeps
 *    MEM_KEEL_RESERVE frames free whatever guests ask.
 *  - New frames are zeroed before anyone can see them, with no lock held.
 *  - Taking frames away is all or nothing per extent (exchange: per call)
 *    and claims each frame on its own (frametable.h), so a frame named
 *    twice, or two overlapping extents, can never be released twice.
 *  - Frames Keel writes into, and pinned tables, never go back.
 *  - tot_pages counts the frames d owns, Keel's shared ones aside, until
 *    they are freed: one given back while still mapped counts until its
 *    last mapping goes (as on Xen), so mappings cannot stretch a domain
 *    past its limit.
 * d->page_lock serialises the limit check with frames joining d; frames
 * leave tot_pages when freed (atomically, mem_frame_freed from the frame
 * table's owner hook).  A dying domain takes no new frames.
 */
#ifndef KEEL_MEMORY_H
#define KEEL_MEMORY_H
#include <keel/frametable.h>

struct domain;

#define MEM_KEEL_RESERVE 1024      /* frames never handed to guests */
#define MEM_DOMU_MAX_ORDER 9       /* largest extent: 2 MiB (Xen's default) */
#define MEM_DOM0_MAX_ORDER 12      /* 16 MiB for the control domain */
#define MEM_EXCHANGE_MAX_FRAMES 512 /* per exchange (Linux's largest: 2 MiB) */
/* Pseudo-physical frame numbers a guest may name: below 2^40. */
#define MEM_MAX_GUEST_PFN (1UL << (52 - PAGE_SHIFT))

/* From the frame table's owner hook: a frame of d's was freed. */
void mem_frame_freed(struct domain *d, const struct page_info *pg);
/* Frames d may hold (XENMEM_maximum_reservation). */
unsigned long mem_limit(const struct domain *d);
/* Largest extent order d may ask for (the caller checks: dom0 may
 * populate another domain with its own limit, as on Xen). */
unsigned int mem_max_order(const struct domain *d);

/* One extent: its size and where it may lie. */
struct mem_extent {
    unsigned int order;
    unsigned int address_bits; /* 0: anywhere */
};

/*
 * A fresh zeroed extent for d, its M2P entries from pfn on (or none with
 * INVALID_M2P_ENTRY): 0 and *mfn, or -XEN_ENOMEM (out of memory, over d's
 * limit, none low enough, d shutting down).
 */
long mem_populate(struct domain *d, const struct mem_extent *e, unsigned long pfn,
                  mfn_t *mfn);
/* Take back an extent mem_populate just gave (the guest never learnt). */
void mem_unpopulate(struct domain *d, unsigned int order, mfn_t mfn);
/*
 * decrease_reservation of one extent of 2^order frames from `first`: all
 * of them go, or none (-XEN_EINVAL).  Still-mapped frames are fine: they
 * are freed when their last mapping goes.
 */
long mem_release(struct domain *d, unsigned int order, xen_pfn_t first);

/*
 * XENMEM_exchange: n_in extents of 2^in_order frames (in[]) for n_out new
 * extents `out` (M2P from out_pfn[]; their MFNs into out_mfn[]).  All or
 * nothing: 0; -XEN_EPERM (an order too big for d); -XEN_EINVAL (sizes that
 * differ or exceed the limit, a frame that is not d's, still mapped or
 * typed, or named twice); -XEN_ENOMEM.
 */
long mem_exchange(struct domain *d, unsigned int in_order, const xen_pfn_t *in,
                  unsigned long n_in, const struct mem_extent *out, const xen_pfn_t *out_pfn,
                  unsigned long n_out, mfn_t *out_mfn);
#endif
