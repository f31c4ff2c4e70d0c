/*
 * VCPUOP_initialise with hostile register state (issue 10, finding 5).
 * Segment bases, stack pointers, callback and trap addresses and the LDT
 * base are loaded into the CPU later (some with a plain WRMSR, which #GPs
 * on a non-canonical value inside the hypervisor on real hardware); Xen
 * 4.17 refuses a non-canonical one with -EINVAL and leaves the vCPU
 * uninitialised.  Debug registers on this path follow set_debugreg's rules:
 * a value set_debugreg would refuse is dropped and the register keeps its
 * reset value, the call itself succeeds.  Needs dom0_max_vcpus=2.
 */
#include <rt.h>

#define MS 1000000ULL
#define NONCANON 0x8000000000000000UL
#define HV_AREA 0xffff830000000000UL

static char stack1[8192] __attribute__((aligned(16)));
static struct vcpu_guest_context good, ctxt;
static volatile long dr_seen[8];
static volatile unsigned stage;
extern char rt_event_entry[], rt_failsafe_entry[];

void secondary(void);
void secondary(void)
{
    for (unsigned i = 0; i < 8; i++)
        dr_seen[i] = hypercall1(__HYPERVISOR_get_debugreg, i);
    stage = 1;
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
}

static void base_context(start_info_t *si)
{
    good.flags = VGCF_in_kernel;
    good.user_regs.rip = (uintptr_t)secondary;
    good.user_regs.rsp = (uintptr_t)(stack1 + sizeof(stack1) - 8);
    good.user_regs.cs = FLAT_KERNEL_CS;
    good.user_regs.ss = FLAT_KERNEL_SS;
    good.user_regs.rflags = 0x202;
    good.kernel_ss = FLAT_KERNEL_SS;
    good.kernel_sp = (uintptr_t)(stack1 + sizeof(stack1));
    good.ctrlreg[3] = xen_pfn_to_cr3(rt_virt_to_mfn((void *)si->pt_base));
    good.event_callback_eip = (uintptr_t)rt_event_entry;
    good.failsafe_callback_eip = (uintptr_t)rt_failsafe_entry;
}

/* ctxt = good with one change; the call must fail and change nothing. */
static void refused(const char *what, long want)
{
    long r = HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt);
    printf("vcpuctx: initialise with %s = %ld\n", what, r);
    EXPECT_EQ(r, want);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL); /* still nothing to run */
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
}

#define BAD_FIELD(field, value)                                                \
    do {                                                                       \
        ctxt = good;                                                           \
        ctxt.field = (value);                                                  \
        refused(#field " = " #value, -XEN_EINVAL);                             \
    } while (0)

static void canonical_checks(void)
{
    BAD_FIELD(fs_base, NONCANON);
    BAD_FIELD(gs_base_kernel, NONCANON);
    BAD_FIELD(gs_base_user, 0x0000800000000000UL);
    BAD_FIELD(user_regs.rip, NONCANON);
    BAD_FIELD(user_regs.rsp, NONCANON);
    BAD_FIELD(kernel_sp, NONCANON);
    BAD_FIELD(event_callback_eip, NONCANON);
    BAD_FIELD(failsafe_callback_eip, NONCANON);
    BAD_FIELD(syscall_callback_eip, NONCANON);
    BAD_FIELD(trap_ctxt[5].address, NONCANON);

    /* The LDT: non-canonical, in the hypervisor's area (even with no
     * entries), misaligned, or too long. */
    ctxt = good;
    ctxt.ldt_ents = 1;
    ctxt.ldt_base = NONCANON;
    refused("ldt_base non-canonical", -XEN_EINVAL);
    ctxt.ldt_ents = 0;
    refused("ldt_base non-canonical, no entries", -XEN_EINVAL);
    ctxt.ldt_base = HV_AREA;
    refused("ldt_base in the hypervisor's area", -XEN_EINVAL);
    ctxt.ldt_base = 0x1001;
    refused("ldt_base misaligned", -XEN_EINVAL);
    ctxt.ldt_base = 0;
    ctxt.ldt_ents = 8193;
    refused("8193 LDT entries", -XEN_EINVAL);
}

/* Debug registers set_debugreg would refuse are dropped; good ones stay. */
static void debug_registers(void)
{
    ctxt = good;
    ctxt.debugreg[0] = HV_AREA;           /* breakpoint on the hypervisor: -EPERM */
    ctxt.debugreg[1] = 0x1000;            /* fine */
    ctxt.debugreg[2] = NONCANON;          /* -EPERM */
    ctxt.debugreg[6] = 0x100000000UL;     /* upper half: -EINVAL */
    ctxt.debugreg[7] = 0x2000;            /* general detect: -EPERM */
    long r = HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt);
    printf("vcpuctx: initialise with refused debug registers = %ld\n", r);
    CHECK(r == 0);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL) == 0);
    uint64_t end = rt_system_time() + 2000 * MS;
    rt_hlog_quiet_begin(); /* how often it yields is timing */
    while (!stage && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    CHECK(stage == 1);
    printf("vcpuctx: vCPU 1 sees dr0 %lx dr1 %lx dr2 %lx dr6 %lx dr7 %lx\n",
           (unsigned long)dr_seen[0], (unsigned long)dr_seen[1], (unsigned long)dr_seen[2],
           (unsigned long)dr_seen[6], (unsigned long)dr_seen[7]);
    EXPECT_EQ(dr_seen[0], 0);
    EXPECT_EQ(dr_seen[1], 0x1000);
    EXPECT_EQ(dr_seen[2], 0);
    EXPECT_EQ(dr_seen[6], 0xffff0ff0);
    EXPECT_EQ(dr_seen[7], 0x400);
}

/* The same rules through set_debugreg (on ourselves). */
static void set_debugreg_rules(void)
{
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 7, 0x2000), -XEN_EPERM);
    /* An I/O breakpoint in a slot that is not enabled still counts. */
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 7, 0x1UL | (2UL << 28)), -XEN_EPERM);
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 0, HV_AREA), -XEN_EPERM);
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 7, 0), 0);
    EXPECT_EQ(hypercall1(__HYPERVISOR_get_debugreg, 7), 0x400);
}

void test_main(start_info_t *si)
{
    rt_shared_info(); /* time for the bounded wait */
    rt_install_traps();
    base_context(si);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) == 0);
    canonical_checks();
    debug_registers();
    set_debugreg_rules();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
