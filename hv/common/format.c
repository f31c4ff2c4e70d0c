/*
 * kvsnprintf: the formatter behind printk.  Supports the conversions Keel
 * uses: %d %i %u %x %X %o %p %s %c %% with flags '-', '0', ' ', '+', '#',
 * a width and a precision (both may be '*'), and the length modifiers
 * hh h l ll z t j.  Output is always NUL-terminated when size > 0; the return
 * value is the length the full output would have had, like C's snprintf.
 */
#include <keel/console.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int prec; /* -1: none */
};

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
    size_t n;

    if (!s)
        s = "(null)";
    n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
    if (!sp->left)
        pad(o, ' ', sp->width - (int)n);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, ' ', sp->width - (int)n);
}

static void put_num(struct out *o, u64 v, bool neg, unsigned base, bool upper,
                    const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0, prefix_len = 0;
    char prefix[3];

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (sp->prec == 0 && n == 1 && tmp[0] == '0')
        n = 0; /* "%.0d" of zero prints nothing */

    if (neg)
        prefix[prefix_len++] = '-';
    else if (sp->plus)
        prefix[prefix_len++] = '+';
    else if (sp->space)
        prefix[prefix_len++] = ' ';
    if (sp->alt && base == 16) {
        prefix[prefix_len++] = '0';
        prefix[prefix_len++] = upper ? 'X' : 'x';
    } else if (sp->alt && base == 8 && !(n > 0 && tmp[n - 1] == '0')) {
        prefix[prefix_len++] = '0';
    }

    int zeros = sp->prec > n ? sp->prec - n : 0;
    int total = prefix_len + zeros + n;
    if (sp->zero && !sp->left && sp->prec < 0 && sp->width > total) {
        zeros += sp->width - total;
        total = sp->width;
    }
    if (!sp->left)
        pad(o, ' ', sp->width - total);
    for (int i = 0; i < prefix_len; i++)
        put(o, prefix[i]);
    pad(o, '0', zeros);
    while (n > 0)
        put(o, tmp[--n]);
    if (sp->left)
        pad(o, ' ', sp->width - total);
}

static const char *parse_int(const char *f, int *val, va_list *ap)
{
    if (*f == '*') {
        *val = va_arg(*ap, int);
        return f + 1;
    }
    *val = 0;
    while (*f >= '0' && *f <= '9')
        *val = *val * 10 + (*f++ - '0');
    return f;
}

/* Read one integer argument of the size given by the length modifier. */
static u64 get_arg(va_list *ap, int lmod, bool is_signed, bool *neg)
{
    s64 s;
    u64 u;

    *neg = false;
    if (is_signed) {
        switch (lmod) {
        case 'H': s = (signed char)va_arg(*ap, int); break;
        case 'h': s = (short)va_arg(*ap, int); break;
        case 'l': s = va_arg(*ap, long); break;
        case 'q': s = va_arg(*ap, long long); break;
        case 'z': s = va_arg(*ap, ptrdiff_t); break;
        default: s = va_arg(*ap, int); break;
        }
        if (s < 0) {
            *neg = true;
            return (u64)0 - (u64)s;
        }
        return (u64)s;
    }
    switch (lmod) {
    case 'H': u = (unsigned char)va_arg(*ap, unsigned); break;
    case 'h': u = (unsigned short)va_arg(*ap, unsigned); break;
    case 'l': u = va_arg(*ap, unsigned long); break;
    case 'q': u = va_arg(*ap, unsigned long long); break;
    case 'z': u = va_arg(*ap, size_t); break;
    default: u = va_arg(*ap, unsigned); break;
    }
    return u;
}

static const char *parse_flags(const char *f, struct spec *sp)
{
    for (;; f++) {
        switch (*f) {
        case '-': sp->left = true; break;
        case '0': sp->zero = true; break;
        case '+': sp->plus = true; break;
        case ' ': sp->space = true; break;
        case '#': sp->alt = true; break;
        default: return f;
        }
    }
}

static const char *parse_length(const char *f, int *lmod)
{
    *lmod = 0;
    if (f[0] == 'h' && f[1] == 'h') {
        *lmod = 'H';
        return f + 2;
    }
    if (f[0] == 'l' && f[1] == 'l') {
        *lmod = 'q';
        return f + 2;
    }
    if (*f == 'h' || *f == 'l')
        *lmod = *f++;
    else if (*f == 'z' || *f == 't' || *f == 'j')
        *lmod = *f == 'j' ? 'q' : 'z', f++;
    return f;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct out o = {buf, size, 0};
    va_list ap;
    bool neg;

    va_copy(ap, ap_in);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        struct spec sp = {.prec = -1};
        int lmod;
        f = parse_flags(f + 1, &sp);
        f = parse_int(f, &sp.width, &ap);
        if (sp.width < 0) {
            sp.left = true;
            sp.width = -sp.width;
        }
        if (*f == '.') {
            f = parse_int(f + 1, &sp.prec, &ap);
            if (sp.prec < 0)
                sp.prec = -1;
        }
        f = parse_length(f, &lmod);
        switch (*f) {
        case 'd':
        case 'i': {
            u64 v = get_arg(&ap, lmod, true, &neg);
            put_num(&o, v, neg, 10, false, &sp);
            break;
        }
        case 'u':
            put_num(&o, get_arg(&ap, lmod, false, &neg), false, 10, false, &sp);
            break;
        case 'x':
        case 'X':
            put_num(&o, get_arg(&ap, lmod, false, &neg), false, 16, *f == 'X', &sp);
            break;
        case 'o':
            put_num(&o, get_arg(&ap, lmod, false, &neg), false, 8, false, &sp);
            break;
        case 'p': {
            struct spec ps = sp;
            ps.alt = true;
            put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, &ps);
            break;
        }
        case 's':
            put_str(&o, va_arg(ap, const char *), &sp);
            break;
        case 'c': {
            char c[2] = {(char)va_arg(ap, int), 0};
            sp.prec = 1;
            put_str(&o, c, &sp);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            f--; /* a lone '%' at the end: stop cleanly */
            break;
        default: /* unknown conversion: show it rather than guess */
            put(&o, '%');
            put(&o, *f);
            break;
        }
    }
    va_end(ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
