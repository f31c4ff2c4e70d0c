/*
 * Physical interrupts of a dom0 (issue 14): physdev_op's PIRQ sub-ops with
 * good and bad arguments, EVTCHNOP_bind_pirq, and real interrupts from
 * QEMU's devices delivered as events:
 *  - the RTC's periodic interrupt, an edge GSI (IRQ 8);
 *  - QEMU's "edu" test device (the MANIFEST adds -device edu): its INTx
 *    line, a level GSI that must stay quiet after the device is
 *    acknowledged and the PIRQ EOI'd, then its MSI (map_pirq type MSI);
 *  - an MSI-X table (QEMU's virtio-rng): once an entry is mapped, dom0's
 *    writable mapping of the table is made read-only and a store into it
 *    is dropped, the entry keeping the hypervisor's message;
 *  - the IO-APIC as dom0 sees it: apic_read, and apic_write with garbage
 *    into a pin the hypervisor uses (ignored) and into a free pin (its
 *    vector field names a PIRQ; the hypervisor writes its own vector),
 *    after which the hypervisor's own timer must still tick.
 */
#include <rt.h>
#include <xen/physdev.h>

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define IOAPIC_BASE 0xfec00000UL
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define PTE_UC 0x7fUL /* present, RW, user, PWT, PCD, accessed, dirty */
#define MS 1000000ULL

static shared_info_t *s;
static char eoi_map[4096] __attribute__((aligned(4096)));
static char window[4096] __attribute__((aligned(4096)));
static char table_window[4096] __attribute__((aligned(4096)));

static long physdev(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_physdev_op, cmd, arg);
}

static long evtchn(int cmd, void *arg)
{
    return HYPERVISOR_event_channel_op(cmd, arg);
}

/* ---- ports and PCI configuration space (mechanism #1) */

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t cfg_read(unsigned devfn, unsigned reg)
{
    outl(0xcf8, 0x80000000U | devfn << 8 | (reg & 0xfc));
    return inl(0xcfc);
}

static void cfg_write(unsigned devfn, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000U | devfn << 8 | (reg & 0xfc));
    outl(0xcfc, v);
}

static uint8_t cmos(uint8_t reg)
{
    outb(RTC_INDEX, reg);
    return inb(RTC_DATA);
}

static void cmos_set(uint8_t reg, uint8_t v)
{
    outb(RTC_INDEX, reg);
    outb(RTC_DATA, v);
}

/* ---- PIRQ helpers */

static long map_gsi(int gsi, int pirq)
{
    struct physdev_map_pirq m = {.domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_GSI,
                                 .index = gsi, .pirq = pirq};
    long rc = physdev(PHYSDEVOP_map_pirq, &m);
    return rc ? rc : m.pirq;
}

static long unmap(int pirq)
{
    struct physdev_unmap_pirq u = {.domid = DOMID_SELF, .pirq = pirq};
    return physdev(PHYSDEVOP_unmap_pirq, &u);
}

static long setup_gsi(int gsi, int level, int low)
{
    struct physdev_setup_gsi g = {.gsi = gsi, .triggering = (uint8_t)level,
                                  .polarity = (uint8_t)low};
    return physdev(PHYSDEVOP_setup_gsi, &g);
}

static long bind(uint32_t pirq)
{
    struct evtchn_bind_pirq b = {.pirq = pirq, .flags = BIND_PIRQ__WILL_SHARE};
    long rc = evtchn(EVTCHNOP_bind_pirq, &b);
    return rc ? rc : (long)b.port;
}

static long eoi(uint32_t pirq)
{
    struct physdev_eoi e = {.irq = pirq};
    return physdev(PHYSDEVOP_eoi, &e);
}

static long ev_close(evtchn_port_t p)
{
    struct evtchn_close c = {.port = p};
    return evtchn(EVTCHNOP_close, &c);
}

static bool needs_eoi(unsigned pirq)
{
    return ((volatile uint64_t *)eoi_map)[pirq / 64] >> (pirq % 64) & 1;
}

