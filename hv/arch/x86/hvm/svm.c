/*
 * The SVM backend of the HVM core (asm/hvm.h): one VMCB per vCPU with
 * nested paging on the domain's p2m, ASIDs handed out per CPU, and the
 * intercepts a PVH guest needs.  Everything not intercepted runs on the
 * hardware; what is intercepted is decoded into a struct hvm_exit
 * (svm_decode_exit) and handled by the vendor-neutral core.
 *
 * ASIDs: each CPU hands out ASIDs 1..max in a generation; a vCPU keeps
 * its ASID while it stays on the CPU and the generation is unchanged.
 * Moving to another CPU, or any flush request (a p2m entry removed or
 * downgraded, hvm_flush_domain), makes it take a fresh one; running out
 * starts a new generation with a full TLB flush.  So a guest never sees a
 * translation Keel has taken away.
 */
#include <asm/cpu.h>
#include <asm/hvm.h>
#include <asm/percpu.h>
#include <asm/pv.h>
#include <asm/svm.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>

#define CPUID_80000001_ECX_SVM (1U << 2)
#define CPUID_8000000A_EDX_NP (1U << 0)
#define CPUID_8000000A_EDX_NRIPS (1U << 3)

struct svm_cpu {
    void *hsave;         /* the CPU's host-save area (VM_HSAVE_PA) */
    struct vmcb *host;   /* vmsave/vmload of the host's hidden state */
    u32 next_asid;
    u64 asid_gen;        /* starts at 1: a vCPU's 0 never matches */
    bool flush_all;      /* the next entry flushes every ASID */
};

struct svm_vcpu {
    struct vmcb *vmcb;
    paddr_t vmcb_pa;
    u32 asid;
    u64 asid_gen;
    unsigned int asid_cpu;
    unsigned long p2m_gen;
    u64 exit_rip;        /* where the last exit left the guest */
    bool window;         /* V_IRQ only asks for an exit (VINTR intercepted) */
    bool nmi_masked;     /* an NMI in service: IRET intercepted until it ends */
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);
static u32 max_asid;
static bool has_nrips;
static void *iopm, *msrpm;

static inline void vmsave(paddr_t pa)
{
    __asm__ __volatile__("vmsave %%rax" ::"a"(pa) : "memory");
}

static inline void vmload(paddr_t pa)
{
    __asm__ __volatile__("vmload %%rax" ::"a"(pa) : "memory");
}

static inline void clgi(void) { __asm__ __volatile__("clgi" ::: "memory"); }
static inline void stgi(void) { __asm__ __volatile__("stgi" ::: "memory"); }

void svm_vmrun(struct regs *r, paddr_t vmcb);

static struct svm_vcpu *svm(struct vcpu *v)
{
    return v->arch.hvm->vendor;
}

/*
 * External interrupts reach the guest as a virtual interrupt (V_IRQ with
 * its vector), never through EVENTINJ.  Both are architectural; V_IRQ is
 * taken by the CPU itself once the guest can take it.  EVENTINJ is what
 * QEMU's TCG mishandles: its VMRUN delivers an injected interrupt at once
 * but leaves the vector behind as the CPU's pending exception, and the
 * next time the emulator leaves its execution loop (a round-robin kick
 * under -icount, say) it delivers the same vector a second time, to
 * whatever the guest runs then, interrupts disabled or not.  A Linux PVH
 * guest deadlocks on that within a few dozen boots (a timer interrupt
 * nested inside code holding its runqueue lock).  Exceptions still go by
 * EVENTINJ: QEMU delivers those through its exception path, which
 * consumes them.
 */
static void virq_set(struct svm_vcpu *s, u8 vector, bool window)
{
    struct vmcb *vm = s->vmcb;

    vm->vintr = svm_vintr_set_virq(vm->vintr, vector);
    if (window)
        vm->intercepts1 |= SVM_INTERCEPT_VINTR;
    else
        vm->intercepts1 &= ~SVM_INTERCEPT_VINTR;
    s->window = window;
}

static void virq_clear(struct svm_vcpu *s)
{
    s->vmcb->vintr = svm_vintr_clear_virq(s->vmcb->vintr);
    s->vmcb->intercepts1 &= ~SVM_INTERCEPT_VINTR;
    s->window = false;
}

