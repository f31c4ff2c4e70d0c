/*
 * libFuzzer target for event channels, 2-level and FIFO: the input is a
 * sequence of operations with arbitrary arguments on two domains.
 *
 * The first byte picks the guest's manners.  A well-behaved guest (even)
 * does what Linux's FIFO code does: control blocks for every vCPU first,
 * event words masked and unmasked by Linux's rules, and a consumer that
 * runs Linux's handler loop (step by step, so Keel's links interleave with
 * it).  Then no event may be lost: once every handler has drained, no
 * unmasked port may be left pending, and a handler run may never walk a
 * queue longer than the ports there are (no cycles).  A hostile guest
 * (odd) scribbles anything anywhere in its words and control blocks, and
 * may overlap them; Keel must stay memory-safe (ASan) and keep its own
 * state sound.
 *
 * After every step: interdomain ends point at each other, VIRQ tables at
 * matching VIRQ ports, kicks name real vCPUs, every FIFO queue tail Keel
 * keeps is a port with an event word.  A domain may die mid-sequence
 * (every port closed, no new ones, back to 2-level).  At the end both
 * reset: no port is left in use and every frame taken is given back.
 */
#include <keel/event.h>

#define PAGES_PER_DOM 8
#define W_P (1U << EVTCHN_FIFO_PENDING)
#define W_M (1U << EVTCHN_FIFO_MASKED)
#define W_L (1U << EVTCHN_FIFO_LINKED)
#define W_B (1U << EVTCHN_FIFO_BUSY)

static struct shared_info sh[2];
static struct evtchn_domain dom[2];
static u8 frames[2][PAGES_PER_DOM][4096] __attribute__((aligned(4096)));
static int refs[2][PAGES_PER_DOM];
static bool hostile;

void *evtchn_arch_map_frame(struct evtchn_domain *d, u64 gfn)
{
    int k = d == &dom[1];

    if (gfn >= PAGES_PER_DOM)
        return NULL;
    refs[k][gfn]++;
    return frames[k][gfn];
}

void evtchn_arch_unmap_frame(void *page)
{
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < PAGES_PER_DOM; i++)
            if (page == frames[k][i]) {
                if (refs[k][i] <= 0)
                    abort();
                refs[k][i]--;
                return;
            }
    abort(); /* not a frame we handed out */
}

/* ---- Linux's FIFO consumer, one step at a time */

struct consumer {
    bool in_handler;
    u32 ready;
    evtchn_port_t head[EVTCHN_FIFO_QUEUES];
    unsigned walked; /* events taken in this handler run */
};
static struct consumer cons[2][EVTCHN_MAX_VCPUS];

static event_word_t *word(struct evtchn_domain *d, evtchn_port_t p)
{
    if (!d->fifo || p >= d->fifo->nr_words)
        return NULL;
    return d->fifo->array[p / 1024] + p % 1024;
}

/* Clears LINKED and LINK at once, returning the link (Linux's clear_linked). */
static evtchn_port_t clear_linked(event_word_t *w)
{
    event_word_t old = __atomic_load_n(w, __ATOMIC_SEQ_CST), nw;
    do
        nw = old & ~(W_L | EVTCHN_FIFO_LINK_MASK);
    while (!__atomic_compare_exchange_n(w, &old, nw, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST));
    return old & EVTCHN_FIFO_LINK_MASK;
}

static void consume_one(struct evtchn_domain *d, struct consumer *c, unsigned v,
                        struct evtchn_fifo_control_block *cb, unsigned q)
{
    evtchn_port_t port = c->head[q] ? c->head[q] : cb->head[q];
    event_word_t *w = word(d, port);
    const struct evtchn *chn = evtchn_port(d, port);
    evtchn_port_t next;

    /* Keel linked it on this queue, and nowhere else since. */
    if (!hostile && (!chn || chn->last_vcpu != v || chn->last_prio != q))
        abort();

