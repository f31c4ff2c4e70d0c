/*
 * FIFO event channels (see keel/event.h): per-port event words in pages
 * the guest supplies, per-vCPU control blocks, sixteen priority queues per
 * vCPU linked through the words.
 *
 * Keel's side of a queue is its tail only (the port it linked last); the
 * guest consumes from the head and clears LINKED as it goes.  To append,
 * Keel sets LINKED on the new word and writes its port into the tail
 * word's LINK field, but only while the tail is still LINKED (else the
 * queue has drained: the new port becomes the head, and the queue's READY
 * bit tells the guest).  The guest may touch a LINKED word only to change
 * MASKED or PENDING or to unlink it; Keel's compare-exchange on the tail
 * word retries across those, marking it BUSY so that an unmask (which
 * would make the guest call back in) waits.  Every value read from guest
 * memory is used once and trusted for nothing but that decision.
 */
#include <keel/event.h>

#ifdef KEEL_HOST
static void *fifo_zalloc(size_t n) { return calloc(1, n); }
static void fifo_free(void *p) { free(p); }
#else
#include <keel/mm.h>
#define fifo_zalloc xzalloc
#define fifo_free xfree
#endif

#define W_PENDING (1U << EVTCHN_FIFO_PENDING)
#define W_MASKED (1U << EVTCHN_FIFO_MASKED)
#define W_LINKED (1U << EVTCHN_FIFO_LINKED)
#define W_BUSY (1U << EVTCHN_FIFO_BUSY)
#define W_LINK EVTCHN_FIFO_LINK_MASK
#define LINK_TRIES 4 /* each guest change of a BUSY word costs one */

static event_word_t *word_of(const struct evtchn_domain *d, evtchn_port_t port)
{
    const struct evtchn_fifo *f = d->fifo;

    if (!f || port >= __atomic_load_n(&f->nr_words, __ATOMIC_ACQUIRE))
        return NULL;
    return f->array[port / EVTCHN_FIFO_WORDS_PER_PAGE] + port % EVTCHN_FIFO_WORDS_PER_PAGE;
}

static bool test_and_set(event_word_t *w, u32 bit)
{
    return __atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST) & bit;
}

static void clear(event_word_t *w, u32 bit)
{
    __atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST);
}

static bool test(const event_word_t *w, u32 bit)
{
    return __atomic_load_n(w, __ATOMIC_SEQ_CST) & bit;
}

/* 1: LINK set in a word still LINKED; 0: it is no longer linked (the
 * guest consumed it); -1: it changed under us. */
static int try_link(event_word_t *w, event_word_t *seen, evtchn_port_t port)
{
    event_word_t want;

    if (!(*seen & W_LINKED))
        return 0;
    want = (*seen & ~(W_BUSY | W_LINK)) | port;
    return __atomic_compare_exchange_n(w, seen, want, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST) ? 1 : -1;
}

/* Links `port` after the tail word `w`; false if the queue had drained. */
static bool set_link(event_word_t *w, evtchn_port_t port)
{
    event_word_t seen = __atomic_load_n(w, __ATOMIC_SEQ_CST);
    int rc = try_link(w, &seen, port);

    if (rc >= 0)
        return rc;
    /* Hold off the guest's unmasking while we retry. */
    test_and_set(w, W_BUSY);
    seen = __atomic_load_n(w, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < LINK_TRIES; i++) {
        rc = try_link(w, &seen, port);
        if (rc >= 0) {
            if (rc == 0)
                clear(w, W_BUSY);
            return rc;
        }
    }
    /* A guest that keeps changing the word: as Xen, give up on this link
     * (the event stays pending and LINKED, the guest's own doing). */
    clear(w, W_BUSY);
    return true;
}

/* Appends `port` to its queue, as Xen's set_pending does. */
void evtchn_fifo_raise(struct evtchn_domain *d, struct evtchn *chn, evtchn_port_t port,
                       struct evtchn_kick *kick)
{
    event_word_t *w = word_of(d, port);
    struct evtchn_vcpu *ev = &d->vcpu[chn->vcpu];
    evtchn_port_t *tail = &ev->fifo_tail[chn->priority];
    evtchn_port_t *old_tail = &d->vcpu[chn->last_vcpu].fifo_tail[chn->last_prio];
    struct evtchn_fifo_control_block *cb = ev->fifo_cb;
    bool linked = true;

    kick->dom = NULL;
    if (!w) {
        chn->pending = true; /* raised again when its page is added */
        return;
    }
    if (!cb)
        return; /* no control block: the guest may not have unmasked it */
    test_and_set(w, W_PENDING);
    if (!test(w, W_MASKED) && !test_and_set(w, W_LINKED)) {
        /* It was the tail of the queue it was last on: that queue is
         * empty now, and must not link anything after it. */
        if (*old_tail == port)
            *old_tail = 0;
        chn->last_vcpu = chn->vcpu;
        chn->last_prio = chn->priority;
        linked = false;
        if (*tail) {
            event_word_t *tw = word_of(d, *tail);
            linked = tw && set_link(tw, port);
        }
        if (!linked)
            __atomic_store_n(&cb->head[chn->priority], port, __ATOMIC_SEQ_CST);
        *tail = port;
    }
    if (!linked && !(__atomic_fetch_or(&cb->ready, 1U << chn->priority, __ATOMIC_SEQ_CST) &
                     (1U << chn->priority)))
        evtchn_mark_upcall(d, chn->vcpu, kick);
}

