/*
 * A frame given back while still mapped is freed when its last mapping
 * goes; if that mapping is dropped without a TLB flush, the CPU may still
 * translate through the stale entry.  Before the hypervisor hands the frame
 * to anyone else it must flush every CPU that may hold it (issue 10,
 * finding 3: a guest read and corrupted the hypervisor's own data this way).
 *
 * Here the frame goes back (decrease_reservation) while mapped, the mapping
 * is reloaded into the TLB and then removed with UVMF_NONE, and fresh
 * frames are taken (increase_reservation).  If the old frame is among them,
 * a read through the old address must fault; if it is not, the read either
 * faults or still sees our own marker (the frame is free and untouched) —
 * never anything else.
 */
#include <rt.h>

#define PTE_RW 0x67UL
#define NEW_FRAMES 16
#define MARKER 0x5ca1ab1e0ddba11ULL

static char victim[4096] __attribute__((aligned(4096)));

static long reservation(unsigned long cmd, xen_pfn_t *list, unsigned long n)
{
    struct xen_memory_reservation r = {.nr_extents = n, .domid = DOMID_SELF};
    set_xen_guest_handle(r.extent_start, list);
    return HYPERVISOR_memory_op(cmd, &r);
}

static uint64_t touch(void)
{
    return *(volatile uint64_t *)victim;
}

static void round_trip(unsigned round)
{
    static xen_pfn_t fresh[NEW_FRAMES];
    xen_pfn_t mfn, x;
    uint64_t seen = 0;
    long v;

    /* A frame of our own behind `victim`, full of the marker. */
    x = 0;
    CHECK(reservation(XENMEM_increase_reservation, &x, 1) == 1);
    mfn = x;
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)victim, (mfn << 12) | PTE_RW,
                                       UVMF_INVLPG) == 0);
    for (unsigned i = 0; i < 512; i++)
        ((volatile uint64_t *)victim)[i] = MARKER;

    /* Back to the hypervisor while mapped: the mapping keeps it alive. */
    x = mfn;
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, &x, 1), 1);
    /* Into the TLB again, then the last mapping goes without a flush. */
    EXPECT_EQ(touch(), MARKER);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)victim, 0, UVMF_NONE), 0);

    memset(fresh, 0, sizeof(fresh));
    EXPECT_EQ(reservation(XENMEM_increase_reservation, fresh, NEW_FRAMES), NEW_FRAMES);
    bool reused = false;
    for (unsigned i = 0; i < NEW_FRAMES; i++)
        reused |= fresh[i] == mfn;

    v = rt_probe_read((uintptr_t)victim, &seen);
    printf("stale-tlb: round %u: mfn 0x%lx %s; read through the old mapping: %s "
           "(vector %ld, value 0x%lx)\n", round, (unsigned long)mfn,
           reused ? "handed out again" : "not among the new frames",
           v == 14 ? "page fault" : "succeeded", v, (unsigned long)seen);
    if (reused)
        EXPECT_EQ(v, 14);
    else
        EXPECT(v == 14 || seen == MARKER);

    EXPECT_EQ(reservation(XENMEM_decrease_reservation, fresh, NEW_FRAMES), NEW_FRAMES);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    for (unsigned round = 0; round < 4; round++)
        round_trip(round);
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
