/* PIRQ core: Xen's answers for map/bind/eoi/unmap, and the ack rules. */
#include <keel/pirq.h>
#include <xen/physdev.h>

#include "harness.h"

#define NR_GSI 24

/* The fake hardware: what each IRQ's pin or MSI was last told. */
static struct {
    bool masked[NR_IRQS];
    u8 vector[NR_IRQS];
    u16 cpu[NR_IRQS];
    bool level[NR_IRQS];
    int routes, msi_setups, teardowns;
    int msi_setup_rc;
} hw;

static void fake_route(struct irq_table *t, unsigned int gsi)
{
    hw.masked[gsi] = t->desc[gsi].masked;
    hw.vector[gsi] = t->desc[gsi].vector;
    hw.cpu[gsi] = t->desc[gsi].cpu;
    hw.level[gsi] = t->desc[gsi].level;
    hw.routes++;
}

static void fake_mask(struct irq_table *t, unsigned int irq)
{
    hw.masked[irq] = t->desc[irq].masked;
}

static int fake_msi_setup(struct irq_table *t, unsigned int irq)
{
    if (hw.msi_setup_rc)
        return hw.msi_setup_rc;
    t->desc[irq].msi.maskable = true;
    hw.vector[irq] = t->desc[irq].vector;
    hw.masked[irq] = true;
    hw.msi_setups++;
    return 0;
}

static void fake_retarget(struct irq_table *t, unsigned int irq)
{
    hw.cpu[irq] = t->desc[irq].cpu;
}

static void fake_teardown(struct irq_table *t, unsigned int irq)
{
    (void)t;
    hw.masked[irq] = true;
    hw.teardowns++;
}

static const struct irq_hw fake_hw = {fake_route, fake_mask, fake_msi_setup, fake_retarget,
                                      fake_teardown};
static struct irq_table tab;
static struct pirq_domain pd;
static xen_ulong_t eoi_map[4096 / sizeof(xen_ulong_t)];

static void setup(void)
{
    memset(&hw, 0, sizeof(hw));
    memset(eoi_map, 0, sizeof(eoi_map));
    for (int i = 0; i < NR_IRQS; i++)
        hw.masked[i] = true;
    irq_table_init(&tab, NR_GSI, &fake_hw, NULL);
    pirq_domain_init(&pd, NR_PIRQS);
    pd.eoi_map = eoi_map;
    irq_gsi_default(&tab, 9, true, false); /* an ACPI override, as QEMU's SCI */
    irq_gsi_reserve(&tab, 2);              /* the PIT pin */
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

static bool eoi_bit(unsigned int pirq)
{
    return eoi_map[pirq / 64] >> (pirq % 64) & 1;
}

TEST(gsi_map_as_linux_does)
{
    int pirq;

    setup();
    for (int gsi = 1; gsi < 16; gsi++) {
        pirq = gsi;
        CHECK_EQ(pirq_map_gsi(&tab, &pd, gsi, &pirq), 0);
        CHECK_EQ(pirq, gsi);
    }
    pirq = 0;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 0, &pirq), -XEN_EPERM); /* IRQ 0 is never dom0's */
    pirq = -1;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, NR_GSI, &pirq), -XEN_EINVAL);
    CHECK_EQ(pirq_map_gsi(&tab, &pd, -5, &pirq), -XEN_EINVAL);
    /* Mapping again gives the same PIRQ; another one for it is refused. */
    pirq = -1;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 5, &pirq), 0);
    CHECK_EQ(pirq, 5);
    pirq = 40;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 5, &pirq), -XEN_EEXIST);
    /* A free GSI PIRQ comes from 16 up. */
    pirq = -1;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 20, &pirq), 0);
    CHECK_EQ(pirq, 16);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(pirq_beyond_the_table_is_einval)
{
    int pirq = NR_PIRQS;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 10, &pirq), -XEN_EINVAL);
    CHECK_EQ(pirq_bind_check(&tab, &pd, NR_PIRQS, false), -XEN_EINVAL);
    CHECK_EQ(pirq_eoi(&tab, &pd, NR_PIRQS), -XEN_EINVAL);
    CHECK_EQ(pirq_unmap(&tab, &pd, NR_PIRQS), -XEN_EINVAL);
    CHECK_EQ(pirq_unmap(&tab, &pd, -1), -XEN_EINVAL);
    u32 flags;
    CHECK_EQ(pirq_status(&pd, NR_PIRQS, &flags), -XEN_EINVAL);
    CHECK_EQ(pirq_status(&pd, 3, &flags), 0);
    CHECK_EQ(flags, XENIRQSTAT_needs_eoi);
}

