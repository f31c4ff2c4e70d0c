/*
 * Grant tables v2, one domain granting to itself: get_version and
 * set_version (bad versions, refused while an entry past the first 8 is
 * pinned, the first 8 carried over in the other layout with their status,
 * the rest cleared, back to v1 refused while a status frame is mapped or
 * a reserved entry does not fit v1), get_status_frames, the status frame
 * following pins, maps of full-page entries (sub-page and transitive
 * entries are for copies only), copies bounded by a sub-page grant, and
 * the transitive refusals one domain can see (self-referential, unknown
 * domain).  Growing the table grows the status frames.
 */
#include <rt.h>
#include <xen/grant_table.h>

#define VIRT_BASE 0xffffffff80000000UL
#define M2P ((const unsigned long *)0xffff800000000000UL)
#define ADDR_MASK 0x000ffffffffff000UL
#define PTE_RW 0x67UL
#define PTE_RO 0x25UL

static char table_window[4096] __attribute__((aligned(4096)));
static char status_window[4096] __attribute__((aligned(4096)));
static char win[2][4096] __attribute__((aligned(4096)));
static char data[2][4096] __attribute__((aligned(4096)));
static domid_t self;

static long gnttab(unsigned cmd, void *op, unsigned count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, op, count);
}

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

static grant_entry_v1_t *v1(void) { return (grant_entry_v1_t *)table_window; }
static grant_entry_v2_t *v2(void) { return (grant_entry_v2_t *)table_window; }
static volatile grant_status_t *status(void) { return (grant_status_t *)status_window; }

static long get_version(domid_t dom, uint32_t *version)
{
    struct gnttab_get_version op = {.dom = dom, .version = 99};
    long r = gnttab(GNTTABOP_get_version, &op, 1);
    *version = op.version;
    return r;
}

static long set_version(uint32_t want, uint32_t *now)
{
    struct gnttab_set_version op = {.version = want};
    long r = gnttab(GNTTABOP_set_version, &op, 1);
    *now = op.version;
    return r;
}

static int16_t status_frames(domid_t dom, uint32_t n, uint64_t *list, long *rc)
{
    struct gnttab_get_status_frames op = {.nr_frames = n, .dom = dom, .status = 99};
    set_xen_guest_handle(op.frame_list, list);
    *rc = gnttab(GNTTABOP_get_status_frames, &op, 1);
    return op.status;
}

static int16_t map(grant_ref_t ref, uint32_t flags, void *at, grant_handle_t *h)
{
    struct gnttab_map_grant_ref op = {.host_addr = (uintptr_t)at, .flags = flags,
                                      .ref = ref, .dom = self};
    op.status = 99;
    EXPECT_EQ(gnttab(GNTTABOP_map_grant_ref, &op, 1), 0);
    *h = op.handle;
    return op.status;
}

static int16_t unmap(grant_handle_t h, void *at)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = (uintptr_t)at, .handle = h};
    op.status = 99;
    EXPECT_EQ(gnttab(GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

/* Copies len bytes from data[0] (by MFN) into grant `ref` at offset. */
static int16_t copy_into(grant_ref_t ref, uint16_t offset, uint16_t len)
{
    struct gnttab_copy op = {.flags = GNTCOPY_dest_gref, .len = len};
    op.source.u.gmfn = mfn_of(data[0]);
    op.source.domid = DOMID_SELF;
    op.dest.u.ref = ref;
    op.dest.domid = self;
    op.dest.offset = offset;
    op.status = 99;
    EXPECT_EQ(gnttab(GNTTABOP_copy, &op, 1), 0);
    return op.status;
}

static void restore(void *va, const void *page)
{
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(page) << 12) | PTE_RW,
                                           UVMF_INVLPG), 0);
}

static uint64_t setup_table(unsigned nr)
{
    xen_pfn_t frames[16] = {0};
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = nr};
    set_xen_guest_handle(st.frame_list, frames);
    CHECK(gnttab(GNTTABOP_setup_table, &st, 1) == 0 && st.status == GNTST_okay);
    return frames[0];
}

static void grant_v2(grant_ref_t ref, uint64_t frame, uint16_t flags)
{
    v2()[ref].full_page.frame = frame;
    v2()[ref].hdr.domid = self;
    __atomic_store_n(&v2()[ref].hdr.flags, flags, __ATOMIC_RELEASE);
}

