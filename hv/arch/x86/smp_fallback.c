/*
 * TEMPORARY stand-ins for what the mem subsystem provides (AP stacks, MMIO
 * mappings).  Weak: the real definitions replace them at link time.
 */
#include <asm/layout.h>
#include <asm/smp.h>
#include <keel/console.h>

#define FALLBACK_STACKS 16
#define FALLBACK_MMIO_LIMIT (1UL << 32) /* what the boot page tables map */

/* No guard page here: the boot page tables have no holes to make one. */
__attribute__((weak)) void *alloc_cpu_stack(unsigned int cpu)
{
    static u8 stacks[FALLBACK_STACKS][STACK_SIZE] __aligned(STACK_SIZE);
    static unsigned int used;

    (void)cpu;
    return used < FALLBACK_STACKS ? stacks[used++] : NULL;
}

/* The boot page tables map the low 4 GiB at the direct map, cacheable;
 * QEMU does not care, real hardware needs the mem subsystem's version. */
__attribute__((weak)) void *ioremap(paddr_t pa, size_t size)
{
    if (pa >= FALLBACK_MMIO_LIMIT || size > FALLBACK_MMIO_LIMIT - pa)
        return NULL;
    return __va(pa);
}
