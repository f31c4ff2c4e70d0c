/*
 * Legacy interrupt controllers.  The 8259s are moved off the exception
 * vectors (a spurious IRQ 7 would otherwise look like #NM) and masked for
 * good.  The IO-APICs are Keel's: every pin starts masked, and a pin is
 * routed (Keel's vector, a physical destination, fixed delivery) only when
 * the PIRQ core asks (hv/arch/x86/irq.c).  dom0 reads them and asks for
 * changes through physdev_op; it never maps them.
 */
#include <asm/apic.h>
#include <asm/io.h>
#include <asm/irq.h>
#include <asm/smp.h>
#include <keel/acpi.h>
#include <keel/console.h>
#include <keel/spinlock.h>

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_VECTOR_BASE 0x20

#define IOAPIC_DEFAULT_ADDR 0xfec00000U
#define IOAPIC_REGSEL 0
#define IOAPIC_WIN (0x10 / 4)
#define IOAPIC_REG_ID 0
#define IOAPIC_REG_VER 1
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))
#define RTE_POLARITY_LOW (1U << 13)
#define RTE_LEVEL (1U << 15)
#define RTE_MASKED (1U << 16)

struct ioapic {
    volatile u32 *regs;
    paddr_t addr;
    u32 id, gsi_base, pins;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned int nr_ioapics;
static spinlock_t ioapic_lock = SPINLOCK_INIT; /* REGSEL/WIN pairs */

/* Port 0x80 is unused: a write gives the old 8259s time between commands. */
static void io_wait(void)
{
    outb(0x80, 0);
}

void pic_disable(void)
{
    static const u8 init[2][4] = {
        /* ICW1: edge, cascade, ICW4 follows; ICW2 base; ICW3; ICW4: 8086 */
        {0x11, PIC_VECTOR_BASE, 0x04, 0x01},
        {0x11, PIC_VECTOR_BASE + 8, 0x02, 0x01},
    };
    static const u16 port[2][2] = {{PIC1_CMD, PIC1_DATA}, {PIC2_CMD, PIC2_DATA}};

    for (int i = 0; i < 4; i++)
        for (int p = 0; p < 2; p++) {
            outb(port[p][i == 0 ? 0 : 1], init[p][i]);
            io_wait();
        }
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

static u32 reg_read(const struct ioapic *a, u32 reg)
{
    a->regs[IOAPIC_REGSEL] = reg;
    return a->regs[IOAPIC_WIN];
}

static void reg_write(const struct ioapic *a, u32 reg, u32 v)
{
    a->regs[IOAPIC_REGSEL] = reg;
    a->regs[IOAPIC_WIN] = v;
}

static void __init ioapic_add(u32 id, paddr_t addr, u32 gsi_base)
{
    struct ioapic *a = &ioapics[nr_ioapics];
    u32 ver;

    a->regs = ioremap(addr, 0x20);
    if (!a->regs) {
        printk(KLOG_ERR "IO-APIC: cannot map %#lx; left as is\n", addr);
        return;
    }
    ver = reg_read(a, IOAPIC_REG_VER);
    /* All-ones: nothing answers at this address (bad firmware data). */
    if (ver == 0xffffffffU) {
        printk(KLOG_WARN "IO-APIC: no device at %#lx; skipped\n", addr);
        return;
    }
    a->addr = addr;
    a->id = id;
    a->gsi_base = gsi_base;
    a->pins = ((ver >> 16) & 0xff) + 1;
    for (u32 pin = 0; pin < a->pins; pin++) {
        reg_write(a, IOAPIC_REDIR(pin), RTE_MASKED);
        reg_write(a, IOAPIC_REDIR(pin) + 1, 0);
    }
    printk("IO-APIC[%u]: id %u at %#lx, version %#x, GSI %u-%u: %u pins masked\n",
           nr_ioapics, id, addr, ver & 0xff, gsi_base, gsi_base + a->pins - 1, a->pins);
    nr_ioapics++;
}

void __init ioapic_init(const struct acpi_info *acpi)
{
    if (!acpi || !acpi->have_madt || !acpi->nr_ioapics) {
        printk("IO-APIC: none listed by ACPI; using the default at %#x\n",
               IOAPIC_DEFAULT_ADDR);
        ioapic_add(0, IOAPIC_DEFAULT_ADDR, 0);
        return;
    }
    for (unsigned int i = 0; i < acpi->nr_ioapics && i < ACPI_MAX_IOAPICS; i++)
        ioapic_add(acpi->ioapics[i].id, acpi->ioapics[i].addr, acpi->ioapics[i].gsi_base);
}

unsigned int ioapic_nr_gsi(void)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < nr_ioapics; i++)
        n = MAX(n, ioapics[i].gsi_base + ioapics[i].pins);
    return n;
}

