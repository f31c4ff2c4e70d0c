/*
 * Physical interrupts and the hardware domain's PIRQs: vectors, IRQ
 * descriptors, the PIRQ table and the acknowledgement rules (see
 * keel/pirq.h).  Built on the host too (tests/unit/test_pirq.c,
 * tests/fuzz/fuzz_pirq.c).
 *
 * Rules kept by every function here (irq_table_check verifies them):
 *  - a vector belongs to at most one IRQ, and vector_irq[] says which;
 *    vectors outside [IRQ_VECTOR_FIRST, IRQ_VECTOR_LAST] are never given;
 *  - PIRQ p is mapped to IRQ i exactly when IRQ i says it is mapped to p;
 *  - an IRQ is bound exactly when its PIRQ has a port; a reserved IRQ is
 *    never bound;
 *  - an IRQ that is not bound is masked; a bound one is masked only when
 *    it is a level pin in flight (waiting for the guest's EOI).
 */
#include <keel/pirq.h>
#include <xen/physdev.h>

#define BITS_PER_XEN_ULONG (sizeof(xen_ulong_t) * 8)
#define MAX_MSI_VECTORS 32 /* what an MSI capability can ask for */

static bool vector_valid(unsigned int v)
{
    return v >= IRQ_VECTOR_FIRST && v <= IRQ_VECTOR_LAST;
}

static u8 vector_alloc(struct irq_table *t, unsigned int irq)
{
    for (unsigned int v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++) {
        if (t->vector_irq[v] == IRQ_NONE) {
            t->vector_irq[v] = (u16)irq;
            return (u8)v;
        }
    }
    return 0;
}

static void vector_free(struct irq_table *t, unsigned int irq)
{
    struct irq_desc *d = &t->desc[irq];

    if (d->vector && t->vector_irq[d->vector] == irq)
        t->vector_irq[d->vector] = IRQ_NONE;
    d->vector = 0;
}

/* ------------------------------------------------------------ set-up */

void irq_table_init(struct irq_table *t, unsigned int nr_gsi, const struct irq_hw *hw,
                    void *hw_ctx)
{
    memset(t, 0, sizeof(*t));
    for (unsigned int v = 0; v < NR_VECTORS; v++)
        t->vector_irq[v] = IRQ_NONE;
    t->nr_gsi = MIN(nr_gsi, NR_IRQS / 2);
    t->hw = hw;
    t->hw_ctx = hw_ctx;
    /* Every pin gets its vector now: there are far more vectors than pins,
     * and a pin then never lacks one when it is bound. */
    for (unsigned int gsi = 0; gsi < t->nr_gsi; gsi++) {
        struct irq_desc *d = &t->desc[gsi];
        d->kind = IRQ_GSI;
        d->level = gsi >= 16;
        d->active_low = gsi >= 16;
        d->masked = true;
        d->vector = vector_alloc(t, gsi);
    }
}

void irq_gsi_default(struct irq_table *t, unsigned int gsi, bool level, bool active_low)
{
    if (gsi < t->nr_gsi && !t->desc[gsi].programmed) {
        t->desc[gsi].level = level;
        t->desc[gsi].active_low = active_low;
    }
}

void irq_gsi_reserve(struct irq_table *t, unsigned int gsi)
{
    if (gsi < t->nr_gsi && !t->desc[gsi].bound)
        t->desc[gsi].reserved = true;
}

void pirq_domain_init(struct pirq_domain *pd, unsigned int nr_pirqs)
{
    memset(pd, 0, sizeof(*pd));
    pd->nr_pirqs = MIN(nr_pirqs, NR_PIRQS);
}

/* ------------------------------------------------------------ helpers */

static bool pirq_in_use(const struct pirq *p)
{
    return p->state != PIRQ_FREE || p->port;
}

static void eoi_bit(struct pirq_domain *pd, u32 pirq, bool needs_eoi)
{
    xen_ulong_t bit = (xen_ulong_t)1 << (pirq % BITS_PER_XEN_ULONG);
    xen_ulong_t *w;

    if (!pd->eoi_map)
        return;
    w = &pd->eoi_map[pirq / BITS_PER_XEN_ULONG];
    if (needs_eoi)
        __atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST);
}

static void set_mask(struct irq_table *t, unsigned int irq, bool masked)
{
    struct irq_desc *d = &t->desc[irq];

    if (d->masked == masked)
        return;
    d->masked = masked;
    t->hw->mask(t, irq);
}

