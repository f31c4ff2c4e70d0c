/*
 * sysctl: the toolstack's view of the machine, at Xen 4.17's interface
 * version (0x15, else -EACCES), control domain only (-EPERM), one at a
 * time (a busy lock makes the caller re-issue the hypercall).  As in Xen,
 * the whole xen_sysctl is copied back after a sub-op that succeeded, and
 * the sub-ops that write single fields do so themselves.
 *
 * CPU pools are hv/common/sched.c's (pool 0 runs the sched= policy;
 * round-robin goes by credit2's name, keel/domctl.h); one NUMA node.
 */
#define __XEN_TOOLS__ 1
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/domctl.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/sched_types.h>

static spinlock_t sysctl_lock = SPINLOCK_INIT;

static long sysctl_op(struct xen_sysctl *op, unsigned long arg, int *copyback);

long do_sysctl(struct hcall *h)
{
    unsigned long arg = h->arg[0];
    struct xen_sysctl op;
    int copyback = -1; /* -1: only if the sub-op succeeded */
    long rc;

    if (copy_from_guest_obj(&op, arg))
        return -XEN_EFAULT;
    if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
        return -XEN_EACCES;
    if (!current->domain->is_privileged)
        return -XEN_EPERM;
    if (!spin_trylock(&sysctl_lock))
        return h->in_multicall ? -XEN_EBUSY : hypercall_continue(h);
    rc = sysctl_op(&op, arg, &copyback);
    spin_unlock(&sysctl_lock);
    if (copyback && (!rc || copyback > 0) && copy_to_guest_obj(arg, &op))
        rc = -XEN_EFAULT;
    return rc;
}

/* ----------------------------------------------------------- sub-ops */

/* Xen's read_console_ring over Keel's console ring (`xl dmesg`). */
static long op_readconsole(struct xen_sysctl_readconsole *rc)
{
    char chunk[256];
    u32 c, p, size, sofar = 0;

    console_ring_indices(&c, &p, &size);
    c = console_read_from(c, p, rc->incremental, rc->index);
    while (c != p && sofar < rc->count) {
        u32 want = MIN(MIN(p - c, rc->count - sofar), (u32)sizeof(chunk));
        size_t n = console_ring_copy(c, chunk, want);
        if (!n)
            break;
        if (copy_to_guest((unsigned long)rc->buffer.p + sofar, chunk, n))
            return -XEN_EFAULT;
        sofar += (u32)n;
        c += (u32)n;
    }
    if (rc->clear)
        console_ring_set_cons(console_clear_to(c, p, size));
    rc->count = sofar;
    rc->index = c;
    return 0;
}

/* Domains with id >= first, in id order, up to max of them. */
static long op_getdomaininfolist(struct xen_sysctl_getdomaininfolist *l)
{
    struct xen_domctl_getdomaininfo info;
    u32 n = 0;

    for (struct domain *d = domain_get_next(l->first_domain), *next; d; d = next) {
        if (n == l->max_domains) {
            domain_put(d);
            break;
        }
        domain_info(d, &info);
        next = d->domid + 1U < MAX_DOMAINS ? domain_get_next((domid_t)(d->domid + 1)) : NULL;
        domain_put(d);
        if (copy_to_guest((unsigned long)l->buffer.p + n * sizeof(info), &info, sizeof(info))) {
            if (next)
                domain_put(next);
            return -XEN_EFAULT;
        }
        n++;
    }
    l->num_domains = n;
    return 0;
}

/* Xen's rcu_lock_remote_domain_by_id: -ESRCH, or -EPERM for the
 * caller's own domain. */
static long op_movedomain(struct xen_sysctl_cpupool_op *c)
{
    struct domain *d;
    long rc;

    if (c->domid >= DOMID_FIRST_RESERVED || !(d = domain_get((domid_t)c->domid)))
        return -XEN_ESRCH;
    rc = d == current->domain ? -XEN_EPERM : sched_cpupool_move_domain(d, c->cpupool_id);
    domain_put(d);
    return rc;
}

static long op_cpupool(struct xen_sysctl_cpupool_op *c)
{
    struct sched_cpupool_info info;
    long rc;

    switch (c->op) {
    case XEN_SYSCTL_CPUPOOL_OP_CREATE:
        return sched_cpupool_create(c->cpupool_id, c->sched_id, &c->cpupool_id);
    case XEN_SYSCTL_CPUPOOL_OP_DESTROY:
        return sched_cpupool_destroy(c->cpupool_id);
    case XEN_SYSCTL_CPUPOOL_OP_INFO:
        /* The first pool with id >= the one asked (libxl walks 0, id + 1,
         * ... until -ENOENT). */
        rc = sched_cpupool_info(c->cpupool_id, &info);
        if (rc)
            return rc;
        c->cpupool_id = info.id;
        c->sched_id = schedop_ctl_id(info.sched_id);
        c->n_dom = info.n_dom;
        return xenctl_bitmap_write(&c->cpumap, info.cpus, ctl_cpu_bits());
    case XEN_SYSCTL_CPUPOOL_OP_ADDCPU:
        return sched_cpupool_addcpu(c->cpupool_id, c->cpu);
    case XEN_SYSCTL_CPUPOOL_OP_RMCPU:
        return sched_cpupool_rmcpu(c->cpupool_id, c->cpu);
    case XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN:
        return op_movedomain(c);
    case XEN_SYSCTL_CPUPOOL_OP_FREEINFO:
        return xenctl_bitmap_write(&c->cpumap, sched_cpupool_free_cpus(), ctl_cpu_bits());
    default:
        return -XEN_ENOSYS;
    }
}

