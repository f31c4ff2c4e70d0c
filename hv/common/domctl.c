/*
 * domctl: the toolstack's domain operations, at Xen 4.17's interface
 * version (0x15; any other is -EACCES, as Xen).  Only the control domain
 * may call them (-EPERM), checked after the target lookup as Xen's XSM
 * defaults do, so a missing domain is -ESRCH for everyone.  Sub-ops run
 * one at a time under the domctl lock; a busy lock, like a long
 * destroydomain, makes the caller re-issue the hypercall (continuation).
 *
 * The rules live in the workers (domctl_worker.c, domain.c, pv/vcpu_state.c);
 * this file copies arguments in and out and takes the lock.
 */
#define __XEN_TOOLS__ 1
#include <asm/pv_vcpu.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/domctl.h>
#include <keel/grant_table.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/mm.h>
#include <keel/sched.h>
#include <keel/sched_types.h>
#include <keel/time.h>

_Static_assert(KEEL_MAX_GRANT_VERSION == GNTTAB_MAX_VERSION,
               "createdomain and the grant tables agree on the version");

static spinlock_t domctl_lock = SPINLOCK_INIT;

static long domctl_getdomaininfo(struct xen_domctl *op, bool *copyback);
static long domctl_op(struct xen_domctl *op, struct domain *d, struct hcall *h,
                      bool *copyback);

/*
 * The lock, or a continuation: the holder may be waiting for this vCPU to
 * leave its CPU (pausing a domain), which it does on the way out.  Inside
 * a multicall there is no way out: -EBUSY.
 */
static long domctl_lock_or_continue(struct hcall *h)
{
    if (spin_trylock(&domctl_lock))
        return 0;
    return h->in_multicall ? -XEN_EBUSY : hypercall_continue(h);
}

/* Xen's answer to a domU: the facts the worker needs, looked up. */
static long domctl_refuse(const struct xen_domctl *op, struct domain *d)
{
    enum domctl_other other = OTHER_MISSING;

    if (!d)
        return -XEN_EPERM; /* createdomain */
    if (op->cmd == XEN_DOMCTL_set_target) {
        struct domain *e = domain_get(op->u.set_target.target);
        if (e) {
            other = e == d ? OTHER_SAME : is_hvm_domain(e) ? OTHER_HVM : OTHER_PV;
            domain_put(e);
        }
    }
    return domctl_refusal(op, is_hvm_domain(d), other, arch_paddr_bits());
}

long do_domctl(struct hcall *h)
{
    unsigned long arg = h->arg[0];
    struct xen_domctl op;
    struct domain *d = NULL;
    bool copyback = false;
    long rc;

    if (copy_from_guest_obj(&op, arg))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
        return -XEN_EACCES;
    if (op.cmd == XEN_DOMCTL_getdomaininfo) {
        rc = domctl_getdomaininfo(&op, &copyback);
    } else {
        if (op.cmd != XEN_DOMCTL_createdomain && !(d = domain_get(op.domain)))
            return -XEN_ESRCH;
        if (!current->domain->is_privileged) {
            rc = domctl_refuse(&op, d);
        } else if ((rc = domctl_lock_or_continue(h)) == 0 && !h->continuation) {
            rc = domctl_op(&op, d, h, &copyback);
            spin_unlock(&domctl_lock);
        }
        if (d)
            domain_put(d);
    }
    if (h->continuation)
        return rc;
    if (copyback && copy_to_guest_obj(arg, &op))
        rc = -XEN_EFAULT;
    return rc;
}

/* ------------------------------------------------------------ lookups */

static void vcpu_snapshot(struct vcpu *v, struct dominfo_vcpu *s)
{
    unsigned long flags = READ_ONCE(v->pause_flags);
    struct vcpu_runstate_info rs;

    vcpu_runstate_get(v, &rs);
    s->online = !(flags & (1UL << VPF_down));
    s->blocked = flags & (1UL << VPF_blocked);
    s->running = READ_ONCE(v->is_running);
    s->running_ns = rs.time[RUNSTATE_running];
}

