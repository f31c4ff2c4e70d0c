/*
 * Grant tables v1, everything one domain can do with its own grants:
 * map them (by PTE machine address and by linear address, read-only,
 * device), unmap by handle, copy both ways between a grant and a frame
 * named by MFN, and every error on the way (bad domain, ref, handle,
 * flags, address, bounds), with the entry's GTF_reading/GTF_writing
 * following the mappings.  Also what Xen does when an ordinary page-table
 * update removes a grant PTE, and XENMEM_acquire_resource on oneself.
 *
 * The granting and mapping domain are one here (`peer` is our own domid);
 * a two-domain run only changes `peer` and who fills the entries.
 */
#include <rt.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#define VIRT_BASE 0xffffffff80000000UL
#define M2P ((const unsigned long *)0xffff800000000000UL)
#define ADDR_MASK 0x000ffffffffff000UL
#define PTE_FLAGS 0x67UL /* P RW US A D */

static char table_window[4096] __attribute__((aligned(4096)));
static char win[4][4096] __attribute__((aligned(4096)));
static char data[2][4096] __attribute__((aligned(4096)));
static grant_entry_v1_t *gt;
static domid_t peer;

static long gnttab(unsigned cmd, void *op, unsigned count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, op, count);
}

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

static uint64_t *mfn_va(uint64_t mfn)
{
    return (uint64_t *)(VIRT_BASE + (M2P[mfn] << 12));
}

/* The L1 entry mapping va, and its machine address. */
static volatile uint64_t *l1e_of(const void *va)
{
    uint64_t a = (uintptr_t)va, *t = (uint64_t *)rt_start_info->pt_base;
    for (int shift = 39; shift > 12; shift -= 9)
        t = mfn_va((t[(a >> shift) & 511] & ADDR_MASK) >> 12);
    return &t[(a >> 12) & 511];
}

static uint64_t pte_maddr(const void *va)
{
    volatile uint64_t *e = l1e_of(va);
    return (mfn_of((const void *)((uintptr_t)e & ~0xfffUL)) << 12) | ((uintptr_t)e & 0xfff);
}

static void restore(void *va)
{
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(data[1]) << 12) | 0x25,
                                           UVMF_INVLPG), 0);
}

static void grant(grant_ref_t ref, domid_t to, uint64_t mfn, uint16_t extra)
{
    gt[ref].frame = (uint32_t)mfn;
    gt[ref].domid = to;
    __atomic_store_n(&gt[ref].flags, GTF_permit_access | extra, __ATOMIC_RELEASE);
}

static int16_t map(grant_ref_t ref, domid_t dom, uint32_t flags, uint64_t addr,
                   struct gnttab_map_grant_ref *op)
{
    *op = (struct gnttab_map_grant_ref){.host_addr = addr, .flags = flags, .ref = ref,
                                        .dom = dom};
    op->status = 99;
    EXPECT_EQ(gnttab(GNTTABOP_map_grant_ref, op, 1), 0);
    return op->status;
}

static int16_t unmap(grant_handle_t h, uint64_t host, uint64_t dev)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = host, .dev_bus_addr = dev, .handle = h};
    op.status = 99;
    EXPECT_EQ(gnttab(GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

static void setup(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};
    set_xen_guest_handle(st.frame_list, &frame);
    CHECK(gnttab(GNTTABOP_setup_table, &st, 1) == 0 && st.status == GNTST_okay);
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)table_window, (frame << 12) | PTE_FLAGS,
                                       UVMF_INVLPG) == 0);
    gt = (grant_entry_v1_t *)table_window;
    for (unsigned i = 8; i < 64; i++)
        gt[i].flags = 0;
}

