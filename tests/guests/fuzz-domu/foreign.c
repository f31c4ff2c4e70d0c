/*
 * The fuzz guest as a domU (xl create, beside a Linux domU): before the
 * random calls, aimed probes at everything outside ourselves.  Each one
 * must fail with the answer Xen 4.17 gives (learned by running this guest
 * there: tests/toolstack/hostile.sh); a success is reported with what it
 * did.  Targets:
 *   dom0, the Linux domU ("peer=<id>" on our command line), an id nobody
 *   has, DOMID_XEN/IO/INVALID and 0xffff, DOMID_SELF with garbage above
 *   its 16 bits, and our own numeric id where that means something else
 *   than DOMID_SELF;
 *   domctl and sysctl (never for a domU), memory_op on other domains,
 *   grant maps/copies/table ops naming other domains' refs and frames,
 *   event channels (bind_interdomain to their ports, status, reset),
 *   mmu_update/mmuext_op/update_va_mapping_otherdomain with foreign
 *   owners, remote_shutdown, physdev/hvm/dm ops with domids;
 *   and a sweep over machine memory: no frame that is not ours may be
 *   mapped, cleared, copied or have its M2P entry written.
 */
#include <rt.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>
#include <xen/grant_table.h>
#include <xen/physdev.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/dm_op.h>

#define DOMID_NOBODY 0x7fe0 /* a valid id no domain has in these tests */

void foreign_probes(void);

static char page[4][4096] __attribute__((aligned(4096)));
static char l1[4096] __attribute__((aligned(4096)));
static uint64_t l1_mfn;
static unsigned self_id, peer_id = DOMID_INVALID;
static unsigned n_probes, n_wrong;

/* ---- bookkeeping */

static void probe(const char *what, long got, long want)
{
    n_probes++;
    if (got == want)
        return;
    n_wrong++;
    rt_failures++;
    printf("fuzz-domu: %s = %ld, want %ld%s\n", what, got, want,
           got >= 0 && want < 0 ? " (NOT REFUSED)" : "");
}

/* Probes named after their target: "<family>(<what>) d<id>". */
#define PROBE(want, got, ...)                                                  \
    do {                                                                       \
        char _w[96];                                                           \
        snprintf(_w, sizeof(_w), __VA_ARGS__);                                 \
        long _g = (got);                                                       \
        probe(_w, _g, (want));                                                 \
    } while (0)

static bool exists(unsigned d) { return d == 0 || d == peer_id; }

/* The other domains and ids that name nothing or not a domain. */
static const unsigned *targets(unsigned *n)
{
    static unsigned t[8];
    unsigned k = 0;

    t[k++] = 0;
    if (peer_id != DOMID_INVALID)
        t[k++] = peer_id;
    t[k++] = DOMID_NOBODY;
    t[k++] = DOMID_XEN;
    t[k++] = DOMID_IO;
    t[k++] = DOMID_INVALID;
    t[k++] = 0xffff;
    *n = k;
    return t;
}

/* ---- who we are, who the peer is */

static void find_ids(void)
{
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);
    struct evtchn_status st = {.dom = DOMID_SELF, .port = au.port};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st) == 0);
    self_id = st.u.unbound.dom;
    struct evtchn_close cl = {.port = au.port};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl) == 0);

    const char *p = (const char *)rt_start_info->cmd_line;
    for (; *p; p++)
        if (!memcmp(p, "peer=", 5) && (p == (const char *)rt_start_info->cmd_line || p[-1] == ' ')) {
            peer_id = 0;
            for (p += 5; *p >= '0' && *p <= '9'; p++)
                peer_id = peer_id * 10 + (unsigned)(*p - '0');
            break;
        }
    printf("fuzz-domu: I am d%u; dom0 d0, the Linux domU d%u\n", self_id,
           peer_id == DOMID_INVALID ? 0 : peer_id);
    CHECK(self_id != 0 && self_id < DOMID_FIRST_RESERVED && self_id != peer_id);
}

