/*
 * A domain's frames: the list relinquish walks when the domain dies.
 *
 * Every frame whose owner is a domain is counted in its nr_owned and sits
 * on its list, threaded through page_info.list_next/list_prev (MFNs; the
 * free lists use the same fields, but a frame is never on both).  A frame
 * joins at assignment (page_assign, under the lock, refused once the
 * domain is closed) and leaves when its last reference goes (the frame
 * table's release hook), or earlier when relinquish takes it off the list
 * (marked PG_LIST_OFF) to drop the domain's own hold on it; a frame still
 * referenced from elsewhere (a dom0 foreign mapping, a grant) then stays
 * owned — and counted — until that reference goes too.
 *
 * Xen keeps the same per-domain page list; the alternative, a scan of the
 * whole frame table at destruction, would be O(machine memory) per domain.
 *
 * Core logic only: it builds on the host for unit tests and the fuzzer.
 * The embedder (domain.c) owns the domain references: it takes one when
 * nr_owned goes 0 -> 1 and drops it when it goes back to 0, so a domain
 * lives as long as any frame names it as owner.
 */
#ifndef KEEL_DOMAIN_MEM_H
#define KEEL_DOMAIN_MEM_H
#include <keel/frametable.h>
#include <keel/spinlock.h>

#define PG_LIST_OFF 0xfffffffeU /* list_prev of a frame relinquish took */

struct domain_mem {
    spinlock_t lock;
    u32 head, tail;         /* MFNs, PG_LIST_NONE when empty */
    unsigned long nr_owned; /* frames naming the domain as owner */
    unsigned long nr_listed;
    bool closed;            /* dying: no new frames */
    /* A page-table tree whose release stopped part-way (relinquish):
     * finished before anything else, so one tree never has to go in one
     * go (Xen's relinquish_memory does the same). */
    struct page_put_later later;
};

void dmem_init(struct domain_mem *m);
/*
 * Make pg (in use, unowned, no references) d's with PGC_allocated:
 * 0, or -1 when m is closed (pg untouched).  *first: nr_owned went 0 -> 1.
 */
int dmem_assign(struct domain_mem *m, struct page_info *pg, struct domain *d, bool *first);
/* pg's last reference went: off the list; true when it was the last frame. */
bool dmem_release(struct domain_mem *m, struct page_info *pg);
/* No frame joins any more (the domain is dying). */
void dmem_close(struct domain_mem *m);
/*
 * Relinquish up to `budget` frames: each is taken off the list, unpinned,
 * its PGC_allocated reference dropped (`each` is told first, for frames
 * that still had it), and it is freed unless referenced elsewhere.
 * Unpinning a big tree stops when pv_mm says work should yield, the rest
 * parked in m->later for the next call.  Returns the frames still listed,
 * plus one while a release is parked (0: done).
 */
unsigned long dmem_relinquish(struct domain_mem *m, struct domain *d, unsigned long budget,
                              void (*each)(struct page_info *pg, void *ctx), void *ctx);
/* Check the list against the counts (tests): 0, or -1. */
int dmem_verify(struct domain_mem *m, const struct domain *d);
#endif
