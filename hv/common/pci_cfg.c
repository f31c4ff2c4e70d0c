/* Dom0's PCI configuration mechanism #1: which accesses are which. */
#include <keel/pci_cfg.h>

enum pci_cfg_kind pci_cfg_classify(unsigned port, unsigned bytes)
{
    if (port + bytes <= PCI_CF8 || port >= PCI_CFC + 4)
        return PCI_CFG_NONE;
    if (port == PCI_CF8 && bytes == 4)
        return PCI_CFG_LATCH;
    /* Data accesses stay inside the dword (the CPU splits nothing here). */
    if (port >= PCI_CFC && (port & 3) + bytes <= 4)
        return PCI_CFG_DATA;
    /* Byte/word accesses to 0xcf8-0xcfb, or ones straddling the ports:
     * on a PCI host bridge they are ordinary I/O that nothing claims. */
    return PCI_CFG_VOID;
}

bool pci_cfg_address(u32 latch, u32 *cf8)
{
    if (!(latch & PCI_CF8_ENABLE))
        return false;
    /* Bits 30:24 are reserved and the low two bits of the register
     * number come from the data port, so neither is passed on. */
    *cf8 = latch & 0x80fffffcU;
    return true;
}