/* A vector waits in V_IRQ: the CPU delivers it when the guest allows. */
static bool virq_pending(const struct svm_vcpu *s)
{
    return !s->window && (s->vmcb->vintr & SVM_VINTR_V_IRQ);
}

/* ------------------------------------------------------------ per CPU */

static int svm_cpu_up(unsigned int cpu)
{
    struct svm_cpu *c = &per_cpu(svm_cpu, cpu);

    if (!c->hsave) {
        c->hsave = alloc_page_va();
        c->host = alloc_page_va();
        if (!c->hsave || !c->host)
            return -XEN_ENOMEM;
    }
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
        return -XEN_ENODEV;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, __pa(c->hsave));
    c->next_asid = 1;
    c->asid_gen = 1;
    c->flush_all = true;
    return 0;
}

/* Every vCPU that enters on this CPU from now on takes a fresh ASID. */
void svm_flush_this_cpu(void);
void svm_flush_this_cpu(void)
{
    struct svm_cpu *c = &this_cpu(svm_cpu);

    c->asid_gen++;
    c->next_asid = 1;
    c->flush_all = true;
}

static void asid_check(struct vcpu *v, unsigned int cpu)
{
    struct svm_cpu *c = &per_cpu(svm_cpu, cpu);
    struct svm_vcpu *s = svm(v);
    unsigned long gen = READ_ONCE(v->domain->arch.hvm->p2m.generation);

    if (s->p2m_gen != gen) {
        /* A translation went away: no ASID of ours may hold it. */
        s->p2m_gen = gen;
        s->asid_gen = 0;
    }
    if (s->asid_gen != c->asid_gen || s->asid_cpu != cpu) {
        if (c->next_asid > max_asid) {
            c->asid_gen++;
            c->next_asid = 1;
            c->flush_all = true;
        }
        s->asid = c->next_asid++;
        s->asid_gen = c->asid_gen;
        s->asid_cpu = cpu;
        s->vmcb->tlb_control = SVM_TLB_FLUSH_GUEST;
    }
    if (c->flush_all) {
        s->vmcb->tlb_control = SVM_TLB_FLUSH_ALL;
        c->flush_all = false;
    }
    s->vmcb->asid = s->asid;
}

/* --------------------------------------------------------------- vCPUs */

static void msrpm_pass(u32 msr)
{
    u8 *pm = msrpm;
    u32 base;

    if (msr < 0x2000)
        base = 0;
    else if (msr >= 0xc0000000U && msr < 0xc0002000U)
        base = 0x800, msr -= 0xc0000000U;
    else
        base = 0x1000, msr -= 0xc0010000U;
    /* Two bits per MSR: read, write. */
    pm[base + msr / 4] &= (u8)~(3U << ((msr % 4) * 2));
}

