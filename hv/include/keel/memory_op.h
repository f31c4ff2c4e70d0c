/* memory_op (hv/common/memory_op.c) and what it needs from the arch. */
#ifndef KEEL_MEMORY_OP_H
#define KEEL_MEMORY_OP_H
#include <keel/types.h>

struct domain;

/* Pages d may hold (XENMEM_maximum_reservation). */
unsigned long memop_reservation_limit(const struct domain *d);
#endif