static void map_errors(void)
{
    struct gnttab_map_grant_ref op;
    uint64_t p = mfn_of(data[0]);
    uint32_t host = GNTMAP_host_map;

    grant(10, peer, p, 0);
    EXPECT_EQ(map(10, peer, GNTMAP_readonly, (uintptr_t)win[0], &op), GNTST_bad_gntref);
    EXPECT_EQ(map(10, DOMID_SELF, host, (uintptr_t)win[0], &op), GNTST_bad_domain);
    EXPECT_EQ(map(10, 77, host, (uintptr_t)win[0], &op), GNTST_bad_domain);
    EXPECT_EQ(map(512, peer, host, (uintptr_t)win[0], &op), GNTST_bad_gntref);
    EXPECT_EQ(map(11, peer, host, (uintptr_t)win[0], &op), GNTST_general_error); /* invalid */
    grant(11, 7, p, 0);
    EXPECT_EQ(map(11, peer, host, (uintptr_t)win[0], &op), GNTST_general_error); /* not ours */
    grant(11, peer, p, GTF_readonly);
    EXPECT_EQ(map(11, peer, host, (uintptr_t)win[0], &op), GNTST_general_error);
    EXPECT_EQ(gt[11].flags, GTF_permit_access | GTF_readonly);
    grant(11, peer, p, GTF_sub_page);
    EXPECT_EQ(map(11, peer, host, (uintptr_t)win[0], &op), GNTST_general_error);
    grant(11, peer, 0x7ffffff, 0); /* no such frame */
    EXPECT_EQ(map(11, peer, host, (uintptr_t)win[0], &op), GNTST_bad_page);
    EXPECT_EQ(gt[11].flags, GTF_permit_access);
    grant(11, peer, p, 0);
    EXPECT_EQ(map(11, peer, host | GNTMAP_contains_pte, pte_maddr(win[0]) + 4, &op),
              GNTST_general_error);
    EXPECT_EQ(map(11, peer, host | GNTMAP_contains_pte, mfn_of(data[1]) << 12, &op),
              GNTST_general_error); /* not a page table */
    EXPECT_EQ(map(11, peer, host, 0xffff830000000000UL, &op), GNTST_general_error);
    EXPECT_EQ(gt[11].flags, GTF_permit_access);
    EXPECT_EQ(unmap(12345, (uintptr_t)win[0], 0), GNTST_bad_handle);
    EXPECT_EQ(unmap(0, (uintptr_t)win[0], 0), GNTST_bad_handle);
}

static void map_by_pte_and_va(void)
{
    struct gnttab_map_grant_ref a, b, r;
    uint64_t p = mfn_of(data[0]);

    memset(data[0], 0x3c, 4096);
    grant(12, peer, p, 0);
    EXPECT_EQ(map(12, peer, GNTMAP_host_map | GNTMAP_contains_pte, pte_maddr(win[0]), &a),
              GNTST_okay);
    EXPECT_EQ(a.dev_bus_addr, p << 12);
    EXPECT_EQ(*l1e_of(win[0]) & (ADDR_MASK | 3), (p << 12) | 3);
    EXPECT_EQ(gt[12].flags, GTF_permit_access | GTF_reading | GTF_writing);
    volatile char *w0 = win[0], *d0 = data[0];
    EXPECT_EQ(w0[100], 0x3c);
    w0[5] = 0x11;
    EXPECT_EQ(d0[5], 0x11);

    EXPECT_EQ(map(12, peer, GNTMAP_host_map | GNTMAP_readonly, (uintptr_t)win[1], &r),
              GNTST_okay);
    EXPECT_EQ(*l1e_of(win[1]) & (ADDR_MASK | 3), (p << 12) | 1);
    uint64_t v = 0;
    EXPECT_EQ(rt_probe_write((uintptr_t)win[1], 0), 14); /* #PF */
    EXPECT_EQ(rt_probe_read((uintptr_t)win[1] + 8, &v), -1); /* no fault */
    EXPECT_EQ(v, 0x3c3c3c3c3c3c3c3cUL);

    EXPECT_EQ(map(12, peer, GNTMAP_host_map | GNTMAP_device_map, (uintptr_t)win[2], &b),
              GNTST_okay);
    EXPECT_EQ(unmap(b.handle, 0, (p << 12) + 4096), GNTST_bad_dev_addr);
    EXPECT_EQ(unmap(b.handle, 0, p << 12), GNTST_okay);           /* device half */
    EXPECT_EQ(unmap(b.handle, (uintptr_t)win[3], 0), GNTST_general_error); /* wrong PTE */
    EXPECT_EQ(unmap(b.handle, (uintptr_t)win[2], 0), GNTST_okay);
    EXPECT_EQ(unmap(b.handle, (uintptr_t)win[2], 0), GNTST_bad_handle);
    EXPECT_EQ(*l1e_of(win[2]), 0);

    /* A read-only PTE does not match a writable mapping's handle. */
    EXPECT_EQ(unmap(a.handle, pte_maddr(win[1]), 0), GNTST_general_error);
    EXPECT_EQ(unmap(a.handle, pte_maddr(win[0]), 0), GNTST_okay);
    EXPECT_EQ(gt[12].flags, GTF_permit_access | GTF_reading);
    EXPECT_EQ(unmap(r.handle, (uintptr_t)win[1], 0), GNTST_okay);
    EXPECT_EQ(gt[12].flags, GTF_permit_access);
    EXPECT_EQ(*l1e_of(win[0]), 0);
    for (int i = 0; i < 3; i++)
        restore(win[i]);
}

