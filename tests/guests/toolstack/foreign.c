/*
 * Foreign mappings the way Linux's privcmd makes them: mmu_update on one
 * of dom0's own L1 entries, naming a frame of the domU in foreigndom.  The
 * entries are those of a page-aligned window in our .bss; their machine
 * addresses come from walking dom0's initial page tables (each table is
 * mapped at VIRT_BASE + pfn * 4 KiB, its pfn from the M2P).
 */
#include "toolstack.h"

static uint8_t window[WIN_SLOTS][4096] __attribute__((aligned(4096)));
static uint64_t pte_ma[WIN_SLOTS];

static const uint64_t *table_va(uint64_t entry)
{
    const unsigned long *m2p = (const unsigned long *)MACH2PHYS_VIRT_START;
    uint64_t mfn = (entry & 0x000ffffffffff000UL) >> 12;

    CHECK(entry & 1);
    return (const uint64_t *)(VIRT_BASE + (m2p[mfn] << 12));
}

/* Machine address of the L1 entry mapping va in dom0's tables. */
static uint64_t l1e_ma(uintptr_t va)
{
    const uint64_t *l4 = (const uint64_t *)rt_start_info->pt_base;
    const uint64_t *l3 = table_va(l4[(va >> 39) & 511]);
    const uint64_t *l2 = table_va(l3[(va >> 30) & 511]);
    uint64_t l2e = l2[(va >> 21) & 511];

    CHECK(!(l2e & 0x80)); /* 4 KiB pages, as the builder made them */
    return (l2e & 0x000ffffffffff000UL) + ((va >> 12) & 511) * 8;
}

void window_init(void)
{
    for (unsigned int i = 0; i < WIN_SLOTS; i++) {
        window[i][0] = 0; /* touch: the frame must be there */
        pte_ma[i] = l1e_ma((uintptr_t)window[i]);
    }
}

uint64_t slot_pte(unsigned int slot)
{
    return pte_ma[slot];
}

void *slot_va(unsigned int slot)
{
    return window[slot];
}

long map_foreign(unsigned int slot, uint64_t mfn, unsigned int dom, void **va)
{
    struct mmu_update req = {
        .ptr = pte_ma[slot] | MMU_NORMAL_PT_UPDATE,
        /* present, RW, user, accessed, dirty, and bit 9 as Linux sets it */
        .val = (mfn << 12) | 0x67 | (1UL << 9),
    };
    /* `done` is an unsigned int: Linux keeps other locals right beside it
     * (xen_remap_pfn), so nothing past its 4 bytes may be written. */
    struct {
        unsigned int done, guard;
    } d = {0, 0x600df00dU};
    long rc = mmu_update(&req, 1, &d.done, dom);

    EXPECT_EQ(d.guard, 0x600df00dU);
    EXPECT_EQ(d.done, rc ? 0 : 1);
    flush_tlb();
    if (!rc)
        *va = window[slot];
    return rc;
}

long unmap_slot(unsigned int slot)
{
    struct mmu_update req = {.ptr = pte_ma[slot] | MMU_NORMAL_PT_UPDATE, .val = 0};
    long rc = mmu_update(&req, 1, NULL, DOMID_SELF);

    flush_tlb();
    return rc;
}