static uint32_t apic_read(unsigned long base, uint32_t reg, long *rc)
{
    struct physdev_apic a = {.apic_physbase = base, .reg = reg};
    *rc = physdev(PHYSDEVOP_apic_read, &a);
    return a.value;
}

static long apic_write(uint32_t reg, uint32_t val)
{
    struct physdev_apic a = {.apic_physbase = IOAPIC_BASE, .reg = reg, .value = val};
    return physdev(PHYSDEVOP_apic_write, &a);
}

static void quiet(uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;
    while (rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

/* ---- the parts */

static void queries(void)
{
    struct physdev_irq_status_query q = {.irq = 8};
    struct physdev_irq i = {.irq = 9};
    struct physdev_get_free_pirq f = {.type = MAP_PIRQ_TYPE_GSI};
    struct physdev_map_pirq m = {.domid = DOMID_SELF, .type = 99, .index = 5, .pirq = 5};

    EXPECT_EQ(physdev(PHYSDEVOP_irq_status_query, &q), 0);
    EXPECT(q.flags & XENIRQSTAT_needs_eoi);
    q.irq = 100000;
    EXPECT_EQ(physdev(PHYSDEVOP_irq_status_query, &q), -XEN_EINVAL);
    EXPECT_EQ(physdev(PHYSDEVOP_alloc_irq_vector, &i), 0);
    EXPECT_EQ(i.vector, 9); /* a dummy since vectors became the hypervisor's */
    EXPECT_EQ(physdev(PHYSDEVOP_get_free_pirq, &f), 0);
    EXPECT_EQ(f.pirq, 16); /* the first above the legacy IRQs */
    EXPECT_EQ(map_gsi(0, 0), -XEN_EPERM); /* IRQ 0 is never dom0's */
    EXPECT_EQ(map_gsi(24, -1), -XEN_EINVAL); /* QEMU's IO-APIC has 24 pins */
    EXPECT_EQ(map_gsi(-3, -1), -XEN_EINVAL);
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, &m), -XEN_EINVAL);
    m.type = MAP_PIRQ_TYPE_GSI;
    m.domid = 0x7fef;
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, &m), -XEN_ESRCH);
    EXPECT_EQ(unmap(150), -XEN_EINVAL);
    EXPECT_EQ(eoi(150), -XEN_EINVAL);
    EXPECT_EQ(bind(200), -XEN_EPERM);
    EXPECT_EQ(bind(100000), -XEN_EINVAL);
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, (void *)8), -XEN_EFAULT);
}

static void eoi_bitmap(void)
{
    struct physdev_pirq_eoi_gmfn g = {.gmfn = ~0UL >> 12};

    EXPECT_EQ(physdev(PHYSDEVOP_pirq_eoi_gmfn_v2, &g), -XEN_EINVAL);
    g.gmfn = rt_virt_to_mfn(eoi_map);
    EXPECT_EQ(physdev(PHYSDEVOP_pirq_eoi_gmfn_v2, &g), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_pirq_eoi_gmfn_v2, &g), -XEN_EBUSY);
}

static volatile unsigned rtc_port;

static void rtc_hook(unsigned port)
{
    if (port == rtc_port)
        (void)cmos(0x0c); /* the RTC raises no new edge until C is read */
}

