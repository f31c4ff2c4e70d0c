/*
 * event_channel_op: the guest-facing layer over the 2-level core in
 * event_channel.c.  It copies arguments in and out, turns domids into
 * domains, checks privilege, takes the evtchn locks, and then makes the
 * affected vCPU notice: an upcall (vcpu_kick) and SCHEDOP_poll waiters.
 *
 * Locks: d->evtchn_lock guards a domain's ports.  An operation that may
 * touch a second domain (interdomain bind, send, close) holds both, taken
 * in domid order so two CPUs working on the same pair cannot deadlock.
 * They are taken with interrupts off: timer callbacks send VIRQs from
 * interrupt context on the CPU that may be in a hypercall holding them.
 *
 * FIFO: init_control and expand_array take the guest frame they name
 * (a general and a writable type reference: Keel writes into it, so the
 * guest may not make it a page table) before taking the lock, after the
 * checks Xen makes before it looks at the frame.
 */
#include <asm/hvm.h>
#include <asm/smp.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/physdev.h>
#include <keel/sched.h>
#include <xen/event_channel.h>

static long evtchn_op(unsigned cmd, unsigned long arg);

long do_event_channel_op(struct hcall *h)
{
    return evtchn_op((unsigned)h->arg[0], h->arg[1]);
}

static struct domain *dom_of(struct evtchn_domain *ed)
{
    return container_of(ed, struct domain, evtchn);
}

/* DOMID_SELF or a real domain, referenced (domain_put when done); NULL if
 * there is none. */
static struct domain *lookup(domid_t id)
{
    if (id == DOMID_SELF) {
        domain_get_ref(current->domain);
        return current->domain;
    }
    return domain_get(id);
}

/* Acting on another domain's ports is for the privileged domain only. */
static long lookup_checked(domid_t id, struct domain **out)
{
    struct domain *d = lookup(id);

    if (!d)
        return -XEN_ESRCH;
    if (d != current->domain && !current->domain->is_privileged) {
        domain_put(d);
        return -XEN_EPERM;
    }
    *out = d;
    return 0;
}

/* ------------------------------------------------------------ locking */

struct lock_pair {
    struct domain *a, *b; /* b == NULL or b == a: one lock */
    unsigned long flags;
};

static void lock_two(struct lock_pair *lp, struct domain *a, struct domain *b)
{
    if (b == a)
        b = NULL;
    if (b && b->domid < a->domid) {
        struct domain *t = a;
        a = b;
        b = t;
    }
    lp->a = a;
    lp->b = b;
    lp->flags = spin_lock_irqsave(&a->evtchn_lock);
    if (b)
        spin_lock(&b->evtchn_lock);
}

static void unlock_two(struct lock_pair *lp)
{
    if (lp->b)
        spin_unlock(&lp->b->evtchn_lock);
    spin_unlock_irqrestore(&lp->a->evtchn_lock, lp->flags);
}

/* The interdomain peer of `port`, or d itself for any other port. */
static struct domain *peer_of(struct domain *d, evtchn_port_t port)
{
    const struct evtchn *chn = evtchn_port(&d->evtchn, port);

    if (!chn || chn->state != ECS_INTERDOMAIN)
        return d;
    return dom_of(chn->u.peer.dom);
}

/*
 * Locks d and the peer of `port`.  The peer can change until d's lock is
 * held, so it is read again under both locks and the pair retaken if it
 * moved.  A port local to d (the common case) needs d's lock only, and
 * takes the short way in lock_port.
 */
static __attribute__((noinline)) void lock_port_pair(struct lock_pair *lp,
                                                     struct domain *d,
                                                     evtchn_port_t port)
{
    for (;;) {
        unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
        struct domain *peer = peer_of(d, port);
        if (peer == d) {
            *lp = (struct lock_pair){d, NULL, f};
            return;
        }
        spin_unlock_irqrestore(&d->evtchn_lock, f);
        lock_two(lp, d, peer);
        if (peer_of(d, port) == peer)
            return;
        unlock_two(lp);
    }
}

