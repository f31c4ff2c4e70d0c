/*
 * Workers behind domctl and sysctl (see keel/domctl.h): Xen 4.17's rules
 * on plain values.  Each comment says which of Xen's behaviours it keeps.
 */
#define __XEN_TOOLS__ 1
#include <keel/domctl.h>
#include <xen/errno.h>

/* ------------------------------------------------------------ domain ids */

domid_t domid_rover_next(domid_t rover, bool (*taken)(domid_t id, void *ctx), void *ctx)
{
    domid_t id = rover;

    /* Each id at most once: a rover of 0 (nothing handed out yet) is
     * never met again, so the count bounds the walk. */
    for (unsigned int n = 0; n < DOMID_FIRST_RESERVED; n++) {
        id = id + 1U >= DOMID_FIRST_RESERVED ? 1 : (domid_t)(id + 1);
        if (id == rover)
            break;
        if (!taken(id, ctx))
            return id;
    }
    return DOMID_INVALID;
}

/* ---------------------------------------------------------- createdomain */

#define CDF_KNOWN                                                                   \
    (XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity |       \
     XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain | XEN_DOMCTL_CDF_iommu |     \
     XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu)

/* What the machine offers HVM domains (hvm.c tells at boot). */
static bool machine_hvm, machine_hap;

void createdomain_set_hvm_caps(bool hvm, bool hap)
{
    machine_hvm = hvm;
    machine_hap = hvm && hap;
}

/* Xen's sanitise_domain_config and its x86 half, on a machine with no
 * IOMMU, vmtrace, vPMU or tboot, and HVM only with HAP (Keel has no
 * shadow paging): what is not there is -EINVAL. */
static int check_flags(const struct xen_domctl_createdomain *c, unsigned int max_vcpus)
{
    u32 f = c->flags;

    if (f & ~CDF_KNOWN)
        return -XEN_EINVAL;
    if (c->grant_opts & ~XEN_DOMCTL_GRANT_version_mask)
        return -XEN_EINVAL;
    if (c->max_vcpus < 1)
        return -XEN_EINVAL;
    if ((f & XEN_DOMCTL_CDF_hap) && !(f & XEN_DOMCTL_CDF_hvm))
        return -XEN_EINVAL;
    if ((f & XEN_DOMCTL_CDF_iommu) || c->iommu_opts)
        return -XEN_EINVAL; /* no IOMMU; options without it are refused too */
    if (c->vmtrace_size || (f & XEN_DOMCTL_CDF_vpmu))
        return -XEN_EINVAL;
    if ((f & XEN_DOMCTL_CDF_hvm) && !machine_hvm)
        return -XEN_EINVAL; /* "HVM support not available" */
    if (c->max_vcpus > max_vcpus)
        return -XEN_EINVAL;
    if (f & XEN_DOMCTL_CDF_s3_integrity)
        return -XEN_EINVAL; /* no tboot */
    if ((f & XEN_DOMCTL_CDF_hap) && !machine_hap)
        return -XEN_EINVAL; /* "HAP requested but not available" */
    if ((f & XEN_DOMCTL_CDF_hvm) && !(f & XEN_DOMCTL_CDF_hap))
        return -XEN_EINVAL; /* shadow paging: not in Keel */
    if (f & XEN_DOMCTL_CDF_nested_virt)
        return -XEN_EINVAL; /* no nested virtualisation */
    if (c->arch.misc_flags & ~XEN_X86_MSR_RELAXED)
        return -XEN_EINVAL;
    return 0;
}

/* Xen's grant_table_init limits: -1 is the default maximum. */
static int check_grants(const struct xen_domctl_createdomain *c, struct createdomain_args *out)
{
    unsigned int version = c->grant_opts & XEN_DOMCTL_GRANT_version_mask;
    s64 frames = c->max_grant_frames < 0 ? KEEL_MAX_GRANT_FRAMES : c->max_grant_frames;
    s64 maptrack = c->max_maptrack_frames < 0 ? KEEL_MAX_MAPTRACK_FRAMES
                                              : c->max_maptrack_frames;

    if (!version || version > KEEL_MAX_GRANT_VERSION)
        return -XEN_EINVAL;
    if (frames < 1 || frames > KEEL_MAX_GRANT_FRAMES || maptrack > KEEL_MAX_MAPTRACK_FRAMES)
        return -XEN_EINVAL;
    out->grant_version = version;
    out->max_grant_frames = (unsigned int)frames;
    out->max_maptrack_frames = (unsigned int)maptrack;
    return 0;
}

