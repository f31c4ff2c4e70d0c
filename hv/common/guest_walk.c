/*
 * The guest page-table walk (keel/guest_walk.h).  One loop serves the
 * three table formats; they differ in entry size, index width, levels and
 * which levels may map large pages.
 */
#include <keel/guest_walk.h>

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_US 0x4ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_NX (1ULL << 63)
#define ADDR_52 0x000ffffffffff000ULL

#define CR0_PG (1ULL << 31)
#define CR0_WP (1ULL << 16)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_SMEP (1ULL << 20)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

struct format {
    unsigned int levels, entry_size, index_bits;
    u64 addr_mask;
};

static bool is_canonical(u64 va)
{
    return (u64)((s64)(va << 16) >> 16) == va;
}

static enum gw_result fault(u32 *pfec, u32 bits)
{
    *pfec = bits;
    return GW_FAULT;
}

/* Frame address of a large page at this level (PAT bit 12 excluded). */
static u64 large_base(u64 e, unsigned int level, const struct format *f, u64 *size)
{
    unsigned int shift = 12 + level * f->index_bits;

    *size = 1ULL << shift;
    if (f->entry_size == 4) /* 4 MiB page: bits 13-20 are address bits 32-39 */
        return (e & 0xffc00000ULL) | ((e & 0x1fe000ULL) << 19);
    return e & f->addr_mask & ~(*size - 1);
}

enum gw_result guest_walk(const struct gw_regs *r, u64 va, u32 access,
                          const struct gw_ops *ops, void *ctx, u64 *gpa, u32 *pfec)
{
    struct format f;
    bool user = access & PFEC_USER, write = access & PFEC_WRITE;
    bool fetch = access & PFEC_FETCH, nx_on = r->efer & EFER_NXE;
    bool allow_w = true, allow_u = true, allow_x = true;
    u64 table, entry_gpa[5], e = 0, size = 0, base;
    unsigned int level, walked = 0;
    u32 present = 0;

    if (!(r->cr0 & CR0_PG)) {
        *gpa = va & 0xffffffffULL; /* no paging: 32-bit physical */
        return GW_OK;
    }
    if (r->efer & EFER_LMA) {
        f = (struct format){4, 8, 9, ADDR_52};
        if (!is_canonical(va))
            return fault(pfec, access); /* the CPU gives #GP; callers see a fault */
        table = r->cr3 & ADDR_52;
    } else if (r->cr4 & CR4_PAE) {
        f = (struct format){3, 8, 9, ADDR_52};
        va &= 0xffffffffULL;
        table = r->cr3 & 0xffffffe0ULL;
    } else {
        f = (struct format){2, 4, 10, 0xfffff000ULL};
        va &= 0xffffffffULL;
        table = r->cr3 & 0xfffff000ULL;
    }
    for (level = f.levels - 1;; level--) {
        unsigned int shift = 12 + level * f.index_bits;
        u64 idx = (va >> shift) & ((1ULL << f.index_bits) - 1);

        if (f.levels == 3 && level == 2)
            idx = (va >> 30) & 3; /* PDPTE: 4 entries, cached at CR3 load */
        entry_gpa[walked] = (f.levels == 3 && level == 2 ? table : table & ~0xfffULL) +
                            idx * f.entry_size;
        if (!ops->read(ctx, entry_gpa[walked], f.entry_size, &e))
            return GW_BAD_TABLE;
        walked++;
        if (!(e & PTE_P))
            return fault(pfec, present | access);
        if (nx_on && f.entry_size == 8 && (e & PTE_NX))
            allow_x = false;
        if (!(f.levels == 3 && level == 2)) { /* PDPTEs carry no permissions */
            allow_w = allow_w && (e & PTE_RW);
            allow_u = allow_u && (e & PTE_US);
        }
        if (level == 0)
            break;
        if ((e & PTE_PS) && (level == 1 || (level == 2 && f.levels == 4)) &&
            (f.entry_size == 8 || (r->cr4 & CR4_PSE)))
            break;
        if ((e & PTE_PS) && level >= 2 && !(f.levels == 4 && level == 2))
            return fault(pfec, PFEC_PRESENT | PFEC_RSVD | access);
        table = e & f.addr_mask;
    }
    present = PFEC_PRESENT;
    if (user && !allow_u)
        return fault(pfec, present | access);
    if (write && !allow_w && (user || (r->cr0 & CR0_WP)))
        return fault(pfec, present | access);
    if (fetch && (!allow_x || (!user && allow_u && (r->cr4 & CR4_SMEP))))
        return fault(pfec, present | access);
    /* Accessed on every level walked, dirty on the leaf for a write. */
    for (unsigned int i = 0; i < walked; i++)
        if (!(f.levels == 3 && i == 0))
            ops->set_bits(ctx, entry_gpa[i], f.entry_size,
                          PTE_A | (i == walked - 1 && write ? PTE_D : 0));
    if (level == 0) {
        size = 4096;
        base = e & f.addr_mask;
    } else {
        base = large_base(e, level, &f, &size);
    }
    *gpa = base | (va & (size - 1));
    return GW_OK;
}
