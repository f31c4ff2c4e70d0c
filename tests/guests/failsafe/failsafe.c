/*
 * The failsafe callback.  %es holds a selector of our LDT; then its
 * descriptor is cleared.  The CPU keeps using what it loaded, and nothing
 * reloads it while only the idle vCPU runs in between (Xen switches
 * lazily: a vCPU that blocks and wakes on the same CPU finds its
 * registers as it left them).  Once our other vCPU has run on the same
 * CPU (dom0_max_vcpus=2 on one CPU: maxcpus=1), switching back reloads
 * our selectors, %es no longer loads, and the hypervisor enters the
 * failsafe callback with a frame holding the selectors we had: rcx, r11,
 * ds, es, fs, gs, rip, cs (RPL 0 for the kernel, the event mask in its
 * upper half), rflags (IF = not masked), rsp, ss, on our stack rounded
 * down to 16 bytes; events masked on entry (CALLBACKF_mask_events), the
 * failed selector null.  An LDT selector whose new LDT page was not yet
 * taken as a descriptor page is reloaded without a callback (the page is
 * taken then).
 */
#include <rt.h>

#define D_DATA_DPL3 0x00cff3000000ffffUL
#define LDT_SEL 0x7 /* index 0, TI=1, RPL 3 */
#define PG_P 0x1UL
#define PG_US 0x4UL
#define PG_A 0x20UL

extern char fs_entry[], rt_event_entry[], rt_failsafe_entry[];
extern volatile uint64_t fs_count, fs_rsp, fs_es_seen, fs_mask_seen, fs_frame[11];

static uint64_t ldt[512] __attribute__((aligned(4096)));
static uint8_t stack1[8192] __attribute__((aligned(16)));
static struct vcpu_guest_context ctxt;
static volatile unsigned ran1, stop1;

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

static uint16_t read_es(void)
{
    uint16_t v;
    __asm__ volatile("mov %%es, %0" : "=r"(v));
    return v;
}

static uint16_t read_sel(unsigned n)
{
    uint16_t v = 0;
    switch (n) {
    case 0: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
    }
    return v;
}

/* vCPU 1: runs (on our CPU) whenever we yield, until told to stop.  How
 * often it gets to is the scheduler's business: none of it is logged. */
void secondary(void);
void secondary(void)
{
    rt_hlog_quiet_begin();
    while (!stop1) {
        __atomic_add_fetch(&ran1, 1, __ATOMIC_SEQ_CST);
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
}

static void start_vcpu1(start_info_t *si)
{
    ctxt.flags = VGCF_in_kernel;
    ctxt.user_regs.rip = (uintptr_t)secondary;
    ctxt.user_regs.rsp = (uintptr_t)(stack1 + sizeof(stack1) - 8);
    ctxt.user_regs.cs = FLAT_KERNEL_CS;
    ctxt.user_regs.ss = FLAT_KERNEL_SS;
    ctxt.user_regs.rflags = 0x202;
    ctxt.kernel_ss = FLAT_KERNEL_SS;
    ctxt.kernel_sp = (uintptr_t)(stack1 + sizeof(stack1));
    ctxt.ctrlreg[3] = xen_pfn_to_cr3(rt_virt_to_mfn((void *)si->pt_base));
    ctxt.event_callback_eip = (uintptr_t)rt_event_entry;
    ctxt.failsafe_callback_eip = (uintptr_t)rt_failsafe_entry;
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt) == 0);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL) == 0);
}

/* Sleep in SCHEDOP_poll (an unbound port of our own) for about 1 ms. */
static void nap(evtchn_port_t port)
{
    struct sched_poll p = {.nr_ports = 1, .timeout = rt_system_time() + 1000000};
    set_xen_guest_handle(p.ports, &port);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &p), 0);
}

static long set_ldt(const void *va, unsigned ents)
{
    struct mmuext_op op = {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uintptr_t)va,
                           .arg2.nr_ents = ents};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

static long map_ro(const void *va, bool ro)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(va) << 12) | PG_P | PG_US | PG_A |
                                        (ro ? 0 : 2), UVMF_INVLPG);
}

/*
 * %es from an LDT that is replaced by one whose page was not a descriptor
 * page at SET_LDT (mapped writable then, read-only since): coming back
 * after vCPU 1 ran, the selector is reloaded from the new LDT, whose page
 * is taken then (Xen maps it on the fault), so it loads: no callback.
 */
