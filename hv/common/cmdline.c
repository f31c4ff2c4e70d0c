/*
 * Command-line parsing.  Options are "name", "name=value" or "no-name",
 * separated by spaces.  Each option is declared once in a table with its
 * handler; an unknown option is reported, never silently dropped.
 */
#include <keel/cmdline.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Split off the next "name[=value]" word; returns false at the end. */
static bool next_word(const char **p, struct cmdline_word *w)
{
    const char *s = *p;

    while (is_space(*s))
        s++;
    if (!*s)
        return false;
    w->name = s;
    while (*s && !is_space(*s) && *s != '=')
        s++;
    w->name_len = (size_t)(s - w->name);
    w->value = NULL;
    w->value_len = 0;
    if (*s == '=') {
        w->value = ++s;
        while (*s && !is_space(*s))
            s++;
        w->value_len = (size_t)(s - w->value);
    }
    *p = s;
    return true;
}

static bool name_is(const struct cmdline_word *w, const char *name)
{
    size_t n = strlen(name);
    return w->name_len == n && !memcmp(w->name, name, n);
}

int cmdline_parse(const char *cmdline, const struct cmdline_opt *opts,
                  size_t nr_opts, void (*unknown)(const struct cmdline_word *))
{
    struct cmdline_word w;
    const char *p = cmdline ? cmdline : "";
    int errors = 0;

    while (next_word(&p, &w)) {
        const struct cmdline_opt *o = NULL;
        for (size_t i = 0; i < nr_opts && !o; i++)
            if (name_is(&w, opts[i].name))
                o = &opts[i];
        if (!o) {
            errors++;
            if (unknown)
                unknown(&w);
            continue;
        }
        if (o->handler(&w) < 0)
            errors++;
    }
    return errors;
}

bool cmdline_word_value(const struct cmdline_word *w, char *buf, size_t size)
{
    if (!w->value || w->value_len + 1 > size)
        return false;
    memcpy(buf, w->value, w->value_len);
    buf[w->value_len] = '\0';
    return true;
}

/* Parses "<n>[KkMmGgTt]" into bytes (no suffix: bytes). */
bool parse_size(const char *s, size_t len, u64 *out)
{
    u64 v = 0;
    size_t i = 0;

    if (!len)
        return false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (u64)(s[i] - '0');
    }
    if (i == 0)
        return false;
    if (i < len) {
        unsigned shift;
        switch (s[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return false;
        }
        if (i + 1 != len || v > (UINT64_MAX >> shift))
            return false;
        v <<= shift;
    }
    *out = v;
    return true;
}

bool parse_uint(const char *s, size_t len, u64 *out)
{
    u64 v = 0;

    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (u64)(s[i] - '0');
    }
    *out = v;
    return true;
}
