/*
 * What an HVM guest's exits do: CPUID (Xen's leaves and the domain's
 * policy), MSRs (a short allow list, #GP for the rest), port I/O (no
 * device is emulated for PVH: reads give all-ones, writes vanish), HLT,
 * nested page faults (absent memory reads all-ones as on Xen, whose null
 * I/O handler answers them), triple faults and the instructions a guest
 * is refused.  Every value the guest controls is checked here before use.
 */
#include <asm/cpu.h>
#include <asm/hvm.h>
#include <asm/pv.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/guest_walk.h>
#include <keel/hvm_mmio.h>
#include <keel/sched.h>
#include <keel/version.h>
#include <keel/x86_decode.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/hvm/params.h>
#include <xen/sched.h>

#include "hvm_internal.h"

void hvm_skip(struct regs *r, const struct hvm_exit *x, unsigned int len)
{
    r->rip = x->next_rip ? x->next_rip : r->rip + len;
}

HVM_EXIT_HANDLER(hvm_exit_none)
{
    (void)v;
    if (x->info1)
        hvm_skip(r, x, 2); /* invd / wbinvd */
}

HVM_EXIT_HANDLER(hvm_exit_ud)
{
    (void)r;
    printk(KLOG_DEBUG "d%uv%u: exit %#lx: #UD\n", v->domain->domid, v->vcpu_id,
           (unsigned long)x->raw);
    hvm_inject_exception(v, TRAP_UD, false, 0);
}

HVM_EXIT_HANDLER(hvm_exit_gp)
{
    (void)r;
    (void)x;
    hvm_inject_exception(v, TRAP_GP, true, 0);
}

HVM_EXIT_HANDLER(hvm_exit_invalid)
{
    (void)r;
    (void)x;
    domain_crash(v->domain, "the CPU refused the vCPU's state (VMEXIT_INVALID)");
}

HVM_EXIT_HANDLER(hvm_exit_unhandled)
{
    printk(KLOG_ERR "d%uv%u: unhandled exit %#lx at rip %016lx\n", v->domain->domid,
           v->vcpu_id, (unsigned long)x->raw, r->rip);
    domain_crash(v->domain, "unhandled HVM exit");
}

/* A triple fault: the guest's own shutdown action (reboot unless the
 * toolstack said otherwise), for this domain only. */
HVM_EXIT_HANDLER(hvm_exit_shutdown)
{
    unsigned int reason = (unsigned int)v->domain->arch.hvm->params[HVM_PARAM_TRIPLE_FAULT_REASON];

    (void)x;
    printk(KLOG_WARN "d%uv%u: triple fault at rip %016lx: shutdown (%u)\n",
           v->domain->domid, v->vcpu_id, r->rip, reason);
    domain_shutdown(v->domain, reason);
}

/* --------------------------------------------------------------- CPUID */

#define XEN_LEAVES XEN_CPUID_MAX_NUM_LEAVES
/* Leaf 1 ECX: hidden from HVM guests (monitor, VMX, SMX, EST, TM2,
 * SDBG, PCID, DCA, TSC-deadline (the vLAPIC has no deadline mode), XSAVE
 * and OSXSAVE (XCR0 is not switched), AVX, RDRAND kept). */
#define H1_ECX_HIDE ((1U << 3) | (1U << 5) | (1U << 6) | (1U << 7) | (1U << 8) |   \
                     (1U << 11) | (1U << 17) | (1U << 18) |                        \
                     (1U << 24) | (1U << 26) | (1U << 27) | (1U << 28))
/* Leaf 1 EDX: ACPI/thermal, PBE, TM, MCE/MCA (no machine checks), MTRR
 * (not modelled), DS. */
#define H1_EDX_HIDE ((1U << 7) | (1U << 12) | (1U << 14) | (1U << 21) | (1U << 22) | \
                     (1U << 29) | (1U << 31))
