/*
 * The vendor-neutral HVM core (asm/hvm.h): HVM domains and vCPUs, the
 * run loop, and exits dispatched by reason to their handlers (exits.c,
 * hypercall.c).  The backend is picked once at boot: SVM with nested
 * paging today; without one, HVM domains are refused at createdomain.
 */
#include <asm/cpu.h>
#include <asm/hvm.h>
#include <asm/pv.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/hvm_upcall.h>
#include <keel/mm.h>
#include <keel/options.h>
#include <keel/time.h>
#include <keel/timer.h>
#include <keel/rcu.h>
#include <keel/sched.h>
#include <keel/softirq.h>
#include <xen/hvm/params.h>
#include <xen/sched.h>

#include "hvm_internal.h"

const struct hvm_backend *hvm_backend;

void hvm_init(void)
{
    hvm_backend = svm_probe();
    createdomain_set_hvm_caps(hvm_backend != NULL, hvm_backend && hvm_backend->has_hap);
    if (!hvm_backend)
        printk("HVM: no usable hardware virtualisation: PV guests only\n");
}

void hvm_cpu_up(unsigned int cpu)
{
    if (hvm_backend && hvm_backend->cpu_up(cpu)) {
        /* A CPU that cannot run guests in SVM mode would break the ones
         * placed on it: refuse HVM altogether. */
        printk(KLOG_ERR "HVM: CPU%u cannot enable %s: HVM disabled\n", cpu,
               hvm_backend->name);
        hvm_backend = NULL;
        createdomain_set_hvm_caps(false, false);
    }
}

/* ---------------------------------------------------------- domains */

int hvm_domain_init(struct domain *d)
{
    struct hvm_domain *h = xzalloc(sizeof(*h));

    if (!h)
        return -XEN_ENOMEM;
    if (p2m_init(&h->p2m)) {
        xfree(h);
        return -XEN_ENOMEM;
    }
    /* Xen's defaults for a new HVM domain. */
    h->params[HVM_PARAM_TRIPLE_FAULT_REASON] = SHUTDOWN_reboot;
    d->arch.hvm = h;
    return 0;
}

int hvm_domain_relinquish(struct domain *d)
{
    struct hvm_domain *h = d->arch.hvm;

    if (!h)
        return 0;
    /* RAM and Keel's shared frames are released through the domain's own
     * frame list; the references of grant mappings were dropped by the
     * grant code's relinquish, which runs first: the entries just go. */
    return p2m_drain(&h->p2m, &h->p2m_drain_cursor, 4096, NULL, NULL);
}

void hvm_domain_destroy(struct domain *d)
{
    struct hvm_domain *h = d->arch.hvm;

    if (!h)
        return;
    p2m_destroy(&h->p2m);
    xfree(h);
    d->arch.hvm = NULL;
}

int hvm_vcpu_init(struct vcpu *v)
{
    struct hvm_vcpu *hv = xzalloc(sizeof(*hv));
    int rc;

    if (!hv)
        return -XEN_ENOMEM;
    v->arch.hvm = hv;
    rc = hvm_backend->vcpu_init(v);
    if (rc) {
        xfree(hv);
        v->arch.hvm = NULL;
        return rc;
    }
    hvm_vlapic_init(v);
    return 0;
}

void hvm_vcpu_destroy(struct vcpu *v)
{
    if (!v->arch.hvm)
        return;
    hvm_vlapic_destroy(v);
    hvm_backend->vcpu_destroy(v);
    xfree(v->arch.hvm);
    v->arch.hvm = NULL;
}

void hvm_set_cpu_state(struct vcpu *v, const struct hvm_cpu_state *s)
{
    struct regs *r = &v->arch.user_regs;

    hvm_backend->set_state(v, s);
    r->rip = s->rip;
    r->rsp = s->rsp;
    r->rax = s->rax;
    r->rflags = s->rflags | 2;
    v->arch.hvm->initialised = true;
}

void hvm_get_cpu_state(struct vcpu *v, struct hvm_cpu_state *s)
{
    const struct regs *r = &v->arch.user_regs;

    hvm_backend->get_state(v, s);
    s->rip = r->rip;
    s->rsp = r->rsp;
    s->rax = r->rax;
    s->rflags = r->rflags;
}

