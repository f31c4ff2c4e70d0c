/*
 * Domains and vCPUs: the objects everything else hangs off.  A vCPU may
 * run when its pause count is zero and no pause flag is set; the scheduler
 * is told whenever that changes (vcpu_wake / vcpu_sleep).
 *
 * A domain's life (hv/common/domain.c):
 *   alive --SCHEDOP_shutdown/crash--> shutting down: every vCPU stops;
 *     shut down (is_shut_down) at once, and VIRQ_DOM_EXC tells dom0;
 *   --destroydomain--> dying: paused, no new frames, then relinquished
 *     step by step (event channels, grants, vCPUs, memory), preemptibly;
 *   --> dead: VIRQ_DOM_EXC again; getdomaininfo shows XEN_DOMINF_dying.  A
 *     dead domain is a zombie while frames of it are still referenced
 *     (dom0's foreign or grant mappings), listed under its id;
 *   --> freed once its last frame and reference are gone: it leaves the
 *     id table, the structure goes after a grace period (keel/rcu.h), and
 *     VIRQ_DOM_EXC is raised a third time.
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <asm/domain.h>
#include <keel/arch.h>
#include <keel/domain_mem.h>
#include <keel/event.h>
#include <keel/sched_types.h>
#include <keel/rcu.h>
#include <keel/spinlock.h>
#include <keel/timer.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#define MAX_VIRT_CPUS XEN_LEGACY_MAX_VCPUS
/* Ordinary domids are 0 .. DOMID_FIRST_RESERVED-1, as with Xen. */
#define MAX_DOMAINS DOMID_FIRST_RESERVED
#define NR_CPUS_SCHED 64 /* = NR_CPUS; kept here so core code needs no arch header */

/* vcpu->pause_flags bits: reasons a vCPU is not runnable. */
#define VPF_blocked 0   /* SCHEDOP_block: waits for an event */
#define VPF_down 1      /* not initialised / VCPUOP_down */
#define VPF_polling 2   /* SCHEDOP_poll */
#define VPF_migrating 3 /* leaving a CPU its new hard affinity excludes */

/* domain->is_dying */
enum { DOMAIN_ALIVE, DOMAIN_DYING, DOMAIN_DEAD };
/* shutdown_code until the first shutdown names one (Xen's ~0u). */
#define SHUTDOWN_CODE_INVALID (~0U)

struct domain;
struct grant_table;

struct vcpu {
    unsigned int vcpu_id;
    struct domain *domain;
    unsigned int processor;      /* the CPU it is placed on (keel/sched.h) */
    bool is_running;             /* on a CPU, or its registers not yet saved */
    bool ctx_saved;              /* off its CPU: registers saved, tables unused */
    bool in_saved_hook;          /* context_saved is telling the policy (sched.c) */
    u64 affinity_hard, affinity_soft; /* CPU masks the toolstack set */
    unsigned long pause_flags;   /* VPF_* */
    int pause_count;             /* domain_pause and friends */
    struct sched_vcpu sched;     /* the scheduling policy's state */
    bool sched_inserted;         /* known to its domain's scheduler */
    bool migrate_pending;        /* VPF_migrating set; a move is owed */
    unsigned int placed_cpu;     /* counted there for placement hints */

    struct vcpu_info *vcpu_info; /* shared_info slot or registered area */
    bool vcpu_info_registered;
    mfn_t vcpu_info_mfn;         /* registered frame (Keel holds a writable reference) */
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
    bool is_shutting_down;       /* its vCPUs are stopping for good */
    bool is_shut_down;           /* they all have: XEN_DOMINF_shutdown */
    u8 is_dying;                 /* DOMAIN_ALIVE / _DYING / _DEAD */
    u8 relinquish_step;          /* how far domain_kill got */
    bool creation_finished;      /* the controller unpaused it once */
    bool is_xenstore;            /* createdomain's xs_domain flag (reported only) */
    bool vcpus_visible;          /* max_vcpus was called (Xen makes vCPUs there) */
    unsigned int shutdown_code;  /* SHUTDOWN_*, or SHUTDOWN_CODE_INVALID */
    int controller_pause_count;  /* pausedomain/unpausedomain; 1 at creation */
    spinlock_t lock;
    unsigned int refcnt;         /* domain_get/put; the id table holds one */

