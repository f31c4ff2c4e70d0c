/*
 * Domain and vCPU lifetime: creation, the id table and references, pause,
 * shutdown, destruction (the states are described in keel/domain.h).
 *
 * The id table is the only way to find a domain by id.  Lookups and
 * changes of the table happen under domlist_lock, and a lookup takes its
 * reference before the lock is dropped, so a domain found is never freed
 * under the finder's feet.  References are held by the id table (from
 * creation until the domain is dead), by its frames collectively (while
 * any frame names it as owner, keel/domain_mem.h) and by whoever looked it
 * up.  The last domain_put unlists it; the structure itself is freed one
 * grace period later, as lockless readers (event-channel peers, timer
 * callbacks, the scheduler) may still hold a raw pointer until their CPU
 * passes a quiescent point.
 */
#define __XEN_TOOLS__ 1 /* keel/domctl.h: the id rover */
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/domctl.h>
#include <keel/grant_table.h>
#include <keel/m2p.h>
#include <keel/memory.h>
#include <keel/mm.h>
#include <keel/options.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/shutdown.h>
#include <keel/softirq.h>
#include <keel/vtime.h>
#include <xen/sched.h>

static struct domain *domain_table[MAX_DOMAINS];
static spinlock_t domlist_lock = SPINLOCK_INIT;
static struct domain *hwdom;
struct domain *idle_domain;

/* What a dying domain's pointers lead to once its frames may go. */
static u8 dummy_shared_info[PAGE_SIZE] __aligned(PAGE_SIZE);
static struct vcpu_info dummy_vcpu_info = {.evtchn_upcall_mask = 1};

struct domain *hardware_domain(void)
{
    return hwdom;
}

/* ------------------------------------------------------------ references */

void domain_get_ref(struct domain *d)
{
    unsigned int old = __atomic_fetch_add(&d->refcnt, 1, __ATOMIC_ACQUIRE);

    BUG_ON(old == 0 || old == ~0U); /* a dead domain, or a leak */
}

/* A listed domain whose count already reached 0 is being destroyed:
 * lookups treat it as gone. */
static bool domain_tryget(struct domain *d)
{
    unsigned int old = __atomic_load_n(&d->refcnt, __ATOMIC_ACQUIRE);

    do {
        if (old == 0)
            return false;
        BUG_ON(old == ~0U);
    } while (!__atomic_compare_exchange_n(&d->refcnt, &old, old + 1, false,
                                          __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE));
    return true;
}

struct domain *domain_get(domid_t id)
{
    struct domain *d;
    unsigned long f;

    if (id >= MAX_DOMAINS)
        return NULL;
    f = spin_lock_irqsave(&domlist_lock);
    d = domain_table[id];
    if (d && !domain_tryget(d))
        d = NULL;
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

struct domain *domain_get_next(domid_t from)
{
    struct domain *d = NULL;
    unsigned long f = spin_lock_irqsave(&domlist_lock);

    for (unsigned int id = from; id < MAX_DOMAINS && !d; id++) {
        d = domain_table[id];
        if (d && !domain_tryget(d))
            d = NULL;
    }
    spin_unlock_irqrestore(&domlist_lock, f);
    return d;
}

static void vcpu_free(struct vcpu *v)
{
    if (!v->domain->is_idle)
        sched_remove_vcpu(v);
    arch_vcpu_destroy(v);
    xfree(v);
}

static void domain_free(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i])
            vcpu_free(d->vcpus[i]);
    sched_destroy_domain(d); /* after its vCPUs left the scheduler */
    gnttab_domain_free(d); /* a domain that never died has it still */
    evtchn_domain_destroy(&d->evtchn);
    arch_domain_destroy(d);
    xfree(d);
}

static void domain_free_rcu(struct rcu_head *h)
{
    struct domain *d = container_of(h, struct domain, rcu_free);
    domid_t id = d->domid;

    domain_free(d);
    printk(KLOG_DEBUG "d%u: freed (%lu frames free)\n", id, heap_free_frames());
    send_guest_global_virq(hwdom, VIRQ_DOM_EXC);
}