int createdomain_check(const struct xen_domctl_createdomain *c, unsigned int max_vcpus,
                       struct createdomain_args *out)
{
    u32 em = c->arch.emulation_flags;
    int rc = check_flags(c, max_vcpus);

    if (rc)
        return rc;
    /* arch_domain_create: emulation flags, then the grant table. */
    if (em & ~XEN_X86_EMU_ALL)
        return -XEN_EINVAL;
    /* PV: nothing or the PIT; HVM: the local APIC alone (PVH).  Xen also
     * takes the full device set of an HVM guest; Keel emulates none. */
    if (c->flags & XEN_DOMCTL_CDF_hvm) {
        if (em != XEN_X86_EMU_LAPIC)
            return -XEN_EOPNOTSUPP;
    } else if (em != 0 && em != XEN_X86_EMU_PIT) {
        return -XEN_EOPNOTSUPP;
    }
    rc = check_grants(c, out);
    if (rc)
        return rc;
    out->max_vcpus = c->max_vcpus;
    /* Ports 0 .. max_evtchn_port (the ABI may allow fewer). */
    out->nr_evtchn_ports = c->max_evtchn_port >= 0x7fffffffU ? 0x80000000U
                                                               : c->max_evtchn_port + 1;
    out->xs_domain = c->flags & XEN_DOMCTL_CDF_xs_domain;
    out->hvm = c->flags & XEN_DOMCTL_CDF_hvm;
    return 0;
}

/* ---------------------------------------------------------- getdomaininfo */

void dominfo_fill(const struct dominfo *in, struct xen_domctl_getdomaininfo *out)
{
    u32 flags = XEN_DOMINF_blocked;
    u64 cpu_time = 0;

    memset(out, 0, sizeof(*out));
    out->domain = in->domid;
    out->max_vcpu_id = XEN_INVALID_MAX_VCPU_ID;
    for (unsigned int i = 0; i < in->nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++) {
        const struct dominfo_vcpu *v = &in->vcpu[i];

        cpu_time += v->running_ns;
        out->max_vcpu_id = i;
        if (!v->online)
            continue;
        if (!v->blocked)
            flags &= ~XEN_DOMINF_blocked;
        if (v->running)
            flags |= XEN_DOMINF_running;
        out->nr_online_vcpus++;
    }
    out->cpu_time = cpu_time;
    /* The shutdown code goes in whatever its value (~0 before any
     * shutdown sets bits 16-31), exactly as Xen 4.17 does. */
    out->flags = (out->nr_online_vcpus ? flags : 0) |
                 (in->dead ? XEN_DOMINF_dying : 0) |
                 (in->shut_down ? XEN_DOMINF_shutdown : 0) |
                 (in->controller_pause_count > 0 ? XEN_DOMINF_paused : 0) |
                 (in->xs_domain ? XEN_DOMINF_xs_domain : 0) |
                 (u32)(in->shutdown_code << XEN_DOMINF_shutdownshift);
    out->tot_pages = in->tot_pages;
    out->max_pages = in->max_pages;
    out->shared_info_frame = in->shared_info_frame;
    out->cpupool = in->cpupool;
    out->gpaddr_bits = in->gpaddr_bits;
    memcpy(out->handle, in->handle, sizeof(out->handle));
}

/* -------------------------------------------------------------- cpupools */

int cpupool_next(const u32 *ids, unsigned int n, u32 want)
{
    for (unsigned int i = 0; i < n; i++)
        if (ids[i] >= want)
            return (int)i;
    return -XEN_ENOENT;
}

/* --------------------------------------------------------------- bitmaps */

u32 mask_to_ctlbytes(u64 mask, unsigned int nbits, u32 nr_bits, u8 out[8])
{
    u32 ours = (nbits + 7) / 8, theirs = ctlbitmap_bytes(nr_bits);

    if (nbits < 64)
        mask &= (1ULL << nbits) - 1;
    for (unsigned int i = 0; i < 8; i++)
        out[i] = (u8)(mask >> (8 * i));
    return ours < theirs ? ours : theirs;
}

u64 ctlbytes_to_mask(const u8 *in, u32 in_len, u32 nr_bits, unsigned int nbits)
{
    u32 len = ctlbitmap_read_len(nr_bits, nbits);
    u64 mask = 0;

    if (in_len < len)
        len = in_len;
    for (u32 i = 0; i < len; i++) {
        u8 b = in[i];
        /* The guest's last byte, if we read it: only its valid bits. */
        if ((nr_bits & 7) && i == ctlbitmap_bytes(nr_bits) - 1)
            b &= (u8)~(0xff << (nr_bits & 7));
        mask |= (u64)b << (8 * i);
    }
    if (nbits < 64)
        mask &= (1ULL << nbits) - 1;
    return mask;
}