/* IRQ 8, edge: periodic interrupts at 32 Hz arrive as events. */
static long rtc_edge(void)
{
    evtchn_status_t st = {.dom = DOMID_SELF};
    long port, rc;

    EXPECT_EQ(map_gsi(8, 8), 8);
    rc = setup_gsi(8, 0, 0);
    EXPECT(rc == 0 || rc == -XEN_EEXIST);
    port = bind(8);
    CHECK(port > 0);
    EXPECT_EQ(bind(8), -XEN_EEXIST);
    EXPECT(!needs_eoi(8)); /* edge: nothing to acknowledge */
    st.port = (evtchn_port_t)port;
    EXPECT_EQ(evtchn(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_pirq);
    EXPECT_EQ(st.u.pirq, 8);
    rtc_port = (unsigned)port;
    rt_event_hook = rtc_hook;
    cmos_set(0x0a, (cmos(0x0a) & 0xf0) | 0x0b); /* 32 Hz */
    (void)cmos(0x0c);
    cmos_set(0x0b, cmos(0x0b) | 0x40); /* periodic interrupt enable */
    EXPECT(rt_wait_port((unsigned)port, 5, 2000 * MS));
    cmos_set(0x0b, cmos(0x0b) & ~0x40);
    (void)cmos(0x0c);
    printf("irq: RTC (GSI 8, edge) events: %u\n", rt_port_hits[port]);
    return port;
}

static unsigned pci_find(uint16_t vendor, uint16_t device)
{
    for (unsigned dev = 0; dev < 32; dev++) {
        uint32_t id = cfg_read(dev << 3, 0);
        if ((id & 0xffff) == vendor && id >> 16 == device)
            return dev << 3;
    }
    return 0;
}

static volatile uint32_t *edu_map(unsigned devfn)
{
    uint64_t bar = cfg_read(devfn, 0x10) & ~0xfULL;

    cfg_write(devfn, 0x04, cfg_read(devfn, 0x04) | 0x2); /* memory decode */
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)window, bar | PTE_UC, UVMF_INVLPG) == 0);
    return (volatile uint32_t *)window;
}

/* edu's INTx: a level GSI.  Asserted until the device is acknowledged. */
static void edu_level(unsigned devfn, volatile uint32_t *edu)
{
    int gsi = (int)(cfg_read(devfn, 0x3c) & 0xff);
    long port, rc;
    unsigned n;

    printf("irq: edu at 00:%02x.%u, INTx on GSI %d\n", devfn >> 3, devfn & 7, gsi);
    CHECK(gsi > 0 && gsi < 24);
    EXPECT_EQ(map_gsi(gsi, gsi), gsi);
    rc = setup_gsi(gsi, 1, 0);
    EXPECT(rc == 0 || rc == -XEN_EEXIST);
    port = bind((uint32_t)gsi);
    CHECK(port > 0);
    EXPECT(needs_eoi((unsigned)gsi)); /* level: dom0 must EOI */
    edu[EDU_IRQ_RAISE / 4] = 1;
    EXPECT(rt_wait_port((unsigned)port, 1, 2000 * MS));
    n = rt_port_hits[port];
    /* Still asserted: an EOI unmasks it and it comes again. */
    EXPECT_EQ(eoi((uint32_t)gsi), 0);
    EXPECT(rt_wait_port((unsigned)port, n + 1, 2000 * MS));
    edu[EDU_IRQ_ACK / 4] = 1;
    EXPECT_EQ(eoi((uint32_t)gsi), 0);
    quiet(50 * MS);
    n = rt_port_hits[port];
    EXPECT_EQ(eoi((uint32_t)gsi), 0);
    quiet(200 * MS);
    printf("irq: edu INTx (GSI %d, level) events: %u\n", gsi, rt_port_hits[port]);
    EXPECT_EQ(rt_port_hits[port], n); /* acknowledged: quiet */
    EXPECT_EQ(ev_close((evtchn_port_t)port), 0);
    EXPECT_EQ(unmap(gsi), 0);
}

static unsigned find_cap(unsigned devfn, unsigned id)
{
    unsigned pos = cfg_read(devfn, 0x34) & 0xfc;
    for (int n = 0; pos >= 0x40 && n < 48; n++) {
        uint32_t h = cfg_read(devfn, pos);
        if ((h & 0xff) == id)
            return pos;
        pos = (h >> 8) & 0xfc;
    }
    return 0;
}

static long pci_add(unsigned devfn)
{
    /* Reported as Linux reports it (Xen gives dom0 no MSI for a device it
     * was not told about). */
    struct physdev_pci_device_add add = {.seg = 0, .bus = 0, .devfn = (uint8_t)devfn};
    return physdev(PHYSDEVOP_pci_device_add, &add);
}

