/* memory_op's sub-ops that live in files of their own. */
#ifndef KEEL_MEMORY_OP_H
#define KEEL_MEMORY_OP_H
#include <keel/types.h>

/* XENMEM_acquire_resource (acquire_resource.c); `start` resumes a
 * continuation at that frame. */
long memop_acquire_resource(unsigned long start, unsigned long arg);
#endif
