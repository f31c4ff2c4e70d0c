/*
 * CPUID policies (see keel/cpu_policy.h): the serialised order is Xen's —
 * basic leaves 0 .. max (leaf 4 until an empty cache subleaf, leaf 7 up to
 * its max subleaf, leaf 0xb until an empty level, leaf 0xd subleaves 0, 1
 * and one per enabled state component), the two hypervisor-range limits,
 * then extended leaves 0x80000000 .. max; each leaf without subleaves
 * carries XEN_CPUID_NO_SUBLEAF.
 */
#include <keel/cpu_policy.h>
#include <xen/errno.h>

#define NO_SUB XEN_CPUID_NO_SUBLEAF
#define EXTD_BASE 0x80000000U

static u32 basic_max(const struct cpu_policy *p) { return p->basic[0].a; }
static u32 feat_max(const struct cpu_policy *p) { return p->feat[0].a; }
static u32 extd_max(const struct cpu_policy *p) { return p->extd[0].a; }
static u32 cache_type(const struct cpuid_leaf_regs *l) { return l->a & 0x1f; }
static u32 topo_type(const struct cpuid_leaf_regs *l) { return (l->c >> 8) & 0xff; }

/* XCR0 and XSS components the policy enables (leaf 0xd, subleaves 0, 1). */
static u64 xstates(const struct cpu_policy *p)
{
    return ((u64)p->xstate[0].d << 32 | p->xstate[0].a) |
           ((u64)p->xstate[1].d << 32 | p->xstate[1].c);
}

struct sink {
    xen_cpuid_leaf_t *out;
    u32 n, room;
};

static int put(struct sink *s, u32 leaf, u32 sub, const struct cpuid_leaf_regs *r)
{
    if (s->n == s->room)
        return -XEN_ENOBUFS;
    s->out[s->n++] = (xen_cpuid_leaf_t){leaf, sub, r->a, r->b, r->c, r->d};
    return 0;
}

static int put_subleaves(struct sink *s, const struct cpu_policy *p, u32 leaf)
{
    int rc = 0;

    switch (leaf) {
    case 4:
        for (u32 i = 0; i < CP_NR_CACHE && !rc; i++) {
            rc = put(s, leaf, i, &p->cache[i]);
            if (!cache_type(&p->cache[i]))
                break;
        }
        return rc;
    case 7:
        for (u32 i = 0; i <= feat_max(p) && i < CP_NR_FEAT && !rc; i++)
            rc = put(s, leaf, i, &p->feat[i]);
        return rc;
    case 0xb:
        for (u32 i = 0; i < CP_NR_TOPO && !rc; i++) {
            rc = put(s, leaf, i, &p->topo[i]);
            if (!topo_type(&p->topo[i]))
                break;
        }
        return rc;
    default: { /* 0xd */
        u64 x = xstates(p) >> 2;
        rc = put(s, leaf, 0, &p->xstate[0]);
        if (!rc)
            rc = put(s, leaf, 1, &p->xstate[1]);
        for (u32 i = 2; x && i < CP_NR_XSTATE && !rc; x >>= 1, i++)
            rc = put(s, leaf, i, &p->xstate[i]);
        return rc;
    }
    }
}

int cpu_policy_serialise(const struct cpu_policy *p, xen_cpuid_leaf_t *out, u32 *nr)
{
    struct sink s = {out, 0, *nr};
    struct cpuid_leaf_regs hv = {p->hv_limit, 0, 0, 0}, hv2 = {p->hv2_limit, 0, 0, 0};
    int rc = 0;

    for (u32 l = 0; l <= basic_max(p) && l < CP_NR_BASIC && !rc; l++)
        rc = (l == 4 || l == 7 || l == 0xb || l == 0xd) ? put_subleaves(&s, p, l)
                                                         : put(&s, l, NO_SUB, &p->basic[l]);
    if (!rc)
        rc = put(&s, 0x40000000, NO_SUB, &hv);
    if (!rc)
        rc = put(&s, 0x40000100, NO_SUB, &hv2);
    for (u32 l = 0; l <= (extd_max(p) & 0xffff) && l < CP_NR_EXTD && !rc; l++)
        rc = put(&s, EXTD_BASE | l, NO_SUB, &p->extd[l]);
    if (!rc)
        *nr = s.n;
    return rc;
}

/* Where (leaf, subleaf) lives in p, or NULL when Xen would say -ERANGE. */
static struct cpuid_leaf_regs *slot(struct cpu_policy *p, u32 leaf, u32 sub)
{
    struct cpuid_leaf_regs *arr;
    u32 n;

