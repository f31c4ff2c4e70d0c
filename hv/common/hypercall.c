/*
 * The hypercall table: the one list of what guests may call.  A hole in the
 * table, or a number past its end, is -ENOSYS (logged once per number).
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/softirq.h>
#include <asm/percpu.h>

/* Weak fallbacks, so a family can land without touching this file. */
#define WEAK_HYPERCALL(name)                                                   \
    __attribute__((weak)) long do_##name(struct hcall *h)                      \
    {                                                                          \
        (void)h;                                                               \
        return -XEN_ENOSYS;                                                    \
    }
WEAK_HYPERCALL(set_trap_table)
WEAK_HYPERCALL(mmu_update)
WEAK_HYPERCALL(set_gdt)
WEAK_HYPERCALL(stack_switch)
WEAK_HYPERCALL(set_callbacks)
WEAK_HYPERCALL(fpu_taskswitch)
WEAK_HYPERCALL(platform_op)
WEAK_HYPERCALL(set_debugreg)
WEAK_HYPERCALL(get_debugreg)
WEAK_HYPERCALL(update_descriptor)
WEAK_HYPERCALL(memory_op)
WEAK_HYPERCALL(multicall)
WEAK_HYPERCALL(update_va_mapping)
WEAK_HYPERCALL(set_timer_op)
WEAK_HYPERCALL(xen_version)
WEAK_HYPERCALL(console_io)
WEAK_HYPERCALL(grant_table_op)
WEAK_HYPERCALL(vm_assist)
WEAK_HYPERCALL(iret)
WEAK_HYPERCALL(vcpu_op)
WEAK_HYPERCALL(set_segment_base)
WEAK_HYPERCALL(mmuext_op)
WEAK_HYPERCALL(sched_op)
WEAK_HYPERCALL(callback_op)
WEAK_HYPERCALL(event_channel_op)
WEAK_HYPERCALL(physdev_op)

#define HC(nr, fn, ...) [__HYPERVISOR_##nr] = {do_##fn, #nr, __VA_ARGS__}

const struct hypercall_desc hypercall_table[NR_HYPERCALLS] = {
    HC(set_trap_table, set_trap_table),
    HC(mmu_update, mmu_update),
    HC(set_gdt, set_gdt),
    HC(stack_switch, stack_switch),
    HC(set_callbacks, set_callbacks),
    HC(fpu_taskswitch, fpu_taskswitch),
    HC(platform_op, platform_op, .dom0_only = true),
    HC(set_debugreg, set_debugreg),
    HC(get_debugreg, get_debugreg),
    HC(update_descriptor, update_descriptor),
    HC(memory_op, memory_op),
    HC(multicall, multicall, .no_multicall = true),
    HC(update_va_mapping, update_va_mapping),
    HC(set_timer_op, set_timer_op),
    HC(xen_version, xen_version),
    HC(console_io, console_io),
    HC(grant_table_op, grant_table_op),
    HC(vm_assist, vm_assist),
    HC(iret, iret, .no_multicall = true),
    HC(vcpu_op, vcpu_op),
    HC(set_segment_base, set_segment_base),
    HC(mmuext_op, mmuext_op),
    HC(sched_op, sched_op),
    HC(callback_op, callback_op),
    HC(event_channel_op, event_channel_op),
    HC(physdev_op, physdev_op),
    HC(xenpmu_op, xenpmu_op),
    HC(xsm_op, xsm_op),
    HC(sysctl, sysctl),
    HC(domctl, domctl),
};

/* No virtual PMU: the answer Xen gives when it has none, which Linux reads
 * as "VPMU disabled" (a plain -ENOSYS is logged as unimplemented). */
long do_xenpmu_op(struct hcall *h)
{
    (void)h;
    return -XEN_EOPNOTSUPP;
}

/* No XSM module: the answer libxl expects (quietly: it asks for every
 * domain it lists). */
long do_xsm_op(struct hcall *h)
{
    (void)h;
    return -XEN_ENOSYS;
}

static u64 reported[(NR_HYPERCALLS + 1 + 63) / 64];

static long not_implemented(unsigned long nr)
{
    unsigned idx = nr < NR_HYPERCALLS ? (unsigned)nr : NR_HYPERCALLS;
    u64 bit = 1ULL << (idx % 64);

    if (!(__atomic_fetch_or(&reported[idx / 64], bit, __ATOMIC_RELAXED) & bit))
        printk(KLOG_WARN "d%u: hypercall %lu not implemented (-ENOSYS)%s\n",
               current->domain->domid, nr,
               idx == NR_HYPERCALLS ? "; further unknown numbers not reported" : "");
    return -XEN_ENOSYS;
}

bool hypercall_preempt_check(const struct hcall *h)
{
    /* Inside a multicall the entry cannot be re-issued on its own. */
    return !h->in_multicall && softirq_pending(smp_processor_id());
}

long hypercall_continue(struct hcall *h)
{
    h->continuation = true;
    return 0;
}

long hypercall_run(unsigned long nr, struct hcall *h)
{
    const struct hypercall_desc *d;

    if (nr >= NR_HYPERCALLS || !hypercall_table[nr].fn)
        return not_implemented(nr);
    d = &hypercall_table[nr];
    if (d->dom0_only && !current->domain->is_privileged)
        return -XEN_EPERM;
    if (h->in_multicall && d->no_multicall)
        return -XEN_EINVAL;
    return d->fn(h);
}