    if (!w) { /* a head without a word: only a hostile guest gets here */
        if (!hostile)
            abort();
        c->ready &= ~(1U << q);
        c->head[q] = 0;
        return;
    }
    next = clear_linked(w);
    if (!next)
        c->ready &= ~(1U << q);
    if ((*w & W_P) && !(*w & W_M))
        __atomic_fetch_and(w, ~W_P, __ATOMIC_SEQ_CST); /* handled and acked */
    c->head[q] = next;
    if (++c->walked > EVTCHN_FIFO_PORTS + EVTCHN_FIFO_QUEUES) {
        if (!hostile)
            abort(); /* a cycle in a queue Keel linked */
        memset(c, 0, sizeof(*c)); /* the guest's own cycle: give up */
    }
}

/* One step of vCPU v's upcall handler; false when it has finished. */
static bool handler_step(struct evtchn_domain *d, struct consumer *c, unsigned v)
{
    struct evtchn_fifo_control_block *cb = d->vcpu[v].fifo_cb;

    if (!cb || !d->fifo)
        return false;
    if (!c->in_handler) {
        d->vcpu[v].info->evtchn_upcall_pending = 0;
        c->ready = __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST) & 0xffff;
        c->in_handler = true;
        c->walked = 0;
    }
    if (c->ready)
        consume_one(d, c, v, cb, (unsigned)__builtin_ctz(c->ready));
    c->ready |= __atomic_exchange_n(&cb->ready, 0, __ATOMIC_SEQ_CST) & 0xffff;
    if (!c->ready)
        c->in_handler = false;
    return c->in_handler;
}

static void drain(int k)
{
    struct evtchn_domain *d = &dom[k];

    for (unsigned v = 0; v < d->nr_vcpus; v++)
        while (handler_step(d, &cons[k][v], v))
            ;
}

static void check_kick(const struct evtchn_kick *k)
{
    if (k->dom && ((k->dom != &dom[0] && k->dom != &dom[1]) ||
                   k->vcpu >= k->dom->nr_vcpus))
        abort();
}

