/*
 * Benchmark guest (not a test: nothing here is asserted about speed).
 * Measures in TSC ticks and prints, for bench/run.sh,
 *   BENCH <name> min=<ticks> median=<ticks> n=<n>
 * null_hypercall: xen_version(XENVER_version) round trip;
 * evtchn_upcall:  EVTCHNOP_send on a loopback interdomain port until the
 *                 upcall handler runs;
 * timer_late:     a single-shot timer armed 100 us ahead, blocked on with
 *                 SCHEDOP_block: ticks from the deadline to the upcall
 *                 (min may be negative if a timer fires early).
 * It ends with "TEST bench: PASS" so runners can treat it like any guest.
 */
#include <rt.h>

#define N 1001
#define NT 201

static int64_t samples[N];
static volatile uint64_t t_upcall;

static void sort(int64_t *a, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        int64_t v = a[i];
        unsigned j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void report(const char *name, int64_t *a, unsigned n)
{
    sort(a, n);
    printf("BENCH %s min=%ld median=%ld n=%u\n", name, (long)a[0],
           (long)a[n / 2], n);
}

static void stamp(unsigned port)
{
    (void)port;
    t_upcall = rdtsc();
}

static uint64_t ns_to_ticks(uint64_t ns)
{
    volatile vcpu_time_info_t *t = &rt_vcpu->time;
    /* ns < 2^32 here, so the shifted value fits in 64 bits. */
    uint64_t v = (ns << 32) / t->tsc_to_system_mul;
    return t->tsc_shift < 0 ? v << -t->tsc_shift : v >> t->tsc_shift;
}

void test_main(start_info_t *si)
{
    (void)si;

    for (unsigned i = 0; i < N; i++) {
        uint64_t t0 = rdtsc();
        HYPERVISOR_xen_version(XENVER_version, NULL);
        samples[i] = (int64_t)(rdtsc() - t0);
    }
    report("null_hypercall", samples, N);

    rt_install_traps();
    rt_install_events();
    shared_info_t *s = rt_shared_info();
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au) == 0);
    struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF,
                                         .remote_port = au.port};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bi) == 0);
    s->evtchn_mask[bi.local_port / 64] &= ~(1UL << (bi.local_port % 64));
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv) == 0);
    s->evtchn_mask[bv.port / 64] &= ~(1UL << (bv.port % 64));
    HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    rt_event_hook = stamp;
    rt_events_enable();

    struct evtchn_send snd = {.port = au.port};
    for (unsigned i = 0; i < N; i++) {
        t_upcall = 0;
        uint64_t t0 = rdtsc();
        HYPERVISOR_event_channel_op(EVTCHNOP_send, &snd);
        CHECK(t_upcall != 0);
        samples[i] = (int64_t)(t_upcall - t0);
    }
    report("evtchn_upcall", samples, N);

    uint64_t ahead = ns_to_ticks(100000);
    for (unsigned i = 0; i < NT; i++) {
        rt_events_disable();
        t_upcall = 0;
        unsigned h = rt_port_hits[bv.port];
        uint64_t tsc0 = rdtsc();
        struct vcpu_set_singleshot_timer st = {
            .timeout_abs_ns = rt_system_time() + 100000, .flags = 0};
        CHECK(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st) == 0);
        while (rt_port_hits[bv.port] == h)
            HYPERVISOR_sched_op(SCHEDOP_block, NULL);   /* unmasks events */
        samples[i] = (int64_t)(t_upcall - tsc0) - (int64_t)ahead;
    }
    report("timer_late", samples, NT);
    rt_events_disable();
}
