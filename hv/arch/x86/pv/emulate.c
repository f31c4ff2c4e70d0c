/*
 * What a PV kernel does at CPL3 that hardware refuses, and Keel carries out
 * on its behalf: the forced-emulation CPUID (ud2; .ascii "xen"; cpuid),
 * MSR accesses, control-register reads, CLI/STI.  The guest's instruction
 * bytes are read through the audited guest-access path; anything not
 * understood is left to the caller, which bounces the fault to the guest.
 */
#include <asm/cpu.h>
#include <asm/pv.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/ioport.h>
#include <keel/sched.h>
#include <keel/version.h>
#include <keel/x86_decode.h>

#define XEN_CPUID_BASE 0x40000000U
#define XEN_CPUID_LEAVES 5U /* 0x40000001 .. 0x40000005 */

/* CPUID bits a PV guest must not believe it controls. */
#define C1_ECX_HIDE ((1U << 3) | (1U << 5) | (1U << 6) | (1U << 7) | (1U << 8) |     \
                     (1U << 17) | (1U << 18) | (1U << 21) | (1U << 24) |             \
                     (1U << 26) | (1U << 27) | (1U << 28))
#define C1_EDX_HIDE ((1U << 7) | (1U << 12) | (1U << 14) | (1U << 22) | (1U << 29) | \
                     (1U << 31) | PAGING_HIDE)
/* PSE, PGE, PSE36: a PV guest neither owns CR4's paging bits nor may map
 * superpages, and Xen never shows them (under Xen, Linux's CR4 stays 0x660);
 * offered, Linux sets CR4.PSE/PGE early and dies on the write.  AMD repeats
 * them in 0x80000001 EDX. */
#define PAGING_HIDE ((1U << 3) | (1U << 13) | (1U << 17))
#define C1_ECX_HYPERVISOR (1U << 31)
/* Leaf 7 EBX: ordinary-instruction features only (BMI1, BMI2, ERMS, ADX,
 * CLFLUSHOPT, SHA). */
#define C7_EBX_KEEP ((1U << 3) | (1U << 8) | (1U << 9) | (1U << 19) | (1U << 23) | \
                     (1U << 29))
/* 0x80000001 ECX: hide SVM; EDX: hide 1 GiB pages and RDTSCP. */
#define E1_ECX_HIDE (1U << 2)
#define E1_EDX_HIDE ((1U << 26) | (1U << 27) | PAGING_HIDE)

static void xen_leaves(u32 leaf, struct cpuid_regs *r)
{
    u32 idx = leaf - XEN_CPUID_BASE;

    *r = (struct cpuid_regs){0, 0, 0, 0};
    switch (idx) {
    case 0:
        r->eax = XEN_CPUID_BASE + XEN_CPUID_LEAVES;
        r->ebx = 0x566e6558; /* "XenV" */
        r->ecx = 0x65584d4d; /* "MMXe" */
        r->edx = 0x4d4d566e; /* "nVMM" */
        break;
    case 1:
        r->eax = (KEEL_XEN_MAJOR << 16) | KEEL_XEN_MINOR;
        break;
    case 2:
        r->eax = 1;              /* hypercall pages */
        r->ebx = XEN_CPUID_BASE; /* the MSR that fills one */
        break;
    default:
        break; /* 3: TSC mode (native); 4: HVM only; 5: nothing offered */
    }
}

void pv_cpuid(u32 leaf, u32 sub, struct cpuid_regs *r)
{
    if ((leaf & 0xffff0000U) == XEN_CPUID_BASE) {
        /* Only the first hypervisor range is Keel's; the rest are empty. */
        if (leaf <= XEN_CPUID_BASE + XEN_CPUID_LEAVES)
            xen_leaves(leaf, r);
        else
            *r = (struct cpuid_regs){0, 0, 0, 0};
        return;
    }
    *r = cpuid_count(leaf, sub);
    switch (leaf) {
    case 1:
        r->ecx = (r->ecx & ~C1_ECX_HIDE) | C1_ECX_HYPERVISOR;
        r->edx &= ~C1_EDX_HIDE;
        /* Logical processor count / initial APIC id mean nothing here. */
        r->ebx &= 0x0000ffffU;
        break;
    case 5:  /* MONITOR/MWAIT */
    case 6:  /* power management */
    case 0xd: /* XSAVE: not offered yet */
        *r = (struct cpuid_regs){0, 0, 0, 0};
        break;
    case 7:
        if (sub == 0) {
            r->eax = 0;
            r->ebx &= C7_EBX_KEEP;
        } else {
            r->ebx = 0;
        }
        r->ecx = r->edx = 0;
        break;
    case 0xb:
        r->ebx = 0;
        break;
    case 0x80000001:
        r->ecx &= ~E1_ECX_HIDE;
        r->edx &= ~E1_EDX_HIDE;
        break;
    case 0x8000000a: /* SVM */
        *r = (struct cpuid_regs){0, 0, 0, 0};
        break;
    default:
        break;
    }
}

