/* memory_op (hv/common/memory_op.c) and what it needs from the arch. */
#ifndef KEEL_MEMORY_OP_H
#define KEEL_MEMORY_OP_H
#include <keel/types.h>

struct domain;

/* Pages d may hold (XENMEM_maximum_reservation). */
unsigned long memop_reservation_limit(const struct domain *d);
/* XENMEM_acquire_resource (acquire_resource.c); `start` resumes a
 * continuation at that frame. */
long memop_acquire_resource(unsigned long start, unsigned long arg);
/* Frames of d were released: no CPU may keep a stale translation to them. */
void memop_arch_flush_released(struct domain *d);
/* Give one of d's RAM frames back (it left d's physical map and every
 * CPU's TLB already): false when Keel may not release it. */
bool memop_release_frame(struct domain *d, mfn_t mfn);
#endif
