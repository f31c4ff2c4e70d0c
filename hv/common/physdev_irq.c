/*
 * physdev_op beyond the I/O privilege level: interrupts and PCI, which only
 * the hardware domain may ask about.  Keel drives the interrupt controllers
 * itself and hands dom0 no physical IRQs, so every request for one is
 * refused the way Xen refuses an IRQ a domain has no permission for, and
 * the queries answer "nothing mapped".  Linux copes with each of these: it
 * warns per legacy IRQ, fakes an IO-APIC when apic_read fails, and runs
 * without the EOI bitmap.  PCI devices dom0 reports are accepted and not
 * kept, since Keel passes no device through.
 */
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/physdev.h>
#include <keel/sched.h>
#include <xen/physdev.h>

/* As many pirqs as Xen gives a dom0 at least (one per legacy/IO-APIC IRQ
 * and more); none of them is ever bound here. */
#define NR_PIRQS 256

static bool own_domain(domid_t domid)
{
    return domid == DOMID_SELF || domid == current->domain->domid;
}

static long irq_status_query(unsigned long arg)
{
    struct physdev_irq_status_query q;

    if (copy_from_guest_obj(&q, arg))
        return -XEN_EFAULT;
    if (q.irq >= NR_PIRQS)
        return -XEN_EINVAL;
    q.flags = 0; /* not shared, no EOI needed: it is not bound at all */
    return copy_to_guest_obj(arg, &q) ? -XEN_EFAULT : 0;
}

static long map_pirq(unsigned long arg)
{
    struct physdev_map_pirq m;

    if (copy_from_guest_obj(&m, arg))
        return -XEN_EFAULT;
    if (!own_domain(m.domid))
        return -XEN_ESRCH; /* dom0 maps only for itself here */
    return -XEN_EPERM;     /* the interrupt is Keel's */
}

static long unmap_pirq(unsigned long arg)
{
    struct physdev_unmap_pirq u;

    if (copy_from_guest_obj(&u, arg))
        return -XEN_EFAULT;
    if (!own_domain(u.domid))
        return -XEN_ESRCH;
    return -XEN_EINVAL; /* nothing was mapped */
}

static long eoi(unsigned long arg)
{
    struct physdev_eoi e;

    if (copy_from_guest_obj(&e, arg))
        return -XEN_EFAULT;
    return -XEN_EINVAL; /* no pirq is bound, so none can be EOI'd */
}

/* Reads the argument only to fault like Xen on a bad pointer. */
static long refuse(unsigned long arg, size_t size, long err)
{
    u8 tmp[64];

    if (size > sizeof(tmp) || copy_from_guest(tmp, arg, size))
        return -XEN_EFAULT;
    return err;
}

/* A sub-op is either a handler, or a fixed refusal after reading `size`
 * bytes of its argument (0 = accepted and ignored). */
struct physdev_sub {
    unsigned int cmd;
    long (*fn)(unsigned long arg);
    size_t size;
    long result;
};

static const struct physdev_sub subs[] = {
    {PHYSDEVOP_irq_status_query, irq_status_query, 0, 0},
    {PHYSDEVOP_map_pirq, map_pirq, 0, 0},
    {PHYSDEVOP_unmap_pirq, unmap_pirq, 0, 0},
    {PHYSDEVOP_eoi, eoi, 0, 0},
    /* The IO-APICs and vectors are Keel's: no raw access, no routing. */
    {PHYSDEVOP_apic_read, NULL, sizeof(struct physdev_apic), -XEN_EPERM},
    {PHYSDEVOP_apic_write, NULL, sizeof(struct physdev_apic), -XEN_EPERM},
    {PHYSDEVOP_alloc_irq_vector, NULL, sizeof(struct physdev_irq), -XEN_EPERM},
    {PHYSDEVOP_setup_gsi, NULL, sizeof(struct physdev_setup_gsi), -XEN_EPERM},
    {PHYSDEVOP_get_free_pirq, NULL, sizeof(struct physdev_get_free_pirq), -XEN_ENOSPC},
    /* PCI bookkeeping (fixed parts only; no NUMA node list is read). */
    {PHYSDEVOP_pci_device_add, NULL, sizeof(struct physdev_pci_device_add), 0},
    {PHYSDEVOP_pci_device_remove, NULL, sizeof(struct physdev_pci_device), 0},
    {PHYSDEVOP_manage_pci_add, NULL, sizeof(struct physdev_manage_pci), 0},
    {PHYSDEVOP_manage_pci_remove, NULL, sizeof(struct physdev_manage_pci), 0},
    {PHYSDEVOP_manage_pci_add_ext, NULL, sizeof(struct physdev_manage_pci_ext), 0},
    {PHYSDEVOP_pci_mmcfg_reserved, NULL, sizeof(struct physdev_pci_mmcfg_reserved), 0},
};

long physdev_irq_op(unsigned long cmd, unsigned long arg)
{
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
        if (subs[i].cmd != cmd)
            continue;
        if (!current->domain->is_privileged)
            return -XEN_EPERM;
        return subs[i].fn ? subs[i].fn(arg) : refuse(arg, subs[i].size, subs[i].result);
    }
    /* pirq_eoi_gmfn (Linux then EOIs by hypercall), MSI, dbgp: not offered. */
    return -XEN_ENOSYS;
}
