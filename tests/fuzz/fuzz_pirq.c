/*
 * libFuzzer target for the PIRQ core: random sequences of map, setup_gsi,
 * bind, unmask (EOI), interrupt arrival, retargeting, IO-APIC writes and
 * unmap, against a fake interrupt controller.  After every step:
 *  - the core's own consistency rules hold (irq_table_check);
 *  - no vector is owned twice, in the core or in the "hardware";
 *  - what the hardware masks is what the core believes it masks;
 *  - a bound level interrupt is unmasked right after its EOI;
 *  - an edge interrupt (or MSI) arriving on a bound IRQ raises its port
 *    and leaves the IRQ unmasked (nothing is lost);
 *  - Keel's reserved pins are never bound.
 */
#include <keel/pirq.h>
#include <xen/physdev.h>

#define NR_GSI 24

static struct {
    bool masked[NR_IRQS];
    u8 vector[NR_IRQS];
    bool fail_msi;
} hw;

static void f_route(struct irq_table *t, unsigned int gsi)
{
    if (gsi >= t->nr_gsi)
        abort();
    hw.masked[gsi] = t->desc[gsi].masked;
    hw.vector[gsi] = t->desc[gsi].vector;
}

static void f_mask(struct irq_table *t, unsigned int irq)
{
    if (t->desc[irq].kind == IRQ_UNUSED)
        abort();
    hw.masked[irq] = t->desc[irq].masked;
}

static int f_msi_setup(struct irq_table *t, unsigned int irq)
{
    if (t->desc[irq].kind != IRQ_MSI || !t->desc[irq].vector)
        abort();
    if (hw.fail_msi)
        return -XEN_ENODEV;
    t->desc[irq].msi.maskable = true;
    hw.masked[irq] = true;
    hw.vector[irq] = t->desc[irq].vector;
    return 0;
}

static void f_retarget(struct irq_table *t, unsigned int irq)
{
    if (t->desc[irq].kind != IRQ_MSI)
        abort();
}

static void f_teardown(struct irq_table *t, unsigned int irq)
{
    if (t->desc[irq].kind != IRQ_MSI)
        abort();
    hw.masked[irq] = true;
    hw.vector[irq] = 0;
}

static const struct irq_hw fake = {f_route, f_mask, f_msi_setup, f_retarget, f_teardown};
static struct irq_table tab;
static struct pirq_domain pd;
static xen_ulong_t eoi_map[4096 / sizeof(xen_ulong_t)];

static void check(void)
{
    bool seen[NR_VECTORS] = {false};

    int rule = irq_table_check(&tab, &pd);
    if (rule) {
        fprintf(stderr, "broken rule %d\n", rule);
        abort();
    }
    for (unsigned int irq = 0; irq < NR_IRQS; irq++) {
        const struct irq_desc *d = &tab.desc[irq];
        if (d->kind == IRQ_UNUSED)
            continue;
        if (hw.masked[irq] != d->masked)
            abort();
        if (d->reserved && d->bound)
            abort();
        if (d->vector < IRQ_VECTOR_FIRST || d->vector > IRQ_VECTOR_LAST || seen[d->vector])
            abort();
        seen[d->vector] = true;
    }
}

struct input {
    const u8 *p;
    size_t n;
};