static void new_ldt_under_es(void)
{
    static uint64_t ldt1[512] __attribute__((aligned(4096)));
    static uint64_t ldt2[512] __attribute__((aligned(4096)));
    unsigned seen;

    ldt1[0] = D_DATA_DPL3;
    ldt2[0] = D_DATA_DPL3;
    CHECK(map_ro(ldt1, true) == 0);
    CHECK(set_ldt(ldt1, 1) == 0);
    __asm__ volatile("mov %w0, %%es" ::"r"(LDT_SEL) : "memory");
    CHECK(read_es() == LDT_SEL);
    CHECK(set_ldt(ldt2, 1) == 0); /* ldt2 is still writable */
    CHECK(map_ro(ldt2, true) == 0);

    seen = ran1;
    uint64_t end = rt_system_time() + 5000000000ULL;
    rt_hlog_quiet_begin();
    while (ran1 == seen && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    CHECK(ran1 != seen);
    printf("failsafe: new LDT taken at the switch: es 0x%x, %lu callback(s)\n", read_es(),
           (unsigned long)fs_count);
    EXPECT_EQ(fs_count, 1);
    EXPECT_EQ(read_es(), LDT_SEL);
}

void test_main(start_info_t *si)
{
    struct callback_register cb = {
        .type = CALLBACKTYPE_failsafe,
        .flags = CALLBACKF_mask_events,
        .address = (uintptr_t)fs_entry,
    };
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    uint16_t before[4];
    long r;

    rt_shared_info();
    rt_install_traps();
    CHECK(HYPERVISOR_callback_op(CALLBACKOP_register, &cb) == 0);
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);

    ldt[0] = D_DATA_DPL3;
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)ldt, (mfn_of(ldt) << 12) | PG_P | PG_US | PG_A,
                                       UVMF_INVLPG) == 0);
    struct mmuext_op op = {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uintptr_t)ldt,
                           .arg2.nr_ents = 1};
    CHECK(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF) == 0);
    __asm__ volatile("mov %w0, %%es" ::"r"(LDT_SEL) : "memory");
    CHECK(read_es() == LDT_SEL);
    for (unsigned i = 0; i < 4; i++)
        before[i] = read_sel(i);

    /* The descriptor goes; the loaded %es stays usable. */
    r = hypercall2(__HYPERVISOR_update_descriptor, mfn_of(ldt) << 12, 0);
    EXPECT_EQ(r, 0);
    nap(au.port);
    nap(au.port);
    printf("failsafe: after sleeping alone: es 0x%x, %lu callback(s)\n", read_es(),
           (unsigned long)fs_count);
    EXPECT_EQ(fs_count, 0);
    EXPECT_EQ(read_es(), LDT_SEL);

    /* Another vCPU on our CPU: our selectors are loaded again. */
    start_vcpu1(si);
    uint64_t end = rt_system_time() + 5000000000ULL;
    rt_hlog_quiet_begin();
    while ((!ran1 || !fs_count) && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    CHECK(ran1);
    printf("failsafe: vCPU 1 ran; %lu callback(s), es 0x%x on entry, mask %lu\n",
           (unsigned long)fs_count, (unsigned)fs_es_seen, (unsigned long)fs_mask_seen);
    printf("failsafe: frame ds %lx es %lx fs %lx gs %lx cs %lx rflags %lx ss %lx\n",
           (unsigned long)fs_frame[2], (unsigned long)fs_frame[3], (unsigned long)fs_frame[4],
           (unsigned long)fs_frame[5], (unsigned long)fs_frame[7], (unsigned long)fs_frame[8],
           (unsigned long)fs_frame[10]);
    CHECK(fs_count == 1);
    EXPECT_EQ(fs_es_seen, 0);
    EXPECT_EQ(read_es(), 0);
    EXPECT_EQ(fs_mask_seen, 1);
    EXPECT_EQ(fs_frame[2], before[0]);
    EXPECT_EQ(fs_frame[3], LDT_SEL);
    EXPECT_EQ(fs_frame[4], before[2]);
    EXPECT_EQ(fs_frame[5], before[3]);
    /* Our kernel CS with RPL 0, and the mask we had in the upper half. */
    EXPECT_EQ(fs_frame[7] & 0xffffffffUL, FLAT_KERNEL_CS & ~3);
    EXPECT_EQ(!(fs_frame[7] >> 32), !!(fs_frame[8] & 0x200));
    EXPECT_EQ(fs_frame[10], FLAT_KERNEL_SS);
    EXPECT_EQ(fs_rsp, ((fs_frame[9]) & ~0xfUL) - 88);
    /* The handler put the mask back as it was through iret. */
    EXPECT_EQ(rt_vcpu->evtchn_upcall_mask, fs_frame[7] >> 32);

    new_ldt_under_es();
    stop1 = 1;
}
