/*
 * physdev_op beyond the I/O privilege level: the hardware domain's
 * physical interrupts (PIRQs) and PCI, plus the event-channel side of
 * PIRQs (EVTCHNOP_bind_pirq, and closing or moving such a port).  This is
 * the hypercall layer: it copies arguments in and out, takes pirq_lock
 * (then, inside it, a domain's evtchn_lock or the PCI lock) and calls the
 * core (keel/pirq.h) or the IO-APIC code.  Error codes are Xen 4.17's.
 *
 * Only the privileged domain has PIRQs (no device is passed through to
 * another domain), and it alone may use these sub-ops.
 */
#include <asm/irq.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/physdev.h>
#include <keel/sched.h>
#include <xen/physdev.h>

/* ------------------------------------------------------------ helpers */

/* Under pirq_lock: the caller is the domain the PIRQs belong to. */
static void claim_pirqs(struct domain *d)
{
    if (!pirq_domain_owner)
        pirq_domain_owner = d;
}

static unsigned int vcpu_cpu(struct domain *d, unsigned int vcpu)
{
    return vcpu < d->nr_vcpus && d->vcpus[vcpu] ? READ_ONCE(d->vcpus[vcpu]->processor) : 0;
}

/* map/unmap name a domain: only the caller itself has PIRQs here. */
static long target_domain(domid_t domid)
{
    struct domain *d;

    if (domid == DOMID_SELF || domid == current->domain->domid)
        return 0;
    d = domain_get(domid);
    if (!d)
        return -XEN_ESRCH;
    domain_put(d);
    return -XEN_EPERM; /* no passthrough to other domains */
}

/* Unmasks the port of a PIRQ dom0 EOI'd (the v1 EOI-map semantics). */
static void auto_unmask(struct domain *d, u32 pirq)
{
    struct evtchn_kick k = {NULL, 0};
    evtchn_port_t port = hwdom_pirqs.pirq[pirq].port;

    if (!port)
        return;
    spin_lock(&d->evtchn_lock);
    evtchn_unmask(&d->evtchn, port, &k);
    spin_unlock(&d->evtchn_lock);
    evtchn_do_kick(&k);
}

/* ------------------------------------------------------------ sub-ops */

static long op_eoi(unsigned long arg)
{
    struct domain *d = current->domain;
    struct physdev_eoi e;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&e, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&pirq_lock);
    claim_pirqs(d);
    rc = pirq_eoi(&irq_tab, &hwdom_pirqs, e.irq);
    if (!rc && hwdom_pirqs.auto_unmask)
        auto_unmask(d, e.irq);
    spin_unlock_irqrestore(&pirq_lock, f);
    return rc;
}

/* The EOI bitmap: a frame of dom0's that Keel sets bits in, so it holds a
 * Keel write reference for good (the guest cannot make it a table). */
static long op_eoi_gmfn(unsigned long arg, bool v1)
{
    struct domain *d = current->domain;
    struct physdev_pirq_eoi_gmfn g;
    struct page_info *pg;
    unsigned long f;
    long rc = 0;

    if (copy_from_guest_obj(&g, arg))
        return -XEN_EFAULT;
    if (!mfn_valid(g.gmfn))
        return -XEN_EINVAL;
    pg = mfn_to_page(g.gmfn);
    if (!get_page_keel_write(pg, d))
        return -XEN_EINVAL;
    f = spin_lock_irqsave(&pirq_lock);
    claim_pirqs(d);
    if (hwdom_pirqs.eoi_map) {
        rc = -XEN_EBUSY;
    } else {
        hwdom_pirqs.eoi_map = mfn_to_virt(g.gmfn);
        hwdom_pirqs.auto_unmask = v1;
    }
    spin_unlock_irqrestore(&pirq_lock, f);
    if (rc)
        put_page_keel_write(pg);
    return rc;
}

static long op_irq_status_query(unsigned long arg)
{
    struct physdev_irq_status_query q;
    long rc;

    if (copy_from_guest_obj(&q, arg))
        return -XEN_EFAULT;
    rc = pirq_status(&hwdom_pirqs, q.irq, &q.flags);
    if (rc)
        return rc;
    return copy_to_guest_obj(arg, &q) ? -XEN_EFAULT : 0;
}

static void msi_source_of(const struct physdev_map_pirq *m, struct msi_source *src)
{
    u32 seg = m->type == MAP_PIRQ_TYPE_MSI ? 0 : (u32)m->bus >> 16;

    src->sbdf = seg << 16 | (u32)(m->bus & 0xff) << 8 | (u32)(m->devfn & 0xff);
    src->msix = m->table_base != 0;
    src->entry = src->msix ? (u16)m->entry_nr : 0;
    src->maskable = false;
}

