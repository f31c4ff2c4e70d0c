/*
 * Event channels, 2-level ABI (core, host-testable).
 *
 * This is the port state machine and the shared-memory signalling of Xen's
 * EVTCHNOP_* interface, free of hardware and of guest-pointer handling: the
 * hypercall layer copies arguments in, resolves DOMID_SELF and domids to
 * `struct evtchn_domain`, checks privilege, calls these workers and copies
 * results out.  Workers return 0 or a negative Xen errno (-XEN_EINVAL ...).
 *
 * Locking is the caller's: every call must be serialised against any other
 * call on the same domains (interdomain operations touch both ends).  Only
 * the guest-shared bitmaps are written atomically, since the guest changes
 * them concurrently.
 */
#ifndef KEEL_EVENT_H
#define KEEL_EVENT_H

#include <keel/types.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/errno.h>

/* Ports the 2-level ABI can name: one bit each in evtchn_pending[]. */
#define EVTCHN_2L_PORTS (sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8)
#define EVTCHN_MAX_VCPUS XEN_LEGACY_MAX_VCPUS

enum evtchn_state {
    ECS_FREE,
    ECS_RESERVED, /* port 0: never handed out, so 0 can mean "none" */
    ECS_UNBOUND,
    ECS_INTERDOMAIN,
    ECS_PIRQ,
    ECS_VIRQ,
    ECS_IPI,
};

struct evtchn_domain;

struct evtchn {
    u8 state;   /* enum evtchn_state */
    u16 vcpu;   /* vCPU notified when the port is raised */
    union {
        domid_t unbound_remote; /* ECS_UNBOUND: who may bind to it */
        struct {
            struct evtchn_domain *dom;
            evtchn_port_t port;
        } peer;   /* ECS_INTERDOMAIN */
        u32 virq; /* ECS_VIRQ */
        u32 pirq; /* ECS_PIRQ */
    } u;
};

struct evtchn_vcpu {
    struct vcpu_info *info;        /* legacy slot, or the registered copy */
    evtchn_port_t virq[NR_VIRQS];  /* bound port, 0 = none */
};

/* Embedded in the hypervisor's domain structure. */
struct evtchn_domain {
    domid_t domid;
    unsigned nr_vcpus;           /* <= EVTCHN_MAX_VCPUS */
    struct shared_info *shared;  /* the guest-shared page */
    struct evtchn *ports;        /* storage from the embedder */
    unsigned nr_ports;           /* <= EVTCHN_2L_PORTS */
    bool dying;                  /* being destroyed: no new ports */
    struct evtchn_vcpu vcpu[EVTCHN_MAX_VCPUS];
};

/* Where an upcall is due after raising a port (dom == NULL: none). */
struct evtchn_kick {
    struct evtchn_domain *dom;
    unsigned vcpu;
};

/*
 * Sets up `d` with `ports` storage for `nr_ports` ports; vCPU v's
 * vcpu_info starts as shared->vcpu_info[v] (when v < XEN_LEGACY_MAX_VCPUS).
 * nr_ports is max_evtchn_port + 1 (1: only the reserved port 0).
 * Returns 0 or -XEN_EINVAL for impossible sizes.
 */
int evtchn_domain_init(struct evtchn_domain *d, domid_t domid, unsigned nr_vcpus,
                       struct shared_info *shared, struct evtchn *ports,
                       unsigned nr_ports);
/* For VCPUOP_register_vcpu_info: later events go to `info`. */
int evtchn_set_vcpu_info(struct evtchn_domain *d, unsigned vcpu,
                         struct vcpu_info *info);

int evtchn_alloc_unbound(struct evtchn_domain *d, domid_t remote,
                         evtchn_port_t *port);
int evtchn_bind_interdomain(struct evtchn_domain *ld, struct evtchn_domain *rd,
                            evtchn_port_t rport, evtchn_port_t *lport,
                            struct evtchn_kick *kick);
int evtchn_bind_virq(struct evtchn_domain *d, u32 virq, u32 vcpu,
                     evtchn_port_t *port);
int evtchn_bind_ipi(struct evtchn_domain *d, u32 vcpu, evtchn_port_t *port);
int evtchn_close(struct evtchn_domain *d, evtchn_port_t port);
/* Fills the OUT fields of `st` for st->port of `d`. */
int evtchn_status(struct evtchn_domain *d, struct evtchn_status *st);
int evtchn_bind_vcpu(struct evtchn_domain *d, evtchn_port_t port, u32 vcpu);
int evtchn_unmask(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick);
/* Closes every port (EVTCHNOP_reset, and domain destruction). */
void evtchn_reset(struct evtchn_domain *d);
int evtchn_send(struct evtchn_domain *d, evtchn_port_t port,
                struct evtchn_kick *kick);

/* Hypervisor-originated events. */
bool evtchn_virq_is_global(u32 virq);
/* Raises `virq` for `vcpu` (global VIRQs: wherever they are bound);
 * returns false when nothing is bound. */
bool evtchn_send_virq(struct evtchn_domain *d, u32 virq, u32 vcpu,
                      struct evtchn_kick *kick);
/* Which domain and port EVTCHNOP_send on `port` raises (NULL: none, e.g.
 * unbound or closed).  For finding SCHEDOP_poll waiters on the far end. */
struct evtchn_domain *evtchn_send_target(struct evtchn_domain *d, evtchn_port_t port,
                                         evtchn_port_t *target);
/* The port's pending bit (false for ports beyond the domain's range). */
bool evtchn_is_pending(const struct evtchn_domain *d, evtchn_port_t port);
/* The port a VIRQ raises for `vcpu` (0: not bound). */
evtchn_port_t evtchn_virq_port(const struct evtchn_domain *d, u32 virq, u32 vcpu);
/* Marks `port` pending; true when the notified vCPU needs an upcall. */
bool evtchn_raise(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick);

#endif