/* The last reference went: off the id table, freed after a grace period. */
static void domain_destroy(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&domlist_lock);

    BUG_ON(d->is_dying != DOMAIN_DEAD);
    if (domain_table[d->domid] == d)
        domain_table[d->domid] = NULL;
    spin_unlock_irqrestore(&domlist_lock, f);
    call_rcu(&d->rcu_free, domain_free_rcu);
}

void domain_put(struct domain *d)
{
    unsigned int old = __atomic_fetch_sub(&d->refcnt, 1, __ATOMIC_ACQ_REL);

    BUG_ON(old == 0);
    if (old == 1)
        domain_destroy(d);
}

/* ------------------------------------------------------- frame ownership */

static bool owner_assign(struct page_info *pg, struct domain *d)
{
    bool first;

    if (dmem_assign(&d->mem, pg, d, &first))
        return false;
    /* Frames keep their owner alive: pg->owner never dangles. */
    if (first)
        domain_get_ref(d);
    return true;
}

static bool owner_release(struct page_info *pg, struct domain *d)
{
    mem_frame_freed(d, pg);
    return dmem_release(&d->mem, pg);
}

static void owner_released(struct domain *d)
{
    domain_put(d);
}

static const struct page_owner_ops owner_ops = {
    .assign = owner_assign,
    .release = owner_release,
    .released = owner_released,
};

/* --------------------------------------------------------------- creation */

static struct vcpu *vcpu_alloc(struct domain *d, unsigned int id, int cpu)
{
    struct vcpu *v = xzalloc(sizeof(*v));

    if (!v)
        return NULL;
    v->vcpu_id = id;
    v->domain = d;
    v->pause_flags = 1UL << VPF_down;
    v->poll_port = ~0U;
    v->affinity_hard = v->affinity_soft = ~0ULL;
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
    /* Frames are given to domains only: the hooks are needed from the
     * first domain on (setting them again is harmless). */
    page_owner_set_ops(&owner_ops);
    d->domid = id;
    d->refcnt = 1; /* the creator's, handed to the id table */
    d->lock = (spinlock_t)SPINLOCK_INIT;
    d->evtchn_lock = (spinlock_t)SPINLOCK_INIT;
    d->page_lock = (spinlock_t)SPINLOCK_INIT;
    d->arch.e820_lock = (spinlock_t)SPINLOCK_INIT;
    d->shutdown_code = SHUTDOWN_CODE_INVALID;
    d->node_affinity = ~0ULL;
    d->sched_weight = 256; /* credit2's default */
    dmem_init(&d->mem);
    return d;
}

/*
 * shared_info belongs to the guest, which maps it by machine address, and
 * Keel writes into it: it holds Keel's write reference (a writable type),
 * so the guest can never make it a page table.  It does not count in
 * tot_pages, as with Xen.
 */
static int shared_info_alloc(struct domain *d)
{
    struct page_info *pg = alloc_pages(0);

    if (!pg)
        return -XEN_ENOMEM;
    memset(mfn_to_virt(page_to_mfn(pg)), 0, PAGE_SIZE);
    m2p_set(page_to_mfn(pg), INVALID_M2P_ENTRY);
    BUG_ON(!page_share_with_guest(pg, d)); /* a new domain is not closed */
    d->shared_info_mfn = page_to_mfn(pg);
    d->shared_info = mfn_to_virt(d->shared_info_mfn);
    return 0;
}

static int vcpus_alloc(struct domain *d, const struct domain_config *c)
{
    d->nr_vcpus = c->max_vcpus;
    for (unsigned int i = 0; i < c->max_vcpus; i++) {
        struct vcpu *v = vcpu_alloc(d, i, -1); /* least loaded CPU */
        if (!v)
            return -XEN_ENOMEM;
        d->vcpus[i] = v;
        v->vcpu_info = &d->shared_info->vcpu_info[i];
        if (arch_vcpu_init(v))
            return -XEN_ENOMEM;
        /* Guests start with events masked (their virtual IF is clear). */
        v->vcpu_info->evtchn_upcall_mask = 1;
        if (c->paused)
            v->pause_count = 1; /* the controller's pause */
    }
    return 0;
}

