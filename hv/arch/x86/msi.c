/*
 * MSI and MSI-X for dom0's devices, programmed by Keel.  dom0 asks for an
 * interrupt with map_pirq; Keel writes the message (its vector, a physical
 * destination) into the function's MSI capability or MSI-X table entry,
 * keeps it masked until dom0 binds an event channel, and filters dom0's
 * configuration writes so that the message stays Keel's (rules in
 * hv/common/pci_cfg.c).  As on Xen, dom0 still turns MSI on and off in the
 * control word ("split brain"), once Keel has programmed it.
 *
 * Every function touched gets an entry in a small table, under the PCI
 * configuration lock (which nests inside pirq_lock).
 */
#include <asm/irq.h>
#include <asm/page.h>
#include <asm/pci.h>
#include <keel/console.h>

#define MAX_FNS 64
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define MSI_ADDR_BASE 0xfee00000U
#define MSI_DATA_ASSERT (1U << 14)
#define MSI_CTRL_ENABLE 0x1
#define MSI_CTRL_QSIZE 0x70
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_ENTRY_WORDS 4
#define MSIX_VECTOR_MASKED 1U

struct pci_fn {
    bool used;
    u32 sbdf;
    struct pci_msi_caps caps;
    struct pci_msi_policy pol;
    volatile u32 *msix_table; /* Keel's mapping, made on first use */
    paddr_t msix_table_pa;
    u16 msix_used;            /* entries Keel has programmed */
    bool warned;              /* a refused dom0 write was logged */
};

static struct pci_fn fns[MAX_FNS];

/*
 * Frames dom0 may map only read-only: every MSI-X table and PBA (as Xen's
 * "mmio_ro" ranges, but from boot on, so that dom0's own early mappings
 * are read-only too).  Written under the PCI lock; read without it by
 * the page-table code (a mapping racing with a BAR move may miss it).
 */
#define MAX_RO 64
static struct ro_range {
    u32 sbdf;
    bool used;
    mfn_t first, last;
} ro[MAX_RO];

/* ------------------------------------------------------ the table */

static bool fn_busy(const struct pci_fn *fn)
{
    return fn->pol.msi_ready || fn->msix_used;
}

static struct pci_fn *fn_slot(u32 sbdf)
{
    static unsigned int victim;
    struct pci_fn *free = NULL;

    for (unsigned int i = 0; i < MAX_FNS; i++) {
        if (fns[i].used && fns[i].sbdf == sbdf)
            return &fns[i];
        if (!fns[i].used && !free)
            free = &fns[i];
    }
    /* Full: forget a function Keel programs nothing for (it is re-read
     * from the device when needed again). */
    for (unsigned int n = 0; !free && n < MAX_FNS; n++) {
        struct pci_fn *fn = &fns[victim++ % MAX_FNS];
        if (!fn_busy(fn))
            free = fn;
    }
    return free;
}

/* The function's entry, read from the device the first time; NULL if
 * nothing answers at sbdf (or the table is full of busy functions). */
static struct pci_fn *fn_get(u32 sbdf)
{
    struct pci_fn *fn = fn_slot(sbdf);
    u8 cfg[256];

    if (!fn || (fn->used && fn->sbdf == sbdf))
        return fn;
    if ((pci_conf_read(sbdf, 0, 4) & 0xffff) == 0xffff)
        return NULL;
    for (unsigned int reg = 0; reg < sizeof(cfg); reg += 4) {
        u32 v = pci_conf_read(sbdf, reg, 4);
        memcpy(&cfg[reg], &v, 4);
    }
    memset(fn, 0, sizeof(*fn));
    fn->used = true;
    fn->sbdf = sbdf;
    pci_find_msi_caps(cfg, &fn->caps);
    return fn;
}

int msi_device_present(u32 sbdf)
{
    unsigned long f = pci_lock();
    u32 id = pci_conf_read(sbdf, 0, 4);

    pci_unlock(f);
    return (id & 0xffff) == 0xffff ? -XEN_ENODEV : 0;
}

/* ------------------------------------------------------ read-only frames */

/* Bounds of all the ranges: most frames (all RAM) are outside at once. */
static mfn_t ro_lo = ~0UL, ro_hi;

