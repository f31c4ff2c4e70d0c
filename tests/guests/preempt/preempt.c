/*
 * Long hypercalls continue themselves instead of running unbounded: a
 * multicall of thousands of entries, the reservation calls (Xen's
 * MEMOP_EXTENT_SHIFT encoding), a long console write, and a reservation
 * call inside a one-entry multicall (how libxc issues every memory_op),
 * where the entry itself is rewritten and the multicall resumes at it,
 * and the validation of a large page-table tree (pinning its L4, or an
 * mmu_update linking its L3 in, or loading it as CR3) and its release
 * (unpinning, zeroing the entry, loading the old CR3 back), which Xen does
 * part by part (PGT_partial) while the timer keeps ticking: an unpin
 * succeeds at once and the release goes on before the next request of the
 * batch, which sees the tree released.
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

/* ------------------------------------------------ a large page-table tree */

#define N_L1 128 /* 128 L1s of 512 entries each: 65536 entries to check */
#define PG_P 0x1UL
#define PG_RW 0x2UL
#define PG_US 0x4UL
#define PG_A 0x20UL
#define PG_TABLE 0x67UL /* P RW US A D */

static uint64_t l1s[N_L1][512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
static uint64_t l4[512] __attribute__((aligned(4096)));
static uint64_t l4b[512] __attribute__((aligned(4096)));
static uint64_t l4c[512] __attribute__((aligned(4096)));
static char target[4096] __attribute__((aligned(4096)));
static evtchn_port_t tport;
static volatile bool in_call;
static volatile unsigned ticks_inside;

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

static long remap(void *va, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(va) << 12) | flags,
                                        UVMF_INVLPG);
}

static long mmuext1(unsigned cmd, const void *va)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn_of(va)};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

static long mmu_update1(const void *table, unsigned slot, uint64_t val)
{
    struct mmu_update req = {.ptr = (mfn_of(table) << 12) + 8 * slot, .val = val};
    unsigned done = 0;
    long r = hypercall4(__HYPERVISOR_mmu_update, &req, 1, &done, DOMID_SELF);
    EXPECT_EQ(done, r == 0);
    return r;
}

static void on_event(unsigned port)
{
    if (port == tport && in_call)
        ticks_inside++;
}

/* Every entry of every L1 maps `target` read-only; the L2 names the L1s,
 * the L3 the L2, the L4 (and nothing else) the L3.  Then the tables lose
 * their writable mappings, as a frame must before it can be one. */
static void build_tree(void)
{
    uint64_t leaf = (mfn_of(target) << 12) | PG_P | PG_US | PG_A;

    for (unsigned i = 0; i < N_L1; i++) {
        for (unsigned j = 0; j < 512; j++)
            l1s[i][j] = leaf;
        l2[i] = (mfn_of(l1s[i]) << 12) | PG_TABLE;
    }
    l3[3] = (mfn_of(l2) << 12) | PG_TABLE;
    l4[5] = (mfn_of(l3) << 12) | PG_TABLE;
    for (unsigned i = 0; i < N_L1; i++)
        CHECK(remap(l1s[i], PG_P | PG_US | PG_A) == 0);
    CHECK(remap(l2, PG_P | PG_US | PG_A) == 0);
    CHECK(remap(l3, PG_P | PG_US | PG_A) == 0);
    CHECK(remap(l4, PG_P | PG_US | PG_A) == 0);
    CHECK(remap(l4b, PG_P | PG_US | PG_A) == 0);
}

static long mmuext2(unsigned cmd0, const void *va0, unsigned cmd1, const void *va1,
                    unsigned *done)
{
    struct mmuext_op op[2] = {{.cmd = cmd0, .arg1.mfn = mfn_of(va0)},
                              {.cmd = cmd1, .arg1.mfn = mfn_of(va1)}};
    return hypercall4(__HYPERVISOR_mmuext_op, op, 2, done, DOMID_SELF);
}

/* Writable again: only possible once no table holds the frame. */
static long unmade(void *va)
{
    return remap(va, PG_P | PG_RW | PG_US | PG_A);
}

static long timed(long (*fn)(void))
{
    long r;

    in_call = true;
    r = fn();
    in_call = false;
    return r;
}

static long pin_l4(void) { return mmuext1(MMUEXT_PIN_L4_TABLE, l4); }
static long unpin_l4(void) { return mmuext1(MMUEXT_UNPIN_TABLE, l4); }
static long link_l3(void) { return mmu_update1(l4b, 7, (mfn_of(l3) << 12) | PG_TABLE); }
static long unlink_l3(void) { return mmu_update1(l4b, 7, 0); }

/* The running L4 copied (Keel's/Xen's own slots left to them), with the
 * tree's L3 in slot 5, loaded as CR3 and then the old root back: the
 * copy's last reference goes, and the whole tree with it. */
