/*
 * FIFO event channels, as Linux uses them: EVTCHNOP_init_control with
 * each of Xen's refusals (no such vCPU, an offset that is misaligned or
 * does not fit, a frame that is not ours or not writable), the switch
 * (what was pending on 2-level arrives once its word exists),
 * expand_array, priorities (the higher queue is consumed first),
 * masking in the event word and EVTCHNOP_unmask, a port with no word yet
 * (raised when its page comes), more than 4096 ports, the control block
 * frame typed writable while in use (it cannot become a page table), and
 * EVTCHNOP_reset back to 2-level (the frame is free again).
 *
 * The upcall handler is Linux's FIFO consumer: READY bits, queue heads
 * from the control block, LINK fields walked with LINKED cleared.
 */
#include <rt.h>

#define PTE_RO 0x25UL /* present, user, accessed */
#define PTE_RW 0x67UL
#define W_P (1U << EVTCHN_FIFO_PENDING)
#define W_M (1U << EVTCHN_FIFO_MASKED)
#define W_L (1U << EVTCHN_FIFO_LINKED)
#define MAX_PORTS 4200
#define MS 1000000ULL

static char ctrl[4096] __attribute__((aligned(4096)));
static event_word_t array[2][1024] __attribute__((aligned(4096)));
static volatile uint16_t hits[MAX_PORTS];
static volatile evtchn_port_t order[8];
static volatile unsigned n_order;
static evtchn_port_t head[EVTCHN_FIFO_MAX_QUEUES]; /* the consumer's own heads */

static struct evtchn_fifo_control_block *cb(void)
{
    return (struct evtchn_fifo_control_block *)ctrl;
}

static volatile event_word_t *word(evtchn_port_t p)
{
    return &array[p / 1024][p % 1024];
}

static long evtchn(int cmd, void *arg)
{
    return HYPERVISOR_event_channel_op(cmd, arg);
}

static long send(evtchn_port_t p)
{
    struct evtchn_send a = {.port = p};
    return evtchn(EVTCHNOP_send, &a);
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu)
{
    struct evtchn_init_control ic = {.control_gfn = gfn, .offset = offset, .vcpu = vcpu};
    long r = evtchn(EVTCHNOP_init_control, &ic);
    if (r == 0)
        EXPECT_EQ(ic.link_bits, EVTCHN_FIFO_LINK_BITS);
    return r;
}

static long expand(uint64_t gfn)
{
    struct evtchn_expand_array ea = {.array_gfn = gfn};
    return evtchn(EVTCHNOP_expand_array, &ea);
}

static long set_priority(evtchn_port_t p, uint32_t prio)
{
    struct evtchn_set_priority sp = {.port = p, .priority = prio};
    return evtchn(EVTCHNOP_set_priority, &sp);
}

static evtchn_port_t bind_ipi(void)
{
    struct evtchn_bind_ipi b = {.vcpu = 0};
    CHECK(evtchn(EVTCHNOP_bind_ipi, &b) == 0);
    return b.port;
}

/* ---- Linux's consumer */

static evtchn_port_t clear_linked(volatile event_word_t *w)
{
    event_word_t old = *w, nw;
    do
        nw = old & ~(W_L | EVTCHN_FIFO_LINK_MASK);
    while (!__atomic_compare_exchange_n(w, &old, nw, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST));
    return old & EVTCHN_FIFO_LINK_MASK;
}

static void consume_one(unsigned q, uint32_t *ready)
{
    evtchn_port_t port = head[q] ? head[q] : cb()->head[q];
    volatile event_word_t *w = word(port);
    evtchn_port_t next = clear_linked(w);

    if (!next)
        *ready &= ~(1U << q);
    if ((*w & W_P) && !(*w & W_M)) {
        __atomic_and_fetch(w, ~W_P, __ATOMIC_SEQ_CST);
        if (port < MAX_PORTS)
            hits[port]++;
        if (n_order < 8)
            order[n_order++] = port;
    }
    head[q] = next;
}

