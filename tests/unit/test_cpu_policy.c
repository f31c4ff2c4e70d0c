/* CPUID policies in Xen 4.17's serialised form (what libxc reads back). */
#include <keel/cpu_policy.h>
#include <xen/errno.h>

#include "harness.h"

#define NO_SUB XEN_CPUID_NO_SUBLEAF

/* A plausible PV policy: basic max 0xd, two cache levels, leaf 7 subleaf
 * 0 only, one topology level, x87+SSE states, extended max 0x80000008. */
static struct cpu_policy sample(void)
{
    struct cpu_policy p;

    memset(&p, 0, sizeof(p));
    p.basic[0] = (struct cpuid_leaf_regs){0xd, 0x756e6547, 0x6c65746e, 0x49656e69};
    p.basic[1] = (struct cpuid_leaf_regs){0x306c3, 0x800, 0x80982203, 0x078bfbff};
    p.cache[0] = (struct cpuid_leaf_regs){0x121, 0x1c0003f, 0x3f, 0};
    p.cache[1] = (struct cpuid_leaf_regs){0x122, 0x1c0003f, 0x3f, 0};
    p.feat[0] = (struct cpuid_leaf_regs){0, 0x209, 0, 0};
    p.topo[0] = (struct cpuid_leaf_regs){1, 1, 0x100, 0};
    p.xstate[0] = (struct cpuid_leaf_regs){3, 0x240, 0x240, 0};
    p.xstate[1] = (struct cpuid_leaf_regs){1, 0, 0, 0};
    p.extd[0] = (struct cpuid_leaf_regs){0x80000008, 0, 0, 0};
    p.extd[1] = (struct cpuid_leaf_regs){0, 0, 0x21, 0x2c100800};
    p.extd[8] = (struct cpuid_leaf_regs){0x3028, 0, 0, 0};
    return p;
}

TEST(max_leaves_is_xens)
{
    CHECK_EQ(CP_MAX_LEAVES, 120);
    CHECK_EQ(CP_MAX_MSRS, 2);
}

TEST(serialise_order)
{
    struct cpu_policy p = sample();
    xen_cpuid_leaf_t out[CP_MAX_LEAVES];
    u32 nr = CP_MAX_LEAVES;

    CHECK_EQ(cpu_policy_serialise(&p, out, &nr), 0);
    /* 0-3, 4.0-4.2 (the empty one ends the chain), 5, 6, 7.0, 8-a,
     * b.0-b.1, c, d.0-d.1, hv, hv2, e0-e8 */
    CHECK_EQ(nr, 4 + 3 + 2 + 1 + 3 + 2 + 1 + 2 + 2 + 9);
    CHECK_EQ(out[0].leaf, 0);
    CHECK_EQ(out[0].subleaf, NO_SUB);
    CHECK_EQ(out[4].leaf, 4);
    CHECK_EQ(out[4].subleaf, 0);
    CHECK_EQ(out[6].subleaf, 2);
    CHECK_EQ(out[6].a, 0); /* the terminating subleaf is sent */
    CHECK_EQ(out[9].leaf, 7);
    CHECK_EQ(out[9].subleaf, 0);
    CHECK_EQ(out[nr - 12].leaf, 0xd);
    CHECK_EQ(out[nr - 11].leaf, 0x40000000);
    CHECK_EQ(out[nr - 10].leaf, 0x40000100);
    CHECK_EQ(out[nr - 9].leaf, 0x80000000);
    CHECK_EQ(out[nr - 1].leaf, 0x80000008);
    nr = 5;
    CHECK_EQ(cpu_policy_serialise(&p, out, &nr), -XEN_ENOBUFS);
}

TEST(round_trip)
{
    struct cpu_policy p = sample(), q;
    xen_cpuid_leaf_t out[CP_MAX_LEAVES];
    u32 nr = CP_MAX_LEAVES, el, es;

    CHECK_EQ(cpu_policy_serialise(&p, out, &nr), 0);
    memset(&q, 0, sizeof(q));
    CHECK_EQ(cpu_policy_deserialise(&q, out, nr, &el, &es), 0);
    CHECK(!memcmp(&p, &q, sizeof(p)));
}

