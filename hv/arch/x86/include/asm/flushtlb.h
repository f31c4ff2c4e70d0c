/*
 * TLB flushes, timestamped with the TLB-flush clock (keel/tlbclock.h).
 * Keel maps nothing global and uses no PCIDs, so loading CR3 flushes every
 * translation a guest could have left behind; each such load is recorded.
 */
#ifndef ASM_FLUSHTLB_H
#define ASM_FLUSHTLB_H
#include <keel/types.h>

/* Load CR3 (a full flush of this CPU) and record the flush. */
void switch_cr3(unsigned long cr3);
/* A full flush of this CPU. */
void flush_tlb_local(void);
/* A full flush of the CPUs in mask (bit n = CPU n; this one included if
 * set); returns when every one of them has flushed. */
void flush_tlb_mask(u64 mask);
/* Boot: the clock's width (tlbclock_bits= shrinks it to test wraps). */
void flushtlb_init(void);
#endif
