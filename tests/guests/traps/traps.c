/*
 * Callbacks and traps: set_callbacks / callback_op registration, then real
 * exceptions bounced through set_trap_table (#BP, #UD, #PF with cr2 and the
 * rewritten U/S bit, #GP, #DE, #NM after fpu_taskswitch), the bounce frame
 * (CS with RPL 0 and the saved mask, RFLAGS.IF), stack_switch,
 * set_segment_base read back through fs:/gs: loads, the forced-emulation
 * CPUID and the emulated WRMSR/RDMSR of the segment bases.
 */
#include <rt.h>

#define NOT_MAPPED 0xffffffff90000000UL
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_SHADOW_GS_BASE 0xc0000102

extern char rt_event_entry[], rt_failsafe_entry[];

static unsigned nm_count;
static uint64_t nm_cr0;

static uint64_t read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));   /* emulated for PV */
    return v;
}

/* #NM: note it, then clear TS the paravirtual way and retry. */
static bool nm_hook(struct rt_frame *f)
{
    if (f->vector != 7)
        return false;
    nm_count++;
    nm_cr0 = read_cr0();
    HYPERVISOR_fpu_taskswitch(0);
    return true;
}

static void callbacks(void)
{
    EXPECT_EQ(HYPERVISOR_set_callbacks((uintptr_t)rt_event_entry,
                                       (uintptr_t)rt_failsafe_entry,
                                       (uintptr_t)rt_failsafe_entry), 0);
    struct callback_register cb = {.flags = CALLBACKF_mask_events};
    static const struct {
        uint16_t type;
        const char *name;
        bool must;
    } types[] = {
        {CALLBACKTYPE_event, "event", true},
        {CALLBACKTYPE_failsafe, "failsafe", true},
        {CALLBACKTYPE_syscall, "syscall", true},
        {CALLBACKTYPE_syscall32, "syscall32", false},
        {CALLBACKTYPE_sysenter, "sysenter", false},
    };
    for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        cb.type = types[i].type;
        cb.address = (uintptr_t)(types[i].type == CALLBACKTYPE_event
                                     ? rt_event_entry : rt_failsafe_entry);
        long r = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
        printf("traps: register %s = %ld\n", types[i].name, r);
        if (types[i].must)
            EXPECT_EQ(r, 0);
        else
            EXPECT(r == 0 || r == -XEN_EINVAL || r == -XEN_ENOSYS);
    }
    cb.type = 100;      /* unknown type: Xen says -ENOSYS, not -EINVAL */
    EXPECT_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), -XEN_ENOSYS);
    struct callback_unregister un = {.type = CALLBACKTYPE_event};
    long r = HYPERVISOR_callback_op(CALLBACKOP_unregister, &un);
    printf("traps: unregister event = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_callback_op(100, &cb), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, NULL), -XEN_EFAULT);
    rt_install_events();
}

static void exceptions(void)
{
    uintptr_t at;
    unsigned n;

    /* #BP is a trap: RIP points after the int3. */
    n = rt_last_trap.count;
    __asm__ volatile("lea 1f(%%rip), %0\n\t" RT_GUARD("1: int3")
                     : "=r"(at) :: "r11");
    EXPECT_EQ(rt_last_trap.count, n + 1);
    EXPECT_EQ(rt_last_trap.vector, 3);
    EXPECT_EQ(rt_last_trap.rip, at + 1);

    /* #UD: a fault, RIP at the ud2. */
    n = rt_last_trap.count;
    __asm__ volatile("lea 1f(%%rip), %0\n\t" RT_GUARD("1: ud2")
                     : "=r"(at) :: "r11");
    EXPECT_EQ(rt_last_trap.count, n + 1);
    EXPECT_EQ(rt_last_trap.vector, 6);
    EXPECT_EQ(rt_last_trap.rip, at);
    /* Bounce frame from guest-kernel mode with events masked: RPL 0,
     * saved mask 1 in bits 32-39, IF clear. */
    EXPECT_EQ(rt_last_trap.cs & 0xffff, FLAT_KERNEL_CS & ~3);
    EXPECT_EQ((rt_last_trap.cs >> 32) & 0xff, 1);
    EXPECT(!(rt_last_trap.rflags & 0x200));

    /* The same with events enabled: mask 0, IF set. */
    rt_events_enable();
    __asm__ volatile(RT_GUARD("ud2") ::: "r11");
    EXPECT_EQ((rt_last_trap.cs >> 32) & 0xff, 0);
    EXPECT(rt_last_trap.rflags & 0x200);
    /* The trap entry masked events; the iret put the mask back. */
    EXPECT_EQ(rt_vcpu->evtchn_upcall_mask, 0);
    rt_events_disable();

    /* #PF read and write on an unmapped page: cr2 in vcpu_info, error
     * code not-present, U/S rewritten to supervisor (kernel mode). */
    uint64_t v;
    EXPECT_EQ(rt_probe_read(NOT_MAPPED + 0x123, &v), 14);
    EXPECT_EQ(rt_last_trap.cr2, NOT_MAPPED + 0x123);
    EXPECT_EQ(rt_last_trap.error, 0);
    EXPECT_EQ(rt_probe_write(NOT_MAPPED + 8, 1), 14);
    EXPECT_EQ(rt_last_trap.cr2, NOT_MAPPED + 8);
    EXPECT_EQ(rt_last_trap.error, 2);
    /* Low addresses: nothing is mapped in the user half. */
    EXPECT_EQ(rt_probe_read(0x1000, &v), 14);
    EXPECT_EQ(rt_last_trap.error, 0);
    /* Xen's own area: present but not ours (supervisor-only). */
    long vec = rt_probe_read(0xffff830000000000UL, &v);
    EXPECT_EQ(vec, 14);
    printf("traps: read of Xen's area: vector %ld error 0x%lx\n", vec,
           (unsigned long)rt_last_trap.error);

    /* #GP: hlt is privileged and not emulated; a non-canonical address. */
    n = rt_last_trap.count;
    __asm__ volatile(RT_GUARD("hlt") ::: "r11");
    EXPECT_EQ(rt_last_trap.count, n + 1);
    EXPECT_EQ(rt_last_trap.vector, 13);
    EXPECT_EQ(rt_last_trap.error, 0);
    EXPECT_EQ(rt_probe_read(0x8000000000000000UL, &v), 13);
    EXPECT_EQ(rt_last_trap.error, 0);

    /* #DE */
    n = rt_last_trap.count;
    unsigned long q = 7, zero = 0;
    __asm__ volatile(RT_GUARD("xor %%edx, %%edx\n\tdivq %1")
                     : "+a"(q) : "r"(zero) : "rdx", "r11");
    EXPECT_EQ(rt_last_trap.count, n + 1);
    EXPECT_EQ(rt_last_trap.vector, 0);

    /* #NM after fpu_taskswitch(1); the hook clears TS and the instruction
     * is retried. */
    EXPECT_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    EXPECT(read_cr0() & 8);
    rt_trap_hook = nm_hook;
    __asm__ volatile("fnop");
    rt_trap_hook = NULL;
    EXPECT_EQ(nm_count, 1);
    printf("traps: cr0 in the #NM handler 0x%lx\n", (unsigned long)nm_cr0);
    /* Delivering #NM clears the virtual TS (as Xen does). */
    EXPECT(!(nm_cr0 & 8));
    EXPECT(!(read_cr0() & 8));
    __asm__ volatile("fnop");
    EXPECT_EQ(nm_count, 1);
}

