/*
 * start_keel: the whole bring-up, in order, on one screen.  Each step may
 * rely on the ones above it; comments say where the order matters.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/flushtlb.h>
#include <asm/desc.h>
#include <asm/irq.h>
#include <asm/hvm.h>
#include <asm/layout.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <asm/pv_desc.h>
#include <asm/smp.h>
#include <keel/acpi.h>
#include <keel/bootinfo.h>
#include <keel/dom0.h>
#include <keel/m2p.h>
#include <keel/sched.h>
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
    /* The loader's data is reached through the boot direct map (low 4 GiB). */
    const struct mem_window loader_mem = {__va(0), 0, 4UL << 30};
    int bad_boot_info;

    BUILD_BUG_ON(sizeof(struct cpu_info) > CPU_INFO_RESERVE);
    /* Boot information, then options: they say where the console is.
     * Messages wait in the console ring until a sink registers. */
    bad_boot_info = boot_info_parse(&boot_info, magic, mbi_pa, &loader_mem);
    /* Even when later parts were malformed, a command line read before the
     * error is whole and checked: honour it (debug-exit, console). */
    options_parse(boot_cmdline_args(&boot_info, boot_info.cmdline));
    console_set_loglevel(opts.loglvl);
    if (opts.console_port)
        serial_init(opts.console_port, opts.console_baud);
    printk("Keel hypervisor starting\n");
    /* Exceptions are reported (not triple faults) from here on. */
    traps_init();
    traps_init_cpu(0);
    if (bad_boot_info)
        panic("bad boot information from the loader: %s", boot_info.error);
    boot_info_print(&boot_info);
    /* Memory map -> page tables -> frame table -> allocator.  After this the
     * boot tables (and the identity map) are gone. */
    memory_init(&boot_info);
    traps_protect_boot_stacks();
    boot_modules_print(&boot_info);
    /* Per-CPU template snapshot before anyone writes per-CPU data. */
    percpu_init();
    flushtlb_init(); /* the TLB-flush clock, before the first guest mapping */

    /*
     * Interrupt controllers: silence the legacy PICs and every IO-APIC pin
     * before the local APIC is enabled; the LAPIC before its timer.
     */
    const struct acpi_info *acpi = acpi_init(boot_info.rsdp_pa);
    if (!acpi || (acpi->madt_flags & ACPI_MADT_PCAT_COMPAT))
        pic_disable();
    ioapic_init(acpi);
    lapic_init();
    timer_init();
    time_init(); /* needs the LAPIC and the IRQ table */
    irq_init(acpi); /* device vectors, routed to dom0 as PIRQs later */
    local_irq_enable();

    /* The scheduler before any CPU can go idle into it. */
    scheduler_init();
    hvm_init();      /* before any CPU enables it */
    hvm_cpu_up(0);
    smp_init(); /* APs set up their own tables, LAPIC and timer */
    pv_desc_init(); /* before any guest L4 copies Keel's slots */

    if (opts.selftest && selftests_run())
        machine_halt(KEEL_EXIT_SELFTEST_FAILED);
    if (opts.crashtest[0])
        crashtest(opts.crashtest);

    /* Domains: the M2P every PV guest maps, then dom0 from module 0. */
    if (!boot_dom0_kernel()) {
        /* Nothing to run: a hypervisor without dom0 has no more to do. */
        machine_halt(KEEL_EXIT_OK);
    }
    m2p_init();
    if (dom0_build(&boot_info))
        panic("dom0 could not be built (see above)");
    scheduler_start_cpu(0);
}