static inline void lock_port(struct lock_pair *lp, struct domain *d, evtchn_port_t port)
{
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);

    if (peer_of(d, port) == d) {
        *lp = (struct lock_pair){d, NULL, f};
        return;
    }
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    lock_port_pair(lp, d, port);
}

/* ------------------------------------------------------- notification */

void vcpu_kick(struct vcpu *v)
{
    bool running = READ_ONCE(v->is_running);
    unsigned long waiting = (1UL << VPF_blocked) | (1UL << VPF_polling);

    /* The caller made the event visible (a seq_cst write) before this
     * read; a vCPU about to wait sets its flag before it looks for events,
     * so one of the two always sees the other. */
    if (__atomic_load_n(&v->pause_flags, __ATOMIC_SEQ_CST) & waiting) {
        vcpu_unblock(v);
        /* As on Xen, an event that warrants an upcall also ends a poll. */
        vcpu_poll_wake(v);
    }
    /* Delivery happens on the way into the guest; a guest running on
     * another CPU only takes that way after an interrupt. */
    if (running && v->processor != smp_processor_id())
        smp_send_event_check(v->processor);
}

void evtchn_do_kick(const struct evtchn_kick *k)
{
    if (!k->dom)
        return;
    struct domain *d = dom_of(k->dom);
    struct vcpu *v = k->vcpu < d->nr_vcpus ? d->vcpus[k->vcpu] : NULL;

    if (!v)
        return;
    /* An upcall just became pending: an HVM vCPU may take it through its
     * local APIC (Xen's hvm_assert_evtchn_irq). */
    if (is_hvm_vcpu(v))
        hvm_assert_upcall(v);
    else
        vcpu_kick(v);
}

/*
 * SCHEDOP_poll waiters wake when one of their ports becomes pending, even
 * a masked one; a waiter on several ports (poll_port ~0) wakes for any.
 */
void evtchn_check_pollers(struct domain *d, evtchn_port_t port)
{
    /* The caller's pending bit went up (seq_cst) before this read, and a
     * poller counts itself before it looks at its ports: one of the two
     * sees the other, so "nobody polls" is safe to believe. */
    if (!__atomic_load_n(&d->nr_polling, __ATOMIC_SEQ_CST))
        return;
    for (unsigned i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v || !(READ_ONCE(v->pause_flags) & (1UL << VPF_polling)))
            continue;
        evtchn_port_t want = READ_ONCE(v->poll_port);
        if (want != ~0U && want != port)
            continue;
        vcpu_poll_wake(v);
    }
}

/* After a worker raised `port` of `target`: upcall and pollers. */
static void notify(const struct evtchn_kick *k, struct evtchn_domain *target,
                   evtchn_port_t port)
{
    evtchn_do_kick(k);
    if (target)
        evtchn_check_pollers(dom_of(target), port);
}

void send_guest_vcpu_virq(struct vcpu *v, u32 virq)
{
    struct domain *d = v->domain;
    struct evtchn_kick k = {NULL, 0};
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
    /* What evtchn_send_virq does, with the port kept for the pollers. */
    evtchn_port_t port = evtchn_virq_port(&d->evtchn, virq, v->vcpu_id);

    if (port)
        evtchn_raise(&d->evtchn, port, &k);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (port)
        notify(&k, &d->evtchn, port);
}

void send_guest_global_virq(struct domain *d, u32 virq)
{
    if (d && d->nr_vcpus && d->vcpus[0])
        send_guest_vcpu_virq(d->vcpus[0], virq);
}

void send_global_virq(u32 virq)
{
    struct domain *d = domain_get(0);

    if (!d)
        return;
    if (d->is_privileged)
        send_guest_global_virq(d, virq);
    domain_put(d);
}

/* ---------------------------------------------------------- sub-ops */