bool msi_frame_ro(mfn_t mfn)
{
    if (mfn < READ_ONCE(ro_lo) || mfn > READ_ONCE(ro_hi))
        return false;
    for (unsigned int i = 0; i < MAX_RO; i++)
        if (READ_ONCE(ro[i].used) && mfn >= READ_ONCE(ro[i].first) &&
            mfn <= READ_ONCE(ro[i].last))
            return true;
    return false;
}

static paddr_t mem_bar(const struct pci_fn *fn, unsigned int bir);

static void ro_set(u32 sbdf, unsigned int which, paddr_t pa, size_t len)
{
    struct ro_range *free = NULL;
    unsigned int seen = 0;

    for (unsigned int i = 0; i < MAX_RO; i++) {
        if (ro[i].used && ro[i].sbdf == sbdf && seen++ == which) {
            free = &ro[i];
            break;
        }
        if (!ro[i].used && !free)
            free = &ro[i];
    }
    if (!free) {
        printk(KLOG_WARN "msi: more MSI-X tables than Keel tracks; %02x:%02x.%u's is "
                         "writable by dom0\n", (sbdf >> 8) & 0xff, (sbdf >> 3) & 0x1f, sbdf & 7);
        return;
    }
    WRITE_ONCE(free->used, false);
    free->sbdf = sbdf;
    WRITE_ONCE(free->first, pa >> PAGE_SHIFT);
    WRITE_ONCE(free->last, (pa + len - 1) >> PAGE_SHIFT);
    WRITE_ONCE(free->used, pa != 0);
    if (pa) {
        WRITE_ONCE(ro_lo, MIN(ro_lo, free->first));
        WRITE_ONCE(ro_hi, MAX(ro_hi, free->last));
    }
}

/* Where the function's MSI-X table and PBA are now (BARs can move). */
static void ro_update(const struct pci_fn *fn)
{
    const struct pci_msi_caps *c = &fn->caps;
    paddr_t table, pba;

    if (!c->msix)
        return;
    table = mem_bar(fn, c->msix_table_bir);
    pba = mem_bar(fn, c->msix_pba_bir);
    ro_set(fn->sbdf, 0, table ? table + c->msix_table_off : 0, (size_t)c->msix_entries * 16);
    ro_set(fn->sbdf, 1, pba ? pba + c->msix_pba_off : 0, (c->msix_entries + 63) / 64 * 8);
}

/* Every function on every bus: their MSI-X tables are read-only to dom0
 * before it maps anything. */
void msi_scan_devices(void)
{
    unsigned long f = pci_lock();
    unsigned int n = 0;

    for (u32 bus = 0; bus < 256; bus++)
        for (u32 devfn = 0; devfn < 256; devfn++) {
            u32 sbdf = PCI_SBDF(bus, devfn), id = pci_conf_read(sbdf, 0, 4);
            if ((id & 0xffff) == 0xffff || id == 0) {
                devfn |= 7; /* no function 0: no other functions either */
                continue;
            }
            if ((devfn & 7) == 0 && !(pci_conf_read(sbdf, 0x0e, 1) & 0x80))
                devfn |= 7; /* single-function device */
            struct pci_fn *fn = fn_get(sbdf);
            if (fn && fn->caps.msix) {
                ro_update(fn);
                n++;
            }
        }
    pci_unlock(f);
    printk("msi: %u MSI-X tables read-only to dom0\n", n);
}

void msi_dom0_wrote(u32 sbdf, unsigned int reg, unsigned int size)
{
    struct pci_fn *fn;

    /* A BAR moved (or the command register changed decoding). */
    if (reg + size <= 0x10 || reg >= 0x28)
        return;
    fn = fn_slot(sbdf);
    if (fn && fn->used && fn->sbdf == sbdf && fn->caps.msix)
        ro_update(fn);
}

/* ------------------------------------------------------ messages */

static u32 msg_address(const struct irq_desc *d)
{
    /* Physical destination, no redirection hint. */
    return MSI_ADDR_BASE | (irq_cpu_apic_id(d->cpu) & 0xff) << 12;
}

static u32 msg_data(const struct irq_desc *d)
{
    return MSI_DATA_ASSERT | d->vector; /* fixed delivery, edge */
}

static unsigned int msi_mask_reg(const struct pci_msi_caps *c)
{
    return c->msi + (c->msi_64 ? 16 : 12);
}

