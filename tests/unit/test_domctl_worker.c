/* The domctl/sysctl workers: Xen 4.17's rules on plain values. */
#define __XEN_TOOLS__ 1
#include <keel/domctl.h>
#include <keel/sched_types.h>
#include <xen/errno.h>

#include "harness.h"

/* ------------------------------------------------------------ domid rover */

static bool used[DOMID_FIRST_RESERVED];

static bool taken(domid_t id, void *ctx)
{
    (void)ctx;
    return used[id];
}

TEST(rover_starts_at_one_and_skips_taken)
{
    memset(used, 0, sizeof(used));
    used[0] = true; /* dom0 */
    CHECK_EQ(domid_rover_next(0, taken, NULL), 1);
    used[1] = used[2] = true;
    CHECK_EQ(domid_rover_next(0, taken, NULL), 3);
}

TEST(rover_never_reuses_a_freed_id_at_once)
{
    memset(used, 0, sizeof(used));
    used[0] = true;
    domid_t a = domid_rover_next(0, taken, NULL);
    used[a] = true;
    domid_t b = domid_rover_next(a, taken, NULL);
    used[a] = false; /* a destroyed: the next one is still fresh */
    used[b] = true;
    domid_t c = domid_rover_next(b, taken, NULL);
    CHECK_EQ(a, 1);
    CHECK_EQ(b, 2);
    CHECK_EQ(c, 3);
}

TEST(rover_wraps_to_one)
{
    memset(used, 0, sizeof(used));
    used[0] = true;
    CHECK_EQ(domid_rover_next(DOMID_FIRST_RESERVED - 1, taken, NULL), 1);
    used[1] = true;
    CHECK_EQ(domid_rover_next(DOMID_FIRST_RESERVED - 2, taken, NULL),
             DOMID_FIRST_RESERVED - 1);
    used[DOMID_FIRST_RESERVED - 1] = true;
    CHECK_EQ(domid_rover_next(DOMID_FIRST_RESERVED - 2, taken, NULL), 2);
}

TEST(rover_exhausted)
{
    for (unsigned int i = 0; i < DOMID_FIRST_RESERVED; i++)
        used[i] = true;
    CHECK_EQ(domid_rover_next(0, taken, NULL), DOMID_INVALID);
    CHECK_EQ(domid_rover_next(77, taken, NULL), DOMID_INVALID);
    used[77] = false; /* only the rover itself is free: still none */
    CHECK_EQ(domid_rover_next(77, taken, NULL), DOMID_INVALID);
    used[78] = false;
    CHECK_EQ(domid_rover_next(77, taken, NULL), 78);
}

/* ------------------------------------------------------------ createdomain */

static struct xen_domctl_createdomain xl_config(void)
{
    struct xen_domctl_createdomain c;

    memset(&c, 0, sizeof(c));
    c.max_vcpus = 2;
    c.max_evtchn_port = 1023;
    c.max_grant_frames = -1;
    c.max_maptrack_frames = -1;
    c.grant_opts = 1;
    return c;
}

TEST(createdomain_xl_defaults)
{
    struct xen_domctl_createdomain c = xl_config();
    struct createdomain_args a;

    CHECK_EQ(createdomain_check(&c, 32, &a), 0);
    CHECK_EQ(a.max_vcpus, 2);
    CHECK_EQ(a.nr_evtchn_ports, 1024);
    CHECK_EQ(a.max_grant_frames, 64);
    CHECK_EQ(a.max_maptrack_frames, 1024);
    CHECK_EQ(a.grant_version, 1);
    c.max_evtchn_port = 0xffffffffU; /* no overflow */
    CHECK_EQ(createdomain_check(&c, 32, &a), 0);
    CHECK(a.nr_evtchn_ports > 1024);
}

