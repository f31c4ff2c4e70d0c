/*
 * The vLAPIC of each HVM vCPU (model: hv/common/vlapic.c) wired to the
 * rest: xAPIC MMIO and x2APIC MSR exits, the APIC timer as a Keel timer,
 * interrupt delivery in the run loop, and IPIs between the vCPUs of one
 * domain, INIT and STARTUP included (an AP starts in real mode at the
 * STARTUP vector's page, as on hardware and on Xen).
 */
#include <asm/cpu.h>
#include <asm/hvm.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/hvm_upcall.h>
#include <keel/sched.h>

static struct vlapic *apic(struct vcpu *v)
{
    return &v->arch.hvm->vlapic;
}

static void rearm(struct vcpu *v)
{
    s64 when = vlapic_timer_deadline(apic(v));

    if (when)
        set_timer(&v->arch.hvm->vlapic_timer, when);
    else
        stop_timer(&v->arch.hvm->vlapic_timer);
}

static void timer_fn(void *data)
{
    struct vcpu *v = data;
    unsigned long f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);

    vlapic_timer_fire(apic(v), NOW());
    rearm(v);
    spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
    vcpu_kick(v);
    vcpu_unblock(v);
}

void hvm_vlapic_init(struct vcpu *v)
{
    v->arch.hvm->vlapic_lock = (spinlock_t)SPINLOCK_INIT;
    vlapic_reset(apic(v), v->vcpu_id);
    init_timer(&v->arch.hvm->vlapic_timer, timer_fn, v, v->processor);
}

void hvm_vlapic_destroy(struct vcpu *v)
{
    kill_timer(&v->arch.hvm->vlapic_timer);
}

void hvm_vlapic_migrate(struct vcpu *v, unsigned int cpu)
{
    migrate_timer(&v->arch.hvm->vlapic_timer, cpu);
}

int hvm_vlapic_pending(struct vcpu *v)
{
    unsigned long f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);
    int vec = vlapic_pending(apic(v));

    spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
    return vec;
}

void hvm_vlapic_ack(struct vcpu *v, u8 vector)
{
    unsigned long f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);

    vlapic_ack(apic(v), vector);
    spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
}

bool hvm_vlapic_raise_upcall(struct vcpu *v, u8 vector)
{
    unsigned long f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);
    bool raised = hvm_upcall_raise(apic(v), vector);

    spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
    return raised;
}

/* ------------------------------------------------------------ IPIs */

/* Real mode at the STARTUP vector's page: CS = vector << 8, IP 0. */
static void start_ap(struct vcpu *t, u8 vector)
{
    struct hvm_cpu_state s;
    struct hvm_seg data = {0, 0x93, 0xffff, 0};

    memset(&s, 0, sizeof(s));
    for (unsigned int i = 0; i < HVM_SEG_NR; i++)
        s.seg[i] = data;
    s.seg[HVM_SEG_CS] = (struct hvm_seg){(u16)(vector << 8), 0x9b, 0xffff,
                                         (u64)vector << 12};
    s.seg[HVM_SEG_LDTR] = (struct hvm_seg){0, 0x82, 0xffff, 0};
    s.seg[HVM_SEG_TR] = (struct hvm_seg){0, 0x8b, 0xffff, 0};
    s.seg[HVM_SEG_GDTR] = (struct hvm_seg){0, 0, 0xffff, 0};
    s.seg[HVM_SEG_IDTR] = (struct hvm_seg){0, 0, 0xffff, 0};
    s.cr0 = X86_CR0_ET;
    s.rflags = 2;
    s.dr6 = 0xffff0ff0;
    s.dr7 = 0x400;
    s.pat = 0x0007040600070406ULL;
    memset(&t->arch.user_regs, 0, sizeof(t->arch.user_regs));
    hvm_set_cpu_state(t, &s);
}

static bool is_down(const struct vcpu *t)
{
    return READ_ONCE(t->pause_flags) & (1UL << VPF_down);
}

/* INIT: the vCPU stops and waits for a STARTUP, its APIC reset. */
static void do_init(struct vcpu *t)
{
    unsigned long f = spin_lock_irqsave(&t->arch.hvm->vlapic_lock);

    vlapic_reset(apic(t), t->vcpu_id);
    rearm(t);
    t->arch.hvm->wait_for_sipi = true;
    spin_unlock_irqrestore(&t->arch.hvm->vlapic_lock, f);
}

/*
 * INIT and STARTUP change another vCPU's state, which is only done while
 * it is down (off its CPU, and it cannot be waiting on us: it does not
 * run).  A running target takes an INIT itself at its next pass through
 * the run loop (hvm_vlapic_take_init); a STARTUP only ever wakes a vCPU
 * waiting for one, as on hardware.  Never does one vCPU wait for another
 * that may be waiting for it.
 */
static void init_sipi(struct vcpu *v, struct vcpu *t, const struct vlapic_ipi *ipi)
{
    if (t == v) {
        printk(KLOG_WARN "d%uv%u: INIT/STARTUP to itself ignored\n", v->domain->domid,
               v->vcpu_id);
        return;
    }
    if (ipi->mode == VLAPIC_DM_INIT) {
        if (!ipi->level_assert)
            return; /* the de-assert: nothing on modern CPUs */
        if (!is_down(t)) {
            WRITE_ONCE(t->arch.hvm->init_pending, true);
            vcpu_kick(t);
            vcpu_unblock(t);
            return;
        }
        vcpu_pause(t);
        do_init(t);
        vcpu_unpause(t);
        return;
    }
    if (!is_down(t) || !READ_ONCE(t->arch.hvm->wait_for_sipi))
        return;
    vcpu_pause(t);
    if (t->arch.hvm->wait_for_sipi && is_down(t)) {
        t->arch.hvm->wait_for_sipi = false;
        start_ap(t, ipi->vector);
        __atomic_and_fetch(&t->pause_flags, ~(1UL << VPF_down), __ATOMIC_SEQ_CST);
    }
    vcpu_unpause(t); /* wakes it: it is up now */
}

