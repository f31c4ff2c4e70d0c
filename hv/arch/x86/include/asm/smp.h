/*
 * SMP: which CPUs are up, how to reach them, and the dependencies SMP
 * bring-up has on other subsystems.  CPU numbers are Keel's own (0 = the
 * boot CPU, then MADT order); APIC ids are the hardware's.
 */
#ifndef ASM_SMP_H
#define ASM_SMP_H

/* Physical page the AP real-mode trampoline is copied to (SIPI vector 8). */
#define TRAMPOLINE_PA 0x8000

#ifndef __ASSEMBLER__
#include <asm/percpu.h>
#include <asm/page.h>
#include <keel/types.h>

BUILD_BUG_ON(NR_CPUS > 64); /* cpu_online_mask is one word */

extern u64 cpu_online_mask;
extern u32 cpu_to_apic_id[NR_CPUS];

/* No libgcc: __builtin_popcount would call it without -mpopcnt. */
static inline unsigned int cpumask_weight(u64 mask)
{
    unsigned int n = 0;

    for (; mask; mask &= mask - 1)
        n++;
    return n;
}

static inline bool cpu_online(unsigned int cpu)
{
    return cpu < NR_CPUS && (__atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) >> cpu) & 1;
}

static inline unsigned int num_online_cpus(void)
{
    return cpumask_weight(__atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE));
}

#define for_each_online_cpu(c)                                                 \
    for ((c) = 0; (c) < NR_CPUS; (c)++)                                        \
        if (cpu_online(c))

/* Boot CPU: per-CPU area bookkeeping; then bring up the APs from the MADT. */
void percpu_init(void);
int percpu_alloc(unsigned int cpu);
void smp_init(void);

/* Kick a CPU so it looks at its softirqs. */
void smp_send_event_check(unsigned int cpu);
/*
 * Run fn(data) on every other online CPU (or those of mask), in interrupt
 * context or from a loop where the CPU waits for another (spin_relax).
 * With wait, return once all have finished, else once all have started.
 * Never gives up on a CPU that is online; returns 0.  fn must take no
 * lock and never wait for another CPU.
 */
int smp_call_function(void (*fn)(void *), void *data, bool wait);
int smp_call_function_mask(u64 mask, void (*fn)(void *), void *data, bool wait);
/* Park every other CPU for good (machine_halt).  Safe to race with itself. */
void smp_stop_others(void);
/* For the NMI handler: parks this CPU if smp_stop_others asked for it. */
void smp_nmi_stop_check(void);
struct regs;
/* Records where this CPU is if a stuck cross-CPU call asked (NMI). */
bool smp_nmi_stuck_check(const struct regs *r);

/* Busy-wait helpers (TSC calibrated against the PIT at smp_init). */
void smp_udelay(unsigned long us);

#endif
#endif