static void version_queries(void)
{
    uint32_t v;
    uint64_t list[2];
    long rc;

    EXPECT_EQ(get_version(DOMID_SELF, &v), 0);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(get_version(self, &v), 0);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(get_version(77, &v), -XEN_ESRCH);
    EXPECT_EQ(gnttab(GNTTABOP_get_version, (void *)0xffff830000000000UL, 1), -XEN_EFAULT);
    /* Bad versions are refused, and the version in force reported. */
    EXPECT_EQ(set_version(0, &v), -XEN_EINVAL);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(set_version(3, &v), -XEN_EINVAL);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(set_version(1, &v), 0);
    EXPECT_EQ(v, 1);
    /* The count is not looked at for these two. */
    {
        struct gnttab_get_version op = {.dom = DOMID_SELF};
        EXPECT_EQ(gnttab(GNTTABOP_get_version, &op, 5), 0);
    }
    /* No status frames in v1. */
    EXPECT_EQ(status_frames(DOMID_SELF, 0, list, &rc), GNTST_okay);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(status_frames(DOMID_SELF, 1, list, &rc), GNTST_general_error);
    EXPECT_EQ(status_frames(77, 1, list, &rc), GNTST_bad_domain);
    EXPECT_EQ(status_frames(DOMID_SELF, 1, (uint64_t *)0xffff830000000000UL, &rc), 99);
    EXPECT_EQ(rc, -XEN_EFAULT);
    {
        struct gnttab_get_status_frames op = {.nr_frames = 0, .dom = DOMID_SELF};
        EXPECT_EQ(gnttab(GNTTABOP_get_status_frames, &op, 2), -XEN_EINVAL);
    }
}

static void switch_to_v2(void)
{
    grant_handle_t h, hres;
    uint32_t v;
    uint64_t list[2] = {0};
    long rc;

    /* A pinned entry past the first 8 blocks the switch ... */
    v1()[3] = (grant_entry_v1_t){.flags = GTF_permit_access, .domid = self,
                                  .frame = (uint32_t)mfn_of(data[1])};
    v1()[10] = (grant_entry_v1_t){.flags = GTF_permit_access, .domid = self,
                                   .frame = (uint32_t)mfn_of(data[0])};
    EXPECT_EQ(map(10, GNTMAP_host_map, win[0], &h), GNTST_okay);
    EXPECT_EQ(set_version(2, &v), -XEN_EBUSY);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(unmap(h, win[0]), GNTST_okay);
    restore(win[0], win[0]);
    /* ... a pinned reserved one does not, and keeps its status. */
    EXPECT_EQ(map(3, GNTMAP_host_map | GNTMAP_readonly, win[1], &hres), GNTST_okay);
    EXPECT_EQ(v1()[3].flags, GTF_permit_access | GTF_reading);
    EXPECT_EQ(set_version(2, &v), 0);
    EXPECT_EQ(v, 2);
    EXPECT_EQ(get_version(DOMID_SELF, &v), 0);
    EXPECT_EQ(v, 2);
    EXPECT_EQ(set_version(2, &v), 0); /* already */
    /* Entry 3 in the v2 layout, entry 10 cleared. */
    EXPECT_EQ(v2()[3].hdr.flags, GTF_permit_access);
    EXPECT_EQ(v2()[3].hdr.domid, self);
    EXPECT_EQ(v2()[3].full_page.frame, mfn_of(data[1]));
    EXPECT_EQ(v2()[10].hdr.flags, 0);
    EXPECT_EQ(v2()[5].full_page.frame, 0);
    /* One status frame for one shared frame. */
    EXPECT_EQ(status_frames(DOMID_SELF, 2, list, &rc), GNTST_general_error);
    EXPECT_EQ(status_frames(DOMID_SELF, 1, list, &rc), GNTST_okay);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)status_window, (list[0] << 12) | PTE_RO,
                                           UVMF_INVLPG), 0);
    EXPECT_EQ(status()[3], GTF_reading);
    EXPECT_EQ(unmap(hres, win[1]), GNTST_okay);
    restore(win[1], win[1]);
    EXPECT_EQ(status()[3], 0);
}