/* ---- domctl and sysctl: a domU has neither */

static struct xen_domctl dop;

static long domctl_call(uint32_t cmd, uint32_t version, unsigned dom)
{
    dop.cmd = cmd;
    dop.interface_version = version;
    dop.domain = (domid_t)dom;
    return hypercall1(__HYPERVISOR_domctl, &dop);
}

static long domctl(uint32_t cmd, uint32_t version, unsigned dom)
{
    memset(&dop, 0, sizeof(dop));
    return domctl_call(cmd, version, dom);
}

/*
 * Xen's answer to a domU.  The target is looked up first (-ESRCH), then
 * the privilege check (-EPERM) -- except for the sub-ops Xen checks on
 * their own, whose argument checks come first: here all-zero arguments
 * and PV targets.
 */
static long domctl_want(uint32_t cmd, unsigned dom)
{
    if (cmd == XEN_DOMCTL_createdomain)
        return -XEN_EPERM;
    if (dom == DOMID_NOBODY)
        return -XEN_ESRCH;
    switch (cmd) {
    case XEN_DOMCTL_ioport_permission: /* an empty range */
    case XEN_DOMCTL_bind_pt_irq:       /* not an HVM domain */
    case XEN_DOMCTL_unbind_pt_irq:
        return -XEN_EINVAL;
    case XEN_DOMCTL_memory_mapping: /* a range that wraps */
        return -XEN_EINVAL;
    case XEN_DOMCTL_ioport_mapping:
    case XEN_DOMCTL_get_device_group: /* no IOMMU for the target */
        return -XEN_EOPNOTSUPP;
    case XEN_DOMCTL_set_target: /* target dom0: itself, or not HVM */
        return dom == 0 ? -XEN_EINVAL : -XEN_EOPNOTSUPP;
    default:
        return -XEN_EPERM;
    }
}

static void control_probes(void)
{
    static const uint32_t cmds[] = {
        XEN_DOMCTL_createdomain, XEN_DOMCTL_destroydomain, XEN_DOMCTL_pausedomain,
        XEN_DOMCTL_unpausedomain, XEN_DOMCTL_getdomaininfo, XEN_DOMCTL_setvcpuaffinity,
        XEN_DOMCTL_max_mem, XEN_DOMCTL_setvcpucontext, XEN_DOMCTL_getvcpucontext,
        XEN_DOMCTL_max_vcpus, XEN_DOMCTL_scheduler_op, XEN_DOMCTL_iomem_permission,
        XEN_DOMCTL_ioport_permission, XEN_DOMCTL_irq_permission, XEN_DOMCTL_settimeoffset,
        XEN_DOMCTL_resumedomain, XEN_DOMCTL_set_target, XEN_DOMCTL_getpageframeinfo3,
        70 /* set_max_evtchn */, XEN_DOMCTL_shadow_op, XEN_DOMCTL_get_cpu_policy,
        XEN_DOMCTL_set_virq_handler, XEN_DOMCTL_gethvmcontext, XEN_DOMCTL_soft_reset,
        XEN_DOMCTL_ioport_mapping, XEN_DOMCTL_bind_pt_irq, XEN_DOMCTL_unbind_pt_irq,
        XEN_DOMCTL_get_device_group, XEN_DOMCTL_memory_mapping, XEN_DOMCTL_assign_device,
    };
    unsigned doms[] = {0, peer_id, self_id, DOMID_NOBODY};

    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        for (unsigned k = 0; k < 4; k++) {
            if (doms[k] == DOMID_INVALID)
                continue;
            PROBE(domctl_want(cmds[i], doms[k]),
                  domctl(cmds[i], XEN_DOMCTL_INTERFACE_VERSION, doms[k]), "domctl %u d%u",
                  cmds[i], doms[k]);
            /* A range that is one: refused for want of the ports. */
            memset(&dop, 0, sizeof(dop));
            dop.u.ioport_permission.first_port = 0x3f8;
            dop.u.ioport_permission.nr_ports = 8;
            dop.u.ioport_permission.allow_access = 1;
            if (cmds[i] == XEN_DOMCTL_ioport_permission)
                PROBE(doms[k] == DOMID_NOBODY ? -XEN_ESRCH : -XEN_EPERM,
                      domctl_call(cmds[i], XEN_DOMCTL_INTERFACE_VERSION, doms[k]),
                      "domctl ioport_permission 0x3f8+8 d%u", doms[k]);
        }
    PROBE(-XEN_EACCES, domctl(XEN_DOMCTL_getdomaininfo, XEN_DOMCTL_INTERFACE_VERSION - 1, 0),
          "domctl old version");

    static const uint32_t scmds[] = {
        XEN_SYSCTL_readconsole, XEN_SYSCTL_physinfo, XEN_SYSCTL_sched_id,
        XEN_SYSCTL_getdomaininfolist, XEN_SYSCTL_debug_keys, XEN_SYSCTL_getcpuinfo,
        XEN_SYSCTL_availheap, XEN_SYSCTL_page_offline_op, XEN_SYSCTL_cputopoinfo,
        XEN_SYSCTL_numainfo, XEN_SYSCTL_cpupool_op, XEN_SYSCTL_scheduler_op,
        XEN_SYSCTL_get_cpu_policy, XEN_SYSCTL_livepatch_op, 28 /* set_parameter */, 200,
    };
    static struct xen_sysctl sop;
    for (unsigned i = 0; i < sizeof(scmds) / sizeof(scmds[0]); i++) {
        memset(&sop, 0, sizeof(sop));
        sop.cmd = scmds[i];
        sop.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
        PROBE(-XEN_EPERM, hypercall1(__HYPERVISOR_sysctl, &sop), "sysctl %u", scmds[i]);
    }
}