static void fifo_upcall(void)
{
    uint32_t ready;

    rt_vcpu->evtchn_upcall_pending = 0;
    ready = __atomic_exchange_n(&cb()->ready, 0, __ATOMIC_SEQ_CST);
    while (ready) {
        consume_one((unsigned)__builtin_ctz(ready), &ready);
        ready |= __atomic_exchange_n(&cb()->ready, 0, __ATOMIC_SEQ_CST);
    }
}

static bool wait_hit(evtchn_port_t p, unsigned n)
{
    uint64_t end = rt_system_time() + 500 * MS;
    rt_hlog_quiet_begin();
    while (hits[p] < n && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    return hits[p] >= n;
}

/* ---- the checks */

/* A RAM frame of the machine that is not ours. */
static uint64_t foreign_mfn(void)
{
    const unsigned long *m2p = (const unsigned long *)0xffff800000000000UL;
    const unsigned long *p2m = (const unsigned long *)rt_start_info->mfn_list;
    for (uint64_t mfn = 0x200; mfn < 0x4000; mfn++) {
        unsigned long pfn = m2p[mfn];
        if (pfn >= rt_start_info->nr_pages || p2m[pfn] != mfn)
            return mfn;
    }
    return 0;
}

static void refusals(void)
{
    uint64_t mfn = rt_virt_to_mfn(ctrl);
    uint64_t l4 = rt_virt_to_mfn((void *)rt_start_info->pt_base);
    long r;

    /* Still 2-level. */
    EXPECT_EQ(expand(rt_virt_to_mfn(array[0])), -XEN_EOPNOTSUPP);
    /* Ports 0-63 are valid (Xen's first bucket) even unbound. */
    EXPECT_EQ(set_priority(1, 3), -XEN_ENOSYS);
    EXPECT_EQ(set_priority(64, 3), -XEN_EINVAL);
    /* Xen's order: the vCPU, then the offset, then the frame. */
    EXPECT_EQ(init_control(~0ULL, 4, 1), -XEN_ENOENT);
    EXPECT_EQ(init_control(~0ULL, 4, 0), -XEN_EINVAL);
    EXPECT_EQ(init_control(mfn, 4096 - 64, 0), -XEN_EINVAL); /* does not fit */
    EXPECT_EQ(init_control(mfn, 12, 0), -XEN_EINVAL);        /* misaligned */
    EXPECT_EQ(init_control(1UL << 40, 0, 0), -XEN_EINVAL);   /* no such frame */
    r = init_control(foreign_mfn(), 0, 0);
    printf("fifo: init_control on a frame not ours = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    r = init_control(l4, 0, 0);                              /* a page table */
    printf("fifo: init_control on our L4 = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
}

/* The control block frame is typed writable while Keel/Xen use it. */
static long pin_as_l1(void *page)
{
    struct mmuext_op op = {.cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = rt_virt_to_mfn(page)};
    long r;

    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)page, (op.arg1.mfn << 12) | PTE_RO,
                                       UVMF_INVLPG) == 0);
    r = hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
    if (r == 0) {
        op.cmd = MMUEXT_UNPIN_TABLE;
        CHECK(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF) == 0);
    }
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)page, (op.arg1.mfn << 12) | PTE_RW,
                                       UVMF_INVLPG) == 0);
    return r;
}

