/*
 * What the toolstack learns about the machine (sysctl physinfo,
 * cputopoinfo, getdomaininfo's address width), from CPUID and Keel's own
 * bookkeeping.
 *
 * Topology: Keel does not parse the CPU topology leaves; every CPU is
 * reported as its own socket with one core and one thread, which is what
 * QEMU's default -smp N is, and what keeps libxl's placement arithmetic
 * (nr_cpus = sockets * cores * threads) consistent on any machine.
 */
#define __XEN_TOOLS__ 1
#include <asm/cpu.h>
#include <asm/smp.h>
#include <keel/domctl.h>
#include <keel/frametable.h>
#include <keel/page_alloc.h>
#include <keel/time.h>

static unsigned int max_online_cpu(void)
{
    unsigned int cpu, last = 0;

    for_each_online_cpu(cpu)
        last = cpu;
    return last;
}

void arch_host_facts(struct host_facts *h)
{
    struct cpuid_regs r1 = cpuid(1), e1 = {0, 0, 0, 0};

    memset(h, 0, sizeof(*h));
    h->nr_cpus = num_online_cpus();
    h->max_cpu_id = max_online_cpu();
    h->threads_per_core = 1;
    h->cores_per_socket = 1;
    h->cpu_khz = (u32)tsc_khz();
    h->total_pages = heap_total_frames();
    h->free_pages = heap_free_frames();
    h->max_mfn = frame_table_nr ? frame_table_nr - 1 : 0;
    if (cpuid(0x80000000).eax >= 0x80000001)
        e1 = cpuid(0x80000001);
    /* The first words of Xen's featureset: 1.edx, 1.ecx, e1.edx, e1.ecx. */
    h->hw_cap[0] = r1.edx;
    h->hw_cap[1] = r1.ecx;
    h->hw_cap[2] = e1.edx;
    h->hw_cap[3] = e1.ecx;
}

u8 arch_gpaddr_bits(void)
{
    if (cpuid(0x80000000).eax < 0x80000008)
        return 36;
    struct cpuid_regs r = cpuid(0x80000008);
    /* Guest physical bits if the CPU says, else its physical bits. */
    return (u8)((r.eax >> 16) & 0xff ? (r.eax >> 16) & 0xff : r.eax & 0xff);
}

u8 arch_paddr_bits(void)
{
    if (cpuid(0x80000000).eax < 0x80000008)
        return 36;
    return (u8)(cpuid(0x80000008).eax & 0xff);
}

void arch_cpu_topology(unsigned int cpu, u32 *core, u32 *socket)
{
    *core = 0;
    *socket = cpu;
}
