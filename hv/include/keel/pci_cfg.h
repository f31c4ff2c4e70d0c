/*
 * Dom0's PCI configuration space, mechanism #1, mediated as Xen does: the
 * address register 0xcf8 is a latch Keel keeps for the domain (never the
 * hardware's, which other CPUs share), and an access to the data ports
 * 0xcfc-0xcff becomes one configuration access at the latched address,
 * made by Keel under a lock.  The decisions live here (no hardware).
 */
#ifndef KEEL_PCI_CFG_H
#define KEEL_PCI_CFG_H
#include <keel/types.h>

#define PCI_CF8 0xcf8
#define PCI_CFC 0xcfc
#define PCI_CF8_ENABLE 0x80000000U

enum pci_cfg_kind {
    PCI_CFG_NONE,  /* not a configuration port: the ordinary port policy */
    PCI_CFG_LATCH, /* a dword access to 0xcf8: read or set the latch */
    PCI_CFG_DATA,  /* 0xcfc-0xcff: a configuration access */
    PCI_CFG_VOID,  /* a configuration port used in a way that reaches nothing */
};

/* What an access of `bytes` at `port` is. */
enum pci_cfg_kind pci_cfg_classify(unsigned port, unsigned bytes);

/*
 * For a data access: the value to put in 0xcf8 for it, or false when the
 * latch does not enable configuration cycles (then the access reaches no
 * device: reads all-ones, writes vanish, as on hardware).
 */
bool pci_cfg_address(u32 latch, u32 *cf8);

struct vcpu;
/* The port cycles (hv/arch/x86/pv/pci_cfg_io.c): true when the access was
 * a configuration port of the hardware domain and has been done. */
bool pv_pci_cfg_in(const struct vcpu *v, unsigned port, unsigned bytes, u32 *val);
bool pv_pci_cfg_out(const struct vcpu *v, unsigned port, unsigned bytes, u32 val);
#endif