static long map_pirq(struct physdev_map_pirq *m)
{
    struct msi_source src;
    int *nr = NULL;

    switch (m->type) {
    case MAP_PIRQ_TYPE_GSI:
        return pirq_map_gsi(&irq_tab, &hwdom_pirqs, m->index, &m->pirq);
    case MAP_PIRQ_TYPE_MULTI_MSI:
        if (m->table_base)
            return -XEN_EINVAL;
        nr = &m->entry_nr;
        /* fall through */
    case MAP_PIRQ_TYPE_MSI:
    case MAP_PIRQ_TYPE_MSI_SEG:
        msi_source_of(m, &src);
        if (src.msix && src.entry != m->entry_nr)
            return -XEN_EINVAL; /* beyond any MSI-X table */
        return pirq_map_msi(&irq_tab, &hwdom_pirqs, &src, m->index, &m->pirq, nr);
    default:
        return -XEN_EINVAL;
    }
}

static long op_map_pirq(unsigned long arg)
{
    struct physdev_map_pirq m;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&m, arg))
        return -XEN_EFAULT;
    rc = target_domain(m.domid);
    if (!rc) {
        f = spin_lock_irqsave(&pirq_lock);
        claim_pirqs(current->domain);
        rc = map_pirq(&m);
        spin_unlock_irqrestore(&pirq_lock, f);
    }
    /* Xen copies the structure back whatever happened. */
    return copy_to_guest_obj(arg, &m) ? -XEN_EFAULT : rc;
}

static long op_unmap_pirq(unsigned long arg)
{
    struct physdev_unmap_pirq u;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&u, arg))
        return -XEN_EFAULT;
    if ((rc = target_domain(u.domid)))
        return rc;
    f = spin_lock_irqsave(&pirq_lock);
    rc = pirq_unmap(&irq_tab, &hwdom_pirqs, u.pirq);
    spin_unlock_irqrestore(&pirq_lock, f);
    return rc;
}

static long op_apic_read(unsigned long arg)
{
    struct physdev_apic a;
    long rc;

    if (copy_from_guest_obj(&a, arg))
        return -XEN_EFAULT;
    rc = ioapic_guest_read(a.apic_physbase, a.reg, &a.value);
    return copy_to_guest_obj(arg, &a) ? -XEN_EFAULT : rc;
}

static long op_apic_write(unsigned long arg)
{
    static bool warned;
    struct physdev_apic a;
    unsigned int gsi;
    bool refused;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&a, arg))
        return -XEN_EFAULT;
    rc = ioapic_guest_pin(a.apic_physbase, a.reg, &gsi);
    if (rc)
        return rc > 0 ? 0 : rc;
    f = spin_lock_irqsave(&pirq_lock);
    claim_pirqs(current->domain);
    rc = pirq_ioapic_write(&irq_tab, &hwdom_pirqs, gsi, a.value, &refused);
    spin_unlock_irqrestore(&pirq_lock, f);
    if (refused && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        printk(KLOG_WARN "IO-APIC: dom0 wrote %#x to the entry of GSI %u, which is in use or "
                         "Keel's: ignored (logged once)\n", a.value, gsi);
    return rc;
}

/* Xen's is a dummy since vectors became its business: vector = irq. */
static long op_alloc_irq_vector(unsigned long arg)
{
    struct physdev_irq i;

    if (copy_from_guest_obj(&i, arg))
        return -XEN_EFAULT;
    i.vector = i.irq;
    return copy_to_guest_obj(arg, &i) ? -XEN_EFAULT : 0;
}

static long op_setup_gsi(unsigned long arg)
{
    struct physdev_setup_gsi s;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&s, arg))
        return -XEN_EFAULT;
    /* Xen keeps one bit of each (bitfields): 2 means edge, as there. */
    f = spin_lock_irqsave(&pirq_lock);
    rc = pirq_setup_gsi(&irq_tab, s.gsi, s.triggering & 1, s.polarity & 1);
    spin_unlock_irqrestore(&pirq_lock, f);
    return rc;
}

