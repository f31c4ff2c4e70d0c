/*
 * Device interrupts on x86: the IO-APICs (ioapic.c), MSI and MSI-X
 * (msi.c), and the glue that gives the PIRQ core (keel/pirq.h) its
 * hardware and takes the interrupts (irq.c).
 */
#ifndef ASM_IRQ_H
#define ASM_IRQ_H
#include <keel/pirq.h>
#include <keel/spinlock.h>

struct acpi_info;
struct domain;

/* ---- IO-APICs (ioapic.c) */
/* Finds the IO-APICs (MADT, else the default one) and masks every pin. */
void ioapic_init(const struct acpi_info *acpi);
/* Pins 0 .. ioapic_nr_gsi()-1 exist (some may lie in gaps between chips). */
unsigned int ioapic_nr_gsi(void);
void ioapic_route(unsigned int gsi, u8 vector, bool level, bool active_low, u32 apic_id,
                  bool masked);
void ioapic_mask(unsigned int gsi, bool masked);
u32 ioapic_read_rte(unsigned int gsi);
/* PHYSDEVOP_apic_read: any register of the IO-APIC at physbase. */
int ioapic_guest_read(paddr_t physbase, u32 reg, u32 *val);
/* PHYSDEVOP_apic_write: the GSI whose entry's low half `reg` is (0), a
 * register Xen ignores writes to (1), or -XEN_EINVAL. */
int ioapic_guest_pin(paddr_t physbase, u32 reg, unsigned int *gsi);

/* ---- MSI and MSI-X (msi.c); called with pirq_lock held */
int msi_setup(struct irq_table *t, unsigned int irq);
void msi_mask(struct irq_table *t, unsigned int irq);
void msi_retarget(struct irq_table *t, unsigned int irq);
void msi_teardown(struct irq_table *t, unsigned int irq);
/* The function at sbdf exists (vendor id readable): 0 or -XEN_ENODEV. */
int msi_device_present(u32 sbdf);
/* Boot: find every MSI-X table, so that dom0 maps them read-only. */
void msi_scan_devices(void);
/* An MSI-X table or PBA lies in this frame (dom0's mappings lose RW). */
bool msi_frame_ro(mfn_t mfn);

/* ---- the PIRQ state (irq.c) */
/* One lock for all of it, taken first (before any domain's evtchn_lock
 * and the PCI configuration lock), always with interrupts off. */
extern spinlock_t pirq_lock;
extern struct irq_table irq_tab;
extern struct pirq_domain hwdom_pirqs;
/* The domain that owns the PIRQs (dom0), set at its first PIRQ call. */
extern struct domain *pirq_domain_owner;
/* Interrupt controllers are set up; device vectors get their handler. */
void irq_init(const struct acpi_info *acpi);
/* APIC id of a CPU, for routing. */
u32 irq_cpu_apic_id(unsigned int cpu);
#endif