TEST(createdomain_refusals)
{
    struct createdomain_args a;
    struct xen_domctl_createdomain c;
    static const u32 bad_flags[] = {XEN_DOMCTL_CDF_hvm, XEN_DOMCTL_CDF_hap,
                                    XEN_DOMCTL_CDF_iommu, XEN_DOMCTL_CDF_vpmu,
                                    XEN_DOMCTL_CDF_s3_integrity, XEN_DOMCTL_CDF_nested_virt,
                                    1U << 20};

    for (unsigned int i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
        c = xl_config();
        c.flags = bad_flags[i];
        CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    }
    c = xl_config();
    c.flags = XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain; /* both fine */
    CHECK_EQ(createdomain_check(&c, 32, &a), 0);
    CHECK(a.xs_domain);
    c = xl_config();
    c.max_vcpus = 0;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c.max_vcpus = 33;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c = xl_config();
    c.iommu_opts = 1;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c = xl_config();
    c.vmtrace_size = 4096;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c = xl_config();
    c.grant_opts = 0x10; /* beyond the version mask */
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c.grant_opts = 0;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c.grant_opts = 3; /* Keel offers versions 1 and 2, as Xen */
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c.grant_opts = 2;
    CHECK_EQ(createdomain_check(&c, 32, &a), 0);
    CHECK_EQ(a.grant_version, 2);
    c = xl_config();
    c.max_grant_frames = 0;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c.max_grant_frames = 65;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c.max_grant_frames = 4;
    c.max_maptrack_frames = 1025;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    c = xl_config();
    c.arch.misc_flags = 2;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
}

TEST(createdomain_emulation_flags)
{
    struct createdomain_args a;
    struct xen_domctl_createdomain c = xl_config();

    c.arch.emulation_flags = XEN_X86_EMU_PIT;
    CHECK_EQ(createdomain_check(&c, 32, &a), 0);
    c.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EOPNOTSUPP);
    c.arch.emulation_flags = 1U << 31;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
    /* A flag error comes first (Xen's sanitise before arch creation). */
    c.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    c.max_vcpus = 0;
    CHECK_EQ(createdomain_check(&c, 32, &a), -XEN_EINVAL);
}

/* ----------------------------------------------------------- getdomaininfo */

static struct dominfo base_info(unsigned int nr)
{
    struct dominfo s;

    memset(&s, 0, sizeof(s));
    s.domid = 7;
    s.nr_vcpus = nr;
    s.shutdown_code = ~0U;
    s.tot_pages = 100;
    s.max_pages = 200;
    s.shared_info_frame = 0x1234;
    s.cpupool = 0;
    return s;
}

TEST(dominfo_new_domain)
{
    struct xen_domctl_getdomaininfo out;
    struct dominfo s = base_info(0);

    s.controller_pause_count = 1;
    dominfo_fill(&s, &out);
    CHECK_EQ(out.domain, 7);
    CHECK_EQ(out.flags, XEN_DOMINF_paused | 0xffff0000U);
    CHECK_EQ(out.max_vcpu_id, XEN_INVALID_MAX_VCPU_ID);
    CHECK_EQ(out.nr_online_vcpus, 0);
    CHECK_EQ(out.shared_info_frame, 0x1234);
    CHECK_EQ(out.tot_pages, 100);
    CHECK_EQ(out.max_pages, 200);
}

TEST(dominfo_blocked_running_online)
{
    struct xen_domctl_getdomaininfo out;
    struct dominfo s = base_info(3);

    /* vCPU 0 blocked, 1 down, 2 blocked: the domain is blocked. */
    s.vcpu[0] = (struct dominfo_vcpu){true, true, false, 5};
    s.vcpu[1] = (struct dominfo_vcpu){false, false, false, 7};
    s.vcpu[2] = (struct dominfo_vcpu){true, true, false, 11};
    dominfo_fill(&s, &out);
    CHECK_EQ(out.flags & 0xff, XEN_DOMINF_blocked);
    CHECK_EQ(out.nr_online_vcpus, 2);
    CHECK_EQ(out.max_vcpu_id, 2);
    CHECK_EQ(out.cpu_time, 23); /* every vCPU's, down ones too */
    /* One runnable and running: running, not blocked. */
    s.vcpu[2] = (struct dominfo_vcpu){true, false, true, 11};
    dominfo_fill(&s, &out);
    CHECK_EQ(out.flags & 0xff, XEN_DOMINF_running);
    /* No vCPU online: neither. */
    s.vcpu[0].online = s.vcpu[2].online = false;
    dominfo_fill(&s, &out);
    CHECK_EQ(out.flags & 0xff, 0);
}

