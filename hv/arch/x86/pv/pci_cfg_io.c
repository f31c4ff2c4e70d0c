/*
 * The hardware domain's PCI configuration accesses, done by Keel: its
 * latch stands in for 0xcf8, and each data access writes the real 0xcf8
 * and touches the data port under one lock, so vCPUs on different CPUs
 * never interleave their address and data cycles.  Keel itself uses no
 * PCI configuration space, so the lock is the only other party.
 */
#include <asm/io.h>
#include <keel/domain.h>
#include <keel/pci_cfg.h>
#include <keel/spinlock.h>

static spinlock_t cfg_lock = SPINLOCK_INIT;
static u32 hwdom_latch; /* only the privileged domain gets here */

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
    f = spin_lock_irqsave(&cfg_lock);
    if (kind == PCI_CFG_LATCH) {
        *val = hwdom_latch;
    } else if (kind == PCI_CFG_DATA && pci_cfg_address(hwdom_latch, &cf8)) {
        outl(PCI_CF8, cf8);
        *val = bytes == 1 ? inb((u16)port) : bytes == 2 ? inw((u16)port) : inl((u16)port);
    } else {
        *val = all_ones(bytes);
    }
    spin_unlock_irqrestore(&cfg_lock, f);
    return true;
}

bool pv_pci_cfg_out(const struct vcpu *v, unsigned port, unsigned bytes, u32 val)
{
    enum pci_cfg_kind kind = pci_cfg_classify(port, bytes);
    unsigned long f;
    u32 cf8;

    if (kind == PCI_CFG_NONE || !v->domain->is_privileged)
        return false;
    f = spin_lock_irqsave(&cfg_lock);
    if (kind == PCI_CFG_LATCH) {
        hwdom_latch = val;
    } else if (kind == PCI_CFG_DATA && pci_cfg_address(hwdom_latch, &cf8)) {
        outl(PCI_CF8, cf8);
        if (bytes == 1)
            outb((u16)port, (u8)val);
        else if (bytes == 2)
            outw((u16)port, (u16)val);
        else
            outl((u16)port, val);
    }
    spin_unlock_irqrestore(&cfg_lock, f);
    return true;
}
