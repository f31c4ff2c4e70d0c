/*
 * Giving memory back and taking it again (XENMEM_decrease_reservation,
 * populate_physmap, increase_reservation), the grant-table setup Linux
 * does at boot, and the platform_op calls of a dom0.  Needs
 * update_va_mapping (pages are unmapped before they go back).
 */
#include <rt.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/platform.h>

#define PTE_FLAGS 0x67UL /* present, RW, user, accessed, dirty */
#define M2P_BASE 0xffff800000000000UL

static char page[4096] __attribute__((aligned(4096)));
static char window[4096] __attribute__((aligned(4096)));

static long mem(unsigned long cmd, void *arg)
{
    return HYPERVISOR_memory_op(cmd, arg);
}

static long reservation(unsigned long cmd, xen_pfn_t *list, unsigned long n,
                        unsigned order, domid_t dom)
{
    struct xen_memory_reservation r = {.nr_extents = n, .extent_order = order,
                                       .domid = dom};
    set_xen_guest_handle(r.extent_start, list);
    return mem(cmd, &r);
}

static long cur(void)
{
    domid_t self = DOMID_SELF;
    return mem(XENMEM_current_reservation, &self);
}

static uint64_t m2p(uint64_t mfn)
{
    uint64_t v = ~0ULL;
    rt_probe_read(M2P_BASE + mfn * 8, &v);
    return v;
}

static void balloon(void)
{
    long cur0 = cur();
    xen_pfn_t mfn = rt_virt_to_mfn(page), pfn = m2p(mfn), x;

    printf("balloon: page mfn 0x%lx pfn 0x%lx, %ld pages\n", (unsigned long)mfn,
           (unsigned long)pfn, cur0);
    /* Out with it: unmap, then give the frame back. */
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)page, 0, UVMF_INVLPG), 0);
    x = mfn;
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, &x, 1, 0, DOMID_SELF), 1);
    EXPECT_EQ(cur(), cur0 - 1);
    /* It is no longer ours. */
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, &x, 1, 0, DOMID_SELF), 0);
    EXPECT_EQ(cur(), cur0 - 1);

    /* A new frame for the same pfn; the M2P says so. */
    x = pfn;
    EXPECT_EQ(reservation(XENMEM_populate_physmap, &x, 1, 0, DOMID_SELF), 1);
    printf("balloon: pfn 0x%lx now backed by mfn 0x%lx\n", (unsigned long)pfn,
           (unsigned long)x);
    EXPECT_EQ(m2p(x), pfn);
    EXPECT_EQ(cur(), cur0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)page, (x << 12) | PTE_FLAGS,
                                           UVMF_INVLPG), 0);
    page[0] = 42;
    page[4095] = 43;
    EXPECT(page[0] == 42 && page[4095] == 43);

    /* Frames without a pfn, then back. */
    xen_pfn_t two[2] = {0, 0};
    EXPECT_EQ(reservation(XENMEM_increase_reservation, two, 2, 0, DOMID_SELF), 2);
    EXPECT(two[0] && two[1] && two[0] != two[1]);
    EXPECT_EQ(cur(), cur0 + 2);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, two, 2, 0, DOMID_SELF), 2);
    EXPECT_EQ(cur(), cur0);

    /* Nothing done for bad requests. */
    x = 1UL << 39;
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, &x, 1, 0, DOMID_SELF), 0);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, (void *)0xffff830000000000UL,
                          1, 0, DOMID_SELF), 0);
    EXPECT_EQ(reservation(XENMEM_populate_physmap, NULL, 1, 0, DOMID_SELF), 0);
    EXPECT_EQ(reservation(XENMEM_populate_physmap, &x, 0, 0, DOMID_SELF), 0);
    EXPECT_EQ(reservation(XENMEM_populate_physmap, &x, 1, 30, DOMID_SELF), 0);
    /* Xen reports refusals as "0 extents done", even these. */
    EXPECT_EQ(reservation(XENMEM_populate_physmap, &x, 1, 0, 1234), 0);
    EXPECT_EQ(mem(XENMEM_decrease_reservation, NULL), 0);
    EXPECT_EQ(cur(), cur0);
}