TEST(dominfo_shutdown_and_dying)
{
    struct xen_domctl_getdomaininfo out;
    struct dominfo s = base_info(1);

    s.vcpu[0].online = true;
    s.shut_down = true;
    s.shutdown_code = 1; /* reboot */
    dominfo_fill(&s, &out);
    CHECK_EQ(out.flags, XEN_DOMINF_shutdown | (1U << XEN_DOMINF_shutdownshift));
    s.dead = true;
    s.xs_domain = true;
    dominfo_fill(&s, &out);
    CHECK_EQ(out.flags, XEN_DOMINF_shutdown | XEN_DOMINF_dying | XEN_DOMINF_xs_domain |
                            (1U << XEN_DOMINF_shutdownshift));
}

/* --------------------------------------------------------------- cpupools */

TEST(cpupool_walk)
{
    static const u32 one[] = {0}, three[] = {0, 4, 9};

    CHECK_EQ(cpupool_next(one, 1, 0), 0);
    CHECK_EQ(cpupool_next(one, 1, 1), -XEN_ENOENT);
    CHECK_EQ(cpupool_next(three, 3, 1), 1); /* the next one up */
    CHECK_EQ(cpupool_next(three, 3, 9), 2);
    CHECK_EQ(cpupool_next(three, 3, 10), -XEN_ENOENT);
    CHECK_EQ(cpupool_next(three, 3, 0xffffffffU), -XEN_ENOENT);
}

/* ---------------------------------------------------------------- bitmaps */

TEST(bitmaps_out)
{
    u8 b[8];

    /* 2 CPUs (nbits 2): one byte of ours, however big the guest's. */
    CHECK_EQ(mask_to_ctlbytes(0x3, 2, 64, b), 1);
    CHECK_EQ(b[0], 3);
    CHECK_EQ(mask_to_ctlbytes(0xff, 2, 64, b), 1);
    CHECK_EQ(b[0], 3); /* bits past nbits never leak */
    CHECK_EQ(mask_to_ctlbytes(0x1ff, 64, 9, b), 2);
    CHECK_EQ(mask_to_ctlbytes(0x1ff, 64, 0, b), 0);
    CHECK_EQ(ctlbitmap_bytes(0xffffffffU), 0x20000000U);
}

TEST(bitmaps_in)
{
    const u8 g[3] = {0xff, 0xff, 0xff};

    CHECK_EQ(ctlbitmap_read_len(12, 64), 2);
    CHECK_EQ(ctlbytes_to_mask(g, 2, 12, 64), 0xfff); /* 4 bits of the last byte */
    CHECK_EQ(ctlbytes_to_mask(g, 3, 24, 2), 0x3);
    CHECK_EQ(ctlbytes_to_mask(g, 3, 0, 64), 0);
    CHECK_EQ(ctlbytes_to_mask(g, 1, 64, 64), 0xff); /* what was read */
}

/* ---------------------------------------------------------------- affinity */

TEST(affinity)
{
    u64 hard = ~0ULL, soft = ~0ULL, oh = 0, os = 0;

    CHECK_EQ(affinity_set(&hard, &soft, 0, 1, 1, 3, &oh, &os), -XEN_EINVAL);
    CHECK_EQ(affinity_set(&hard, &soft, XEN_VCPUAFFINITY_HARD, 4, 0, 3, &oh, &os),
             -XEN_EINVAL); /* no online CPU in it: nothing changes */
    CHECK_EQ(hard, ~0ULL);
    CHECK_EQ(affinity_set(&hard, &soft, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT, 6, 0xff,
                          3, &oh, &os),
             0);
    CHECK_EQ(hard, 6);
    CHECK_EQ(oh, 2);
    CHECK_EQ(soft, 0xff);
    CHECK_EQ(os, 2); /* soft & online & hard */
    u64 nodes = 0;
    CHECK_EQ(nodeaffinity_set(&nodes, 2, 1), -XEN_EINVAL);
    CHECK_EQ(nodeaffinity_set(&nodes, 3, 1), 0);
    CHECK_EQ(nodes, 3);
}