static void batch_and_implicit_unmap(void)
{
    struct gnttab_map_grant_ref ops[3];
    uint64_t p = mfn_of(data[0]);

    grant(13, peer, p, 0);
    for (int i = 0; i < 3; i++)
        ops[i] = (struct gnttab_map_grant_ref){.host_addr = (uintptr_t)win[i],
                                               .flags = GNTMAP_host_map,
                                               .ref = i == 1 ? 14 : 13, .dom = peer};
    EXPECT_EQ(gnttab(GNTTABOP_map_grant_ref, ops, 3), 0);
    EXPECT_EQ(ops[0].status, GNTST_okay);
    EXPECT_EQ(ops[1].status, GNTST_general_error);
    EXPECT_EQ(ops[2].status, GNTST_okay);
    struct gnttab_unmap_grant_ref u[2] = {
        {.host_addr = (uintptr_t)win[0], .handle = ops[0].handle},
        {.host_addr = (uintptr_t)win[2], .handle = ops[2].handle},
    };
    EXPECT_EQ(gnttab(GNTTABOP_unmap_grant_ref, u, 2), 0);
    EXPECT_EQ(u[0].status, GNTST_okay);
    EXPECT_EQ(u[1].status, GNTST_okay);
    EXPECT_EQ(gt[13].flags, GTF_permit_access);

    /* An ordinary update removes a grant PTE: allowed (release builds),
     * the grant stays in use and its handle cannot be unmapped. */
    struct gnttab_map_grant_ref m;
    EXPECT_EQ(map(13, peer, GNTMAP_host_map, (uintptr_t)win[3], &m), GNTST_okay);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)win[3], 0, UVMF_INVLPG), 0);
    EXPECT_EQ(unmap(m.handle, (uintptr_t)win[3], 0), GNTST_general_error);
    EXPECT_EQ(gt[13].flags, GTF_permit_access | GTF_reading | GTF_writing);
    for (int i = 0; i < 4; i++)
        restore(win[i]);
}

static int16_t copy(uint16_t flags, uint64_t src, domid_t sdom, uint16_t soff, uint64_t dst,
                    domid_t ddom, uint16_t doff, uint16_t len)
{
    struct gnttab_copy op = {.flags = flags, .len = len};
    op.source.domid = sdom;
    op.source.offset = soff;
    op.dest.domid = ddom;
    op.dest.offset = doff;
    if (flags & GNTCOPY_source_gref)
        op.source.u.ref = (grant_ref_t)src;
    else
        op.source.u.gmfn = src;
    if (flags & GNTCOPY_dest_gref)
        op.dest.u.ref = (grant_ref_t)dst;
    else
        op.dest.u.gmfn = dst;
    op.status = 99;
    EXPECT_EQ(gnttab(GNTTABOP_copy, &op, 1), 0);
    return op.status;
}

