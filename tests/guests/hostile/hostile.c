/*
 * The negative test: wild pointers, out-of-range ports, bad flags and
 * sizes, unknown sub-ops and unknown hypercall numbers thrown at every
 * hypercall family the other guests exercise.  Each must come back with
 * the right error and leave the guest running; a wrong answer prints one
 * "check failed" line and the verdict counts them.
 */
#include <rt.h>

#define NBAD 5
static const uintptr_t bad_ptrs[NBAD] = {
    0,                          /* NULL */
    0xffff800000000000UL,       /* hypervisor hole (the RO M2P lives here) */
    0xffff830000000000UL,       /* hypervisor hole (Xen's own mappings) */
    0x8000000000000000UL,       /* non-canonical */
    0xffffffff90000000UL,       /* canonical, not mapped */
};

static long ev(int cmd, uintptr_t arg)
{
    return HYPERVISOR_event_channel_op(cmd, (void *)arg);
}

static void pointers(void)
{
    static const int ev_ops[] = {
        EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_close,
        EVTCHNOP_send, EVTCHNOP_status, EVTCHNOP_alloc_unbound,
        EVTCHNOP_bind_ipi, EVTCHNOP_bind_vcpu, EVTCHNOP_unmask,
        EVTCHNOP_reset, EVTCHNOP_init_control,
    };
    static const int ver_ops[] = {
        XENVER_extraversion, XENVER_compile_info, XENVER_capabilities,
        XENVER_changeset, XENVER_platform_parameters, XENVER_get_features,
        XENVER_guest_handle,
    };
    static const unsigned long mem_ops[] = {
        XENMEM_current_reservation, XENMEM_maximum_reservation,
        XENMEM_maximum_gpfn, XENMEM_machphys_mapping,
        XENMEM_machine_memory_map, XENMEM_memory_map,
    };
    static const int vcpu_ops[] = {
        VCPUOP_register_runstate_memory_area, VCPUOP_get_runstate_info,
        VCPUOP_set_periodic_timer, VCPUOP_set_singleshot_timer,
        VCPUOP_register_vcpu_info,
    };

    for (unsigned i = 0; i < NBAD; i++) {
        uintptr_t p = bad_ptrs[i];
        printf("hostile: pointer 0x%lx\n", (unsigned long)p);
        EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 8, (char *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, 1 << 30, (char *)p),
                  -XEN_EFAULT);
        /* With no input pending nothing is copied: Xen answers 0. */
        long r = HYPERVISOR_console_io(CONSOLEIO_read, 8, (char *)p);
        EXPECT(r == 0 || r == -XEN_EFAULT);
        for (unsigned k = 0; k < sizeof(ver_ops) / sizeof(ver_ops[0]); k++)
            EXPECT_EQ(HYPERVISOR_xen_version(ver_ops[k], (void *)p), -XEN_EFAULT);
        for (unsigned k = 0; k < sizeof(ev_ops) / sizeof(ev_ops[0]); k++)
            EXPECT_EQ(ev(ev_ops[k], p), -XEN_EFAULT);
        for (unsigned k = 0; k < sizeof(mem_ops) / sizeof(mem_ops[0]); k++)
            EXPECT_EQ(HYPERVISOR_memory_op(mem_ops[k], (void *)p), -XEN_EFAULT);
        for (unsigned k = 0; k < sizeof(vcpu_ops) / sizeof(vcpu_ops[0]); k++)
            EXPECT_EQ(HYPERVISOR_vcpu_op(vcpu_ops[k], 0, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_callback_op(CALLBACKOP_unregister, (void *)p), -XEN_EFAULT);
        EXPECT_EQ(HYPERVISOR_multicall((void *)p, 1), -XEN_EFAULT);
        /* set_trap_table(NULL) is legal (it clears the table): skip it. */
        if (p)
            EXPECT_EQ(HYPERVISOR_set_trap_table((void *)p), -XEN_EFAULT);

        /* Good outer struct, bad inner pointer. */
        struct sched_poll sp = {.nr_ports = 1, .timeout = 1};
        set_xen_guest_handle(sp.ports, (evtchn_port_t *)p);
        EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -XEN_EFAULT);
        /* A NULL buffer is a size query on Xen: 0, and the count. */
        struct xen_memory_map mm = {.nr_entries = 16};
        set_xen_guest_handle(mm.buffer, (void *)p);
        if (p) {
            EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_machine_memory_map, &mm),
                      -XEN_EFAULT);
        } else {
            EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_machine_memory_map, &mm), 0);
            EXPECT(mm.nr_entries >= 1);
        }
    }
}