/* -------------------------------------------------------------- affinity */

int affinity_set(u64 *hard, u64 *soft, u32 flags, u64 new_hard, u64 new_soft, u64 online,
                 u64 *out_hard, u64 *out_soft)
{
    if (!(flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)))
        return -XEN_EINVAL;
    if (flags & XEN_VCPUAFFINITY_HARD) {
        if (!(new_hard & online))
            return -XEN_EINVAL; /* would leave it nowhere to run */
        *hard = new_hard;
        *out_hard = new_hard & online;
    }
    if (flags & XEN_VCPUAFFINITY_SOFT) {
        *soft = new_soft;
        *out_soft = new_soft & online & *hard;
    }
    return 0;
}

int nodeaffinity_set(u64 *stored, u64 requested, u64 online_nodes)
{
    if (!(requested & online_nodes))
        return -XEN_EINVAL; /* "being disjoint with the system is just wrong" */
    *stored = requested;
    return 0;
}

/* ----------------------------------------------------------- scheduler */

int credit2_adjust(u16 *weight, u16 *cap, u32 cmd, struct xen_domctl_sched_credit2 *io,
                   unsigned int nr_vcpus)
{
    switch (cmd) {
    case XEN_DOMCTL_SCHEDOP_getinfo:
        io->weight = *weight;
        io->cap = *cap;
        return 0;
    case XEN_DOMCTL_SCHEDOP_putinfo:
        /* Weight first, as Xen: a bad cap leaves the new weight in place. */
        if (io->weight)
            *weight = io->weight;
        if (io->cap && io->cap > 100U * nr_vcpus)
            return -XEN_EINVAL;
        *cap = io->cap; /* 0 removes the cap */
        return 0;
    default:
        return -XEN_EINVAL; /* credit2 has no per-vCPU parameters */
    }
}

/* ------------------------------------------------------------------ TSC */

/* The modes as arch-x86/cpuid.h lists them (the header names none). */
enum { TSC_MODE_DEFAULT, TSC_MODE_ALWAYS_EMULATE, TSC_MODE_NEVER_EMULATE };

int tsc_mode_check(u32 mode)
{
    switch (mode) {
    case TSC_MODE_DEFAULT:
    case TSC_MODE_NEVER_EMULATE:
        return 0;
    case TSC_MODE_ALWAYS_EMULATE:
        return -XEN_EOPNOTSUPP;
    default:
        return -XEN_EINVAL;
    }
}

/* -------------------------------------------------------------- console */

u32 console_read_from(u32 c, u32 p, bool incremental, u32 index)
{
    /* Is index in (c, p]?  Both cases of the wrapping u32 arithmetic. */
    if (incremental && (c <= p ? c < index && index <= p : c < index || index <= p))
        return index;
    return c;
}

u32 console_clear_to(u32 end, u32 p, u32 size)
{
    return p - end > size ? p - size : end;
}

/* ------------------------------------------------------------- physinfo */

void physinfo_fill(const struct host_facts *h, struct xen_sysctl_physinfo *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->threads_per_core = h->threads_per_core;
    pi->cores_per_socket = h->cores_per_socket;
    pi->nr_cpus = h->nr_cpus;
    pi->max_cpu_id = h->max_cpu_id;
    pi->nr_nodes = 1;
    pi->max_node_id = KEEL_MAX_NUMNODES - 1; /* Xen reports MAX_NUMNODES - 1 */
    pi->cpu_khz = h->cpu_khz;
    pi->total_pages = h->total_pages;
    pi->free_pages = h->free_pages;
    pi->max_mfn = h->max_mfn;
    memcpy(pi->hw_cap, h->hw_cap, sizeof(pi->hw_cap));
    /* 64-bit PV guests and version 1 grant tables: libxl derives the
     * grant version it asks for from these bits. */
    pi->capabilities = XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_gnttab_v1 |
                       (KEEL_MAX_GRANT_VERSION >= 2 ? XEN_SYSCTL_PHYSCAP_gnttab_v2 : 0);
    /* HVM (PVH) guests with hardware-assisted paging when the CPU has it:
     * `xl info` virt_caps "pv hvm hap". */
    if (machine_hvm)
        pi->capabilities |= XEN_SYSCTL_PHYSCAP_hvm;
    if (machine_hap)
        pi->capabilities |= XEN_SYSCTL_PHYSCAP_hap;
}