TEST(deserialise_refusals)
{
    struct cpu_policy q;
    xen_cpuid_leaf_t in[CP_MAX_LEAVES + 1];
    u32 el, es;

    memset(&q, 0, sizeof(q));
    memset(in, 0, sizeof(in));
    CHECK_EQ(cpu_policy_deserialise(&q, in, CP_MAX_LEAVES + 1, &el, &es), -XEN_E2BIG);
    in[0] = (xen_cpuid_leaf_t){1, 0, 1, 2, 3, 4}; /* leaf 1 has no subleaves */
    CHECK_EQ(cpu_policy_deserialise(&q, in, 1, &el, &es), -XEN_ERANGE);
    CHECK_EQ(el, 1);
    CHECK_EQ(es, 0);
    in[0] = (xen_cpuid_leaf_t){4, 6, 0, 0, 0, 0}; /* past the cache array */
    CHECK_EQ(cpu_policy_deserialise(&q, in, 1, &el, &es), -XEN_ERANGE);
    in[0] = (xen_cpuid_leaf_t){0xe, NO_SUB, 0, 0, 0, 0};
    CHECK_EQ(cpu_policy_deserialise(&q, in, 1, &el, &es), -XEN_ERANGE);
    in[0] = (xen_cpuid_leaf_t){0x80000022, NO_SUB, 0, 0, 0, 0};
    CHECK_EQ(cpu_policy_deserialise(&q, in, 1, &el, &es), -XEN_ERANGE);
    in[0] = (xen_cpuid_leaf_t){0x40000001, NO_SUB, 0, 0, 0, 0};
    CHECK_EQ(cpu_policy_deserialise(&q, in, 1, &el, &es), -XEN_ERANGE);
    in[0] = (xen_cpuid_leaf_t){0x40000000, NO_SUB, 5, 0, 0, 0};
    CHECK_EQ(cpu_policy_deserialise(&q, in, 1, &el, &es), 0);
    CHECK_EQ(q.hv_limit, 5);
}

TEST(msrs)
{
    struct cpu_policy p = sample();
    xen_msr_entry_t m[3];
    u32 nr = 1, err;

    CHECK_EQ(cpu_msrs_serialise(&p, m, &nr), -XEN_ENOBUFS);
    nr = 3;
    CHECK_EQ(cpu_msrs_serialise(&p, m, &nr), 0);
    CHECK_EQ(nr, 2);
    CHECK_EQ(m[0].idx, 0xce);
    CHECK_EQ(m[1].idx, 0x10a);
    m[0].val = 1;
    CHECK_EQ(cpu_msrs_deserialise(&p, m, 2, &err), 0);
    CHECK_EQ(p.platform_info, 1);
    m[0].flags = 1;
    CHECK_EQ(cpu_msrs_deserialise(&p, m, 2, &err), -XEN_EINVAL);
    CHECK_EQ(err, 0xce);
    m[0] = (xen_msr_entry_t){0x10, 0, 0};
    CHECK_EQ(cpu_msrs_deserialise(&p, m, 1, &err), -XEN_ERANGE);
    CHECK_EQ(cpu_msrs_deserialise(&p, m, 3, &err), -XEN_E2BIG);
}

TEST(compatible)
{
    struct cpu_policy max = sample(), g = sample();
    u32 el, es, em;

    CHECK_EQ(cpu_policy_compatible(&max, &g, &el, &es, &em), 0);
    g.basic[0].a = 0x14;
    CHECK_EQ(cpu_policy_compatible(&max, &g, &el, &es, &em), -XEN_EINVAL);
    CHECK_EQ(el, 0);
    g = sample();
    g.feat[0].a = 1;
    CHECK_EQ(cpu_policy_compatible(&max, &g, &el, &es, &em), -XEN_EINVAL);
    CHECK_EQ(el, 7);
    g = sample();
    g.extd[0].a = 0x80000010;
    CHECK_EQ(cpu_policy_compatible(&max, &g, &el, &es, &em), -XEN_EINVAL);
    CHECK_EQ(el, 0x80000000);
    g = sample();
    g.platform_info = 1;
    CHECK_EQ(cpu_policy_compatible(&max, &g, &el, &es, &em), -XEN_EINVAL);
    CHECK_EQ(em, 0xce);
}