static void ports(void)
{
    static const uint32_t bad_ports[] = {0xffffffff, 4096, 1u << 31, 100000};
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    CHECK(ev(EVTCHNOP_alloc_unbound, (uintptr_t)&au) == 0);

    for (unsigned i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
        uint32_t p = bad_ports[i];
        struct evtchn_send s = {.port = p};
        EXPECT_EQ(ev(EVTCHNOP_send, (uintptr_t)&s), -XEN_EINVAL);
        struct evtchn_close c = {.port = p};
        EXPECT_EQ(ev(EVTCHNOP_close, (uintptr_t)&c), -XEN_EINVAL);
        struct evtchn_unmask u = {.port = p};
        EXPECT_EQ(ev(EVTCHNOP_unmask, (uintptr_t)&u), -XEN_EINVAL);
        struct evtchn_status st = {.dom = DOMID_SELF, .port = p};
        EXPECT_EQ(ev(EVTCHNOP_status, (uintptr_t)&st), -XEN_EINVAL);
        struct evtchn_bind_vcpu bv = {.port = p, .vcpu = 0};
        EXPECT_EQ(ev(EVTCHNOP_bind_vcpu, (uintptr_t)&bv), -XEN_EINVAL);
        struct evtchn_bind_interdomain bi = {.remote_dom = DOMID_SELF,
                                             .remote_port = p};
        EXPECT_EQ(ev(EVTCHNOP_bind_interdomain, (uintptr_t)&bi), -XEN_EINVAL);
        evtchn_port_t pp = p;
        struct sched_poll sp = {.nr_ports = 1, .timeout = 1};
        set_xen_guest_handle(sp.ports, &pp);
        EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -XEN_EINVAL);
    }

    /* Bad domains, VIRQs and vCPUs. */
    struct evtchn_alloc_unbound a2 = {.dom = 1234, .remote_dom = DOMID_SELF};
    EXPECT_EQ(ev(EVTCHNOP_alloc_unbound, (uintptr_t)&a2), -XEN_ESRCH);
    /* The remote domain of an unbound port need not exist (yet). */
    a2.dom = DOMID_SELF;
    a2.remote_dom = 1234;
    EXPECT_EQ(ev(EVTCHNOP_alloc_unbound, (uintptr_t)&a2), 0);
    struct evtchn_close cl = {.port = a2.port};
    EXPECT_EQ(ev(EVTCHNOP_close, (uintptr_t)&cl), 0);
    struct evtchn_bind_interdomain bi = {.remote_dom = 1234, .remote_port = au.port};
    EXPECT_EQ(ev(EVTCHNOP_bind_interdomain, (uintptr_t)&bi), -XEN_ESRCH);
    struct evtchn_bind_virq bv = {.virq = 0xffffffff, .vcpu = 0};
    EXPECT_EQ(ev(EVTCHNOP_bind_virq, (uintptr_t)&bv), -XEN_EINVAL);
    bv.virq = VIRQ_DEBUG;
    bv.vcpu = 0xffffffff;
    EXPECT_EQ(ev(EVTCHNOP_bind_virq, (uintptr_t)&bv), -XEN_ENOENT);
    struct evtchn_bind_ipi bipi = {.vcpu = 4096};
    EXPECT_EQ(ev(EVTCHNOP_bind_ipi, (uintptr_t)&bipi), -XEN_ENOENT);
    struct evtchn_bind_vcpu bvc = {.port = au.port, .vcpu = 0xffffffff};
    EXPECT_EQ(ev(EVTCHNOP_bind_vcpu, (uintptr_t)&bvc), -XEN_ENOENT);
    struct evtchn_reset rs = {.dom = 1234};
    EXPECT_EQ(ev(EVTCHNOP_reset, (uintptr_t)&rs), -XEN_ESRCH);
    EXPECT_EQ(ev(100, (uintptr_t)&rs), -XEN_ENOSYS);
    EXPECT_EQ(ev(-1, (uintptr_t)&rs), -XEN_ENOSYS);

    /* Poll limits. */
    static evtchn_port_t many[200];
    struct sched_poll sp = {.nr_ports = 200, .timeout = 1};
    set_xen_guest_handle(sp.ports, many);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -XEN_EINVAL);
    sp.nr_ports = 0xffffffff;
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_poll, &sp), -XEN_EINVAL);
}