void domain_info(struct domain *d, struct xen_domctl_getdomaininfo *out)
{
    static struct dominfo s; /* large: one at a time (callers hold a lock) */
    static spinlock_t lock = SPINLOCK_INIT;
    unsigned long f = spin_lock_irqsave(&lock);

    memset(&s, 0, sizeof(s));
    s.domid = d->domid;
    s.dead = READ_ONCE(d->is_dying) == DOMAIN_DEAD;
    s.shut_down = READ_ONCE(d->is_shut_down);
    s.xs_domain = d->is_xenstore;
    s.controller_pause_count = READ_ONCE(d->controller_pause_count);
    s.shutdown_code = READ_ONCE(d->shutdown_code);
    /* Xen's vCPUs come into being at max_vcpus: none before it. */
    s.nr_vcpus = READ_ONCE(d->vcpus_visible) ? d->nr_vcpus : 0;
    for (unsigned int i = 0; i < s.nr_vcpus; i++)
        vcpu_snapshot(d->vcpus[i], &s.vcpu[i]);
    s.tot_pages = READ_ONCE(d->tot_pages);
    s.max_pages = READ_ONCE(d->max_pages);
    s.shared_info_frame = d->shared_info_mfn; /* PV: the machine frame */
    memcpy(s.handle, d->handle, sizeof(s.handle));
    s.cpupool = d->cpupool;
    s.gpaddr_bits = arch_gpaddr_bits();
    dominfo_fill(&s, out);
    spin_unlock_irqrestore(&lock, f);
}

/* The domain with this id, or the next one up (xenconsoled and libxc walk
 * domains this way); control domain only (Xen's XSM_XS_PRIV without a
 * xenstore stub domain). */
static long domctl_getdomaininfo(struct xen_domctl *op, bool *copyback)
{
    struct domain *d;

    if (op->domain >= DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    d = domain_get_next(op->domain);
    if (!d)
        return -XEN_ESRCH;
    if (!current->domain->is_privileged) {
        domain_put(d);
        return -XEN_EPERM;
    }
    domain_info(d, &op->u.getdomaininfo);
    op->domain = d->domid;
    domain_put(d);
    *copyback = true;
    return 0;
}

/* --------------------------------------------------------- life cycle */

static long op_createdomain(struct xen_domctl *op)
{
    struct xen_domctl_createdomain *c = &op->u.createdomain;
    struct createdomain_args a;
    struct domain_config cfg = {.paused = true};
    struct domain *d;
    domid_t id = op->domain;
    long rc;

    /* The id first (Xen: -EEXIST / -ENOMEM before the configuration). */
    if (id > 0 && id < DOMID_FIRST_RESERVED) {
        struct domain *old = domain_get(id);
        if (old) {
            domain_put(old);
            return -XEN_EEXIST;
        }
    } else if ((rc = domain_alloc_id(&id))) {
        return rc;
    }
    rc = createdomain_check(c, MAX_VIRT_CPUS, &a);
    if (rc)
        return rc;
    rc = sched_cpupool_check(c->cpupool_id);
    if (rc)
        return rc;
    cfg.max_vcpus = a.max_vcpus;
    cfg.nr_evtchn_ports = a.nr_evtchn_ports;
    cfg.max_grant_frames = a.max_grant_frames;
    cfg.max_maptrack_frames = a.max_maptrack_frames;
    cfg.max_grant_version = a.grant_version;
    cfg.cpupool = c->cpupool_id;
    cfg.hvm = a.hvm;
    memcpy(cfg.handle, c->handle, sizeof(cfg.handle));
    rc = domain_create(id, &cfg, &d);
    if (rc)
        return rc;
    d->is_xenstore = a.xs_domain;
    printk("Domain %u created by d%u (%s, %u vCPUs, paused)\n", id, current->domain->domid,
           a.hvm ? "PVH" : "PV", a.max_vcpus);
    op->domain = id;
    return 0;
}

static long op_destroydomain(struct domain *d, struct hcall *h)
{
    long rc = domain_kill(d, !h->in_multicall);

    return rc == -KEEL_ERESTART ? hypercall_continue(h) : rc;
}

static long op_max_vcpus(struct domain *d, const struct xen_domctl_max_vcpus *m)
{
    /* vCPUs are made at createdomain; this only has to agree with it. */
    if (d == current->domain || m->max != d->nr_vcpus)
        return -XEN_EINVAL;
    WRITE_ONCE(d->vcpus_visible, true);
    return 0;
}

/* ------------------------------------------------------- vCPU context */

static long op_setvcpucontext(struct domain *d, const struct xen_domctl_vcpucontext *vc,
                              struct hcall *h)
{
    struct vcpu_guest_context *c;
    struct vcpu *v;
    long rc;

    if (d == current->domain || vc->vcpu >= d->nr_vcpus || !(v = d->vcpus[vc->vcpu]))
        return -XEN_EINVAL;
    if (is_hvm_domain(d))
        return -XEN_EOPNOTSUPP; /* HVM vCPUs: sethvmcontext */
    /* References taken now would outlive relinquish (kill holds the
     * domctl lock too, so this cannot race it). */
    if (READ_ONCE(d->is_dying))
        return -XEN_EINVAL;
    if (!vc->ctxt.p)
        return -XEN_EOPNOTSUPP; /* vCPU reset (soft reset) is not offered */
    c = xzalloc(sizeof(*c));
    if (!c)
        return -XEN_ENOMEM;
    if (copy_from_guest(c, (unsigned long)vc->ctxt.p, sizeof(*c))) {
        xfree(c);
        return -XEN_EFAULT;
    }
    domain_pause(d);
    spin_lock(&d->lock);
    rc = pv_vcpu_set_context(v, c);
    if (!rc && (c->flags & VGCF_online))
        __atomic_and_fetch(&v->pause_flags, ~(1UL << VPF_down), __ATOMIC_SEQ_CST);
    else if (!rc)
        __atomic_or_fetch(&v->pause_flags, 1UL << VPF_down, __ATOMIC_SEQ_CST);
    spin_unlock(&d->lock);
    domain_unpause(d); /* wakes it if nothing else holds it */
    xfree(c);
    /* A large root tree is validated over continuations, as on Xen. */
    return rc == -KEEL_ERESTART ? hypercall_continue(h) : rc;
}

static long op_getvcpucontext(struct domain *d, const struct xen_domctl_vcpucontext *vc)
{
    struct vcpu_guest_context *c;
    struct vcpu *v;
    long rc = 0;

    if (vc->vcpu >= d->nr_vcpus || !(v = d->vcpus[vc->vcpu]) || v == current)
        return -XEN_EINVAL;
    if (!READ_ONCE(v->arch.guest_table))
        return -XEN_ENODATA; /* never initialised */
    c = xzalloc(sizeof(*c));
    if (!c)
        return -XEN_ENOMEM;
    vcpu_pause(v);
    pv_vcpu_get_context(v, c);
    vcpu_unpause(v);
    if (copy_to_guest((unsigned long)vc->ctxt.p, c, sizeof(*c)))
        rc = -XEN_EFAULT;
    xfree(c);
    return rc;
}

static long op_getvcpuinfo(struct domain *d, struct xen_domctl_getvcpuinfo *vi)
{
    struct dominfo_vcpu s;
    struct vcpu *v;

    if (vi->vcpu >= d->nr_vcpus)
        return -XEN_EINVAL;
    if (!(v = d->vcpus[vi->vcpu]))
        return -XEN_ESRCH;
    vcpu_snapshot(v, &s);
    vi->online = s.online;
    vi->blocked = s.blocked;
    vi->running = s.running;
    vi->cpu_time = s.running_ns;
    vi->cpu = READ_ONCE(v->processor);
    return 0;
}

/* ------------------------------------------------------------ affinity */

static u64 online_mask(void)
{
    return __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE);
}

