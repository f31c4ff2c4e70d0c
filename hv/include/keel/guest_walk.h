/*
 * Walking an HVM guest's own page tables: a guest linear address to a
 * guest physical one, with the permission checks and accessed/dirty
 * updates the CPU would make, for every paging mode a PVH guest passes
 * through (paging off, 32-bit, PAE, 4-level long mode).  Table entries
 * are read through the caller's accessors (the p2m in Keel, a buffer in
 * the tests), so nothing here trusts a guest pointer.
 *
 * Core logic only: builds on the host for unit tests and the fuzzer.
 */
#ifndef KEEL_GUEST_WALK_H
#define KEEL_GUEST_WALK_H
#include <keel/types.h>

/* Page-fault error code bits, as the CPU reports them. */
#define PFEC_PRESENT 0x01
#define PFEC_WRITE 0x02
#define PFEC_USER 0x04
#define PFEC_RSVD 0x08
#define PFEC_FETCH 0x10

struct gw_ops {
    /* Read a table entry (4 or 8 bytes) at a guest physical address:
     * false when there is no RAM there. */
    bool (*read)(void *ctx, u64 gpa, unsigned int size, u64 *val);
    /* OR bits into the entry (accessed/dirty). */
    void (*set_bits)(void *ctx, u64 gpa, unsigned int size, u64 bits);
};

struct gw_regs {
    u64 cr0, cr3, cr4, efer;
};

enum gw_result {
    GW_OK = 0,
    GW_FAULT = 1,       /* a #PF for the guest, error code in *pfec */
    GW_BAD_TABLE = 2,   /* a table outside the guest's RAM */
};

/* access: PFEC_WRITE / PFEC_USER / PFEC_FETCH bits of the access made. */
enum gw_result guest_walk(const struct gw_regs *r, u64 va, u32 access,
                          const struct gw_ops *ops, void *ctx, u64 *gpa, u32 *pfec);
#endif