#define H1_ECX_HYPERVISOR (1U << 31)
#define H7_EBX_KEEP ((1U << 3) | (1U << 8) | (1U << 9) | (1U << 19) | (1U << 23) | \
                     (1U << 29))
/* 0x80000001 ECX: SVM, extended APIC, IBS, SKINIT, WDT, topology ext;
 * EDX: MTRR, MCE/MCA, RDTSCP. */
#define HE1_ECX_HIDE ((1U << 2) | (1U << 3) | (1U << 10) | (1U << 12) | (1U << 13) | \
                      (1U << 22))
#define HE1_EDX_HIDE ((1U << 7) | (1U << 12) | (1U << 14) | (1U << 27))

static void xen_leaves(struct vcpu *v, u32 idx, struct cpuid_regs *c)
{
    *c = (struct cpuid_regs){0, 0, 0, 0};
    switch (idx) {
    case 0:
        c->eax = XEN_CPUID_FIRST_LEAF + XEN_LEAVES;
        c->ebx = XEN_CPUID_SIGNATURE_EBX;
        c->ecx = XEN_CPUID_SIGNATURE_ECX;
        c->edx = XEN_CPUID_SIGNATURE_EDX;
        break;
    case 1:
        c->eax = (KEEL_XEN_MAJOR << 16) | KEEL_XEN_MINOR;
        break;
    case 2:
        c->eax = 1;                    /* one hypercall page */
        c->ebx = XEN_CPUID_FIRST_LEAF; /* the MSR that places it */
        break;
    case 4:
        /* Per-vCPU upcall vectors (HVMOP_set_evtchn_upcall_vector): Linux
         * takes them when offered, as it does on Xen 4.17. */
        c->eax = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT |
                 XEN_HVM_CPUID_UPCALL_VECTOR;
        c->ebx = v->vcpu_id;
        c->ecx = v->domain->domid;
        break;
    default:
        break; /* 3: TSC (native), 5: PV features: nothing offered */
    }
}

/* What an HVM vCPU's CPUID answers before the domain's own policy
 * narrows it; v NULL: the machine's HVM policy (vCPU 0, no domain). */
void hvm_cpuid_base(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *c)
{
    unsigned int vcpu_id = v ? v->vcpu_id : 0;

    if ((leaf & 0xffff0000U) == XEN_CPUID_FIRST_LEAF) {
        if (leaf <= XEN_CPUID_FIRST_LEAF + XEN_LEAVES && v)
            xen_leaves(v, leaf - XEN_CPUID_FIRST_LEAF, c);
        else
            *c = (struct cpuid_regs){0, 0, 0, 0};
        return;
    }
    *c = cpuid_count(leaf, sub);
    switch (leaf) {
    case 1:
        /* x2APIC is the vLAPIC's, whatever the CPU has (as on Xen). */
        c->ecx = (c->ecx & ~H1_ECX_HIDE) | H1_ECX_HYPERVISOR | (1U << 21);
        c->edx &= ~H1_EDX_HIDE;
        /* APIC id = 2 * vCPU id, as Xen gives HVM vCPUs; one logical CPU. */
        c->ebx = (c->ebx & 0x0000ffffU) | ((u32)(vcpu_id * 2) << 24) | (1U << 16);
        c->edx &= ~(1U << 28); /* HTT */
        break;
    case 5:
    case 6:
    case 0xd:
        *c = (struct cpuid_regs){0, 0, 0, 0};
        break;
    case 7:
        if (sub == 0) {
            c->eax = 0;
            c->ebx &= H7_EBX_KEEP;
        } else {
            c->ebx = 0;
        }
        c->ecx = c->edx = 0;
        break;
    case 0xb:
        *c = (struct cpuid_regs){0, 0, 0, vcpu_id * 2};
        break;
    case 0x80000001:
        c->ecx &= ~HE1_ECX_HIDE;
        c->edx &= ~HE1_EDX_HIDE;
        break;
    case 0x8000000a: /* SVM: no nested virtualisation */
        *c = (struct cpuid_regs){0, 0, 0, 0};
        break;
    default:
        break;
    }
}

