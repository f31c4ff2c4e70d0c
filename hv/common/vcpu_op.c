/*
 * vcpu_op: a domain managing its own vCPUs — bring-up (initialise, up,
 * down, is_up), where Keel writes per-vCPU shared state (vcpu_info,
 * runstate area), and the single-shot and periodic timers.
 *
 * The vCPU id is a 32-bit quantity, as in Xen: the upper half of the
 * argument register is ignored, so is_up(1 << 40) asks about vCPU 0.
 */
#include <asm/pv.h>
#include <asm/pv_vcpu.h>
#include <asm/hvm.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/mm.h>
#include <keel/sched.h>
#include <keel/vtime.h>

static long vcpu_op(struct hcall *h, unsigned long cmd, struct vcpu *v, unsigned long arg);

long do_vcpu_op(struct hcall *h)
{
    struct domain *d = current->domain;
    unsigned int id = (unsigned int)h->arg[1];

    if (id >= d->nr_vcpus || !d->vcpus[id])
        return -XEN_ENOENT;
    return vcpu_op(h, h->arg[0], d->vcpus[id], h->arg[2]);
}

static bool vcpu_is_down(const struct vcpu *v)
{
    return READ_ONCE(v->pause_flags) & (1UL << VPF_down);
}

/* ------------------------------------------------------- bring-up */

static long op_initialise(struct hcall *h, struct vcpu *v, unsigned long arg)
{
    struct vcpu_guest_context *c;
    struct domain *d = v->domain;
    long rc;

    /* HVM vCPUs start from a vcpu_hvm_context or INIT/SIPI: not yet. */
    if (is_hvm_domain(d))
        return -XEN_EOPNOTSUPP;
    c = xzalloc(sizeof(*c));
    if (!c)
        return -XEN_ENOMEM;
    if (copy_from_guest(c, arg, sizeof(*c))) {
        xfree(c);
        return -XEN_EFAULT;
    }
    spin_lock(&d->lock);
    if (READ_ONCE(v->arch.guest_table))
        rc = -XEN_EEXIST;
    else
        rc = pv_vcpu_initialise(v, c);
    spin_unlock(&d->lock);
    xfree(c);
    /* A large root tree is validated over continuations, as on Xen. */
    return rc == -KEEL_ERESTART ? hypercall_continue(h) : rc;
}

static long op_up(struct vcpu *v)
{
    if (is_hvm_domain(v->domain) ? !v->arch.hvm->initialised : !READ_ONCE(v->arch.guest_table))
        return -XEN_EINVAL; /* nothing to run yet */
    if (__atomic_fetch_and(&v->pause_flags, ~(1UL << VPF_down), __ATOMIC_SEQ_CST) &
        (1UL << VPF_down))
        vcpu_wake(v);
    return 0;
}

static long op_down(struct vcpu *v)
{
    if (!(__atomic_fetch_or(&v->pause_flags, 1UL << VPF_down, __ATOMIC_SEQ_CST) &
          (1UL << VPF_down))) {
        vcpu_timers_stop(v);
        vcpu_sleep(v);
    }
    return 0;
}

/* ------------------------------------------------- shared areas */

/*
 * The guest names a frame it owns and an offset; from now on v's event
 * and time state lives there (Keel reaches it through its direct map).
 * Allowed once per vCPU, for the caller itself or a vCPU that is down.
 */
