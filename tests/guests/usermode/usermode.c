/*
 * Guest user mode: the kernel installs a user page table
 * (MMUEXT_NEW_USER_BASEPTR, here the kernel's own L4), a kernel stack
 * (stack_switch), a syscall callback and trap-table vectors, then irets
 * to user mode.  User code makes a `syscall` (bounced to the callback on
 * the kernel stack, kernel GS active), `int $0x80` (DPL 3: delivered),
 * `int $0x82` (DPL 1: #GP for user space), an `rdmsr` the kernel would
 * have emulated (#GP from user space), a #PF whose error code says "user",
 * and reads its own GS base; then syscall 99 returns to the kernel.
 */
#include <rt.h>

#define MSR_FS_BASE 0xc0000100
#define NOT_MAPPED 0xffffffff90000000UL

extern char user_syscall_entry[], user_int80_entry[], rt_failsafe_entry[];
extern volatile uint64_t sys_nr, sys_rcx, sys_rip, sys_cs, sys_gs, int80_rip, int80_cs;
extern volatile unsigned sys_count, int80_count;
void enter_user(void (*rip)(void), void *rsp);

static uint64_t kstack[1024] __attribute__((aligned(16)));
static uint64_t ustack[1024] __attribute__((aligned(16)));
static uint64_t kgs_word = 0x6b65726e656c6773, ugs_word = 0x7573657267737321;

/* What user mode saw (written by user code, read by the kernel). */
static volatile struct {
    uint64_t gs, sys_ret, sys_after, int80_after;
    long gp82_vec, gp82_err, msr_vec, pf_vec, pf_err;
    bool done;
} u;

static long mmuext(unsigned cmd, uint64_t mfn)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

/* Runs in guest user mode: no hypercalls (a syscall here is the
 * kernel's), only memory, the probes and traps. */
static void user_main(void)
{
    uint64_t v, ret, after;

    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    u.gs = v;

    __asm__ volatile("lea 1f(%%rip), %1\n\tsyscall\n1:"
                     : "=a"(ret), "=&r"(after) : "0"(7UL) : "rcx", "r11", "memory");
    u.sys_ret = ret;
    u.sys_after = after;

    __asm__ volatile("lea 1f(%%rip), %0\n\tint $0x80\n1:"
                     : "=&r"(after) :: "rcx", "r11", "memory");
    u.int80_after = after;

    __asm__ volatile(RT_GUARD("int $0x82") ::: "rcx", "memory");
    u.gp82_vec = (long)rt_last_trap.vector;
    u.gp82_err = (long)rt_last_trap.error;

    unsigned n = rt_last_trap.count;
    __asm__ volatile(RT_GUARD("rdmsr") ::"c"(MSR_FS_BASE) : "rax", "rdx", "memory");
    u.msr_vec = rt_last_trap.count == n + 1 ? (long)rt_last_trap.vector : -1;

    u.pf_vec = rt_probe_read(NOT_MAPPED, &v);
    u.pf_err = (long)rt_last_trap.error;
    u.done = true;

    __asm__ volatile("syscall" ::"a"(99UL) : "rcx", "r11", "memory");
    for (;;)
        ;
}

void test_main(start_info_t *si)
{
    struct callback_register cb = {
        .type = CALLBACKTYPE_syscall,
        .flags = CALLBACKF_mask_events,
        .address = (uintptr_t)user_syscall_entry,
    };
    static struct trap_info t[] = {
        {0x80, 3, FLAT_KERNEL_CS, 0},
        {0x82, 1, FLAT_KERNEL_CS, 0},
        {0, 0, 0, 0},
    };

    rt_install_traps();
    t[0].address = (uintptr_t)user_int80_entry;
    t[1].address = (uintptr_t)user_int80_entry;
    CHECK(HYPERVISOR_set_trap_table(t) == 0);
    CHECK(HYPERVISOR_callback_op(CALLBACKOP_register, &cb) == 0);
    cb.type = CALLBACKTYPE_failsafe;
    cb.address = (uintptr_t)rt_failsafe_entry;
    CHECK(HYPERVISOR_callback_op(CALLBACKOP_register, &cb) == 0);
    CHECK(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uintptr_t)&kstack[1024]) == 0);
    CHECK(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (uintptr_t)&kgs_word) == 0);
    CHECK(HYPERVISOR_set_segment_base(SEGBASE_GS_USER, (uintptr_t)&ugs_word) == 0);
    /* Linux gives user space its own L4; the kernel's serves here (every
     * page of a PV guest is user-accessible anyway). */
    CHECK(mmuext(MMUEXT_NEW_USER_BASEPTR, rt_virt_to_mfn((void *)si->pt_base)) == 0);

    /* Hardware's #GP error code for `int n` is (n << 3) | 2; QEMU's TCG
     * gives (n << 4) | 2, and Xen both passes that on and picks the trap
     * entry from it, so `int $0x82` from user space lands on the wrong
     * entry there (see privops).  Keel decodes the instruction instead. */
    __asm__ volatile(RT_GUARD("int $0x90") ::: "rcx", "memory");
    bool tcg_scaled = rt_last_trap.error == ((0x90 << 4) | 2);

    enter_user(user_main, &ustack[1024]);

    /* Back in kernel mode, through syscall 99. */
    uint64_t v;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(v));
    EXPECT_EQ(v, kgs_word);
    CHECK(u.done);
    printf("usermode: user gs word %lx, syscall cs slot %lx, int80 cs slot %lx\n",
           (unsigned long)u.gs, (unsigned long)sys_cs, (unsigned long)int80_cs);
    EXPECT_EQ(u.gs, ugs_word);
    /* syscall: bounced once, RCX = RIP after the syscall, answered. */
    EXPECT_EQ(sys_count, 1);
    EXPECT_EQ(sys_nr, 7);
    EXPECT_EQ(sys_rcx, u.sys_after);
    EXPECT_EQ(sys_rip, u.sys_after);
    EXPECT_EQ(sys_cs & 3, 3);
    EXPECT_EQ(sys_gs, kgs_word);
    EXPECT_EQ(u.sys_ret, 42);
    /* int $0x80: a trap from user space, user CS (RPL 3) in the frame. */
    EXPECT_EQ(int80_count, 1);
    EXPECT_EQ(int80_rip, u.int80_after);
    EXPECT_EQ(int80_cs & 0xffff, FLAT_USER_CS64);
    /* int $0x82 is for the kernel only. */
    printf("usermode: int $0x82 from user: vector %ld error 0x%lx\n", u.gp82_vec,
           u.gp82_err);
    if (!tcg_scaled) {
        EXPECT_EQ(u.gp82_vec, 13);
        EXPECT_EQ(u.gp82_err, (0x82 << 3) | 2);
    }
    /* What the kernel may do is #GP in user space. */
    EXPECT_EQ(u.msr_vec, 13);
    /* #PF from user mode carries the U/S bit. */
    EXPECT_EQ(u.pf_vec, 14);
    EXPECT_EQ(u.pf_err & 4, 4);
}