    if (leaf < CP_NR_BASIC) {
        switch (leaf) {
        case 4: arr = p->cache; n = CP_NR_CACHE; break;
        case 7: arr = p->feat; n = CP_NR_FEAT; break;
        case 0xb: arr = p->topo; n = CP_NR_TOPO; break;
        case 0xd: arr = p->xstate; n = CP_NR_XSTATE; break;
        default:
            return sub == NO_SUB ? &p->basic[leaf] : NULL;
        }
        return sub < n ? &arr[sub] : NULL;
    }
    if (leaf >= EXTD_BASE && leaf - EXTD_BASE < CP_NR_EXTD)
        return sub == NO_SUB ? &p->extd[leaf - EXTD_BASE] : NULL;
    return NULL;
}

int cpu_policy_deserialise(struct cpu_policy *p, const xen_cpuid_leaf_t *in, u32 nr,
                           u32 *err_leaf, u32 *err_subleaf)
{
    *err_leaf = *err_subleaf = ~0U;
    if (nr > CP_MAX_LEAVES)
        return -XEN_E2BIG;
    for (u32 i = 0; i < nr; i++) {
        const xen_cpuid_leaf_t *l = &in[i];
        struct cpuid_leaf_regs *r;

        if ((l->leaf == 0x40000000 || l->leaf == 0x40000100) && l->subleaf == NO_SUB) {
            *(l->leaf == 0x40000000 ? &p->hv_limit : &p->hv2_limit) = l->a;
            continue;
        }
        r = slot(p, l->leaf, l->subleaf);
        if (!r) {
            *err_leaf = l->leaf;
            *err_subleaf = l->subleaf;
            return -XEN_ERANGE;
        }
        *r = (struct cpuid_leaf_regs){l->a, l->b, l->c, l->d};
    }
    return 0;
}

int cpu_msrs_serialise(const struct cpu_policy *p, xen_msr_entry_t *out, u32 *nr)
{
    if (*nr < CP_MAX_MSRS)
        return -XEN_ENOBUFS;
    out[0] = (xen_msr_entry_t){CP_MSR_PLATFORM_INFO, 0, p->platform_info};
    out[1] = (xen_msr_entry_t){CP_MSR_ARCH_CAPABILITIES, 0, p->arch_caps};
    *nr = CP_MAX_MSRS;
    return 0;
}

int cpu_msrs_deserialise(struct cpu_policy *p, const xen_msr_entry_t *in, u32 nr,
                         u32 *err_msr)
{
    *err_msr = ~0U;
    if (nr > CP_MAX_MSRS)
        return -XEN_E2BIG;
    for (u32 i = 0; i < nr; i++) {
        int rc = 0;

        if (in[i].flags)
            rc = -XEN_EINVAL;
        else if (in[i].idx == CP_MSR_PLATFORM_INFO)
            p->platform_info = in[i].val;
        else if (in[i].idx == CP_MSR_ARCH_CAPABILITIES)
            p->arch_caps = in[i].val;
        else
            rc = -XEN_ERANGE;
        if (rc) {
            *err_msr = in[i].idx;
            return rc;
        }
    }
    return 0;
}

static void zero_from(struct cpuid_leaf_regs *arr, u32 first, u32 n)
{
    for (u32 i = first; i < n; i++)
        arr[i] = (struct cpuid_leaf_regs){0, 0, 0, 0};
}

void cpu_policy_clear_out_of_range(struct cpu_policy *p)
{
    u32 i;

    zero_from(p->basic, basic_max(p) + 1 < CP_NR_BASIC ? basic_max(p) + 1 : CP_NR_BASIC,
              CP_NR_BASIC);
    if (basic_max(p) < 4) {
        zero_from(p->cache, 0, CP_NR_CACHE);
    } else {
        for (i = 0; i < CP_NR_CACHE && cache_type(&p->cache[i]); i++)
            ;
        zero_from(p->cache, i, CP_NR_CACHE);
    }
    zero_from(p->feat, basic_max(p) < 7 ? 0 : MIN(feat_max(p) + 1, (u32)CP_NR_FEAT),
              CP_NR_FEAT);
    if (basic_max(p) < 0xb) {
        zero_from(p->topo, 0, CP_NR_TOPO);
    } else {
        for (i = 0; i < CP_NR_TOPO && topo_type(&p->topo[i]); i++)
            ;
        zero_from(p->topo, i, CP_NR_TOPO);
    }
    if (basic_max(p) < 0xd || !xstates(p)) {
        zero_from(p->xstate, 0, CP_NR_XSTATE);
    } else {
        u32 keep = 64 - (u32)__builtin_clzll(xstates(p));
        zero_from(p->xstate, MIN(MAX(keep, 2U), (u32)CP_NR_XSTATE), CP_NR_XSTATE);
    }
    zero_from(p->extd, MIN((extd_max(p) & 0xffff) + 1, (u32)CP_NR_EXTD), CP_NR_EXTD);
}

