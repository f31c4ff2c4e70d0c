/*
 * Far calls and jumps through call gates of our own GDT and LDT.  A 64-bit
 * PV guest's gates are stored with DPL 0 (the requested DPL moves to the
 * target selector's RPL), so the CPU refuses a far transfer through one
 * from the guest's ring 3 with #GP(gate selector); Xen 4.17 emulates gates
 * for 32-bit PV guests only and hands a 64-bit guest that #GP as it is,
 * error code and all (so does Keel).  Also a gate past the GDT's limit,
 * past the LDT's, with no LDT, a non-present one, and the null selector.
 */
#include <rt.h>

#define PG_RO 0x25UL
#define PG_RW 0x67UL
#define GATE_TYPE 0xcUL /* 64-bit call gate */

static uint64_t gdt[512] __attribute__((aligned(4096)));
static uint64_t ldt[512] __attribute__((aligned(4096)));

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

static long remap(void *va, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(va) << 12) | flags,
                                        UVMF_INVLPG);
}

/* A 64-bit call gate to sel:off with DPL dpl: two descriptor slots. */
static void gate(uint64_t *t, unsigned idx, uint16_t sel, uint64_t off, unsigned dpl,
                 bool present)
{
    t[idx] = (off & 0xffff) | ((uint64_t)sel << 16) | (GATE_TYPE << 40) |
             ((uint64_t)dpl << 45) | ((uint64_t)present << 47) |
             ((off & 0xffff0000UL) << 32);
    t[idx + 1] = off >> 32;
}

static void target(void)
{
    test_verdict(false, "a call gate was followed");
}

struct farptr {
    uint64_t off;
    uint16_t sel;
} __attribute__((packed));

/* Far call / jump through sel; the vector and error code it raised. */
static long far(bool call, uint16_t sel, uint64_t *err)
{
    static struct farptr p;
    unsigned n = rt_last_trap.count;

    p.off = (uintptr_t)target;
    p.sel = sel;
    if (call)
        __asm__ volatile(RT_GUARD("rex64 lcall *%0") :: "m"(p) : "r11", "memory");
    else
        __asm__ volatile(RT_GUARD("rex64 ljmp *%0") :: "m"(p) : "r11", "memory");
    *err = rt_last_trap.error;
    return rt_last_trap.count != n ? (long)rt_last_trap.vector : -1;
}

static void expect_gp(bool call, uint16_t sel, uint64_t want_err)
{
    uint64_t err = ~0UL;
    long v = far(call, sel, &err);

    printf("callgate: far %s through 0x%x: vector %ld error 0x%lx\n", call ? "call" : "jmp",
           sel, v, (unsigned long)err);
    EXPECT_EQ(v, 13);
    EXPECT_EQ(err, want_err);
}

/* A gate that is not present: the CPU checks presence and privilege in
 * its own order (QEMU's TCG: presence first, #NP); either way the fault
 * names the gate, and Xen passes it on as it came. */
static void expect_np_or_gp(uint16_t sel)
{
    uint64_t err = ~0UL;
    long v = far(true, sel, &err);

    printf("callgate: far call through 0x%x (not present): vector %ld error 0x%lx\n", sel, v,
           (unsigned long)err);
    EXPECT(v == 11 || v == 13);
    EXPECT_EQ(err, sel & ~3U);
}

static void ldt_fault(const void *base, const char *what)
{
    struct mmuext_op op = {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uintptr_t)base,
                           .arg2.nr_ents = 8};
    uint64_t err = ~0UL;
    long v;

    EXPECT_EQ(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF), 0);
    v = far(true, (2 << 3) | 4, &err);
    printf("callgate: far call through 0x14, LDT %s: vector %ld error 0x%lx cr2 %lx\n", what,
           v, (unsigned long)err, (unsigned long)rt_last_trap.cr2);
    EXPECT_EQ(v, 14);
    EXPECT_EQ(rt_last_trap.cr2, (uintptr_t)base + 16);
    op.arg2.nr_ents = 0;
    EXPECT_EQ(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF), 0);
}