/* Linux's unmask: clear MASKED unless pending (or BUSY), else ask. */
static void guest_unmask(struct evtchn_domain *d, evtchn_port_t p, struct evtchn_kick *k)
{
    event_word_t *w = word(d, p);
    event_word_t old;

    k->dom = NULL;
    if (!w)
        return;
    old = __atomic_load_n(w, __ATOMIC_SEQ_CST);
    while (!(old & (W_P | W_B)))
        if (__atomic_compare_exchange_n(w, &old, old & ~W_M, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return;
    evtchn_unmask(d, p, k);
}

/* Linux unmasks a port when its IRQ starts up, right after binding. */
static void linux_startup(struct evtchn_domain *d, evtchn_port_t p)
{
    struct evtchn_kick k;

    if (hostile || !d->fifo)
        return;
    guest_unmask(d, p, &k);
    check_kick(&k);
}

/* ---- invariants */

static void check_domain(struct evtchn_domain *d)
{
    for (evtchn_port_t p = 1; p < d->valid_ports; p++) {
        const struct evtchn *c = evtchn_port(d, p);
        /* No free port below the hint: the next port is Xen's, the lowest
         * free one (a free port still on a FIFO queue is skipped). */
        if (p < d->free_hint && c->state == ECS_FREE && !(d->fifo && evtchn_fifo_is_busy(d, p)))
            abort();
        if (c->vcpu >= d->nr_vcpus || c->last_vcpu >= d->nr_vcpus ||
            c->priority > EVTCHN_FIFO_PRIORITY_MIN || c->last_prio > EVTCHN_FIFO_PRIORITY_MIN)
            abort();
        if (c->state == ECS_INTERDOMAIN) {
            const struct evtchn_domain *r = c->u.peer.dom;
            if (r != &dom[0] && r != &dom[1])
                abort();
            const struct evtchn *rc = evtchn_port(r, c->u.peer.port);
            if (!rc || rc->state != ECS_INTERDOMAIN || rc->u.peer.dom != d ||
                rc->u.peer.port != p)
                abort();
        }
    }
    if (evtchn_port(d, 0)->state != ECS_RESERVED)
        abort();
    for (unsigned v = 0; v < d->nr_vcpus; v++) {
        for (unsigned q = 0; q < NR_VIRQS; q++) {
            evtchn_port_t p = d->vcpu[v].virq[q];
            const struct evtchn *c = evtchn_port(d, p);
            if (p && (!c || c->state != ECS_VIRQ || c->u.virq != q))
                abort();
        }
        for (unsigned q = 0; q < EVTCHN_FIFO_QUEUES; q++) {
            evtchn_port_t t = d->vcpu[v].fifo_tail[q];
            if (t && (!d->fifo || !word(d, t)))
                abort();
        }
    }
}

/* After every handler drained: no unmasked event may be left pending. */
static void check_nothing_lost(int k)
{
    struct evtchn_domain *d = &dom[k];

    if (hostile || !d->fifo)
        return;
    for (evtchn_port_t p = 1; p < d->fifo->nr_words && p < d->valid_ports; p++) {
        event_word_t w = *word(d, p);
        if ((w & W_P) && !(w & W_M) && d->vcpu[evtchn_port(d, p)->vcpu].fifo_cb)
            abort();
    }
}

static unsigned count_used(const struct evtchn_domain *d)
{
    unsigned n = 0;
    for (evtchn_port_t p = 1; p < d->valid_ports; p++)
        n += evtchn_port(d, p)->state != ECS_FREE;
    return n;
}


/* A well-behaved guest's FIFO start: every vCPU's block, one array page. */
static void linux_init(int k, u8 b)
{
    struct evtchn_domain *d = &dom[k];
    u32 kicks;

    if (d->fifo)
        return;
    for (unsigned v = 0; v < d->nr_vcpus; v++) {
        void *page = evtchn_arch_map_frame(d, 0);
        memset((u8 *)page + 128 * v, 0, 128);
        if (evtchn_fifo_init_control(d, v, 128 * v, page))
            evtchn_arch_unmap_frame(page);
    }
    for (unsigned i = 1; i <= 1 + (b & 1); i++) {
        void *page = evtchn_arch_map_frame(d, i);
        /* Linux initialises new words masked. */
        for (unsigned w = 0; w < 1024; w++)
            ((event_word_t *)page)[w] = W_M;
        if (evtchn_fifo_expand_array(d, page, &kicks))
            evtchn_arch_unmap_frame(page);
    }
    memset(cons[k], 0, sizeof(cons[k]));
}

static void fifo_op(int k, u8 a, u8 b, u8 c)
{
    struct evtchn_domain *d = &dom[k];
    u32 kicks;
    void *page;

    if (!hostile) {
        linux_init(k, b);
        return;
    }
    if (a & 1) {
        if (evtchn_fifo_control_check(d, b % 4, (u32)c * 16 + (a & 8)))
            return;
        page = evtchn_arch_map_frame(d, (a >> 1) % (PAGES_PER_DOM + 1));
        if (page && evtchn_fifo_init_control(d, b % 4, (u32)c * 16 + (a & 8), page))
            evtchn_arch_unmap_frame(page);
    } else {
        if (evtchn_fifo_expand_check(d))
            return;
        page = evtchn_arch_map_frame(d, (a >> 1) % (PAGES_PER_DOM + 1));
        if (page && evtchn_fifo_expand_array(d, page, &kicks))
            evtchn_arch_unmap_frame(page);
    }
}

static void guest_action(int k, u8 a, u8 b, u8 c)
{
    struct evtchn_domain *d = &dom[k];
    struct evtchn_kick kick;
    u32 port = (u32)a | ((u32)(c & 0x7) << 8);

    if (!d->fifo) {
        /* 2-level: the guest flips bits in its shared page. */
        d->shared->evtchn_mask[b % 2] ^= 1UL << (c % 64);
        d->shared->evtchn_pending[a % 2] ^= 1UL << (b % 64);
        d->shared->vcpu_info[c % 3].evtchn_pending_sel = 0;
        d->shared->vcpu_info[c % 3].evtchn_upcall_pending = 0;
        return;
    }
    if (hostile) {
        u8 *f = frames[k][b % PAGES_PER_DOM];
        u32 at = ((u32)c * 16 + (a & 15)) % 4093;
        f[at] ^= a;
        f[at + 1] ^= b;
        f[at + 3] ^= (u8)(c ^ a);
        return;
    }
    switch (b % 4) {
    case 0: /* mask */
        if (word(d, port))
            __atomic_fetch_or(word(d, port), W_M, __ATOMIC_SEQ_CST);
        break;
    case 1:
        guest_unmask(d, port, &kick);
        check_kick(&kick);
        break;
    case 2:
        handler_step(d, &cons[k][c % d->nr_vcpus], c % d->nr_vcpus);
        break;
    default:
        drain(k);
        check_nothing_lost(k);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct evtchn_kick kick;
    struct evtchn_status st;
    evtchn_port_t p;

    if (!size)
        return 0;
    hostile = data[0] & 1;
    memset(sh, 0, sizeof(sh));
    memset(frames, 0, sizeof(frames));
    memset(cons, 0, sizeof(cons));
    if (evtchn_domain_init(&dom[0], 0, 2, &sh[0], 70) ||
        evtchn_domain_init(&dom[1], 1, 3, &sh[1], 1100))
        abort();
    /* Most well-behaved runs are FIFO from the start, as Linux is. */
    if (!hostile && (data[0] & 6)) {
        linux_init(0, data[0] >> 3);
        linux_init(1, data[0] >> 4);
    }
    for (size_t i = 1; i + 4 <= size; i += 4) {
        u8 op = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
        int k = op & 1;
        struct evtchn_domain *d = &dom[k], *o = &dom[(op >> 1) & 1];
        u32 port = (u32)a | ((u32)(c & 0x7) << 8); /* some beyond every limit */
        kick.dom = NULL;
        switch ((op >> 2) % 16) {
        case 0: evtchn_alloc_unbound(d, b & 1, &p); break;
        case 1:
            if (!evtchn_bind_interdomain(d, o, port, &p, &kick))
                linux_startup(d, p);
            break;
        case 2:
            if (!evtchn_bind_virq(d, b, c & 7, &p))
                linux_startup(d, p);
            break;
        case 3:
            if (!evtchn_bind_ipi(d, b & 7, &p))
                linux_startup(d, p);
            break;
        case 4: evtchn_close(d, port); break;
        case 5:
            st.port = port;
            evtchn_status(d, &st);
            break;
        case 6: evtchn_bind_vcpu(d, port, b & 7); break;
        case 7:
            if (hostile || !d->fifo)
                evtchn_unmask(d, port, &kick);
            else
                guest_unmask(d, port, &kick);
            break;
        case 8: evtchn_send(d, port, &kick); break;
        case 9: evtchn_send_virq(d, b, c & 7, &kick); break;
        case 10:
        case 11: guest_action(k, a, b, c); break;
        case 12: fifo_op(k, a, b, c); break;
        case 13: evtchn_set_priority(d, port, b & 31); break;
        case 14: /* SCHEDOP_poll's question, on any port */
            (void)evtchn_is_pending(d, port);
            break;
        default:
            if (b == 0xff) {
                evtchn_reset(d);
                memset(cons[k], 0, sizeof(cons[k]));
            }
            if (b == 0xfe) { /* destruction: the domain dies, every port goes */
                d->dying = true;
                evtchn_reset(d);
                if (count_used(d) || d->fifo)
                    abort();
            }
            break;
        }
        check_kick(&kick);
        check_domain(&dom[0]);
        check_domain(&dom[1]);
        /* A dead domain gets no new port, and nobody keeps one towards it. */
        for (int j = 0; j < 2; j++)
            if (dom[j].dying && count_used(&dom[j]))
                abort();
    }
    for (int k = 0; k < 2; k++) {
        drain(k);
        check_nothing_lost(k);
    }
    /* Both sides close everything: no port leaks, no dangling peer, every
     * frame given back. */
    evtchn_reset(&dom[0]);
    check_domain(&dom[1]);
    evtchn_reset(&dom[1]);
    if (count_used(&dom[0]) || count_used(&dom[1]))
        abort();
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < PAGES_PER_DOM; i++)
            if (refs[k][i])
                abort();
    evtchn_domain_destroy(&dom[0]);
    evtchn_domain_destroy(&dom[1]);
    return 0;
}
