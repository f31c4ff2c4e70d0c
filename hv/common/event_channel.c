/*
 * Event channels: port bookkeeping and 2-level signalling.
 *
 * A port's record (struct evtchn) is private to Keel; its pending and mask
 * bits live in the guest-shared page, where the guest reads and clears them
 * at any moment.  So the record is trusted and the bitmaps are not: they are
 * only ever touched with atomic read-modify-write operations and nothing in
 * Keel depends on their value staying put.
 */
#include <keel/event.h>

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

static bool port_valid(const struct evtchn_domain *d, evtchn_port_t port)
{
    return port < d->nr_ports;
}

static bool vcpu_valid(const struct evtchn_domain *d, u32 vcpu)
{
    return vcpu < d->nr_vcpus;
}

int evtchn_domain_init(struct evtchn_domain *d, domid_t domid, unsigned nr_vcpus,
                       struct shared_info *shared, struct evtchn *ports,
                       unsigned nr_ports)
{
    if (!shared || !ports || nr_vcpus == 0 || nr_vcpus > EVTCHN_MAX_VCPUS ||
        nr_ports < 1 || nr_ports > EVTCHN_2L_PORTS)
        return -XEN_EINVAL;
    memset(d, 0, sizeof(*d));
    memset(ports, 0, nr_ports * sizeof(*ports));
    d->domid = domid;
    d->nr_vcpus = nr_vcpus;
    d->shared = shared;
    d->ports = ports;
    d->nr_ports = nr_ports;
    ports[0].state = ECS_RESERVED;
    for (unsigned v = 0; v < nr_vcpus && v < XEN_LEGACY_MAX_VCPUS; v++)
        d->vcpu[v].info = &shared->vcpu_info[v];
    return 0;
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

/* Lowest free port; port 0 is reserved so that 0 means "no port". */
static int get_free_port(struct evtchn_domain *d, evtchn_port_t *port)
{
    if (d->dying)
        return -XEN_EINVAL; /* as Xen: a dying domain gets no new port */
    for (evtchn_port_t p = 1; p < d->nr_ports; p++) {
        if (d->ports[p].state == ECS_FREE) {
            *port = p;
            return 0;
        }
    }
    return -XEN_ENOSPC;
}

/* Tells the notified vCPU, if the port is unmasked and news to it. */
static bool notify_vcpu(struct evtchn_domain *d, evtchn_port_t port,
                        struct evtchn_kick *kick)
{
    unsigned v = d->ports[port].vcpu;
    struct vcpu_info *vi = d->vcpu[v].info;
    xen_ulong_t sel = (xen_ulong_t)1 << (port / BITS_PER_WORD);

    if (!vi || test_and_set(&vi->evtchn_pending_sel, sel))
        return false;
    if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        return false;
    kick->dom = d;
    kick->vcpu = v;
    return true;
}

bool evtchn_raise(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick)
{
    struct shared_info *s = d->shared;
    unsigned w = port / BITS_PER_WORD;

    kick->dom = NULL;
    if (!port_valid(d, port))
        return false;
    if (test_and_set(&s->evtchn_pending[w], port_bit(port)))
        return false; /* the guest has yet to see the previous one */
    if (test_bit(&s->evtchn_mask[w], port_bit(port)))
        return false;
    return notify_vcpu(d, port, kick);
}

int evtchn_alloc_unbound(struct evtchn_domain *d, domid_t remote,
                         evtchn_port_t *port)
{
    int rc = get_free_port(d, port);

    if (rc)
        return rc;
    struct evtchn *chn = &d->ports[*port];
    chn->state = ECS_UNBOUND;
    chn->vcpu = 0;
    chn->u.unbound_remote = remote;
    return 0;
}

int evtchn_bind_interdomain(struct evtchn_domain *ld, struct evtchn_domain *rd,
                            evtchn_port_t rport, evtchn_port_t *lport,
                            struct evtchn_kick *kick)
{
    kick->dom = NULL;
    /* Xen's order: a local port first (-ENOSPC), then the remote end. */
    int rc = get_free_port(ld, lport);
    if (rc)
        return rc;
    if (!port_valid(rd, rport))
        return -XEN_EINVAL;
    struct evtchn *rchn = &rd->ports[rport];
    if (rchn->state != ECS_UNBOUND || rchn->u.unbound_remote != ld->domid)
        return -XEN_EINVAL;
    struct evtchn *lchn = &ld->ports[*lport];
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
    struct evtchn *chn = &d->ports[*port];
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
    d->ports[*port].state = ECS_IPI;
    d->ports[*port].vcpu = (u16)vcpu;
    return 0;
}

/* Returns a port to the free pool with nothing left pending for it. */
static void free_port(struct evtchn_domain *d, evtchn_port_t port)
{
    test_and_clear(&d->shared->evtchn_pending[port / BITS_PER_WORD], port_bit(port));
    memset(&d->ports[port], 0, sizeof(d->ports[port]));
}

int evtchn_close(struct evtchn_domain *d, evtchn_port_t port)
{
    if (!port_valid(d, port))
        return -XEN_EINVAL;
    struct evtchn *chn = &d->ports[port];
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
        struct evtchn *peer = &chn->u.peer.dom->ports[chn->u.peer.port];
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
    for (evtchn_port_t p = 1; p < d->nr_ports; p++)
        if (d->ports[p].state != ECS_FREE)
            evtchn_close(d, p);
}

int evtchn_status(struct evtchn_domain *d, struct evtchn_status *st)
{
    if (!port_valid(d, st->port))
        return -XEN_EINVAL;
    const struct evtchn *chn = &d->ports[st->port];
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
    if (!vcpu_valid(d, vcpu))
        return -XEN_ENOENT;
    if (!port_valid(d, port))
        return -XEN_EINVAL;
    struct evtchn *chn = &d->ports[port];
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
    unsigned w = port / BITS_PER_WORD;

    kick->dom = NULL;
    if (!port_valid(d, port))
        return -XEN_EINVAL;
    /* An event that arrived while masked is delivered now. */
    if (test_and_clear(&s->evtchn_mask[w], port_bit(port)) &&
        test_bit(&s->evtchn_pending[w], port_bit(port)))
        notify_vcpu(d, port, kick);
    return 0;
}

int evtchn_send(struct evtchn_domain *d, evtchn_port_t port,
                struct evtchn_kick *kick)
{
    kick->dom = NULL;
    if (!port_valid(d, port))
        return -XEN_EINVAL;
    const struct evtchn *chn = &d->ports[port];
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
    if (!port_valid(d, port))
        return NULL;
    const struct evtchn *chn = &d->ports[port];
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
    if (!port_valid(d, port))
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