static int msi_program(struct pci_fn *fn, struct irq_desc *d)
{
    const struct pci_msi_caps *c = &fn->caps;
    u32 ctrl;

    if (!c->msi)
        return -XEN_ENODEV;
    if (c->msi_maskbit) {
        pci_conf_write(fn->sbdf, msi_mask_reg(c), 4,
                       pci_conf_read(fn->sbdf, msi_mask_reg(c), 4) | 1);
        d->msi.maskable = true;
    }
    pci_conf_write(fn->sbdf, c->msi + 4, 4, msg_address(d));
    if (c->msi_64)
        pci_conf_write(fn->sbdf, c->msi + 8, 4, 0);
    pci_conf_write(fn->sbdf, c->msi + (c->msi_64 ? 12 : 8), 2, msg_data(d));
    /* One vector; whether MSI is on stays dom0's choice. */
    ctrl = pci_conf_read(fn->sbdf, c->msi + 2, 2);
    pci_conf_write(fn->sbdf, c->msi + 2, 2, ctrl & ~MSI_CTRL_QSIZE);
    fn->pol.msi_ready = true;
    return 0;
}

/* A memory BAR's address (0: I/O, unassigned or no such BAR). */
static paddr_t mem_bar(const struct pci_fn *fn, unsigned int bir)
{
    unsigned int reg = 0x10 + 4 * bir;
    u32 lo;

    if (bir >= (fn->caps.header_type == 0 ? 6U : 2U))
        return 0;
    lo = pci_conf_read(fn->sbdf, reg, 4);
    if (lo & 1)
        return 0;
    if ((lo & 6) == 4)
        return bir + 1 < 6 ? (lo & ~0xfULL) | (paddr_t)pci_conf_read(fn->sbdf, reg + 4, 4) << 32
                           : 0;
    return lo & ~0xfULL;
}

static volatile u32 *msix_entry(const struct pci_fn *fn, unsigned int entry)
{
    return fn->msix_table + entry * MSIX_ENTRY_WORDS;
}

/* Maps the table (again, if the BAR moved while Keel used none of it). */
static int msix_map(struct pci_fn *fn)
{
    paddr_t bar = mem_bar(fn, fn->caps.msix_table_bir), pa;

    if (!bar)
        return -XEN_ENXIO;
    pa = bar + fn->caps.msix_table_off;
    if (fn->msix_table && pa == fn->msix_table_pa)
        return 0;
    if (fn->msix_used)
        return -XEN_EBUSY; /* cannot happen: the BAR is locked meanwhile */
    fn->msix_table = ioremap(pa, (size_t)fn->caps.msix_entries * 16);
    if (!fn->msix_table)
        return -XEN_ENOMEM;
    fn->msix_table_pa = pa;
    return 0;
}

static u32 locked_bar_regs(const struct pci_fn *fn)
{
    u8 cfg[256] = {0};

    for (unsigned int reg = 0x10; reg < 0x28; reg += 4) {
        u32 v = pci_conf_read(fn->sbdf, reg, 4);
        memcpy(&cfg[reg], &v, 4);
    }
    return pci_msix_bar_regs(&fn->caps, cfg);
}

