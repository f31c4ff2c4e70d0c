/*
 * Ways out: halting (tests read the status through QEMU's isa-debug-exit),
 * powering off through ACPI (the PM1 control values dom0 computed, as Xen
 * takes them in XENPF_enter_acpi_sleep), and resetting the machine (the
 * FADT's reset register, then the keyboard controller, the PCI reset
 * port 0xcf9, and at last a triple fault).
 */
#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/page.h>
#include <asm/pci.h>
#include <asm/smp.h>
#include <keel/acpi.h>
#include <keel/console.h>
#include <keel/options.h>
#include <keel/shutdown.h>

#define DEBUG_EXIT_PORT 0xf4
#define KBC_STATUS 0x64     /* i8042: status (read), command (write) */
#define KBC_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xfe
#define RESET_CONTROL 0xcf9 /* chipset reset control (PIIX, ICH) */
#define ACPI_SLP_EN (1U << 13)

static __noreturn void stop_here(void)
{
    for (;;)
        halt();
}

void machine_halt(enum keel_exit code)
{
    local_irq_disable();
    smp_stop_others();
    printk("Keel halted (status %d)\n", code);
    if (opts.debug_exit)
        outl(DEBUG_EXIT_PORT, code);
    stop_here();
}

void machine_power_off(u16 pm1a, u16 pm1b)
{
    const struct acpi_info *ai = acpi_get_info();

    /* Under test, a clean halt says more than a vanished machine. */
    if (opts.debug_exit || !ai || !ai->pm1a_cnt)
        machine_halt(KEEL_EXIT_OK);
    local_irq_disable();
    smp_stop_others();
    printk("Keel: powering off through ACPI\n");
    if (ai->pm1b_cnt)
        outw((u16)ai->pm1b_cnt, pm1b | ACPI_SLP_EN);
    outw((u16)ai->pm1a_cnt, pm1a | ACPI_SLP_EN);
    smp_udelay(1000000);
    printk(KLOG_ERR "Keel: still powered after ACPI S5; halted\n");
    stop_here();
}

static void acpi_reset(const struct acpi_info *ai)
{
    volatile u8 *reg;

    if (!ai || !ai->reset_supported)
        return;
    switch (ai->reset_space) {
    case ACPI_SPACE_IO:
        outb((u16)ai->reset_addr, ai->reset_value);
        break;
    case ACPI_SPACE_MEMORY:
        if ((reg = ioremap(ai->reset_addr, 1)))
            *reg = ai->reset_value;
        break;
    case ACPI_SPACE_PCI: /* device << 32 | function << 16 | register */
        pci_conf_write(PCI_SBDF(0, (ai->reset_addr >> 29 & 0xf8) | (ai->reset_addr >> 16 & 7)),
                       ai->reset_addr & 0xff, 1, ai->reset_value);
        break;
    }
    smp_udelay(50000);
}

static void kbc_reset(void)
{
    for (int i = 0; i < 10; i++) {
        for (int spin = 0; spin < 10000 && (inb(KBC_STATUS) & KBC_INPUT_FULL); spin++)
            smp_udelay(10);
        outb(KBC_STATUS, KBC_PULSE_RESET);
        smp_udelay(50000);
    }
}

/*
 * The FADT's reset register first, then the ways every PC chipset QEMU
 * models honours: the keyboard controller's reset line, the reset control
 * register (bit 1 system reset, bit 2 do it), and if all are ignored a
 * triple fault with an empty IDT.
 */
__noreturn void machine_restart(unsigned int delay_ms)
{
    static const struct {
        u16 limit;
        u64 base;
    } __packed no_idt = {0, 0};

    local_irq_disable();
    smp_stop_others();
    if (delay_ms)
        smp_udelay(delay_ms * 1000UL);
    printk("Keel resetting the machine\n");
    acpi_reset(acpi_get_info());
    kbc_reset();
    outb(RESET_CONTROL, 0x02);
    outb(RESET_CONTROL, 0x06);
    smp_udelay(50000);
    /* Nothing listened: a fault with no IDT resets any x86. */
    __asm__ __volatile__("lidt %0; int3" ::"m"(no_idt));
    stop_here();
}

