/*
 * A mini toolstack in dom0: creates a PV domU the way xl/libxenguest do
 * (createdomain, max_vcpus, max_mem, populate_physmap for the domU, foreign
 * mappings to load the kernel and write its page tables, start_info and
 * shared_info, the L4 pinned with foreigndom, setvcpucontext, unpause),
 * hears from it through a shared page and an interdomain event channel,
 * pauses, unpauses and shuts it down, then destroys it while one of its
 * frames is still mapped (a zombie until unmapped), and checks that every
 * page comes back, VIRQ_DOM_EXC fires and the domid is not reused at once.
 * Negative cases: bad interface versions, bad configurations, and (in the
 * domU) every control operation a domU must not get through.
 */
#include "toolstack.h"

static struct domu_image im;
static struct ts_comm *comm;
static unsigned int dom_exc_port;

#define SECOND 1000000000ULL
#define FLAGS_LOW(f) ((f) & 0xffff)

/* ------------------------------------------------------------- helpers */

static long create(struct xen_domctl_createdomain *c, domid_t want, domid_t *out)
{
    static struct xen_domctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_createdomain;
    op.domain = want;
    op.u.createdomain = *c;
    rc = domctl(&op);
    *out = op.domain;
    return rc;
}

static struct xen_domctl_createdomain default_config(void)
{
    struct xen_domctl_createdomain c;

    memset(&c, 0, sizeof(c));
    c.max_vcpus = 1;
    c.max_evtchn_port = 1023;
    c.max_grant_frames = -1;
    c.max_maptrack_frames = -1;
    c.grant_opts = XEN_DOMCTL_GRANT_version(1);
    return c;
}

static long simple_op(uint32_t cmd, domid_t dom)
{
    static struct xen_domctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.domain = dom;
    return domctl(&op);
}

static uint32_t domain_flags(domid_t dom)
{
    struct xen_domctl_getdomaininfo info;

    CHECK(getdomaininfo(dom, &info) == 0);
    CHECK(info.domain == dom);
    return info.flags;
}

static void wait_ns(uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;

    while (rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static bool wait_heartbeat_past(uint64_t seen, uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;

    while (comm->heartbeat <= seen && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    return comm->heartbeat > seen;
}

static long evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = {.port = port};

    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

/* ------------------------------------------------------ the machine */

static uint64_t check_machine(void)
{
    struct xen_sysctl_physinfo pi;
    static struct xen_sysctl op;
    static char caps[1024];

    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_version, NULL), 0x40011);
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_capabilities, caps), 0);
    EXPECT(!memcmp(caps, "xen-3.0-x86_64", 14));
    CHECK(physinfo(&pi) == 0);
    EXPECT(pi.capabilities & XEN_SYSCTL_PHYSCAP_pv);
    EXPECT(pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1);
    EXPECT(pi.nr_cpus >= 1 && pi.max_cpu_id + 1 >= pi.nr_cpus);
    EXPECT(pi.free_pages > DOMU_PAGES * 2 && pi.total_pages >= pi.free_pages);
    printf("physinfo: %u CPUs, %lu pages, %lu free, %u kHz, caps 0x%x\n", pi.nr_cpus,
           (unsigned long)pi.total_pages, (unsigned long)pi.free_pages, pi.cpu_khz,
           pi.capabilities);
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_sched_id;
    EXPECT_EQ(sysctl(&op), 0);
    EXPECT_EQ(op.u.sched_id.sched_id, XEN_SCHEDULER_CREDIT2);
    /* The pool walk xen-init-dom0 does: pool 0, then nothing past it. */
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_cpupool_op;
    op.u.cpupool_op.op = XEN_SYSCTL_CPUPOOL_OP_INFO;
    EXPECT_EQ(sysctl(&op), 0);
    EXPECT_EQ(op.u.cpupool_op.cpupool_id, 0);
    op.u.cpupool_op.cpupool_id = 1;
    EXPECT_EQ(sysctl(&op), -XEN_ENOENT);
    /* A wrong interface version: -EACCES from both. */
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_physinfo;
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION + 1;
    EXPECT_EQ(hypercall1(__HYPERVISOR_sysctl, &op), -XEN_EACCES);
    return pi.free_pages;
}

