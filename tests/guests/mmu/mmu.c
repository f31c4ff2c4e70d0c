/*
 * Direct paging: the hypervisor validates every page-table entry a PV
 * guest installs.  Hostile requests (a writable mapping of our own page
 * table, frames that are not ours, a table with a bad entry, Keel's L4
 * slots) must be refused and leave everything as it was; the sequences
 * Linux uses (pin, new_baseptr, unpin, mmu_update, update_va_mapping,
 * emulated stores into a pinned L1 after vm_assist) must work.
 *
 * Scratch tables are pages of our own .bss: a frame can become a table
 * only while no writable mapping of it exists, so each is first remapped
 * read-only with update_va_mapping.
 */
#include <rt.h>

#define VIRT_BASE 0xffffffff80000000UL
#define M2P ((const unsigned long *)0xffff800000000000UL)
#define PG_P 0x1UL
#define PG_RW 0x2UL
#define PG_US 0x4UL
#define PG_A 0x20UL
#define PG_TABLE 0x67UL /* P RW US A D */
#define ADDR_MASK 0x000ffffffffff000UL

static char scratch[4][4096] __attribute__((aligned(4096)));
static char page_b[4096] __attribute__((aligned(4096)));
static char page_c[4096] __attribute__((aligned(4096)));

static long mmu_update(struct mmu_update *req, unsigned n, unsigned *done)
{
    return hypercall4(__HYPERVISOR_mmu_update, req, n, done, DOMID_SELF);
}

static long mmuext(struct mmuext_op *op, unsigned n, unsigned *done)
{
    return hypercall4(__HYPERVISOR_mmuext_op, op, n, done, DOMID_SELF);
}

static long mmuext1(unsigned cmd, unsigned long arg1)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = arg1};
    return mmuext(&op, 1, NULL);
}

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

/* Our pfn's VA, for frames inside the initial mapping. */
static uint64_t *mfn_va(uint64_t mfn)
{
    return (uint64_t *)(VIRT_BASE + (M2P[mfn] << 12));
}

/* The L1 entry mapping va in the builder's tables (read-only to us). */
static volatile uint64_t *l1e_of(const void *va)
{
    uint64_t a = (uintptr_t)va, *t = (uint64_t *)rt_start_info->pt_base;
    for (int shift = 39; shift > 12; shift -= 9)
        t = mfn_va((t[(a >> shift) & 511] & ADDR_MASK) >> 12);
    return &t[(a >> 12) & 511];
}

static long remap(void *va, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(va) << 12) | flags,
                                        UVMF_INVLPG);
}

/* A RAM frame of the machine that is not ours (Keel's or Xen's, or free). */
static uint64_t foreign_ram_mfn(void)
{
    const unsigned long *p2m = (const unsigned long *)rt_start_info->mfn_list;
    for (uint64_t mfn = 0x200; mfn < 0x4000; mfn++) {
        unsigned long pfn = M2P[mfn];
        if (pfn >= rt_start_info->nr_pages || p2m[pfn] != mfn)
            return mfn;
    }
    return 0;
}

static void vm_assist(void)
{
    long r = HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables);
    EXPECT_EQ(r, 0);
    r = HYPERVISOR_vm_assist(VMASST_CMD_enable, 31);
    printf("mmu: vm_assist(enable, 31) = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    r = HYPERVISOR_vm_assist(7, VMASST_TYPE_writable_pagetables);
    printf("mmu: vm_assist(7, writable_pagetables) = %ld\n", r);
    EXPECT_EQ(r, -XEN_ENOSYS);
}

