/*
 * CPUID policies as the toolstack exchanges them (sysctl get_cpu_policy,
 * get_cpu_featureset; domctl set/get_cpu_policy): Xen 4.17's serialised
 * form — an array of {leaf, subleaf, a, b, c, d} in a fixed order, plus
 * two MSRs — and its checks, so that libxc's own deserialiser accepts what
 * Keel sends and Keel accepts what libxc sends back.
 *
 * A domain's policy can only narrow what Keel offers: cpu_policy_apply
 * clamps the maximum leaves and ANDs the feature words of Keel's CPUID
 * answer with the policy's, so a toolstack can hide features but never
 * enable one Keel hides.
 *
 * Core logic (hv/common/cpu_policy.c) builds on the host; the policies of
 * the machine come from the arch (hv/arch/x86/pv/cpu_policy.c).
 */
#ifndef KEEL_CPU_POLICY_H
#define KEEL_CPU_POLICY_H
#include <keel/arch.h>
#include <keel/types.h>
#include <xen/xen.h>

struct cpuid_leaf_regs {
    u32 a, b, c, d;
};

#define CP_NR_BASIC 14   /* leaves 0 .. 0xd */
#define CP_NR_CACHE 6    /* leaf 4 subleaves */
#define CP_NR_FEAT 3     /* leaf 7 subleaves */
#define CP_NR_TOPO 2     /* leaf 0xb subleaves */
#define CP_NR_XSTATE 63  /* leaf 0xd subleaves */
#define CP_NR_EXTD 34    /* 0x80000000 .. 0x80000021 */
/* Xen's CPUID_MAX_SERIALISED_LEAVES (120) and MSR_MAX_SERIALISED_ENTRIES. */
#define CP_MAX_LEAVES                                                          \
    (CP_NR_BASIC + CP_NR_FEAT - 1 + CP_NR_CACHE - 1 + CP_NR_TOPO - 1 +         \
     CP_NR_XSTATE - 1 + CP_NR_EXTD + 2)
#define CP_MAX_MSRS 2
/* Xen 4.17's featureset length (FEATURESET_NR_ENTRIES). */
#define CP_FEATURESET_WORDS 19

#define CP_MSR_PLATFORM_INFO 0xce
#define CP_MSR_ARCH_CAPABILITIES 0x10a

struct cpu_policy {
    struct cpuid_leaf_regs basic[CP_NR_BASIC];
    struct cpuid_leaf_regs cache[CP_NR_CACHE];
    struct cpuid_leaf_regs feat[CP_NR_FEAT];
    struct cpuid_leaf_regs topo[CP_NR_TOPO];
    struct cpuid_leaf_regs xstate[CP_NR_XSTATE];
    struct cpuid_leaf_regs extd[CP_NR_EXTD];
    u32 hv_limit, hv2_limit;
    u64 platform_info, arch_caps;
};

/* Into `out` (room for *nr): 0 with *nr set, or -XEN_ENOBUFS. */
int cpu_policy_serialise(const struct cpu_policy *p, xen_cpuid_leaf_t *out, u32 *nr);
/* Merge the leaves in: 0, -XEN_E2BIG (more than CP_MAX_LEAVES) or
 * -XEN_ERANGE with the offending leaf/subleaf (p partly updated). */
int cpu_policy_deserialise(struct cpu_policy *p, const xen_cpuid_leaf_t *in, u32 nr,
                           u32 *err_leaf, u32 *err_subleaf);
int cpu_msrs_serialise(const struct cpu_policy *p, xen_msr_entry_t *out, u32 *nr);
/* 0, -XEN_E2BIG, -XEN_EINVAL (flags set), -XEN_ERANGE (unknown MSR). */
int cpu_msrs_deserialise(struct cpu_policy *p, const xen_msr_entry_t *in, u32 nr,
                         u32 *err_msr);
/* Leaves beyond the maximum ones (and empty subleaf chains) become zero. */
void cpu_policy_clear_out_of_range(struct cpu_policy *p);
/* Xen's x86_cpu_policies_are_compatible: 0, or -XEN_EINVAL with the
 * offending leaf/subleaf/MSR (~0 where not applicable). */
int cpu_policy_compatible(const struct cpu_policy *max, const struct cpu_policy *guest,
                          u32 *err_leaf, u32 *err_subleaf, u32 *err_msr);
/* The featureset words, in Xen's order (see arch-x86/cpufeatureset.h). */
void cpu_policy_featureset(const struct cpu_policy *p, u32 fs[CP_FEATURESET_WORDS]);
/* Narrow Keel's answer r to CPUID (leaf, sub) by the domain's policy. */
void cpu_policy_apply(const struct cpu_policy *p, u32 leaf, u32 sub,
                      struct cpuid_leaf_regs *r);

#ifndef KEEL_HOST
struct domain;
struct xen_domctl_cpu_policy;
/* arch_system_policy: keel/arch.h. */
struct xen_sysctl_cpu_policy;
struct xen_sysctl_cpu_featureset;
/* The hypercall halves (hv/common/cpu_policy_op.c). */
long domctl_set_cpu_policy(struct domain *d, struct xen_domctl_cpu_policy *cp, bool *copyback);
long domctl_get_cpu_policy(struct domain *d, struct xen_domctl_cpu_policy *cp, bool *copyback);
/* sysctl get_cpu_policy / get_cpu_featureset: `arg` is the xen_sysctl
 * the fields are copied back into. */
long sysctl_get_cpu_policy(struct xen_sysctl_cpu_policy *cp, unsigned long arg);
long sysctl_get_cpu_featureset(struct xen_sysctl_cpu_featureset *fs, unsigned long arg);
#endif
#endif
