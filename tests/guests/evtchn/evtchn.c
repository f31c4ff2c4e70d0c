/*
 * event_channel_op with the 2-level ABI: loopback interdomain pair, send
 * and upcall (port, selector, frame), masking by port and by vCPU, IPI,
 * VIRQ, status of every state, bind_vcpu, close, reset, and FIFO setup
 * (checked last because it switches ABI).
 */
#include <rt.h>

static shared_info_t *s;

static long evtchn(int cmd, void *arg)
{
    return HYPERVISOR_event_channel_op(cmd, arg);
}

static bool bit(volatile const xen_ulong_t *map, unsigned port)
{
    return (map[port / 64] >> (port % 64)) & 1;
}

static void set_mask(unsigned port, bool on)
{
    if (on)
        __atomic_or_fetch(&s->evtchn_mask[port / 64], 1UL << (port % 64),
                          __ATOMIC_SEQ_CST);
    else
        __atomic_and_fetch(&s->evtchn_mask[port / 64], ~(1UL << (port % 64)),
                           __ATOMIC_SEQ_CST);
}

static long send(evtchn_port_t p)
{
    struct evtchn_send a = {.port = p};
    return evtchn(EVTCHNOP_send, &a);
}

static long status(evtchn_port_t p, evtchn_status_t *st)
{
    memset(st, 0xff, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = p;
    return evtchn(EVTCHNOP_status, st);
}

static long ev_close(evtchn_port_t p)
{
    struct evtchn_close c = {.port = p};
    return evtchn(EVTCHNOP_close, &c);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    rt_install_events();
    s = rt_shared_info();
    evtchn_status_t st;

    /* Two unbound ports to ourselves, then a loopback pair. */
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    CHECK(evtchn(EVTCHNOP_alloc_unbound, &au) == 0);
    evtchn_port_t a = au.port;
    printf("evtchn: unbound port %u, mask %d\n", a, bit(s->evtchn_mask, a));
    EXPECT(a > 0 && a < 4096);
    EXPECT_EQ(status(a, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_unbound);
    printf("evtchn: unbound.dom = 0x%x\n", st.u.unbound.dom);
    EXPECT(st.u.unbound.dom == 0 || st.u.unbound.dom == DOMID_SELF);
    EXPECT_EQ(st.vcpu, 0);

    struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF,
                                         .remote_port = a};
    CHECK(evtchn(EVTCHNOP_bind_interdomain, &bi) == 0);
    evtchn_port_t b = bi.local_port;
    EXPECT(b != a && b > 0);
    EXPECT_EQ(status(a, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.u.interdomain.port, b);
    EXPECT_EQ(status(b, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.u.interdomain.port, a);
    /*
     * Binding marks the new local port pending (Xen does this so that a
     * notification sent before the bind is not lost); consume it.
     */
    EXPECT(bit(s->evtchn_pending, b));
    EXPECT(!bit(s->evtchn_pending, a));
    __atomic_and_fetch(&s->evtchn_pending[b / 64], ~(1UL << (b % 64)),
                       __ATOMIC_SEQ_CST);
    /* The remote end is taken: binding it again fails. */
    EXPECT_EQ(evtchn(EVTCHNOP_bind_interdomain, &bi), -XEN_EINVAL);

    set_mask(a, false);
    set_mask(b, false);
    rt_events_enable();

    /* send(a) raises b: the upcall sees port b and its selector bit. */
    unsigned up0 = rt_upcalls;
    rt_sel_seen = 0;
    EXPECT_EQ(send(a), 0);
    EXPECT(rt_wait_port(b, 1, 100000000));
    EXPECT_EQ(rt_port_hits[a], 0);
    EXPECT(rt_sel_seen & (1UL << (b / 64)));
    EXPECT(rt_upcalls > up0);
    /* The bounce frame: kernel-mode CS with RPL 0, saved mask 0 in
     * bits 32-39, IF set in RFLAGS since events were enabled. */
    EXPECT_EQ(rt_upcall_cs & 0xffff, FLAT_KERNEL_CS & ~3);
    EXPECT_EQ((rt_upcall_cs >> 32) & 0xff, 0);
    EXPECT(rt_upcall_rflags & 0x200);
    EXPECT(!bit(s->evtchn_pending, b));
    EXPECT_EQ(send(b), 0);
    EXPECT(rt_wait_port(a, 1, 100000000));

    /* Masked port: pending, but no selector bit and no upcall. */
    set_mask(b, true);
    up0 = rt_upcalls;
    EXPECT_EQ(send(a), 0);
    EXPECT(bit(s->evtchn_pending, b));
    EXPECT_EQ(rt_upcalls, up0);
    EXPECT_EQ(rt_port_hits[b], 1);
    /* EVTCHNOP_unmask clears the mask and re-raises the pending event. */
    struct evtchn_unmask um = {.port = b};
    EXPECT_EQ(evtchn(EVTCHNOP_unmask, &um), 0);
    EXPECT(!bit(s->evtchn_mask, b));
    EXPECT(rt_wait_port(b, 2, 100000000));

    /* Masked vCPU: upcall_pending set, delivered when re-enabled. */
    rt_events_disable();
    up0 = rt_upcalls;
    EXPECT_EQ(send(a), 0);
    EXPECT_EQ(rt_vcpu->evtchn_upcall_pending, 1);
    EXPECT_EQ(rt_upcalls, up0);
    rt_events_enable();
    EXPECT(rt_wait_port(b, 3, 100000000));
    EXPECT_EQ(rt_vcpu->evtchn_upcall_pending, 0);

    /* IPI to ourselves. */
    struct evtchn_bind_ipi ipi = {.vcpu = 0};
    CHECK(evtchn(EVTCHNOP_bind_ipi, &ipi) == 0);
    set_mask(ipi.port, false);
    EXPECT_EQ(send(ipi.port), 0);
    EXPECT(rt_wait_port(ipi.port, 1, 100000000));
    EXPECT_EQ(status(ipi.port, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_ipi);
    EXPECT_EQ(st.vcpu, 0);
    ipi.vcpu = 1;       /* no such vCPU */
    EXPECT_EQ(evtchn(EVTCHNOP_bind_ipi, &ipi), -XEN_ENOENT);

    /* VIRQ_DEBUG: bindable once per vCPU; nothing raises it here. */
    struct evtchn_bind_virq bv = {.virq = VIRQ_DEBUG, .vcpu = 0};
    CHECK(evtchn(EVTCHNOP_bind_virq, &bv) == 0);
    evtchn_port_t vport = bv.port;
    EXPECT_EQ(status(vport, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_virq);
    EXPECT_EQ(st.u.virq, VIRQ_DEBUG);
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &bv), -XEN_EEXIST);
    bv.virq = NR_VIRQS;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &bv), -XEN_EINVAL);

    /* Status of ports that are not in use. */
    EXPECT_EQ(status(0, &st), 0);   /* port 0 is reserved, reads closed */
    EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    /* Ports become valid 64 at a time (Xen's buckets): 63 reads closed,
     * 64 and 4095 are beyond. */
    EXPECT_EQ(status(63, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    EXPECT_EQ(status(64, &st), -XEN_EINVAL);
    long r = status(4095, &st);
    EXPECT_EQ(r, -XEN_EINVAL);
    printf("evtchn: status(4095) = %ld\n", r);
    EXPECT_EQ(status(4096, &st), -XEN_EINVAL);
    st.dom = 1234;
    st.port = a;
    EXPECT_EQ(evtchn(EVTCHNOP_status, &st), -XEN_ESRCH);

    /* bind_vcpu: vCPU 0 fine, missing vCPU refused; IPIs cannot move. */
    struct evtchn_bind_vcpu bvc = {.port = b, .vcpu = 0};
    EXPECT_EQ(evtchn(EVTCHNOP_bind_vcpu, &bvc), 0);
    bvc.vcpu = 1;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_vcpu, &bvc), -XEN_ENOENT);
    bvc.port = ipi.port;
    bvc.vcpu = 0;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_vcpu, &bvc), -XEN_EINVAL);

    /* FIFO-only operations on a 2-level domain. */
    struct evtchn_set_priority sp = {.port = b, .priority = 5};
    r = evtchn(EVTCHNOP_set_priority, &sp);
    printf("evtchn: set_priority (2-level) = %ld\n", r);
    EXPECT_EQ(r, -XEN_ENOSYS);
    struct evtchn_expand_array ea = {.array_gfn = 0};
    r = evtchn(EVTCHNOP_expand_array, &ea);
    printf("evtchn: expand_array (2-level) = %ld\n", r);
    EXPECT_EQ(r, -XEN_EOPNOTSUPP);

    /* Closing one end of the pair leaves the other unbound. */
    EXPECT_EQ(ev_close(b), 0);
    EXPECT_EQ(status(b, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    EXPECT_EQ(status(a, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_unbound);
    /* Sending into an unbound port is silently dropped; into a closed one
     * is an error.  Closing twice is an error. */
    EXPECT_EQ(send(a), 0);
    EXPECT_EQ(send(b), -XEN_EINVAL);
    EXPECT_EQ(ev_close(b), -XEN_EINVAL);
    EXPECT_EQ(ev_close(a), 0);

    /* Reset closes everything (the IPI and the VIRQ ports here). */
    struct evtchn_reset rs = {.dom = DOMID_SELF};
    EXPECT_EQ(evtchn(EVTCHNOP_reset, &rs), 0);
    EXPECT_EQ(status(ipi.port, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    EXPECT_EQ(status(vport, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    /* and the VIRQ is free to be bound again. */
    bv.virq = VIRQ_DEBUG;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &bv), 0);

    /* Bad FIFO control blocks are refused without switching ABI. */
    struct evtchn_init_control ic = {.control_gfn = ~0ULL, .offset = 0, .vcpu = 0};
    r = evtchn(EVTCHNOP_init_control, &ic);
    printf("evtchn: init_control(bad gfn) = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    ic.control_gfn = rt_virt_to_mfn((void *)rt_shared_info()); /* any own page */
    ic.offset = 4095;   /* not aligned, does not fit */
    r = evtchn(EVTCHNOP_init_control, &ic);
    printf("evtchn: init_control(bad offset) = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);

    /* A good one switches to FIFO (tests/guests/fifo goes further). */
    static char ctrl[4096] __attribute__((aligned(4096)));
    ic.control_gfn = rt_virt_to_mfn(ctrl);
    ic.offset = 0;
    r = evtchn(EVTCHNOP_init_control, &ic);
    printf("evtchn: init_control(good) = %ld\n", r);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(ic.link_bits, EVTCHN_FIFO_LINK_BITS);
    EXPECT_EQ(evtchn(EVTCHNOP_init_control, &ic), -XEN_EINVAL);
    EXPECT_EQ(evtchn(EVTCHNOP_reset, &rs), 0);  /* back to 2-level */
    rt_events_disable();
}
