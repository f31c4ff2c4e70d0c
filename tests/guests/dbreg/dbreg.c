/*
 * Hardware breakpoints set through set_debugreg fire in the guest: an
 * instruction breakpoint on a function (a fault: the handler disarms it,
 * so the instruction runs when the handler returns) and a write watchpoint
 * on a variable (a trap, after the store).  Each #DB arrives through the
 * trap table with its cause in DR6 (B0 / B1), and a breakpoint that is
 * set and then cleared never fires.  Then the breakpoints survive a
 * context switch: armed, a yield to the idle vCPU and back, still firing.
 */
#include <rt.h>

#define MS 1000000ULL
#define DR6_B0 0x1UL
#define DR6_B1 0x2UL
#define DR7_L0 0x1UL
#define DR7_L1 0x4UL
#define DR7_RW1_WRITE (1UL << 20)
#define DR7_LEN1_4 (3UL << 22)

static volatile unsigned db_count;
static volatile uint64_t db_dr6, db_rip;
static volatile uint32_t watched __attribute__((aligned(8)));

static long set_dr(unsigned reg, unsigned long val)
{
    return hypercall2(__HYPERVISOR_set_debugreg, reg, val);
}

static bool db_hook(struct rt_frame *f)
{
    if (f->vector != 1)
        return false;
    db_count++;
    db_rip = f->rip;
    db_dr6 = (uint64_t)hypercall1(__HYPERVISOR_get_debugreg, 6);
    /* Disarm: an instruction breakpoint would fault again on return. */
    set_dr(7, 0);
    set_dr(6, 0);
    return true;
}

static __attribute__((noinline)) int target(int x)
{
    __asm__ volatile("" ::: "memory");
    return x * 3 + 1;
}

static void instruction_breakpoint(const char *when)
{
    db_count = 0;
    db_dr6 = 0;
    EXPECT_EQ(set_dr(0, (uintptr_t)target), 0);
    EXPECT_EQ(set_dr(7, DR7_L0), 0);
    int r = target(4);
    printf("dbreg: %s: instruction breakpoint: %u #DB at %lx (target %lx), dr6 %lx, result %d\n",
           when, db_count, (unsigned long)db_rip, (unsigned long)(uintptr_t)target,
           (unsigned long)db_dr6, r);
    EXPECT_EQ(db_count, 1);
    EXPECT_EQ(db_rip, (uintptr_t)target);
    EXPECT(db_dr6 & DR6_B0);
    EXPECT_EQ(r, 13);
}

static void write_watchpoint(const char *when)
{
    db_count = 0;
    db_dr6 = 0;
    EXPECT_EQ(set_dr(1, (uintptr_t)&watched), 0);
    EXPECT_EQ(set_dr(7, DR7_L1 | DR7_RW1_WRITE | DR7_LEN1_4), 0);
    uint32_t before = watched; /* a read does not fire a write watchpoint */
    unsigned after_read = db_count;
    watched = before + 7;
    printf("dbreg: %s: write watchpoint: %u #DB after the read, %u after the write, dr6 %lx\n",
           when, after_read, db_count, (unsigned long)db_dr6);
    EXPECT_EQ(after_read, 0);
    EXPECT_EQ(db_count, 1);
    EXPECT(db_dr6 & DR6_B1);
    EXPECT_EQ(watched, before + 7);
}

/* Set, then cleared: nothing fires. */
static void cleared_breakpoint(void)
{
    db_count = 0;
    EXPECT_EQ(set_dr(0, (uintptr_t)target), 0);
    EXPECT_EQ(set_dr(7, DR7_L0), 0);
    EXPECT_EQ(set_dr(7, 0), 0);
    int r = target(1);
    watched = 1;
    printf("dbreg: cleared: %u #DB\n", db_count);
    EXPECT_EQ(db_count, 0);
    EXPECT_EQ(r, 4);
}

/* Armed across a block: the vCPU leaves its CPU and comes back. */
static void across_a_switch(void)
{
    db_count = 0;
    EXPECT_EQ(set_dr(1, (uintptr_t)&watched), 0);
    EXPECT_EQ(set_dr(7, DR7_L1 | DR7_RW1_WRITE | DR7_LEN1_4), 0);
    uint64_t end = rt_system_time() + 20 * MS;
    rt_hlog_quiet_begin(); /* how often it yields is timing */
    while (rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    watched = 5;
    printf("dbreg: after yielding: %u #DB, dr6 %lx\n", db_count, (unsigned long)db_dr6);
    EXPECT_EQ(db_count, 1);
    EXPECT(db_dr6 & DR6_B1);
    EXPECT_EQ(set_dr(7, 0), 0);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_shared_info();
    rt_install_traps();
    rt_trap_hook = db_hook;
    instruction_breakpoint("first");
    write_watchpoint("first");
    cleared_breakpoint();
    across_a_switch();
    instruction_breakpoint("again");
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
