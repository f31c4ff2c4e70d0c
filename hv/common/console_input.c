/*
 * Console input for dom0.  Keel owns the UART and takes no interrupt from
 * it, so a timer on CPU 0 polls it every 10 ms, keeps what arrived in a
 * small ring and raises VIRQ_CONSOLE; Linux's hvc driver then drains the
 * ring with CONSOLEIO_read.  Polling starts with the first read, so bytes
 * are never taken off the UART while no guest is there to want them.
 */
#include <keel/console_input.h>
#include <keel/domain.h>
#include <keel/serial.h>
#include <keel/spinlock.h>
#include <keel/timer.h>
#include <xen/xen.h>

#define RING_SIZE 1024 /* a pasted line or two; more waits in the UART */
#define POLL_PERIOD MILLISECS(10)

static struct {
    spinlock_t lock;
    char buf[RING_SIZE];
    unsigned int prod, cons; /* free-running; prod - cons = bytes held */
    struct domain *reader;
    struct timer poll;
} in = {.lock = SPINLOCK_INIT};

static void poll_uart(void *unused)
{
    bool arrived = false;
    int c;
    unsigned long f;

    (void)unused;
    f = spin_lock_irqsave(&in.lock);
    while (in.prod - in.cons < RING_SIZE && (c = serial_getc()) >= 0) {
        in.buf[in.prod++ % RING_SIZE] = (char)c;
        arrived = true;
    }
    spin_unlock_irqrestore(&in.lock, f);
    if (in.reader->is_shutting_down)
        return; /* nobody left to read: stop polling */
    if (arrived)
        send_guest_global_virq(in.reader, VIRQ_CONSOLE);
    set_timer(&in.poll, NOW() + POLL_PERIOD);
}

/* The first reader starts the poll; it stays the one notified. */
static void start_polling(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&in.lock);
    bool first = !in.reader;

    if (first)
        in.reader = d;
    spin_unlock_irqrestore(&in.lock, f);
    if (first) {
        init_timer(&in.poll, poll_uart, NULL, 0);
        set_timer(&in.poll, NOW() + POLL_PERIOD);
    }
}

unsigned int console_input_read(struct domain *d, char *out, unsigned int max)
{
    unsigned int n = 0;
    unsigned long f;

    start_polling(d);
    f = spin_lock_irqsave(&in.lock);
    while (n < max && in.cons != in.prod)
        out[n++] = in.buf[in.cons++ % RING_SIZE];
    spin_unlock_irqrestore(&in.lock, f);
    return n;
}