static void v2_maps_and_copies(void)
{
    grant_handle_t h;
    uint64_t p = mfn_of(data[1]);

    /* A full-page entry maps; the status frame shows the pin. */
    grant_v2(20, p, GTF_permit_access);
    EXPECT_EQ(map(20, GNTMAP_host_map, win[0], &h), GNTST_okay);
    EXPECT_EQ(status()[20], GTF_reading | GTF_writing);
    EXPECT_EQ(v2()[20].hdr.flags, GTF_permit_access); /* the entry itself unchanged */
    EXPECT_EQ(unmap(h, win[0]), GNTST_okay);
    restore(win[0], win[0]);
    EXPECT_EQ(status()[20], 0);
    grant_v2(20, p, GTF_permit_access | GTF_readonly);
    EXPECT_EQ(map(20, GNTMAP_host_map, win[0], &h), GNTST_general_error);
    EXPECT_EQ(status()[20], 0);

    /* Sub-page: copies within the window only; never mapped. */
    v2()[21].sub_page.frame = p;
    v2()[21].sub_page.page_off = 100;
    v2()[21].sub_page.length = 200;
    v2()[21].hdr.domid = self;
    __atomic_store_n(&v2()[21].hdr.flags, GTF_permit_access | GTF_sub_page, __ATOMIC_RELEASE);
    EXPECT_EQ(map(21, GNTMAP_host_map, win[0], &h), GNTST_general_error);
    memset(data[0], 0x5a, sizeof(data[0]));
    memset(data[1], 0, sizeof(data[1]));
    EXPECT_EQ(copy_into(21, 100, 200), GNTST_okay);
    EXPECT_EQ(data[1][100], 0x5a);
    EXPECT_EQ(data[1][299], 0x5a);
    EXPECT_EQ(data[1][300], 0);
    EXPECT_EQ(data[1][99], 0);
    EXPECT_EQ(copy_into(21, 50, 10), GNTST_general_error);
    EXPECT_EQ(copy_into(21, 250, 100), GNTST_general_error);
    EXPECT_EQ(copy_into(21, 4000, 200), GNTST_bad_copy_arg); /* past the page first */
    EXPECT_EQ(status()[21], 0);

    /* Transitive: for copies only, never to oneself, never to nobody. */
    v2()[22].transitive.trans_domid = self;
    v2()[22].transitive.gref = 20;
    v2()[22].hdr.domid = self;
    __atomic_store_n(&v2()[22].hdr.flags, GTF_transitive, __ATOMIC_RELEASE);
    EXPECT_EQ(map(22, GNTMAP_host_map, win[0], &h), GNTST_general_error);
    EXPECT_EQ(copy_into(22, 0, 8), GNTST_general_error);
    v2()[22].transitive.trans_domid = 77;
    EXPECT_EQ(copy_into(22, 0, 8), GNTST_general_error);
    EXPECT_EQ(status()[22], 0);
    v2()[22].hdr.flags = 0;
}

static void switch_back(void)
{
    uint32_t v;
    uint64_t list[2] = {0};
    long rc;

    /* The status frame is still mapped (read-only, by us): refused. */
    EXPECT_EQ(set_version(1, &v), -XEN_EBUSY);
    EXPECT_EQ(v, 2);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)status_window,
                                           (mfn_of(status_window) << 12) | PTE_RW, UVMF_INVLPG),
              0);
    /* A reserved entry v1 cannot hold. */
    v2()[4].full_page.frame = 1UL << 33;
    v2()[4].hdr.domid = self;
    v2()[4].hdr.flags = GTF_permit_access;
    EXPECT_EQ(set_version(1, &v), -XEN_ERANGE);
    EXPECT_EQ(v, 2);
    v2()[4].hdr.flags = GTF_transitive;
    EXPECT_EQ(set_version(1, &v), -XEN_ERANGE);
    v2()[4].hdr.flags = 0;
    /* Growing the table grows the status frames: 9 frames need 2. */
    setup_table(9);
    EXPECT_EQ(status_frames(DOMID_SELF, 2, list, &rc), GNTST_okay);
    EXPECT_EQ(status_frames(DOMID_SELF, 3, list, &rc), GNTST_general_error);
    EXPECT_EQ(set_version(1, &v), 0);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(status_frames(DOMID_SELF, 1, list, &rc), GNTST_general_error);
    /* Entry 3 back in the v1 layout. */
    EXPECT_EQ(v1()[3].flags, GTF_permit_access);
    EXPECT_EQ(v1()[3].frame, (uint32_t)mfn_of(data[1]));
    EXPECT_EQ(v1()[3].domid, self);
}

void test_main(start_info_t *si)
{
    (void)si;
    self = 0; /* dom0: maps its own grants by its domid */
    rt_install_traps();
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)table_window,
                                       (setup_table(1) << 12) | PTE_RW, UVMF_INVLPG) == 0);
    for (unsigned i = 0; i < 64; i++)
        v1()[i].flags = 0;
    version_queries();
    switch_to_v2();
    v2_maps_and_copies();
    switch_back();
}