static long op_get_free_pirq(unsigned long arg)
{
    struct physdev_get_free_pirq g;
    unsigned long f;
    int p;

    if (copy_from_guest_obj(&g, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&pirq_lock);
    claim_pirqs(current->domain);
    p = pirq_get_free(&hwdom_pirqs, irq_tab.nr_gsi, g.type);
    if (p >= 0)
        hwdom_pirqs.pirq[p].state = PIRQ_ALLOCATED;
    spin_unlock_irqrestore(&pirq_lock, f);
    if (p < 0)
        return p;
    g.pirq = (u32)p;
    return copy_to_guest_obj(arg, &g) ? -XEN_EFAULT : 0;
}

/* Legacy: EOI every in-flight PIRQ whose port dom0 has unmasked. */
static long op_irq_unmask_notify(void)
{
    struct domain *d = current->domain;
    const struct shared_info *s = d->shared_info;
    unsigned long f = spin_lock_irqsave(&pirq_lock);

    for (u32 p = 0; p < hwdom_pirqs.nr_pirqs; p++) {
        evtchn_port_t port = hwdom_pirqs.pirq[p].port;
        const unsigned int bits = sizeof(xen_ulong_t) * 8;
        if (hwdom_pirqs.pirq[p].masked && port &&
            !(READ_ONCE(s->evtchn_mask[port / bits]) >> (port % bits) & 1))
            pirq_eoi(&irq_tab, &hwdom_pirqs, p);
    }
    spin_unlock_irqrestore(&pirq_lock, f);
    return 0;
}

static long op_restore_msi(unsigned long arg, bool ext)
{
    struct physdev_pci_device dev;
    struct physdev_restore_msi r;

    if (ext ? copy_from_guest_obj(&dev, arg) : copy_from_guest_obj(&r, arg))
        return -XEN_EFAULT;
    if (!ext) {
        dev.seg = 0;
        dev.bus = r.bus;
        dev.devfn = r.devfn;
    }
    /* Nothing Keel programmed is lost while dom0 runs (no suspend), so
     * only the device must exist. */
    return msi_device_present((u32)dev.seg << 16 | (u32)dev.bus << 8 | dev.devfn);
}

/* Reads the argument only to fault like Xen on a bad pointer; PCI device
 * reports are accepted and not kept (Keel scans nothing in advance). */
static long accept(unsigned long arg, size_t size)
{
    u8 tmp[64];

    if (size > sizeof(tmp) || copy_from_guest(tmp, arg, size))
        return -XEN_EFAULT;
    return 0;
}

static long physdev_pirq_op(unsigned long cmd, unsigned long arg)
{
    switch (cmd) {
    case PHYSDEVOP_eoi:
        return op_eoi(arg);
    case PHYSDEVOP_pirq_eoi_gmfn_v1:
    case PHYSDEVOP_pirq_eoi_gmfn_v2:
        return op_eoi_gmfn(arg, cmd == PHYSDEVOP_pirq_eoi_gmfn_v1);
    case PHYSDEVOP_IRQ_UNMASK_NOTIFY:
        return op_irq_unmask_notify();
    case PHYSDEVOP_irq_status_query:
        return op_irq_status_query(arg);
    case PHYSDEVOP_map_pirq:
        return op_map_pirq(arg);
    case PHYSDEVOP_unmap_pirq:
        return op_unmap_pirq(arg);
    case PHYSDEVOP_apic_read:
        return op_apic_read(arg);
    case PHYSDEVOP_apic_write:
        return op_apic_write(arg);
    case PHYSDEVOP_alloc_irq_vector:
        return op_alloc_irq_vector(arg);
    case PHYSDEVOP_setup_gsi:
        return op_setup_gsi(arg);
    case PHYSDEVOP_get_free_pirq:
        return op_get_free_pirq(arg);
    case PHYSDEVOP_restore_msi:
    case PHYSDEVOP_restore_msi_ext:
        return op_restore_msi(arg, cmd == PHYSDEVOP_restore_msi_ext);
    case PHYSDEVOP_pci_device_add:
        return accept(arg, sizeof(struct physdev_pci_device_add));
    case PHYSDEVOP_pci_device_remove:
        return accept(arg, sizeof(struct physdev_pci_device));
    case PHYSDEVOP_manage_pci_add:
    case PHYSDEVOP_manage_pci_remove:
        return accept(arg, sizeof(struct physdev_manage_pci));
    case PHYSDEVOP_manage_pci_add_ext:
        return accept(arg, sizeof(struct physdev_manage_pci_ext));
    case PHYSDEVOP_pci_mmcfg_reserved:
        return accept(arg, sizeof(struct physdev_pci_mmcfg_reserved));
    default:
        /* free_irq_vector, set_iobitmap, prepare/release_msix, dbgp: not
         * offered. */
        return -XEN_ENOSYS;
    }
}

long physdev_irq_op(unsigned long cmd, unsigned long arg)
{
    static const u8 offered[] = {
        PHYSDEVOP_eoi, PHYSDEVOP_pirq_eoi_gmfn_v1, PHYSDEVOP_pirq_eoi_gmfn_v2,
        PHYSDEVOP_IRQ_UNMASK_NOTIFY, PHYSDEVOP_irq_status_query, PHYSDEVOP_map_pirq,
        PHYSDEVOP_unmap_pirq, PHYSDEVOP_apic_read, PHYSDEVOP_apic_write,
        PHYSDEVOP_alloc_irq_vector, PHYSDEVOP_setup_gsi, PHYSDEVOP_get_free_pirq,
        PHYSDEVOP_restore_msi, PHYSDEVOP_restore_msi_ext, PHYSDEVOP_pci_device_add,
        PHYSDEVOP_pci_device_remove, PHYSDEVOP_manage_pci_add, PHYSDEVOP_manage_pci_remove,
        PHYSDEVOP_manage_pci_add_ext, PHYSDEVOP_pci_mmcfg_reserved,
    };

    if (current->domain->is_privileged)
        return physdev_pirq_op(cmd, arg);
    /* Other domains have no PIRQs and no devices (yet).  map/unmap name a
     * domain, looked up first as on Xen: a missing one is -ESRCH. */
    if (cmd == PHYSDEVOP_map_pirq || cmd == PHYSDEVOP_unmap_pirq) {
        domid_t id;
        struct domain *d;
        /* domid leads both structures */
        if (copy_from_guest(&id, arg, sizeof(id)))
            return -XEN_EFAULT;
        d = id == DOMID_SELF ? NULL : domain_get(id);
        if (id != DOMID_SELF && !d)
            return -XEN_ESRCH;
        if (d)
            domain_put(d);
    }
    for (size_t i = 0; i < ARRAY_SIZE(offered); i++)
        if (offered[i] == cmd)
            return -XEN_EPERM;
    return -XEN_ENOSYS;
}

/* ------------------------------------------------------------ events */

long pirq_evtchn_bind(unsigned long arg)
{
    struct domain *d = current->domain;
    struct evtchn_bind_pirq b;
    unsigned long f;
    long rc;

    if (copy_from_guest_obj(&b, arg))
        return -XEN_EFAULT;
    if (!d->is_privileged)
        return b.pirq >= NR_PIRQS ? -XEN_EINVAL : -XEN_EPERM; /* it has none */
    f = spin_lock_irqsave(&pirq_lock);
    claim_pirqs(d);
    rc = pirq_bind_check(&irq_tab, &hwdom_pirqs, b.pirq, b.flags & BIND_PIRQ__WILL_SHARE);
    if (!rc) {
        spin_lock(&d->evtchn_lock);
        rc = evtchn_bind_pirq(&d->evtchn, b.pirq, &b.port);
        spin_unlock(&d->evtchn_lock);
    }
    if (!rc)
        pirq_bind(&irq_tab, &hwdom_pirqs, b.pirq, b.port, vcpu_cpu(d, 0));
    spin_unlock_irqrestore(&pirq_lock, f);
    if (rc)
        return rc;
    return copy_to_guest_obj(arg, &b) ? -XEN_EFAULT : 0;
}

long pirq_evtchn_close(struct domain *d, evtchn_port_t port)
{
    unsigned long f = spin_lock_irqsave(&pirq_lock);
    long rc = 1;

    struct evtchn *chn;

    spin_lock(&d->evtchn_lock);
    if ((chn = evtchn_pirq_port(&d->evtchn, port))) {
        if (d == pirq_domain_owner)
            pirq_unbind(&irq_tab, &hwdom_pirqs, chn->u.pirq);
        rc = evtchn_close(&d->evtchn, port);
    }
    spin_unlock(&d->evtchn_lock);
    spin_unlock_irqrestore(&pirq_lock, f);
    return rc;
}

void pirq_evtchn_moved(struct domain *d, evtchn_port_t port)
{
    unsigned long f = spin_lock_irqsave(&pirq_lock);
    u32 pirq = ~0U;
    unsigned int vcpu = 0;

    const struct evtchn *chn;

    spin_lock(&d->evtchn_lock);
    if ((chn = evtchn_pirq_port(&d->evtchn, port))) {
        pirq = chn->u.pirq;
        vcpu = chn->vcpu;
    }
    spin_unlock(&d->evtchn_lock);
    if (pirq != ~0U && d == pirq_domain_owner)
        pirq_set_cpu(&irq_tab, &hwdom_pirqs, pirq, vcpu_cpu(d, vcpu));
    spin_unlock_irqrestore(&pirq_lock, f);
}

void pirq_vcpu_moved(struct vcpu *v)
{
    struct domain *d = v->domain;
    unsigned long f;

    if (d != READ_ONCE(pirq_domain_owner))
        return;
    f = spin_lock_irqsave(&pirq_lock);
    spin_lock(&d->evtchn_lock);
    for (u32 p = 0; p < hwdom_pirqs.nr_pirqs; p++) {
        evtchn_port_t port = hwdom_pirqs.pirq[p].port;
        const struct evtchn *chn = port ? evtchn_pirq_port(&d->evtchn, port) : NULL;
        if (chn && chn->vcpu == v->vcpu_id)
            pirq_set_cpu(&irq_tab, &hwdom_pirqs, p, READ_ONCE(v->processor));
    }
    spin_unlock(&d->evtchn_lock);
    spin_unlock_irqrestore(&pirq_lock, f);
}
