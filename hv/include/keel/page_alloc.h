/*
 * The buddy allocator over machine frames.  Blocks of 2^order frames,
 * order 0..MAX_ORDER, naturally aligned; free blocks sit on per-order lists
 * threaded through their head frame's page_info.  One lock guards it all.
 */
#ifndef KEEL_PAGE_ALLOC_H
#define KEEL_PAGE_ALLOC_H

#include <keel/frametable.h>

#define MAX_ORDER 18 /* 1 GiB blocks */

/* Give the free frames [mfn, mfn + nr) to the allocator (boot time). */
void heap_add_range(mfn_t mfn, unsigned long nr);
/* A block of 2^order frames (state in-use, no owner, counts 0) or NULL. */
struct page_info *alloc_pages(unsigned int order);
/* Return a block; freeing a frame that is not allocated is a bug. */
void free_pages(struct page_info *pg, unsigned int order);
/* Convenience for Keel's own memory: one zeroed frame by its direct-map VA. */
void *alloc_page_va(void);
void free_page_va(void *va);

unsigned long heap_free_frames(void);
unsigned long heap_total_frames(void);
/* Walk the free lists and check every invariant: 0, or < 0 with a message. */
int heap_verify(void);
/* Forget all state (host tests start each case from scratch). */
void heap_reset(void);
#endif