/* edu's MSI: map_pirq writes the message, dom0 turns MSI on. */
static void edu_msi(unsigned devfn, volatile uint32_t *edu)
{
    struct physdev_map_pirq m = {.domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
                                 .index = -1, .pirq = -1, .bus = 0, .devfn = (int)devfn};
    unsigned cap = find_cap(devfn, 0x05);
    long port;

    CHECK(cap);
    EXPECT_EQ(pci_add(devfn), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, &m), 0);
    printf("irq: edu MSI: pirq %d, address %08x data %04x\n", m.pirq,
           cfg_read(devfn, cap + 4), cfg_read(devfn, cap + 12) & 0xffff);
    EXPECT(m.pirq >= 24);
    EXPECT_EQ(cfg_read(devfn, cap + 4) & 0xfff00000U, 0xfee00000U);
    EXPECT((cfg_read(devfn, cap + 12) & 0xff) != 0);
    port = bind((uint32_t)m.pirq);
    CHECK(port > 0);
    /* Xen asks for an EOI of an MSI it cannot mask (it holds the local
     * APIC's EOI until then); Keel never does: both are for dom0 to read. */
    printf("irq: edu MSI needs EOI: %d\n", needs_eoi((unsigned)m.pirq));
    cfg_write(devfn, cap, cfg_read(devfn, cap) | 0x10000); /* MSI enable */
    edu[EDU_IRQ_RAISE / 4] = 2;
    EXPECT(rt_wait_port((unsigned)port, 1, 2000 * MS));
    edu[EDU_IRQ_ACK / 4] = 2;
    edu[EDU_IRQ_RAISE / 4] = 4;
    EXPECT(rt_wait_port((unsigned)port, 2, 2000 * MS));
    edu[EDU_IRQ_ACK / 4] = 4;
    printf("irq: edu MSI events: %u\n", rt_port_hits[port]);
    cfg_write(devfn, cap, cfg_read(devfn, cap) & ~0x10000U);
    EXPECT_EQ(ev_close((evtchn_port_t)port), 0);
    EXPECT_EQ(unmap(m.pirq), 0);
    EXPECT_EQ(unmap(m.pirq), -XEN_EINVAL);
}

/* virtio-rng's MSI-X table: the hypervisor's once an entry is in use. */
static void msix_table(void)
{
    unsigned devfn = pci_find(0x1af4, 0x1005), cap;
    uint32_t tbl, addr;
    uint64_t bar;
    volatile uint64_t *e;

    CHECK(devfn);
    cap = find_cap(devfn, 0x11);
    CHECK(cap);
    tbl = cfg_read(devfn, cap + 4);
    bar = cfg_read(devfn, 0x10 + 4 * (tbl & 7)) & ~0xfULL;
    cfg_write(devfn, 0x04, cfg_read(devfn, 0x04) | 0x2);
    EXPECT_EQ(pci_add(devfn), 0);
    struct physdev_map_pirq m = {.domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
                                 .index = -1, .pirq = -1, .bus = 0, .devfn = (int)devfn,
                                 .entry_nr = 0, .table_base = bar};
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, &m), 0);
    /* Asked writable; granted, but read-only (no error: Xen's way). */
    uint64_t pa = bar + (tbl & ~7U);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)table_window, (pa & ~0xfffULL) | PTE_UC,
                                           UVMF_INVLPG), 0);
    e = (volatile uint64_t *)(table_window + (pa & 0xfff));
    addr = (uint32_t)e[0];
    printf("irq: virtio-rng MSI-X entry 0: pirq %d, address %08x\n", m.pirq, addr);
    EXPECT_EQ(addr & 0xfff00000U, 0xfee00000U);
    EXPECT_EQ(rt_probe_write((uintptr_t)&e[0], 0xdeadbeefdeadbeefULL), -1); /* no fault */
    EXPECT_EQ((uint32_t)e[0], addr);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)table_window, 0, UVMF_INVLPG), 0);
    EXPECT_EQ(unmap(m.pirq), 0);
}

/* The IO-APIC through physdev_op.  Pin 4 is COM1's: the hypervisor's
 * console (Xen takes its IRQ, Keel keeps the pin). */