/* ---- memory_op on other domains */

static void memory_probes(void)
{
    unsigned n;
    const unsigned *t = targets(&n);
    static xen_pfn_t list[4];

    for (unsigned i = 0; i < n; i++) {
        unsigned d = t[i];
        static const unsigned ops[] = {XENMEM_increase_reservation,
                                       XENMEM_decrease_reservation, XENMEM_populate_physmap};
        for (unsigned k = 0; k < 3; k++) {
            /* Frames low in the peer's or dom0's space: theirs to lose. */
            for (unsigned j = 0; j < 4; j++)
                list[j] = ops[k] == XENMEM_decrease_reservation ? 0x100 + j : 0x200 + j;
            struct xen_memory_reservation r = {.nr_extents = 4, .domid = (domid_t)d};
            set_xen_guest_handle(r.extent_start, list);
            /* A reservation op answers with the extents done: none. */
            PROBE(0, HYPERVISOR_memory_op(ops[k], &r), "memory_op %u d%u", ops[k], d);
        }
        long want = exists(d) ? -XEN_EPERM : -XEN_ESRCH;
        static const unsigned stats[] = {XENMEM_current_reservation,
                                         XENMEM_maximum_reservation, XENMEM_maximum_gpfn};
        for (unsigned k = 0; k < 3; k++) {
            domid_t dd = (domid_t)d;
            PROBE(want, HYPERVISOR_memory_op(stats[k], &dd), "memory_op %u d%u", stats[k], d);
        }
        struct xen_memory_exchange x = {.in = {.nr_extents = 1, .domid = (domid_t)d},
                                        .out = {.nr_extents = 1, .domid = (domid_t)d}};
        list[0] = 0x100;
        list[1] = 0x300;
        set_xen_guest_handle(x.in.extent_start, &list[0]);
        set_xen_guest_handle(x.out.extent_start, &list[1]);
        PROBE(want, HYPERVISOR_memory_op(XENMEM_exchange, &x), "memory_op exchange d%u", d);
        PROBE(0, (long)x.nr_exchanged, "memory_op exchange d%u: exchanged", d);
        struct xen_add_to_physmap ap = {.domid = (domid_t)d, .size = 1,
                                        .space = XENMAPSPACE_gmfn, .idx = 0x100, .gpfn = 0x400};
        /* A PV target has no physmap to change: -EACCES before the rest. */
        long physmap = exists(d) ? -XEN_EACCES : -XEN_ESRCH;
        PROBE(physmap, HYPERVISOR_memory_op(XENMEM_add_to_physmap, &ap),
              "memory_op add_to_physmap d%u", d);
        struct xen_remove_from_physmap rp = {.domid = (domid_t)d, .gpfn = 0x100};
        PROBE(physmap, HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &rp),
              "memory_op remove_from_physmap d%u", d);
        static xen_pfn_t fr[1];
        struct xen_mem_acquire_resource ar = {.domid = (domid_t)d,
                                              .type = XENMEM_resource_grant_table,
                                              .nr_frames = 1};
        set_xen_guest_handle(ar.frame_list, fr);
        PROBE(want, HYPERVISOR_memory_op(XENMEM_acquire_resource, &ar),
              "memory_op acquire_resource d%u", d);
    }
}