static u8 next(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static int pick_pirq(struct input *in)
{
    u8 b = next(in);
    /* Mostly real PIRQs; sometimes "any" or out of range. */
    if (b == 0xff)
        return -1;
    if (b == 0xfe)
        return NR_PIRQS + next(in);
    return b < NR_GSI + 8 ? b : NR_PIRQS - 1 - (b & 15);
}

static void do_eoi(u32 pirq)
{
    bool bound_level = pirq < NR_PIRQS && pd.pirq[pirq].state == PIRQ_MAPPED &&
                       tab.desc[pd.pirq[pirq].irq].bound &&
                       tab.desc[pd.pirq[pirq].irq].level &&
                       tab.desc[pd.pirq[pirq].irq].kind == IRQ_GSI;
    pirq_eoi(&tab, &pd, pirq);
    if (bound_level && hw.masked[pd.pirq[pirq].irq])
        abort(); /* a level IRQ left masked after its EOI */
}

static void do_arrival(u8 vector)
{
    unsigned int irq = tab.vector_irq[vector];
    bool edge_bound = irq != IRQ_NONE && tab.desc[irq].bound &&
                      !(tab.desc[irq].kind == IRQ_GSI && tab.desc[irq].level);
    evtchn_port_t want = edge_bound ? pd.pirq[tab.desc[irq].pirq].port : 0;
    u32 pirq = ~0U;
    evtchn_port_t port = irq_arrival(&tab, &pd, vector, &pirq);

    if (edge_bound && (port != want || !port || hw.masked[irq]))
        abort(); /* a lost edge */
    if (port && (pirq >= NR_PIRQS || pd.pirq[pirq].port != port))
        abort();
}

static void step(struct input *in, evtchn_port_t *next_port)
{
    int pirq, rc;
    bool refused;

    switch (next(in) % 13) {
    case 0:
        pirq = pick_pirq(in);
        pirq_map_gsi(&tab, &pd, (int)(next(in) % (NR_GSI + 2)) - 1, &pirq);
        break;
    case 1: {
        struct msi_source s = {.sbdf = next(in) & 7, .entry = next(in) & 3};
        s.msix = s.entry & 2;
        int nr = next(in) % 3;
        int index = next(in) == 7 ? (int)(NR_GSI + (next(in) % 40)) : -1;
        pirq = pick_pirq(in);
        pirq_map_msi(&tab, &pd, &s, index, &pirq, nr == 2 ? &nr : NULL);
        break;
    }
    case 2:
        pirq_unmap(&tab, &pd, pick_pirq(in));
        break;
    case 3:
        pirq_setup_gsi(&tab, (int)(next(in) % (NR_GSI + 2)) - 1, next(in) & 1, next(in) & 1);
        break;
    case 4:
        pirq = pick_pirq(in);
        rc = pirq_bind_check(&tab, &pd, (u32)pirq, next(in) & 1);
        if (rc == 0)
            pirq_bind(&tab, &pd, (u32)pirq, (*next_port)++, next(in) & 3);
        break;
    case 5:
        pirq_unbind(&tab, &pd, (u32)pick_pirq(in));
        break;
    case 6:
        do_eoi((u32)pick_pirq(in));
        break;
    case 7:
    case 8:
        do_arrival(next(in));
        break;
    case 9:
        pirq_set_cpu(&tab, &pd, (u32)pick_pirq(in), next(in) & 3);
        break;
    case 10: {
        u32 val = (u32)next(in) | (u32)next(in) << 8 | (u32)next(in) << 16;
        pirq_ioapic_write(&tab, &pd, next(in) % (NR_GSI + 1), val, &refused);
        break;
    }
    case 11:
        rc = pirq_get_free(&pd, NR_GSI, next(in) & 1 ? MAP_PIRQ_TYPE_GSI : MAP_PIRQ_TYPE_MSI);
        if (rc >= 0)
            pd.pirq[rc].state = PIRQ_ALLOCATED;
        break;
    default:
        hw.fail_msi = !hw.fail_msi;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    evtchn_port_t port = 1;

    memset(&hw, 0, sizeof(hw));
    memset(eoi_map, 0, sizeof(eoi_map));
    for (unsigned int i = 0; i < NR_IRQS; i++)
        hw.masked[i] = true;
    irq_table_init(&tab, NR_GSI, &fake, NULL);
    for (unsigned int i = 0; i < NR_GSI; i++)
        hw.vector[i] = tab.desc[i].vector;
    pirq_domain_init(&pd, NR_PIRQS);
    pd.eoi_map = eoi_map;
    irq_gsi_default(&tab, 9, true, false);
    irq_gsi_reserve(&tab, 2);
    irq_gsi_reserve(&tab, 4);
    check();
    while (in.n) {
        step(&in, &port);
        check();
    }
    return 0;
}