/* A domain that never became visible: undo without any grace period. */
static void domain_create_fail(struct domain *d)
{
    dmem_close(&d->mem);
    d->is_dying = DOMAIN_DEAD;
    if (d->shared_info)
        page_unshare(mfn_to_page(d->shared_info_mfn)); /* frees it */
    /* Its only frame went: the frames' reference went with it. */
    BUG_ON(d->refcnt != 1);
    domain_free(d);
}

int domain_create(domid_t id, const struct domain_config *c, struct domain **out)
{
    struct domain *d;
    unsigned long f;
    int rc;

    if (id >= MAX_DOMAINS || !c->max_vcpus || c->max_vcpus > MAX_VIRT_CPUS)
        return -XEN_EINVAL;
    d = domain_alloc(id);
    if (!d)
        return -XEN_ENOMEM;
    d->is_privileged = c->privileged;
    d->controller_pause_count = c->paused ? 1 : 0;
    d->creation_finished = !c->paused;
    d->vcpus_visible = !c->paused; /* the toolstack's get theirs with max_vcpus */
    d->cpupool = c->cpupool;
    d->max_grant_frames = c->max_grant_frames;
    d->max_maptrack_frames = c->max_maptrack_frames;
    d->max_grant_version = c->max_grant_version;
    memcpy(d->handle, c->handle, sizeof(d->handle));
    rc = shared_info_alloc(d);
    if (!rc)
        rc = arch_domain_init(d, c);
    if (!rc)
        rc = vcpus_alloc(d, c);
    if (!rc)
        rc = evtchn_domain_init(&d->evtchn, id, c->max_vcpus, d->shared_info,
                                c->nr_evtchn_ports);
    if (rc) {
        domain_create_fail(d);
        return rc;
    }
    /* Point of no return: the domain becomes visible. */
    f = spin_lock_irqsave(&domlist_lock);
    if (domain_table[id]) {
        spin_unlock_irqrestore(&domlist_lock, f);
        domain_create_fail(d);
        return -XEN_EEXIST;
    }
    domain_table[id] = d;
    if (id == 0 && c->privileged)
        hwdom = d;
    spin_unlock_irqrestore(&domlist_lock, f);
    *out = d;
    return 0;
}

static bool id_taken(domid_t id, void *ctx)
{
    (void)ctx;
    return domain_table[id] != NULL;
}

int domain_alloc_id(domid_t *id)
{
    static domid_t rover;
    unsigned long f = spin_lock_irqsave(&domlist_lock);
    domid_t found = domid_rover_next(rover, id_taken, NULL);

    if (found != DOMID_INVALID)
        rover = found;
    spin_unlock_irqrestore(&domlist_lock, f);
    if (found == DOMID_INVALID)
        return -XEN_ENOMEM;
    *id = found;
    return 0;
}

struct vcpu *idle_vcpu_create(unsigned int cpu)
{
    if (!idle_domain) {
        idle_domain = domain_alloc(DOMID_IDLE);
        BUG_ON(!idle_domain);
        idle_domain->is_idle = true;
    }
    struct vcpu *v = vcpu_alloc(idle_domain, cpu, (int)cpu);
    BUG_ON(!v);
    v->pause_flags = 0;
    return v;
}

/* ---------------------------------------------------------------- shutdown */

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
 * Stop every vCPU of d.  As on Xen, the domain counts as shut down at once
 * (no vCPU defers it) and dom0 hears of it through VIRQ_DOM_EXC; the first
 * reason given (SCHEDOP_shutdown_code included) is the one reported.  dom0
 * going away ends the machine: there is nobody left to restart it.
 */