/* ---- grant tables */

static long gnttab(unsigned cmd, void *op, unsigned count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, op, count);
}

static bool page_is(const char *p, char c)
{
    for (unsigned i = 0; i < 4096; i++)
        if (p[i] != c)
            return false;
    return true;
}

static void grant_probes(void)
{
    unsigned n;
    const unsigned *t = targets(&n);
    static const uint32_t refs[] = {0, 1, 2, 7, 8, 31, 511, 4096, 0xffffffff};

    memset(page[0], 0x5a, 4096);
    for (unsigned i = 0; i < n; i++) {
        unsigned d = t[i];
        long missing = exists(d) ? 0 : GNTST_bad_domain;
        struct gnttab_setup_table st = {.dom = (domid_t)d, .nr_frames = 1};
        static xen_pfn_t frame;
        set_xen_guest_handle(st.frame_list, &frame);
        PROBE(0, gnttab(GNTTABOP_setup_table, &st, 1), "gnttab setup_table d%u", d);
        PROBE(missing ? missing : GNTST_permission_denied, st.status,
              "gnttab setup_table d%u: status", d);
        struct gnttab_query_size qs = {.dom = (domid_t)d};
        PROBE(0, gnttab(GNTTABOP_query_size, &qs, 1), "gnttab query_size d%u", d);
        PROBE(missing ? missing : GNTST_permission_denied, qs.status,
              "gnttab query_size d%u: status", d);
        struct gnttab_dump_table dt = {.dom = (domid_t)d};
        /* Not in a release build of Xen, for anyone. */
        PROBE(-XEN_ENOSYS, gnttab(GNTTABOP_dump_table, &dt, 1), "gnttab dump_table d%u", d);
        static uint64_t sframe;
        struct gnttab_get_status_frames gs = {.dom = (domid_t)d, .nr_frames = 1};
        set_xen_guest_handle(gs.frame_list, &sframe);
        PROBE(0, gnttab(GNTTABOP_get_status_frames, &gs, 1), "gnttab get_status_frames d%u", d);
        PROBE(missing ? missing : GNTST_permission_denied, gs.status,
              "gnttab get_status_frames d%u: status", d);
        struct gnttab_get_version gv = {.dom = (domid_t)d};
        PROBE(exists(d) ? -XEN_EPERM : -XEN_ESRCH, gnttab(GNTTABOP_get_version, &gv, 1),
              "gnttab get_version d%u", d);

        for (unsigned r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
            static const uint32_t flags[] = {GNTMAP_host_map,
                                             GNTMAP_host_map | GNTMAP_readonly,
                                             GNTMAP_device_map | GNTMAP_host_map};
            for (unsigned f = 0; f < 3; f++) {
                struct gnttab_map_grant_ref m = {.host_addr = (uintptr_t)page[1],
                                                 .flags = flags[f], .ref = refs[r],
                                                 .dom = (domid_t)d};
                PROBE(0, gnttab(GNTTABOP_map_grant_ref, &m, 1), "gnttab map d%u", d);
                /* Refs within their table (one frame: 512) are not granted
                 * to us (0 and 1 of a domU are dom0's: console, xenstore);
                 * the others are not there. */
                long want = !exists(d) ? GNTST_bad_domain
                            : refs[r] < 512 ? GNTST_general_error : GNTST_bad_gntref;
                PROBE(want, m.status, "gnttab map d%u ref %u flags %u", d, refs[r], flags[f]);
                if (m.status == GNTST_okay) {
                    struct gnttab_unmap_grant_ref u = {.host_addr = m.host_addr,
                                                       .handle = m.handle};
                    gnttab(GNTTABOP_unmap_grant_ref, &u, 1);
                }
            }
            /* Copies out of their refs, and into them. */
            struct gnttab_copy c[2] = {
                {.source = {.u.ref = refs[r], .domid = (domid_t)d},
                 .dest = {.u.gmfn = rt_virt_to_mfn(page[0]), .domid = DOMID_SELF},
                 .len = 64, .flags = GNTCOPY_source_gref},
                {.source = {.u.gmfn = rt_virt_to_mfn(page[0]), .domid = DOMID_SELF},
                 .dest = {.u.ref = refs[r], .domid = (domid_t)d},
                 .len = 64, .flags = GNTCOPY_dest_gref},
            };
            PROBE(0, gnttab(GNTTABOP_copy, c, 2), "gnttab copy d%u", d);
            long want = !exists(d) ? GNTST_bad_domain
                        : refs[r] < 512 ? GNTST_general_error : GNTST_bad_gntref;
            PROBE(want, c[0].status, "gnttab copy from d%u ref %u", d, refs[r]);
            PROBE(want, c[1].status, "gnttab copy to d%u ref %u", d, refs[r]);
        }
        /* Frames named directly: only our own may be. */
        static const uint64_t gmfns[] = {0, 1, 0x100, 0x1000};
        for (unsigned g = 0; g < 4; g++) {
            struct gnttab_copy c[2] = {
                {.source = {.u.gmfn = gmfns[g], .domid = (domid_t)d},
                 .dest = {.u.gmfn = rt_virt_to_mfn(page[0]), .domid = DOMID_SELF},
                 .len = 64},
                {.source = {.u.gmfn = rt_virt_to_mfn(page[0]), .domid = DOMID_SELF},
                 .dest = {.u.gmfn = gmfns[g], .domid = (domid_t)d}, .len = 64},
            };
            PROBE(0, gnttab(GNTTABOP_copy, c, 2), "gnttab copy d%u", d);
            long want = exists(d) ? GNTST_permission_denied : GNTST_bad_domain;
            PROBE(want, c[0].status, "gnttab copy from d%u frame %lx", d,
                  (unsigned long)gmfns[g]);
            PROBE(want, c[1].status, "gnttab copy to d%u frame %lx", d,
                  (unsigned long)gmfns[g]);
        }
    }
    EXPECT(page_is(page[0], 0x5a)); /* nothing came in */
}