static void hvm_cpuid(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *c)
{
    hvm_cpuid_base(v, leaf, sub, c);
    if ((leaf & 0xffff0000U) == XEN_CPUID_FIRST_LEAF)
        return; /* Keel's own leaves are not the policy's */
    if (v->domain->arch.cpuid) {
        struct cpuid_leaf_regs l = {c->eax, c->ebx, c->ecx, c->edx};
        cpu_policy_apply(v->domain->arch.cpuid, leaf, sub, &l);
        *c = (struct cpuid_regs){l.a, l.b, l.c, l.d};
    }
}

HVM_EXIT_HANDLER(hvm_exit_cpuid)
{
    struct cpuid_regs c;

    hvm_cpuid(v, (u32)r->rax, (u32)r->rcx, &c);
    r->rax = c.eax;
    r->rbx = c.ebx;
    r->rcx = c.ecx;
    r->rdx = c.edx;
    hvm_skip(r, x, 2);
}

/* ---------------------------------------------------------------- MSRs */

#define MSR_TSC 0x10
#define MSR_PAT 0x277
#define MSR_HYPERCALL_PAGE 0x40000000U
#define MSR_MISC_ENABLE 0x1a0
#define MSR_AMD_PATCHLEVEL 0x8b
#define MSR_K8_HWCR 0xc0010015
#define MSR_AMD64_DE_CFG 0xc0011029
#define EFER_LMA (1UL << 10)
#define EFER_SVME_BIT (1UL << 12)

static bool msr_read(struct vcpu *v, u32 msr, u64 *val)
{
    struct hvm_cpu_state s;

    switch (msr) {
    case MSR_EFER:
        hvm_backend->get_state(v, &s);
        *val = s.efer;
        return true;
    case MSR_APIC_BASE:
        return hvm_vlapic_msr_read(v, msr, val);
    case MSR_TSC:
        *val = rdtsc();
        return true;
    case MSR_PAT:
        hvm_backend->get_state(v, &s);
        *val = s.pat;
        return true;
    case MSR_AMD_PATCHLEVEL:
    case MSR_K8_HWCR:
        /* Read unconditionally by Linux on AMD: no microcode revision, no
         * hardware configuration to show (Xen answers these too). */
        *val = 0;
        return true;
    case MSR_AMD64_DE_CFG:
        *val = 1ULL << 1; /* LFENCE is dispatch-serialising, as Xen says */
        return true;
    default:
        if (msr >= 0x800 && msr <= 0x8ff)
            return hvm_vlapic_msr_read(v, msr, val);
        return false; /* everything else: #GP, as an absent MSR would */
    }
}

/* A PAT value with only the memory types that exist (0, 1, 4, 5, 6, 7). */
static bool pat_valid(u64 pat)
{
    for (unsigned int i = 0; i < 8; i++) {
        u8 t = (pat >> (i * 8)) & 0xff;
        if (t > 7 || t == 2 || t == 3)
            return false;
    }
    return true;
}

static bool msr_write(struct vcpu *v, u32 msr, u64 val)
{
    struct hvm_cpu_state s;

    switch (msr) {
    case MSR_EFER:
        /* Only SCE, LME and NXE; LMA is the CPU's; LME may not change
         * while paging is on. */
        hvm_backend->get_state(v, &s);
        if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
            return false;
        if (((val ^ s.efer) & EFER_LME) && (s.cr0 & X86_CR0_PG))
            return false;
        hvm_backend->set_efer(v, (val & ~EFER_LMA) | (s.efer & EFER_LMA));
        return true;
    case MSR_PAT:
        if (!pat_valid(val))
            return false;
        hvm_backend->set_pat(v, val);
        return true;
    case MSR_APIC_BASE:
        return hvm_vlapic_msr_write(v, msr, val);
    case MSR_HYPERCALL_PAGE:
        return hvm_write_hypercall_page(v, val) == 0;
    default:
        if (msr >= 0x800 && msr <= 0x8ff)
            return hvm_vlapic_msr_write(v, msr, val);
        return false;
    }
}