static long op_vcpuaffinity(struct domain *d, u32 cmd, struct xen_domctl_vcpuaffinity *va)
{
    u64 hard = 0, soft = 0, out_hard = 0, out_soft = 0, new_hard, new_soft;
    unsigned int nbits = ctl_cpu_bits();
    struct vcpu *v;
    long rc;

    if (va->vcpu >= d->nr_vcpus)
        return -XEN_EINVAL;
    if (!(v = d->vcpus[va->vcpu]))
        return -XEN_ESRCH;
    if (!(va->flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)) ||
        ((va->flags & XEN_VCPUAFFINITY_HARD) && !va->cpumap_hard.bitmap.p) ||
        ((va->flags & XEN_VCPUAFFINITY_SOFT) && !va->cpumap_soft.bitmap.p))
        return -XEN_EINVAL;
    if (cmd == XEN_DOMCTL_getvcpuaffinity) {
        rc = 0;
        if (va->flags & XEN_VCPUAFFINITY_HARD)
            rc = xenctl_bitmap_write(&va->cpumap_hard, v->affinity_hard, nbits);
        if (!rc && (va->flags & XEN_VCPUAFFINITY_SOFT))
            rc = xenctl_bitmap_write(&va->cpumap_soft, v->affinity_soft, nbits);
        return rc;
    }
    if ((va->flags & XEN_VCPUAFFINITY_HARD) && (rc = xenctl_bitmap_read(&va->cpumap_hard, nbits, &hard)))
        return rc;
    if ((va->flags & XEN_VCPUAFFINITY_SOFT) && (rc = xenctl_bitmap_read(&va->cpumap_soft, nbits, &soft)))
        return rc;
    /* Setters are serialised by the domctl lock: the masks read here are
     * the ones the scheduler has. */
    new_hard = v->affinity_hard;
    new_soft = v->affinity_soft;
    /* Xen checks against the CPUs of the domain's pool, not all of them. */
    rc = affinity_set(&new_hard, &new_soft, va->flags, hard, soft,
                      online_mask() & sched_dom_cpus(d), &out_hard, &out_soft);
    if (rc)
        return rc;
    vcpu_set_affinity(v, new_hard, new_soft); /* moves it if it must leave its CPU */
    if (va->flags & XEN_VCPUAFFINITY_HARD)
        rc = xenctl_bitmap_write(&va->cpumap_hard, out_hard, nbits);
    if (!rc && (va->flags & XEN_VCPUAFFINITY_SOFT))
        rc = xenctl_bitmap_write(&va->cpumap_soft, out_soft, nbits);
    return rc;
}