static long exchange(xen_pfn_t *in, unsigned long n_in, unsigned in_order, xen_pfn_t *out,
                     unsigned long n_out, unsigned out_order, unsigned bits,
                     xen_ulong_t *done)
{
    struct xen_memory_exchange x = {
        .in = {.nr_extents = n_in, .extent_order = in_order, .domid = DOMID_SELF},
        .out = {.nr_extents = n_out, .extent_order = out_order,
                .mem_flags = XENMEMF_address_bits(bits), .domid = DOMID_SELF},
    };
    long rc;

    set_xen_guest_handle(x.in.extent_start, in);
    set_xen_guest_handle(x.out.extent_start, out);
    rc = mem(XENMEM_exchange, &x);
    *done = x.nr_exchanged;
    return rc;
}

/* What swiotlb-xen does: unmapped frames for one contiguous extent below
 * 4 GiB; a frame still mapped is refused and the call changes nothing. */
static void exchanges(void)
{
    long cur0 = cur();
    xen_pfn_t two[2] = {0, 0}, out, mfn = rt_virt_to_mfn(page), in;
    xen_ulong_t done = 99;
    const xen_pfn_t pfn = 0x7ff00; /* any pfn: only the M2P records it */

    in = mfn;
    out = pfn;
    EXPECT(exchange(&in, 1, 0, &out, 1, 0, 32, &done) < 0);
    EXPECT_EQ(done, 0);
    EXPECT_EQ(cur(), cur0);
    EXPECT(page[0] == 42); /* still ours, still mapped */
    EXPECT_EQ(exchange(&in, 1, 0, &out, 1, 1, 32, &done), -XEN_EINVAL);

    EXPECT_EQ(reservation(XENMEM_increase_reservation, two, 2, 0, DOMID_SELF), 2);
    out = pfn;
    EXPECT_EQ(exchange(two, 2, 0, &out, 1, 1, 32, &done), 0);
    EXPECT_EQ(done, 2);
    printf("exchange: mfns 0x%lx 0x%lx -> extent at mfn 0x%lx\n", (unsigned long)two[0],
           (unsigned long)two[1], (unsigned long)out);
    EXPECT(out != pfn && !(out & 1) && out + 2 <= (1UL << 20));
    EXPECT_EQ(m2p(out), pfn);
    EXPECT_EQ(m2p(out + 1), pfn + 1);
    EXPECT_EQ(cur(), cur0 + 2);
    /* The old frames are gone; the new extent goes back whole. */
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, two, 1, 0, DOMID_SELF), 0);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, &out, 1, 1, DOMID_SELF), 1);
    EXPECT_EQ(cur(), cur0);
}

static long gnttab(unsigned cmd, void *op, unsigned count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, op, count);
}