void domain_shutdown(struct domain *d, unsigned int reason)
{
    spin_lock(&d->lock);
    if (d->shutdown_code == SHUTDOWN_CODE_INVALID)
        d->shutdown_code = reason;
    reason = d->shutdown_code;
    if (d->is_shutting_down) {
        spin_unlock(&d->lock);
        return;
    }
    WRITE_ONCE(d->is_shutting_down, true);
    spin_unlock(&d->lock);
    printk("Domain %u shut down: %s (reason %u)\n", d->domid, shutdown_name(reason), reason);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_sleep(d->vcpus[i]);
        vcpu_set_periodic(d->vcpus[i], 0); /* no more ticks for the dead */
        vcpu_timers_stop(d->vcpus[i]);
    }
    if (d == hwdom)
        hwdom_shutdown(reason);
    WRITE_ONCE(d->is_shut_down, true);
    send_guest_global_virq(hwdom, VIRQ_DOM_EXC);
}

void hwdom_shutdown(unsigned int reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff:
        machine_halt(KEEL_EXIT_OK);
    case SHUTDOWN_reboot:
    case SHUTDOWN_watchdog:
    case SHUTDOWN_soft_reset: /* Keel, like Xen, cannot soft-reset dom0 */
        machine_restart(0);
    default:
        break;
    }
    if (opts.noreboot || opts.debug_exit)
        machine_halt(reason == SHUTDOWN_crash ? KEEL_EXIT_DOM0_CRASH : KEEL_EXIT_OK);
    printk("Resetting the machine in 5 seconds\n");
    machine_restart(5000);
}

void domain_crash(struct domain *d, const char *why)
{
    printk(KLOG_ERR "Domain %u crashed: %s\n", d->domid, why);
    domain_shutdown(d, SHUTDOWN_crash);
}

/* ------------------------------------------------------------------ pause */

void vcpu_pause(struct vcpu *v)
{
    BUG_ON(v == current);
    __atomic_add_fetch(&v->pause_count, 1, __ATOMIC_SEQ_CST);
    vcpu_sleep_sync(v);
}

void vcpu_unpause(struct vcpu *v)
{
    if (!__atomic_sub_fetch(&v->pause_count, 1, __ATOMIC_SEQ_CST))
        vcpu_wake(v);
}

void domain_pause(struct domain *d)
{
    BUG_ON(d == current->domain);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        __atomic_add_fetch(&d->vcpus[i]->pause_count, 1, __ATOMIC_SEQ_CST);
        vcpu_sleep(d->vcpus[i]);
    }
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        vcpu_sleep_sync(d->vcpus[i]);
}

void domain_unpause(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        vcpu_unpause(d->vcpus[i]);
}

int domain_pause_by_controller(struct domain *d)
{
    int old = __atomic_load_n(&d->controller_pause_count, __ATOMIC_ACQUIRE);

    do {
        if (old + 1 > 255)
            return -XEN_EOVERFLOW; /* Xen's arbitrary limit */
    } while (!__atomic_compare_exchange_n(&d->controller_pause_count, &old, old + 1, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    domain_pause(d);
    return 0;
}

int domain_unpause_by_controller(struct domain *d)
{
    int old = __atomic_load_n(&d->controller_pause_count, __ATOMIC_ACQUIRE);

    do {
        if (old <= 0)
            return -XEN_EINVAL;
    } while (!__atomic_compare_exchange_n(&d->controller_pause_count, &old, old - 1, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    /* Creation is over when the count first drops to 0. */
    if (old == 1)
        WRITE_ONCE(d->creation_finished, true);
    domain_unpause(d);
    return 0;
}

/* ------------------------------------------------------------ destruction */

bool relinquish_preempt_check(void)
{
    return softirq_pending(smp_processor_id());
}

/*
 * Frames Keel writes into (shared_info, registered vcpu_info areas, the
 * grant table's) are dropped one grace period after every pointer to them
 * was redirected to a dummy (or, for the grant table, cleared), so a
 * reader that loaded the old pointer is done with it.
 */
static void drop_keel_frames(struct rcu_head *h)
{
    struct domain *d = container_of(h, struct domain, rcu_frames);
    mfn_t frames[MAX_VIRT_CPUS + 1];
    unsigned int n = 0;

    /* Collected first: dropping the last frame may free d. */
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i]->vcpu_info_mfn)
            frames[n++] = d->vcpus[i]->vcpu_info_mfn;
    frames[n++] = d->shared_info_mfn;
    /* The grant table's own reference: its frames (held by Keel while the
     * table lives) go once no other domain maps its grants either. */
    gnttab_domain_free(d);
    for (unsigned int i = 0; i < n; i++)
        put_page_keel_write(mfn_to_page(frames[i]));
}

static void redirect_keel_frames(struct domain *d)
{
    unsigned long f = spin_lock_irqsave(&d->evtchn_lock);

    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        d->vcpus[i]->vcpu_info = &dummy_vcpu_info;
        evtchn_set_vcpu_info(&d->evtchn, i, &dummy_vcpu_info);
    }
    d->evtchn.shared = (struct shared_info *)dummy_shared_info;
    WRITE_ONCE(d->shared_info, (struct shared_info *)dummy_shared_info);
    spin_unlock_irqrestore(&d->evtchn_lock, f);
}

static void relinquish_vcpus(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_timers_kill(d->vcpus[i]);
        arch_vcpu_relinquish(d->vcpus[i]);
    }
    redirect_keel_frames(d);
}

