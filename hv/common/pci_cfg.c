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

/* ------------------------------------------------ MSI capabilities */

#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_TYPE 0x0e
#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define MSI_FLAGS_64BIT 0x80
#define MSI_FLAGS_MASKBIT 0x100
#define MAX_CAPS 48 /* 192 bytes of capability space hold no more */

static u16 cfg16(const u8 *cfg, unsigned int reg)
{
    return (u16)(cfg[reg] | cfg[reg + 1] << 8);
}

static u32 cfg32(const u8 *cfg, unsigned int reg)
{
    return cfg16(cfg, reg) | (u32)cfg16(cfg, reg + 2) << 16;
}

/* A 32-bit register at reg; reg is at most 0xfc, so it fits. */
static void note_msix(const u8 *cfg, unsigned int pos, struct pci_msi_caps *c)
{
    u32 table = cfg32(cfg, pos + 4), pba = cfg32(cfg, pos + 8);

    c->msix = (u8)pos;
    c->msix_entries = (u16)((cfg16(cfg, pos + 2) & 0x7ff) + 1);
    c->msix_table_bir = table & 7;
    c->msix_table_off = table & ~7U;
    c->msix_pba_bir = pba & 7;
    c->msix_pba_off = pba & ~7U;
}

void pci_find_msi_caps(const u8 cfg[256], struct pci_msi_caps *c)
{
    unsigned int pos;

    memset(c, 0, sizeof(*c));
    c->header_type = cfg[PCI_HEADER_TYPE] & 0x7f;
    if (!(cfg16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST) || c->header_type > 1)
        return;
    pos = cfg[PCI_CAP_PTR];
    /* The list may loop or point anywhere: bounded walk inside 0x40-0xff. */
    for (int n = 0; n < MAX_CAPS && pos >= 0x40; n++, pos = cfg[pos + 1]) {
        pos &= 0xfc;
        if (pos > 0xf4)
            break; /* no room for even the smallest capability */
        if (cfg[pos] == PCI_CAP_ID_MSI && !c->msi) {
            u16 flags = cfg16(cfg, pos + 2);
            c->msi = (u8)pos;
            c->msi_64 = flags & MSI_FLAGS_64BIT;
            c->msi_maskbit = flags & MSI_FLAGS_MASKBIT;
        } else if (cfg[pos] == PCI_CAP_ID_MSIX && !c->msix) {
            note_msix(cfg, pos, c);
        }
    }
}

unsigned int pci_msi_cap_len(const struct pci_msi_caps *c)
{
    if (!c->msi)
        return 0;
    /* id/next, flags, address (+ high half), data, (+ mask, pending) */
    return 10 + (c->msi_64 ? 4 : 0) + (c->msi_maskbit ? 10 : 0);
}

/* Which BAR registers (bit per dword 0x10..0x24) hold the MSI-X table and
 * PBA; a 64-bit memory BAR takes the next register too. */
u32 pci_msix_bar_regs(const struct pci_msi_caps *c, const u8 cfg[256])
{
    unsigned int nbars = c->header_type == 0 ? 6 : 2;
    u32 mask = 0;

    if (!c->msix)
        return 0;
    for (unsigned int i = 0; i < 2; i++) {
        unsigned int bir = i ? c->msix_pba_bir : c->msix_table_bir;
        if (bir >= nbars)
            continue;
        mask |= 1U << bir;
        if ((cfg32(cfg, 0x10 + 4 * bir) & 7) == 4 && bir + 1 < nbars)
            mask |= 1U << (bir + 1);
    }
    return mask;
}

/*
 * One byte of a write: the byte that reaches the device, given what dom0
 * wrote (w) and what is there now (cur).  A byte dom0 may not change keeps
 * cur; *refused says dom0 asked for something else.
 */
static u8 filter_byte(const struct pci_msi_caps *c, const struct pci_msi_policy *p,
                      unsigned int reg, u8 w, u8 cur, bool *refused)
{
    u8 out = cur;

    if (c->msi && reg >= c->msi && reg < c->msi + pci_msi_cap_len(c)) {
        unsigned int off = reg - c->msi;
        /* Of the control word only "enable" is dom0's, and only once Keel
         * has programmed the message; the vector count stays Keel's. */
        if (off == 2) {
            out = (u8)((cur & ~1U) | (w & 1U & (p->msi_ready ? 1U : 0U)));
            *refused |= (w & 1U) && !p->msi_ready;
            return out;
        }
        if (off < 2 || off == 3)
            return cur; /* read-only or reserved */
    } else if (c->msix && reg >= c->msix && reg < c->msix + 12U) {
        unsigned int off = reg - c->msix;
        /* Enable and function mask are dom0's, but the mask stays on
         * until Keel has programmed an entry. */
        if (off == 3) {
            out = (u8)((cur & 0x3f) | (w & 0xc0));
            if (!p->msix_ready && !(w & 0x40) && (w & 0x80)) {
                out |= 0x40;
                *refused = true;
            }
            return out;
        }
        return cur; /* table size, offsets: read-only */
    } else if (reg >= 0x10 && reg < 0x28 && (p->locked_bars >> ((reg - 0x10) / 4) & 1)) {
        /* A BAR under an MSI-X table Keel is using must not move. */
    } else {
        return w;
    }
    *refused |= w != cur;
    return out;
}

bool pci_cfg_write_touches(const struct pci_msi_caps *c, const struct pci_msi_policy *p,
                           unsigned int reg, unsigned int size)
{
    for (unsigned int b = reg; b < reg + size; b++) {
        bool refused = false;
        /* A byte is someone's business if some value of it is not passed
         * through as written. */
        if (filter_byte(c, p, b, 0x00, 0xff, &refused) != 0x00 ||
            filter_byte(c, p, b, 0xff, 0x00, &refused) != 0xff)
            return true;
    }
    return false;
}

u32 pci_cfg_filter_write(const struct pci_msi_caps *c, const struct pci_msi_policy *p,
                         unsigned int reg, unsigned int size, u32 val, u32 cur, bool *refused)
{
    u32 out = 0;

    *refused = false;
    for (unsigned int i = 0; i < size && i < 4; i++) {
        u8 b = filter_byte(c, p, reg + i, (u8)(val >> (8 * i)), (u8)(cur >> (8 * i)), refused);
        out |= (u32)b << (8 * i);
    }
    return out;
}