static long op_alloc_unbound(unsigned long arg)
{
    struct evtchn_alloc_unbound a;
    struct domain *d;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&a, arg))
        return -XEN_EFAULT;
    if ((rc = lookup_checked(a.dom, &d)))
        return rc;
    /* The remote end is recorded by id; it need not exist yet (Xen). */
    domid_t remote = a.remote_dom == DOMID_SELF ? current->domain->domid : a.remote_dom;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_alloc_unbound(&d->evtchn, remote, &a.port);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    domain_put(d);
    if (rc)
        return rc;
    return copy_to_guest_obj(arg, &a) ? -XEN_EFAULT : 0;
}

static long op_bind_interdomain(unsigned long arg)
{
    struct evtchn_bind_interdomain b;
    struct domain *ld = current->domain, *rd;
    struct evtchn_kick k;
    struct lock_pair lp;
    long rc;

    if (copy_from_guest_obj(&b, arg))
        return -XEN_EFAULT;
    rd = lookup(b.remote_dom);
    if (!rd)
        return -XEN_ESRCH;
    lock_two(&lp, ld, rd);
    rc = evtchn_bind_interdomain(&ld->evtchn, &rd->evtchn, b.remote_port,
                                 &b.local_port, &k);
    unlock_two(&lp);
    domain_put(rd);
    if (rc)
        return rc;
    notify(&k, &ld->evtchn, b.local_port);
    return copy_to_guest_obj(arg, &b) ? -XEN_EFAULT : 0;
}

static long op_bind_virq(unsigned long arg)
{
    struct evtchn_bind_virq b;
    struct domain *d = current->domain;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&b, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_bind_virq(&d->evtchn, b.virq, b.vcpu, &b.port);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc)
        return rc;
    return copy_to_guest_obj(arg, &b) ? -XEN_EFAULT : 0;
}

static long op_bind_ipi(unsigned long arg)
{
    struct evtchn_bind_ipi b;
    struct domain *d = current->domain;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&b, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_bind_ipi(&d->evtchn, b.vcpu, &b.port);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc)
        return rc;
    return copy_to_guest_obj(arg, &b) ? -XEN_EFAULT : 0;
}

static long op_send(unsigned long arg)
{
    struct evtchn_send s;
    struct domain *d = current->domain;
    struct evtchn_domain *target;
    evtchn_port_t tport = 0;
    struct evtchn_kick k;
    struct lock_pair lp;
    long rc;

    if (copy_from_guest_obj(&s, arg))
        return -XEN_EFAULT;
    lock_port(&lp, d, s.port);
    /* A bound port raises its target (what evtchn_send would look up
     * again); the rest (unbound, closed, bad) is evtchn_send's to answer. */
    target = evtchn_send_target(&d->evtchn, s.port, &tport);
    if (target) {
        evtchn_raise(target, tport, &k);
        rc = 0;
    } else {
        rc = evtchn_send(&d->evtchn, s.port, &k);
    }
    unlock_two(&lp);
    if (rc)
        return rc;
    notify(&k, target, tport);
    return 0;
}

static bool is_pirq_port(struct domain *d, evtchn_port_t port)
{
    return evtchn_pirq_port(&d->evtchn, port) != NULL;
}

static long close_port(struct domain *d, evtchn_port_t port)
{
    struct lock_pair lp;
    long rc;

    /* A PIRQ port also unbinds its interrupt, under the PIRQ lock, which
     * comes first (physdev_irq.c); so it closes there. */
    for (;;) {
        if (is_pirq_port(d, port) && (rc = pirq_evtchn_close(d, port)) <= 0)
            return rc;
        lock_port(&lp, d, port);
        if (!is_pirq_port(d, port))
            break;
        unlock_two(&lp);
    }
    rc = evtchn_close(&d->evtchn, port);
    unlock_two(&lp);
    return rc;
}

