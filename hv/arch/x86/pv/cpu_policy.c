#define __XEN_TOOLS__ 1 /* sysctl.h: the policy indices */
/*
 * The machine's CPUID policies for the toolstack: raw (the CPU's own
 * answers) and host (the same: Keel hides nothing from itself), and the PV
 * ones — default and max alike — which are exactly what a PV guest's CPUID
 * returns on Keel (pv_cpuid), bounded to the leaves the serialised form can
 * carry.  Built once, on first use.
 */
#include <asm/cpu.h>
#include <asm/hvm.h>
#include <asm/pv.h>
#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/spinlock.h>
#include <xen/sysctl.h>

typedef void (*cpuid_fn)(u32 leaf, u32 sub, struct cpuid_leaf_regs *r);

static void raw_cpuid(u32 leaf, u32 sub, struct cpuid_leaf_regs *r)
{
    struct cpuid_regs c = cpuid_count(leaf, sub);

    *r = (struct cpuid_leaf_regs){c.eax, c.ebx, c.ecx, c.edx};
}

static void guest_cpuid(u32 leaf, u32 sub, struct cpuid_leaf_regs *r)
{
    struct cpuid_regs c;

    pv_cpuid(leaf, sub, &c);
    *r = (struct cpuid_leaf_regs){c.eax, c.ebx, c.ecx, c.edx};
}

static void hvm_guest_cpuid(u32 leaf, u32 sub, struct cpuid_leaf_regs *r)
{
    struct cpuid_regs c;

    hvm_cpuid_base(NULL, leaf, sub, &c);
    *r = (struct cpuid_leaf_regs){c.eax, c.ebx, c.ecx, c.edx};
}

static void fill_subleaves(struct cpu_policy *p, u32 leaf, cpuid_fn q)
{
    switch (leaf) {
    case 4:
        for (u32 i = 0; i < CP_NR_CACHE; i++) {
            q(4, i, &p->cache[i]);
            if (!(p->cache[i].a & 0x1f))
                break;
        }
        break;
    case 7:
        q(7, 0, &p->feat[0]);
        for (u32 i = 1; i <= p->feat[0].a && i < CP_NR_FEAT; i++)
            q(7, i, &p->feat[i]);
        break;
    case 0xb:
        for (u32 i = 0; i < CP_NR_TOPO; i++) {
            q(0xb, i, &p->topo[i]);
            if (!((p->topo[i].c >> 8) & 0xff))
                break;
        }
        break;
    default: /* 0xd */
        for (u32 i = 0; i < CP_NR_XSTATE; i++)
            q(0xd, i, &p->xstate[i]);
        break;
    }
}

static void fill(struct cpu_policy *p, cpuid_fn q, bool bound)
{
    u32 max, emax;

    memset(p, 0, sizeof(*p));
    q(0, 0, &p->basic[0]);
    max = MIN(p->basic[0].a, (u32)CP_NR_BASIC - 1);
    for (u32 l = 1; l <= max; l++) {
        if (l == 4 || l == 7 || l == 0xb || l == 0xd)
            fill_subleaves(p, l, q);
        else
            q(l, 0, &p->basic[l]);
    }
    q(0x80000000, 0, &p->extd[0]);
    emax = p->extd[0].a >= 0x80000000U ? MIN(p->extd[0].a & 0xffff, (u32)CP_NR_EXTD - 1) : 0;
    if (p->extd[0].a < 0x80000000U)
        p->extd[0] = (struct cpuid_leaf_regs){0, 0, 0, 0};
    for (u32 l = 1; l <= emax; l++)
        q(0x80000000U | l, 0, &p->extd[l]);
    if (bound) {
        /* A guest's policy names no leaf it cannot carry. */
        p->basic[0].a = max;
        if (p->extd[0].a)
            p->extd[0].a = 0x80000000U | emax;
        p->feat[0].a = MIN(p->feat[0].a, (u32)CP_NR_FEAT - 1);
    }
    cpu_policy_clear_out_of_range(p);
}

static struct cpu_policy raw, pv, hvm;

const struct cpu_policy *arch_system_policy(u32 index)
{
    static bool built;
    static spinlock_t lock = SPINLOCK_INIT;

    spin_lock(&lock);
    if (!built) {
        fill(&raw, raw_cpuid, false);
        fill(&pv, guest_cpuid, true);
        if (hvm_available())
            fill(&hvm, hvm_guest_cpuid, true);
        built = true;
    }
    spin_unlock(&lock);
    switch (index) {
    case XEN_SYSCTL_cpu_policy_raw:
    case XEN_SYSCTL_cpu_policy_host:
        return &raw;
    case XEN_SYSCTL_cpu_policy_pv_max:
    case XEN_SYSCTL_cpu_policy_pv_default:
        return &pv;
    case XEN_SYSCTL_cpu_policy_hvm_max:
    case XEN_SYSCTL_cpu_policy_hvm_default:
        return hvm_available() ? &hvm : NULL;
    default:
        return NULL;
    }
}