static void grants(void)
{
    struct gnttab_set_version sv = {.version = 1};
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &sv, 1), 0);
    EXPECT_EQ(sv.version, 1);
    sv.version = 3;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &sv, 1), -XEN_EINVAL);

    struct gnttab_query_size qs = {.dom = DOMID_SELF};
    EXPECT_EQ(gnttab(GNTTABOP_query_size, &qs, 1), 0);
    printf("grants: %u of %u frames\n", qs.nr_frames, qs.max_nr_frames);
    EXPECT_EQ(qs.status, GNTST_okay);
    EXPECT(qs.max_nr_frames >= 1 && qs.nr_frames <= qs.max_nr_frames);

    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};
    set_xen_guest_handle(st.frame_list, &frame);
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    EXPECT(frame != 0);
    /* The frame is the guest's to map and write (its grant entries). */
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)window, (frame << 12) | PTE_FLAGS,
                                           UVMF_INVLPG), 0);
    grant_entry_v1_t *ge = (grant_entry_v1_t *)window;
    ge[1].frame = 0x1234;
    EXPECT_EQ(ge[1].frame, 0x1234);
    EXPECT_EQ(gnttab(GNTTABOP_query_size, &qs, 1), 0);
    EXPECT(qs.nr_frames >= 1);
    /* The same frame again: setup_table does not reallocate. */
    xen_pfn_t again = 0;
    set_xen_guest_handle(st.frame_list, &again);
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(again, frame);
    /* Xen lets the guest give its grant frame back (1); Keel keeps using
     * the frame, so it refuses (0).  Either way the call must not hurt. */
    again = frame;
    long r = reservation(XENMEM_decrease_reservation, &again, 1, 0, DOMID_SELF);
    printf("grants: decrease_reservation of the grant frame = %ld\n", r);
    EXPECT(r == 0 || r == 1);

    st.nr_frames = 100000;
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_general_error);
    st.nr_frames = 1;
    set_xen_guest_handle(st.frame_list, (xen_pfn_t *)0xffff830000000000UL);
    /* A list in the hypervisor's area is refused before anything else. */
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, &st, 1), -XEN_EFAULT);
    set_xen_guest_handle(st.frame_list, &again);
    st.dom = 1234;
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_bad_domain);
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, NULL, 1), -XEN_EFAULT);
    EXPECT_EQ(gnttab(100, &st, 1), -XEN_ENOSYS);
}

static long platform(struct xen_platform_op *op)
{
    return hypercall1(__HYPERVISOR_platform_op, op);
}

static void platform_ops(void)
{
    struct xen_platform_op op = {.cmd = XENPF_get_cpuinfo,
                                 .interface_version = XENPF_INTERFACE_VERSION};
    EXPECT_EQ(platform(&op), 0);
    printf("platform: cpu 0 flags %u apic %u acpi %u, max %u\n", op.u.pcpu_info.flags,
           op.u.pcpu_info.apic_id, op.u.pcpu_info.acpi_id, op.u.pcpu_info.max_present);
    EXPECT(op.u.pcpu_info.flags & XEN_PCPU_FLAGS_ONLINE);
    op.u.pcpu_info.xen_cpuid = 4000;
    EXPECT_EQ(platform(&op), 0);
    EXPECT(op.u.pcpu_info.flags & XEN_PCPU_FLAGS_INVALID);

    op.cmd = XENPF_firmware_info;
    op.u.firmware_info.type = XEN_FW_DISK_INFO;
    op.u.firmware_info.index = 0;
    EXPECT_EQ(platform(&op), -XEN_ESRCH);       /* no disks from the BIOS */
    op.u.firmware_info.type = XEN_FW_EFI_INFO;
    EXPECT_EQ(platform(&op), -XEN_ENOSYS);      /* not an EFI boot */

    /* Setting the clock moves every domain's wall clock. */
    shared_info_t *si = rt_shared_info();
    uint32_t before = si->wc_sec;
    op.cmd = XENPF_settime64;
    op.u.settime64.secs = 2000000000ULL;        /* 2033 */
    op.u.settime64.nsecs = 0;
    op.u.settime64.mbz = 0;
    op.u.settime64.system_time = rt_system_time();
    EXPECT_EQ(platform(&op), 0);
    printf("platform: wall clock at boot %u -> %u\n", before, si->wc_sec);
    EXPECT(si->wc_sec > before && si->wc_sec <= 2000000000U);
    EXPECT(si->wc_sec >= 2000000000U - 3600);
    EXPECT_EQ(si->wc_version & 1, 0);

    op.interface_version = 0x03000000;
    EXPECT_EQ(platform(&op), -XEN_EACCES);
    op.interface_version = XENPF_INTERFACE_VERSION;
    op.cmd = 1000;
    EXPECT_EQ(platform(&op), -XEN_ENOSYS);
    EXPECT_EQ(platform(NULL), -XEN_EFAULT);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_shared_info();
    rt_install_traps();
    balloon();
    exchanges();
    grants();
    platform_ops();
}