HVM_EXIT_HANDLER(hvm_exit_msr_read)
{
    u64 val;

    if (!msr_read(v, (u32)r->rcx, &val)) {
        printk(KLOG_DEBUG "d%uv%u: rdmsr %#x: #GP\n", v->domain->domid, v->vcpu_id,
               (u32)r->rcx);
        hvm_inject_exception(v, TRAP_GP, true, 0);
        return;
    }
    r->rax = (u32)val;
    r->rdx = val >> 32;
    hvm_skip(r, x, 2);
}

HVM_EXIT_HANDLER(hvm_exit_msr_write)
{
    u64 val = ((r->rdx & 0xffffffffULL) << 32) | (r->rax & 0xffffffffULL);

    if (!msr_write(v, (u32)r->rcx, val)) {
        printk(KLOG_DEBUG "d%uv%u: wrmsr %#x <- %#lx: #GP\n", v->domain->domid, v->vcpu_id,
               (u32)r->rcx, (unsigned long)val);
        hvm_inject_exception(v, TRAP_GP, true, 0);
        return;
    }
    hvm_skip(r, x, 2);
}

/* ------------------------------------------------------------ port I/O */

HVM_EXIT_HANDLER(hvm_exit_io)
{
    unsigned int size = x->info2 & 0xff;
    u64 mask = size == 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;

    (void)v;
    if (x->info2 & HVM_IO_STRING) {
        /* No device: a string OUT vanishes, a string IN is refused. */
        if (x->info2 & HVM_IO_IN) {
            hvm_inject_exception(v, TRAP_GP, true, 0);
            return;
        }
        if (x->info2 & HVM_IO_REP) {
            u64 n = r->rcx;
            r->rsi += (r->rflags & X86_EFLAGS_DF) ? -(n * size) : n * size;
            r->rcx = 0;
        } else {
            r->rsi += (r->rflags & X86_EFLAGS_DF) ? -(u64)size : size;
        }
    } else if (x->info2 & HVM_IO_IN) {
        /* All-ones, merged into AL/AX or zero-extended into EAX. */
        r->rax = size == 4 ? mask : (r->rax & ~mask) | mask;
    }
    hvm_skip(r, x, 1);
}

/* ----------------------------------------------------------------- HLT */

/* As on Xen: HLT with interrupts off is the vCPU going away for good; when
 * the last one goes, the domain powers off. */
static void vcpu_down(struct vcpu *v)
{
    struct domain *d = v->domain;
    unsigned int online = 0;

    __atomic_or_fetch(&v->pause_flags, 1UL << VPF_down, __ATOMIC_SEQ_CST);
    vcpu_sleep(v);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i] && !(READ_ONCE(d->vcpus[i]->pause_flags) & (1UL << VPF_down)))
            online++;
    if (!online) {
        printk("d%u: all vCPUs halted with interrupts off: power off\n", d->domid);
        domain_shutdown(d, SHUTDOWN_poweroff);
    }
}

HVM_EXIT_HANDLER(hvm_exit_hlt)
{
    hvm_skip(r, x, 1);
    if (hvm_backend->event_pending(v))
        return;
    if (!(r->rflags & X86_EFLAGS_IF)) {
        vcpu_down(v);
        return;
    }
    vcpu_block(v);
}

/* --------------------------------------------------------- nested #PF */

static int fetch_insn(struct vcpu *v, struct regs *r, u8 *buf, unsigned int *n)
{
    struct hvm_cpu_state s;
    unsigned long va;

    hvm_backend->get_state(v, &s);
    va = s.seg[HVM_SEG_CS].base + r->rip;
    /* Up to 15 bytes, fewer when the next page is not mapped. */
    *n = X86_MAX_INSN_LEN;
    if (hvm_copy_from_vcpu_virt(v, buf, va, *n, PFEC_FETCH)) {
        *n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (*n >= X86_MAX_INSN_LEN || hvm_copy_from_vcpu_virt(v, buf, va, *n, PFEC_FETCH))
            return -1;
    }
    return 0;
}

