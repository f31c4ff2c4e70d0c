/*
 * Event channels: the port state machine and the two signalling ABIs of
 * Xen's EVTCHNOP_* interface, 2-level and FIFO (core, host-testable).
 *
 * Free of hardware and of guest-pointer handling: the hypercall layer
 * copies arguments in, resolves DOMID_SELF and domids to `struct
 * evtchn_domain`, checks privilege, takes the frames a FIFO guest names
 * (evtchn_arch_* below), calls these workers and copies results out.
 * Workers return 0 or a negative Xen errno (-XEN_EINVAL ...).
 *
 * Ports: a domain's ports become valid 64 at a time (Xen's bucket), as
 * the lowest free port runs past the valid ones; a port beyond them is
 * -EINVAL, one within them but never used reads "closed".  The limit is
 * the ABI's (4096 for 2-level, 131072 for FIFO) or the embedder's
 * max_ports, whichever is lower.
 *
 * 2-level: pending and mask bits in shared_info, selector and upcall flag
 * in vcpu_info.  FIFO (after EVTCHNOP_init_control): one event word per
 * port in event-array pages the guest adds (EVTCHNOP_expand_array), and
 * per vCPU a control block (READY bits, queue heads) and sixteen priority
 * queues linked through the words' LINK fields.  Those frames are the
 * guest's, Keel writes into them: the layer holds a general and a
 * PGT_writable_page type reference on each for as long as they are in use
 * (evtchn_arch_map_frame), so the guest cannot retype them.  Keel never
 * follows a link the guest wrote: it only remembers each queue's tail.
 * EVTCHNOP_reset (with every port closed) returns to 2-level.
 *
 * Locking is the caller's: every call must be serialised against any other
 * call on the same domains (interdomain operations touch both ends).  Only
 * guest-shared memory is written atomically, since the guest changes it
 * concurrently; nothing in Keel depends on its value staying put.
 */
#ifndef KEEL_EVENT_H
#define KEEL_EVENT_H

#include <keel/types.h>
#include <keel/arch.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/errno.h>

/* Ports the 2-level ABI can name: one bit each in evtchn_pending[]. */
#define EVTCHN_2L_PORTS (sizeof(xen_ulong_t) * 8 * sizeof(xen_ulong_t) * 8)
#define EVTCHN_FIFO_PORTS EVTCHN_FIFO_NR_CHANNELS /* 131072 */
#define EVTCHN_BUCKET 64 /* ports made valid at a time (Xen's bucket) */
#define EVTCHN_MAX_BUCKETS (EVTCHN_FIFO_PORTS / EVTCHN_BUCKET)
#define EVTCHN_MAX_VCPUS XEN_LEGACY_MAX_VCPUS
#define EVTCHN_FIFO_WORDS_PER_PAGE (PAGE_SIZE / sizeof(event_word_t))
#define EVTCHN_FIFO_MAX_PAGES (EVTCHN_FIFO_PORTS / EVTCHN_FIFO_WORDS_PER_PAGE)
#define EVTCHN_FIFO_QUEUES EVTCHN_FIFO_MAX_QUEUES

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
    u8 state;      /* enum evtchn_state */
    u8 priority;   /* FIFO queue for the next link (0 highest .. 15) */
    u8 last_prio;  /* FIFO: the queue it was last linked on ... */
    bool pending;  /* FIFO: raised while its event word did not exist */
    u16 last_vcpu; /* ... and that queue's vCPU */
    u16 vcpu;      /* vCPU notified when the port is raised */
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
    /* FIFO: the control block (NULL until init_control names it) and the
     * last port linked on each queue (0: the queue is empty). */
    struct evtchn_fifo_control_block *fifo_cb;
    evtchn_port_t fifo_tail[EVTCHN_FIFO_QUEUES];
};

/* FIFO state of a domain: the event-array pages it added. */
struct evtchn_fifo {
    event_word_t *array[EVTCHN_FIFO_MAX_PAGES];
    unsigned int nr_words; /* ports with an event word */
};

/* Embedded in the hypervisor's domain structure. */
struct evtchn_domain {
    domid_t domid;
    unsigned nr_vcpus;           /* <= EVTCHN_MAX_VCPUS */
    struct shared_info *shared;  /* the guest-shared page */
    unsigned max_ports;          /* the embedder's limit (max port + 1) */
    unsigned valid_ports;        /* ports with storage: a multiple of EVTCHN_BUCKET */
    unsigned free_hint;          /* no port below it is free */
    bool dying;                  /* being destroyed: no new ports */
    struct evtchn_fifo *fifo;    /* NULL: 2-level */
    struct evtchn *bucket[EVTCHN_MAX_BUCKETS];
    struct evtchn_vcpu vcpu[EVTCHN_MAX_VCPUS];
};

/* Where an upcall is due after raising a port (dom == NULL: none). */
struct evtchn_kick {
    struct evtchn_domain *dom;
    unsigned vcpu;
};

/*
 * Sets up `d` (2-level, port 0 reserved) for at most max_ports ports
 * (max_evtchn_port + 1; 1: only the reserved port 0); vCPU v's vcpu_info
 * starts as shared->vcpu_info[v] (when v < XEN_LEGACY_MAX_VCPUS).  Returns
 * 0, -XEN_EINVAL for impossible sizes or -XEN_ENOMEM.
 */
int evtchn_domain_init(struct evtchn_domain *d, domid_t domid, unsigned nr_vcpus,
                       struct shared_info *shared, unsigned max_ports);