/* Writes a pin's routing once its trigger and polarity are settled. */
static void gsi_route(struct irq_table *t, unsigned int gsi)
{
    t->desc[gsi].programmed = true;
    t->hw->gsi_route(t, gsi);
}

/* The PIRQ to use for irq (Xen's allocate_pirq): the one already mapped,
 * the one asked for, or a free one. */
static int pick_pirq(struct irq_table *t, struct pirq_domain *pd, unsigned int irq, int want,
                     int type)
{
    const struct irq_desc *d = &t->desc[irq];

    if (want < 0) {
        if (d->mapped)
            return d->pirq;
        return pirq_get_free(pd, t->nr_gsi, type);
    }
    if (d->mapped && d->pirq != want)
        return -XEN_EEXIST;
    return want;
}

/*
 * Xen's map_domain_pirq for one IRQ.  A PIRQ or IRQ already mapped
 * elsewhere makes Xen succeed without mapping anything (it only logs);
 * that answer is kept, since a guest may rely on "0".
 */
static int map_one(struct irq_table *t, struct pirq_domain *pd, int pirq, unsigned int irq)
{
    struct irq_desc *d;
    struct pirq *p;

    if (irq == 0)
        return -XEN_EPERM; /* dom0 is never given IRQ 0, as on Xen */
    if (pirq < 0 || (unsigned int)pirq >= pd->nr_pirqs || irq >= NR_IRQS)
        return -XEN_EINVAL;
    d = &t->desc[irq];
    p = &pd->pirq[pirq];
    if ((p->state == PIRQ_MAPPED && p->irq != irq) || (d->mapped && d->pirq != pirq))
        return 1; /* "already mapped": success, nothing done */
    /* Unmapped while bound: its port must close first.  (Xen maps it and
     * later trips over the stale binding when the port closes.) */
    if (p->state != PIRQ_MAPPED && p->port)
        return -XEN_EBUSY;
    p->state = PIRQ_MAPPED;
    p->irq = (u16)irq;
    d->mapped = true;
    d->pirq = (u16)pirq;
    return 0;
}

/* Drops a binding from the IRQ side; the port stays with the PIRQ. */
static void unbind_irq(struct irq_table *t, struct pirq_domain *pd, unsigned int irq)
{
    struct irq_desc *d = &t->desc[irq];

    d->bound = false;
    d->in_flight = false;
    pd->pirq[d->pirq].masked = false;
    set_mask(t, irq, true);
}

/* ------------------------------------------------------------ GSIs */

int pirq_setup_gsi(struct irq_table *t, int gsi, bool level, bool active_low)
{
    struct irq_desc *d;

    if (gsi < 0 || (unsigned int)gsi >= t->nr_gsi)
        return -XEN_EINVAL;
    d = &t->desc[gsi];
    /* Xen: a pin in use, or one set up before, is "already set up". */
    if (d->reserved || d->bound || d->gsi_setup)
        return -XEN_EEXIST;
    d->level = level;
    d->active_low = active_low;
    d->gsi_setup = true;
    gsi_route(t, (unsigned int)gsi);
    return 0;
}

int pirq_map_gsi(struct irq_table *t, struct pirq_domain *pd, int gsi, int *pirq)
{
    int p, rc;

    if (gsi < 0 || (unsigned int)gsi >= t->nr_gsi)
        return -XEN_EINVAL;
    p = pick_pirq(t, pd, (unsigned int)gsi, *pirq, MAP_PIRQ_TYPE_GSI);
    if (p < 0)
        return p;
    rc = map_one(t, pd, p, (unsigned int)gsi);
    if (rc < 0)
        return rc;
    *pirq = p;
    return 0;
}

int pirq_ioapic_write(struct irq_table *t, struct pirq_domain *pd, unsigned int gsi, u32 val,
                      bool *refused)
{
    unsigned int delivery = (val >> 8) & 7;
    bool masked = val & (1U << 16);
    int pirq = masked ? -1 : (int)(val & 0xff);
    struct irq_desc *d;
    int rc;

    *refused = false;
    /* SMI, NMI, INIT, ExtINT: Xen refuses them all. */
    if (delivery > 1)
        return -XEN_EINVAL;
    if (gsi >= t->nr_gsi || (pirq >= 0 && (unsigned int)pirq >= pd->nr_pirqs))
        return -XEN_EINVAL;
    d = &t->desc[gsi];
    if (d->reserved || d->bound) {
        *refused = true; /* Xen: "attempt to modify pin for in-use IRQ", 0 */
        return 0;
    }
    if (pirq >= 0 && (rc = map_one(t, pd, pirq, gsi)) < 0)
        return rc;
    /* The guest's vector, destination and mask never reach the pin. */
    d->level = val & (1U << 15);
    d->active_low = val & (1U << 13);
    gsi_route(t, gsi);
    return 0;
}