static int msix_program(struct pci_fn *fn, struct irq_desc *d)
{
    const struct pci_msi_caps *c = &fn->caps;
    unsigned int ctrl_reg = c->msix + 2;
    u32 ctrl;
    int rc;

    if (!c->msix)
        return -XEN_ENODEV;
    if (d->msi.entry >= c->msix_entries)
        return -XEN_EINVAL;
    if (!(pci_conf_read(fn->sbdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY))
        return -XEN_ENXIO; /* the table is not reachable */
    if ((rc = msix_map(fn)))
        return rc;
    /* Some devices answer table accesses only with MSI-X on: turned on
     * with everything masked while Keel writes, then as dom0 had it. */
    ctrl = pci_conf_read(fn->sbdf, ctrl_reg, 2);
    pci_conf_write(fn->sbdf, ctrl_reg, 2, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    if (!fn->msix_used)
        for (unsigned int i = 0; i < c->msix_entries; i++)
            msix_entry(fn, i)[3] = MSIX_VECTOR_MASKED;
    volatile u32 *e = msix_entry(fn, d->msi.entry);
    e[3] = MSIX_VECTOR_MASKED;
    e[0] = msg_address(d);
    e[1] = 0;
    e[2] = msg_data(d);
    (void)e[3]; /* flush the posted writes */
    pci_conf_write(fn->sbdf, ctrl_reg, 2, ctrl);
    d->msi.maskable = true;
    ro_update(fn);
    fn->msix_used++;
    fn->pol.msix_ready = true;
    fn->pol.locked_bars = locked_bar_regs(fn);
    return 0;
}

/* ------------------------------------------------------ the core's hooks */

int msi_setup(struct irq_table *t, unsigned int irq)
{
    struct irq_desc *d = &t->desc[irq];
    unsigned long f = pci_lock();
    struct pci_fn *fn = fn_get(d->msi.sbdf);
    int rc = !fn ? -XEN_ENODEV : d->msi.msix ? msix_program(fn, d) : msi_program(fn, d);

    pci_unlock(f);
    return rc;
}

static struct pci_fn *fn_of(const struct irq_desc *d)
{
    struct pci_fn *fn = fn_slot(d->msi.sbdf);

    return fn && fn->used && fn->sbdf == d->msi.sbdf ? fn : NULL;
}

static void set_masked(struct pci_fn *fn, const struct irq_desc *d, bool masked)
{
    const struct pci_msi_caps *c = &fn->caps;

    if (d->msi.msix) {
        msix_entry(fn, d->msi.entry)[3] = masked ? MSIX_VECTOR_MASKED : 0;
        (void)msix_entry(fn, d->msi.entry)[3];
    } else if (c->msi_maskbit) {
        u32 bits = pci_conf_read(fn->sbdf, msi_mask_reg(c), 4);
        pci_conf_write(fn->sbdf, msi_mask_reg(c), 4, masked ? bits | 1 : bits & ~1U);
    }
}

void msi_mask(struct irq_table *t, unsigned int irq)
{
    const struct irq_desc *d = &t->desc[irq];
    unsigned long f;
    struct pci_fn *fn;

    if (!d->msi.maskable)
        return;
    f = pci_lock();
    if ((fn = fn_of(d)))
        set_masked(fn, d, d->masked);
    pci_unlock(f);
}

void msi_retarget(struct irq_table *t, unsigned int irq)
{
    const struct irq_desc *d = &t->desc[irq];
    unsigned long f = pci_lock();
    struct pci_fn *fn = fn_of(d);

    if (fn && d->msi.msix) {
        /* The address of an unmasked entry must not change under it. */
        set_masked(fn, d, true);
        msix_entry(fn, d->msi.entry)[0] = msg_address(d);
        set_masked(fn, d, d->masked);
    } else if (fn && fn->caps.msi) {
        pci_conf_write(fn->sbdf, fn->caps.msi + 4, 4, msg_address(d));
    }
    pci_unlock(f);
}

void msi_teardown(struct irq_table *t, unsigned int irq)
{
    const struct irq_desc *d = &t->desc[irq];
    unsigned long f = pci_lock();
    struct pci_fn *fn = fn_of(d);

    if (fn && d->msi.msix) {
        set_masked(fn, d, true);
        if (fn->msix_used && !--fn->msix_used) {
            fn->pol.msix_ready = false;
            fn->pol.locked_bars = 0;
        }
    } else if (fn && fn->caps.msi) {
        set_masked(fn, d, true);
        u32 ctrl = pci_conf_read(fn->sbdf, fn->caps.msi + 2, 2);
        pci_conf_write(fn->sbdf, fn->caps.msi + 2, 2, ctrl & ~MSI_CTRL_ENABLE);
        fn->pol.msi_ready = false;
    }
    pci_unlock(f);
}

/* ------------------------------------------------------ dom0's writes */

u32 msi_filter_dom0_write(u32 sbdf, unsigned int reg, unsigned int size, u32 val)
{
    struct pci_fn *fn;
    bool refused;
    u32 out;

    if (reg < 0x10 || !(fn = fn_get(sbdf)) ||
        !pci_cfg_write_touches(&fn->caps, &fn->pol, reg, size))
        return val;
    out = pci_cfg_filter_write(&fn->caps, &fn->pol, reg, size, val,
                               pci_conf_read(sbdf, reg, size), &refused);
    if (refused && !fn->warned) {
        fn->warned = true;
        printk(KLOG_WARN "pci %02x:%02x.%u: dom0's write of %#x to register %#x (%u bytes) "
                         "refused: MSI is Keel's (logged once)\n",
               (sbdf >> 8) & 0xff, (sbdf >> 3) & 0x1f, sbdf & 7, val, reg, size);
    }
    return out;
}
