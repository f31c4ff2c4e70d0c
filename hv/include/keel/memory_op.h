/* memory_op's sub-ops that live in files of their own. */
#ifndef KEEL_MEMORY_OP_H
#define KEEL_MEMORY_OP_H
#include <keel/types.h>
#include <keel/arch.h>

/* XENMEM_acquire_resource (acquire_resource.c); `start` resumes a
 * continuation at that frame. */
long memop_acquire_resource(unsigned long start, unsigned long arg);
/* Give one of d's RAM frames back (it left d's physical map and every
 * CPU's TLB already): false when Keel may not release it. */
bool memop_release_frame(struct domain *d, mfn_t mfn);
#endif
