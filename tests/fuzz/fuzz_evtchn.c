/*
 * libFuzzer target for the event-channel state machine: the input is a
 * sequence of operations with arbitrary arguments on two domains, while the
 * "guest" scribbles on its shared bitmaps.  After every step the port
 * tables must stay consistent (interdomain ends point at each other, VIRQ
 * tables point at matching VIRQ ports) and kicks must name a real vCPU.
 * A domain may die mid-sequence (every port closed, no new ones); at the
 * end both close everything and no port may be left in use.
 */
#include <keel/event.h>

#define NPORTS 70 /* crosses a 64-bit selector word */

static struct shared_info sh[2];
static struct evtchn ports[2][NPORTS];
static struct evtchn_domain dom[2];

static void check_domain(struct evtchn_domain *d)
{
    for (evtchn_port_t p = 1; p < d->nr_ports; p++) {
        const struct evtchn *c = &d->ports[p];
        if (c->vcpu >= d->nr_vcpus)
            abort();
        if (c->state == ECS_INTERDOMAIN) {
            const struct evtchn_domain *r = c->u.peer.dom;
            if (r != &dom[0] && r != &dom[1])
                abort();
            if (c->u.peer.port >= r->nr_ports)
                abort();
            const struct evtchn *rc = &r->ports[c->u.peer.port];
            if (rc->state != ECS_INTERDOMAIN || rc->u.peer.dom != d ||
                rc->u.peer.port != p)
                abort();
        }
    }
    for (unsigned v = 0; v < d->nr_vcpus; v++)
        for (unsigned q = 0; q < NR_VIRQS; q++) {
            evtchn_port_t p = d->vcpu[v].virq[q];
            if (p && (p >= d->nr_ports || d->ports[p].state != ECS_VIRQ ||
                      d->ports[p].u.virq != q))
                abort();
        }
}

/* Ports in use (port 0 is reserved, never used). */
static unsigned count_used(const struct evtchn_domain *d)
{
    unsigned n = 0;
    for (evtchn_port_t p = 1; p < d->nr_ports; p++)
        n += d->ports[p].state != ECS_FREE;
    return n;
}

static void check_kick(const struct evtchn_kick *k)
{
    if (k->dom && ((k->dom != &dom[0] && k->dom != &dom[1]) ||
                   k->vcpu >= k->dom->nr_vcpus))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct evtchn_kick kick;
    struct evtchn_status st;
    evtchn_port_t p;

    memset(sh, 0, sizeof(sh));
    if (evtchn_domain_init(&dom[0], 0, 2, &sh[0], ports[0], NPORTS) ||
        evtchn_domain_init(&dom[1], 1, 3, &sh[1], ports[1], NPORTS))
        abort();
    for (size_t i = 0; i + 4 <= size; i += 4) {
        u8 op = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
        struct evtchn_domain *d = &dom[op & 1], *o = &dom[(op >> 1) & 1];
        u32 port = (u32)a | ((u32)(c & 0x80) << 1); /* some beyond NPORTS */
        kick.dom = NULL;
        switch ((op >> 2) % 12) {
        case 0: evtchn_alloc_unbound(d, b & 1, &p); break;
        case 1: evtchn_bind_interdomain(d, o, port, &p, &kick); break;
        case 2: evtchn_bind_virq(d, b, c & 7, &p); break;
        case 3: evtchn_bind_ipi(d, b & 7, &p); break;
        case 4: evtchn_close(d, port); break;
        case 5:
            st.port = port;
            evtchn_status(d, &st);
            break;
        case 6: evtchn_bind_vcpu(d, port, b & 7); break;
        case 7: evtchn_unmask(d, port, &kick); break;
        case 8: evtchn_send(d, port, &kick); break;
        case 9: evtchn_send_virq(d, b, c & 7, &kick); break;
        case 10: /* the guest flips bits in its shared page */
            d->shared->evtchn_mask[b % 2] ^= 1UL << (c % 64);
            d->shared->evtchn_pending[a % 2] ^= 1UL << (b % 64);
            d->shared->vcpu_info[c % 3].evtchn_pending_sel = 0;
            d->shared->vcpu_info[c % 3].evtchn_upcall_pending = 0;
            break;
        default:
            if (b == 0xff)
                evtchn_reset(d);
            if (b == 0xfe) { /* destruction: the domain dies, every port goes */
                d->dying = true;
                evtchn_reset(d);
                if (count_used(d))
                    abort();
            }
            break;
        }
        check_kick(&kick);
        check_domain(&dom[0]);
        check_domain(&dom[1]);
        /* A dead domain gets no new port, and nobody keeps one towards it. */
        for (int k = 0; k < 2; k++)
            if (dom[k].dying && count_used(&dom[k]))
                abort();
    }
    /* Both sides close everything: no port leaks, no dangling peer. */
    evtchn_reset(&dom[0]);
    check_domain(&dom[1]);
    evtchn_reset(&dom[1]);
    if (count_used(&dom[0]) || count_used(&dom[1]))
        abort();
    return 0;
}