static void check_dom0_alone(void)
{
    struct xen_domctl_getdomaininfo info;
    static struct xen_domctl op;
    static struct xen_sysctl sop;
    static struct xen_domctl_getdomaininfo list[4];

    CHECK(getdomaininfo(0, &info) == 0);
    EXPECT_EQ(info.domain, 0);
    EXPECT(info.flags & XEN_DOMINF_running); /* we are it */
    EXPECT(!(info.flags & (XEN_DOMINF_paused | XEN_DOMINF_dying | XEN_DOMINF_shutdown)));
    EXPECT(info.tot_pages > 0 && info.nr_online_vcpus >= 1);
    /* "Next domain >= 1": none. */
    EXPECT_EQ(getdomaininfo(1, &info), -XEN_ESRCH);
    memset(&sop, 0, sizeof(sop));
    sop.cmd = XEN_SYSCTL_getdomaininfolist;
    sop.u.getdomaininfolist.max_domains = 4;
    set_xen_guest_handle(sop.u.getdomaininfolist.buffer, list);
    EXPECT_EQ(sysctl(&sop), 0);
    EXPECT_EQ(sop.u.getdomaininfolist.num_domains, 1);
    EXPECT_EQ(list[0].domain, 0);
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_getdomaininfo;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    EXPECT_EQ(hypercall1(__HYPERVISOR_domctl, &op), -XEN_EACCES);
    EXPECT_EQ(simple_op(XEN_DOMCTL_pausedomain, 0), -XEN_EINVAL); /* not ourselves */
    EXPECT_EQ(simple_op(XEN_DOMCTL_pausedomain, 9999), -XEN_ESRCH);
}

/* ---------------------------------------------------------- creation */

static void check_bad_configs(void)
{
    struct xen_domctl_createdomain c;
    domid_t d;

    c = default_config();
    c.max_vcpus = 0;
    EXPECT_EQ(create(&c, 0, &d), -XEN_EINVAL);
    c = default_config();
    c.flags = 1U << 30;
    EXPECT_EQ(create(&c, 0, &d), -XEN_EINVAL);
    c = default_config();
    c.grant_opts = 0;
    EXPECT_EQ(create(&c, 0, &d), -XEN_EINVAL);
    c = default_config();
    c.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    EXPECT_EQ(create(&c, 0, &d), -XEN_EOPNOTSUPP);
}

static void create_domu(void)
{
    struct xen_domctl_createdomain c = default_config();
    struct xen_domctl_getdomaininfo info;
    static struct xen_domctl op;
    domid_t again;

    CHECK(create(&c, 0xffff, &im.domid) == 0);
    printf("created d%u\n", im.domid);
    CHECK(im.domid > 0 && im.domid < DOMID_FIRST_RESERVED);
    EXPECT_EQ(create(&c, im.domid, &again), -XEN_EEXIST);
    CHECK(getdomaininfo(im.domid, &info) == 0);
    /* Paused by its creator, no vCPU online, the code bits all ones. */
    EXPECT_EQ(FLAGS_LOW(info.flags), XEN_DOMINF_paused);
    EXPECT_EQ(info.flags >> 16, 0xffff);
    EXPECT_EQ(info.nr_online_vcpus, 0);
    /* vCPUs exist from max_vcpus on (Xen makes them there). */
    EXPECT_EQ(info.max_vcpu_id, XEN_INVALID_MAX_VCPU_ID);
    EXPECT_EQ(info.tot_pages, 0);
    EXPECT_EQ(info.cpupool, 0);
    im.shared_info_mfn = info.shared_info_frame;
    EXPECT(im.shared_info_mfn != 0);

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_max_vcpus;
    op.domain = im.domid;
    op.u.max_vcpus.max = 2;
    EXPECT_EQ(domctl(&op), -XEN_EINVAL); /* must equal createdomain's */
    op.u.max_vcpus.max = 1;
    EXPECT_EQ(domctl(&op), 0);
    CHECK(getdomaininfo(im.domid, &info) == 0);
    EXPECT_EQ(info.max_vcpu_id, 0);
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_set_address_size;
    op.domain = im.domid;
    op.u.address_size.size = 64;
    EXPECT_EQ(domctl(&op), 0);
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_settscinfo;
    op.domain = im.domid;
    EXPECT_EQ(domctl(&op), 0);
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_max_mem;
    op.domain = im.domid;
    op.u.max_mem.max_memkb = DOMU_PAGES * 4 + 1024; /* libxl's slack */
    EXPECT_EQ(domctl(&op), 0);
}

static void check_scheduler_op(void)
{
    static struct xen_domctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_scheduler_op;
    op.domain = im.domid;
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT2;
    op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
    EXPECT_EQ(domctl(&op), 0);
    EXPECT_EQ(op.u.scheduler_op.u.credit2.weight, 256);
    op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
    op.u.scheduler_op.u.credit2.weight = 512;
    op.u.scheduler_op.u.credit2.cap = 0;
    EXPECT_EQ(domctl(&op), 0);
    op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
    EXPECT_EQ(domctl(&op), 0);
    EXPECT_EQ(op.u.scheduler_op.u.credit2.weight, 512);
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
}

