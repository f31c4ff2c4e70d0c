/* Dom0's PCI configuration mechanism #1: classification and addresses. */
#include <keel/pci_cfg.h>

#include "harness.h"

TEST(ordinary_ports_are_not_config)
{
    CHECK(pci_cfg_classify(0xcf4, 4) == PCI_CFG_NONE);
    CHECK(pci_cfg_classify(0xcf7, 1) == PCI_CFG_NONE);
    CHECK(pci_cfg_classify(0xd00, 4) == PCI_CFG_NONE);
    CHECK(pci_cfg_classify(0x70, 1) == PCI_CFG_NONE);
}

TEST(only_a_dword_at_cf8_is_the_latch)
{
    CHECK(pci_cfg_classify(0xcf8, 4) == PCI_CFG_LATCH);
    CHECK(pci_cfg_classify(0xcf8, 1) == PCI_CFG_VOID);
    CHECK(pci_cfg_classify(0xcf8, 2) == PCI_CFG_VOID);
    CHECK(pci_cfg_classify(0xcfb, 1) == PCI_CFG_VOID);
    CHECK(pci_cfg_classify(0xcf6, 4) == PCI_CFG_VOID); /* straddles into 0xcf8 */
}

TEST(data_ports_take_every_size_inside_the_dword)
{
    CHECK(pci_cfg_classify(0xcfc, 4) == PCI_CFG_DATA);
    CHECK(pci_cfg_classify(0xcfc, 2) == PCI_CFG_DATA);
    CHECK(pci_cfg_classify(0xcfe, 2) == PCI_CFG_DATA);
    CHECK(pci_cfg_classify(0xcff, 1) == PCI_CFG_DATA);
    CHECK(pci_cfg_classify(0xcfd, 4) == PCI_CFG_VOID); /* would run past 0xcff */
    CHECK(pci_cfg_classify(0xcfe, 4) == PCI_CFG_VOID);
    CHECK(pci_cfg_classify(0xcfa, 4) == PCI_CFG_VOID); /* 0xcfa-0xcfd */
}

TEST(latch_without_enable_reaches_nothing)
{
    u32 cf8 = 0x1234;
    CHECK(!pci_cfg_address(0x00000808, &cf8));
    CHECK(cf8 == 0x1234);
}

TEST(latch_address_drops_reserved_and_low_bits)
{
    u32 cf8 = 0;
    CHECK(pci_cfg_address(0x80000808, &cf8));
    CHECK(cf8 == 0x80000808);
    CHECK(pci_cfg_address(0xff00fbff, &cf8));
    CHECK(cf8 == 0x8000fbfc);
}

/* ---- MSI capabilities and dom0's writes */

/* A function with an MSI capability (64-bit, masking) at 0x50 and MSI-X
 * (8 entries, table in BAR 1, a 64-bit BAR, PBA in BAR 4) at 0x70. */
static void make_cfg(u8 *cfg)
{
    memset(cfg, 0, 256);
    cfg[0x06] = 0x10;         /* capability list */
    cfg[0x14] = 0x04;         /* BAR 1: 64-bit memory */
    cfg[0x34] = 0x50;
    cfg[0x50] = 0x05;         /* MSI */
    cfg[0x51] = 0x70;
    cfg[0x52] = 0x80;         /* 64-bit */
    cfg[0x53] = 0x01;         /* per-vector masking */
    cfg[0x70] = 0x11;         /* MSI-X */
    cfg[0x71] = 0x00;
    cfg[0x72] = 0x07;         /* 8 entries */
    cfg[0x74] = 0x01;         /* table: BAR 1, offset 0x2000 */
    cfg[0x75] = 0x20;
    cfg[0x78] = 0x04;         /* PBA: BAR 4, offset 0x0 */
}

TEST(caps_found_with_their_layout)
{
    u8 cfg[256];
    struct pci_msi_caps c;

    make_cfg(cfg);
    pci_find_msi_caps(cfg, &c);
    CHECK_EQ(c.msi, 0x50);
    CHECK(c.msi_64 && c.msi_maskbit);
    CHECK_EQ(pci_msi_cap_len(&c), 24);
    CHECK_EQ(c.msix, 0x70);
    CHECK_EQ(c.msix_entries, 8);
    CHECK_EQ(c.msix_table_bir, 1);
    CHECK_EQ(c.msix_table_off, 0x2000);
    CHECK_EQ(c.msix_pba_bir, 4);
    /* BAR 1 is 64-bit, so register 2 goes with it. */
    CHECK_EQ(pci_msix_bar_regs(&c, cfg), (1 << 1) | (1 << 2) | (1 << 4));
}