TEST(setup_gsi_once_and_not_on_keel_pins)
{
    setup();
    CHECK_EQ(pirq_setup_gsi(&tab, 10, true, false), 0);
    CHECK(hw.level[10]);
    CHECK(hw.masked[10]); /* set up, but masked until bound */
    CHECK_EQ(pirq_setup_gsi(&tab, 10, true, false), -XEN_EEXIST);
    CHECK_EQ(pirq_setup_gsi(&tab, 2, false, false), -XEN_EEXIST);
    CHECK_EQ(pirq_setup_gsi(&tab, NR_GSI, false, false), -XEN_EINVAL);
    CHECK_EQ(pirq_setup_gsi(&tab, -1, false, false), -XEN_EINVAL);
}

TEST(bind_needs_a_mapping_and_a_free_pin)
{
    int pirq = 2;

    setup();
    CHECK_EQ(pirq_bind_check(&tab, &pd, 7, false), -XEN_EPERM);
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 2, &pirq), 0); /* mappable, as on Xen ... */
    CHECK_EQ(pirq_bind_check(&tab, &pd, 2, true), -XEN_EBUSY); /* ... never bound */
    pirq = 7;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 7, &pirq), 0);
    CHECK_EQ(pirq_bind_check(&tab, &pd, 7, false), 0);
    pirq_bind(&tab, &pd, 7, 33, 1);
    CHECK(!hw.masked[7]);
    CHECK_EQ(hw.cpu[7], 1);
    CHECK_EQ(pirq_bind_check(&tab, &pd, 7, false), -XEN_EEXIST);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(level_masked_until_eoi)
{
    int pirq = 9;
    u32 got = 0;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 9, &pirq), 0);
    CHECK_EQ(pirq_setup_gsi(&tab, 9, true, false), 0);
    pirq_bind(&tab, &pd, 9, 12, 0);
    CHECK(eoi_bit(9));
    CHECK(!hw.masked[9]);
    CHECK_EQ(irq_arrival(&tab, &pd, hw.vector[9], &got), 12);
    CHECK_EQ(got, 9);
    CHECK(hw.masked[9]);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
    /* A second arrival (a race) still reaches the guest. */
    CHECK_EQ(irq_arrival(&tab, &pd, hw.vector[9], &got), 12);
    CHECK_EQ(pirq_eoi(&tab, &pd, 9), 0);
    CHECK(!hw.masked[9]);
    CHECK_EQ(pirq_eoi(&tab, &pd, 9), 0); /* a spare EOI changes nothing */
    CHECK(!hw.masked[9]);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(edge_never_masked_while_bound)
{
    int pirq = 8;
    u32 got;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 8, &pirq), 0);
    pirq_bind(&tab, &pd, 8, 5, 0);
    CHECK(!eoi_bit(8));
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(irq_arrival(&tab, &pd, hw.vector[8], &got), 5);
        CHECK(!hw.masked[8]);
    }
    CHECK_EQ(tab.desc[8].count, 3);
}

TEST(unbind_masks_and_forgets_in_flight)
{
    int pirq = 11;
    u32 got;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 11, &pirq), 0);
    pirq_bind(&tab, &pd, 11, 4, 0);
    irq_arrival(&tab, &pd, hw.vector[11], &got);
    pirq_unbind(&tab, &pd, 11);
    CHECK(hw.masked[11]);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
    /* Stray interrupts after unbinding raise nothing. */
    CHECK_EQ(irq_arrival(&tab, &pd, hw.vector[11], &got), 0);
    CHECK_EQ(pirq_bind_check(&tab, &pd, 11, false), 0);
}