static void check_affinity(void)
{
    static struct xen_domctl op;
    static uint8_t hard[8], soft[8];

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_setvcpuaffinity;
    op.domain = im.domid;
    op.u.vcpuaffinity.vcpu = 0;
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_SOFT;
    memset(soft, 0xff, sizeof(soft));
    set_xen_guest_handle(op.u.vcpuaffinity.cpumap_soft.bitmap, soft);
    op.u.vcpuaffinity.cpumap_soft.nr_bits = 64;
    EXPECT_EQ(domctl(&op), 0);
    EXPECT(soft[0] & 1); /* what the scheduler will use: CPU 0 at least */
    op.u.vcpuaffinity.flags = 0;
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    set_xen_guest_handle(op.u.vcpuaffinity.cpumap_hard.bitmap, hard);
    op.u.vcpuaffinity.cpumap_hard.nr_bits = 64;
    memset(hard, 0, sizeof(hard));
    EXPECT_EQ(domctl(&op), -XEN_EINVAL); /* no CPU at all */
    op.u.vcpuaffinity.vcpu = 1;
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
}

/* ---------------------------------------------------------- memory */

static void populate(void)
{
    static struct xen_memory_reservation r;
    static xen_pfn_t extra[300];
    struct xen_domctl_getdomaininfo info;
    const unsigned long *m2p = (const unsigned long *)MACH2PHYS_VIRT_START;

    for (unsigned int i = 0; i < DOMU_PAGES; i++)
        im.mfn[i] = i;
    memset(&r, 0, sizeof(r));
    r.nr_extents = DOMU_PAGES;
    r.domid = im.domid;
    set_xen_guest_handle(r.extent_start, im.mfn);
    CHECK(memop(XENMEM_populate_physmap, &r) == DOMU_PAGES);
    for (unsigned int i = 0; i < DOMU_PAGES; i++)
        if (m2p[im.mfn[i]] != i) {
            EXPECT_EQ(m2p[im.mfn[i]], i);
            break;
        }
    /* max_mem leaves 256 pages of slack: 300 more get 256. */
    for (unsigned int i = 0; i < 300; i++)
        extra[i] = DOMU_PAGES + i;
    r.nr_extents = 300;
    set_xen_guest_handle(r.extent_start, extra);
    EXPECT_EQ(memop(XENMEM_populate_physmap, &r), 256);
    CHECK(getdomaininfo(im.domid, &info) == 0);
    EXPECT_EQ(info.tot_pages, DOMU_PAGES + 256);
    EXPECT_EQ(info.max_pages, DOMU_PAGES + 256);
    /* ... and go back (extent list in: their MFNs). */
    r.nr_extents = 256;
    EXPECT_EQ(memop(XENMEM_decrease_reservation, &r), 256);
    CHECK(getdomaininfo(im.domid, &info) == 0);
    EXPECT_EQ(info.tot_pages, DOMU_PAGES);
}

static void set_memory_map(void)
{
    static struct {
        uint64_t addr, size;
        uint32_t type;
    } __attribute__((packed)) e820 = {0, (uint64_t)DOMU_PAGES << 12, 1};
    static struct xen_foreign_memory_map fmap;

    fmap.domid = im.domid;
    fmap.map.nr_entries = 1;
    set_xen_guest_handle(fmap.map.buffer, &e820);
    EXPECT_EQ(memop(XENMEM_set_memory_map, &fmap), 0);
}

/* ---------------------------------------------------------- building */

static void build(void)
{
    struct evtchn_alloc_unbound au = {.dom = im.domid, .remote_dom = 0};
    struct mmuext_op pin = {.cmd = MMUEXT_PIN_L4_TABLE};
    const char *why = "";

    if (build_load_kernel(&im, &why))
        test_verdict(false, "builder: %s", why);
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);
    im.store_port = au.port;
    au.port = 0;
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);
    im.console_port = au.port;
    EXPECT_EQ(im.store_port, 1); /* xenstored refuses port 0 */
    EXPECT_EQ(im.console_port, 2);
    if (build_start_info(&im, &why) || build_shared_info(&im, &why))
        test_verdict(false, "builder: %s", why);
    if (build_page_tables(&im, &why))
        test_verdict(false, "builder: %s", why);
    pin.arg1.mfn = im.mfn[im.pt_pfn];
    EXPECT_EQ(mmuext(&pin, 1, NULL, im.domid), -XEN_EINVAL); /* pinned already */
    EXPECT_EQ(mmuext(&pin, 1, NULL, 0), -XEN_ESRCH); /* own numeric id */
    if (build_vcpu(&im, &why))
        test_verdict(false, "builder: %s", why);
}

