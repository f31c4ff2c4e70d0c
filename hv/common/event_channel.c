/*
 * Event channels: port bookkeeping, and 2-level signalling (FIFO's is in
 * event_fifo.c).
 *
 * A port's record (struct evtchn) is private to Keel; its pending and mask
 * bits live in guest-shared memory, where the guest reads and clears them
 * at any moment.  So the record is trusted and the bitmaps are not: they
 * are only ever touched with atomic read-modify-write operations and
 * nothing in Keel depends on their value staying put.
 */
#include <keel/event.h>

#ifdef KEEL_HOST
static void *ev_zalloc(size_t n) { return calloc(1, n); }
static void ev_free(void *p) { free(p); }
#else
#include <keel/mm.h>
#define ev_zalloc xzalloc
#define ev_free xfree
#endif

#define BITS_PER_WORD (sizeof(xen_ulong_t) * 8)

static bool test_and_set(xen_ulong_t *word, xen_ulong_t bit)
{
    return __atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST) & bit;
}

static bool test_and_clear(xen_ulong_t *word, xen_ulong_t bit)
{
    return __atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST) & bit;
}

static bool test_bit(xen_ulong_t *word, xen_ulong_t bit)
{
    return __atomic_load_n(word, __ATOMIC_SEQ_CST) & bit;
}

static xen_ulong_t port_bit(evtchn_port_t port)
{
    return (xen_ulong_t)1 << (port % BITS_PER_WORD);
}

static bool vcpu_valid(const struct evtchn_domain *d, u32 vcpu)
{
    return vcpu < d->nr_vcpus;
}

/* ------------------------------------------------------------ storage */

unsigned evtchn_max_ports(const struct evtchn_domain *d)
{
    unsigned abi = evtchn_abi_ports(d);

    return d->max_ports < abi ? d->max_ports : abi;
}

/* Makes the next EVTCHN_BUCKET ports valid. */
static int add_bucket(struct evtchn_domain *d)
{
    unsigned b = d->valid_ports / EVTCHN_BUCKET;
    struct evtchn *chn;

    if (b >= EVTCHN_MAX_BUCKETS)
        return -XEN_ENOSPC;
    chn = d->bucket[b];
    if (!chn) {
        /* Storage outlives a return to 2-level: only made once. */
        chn = ev_zalloc(EVTCHN_BUCKET * sizeof(*chn));
        if (!chn)
            return -XEN_ENOMEM;
        d->bucket[b] = chn;
    }
    /* The records before the count that lock-free readers use. */
    __atomic_store_n(&d->valid_ports, d->valid_ports + EVTCHN_BUCKET, __ATOMIC_RELEASE);
    return 0;
}

int evtchn_domain_init(struct evtchn_domain *d, domid_t domid, unsigned nr_vcpus,
                       struct shared_info *shared, unsigned max_ports)
{
    int rc;

    if (!shared || nr_vcpus == 0 || nr_vcpus > EVTCHN_MAX_VCPUS || max_ports < 1)
        return -XEN_EINVAL;
    memset(d, 0, sizeof(*d));
    d->domid = domid;
    d->nr_vcpus = nr_vcpus;
    d->shared = shared;
    d->max_ports = max_ports;
    rc = add_bucket(d);
    if (rc)
        return rc;
    d->bucket[0][0].state = ECS_RESERVED;
    for (unsigned v = 0; v < nr_vcpus && v < XEN_LEGACY_MAX_VCPUS; v++)
        d->vcpu[v].info = &shared->vcpu_info[v];
    return 0;
}

void evtchn_domain_destroy(struct evtchn_domain *d)
{
    evtchn_fifo_destroy(d);
    for (unsigned b = 0; b < EVTCHN_MAX_BUCKETS; b++) {
        ev_free(d->bucket[b]);
        d->bucket[b] = NULL;
    }
    d->valid_ports = 0;
}