/* ---- event channels */

static void evtchn_probes(void)
{
    unsigned n;
    const unsigned *t = targets(&n);
    static const uint32_t ports[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                     16, 20, 24, 31, 32, 40, 63, 64, 100, 1023, 1024,
                                     4095, 4096, 131071, 131072, 0xffffffff};

    for (unsigned i = 0; i < n; i++) {
        unsigned d = t[i];
        long missing = exists(d) ? 0 : -XEN_ESRCH;
        for (unsigned p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
            struct evtchn_bind_interdomain b = {.remote_dom = (domid_t)d,
                                                .remote_port = ports[p]};
            long r = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);
            PROBE(missing ? missing : -XEN_EINVAL, r, "evtchn bind_interdomain d%u port %u", d,
                  ports[p]);
            if (r == 0) {
                struct evtchn_close cl = {.port = b.local_port};
                HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl);
            }
            /* A port past the domain's allocated ones (buckets of 64; dom0
             * and the Linux domU have fewer than 64 here) is -EINVAL
             * before the right to look is checked. */
            struct evtchn_status st = {.dom = (domid_t)d, .port = ports[p]};
            PROBE(missing ? missing : ports[p] < 64 ? -XEN_EPERM : -XEN_EINVAL,
                  HYPERVISOR_event_channel_op(EVTCHNOP_status, &st),
                  "evtchn status d%u port %u", d, ports[p]);
        }
        struct evtchn_alloc_unbound au = {.dom = (domid_t)d, .remote_dom = DOMID_SELF};
        PROBE(missing ? missing : -XEN_EPERM,
              HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au),
              "evtchn alloc_unbound in d%u", d);
        struct evtchn_reset rs = {.dom = (domid_t)d};
        PROBE(missing ? missing : -XEN_EPERM, HYPERVISOR_event_channel_op(EVTCHNOP_reset, &rs),
              "evtchn reset d%u", d);
    }
}

