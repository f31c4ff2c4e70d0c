/* Local APIC: mode selection, register access, EOI and IPIs. */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/layout.h>
#include <asm/page.h>
#include <keel/console.h>

#define APIC_BASE_ENABLE (1UL << 11)
#define APIC_BASE_X2APIC (1UL << 10)
#define X2APIC_MSR(reg) (0x800 + ((reg) >> 4))

static bool x2apic;
/* xAPIC registers: one uncached mapping, shared by every CPU (the APIC
 * page is at the same physical address on each). */
static volatile u32 *xapic_regs;

bool lapic_x2apic_mode(void)
{
    return x2apic;
}

u32 apic_read(u32 reg)
{
    if (x2apic)
        return (u32)rdmsr(X2APIC_MSR(reg));
    return xapic_regs[reg / 4];
}

void apic_write(u32 reg, u32 v)
{
    if (x2apic)
        wrmsr(X2APIC_MSR(reg), v);
    else
        xapic_regs[reg / 4] = v;
}

u32 lapic_id(void)
{
    u32 id = apic_read(APIC_ID);
    return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void lapic_send_icr(u32 apic_id, u32 icr_low)
{
    if (x2apic) {
        /* One 64-bit MSR write; no busy bit in x2APIC mode. */
        wrmsr(X2APIC_MSR(APIC_ICR), ((u64)apic_id << 32) | icr_low);
        return;
    }
    while (apic_read(APIC_ICR) & ICR_BUSY)
        __asm__ __volatile__("pause");
    apic_write(APIC_ICR2, apic_id << 24);
    apic_write(APIC_ICR, icr_low);
}

void lapic_init(void)
{
    u64 base = rdmsr(MSR_APIC_BASE);
    bool has_x2apic = cpuid(1).ecx & (1U << 21);

    base |= APIC_BASE_ENABLE;
    if (has_x2apic)
        base |= APIC_BASE_X2APIC;
    wrmsr(MSR_APIC_BASE, base);
    x2apic = has_x2apic;
    if (!x2apic && !xapic_regs)
        xapic_regs = ioremap(base & 0xfffff000UL, PAGE_SIZE);
    BUG_ON(!x2apic && !xapic_regs);

    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
    apic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
    apic_write(APIC_LVT_ERROR, VECTOR_APIC_ERROR);
    apic_write(APIC_ESR, 0);
    apic_write(APIC_SVR, 0x100 | VECTOR_SPURIOUS); /* software enable */
    lapic_eoi();
}
