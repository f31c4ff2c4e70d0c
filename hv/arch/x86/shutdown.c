#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/options.h>
#include <keel/shutdown.h>

#define DEBUG_EXIT_PORT 0xf4

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