static void flags_and_subops(void)
{
    /* vcpu_op */
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffff, NULL), -XEN_ENOENT);
    /* The vCPU id is 32 bits: the upper half of the register is ignored. */
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 1UL << 40, NULL), 1);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, (1UL << 40) | 7, NULL), -XEN_ENOENT);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 99, NULL), -XEN_ENOENT);
    EXPECT_EQ(HYPERVISOR_vcpu_op(-1, 0, NULL), -XEN_ENOSYS);
    struct vcpu_register_vcpu_info vi = {.mfn = ~0ULL, .offset = 0};
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_EINVAL);
    vi.mfn = rt_virt_to_mfn(&vi);
    vi.offset = 0xffffffff;
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &vi), -XEN_ENXIO);
    struct vcpu_set_periodic_timer pt = {.period_ns = 0};
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &pt), -XEN_EINVAL);

    /* sched_op */
    EXPECT_EQ(HYPERVISOR_sched_op(-1, NULL), -XEN_ENOSYS);
    struct sched_remote_shutdown rs = {.domain_id = DOMID_SELF + 5, .reason = 0};
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_remote_shutdown, &rs), -XEN_ESRCH);

    /* console_io / xen_version / memory_op / multicall */
    EXPECT_EQ(HYPERVISOR_console_io(0x7fffffff, 0, NULL), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_xen_version(0x7fffffff, NULL), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_memory_op(0x3f, NULL), -XEN_ENOSYS);
    domid_t nobody = 1234;
    EXPECT_EQ(HYPERVISOR_memory_op(XENMEM_maximum_reservation, &nobody), -XEN_ESRCH);
    static multicall_entry_t mc[2];
    mc[0].op = 0xffffffff;
    mc[1].op = __HYPERVISOR_multicall;      /* no nesting */
    mc[1].args[0] = (uintptr_t)mc;
    mc[1].args[1] = 1;
    EXPECT_EQ(HYPERVISOR_multicall(mc, 2), 0);
    EXPECT_EQ(mc[0].result, -XEN_ENOSYS);
    long nested = (long)mc[1].result;
    printf("hostile: nested multicall entry = %ld\n", nested);
    EXPECT_EQ(nested, -XEN_EINVAL);

    /* callbacks, segments, vm_assist, trap table */
    struct callback_register cb = {.type = 0xffff, .address = 0};
    EXPECT_EQ(HYPERVISOR_callback_op(CALLBACKOP_register, &cb), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_callback_op(-1, &cb), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_set_segment_base(0xffffffff, 0), -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, 0x0000800000000000UL),
              -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, 31), -XEN_EINVAL);
    EXPECT_EQ(HYPERVISOR_vm_assist(7, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    /* NULL clears the trap table; put ours back at once. */
    EXPECT_EQ(HYPERVISOR_set_trap_table(NULL), 0);
    rt_install_traps();
    /* update_va_mapping may not touch the hypervisor's area. */
    EXPECT_EQ(HYPERVISOR_update_va_mapping(0xffff800000000000UL, 0, 0), -XEN_EINVAL);
}

static void unknown_hypercalls(void)
{
    static const unsigned long nrs[] = {11, 43, 47, 56, 63, 64, 1000,
                                        0x80000000UL, ~0UL};
    for (unsigned i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
        long r = hypercall5((unsigned)nrs[i], 1, 2, 3, 4, 5);
        if (nrs[i] == ~0UL) {
            /* The full 64-bit RAX: -1, not 0xffffffff. */
            register unsigned long r10 __asm__("r10") = 0;
            register unsigned long r8 __asm__("r8") = 0;
            unsigned long a = ~0UL, di = 0, si = 0, dx = 0;
            __asm__ volatile("syscall"
                             : "+a"(a), "+D"(di), "+S"(si), "+d"(dx), "+r"(r10),
                               "+r"(r8)
                             :
                             : "rcx", "r11", "memory");
            r = (long)a;
        }
        if (r != -XEN_ENOSYS)
            printf("hostile: hypercall %lu = %ld\n", nrs[i], r);
        EXPECT_EQ(r, -XEN_ENOSYS);
    }
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    pointers();
    ports();
    flags_and_subops();
    unknown_hypercalls();
    /* Still alive and still able to do real work. */
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);
    printf("hostile: %u check(s) failed\n", rt_failures);
}
