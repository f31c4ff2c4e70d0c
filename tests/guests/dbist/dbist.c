/*
 * Debug exceptions that can reach the hypervisor while it runs for a
 * moment on the guest's stack pointer (XSA-260 shape): a single step
 * armed by POPF and delayed by MOV SS over a SYSCALL, a plain single step
 * over a SYSCALL, and a data breakpoint on a buffer the hypervisor writes
 * for a hypercall.  The hypervisor must take such a #DB on its own stack,
 * ignore it, finish the hypercall and give the guest its own single-step
 * #DB afterwards: the guest sees correct results, at least one #DB with
 * BS in DR6, and lives on.  (Whether QEMU delivers the #DB after MOV SS or
 * after the SYSCALL does not matter to the verdict.)
 */
#include <rt.h>

#define TF 0x100UL

static volatile unsigned db_count;
static volatile uint64_t db_rip;

static bool db_hook(struct rt_frame *f)
{
    if (f->vector != 1)
        return false;
    db_count++;
    db_rip = f->rip;
    f->rflags &= ~TF; /* one step is enough */
    return true;
}

/* POPF sets TF, MOV SS holds the trap back over the SYSCALL. */
static long version_after_mov_ss(void)
{
    long ret;
    register unsigned long rdi __asm__("rdi") = XENVER_version;
    register unsigned long rsi __asm__("rsi") = 0;

    __asm__ volatile("mov %%ss, %%edx\n\t"
                     "pushfq\n\t"
                     "orq %[tf], (%%rsp)\n\t"
                     "popfq\n\t"
                     "mov %%dx, %%ss\n\t"
                     "syscall\n\t"
                     "nop"
                     : "=a"(ret), "+r"(rdi), "+r"(rsi)
                     : "0"((unsigned long)__HYPERVISOR_xen_version), [tf] "i"(TF)
                     : "rcx", "r11", "rdx", "memory", "cc");
    return ret;
}

/* TF set by the POPF right before: the SYSCALL itself is stepped. */
static long version_single_stepped(void)
{
    long ret;
    register unsigned long rdi __asm__("rdi") = XENVER_version;
    register unsigned long rsi __asm__("rsi") = 0;

    __asm__ volatile("pushfq\n\t"
                     "orq %[tf], (%%rsp)\n\t"
                     "popfq\n\t"
                     "syscall\n\t"
                     "nop"
                     : "=a"(ret), "+r"(rdi), "+r"(rsi)
                     : "0"((unsigned long)__HYPERVISOR_xen_version), [tf] "i"(TF)
                     : "rcx", "r11", "memory", "cc");
    return ret;
}

static void single_steps(void)
{
    long want = HYPERVISOR_xen_version(XENVER_version, NULL);

    db_count = 0;
    long got = version_after_mov_ss();
    printf("dbist: MOV SS + SYSCALL under TF: result %lx, %u #DB, last at %lx\n",
           (unsigned long)got, db_count, (unsigned long)db_rip);
    EXPECT_EQ(got, want);
    EXPECT(db_count >= 1);
    EXPECT(hypercall1(__HYPERVISOR_get_debugreg, 6) & 0x4000); /* BS */

    db_count = 0;
    got = version_single_stepped();
    printf("dbist: SYSCALL under TF: result %lx, %u #DB\n", (unsigned long)got, db_count);
    EXPECT_EQ(got, want);
    EXPECT(db_count >= 1);
}

/* A write watchpoint on a buffer the hypervisor fills for us. */
static void watch_hypercall_buffer(void)
{
    static xen_extraversion_t buf __attribute__((aligned(8)));

    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 0, (uintptr_t)&buf), 0);
    /* L0, write, 4 bytes */
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 7, 0x000d0001UL), 0);
    db_count = 0;
    long r = HYPERVISOR_xen_version(XENVER_extraversion, buf);
    unsigned in_call = db_count;
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_debugreg, 7, 0), 0);
    printf("dbist: extraversion into a watched buffer: %ld \"%s\", %u #DB in the guest\n", r,
           buf, in_call);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(buf[0], '.');
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_shared_info();
    rt_install_traps();
    rt_trap_hook = db_hook;
    single_steps();
    watch_hypercall_buffer();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