static void hostile_mappings(uint64_t foreign)
{
    void *window = scratch[3];
    uint64_t l1_mfn = mfn_of((const void *)((uintptr_t)l1e_of(window) & ~0xfffUL));
    uint64_t before = *l1e_of(window);
    long r;

    /* Our own L1 table, writable: would let us write any entry. */
    r = HYPERVISOR_update_va_mapping((uintptr_t)window, (l1_mfn << 12) | PG_TABLE, UVMF_INVLPG);
    printf("mmu: writable mapping of our L1 = %ld\n", r);
    EXPECT_EQ(r, -XEN_EBUSY);
    /* Read-only is fine (Linux reads its tables). */
    r = HYPERVISOR_update_va_mapping((uintptr_t)window, (l1_mfn << 12) | 0x25, UVMF_INVLPG);
    EXPECT_EQ(r, 0);
    /* The hypervisor's RAM, or free RAM. */
    r = HYPERVISOR_update_va_mapping((uintptr_t)window, (foreign << 12) | 0x25, UVMF_INVLPG);
    printf("mmu: mapping foreign RAM mfn %lx = %ld\n", (unsigned long)foreign, r);
    EXPECT_EQ(r, -XEN_EBUSY);
    /* Beyond any machine. */
    r = HYPERVISOR_update_va_mapping((uintptr_t)window, (0xffffffffffUL << 12) | 0x25,
                                     UVMF_INVLPG);
    printf("mmu: mapping mfn 0xffffffffff = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* Bits the CPU ignores (52-58) are the guest's to use. */
    r = HYPERVISOR_update_va_mapping((uintptr_t)window, (mfn_of(page_b) << 12) | 0x25 | (1UL << 55),
                                     UVMF_INVLPG);
    printf("mmu: entry with bit 55 = %ld\n", r);
    EXPECT_EQ(r, 0);
    /* Not in our address space at all (Keel's/Xen's slots). */
    r = HYPERVISOR_update_va_mapping(0xffff830000000000UL, (mfn_of(page_b) << 12) | 0x25,
                                     UVMF_INVLPG);
    EXPECT(r < 0);
    /* Put the window back as it was. */
    EXPECT_EQ(remap(window, PG_TABLE), 0);
    EXPECT_EQ(*l1e_of(window) & (ADDR_MASK | PG_P | PG_RW), before & (ADDR_MASK | PG_P | PG_RW));
    scratch[3][0] = 1; /* writable again */
}

/* An L1 at scratch[0] with one entry; returns its mfn. */
static uint64_t make_l1(uint64_t entry0)
{
    uint64_t *t = (uint64_t *)scratch[0];
    CHECK(remap(t, PG_TABLE) == 0);
    memset(t, 0, 4096);
    t[0] = entry0;
    CHECK(remap(t, PG_P | PG_US | PG_A) == 0);
    return mfn_of(t);
}

/*
 * A batch long enough that the hypervisor may stop in the middle and
 * continue (Xen and Keel do, when other work is pending): every request
 * still lands once, and `done` counts all of them.
 */
#define LONG_BATCH 4096
static struct mmu_update batch[LONG_BATCH];

static void long_batch(uint64_t table, uint64_t target)
{
    const volatile uint64_t *t = (const uint64_t *)scratch[0];
    unsigned done = 0;

    for (unsigned i = 0; i < LONG_BATCH; i++) {
        batch[i].ptr = (table << 12) + 8 * (i % 512);
        /* The last round (i >= LONG_BATCH - 512) leaves odd slots mapped. */
        batch[i].val = (i & 1) ? (target << 12) | PG_P | PG_US : 0;
    }
    long r = mmu_update(batch, LONG_BATCH, &done);
    printf("mmu: batch of %u updates = %ld, done %u\n", LONG_BATCH, r, done);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(done, LONG_BATCH);
    EXPECT_EQ(t[510], 0);
    EXPECT_EQ(t[511] & (ADDR_MASK | PG_P), (target << 12) | PG_P);
    /* Put the table back as the checks after this expect it. */
    for (unsigned i = 0; i < 512; i++) {
        batch[i].ptr = (table << 12) + 8 * i;
        batch[i].val = i == 1 ? (target << 12) | PG_P | PG_US : 0;
    }
    EXPECT_EQ(mmu_update(batch, 512, NULL), 0);
}

static void pinning(uint64_t foreign)
{
    uint64_t a = make_l1((foreign << 12) | PG_P | PG_US);
    uint64_t b = mfn_of(page_b);
    long r = mmuext1(MMUEXT_PIN_L1_TABLE, a);
    printf("mmu: pin L1 mapping foreign RAM = %ld\n", r);
    /* Xen passes the entry's error up. */
    EXPECT_EQ(r, -XEN_EBUSY);
    r = mmuext1(MMUEXT_PIN_L2_TABLE, a); /* entry 0 is no L1 of ours */
    EXPECT(r < 0);

    a = make_l1((b << 12) | PG_P | PG_US | PG_RW);
    EXPECT_EQ(mmuext1(MMUEXT_PIN_L1_TABLE, a), 0);
    r = mmuext1(MMUEXT_PIN_L1_TABLE, a);
    printf("mmu: pin twice = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* A pinned table may not become writable. */
    r = remap(scratch[0], PG_TABLE);
    EXPECT_EQ(r, -XEN_EBUSY);

    /* mmu_update into it: good entries pass, bad ones are refused. */
    struct mmu_update req[2] = {
        {.ptr = (a << 12) + 8 * 1, .val = (b << 12) | PG_P | PG_US},
        {.ptr = (a << 12) + 8 * 2, .val = (a << 12) | PG_P | PG_US | PG_RW},
    };
    unsigned done = 99;
    r = mmu_update(req, 2, &done);
    printf("mmu: mmu_update [good, self-writable] = %ld, done %u\n", r, done);
    EXPECT_EQ(r, -XEN_EBUSY);
    EXPECT_EQ(done, 1);
    const volatile uint64_t *ta = (const uint64_t *)scratch[0];
    EXPECT_EQ(ta[1] & (ADDR_MASK | PG_P), (b << 12) | PG_P);
    EXPECT_EQ(ta[2], 0);
    req[0].ptr = (a << 12) + 8 * 3;
    req[0].val = (foreign << 12) | PG_P | PG_US;
    EXPECT(mmu_update(req, 1, NULL) < 0);
    EXPECT_EQ(ta[3], 0);
    /* PRESERVE_AD keeps the accessed bit already there. */
    req[0].ptr = ((a << 12) + 8 * 1) | MMU_PT_UPDATE_PRESERVE_AD;
    req[0].val = (b << 12) | PG_P | PG_US;
    EXPECT_EQ(mmu_update(req, 1, NULL), 0);
    long_batch(a, b);

    EXPECT_EQ(mmuext1(MMUEXT_UNPIN_TABLE, a), 0);
    r = mmuext1(MMUEXT_UNPIN_TABLE, a);
    printf("mmu: unpin twice = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* Unpinned and unused: an ordinary page again. */
    EXPECT_EQ(remap(scratch[0], PG_TABLE), 0);
}

/* Keel's slots in an L4, and a new kernel page-table root. */
static void new_root(void)
{
    uint64_t *cur = (uint64_t *)rt_start_info->pt_base;
    uint64_t *n = (uint64_t *)page_c, c = mfn_of(page_c), old = mfn_of(cur);
    long r;

    for (int i = 0; i < 512; i++)
        n[i] = (i >= 256 && i < 272) ? 0 : cur[i];
    CHECK(remap(n, PG_P | PG_US | PG_A) == 0);
    EXPECT_EQ(mmuext1(MMUEXT_PIN_L4_TABLE, c), 0);
    /* Xen 4.17 does not show its own slots through our mapping; Keel does. */
    printf("mmu: pinned L4 slot 256 reads %lx\n", (unsigned long)n[256]);
    struct mmu_update req = {.ptr = (c << 12) + 8 * 260, .val = cur[511]};
    r = mmu_update(&req, 1, NULL);
    printf("mmu: write L4 slot 260 = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);

    EXPECT_EQ(mmuext1(MMUEXT_NEW_BASEPTR, c), 0);
    EXPECT_EQ(mmuext1(MMUEXT_NEW_USER_BASEPTR, 0), 0);
    EXPECT_EQ(mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0), 0);
    /* In use as CR3: unpinning drops only the pin. */
    r = mmuext1(MMUEXT_UNPIN_TABLE, c);
    printf("mmu: unpin the L4 in use = %ld\n", r);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(remap(n, PG_TABLE), -XEN_EBUSY);
    r = mmuext1(MMUEXT_NEW_BASEPTR, 0x7fffffffUL);
    EXPECT(r < 0);
    EXPECT_EQ(mmuext1(MMUEXT_NEW_BASEPTR, old), 0);
    /* No longer referenced: writable again. */
    EXPECT_EQ(remap(n, PG_TABLE), 0);
}

/* Emulated stores into a pinned L1 (vm_assist writable_pagetables). */
static void ptwr(uint64_t foreign)
{
    uint64_t b = mfn_of(page_b);
    uint64_t a = make_l1(0);
    volatile uint64_t *t = (volatile uint64_t *)scratch[0];
    uint64_t want = (b << 12) | PG_P | PG_US;

    EXPECT_EQ(mmuext1(MMUEXT_PIN_L1_TABLE, a), 0);
    t[5] = want; /* mov */
    EXPECT_EQ(t[5] & (ADDR_MASK | PG_P), (b << 12) | PG_P);
    uint64_t old = want;
    __asm__ volatile("xchg %0, %1" : "+r"(old), "+m"(t[6]) :: "memory");
    EXPECT_EQ(old, 0);
    EXPECT_EQ(t[6] & (ADDR_MASK | PG_P), (b << 12) | PG_P);
    uint64_t expect = t[5], nv = 0;
    __asm__ volatile("lock cmpxchg %2, %1" : "+a"(expect), "+m"(t[5]) : "r"(nv) : "memory");
    EXPECT_EQ(t[5], 0);
    __asm__ volatile("lock orb $0x20, %0" : "+m"(*(volatile uint8_t *)&t[6]) :: "memory");
    EXPECT(t[6] & PG_A);
    /* A bad entry is not emulated: the store faults. */
    rt_install_traps();
    long v = rt_probe_write((uintptr_t)&t[7], (foreign << 12) | PG_P | PG_US);
    printf("mmu: store of a foreign entry: vector %ld\n", v);
    EXPECT_EQ(v, 14);
    EXPECT_EQ(t[7], 0);
    v = rt_probe_write((uintptr_t)&t[7], (a << 12) | PG_P | PG_US | PG_RW);
    EXPECT_EQ(v, 14);
    EXPECT_EQ(mmuext1(MMUEXT_UNPIN_TABLE, a), 0);
    EXPECT_EQ(remap(scratch[0], PG_TABLE), 0);
}

static void pages(void)
{
    memset(page_b, 0x5a, 4096);
    memset(scratch[1], 0, 4096);
    struct mmuext_op op = {.cmd = MMUEXT_COPY_PAGE, .arg1.mfn = mfn_of(scratch[1]),
                           .arg2.src_mfn = mfn_of(page_b)};
    EXPECT_EQ(mmuext(&op, 1, NULL), 0);
    EXPECT_EQ(scratch[1][4095], 0x5a);
    EXPECT_EQ(mmuext1(MMUEXT_CLEAR_PAGE, mfn_of(page_b)), 0);
    EXPECT_EQ(page_b[100], 0);
}

void test_main(start_info_t *si)
{
    (void)si;
    uint64_t foreign = foreign_ram_mfn();
    CHECK(foreign != 0);
    vm_assist();
    hostile_mappings(foreign);
    pinning(foreign);
    new_root();
    pages();
    ptwr(foreign);
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
