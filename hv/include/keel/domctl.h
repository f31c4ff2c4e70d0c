/*
 * The toolstack interface's workers (hv/common/domctl_worker.c): the rules
 * of Xen 4.17's domctl and sysctl sub-ops on plain values, with no guest
 * pointers and no locks, so the host tests and the fuzzer run them.  The
 * hypercall layers (hv/common/domctl.c, sysctl.c) take a snapshot of the
 * hypervisor's state, call a worker and copy the result out.
 *
 * Includers define __XEN_TOOLS__ before any Xen header (domctl.h and
 * sysctl.h refuse to be included otherwise).
 */
#ifndef KEEL_DOMCTL_H
#define KEEL_DOMCTL_H
#ifndef __XEN_TOOLS__
#error "define __XEN_TOOLS__ before including any header"
#endif
#include <keel/arch.h>
#include <keel/types.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>

/* What Keel offers, in Xen's terms. */
#define KEEL_MAX_GRANT_FRAMES 64            /* Xen's defaults for -1 */
#define KEEL_MAX_MAPTRACK_FRAMES 1024
#define KEEL_MAX_GRANT_VERSION 2            /* = GNTTAB_MAX_VERSION (grant_table.h) */
#define KEEL_MAX_NUMNODES 64                /* Xen's MAX_NUMNODES: bitmap sizes */
#define KEEL_CPUPOOL0 0

/* ------------------------------------------------------------ createdomain */

/* The next id after `rover` that is not taken, wrapping from
 * DOMID_FIRST_RESERVED to 1 and never trying `rover` itself (Xen's rover,
 * so a freed id is not handed out again at once); DOMID_INVALID if none. */
domid_t domid_rover_next(domid_t rover, bool (*taken)(domid_t id, void *ctx), void *ctx);

/* Checked and digested createdomain arguments. */
struct createdomain_args {
    unsigned int max_vcpus;
    unsigned int nr_evtchn_ports;
    unsigned int max_grant_frames, max_maptrack_frames, grant_version;
    bool xs_domain;
    bool hvm;   /* PVH: HVM with HAP and only the local APIC emulated */
};
/* What the machine offers (the HVM core says so at boot; off by default). */
void createdomain_set_hvm_caps(bool hvm, bool hap);

/*
 * Xen 4.17's answer to a caller that is not the control domain, once the
 * target exists.  Most sub-ops meet the privilege check (-EPERM) first;
 * the few Xen handles apart from it check their arguments first.  Facts
 * the hypercall layer looks up: whether the target is HVM and, for
 * set_target, the other domain.
 */
enum domctl_other { OTHER_MISSING, OTHER_SAME, OTHER_PV, OTHER_HVM };
long domctl_refusal(const struct xen_domctl *op, bool target_hvm, enum domctl_other other,
                    unsigned int paddr_bits);
/*
 * Xen's checks, in its order: 0, -XEN_EINVAL (unknown or unsupported flag
 * or option, no vCPUs, too many, grant limits), -XEN_EOPNOTSUPP (PV
 * emulation flags other than none or the PIT).  max_vcpus: Keel's limit.
 */
int createdomain_check(const struct xen_domctl_createdomain *c, unsigned int max_vcpus,
                       struct createdomain_args *out);

/* ----------------------------------------------------------- getdomaininfo */

struct dominfo_vcpu {
    bool online;   /* not VPF_down */
    bool blocked;  /* VPF_blocked */
    bool running;  /* on a CPU now */
    u64 running_ns;
};

/* A snapshot of one domain, taken by the hypercall layer. */
struct dominfo {
    domid_t domid;
    bool dead;            /* relinquished (XEN_DOMINF_dying) */
    bool shut_down;
    bool xs_domain;
    int controller_pause_count;
    unsigned int shutdown_code;
    unsigned int nr_vcpus;
    struct dominfo_vcpu vcpu[XEN_LEGACY_MAX_VCPUS];
    u64 tot_pages, max_pages, shared_info_frame;
    xen_domain_handle_t handle;
    u32 cpupool;
    u8 gpaddr_bits;
};