static uint64_t fs_word(void)
{
    uint64_t v;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(v));
    return v;
}

static uint64_t gs_word(void)
{
    uint64_t v;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    return v;
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
                     "d"((uint32_t)(v >> 32)));
}

static void segments(void)
{
    static uint64_t fsv = 0x1111222233334444, gsv = 0x5555666677778888,
                    gsv2 = 0x99990000aaaabbbb, userv;

    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, (uintptr_t)&fsv), 0);
    EXPECT_EQ(fs_word(), fsv);
    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (uintptr_t)&gsv), 0);
    EXPECT_EQ(gs_word(), gsv);
    /* The user GS base is the inactive one in kernel mode; the emulated
     * RDMSR of MSR_SHADOW_GS_BASE shows it. */
    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (uintptr_t)&userv), 0);
    EXPECT_EQ(gs_word(), gsv);
    EXPECT_EQ(rdmsr(MSR_SHADOW_GS_BASE), (uintptr_t)&userv);
    EXPECT_EQ(rdmsr(MSR_FS_BASE), (uintptr_t)&fsv);
    EXPECT_EQ(rdmsr(MSR_GS_BASE), (uintptr_t)&gsv);
    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_USER_SEL, 0), 0);
    EXPECT_EQ(gs_word(), gsv);

    /* Linux's second instruction: WRMSR to MSR_GS_BASE, emulated. */
    wrmsr(MSR_GS_BASE, (uintptr_t)&gsv2);
    EXPECT_EQ(gs_word(), gsv2);
    wrmsr(MSR_FS_BASE, (uintptr_t)&gsv);
    EXPECT_EQ(fs_word(), gsv);

    EXPECT_EQ(HYPERVISOR_set_segment_base(4, 0), -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0x8000000000000000UL),
              -XEN_EINVAL);
    EXPECT_EQ(fs_word(), gsv);
    HYPERVISOR_set_segment_base(SEGBASE_FS, 0);
}

static void cpuid_pv(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("ud2\n\t.ascii \"xen\"\n\tcpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "0"(leaf), "2"(0));
}

static void cpuid_checks(void)
{
    uint32_t r[4];
    unsigned n = rt_last_trap.count;
    cpuid_pv(0x40000000, r);
    EXPECT_EQ(rt_last_trap.count, n);      /* emulated, not bounced */
    char sig[13];
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    printf("traps: cpuid 0x40000000: \"%s\" max 0x%x\n", sig, r[0]);
    EXPECT(!memcmp(sig, "XenVMMXenVMM", 12));
    EXPECT(r[0] >= 0x40000002);
    cpuid_pv(0x40000001, r);
    EXPECT_EQ(r[0], HYPERVISOR_xen_version(XENVER_version, NULL));
    cpuid_pv(1, r);
    EXPECT(r[2] & (1u << 31));             /* "running on a hypervisor" */
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_shared_info();       /* cr2 of bounced #PFs */
    rt_install_traps();
    callbacks();
    exceptions();
    EXPECT_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uintptr_t)&si), 0);
    segments();
    cpuid_checks();
}
