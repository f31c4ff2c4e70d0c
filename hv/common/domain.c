/*
 * Domain and vCPU lifetime: creation, the id table and references, pause,
 * shutdown.
 *
 * The id table is the only way to find a domain by id.  Lookups and
 * changes of the table happen under domlist_lock, and a lookup takes its
 * reference before the lock is dropped, so a domain found is never freed
 * under the finder's feet: it leaves the table first (dropping the
 * table's reference), and only the last reference frees it.
 */
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/shutdown.h>
#include <keel/vtime.h>
#include <xen/sched.h>

static struct domain *domain_table[MAX_DOMAINS];
static spinlock_t domlist_lock = SPINLOCK_INIT;
struct domain *idle_domain;

void domain_get_ref(struct domain *d)
{
    unsigned int old = __atomic_fetch_add(&d->refcnt, 1, __ATOMIC_ACQUIRE);

    BUG_ON(old == 0 || old == ~0U); /* a dead domain, or a leak */
}

struct domain *domain_get(domid_t id)
{
    struct domain *d;
    unsigned long f;

    if (id >= MAX_DOMAINS)
        return NULL;
    f = spin_lock_irqsave(&domlist_lock);
    d = domain_table[id];
    if (d)
        domain_get_ref(d);
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

struct domain *domain_get_next(domid_t from)
{
    struct domain *d = NULL;
    unsigned long f = spin_lock_irqsave(&domlist_lock);

    for (unsigned int id = from; id < MAX_DOMAINS && !d; id++)
        d = domain_table[id];
    if (d)
        domain_get_ref(d);
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

static void domain_free(struct domain *d)
{
    sched_destroy_domain(d); /* its vCPUs leave the policy's queues */
    gnttab_domain_free(d); /* the table outlives us while others map it */
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        xfree(d->vcpus[i]);
    xfree(d);
}

void domain_put(struct domain *d)
{
    unsigned int old = __atomic_fetch_sub(&d->refcnt, 1, __ATOMIC_ACQ_REL);

    BUG_ON(old == 0);
    if (old == 1)
        domain_free(d);
}

static struct vcpu *vcpu_alloc(struct domain *d, unsigned int id, unsigned int cpu)
{
    struct vcpu *v = xzalloc(sizeof(*v));

    if (!v)
        return NULL;
    v->vcpu_id = id;
    v->domain = d;
    v->pause_flags = 1UL << VPF_down;
    v->poll_port = ~0U;
    sched_add_vcpu(v, cpu);
    if (!d->is_idle)
        vcpu_timers_init(v);
    return v;
}

static struct domain *domain_alloc(domid_t id)
{
    struct domain *d = xzalloc(sizeof(*d));

    if (!d)
        return NULL;
    d->domid = id;
    d->refcnt = 1; /* the creator's, handed to the id table */
    d->lock = (spinlock_t)SPINLOCK_INIT;
    d->evtchn_lock = (spinlock_t)SPINLOCK_INIT;
    return d;
}

struct domain *domain_create(domid_t id, bool privileged, unsigned int nr_vcpus)
{
    struct domain *d;
    unsigned long f;

    if (id >= MAX_DOMAINS || !nr_vcpus || nr_vcpus > MAX_VIRT_CPUS)
        return NULL;
    d = domain_alloc(id);
    if (!d)
        return NULL;
    d->is_privileged = privileged;
    /* shared_info belongs to the guest, which maps it by machine address. */
    {
        struct page_info *pg = alloc_pages(0);
        if (!pg)
            goto fail;
        page_assign(pg, d);
        d->shared_info_mfn = page_to_mfn(pg);
        d->shared_info = mfn_to_virt(d->shared_info_mfn);
        memset(d->shared_info, 0, PAGE_SIZE);
    }
    d->nr_vcpus = nr_vcpus;
    for (unsigned int i = 0; i < nr_vcpus; i++) {
        /* Spread vCPUs over CPUs; the scheduler may move them later. */
        d->vcpus[i] = vcpu_alloc(d, i, i % num_online_cpus());
        if (!d->vcpus[i])
            goto fail;
        d->vcpus[i]->vcpu_info = &d->shared_info->vcpu_info[i];
        /* Guests start with events masked (their virtual IF is clear). */
        d->vcpus[i]->vcpu_info->evtchn_upcall_mask = 1;
    }
    if (evtchn_domain_init(&d->evtchn, id, nr_vcpus, d->shared_info, d->ports,
                           DOMAIN_EVTCHN_PORTS))
        goto fail;
    f = spin_lock_irqsave(&domlist_lock);
    if (domain_table[id]) {
        spin_unlock_irqrestore(&domlist_lock, f);
        goto fail;
    }
    domain_table[id] = d;
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;

fail:
    if (d->shared_info)
        page_unassign(mfn_to_page(d->shared_info_mfn));
    domain_free(d);
    return NULL;
}

struct vcpu *idle_vcpu_create(unsigned int cpu)
{
    if (!idle_domain) {
        idle_domain = domain_alloc(DOMID_IDLE);
        BUG_ON(!idle_domain);
        idle_domain->is_idle = true;
    }
    struct vcpu *v = vcpu_alloc(idle_domain, cpu, cpu);
    BUG_ON(!v);
    v->pause_flags = 0;
    return v;
}

static const char *const shutdown_names[] = {
    [SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
    [SHUTDOWN_suspend] = "suspend",   [SHUTDOWN_crash] = "crash",
    [SHUTDOWN_watchdog] = "watchdog", [SHUTDOWN_soft_reset] = "soft_reset",
};

static const char *shutdown_name(unsigned int reason)
{
    return reason < ARRAY_SIZE(shutdown_names) && shutdown_names[reason]
               ? shutdown_names[reason] : "unknown";
}

/*
 * Stop every vCPU of d.  dom0 going away ends the machine: there is nobody
 * left to restart it, as with Xen.
 */
void domain_shutdown(struct domain *d, unsigned int reason)
{
    spin_lock(&d->lock);
    if (d->is_shutting_down) {
        spin_unlock(&d->lock);
        return;
    }
    d->is_shutting_down = true;
    d->shutdown_code = reason;
    spin_unlock(&d->lock);
    printk("Domain %u shut down: %s (reason %u)\n", d->domid, shutdown_name(reason), reason);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_sleep(d->vcpus[i]);
        vcpu_set_periodic(d->vcpus[i], 0); /* no more ticks for the dead */
        vcpu_timers_stop(d->vcpus[i]);
    }
    if (d->domid == 0)
        machine_halt(reason == SHUTDOWN_crash ? KEEL_EXIT_DOM0_CRASH : KEEL_EXIT_OK);
}

void domain_crash(struct domain *d, const char *why)
{
    printk(KLOG_ERR "Domain %u crashed: %s\n", d->domid, why);
    domain_shutdown(d, SHUTDOWN_crash);
}

void domain_pause(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        __atomic_add_fetch(&d->vcpus[i]->pause_count, 1, __ATOMIC_SEQ_CST);
        vcpu_sleep(d->vcpus[i]);
    }
}

void domain_unpause(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (!__atomic_sub_fetch(&d->vcpus[i]->pause_count, 1, __ATOMIC_SEQ_CST))
            vcpu_wake(d->vcpus[i]);
}