static void ioapic(void)
{
    long rc;
    uint32_t ver = apic_read(IOAPIC_BASE, 1, &rc), lo, pin4, id, hi20;

    EXPECT_EQ(rc, 0);
    printf("irq: IO-APIC version 0x%x, %u pins\n", ver & 0xff, ((ver >> 16) & 0xff) + 1);
    EXPECT_EQ(((ver >> 16) & 0xff) + 1, 24);
    apic_read(0xfeb00000UL, 1, &rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(apic_write(0x10 + 2 * 20, 0x500), -XEN_EINVAL); /* INIT delivery */
    /* Not the low half of an entry: ignored. */
    id = apic_read(IOAPIC_BASE, 0, &rc);
    hi20 = apic_read(IOAPIC_BASE, 0x10 + 2 * 20 + 1, &rc);
    EXPECT_EQ(apic_write(0x00, 0x0f000000), 0);
    EXPECT_EQ(apic_write(0x10 + 2 * 20 + 1, 0xfe000000), 0);
    EXPECT_EQ(apic_read(IOAPIC_BASE, 0, &rc), id);
    EXPECT_EQ(apic_read(IOAPIC_BASE, 0x10 + 2 * 20 + 1, &rc), hi20);
    /* Garbage into the console's pin: ignored. */
    pin4 = apic_read(IOAPIC_BASE, 0x10 + 2 * 4, &rc);
    EXPECT_EQ(apic_write(0x10 + 2 * 4, 0x00000077), 0);
    EXPECT_EQ(apic_read(IOAPIC_BASE, 0x10 + 2 * 4, &rc), pin4);
    /* A free pin: the vector field is a PIRQ (below both hypervisors'
     * PIRQ counts), the pin gets a real vector (0x21 is one neither hands
     * out) and stays masked, being level-triggered. */
    EXPECT_EQ(apic_write(0x10 + 2 * 20, 0x0000a021), 0);
    lo = apic_read(IOAPIC_BASE, 0x10 + 2 * 20, &rc);
    printf("irq: pin 20 after writing a021: %08x\n", lo);
    EXPECT((lo & 0xff) != 0x21);
    EXPECT_EQ(lo & 0x18000, 0x18000); /* level, masked */
    EXPECT_EQ(map_gsi(20, -1), 0x21);
    EXPECT_EQ(unmap(0x21), 0);
}

/* The hypervisor's own timer still works after all that. */
static void timer_ticks(void)
{
    struct evtchn_bind_virq v = {.virq = VIRQ_TIMER, .vcpu = 0};

    CHECK(evtchn(EVTCHNOP_bind_virq, &v) == 0);
    for (unsigned i = 1; i <= 3; i++) {
        EXPECT_EQ(HYPERVISOR_set_timer_op(rt_system_time() + 10 * MS), 0);
        EXPECT(rt_wait_port(v.port, i, 1000 * MS));
    }
    EXPECT_EQ(ev_close(v.port), 0);
}

/* Unmapping a bound PIRQ unbinds it; the port stays until closed. */
static void unmap_bound(long rtc)
{
    EXPECT_EQ(unmap(8), 0);
    EXPECT_EQ(bind(8), -XEN_EPERM);
    EXPECT_EQ(eoi(8), 0);
    EXPECT_EQ(ev_close((evtchn_port_t)rtc), 0);
    EXPECT_EQ(eoi(8), -XEN_EINVAL);
    /* (Not mapped again: Xen takes the IRQ away from dom0 at unmap.) */
}

void test_main(start_info_t *si)
{
    struct physdev_set_iopl io = {.iopl = 1};
    unsigned devfn;
    long rtc;

    (void)si;
    rt_install_traps();
    rt_install_events();
    s = rt_shared_info();
    rt_events_enable();
    CHECK(physdev(PHYSDEVOP_set_iopl, &io) == 0);

    queries();
    eoi_bitmap();
    rtc = rtc_edge();
    devfn = pci_find(EDU_VENDOR, EDU_DEVICE);
    CHECK(devfn);
    volatile uint32_t *edu = edu_map(devfn);
    EXPECT_EQ(edu[0] & 0xff, 0xed); /* edu's identification: 0x010000ed */
    edu_level(devfn, edu);
    edu_msi(devfn, edu);
    msix_table();
    ioapic();
    timer_ticks();
    unmap_bound(rtc);
    test_verdict(rt_failures == 0, "%u checks failed", rt_failures);
}
