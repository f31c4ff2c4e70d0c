/*
 * The hardware domain's PCI configuration accesses, done by Keel: its
 * latch stands in for 0xcf8, and each data access writes the real 0xcf8
 * and touches the data port under one lock, so vCPUs on different CPUs
 * never interleave their address and data cycles.  Keel's own cycles (MSI
 * set-up) take the same lock.  dom0's writes pass through msi.c's filter:
 * MSI and MSI-X messages are Keel's.
 */
#include <asm/io.h>
#include <asm/pci.h>
#include <keel/domain.h>
#include <keel/spinlock.h>

static spinlock_t cfg_lock = SPINLOCK_INIT;
static u32 hwdom_latch; /* only the privileged domain gets here */

unsigned long pci_lock(void)
{
    return spin_lock_irqsave(&cfg_lock);
}

void pci_unlock(unsigned long flags)
{
    spin_unlock_irqrestore(&cfg_lock, flags);
}

static u32 port_in(u16 port, unsigned int size)
{
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(u16 port, unsigned int size, u32 val)
{
    if (size == 1)
        outb(port, (u8)val);
    else if (size == 2)
        outw(port, (u16)val);
    else
        outl(port, val);
}

u32 pci_conf_read(u32 sbdf, unsigned int reg, unsigned int size)
{
    if (sbdf >> 16)
        return 0xffffffffU; /* no other segment is reachable this way */
    outl(PCI_CF8, PCI_CF8_ENABLE | (sbdf & 0xffff) << 8 | (reg & 0xfc));
    return port_in((u16)(PCI_CFC + (reg & 3)), size);
}

void pci_conf_write(u32 sbdf, unsigned int reg, unsigned int size, u32 val)
{
    if (sbdf >> 16)
        return;
    outl(PCI_CF8, PCI_CF8_ENABLE | (sbdf & 0xffff) << 8 | (reg & 0xfc));
    port_out((u16)(PCI_CFC + (reg & 3)), size, val);
}

static u32 all_ones(unsigned bytes)
{
    return bytes == 4 ? 0xffffffffU : (1U << (bytes * 8)) - 1;
}

bool pv_pci_cfg_in(const struct vcpu *v, unsigned port, unsigned bytes, u32 *val)
{
    enum pci_cfg_kind kind = pci_cfg_classify(port, bytes);
    unsigned long f;
    u32 cf8;

    if (kind == PCI_CFG_NONE || !v->domain->is_privileged)
        return false;
    f = pci_lock();
    if (kind == PCI_CFG_LATCH) {
        *val = hwdom_latch;
    } else if (kind == PCI_CFG_DATA && pci_cfg_address(hwdom_latch, &cf8)) {
        outl(PCI_CF8, cf8);
        *val = port_in((u16)port, bytes);
    } else {
        *val = all_ones(bytes);
    }
    pci_unlock(f);
    return true;
}

bool pv_pci_cfg_out(const struct vcpu *v, unsigned port, unsigned bytes, u32 val)
{
    enum pci_cfg_kind kind = pci_cfg_classify(port, bytes);
    unsigned long f;
    u32 cf8;

    if (kind == PCI_CFG_NONE || !v->domain->is_privileged)
        return false;
    f = pci_lock();
    if (kind == PCI_CFG_LATCH) {
        hwdom_latch = val;
    } else if (kind == PCI_CFG_DATA && pci_cfg_address(hwdom_latch, &cf8)) {
        u32 sbdf = (cf8 >> 8) & 0xffff;
        val = msi_filter_dom0_write(sbdf, (cf8 & 0xfc) | (port & 3), bytes, val);
        outl(PCI_CF8, cf8);
        port_out((u16)port, bytes, val);
        msi_dom0_wrote(sbdf, (cf8 & 0xfc) | (port & 3), bytes);
    }
    pci_unlock(f);
    return true;
}
