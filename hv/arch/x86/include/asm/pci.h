/*
 * PCI configuration space, mechanism #1, for Keel's own use (MSI set-up)
 * and for dom0's mediated accesses (pv/pci_cfg_io.c).  One lock covers
 * every configuration cycle and Keel's per-function MSI state (msi.c).
 * Segment 0 only.
 */
#ifndef ASM_PCI_H
#define ASM_PCI_H
#include <keel/pci_cfg.h>

#define PCI_SBDF(bus, devfn) ((u32)(bus) << 8 | (devfn))

unsigned long pci_lock(void);
void pci_unlock(unsigned long flags);
/* With the lock held; reg stays inside its dword, size 1, 2 or 4. */
u32 pci_conf_read(u32 sbdf, unsigned int reg, unsigned int size);
void pci_conf_write(u32 sbdf, unsigned int reg, unsigned int size, u32 val);

/* msi.c: dom0 writes `size` bytes at `reg` of function sbdf: the value to
 * write instead (what Keel keeps of MSI, MSI-X and BARs under tables it
 * uses).  Called with the lock held. */
u32 msi_filter_dom0_write(u32 sbdf, unsigned int reg, unsigned int size, u32 val);
/* ... and after the write: a BAR may have moved an MSI-X table. */
void msi_dom0_wrote(u32 sbdf, unsigned int reg, unsigned int size);
#endif
