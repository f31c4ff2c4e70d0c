/*
 * Runtime of Keel's PV test kernels: formatting, console output, verdict.
 * Kept independent of Keel's own sources so a bug shared by both cannot
 * hide itself.
 */
#include "rt.h"
#ifdef RT_PV_CONSOLE
#include <xen/io/console.h>
#endif

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* ---- a small vsnprintf: %[-0][width][l|ll|z](d|i|u|x|p|s|c|%) */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
                       bool left, char padc)
{
    int pad = width > (int)n ? width - (int)n : 0;
    if (!left)
        while (pad-- > 0)
            put(o, padc);
    while (n--)
        put(o, *s++);
    if (left)
        while (pad-- > 0)
            put(o, ' ');
}

static void put_num(struct out *o, unsigned long long v, bool neg, unsigned base,
                    int width, bool left, bool zero)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    char rev[24];
    for (int i = 0; i < n; i++)
        rev[i] = tmp[n - 1 - i];
    put_padded(o, rev, (size_t)n, width, left, zero && !left ? '0' : ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        bool left = false, zero = false;
        int width = 0, lng = 0;
        for (;; fmt++) {
            if (fmt[1] == '-')
                left = true;
            else if (fmt[1] == '0')
                zero = true;
            else
                break;
        }
        while (fmt[1] >= '0' && fmt[1] <= '9')
            width = width * 10 + (*++fmt - '0');
        while (fmt[1] == 'l' || fmt[1] == 'z')
            lng++, fmt++;
        fmt++;
        unsigned long long u;
        switch (*fmt) {
        case 'd':
        case 'i': {
            long long s = lng ? va_arg(ap, long long) : va_arg(ap, int);
            u = s < 0 ? 0ULL - (unsigned long long)s : (unsigned long long)s;
            put_num(&o, u, s < 0, 10, width, left, zero);
            break;
        }
        case 'u':
        case 'x':
            u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            put_num(&o, u, false, *fmt == 'u' ? 10 : 16, width, left, zero);
            break;
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, width, left, zero);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            s = s ? s : "(null)";
            put_padded(&o, s, strlen(s), width, left, ' ');
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '\0':
            fmt--; /* a lone '%' at the end */
            break;
        default:
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#ifdef RT_PV_CONSOLE
/*
 * A domU's console: the ring page and event channel the domain builder put
 * in start_info, which xenconsoled in dom0 drains into its log (a release
 * build of Xen refuses console_io to a domU).  The page is mapped over a
 * page of our own .bss, so it does not matter where (or whether) the
 * builder's initial mapping shows it.  All calls are unlogged: this is
 * where the log goes.
 */
static char cons_va[4096] __attribute__((aligned(4096)));
static struct xencons_interface *cons;

static struct xencons_interface *pv_console(void)
{
    const start_info_t *si = rt_start_info;

    if (cons || !si || !si->console.domU.mfn)
        return cons;
    if (rt_hypercall_raw(__HYPERVISOR_update_va_mapping, (uintptr_t)cons_va,
                         (si->console.domU.mfn << 12) | 0x67, UVMF_INVLPG, 0, 0) == 0)
        cons = (struct xencons_interface *)cons_va;
    return cons;
}

static void pv_console_kick(void)
{
    struct evtchn_send send = {.port = rt_start_info->console.domU.evtchn};

    rt_hypercall_raw(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (uintptr_t)&send, 0, 0, 0);
}

/* Waits (yielding to dom0) until xenconsoled has taken all but `room`
 * bytes' worth; false if it never does (nobody reads the ring). */
static bool pv_console_wait(struct xencons_interface *c, unsigned room)
{
    for (unsigned spins = 0; spins < 20000; spins++) {
        rt_barrier();
        if (c->out_prod - *(volatile XENCONS_RING_IDX *)&c->out_cons + room <=
            sizeof(c->out))
            return true;
        pv_console_kick();
        rt_hypercall_raw(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
    }
    return false;
}

static void pv_console_write(struct xencons_interface *c, const char *s, size_t len)
{
    while (len) {
        if (!pv_console_wait(c, 1))
            return; /* output is lost rather than the test hung */
        XENCONS_RING_IDX prod = c->out_prod;
        XENCONS_RING_IDX end = *(volatile XENCONS_RING_IDX *)&c->out_cons + sizeof(c->out);
        for (; len && prod != end; prod++, len--)
            c->out[MASK_XENCONS_IDX(prod, c->out)] = *s++;
        rt_barrier(); /* x86 keeps stores in order: the bytes, then the index */
        c->out_prod = prod;
        pv_console_kick();
    }
}

void rt_console_drain(void)
{
    struct xencons_interface *c = pv_console();

    if (c)
        pv_console_wait(c, sizeof(c->out));
}
#else
void rt_console_drain(void)
{
}
#endif

void rt_write(const char *s, size_t len)
{
#ifdef RT_PV_CONSOLE
    struct xencons_interface *c = pv_console();

    if (c) {
        pv_console_write(c, s, len);
        return;
    }
#endif
    /* Unlogged: the console output is where the log goes. */
    rt_hypercall_raw(__HYPERVISOR_console_io, CONSOLEIO_write, len, (unsigned long)s, 0, 0);
}

int printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rt_write(buf, strlen(buf));
    return n;
}

static __attribute__((noreturn)) void shutdown(unsigned reason)
{
    struct sched_shutdown arg = {.reason = reason};

    rt_console_drain(); /* what is still in the ring dies with the domain */
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
    /* Still here: the hypervisor refused.  Try harder, then spin. */
    arg.reason = SHUTDOWN_crash;
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

void test_verdict(bool pass, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    rt_hlog_flush();
    if (pass)
        printf("TEST %s: PASS\n", GUEST_NAME);
    else
        printf("TEST %s: FAIL %s\n", GUEST_NAME, why[0] ? why : "(no reason)");
    shutdown(pass ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

/* Called from head.S; a test that returns has passed. */
__attribute__((noreturn)) void rt_main(start_info_t *si);
void rt_main(start_info_t *si)
{
    rt_start_info = si;
    test_main(si);
    if (rt_failures)
        test_verdict(false, "%u check(s) failed", rt_failures);
    test_verdict(true, "%s", "");
}
