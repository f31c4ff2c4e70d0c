/* Symbol lookup over a sorted table. */
#include <keel/symbols.h>

#include "harness.h"

static const char names[] = "alpha\0beta\0gamma";
static const struct keel_sym syms[] = {
    {0x1000, 0, 0x10}, /* alpha, sized */
    {0x1020, 6, 0},    /* beta, unsized: runs to the next symbol */
    {0x1100, 11, 0x8}, /* gamma */
};

TEST(finds_containing_symbol)
{
    unsigned long off = 99;

    CHECK_STR(symtab_find(syms, 3, names, 0x1000, &off), "alpha");
    CHECK_EQ(off, 0);
    CHECK_STR(symtab_find(syms, 3, names, 0x100f, &off), "alpha");
    CHECK_EQ(off, 0xf);
    CHECK_STR(symtab_find(syms, 3, names, 0x10ff, &off), "beta");
    CHECK_EQ(off, 0xdf);
    CHECK_STR(symtab_find(syms, 3, names, 0x1107, &off), "gamma");
    CHECK_EQ(off, 7);
}

TEST(misses_outside_symbols)
{
    unsigned long off;

    CHECK(symtab_find(syms, 3, names, 0xfff, &off) == NULL);  /* before all */
    CHECK(symtab_find(syms, 3, names, 0x1010, &off) == NULL); /* alpha's padding */
    CHECK(symtab_find(syms, 3, names, 0x1108, &off) == NULL); /* past gamma */
    CHECK(symtab_find(syms, 0, names, 0x1000, &off) == NULL); /* empty table */
}
