/*
 * physdev_op: the guest's virtual I/O privilege level and I/O bitmap, and
 * the port accesses Keel performs for a guest whose IN/OUT/INS/OUTS
 * faulted at CPL3.  Which ports are real for which domain is
 * keel/ioport.h's policy; interrupt routing is physdev_irq_op's.
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

/*
 * Per vCPU, as on Xen.  Only the bitmap's first byte must lie in guest
 * space: bytes Keel cannot read later simply deny their ports.
 */
static long set_iobitmap(unsigned long arg)
{
    struct physdev_set_iobitmap set;
    unsigned long bitmap;

    if (copy_from_guest_obj(&set, arg))
        return -XEN_EFAULT;
    bitmap = (unsigned long)set.bitmap.p;
    if (!guest_range_ok(bitmap, 1) || set.nr_ports > 65536)
        return -XEN_EINVAL;
    current->arch.iobmp = bitmap;
    current->arch.iobmp_limit = set.nr_ports;
    return 0;
}

long do_physdev_op(struct hcall *h)
{
    struct physdev_set_iopl iopl;

    switch (h->arg[0]) {
    case PHYSDEVOP_set_iobitmap:
        return set_iobitmap(h->arg[1]);
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

/*
 * Two bytes of v's I/O bitmap from byte `offset`, read through v's kernel
 * page tables (the bitmap's address is a kernel one even when v faulted
 * in user mode).  If they cannot both be read (Xen reads them in one
 * access), both are 0xff: no access.
 */
static void read_iobitmap(struct vcpu *v, unsigned offset, u8 bits[2])
{
    unsigned long cr3 = read_cr3(), kernel_cr3 = v->arch.guest_table << PAGE_SHIFT;

    bits[0] = bits[1] = 0xff;
    if (!v->arch.guest_table)
        return;
    if (cr3 != kernel_cr3)
        write_cr3(kernel_cr3);
    if (copy_from_guest(bits, v->arch.iobmp + offset, 2))
        bits[0] = bits[1] = 0xff;
    if (cr3 != kernel_cr3)
        write_cr3(cr3);
}

/* The virtual IOPL first, then the guest's own I/O bitmap (Xen's order). */
bool pv_io_allowed(struct vcpu *v, unsigned port, unsigned bytes)
{
    u8 bits[2];

    if (pv_iopl_allows(v))
        return true;
    if (port + bytes > v->arch.iobmp_limit)
        return false;
    read_iobitmap(v, port / 8, bits);
    return ioport_bitmap_allows(bits, v->arch.iobmp_limit, port, bytes);
}

static bool port_real(const struct vcpu *v, unsigned port, unsigned bytes)
{
    return ioport_permitted(v->domain->is_privileged, opts.console_port, port, bytes);
}

/*
 * The RTC, as Xen mediates it: every PV domain has its own index latch
 * (port 0x70 reads back what it wrote); the data port reaches the real
 * CMOS only for dom0, at the latched index.
 */
static bool touches_rtc(unsigned port, unsigned bytes)
{
    return port <= 0x71 && port + bytes > 0x70;
}

static u8 byte_in(const struct vcpu *v, unsigned port)
{
    struct domain *d = v->domain;

    if (port == 0x70)
        return d->arch.cmos_idx;
    if (port == 0x71)
        return d->is_privileged ? cmos_access(READ_ONCE(d->arch.cmos_idx), false, 0) : 0xff;
    return port_real(v, port, 1) ? inb((u16)port) : 0xff;
}

static void byte_out(const struct vcpu *v, unsigned port, u8 val)
{
    struct domain *d = v->domain;

    if (port == 0x70)
        WRITE_ONCE(d->arch.cmos_idx, val);
    else if (port == 0x71 && d->is_privileged)
        (void)cmos_access(READ_ONCE(d->arch.cmos_idx), true, val);
    else if (port_real(v, port, 1))
        outb((u16)port, val);
}

/* A port the domain may not touch reads as all ones, like an empty bus. */
u32 pv_port_in(const struct vcpu *v, unsigned port, unsigned bytes)
{
    u32 cfg = 0;

    if (pv_pci_cfg_in(v, port, bytes, &cfg))
        return cfg;
    if (touches_rtc(port, bytes)) {
        for (unsigned i = 0; i < bytes; i++)
            cfg |= (u32)byte_in(v, port + i) << (8 * i);
        return cfg;
    }
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
    if (touches_rtc(port, bytes)) {
        for (unsigned i = 0; i < bytes; i++)
            byte_out(v, port + i, (u8)(val >> (8 * i)));
        return;
    }
    if (!port_real(v, port, bytes))
        return;
    switch (bytes) {
    case 1: outb((u16)port, (u8)val); break;
    case 2: outw((u16)port, (u16)val); break;
    default: outl((u16)port, val); break;
    }
}
