/*
 * Time and timers: the pvclock protocol, wall clock, set_timer_op, the
 * vcpu_op single-shot and periodic timers, all signalled through
 * VIRQ_TIMER and the event callback, and SCHEDOP_block waking on a timer.
 * Latencies are printed, never asserted (no timing assertions in tests):
 * only "it fired" / "it did not fire" is checked, with generous waits.
 */
#include <rt.h>

#define MS 1000000ULL

static evtchn_port_t tport;

static long singleshot(uint64_t abs_ns, uint32_t flags)
{
    struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = abs_ns,
                                          .flags = flags};
    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static long periodic(uint64_t period)
{
    struct vcpu_set_periodic_timer p = {.period_ns = period};
    return HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &p);
}

/* Waits for the next tick after `before` hits; prints how late it was. */
static bool fired(const char *what, unsigned before, uint64_t deadline)
{
    bool ok = rt_wait_port(tport, before + 1, 1000 * MS);
    uint64_t now = rt_system_time();
    printf("timer: %s %s, %ld us after the deadline\n", what,
           ok ? "fired" : "did NOT fire", (long)(now - deadline) / 1000);
    return ok;
}

static void check_clock(void)
{
    volatile vcpu_time_info_t *t = &rt_vcpu->time;
    EXPECT(!(t->version & 1));
    EXPECT(t->version != 0);
    EXPECT(t->tsc_to_system_mul != 0);
    EXPECT(t->system_time != 0);
    uint64_t tsc_hz = ((1000000000ULL << 32) / t->tsc_to_system_mul);
    tsc_hz = t->tsc_shift < 0 ? tsc_hz << -t->tsc_shift : tsc_hz >> t->tsc_shift;
    printf("timer: pvclock version %u, system_time %lu ns, tsc ~%lu kHz, "
           "flags 0x%x\n", t->version, (unsigned long)t->system_time,
           (unsigned long)(tsc_hz / 1000), t->flags);

    uint64_t prev = rt_system_time();
    for (int i = 0; i < 20000; i++) {
        uint64_t now = rt_system_time();
        if (now < prev) {
            EXPECT(now >= prev);
            printf("timer: went back from %lu to %lu\n", (unsigned long)prev,
                   (unsigned long)now);
            break;
        }
        prev = now;
        if (i % 1000 == 0)
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }

    shared_info_t *s = rt_shared_info();
    uint32_t v;
    uint32_t sec, nsec;
    do {
        v = s->wc_version;
        rt_barrier();
        sec = s->wc_sec;
        nsec = s->wc_nsec;
        rt_barrier();
    } while ((v & 1) || v != s->wc_version);
    uint64_t now_s = sec + (nsec + rt_system_time()) / 1000000000ULL;
    printf("timer: wallclock version %u, boot %u.%09u, now %lu\n", v, sec, nsec,
           (unsigned long)now_s);
    EXPECT(nsec < 1000000000);
    EXPECT(now_s > 1500000000);     /* after 2017: the RTC was read */
}

/*
 * An upcall interrupts whatever the guest runs: every register must come
 * back as it was (the hypervisor's frame carries RCX and R11, the guest's
 * handler the rest).  Spin with known values until two upcalls have run.
 */