static void check_vcpu_context(void)
{
    static vcpu_guest_context_t c;
    static struct xen_domctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_getvcpucontext;
    op.domain = im.domid;
    set_xen_guest_handle(op.u.vcpucontext.ctxt, &c);
    EXPECT_EQ(domctl(&op), 0);
    EXPECT_EQ(c.user_regs.rip, im.entry);
    EXPECT_EQ(xen_cr3_to_pfn(c.ctrlreg[3]), im.mfn[im.pt_pfn]);
    EXPECT(c.flags & VGCF_online);
    op.u.vcpucontext.vcpu = 1;
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
}

/* ------------------------------------------------------------- running */

static unsigned int start_domu(void)
{
    struct evtchn_bind_interdomain b = {.remote_dom = im.domid, .remote_port = im.console_port};
    struct xen_domctl_getdomaininfo info;

    CHECK(getdomaininfo(im.domid, &info) == 0);
    EXPECT_EQ(FLAGS_LOW(info.flags), XEN_DOMINF_paused); /* online, not blocked */
    EXPECT_EQ(info.nr_online_vcpus, 1);
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b) == 0);
    /* The binding marks our end pending at once: start counting after. */
    wait_ns(SECOND / 100);
    CHECK(map_foreign(3, im.mfn[im.console_pfn], im.domid, (void **)&comm) == 0);
    unsigned int before = rt_port_hits[b.local_port];
    CHECK(simple_op(XEN_DOMCTL_unpausedomain, im.domid) == 0);
    if (!rt_wait_port(b.local_port, before + 1, 10 * SECOND) || comm->magic != DOMU_MAGIC)
        test_verdict(false, "the domU never reported (magic %#x, fail '%s')", comm->magic,
                     comm->fail);
    printf("d%u is up: %lu pages, console port %u\n", im.domid, (unsigned long)comm->nr_pages,
           comm->console_evtchn);
    return b.local_port;
}

static void check_domu_report(void)
{
    EXPECT_EQ(comm->nr_pages, DOMU_PAGES);
    EXPECT_EQ(comm->store_mfn, im.mfn[im.store_pfn]);
    EXPECT_EQ(comm->store_evtchn, im.store_port);
    EXPECT_EQ(comm->console_evtchn, im.console_port);
    EXPECT_EQ(comm->rc_domctl, -XEN_EPERM);
    EXPECT_EQ(comm->rc_domctl_badver, -XEN_EACCES);
    EXPECT_EQ(comm->rc_sysctl, -XEN_EPERM);
    EXPECT_EQ(comm->rc_mmu_foreign, -XEN_EPERM);
    EXPECT_EQ(comm->rc_populate_dom0, 0);
    EXPECT_EQ(comm->rc_evtchn_foreign, -XEN_EPERM);
    EXPECT_EQ(comm->rc_console, -XEN_EPERM);
    EXPECT_EQ(comm->rc_memory_map, 0);
    EXPECT_EQ(comm->e820_entries, 1);
    EXPECT_EQ(comm->e820_size, (uint64_t)DOMU_PAGES << 12);
}

static void check_pause(unsigned int port)
{
    uint64_t h;

    EXPECT(wait_heartbeat_past(comm->heartbeat, 5 * SECOND));
    EXPECT_EQ(simple_op(XEN_DOMCTL_pausedomain, im.domid), 0);
    EXPECT(domain_flags(im.domid) & XEN_DOMINF_paused);
    h = comm->heartbeat;
    wait_ns(SECOND / 20);
    EXPECT_EQ(comm->heartbeat, h); /* a paused domain does not run */
    EXPECT_EQ(simple_op(XEN_DOMCTL_pausedomain, im.domid), 0);
    EXPECT_EQ(simple_op(XEN_DOMCTL_unpausedomain, im.domid), 0);
    EXPECT(domain_flags(im.domid) & XEN_DOMINF_paused);
    EXPECT_EQ(simple_op(XEN_DOMCTL_unpausedomain, im.domid), 0);
    EXPECT(!(domain_flags(im.domid) & XEN_DOMINF_paused));
    EXPECT_EQ(simple_op(XEN_DOMCTL_unpausedomain, im.domid), -XEN_EINVAL);
    EXPECT(wait_heartbeat_past(h, 5 * SECOND));
    /* A domU that never yields shares the CPU: dom0 still runs (this
     * very code), and can still pause it. */
    comm->cmd = CMD_SPIN;
    EXPECT_EQ(evtchn_send(port), 0);
    h = comm->heartbeat;
    EXPECT(wait_heartbeat_past(h + 1000, 5 * SECOND));
    EXPECT_EQ(simple_op(XEN_DOMCTL_pausedomain, im.domid), 0);
    h = comm->heartbeat;
    wait_ns(SECOND / 20);
    EXPECT_EQ(comm->heartbeat, h);
    comm->cmd = CMD_RUN;
    EXPECT_EQ(simple_op(XEN_DOMCTL_unpausedomain, im.domid), 0);
}