void evtchn_fifo_clear_pending(struct evtchn_domain *d, evtchn_port_t port)
{
    event_word_t *w = word_of(d, port);

    /* Only P: the guest unlinks (and skips) events that are not pending. */
    if (w)
        clear(w, W_PENDING);
}

void evtchn_fifo_unmask(struct evtchn_domain *d, struct evtchn *chn, evtchn_port_t port,
                        struct evtchn_kick *kick)
{
    event_word_t *w = word_of(d, port);

    kick->dom = NULL;
    if (!w)
        return;
    clear(w, W_MASKED);
    if (test(w, W_PENDING))
        evtchn_fifo_raise(d, chn, port, kick);
}

bool evtchn_fifo_is_pending(const struct evtchn_domain *d, evtchn_port_t port)
{
    event_word_t *w = word_of(d, port);

    return w && test(w, W_PENDING);
}

bool evtchn_fifo_is_busy(const struct evtchn_domain *d, evtchn_port_t port)
{
    event_word_t *w = word_of(d, port);

    return w && test(w, W_LINKED);
}

/* ------------------------------------------------------------ setup */

int evtchn_fifo_control_check(const struct evtchn_domain *d, u32 vcpu, u32 offset)
{
    if (vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;
    /* Within the page, and 8-byte aligned. */
    if (offset > PAGE_SIZE - sizeof(struct evtchn_fifo_control_block) || (offset & 7))
        return -XEN_EINVAL;
    return 0;
}

/* The switch from 2-level: what was pending there is raised again once
 * the port has an event word. */
static void switch_to_fifo(struct evtchn_domain *d, unsigned prev_ports)
{
    for (evtchn_port_t p = 1; p < prev_ports && p < d->valid_ports; p++) {
        struct evtchn *chn = evtchn_port(d, p);
        xen_ulong_t bits = __atomic_load_n(&d->shared->evtchn_pending[p / 64], __ATOMIC_SEQ_CST);
        if ((bits >> (p % 64)) & 1)
            chn->pending = true;
        chn->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
    }
}

int evtchn_fifo_init_control(struct evtchn_domain *d, u32 vcpu, u32 offset, void *page)
{
    int rc = evtchn_fifo_control_check(d, vcpu, offset);
    unsigned prev;

    if (rc)
        return rc;
    if (d->fifo) {
        if (d->vcpu[vcpu].fifo_cb)
            return -XEN_EINVAL;
        d->vcpu[vcpu].fifo_cb = (void *)((u8 *)page + offset);
        return 0;
    }
    prev = evtchn_max_ports(d);
    d->fifo = fifo_zalloc(sizeof(*d->fifo));
    if (!d->fifo)
        return -XEN_ENOMEM;
    for (unsigned v = 0; v < d->nr_vcpus; v++) {
        d->vcpu[v].fifo_cb = NULL;
        memset(d->vcpu[v].fifo_tail, 0, sizeof(d->vcpu[v].fifo_tail));
    }
    d->vcpu[vcpu].fifo_cb = (void *)((u8 *)page + offset);
    switch_to_fifo(d, prev);
    return 0;
}

int evtchn_fifo_expand_check(const struct evtchn_domain *d)
{
    if (!d->fifo)
        return -XEN_EOPNOTSUPP;
    if (d->fifo->nr_words >= EVTCHN_FIFO_PORTS)
        return -XEN_ENOSPC;
    return 0;
}

int evtchn_fifo_expand_array(struct evtchn_domain *d, void *page, u32 *kick_mask)
{
    int rc = evtchn_fifo_expand_check(d);
    struct evtchn_fifo *f = d->fifo;
    unsigned first;

    *kick_mask = 0;
    if (rc)
        return rc;
    first = f->nr_words;
    f->array[first / EVTCHN_FIFO_WORDS_PER_PAGE] = page;
    /* The page before the count lock-free readers use. */
    __atomic_store_n(&f->nr_words, first + EVTCHN_FIFO_WORDS_PER_PAGE, __ATOMIC_RELEASE);
    for (evtchn_port_t p = first; p < f->nr_words && p < d->valid_ports; p++) {
        struct evtchn *chn = evtchn_port(d, p);
        struct evtchn_kick k;
        if (!chn->pending)
            continue;
        chn->pending = false;
        evtchn_fifo_raise(d, chn, p, &k);
        if (k.dom)
            *kick_mask |= 1U << k.vcpu;
    }
    return 0;
}

static void *page_of(void *p)
{
    return (void *)((uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1));
}

void evtchn_fifo_destroy(struct evtchn_domain *d)
{
    struct evtchn_fifo *f = d->fifo;

    if (!f)
        return;
    d->fifo = NULL;
    for (unsigned v = 0; v < d->nr_vcpus; v++) {
        if (d->vcpu[v].fifo_cb)
            evtchn_arch_unmap_frame(page_of(d->vcpu[v].fifo_cb));
        d->vcpu[v].fifo_cb = NULL;
        memset(d->vcpu[v].fifo_tail, 0, sizeof(d->vcpu[v].fifo_tail));
    }
    for (unsigned i = 0; i < f->nr_words / EVTCHN_FIFO_WORDS_PER_PAGE; i++)
        evtchn_arch_unmap_frame(f->array[i]);
    fifo_free(f);
}

#ifdef KEEL_HOST
/* Tests that never switch to FIFO still link this file. */
__attribute__((weak)) void evtchn_arch_unmap_frame(void *page) { (void)page; }
__attribute__((weak)) void *evtchn_arch_map_frame(struct evtchn_domain *d, u64 gfn)
{
    (void)d, (void)gfn;
    return NULL;
}
#endif