static long op_close(unsigned long arg)
{
    struct evtchn_close c;

    if (copy_from_guest_obj(&c, arg))
        return -XEN_EFAULT;
    return close_port(current->domain, c.port);
}

static long op_status(unsigned long arg)
{
    struct evtchn_status st;
    struct domain *d;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&st, arg))
        return -XEN_EFAULT;
    /* Xen's order: the domain, the port, then the right to look. */
    if (!(d = lookup(st.dom)))
        return -XEN_ESRCH;
    f = spin_lock_irqsave(&d->evtchn_lock);
    if (!evtchn_port(&d->evtchn, st.port))
        rc = -XEN_EINVAL;
    else if (d != current->domain && !current->domain->is_privileged)
        rc = -XEN_EPERM;
    else
        rc = evtchn_status(&d->evtchn, &st);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    domain_put(d);
    if (rc)
        return rc;
    return copy_to_guest_obj(arg, &st) ? -XEN_EFAULT : 0;
}

static long op_unmask(unsigned long arg)
{
    struct evtchn_unmask u;
    struct domain *d = current->domain;
    struct evtchn_kick k;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&u, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_unmask(&d->evtchn, u.port, &k);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (!rc)
        evtchn_do_kick(&k);
    return rc;
}

static long op_bind_vcpu(unsigned long arg)
{
    struct evtchn_bind_vcpu b;
    struct domain *d = current->domain;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&b, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_bind_vcpu(&d->evtchn, b.port, b.vcpu);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (!rc && is_pirq_port(d, b.port))
        pirq_evtchn_moved(d, b.port); /* the interrupt follows the vCPU */
    return rc;
}

static bool port_in_use(struct domain *d, evtchn_port_t p)
{
    const struct evtchn *chn = evtchn_port(&d->evtchn, p);

    return chn && READ_ONCE(chn->state) != ECS_FREE && READ_ONCE(chn->state) != ECS_RESERVED;
}

/* With every port closed, a FIFO domain goes back to 2-level (its frames
 * are let go); -EAGAIN, as Xen, if a port was bound meanwhile. */
static long back_to_2l(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);
    long rc = 0;

    for (evtchn_port_t p = 1; p < d->evtchn.valid_ports && !rc; p++)
        if (port_in_use(d, p))
            rc = -XEN_EAGAIN;
    if (!rc)
        evtchn_fifo_destroy(&d->evtchn);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    return rc;
}

/* Closes every port one at a time, each under its own pair of locks. */
static long op_reset(unsigned long arg)
{
    struct evtchn_reset r;
    struct domain *d;
    long rc;

    if (copy_from_guest_obj(&r, arg))
        return -XEN_EFAULT;
    if ((rc = lookup_checked(r.dom, &d)))
        return rc;
    for (evtchn_port_t p = 1; p < READ_ONCE(d->evtchn.valid_ports); p++)
        if (port_in_use(d, p))
            close_port(d, p); /* a port closed meanwhile gives -EINVAL: fine */
    rc = back_to_2l(d);
    domain_put(d);
    return rc;
}

#define RELINQUISH_BUDGET 64 /* ports closed per call before yielding */

int evtchn_domain_relinquish(struct domain *d)
{
    unsigned int budget = RELINQUISH_BUDGET;
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);

    d->evtchn.dying = true; /* from here on nobody adds a port to d */
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    for (evtchn_port_t p = 1; p < READ_ONCE(d->evtchn.valid_ports); p++) {
        if (!port_in_use(d, p))
            continue;
        if (budget-- == 0)
            return 1;
        close_port(d, p);
    }
    /* No port left: the FIFO frames go back to the domain's memory. */
    return back_to_2l(d) ? 1 : 0;
}

/* ------------------------------------------------------------ FIFO */

