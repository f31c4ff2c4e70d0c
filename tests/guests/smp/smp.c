/*
 * A second vCPU (dom0_max_vcpus=2): VCPUOP_initialise with a minimal
 * context (this kernel's own page tables, a stack of its own), up, is_up,
 * then a cross-vCPU wake-up: vCPU 1 waits in SCHEDOP_poll on an IPI port
 * bound to it (masked, so the pending bit alone wakes it and vCPU 1 needs
 * no event handler), vCPU 0 sends, vCPU 1 takes itself down.
 * vCPU 1 never prints: the console is vCPU 0's.
 */
#include <rt.h>

#define MS 1000000ULL

static volatile unsigned stage;
static volatile unsigned woke_pending;
static char stack1[8192] __attribute__((aligned(16)));
static evtchn_port_t ipi1;
static struct vcpu_guest_context ctxt;
extern char rt_event_entry[], rt_failsafe_entry[];

void secondary(void);
void secondary(void)
{
    shared_info_t *s = rt_shared_info();
    struct sched_poll p = {.nr_ports = 1, .timeout = 0};

    set_xen_guest_handle(p.ports, &ipi1);
    stage = 1;
    rt_hlog_quiet_begin(); /* how often it polls is timing */
    while (!(s->evtchn_pending[ipi1 / 64] & (1UL << (ipi1 % 64))))
        HYPERVISOR_sched_op(SCHEDOP_poll, &p);
    rt_hlog_quiet_end();
    woke_pending = 1;
    stage = 2;
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
}

static bool wait_stage(unsigned want, uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;
    rt_hlog_quiet_begin();
    while (stage < want && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    return stage >= want;
}

static bool wait_down(uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;
    rt_hlog_quiet_begin();
    while (HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) != 0 && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    return HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) == 0;
}

void test_main(start_info_t *si)
{
    shared_info_t *s = rt_shared_info();

    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) == 0);   /* exists, down */
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 2, NULL), -XEN_ENOENT);
    long r = HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL);
    printf("smp: up(1) before initialise = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);

    /* The IPI port vCPU 1 will wait on; bound while it is still down. */
    struct evtchn_bind_ipi bi = {.vcpu = 1};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &bi) == 0);
    ipi1 = bi.port;
    __atomic_or_fetch(&s->evtchn_mask[ipi1 / 64], 1UL << (ipi1 % 64), __ATOMIC_SEQ_CST);

    ctxt.flags = VGCF_in_kernel;
    ctxt.user_regs.rip = (uintptr_t)secondary;
    /* As if called: the return-address slot keeps the ABI's alignment. */
    ctxt.user_regs.rsp = (uintptr_t)(stack1 + sizeof(stack1) - 8);
    ctxt.user_regs.cs = FLAT_KERNEL_CS;
    ctxt.user_regs.ss = FLAT_KERNEL_SS;
    ctxt.user_regs.rflags = 0x202;
    ctxt.kernel_ss = FLAT_KERNEL_SS;
    ctxt.kernel_sp = (uintptr_t)(stack1 + sizeof(stack1));
    ctxt.ctrlreg[3] = xen_pfn_to_cr3(rt_virt_to_mfn((void *)si->pt_base));
    ctxt.event_callback_eip = (uintptr_t)rt_event_entry;
    ctxt.failsafe_callback_eip = (uintptr_t)rt_failsafe_entry;
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 2, &ctxt), -XEN_ENOENT);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt) == 0);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt), -XEN_EEXIST);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_initialise, 0, &ctxt), -XEN_EEXIST);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 0);  /* not yet up */

    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);
    EXPECT(wait_stage(1, 1000 * MS));
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), 1);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL), 0);     /* already up */

    /* vCPU 1 is (or soon will be) polling; the send wakes it. */
    struct evtchn_send snd = {.port = ipi1};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, &snd), 0);
    EXPECT(wait_stage(2, 1000 * MS));
    EXPECT_EQ(woke_pending, 1);
    EXPECT(wait_down(1000 * MS));
    printf("smp: vCPU 1 started, woke from poll on IPI port %u, went down\n", ipi1);
}
