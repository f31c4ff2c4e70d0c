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

/*
 * MSI and MSI-X belong to Keel: it writes the message address and data
 * (dom0's map_pirq asks for them), so dom0's configuration writes to those
 * registers are filtered, as are moves of a BAR that holds an MSI-X table
 * Keel is using.  The rules work on a copy of the function's first 256
 * bytes of configuration space (pci_find_msi_caps) and the state Keel
 * keeps for it; the arch code does the cycles.
 */
struct pci_msi_caps {
    u8 header_type;     /* 0: device, 1: bridge */
    u8 msi;             /* offset of the MSI capability, 0: none */
    bool msi_64;        /* 64-bit message address */
    bool msi_maskbit;   /* per-vector mask and pending registers */
    u8 msix;            /* offset of the MSI-X capability, 0: none */
    u16 msix_entries;
    u8 msix_table_bir, msix_pba_bir;
    u32 msix_table_off, msix_pba_off;
};

/* What Keel has set up for a function. */
struct pci_msi_policy {
    bool msi_ready;  /* MSI message programmed: dom0 may enable it */
    bool msix_ready; /* an MSI-X entry programmed: dom0 may unmask all */
    u32 locked_bars; /* BAR registers (bit n: 0x10 + 4n) that must not move */
};

/* Walks the capability list of cfg (which may be garbage: the walk is
 * bounded and stays inside it). */
void pci_find_msi_caps(const u8 cfg[256], struct pci_msi_caps *c);
/* Length in bytes of the MSI capability (0: none). */
unsigned int pci_msi_cap_len(const struct pci_msi_caps *c);
/* BAR registers holding the MSI-X table and PBA, as a locked_bars mask. */
u32 pci_msix_bar_regs(const struct pci_msi_caps *c, const u8 cfg[256]);
/* Whether a dom0 write of `size` bytes at `reg` needs filtering (then the
 * caller reads the same bytes first and calls pci_cfg_filter_write). */
bool pci_cfg_write_touches(const struct pci_msi_caps *c, const struct pci_msi_policy *p,
                           unsigned int reg, unsigned int size);
/* The value to write instead of val, given cur (the bytes there now):
 * bytes dom0 may not change keep cur.  *refused: dom0 asked for a change
 * that was not made (Keel logs it). */
u32 pci_cfg_filter_write(const struct pci_msi_caps *c, const struct pci_msi_policy *p,
                         unsigned int reg, unsigned int size, u32 val, u32 cur, bool *refused);

struct vcpu;
/* The port cycles (hv/arch/x86/pv/pci_cfg_io.c): true when the access was
 * a configuration port of the hardware domain and has been done. */
bool pv_pci_cfg_in(const struct vcpu *v, unsigned port, unsigned bytes, u32 *val);
bool pv_pci_cfg_out(const struct vcpu *v, unsigned port, unsigned bytes, u32 val);
#endif