static const u8 forced_cpuid[] = {0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2};

bool pv_emulate_forced_cpuid(struct regs *r)
{
    u8 insn[sizeof(forced_cpuid)];
    struct cpuid_regs c;

    if (copy_from_guest(insn, r->rip, sizeof(insn)) ||
        memcmp(insn, forced_cpuid, sizeof(insn)))
        return false;
    pv_cpuid((u32)r->rax, (u32)r->rcx, &c);
    if (current->domain->arch.cpuid) {
        /* The toolstack's policy narrows Keel's answer (never widens it). */
        struct cpuid_leaf_regs l = {c.eax, c.ebx, c.ecx, c.edx};
        cpu_policy_apply(current->domain->arch.cpuid, (u32)r->rax, (u32)r->rcx, &l);
        c = (struct cpuid_regs){l.a, l.b, l.c, l.d};
    }
    r->rax = c.eax;
    r->rbx = c.ebx;
    r->rcx = c.ecx;
    r->rdx = c.edx;
    r->rip += sizeof(forced_cpuid);
    return true;
}

/* -------------------------------------------------------------- MSRs */

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_PAT 0x277
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_UCODE_REV 0x8b

static bool read_msr(struct vcpu *v, u32 msr, u64 *val)
{
    switch (msr) {
    case MSR_FS_BASE:
        *val = rdmsr(MSR_FS_BASE);
        return true;
    case MSR_GS_BASE:
        *val = v->arch.kernel_mode ? rdmsr(MSR_GS_BASE) : rdmsr(MSR_KERNEL_GS_BASE);
        return true;
    case MSR_KERNEL_GS_BASE:
        *val = v->arch.kernel_mode ? rdmsr(MSR_KERNEL_GS_BASE) : rdmsr(MSR_GS_BASE);
        return true;
    case MSR_EFER:
        *val = rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | EFER_NXE | (1UL << 10));
        return true;
    case MSR_IA32_APIC_BASE:
        /* xAPIC enabled at the usual address; vCPU 0 is the BSP. */
        *val = 0xfee00000UL | (1UL << 11) | (v->vcpu_id == 0 ? 1UL << 8 : 0);
        return true;
    case MSR_IA32_PAT:
        *val = 0x0007040600070406UL; /* the power-on value */
        return true;
    case MSR_IA32_MISC_ENABLE:
        *val = 1; /* fast strings */
        return true;
    case MSR_IA32_MCG_CAP:
    case MSR_IA32_MCG_STATUS:
    case MSR_UCODE_REV:
        *val = 0;
        return true;
    default:
        /* Machine-check bank registers read as zero (no banks). */
        if (msr >= 0x400 && msr < 0x480) {
            *val = 0;
            return true;
        }
        return false;
    }
}

static bool write_msr(struct vcpu *v, u32 msr, u64 val)
{
    switch (msr) {
    case MSR_FS_BASE:
        if (!guest_range_ok(val, 1))
            return false;
        v->arch.fs_base = val;
        wrmsr(MSR_FS_BASE, val);
        return true;
    case MSR_GS_BASE:
        if (!guest_range_ok(val, 1))
            return false;
        /* The guest writes the base of the mode it runs in. */
        wrmsr(MSR_GS_BASE, val);
        if (v->arch.kernel_mode)
            v->arch.gs_base_kernel = val;
        else
            v->arch.gs_base_user = val;
        return true;
    case MSR_KERNEL_GS_BASE:
        if (!guest_range_ok(val, 1))
            return false;
        wrmsr(MSR_KERNEL_GS_BASE, val);
        if (v->arch.kernel_mode)
            v->arch.gs_base_user = val;
        else
            v->arch.gs_base_kernel = val;
        return true;
    case XEN_CPUID_BASE:
        return pv_write_hypercall_page_msr(v, val) == 0;
    default:
        /* Writes that change nothing a PV guest owns are dropped. */
        if (msr >= 0x400 && msr < 0x480)
            return true;
        return false;
    }
}

/* --------------------------------------------------------- decoding */

static unsigned long virtual_cr0(const struct vcpu *v)
{
    return X86_CR0_PE | X86_CR0_MP | (1UL << 4) /* ET */ | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG |
           (1UL << 18) /* AM */ | (v->arch.vcr0_ts ? X86_CR0_TS : 0);
}