/* ---------------------------------------------------------------- credit2 */

TEST(credit2)
{
    u16 w = 256, cap = 0;
    struct xen_domctl_sched_credit2 io = {0, 0};

    CHECK_EQ(credit2_adjust(&w, &cap, XEN_DOMCTL_SCHEDOP_getinfo, &io, 2), 0);
    CHECK_EQ(io.weight, 256);
    io = (struct xen_domctl_sched_credit2){512, 150};
    CHECK_EQ(credit2_adjust(&w, &cap, XEN_DOMCTL_SCHEDOP_putinfo, &io, 2), 0);
    CHECK_EQ(w, 512);
    CHECK_EQ(cap, 150);
    io = (struct xen_domctl_sched_credit2){0, 0}; /* keep weight, drop cap */
    CHECK_EQ(credit2_adjust(&w, &cap, XEN_DOMCTL_SCHEDOP_putinfo, &io, 2), 0);
    CHECK_EQ(w, 512);
    CHECK_EQ(cap, 0);
    io = (struct xen_domctl_sched_credit2){1000, 201}; /* cap > 100 per vCPU */
    CHECK_EQ(credit2_adjust(&w, &cap, XEN_DOMCTL_SCHEDOP_putinfo, &io, 2), -XEN_EINVAL);
    CHECK_EQ(w, 1000); /* as Xen: the weight went in first */
    CHECK_EQ(cap, 0);
    CHECK_EQ(credit2_adjust(&w, &cap, XEN_DOMCTL_SCHEDOP_putvcpuinfo, &io, 2), -XEN_EINVAL);
}

TEST(schedop_checks)
{
    struct xen_domctl_scheduler_op op = {.sched_id = XEN_SCHEDULER_CREDIT2,
                                         .cmd = XEN_DOMCTL_SCHEDOP_getinfo};

    CHECK_EQ(schedop_ctl_id(0), XEN_SCHEDULER_CREDIT2); /* round-robin's name */
    CHECK_EQ(schedop_ctl_id(XEN_SCHEDULER_RTDS), XEN_SCHEDULER_RTDS);
    CHECK_EQ(schedop_check(&op, XEN_SCHEDULER_CREDIT2), 0);
    CHECK_EQ(schedop_check(&op, XEN_SCHEDULER_RTDS), -XEN_EINVAL); /* not the pool's */
    op.cmd = XEN_DOMCTL_SCHEDOP_getvcpuinfo;
    CHECK_EQ(schedop_check(&op, XEN_SCHEDULER_CREDIT2), 0);
    op.cmd = 4;
    CHECK_EQ(schedop_check(&op, XEN_SCHEDULER_CREDIT2), -XEN_EINVAL);
    CHECK(!schedop_has_vcpu_params(XEN_SCHEDULER_CREDIT2));
    CHECK(schedop_has_vcpu_params(XEN_SCHEDULER_RTDS));
}