void hvm_vlapic_take_init(struct vcpu *v)
{
    if (!READ_ONCE(v->arch.hvm->init_pending))
        return;
    WRITE_ONCE(v->arch.hvm->init_pending, false);
    __atomic_or_fetch(&v->pause_flags, 1UL << VPF_down, __ATOMIC_SEQ_CST);
    do_init(v);
    vcpu_sleep(v); /* the scheduler takes it off this CPU */
}

static void deliver_ipi(struct vcpu *v, const struct vlapic_ipi *ipi)
{
    struct domain *d = v->domain;

    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *t = d->vcpus[i];
        unsigned long f;
        bool match;

        if (!t)
            continue;
        f = spin_lock_irqsave(&t->arch.hvm->vlapic_lock);
        match = vlapic_match_dest(apic(t), ipi, t == v);
        if (match && (ipi->mode == VLAPIC_DM_FIXED || ipi->mode == VLAPIC_DM_LOWPRI))
            vlapic_set_irq(apic(t), ipi->vector);
        spin_unlock_irqrestore(&t->arch.hvm->vlapic_lock, f);
        if (!match)
            continue;
        switch (ipi->mode) {
        case VLAPIC_DM_FIXED:
        case VLAPIC_DM_LOWPRI:
            vcpu_kick(t);
            vcpu_unblock(t);
            break;
        case VLAPIC_DM_INIT:
        case VLAPIC_DM_STARTUP:
            init_sipi(v, t, ipi);
            break;
        case VLAPIC_DM_NMI: /* one pending at most, as on Xen */
            WRITE_ONCE(t->arch.hvm->nmi_pending, true);
            vcpu_kick(t);
            vcpu_unblock(t);
            break;
        default:
            printk(KLOG_WARN "d%uv%u: IPI delivery mode %u not emulated\n", d->domid,
                   v->vcpu_id, ipi->mode);
            break;
        }
    }
}

/* -------------------------------------------------------- accesses */

static bool reg_read(struct vcpu *v, unsigned int off, u32 *val)
{
    unsigned long f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);
    bool ok = vlapic_read(apic(v), off, NOW(), val);

    spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
    return ok;
}

static bool reg_write(struct vcpu *v, unsigned int off, u32 val)
{
    struct vlapic_ipi ipi;
    bool timer, ok;
    unsigned long f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);

    ok = vlapic_write(apic(v), off, val, NOW(), &ipi, &timer);
    if (ok && timer)
        rearm(v);
    /* An upcall raised while the APIC was disabled was dropped: enabling
     * it raises the vector again if one is pending (as Xen; a Linux AP
     * registers its vcpu_info and upcall vector before its APIC is on). */
    if (ok && off == VLAPIC_SPIV && (val & VLAPIC_SPIV_ENABLED) &&
        READ_ONCE(v->vcpu_info->evtchn_upcall_pending))
        hvm_upcall_raise(apic(v), READ_ONCE(v->arch.hvm->upcall_vector));
    spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
    if (ok && ipi.valid)
        deliver_ipi(v, &ipi);
    return ok;
}

bool hvm_vlapic_mmio(struct vcpu *v, u64 gpa)
{
    const struct vlapic *a = apic(v);

    return (gpa & ~0xfffULL) == (a->base_msr & ~0xfffULL) &&
           (a->base_msr & VLAPIC_BASE_ENABLE) && !vlapic_x2apic(a);
}

/* Xen: registers are 32 bits at 16-byte strides; narrower reads see part
 * of one, writes other than 32 bits are ignored; absent ones read 0. */
int hvm_vlapic_mmio_access(struct vcpu *v, u64 gpa, bool write, unsigned int size, u64 *val)
{
    unsigned int off = gpa & 0xfff;
    u32 r = 0;

    if (write) {
        if (size == 4 && !(off & 3))
            reg_write(v, off & ~0xfU, (u32)*val);
        return 0;
    }
    if (!reg_read(v, off & ~0xfU, &r))
        r = 0;
    r >>= (off & 3) * 8;
    *val = r;
    return 0;
}

bool hvm_vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
    u32 r;

    if (msr == MSR_APIC_BASE) {
        *val = apic(v)->base_msr;
        return true;
    }
    if (!vlapic_x2apic(apic(v)) || msr == 0x830 + 1)
        return false;
    if (msr == 0x830) { /* the 64-bit ICR */
        *val = 0;
        return true;
    }
    if (!reg_read(v, (msr - 0x800) << 4, &r))
        return false;
    *val = r;
    return true;
}

bool hvm_vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
    struct vlapic_ipi ipi;
    unsigned long f;
    bool ok;

    if (msr == MSR_APIC_BASE) {
        f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);
        ok = vlapic_set_base(apic(v), val);
        if (ok)
            rearm(v);
        spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
        return ok;
    }
    if (!vlapic_x2apic(apic(v)) || (val >> 32 && msr != 0x830))
        return false;
    if (msr == 0x830) {
        f = spin_lock_irqsave(&v->arch.hvm->vlapic_lock);
        ok = vlapic_write_icr64(apic(v), val, &ipi);
        spin_unlock_irqrestore(&v->arch.hvm->vlapic_lock, f);
        if (ok && ipi.valid)
            deliver_ipi(v, &ipi);
        return ok;
    }
    return reg_write(v, (msr - 0x800) << 4, (u32)val);
}
