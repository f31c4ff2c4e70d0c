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