TEST(schedop_dom_params)
{
    struct xen_domctl_scheduler_op op = {0};
    struct sched_params p;

    op.u.credit2.weight = 768;
    op.u.credit2.cap = 25;
    schedop_dom_in(XEN_SCHEDULER_CREDIT2, &op, &p);
    CHECK_EQ(p.weight, 768);
    CHECK_EQ(p.cap, 25);
    CHECK_EQ(p.period_us, 0);
    p.weight = 512;
    p.cap = 0;
    schedop_dom_out(XEN_SCHEDULER_CREDIT2, &p, &op);
    CHECK_EQ(op.u.credit2.weight, 512);
    CHECK_EQ(op.u.credit2.cap, 0);

    memset(&op, 0, sizeof(op));
    op.u.rtds.period = 10000;
    op.u.rtds.budget = 4000;
    schedop_dom_in(XEN_SCHEDULER_RTDS, &op, &p);
    CHECK_EQ(p.period_us, 10000);
    CHECK_EQ(p.budget_us, 4000);
    CHECK_EQ(p.weight, 0);
    p.period_us = 20000;
    p.budget_us = 5000;
    schedop_dom_out(XEN_SCHEDULER_RTDS, &p, &op);
    CHECK_EQ(op.u.rtds.period, 20000);
    CHECK_EQ(op.u.rtds.budget, 5000);
}

TEST(schedop_vcpu_elements)
{
    struct xen_domctl_schedparam_vcpu e = {.vcpuid = 1};
    struct sched_params p;

    e.u.rtds.period = 1000;
    e.u.rtds.budget = 300;
    e.u.rtds.flags = XEN_DOMCTL_SCHEDRT_extra | 0x8;
    CHECK_EQ(schedop_vcpu_in(XEN_SCHEDULER_RTDS, &e, 2, true, &p), 0);
    CHECK_EQ(p.period_us, 1000);
    CHECK_EQ(p.budget_us, 300);
    CHECK_EQ(p.flags, SCHED_RTDS_EXTRA); /* only the bit Keel knows */
    CHECK_EQ(schedop_vcpu_in(XEN_SCHEDULER_RTDS, &e, 1, true, &p), -XEN_EINVAL);
    CHECK_EQ(schedop_vcpu_in(XEN_SCHEDULER_RTDS, &e, 2, false, &p), -XEN_EINVAL);
    e.vcpuid = 0xffffffffU;
    CHECK_EQ(schedop_vcpu_in(XEN_SCHEDULER_RTDS, &e, 2, true, &p), -XEN_EINVAL);

    /* getvcpuinfo: the caller's other flag bits stay, extratime follows. */
    p = (struct sched_params){.period_us = 2000, .budget_us = 500, .flags = 0};
    schedop_vcpu_out(XEN_SCHEDULER_RTDS, &p, &e);
    CHECK_EQ(e.u.rtds.period, 2000);
    CHECK_EQ(e.u.rtds.budget, 500);
    CHECK_EQ(e.u.rtds.flags, 0x8);
    p.flags = SCHED_RTDS_EXTRA;
    schedop_vcpu_out(XEN_SCHEDULER_RTDS, &p, &e);
    CHECK_EQ(e.u.rtds.flags, 0x8 | XEN_DOMCTL_SCHEDRT_extra);
}

TEST(sysctl_schedop)
{
    struct xen_sysctl_scheduler_op op = {.cpupool_id = 0, .sched_id = XEN_SCHEDULER_CREDIT2,
                                         .cmd = XEN_SYSCTL_SCHEDOP_getinfo};
    u32 stored = 1000, io = 0;

    CHECK_EQ(sysctl_schedop_check(&op, true, XEN_SCHEDULER_CREDIT2), 0);
    CHECK_EQ(sysctl_schedop_check(&op, false, XEN_SCHEDULER_CREDIT2), -XEN_ESRCH);
    CHECK_EQ(sysctl_schedop_check(&op, true, XEN_SCHEDULER_RTDS), -XEN_EINVAL);
    op.cmd = 7;
    CHECK_EQ(sysctl_schedop_check(&op, false, XEN_SCHEDULER_RTDS), -XEN_EINVAL); /* cmd first */

    CHECK_EQ(credit2_ratelimit_adjust(&stored, XEN_SYSCTL_SCHEDOP_getinfo, &io), 0);
    CHECK_EQ(io, 1000);
    io = XEN_SYSCTL_SCHED_RATELIMIT_MIN - 1;
    CHECK_EQ(credit2_ratelimit_adjust(&stored, XEN_SYSCTL_SCHEDOP_putinfo, &io), -XEN_EINVAL);
    io = XEN_SYSCTL_SCHED_RATELIMIT_MAX + 1;
    CHECK_EQ(credit2_ratelimit_adjust(&stored, XEN_SYSCTL_SCHEDOP_putinfo, &io), -XEN_EINVAL);
    CHECK_EQ(stored, 1000);
    io = XEN_SYSCTL_SCHED_RATELIMIT_MAX;
    CHECK_EQ(credit2_ratelimit_adjust(&stored, XEN_SYSCTL_SCHEDOP_putinfo, &io), 0);
    CHECK_EQ(stored, XEN_SYSCTL_SCHED_RATELIMIT_MAX);
    io = 0; /* no rate limit */
    CHECK_EQ(credit2_ratelimit_adjust(&stored, XEN_SYSCTL_SCHEDOP_putinfo, &io), 0);
    CHECK_EQ(stored, 0);
    CHECK_EQ(io, 0);
}

