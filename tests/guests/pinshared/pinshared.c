/*
 * Frames the hypervisor itself writes into (shared_info, a registered
 * vcpu_info area, a grant-table frame) must never become page tables or
 * descriptor pages: the hypervisor keeps writing event bits, time and cr2
 * into them, so a guest that could pin one as an L1 would forge its own
 * PTEs (issue 10, finding 1).  Each frame is zeroed and left without any
 * writable mapping of ours, exactly as the attack prepared it; then every
 * way of typing it as a table or GDT page must be refused, and it must stay
 * an ordinary page we may map again.
 */
#include <rt.h>
#include <xen/grant_table.h>

#define PG_P 0x1UL
#define PG_RW 0x2UL
#define PG_US 0x4UL
#define PG_A 0x20UL
#define PTE_RO (PG_P | PG_US | PG_A)
#define PTE_RW (PTE_RO | PG_RW | 0x40UL)

static char window[4096] __attribute__((aligned(4096)));
static char vinfo_page[4096] __attribute__((aligned(4096)));
static char l2_page[4096] __attribute__((aligned(4096)));

static long mmuext1(unsigned cmd, unsigned long mfn)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

static long map_at(void *va, uint64_t mfn, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn << 12) | flags, UVMF_INVLPG);
}

/* Zero the frame through `window`, then leave no writable mapping of it.
 * (In shared_info that would unmask events: keep vCPU 0's mask set, a
 * byte that reads as a not-present entry.) */
static void prepare(uint64_t mfn, bool shared_info)
{
    CHECK(map_at(window, mfn, PTE_RW) == 0);
    memset(window, 0, sizeof(window));
    if (shared_info)
        ((shared_info_t *)window)->vcpu_info[0].evtchn_upcall_mask = 1;
    CHECK(map_at(window, mfn, PTE_RO) == 0);
}

/* Every table level and the GDT: all refused, nothing pinned. */
static void try_retype(const char *what, uint64_t mfn)
{
    static const unsigned pins[] = {MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L2_TABLE,
                                    MMUEXT_PIN_L3_TABLE, MMUEXT_PIN_L4_TABLE};
    for (unsigned i = 0; i < 4; i++) {
        long r = mmuext1(pins[i], mfn);
        printf("pinshared: pin %s (mfn 0x%lx) as L%u = %ld\n", what, (unsigned long)mfn,
               i + 1, r);
        EXPECT_EQ(r, -XEN_EINVAL);
        if (r == 0)
            mmuext1(MMUEXT_UNPIN_TABLE, mfn);
    }
    unsigned long frames[1] = {mfn};
    long r = hypercall2(__HYPERVISOR_set_gdt, frames, 512);
    printf("pinshared: %s as a GDT frame = %ld\n", what, r);
    EXPECT_EQ(r, -XEN_EINVAL);
    if (r == 0)
        hypercall2(__HYPERVISOR_set_gdt, frames, 0);

    /* Hooked under an L2 of ours: the child would have to become an L1. */
    uint64_t *l2 = (uint64_t *)l2_page;
    CHECK(map_at(l2, rt_virt_to_mfn(l2), PTE_RW) == 0);
    memset(l2, 0, 4096);
    l2[0] = (mfn << 12) | PG_P | PG_RW | PG_US;
    CHECK(map_at(l2, rt_virt_to_mfn(l2), PTE_RO) == 0);
    r = mmuext1(MMUEXT_PIN_L2_TABLE, rt_virt_to_mfn(l2));
    printf("pinshared: L2 naming %s = %ld\n", what, r);
    EXPECT(r < 0);
    if (r == 0)
        mmuext1(MMUEXT_UNPIN_TABLE, rt_virt_to_mfn(l2));
    CHECK(map_at(l2, rt_virt_to_mfn(l2), PTE_RW) == 0);

    /* Still an ordinary page: writable mappings work again. */
    EXPECT_EQ(map_at(window, mfn, PTE_RW), 0);
    EXPECT_EQ(map_at(window, mfn, PTE_RO), 0);
}

static void shared_info_frame(start_info_t *si)
{
    /* No rt_shared_info(): no mapping of ours exists besides `window`. */
    uint64_t mfn = si->shared_info >> 12;
    prepare(mfn, true);
    try_retype("shared_info", mfn);
}

static void grant_frame(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};
    set_xen_guest_handle(st.frame_list, &frame);
    CHECK(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1) == 0);
    CHECK(st.status == GNTST_okay && frame != 0);
    prepare(frame, false);
    try_retype("grant frame", frame);
}

static void vcpu_info_frame(void)
{
    uint64_t mfn = rt_virt_to_mfn(vinfo_page);
    struct vcpu_register_vcpu_info r = {.mfn = mfn, .offset = 64};
    memset(vinfo_page, 0, sizeof(vinfo_page));
    long rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r);
    printf("pinshared: register_vcpu_info = %ld\n", rc);
    CHECK(rc == 0);
    /* Our own mapping of it must go too: read-only is what an attacker keeps. */
    CHECK(map_at(vinfo_page, mfn, PTE_RO) == 0);
    try_retype("vcpu_info frame", mfn);
}

void test_main(start_info_t *si)
{
    rt_install_traps();
    shared_info_frame(si);
    grant_frame();
    vcpu_info_frame();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
