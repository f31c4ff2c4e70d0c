/*
 * The hypercall-page MSR (wrmsr 0x40000000, the base CPUID leaf 0x40000002
 * names): the hypervisor writes a page of stubs into the frame the guest
 * names.  It may only do so into an ordinary writable page of the guest's:
 * never into a page table (it would leave unvalidated entries in a pinned
 * L1, or overwrite the hypervisor's own slots of the active L4), a GDT
 * page, a frame of someone else's, or with the page-index bits set.  Each
 * refusal is a #GP in the guest and leaves the frame as it was (issue 10,
 * finding 2).
 */
#include <rt.h>

#define MSR_HYPERCALL 0x40000000U
#define PG_P 0x1UL
#define PG_RW 0x2UL
#define PG_US 0x4UL
#define PG_A 0x20UL
#define PTE_RO (PG_P | PG_US | PG_A)
#define PTE_RW (PTE_RO | PG_RW | 0x40UL)

static char good[4096] __attribute__((aligned(4096)));
static char l1_page[4096] __attribute__((aligned(4096)));
static char gdt_page[4096] __attribute__((aligned(4096)));
static char window[4096] __attribute__((aligned(4096)));

static long mmuext1(unsigned cmd, unsigned long mfn)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

static long map_at(void *va, uint64_t mfn, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn << 12) | flags, UVMF_INVLPG);
}

/* The vector wrmsr raised (13 for #GP), or -1 when it was accepted. */
static long try_wrmsr(uint32_t msr, uint64_t val)
{
    unsigned before = rt_last_trap.count;
    __asm__ volatile(RT_GUARD("wrmsr")
                     :: "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "r11", "memory");
    return rt_last_trap.count != before ? (long)rt_last_trap.vector : -1;
}

static long try_rdmsr(uint32_t msr, uint64_t *val)
{
    unsigned before = rt_last_trap.count;
    uint32_t lo = 0, hi = 0;
    __asm__ volatile(RT_GUARD("rdmsr")
                     : "=a"(lo), "=d"(hi) : "c"(msr) : "r11", "memory");
    *val = ((uint64_t)hi << 32) | lo;
    return rt_last_trap.count != before ? (long)rt_last_trap.vector : -1;
}

/* A RAM frame that is not ours (the hypervisor's, or free). */
static uint64_t foreign_ram_mfn(void)
{
    const unsigned long *m2p = (const unsigned long *)0xffff800000000000UL;
    const unsigned long *p2m = (const unsigned long *)rt_start_info->mfn_list;
    for (uint64_t mfn = 0x200; mfn < 0x4000; mfn++) {
        unsigned long pfn = m2p[mfn];
        if (pfn >= rt_start_info->nr_pages || p2m[pfn] != mfn)
            return mfn;
    }
    return 0;
}

static void refused(const char *what, uint64_t val)
{
    long v = try_wrmsr(MSR_HYPERCALL, val);
    printf("hcallmsr: wrmsr(hypercall page, %s = 0x%lx): vector %ld\n", what,
           (unsigned long)val, v);
    EXPECT_EQ(v, 13);
}

/* A pinned L1 table (all entries empty) must stay empty. */
static void into_pinned_l1(void)
{
    uint64_t mfn = rt_virt_to_mfn(l1_page);
    const volatile uint64_t *t = (const uint64_t *)l1_page;

    memset(l1_page, 0, sizeof(l1_page));
    CHECK(map_at(l1_page, mfn, PTE_RO) == 0);
    CHECK(mmuext1(MMUEXT_PIN_L1_TABLE, mfn) == 0);
    refused("pinned L1", mfn << 12);
    unsigned nonzero = 0;
    for (unsigned i = 0; i < 512; i++)
        nonzero += t[i] != 0;
    EXPECT_EQ(nonzero, 0);
    EXPECT_EQ(mmuext1(MMUEXT_UNPIN_TABLE, mfn), 0);
    EXPECT_EQ(map_at(l1_page, mfn, PTE_RW), 0);
}

/* The L4 we run on: the hypervisor's slots (256-271) must survive. */
static void into_active_l4(start_info_t *si)
{
    uint64_t l4 = rt_virt_to_mfn((void *)si->pt_base);
    const volatile uint64_t *t = (const uint64_t *)si->pt_base;
    uint64_t slot0 = t[0], slot511 = t[511];

    refused("active L4", l4 << 12);
    EXPECT_EQ(t[0], slot0);
    EXPECT_EQ(t[511], slot511);
}

static void into_gdt_frame(void)
{
    uint64_t mfn = rt_virt_to_mfn(gdt_page);
    unsigned long frames[1] = {mfn};

    memset(gdt_page, 0, sizeof(gdt_page));
    CHECK(map_at(gdt_page, mfn, PTE_RO) == 0);
    CHECK(hypercall2(__HYPERVISOR_set_gdt, frames, 512) == 0);
    refused("GDT frame", mfn << 12);
    EXPECT_EQ(((const volatile uint64_t *)gdt_page)[1], 0);
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_gdt, frames, 0), 0);
    EXPECT_EQ(map_at(gdt_page, mfn, PTE_RW), 0);
}

/* An ordinary page: filled, and its stubs work. */
static void into_good_page(void)
{
    uint64_t mfn = rt_virt_to_mfn(good);
    typedef long (*stub_t)(unsigned long, unsigned long);

    memset(good, 0, sizeof(good));
    long v = try_wrmsr(MSR_HYPERCALL, mfn << 12);
    printf("hcallmsr: wrmsr(hypercall page, our page): vector %ld\n", v);
    EXPECT_EQ(v, -1);
    EXPECT(good[__HYPERVISOR_xen_version * 32] != 0);
    /* The stub keeps RCX/R11 and returns like a call. */
    stub_t ver = (stub_t)(good + __HYPERVISOR_xen_version * 32);
    long a = ver(XENVER_version, 0), b = HYPERVISOR_xen_version(XENVER_version, NULL);
    EXPECT_EQ(a, b);
    /* Still an ordinary page (no reference left behind): it can go away. */
    EXPECT_EQ(map_at(window, mfn, PTE_RO), 0);
    EXPECT_EQ(map_at(good, mfn, PTE_RO), 0);
    EXPECT_EQ(map_at(good, mfn, PTE_RW), 0);
}

void test_main(start_info_t *si)
{
    uint64_t val = ~0ULL, foreign = foreign_ram_mfn();

    rt_install_traps();
    CHECK(foreign != 0);
    /* Reads as zero (Xen); the MSRs after it do not exist. */
    EXPECT_EQ(try_rdmsr(MSR_HYPERCALL, &val), -1);
    EXPECT_EQ(val, 0);
    EXPECT_EQ(try_wrmsr(MSR_HYPERCALL + 1, rt_virt_to_mfn(good) << 12), 13);

    refused("page index 1", (rt_virt_to_mfn(good) << 12) | 1);
    refused("page index 0xfff", (rt_virt_to_mfn(good) << 12) | 0xfff);
    refused("foreign frame", foreign << 12);
    refused("no such frame", 0xffffffffffUL << 12);
    into_pinned_l1();
    into_active_l4(si);
    into_gdt_frame();
    into_good_page();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
