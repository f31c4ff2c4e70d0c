/*
 * Per-CPU data.  Each CPU's stack is STACK_SIZE-aligned, and its struct
 * cpu_info sits in the top CPU_INFO_RESERVE bytes, so any code can find its
 * CPU from %rsp alone.  We do not use %gs for this: PV guests own the GS base
 * while Keel runs on their behalf.  Larger per-CPU state lives in variables
 * declared with DEFINE_PER_CPU, one copy per CPU, reached through
 * cpu_info->per_cpu_offset.
 */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H
#include <asm/layout.h>
#include <keel/types.h>

#define NR_CPUS 64

struct vcpu;

struct cpu_info {
    /* Guest register frame and other entry-path fields go first (PV). */
    unsigned int cpu_id;
    u32 apic_id;
    unsigned long per_cpu_offset;
    struct vcpu *current_vcpu;
};

static inline struct cpu_info *get_cpu_info(void)
{
    unsigned long sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    return (struct cpu_info *)((sp | (STACK_SIZE - 1)) + 1 - CPU_INFO_RESERVE);
}

static inline unsigned int smp_processor_id(void)
{
    return get_cpu_info()->cpu_id;
}

extern unsigned long per_cpu_offset[NR_CPUS];

#define DEFINE_PER_CPU(type, name)                                             \
    __section(".data.percpu") __typeof__(type) per_cpu__##name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) per_cpu__##name
#define per_cpu(name, cpu)                                                     \
    (*(__typeof__(per_cpu__##name) *)((char *)&per_cpu__##name + per_cpu_offset[cpu]))
#define this_cpu(name)                                                         \
    (*(__typeof__(per_cpu__##name) *)((char *)&per_cpu__##name +               \
                                      get_cpu_info()->per_cpu_offset))

#endif
