/*
 * start_keel: the whole bring-up, in order, on one screen.  Each step may
 * rely on the ones above it; comments say where the order matters.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/layout.h>
#include <asm/percpu.h>
#include <keel/console.h>
#include <keel/options.h>
#include <keel/selftest.h>
#include <keel/serial.h>
#include <keel/shutdown.h>
#include <keel/time.h>
#include <keel/timer.h>
#include <asm/traps.h>

__aligned(STACK_SIZE) u8 bsp_stack[STACK_SIZE] __section(".bss.stack");
unsigned long per_cpu_offset[NR_CPUS]; /* CPU 0 uses the template: offset 0 */

void start_keel(u32 magic, u32 mbi_pa);

void __init start_keel(u32 magic, u32 mbi_pa)
{
    BUILD_BUG_ON(sizeof(struct cpu_info) > CPU_INFO_RESERVE);
    (void)magic;
    (void)mbi_pa;
    /* Options first: they say where the console is.  Warnings wait in the
     * console ring until a sink registers. */
    options_parse(NULL);
    console_set_loglevel(opts.loglvl);
    if (opts.console_port)
        serial_init(opts.console_port, opts.console_baud);
    printk("Keel hypervisor starting\n");
    /* Exceptions are reported (not triple faults) from here on. */
    traps_init();
    traps_init_cpu(0);

    lapic_init(); /* masks LINT0, so the legacy PIC cannot interrupt */
    timer_init();
    time_init(); /* needs the LAPIC and the IRQ table */
    local_irq_enable();

    if (opts.selftest && selftests_run())
        machine_halt(KEEL_EXIT_SELFTEST_FAILED);
    if (opts.crashtest[0])
        crashtest(opts.crashtest);
    machine_halt(KEEL_EXIT_OK);
}