TEST(cap_walk_survives_loops_and_garbage)
{
    u8 cfg[256];
    struct pci_msi_caps c;

    make_cfg(cfg);
    cfg[0x71] = 0x50; /* MSI-X points back to MSI: a loop */
    pci_find_msi_caps(cfg, &c);
    CHECK_EQ(c.msi, 0x50);
    CHECK_EQ(c.msix, 0x70);
    memset(cfg, 0xff, sizeof(cfg));
    pci_find_msi_caps(cfg, &c); /* header type 0x7f: no list to walk */
    CHECK_EQ(c.msi, 0);
    cfg[0x0e] = 0;
    cfg[0x34] = 0xff; /* beyond any room for a capability */
    pci_find_msi_caps(cfg, &c);
    CHECK_EQ(c.msi | c.msix, 0);
    make_cfg(cfg);
    cfg[0x06] = 0; /* no capability list */
    pci_find_msi_caps(cfg, &c);
    CHECK_EQ(c.msi | c.msix, 0);
}

TEST(msi_message_is_keels)
{
    u8 cfg[256];
    struct pci_msi_caps c;
    struct pci_msi_policy p = {0};
    bool refused;

    make_cfg(cfg);
    pci_find_msi_caps(cfg, &c);
    /* Address, data and mask registers keep what is there. */
    CHECK(pci_cfg_write_touches(&c, &p, 0x54, 4));
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x54, 4, 0xdeadbeef, 0xfee01000, &refused),
             0xfee01000);
    CHECK(refused);
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x5c, 2, 0x1234, 0x4041, &refused), 0x4041);
    CHECK(refused);
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x54, 4, 0xfee01000, 0xfee01000, &refused),
             0xfee01000);
    CHECK(!refused); /* writing back what is there is fine */
    /* Enable only once Keel programmed the message; never the vector count. */
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x52, 2, 0x0181, 0x0180, &refused), 0x0180);
    CHECK(refused);
    p.msi_ready = true;
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x52, 2, 0x01f1, 0x0180, &refused), 0x0181);
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x52, 2, 0x0180, 0x0181, &refused), 0x0180);
    /* A dword at the capability's start: id/next kept, control filtered. */
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x50, 4, 0x01f1ffff, 0x01807005, &refused),
             0x01817005);
    /* Other registers pass untouched. */
    CHECK(!pci_cfg_write_touches(&c, &p, 0x40, 4));
    CHECK(!pci_cfg_write_touches(&c, &p, 0x04, 2));
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x40, 4, 0x12345678, 0, &refused), 0x12345678);
}

TEST(msix_control_and_locked_bars)
{
    u8 cfg[256];
    struct pci_msi_caps c;
    struct pci_msi_policy p = {0};
    bool refused;

    make_cfg(cfg);
    pci_find_msi_caps(cfg, &c);
    /* Enable with the function masked: fine before set-up (Linux does it). */
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x72, 2, 0xc000, 0x0007, &refused), 0xc007);
    CHECK(!refused);
    /* Enable unmasked before any entry is Keel's: the mask stays on. */
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x72, 2, 0x8000, 0xc007, &refused), 0xc007);
    CHECK(refused);
    p.msix_ready = true;
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x72, 2, 0x8000, 0xc007, &refused), 0x8007);
    /* Table offset and BIR are read-only. */
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x74, 4, 0, 0x2001, &refused), 0x2001);
    /* BARs move freely until Keel locks them. */
    CHECK(!pci_cfg_write_touches(&c, &p, 0x14, 4));
    p.locked_bars = pci_msix_bar_regs(&c, cfg);
    CHECK(pci_cfg_write_touches(&c, &p, 0x14, 4));
    CHECK_EQ(pci_cfg_filter_write(&c, &p, 0x14, 4, 0xffffffff, 0xfe000004, &refused),
             0xfe000004);
    CHECK(refused);
    CHECK(pci_cfg_write_touches(&c, &p, 0x18, 4));
    CHECK(!pci_cfg_write_touches(&c, &p, 0x10, 4));
}