void hvm_inject_exception(struct vcpu *v, u8 vector, bool has_ec, u32 ec)
{
    hvm_backend->inject_exception(v, vector, has_ec, ec);
}

/* --------------------------------------------------------- switching */

void hvm_save_vcpu(struct vcpu *v)
{
    v->arch.user_regs = *guest_regs();
}

void hvm_load_vcpu(struct vcpu *v)
{
    *guest_regs() = v->arch.user_regs;
}

/* ---------------------------------------------------------- run loop */

/* ------------------------------------------------------ interrupts */

/* Xen's hvm_assert_evtchn_irq: the per-vCPU vector goes into the IRR
 * (the APIC then delivers it); the domain-wide callback is injected by
 * deliver_interrupts for as long as the upcall is pending: a kick. */
void hvm_assert_upcall(struct vcpu *v)
{
    u8 vec = READ_ONCE(v->arch.hvm->upcall_vector);

    if (!vec || hvm_vlapic_raise_upcall(v, vec))
        vcpu_kick(v);
}

bool hvm_wake_pending(struct vcpu *v)
{
    if (READ_ONCE(v->arch.hvm->nmi_pending))
        return true; /* an NMI IPI wakes a halted vCPU, IF or not */
    return hvm_upcall_wakes(READ_ONCE(v->domain->arch.hvm->callback_vector),
                            READ_ONCE(v->arch.hvm->upcall_vector),
                            READ_ONCE(v->vcpu_info->evtchn_upcall_pending),
                            hvm_vlapic_pending(v));
}

/* Xen's order: the callback vector while an upcall is pending, then the
 * local APIC (where a per-vCPU upcall vector waits like any other). */
static void deliver_interrupts(struct vcpu *v)
{
    u8 cb = READ_ONCE(v->domain->arch.hvm->callback_vector);
    bool pending = READ_ONCE(v->vcpu_info->evtchn_upcall_pending);
    struct hvm_intr n;

    /* An NMI goes first, whatever IF says. */
    if (READ_ONCE(v->arch.hvm->nmi_pending) && !hvm_backend->nmi_blocked(v)) {
        WRITE_ONCE(v->arch.hvm->nmi_pending, false);
        hvm_backend->inject_nmi(v);
        v->arch.hvm->stat_intr_injected++;
    }
    if (hvm_backend->event_pending(v))
        return;
    n = hvm_intr_select(cb, pending, cb && pending ? -1 : hvm_vlapic_pending(v));
    if (n.source == HVM_INTR_NONE || !hvm_backend->interruptible(v, true))
        return;
    if (n.source == HVM_INTR_LAPIC)
        hvm_vlapic_ack(v, n.vector);
    hvm_backend->inject_interrupt(v, n.vector);
    v->arch.hvm->stat_intr_injected++;
}

static void (*const exit_handlers[HVM_EXIT_NR])(struct vcpu *, struct regs *,
                                               const struct hvm_exit *) = {
    [HVM_EXIT_NONE] = hvm_exit_none,
    [HVM_EXIT_CPUID] = hvm_exit_cpuid,
    [HVM_EXIT_MSR_READ] = hvm_exit_msr_read,
    [HVM_EXIT_MSR_WRITE] = hvm_exit_msr_write,
    [HVM_EXIT_IO] = hvm_exit_io,
    [HVM_EXIT_HLT] = hvm_exit_hlt,
    [HVM_EXIT_HYPERCALL] = hvm_exit_hypercall,
    [HVM_EXIT_NPF] = hvm_exit_npf,
    [HVM_EXIT_SHUTDOWN] = hvm_exit_shutdown,
    [HVM_EXIT_INTR_WINDOW] = hvm_exit_none,
    [HVM_EXIT_UD] = hvm_exit_ud,
    [HVM_EXIT_GP] = hvm_exit_gp,
    [HVM_EXIT_INVALID] = hvm_exit_invalid,
    [HVM_EXIT_UNHANDLED] = hvm_exit_unhandled,
};

/* hvm_stats: where a vCPU's time goes, one line per vCPU every 5 s of
 * system time (a debugging aid, off by default): exits by reason, the
 * interrupts injected, and what a stalled guest may be waiting for (its
 * upcall, its Xen timer, its last hypercall). */
