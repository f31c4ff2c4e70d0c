/*
 * printk and the console.  A message may start with a level prefix; messages
 * above the loglvl= threshold still go into the in-memory ring, so a later
 * dump shows everything.
 */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/types.h>

#define KLOG_ERR "<1>"
#define KLOG_WARN "<2>"
#define KLOG_INFO "<3>"
#define KLOG_DEBUG "<4>"

enum log_level { LOG_NONE = 0, LOG_ERR = 1, LOG_WARN = 2, LOG_INFO = 3, LOG_DEBUG = 4 };

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#ifndef KEEL_HOST
void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

/* A sink receives every printed byte at or below the threshold. */
struct console_sink {
    const char *name;
    void (*write)(const char *s, size_t n);
    struct console_sink *next;
};
void console_register(struct console_sink *sink);
void console_set_loglevel(enum log_level lvl);
/* Copy out the ring (oldest first); returns bytes copied. */
size_t console_ring_read(char *buf, size_t size);
/* The ring as sysctl readconsole sees it (free-running 32-bit indices):
 * oldest byte kept, next byte written, ring size. */
void console_ring_indices(u32 *cons, u32 *prod, u32 *size);
/* Up to n bytes from index `from` on (fewer near the head). */
size_t console_ring_copy(u32 from, char *buf, size_t n);
/* readconsole's clear: the oldest byte shown from now on. */
void console_ring_set_cons(u32 cons);
/* After a crash, skip the lock so the last words always get out. */
void console_force_unlock(void);

#define BUG_ON(c)                                                              \
    do {                                                                       \
        if (unlikely(c))                                                       \
            panic("BUG at %s:%d: %s", __FILE__, __LINE__, #c);                 \
    } while (0)
#else
static inline __printf(1, 2) void printk(const char *fmt, ...) { (void)fmt; }
#define panic(...) keel_host_panic(__VA_ARGS__)
#define BUG_ON(c)                                                              \
    do {                                                                       \
        if (c)                                                                 \
            keel_host_panic("BUG at %s:%d: %s\n", __FILE__, __LINE__, #c);     \
    } while (0)
#endif

#endif
