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
 * Keel implements the 2-level ABI only.  FIFO setup fails, which Linux
 * treats as "use 2-level", and the FIFO-only operations answer as Xen
 * does for a 2-level domain.
 */
#include <asm/smp.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
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
    if (port >= d->evtchn.nr_ports || d->ports[port].state != ECS_INTERDOMAIN)
        return d;
    return dom_of(d->ports[port].u.peer.dom);
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
    if (k->vcpu < d->nr_vcpus && d->vcpus[k->vcpu])
        vcpu_kick(d->vcpus[k->vcpu]);
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

static long close_port(struct domain *d, evtchn_port_t port)
{
    struct lock_pair lp;
    long rc;

    lock_port(&lp, d, port);
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
    if ((rc = lookup_checked(st.dom, &d)))
        return rc;
    f = spin_lock_irqsave(&d->evtchn_lock);
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
    for (evtchn_port_t p = 1; p < d->evtchn.nr_ports; p++)
        if (READ_ONCE(d->ports[p].state) != ECS_FREE)
            close_port(d, p); /* a port closed meanwhile gives -EINVAL: fine */
    domain_put(d);
    return 0;
}

#define RELINQUISH_BUDGET 64 /* ports closed per call before yielding */

int evtchn_domain_relinquish(struct domain *d)
{
    unsigned int budget = RELINQUISH_BUDGET;
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);

    d->evtchn.dying = true; /* from here on nobody adds a port to d */
    spin_unlock_irqrestore(&d->evtchn_lock, f);
    for (evtchn_port_t p = 1; p < d->evtchn.nr_ports; p++) {
        if (READ_ONCE(d->ports[p].state) == ECS_FREE)
            continue;
        if (budget-- == 0)
            return 1;
        close_port(d, p);
    }
    return 0;
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
    case EVTCHNOP_reset:
        return op_reset(arg);
    case EVTCHNOP_init_control: {
        /* No FIFO: any error makes Linux fall back to 2-level.  The
         * argument is still read first, as Xen does (bad pointer: EFAULT). */
        struct evtchn_init_control c;
        if (copy_from_guest_obj(&c, arg))
            return -XEN_EFAULT;
        return -XEN_ENOSYS;
    }
    case EVTCHNOP_expand_array:
        return -XEN_EOPNOTSUPP; /* what Xen says on a 2-level domain */
    case EVTCHNOP_set_priority:
        return -XEN_ENOSYS;
    default: /* bind_pirq too: Keel routes no physical IRQs to guests */
        return -XEN_ENOSYS;
    }
}