int evtchn_set_vcpu_info(struct evtchn_domain *d, unsigned vcpu,
                         struct vcpu_info *info)
{
    if (!vcpu_valid(d, vcpu))
        return -XEN_ENOENT;
    if (!info)
        return -XEN_EINVAL;
    d->vcpu[vcpu].info = info;
    /* Events raised before the move left no trace in the new copy: have
     * the guest scan every word once. */
    __atomic_store_n(&info->evtchn_pending_sel, ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
    return 0;
}

/*
 * The lowest free port, made valid if need be (Xen's order: port 0 is
 * reserved, so 0 means "no port"; a free port still linked on a FIFO queue
 * is skipped).  A new port starts at the default FIFO priority.
 */
static int get_free_port(struct evtchn_domain *d, evtchn_port_t *port)
{
    unsigned limit = evtchn_max_ports(d);
    evtchn_port_t busy = 0; /* the first free port still linked, if any */

    if (d->dying)
        return -XEN_EINVAL; /* as Xen: a dying domain gets no new port */
    /* free_hint only saves the scan of ports known to be in use. */
    for (evtchn_port_t p = d->free_hint > 1 ? d->free_hint : 1; p < limit; p++) {
        struct evtchn *chn;
        if (p >= d->valid_ports) {
            int rc = add_bucket(d);
            if (rc)
                return rc;
        }
        chn = evtchn_port(d, p);
        if (chn->state != ECS_FREE)
            continue;
        if (d->fifo && evtchn_fifo_is_busy(d, p)) {
            busy = busy ? busy : p;
            continue;
        }
        chn->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        *port = p;
        /* Not past p: a caller may still fail and leave p free (a bind
         * whose remote end is refused), and p is then the lowest. */
        d->free_hint = busy ? busy : p;
        return 0;
    }
    return -XEN_ENOSPC;
}

/* ----------------------------------------------------------- signalling */

bool evtchn_mark_upcall(struct evtchn_domain *d, unsigned v, struct evtchn_kick *kick)
{
    struct vcpu_info *vi = d->vcpu[v].info;

    if (!vi || __atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        return false;
    kick->dom = d;
    kick->vcpu = v;
    return true;
}

/* 2-level: tells the notified vCPU, if the port is news to its selector. */
static bool notify_vcpu_2l(struct evtchn_domain *d, evtchn_port_t port, unsigned v,
                           struct evtchn_kick *kick)
{
    struct vcpu_info *vi = d->vcpu[v].info;
    xen_ulong_t sel = (xen_ulong_t)1 << (port / BITS_PER_WORD);

    if (!vi || test_and_set(&vi->evtchn_pending_sel, sel))
        return false;
    return evtchn_mark_upcall(d, v, kick);
}

static void raise_2l(struct evtchn_domain *d, evtchn_port_t port, unsigned v,
                     struct evtchn_kick *kick)
{
    struct shared_info *s = d->shared;
    unsigned w = port / BITS_PER_WORD;

    if (port >= EVTCHN_2L_PORTS)
        return; /* records left from a FIFO past: no bit to set */
    if (test_and_set(&s->evtchn_pending[w], port_bit(port)))
        return; /* the guest has yet to see the previous one */
    if (test_bit(&s->evtchn_mask[w], port_bit(port)))
        return;
    notify_vcpu_2l(d, port, v, kick);
}

bool evtchn_raise(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick)
{
    struct evtchn *chn = evtchn_port(d, port);

    kick->dom = NULL;
    if (!chn)
        return false;
    if (d->fifo)
        evtchn_fifo_raise(d, chn, port, kick);
    else
        raise_2l(d, port, chn->vcpu, kick);
    return kick->dom != NULL;
}

static void clear_pending(struct evtchn_domain *d, evtchn_port_t port)
{
    if (d->fifo)
        evtchn_fifo_clear_pending(d, port);
    else if (port < EVTCHN_2L_PORTS)
        test_and_clear(&d->shared->evtchn_pending[port / BITS_PER_WORD], port_bit(port));
}

/* ------------------------------------------------------------- binding */

int evtchn_alloc_unbound(struct evtchn_domain *d, domid_t remote,
                         evtchn_port_t *port)
{
    int rc = get_free_port(d, port);

    if (rc)
        return rc;
    struct evtchn *chn = evtchn_port(d, *port);
    chn->state = ECS_UNBOUND;
    chn->vcpu = 0;
    chn->u.unbound_remote = remote;
    return 0;
}

int evtchn_bind_interdomain(struct evtchn_domain *ld, struct evtchn_domain *rd,
                            evtchn_port_t rport, evtchn_port_t *lport,
                            struct evtchn_kick *kick)
{
    struct evtchn *rchn, *lchn;

    kick->dom = NULL;
    /* Xen's order: a local port first (-ENOSPC), then the remote end. */
    int rc = get_free_port(ld, lport);
    if (rc)
        return rc;
    rchn = evtchn_port(rd, rport);
    if (!rchn || rchn->state != ECS_UNBOUND || rchn->u.unbound_remote != ld->domid)
        return -XEN_EINVAL;
    lchn = evtchn_port(ld, *lport);
    lchn->state = ECS_INTERDOMAIN;
    lchn->vcpu = 0;
    lchn->u.peer.dom = rd;
    lchn->u.peer.port = rport;
    rchn->state = ECS_INTERDOMAIN;
    rchn->u.peer.dom = ld;
    rchn->u.peer.port = *lport;
    /* The peer may have signalled while unbound; that signal was dropped,
     * so the new end starts pending rather than missing it (Xen does the
     * same, loopback included). */
    evtchn_raise(ld, *lport, kick);
    return 0;
}

bool evtchn_virq_is_global(u32 virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    default:
        return true;
    }
}

int evtchn_bind_virq(struct evtchn_domain *d, u32 virq, u32 vcpu,
                     evtchn_port_t *port)
{
    if (virq >= NR_VIRQS)
        return -XEN_EINVAL;
    if (evtchn_virq_is_global(virq) && vcpu != 0)
        return -XEN_EINVAL; /* moved later with bind_vcpu */
    if (!vcpu_valid(d, vcpu))
        return -XEN_ENOENT;
    if (d->vcpu[vcpu].virq[virq])
        return -XEN_EEXIST;
    int rc = get_free_port(d, port);
    if (rc)
        return rc;
    struct evtchn *chn = evtchn_port(d, *port);
    chn->state = ECS_VIRQ;
    chn->vcpu = (u16)vcpu;
    chn->u.virq = virq;
    d->vcpu[vcpu].virq[virq] = *port;
    return 0;
}

int evtchn_bind_ipi(struct evtchn_domain *d, u32 vcpu, evtchn_port_t *port)
{
    if (!vcpu_valid(d, vcpu))
        return -XEN_ENOENT;
    int rc = get_free_port(d, port);
    if (rc)
        return rc;
    struct evtchn *chn = evtchn_port(d, *port);
    chn->state = ECS_IPI;
    chn->vcpu = (u16)vcpu;
    return 0;
}

int evtchn_bind_pirq(struct evtchn_domain *d, u32 pirq, evtchn_port_t *port)
{
    int rc = get_free_port(d, port);

    if (rc)
        return rc;
    struct evtchn *chn = evtchn_port(d, *port);
    chn->state = ECS_PIRQ;
    chn->vcpu = 0; /* Xen binds PIRQs to vCPU 0 first */
    chn->u.pirq = pirq;
    return 0;
}

/* Returns a port to the free pool with nothing left pending for it.  The
 * FIFO queue it was last on is remembered (Xen's lastq): a reused port
 * must still unlink itself from there. */
static void free_port(struct evtchn_domain *d, evtchn_port_t port)
{
    struct evtchn *chn = evtchn_port(d, port);

    clear_pending(d, port);
    if (port < d->free_hint)
        d->free_hint = port;
    chn->state = ECS_FREE;
    chn->vcpu = 0;
    chn->pending = false;
    memset(&chn->u, 0, sizeof(chn->u));
}

int evtchn_close(struct evtchn_domain *d, evtchn_port_t port)
{
    struct evtchn *chn = evtchn_port(d, port);

    if (!chn)
        return -XEN_EINVAL;
    switch (chn->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        return -XEN_EINVAL;
    case ECS_VIRQ: {
        unsigned owner = evtchn_virq_is_global(chn->u.virq) ? 0 : chn->vcpu;
        d->vcpu[owner].virq[chn->u.virq] = 0;
        break;
    }
    case ECS_INTERDOMAIN: {
        /* The other end goes back to waiting for us to rebind. */
        struct evtchn *peer = evtchn_port(chn->u.peer.dom, chn->u.peer.port);
        peer->state = ECS_UNBOUND;
        peer->u.unbound_remote = d->domid;
        break;
    }
    default:
        break;
    }
    free_port(d, port);
    return 0;
}

void evtchn_reset(struct evtchn_domain *d)
{
    for (evtchn_port_t p = 1; p < d->valid_ports; p++)
        if (evtchn_port(d, p)->state != ECS_FREE)
            evtchn_close(d, p);
    evtchn_fifo_destroy(d);
}

int evtchn_status(struct evtchn_domain *d, struct evtchn_status *st)
{
    const struct evtchn *chn = evtchn_port(d, st->port);

    if (!chn)
        return -XEN_EINVAL;
    memset(&st->u, 0, sizeof(st->u));
    st->vcpu = chn->vcpu;
    switch (chn->state) {
    case ECS_UNBOUND:
        st->status = EVTCHNSTAT_unbound;
        st->u.unbound.dom = chn->u.unbound_remote;
        break;
    case ECS_INTERDOMAIN:
        st->status = EVTCHNSTAT_interdomain;
        st->u.interdomain.dom = chn->u.peer.dom->domid;
        st->u.interdomain.port = chn->u.peer.port;
        break;
    case ECS_PIRQ:
        st->status = EVTCHNSTAT_pirq;
        st->u.pirq = chn->u.pirq;
        break;
    case ECS_VIRQ:
        st->status = EVTCHNSTAT_virq;
        st->u.virq = chn->u.virq;
        break;
    case ECS_IPI:
        st->status = EVTCHNSTAT_ipi;
        break;
    default:
        st->status = EVTCHNSTAT_closed;
        break;
    }
    return 0;
}

int evtchn_bind_vcpu(struct evtchn_domain *d, evtchn_port_t port, u32 vcpu)
{
    struct evtchn *chn;

    if (!vcpu_valid(d, vcpu))
        return -XEN_ENOENT;
    chn = evtchn_port(d, port);
    if (!chn)
        return -XEN_EINVAL;
    switch (chn->state) {
    case ECS_VIRQ:
        /* A per-vCPU VIRQ belongs to its vCPU's table. */
        if (!evtchn_virq_is_global(chn->u.virq))
            return -XEN_EINVAL;
        break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
    case ECS_PIRQ:
        break;
    default:
        return -XEN_EINVAL;
    }
    chn->vcpu = (u16)vcpu;
    return 0;
}

int evtchn_unmask(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick)
{
    struct shared_info *s = d->shared;
    struct evtchn *chn = evtchn_port(d, port);
    unsigned w = port / BITS_PER_WORD;

    kick->dom = NULL;
    if (!chn)
        return -XEN_EINVAL;
    if (d->fifo) {
        evtchn_fifo_unmask(d, chn, port, kick);
        return 0;
    }
    /* An event that arrived while masked is delivered now. */
    if (port < EVTCHN_2L_PORTS && test_and_clear(&s->evtchn_mask[w], port_bit(port)) &&
        test_bit(&s->evtchn_pending[w], port_bit(port)))
        notify_vcpu_2l(d, port, chn->vcpu, kick);
    return 0;
}

int evtchn_send(struct evtchn_domain *d, evtchn_port_t port,
                struct evtchn_kick *kick)
{
    const struct evtchn *chn = evtchn_port(d, port);

