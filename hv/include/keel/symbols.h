/*
 * Keel's own symbol table, for backtraces.  The build links Keel twice: the
 * first image's text symbols become a table (scripts/gensyms.py) that the
 * second link carries in section .symtab.keel.
 */
#ifndef KEEL_SYMBOLS_H
#define KEEL_SYMBOLS_H
#include <keel/types.h>

struct keel_sym {
    unsigned long addr;
    u32 name; /* offset into the name blob */
    u32 size; /* 0 when the assembler gave none */
};

/* Core lookup over a sorted table (host-testable).  Returns the name of the
 * symbol containing addr and its offset, or NULL. */
const char *symtab_find(const struct keel_sym *syms, size_t nr, const char *names,
                        unsigned long addr, unsigned long *offset);

#ifndef KEEL_HOST
/* Lookup in Keel's own table; NULL outside Keel's text. */
const char *symbol_lookup(unsigned long addr, unsigned long *offset);
#endif
#endif