/* Frees the port storage (and any FIFO state, unmapping its frames). */
void evtchn_domain_destroy(struct evtchn_domain *d);
/* Port `port`'s record, or NULL if the port is not valid. */
static inline struct evtchn *evtchn_port(const struct evtchn_domain *d, evtchn_port_t port)
{
    if (port >= __atomic_load_n(&d->valid_ports, __ATOMIC_ACQUIRE))
        return NULL;
    return &d->bucket[port / EVTCHN_BUCKET][port % EVTCHN_BUCKET];
}
/* Port `port`'s record if it is bound to a physical IRQ, else NULL. */
static inline struct evtchn *evtchn_pirq_port(const struct evtchn_domain *d, evtchn_port_t port)
{
    struct evtchn *chn = evtchn_port(d, port);

    return chn && __atomic_load_n(&chn->state, __ATOMIC_RELAXED) == ECS_PIRQ ? chn : NULL;
}
/* Ports the domain's ABI can name (4096 or 131072) ... */
static inline unsigned evtchn_abi_ports(const struct evtchn_domain *d)
{
    return d->fifo ? EVTCHN_FIFO_PORTS : EVTCHN_2L_PORTS;
}
/* ... and of those, how many it may have (the embedder's limit too). */
unsigned evtchn_max_ports(const struct evtchn_domain *d);
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
/* A port for a physical IRQ (the caller checked the PIRQ may be bound);
 * closing it frees only the port: the caller unbinds the PIRQ first. */
int evtchn_bind_pirq(struct evtchn_domain *d, u32 pirq, evtchn_port_t *port);
int evtchn_close(struct evtchn_domain *d, evtchn_port_t port);
/* Fills the OUT fields of `st` for st->port of `d`. */
int evtchn_status(struct evtchn_domain *d, struct evtchn_status *st);
int evtchn_bind_vcpu(struct evtchn_domain *d, evtchn_port_t port, u32 vcpu);
int evtchn_unmask(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick);
/* Closes every port (EVTCHNOP_reset, and domain destruction), then
 * returns to 2-level. */
void evtchn_reset(struct evtchn_domain *d);
int evtchn_send(struct evtchn_domain *d, evtchn_port_t port,
                struct evtchn_kick *kick);
/* EVTCHNOP_set_priority: -ENOSYS for 2-level, -EINVAL past 15. */
int evtchn_set_priority(struct evtchn_domain *d, evtchn_port_t port, u32 priority);

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
/* The port's pending bit or word (false for ports that are not valid). */
bool evtchn_is_pending(const struct evtchn_domain *d, evtchn_port_t port);
/* The port a VIRQ raises for `vcpu` (0: not bound). */
evtchn_port_t evtchn_virq_port(const struct evtchn_domain *d, u32 virq, u32 vcpu);
/* Marks `port` pending; true when the notified vCPU needs an upcall. */
bool evtchn_raise(struct evtchn_domain *d, evtchn_port_t port,
                  struct evtchn_kick *kick);

/* ---- FIFO (EVTCHNOP_init_control, EVTCHNOP_expand_array) */
/* The checks init_control makes before it looks at the frame, in Xen's
 * order: -XEN_ENOENT (no such vCPU), -XEN_EINVAL (offset). */
int evtchn_fifo_control_check(const struct evtchn_domain *d, u32 vcpu, u32 offset);
/*
 * vCPU `vcpu`'s control block is at `page` + offset (page: a frame the
 * layer took with evtchn_arch_map_frame).  The first one switches the
 * domain to FIFO.  0: the page is kept (until reset or destruction);
 * otherwise (-XEN_EINVAL: one is registered already; -XEN_ENOMEM) the
 * caller unmaps it.
 */
int evtchn_fifo_init_control(struct evtchn_domain *d, u32 vcpu, u32 offset, void *page);
/* expand_array's checks before the frame: -XEN_EOPNOTSUPP (2-level),
 * -XEN_ENOSPC (131072 ports have words already). */
int evtchn_fifo_expand_check(const struct evtchn_domain *d);
/* One more event-array page.  Events raised on its ports while they had
 * no word are raised now; *kick_mask gets the vCPUs that need an upcall.
 * 0 (page kept) or as evtchn_fifo_expand_check (caller unmaps). */
int evtchn_fifo_expand_array(struct evtchn_domain *d, void *page, u32 *kick_mask);
/* Back to 2-level: every FIFO frame is unmapped. */
void evtchn_fifo_destroy(struct evtchn_domain *d);

/* ---- supplied by the layer (event_channel_op.c) or the tests: keel/arch.h */

/* ---- between event_channel.c and event_fifo.c only */
void evtchn_fifo_raise(struct evtchn_domain *d, struct evtchn *chn, evtchn_port_t port,
                       struct evtchn_kick *kick);
void evtchn_fifo_clear_pending(struct evtchn_domain *d, evtchn_port_t port);
void evtchn_fifo_unmask(struct evtchn_domain *d, struct evtchn *chn, evtchn_port_t port,
                        struct evtchn_kick *kick);
bool evtchn_fifo_is_pending(const struct evtchn_domain *d, evtchn_port_t port);
/* A free port whose word is still LINKED on a queue may not be reused. */
bool evtchn_fifo_is_busy(const struct evtchn_domain *d, evtchn_port_t port);
/* Marks vCPU v's upcall pending; true if the guest has yet to see it. */
bool evtchn_mark_upcall(struct evtchn_domain *d, unsigned v, struct evtchn_kick *kick);

#endif
