/*
 * TEMPORARY stand-ins for services other subsystems provide (traps: IDT and
 * vector handlers; mem: AP stacks, MMIO mappings).  All weak: the real
 * definitions replace them at link time, after which this file and
 * smp_fallback_entry.S can be deleted.
 */
#include <asm/apic.h>
#include <asm/layout.h>
#include <asm/smp.h>
#include <keel/console.h>

#define FALLBACK_STACKS 16
#define FALLBACK_MMIO_LIMIT (1UL << 32) /* what the boot page tables map */

struct idt_gate {
    u16 off0, sel;
    u8 ist, type;
    u16 off1;
    u32 off2, reserved;
} __packed;

extern const u8 smp_fallback_stubs[];
void smp_fallback_irq(unsigned long vector);
__noreturn void smp_fallback_exception(unsigned long vector, const unsigned long *frame);

static struct idt_gate idt[256] __aligned(16);
static void (*handlers[256])(void);
static bool idt_built;

static void idt_load(void)
{
    struct __packed {
        u16 limit;
        u64 base;
    } desc = {sizeof(idt) - 1, (u64)(uintptr_t)idt};
    u16 cs;

    if (!idt_built) {
        __asm__("mov %%cs, %0" : "=r"(cs));
        for (int v = 0; v < 256; v++) {
            u64 a = (u64)(uintptr_t)(smp_fallback_stubs + 16 * v);
            idt[v] = (struct idt_gate){(u16)a, cs, 0, 0x8e, (u16)(a >> 16), (u32)(a >> 32), 0};
        }
        idt_built = true;
    }
    __asm__ __volatile__("lidt %0" ::"m"(desc));
}

void smp_fallback_irq(unsigned long vector)
{
    if (handlers[vector & 0xff])
        handlers[vector & 0xff]();
    else
        lapic_eoi();
}

void smp_fallback_exception(unsigned long vector, const unsigned long *frame)
{
    if (vector == 2)
        smp_nmi_stop_check();
    panic("CPU%u: exception %lu (stand-in IDT), frame %#lx %#lx %#lx", smp_processor_id(),
          vector, frame[0], frame[1], frame[2]);
}

__attribute__((weak)) void traps_init_cpu(unsigned int cpu)
{
    (void)cpu;
    idt_load();
}

__attribute__((weak)) void set_irq_handler(u8 vector, void (*fn)(void))
{
    handlers[vector] = fn;
    idt_load(); /* the boot CPU registers first: give it the IDT then */
}

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
