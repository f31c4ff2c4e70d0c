/*
 * The hypercall table, generated from keel/hypercall_list.h.  A hole in
 * the table, or a number past its end, is -ENOSYS (logged once per number).
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/softirq.h>
#include <asm/percpu.h>

const struct hypercall_desc hypercall_table[NR_HYPERCALLS] = {
#define HYPERCALL(nr, fn, flags)                                               \
    [__HYPERVISOR_##nr] = {do_##fn, #nr, ((flags)&HC_DOM0_ONLY) != 0,         \
                           ((flags)&HC_NO_MULTICALL) != 0},
#include <keel/hypercall_list.h>
#undef HYPERCALL
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
