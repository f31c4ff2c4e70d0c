/*
 * start_keel: the whole bring-up, in order, on one screen.  Each step may
 * rely on the ones above it; comments say where the order matters.
 */
#include <asm/cpu.h>
#include <asm/layout.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/options.h>
#include <keel/selftest.h>
#include <keel/serial.h>
#include <keel/shutdown.h>

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
    if (bad_boot_info)
        panic("bad boot information from the loader: %s", boot_info.error);
    boot_info_print(&boot_info);
    /* Memory map -> page tables -> frame table -> allocator.  After this the
     * boot tables (and the identity map) are gone. */
    memory_init(&boot_info);
    boot_modules_print(&boot_info);

    if (opts.selftest && selftests_run())
        machine_halt(KEEL_EXIT_SELFTEST_FAILED);
    machine_halt(KEEL_EXIT_OK);
}