static long op_nodeaffinity(struct domain *d, u32 cmd, struct xen_domctl_nodeaffinity *na)
{
    u64 nodes;
    long rc;

    if (cmd == XEN_DOMCTL_getnodeaffinity)
        return xenctl_bitmap_write(&na->nodemap, d->node_affinity, KEEL_MAX_NUMNODES);
    rc = xenctl_bitmap_read(&na->nodemap, KEEL_MAX_NUMNODES, &nodes);
    if (rc)
        return rc;
    return nodeaffinity_set(&d->node_affinity, nodes, 1 /* node 0 */);
}

/* ------------------------------------------------------------- the rest */

/*
 * put/getvcpuinfo: one element at a time, read from and written back to
 * the caller's array; after SCHEDOP_VCPUS_UNPREEMPTED elements, pending
 * work stops the walk and nr_vcpus says how many were done (libxc goes on
 * from there), as Xen.
 */
static long schedop_vcpus(struct domain *d, u32 id, struct xen_domctl_scheduler_op *s,
                          struct hcall *h)
{
    bool put = s->cmd == XEN_DOMCTL_SCHEDOP_putvcpuinfo;
    unsigned long base = (unsigned long)s->u.v.vcpus.p;
    u32 i = 0;
    long rc = 0;

    while (i < s->u.v.nr_vcpus) {
        struct xen_domctl_schedparam_vcpu e;
        unsigned long at = base + (unsigned long)i * sizeof(e);
        struct sched_params p;

        if (copy_from_guest(&e, at, sizeof(e)))
            return -XEN_EFAULT;
        rc = schedop_vcpu_in(id, &e, d->nr_vcpus,
                             e.vcpuid < d->nr_vcpus && d->vcpus[e.vcpuid], &p);
        if (!rc)
            rc = sched_adjust_vcpu(d->vcpus[e.vcpuid], &p, put);
        if (rc)
            return rc;
        if (!put) {
            schedop_vcpu_out(id, &p, &e);
            if (copy_to_guest(at, &e, sizeof(e)))
                return -XEN_EFAULT;
        }
        if (++i >= SCHEDOP_VCPUS_UNPREEMPTED && hypercall_preempt_check(h))
            break;
    }
    s->u.v.nr_vcpus = i;
    return 0;
}

static long op_scheduler(struct domain *d, struct xen_domctl_scheduler_op *s, struct hcall *h)
{
    unsigned int id = sched_dom_id(d);
    struct sched_params p;
    bool put;
    long rc = schedop_check(s, schedop_ctl_id(id));

    if (rc)
        return rc;
    if (!id) /* round-robin under credit2's name: stored values */
        return credit2_adjust(&d->sched_weight, &d->sched_cap, s->cmd, &s->u.credit2,
                              d->nr_vcpus);
    if (s->cmd == XEN_DOMCTL_SCHEDOP_putvcpuinfo || s->cmd == XEN_DOMCTL_SCHEDOP_getvcpuinfo)
        return schedop_has_vcpu_params(id) ? schedop_vcpus(d, id, s, h) : -XEN_EINVAL;
    put = s->cmd == XEN_DOMCTL_SCHEDOP_putinfo;
    schedop_dom_in(id, s, &p);
    rc = sched_adjust_dom(d, &p, put);
    if (!rc && !put)
        schedop_dom_out(id, &p, s);
    return rc;
}