int cpu_policy_compatible(const struct cpu_policy *max, const struct cpu_policy *guest,
                          u32 *err_leaf, u32 *err_subleaf, u32 *err_msr)
{
    *err_leaf = *err_subleaf = *err_msr = ~0U;
    if (basic_max(guest) > basic_max(max)) {
        *err_leaf = 0;
        *err_subleaf = NO_SUB;
    } else if (feat_max(guest) > feat_max(max)) {
        *err_leaf = 7;
        *err_subleaf = 0;
    } else if (extd_max(guest) > extd_max(max)) {
        *err_leaf = EXTD_BASE;
        *err_subleaf = NO_SUB;
    } else if (guest->platform_info & ~max->platform_info) {
        *err_msr = CP_MSR_PLATFORM_INFO;
    } else {
        return 0;
    }
    return -XEN_EINVAL;
}

/* Where each featureset word comes from (arch-x86/cpufeatureset.h). */
struct fs_word {
    u32 leaf, sub; /* sub: NO_SUB for leaves without subleaves */
    u8 reg;        /* 0..3: a, b, c, d; 4, 5: MSR ARCH_CAPS low, high */
};
static const struct fs_word fs_words[CP_FEATURESET_WORDS] = {
    {1, NO_SUB, 3},          {1, NO_SUB, 2},          {0x80000001, NO_SUB, 3},
    {0x80000001, NO_SUB, 2}, {0xd, 1, 0},             {7, 0, 1},
    {7, 0, 2},               {0x80000007, NO_SUB, 3}, {0x80000008, NO_SUB, 1},
    {7, 0, 3},               {7, 1, 0},               {0x80000021, NO_SUB, 0},
    {7, 1, 1},               {7, 2, 3},               {7, 1, 2},
    {7, 1, 3},               {0, 0, 4},               {0, 0, 5},
    {0x80000021, NO_SUB, 2},
};

static u32 reg_of(const struct cpuid_leaf_regs *r, u8 reg)
{
    return reg == 0 ? r->a : reg == 1 ? r->b : reg == 2 ? r->c : r->d;
}

static u32 *reg_ptr(struct cpuid_leaf_regs *r, u8 reg)
{
    return reg == 0 ? &r->a : reg == 1 ? &r->b : reg == 2 ? &r->c : &r->d;
}

void cpu_policy_featureset(const struct cpu_policy *p, u32 fs[CP_FEATURESET_WORDS])
{
    for (u32 i = 0; i < CP_FEATURESET_WORDS; i++) {
        const struct fs_word *w = &fs_words[i];
        const struct cpuid_leaf_regs *r;

        if (w->reg >= 4) {
            fs[i] = (u32)(w->reg == 4 ? p->arch_caps : p->arch_caps >> 32);
            continue;
        }
        r = slot((struct cpu_policy *)p, w->leaf, w->sub);
        fs[i] = r ? reg_of(r, w->reg) : 0;
    }
}

void cpu_policy_apply(const struct cpu_policy *p, u32 leaf, u32 sub, struct cpuid_leaf_regs *r)
{
    bool basic = leaf < EXTD_BASE && (leaf >> 16) != 0x4000;
    bool extd = leaf >= EXTD_BASE;

    /* Leaves the policy puts out of range read as zero, as on Xen. */
    if ((basic && leaf > basic_max(p)) || (extd && leaf > extd_max(p))) {
        *r = (struct cpuid_leaf_regs){0, 0, 0, 0};
        return;
    }
    if (leaf == 0)
        r->a = MIN(r->a, basic_max(p));
    if (leaf == EXTD_BASE)
        r->a = MIN(r->a, extd_max(p));
    if (leaf == 7 && sub == 0)
        r->a = MIN(r->a, feat_max(p));
    for (u32 i = 0; i < CP_FEATURESET_WORDS; i++) {
        const struct fs_word *w = &fs_words[i];
        const struct cpuid_leaf_regs *src;

        if (w->reg >= 4 || w->leaf != leaf || (w->sub != NO_SUB && w->sub != sub))
            continue;
        src = slot((struct cpu_policy *)p, w->leaf, w->sub);
        if (src)
            *reg_ptr(r, w->reg) &= reg_of(src, w->reg);
    }
}