void *evtchn_arch_map_frame(struct evtchn_domain *ed, u64 gfn)
{
    struct domain *d = dom_of(ed);
    struct page_info *pg;
    mfn_t mfn = gfn;

    /* A PV guest names its frames by MFN, a translated one by GFN: only
     * RAM in its physical space will do (as Xen).  Taking the GFN as an
     * MFN put an HVM guest's control block and event words in whatever
     * frame of its own had that number: it never saw an event. */
    if (is_hvm_domain(d))
        mfn = hvm_gfn_to_ram(d, gfn);
    if (!mfn_valid(mfn))
        return NULL;
    pg = mfn_to_page(mfn);
    /* Keel writes it: a write reference keeps it from being retyped. */
    if (!get_page_keel_write(pg, d))
        return NULL;
    return mfn_to_virt(mfn);
}

void evtchn_arch_unmap_frame(void *page)
{
    put_page_keel_write(mfn_to_page(virt_to_mfn(page)));
}

static long op_init_control(unsigned long arg)
{
    struct evtchn_init_control c;
    struct domain *d = current->domain;
    unsigned long f;
    void *page;
    long rc;

    if (copy_from_guest_obj(&c, arg))
        return -XEN_EFAULT;
    if ((rc = evtchn_fifo_control_check(&d->evtchn, c.vcpu, c.offset)))
        return rc;
    page = evtchn_arch_map_frame(&d->evtchn, c.control_gfn);
    if (!page)
        return -XEN_EINVAL;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_fifo_init_control(&d->evtchn, c.vcpu, c.offset, page);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc) {
        evtchn_arch_unmap_frame(page);
        return rc;
    }
    c.link_bits = EVTCHN_FIFO_LINK_BITS;
    return copy_to_guest_obj(arg, &c) ? -XEN_EFAULT : 0;
}

static long op_expand_array(unsigned long arg)
{
    struct evtchn_expand_array e;
    struct domain *d = current->domain;
    u32 kicks = 0;
    unsigned long f;
    void *page;
    long rc;

    if (copy_from_guest_obj(&e, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_fifo_expand_check(&d->evtchn);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc)
        return rc;
    page = evtchn_arch_map_frame(&d->evtchn, e.array_gfn);
    if (!page)
        return -XEN_EINVAL;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_fifo_expand_array(&d->evtchn, page, &kicks);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    if (rc) {
        evtchn_arch_unmap_frame(page);
        return rc;
    }
    for (unsigned v = 0; kicks; v++, kicks >>= 1)
        if (kicks & 1)
            evtchn_do_kick(&(struct evtchn_kick){&d->evtchn, v});
    return 0;
}

static long op_set_priority(unsigned long arg)
{
    struct evtchn_set_priority sp;
    struct domain *d = current->domain;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&sp, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->evtchn_lock);
    rc = evtchn_set_priority(&d->evtchn, sp.port, sp.priority);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    return rc;
}

static long evtchn_op(unsigned cmd, unsigned long arg)
{
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        return op_alloc_unbound(arg);
    case EVTCHNOP_bind_interdomain:
        return op_bind_interdomain(arg);
    case EVTCHNOP_bind_virq:
        return op_bind_virq(arg);
    case EVTCHNOP_bind_ipi:
        return op_bind_ipi(arg);
    case EVTCHNOP_send:
        return op_send(arg);
    case EVTCHNOP_close:
        return op_close(arg);
    case EVTCHNOP_status:
        return op_status(arg);
    case EVTCHNOP_unmask:
        return op_unmask(arg);
    case EVTCHNOP_bind_vcpu:
        return op_bind_vcpu(arg);
    case EVTCHNOP_bind_pirq:
        return pirq_evtchn_bind(arg);
    case EVTCHNOP_reset:
        return op_reset(arg);
    case EVTCHNOP_init_control:
        return op_init_control(arg);
    case EVTCHNOP_expand_array:
        return op_expand_array(arg);
    case EVTCHNOP_set_priority:
        return op_set_priority(arg);
    default:
        return -XEN_ENOSYS;
    }
}