static void registers_survive_upcalls(void)
{
    static uint64_t out[9];
    static const uint64_t want[9] = {
        0x1111111111111111, 0x2222222222222222, 0x3333333333333333,
        0x4444444444444444, 0x5555555555555555, 0x6666666666666666,
        0x7777777777777777, 0x8888888888888888, 0x9999999999999999,
    };
    unsigned target = rt_upcalls + 2;
    register uint64_t *dst __asm__("r13") = out;

    __asm__ volatile(
        "mov %[w0], %%rcx\n\t"
        "mov %[w1], %%r11\n\t"
        "mov %[w2], %%r8\n\t"
        "mov %[w3], %%r9\n\t"
        "mov %[w4], %%r10\n\t"
        "mov %[w5], %%rdi\n\t"
        "mov %[w6], %%rsi\n\t"
        "mov %[w7], %%rdx\n\t"
        "mov %[w8], %%rbx\n\t"
        "mov $2000000000, %%r12\n\t" /* give up eventually: no hang */
        "1: cmpl %%eax, rt_upcalls(%%rip)\n\t"
        "jae 2f\n\t"
        "dec %%r12\n\t"
        "jnz 1b\n\t"
        "2: mov %%rcx, 0(%%r13)\n\t"
        "mov %%r11, 8(%%r13)\n\t"
        "mov %%r8, 16(%%r13)\n\t"
        "mov %%r9, 24(%%r13)\n\t"
        "mov %%r10, 32(%%r13)\n\t"
        "mov %%rdi, 40(%%r13)\n\t"
        "mov %%rsi, 48(%%r13)\n\t"
        "mov %%rdx, 56(%%r13)\n\t"
        "mov %%rbx, 64(%%r13)\n\t"
        :
        : "a"(target), [w0] "m"(want[0]), [w1] "m"(want[1]), [w2] "m"(want[2]),
          [w3] "m"(want[3]), [w4] "m"(want[4]), [w5] "m"(want[5]), [w6] "m"(want[6]),
          [w7] "m"(want[7]), [w8] "m"(want[8]), "r"(dst)
        : "rcx", "r11", "r8", "r9", "r10", "rdi", "rsi", "rdx", "rbx", "r12", "memory");
    printf("timer: %u upcalls while spinning\n", rt_upcalls - (target - 2));
    EXPECT(rt_upcalls >= target);
    for (unsigned i = 0; i < 9; i++)
        if (out[i] != want[i]) {
            printf("timer: register %u is %lx after an upcall, want %lx\n", i,
                   (unsigned long)out[i], (unsigned long)want[i]);
            EXPECT(out[i] == want[i]);
        }
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    rt_install_events();
    check_clock();

    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv) == 0);
    tport = bv.port;
    rt_shared_info()->evtchn_mask[tport / 64] &= ~(1UL << (tport % 64));
    rt_events_enable();

    /* Xen starts PV vCPUs with a 100 Hz periodic timer. */
    unsigned h = rt_port_hits[tport];
    bool tick = rt_wait_port(tport, h + 2, 1000 * MS);
    printf("timer: default periodic tick %s\n", tick ? "present" : "absent");
    registers_survive_upcalls();
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
    rt_wait_port(tport, ~0u, 30 * MS);          /* drain */

    /* Legacy set_timer_op. */
    h = rt_port_hits[tport];
    uint64_t dl = rt_system_time() + 2 * MS;
    EXPECT_EQ(HYPERVISOR_set_timer_op(dl), 0);
    EXPECT(fired("set_timer_op", h, dl));
    /* 0 cancels it. */
    h = rt_port_hits[tport];
    EXPECT_EQ(HYPERVISOR_set_timer_op(rt_system_time() + 20 * MS), 0);
    EXPECT_EQ(HYPERVISOR_set_timer_op(0), 0);
    EXPECT(!rt_wait_port(tport, h + 1, 60 * MS));

    /* Single-shot, flags 0. */
    h = rt_port_hits[tport];
    dl = rt_system_time() + 2 * MS;
    EXPECT_EQ(singleshot(dl, 0), 0);
    EXPECT(fired("singleshot", h, dl));
    /* In the past with flags 0: fires at once. */
    h = rt_port_hits[tport];
    dl = rt_system_time() - 5 * MS;
    EXPECT_EQ(singleshot(dl, 0), 0);
    EXPECT(fired("singleshot (past)", h, dl));
    /*
     * In the past with VCPU_SSHOTTMR_future: the header says -ETIME, but
     * Xen 4.17.7 ignores the flag (Linux used to set it and then BUG() on
     * the error) and simply fires.  Keel does the same.
     */
    h = rt_port_hits[tport];
    dl = rt_system_time() - 5 * MS;
    EXPECT_EQ(singleshot(dl, VCPU_SSHOTTMR_future), 0);
    EXPECT(fired("singleshot (past, future flag)", h, dl));
    /* Stopped before it expires: never fires. */
    h = rt_port_hits[tport];
    EXPECT_EQ(singleshot(rt_system_time() + 20 * MS, 0), 0);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);
    EXPECT(!rt_wait_port(tport, h + 1, 60 * MS));
    /* A later set replaces an earlier one. */
    h = rt_port_hits[tport];
    EXPECT_EQ(singleshot(rt_system_time() + 10 * MS, 0), 0);
    dl = rt_system_time() + 2 * MS;
    EXPECT_EQ(singleshot(dl, 0), 0);
    EXPECT(fired("re-armed singleshot", h, dl));
    EXPECT(!rt_wait_port(tport, h + 2, 40 * MS));

    /* SCHEDOP_block returns once the timer event is pending, and turns
     * event delivery back on. */
    rt_events_disable();
    h = rt_port_hits[tport];
    EXPECT_EQ(singleshot(rt_system_time() + 2 * MS, 0), 0);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_block, NULL), 0);
    EXPECT_EQ(rt_vcpu->evtchn_upcall_mask, 0);
    EXPECT(rt_wait_port(tport, h + 1, 100 * MS));
    rt_events_enable();

    /* Periodic: ticks keep coming until stopped. */
    EXPECT_EQ(periodic(100000), -XEN_EINVAL);    /* < 1 ms */
    h = rt_port_hits[tport];
    EXPECT_EQ(periodic(5 * MS), 0);
    EXPECT(rt_wait_port(tport, h + 3, 2000 * MS));
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    rt_wait_port(tport, ~0u, 10 * MS);          /* one may be in flight */
    h = rt_port_hits[tport];
    EXPECT(!rt_wait_port(tport, h + 1, 50 * MS));
    rt_events_disable();
}
