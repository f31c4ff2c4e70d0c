/*
 * Linear (recursive) page tables, Xen's pv-linear-pt rules: a page-table
 * entry may name a table of its own level if it is read-only.  We map our
 * live L4 into one of its own slots and walk our page tables through it
 * (every entry read that way equals the one read through the builder's
 * mapping of the tables), see an update appear there, and find it
 * read-only; a writable recursive entry is refused.  Between two tables:
 * a second L4 mapped linearly into the live one keeps its type when
 * unpinned, and the rules that keep chains one step long refuse a third
 * table mapping the live L4 (which has a linear entry).  At L2: an L2
 * mapping itself shows its L1 tables as pages.
 */
#include <rt.h>

#define VIRT_BASE 0xffffffff80000000UL
#define M2P ((const unsigned long *)0xffff800000000000UL)
#define ADDR_MASK 0x000ffffffffff000UL
#define PG_RO 0x25UL   /* P US A */
#define PG_RW 0x67UL   /* P RW US A D */
#define RSLOT 280UL    /* the recursive slot: below 511, above the hypervisor's */
#define LSLOT 281UL    /* the second L4, linearly */

static uint64_t l4b[512] __attribute__((aligned(4096)));
static uint64_t l4c[512] __attribute__((aligned(4096)));
static volatile uint64_t data_page[512] __attribute__((aligned(4096)));

static uint64_t sext(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16);
}

/* Where the recursive slot shows the entry of `level` (1-4) for va. */
static volatile uint64_t *rec(unsigned level, uint64_t va)
{
    uint64_t a = RSLOT << 39, idx = (va & 0xffffffffffffUL) >> 12;

    for (unsigned l = 1; l < level; l++) {
        a = (a >> 9) | (RSLOT << 39);
        idx >>= 9;
    }
    return (volatile uint64_t *)sext((a & ~0xfffUL & ((1UL << 48) - 1)) |
                                     (idx * 8 & (((1UL << 48) - 1) >> (9 * (level - 1)))));
}

static uint64_t *va_of_mfn(uint64_t mfn)
{
    return (uint64_t *)(VIRT_BASE + (M2P[mfn] << 12));
}

/* The table of `level` that maps va, read through the builder's mapping
 * of the tables (read-only to us). */
static uint64_t *table_of(unsigned level, uint64_t va)
{
    uint64_t *t = (uint64_t *)rt_start_info->pt_base;

    for (unsigned l = 4; l > level; l--)
        t = va_of_mfn((t[(va >> (12 + 9 * (l - 1))) & 511] & ADDR_MASK) >> 12);
    return t;
}

static long mmu_update(uint64_t ptr, uint64_t val)
{
    struct mmu_update req = {.ptr = ptr, .val = val};
    return hypercall4(__HYPERVISOR_mmu_update, &req, 1, NULL, DOMID_SELF);
}

static long mmuext1(unsigned cmd, uint64_t mfn)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

static uint64_t l4_mfn(void)
{
    return rt_virt_to_mfn((void *)rt_start_info->pt_base);
}

static void walk_compare(uint64_t va, const char *what)
{
    for (unsigned level = 4; level >= 1; level--) {
        uint64_t direct = table_of(level, va)[(va >> (12 + 9 * (level - 1))) & 511];
        uint64_t seen = *rec(level, va);
        if (seen != direct) {
            printf("linear: %s L%u entry %lx through the slot, %lx directly\n", what, level,
                   (unsigned long)seen, (unsigned long)direct);
            EXPECT(seen == direct);
        }
    }
}

