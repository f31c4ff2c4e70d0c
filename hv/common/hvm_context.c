/* HVM context records (keel/hvm_context.h). */
#include <keel/hvm_context.h>
#include <xen/errno.h>
#define __XEN_TOOLS__ 1
#include <xen/hvm/save.h>

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_PG (1ULL << 31)
/* PE MP EM TS ET NE WP AM NW CD PG: everything else is reserved. */
#define CR0_VALID 0xe005003fULL
/* VME PVI TSD DE PSE PAE PGE PCE OSFXSR OSXMMEXCPT: what Keel's HVM CPUID
 * lets a guest believe it has. */
#define CR4_VALID 0x7bfULL
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

struct desc {
    u16 typecode, instance;
    u32 length;
};

/* Xen's arbytes are the compressed 12-bit form SVM uses too: type/S/DPL/P
 * in bits 0-7, AVL/L/DB/G in 8-11 (0xc9b: a flat 32-bit code segment). */
static u16 attr_from_ar(u32 ar)
{
    return (u16)(ar & 0xfff);
}

static u32 ar_from_attr(u16 attr)
{
    return attr & 0xfff;
}

static const char *check_cpu(const struct hvm_hw_cpu *c)
{
    bool pg = c->cr0 & CR0_PG;

    if ((c->cr0 & ~CR0_VALID) || !(c->cr0 & CR0_ET) || (pg && !(c->cr0 & CR0_PE)))
        return "bad CR0";
    if (c->cr4 & ~CR4_VALID)
        return "bad CR4";
    if (c->msr_efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
        return "bad EFER";
    if (!!(c->msr_efer & EFER_LMA) != (pg && (c->msr_efer & EFER_LME)))
        return "EFER.LMA inconsistent with LME and CR0.PG";
    if (pg && (c->msr_efer & EFER_LME) && !(c->cr4 & (1ULL << 5)))
        return "long mode without PAE";
    if (c->flags & ~XEN_X86_FPU_INITIALISED)
        return "bad flags";
    if (c->pad0)
        return "bad padding";
    return NULL;
}

static void seg(struct hvm_seg *s, u32 sel, u32 limit, u64 base, u32 ar)
{
    s->sel = (u16)sel;
    s->limit = limit;
    s->base = base;
    s->attr = attr_from_ar(ar);
}

static void decode_cpu(const struct hvm_hw_cpu *c, struct hvmctx_vcpu *v)
{
    struct hvm_cpu_state *s = &v->st;
    const u64 g[16] = {c->rax, c->rcx, c->rdx, c->rbx, c->rsp, c->rbp, c->rsi, c->rdi,
                       c->r8, c->r9, c->r10, c->r11, c->r12, c->r13, c->r14, c->r15};

    memset(v, 0, sizeof(*v));
    v->present = true;
    memcpy(v->gpr, g, sizeof(g));
    memcpy(v->fpu, c->fpu_regs, sizeof(v->fpu));
    v->fpu_initialised = c->flags & XEN_X86_FPU_INITIALISED;
    s->rip = c->rip;
    s->rsp = c->rsp;
    s->rax = c->rax;
    s->rflags = c->rflags;
    s->cr0 = c->cr0;
    s->cr2 = c->cr2;
    s->cr3 = c->cr3;
    s->cr4 = c->cr4;
    s->efer = c->msr_efer;
    s->dr6 = c->dr6;
    s->dr7 = c->dr7;
    s->star = c->msr_star;
    s->lstar = c->msr_lstar;
    s->cstar = c->msr_cstar;
    s->sfmask = c->msr_syscall_mask;
    s->kernel_gs_base = c->shadow_gs;
    s->sysenter_cs = c->sysenter_cs;
    s->sysenter_esp = c->sysenter_esp;
    s->sysenter_eip = c->sysenter_eip;
    s->pat = 0x0007040600070406ULL;
    seg(&s->seg[HVM_SEG_CS], c->cs_sel, c->cs_limit, c->cs_base, c->cs_arbytes);
    seg(&s->seg[HVM_SEG_DS], c->ds_sel, c->ds_limit, c->ds_base, c->ds_arbytes);
    seg(&s->seg[HVM_SEG_ES], c->es_sel, c->es_limit, c->es_base, c->es_arbytes);
    seg(&s->seg[HVM_SEG_FS], c->fs_sel, c->fs_limit, c->fs_base, c->fs_arbytes);
    seg(&s->seg[HVM_SEG_GS], c->gs_sel, c->gs_limit, c->gs_base, c->gs_arbytes);
    seg(&s->seg[HVM_SEG_SS], c->ss_sel, c->ss_limit, c->ss_base, c->ss_arbytes);
    seg(&s->seg[HVM_SEG_TR], c->tr_sel, c->tr_limit, c->tr_base, c->tr_arbytes);
    seg(&s->seg[HVM_SEG_LDTR], c->ldtr_sel, c->ldtr_limit, c->ldtr_base, c->ldtr_arbytes);
    seg(&s->seg[HVM_SEG_GDTR], 0, c->gdtr_limit, c->gdtr_base, 0);
    seg(&s->seg[HVM_SEG_IDTR], 0, c->idtr_limit, c->idtr_base, 0);
}

/* Xen's checks of an MTRR record: memory types that exist, in the PAT and
 * the default type (with only its enable bits besides). */
static bool pat_ok(u64 pat)
{
    for (unsigned int i = 0; i < 8; i++) {
        u8 t = (pat >> (i * 8)) & 0xff;
        if (t > 7 || t == 2 || t == 3)
            return false;
    }
    return true;
}

static const char *check_mtrr(const struct hvm_hw_mtrr *m)
{
    u8 t = m->msr_mtrr_def_type & 0xff;

    if (!pat_ok(m->msr_pat_cr))
        return "bad PAT in the MTRR record";
    if ((m->msr_mtrr_def_type & ~0xcffULL) || t > 6 || t == 2 || t == 3)
        return "bad MTRR default type";
    return NULL;
}

/* Per-vCPU records Keel accepts and does not use (it has no state there). */
static bool ignored_per_vcpu(u16 code)
{
    return code == HVM_SAVE_CODE(LAPIC) || code == HVM_SAVE_CODE(LAPIC_REGS) ||
           code == HVM_SAVE_CODE(VMCE_VCPU) ||
           code == HVM_SAVE_CODE(TSC_ADJUST) || code == 16 /* CPU_XSAVE */ ||
           code == 20 /* CPU_MSR */;
}

int hvmctx_parse(const u8 *buf, size_t len, unsigned int nr_vcpus, struct hvmctx_vcpu *out,
                 const char **why)
{
    struct desc d;
    struct hvm_save_header h;
    size_t off = 0;

    for (unsigned int i = 0; i < nr_vcpus; i++)
        out[i].present = out[i].mtrr_present = false;
    *why = "no header";
    if (len < sizeof(d) + sizeof(h))
        return -XEN_EINVAL;
    memcpy(&d, buf, sizeof(d));
    memcpy(&h, buf + sizeof(d), sizeof(h));
    if (d.typecode != HVM_SAVE_CODE(HEADER) || d.length != sizeof(h) ||
        h.magic != HVM_FILE_MAGIC || h.version != HVM_FILE_VERSION)
        return -XEN_EINVAL;
    off = sizeof(d) + sizeof(h);
    for (;;) {
        *why = "truncated record";
        if (len - off < sizeof(d))
            return -XEN_EINVAL;
        memcpy(&d, buf + off, sizeof(d));
        off += sizeof(d);
        if (d.length > len - off)
            return -XEN_EINVAL;
        if (d.typecode == HVM_SAVE_CODE(END))
            return d.length == 0 ? 0 : -XEN_EINVAL;
        *why = "record for a vCPU the domain does not have";
        if (d.instance >= nr_vcpus)
            return -XEN_EINVAL;
        if (d.typecode == HVM_SAVE_CODE(CPU)) {
            struct hvm_hw_cpu c;
            *why = "CPU record of the wrong size";
            if (d.length != sizeof(c))
                return -XEN_EINVAL;
            memcpy(&c, buf + off, sizeof(c));
            *why = check_cpu(&c);
            if (*why)
                return -XEN_EINVAL;
            decode_cpu(&c, &out[d.instance]);
        } else if (d.typecode == HVM_SAVE_CODE(MTRR)) {
            struct hvm_hw_mtrr m;
            *why = "MTRR record of the wrong size";
            if (d.length != sizeof(m))
                return -XEN_EINVAL;
            memcpy(&m, buf + off, sizeof(m));
            *why = check_mtrr(&m);
            if (*why)
                return -XEN_EINVAL;
            out[d.instance].mtrr_present = true;
            out[d.instance].pat = m.msr_pat_cr;
            out[d.instance].mtrr_def_type = m.msr_mtrr_def_type;
        } else if (!ignored_per_vcpu(d.typecode)) {
            *why = "record type Keel does not load";
            return -XEN_EINVAL;
        }
        off += d.length;
    }
}

size_t hvmctx_size(unsigned int nr_vcpus)
{
    return 2 * sizeof(struct desc) + sizeof(struct hvm_save_header) +
           nr_vcpus * (2 * sizeof(struct desc) + sizeof(struct hvm_hw_cpu) +
                       sizeof(struct hvm_hw_mtrr));
}

static void put(u8 *buf, size_t *off, u16 code, u16 inst, const void *rec, u32 len)
{
    struct desc d = {code, inst, len};

    memcpy(buf + *off, &d, sizeof(d));
    *off += sizeof(d);
    if (len)
        memcpy(buf + *off, rec, len);
    *off += len;
}

#define SEG_OUT(c, name, s)                        \
    do {                                           \
        (c)->name##_sel = (s)->sel;                \
        (c)->name##_limit = (s)->limit;            \
        (c)->name##_base = (s)->base;              \
        (c)->name##_arbytes = ar_from_attr((s)->attr); \
    } while (0)

static void encode_cpu(const struct hvmctx_vcpu *v, struct hvm_hw_cpu *c)
{
    const struct hvm_cpu_state *s = &v->st;

    memset(c, 0, sizeof(*c));
    memcpy(c->fpu_regs, v->fpu, sizeof(c->fpu_regs));
    c->rax = v->gpr[0], c->rcx = v->gpr[1], c->rdx = v->gpr[2], c->rbx = v->gpr[3];
    c->rsp = v->gpr[4], c->rbp = v->gpr[5], c->rsi = v->gpr[6], c->rdi = v->gpr[7];
    c->r8 = v->gpr[8], c->r9 = v->gpr[9], c->r10 = v->gpr[10], c->r11 = v->gpr[11];
    c->r12 = v->gpr[12], c->r13 = v->gpr[13], c->r14 = v->gpr[14], c->r15 = v->gpr[15];
    c->rip = s->rip;
    c->rflags = s->rflags;
    c->cr0 = s->cr0, c->cr2 = s->cr2, c->cr3 = s->cr3, c->cr4 = s->cr4;
    c->dr6 = s->dr6, c->dr7 = s->dr7;
    SEG_OUT(c, cs, &s->seg[HVM_SEG_CS]);
    SEG_OUT(c, ds, &s->seg[HVM_SEG_DS]);
    SEG_OUT(c, es, &s->seg[HVM_SEG_ES]);
    SEG_OUT(c, fs, &s->seg[HVM_SEG_FS]);
    SEG_OUT(c, gs, &s->seg[HVM_SEG_GS]);
    SEG_OUT(c, ss, &s->seg[HVM_SEG_SS]);
    SEG_OUT(c, tr, &s->seg[HVM_SEG_TR]);
    SEG_OUT(c, ldtr, &s->seg[HVM_SEG_LDTR]);
    c->gdtr_limit = s->seg[HVM_SEG_GDTR].limit;
    c->gdtr_base = s->seg[HVM_SEG_GDTR].base;
    c->idtr_limit = s->seg[HVM_SEG_IDTR].limit;
    c->idtr_base = s->seg[HVM_SEG_IDTR].base;
    c->sysenter_cs = s->sysenter_cs;
    c->sysenter_esp = s->sysenter_esp;
    c->sysenter_eip = s->sysenter_eip;
    c->shadow_gs = s->kernel_gs_base;
    c->msr_lstar = s->lstar;
    c->msr_star = s->star;
    c->msr_cstar = s->cstar;
    c->msr_syscall_mask = s->sfmask;
    c->msr_efer = s->efer;
    c->flags = v->fpu_initialised ? XEN_X86_FPU_INITIALISED : 0;
}

size_t hvmctx_build(u8 *buf, unsigned int nr_vcpus, const struct hvmctx_vcpu *in,
                    u32 host_cpuid1_eax, u32 tsc_khz)
{
    struct hvm_save_header h = {HVM_FILE_MAGIC, HVM_FILE_VERSION, 0, host_cpuid1_eax,
                                tsc_khz};
    struct hvm_hw_cpu c;
    size_t off = 0;

    put(buf, &off, HVM_SAVE_CODE(HEADER), 0, &h, sizeof(h));
    for (unsigned int i = 0; i < nr_vcpus; i++) {
        encode_cpu(&in[i], &c);
        put(buf, &off, HVM_SAVE_CODE(CPU), (u16)i, &c, sizeof(c));
    }
    /* Xen's order: every vCPU's CPU record, then every vCPU's MTRRs.
     * Eight variable ranges, fixed ranges and write-combining, as Xen. */
    for (unsigned int i = 0; i < nr_vcpus; i++) {
        struct hvm_hw_mtrr m;
        memset(&m, 0, sizeof(m));
        m.msr_pat_cr = in[i].st.pat;
        m.msr_mtrr_cap = MTRR_VCNT | (1U << 8) | (1U << 10);
        m.msr_mtrr_def_type = in[i].mtrr_def_type;
        put(buf, &off, HVM_SAVE_CODE(MTRR), (u16)i, &m, sizeof(m));
    }
    put(buf, &off, HVM_SAVE_CODE(END), 0, NULL, 0);
    return off;
}