static unsigned long virtual_cr4(void)
{
    return X86_CR4_PAE | (1UL << 6) /* MCE */ | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
}

static u64 *gpr(struct regs *r, unsigned n)
{
    u64 *tab[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
                    &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
                    &r->r12, &r->r13, &r->r14, &r->r15};
    return tab[n & 15];
}

static bool emulate_mov_from_cr(struct vcpu *v, struct regs *r, const struct x86_insn *in)
{
    unsigned long val;

    switch (in->reg) { /* the control register */
    case 0: val = virtual_cr0(v); break;
    case 2: val = v->arch.vcr2; break;
    case 3: val = pv_active_cr3(v); break;
    case 4: val = virtual_cr4(); break;
    default: return false;
    }
    *gpr(r, in->rm) = val;
    return true;
}

/*
 * Only CR4 may be written, and the write changes nothing: the bits a PV
 * kernel could own (TSD, DE, FSGSBASE...) are not offered, and Xen too
 * drops what its policy does not allow.  Linux rewrites its CR4 unchanged
 * when a secondary vCPU starts (cr4_init).
 */
static bool emulate_mov_to_cr(const struct x86_insn *in)
{
    return in->reg == 4;
}

/* Up to 15 instruction bytes at rip (fewer when the next page is not
 * readable); 0 when not even the first page is. */
unsigned pv_fetch_insn(unsigned long rip, u8 *buf)
{
    unsigned first = MIN(15UL, PAGE_SIZE - (rip & (PAGE_SIZE - 1)));

    if (copy_from_guest(buf, rip, first))
        return 0;
    if (first < 15 && !copy_from_guest(buf + first, rip + first, 15 - first))
        return 15;
    return first;
}

/* IN/OUT: needs the virtual IOPL; the port itself may be a dummy. */
static bool emulate_port_io(struct vcpu *v, struct regs *r, const u8 *insn, unsigned n)
{
    struct port_io io;
    unsigned port;

    if (!decode_port_io(insn, n, &io) || !pv_iopl_allows(v))
        return false;
    port = io.use_dx ? (u16)r->rdx : io.port;
    if (io.out) {
        pv_port_out(v, port, io.bytes, (u32)r->rax);
    } else {
        u32 val = pv_port_in(v, port, io.bytes);
        /* As on hardware: 32-bit results zero-extend, narrower ones merge. */
        if (io.bytes == 4)
            r->rax = val;
        else if (io.bytes == 2)
            r->rax = (r->rax & ~0xffffUL) | val;
        else
            r->rax = (r->rax & ~0xffUL) | val;
    }
    r->rip += io.len;
    return true;
}

/* What only the guest kernel may do: MSRs, control registers, CLTS. */
static bool emulate_kernel_op(struct vcpu *v, struct regs *r, const struct x86_insn *in)
{
    u64 val;

    if (!v->arch.kernel_mode)
        return false;
    switch (in->opcode) {
    case X86_MAP_0F | 0x30: /* wrmsr */
        return write_msr(v, (u32)r->rcx, ((r->rdx & 0xffffffffUL) << 32) | (u32)r->rax);
    case X86_MAP_0F | 0x32: /* rdmsr */
        if (!read_msr(v, (u32)r->rcx, &val))
            return false;
        r->rax = (u32)val;
        r->rdx = val >> 32;
        return true;
    case X86_MAP_0F | 0x20: /* mov %crN, reg */
        return emulate_mov_from_cr(v, r, in);
    case X86_MAP_0F | 0x22: /* mov reg, %crN */
        return emulate_mov_to_cr(in);
    case X86_MAP_0F | 0x06: /* clts: the virtual TS */
        v->arch.vcr0_ts = 0;
        write_cr0(read_cr0() & ~X86_CR0_TS);
        return true;
    default:
        return false;
    }
}

bool pv_emulate_privileged(struct regs *r)
{
    struct vcpu *v = current;
    u8 bytes[X86_MAX_INSN_LEN];
    unsigned n = pv_fetch_insn(r->rip, bytes);
    struct x86_insn in;
    bool done;

    if (x86_decode(bytes, n, &in))
        return false;
    switch (in.opcode) {
    case 0xfa: /* cli */
    case 0xfb: /* sti */
        /* Allowed by the virtual IOPL they do nothing: events are masked
         * through vcpu_info, never with the real IF. */
        done = pv_iopl_allows(v);
        break;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        return emulate_port_io(v, r, bytes, n); /* steps over it itself */
    default:
        done = emulate_kernel_op(v, r, &in);
        break;
    }
    if (done)
        r->rip += in.len;
    return done;
}
