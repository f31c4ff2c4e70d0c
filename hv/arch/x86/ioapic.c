/*
 * Legacy interrupt controllers.  Keel takes no device interrupts of its own
 * yet, so both are silenced: the 8259s are moved off the exception vectors
 * (a spurious IRQ 7 would otherwise look like #NM) and masked, and every
 * IO-APIC pin is masked until something asks for it.
 */
#include <asm/apic.h>
#include <asm/io.h>
#include <asm/smp.h>
#include <keel/acpi.h>
#include <keel/console.h>

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
#define IOAPIC_MASKED (1U << 16)

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

static u32 ioapic_read(volatile u32 *regs, u32 reg)
{
    regs[IOAPIC_REGSEL] = reg;
    return regs[IOAPIC_WIN];
}

static void ioapic_write(volatile u32 *regs, u32 reg, u32 v)
{
    regs[IOAPIC_REGSEL] = reg;
    regs[IOAPIC_WIN] = v;
}

static void ioapic_mask_one(unsigned int idx, u32 id, paddr_t addr, u32 gsi_base)
{
    volatile u32 *regs = ioremap(addr, 0x20);
    u32 ver, pins;

    if (!regs) {
        printk(KLOG_ERR "IO-APIC[%u]: cannot map %#lx; left as is\n", idx, addr);
        return;
    }
    ver = ioapic_read(regs, IOAPIC_REG_VER);
    /* All-ones: nothing answers at this address (bad firmware data). */
    if (ver == 0xffffffffU) {
        printk(KLOG_WARN "IO-APIC[%u]: no device at %#lx; skipped\n", idx, addr);
        return;
    }
    pins = ((ver >> 16) & 0xff) + 1;
    for (u32 pin = 0; pin < pins; pin++) {
        ioapic_write(regs, IOAPIC_REDIR(pin) + 1, 0);
        ioapic_write(regs, IOAPIC_REDIR(pin), IOAPIC_MASKED);
    }
    printk("IO-APIC[%u]: id %u at %#lx, version %#x, GSI %u-%u: %u pins masked\n", idx,
           id, addr, ver & 0xff, gsi_base, gsi_base + pins - 1, pins);
}

void ioapic_mask_all(const struct acpi_info *acpi)
{
    if (!acpi || !acpi->have_madt || !acpi->nr_ioapics) {
        printk("IO-APIC: none listed by ACPI; using the default at %#x\n",
               IOAPIC_DEFAULT_ADDR);
        ioapic_mask_one(0, 0, IOAPIC_DEFAULT_ADDR, 0);
        return;
    }
    for (unsigned int i = 0; i < acpi->nr_ioapics; i++)
        ioapic_mask_one(i, acpi->ioapics[i].id, acpi->ioapics[i].addr,
                        acpi->ioapics[i].gsi_base);
}
