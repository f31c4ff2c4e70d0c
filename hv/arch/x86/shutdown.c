#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/options.h>
#include <keel/shutdown.h>

#define DEBUG_EXIT_PORT 0xf4
#define KBC_STATUS 0x64     /* i8042: status (read), command (write) */
#define KBC_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xfe
#define RESET_CONTROL 0xcf9 /* chipset reset control (PIIX, ICH) */

void machine_halt(enum keel_exit code)
{
    local_irq_disable();
    smp_stop_others();
    printk("Keel halted (status %d)\n", code);
    if (opts.debug_exit)
        outl(DEBUG_EXIT_PORT, code);
    for (;;)
        halt();
}

/*
 * The reset ways every PC chipset QEMU models honours, in order: the
 * keyboard controller's reset line, the reset control register (a hard
 * reset: bit 1 system reset, bit 2 do it), and if both are ignored a
 * triple fault with an empty IDT.
 */
void machine_restart(unsigned int delay_ms)
{
    local_irq_disable();
    smp_stop_others();
    if (delay_ms)
        smp_udelay(delay_ms * 1000UL);
    printk("Keel resetting the machine\n");
    for (int tries = 0; tries < 10; tries++) {
        for (int i = 0; i < 100000 && (inb(KBC_STATUS) & KBC_INPUT_FULL); i++)
            smp_udelay(1);
        outb(KBC_STATUS, KBC_PULSE_RESET);
        smp_udelay(50);
    }
    outb(RESET_CONTROL, 0x02);
    smp_udelay(50);
    outb(RESET_CONTROL, 0x06);
    smp_udelay(50);
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) none = {0, 0};
    __asm__ __volatile__("lidt %0\n\tint3" ::"m"(none));
    for (;;)
        halt();
}
