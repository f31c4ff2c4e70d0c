/*
 * Physical interrupts and the hardware domain's PIRQs (core, host-testable).
 *
 * Keel owns the interrupt controllers.  A device interrupt ("IRQ") is an
 * IO-APIC pin (IRQ number = GSI) or an MSI/MSI-X vector of a PCI function
 * (IRQ numbers above the GSIs).  dom0 names IRQs through PIRQs, its own
 * numbers, and receives each as an event channel, as on Xen:
 *
 *   map_pirq      PIRQ <-> IRQ (an MSI IRQ is created here)
 *   setup_gsi     trigger and polarity of a pin
 *   bind_pirq     an event channel for the PIRQ: the IRQ is unmasked
 *   interrupt     the port is raised; a level IRQ stays masked ...
 *   eoi           ... until dom0's PHYSDEVOP_eoi unmasks it
 *   close/unmap   masked again, and forgotten
 *
 * Acknowledgement follows Xen's: edge pins and MSIs need no final
 * acknowledgement (the local APIC is EOI'd at once and nothing is ever
 * masked while bound, so an edge is never lost: at worst it merges into a
 * pending event); a level pin is masked when it fires and unmasked at
 * dom0's EOI, which the EOI bitmap (PHYSDEVOP_pirq_eoi_gmfn) tells dom0 to
 * send.
 *
 * This file keeps the bookkeeping: vectors (each owned by at most one IRQ),
 * IRQ descriptors, the PIRQ table.  The hardware is reached only through
 * struct irq_hw, so the host tests drive it with a fake.  Callers
 * serialise every call (one lock); errors are negative Xen errnos, chosen
 * as Xen 4.17's physdev_op and event_channel_op give them.
 */
#ifndef KEEL_PIRQ_H
#define KEEL_PIRQ_H

#include <keel/types.h>
#include <xen/event_channel.h>
#include <xen/errno.h>

#define NR_IRQS 256
#define NR_PIRQS 256
#define NR_VECTORS 256
/* Vectors handed to devices; Keel's own live at 0xf0 and above, and the
 * old 8259 range 0x20-0x2f stays unused. */
#define IRQ_VECTOR_FIRST 0x30
#define IRQ_VECTOR_LAST 0xdf
#define IRQ_NONE 0xffff

enum irq_kind {
    IRQ_UNUSED, /* an MSI slot not created yet */
    IRQ_GSI,    /* an IO-APIC pin */
    IRQ_MSI,    /* an MSI or MSI-X vector */
};

/* Which MSI (or MSI-X table entry) of which PCI function. */
struct msi_source {
    u32 sbdf;      /* segment << 16 | bus << 8 | devfn */
    u16 entry;     /* MSI-X table entry (0 for MSI) */
    bool msix;
    bool maskable; /* the hardware can mask it (filled in by msi_setup) */
};

struct irq_desc {
    u8 kind;          /* enum irq_kind */
    u8 vector;        /* 0: none yet */
    u16 cpu;          /* destination CPU */
    bool level;       /* GSI: level-triggered */
    bool active_low;  /* GSI: polarity */
    bool reserved;    /* Keel's own pin: never bound by a guest */
    bool programmed;  /* GSI: trigger/polarity/vector written to the pin */
    bool gsi_setup;   /* GSI: PHYSDEVOP_setup_gsi done (Xen: -EEXIST after) */
    bool masked;      /* the mask Keel last gave the hardware */
    bool mapped;      /* has a PIRQ */
    bool bound;       /* ... and an event channel */
    bool in_flight;   /* level: masked, waiting for the guest's EOI */
    u16 pirq;         /* when mapped */
    struct msi_source msi;
    u64 count;        /* interrupts taken */
};

enum pirq_state {
    PIRQ_FREE,
    PIRQ_ALLOCATED, /* PHYSDEVOP_get_free_pirq: reserved, no IRQ yet */
    PIRQ_MAPPED,
};

struct pirq {
    u8 state;           /* enum pirq_state */
    bool masked;        /* an interrupt is in flight (level, until EOI) */
    u16 irq;            /* PIRQ_MAPPED */
    evtchn_port_t port; /* bound event channel, 0 = none.  A port can
                           outlive the mapping (unmap while bound), as on
                           Xen; the PIRQ is free again once it is closed. */
};

struct irq_table;

/* The hardware, as the core sees it (hv/arch/x86/irq.c; a fake in tests).
 * Every callback acts on one IRQ and must not fail once asked, except
 * msi_setup, which may refuse before changing anything. */
struct irq_hw {
    /* Write the pin's whole routing: vector, trigger, polarity, CPU, mask. */
    void (*gsi_route)(struct irq_table *t, unsigned int gsi);
    /* Apply d->masked (pin mask, or the MSI's mask when it has one). */
    void (*mask)(struct irq_table *t, unsigned int irq);
    /* Find the MSI or MSI-X entry d->msi names, program its address and
     * data for d->vector and d->cpu, leave it masked, set d->msi.maskable.
     * Returns 0 or -XEN_E* with nothing programmed. */
    int (*msi_setup)(struct irq_table *t, unsigned int irq);
    /* Rewrite an MSI's destination (d->cpu changed). */
    void (*msi_retarget)(struct irq_table *t, unsigned int irq);
    /* The MSI is going away: mask it, disable it if it was the last. */
    void (*msi_teardown)(struct irq_table *t, unsigned int irq);
};

