/*
 * The x86 side of memory_op: after a guest gives frames back, TLB entries
 * left behind by an unmap without a flush must not outlive the frame.
 */
#include <asm/cpu.h>
#include <asm/smp.h>
#include <keel/domain.h>
#include <keel/memory_op.h>
#include <keel/sched.h>

static void flush_local(void *unused)
{
    (void)unused;
    /* Guest mappings are never global: reloading CR3 drops them all. */
    write_cr3(read_cr3());
}

void memop_arch_flush_released(struct domain *d)
{
    flush_local(NULL);
    /* Other vCPUs of d may run elsewhere (or have run there). */
    if (d->nr_vcpus > 1 || d != current->domain)
        smp_call_function(flush_local, NULL, true);
}
