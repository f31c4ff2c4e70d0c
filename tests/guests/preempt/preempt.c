/*
 * Long hypercalls continue themselves instead of running unbounded: a
 * multicall of thousands of entries, the reservation calls (Xen's
 * MEMOP_EXTENT_SHIFT encoding), a long console write, and a reservation
 * call inside a one-entry multicall (how libxc issues every memory_op),
 * where the entry itself is rewritten and the multicall resumes at it.
 * Whether a call was preempted is invisible to the guest: every result
 * must be exactly what one uninterrupted call would give.  The system
 * tests run this guest with preempt_every=N too, so that every
 * continuation path really runs.
 */
#include <rt.h>

#define N_MC 3000
#define N_EXT 300

static multicall_entry_t mc[N_MC];
static xen_pfn_t frames[N_EXT];
static char text[6000];
static char edge[2][4096] __attribute__((aligned(4096)));

static long reservation_args(struct xen_memory_reservation *r, unsigned long n)
{
    *r = (struct xen_memory_reservation){.nr_extents = n, .domid = DOMID_SELF};
    set_xen_guest_handle(r->extent_start, frames);
    return 0;
}

static long cur(void)
{
    domid_t self = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static void long_multicall(void)
{
    for (unsigned i = 0; i < N_MC; i++) {
        mc[i].op = __HYPERVISOR_xen_version;
        mc[i].args[0] = XENVER_version;
        mc[i].args[1] = 0;
        mc[i].result = 0xdead;
    }
    long want = HYPERVISOR_xen_version(XENVER_version, NULL);
    EXPECT_EQ(hypercall2(__HYPERVISOR_multicall, mc, N_MC), 0);
    unsigned good = 0;
    for (unsigned i = 0; i < N_MC; i++)
        good += (long)mc[i].result == want;
    printf("preempt: multicall of %u entries: %u right results\n", N_MC, good);
    EXPECT_EQ(good, N_MC);
}

static void reservations(void)
{
    struct xen_memory_reservation r;
    long before = cur();

    memset(frames, 0, sizeof(frames));
    reservation_args(&r, N_EXT);
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_increase_reservation, &r), N_EXT);
    unsigned filled = 0;
    for (unsigned i = 0; i < N_EXT; i++)
        filled += frames[i] != 0;
    EXPECT_EQ(filled, N_EXT);
    EXPECT_EQ(cur(), before + N_EXT);
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), N_EXT);
    EXPECT_EQ(cur(), before);
    /* Resuming by hand at extent 200 of a populate, as a continuation would. */
    for (unsigned i = 0; i < N_EXT; i++)
        frames[i] = 0x60000 + i;
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_populate_physmap | (200UL << 6), &r), N_EXT);
    EXPECT_EQ(cur(), before + N_EXT - 200);
    reservation_args(&r, N_EXT - 200);
    set_xen_guest_handle(r.extent_start, frames + 200);
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r), N_EXT - 200);
    EXPECT_EQ(cur(), before);
    /* A start past the end does nothing and says so. */
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_decrease_reservation | (5000UL << 6), &r), 5000);
}

/* The libxc way: a memory_op as the only entry of a multicall. */
static void reservation_in_multicall(void)
{
    struct xen_memory_reservation r;
    long before = cur();

    memset(frames, 0, sizeof(frames));
    reservation_args(&r, N_EXT);
    mc[0] = (multicall_entry_t){.op = __HYPERVISOR_memory_op,
                                .args = {XENMEM_increase_reservation, (uintptr_t)&r}};
    EXPECT_EQ(hypercall2(__HYPERVISOR_multicall, mc, 1), 0);
    printf("preempt: increase_reservation in a multicall = %ld\n", (long)mc[0].result);
    EXPECT_EQ((long)mc[0].result, N_EXT);
    EXPECT_EQ(cur(), before + N_EXT);
    mc[0] = (multicall_entry_t){.op = __HYPERVISOR_memory_op,
                                .args = {XENMEM_decrease_reservation, (uintptr_t)&r}};
    mc[1] = (multicall_entry_t){.op = __HYPERVISOR_xen_version, .args = {XENVER_version}};
    EXPECT_EQ(hypercall2(__HYPERVISOR_multicall, mc, 2), 0);
    EXPECT_EQ((long)mc[0].result, N_EXT);
    EXPECT_EQ((long)mc[1].result, HYPERVISOR_xen_version(XENVER_version, NULL));
    EXPECT_EQ(cur(), before);
}

static void long_console_write(void)
{
    static const char line[] = "preempt: a long console write, one of many lines\n";
    size_t n = 0;
    while (n + sizeof(line) - 1 < sizeof(text)) {
        memcpy(text + n, line, sizeof(line) - 1);
        n += sizeof(line) - 1;
    }
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, (int)n, text), 0);
    /* Running into an unmapped page part-way: -EFAULT after the first. */
    memset(edge[0], '.', sizeof(edge[0]));
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)edge[1], 0, UVMF_INVLPG) == 0);
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 8192, edge[0]), -XEN_EFAULT);
    /* (How much of the last chunk before the fault shows differs.) */
    printf("\n");
}

void test_main(start_info_t *si)
{
    (void)si;
    long_multicall();
    reservations();
    reservation_in_multicall();
    long_console_write();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