TEST(clear_out_of_range)
{
    struct cpu_policy p = sample();

    p.basic[0].a = 6;
    p.extd[0].a = 0x80000001;
    p.cache[3].a = 0x55; /* after the terminating subleaf */
    cpu_policy_clear_out_of_range(&p);
    CHECK_EQ(p.feat[0].b, 0);    /* leaf 7 is beyond max 6 */
    CHECK_EQ(p.xstate[0].a, 0);
    CHECK_EQ(p.topo[0].c, 0);
    CHECK_EQ(p.cache[0].a, 0x121);
    CHECK_EQ(p.cache[3].a, 0);
    CHECK_EQ(p.extd[8].a, 0);
    CHECK_EQ(p.extd[1].d, 0x2c100800);
}

TEST(featureset_words)
{
    struct cpu_policy p = sample();
    u32 fs[CP_FEATURESET_WORDS];

    p.feat[0].d = 0x400;
    p.arch_caps = 0x1122334455667788ULL;
    cpu_policy_featureset(&p, fs);
    CHECK_EQ(fs[0], 0x078bfbff); /* 1.edx */
    CHECK_EQ(fs[1], 0x80982203); /* 1.ecx */
    CHECK_EQ(fs[2], 0x2c100800); /* e1.edx */
    CHECK_EQ(fs[3], 0x21);       /* e1.ecx */
    CHECK_EQ(fs[4], 1);          /* 0xd.1.eax */
    CHECK_EQ(fs[5], 0x209);      /* 7.0.ebx */
    CHECK_EQ(fs[9], 0x400);      /* 7.0.edx */
    CHECK_EQ(fs[16], 0x55667788);
    CHECK_EQ(fs[17], 0x11223344);
}

TEST(apply_only_narrows)
{
    struct cpu_policy p = sample();
    struct cpuid_leaf_regs r;

    p.basic[1].c &= ~(1U << 0); /* the toolstack hides SSE3 */
    r = (struct cpuid_leaf_regs){0x306c3, 0x800, 0x80982203, 0x078bfbff};
    cpu_policy_apply(&p, 1, 0, &r);
    CHECK_EQ(r.c, 0x80982202);
    CHECK_EQ(r.a, 0x306c3); /* not a feature word: Keel's */
    /* A bit Keel does not offer stays off whatever the policy says. */
    r = (struct cpuid_leaf_regs){0, 0, 0, 0};
    p.basic[1].d = ~0U;
    cpu_policy_apply(&p, 1, 0, &r);
    CHECK_EQ(r.d, 0);
    /* Max leaves are clamped; leaves beyond them read as zero. */
    r = (struct cpuid_leaf_regs){0x16, 1, 2, 3};
    cpu_policy_apply(&p, 0, 0, &r);
    CHECK_EQ(r.a, 0xd);
    r = (struct cpuid_leaf_regs){9, 9, 9, 9};
    cpu_policy_apply(&p, 0x14, 0, &r);
    CHECK_EQ(r.a | r.b | r.c | r.d, 0);
    r = (struct cpuid_leaf_regs){9, 9, 9, 9};
    cpu_policy_apply(&p, 0x80000009, 0, &r);
    CHECK_EQ(r.a | r.b | r.c | r.d, 0);
    r = (struct cpuid_leaf_regs){0x40000005, 1, 2, 3}; /* hypervisor leaves: Keel's */
    cpu_policy_apply(&p, 0x40000000, 0, &r);
    CHECK_EQ(r.a, 0x40000005);
}
