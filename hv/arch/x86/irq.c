/*
 * Device interrupts: the PIRQ core's hardware (IO-APIC pins and MSIs), its
 * state and lock, and the handler every device vector runs.  An interrupt
 * becomes an event on the port dom0 bound to its PIRQ; the local APIC is
 * EOI'd by the trap code as for any interrupt, and a level pin stays masked
 * until dom0's PHYSDEVOP_eoi (see keel/pirq.h).
 */
#include <asm/apic.h>
#include <asm/irq.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <keel/acpi.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/options.h>

/* MPS INTI flags in MADT overrides: polarity bits 0-1, trigger bits 2-3;
 * 0 means "as the bus does it" (ISA: edge, active high). */
#define INTI_POLARITY_LOW 3
#define INTI_TRIGGER_LEVEL (3 << 2)

spinlock_t pirq_lock = SPINLOCK_INIT;
struct irq_table irq_tab;
struct pirq_domain hwdom_pirqs;
struct domain *pirq_domain_owner;

u32 irq_cpu_apic_id(unsigned int cpu)
{
    return cpu_to_apic_id[cpu_online(cpu) ? cpu : 0];
}

static void hw_gsi_route(struct irq_table *t, unsigned int gsi)
{
    const struct irq_desc *d = &t->desc[gsi];

    ioapic_route(gsi, d->vector, d->level, d->active_low, irq_cpu_apic_id(d->cpu),
                 d->masked);
}

static void hw_mask(struct irq_table *t, unsigned int irq)
{
    if (t->desc[irq].kind == IRQ_GSI)
        ioapic_mask(irq, t->desc[irq].masked);
    else
        msi_mask(t, irq);
}

static const struct irq_hw x86_irq_hw = {
    .gsi_route = hw_gsi_route,
    .mask = hw_mask,
    .msi_setup = msi_setup,
    .msi_retarget = msi_retarget,
    .msi_teardown = msi_teardown,
};

/* The port is raised only if it is still this PIRQ's: whoever closed it
 * held pirq_lock, but a dying domain's ports may be reset wholesale. */
static bool raise_pirq_port(struct domain *d, evtchn_port_t port, u32 pirq,
                            struct evtchn_kick *k)
{
    const struct evtchn *chn;
    bool ok;

    spin_lock(&d->evtchn_lock);
    chn = evtchn_pirq_port(&d->evtchn, port);
    ok = chn && chn->u.pirq == pirq;
    if (ok)
        evtchn_raise(&d->evtchn, port, k);
    spin_unlock(&d->evtchn_lock);
    return ok;
}

/* Interrupts are off here (an interrupt gate). */
static void pirq_interrupt(struct regs *r)
{
    struct evtchn_kick k = {NULL, 0};
    struct domain *d;
    evtchn_port_t port;
    u32 pirq = 0;
    bool raised = false;

    spin_lock(&pirq_lock);
    port = irq_arrival(&irq_tab, &hwdom_pirqs, (u8)r->entry_vector, &pirq);
    d = pirq_domain_owner;
    if (port && d)
        raised = raise_pirq_port(d, port, pirq, &k);
    spin_unlock(&pirq_lock);
    if (raised) {
        evtchn_do_kick(&k);
        evtchn_check_pollers(d, port);
    }
}

/* The GSI an ISA IRQ arrives on (identity unless the MADT overrides it). */
static unsigned int isa_gsi(const struct acpi_info *acpi, unsigned int isa)
{
    for (unsigned int i = 0; acpi && i < acpi->nr_overrides; i++)
        if (acpi->overrides[i].bus == 0 && acpi->overrides[i].source_irq == isa)
            return acpi->overrides[i].gsi;
    return isa;
}

static void __init apply_overrides(const struct acpi_info *acpi)
{
    for (unsigned int i = 0; acpi && i < acpi->nr_overrides; i++) {
        const struct acpi_override *o = &acpi->overrides[i];
        irq_gsi_default(&irq_tab, o->gsi, (o->flags & INTI_TRIGGER_LEVEL) == INTI_TRIGGER_LEVEL,
                        (o->flags & INTI_POLARITY_LOW) == INTI_POLARITY_LOW);
    }
}

/* Keel's own pins: the 8259 cascade, the PIT, and its console's UART. */
static void __init reserve_keel_pins(const struct acpi_info *acpi)
{
    irq_gsi_reserve(&irq_tab, 0);
    irq_gsi_reserve(&irq_tab, isa_gsi(acpi, 0));
    if (opts.console_port)
        irq_gsi_reserve(&irq_tab, isa_gsi(acpi, (opts.console_port & 0x100) ? 4 : 3));
}

void __init irq_init(const struct acpi_info *acpi)
{
    irq_table_init(&irq_tab, ioapic_nr_gsi(), &x86_irq_hw, NULL);
    pirq_domain_init(&hwdom_pirqs, NR_PIRQS);
    apply_overrides(acpi);
    reserve_keel_pins(acpi);
    for (unsigned int v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++)
        set_irq_handler((u8)v, pirq_interrupt);
    printk("irq: %u GSIs, vectors %#x-%#x for devices, %u PIRQs for dom0\n", irq_tab.nr_gsi,
           IRQ_VECTOR_FIRST, IRQ_VECTOR_LAST, hwdom_pirqs.nr_pirqs);
    msi_scan_devices();
}
