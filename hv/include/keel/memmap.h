/*
 * The machine's memory map, cleaned up: sorted, no overlaps, adjacent
 * entries of one type merged, RAM on page boundaries, nothing above the
 * 52-bit physical limit.  From it we derive the map of free RAM, out of
 * which everything Keel is using (low 1 MiB, its image, the loader's data,
 * the modules) has been carved.
 */
#ifndef KEEL_MEMMAP_H
#define KEEL_MEMMAP_H

#include <keel/bootinfo.h>

#define MEMMAP_MAX 256
#define PADDR_BITS 52
#define PADDR_LIMIT (1ULL << PADDR_BITS)

struct memmap {
    unsigned int nr;
    struct mem_range r[MEMMAP_MAX];
};

/* What the sanitizer had to fix, for the boot log and for tests. */
struct memmap_report {
    unsigned int empty;    /* zero-length entries dropped */
    unsigned int clipped;  /* entries cut at or dropped above PADDR_LIMIT */
    unsigned int overlaps; /* overlapping stretches resolved */
    unsigned int holes;    /* gaps below the highest entry */
};

static inline u64 range_end(const struct mem_range *r)
{
    return r->start + r->len;
}

const char *e820_type_name(u32 type);
void memmap_sanitize(struct memmap *out, const struct mem_range *in, unsigned int nr,
                     struct memmap_report *rep);
/* The RAM entries of a sanitized map. */
void memmap_ram(struct memmap *ram, const struct memmap *map);
/* Remove [start, end), widened to pages, from a RAM map: < 0 when full. */
int memmap_carve(struct memmap *ram, paddr_t start, paddr_t end);
/*
 * Carve size bytes aligned to align from the highest RAM that ends at or
 * below limit; returns the physical address, or 0 when nothing fits.
 */
paddr_t memmap_steal(struct memmap *ram, u64 size, u64 align, paddr_t limit);
u64 memmap_total(const struct memmap *m, u32 type);
void memmap_print(const struct memmap *m, const char *title);
#endif