    unsigned int nr_vcpus;
    struct vcpu *vcpus[MAX_VIRT_CPUS];
    struct sched_dom sched;      /* its scheduler instance, the policy's state */

    struct shared_info *shared_info; /* Keel's mapping of the shared page */
    mfn_t shared_info_mfn;
    unsigned long vm_assist;     /* VMASST_TYPE_* bits enabled */
    spinlock_t page_lock;        /* the limit check with frames joining (memory.c) */
    unsigned long tot_pages, max_pages; /* tot_pages: atomic updates only */
    struct domain_mem mem;       /* every frame it owns */

    xen_domain_handle_t handle;  /* the toolstack's UUID */
    u32 cpupool;
    /* Grant-table limits from createdomain (-1 there means these defaults). */
    unsigned int max_grant_frames, max_maptrack_frames, max_grant_version;
    u16 sched_weight, sched_cap; /* credit2 parameters (stored, see sched.h) */
    u64 node_affinity;           /* NUMA nodes (setnodeaffinity), bit per node */
    struct arch_domain arch;

    spinlock_t evtchn_lock;
    unsigned int nr_polling;     /* vCPUs in SCHEDOP_poll (senders skip the scan at 0) */
    struct evtchn_domain evtchn;

    struct grant_table *grant_table; /* grant_table.c; NULL until first used */
    struct rcu_head rcu_frames, rcu_free;
};

/* What createdomain asks for (dom0's builder fills one too). */
struct domain_config {
    bool privileged;
    bool paused;                 /* start with one controller pause */
    bool hvm;                    /* hardware-assisted, translated (PVH) */
    unsigned int max_vcpus;
    unsigned int nr_evtchn_ports;
    unsigned int max_grant_frames, max_maptrack_frames, max_grant_version;
    u32 cpupool;
    xen_domain_handle_t handle;
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
/* 0 and the new domain (referenced by the id table only), or -XEN_EEXIST
 * (id in use), -XEN_EINVAL, -XEN_ENOMEM. */
int domain_create(domid_t id, const struct domain_config *c, struct domain **out);
/* An id for createdomain: 0, or -XEN_ENOMEM when all are taken. */
int domain_alloc_id(domid_t *id);
void domain_shutdown(struct domain *d, unsigned int reason);
void domain_crash(struct domain *d, const char *why);
/* Stop every vCPU of d (not the caller's domain) and wait until they are
 * off their CPUs; domain_unpause undoes one pause. */
void domain_pause(struct domain *d);
void domain_unpause(struct domain *d);
/* The toolstack's pauses: -XEN_EOVERFLOW past 255, -XEN_EINVAL for an
 * unpause without a pause. */
int domain_pause_by_controller(struct domain *d);
int domain_unpause_by_controller(struct domain *d);
/* One vCPU (not the caller), synchronously. */
void vcpu_pause(struct vcpu *v);
void vcpu_unpause(struct vcpu *v);
/*
 * destroydomain: 0 when d is dead (relinquished; a zombie until its last
 * frame goes), -KEEL_ERESTART when preempted (call again), -XEN_EINVAL for
 * the caller's own domain.  Serialised by the caller (domctl lock).
 */
int domain_kill(struct domain *d, bool may_preempt);
/* The domain that receives VIRQ_DOM_EXC (dom0). */
struct domain *hardware_domain(void);
/* Long relinquish loops ask this between items: true when other work is
 * waiting and the step should return "preempted". */
bool relinquish_preempt_check(void);
/* Grant tables of a dying domain: gnttab_domain_relinquish and
 * gnttab_domain_free (keel/grant_table.h); its event channels:
 * evtchn_domain_relinquish (below). */

/* Arch hooks: keel/arch.h. */
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