static void regs_to_gpr(const struct regs *r, u64 g[16])
{
    const u64 v[16] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
                       r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15};

    memcpy(g, v, sizeof(v));
}

static void gpr_to_regs(const u64 g[16], struct regs *r)
{
    r->rax = g[0], r->rcx = g[1], r->rdx = g[2], r->rbx = g[3];
    r->rsp = g[4], r->rbp = g[5], r->rsi = g[6], r->rdi = g[7];
    r->r8 = g[8], r->r9 = g[9], r->r10 = g[10], r->r11 = g[11];
    r->r12 = g[12], r->r13 = g[13], r->r14 = g[14], r->r15 = g[15];
}

/*
 * An access to guest-physical space with no RAM behind it: the local
 * APIC's page goes to the vLAPIC; anywhere else reads give all-ones and
 * writes are dropped, as Xen's null handler does for a PVH guest.  Only
 * plain MOVs in 64-bit code are emulated.
 */
/* The MOV at rip, decoded (64-bit code only): false when it is not one. */
static bool decode_access(struct vcpu *v, struct regs *r, struct x86_insn *in,
                          struct mmio_access *a, u64 g[16])
{
    u8 buf[X86_MAX_INSN_LEN];
    unsigned int n;

    if (!hvm_backend->long_mode(v) || fetch_insn(v, r, buf, &n) || x86_decode(buf, n, in))
        return false;
    regs_to_gpr(r, g);
    return !mmio_classify(in, g, a);
}

static bool emulate_mmio(struct vcpu *v, struct regs *r, u64 gpa)
{
    struct x86_insn in;
    struct mmio_access a;
    u64 g[16], val = ~0ULL;

    if (!decode_access(v, r, &in, &a, g))
        return false;
    if (hvm_vlapic_mmio(v, gpa)) {
        if (a.write)
            val = a.value;
        if (hvm_vlapic_mmio_access(v, gpa, a.write, a.size, &val)) {
            hvm_inject_exception(v, TRAP_GP, true, 0);
            return true;
        }
    }
    if (!a.write) {
        mmio_finish_read(&a, g, val);
        gpr_to_regs(g, r);
    }
    r->rip += in.len;
    return true;
}

/* A plain MOV store at rip goes nowhere: skipped. */
static bool discard_write(struct vcpu *v, struct regs *r)
{
    struct x86_insn in;
    struct mmio_access a;
    u64 g[16];

    if (!decode_access(v, r, &in, &a, g) || !a.write)
        return false;
    r->rip += in.len;
    return true;
}

HVM_EXIT_HANDLER(hvm_exit_npf)
{
    struct p2m *p = &v->domain->arch.hvm->p2m;
    u64 gpa = x->info2;
    enum p2m_type t;

    p2m_lookup(p, gpa >> PAGE_SHIFT, &t);
    if (t == p2m_grant_ro && (x->info1 & HVM_NPF_WRITE)) {
        /* Xen 4.17 emulates a write to a read-only grant mapping and
         * drops it (p2m_grant_map_ro discards writes); what Keel cannot
         * emulate is the guest's #GP, as Xen's failed emulation is. */
        if (!discard_write(v, r))
            hvm_inject_exception(v, TRAP_GP, true, 0);
        return;
    }
    if (t == p2m_none && emulate_mmio(v, r, gpa))
        return;
    printk(KLOG_ERR "d%uv%u: nested page fault at gpa %#lx (error %#lx, type %u), rip %016lx\n",
           v->domain->domid, v->vcpu_id, (unsigned long)gpa, (unsigned long)x->info1, t,
           r->rip);
    domain_crash(v->domain, "unhandled nested page fault");
}