TEST(tsc_modes)
{
    CHECK_EQ(tsc_mode_check(0), 0);
    CHECK_EQ(tsc_mode_check(2), 0);
    CHECK_EQ(tsc_mode_check(1), -XEN_EOPNOTSUPP);
    CHECK_EQ(tsc_mode_check(3), -XEN_EINVAL);
}

/* ------------------------------------------------------------ readconsole */

TEST(console_ring)
{
    /* Plain: start at c unless an incremental index is inside (c, p]. */
    CHECK_EQ(console_read_from(100, 500, false, 300), 100);
    CHECK_EQ(console_read_from(100, 500, true, 300), 300);
    CHECK_EQ(console_read_from(100, 500, true, 500), 500);
    CHECK_EQ(console_read_from(100, 500, true, 100), 100);
    CHECK_EQ(console_read_from(100, 500, true, 600), 100);
    /* Indices wrapped around 2^32. */
    CHECK_EQ(console_read_from(0xfffffff0U, 0x10, true, 0x8), 0x8);
    CHECK_EQ(console_read_from(0xfffffff0U, 0x10, true, 0xfffffff8U), 0xfffffff8U);
    CHECK_EQ(console_read_from(0xfffffff0U, 0x10, true, 0x20), 0xfffffff0U);
    /* A clear keeps at most a ring's worth. */
    CHECK_EQ(console_clear_to(400, 500, 1024), 400);
    CHECK_EQ(console_clear_to(100, 5000, 1024), 5000 - 1024);
}

TEST(physinfo)
{
    struct host_facts h = {.nr_cpus = 2, .max_cpu_id = 1, .threads_per_core = 1,
                           .cores_per_socket = 1, .cpu_khz = 2000000, .total_pages = 1000,
                           .free_pages = 600, .max_mfn = 4095};
    struct xen_sysctl_physinfo pi;

    physinfo_fill(&h, &pi);
    CHECK_EQ(pi.nr_cpus, 2);
    CHECK_EQ(pi.max_cpu_id, 1);
    CHECK_EQ(pi.nr_nodes, 1);
    CHECK_EQ(pi.max_node_id, 63);
    CHECK_EQ(pi.free_pages, 600);
    CHECK_EQ(pi.max_mfn, 4095);
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1);
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_pv);
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2); /* as Xen 4.17 */
    CHECK(!(pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm));
}

/* ------------------------------------------------ unprivileged callers */

static long refusal(u32 cmd, void (*fill)(struct xen_domctl *), bool hvm, enum domctl_other o)
{
    struct xen_domctl op = {.cmd = cmd};

    if (fill)
        fill(&op);
    return domctl_refusal(&op, hvm, o, 40);
}

static void ports_serial(struct xen_domctl *op)
{
    op->u.ioport_permission.first_port = 0x3f8;
    op->u.ioport_permission.nr_ports = 8;
}

static void ports_past_end(struct xen_domctl *op)
{
    op->u.ioport_permission.first_port = 0xfffc;
    op->u.ioport_permission.nr_ports = 8;
}