/* ------------------------------------------------------------ MSIs */

/* Makes the unused slot irq an MSI IRQ with a vector of its own. */
static bool init_msi_irq(struct irq_table *t, unsigned int irq, const struct msi_source *src)
{
    struct irq_desc *d = &t->desc[irq];

    memset(d, 0, sizeof(*d));
    d->vector = vector_alloc(t, irq);
    if (!d->vector)
        return false;
    d->kind = IRQ_MSI;
    d->masked = true;
    d->msi = *src;
    d->msi.maskable = false;
    return true;
}

static void destroy_msi_irq(struct irq_table *t, unsigned int irq)
{
    vector_free(t, irq);
    memset(&t->desc[irq], 0, sizeof(t->desc[irq]));
}

/* Another IRQ already drives this MSI (or this entry of the table), or
 * the function's other mode: -XEN_EEXIST / -XEN_EBUSY, else 0. */
static int msi_source_conflict(const struct irq_table *t, const struct msi_source *src)
{
    for (unsigned int irq = t->nr_gsi; irq < NR_IRQS; irq++) {
        const struct irq_desc *d = &t->desc[irq];
        if (d->kind != IRQ_MSI || d->msi.sbdf != src->sbdf)
            continue;
        if (d->msi.msix != src->msix)
            return -XEN_EBUSY;
        if (!src->msix || d->msi.entry == src->entry)
            return -XEN_EEXIST;
    }
    return 0;
}

static int msi_irq_for(struct irq_table *t, const struct msi_source *src, int index)
{
    if (index == -1) {
        for (unsigned int irq = t->nr_gsi; irq < NR_IRQS; irq++)
            if (t->desc[irq].kind == IRQ_UNUSED)
                return init_msi_irq(t, irq, src) ? (int)irq : -XEN_EINVAL;
        return -XEN_EINVAL; /* Xen: "can't create irq for msi" */
    }
    if (index < (int)t->nr_gsi || index >= NR_IRQS)
        return -XEN_EINVAL;
    if (t->desc[index].kind != IRQ_UNUSED)
        return -XEN_EBUSY; /* Xen: "irq in use" */
    return init_msi_irq(t, (unsigned int)index, src) ? index : -XEN_EINVAL;
}

int pirq_map_msi(struct irq_table *t, struct pirq_domain *pd, const struct msi_source *src,
                 int index, int *pirq, int *nr)
{
    int irq, p, rc;

    if (nr) {
        /* MULTI_MSI: a power-of-two block needs interrupt remapping. */
        if (*nr <= 0 || *nr > MAX_MSI_VECTORS)
            return -XEN_EDOM;
        if (*nr != 1)
            return -XEN_EOPNOTSUPP;
        index = -1;
    }
    if ((rc = msi_source_conflict(t, src)))
        return rc;
    irq = msi_irq_for(t, src, index);
    if (irq < 0)
        return irq;
    p = pick_pirq(t, pd, (unsigned int)irq, *pirq, MAP_PIRQ_TYPE_MSI);
    if (p < 0) {
        destroy_msi_irq(t, (unsigned int)irq);
        return p;
    }
    u8 old_state = (unsigned int)p < pd->nr_pirqs ? pd->pirq[p].state : PIRQ_FREE;
    rc = map_one(t, pd, p, (unsigned int)irq);
    if (rc == 0 && (rc = t->hw->msi_setup(t, (unsigned int)irq)) < 0) {
        pd->pirq[p].state = old_state; /* as it was: free or allocated */
        pd->pirq[p].irq = 0;
    }
    if (rc != 0)
        destroy_msi_irq(t, (unsigned int)irq);
    if (rc < 0)
        return rc;
    *pirq = p;
    return 0;
}

/* ------------------------------------------------------------ PIRQs */