TEST(unmap_while_bound_keeps_the_port)
{
    int pirq = 10;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 10, &pirq), 0);
    pirq_bind(&tab, &pd, 10, 6, 0);
    CHECK_EQ(pirq_unmap(&tab, &pd, 10), 0);
    CHECK(hw.masked[10]);
    CHECK_EQ(pirq_unmap(&tab, &pd, 10), -XEN_EINVAL);
    /* The PIRQ is not free until the port closes (Xen's forced unbind). */
    CHECK_EQ(pirq_get_free(&pd, NR_GSI, MAP_PIRQ_TYPE_GSI), 16);
    CHECK_EQ(pirq_eoi(&tab, &pd, 10), 0);
    pirq_unbind(&tab, &pd, 10);
    CHECK_EQ(pirq_eoi(&tab, &pd, 10), -XEN_EINVAL);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(msi_map_bind_unmap)
{
    struct msi_source src = {.sbdf = 0x0018, .msix = true, .entry = 2};
    int pirq = -1;
    u32 got;

    setup();
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &pirq, NULL), 0);
    CHECK_EQ(pirq, NR_PIRQS - 1); /* from the top, as Xen */
    unsigned int irq = pd.pirq[pirq].irq;
    CHECK(irq >= NR_GSI);
    CHECK(hw.masked[irq]);
    CHECK_EQ(hw.msi_setups, 1);
    /* The same entry twice, or MSI beside MSI-X: refused. */
    int p2 = -1;
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &p2, NULL), -XEN_EEXIST);
    struct msi_source plain = {.sbdf = 0x0018};
    CHECK_EQ(pirq_map_msi(&tab, &pd, &plain, -1, &p2, NULL), -XEN_EBUSY);
    pirq_bind(&tab, &pd, (u32)pirq, 40, 1);
    CHECK(!hw.masked[irq]);
    CHECK_EQ(hw.cpu[irq], 1);
    CHECK(!eoi_bit((unsigned)pirq));
    CHECK_EQ(irq_arrival(&tab, &pd, hw.vector[irq], &got), 40);
    CHECK(!hw.masked[irq]);
    pirq_set_cpu(&tab, &pd, (u32)pirq, 0);
    CHECK_EQ(hw.cpu[irq], 0);
    CHECK_EQ(pirq_unmap(&tab, &pd, pirq), 0);
    CHECK_EQ(hw.teardowns, 1);
    CHECK_EQ(tab.desc[irq].kind, IRQ_UNUSED);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(msi_errors_as_xen)
{
    struct msi_source src = {.sbdf = 0x0020};
    int pirq = -1, nr = 4;

    setup();
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &pirq, &nr), -XEN_EOPNOTSUPP);
    nr = 0;
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &pirq, &nr), -XEN_EDOM);
    nr = 33;
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &pirq, &nr), -XEN_EDOM);
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, 3, &pirq, NULL), -XEN_EINVAL); /* a GSI's IRQ */
    hw.msi_setup_rc = -XEN_ENODEV;
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &pirq, NULL), -XEN_ENODEV);
    CHECK_EQ(pirq, -1);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
    /* Nothing leaked: every MSI slot is still free. */
    for (unsigned int i = NR_GSI; i < NR_IRQS; i++)
        CHECK_EQ(tab.desc[i].kind, IRQ_UNUSED);
    hw.msi_setup_rc = 0;
    nr = 1;
    CHECK_EQ(pirq_map_msi(&tab, &pd, &src, -1, &pirq, &nr), 0);
}

TEST(vectors_run_out_cleanly)
{
    int n = 0;

    setup();
    for (unsigned int i = 0; i < 300; i++) {
        struct msi_source src = {.sbdf = i, .msix = false};
        int pirq = -1;
        if (pirq_map_msi(&tab, &pd, &src, -1, &pirq, NULL) == 0)
            n++;
    }
    CHECK_EQ(n, IRQ_VECTOR_LAST - IRQ_VECTOR_FIRST + 1 - NR_GSI);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(ioapic_write_as_xen_reads_it)
{
    bool refused;

    setup();
    /* Delivery modes beyond lowest-priority. */
    CHECK_EQ(pirq_ioapic_write(&tab, &pd, 5, 0x00000700, &refused), -XEN_EINVAL);
    /* Keel's pin: ignored, success. */
    CHECK_EQ(pirq_ioapic_write(&tab, &pd, 2, 0x0000a0f0, &refused), 0);
    CHECK(refused);
    CHECK(hw.masked[2]);
    /* A free pin: the vector field names a PIRQ, Keel's vector is used. */
    CHECK_EQ(pirq_ioapic_write(&tab, &pd, 20, 0x0000a0f0, &refused), 0);
    CHECK(!refused);
    CHECK_EQ(pd.pirq[0xf0].state, PIRQ_MAPPED);
    CHECK_EQ(pd.pirq[0xf0].irq, 20);
    CHECK(hw.vector[20] != 0xf0);
    CHECK(hw.masked[20]);
    CHECK(hw.level[20]);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(get_free_pirq_order)
{
    setup();
    CHECK_EQ(pirq_get_free(&pd, NR_GSI, MAP_PIRQ_TYPE_GSI), 16);
    CHECK_EQ(pirq_get_free(&pd, NR_GSI, MAP_PIRQ_TYPE_MSI), NR_PIRQS - 1);
}

TEST(unmapped_but_bound_pirq_waits_for_its_port)
{
    int pirq = 10;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 10, &pirq), 0);
    pirq_bind(&tab, &pd, 10, 6, 0);
    CHECK_EQ(pirq_unmap(&tab, &pd, 10), 0);
    /* Xen would map it again and trip over the stale port later. */
    pirq = 10;
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 12, &pirq), -XEN_EBUSY);
    pirq_unbind(&tab, &pd, 10);
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 12, &pirq), 0);
    CHECK_EQ(irq_table_check(&tab, &pd), 0);
}

TEST(retargeting_a_pin_rewrites_it)
{
    int pirq = 5;

    setup();
    CHECK_EQ(pirq_map_gsi(&tab, &pd, 5, &pirq), 0);
    pirq_bind(&tab, &pd, 5, 9, 0);
    int routes = hw.routes;
    pirq_set_cpu(&tab, &pd, 5, 1);
    CHECK_EQ(hw.cpu[5], 1);
    CHECK_EQ(hw.routes, routes + 1);
    CHECK(!hw.masked[5]); /* moving does not mask */
    pirq_set_cpu(&tab, &pd, 5, 1); /* no change: no write */
    CHECK_EQ(hw.routes, routes + 1);
}