static void recursive_l4(void)
{
    uint64_t l4 = l4_mfn(), va = (uintptr_t)data_page, v;
    long r;

    r = mmu_update((l4 << 12) + RSLOT * 8, (l4 << 12) | PG_RW);
    printf("linear: writable recursive L4 entry = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(mmu_update((l4 << 12) + RSLOT * 8, (l4 << 12) | PG_RO), 0);
    walk_compare(va, "data page");
    walk_compare((uintptr_t)test_main, "code");
    EXPECT_EQ((*rec(1, va) & ADDR_MASK) >> 12, rt_virt_to_mfn((void *)data_page));
    EXPECT_EQ((*rec(4, RSLOT << 39) & ADDR_MASK) >> 12, l4); /* the slot itself */
    /* An update shows through at once ... */
    EXPECT_EQ(HYPERVISOR_update_va_mapping(va, (rt_virt_to_mfn((void *)data_page) << 12) |
                                                   PG_RO, UVMF_INVLPG), 0);
    EXPECT_EQ(*rec(1, va) & 2, 0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping(va, (rt_virt_to_mfn((void *)data_page) << 12) |
                                                   PG_RW, UVMF_INVLPG), 0);
    EXPECT_EQ(*rec(1, va) & 2, 2);
    data_page[0] = 7;
    /* ... and it is read-only. */
    EXPECT_EQ(rt_probe_write((uintptr_t)rec(1, va), 0), 14);
    EXPECT_EQ(rt_probe_read((uintptr_t)rec(1, va), &v), -1);
    EXPECT_EQ(data_page[0], 7);
}

/* A second L4, a copy of the live one, mapped linearly into it. */
static void linear_between_tables(void)
{
    uint64_t l4 = l4_mfn(), b = rt_virt_to_mfn(l4b), c = rt_virt_to_mfn(l4c);
    const uint64_t *live = (const uint64_t *)rt_start_info->pt_base;
    long r;

    for (unsigned i = 0; i < 512; i++)
        l4b[i] = (i >= 256 && i < 272) || i == RSLOT ? 0 : live[i];
    for (unsigned i = 0; i < 512; i++)
        l4c[i] = 0;
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)l4b, (b << 12) | PG_RO, UVMF_INVLPG), 0);
    /* Not an L4 yet: as an L3 it does not validate (its slot 511 names
     * an L3, not an L2). */
    r = mmu_update((l4 << 12) + LSLOT * 8, (b << 12) | PG_RO);
    printf("linear: L4 entry naming a frame that is no L4 yet = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(mmuext1(MMUEXT_PIN_L4_TABLE, b), 0);
    EXPECT_EQ(mmu_update((l4 << 12) + LSLOT * 8, (b << 12) | PG_RO), 0);
    /* Its slot 511 through ours: the same L3 as our own. */
    EXPECT_EQ(*(volatile uint64_t *)sext((RSLOT << 39) | (RSLOT << 30) | (RSLOT << 21) |
                                         (LSLOT << 12) | (511 * 8)), live[511]);
    /* Unpinned, b stays an L4 (the linear entry holds it): not writable. */
    EXPECT_EQ(mmuext1(MMUEXT_UNPIN_TABLE, b), 0);
    r = HYPERVISOR_update_va_mapping((uintptr_t)l4b, (b << 12) | PG_RW, UVMF_INVLPG);
    printf("linear: writable mapping of an L4 held by a linear entry = %ld\n", r);
    EXPECT_EQ(r, -XEN_EBUSY);
    /* Chains stop after one step: a table naming ours (which has a linear
     * entry) is refused. */
    l4c[3] = (l4 << 12) | PG_RO;
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)l4c, (c << 12) | PG_RO, UVMF_INVLPG), 0);
    r = mmuext1(MMUEXT_PIN_L4_TABLE, c);
    printf("linear: pin an L4 naming one with a linear entry = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* The entry goes: b is an ordinary page again. */
    EXPECT_EQ(mmu_update((l4 << 12) + LSLOT * 8, 0), 0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)l4b, (b << 12) | PG_RW, UVMF_INVLPG), 0);
    l4b[0] = 0;
    /* With no linear entry left in ours (the self-map holds nothing), c
     * may name it. */
    r = mmuext1(MMUEXT_PIN_L4_TABLE, c);
    printf("linear: pin it again, ours without linear entries = %ld\n", r);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(mmuext1(MMUEXT_UNPIN_TABLE, c), 0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)l4c, (c << 12) | PG_RW, UVMF_INVLPG), 0);
}

/* An L2 mapping itself: its L1 tables appear as pages. */
static void l2_self_map(void)
{
    uint64_t *l2 = table_of(2, VIRT_BASE);
    uint64_t l2m = rt_virt_to_mfn(l2), va = VIRT_BASE + (5UL << 21);
    const uint64_t *l1 = table_of(1, VIRT_BASE);

    EXPECT_EQ(l2[5] & 1, 0);
    EXPECT_EQ(mmu_update((l2m << 12) + 5 * 8, (l2m << 12) | PG_RW), -XEN_EINVAL);
    EXPECT_EQ(mmu_update((l2m << 12) + 5 * 8, (l2m << 12) | PG_RO), 0);
    /* Page 0 of that region is the L1 table l2[0] names. */
    EXPECT_EQ(*(volatile uint64_t *)va, l1[0]);
    EXPECT_EQ(*(volatile uint64_t *)(va + 8 * 256), l1[256]);
    EXPECT_EQ(mmu_update((l2m << 12) + 5 * 8, 0), 0);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    recursive_l4();
    linear_between_tables();
    l2_self_map();
    /* The recursive slot goes too. */
    EXPECT_EQ(mmu_update((l4_mfn() << 12) + RSLOT * 8, 0), 0);
}