/* Xen's getdomaininfo: flags (blocked only if every online vCPU is,
 * running if any is, the shutdown code in bits 16+ always), cpu_time,
 * nr_online_vcpus, max_vcpu_id and the rest as recorded. */
void dominfo_fill(const struct dominfo *in, struct xen_domctl_getdomaininfo *out);

/* --------------------------------------------------------------- cpupools */

/* The INFO walk: the first pool in the ascending `ids` with id >= want;
 * its index, or -XEN_ENOENT past the last. */
int cpupool_next(const u32 *ids, unsigned int n, u32 want);

/* ------------------------------------------------------ xenctl_bitmap bytes */

/* Bytes a guest bitmap of nr_bits holds. */
static inline u32 ctlbitmap_bytes(u32 nr_bits)
{
    return (u32)(((u64)nr_bits + 7) / 8);
}
/* Our mask of nbits (<= 64) as bytes, little-endian; returns how many of
 * them go to a guest bitmap of nr_bits (the rest of it is zero-filled). */
u32 mask_to_ctlbytes(u64 mask, unsigned int nbits, u32 nr_bits, u8 out[8]);
/* A guest bitmap's first bytes (in_len of them, nr_bits long) as our mask
 * of nbits: bits past nr_bits in its last byte are ignored, as Xen does. */
u64 ctlbytes_to_mask(const u8 *in, u32 in_len, u32 nr_bits, unsigned int nbits);
/* Copying xenctl_bitmaps (hv/common/ctl_bitmap.c, the guest-facing half):
 * read a guest bitmap as our mask of nbits, or write our mask followed by
 * zeros to the end of the guest's bitmap (as Xen); 0 or -XEN_EFAULT. */
struct xenctl_bitmap;
long xenctl_bitmap_read(const struct xenctl_bitmap *b, unsigned int nbits, u64 *mask);
long xenctl_bitmap_write(const struct xenctl_bitmap *b, u64 mask, unsigned int nbits);
/* Bits a CPU bitmap holds: Xen's nr_cpu_ids (highest online CPU + 1). */
unsigned int ctl_cpu_bits(void);
/* How many bytes of a guest bitmap of nr_bits Keel reads for nbits. */
static inline u32 ctlbitmap_read_len(u32 nr_bits, unsigned int nbits)
{
    u32 g = ctlbitmap_bytes(nr_bits), k = (nbits + 7) / 8;
    return g < k ? g : k;
}

/* -------------------------------------------------------------- affinity */

/*
 * setvcpuaffinity on (hard, soft): flags XEN_VCPUAFFINITY_*; new_* the
 * requested masks; online the CPUs the pool has.  0 with the stored masks
 * updated and *out_* what Xen reports back (hard & online, soft & online &
 * hard), or -XEN_EINVAL (no flag, or a hard mask with no online CPU:
 * nothing changed).
 */
int affinity_set(u64 *hard, u64 *soft, u32 flags, u64 new_hard, u64 new_soft, u64 online,
                 u64 *out_hard, u64 *out_soft);
/* setnodeaffinity: 0 (stored; all nodes = automatic), or -XEN_EINVAL when
 * no node of the mask is online. */
int nodeaffinity_set(u64 *stored, u64 requested, u64 online_nodes);

/* ----------------------------------------------------------- scheduler_op */

/*
 * The scheduler id the toolstack sees for a policy's (sched_id(): 0 for
 * round-robin).  Round-robin has no Xen id and libxl refuses to build a
 * domain under a scheduler it does not know, so it keeps credit2's name,
 * with weight, cap and rate limit stored and not acted on.
 */
u32 schedop_ctl_id(unsigned int policy_id);
/* XEN_DOMCTL_scheduler_op, first checks as Xen 4.17 (sched_adjust): the
 * caller's sched_id must be the pool's (ctl_id) and cmd one of the four,
 * else -XEN_EINVAL. */
int schedop_check(const struct xen_domctl_scheduler_op *op, u32 ctl_id);
/* Does policy `id` (a XEN_SCHEDULER_*) take per-vCPU parameters
 * (put/getvcpuinfo)?  credit2 does not: Xen's -XEN_EINVAL before any
 * element is read. */
