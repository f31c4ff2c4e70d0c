/*
 * The console: formats messages, keeps every byte in a ring so the history
 * survives loglvl filtering, and hands what passes the threshold to the
 * registered sinks (the serial port, later the dom0 console).
 */
#include <keel/console.h>
#include <keel/spinlock.h>

#define RING_SIZE (64 * 1024)

static char ring[RING_SIZE];
static size_t ring_head; /* total bytes ever written; index = head % size */
/* Oldest byte sysctl readconsole still shows (free-running, as ring_head
 * truncated to 32 bits): moved by a clear, or by the writer when the ring
 * wraps past it. */
static u32 ring_cons;
static struct console_sink *sinks;
static enum log_level threshold = LOG_INFO;
static spinlock_t console_lock = SPINLOCK_INIT;
static bool at_line_start = true;

/* A new sink first gets what was logged before it existed. */
void console_register(struct console_sink *sink)
{
    size_t n = ring_head < RING_SIZE ? ring_head : RING_SIZE;
    size_t start = ring_head - n;

    for (size_t i = 0; i < n; i++)
        sink->write(&ring[(start + i) % RING_SIZE], 1);
    sink->next = sinks;
    sinks = sink;
}

void console_set_loglevel(enum log_level lvl)
{
    threshold = lvl;
}

void console_force_unlock(void)
{
    console_lock = (spinlock_t)SPINLOCK_INIT;
}

static void emit(const char *s, size_t n, bool visible)
{
    for (size_t i = 0; i < n; i++)
        ring[(ring_head + i) % RING_SIZE] = s[i];
    ring_head += n;
    if ((u32)ring_head - ring_cons > RING_SIZE)
        ring_cons = (u32)ring_head - RING_SIZE;
    if (!visible)
        return;
    for (struct console_sink *k = sinks; k; k = k->next)
        k->write(s, n);
}

size_t console_ring_read(char *buf, size_t size)
{
    unsigned long f = spin_lock_irqsave(&console_lock);
    size_t avail = ring_head < RING_SIZE ? ring_head : RING_SIZE;
    size_t n = MIN(avail, size);
    size_t start = ring_head - n;

    for (size_t i = 0; i < n; i++)
        buf[i] = ring[(start + i) % RING_SIZE];
    spin_unlock_irqrestore(&console_lock, f);
    return n;
}

void console_ring_indices(u32 *cons, u32 *prod, u32 *size)
{
    unsigned long f = spin_lock_irqsave(&console_lock);

    *cons = ring_cons;
    *prod = (u32)ring_head;
    *size = RING_SIZE;
    spin_unlock_irqrestore(&console_lock, f);
}

size_t console_ring_copy(u32 from, char *buf, size_t n)
{
    unsigned long f = spin_lock_irqsave(&console_lock);
    u32 avail = (u32)ring_head - from;

    /* Bytes the writer overwrote meanwhile are simply newer ones. */
    n = MIN(n, (size_t)MIN(avail, (u32)RING_SIZE));
    for (size_t i = 0; i < n; i++)
        buf[i] = ring[(from + i) % RING_SIZE];
    spin_unlock_irqrestore(&console_lock, f);
    return n;
}

void console_ring_set_cons(u32 cons)
{
    unsigned long f = spin_lock_irqsave(&console_lock);

    ring_cons = cons;
    spin_unlock_irqrestore(&console_lock, f);
}

/* A "<N>" prefix sets the level; plain messages are LOG_INFO. */
static enum log_level take_level(const char **fmt)
{
    const char *f = *fmt;

    if (f[0] == '<' && f[1] >= '0' && f[1] <= '9' && f[2] == '>') {
        *fmt = f + 3;
        return (enum log_level)(f[1] - '0');
    }
    return LOG_INFO;
}

void vprintk(const char *fmt, va_list ap)
{
    static char line[512];
    static bool visible = true;
    enum log_level lvl = take_level(&fmt);
    unsigned long f = spin_lock_irqsave(&console_lock);
    int n = kvsnprintf(line, sizeof(line), fmt, ap);

    if (n >= (int)sizeof(line))
        n = sizeof(line) - 1;
    /* A continuation (no newline yet) keeps the level of its line's start. */
    if (at_line_start)
        visible = lvl <= threshold;
    emit(line, (size_t)n, visible);
    if (n > 0)
        at_line_start = line[n - 1] == '\n';
    spin_unlock_irqrestore(&console_lock, f);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}