/* The pool's instance parameters: credit2's rate limit (`xl sched-credit2
 * -s`); RTDS has none (Xen: 0, nothing done). */
static long op_schedop(struct xen_sysctl_scheduler_op *so)
{
    static u32 rr_ratelimit_us = 1000; /* round-robin: stored, credit2's default */
    unsigned int id = 0;
    struct sched_global g;
    bool exists = !sched_pool_id(so->cpupool_id, &id);
    long rc = sysctl_schedop_check(so, exists, schedop_ctl_id(id));

    if (rc)
        return rc;
    if (!id)
        return credit2_ratelimit_adjust(&rr_ratelimit_us, so->cmd,
                                        &so->u.sched_credit2.ratelimit_us);
    if (id != XEN_SCHEDULER_CREDIT2)
        return 0;
    g.ratelimit_us = so->u.sched_credit2.ratelimit_us;
    rc = sched_adjust_global(so->cpupool_id, &g, so->cmd == XEN_SYSCTL_SCHEDOP_putinfo);
    if (!rc)
        so->u.sched_credit2.ratelimit_us = g.ratelimit_us;
    return rc;
}

/* One node with all memory: a size query (NULL handles) gives 1. */
static long op_numainfo(struct xen_sysctl_numainfo *ni, unsigned long arg)
{
    u32 n = 1, i = 0;

    if (ni->meminfo.p || ni->distance.p) {
        struct host_facts h;
        arch_host_facts(&h);
        n = MIN(n, ni->num_nodes);
        for (; i < n; i++) {
            struct xen_sysctl_meminfo mi = {h.total_pages << PAGE_SHIFT,
                                            h.free_pages << PAGE_SHIFT};
            u32 local = 10; /* the SLIT's local distance */
            if (ni->meminfo.p &&
                copy_to_guest((unsigned long)ni->meminfo.p + i * sizeof(mi), &mi, sizeof(mi)))
                return -XEN_EFAULT;
            if (ni->distance.p && copy_to_guest((unsigned long)ni->distance.p +
                                                    (i * n + i) * sizeof(local),
                                                &local, sizeof(local)))
                return -XEN_EFAULT;
        }
    } else {
        i = n;
    }
    if (ni->num_nodes != i) {
        ni->num_nodes = i;
        if (copy_to_guest(arg + offsetof(struct xen_sysctl, u.numainfo.num_nodes), &i,
                          sizeof(i)))
            return -XEN_EFAULT;
    }
    return 0;
}

static long op_cputopoinfo(struct xen_sysctl_cputopoinfo *ti, unsigned long arg)
{
    u32 n = ctl_cpu_bits(), i = 0;

    if (ti->cputopo.p) {
        n = MIN(n, ti->num_cpus);
        for (; i < n; i++) {
            struct xen_sysctl_cputopo t = {XEN_INVALID_CORE_ID, XEN_INVALID_SOCKET_ID,
                                           XEN_INVALID_NODE_ID};
            if (cpu_online(i)) {
                arch_cpu_topology(i, &t.core, &t.socket);
                t.node = 0;
            }
            if (copy_to_guest((unsigned long)ti->cputopo.p + i * sizeof(t), &t, sizeof(t)))
                return -XEN_EFAULT;
        }
    } else {
        i = n;
    }
    if (ti->num_cpus != i) {
        ti->num_cpus = i;
        if (copy_to_guest(arg + offsetof(struct xen_sysctl, u.cputopoinfo.num_cpus), &i,
                          sizeof(i)))
            return -XEN_EFAULT;
    }
    return 0;
}

static long sysctl_op(struct xen_sysctl *op, unsigned long arg, int *copyback)
{
    struct host_facts h;

    switch (op->cmd) {
    case XEN_SYSCTL_readconsole:
        return op_readconsole(&op->u.readconsole);
    case XEN_SYSCTL_sched_id:
        op->u.sched_id.sched_id = schedop_ctl_id(sched_id());
        return 0;
    case XEN_SYSCTL_scheduler_op:
        return op_schedop(&op->u.scheduler_op);
    case XEN_SYSCTL_getdomaininfolist:
        return op_getdomaininfolist(&op->u.getdomaininfolist);
    case XEN_SYSCTL_cpupool_op:
        return op_cpupool(&op->u.cpupool_op);
    case XEN_SYSCTL_physinfo:
        arch_host_facts(&h);
        physinfo_fill(&h, &op->u.physinfo);
        return 0;
    case XEN_SYSCTL_numainfo:
        return op_numainfo(&op->u.numainfo, arg);
    case XEN_SYSCTL_cputopoinfo:
        return op_cputopoinfo(&op->u.cputopoinfo, arg);
    case XEN_SYSCTL_get_cpu_featureset:
        *copyback = 0;
        return sysctl_get_cpu_featureset(&op->u.cpu_featureset, arg);
    case XEN_SYSCTL_get_cpu_policy:
        *copyback = 0;
        return sysctl_get_cpu_policy(&op->u.cpu_policy, arg);
    default:
        *copyback = 0;
        return -XEN_ENOSYS;
    }
}