bool schedop_has_vcpu_params(u32 id);
/* putinfo/getinfo: the domain's parameters of policy `id` between the
 * domctl and Keel's struct sched_params (keel/sched_policy.h). */
struct sched_params;
void schedop_dom_in(u32 id, const struct xen_domctl_scheduler_op *op, struct sched_params *p);
void schedop_dom_out(u32 id, const struct sched_params *p, struct xen_domctl_scheduler_op *op);
/* One element of put/getvcpuinfo: -XEN_EINVAL when its vcpuid is not a
 * vCPU of the domain (>= max_vcpus, or never made: `exists` false), else
 * 0 with *p filled from it (RTDS period, budget, flags). */
int schedop_vcpu_in(u32 id, const struct xen_domctl_schedparam_vcpu *e, unsigned int max_vcpus,
                    bool exists, struct sched_params *p);
/* getvcpuinfo's answer in element e: period and budget, and only the
 * extratime bit of its flags changed (Xen keeps the caller's other bits). */
void schedop_vcpu_out(u32 id, const struct sched_params *p, struct xen_domctl_schedparam_vcpu *e);
/* Elements Xen does before it looks for pending work (then it stops,
 * reporting in nr_vcpus how many it did). */
#define SCHEDOP_VCPUS_UNPREEMPTED 64

/* credit2 getinfo/putinfo on a domain's (weight, cap) with nr_vcpus
 * vCPUs, as Xen 4.17: 0 or -XEN_EINVAL.  (Round-robin's stored values;
 * the credit2 policy has its own, hv/common/sched_credit2.c.) */
int credit2_adjust(u16 *weight, u16 *cap, u32 cmd, struct xen_domctl_sched_credit2 *io,
                   unsigned int nr_vcpus);

/* XEN_SYSCTL_scheduler_op, first checks as Xen 4.17 (sched_adjust_global):
 * -XEN_EINVAL for a cmd other than put/getinfo, -XEN_ESRCH when the pool
 * does not exist, -XEN_EINVAL when sched_id is not the pool's (ctl_id). */
int sysctl_schedop_check(const struct xen_sysctl_scheduler_op *op, bool pool_exists, u32 ctl_id);
/* credit2's rate limit (µs) get/put on a stored value, as Xen's
 * csched2_sys_cntl: a put of 0 or of XEN_SYSCTL_SCHED_RATELIMIT_MIN..MAX
 * is stored (else -XEN_EINVAL, nothing changed); both report the value. */
int credit2_ratelimit_adjust(u32 *stored, u32 cmd, u32 *io);

/* -------------------------------------------------------------- settscinfo */

/* 0 (native TSC: TSC_MODE_DEFAULT, NEVER_EMULATE), -XEN_EOPNOTSUPP
 * (ALWAYS_EMULATE: Keel does not emulate RDTSC), -XEN_EINVAL otherwise. */
int tsc_mode_check(u32 mode);

/* ------------------------------------------------------------- readconsole */

/*
 * Xen's console ring, free-running u32 indices: c (oldest kept byte) and
 * p (next to write).  Where a read starts: c, or `index` when incremental
 * and it lies within (c, p].  After reading up to `end`, a clear moves the
 * oldest kept byte to console_clear_to().
 */
u32 console_read_from(u32 c, u32 p, bool incremental, u32 index);
u32 console_clear_to(u32 end, u32 p, u32 size);

/* ---------------------------------------------------------------- physinfo */

struct host_facts {
    unsigned int nr_cpus, max_cpu_id;
    unsigned int threads_per_core, cores_per_socket;
    u32 cpu_khz;
    u64 total_pages, free_pages, max_mfn;
    u32 hw_cap[8];
};
void physinfo_fill(const struct host_facts *h, struct xen_sysctl_physinfo *pi);

/* Arch hooks (arch_hvm_domctl, sysinfo.c's): keel/arch.h. */
#ifndef KEEL_HOST
struct domain;
/* getdomaininfo of d (domctl.c; sysctl getdomaininfolist uses it too). */
void domain_info(struct domain *d, struct xen_domctl_getdomaininfo *out);
#endif
#endif