void test_main(start_info_t *si)
{
    evtchn_port_t early, hi, lo, p, far = 0;
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    struct evtchn_unmask um;
    struct evtchn_reset rs = {.dom = DOMID_SELF};
    long r;

    (void)si;
    rt_install_traps();
    rt_install_events();
    refusals();

    /* Pending on 2-level (events masked), then the switch. */
    early = bind_ipi();
    EXPECT_EQ(send(early), 0);
    EXPECT_EQ(set_priority(early, 3), -XEN_ENOSYS); /* 2-level: no priorities */
    rt_upcall_override = fifo_upcall;
    EXPECT_EQ(init_control(rt_virt_to_mfn(ctrl), 0, 0), 0);
    EXPECT_EQ(init_control(rt_virt_to_mfn(ctrl), 64, 0), -XEN_EINVAL); /* once */
    r = pin_as_l1(ctrl);
    printf("fifo: pin the control block frame as L1 = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* Words start masked, as Linux leaves them; early's is unmasked. */
    for (unsigned i = 0; i < 1024; i++)
        array[0][i] = W_M;
    array[0][early] = 0;
    EXPECT_EQ(expand(rt_virt_to_mfn(array[0])), 0);
    rt_events_enable();
    EXPECT(wait_hit(early, 1));

    /* Priorities: the higher (lower number) queue is consumed first. */
    hi = bind_ipi();
    lo = bind_ipi();
    array[0][hi] = array[0][lo] = 0;
    EXPECT_EQ(set_priority(hi, 2), 0);
    EXPECT_EQ(set_priority(lo, 12), 0);
    EXPECT_EQ(set_priority(lo, 16), -XEN_EINVAL);
    EXPECT_EQ(set_priority(4000, 1), -XEN_EINVAL);
    rt_events_disable();
    n_order = 0;
    EXPECT_EQ(send(lo), 0);
    EXPECT_EQ(send(hi), 0);
    EXPECT_EQ(*word(hi), W_P | W_L);
    EXPECT_EQ(cb()->ready, (1U << 2) | (1U << 12));
    rt_events_enable();
    EXPECT(wait_hit(lo, 1));
    EXPECT_EQ(n_order, 2);
    EXPECT_EQ(order[0], hi);
    EXPECT_EQ(order[1], lo);

    /* Masked in the word: pending but not delivered until unmasked. */
    *word(hi) |= W_M;
    EXPECT_EQ(send(hi), 0);
    EXPECT_EQ(*word(hi), W_M | W_P);
    EXPECT_EQ(hits[hi], 1);
    um.port = hi;
    EXPECT_EQ(evtchn(EVTCHNOP_unmask, &um), 0);
    EXPECT(wait_hit(hi, 2));
    um.port = 5000;
    EXPECT_EQ(evtchn(EVTCHNOP_unmask, &um), -XEN_EINVAL);

    /* A port past the first page of words: raised when its page comes. */
    rt_hlog_quiet_begin(); /* a thousand identical calls */
    while (evtchn(EVTCHNOP_alloc_unbound, &au) == 0 && au.port < 1030)
        ;
    rt_hlog_quiet_end();
    p = bind_ipi();
    printf("fifo: IPI on port %u\n", p);
    EXPECT_EQ(p, 1031);
    EXPECT_EQ(send(p), 0);
    EXPECT_EQ(hits[p], 0);
    for (unsigned i = 0; i < 1024; i++)
        array[1][i] = 0;
    EXPECT_EQ(expand(rt_virt_to_mfn(array[1])), 0);
    EXPECT(wait_hit(p, 1));

    /* Beyond 2-level's 4096 ports. */
    rt_hlog_quiet_begin();
    while (evtchn(EVTCHNOP_alloc_unbound, &au) == 0 && au.port < 4100)
        far = au.port;
    rt_hlog_quiet_end();
    printf("fifo: allocated up to port %u\n", au.port);
    EXPECT_EQ(au.port, 4100);
    (void)far;

    /* Reset: every port closed, back to 2-level, the frames released. */
    EXPECT_EQ(evtchn(EVTCHNOP_reset, &rs), 0);
    EXPECT_EQ(expand(rt_virt_to_mfn(array[0])), -XEN_EOPNOTSUPP);
    memset(ctrl, 0, sizeof(ctrl)); /* ours again: an empty L1 */
    r = pin_as_l1(ctrl);
    printf("fifo: pin the control block frame after reset = %ld\n", r);
    EXPECT_EQ(r, 0);
    rt_upcall_override = NULL;
    p = bind_ipi();
    EXPECT_EQ(p, 1);
    /* The 2-level bit and selector `early` left before the switch are
     * still there (nothing clears them): a send would find them set and
     * say nothing.  A guest coming back to 2-level clears them. */
    EXPECT(rt_shared_info()->evtchn_pending[0] & (1UL << early));
    EXPECT(rt_vcpu->evtchn_pending_sel & 1);
    __atomic_and_fetch(&rt_shared_info()->evtchn_pending[0], ~(1UL << p), __ATOMIC_SEQ_CST);
    rt_vcpu->evtchn_pending_sel = 0;
    EXPECT_EQ(send(p), 0);
    EXPECT(rt_wait_port(p, 1, 500 * MS));
    rt_events_disable();
}
