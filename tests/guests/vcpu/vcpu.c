/*
 * vcpu_op: register_vcpu_info (an own page, found through the p2m),
 * events through the registered area, register_runstate_memory_area,
 * get_runstate_info, is_up for present and absent vCPUs, periodic timer
 * limits, unknown sub-ops.
 */
#include <rt.h>

static char page[4096] __attribute__((aligned(4096)));
static struct vcpu_runstate_info runstate;

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    rt_install_events();
    shared_info_t *s = rt_shared_info();

    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL), -XEN_ENOENT);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 8191, NULL), -XEN_ENOENT);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1 << 20, NULL), -XEN_ENOENT);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffffUL, NULL), -XEN_ENOENT);

    /* Runstate area: written at once and on every switch. */
    memset(&runstate, 0xff, sizeof(runstate));
    struct vcpu_register_runstate_memory_area ra;
    ra.addr.v = &runstate;
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &ra), 0);
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(runstate.state, RUNSTATE_running);
    EXPECT(runstate.state_entry_time != ~0ULL);
    EXPECT(runstate.time[RUNSTATE_running] != ~0ULL);
    printf("vcpu: runstate state %d entry %lu running %lu\n", runstate.state,
           (unsigned long)runstate.state_entry_time,
           (unsigned long)runstate.time[0]);
    struct vcpu_runstate_info ri;
    memset(&ri, 0xff, sizeof(ri));
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &ri), 0);
    EXPECT_EQ(ri.state, RUNSTATE_running);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 1, &ri), -XEN_ENOENT);

    /* register_vcpu_info: misplaced requests first. */
    struct vcpu_register_vcpu_info vi = {.mfn = rt_virt_to_mfn(page),
                                         .offset = 4096 - 32, .rsvd = 0};
    /* Xen 4.17 answers -ENXIO for an area that crosses the page end. */
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_ENXIO);
    /* (Xen does not look at rsvd, so neither do we.) */
    vi.offset = 0x80;
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, &vi), -XEN_ENOENT);

    /* The real one: Xen copies the current contents across. */
    uint8_t mask_before = rt_vcpu->evtchn_upcall_mask;
    memset(page, 0xee, sizeof(page));
    rt_events_disable();
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), 0);
    vcpu_info_t *nv = (vcpu_info_t *)(page + 0x80);
    rt_vcpu = nv;
    EXPECT_EQ(nv->evtchn_upcall_mask, 1);
    EXPECT(nv->time.version != 0xeeeeeeee && !(nv->time.version & 1));
    EXPECT(nv->time.tsc_to_system_mul != 0);
    EXPECT_EQ((unsigned char)page[0x7f], 0xee);     /* untouched around it */
    EXPECT_EQ((unsigned char)page[0xc0], 0xee);
    (void)mask_before;
    /* Only once per vCPU. */
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_EINVAL);

    /* Events now go through the registered area. */
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);
    struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF,
                                         .remote_port = au.port};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi) == 0);
    s->evtchn_mask[bi.local_port / 64] &= ~(1UL << (bi.local_port % 64));
    struct evtchn_send snd = {.port = au.port};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_send, &snd), 0);
    EXPECT_EQ(nv->evtchn_upcall_pending, 1);
    EXPECT(nv->evtchn_pending_sel & (1UL << (bi.local_port / 64)));
    unsigned h = rt_port_hits[bi.local_port];
    rt_events_enable();
    EXPECT(rt_wait_port(bi.local_port, h + 1, 100000000));
    /* The clock keeps ticking in the new area. */
    uint64_t t0 = rt_system_time();
    for (int i = 0; i < 100; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    EXPECT(rt_system_time() > t0);
    rt_events_disable();

    /* Periodic timer parameters. */
    struct vcpu_set_periodic_timer p = {.period_ns = 10000000};
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &p), 0);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    p.period_ns = 1000;
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &p), -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 1, &p), -XEN_ENOENT);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 1, NULL), -XEN_ENOENT);

    /* vCPU 0 is already running: initialise and up have nothing to do. */
    long r = HYPERVISOR_vcpu_op(VCPUOP_up, 0, NULL);
    printf("vcpu: up(0) = %ld\n", r);

    EXPECT_EQ(HYPERVISOR_vcpu_op(100, 0, NULL), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, NULL), -XEN_EFAULT);
}