struct irq_table {
    struct irq_desc desc[NR_IRQS];
    u16 vector_irq[NR_VECTORS]; /* owner of each vector, IRQ_NONE = free */
    unsigned int nr_gsi;        /* IRQs 0 .. nr_gsi-1 are pins */
    const struct irq_hw *hw;
    void *hw_ctx;               /* for the arch code */
};

/* The hardware domain's PIRQs and its EOI bitmap. */
struct pirq_domain {
    struct pirq pirq[NR_PIRQS];
    unsigned int nr_pirqs;  /* <= NR_PIRQS */
    xen_ulong_t *eoi_map;   /* PHYSDEVOP_pirq_eoi_gmfn page, or NULL */
    bool auto_unmask;       /* the v1 variant: EOI also unmasks the port */
};

/* ---------------------------------------------------------- set-up */
/* nr_gsi pins (at most NR_IRQS / 2), all masked, edge/high below 16 and
 * level/low above (ISA and PCI defaults; overrides via irq_gsi_default). */
void irq_table_init(struct irq_table *t, unsigned int nr_gsi, const struct irq_hw *hw,
                    void *hw_ctx);
/* Trigger and polarity a pin gets when dom0 binds it without setup_gsi
 * (the firmware's ISA overrides). */
void irq_gsi_default(struct irq_table *t, unsigned int gsi, bool level, bool active_low);
/* Keel keeps this pin (its timer, its console): mappable but never bound. */
void irq_gsi_reserve(struct irq_table *t, unsigned int gsi);
void pirq_domain_init(struct pirq_domain *pd, unsigned int nr_pirqs);

/* ---------------------------------------------------------- physdev_op */
/* PHYSDEVOP_setup_gsi: 0, -XEN_EINVAL (no such pin), -XEN_EEXIST (already
 * set up, in use, or Keel's), -XEN_ENOSPC (no vector). */
int pirq_setup_gsi(struct irq_table *t, int gsi, bool level, bool active_low);
/* PHYSDEVOP_map_pirq, MAP_PIRQ_TYPE_GSI: *pirq < 0 asks for one. */
int pirq_map_gsi(struct irq_table *t, struct pirq_domain *pd, int gsi, int *pirq);
/* MAP_PIRQ_TYPE_MSI (nr = 1) and MULTI_MSI (*nr vectors asked; Keel has no
 * interrupt remapping, so more than one is -XEN_EOPNOTSUPP as on Xen).
 * index: -1, or an MSI IRQ number dom0 names. */
int pirq_map_msi(struct irq_table *t, struct pirq_domain *pd, const struct msi_source *src,
                 int index, int *pirq, int *nr);
/* PHYSDEVOP_unmap_pirq: unbinds first if still bound. */
int pirq_unmap(struct irq_table *t, struct pirq_domain *pd, int pirq);
/* PHYSDEVOP_get_free_pirq (type: MAP_PIRQ_TYPE_*): the PIRQ, or -XEN_ENOSPC. */
int pirq_get_free(struct pirq_domain *pd, unsigned int nr_gsi, int type);
/* PHYSDEVOP_eoi. */
int pirq_eoi(struct irq_table *t, struct pirq_domain *pd, u32 pirq);
/* PHYSDEVOP_irq_status_query: XENIRQSTAT_* flags. */
int pirq_status(const struct pirq_domain *pd, u32 pirq, u32 *flags);
/* PHYSDEVOP_apic_write to a redirection entry's low half: Xen's reading of
 * the entry (its vector field names a PIRQ to map), but Keel writes only
 * its own vector and keeps the pin masked until bound.  *refused is set
 * when the write was ignored because the pin is in use or Keel's. */
int pirq_ioapic_write(struct irq_table *t, struct pirq_domain *pd, unsigned int gsi, u32 val,
                      bool *refused);

/* ---------------------------------------------------------- events */
/* EVTCHNOP_bind_pirq, before a port is taken: 0 or the refusal. */
int pirq_bind_check(const struct irq_table *t, const struct pirq_domain *pd, u32 pirq,
                    bool will_share);
/* ... then with the port: routes the IRQ to cpu and unmasks it.  Must
 * follow a successful pirq_bind_check with nothing in between. */
void pirq_bind(struct irq_table *t, struct pirq_domain *pd, u32 pirq, evtchn_port_t port,
               unsigned int cpu);
/* The port is being closed. */
void pirq_unbind(struct irq_table *t, struct pirq_domain *pd, u32 pirq);
/* EVTCHNOP_bind_vcpu moved the port: send the IRQ to cpu from now on. */
void pirq_set_cpu(struct irq_table *t, struct pirq_domain *pd, u32 pirq, unsigned int cpu);

/* An interrupt arrived on `vector`.  Returns the port to raise (0: none,
 * e.g. not bound) and its PIRQ in *pirq. */
evtchn_port_t irq_arrival(struct irq_table *t, struct pirq_domain *pd, unsigned int vector,
                          u32 *pirq);

/* Consistency of the whole state (tests, fuzzing, selftest): 0 or the
 * number of the first broken rule. */
int irq_table_check(const struct irq_table *t, const struct pirq_domain *pd);
#endif