static void count_exit(struct vcpu *v, const struct regs *r, const struct hvm_exit *x)
{
    struct hvm_vcpu *h = v->arch.hvm;
    const u32 *n = h->stat_exits;
    s_time_t now = NOW();

    if (x->reason < HVM_EXIT_NR)
        h->stat_exits[x->reason]++;
    if (!h->stat_since)
        h->stat_since = now;
    if (now - (s_time_t)h->stat_since < SECONDS(5))
        return;
    printk("d%uv%u exits: none %u cpuid %u rdmsr %u wrmsr %u io %u hlt %u hcall %u npf %u "
           "window %u other %u; injected %u; upcall pending %u vector %u callback %u; "
           "singleshot %s due %ld ms; last hypercall %u/%u -> %ld; IF %u; rip %016lx\n",
           v->domain->domid, v->vcpu_id, n[HVM_EXIT_NONE], n[HVM_EXIT_CPUID],
           n[HVM_EXIT_MSR_READ], n[HVM_EXIT_MSR_WRITE], n[HVM_EXIT_IO], n[HVM_EXIT_HLT],
           n[HVM_EXIT_HYPERCALL], n[HVM_EXIT_NPF], n[HVM_EXIT_INTR_WINDOW],
           n[HVM_EXIT_SHUTDOWN] + n[HVM_EXIT_UD] + n[HVM_EXIT_GP] + n[HVM_EXIT_INVALID] +
               n[HVM_EXIT_UNHANDLED],
           h->stat_intr_injected, READ_ONCE(v->vcpu_info->evtchn_upcall_pending),
           h->upcall_vector, (unsigned int)v->domain->arch.hvm->callback_vector,
           timer_is_active(&v->singleshot_timer) ? "set" : "off",
           (long)((v->singleshot_timer.expires - now) / 1000000), h->stat_last_hcall >> 8,
           h->stat_last_hcall & 0xff, h->stat_last_ret,
           !!(r->rflags & X86_EFLAGS_IF), r->rip);
    for (unsigned int i = 0; i < v->domain->nr_vcpus; i++) {
        struct vcpu *o = v->domain->vcpus[i];
        struct hvm_cpu_state st;
        if (!o || o == v || !o->arch.hvm)
            continue;
        hvm_backend->get_state(o, &st);
        /* Another vCPU's last exit (its VMCB is read racily: a hint). */
        printk("  d%uv%u: running %d flags %#lx cpu %u last exit rip %016lx last hypercall "
               "%u/%u -> %ld upcall %u\n",
               o->domain->domid, o->vcpu_id, (int)READ_ONCE(o->is_running), READ_ONCE(o->pause_flags),
               o->processor, (unsigned long)st.rip, o->arch.hvm->stat_last_hcall >> 8,
               o->arch.hvm->stat_last_hcall & 0xff, o->arch.hvm->stat_last_ret,
               READ_ONCE(o->vcpu_info->evtchn_upcall_pending));
    }
    memset(h->stat_exits, 0, sizeof(h->stat_exits));
    h->stat_intr_injected = 0;
    h->stat_since = now;
}

void hvm_resume(void)
{
    struct vcpu *v = current;
    struct regs *r = guest_regs();
    unsigned int cpu = smp_processor_id();
    struct hvm_exit x;

    for (;;) {
        local_irq_disable();
        rcu_quiescent(); /* between two exits nothing is held */
        if (softirq_pending(cpu)) {
            local_irq_enable();
            do_softirq(); /* may switch to another vCPU and not come back */
            continue;
        }
        if (READ_ONCE(v->arch.hvm->init_pending)) {
            hvm_vlapic_take_init(v); /* stops this vCPU: schedule next */
            continue;
        }
        deliver_interrupts(v);
        hvm_backend->enter(v, r, &x);
        local_irq_enable(); /* the interrupt that ended the run, if any */
        if (opts.hvm_stats)
            count_exit(v, r, &x);
        if (x.reason < HVM_EXIT_NR && exit_handlers[x.reason])
            exit_handlers[x.reason](v, r, &x);
        else
            hvm_exit_unhandled(v, r, &x);
    }
}