/* ---- page tables with foreign owners */

static long mmu1(uint64_t ptr, uint64_t val, uint64_t foreigndom)
{
    struct mmu_update u = {.ptr = ptr, .val = val};
    return hypercall4(__HYPERVISOR_mmu_update, &u, 1, NULL, foreigndom);
}

static long mmuext1(unsigned cmd, uint64_t mfn, uint64_t arg2, uint64_t foreigndom)
{
    struct mmuext_op op = {.cmd = cmd, .arg1.mfn = mfn, .arg2.src_mfn = arg2};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, foreigndom);
}

static void mmu_probes(void)
{
    unsigned n;
    const unsigned *t = targets(&n);
    uint64_t own = rt_virt_to_mfn(page[2]);

    for (unsigned i = 0; i < n; i++) {
        unsigned d = t[i];
        if (d == DOMID_IO)
            continue; /* I/O frames: not a domain's memory */
        long want = exists(d) || d == DOMID_XEN ? -XEN_EPERM : -XEN_ESRCH;
        PROBE(want, mmu1(l1_mfn << 12, (own << 12) | 0x25, d), "mmu_update pg_owner d%u", d);
        PROBE(want, mmu1((own << 12) | MMU_MACHPHYS_UPDATE, 0x100, d),
              "mmu_update machphys pg_owner d%u", d);
        if (d < DOMID_FIRST_RESERVED) /* their page tables, as pt_owner */
            PROBE(exists(d) ? -XEN_EPERM : -XEN_ESRCH,
                  mmu1(l1_mfn << 12, 0, ((uint64_t)(d + 1) << 16) | DOMID_SELF),
                  "mmu_update pt_owner d%u", d);
        PROBE(want, mmuext1(MMUEXT_PIN_L1_TABLE, 0x100, 0, d), "mmuext pin pg_owner d%u", d);
        PROBE(want, mmuext1(MMUEXT_CLEAR_PAGE, 0x100, 0, d), "mmuext clear pg_owner d%u", d);
        PROBE(want, hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, (uintptr_t)page[3],
                               (0x100ULL << 12) | 0x25, UVMF_INVLPG, d),
              "update_va_mapping_otherdomain d%u", d);
    }
    /* Our own numeric id is not DOMID_SELF here: refused as "foreign". */
    PROBE(-XEN_ESRCH, mmu1(l1_mfn << 12, (own << 12) | 0x25, self_id),
          "mmu_update pg_owner self d%u", self_id);
    /* DOMID_SELF with garbage above: the upper half names a pt_owner. */
    PROBE(-XEN_ESRCH, mmu1(l1_mfn << 12, 0, 0xbeef0000ULL | DOMID_SELF),
          "mmu_update DOMID_SELF|0xbeef0000");
    PROBE(-XEN_ESRCH, mmu1(l1_mfn << 12, 0, 0xdead00000000ULL | 0x7ffe0000 | DOMID_SELF),
          "mmu_update DOMID_SELF|garbage");
}