    kick->dom = NULL;
    if (!chn)
        return -XEN_EINVAL;
    switch (chn->state) {
    case ECS_INTERDOMAIN:
        evtchn_raise(chn->u.peer.dom, chn->u.peer.port, kick);
        return 0;
    case ECS_IPI:
        evtchn_raise(d, port, kick);
        return 0;
    case ECS_UNBOUND:
        return 0; /* nobody listens yet: dropped, as Xen does */
    default:
        return -XEN_EINVAL;
    }
}

int evtchn_set_priority(struct evtchn_domain *d, evtchn_port_t port, u32 priority)
{
    struct evtchn *chn = evtchn_port(d, port);

    if (!chn)
        return -XEN_EINVAL;
    if (!d->fifo)
        return -XEN_ENOSYS; /* the 2-level ABI has no priorities */
    if (priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -XEN_EINVAL;
    /* Future links only: a pending event stays on the queue it is on. */
    chn->priority = (u8)priority;
    return 0;
}

bool evtchn_send_virq(struct evtchn_domain *d, u32 virq, u32 vcpu,
                      struct evtchn_kick *kick)
{
    kick->dom = NULL;
    if (virq >= NR_VIRQS)
        return false;
    if (evtchn_virq_is_global(virq))
        vcpu = 0;
    if (!vcpu_valid(d, vcpu) || !d->vcpu[vcpu].virq[virq])
        return false;
    evtchn_raise(d, d->vcpu[vcpu].virq[virq], kick);
    return true;
}

struct evtchn_domain *evtchn_send_target(struct evtchn_domain *d, evtchn_port_t port,
                                         evtchn_port_t *target)
{
    const struct evtchn *chn = evtchn_port(d, port);

    if (!chn)
        return NULL;
    switch (chn->state) {
    case ECS_INTERDOMAIN:
        *target = chn->u.peer.port;
        return chn->u.peer.dom;
    case ECS_IPI:
        *target = port;
        return d;
    default:
        return NULL;
    }
}

bool evtchn_is_pending(const struct evtchn_domain *d, evtchn_port_t port)
{
    if (!evtchn_port(d, port))
        return false;
    if (d->fifo)
        return evtchn_fifo_is_pending(d, port);
    if (port >= EVTCHN_2L_PORTS)
        return false;
    return test_bit(&d->shared->evtchn_pending[port / BITS_PER_WORD], port_bit(port));
}

evtchn_port_t evtchn_virq_port(const struct evtchn_domain *d, u32 virq, u32 vcpu)
{
    if (virq >= NR_VIRQS)
        return 0;
    if (evtchn_virq_is_global(virq))
        vcpu = 0;
    return vcpu_valid(d, vcpu) ? d->vcpu[vcpu].virq[virq] : 0;
}