static int svm_tables_init(void)
{
    static const u32 pass[] = {MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR,
                               MSR_LSTAR, MSR_CSTAR, MSR_FMASK, 0x174, 0x175, 0x176};
    struct page_info *io = alloc_pages(2), *ms = alloc_pages(1);

    if (!io || !ms)
        return -XEN_ENOMEM;
    iopm = mfn_to_virt(page_to_mfn(io));
    msrpm = mfn_to_virt(page_to_mfn(ms));
    /* Deny by default: every port and every MSR exits... */
    memset(iopm, 0xff, 4 * PAGE_SIZE);
    memset(msrpm, 0xff, 2 * PAGE_SIZE);
    /* ...except the MSRs the VMCB itself holds for the guest. */
    for (unsigned int i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
        msrpm_pass(pass[i]);
    return 0;
}

static int svm_vcpu_init(struct vcpu *v)
{
    struct svm_vcpu *s = xzalloc(sizeof(*s));
    struct vmcb *vm;

    if (!s)
        return -XEN_ENOMEM;
    vm = alloc_page_va();
    if (!vm) {
        xfree(s);
        return -XEN_ENOMEM;
    }
    s->vmcb = vm;
    s->vmcb_pa = __pa(vm);
    v->arch.hvm->vendor = s;
    vm->intercepts1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
                      SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT |
                      SVM_INTERCEPT_INVD | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
                      SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_TASK_SWITCH |
                      SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_RSM | SVM_INTERCEPT_RDPMC;
    vm->intercepts2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                      SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                      SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_RDTSCP | SVM_INTERCEPT_WBINVD |
                      SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_XSETBV;
    vm->iopm_base_pa = __pa(iopm);
    vm->msrpm_base_pa = __pa(msrpm);
    vm->vintr = SVM_VINTR_MASKING;
    vm->np_enable = 1;
    vm->n_cr3 = (u64)v->domain->arch.hvm->p2m.root << PAGE_SHIFT;
    vm->g_pat = 0x0007040600070406ULL; /* the power-on PAT */
    vm->efer = EFER_SVME;
    vm->cr0 = 0x60000010ULL;           /* CD, NW, ET: reset values */
    vm->dr6 = 0xffff0ff0ULL;
    vm->dr7 = 0x400;
    vm->rflags = 2;
    return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = svm(v);

    if (!s)
        return;
    free_page_va(s->vmcb);
    xfree(s);
    v->arch.hvm->vendor = NULL;
}

/* ------------------------------------------------------------ state */

static void seg_in(struct vmcb_seg *d, const struct hvm_seg *s)
{
    d->sel = s->sel;
    d->attr = s->attr & 0xfff;
    d->limit = s->limit;
    d->base = s->base;
}

static void seg_out(struct hvm_seg *d, const struct vmcb_seg *s)
{
    d->sel = s->sel;
    d->attr = s->attr;
    d->limit = s->limit;
    d->base = s->base;
}

#define EFER_LMA (1UL << 10)
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static void svm_set_state(struct vcpu *v, const struct hvm_cpu_state *st)
{
    struct vmcb *vm = svm(v)->vmcb;
    struct vmcb_seg *segs[HVM_SEG_NR] = {&vm->es, &vm->cs, &vm->ss, &vm->ds, &vm->fs,
                                         &vm->gs, &vm->gdtr, &vm->ldtr, &vm->idtr, &vm->tr};

    for (unsigned int i = 0; i < HVM_SEG_NR; i++)
        seg_in(segs[i], &st->seg[i]);
    vm->cpl = (st->seg[HVM_SEG_SS].attr >> 5) & 3;
    vm->rip = st->rip;
    vm->rsp = st->rsp;
    vm->rax = st->rax;
    vm->rflags = st->rflags | 2;
    vm->cr0 = st->cr0;
    vm->cr2 = st->cr2;
    vm->cr3 = st->cr3;
    vm->cr4 = st->cr4;
    vm->efer = (st->efer & EFER_GUEST_BITS) | EFER_SVME;
    vm->dr6 = st->dr6;
    vm->dr7 = st->dr7;
    vm->star = st->star;
    vm->lstar = st->lstar;
    vm->cstar = st->cstar;
    vm->sfmask = st->sfmask;
    vm->kernel_gs_base = st->kernel_gs_base;
    vm->sysenter_cs = st->sysenter_cs;
    vm->sysenter_esp = st->sysenter_esp;
    vm->sysenter_eip = st->sysenter_eip;
    vm->g_pat = st->pat;
    vm->eventinj = 0;
    vm->interrupt_shadow = 0;
    virq_clear(svm(v));
    svm(v)->nmi_masked = false;
    vm->intercepts1 &= ~SVM_INTERCEPT_IRET;
}

static void svm_set_efer(struct vcpu *v, u64 efer)
{
    svm(v)->vmcb->efer = (efer & EFER_GUEST_BITS) | EFER_SVME;
}

static void svm_set_pat(struct vcpu *v, u64 pat)
{
    svm(v)->vmcb->g_pat = pat;
}

static void svm_get_state(struct vcpu *v, struct hvm_cpu_state *st)
{
    struct vmcb *vm = svm(v)->vmcb;
    const struct vmcb_seg *segs[HVM_SEG_NR] = {&vm->es, &vm->cs, &vm->ss, &vm->ds, &vm->fs,
                                               &vm->gs, &vm->gdtr, &vm->ldtr, &vm->idtr,
                                               &vm->tr};

    for (unsigned int i = 0; i < HVM_SEG_NR; i++)
        seg_out(&st->seg[i], segs[i]);
    st->rip = vm->rip;
    st->rsp = vm->rsp;
    st->rax = vm->rax;
    st->rflags = vm->rflags;
    st->cr0 = vm->cr0;
    st->cr2 = vm->cr2;
    st->cr3 = vm->cr3;
    st->cr4 = vm->cr4;
    st->efer = vm->efer & ~EFER_SVME;
    st->dr6 = vm->dr6;
    st->dr7 = vm->dr7;
    st->star = vm->star;
    st->lstar = vm->lstar;
    st->cstar = vm->cstar;
    st->sfmask = vm->sfmask;
    st->kernel_gs_base = vm->kernel_gs_base;
    st->sysenter_cs = vm->sysenter_cs;
    st->sysenter_esp = vm->sysenter_esp;
    st->sysenter_eip = vm->sysenter_eip;
    st->pat = vm->g_pat;
}

/* ---------------------------------------------------------- entering */

static void svm_enter(struct vcpu *v, struct regs *r, struct hvm_exit *x)
{
    struct svm_vcpu *s = svm(v);
    struct vmcb *vm = s->vmcb;
    unsigned int cpu = smp_processor_id();
    struct svm_cpu *c = &per_cpu(svm_cpu, cpu);

    asid_check(v, cpu);
    /* Keel completed the instruction that exited: its STI/MOV SS shadow
     * ended with it. */
    if (r->rip != s->exit_rip)
        vm->interrupt_shadow = 0;
    vm->rax = r->rax;
    vm->rsp = r->rsp;
    vm->rip = r->rip;
    vm->rflags = r->rflags;
    vm->n_cr3 = (u64)v->domain->arch.hvm->p2m.root << PAGE_SHIFT;
    vm->clean_bits = 0; /* nothing cached across entries: always correct */
    /* GIF off holds every interrupt; the host's IF must be on at VMRUN,
     * for with V_INTR_MASKING it is what lets physical interrupts end the
     * guest's run (INTR exit) instead of waiting for its next exit. */
    clgi();
    local_irq_enable();
    vmsave(__pa(c->host));
    vmload(s->vmcb_pa);
    svm_vmrun(r, s->vmcb_pa);
    vmsave(s->vmcb_pa);
    vmload(__pa(c->host));
    local_irq_disable();
    stgi(); /* interrupts stay off (IF) until the run loop opens them */
    vm->tlb_control = SVM_TLB_FLUSH_NONE;
    r->rax = vm->rax;
    r->rsp = vm->rsp;
    r->rip = vm->rip;
    r->rflags = vm->rflags;
    s->exit_rip = vm->rip;
    svm_decode_exit(vm->exitcode, vm->exitinfo1, vm->exitinfo2,
                    has_nrips ? vm->next_rip : 0, x);
    if (x->reason == HVM_EXIT_INTR_WINDOW)
        virq_clear(s);
    if (vm->exitcode == SVM_EXIT_IRET) {
        /* The NMI handler's IRET, about to run: NMIs are open again.  One
         * injected before it retires finds the guest at that IRET, which
         * a guest's NMI entry must take anyway (Xen's window is the same). */
        s->nmi_masked = false;
        vm->intercepts1 &= ~SVM_INTERCEPT_IRET;
    }
    /* An event was being delivered when the exit came: deliver it again. */
    switch (svm_exitint_redeliver(vm->exitintinfo, virq_pending(s))) {
    case SVM_REDELIVER_EVENTINJ:
        vm->eventinj = vm->exitintinfo;
        break;
    case SVM_REDELIVER_VIRQ:
        virq_set(s, (u8)vm->exitintinfo, false);
        break;
    case SVM_REDELIVER_NONE:
        break;
    }
    vm->exitintinfo = 0;
}

static void svm_inject_exception(struct vcpu *v, u8 vector, bool has_ec, u32 ec)
{
    u64 e = vector | SVM_EVT_TYPE_EXCEPTION | SVM_EVT_VALID;

    if (has_ec)
        e |= SVM_EVT_EV | ((u64)ec << 32);
    svm(v)->vmcb->eventinj = e;
}

static void svm_inject_interrupt(struct vcpu *v, u8 vector)
{
    virq_set(svm(v), vector, false);
}

static bool svm_nmi_blocked(struct vcpu *v)
{
    struct svm_vcpu *s = svm(v);

    return s->nmi_masked || (s->vmcb->eventinj & SVM_EVT_VALID) ||
           (s->vmcb->interrupt_shadow & 1);
}

static void svm_inject_nmi(struct vcpu *v)
{
    struct svm_vcpu *s = svm(v);

    s->vmcb->eventinj = 2 | SVM_EVT_TYPE_NMI | SVM_EVT_VALID;
    s->nmi_masked = true;
    s->vmcb->intercepts1 |= SVM_INTERCEPT_IRET;
}

static bool svm_event_pending(struct vcpu *v)
{
    return (svm(v)->vmcb->eventinj & SVM_EVT_VALID) || virq_pending(svm(v));
}

static bool svm_interruptible(struct vcpu *v, bool request_window)
{
    struct svm_vcpu *s = svm(v);
    struct vmcb *vm = s->vmcb;

    if (virq_pending(s))
        return false; /* one vector at a time: the vLAPIC keeps the rest */
    if (svm_can_take_irq(vm->rflags, vm->interrupt_shadow, vm->eventinj))
        return true;
    if (request_window && !s->window)
        virq_set(s, 0, true); /* only there to make the CPU exit when it could take one */
    return false;
}

static u32 svm_cpl(struct vcpu *v)
{
    return svm(v)->vmcb->cpl;
}

static bool svm_long_mode(struct vcpu *v)
{
    struct vmcb *vm = svm(v)->vmcb;

    return (vm->efer & EFER_LMA) && (vm->cs.attr & (1U << 9));
}

static void svm_paging_regs(struct vcpu *v, u64 *cr0, u64 *cr3, u64 *cr4, u64 *efer)
{
    struct vmcb *vm = svm(v)->vmcb;

    *cr0 = vm->cr0;
    *cr3 = vm->cr3;
    *cr4 = vm->cr4;
    *efer = vm->efer;
}

static void svm_flush_guest_tlb(struct vcpu *v)
{
    svm(v)->asid_gen = 0;
}

static const struct hvm_backend svm_backend = {
    .name = "SVM",
    .has_hap = true,
    .cpu_up = svm_cpu_up,
    .vcpu_init = svm_vcpu_init,
    .vcpu_destroy = svm_vcpu_destroy,
    .set_state = svm_set_state,
    .get_state = svm_get_state,
    .set_efer = svm_set_efer,
    .set_pat = svm_set_pat,
    .enter = svm_enter,
    .inject_exception = svm_inject_exception,
    .inject_interrupt = svm_inject_interrupt,
    .interruptible = svm_interruptible,
    .event_pending = svm_event_pending,
    .nmi_blocked = svm_nmi_blocked,
    .inject_nmi = svm_inject_nmi,
    .cpl = svm_cpl,
    .long_mode = svm_long_mode,
    .paging_regs = svm_paging_regs,
    .flush_guest_tlb = svm_flush_guest_tlb,
};

/* SVM with nested paging, or NULL (Keel runs no HVM guest then). */
const struct hvm_backend *svm_probe(void);
const struct hvm_backend *svm_probe(void)
{
    struct cpuid_regs r = cpuid(0x80000000);
    struct cpuid_regs a;

    if (r.eax < 0x8000000a || !(cpuid(0x80000001).ecx & CPUID_80000001_ECX_SVM))
        return NULL;
    a = cpuid(0x8000000a);
    if (!(a.edx & CPUID_8000000A_EDX_NP)) {
        printk("HVM: SVM without nested paging: not used\n");
        return NULL;
    }
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        printk("HVM: SVM disabled by the firmware\n");
        return NULL;
    }
    max_asid = a.ebx ? a.ebx - 1 : 0;
    if (!max_asid)
        return NULL;
    has_nrips = a.edx & CPUID_8000000A_EDX_NRIPS;
    if (svm_tables_init())
        return NULL;
    printk("HVM: SVM with nested paging, %u ASIDs%s\n", max_asid,
           has_nrips ? ", next-RIP" : "");
    return &svm_backend;
}