static struct ioapic *ioapic_of_gsi(unsigned int gsi, u32 *pin)
{
    for (unsigned int i = 0; i < nr_ioapics; i++) {
        struct ioapic *a = &ioapics[i];
        if (gsi >= a->gsi_base && gsi - a->gsi_base < a->pins) {
            *pin = gsi - a->gsi_base;
            return a;
        }
    }
    return NULL;
}

/* Masked pins are written low half first, so the pin is masked before its
 * destination changes; an unmasked one gets its destination first. */
void ioapic_route(unsigned int gsi, u8 vector, bool level, bool active_low, u32 apic_id,
                  bool masked)
{
    u32 pin, lo = vector | (level ? RTE_LEVEL : 0) | (active_low ? RTE_POLARITY_LOW : 0);
    struct ioapic *a = ioapic_of_gsi(gsi, &pin);
    unsigned long f;

    if (!a)
        return;
    f = spin_lock_irqsave(&ioapic_lock);
    reg_write(a, IOAPIC_REDIR(pin), lo | RTE_MASKED);
    reg_write(a, IOAPIC_REDIR(pin) + 1, (apic_id & 0xff) << 24);
    if (!masked)
        reg_write(a, IOAPIC_REDIR(pin), lo);
    spin_unlock_irqrestore(&ioapic_lock, f);
}

void ioapic_mask(unsigned int gsi, bool masked)
{
    u32 pin, lo;
    struct ioapic *a = ioapic_of_gsi(gsi, &pin);
    unsigned long f;

    if (!a)
        return;
    f = spin_lock_irqsave(&ioapic_lock);
    lo = reg_read(a, IOAPIC_REDIR(pin));
    lo = masked ? lo | RTE_MASKED : lo & ~RTE_MASKED;
    reg_write(a, IOAPIC_REDIR(pin), lo);
    spin_unlock_irqrestore(&ioapic_lock, f);
}

/* PHYSDEVOP_apic_read/write name an IO-APIC by its physical address. */
static struct ioapic *ioapic_at(paddr_t physbase)
{
    for (unsigned int i = 0; i < nr_ioapics; i++)
        if (ioapics[i].addr == physbase)
            return &ioapics[i];
    return NULL;
}

int ioapic_guest_read(paddr_t physbase, u32 reg, u32 *val)
{
    struct ioapic *a = ioapic_at(physbase);
    unsigned long f;

    if (!a)
        return -XEN_EINVAL;
    f = spin_lock_irqsave(&ioapic_lock);
    *val = reg_read(a, reg);
    spin_unlock_irqrestore(&ioapic_lock, f);
    return 0;
}

int ioapic_guest_pin(paddr_t physbase, u32 reg, unsigned int *gsi)
{
    struct ioapic *a = ioapic_at(physbase);
    u32 pin;

    if (!a)
        return -XEN_EINVAL;
    if (reg < 0x10 || (reg & 1))
        return 1; /* not the low half of a redirection entry: ignored */
    pin = (reg - 0x10) / 2;
    if (pin >= a->pins)
        return -XEN_EINVAL;
    *gsi = a->gsi_base + pin;
    return 0;
}

u32 ioapic_read_rte(unsigned int gsi)
{
    u32 pin, lo = RTE_MASKED;
    struct ioapic *a = ioapic_of_gsi(gsi, &pin);
    unsigned long f;

    if (a) {
        f = spin_lock_irqsave(&ioapic_lock);
        lo = reg_read(a, IOAPIC_REDIR(pin));
        spin_unlock_irqrestore(&ioapic_lock, f);
    }
    return lo;
}
