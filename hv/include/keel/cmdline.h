/* Command-line parsing (core, host-testable). */
#ifndef KEEL_CMDLINE_H
#define KEEL_CMDLINE_H

#include <keel/types.h>

struct cmdline_word {
    const char *name; /* not NUL-terminated: use name_len */
    size_t name_len;
    const char *value; /* NULL when there was no '=' */
    size_t value_len;
};

struct cmdline_opt {
    const char *name;
    /* Returns < 0 on a bad value (the parser counts it as an error). */
    int (*handler)(const struct cmdline_word *w);
};

/* Returns the number of unknown or malformed options. */
int cmdline_parse(const char *cmdline, const struct cmdline_opt *opts,
                  size_t nr_opts, void (*unknown)(const struct cmdline_word *));
bool cmdline_word_value(const struct cmdline_word *w, char *buf, size_t size);
bool parse_size(const char *s, size_t len, u64 *out);
bool parse_uint(const char *s, size_t len, u64 *out);

#endif