int pirq_get_free(struct pirq_domain *pd, unsigned int nr_gsi, int type)
{
    /* GSIs beyond the legacy ones first, then MSIs from the top (Xen). */
    if (type == MAP_PIRQ_TYPE_GSI)
        for (unsigned int i = 16; i < nr_gsi && i < pd->nr_pirqs; i++)
            if (!pirq_in_use(&pd->pirq[i]))
                return (int)i;
    for (unsigned int i = pd->nr_pirqs; i-- > nr_gsi;)
        if (!pirq_in_use(&pd->pirq[i]))
            return (int)i;
    return -XEN_ENOSPC;
}

int pirq_unmap(struct irq_table *t, struct pirq_domain *pd, int pirq)
{
    struct pirq *p;
    unsigned int irq;

    if (pirq < 0 || (unsigned int)pirq >= pd->nr_pirqs)
        return -XEN_EINVAL;
    p = &pd->pirq[pirq];
    if (p->state != PIRQ_MAPPED)
        return -XEN_EINVAL;
    irq = p->irq;
    if (t->desc[irq].bound)
        unbind_irq(t, pd, irq); /* Xen: "forcing unbind"; the port stays */
    p->state = PIRQ_FREE;
    p->irq = 0;
    p->masked = false;
    t->desc[irq].mapped = false;
    t->desc[irq].pirq = 0;
    if (t->desc[irq].kind == IRQ_MSI) {
        t->hw->msi_teardown(t, irq);
        destroy_msi_irq(t, irq);
    }
    return 0;
}

int pirq_eoi(struct irq_table *t, struct pirq_domain *pd, u32 pirq)
{
    struct pirq *p;
    struct irq_desc *d;

    if (pirq >= pd->nr_pirqs || !pirq_in_use(&pd->pirq[pirq]))
        return -XEN_EINVAL;
    p = &pd->pirq[pirq];
    if (!p->masked)
        return 0;
    p->masked = false;
    if (p->state != PIRQ_MAPPED)
        return 0;
    d = &t->desc[p->irq];
    if (d->in_flight) {
        d->in_flight = false;
        if (d->bound)
            set_mask(t, p->irq, false);
    }
    return 0;
}

int pirq_status(const struct pirq_domain *pd, u32 pirq, u32 *flags)
{
    if (pirq >= pd->nr_pirqs)
        return -XEN_EINVAL;
    /* Xen tells PV guests "needs EOI" for every PIRQ; those with the EOI
     * bitmap read the real answer there.  Nothing is shared: dom0 alone
     * has PIRQs. */
    *flags = XENIRQSTAT_needs_eoi;
    return 0;
}

/* ------------------------------------------------------------ events */

int pirq_bind_check(const struct irq_table *t, const struct pirq_domain *pd, u32 pirq,
                    bool will_share)
{
    const struct pirq *p;
    const struct irq_desc *d;

    (void)will_share; /* one domain per IRQ: sharing never comes up */
    if (pirq >= pd->nr_pirqs)
        return -XEN_EINVAL;
    p = &pd->pirq[pirq];
    if (p->state != PIRQ_MAPPED)
        return -XEN_EPERM; /* no IRQ behind it: nothing the guest may use */
    if (p->port)
        return -XEN_EEXIST;
    d = &t->desc[p->irq];
    if (d->reserved || d->bound)
        return -XEN_EBUSY; /* Xen: "in use by" Xen itself */
    return 0;
}

void pirq_bind(struct irq_table *t, struct pirq_domain *pd, u32 pirq, evtchn_port_t port,
               unsigned int cpu)
{
    struct pirq *p = &pd->pirq[pirq];
    unsigned int irq = p->irq;
    struct irq_desc *d = &t->desc[irq];

    p->port = port;
    p->masked = false;
    d->bound = true;
    d->in_flight = false;
    d->cpu = (u16)cpu;
    eoi_bit(pd, pirq, d->kind == IRQ_GSI && d->level);
    d->masked = false;
    if (d->kind == IRQ_GSI) {
        gsi_route(t, irq); /* also writes a pin dom0 never set up */
    } else {
        t->hw->msi_retarget(t, irq);
        t->hw->mask(t, irq);
    }
}

void pirq_unbind(struct irq_table *t, struct pirq_domain *pd, u32 pirq)
{
    struct pirq *p;

    if (pirq >= pd->nr_pirqs)
        return;
    p = &pd->pirq[pirq];
    if (p->state == PIRQ_MAPPED && t->desc[p->irq].bound)
        unbind_irq(t, pd, p->irq);
    p->port = 0;
    p->masked = false;
}