static void copies(void)
{
    uint64_t g = mfn_of(data[0]), mine = mfn_of(data[1]);

    grant(20, peer, g, 0);
    grant(21, peer, g, GTF_readonly);
    memset(data[0], 0, 4096);
    memset(data[1], 0x5a, 64);
    EXPECT_EQ(copy(GNTCOPY_dest_gref, mine, DOMID_SELF, 0, 20, peer, 100, 16), GNTST_okay);
    EXPECT_EQ(data[0][100], 0x5a);
    EXPECT_EQ(data[0][116], 0);
    data[0][4000] = 0x77;
    EXPECT_EQ(copy(GNTCOPY_source_gref, 20, peer, 4000, mine, DOMID_SELF, 10, 1), GNTST_okay);
    EXPECT_EQ(data[1][10], 0x77);
    EXPECT_EQ(copy(GNTCOPY_source_gref, 20, DOMID_SELF, 4000, mine, DOMID_SELF, 11, 1),
              GNTST_okay); /* a gref of DOMID_SELF is ours */
    EXPECT_EQ(copy(GNTCOPY_source_gref, 20, peer, 4000, mine, DOMID_SELF, 4095, 2),
              GNTST_bad_copy_arg);
    EXPECT_EQ(copy(GNTCOPY_source_gref, 20, peer, 4095, mine, DOMID_SELF, 0, 2),
              GNTST_bad_copy_arg);
    EXPECT_EQ(copy(GNTCOPY_dest_gref, mine, DOMID_SELF, 0, 21, peer, 0, 1),
              GNTST_general_error);
    EXPECT_EQ(copy(GNTCOPY_source_gref, 21, peer, 0, mine, DOMID_SELF, 0, 1), GNTST_okay);
    EXPECT_EQ(copy(GNTCOPY_source_gref, 9999, peer, 0, mine, DOMID_SELF, 0, 1),
              GNTST_bad_gntref);
    EXPECT_EQ(copy(GNTCOPY_source_gref, 22, peer, 0, mine, DOMID_SELF, 0, 1),
              GNTST_general_error); /* not granted */
    EXPECT_EQ(copy(0, mine, peer, 0, g, DOMID_SELF, 0, 1), GNTST_permission_denied);
    EXPECT_EQ(copy(0, 0x7ffffff, DOMID_SELF, 0, mine, DOMID_SELF, 0, 1), GNTST_bad_page);
    EXPECT_EQ(copy(GNTCOPY_source_gref, 20, 77, 0, mine, DOMID_SELF, 0, 1), GNTST_bad_domain);
    EXPECT_EQ(gt[20].flags, GTF_permit_access);
    EXPECT_EQ(gt[21].flags, GTF_permit_access | GTF_readonly);
}

static void resources(void)
{
    xen_pfn_t f[2];
    struct xen_mem_acquire_resource r = {.domid = peer, .type = XENMEM_resource_grant_table,
                                         .nr_frames = 1};
    set_xen_guest_handle(r.frame_list, f);
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_acquire_resource, &r), -XEN_EPERM);
    r.domid = DOMID_SELF;
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_acquire_resource, &r), -XEN_ESRCH);
    r.domid = 77;
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_acquire_resource, &r), -XEN_ESRCH);
    r.pad = 1;
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_acquire_resource, &r), -XEN_EINVAL);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    peer = 0; /* we are dom0: our own grants */
    setup();
    map_errors();
    map_by_pte_and_va();
    batch_and_implicit_unmap();
    copies();
    resources();
}