static long to_copy(void) { return mmuext1(MMUEXT_NEW_BASEPTR, l4c); }
static long to_old(void)
{
    struct mmuext_op op = {.cmd = MMUEXT_NEW_BASEPTR,
                           .arg1.mfn = mfn_of((void *)rt_start_info->pt_base)};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

static void new_root_with_tree(void)
{
    const uint64_t *cur = (const uint64_t *)rt_start_info->pt_base;

    for (unsigned i = 0; i < 512; i++)
        l4c[i] = (i >= 256 && i < 272) ? 0 : cur[i];
    l4c[5] = (mfn_of(l3) << 12) | PG_TABLE;
    CHECK(remap(l4c, PG_P | PG_US | PG_A) == 0);
    EXPECT_EQ(timed(to_copy), 0);
    EXPECT(unmade(l1s[N_L1 - 1]) != 0); /* in use under CR3 */
    printf("preempt: running on a copied root with the tree in it\n");
    EXPECT_EQ(timed(to_old), 0);
    EXPECT_EQ(unmade(l4c), 0); /* the copy and the whole tree released */
    EXPECT_EQ(unmade(l3), 0);
    EXPECT_EQ(unmade(l2), 0);
    EXPECT_EQ(unmade(l1s[N_L1 - 1]), 0);
    CHECK(remap(l1s[N_L1 - 1], PG_P | PG_US | PG_A) == 0);
    CHECK(remap(l2, PG_P | PG_US | PG_A) == 0);
    CHECK(remap(l3, PG_P | PG_US | PG_A) == 0);
}

static void big_tree(void)
{
    unsigned before;

    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv) == 0);
    tport = bv.port;
    rt_event_hook = on_event;
    rt_shared_info()->evtchn_mask[tport / 64] &= ~(1UL << (tport % 64));
    rt_events_enable();
    build_tree();

    /* Pinning the L4 validates the whole tree: 0, as one call would. */
    EXPECT_EQ(timed(pin_l4), 0);
    EXPECT_EQ(mmuext1(MMUEXT_PIN_L4_TABLE, l4), -XEN_EINVAL); /* pinned already */
    EXPECT(unmade(l1s[N_L1 - 1]) != 0);                      /* a table now */
    /* Unpinning releases all 65536 entries: 0, and done by the return. */
    EXPECT_EQ(timed(unpin_l4), 0);
    EXPECT_EQ(unmade(l1s[N_L1 - 1]), 0);
    CHECK(remap(l1s[N_L1 - 1], PG_P | PG_US | PG_A) == 0);
    /* Unpin and pin again in one batch: the second request finds the
     * tree released and validates it anew; both count. */
    EXPECT_EQ(timed(pin_l4), 0);
    unsigned done = 0;
    EXPECT_EQ(mmuext2(MMUEXT_UNPIN_TABLE, l4, MMUEXT_PIN_L4_TABLE, l4, &done), 0);
    EXPECT_EQ(done, 2);
    EXPECT(unmade(l1s[0]) != 0);
    EXPECT_EQ(timed(unpin_l4), 0);
    /* The L3 linked into another L4 by mmu_update: validated the same way,
     * and zeroing that entry (its last reference) releases it. */
    EXPECT_EQ(mmuext1(MMUEXT_PIN_L4_TABLE, l4b), 0);
    EXPECT_EQ(timed(link_l3), 0);
    EXPECT(unmade(l1s[0]) != 0);
    EXPECT_EQ(timed(unlink_l3), 0);
    EXPECT_EQ(unmade(l1s[0]), 0); /* every table released */
    EXPECT_EQ(mmuext1(MMUEXT_UNPIN_TABLE, l4b), 0);
    CHECK(remap(l1s[0], PG_P | PG_US | PG_A) == 0);
    new_root_with_tree();

    /* The last entry of the last L1 is a writable mapping of the L4 being
     * pinned: refused at the very end, and everything checked before is
     * undone (each frame may be mapped writable again). */
    CHECK(unmade(l1s[N_L1 - 1]) == 0);
    l1s[N_L1 - 1][511] = (mfn_of(l4) << 12) | PG_P | PG_RW | PG_US | PG_A;
    CHECK(remap(l1s[N_L1 - 1], PG_P | PG_US | PG_A) == 0);
    long r = timed(pin_l4);
    printf("preempt: pinning a tree with a bad last entry = %ld\n", r);
    EXPECT(r < 0);
    EXPECT_EQ(unmade(l4), 0);
    EXPECT_EQ(unmade(l3), 0);
    EXPECT_EQ(unmade(l2), 0);
    EXPECT_EQ(unmade(l1s[0]), 0);
    EXPECT_EQ(unmade(l1s[N_L1 - 1]), 0);

    /* The timer still gets through (whether during the calls is timing). */
    before = rt_port_hits[tport];
    rt_hlog_quiet_begin();
    HYPERVISOR_set_timer_op(rt_system_time() + 1000000);
    bool fired = rt_wait_port(tport, before + 1, 2000000000ULL);
    printf("preempt: %u timer event(s) arrived during the tree's validation\n",
           ticks_inside);
    rt_hlog_quiet_end();
    EXPECT(fired);
    rt_events_disable();
    rt_event_hook = NULL;
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_events();
    big_tree();
    long_multicall();
    reservations();
    reservation_in_multicall();
    long_console_write();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