void pirq_set_cpu(struct irq_table *t, struct pirq_domain *pd, u32 pirq, unsigned int cpu)
{
    struct irq_desc *d;

    if (pirq >= pd->nr_pirqs || pd->pirq[pirq].state != PIRQ_MAPPED)
        return;
    d = &t->desc[pd->pirq[pirq].irq];
    if (d->cpu == cpu)
        return;
    d->cpu = (u16)cpu;
    if (d->kind == IRQ_MSI)
        t->hw->msi_retarget(t, pd->pirq[pirq].irq);
    else if (d->programmed)
        t->hw->gsi_route(t, pd->pirq[pirq].irq);
}

evtchn_port_t irq_arrival(struct irq_table *t, struct pirq_domain *pd, unsigned int vector,
                          u32 *pirq)
{
    unsigned int irq = vector < NR_VECTORS ? t->vector_irq[vector] : IRQ_NONE;
    struct irq_desc *d;
    struct pirq *p;

    if (irq == IRQ_NONE)
        return 0;
    d = &t->desc[irq];
    d->count++;
    if (!d->bound) {
        set_mask(t, irq, true); /* a stray one: make sure it stops */
        return 0;
    }
    p = &pd->pirq[d->pirq];
    if (d->kind == IRQ_GSI && d->level && !p->masked) {
        p->masked = true;
        d->in_flight = true;
        set_mask(t, irq, true);
    }
    *pirq = d->pirq;
    return p->port;
}

/* ------------------------------------------------------------ checking */

static int check_vectors(const struct irq_table *t)
{
    for (unsigned int v = 0; v < NR_VECTORS; v++) {
        unsigned int irq = t->vector_irq[v];
        if (irq == IRQ_NONE)
            continue;
        if (!vector_valid(v) || irq >= NR_IRQS || t->desc[irq].vector != v)
            return 1;
    }
    for (unsigned int irq = 0; irq < NR_IRQS; irq++) {
        const struct irq_desc *d = &t->desc[irq];
        if (d->vector && t->vector_irq[d->vector] != irq)
            return 2;
        if ((d->kind != IRQ_UNUSED) != (d->vector != 0))
            return 3;
        if ((irq < t->nr_gsi) != (d->kind == IRQ_GSI))
            return 4;
    }
    return 0;
}

static int check_irq(const struct irq_table *t, const struct pirq_domain *pd, unsigned int irq)
{
    const struct irq_desc *d = &t->desc[irq];

    if (d->kind == IRQ_UNUSED)
        return d->mapped || d->bound ? 5 : 0;
    if (d->mapped && (d->pirq >= pd->nr_pirqs || pd->pirq[d->pirq].state != PIRQ_MAPPED ||
                      pd->pirq[d->pirq].irq != irq))
        return 6;
    if (d->bound && (!d->mapped || !pd->pirq[d->pirq].port || d->reserved))
        return 7;
    if (!d->bound && (!d->masked || d->in_flight))
        return 8;
    if (d->bound && d->masked != d->in_flight)
        return 9;
    if (d->in_flight && (d->kind != IRQ_GSI || !d->level || !pd->pirq[d->pirq].masked))
        return 10;
    return 0;
}

static int check_pirq(const struct irq_table *t, const struct pirq_domain *pd, unsigned int i)
{
    const struct pirq *p = &pd->pirq[i];

    if (p->state == PIRQ_MAPPED) {
        const struct irq_desc *d = &t->desc[p->irq];
        if (p->irq >= NR_IRQS || !d->mapped || d->pirq != i)
            return 11;
        if (p->port && !d->bound)
            return 12;
        if (!p->port && d->bound)
            return 13;
    }
    if (p->masked && p->state == PIRQ_MAPPED && !t->desc[p->irq].in_flight)
        return 14;
    return 0;
}

int irq_table_check(const struct irq_table *t, const struct pirq_domain *pd)
{
    int rc = check_vectors(t);

    for (unsigned int irq = 0; !rc && irq < NR_IRQS; irq++)
        rc = check_irq(t, pd, irq);
    for (unsigned int i = 0; !rc && i < pd->nr_pirqs; i++)
        rc = check_pirq(t, pd, i);
    return rc;
}