static long op_tscinfo(struct domain *d, u32 cmd, struct xen_domctl_tsc_info *t)
{
    long rc;

    if (d == current->domain)
        return -XEN_EINVAL;
    if (cmd == XEN_DOMCTL_gettscinfo) {
        t->tsc_mode = d->arch.tsc_mode;
        t->elapsed_nsec = (u64)NOW();
        t->gtsc_khz = (u32)tsc_khz();
        t->incarnation = 0;
        return 0;
    }
    if (d == hardware_domain())
        return 0; /* as Xen: dom0 keeps the native TSC whatever it asks */
    rc = tsc_mode_check(t->tsc_mode);
    if (!rc)
        d->arch.tsc_mode = t->tsc_mode;
    return rc;
}

static long op_address_size(u32 cmd, struct xen_domctl_address_size *a)
{
    if (cmd == XEN_DOMCTL_get_address_size) {
        a->size = 64;
        return 0;
    }
    if (a->size == 64)
        return 0;
    /* 32-bit PV guests are not supported. */
    return a->size == 32 ? -XEN_EOPNOTSUPP : -XEN_EINVAL;
}

static long domctl_op(struct xen_domctl *op, struct domain *d, struct hcall *h,
                      bool *copyback)
{
    switch (op->cmd) {
    case XEN_DOMCTL_createdomain:
        *copyback = true;
        return op_createdomain(op);
    case XEN_DOMCTL_destroydomain:
        return op_destroydomain(d, h);
    case XEN_DOMCTL_pausedomain:
        return d == current->domain ? -XEN_EINVAL : domain_pause_by_controller(d);
    case XEN_DOMCTL_unpausedomain:
        return domain_unpause_by_controller(d);
    case XEN_DOMCTL_max_vcpus:
        return op_max_vcpus(d, &op->u.max_vcpus);
    case XEN_DOMCTL_max_mem:
        /* Enforced by increase_reservation/populate_physmap; lowering it
         * below tot_pages only stops further growth, as on Xen. */
        WRITE_ONCE(d->max_pages, op->u.max_mem.max_memkb >> (PAGE_SHIFT - 10));
        return 0;
    case XEN_DOMCTL_setdomainhandle:
        memcpy(d->handle, op->u.setdomainhandle.handle, sizeof(d->handle));
        return 0;
    case XEN_DOMCTL_setvcpucontext:
        return op_setvcpucontext(d, &op->u.vcpucontext, h);
    case XEN_DOMCTL_getvcpucontext:
        *copyback = true;
        return op_getvcpucontext(d, &op->u.vcpucontext);
    case XEN_DOMCTL_getvcpuinfo:
        *copyback = true;
        return op_getvcpuinfo(d, &op->u.getvcpuinfo);
    case XEN_DOMCTL_setvcpuaffinity:
    case XEN_DOMCTL_getvcpuaffinity:
        return op_vcpuaffinity(d, op->cmd, &op->u.vcpuaffinity);
    case XEN_DOMCTL_setnodeaffinity:
    case XEN_DOMCTL_getnodeaffinity:
        return op_nodeaffinity(d, op->cmd, &op->u.nodeaffinity);
    case XEN_DOMCTL_scheduler_op:
        *copyback = true;
        return op_scheduler(d, &op->u.scheduler_op, h);
    case XEN_DOMCTL_settscinfo:
    case XEN_DOMCTL_gettscinfo:
        *copyback = op->cmd == XEN_DOMCTL_gettscinfo;
        return op_tscinfo(d, op->cmd, &op->u.tsc_info);
    case XEN_DOMCTL_set_address_size:
    case XEN_DOMCTL_get_address_size:
        *copyback = op->cmd == XEN_DOMCTL_get_address_size;
        return op_address_size(op->cmd, &op->u.address_size);
    case XEN_DOMCTL_set_cpu_policy:
        return domctl_set_cpu_policy(d, &op->u.cpu_policy, copyback);
    case XEN_DOMCTL_get_cpu_policy:
        return domctl_get_cpu_policy(d, &op->u.cpu_policy, copyback);
    case XEN_DOMCTL_sethvmcontext:
    case XEN_DOMCTL_gethvmcontext:
    case XEN_DOMCTL_get_paging_mempool_size:
    case XEN_DOMCTL_set_paging_mempool_size:
        return arch_hvm_domctl(op, d, copyback);
    case XEN_DOMCTL_shadow_op:
        /* PV guests have no shadow modes in Keel. */
        return is_hvm_domain(d) ? arch_hvm_domctl(op, d, copyback) : -XEN_ENOSYS;
    default:
        return -XEN_ENOSYS;
    }
}
