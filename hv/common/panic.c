#include <keel/console.h>
#include <keel/shutdown.h>

void panic(const char *fmt, ...)
{
    static char msg[256];
    va_list ap;

    console_force_unlock(); /* we may have died holding it */
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk(KLOG_ERR "\n*** Keel panic: %s\n", msg);
    machine_halt(KEEL_EXIT_PANIC);
}
