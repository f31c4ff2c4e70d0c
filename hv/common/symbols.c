/* Address-to-name lookup for backtraces. */
#include <keel/symbols.h>

const char *symtab_find(const struct keel_sym *syms, size_t nr, const char *names,
                        unsigned long addr, unsigned long *offset)
{
    size_t lo = 0, hi = nr;

    /* Find the last symbol starting at or below addr. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct keel_sym *s = &syms[lo - 1];
    /* A sized symbol does not cover the padding after it. */
    if (s->size && addr - s->addr >= s->size)
        return NULL;
    *offset = addr - s->addr;
    return names + s->name;
}

#ifndef KEEL_HOST
extern const struct keel_sym keel_syms[];
extern const unsigned long keel_syms_nr;
extern const char keel_sym_names[];
extern const char __text_start[], __text_end[];

const char *symbol_lookup(unsigned long addr, unsigned long *offset)
{
    if (addr < (unsigned long)__text_start || addr >= (unsigned long)__text_end)
        return NULL;
    return symtab_find(keel_syms, keel_syms_nr, keel_sym_names, addr, offset);
}
#endif
