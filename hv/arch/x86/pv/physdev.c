/*
 * physdev_op: the guest's virtual I/O privilege level, and the port
 * accesses Keel performs for a guest kernel whose IN/OUT faulted at CPL3.
 * Which ports are real for which domain is keel/ioport.h's policy; the
 * rest of physdev_op (interrupt routing, PCI for dom0) is not offered yet.
 */
#include <asm/io.h>
#include <asm/pv.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/ioport.h>
#include <keel/options.h>
#include <keel/pci_cfg.h>
#include <keel/physdev.h>
#include <keel/sched.h>
#include <xen/physdev.h>

long do_physdev_op(struct hcall *h)
{
    struct physdev_set_iopl iopl;

    switch (h->arg[0]) {
    case PHYSDEVOP_set_iopl:
        if (copy_from_guest_obj(&iopl, h->arg[1]))
            return -XEN_EFAULT;
        if (iopl.iopl > 3)
            return -XEN_EINVAL;
        current->arch.iopl = iopl.iopl;
        return 0;
    default:
        return physdev_irq_op(h->arg[0], h->arg[1]);
    }
}

/* The guest kernel counts as ring 1, its user space as ring 3. */
bool pv_iopl_allows(const struct vcpu *v)
{
    return v->arch.iopl >= (v->arch.kernel_mode ? 1U : 3U);
}

static bool port_real(const struct vcpu *v, unsigned port, unsigned bytes)
{
    return ioport_permitted(v->domain->is_privileged, opts.console_port, port, bytes);
}

/* A port the domain may not touch reads as all ones, like an empty bus. */
u32 pv_port_in(const struct vcpu *v, unsigned port, unsigned bytes)
{
    u32 cfg;

    if (pv_pci_cfg_in(v, port, bytes, &cfg))
        return cfg;
    if (!port_real(v, port, bytes))
        return bytes == 4 ? 0xffffffffU : (1U << (bytes * 8)) - 1;
    switch (bytes) {
    case 1: return inb((u16)port);
    case 2: return inw((u16)port);
    default: return inl((u16)port);
    }
}

/* ... and writes to it vanish. */
void pv_port_out(const struct vcpu *v, unsigned port, unsigned bytes, u32 val)
{
    if (pv_pci_cfg_out(v, port, bytes, val))
        return;
    if (!port_real(v, port, bytes))
        return;
    switch (bytes) {
    case 1: outb((u16)port, (u8)val); break;
    case 2: outw((u16)port, (u16)val); break;
    default: outl((u16)port, val); break;
    }
}
