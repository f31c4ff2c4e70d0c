/*
 * Per-CPU areas.  CPU 0 uses the .data.percpu template in place; every
 * other CPU gets a copy, and per_cpu_offset[cpu] = copy - template.  Copies
 * come from a pristine snapshot taken at percpu_init, so they start from
 * the static initialisers, not from whatever CPU 0 has written since.
 */
#include <asm/percpu.h>
#include <asm/smp.h>
#include <keel/console.h>

/* Copies keep the template's page offset, so any alignment up to a page
 * that a per-CPU variable asks for still holds in every copy. */
#define PERCPU_POOL_SIZE (256UL * 1024)

extern char __per_cpu_start[], __per_cpu_end[];

static u8 percpu_pool[PERCPU_POOL_SIZE] __aligned(PAGE_SIZE);
static size_t pool_used;
static u8 *pristine;

static size_t template_size(void)
{
    return (size_t)(__per_cpu_end - __per_cpu_start);
}

/* Carves size bytes whose address matches the template modulo a page. */
static u8 *pool_take(size_t size)
{
    uintptr_t base = (uintptr_t)percpu_pool + pool_used;
    uintptr_t want = ALIGN_DOWN(base, PAGE_SIZE) + ((uintptr_t)__per_cpu_start & (PAGE_SIZE - 1));

    if (want < base)
        want += PAGE_SIZE;
    if (want + size > (uintptr_t)percpu_pool + PERCPU_POOL_SIZE)
        return NULL;
    pool_used = want + size - (uintptr_t)percpu_pool;
    return (u8 *)want;
}

void percpu_init(void)
{
    struct cpu_info *ci = get_cpu_info();

    ci->cpu_id = 0;
    ci->per_cpu_offset = 0;
    per_cpu_offset[0] = 0;
    pristine = pool_take(template_size());
    if (!pristine)
        panic("per-CPU template (%zu bytes) exceeds the pool", template_size());
    memcpy(pristine, __per_cpu_start, template_size());
    printk(KLOG_DEBUG "percpu: %zu-byte template at %p\n", template_size(),
           (void *)__per_cpu_start);
}

int percpu_alloc(unsigned int cpu)
{
    u8 *copy;

    if (cpu == 0 || cpu >= NR_CPUS || !pristine)
        return -1;
    if (per_cpu_offset[cpu])
        return 0; /* an earlier attempt for this CPU number left one */
    copy = pool_take(template_size());
    if (!copy)
        return -1;
    memcpy(copy, pristine, template_size());
    per_cpu_offset[cpu] = (unsigned long)(copy - (u8 *)__per_cpu_start);
    return 0;
}