/* ---- remote shutdown and other calls taking a domid */

static void misc_probes(void)
{
    unsigned n;
    const unsigned *t = targets(&n);

    for (unsigned i = 0; i < n; i++) {
        unsigned d = t[i];
        long want = exists(d) ? -XEN_EPERM : -XEN_ESRCH;
        for (unsigned reason = SHUTDOWN_poweroff; reason <= SHUTDOWN_crash; reason++) {
            struct sched_remote_shutdown rs = {.domain_id = (domid_t)d, .reason = reason};
            PROBE(want, HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs),
                  "sched remote_shutdown d%u reason %u", d, reason);
        }
        struct physdev_map_pirq mp = {.domid = (domid_t)d, .type = MAP_PIRQ_TYPE_GSI,
                                      .index = 9, .pirq = 9};
        PROBE(want, hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, &mp),
              "physdev map_pirq d%u", d);
        struct physdev_unmap_pirq up = {.domid = (domid_t)d, .pirq = 9};
        PROBE(want, hypercall2(__HYPERVISOR_physdev_op, PHYSDEVOP_unmap_pirq, &up),
              "physdev unmap_pirq d%u", d);
        struct xen_hvm_param hp = {.domid = (domid_t)d, .index = 1 /* HVM_PARAM_STORE_PFN */};
        PROBE(exists(d) ? -XEN_EINVAL : -XEN_ESRCH,
              hypercall2(__HYPERVISOR_hvm_op, HVMOP_get_param, &hp), "hvm get_param d%u", d);
        PROBE(exists(d) ? -XEN_EINVAL : -XEN_ESRCH,
              hypercall2(__HYPERVISOR_hvm_op, HVMOP_set_param, &hp), "hvm set_param d%u", d);
        /* dm_op: no buffers first, then the domain (a PV one has no
         * device model). */
        static struct xen_dm_op_buf buf = {.size = 8};
        static uint64_t dmop[4];
        set_xen_guest_handle(buf.h, dmop);
        PROBE(-XEN_ENODATA, hypercall3(__HYPERVISOR_dm_op, d, 0, NULL), "dm_op d%u no bufs", d);
        PROBE(exists(d) ? -XEN_EINVAL : -XEN_ESRCH, hypercall3(__HYPERVISOR_dm_op, d, 1, &buf),
              "dm_op d%u", d);
    }
    static struct xen_dm_op_buf buf = {.size = 8};
    PROBE(-XEN_EPERM, hypercall3(__HYPERVISOR_dm_op, self_id, 1, &buf), "dm_op self d%u",
          self_id);
    PROBE(-XEN_E2BIG, hypercall3(__HYPERVISOR_dm_op, 0, 3, &buf), "dm_op 3 bufs");
}

/* ---- the sweep over machine memory */

static uint64_t own_frames[16];
static unsigned n_own_frames;

static bool ours(uint64_t mfn)
{
    const unsigned long *p2m = (const unsigned long *)rt_start_info->mfn_list;

    for (unsigned i = 0; i < n_own_frames; i++)
        if (own_frames[i] == mfn)
            return true;
    for (unsigned long pfn = 0; pfn < rt_start_info->nr_pages; pfn++)
        if (p2m[pfn] == mfn)
            return true;
    return false;
}

/* Error histogram of the sweep, by -errno (0..63). */
static unsigned sweep_codes[64];

static void sweep_expect_refused(long r, const char *what, uint64_t mfn)
{
    if (r < 0 && r > -64) {
        sweep_codes[-r]++;
        return;
    }
    PROBE(-1, r, "%s of frame %lx, not ours", what, (unsigned long)mfn);
}

