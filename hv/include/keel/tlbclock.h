/*
 * The TLB-flush clock: which CPUs may still hold a stale translation of a
 * frame, so that a frame is never handed out again, or retyped, while some
 * CPU can still reach it through an old mapping.
 *
 * A global clock ticks on every full TLB flush of any CPU.  Each CPU
 * records the time of its last full flush; a frame records the time at
 * which a mapping of it (or a walk through it, for a page table) was last
 * removed.  A CPU whose last flush is not later than a frame's stamp may
 * still hold that frame in its TLB and must flush before the frame is
 * reused; every other CPU is clean.
 *
 * Ordering that makes this exact: the clock is ticked *before* the flush
 * and the CPU's stamp written after it; a frame is stamped *after* its
 * mapping is gone.  So cpu_stamp > frame_stamp means the flush began after
 * the mapping had gone.
 *
 * The clock is 32 bits (fewer in tests, tlbclock_init).  When it would
 * wrap it reads 0 until every CPU has flushed; meanwhile every question
 * "does this CPU need a flush?" answers yes, and flushes tick nothing.
 * The CPU whose tick wrapped the clock must flush every CPU and then call
 * tlbclock_period_done(), which restarts the clock at 1.  A frame stamp
 * from before the wrap is older than that global flush, so a stamp above
 * the current time needs no flush.
 *
 * Core logic only (host-built); the arch code does the flushing.
 */
#ifndef KEEL_TLBCLOCK_H
#define KEEL_TLBCLOCK_H
#include <keel/types.h>

#define TLBCLOCK_CPUS 64
#define TLBCLOCK_FULL_MASK 0xffffffffU

/* Forget everything; the clock wraps past `mask` (all ones in Keel). */
void tlbclock_init(u32 mask);
/* The current time (0 while a wrap is in progress). */
u32 tlbclock_now(void);
/* Before a full flush of this CPU: the stamp the flush will carry.  Sets
 * *wrapped when this tick wrapped the clock (the caller leads the global
 * flush). */
u32 tlbclock_tick(bool *wrapped);
/* After the flush: record it for `cpu`. */
void tlbclock_flushed(unsigned int cpu, u32 stamp);
u32 tlbclock_cpu_stamp(unsigned int cpu);
/* Every CPU has flushed since the clock wrapped: start counting again. */
void tlbclock_period_done(void);

/* May a CPU whose last flush is cpu_stamp still hold what was unmapped
 * at frame_stamp? */
bool tlbclock_need_flush(u32 cpu_stamp, u32 frame_stamp);
/* The CPUs of `cpus` (bit n = CPU n) that may still hold it. */
u64 tlbclock_stale_cpus(u64 cpus, u32 frame_stamp);
/* The stamp covering two frames (one allocation of several frames): the
 * later of the two, ignoring stamps from before the last wrap. */
u32 tlbclock_latest(u32 a, u32 b);

/* Supplied by the arch code: flush every online CPU that may still hold a
 * translation removed at `stamp` (the caller's CPU included), and return
 * only when they have.  Host builds get a no-op unless a test supplies one. */
void tlb_flush_stale(u32 stamp);
#endif
