/*
 * Domains and vCPUs: the objects everything else hangs off.  A vCPU may
 * run when its pause count is zero and no pause flag is set; the scheduler
 * is told whenever that changes (vcpu_wake / vcpu_sleep).
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <asm/domain.h>
#include <keel/event.h>
#include <keel/sched_types.h>
#include <keel/spinlock.h>
#include <keel/timer.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#define MAX_VIRT_CPUS XEN_LEGACY_MAX_VCPUS
/* Ordinary domids are 0 .. DOMID_FIRST_RESERVED-1, as with Xen. */
#define MAX_DOMAINS DOMID_FIRST_RESERVED
#define DOMAIN_EVTCHN_PORTS 1024
#define NR_CPUS_SCHED 64 /* = NR_CPUS; kept here so core code needs no arch header */

/* vcpu->pause_flags bits: reasons a vCPU is not runnable. */
#define VPF_blocked 0   /* SCHEDOP_block: waits for an event */
#define VPF_down 1      /* not initialised / VCPUOP_down */
#define VPF_polling 2   /* SCHEDOP_poll */
#define VPF_migrating 3 /* leaving a CPU its new hard affinity excludes */

struct domain;
struct grant_table;

struct vcpu {
    unsigned int vcpu_id;
    struct domain *domain;
    unsigned int processor;      /* the CPU it runs or waits on (scheduler lock) */
    bool is_running;             /* on a CPU, or its registers not yet saved */
    unsigned long pause_flags;   /* VPF_* */
    int pause_count;             /* domain_pause and friends */
    struct sched_vcpu sched;     /* affinity, the policy's state */
    bool sched_inserted;         /* known to its domain's scheduler */
    bool migrate_pending;        /* VPF_migrating set; a move is owed */

    struct vcpu_info *vcpu_info; /* shared_info slot or registered area */
    bool vcpu_info_registered;
    struct timer singleshot_timer;
    struct timer periodic_timer;
    s_time_t periodic_period;
    struct timer poll_timer;
    evtchn_port_t poll_port;     /* SCHEDOP_poll: one port, or ~0 for "any" */

    struct vcpu_runstate_info runstate;
    unsigned long runstate_guest; /* guest VA of its copy, 0 = none */

    struct arch_vcpu arch;
};

struct domain {
    domid_t domid;
    bool is_privileged;          /* dom0: may use privileged hypercalls */
    bool is_idle;                /* the per-CPU idle vCPUs' domain */
    bool is_shutting_down;
    bool is_dying;
    unsigned int shutdown_code;  /* SHUTDOWN_* reason */
    spinlock_t lock;
    unsigned int refcnt;         /* domain_get/put; the id table holds one */

    unsigned int nr_vcpus;
    struct vcpu *vcpus[MAX_VIRT_CPUS];
    struct sched_dom sched;      /* its scheduler instance, the policy's state */

    struct shared_info *shared_info; /* Keel's mapping of the shared page */
    mfn_t shared_info_mfn;
    unsigned long vm_assist;     /* VMASST_TYPE_* bits enabled */
    unsigned long tot_pages, max_pages;

    spinlock_t evtchn_lock;
    unsigned int nr_polling;     /* vCPUs in SCHEDOP_poll (senders skip the scan at 0) */
    struct evtchn_domain evtchn;
    struct evtchn ports[DOMAIN_EVTCHN_PORTS];

    struct grant_table *grant_table; /* grant_table.c; NULL until first used */
};

/*
 * References.  A struct domain stays allocated while anyone holds a
 * reference; the id table holds one for as long as the domain is listed.
 * Code that acts on a domain named by a guest takes a reference for the
 * duration and drops it when done; current->domain needs none (a running
 * vCPU keeps its domain alive).
 *  - domain_get: the domain with this id, referenced; NULL if none.
 *  - domain_get_next: the listed domain with the lowest id >= from,
 *    referenced; NULL if none (getdomaininfo's "next id" walk).
 *  - domain_get_ref: one more reference on a domain the caller already
 *    holds one on (or that is current).
 *  - domain_put: drop one; the last one frees the structure.
 */
struct domain *domain_get(domid_t id);
struct domain *domain_get_next(domid_t from);
void domain_get_ref(struct domain *d);
void domain_put(struct domain *d);
struct domain *domain_create(domid_t id, bool privileged, unsigned int nr_vcpus);
void domain_shutdown(struct domain *d, unsigned int reason);
void domain_crash(struct domain *d, const char *why);
void domain_pause(struct domain *d);
void domain_unpause(struct domain *d);
/* The idle domain: one idle vCPU per CPU, running idle_loop. */
extern struct domain *idle_domain;
struct vcpu *idle_vcpu_create(unsigned int cpu);

/* Events for `v` are pending and unmasked: make sure it notices. */
void vcpu_kick(struct vcpu *v);
/* Deliver what an evtchn worker asked for. */
void evtchn_do_kick(const struct evtchn_kick *k);
/* Send a VIRQ to vCPU v (timer, console ...). */
void send_guest_vcpu_virq(struct vcpu *v, u32 virq);
void send_guest_global_virq(struct domain *d, u32 virq);
/* A global VIRQ of the system (VIRQ_DOM_EXC): to the control domain, on
 * whichever vCPU its port is bound to. */
void send_global_virq(u32 virq);
/*
 * Domain destruction (d dying, its vCPUs paused): closes every port of d;
 * interdomain peers go back to unbound, as after a close from d.  No new
 * port can be made in d afterwards.  Returns 0 when done, or a positive
 * value when preempted: the caller re-issues it.
 */
int evtchn_domain_relinquish(struct domain *d);
/* Port `port` of d became pending: wake SCHEDOP_poll waiters on it. */
void evtchn_check_pollers(struct domain *d, evtchn_port_t port);
/* End v's SCHEDOP_poll (event or timeout); no-op if it is not polling. */
void vcpu_poll_wake(struct vcpu *v);

#endif