void test_main(start_info_t *si)
{
    uint64_t frame;
    struct mmuext_op op;

    (void)si;
    rt_install_traps();
    rt_shared_info(); /* the #PF address comes from vcpu_info */
    /* GDT: gates at 4 (DPL 3 asked), 6 (DPL 0), 8 (not present). */
    memset(gdt, 0, sizeof(gdt));
    gate(gdt, 4, FLAT_KERNEL_CS, (uintptr_t)target, 3, true);
    gate(gdt, 6, FLAT_KERNEL_CS, (uintptr_t)target, 0, true);
    gate(gdt, 8, FLAT_KERNEL_CS, (uintptr_t)target, 3, false);
    CHECK(remap(gdt, PG_RO) == 0);
    frame = mfn_of(gdt);
    CHECK(hypercall2(__HYPERVISOR_set_gdt, &frame, 16) == 0);
    /* Stored with DPL 0, the requested one in the target selector's RPL. */
    EXPECT_EQ((gdt[4] >> 45) & 3, 0);
    printf("callgate: gate as stored %016lx %016lx\n", (unsigned long)gdt[4],
           (unsigned long)gdt[5]);

    expect_gp(true, 4 << 3, 4 << 3);
    expect_gp(false, 4 << 3, 4 << 3);
    expect_gp(true, (4 << 3) | 3, 4 << 3); /* the RPL is not in the error code */
    expect_gp(true, 6 << 3, 6 << 3);
    expect_np_or_gp(8 << 3);
    expect_gp(true, 14 << 3, 14 << 3);    /* past the 16 entries' limit */
    expect_gp(true, 0, 0);                /* null: #GP(0) */

    /* LDT: a gate at index 2. */
    memset(ldt, 0, sizeof(ldt));
    gate(ldt, 2, FLAT_KERNEL_CS, (uintptr_t)target, 3, true);
    CHECK(remap(ldt, PG_RO) == 0);
    op = (struct mmuext_op){.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uintptr_t)ldt,
                            .arg2.nr_ents = 8};
    CHECK(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF) == 0);
    expect_gp(true, (2 << 3) | 4, (2 << 3) | 4);
    expect_gp(false, (2 << 3) | 7, (2 << 3) | 4);
    expect_gp(true, (10 << 3) | 4, (10 << 3) | 4); /* past the LDT's 8 entries */
    op.arg2.nr_ents = 0;
    CHECK(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF) == 0);
    expect_gp(true, (2 << 3) | 4, (2 << 3) | 4);   /* no LDT at all */

    /* An LDT whose page is not mapped, and one mapped writable: Xen takes
     * either at SET_LDT and maps it at the first use, where the descriptor
     * cannot be read: a #PF at the descriptor's address in the guest's LDT
     * (its CR2), not a #GP. */
    ldt_fault((const void *)0xffffffff90000000UL, "unmapped");
    CHECK(remap(ldt, PG_RW) == 0);
    ldt_fault(ldt, "mapped writable");
    /* Read-only again: the same LDT now works (the gate's own #GP). */
    {
        struct mmuext_op lop = {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uintptr_t)ldt,
                                .arg2.nr_ents = 8};
        CHECK(hypercall4(__HYPERVISOR_mmuext_op, &lop, 1, NULL, DOMID_SELF) == 0);
        CHECK(remap(ldt, PG_RO) == 0);
        expect_gp(true, (2 << 3) | 4, (2 << 3) | 4);
        lop.arg2.nr_ents = 0;
        CHECK(hypercall4(__HYPERVISOR_mmuext_op, &lop, 1, NULL, DOMID_SELF) == 0);
    }

    CHECK(hypercall2(__HYPERVISOR_set_gdt, &frame, 0) == 0);
    CHECK(remap(gdt, PG_RW) == 0);
    CHECK(remap(ldt, PG_RW) == 0);
}
