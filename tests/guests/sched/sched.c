/*
 * sched_op: yield, poll (pending port, past deadline, limits),
 * shutdown_code, remote_shutdown of a missing domain, unknown sub-ops.
 * The final shutdown(poweroff) is the runtime's, after the verdict line.
 * Events stay masked (no callback is registered): poll works on the
 * pending bits alone.
 */
#include <rt.h>

static long poll(evtchn_port_t *ports, unsigned n, uint64_t timeout)
{
    struct sched_poll p = {.nr_ports = n, .timeout = timeout};
    set_xen_guest_handle(p.ports, ports);
    return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_shared_info();
    shared_info_t *s = rt_shared_info();

    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0);

    /* A loopback pair: send on one end makes the other end pending. */
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);
    struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF,
                                         .remote_port = au.port};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi) == 0);
    evtchn_port_t a = au.port, b = bi.local_port;
    struct evtchn_send snd = {.port = a};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_send, &snd) == 0);
    CHECK(s->evtchn_pending[b / 64] & (1UL << (b % 64)));

    /* Pending port, no timeout: returns at once. */
    EXPECT_EQ(poll(&b, 1, 0), 0);
    /* Still pending: poll does not consume the event. */
    EXPECT(s->evtchn_pending[b / 64] & (1UL << (b % 64)));

    /* Nothing pending, deadline 1 ms ahead: returns 0 once it passes. */
    s->evtchn_pending[b / 64] &= ~(1UL << (b % 64));
    uint64_t t0 = rt_system_time();
    EXPECT_EQ(poll(&a, 1, t0 + 1000000), 0);
    /* Deadline already in the past. */
    EXPECT_EQ(poll(&a, 1, 1), 0);

    /* Limits: more than 128 ports, or an out-of-range port. */
    static evtchn_port_t many[129];
    EXPECT_EQ(poll(many, 129, 1), -XEN_EINVAL);
    evtchn_port_t bad = 100000;
    EXPECT_EQ(poll(&bad, 1, 1), -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, NULL), -XEN_EFAULT);

    struct sched_shutdown sc = {.reason = SHUTDOWN_poweroff};
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &sc), 0);

    struct sched_remote_shutdown rs = {.domain_id = 1234,
                                       .reason = SHUTDOWN_poweroff};
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -XEN_ESRCH);

    EXPECT_EQ(HYPERVISOR_sched_op(100, NULL), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_sched_op(-1, NULL), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown, NULL), -XEN_EFAULT);
}