static void memory_sweep(void)
{
    unsigned long max = (unsigned long)HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    unsigned tried = 0, skipped = 0;
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};
    static xen_pfn_t gframe;

    /* Frames the hypervisor shares with us are ours to map. */
    own_frames[n_own_frames++] = rt_start_info->shared_info >> 12;
    set_xen_guest_handle(st.frame_list, &gframe);
    if (gnttab(GNTTABOP_setup_table, &st, 1) == 0 && st.status == 0)
        own_frames[n_own_frames++] = gframe;

    memset(page[2], 0x33, 4096);
    for (unsigned i = 0; i < 1024 + 3; i++) {
        /* Spread over all of RAM, a different offset each time, then
         * past its end. */
        uint64_t mfn = i < 1024 ? (uint64_t)i * (max / 1024) + (i * 7919u) % (max / 1024 ? max / 1024 : 1)
                       : i == 1024 ? max : i == 1025 ? max + 1 : 1ULL << 39;
        if (ours(mfn)) {
            skipped++;
            continue;
        }
        tried++;
        uint64_t slot = (l1_mfn << 12) + 8 * (i % 512);
        long r = mmu1(slot, (mfn << 12) | 0x25, DOMID_SELF);
        sweep_expect_refused(r, "read-only mapping", mfn);
        if (r == 0)
            mmu1(slot, 0, DOMID_SELF);
        if (i % 4 == 0) {
            r = mmu1(slot, (mfn << 12) | 0x27, DOMID_SELF);
            sweep_expect_refused(r, "writable mapping", mfn);
            if (r == 0)
                mmu1(slot, 0, DOMID_SELF);
        }
        if (i % 8 == 0) {
            sweep_expect_refused(mmu1((mfn << 12) | MMU_MACHPHYS_UPDATE, 0x100, DOMID_SELF),
                                 "M2P update", mfn);
            sweep_expect_refused(mmuext1(MMUEXT_CLEAR_PAGE, mfn, 0, DOMID_SELF), "clear",
                                 mfn);
            sweep_expect_refused(mmuext1(MMUEXT_COPY_PAGE, rt_virt_to_mfn(page[2]), mfn,
                                         DOMID_SELF), "copy", mfn);
            sweep_expect_refused(mmuext1(MMUEXT_PIN_L1_TABLE, mfn, 0, DOMID_SELF), "pin", mfn);
            sweep_expect_refused(hypercall3(__HYPERVISOR_update_va_mapping, (uintptr_t)page[3],
                                            (mfn << 12) | 0x25, UVMF_INVLPG),
                                 "update_va_mapping", mfn);
        }
    }
    EXPECT(page_is(page[2], 0x33));
    printf("fuzz-domu: memory sweep: %u frames of %lu tried (%u ours skipped), refused with:",
           tried, max, skipped);
    for (unsigned e = 1; e < 64; e++)
        if (sweep_codes[e])
            printf(" -%u:%u", e, sweep_codes[e]);
    printf("\n");
}

static void setup_l1(void)
{
    l1_mfn = rt_virt_to_mfn(l1);
    memset(l1, 0, sizeof(l1));
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)l1, (l1_mfn << 12) | 0x25, UVMF_INVLPG) == 0);
    struct mmuext_op pin = {.cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = l1_mfn};
    CHECK(hypercall4(__HYPERVISOR_mmuext_op, &pin, 1, NULL, DOMID_SELF) == 0);
}

static void teardown_l1(void)
{
    struct mmuext_op unpin = {.cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = l1_mfn};
    EXPECT_EQ(hypercall4(__HYPERVISOR_mmuext_op, &unpin, 1, NULL, DOMID_SELF), 0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)l1, (l1_mfn << 12) | 0x67, UVMF_INVLPG),
              0);
}

void foreign_probes(void)
{
    find_ids();
    setup_l1();
    control_probes();
    memory_probes();
    grant_probes();
    evtchn_probes();
    mmu_probes();
    misc_probes();
    memory_sweep();
    teardown_l1();
    printf("fuzz-domu: %u probes of other domains, %u answered wrongly\n", n_probes, n_wrong);
}