static bool wait_dom_exc(unsigned int seen, uint64_t ns)
{
    return rt_wait_port(dom_exc_port, seen + 1, ns);
}

static void check_shutdown(unsigned int port)
{
    unsigned int seen = rt_port_hits[dom_exc_port];
    uint32_t f;

    comm->cmd = CMD_POWEROFF;
    EXPECT_EQ(evtchn_send(port), 0);
    EXPECT(wait_dom_exc(seen, 10 * SECOND));
    f = domain_flags(im.domid);
    EXPECT(f & XEN_DOMINF_shutdown);
    EXPECT_EQ(f >> XEN_DOMINF_shutdownshift, SHUTDOWN_poweroff);
    EXPECT(!(f & XEN_DOMINF_dying));
}

/* Destroyed while dom0 still maps its console page: a zombie, listed as
 * dying, until the mapping goes; then it is gone and its memory back. */
static void check_destroy(uint64_t free_before, unsigned int port)
{
    struct xen_domctl_getdomaininfo info;
    struct evtchn_status st = {.dom = DOMID_SELF, .port = port};
    struct xen_sysctl_physinfo pi;
    unsigned int seen = rt_port_hits[dom_exc_port];
    uint64_t end;
    long rc;

    EXPECT_EQ(simple_op(XEN_DOMCTL_destroydomain, im.domid), 0);
    EXPECT(wait_dom_exc(seen, 10 * SECOND));
    CHECK(getdomaininfo(im.domid, &info) == 0);
    EXPECT_EQ(info.domain, im.domid);
    EXPECT(info.flags & XEN_DOMINF_dying);
    EXPECT_EQ(simple_op(XEN_DOMCTL_destroydomain, im.domid), 0); /* again: nothing to do */
    /* Its end of our channel is gone: ours waits for it again. */
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_unbound);
    seen = rt_port_hits[dom_exc_port];
    EXPECT_EQ(unmap_slot(3), 0);
    end = rt_system_time() + 10 * SECOND;
    while ((rc = getdomaininfo(im.domid, &info)) == 0 && info.domain == im.domid &&
           rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    EXPECT(rc == -XEN_ESRCH || (rc == 0 && info.domain != im.domid));
    EXPECT(wait_dom_exc(seen, 10 * SECOND));
    /* Every page back (freeing can lag the domain's disappearance). */
    end = rt_system_time() + 10 * SECOND;
    while (physinfo(&pi) == 0 && pi.free_pages != free_before && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(pi.free_pages, free_before);
    struct evtchn_close cl = {.port = port};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl), 0);
}

/* The next domain gets a new id; destroying a paused, empty one works. */
static void check_domid_not_reused(void)
{
    struct xen_domctl_createdomain c = default_config();
    domid_t d;

    CHECK(create(&c, 0, &d) == 0);
    EXPECT(d != im.domid);
    printf("next domain: d%u\n", d);
    EXPECT_EQ(simple_op(XEN_DOMCTL_destroydomain, d), 0);
}

void test_main(start_info_t *si)
{
    struct evtchn_bind_virq bv = {.virq = VIRQ_DOM_EXC, .vcpu = 0};
    uint64_t free_before;
    unsigned int port;

    (void)si;
    rt_install_traps();
    rt_install_events();
    rt_events_enable();
    window_init();
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv) == 0);
    dom_exc_port = bv.port;
    free_before = check_machine();
    check_dom0_alone();
    check_bad_configs();
    create_domu();
    check_scheduler_op();
    check_affinity();
    populate();
    set_memory_map();
    build();
    check_vcpu_context();
    port = start_domu();
    check_domu_report();
    check_pause(port);
    check_shutdown(port);
    check_destroy(free_before, port);
    check_domid_not_reused();
    if (rt_failures)
        test_verdict(false, "%u checks failed", rt_failures);
}