static void ports_wrap(struct xen_domctl *op)
{
    op->u.ioport_permission.first_port = 0xffffffffU;
    op->u.ioport_permission.nr_ports = 2;
}

static void iomem_wrap(struct xen_domctl *op)
{
    op->u.iomem_permission.first_mfn = ~0ULL;
    op->u.iomem_permission.nr_mfns = 2;
}

static void iomem_one(struct xen_domctl *op)
{
    op->u.iomem_permission.first_mfn = 0xfee00;
    op->u.iomem_permission.nr_mfns = 1;
}

static void mapping_one(struct xen_domctl *op)
{
    op->u.memory_mapping.first_gfn = 0x1000;
    op->u.memory_mapping.first_mfn = 0xfee00;
    op->u.memory_mapping.nr_mfns = 1;
}

static void mapping_too_high(struct xen_domctl *op)
{
    op->u.memory_mapping.first_mfn = 1ULL << 28; /* 40-bit machine: 2^28 frames */
    op->u.memory_mapping.nr_mfns = 1;
}

TEST(refusal_order_as_xen)
{
    /* Most: the privilege check first. */
    CHECK_EQ(refusal(XEN_DOMCTL_pausedomain, NULL, false, OTHER_MISSING), -XEN_EPERM);
    CHECK_EQ(refusal(XEN_DOMCTL_max_mem, NULL, true, OTHER_MISSING), -XEN_EPERM);
    /* Ports: the range first. */
    CHECK_EQ(refusal(XEN_DOMCTL_ioport_permission, NULL, false, OTHER_MISSING), -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_ioport_permission, ports_past_end, false, OTHER_MISSING),
             -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_ioport_permission, ports_wrap, false, OTHER_MISSING),
             -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_ioport_permission, ports_serial, false, OTHER_MISSING),
             -XEN_EPERM);
    /* I/O memory: only a wrapping range is refused first. */
    CHECK_EQ(refusal(XEN_DOMCTL_iomem_permission, NULL, false, OTHER_MISSING), -XEN_EPERM);
    CHECK_EQ(refusal(XEN_DOMCTL_iomem_permission, iomem_wrap, false, OTHER_MISSING),
             -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_iomem_permission, iomem_one, false, OTHER_MISSING), -XEN_EPERM);
    CHECK_EQ(refusal(XEN_DOMCTL_memory_mapping, NULL, false, OTHER_MISSING), -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_memory_mapping, mapping_too_high, true, OTHER_MISSING),
             -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_memory_mapping, mapping_one, true, OTHER_MISSING), -XEN_EPERM);
    /* HVM-only sub-ops on a PV target. */
    CHECK_EQ(refusal(XEN_DOMCTL_ioport_mapping, NULL, false, OTHER_MISSING), -XEN_EOPNOTSUPP);
    CHECK_EQ(refusal(XEN_DOMCTL_ioport_mapping, NULL, true, OTHER_MISSING), -XEN_EPERM);
    CHECK_EQ(refusal(XEN_DOMCTL_bind_pt_irq, NULL, false, OTHER_MISSING), -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_unbind_pt_irq, NULL, true, OTHER_MISSING), -XEN_EPERM);
    CHECK_EQ(refusal(XEN_DOMCTL_get_device_group, NULL, false, OTHER_MISSING),
             -XEN_EOPNOTSUPP);
    /* set_target: the other domain decides. */
    CHECK_EQ(refusal(XEN_DOMCTL_set_target, NULL, false, OTHER_MISSING), -XEN_ESRCH);
    CHECK_EQ(refusal(XEN_DOMCTL_set_target, NULL, false, OTHER_SAME), -XEN_EINVAL);
    CHECK_EQ(refusal(XEN_DOMCTL_set_target, NULL, false, OTHER_PV), -XEN_EOPNOTSUPP);
    CHECK_EQ(refusal(XEN_DOMCTL_set_target, NULL, false, OTHER_HVM), -XEN_EPERM);
}