static long op_register_vcpu_info(struct vcpu *v, unsigned long arg)
{
    struct vcpu_register_vcpu_info r;
    struct domain *d = v->domain;
    struct page_info *pg;
    struct vcpu_info *ni;
    unsigned long f;
    u8 was_pending;

    if (copy_from_guest_obj(&r, arg))
        return -XEN_EFAULT;
    if (vtime_vcpu_info_offset_ok(r.offset))
        return -XEN_ENXIO;
    if (READ_ONCE(v->vcpu_info_registered))
        return -XEN_EINVAL;
    if (v != current && !vcpu_is_down(v))
        return -XEN_EINVAL;
    /* A translated guest names the frame by its GFN. */
    if (is_hvm_domain(d))
        r.mfn = hvm_gfn_to_ram(d, r.mfn);
    if (!mfn_valid(r.mfn))
        return -XEN_EINVAL;
    pg = mfn_to_page(r.mfn);
    /* Kept for the domain's lifetime: the frame cannot change type or
     * owner under Keel's writes. */
    if (!get_page_keel_write(pg, d))
        return -XEN_EINVAL;
    ni = (struct vcpu_info *)((u8 *)mfn_to_virt(r.mfn) + r.offset);
    f = spin_lock_irqsave(&d->evtchn_lock);
    if (v->vcpu_info_registered) {
        spin_unlock_irqrestore(&d->evtchn_lock, f);
        put_page_keel_write(pg);
        return -XEN_EINVAL;
    }
    memcpy(ni, v->vcpu_info, sizeof(*ni));
    was_pending = ni->evtchn_upcall_pending;
    v->vcpu_info = ni;
    v->vcpu_info_mfn = r.mfn;
    v->vcpu_info_registered = true;
    evtchn_set_vcpu_info(&d->evtchn, v->vcpu_id, ni);
    pv_update_vcpu_time(v);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    /* The upcall the move marked pending is news (Xen's
     * vcpu_mark_events_pending): an HVM vCPU's upcall vector is raised. */
    if (!was_pending)
        evtchn_do_kick(&(struct evtchn_kick){&d->evtchn, v->vcpu_id});
    return 0;
}

static long op_register_runstate(struct vcpu *v, unsigned long arg)
{
    struct vcpu_register_runstate_memory_area a;
    unsigned long gva;

    if (copy_from_guest_obj(&a, arg))
        return -XEN_EFAULT;
    gva = (unsigned long)a.addr.v;
    if (!guest_range_ok(gva, sizeof(struct vcpu_runstate_info)))
        return -XEN_EFAULT;
    WRITE_ONCE(v->runstate_guest, gva);
    pv_write_runstate(v);
    return 0;
}

static long op_get_runstate(struct vcpu *v, unsigned long arg)
{
    struct vcpu_runstate_info ri;

    vtime_runstate_snapshot(&v->runstate, NOW(), &ri);
    return copy_to_guest_obj(arg, &ri) ? -XEN_EFAULT : 0;
}

/* ------------------------------------------------------- timers */

static long op_set_periodic(struct vcpu *v, unsigned long arg)
{
    struct vcpu_set_periodic_timer p;

    if (copy_from_guest_obj(&p, arg))
        return -XEN_EFAULT;
    if (vtime_period_ok(p.period_ns))
        return -XEN_EINVAL; /* 0 included: stopping has its own sub-op */
    return vcpu_set_periodic(v, p.period_ns);
}

/* Single-shot timers are per running vCPU: only the caller's own. */
static long op_set_singleshot(struct vcpu *v, unsigned long arg)
{
    struct vcpu_set_singleshot_timer t;

    if (v != current)
        return -XEN_EINVAL;
    if (copy_from_guest_obj(&t, arg))
        return -XEN_EFAULT;
    return vcpu_set_singleshot(v, t.timeout_abs_ns);
}

static long op_stop_singleshot(struct vcpu *v)
{
    if (v != current)
        return -XEN_EINVAL;
    vcpu_stop_singleshot(v);
    return 0;
}

static long vcpu_op(struct hcall *h, unsigned long cmd, struct vcpu *v, unsigned long arg)
{
    switch (cmd) {
    case VCPUOP_initialise:
        return op_initialise(h, v, arg);
    case VCPUOP_up:
        return op_up(v);
    case VCPUOP_down:
        return op_down(v);
    case VCPUOP_is_up:
        return !vcpu_is_down(v);
    case VCPUOP_get_runstate_info:
        return op_get_runstate(v, arg);
    case VCPUOP_register_runstate_memory_area:
        return op_register_runstate(v, arg);
    case VCPUOP_set_periodic_timer:
        return op_set_periodic(v, arg);
    case VCPUOP_stop_periodic_timer:
        return vcpu_set_periodic(v, 0);
    case VCPUOP_set_singleshot_timer:
        return op_set_singleshot(v, arg);
    case VCPUOP_stop_singleshot_timer:
        return op_stop_singleshot(v);
    case VCPUOP_register_vcpu_info:
        return op_register_vcpu_info(v, arg);
    default:
        /* send_nmi, get_physid, register_vcpu_time_memory_area (only
         * tried with a stable TSC, which Keel does not advertise). */
        return -XEN_ENOSYS;
    }
}