/* For each frame that still had PGC_allocated: no M2P entry.  (It leaves
 * tot_pages when it is freed: memory.c, through owner_release.) */
static void relinquish_frame(struct page_info *pg, void *ctx)
{
    (void)ctx;
    m2p_set(page_to_mfn(pg), INVALID_M2P_ENTRY);
}

#define RELINQUISH_BATCH 256 /* frames between two looks at pending work */

static int relinquish_memory(struct domain *d, bool may_preempt)
{
    while (dmem_relinquish(&d->mem, d, RELINQUISH_BATCH, relinquish_frame, d))
        if (may_preempt && relinquish_preempt_check())
            return 1;
    return 0;
}

enum { REL_EVTCHN, REL_GNTTAB, REL_VCPUS, REL_P2M, REL_MEMORY, REL_DONE };

/* Each step: 0 when done, > 0 when preempted (the step runs again). */
static int relinquish(struct domain *d, bool may_preempt)
{
    int rc = 0;

    while (d->relinquish_step != REL_DONE) {
        switch (d->relinquish_step) {
        case REL_EVTCHN:
            rc = evtchn_domain_relinquish(d);
            break;
        case REL_GNTTAB:
            rc = gnttab_domain_relinquish(d);
            break;
        case REL_VCPUS:
            relinquish_vcpus(d);
            break;
        case REL_P2M:
            rc = arch_domain_relinquish(d);
            break;
        case REL_MEMORY:
            rc = relinquish_memory(d, may_preempt);
            break;
        }
        if (rc > 0) {
            if (may_preempt)
                return rc;
            process_pending_softirqs();
            continue; /* no way to continue later: go on now */
        }
        d->relinquish_step++;
    }
    return 0;
}

int domain_kill(struct domain *d, bool may_preempt)
{
    if (d == current->domain)
        return -XEN_EINVAL;
    switch (d->is_dying) {
    case DOMAIN_ALIVE:
        domain_pause(d); /* never undone */
        spin_lock(&d->lock);
        WRITE_ONCE(d->is_dying, DOMAIN_DYING);
        spin_unlock(&d->lock);
        dmem_close(&d->mem);
        printk("Domain %u dying\n", d->domid);
        /* fall through */
    case DOMAIN_DYING:
        if (relinquish(d, may_preempt))
            return -KEEL_ERESTART;
        WRITE_ONCE(d->is_dying, DOMAIN_DEAD);
        call_rcu(&d->rcu_frames, drop_keel_frames);
        printk("Domain %u dead (%lu frames still referenced)\n", d->domid,
               READ_ONCE(d->mem.nr_owned));
        send_guest_global_virq(hwdom, VIRQ_DOM_EXC);
        domain_put(d); /* the id table's: frames and lookups keep it now */
        break;
    default:
        break;
    }
    return 0;
}
