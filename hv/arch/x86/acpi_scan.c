/*
 * Finding and reading the firmware's ACPI tables.  The parser lives in
 * common/acpi.c; this file supplies its memory accessor and the places a
 * PC BIOS may leave the RSDP.  Tables may sit in reserved (non-RAM) ranges,
 * so they are reached through ioremap, not the RAM direct map.
 */
#include <asm/smp.h>
#include <keel/acpi.h>
#include <keel/console.h>

#define FW_LIMIT (1UL << 32) /* RSDT/XSDT tables Keel trusts live below 4 GiB */
#define EBDA_SEG_PTR 0x40e
#define EBDA_MIN 0x80000
#define EBDA_MAX 0xa0000
#define BIOS_ROM_START 0xe0000
#define BIOS_ROM_END 0x100000
#define WINDOW_SIZE (64UL * 1024)

static struct acpi_info info;
static bool info_valid;

/* One cached window: the walk reads neighbouring tables many times, and
 * ioremap space is not unlimited. */
static struct {
    paddr_t pa;
    size_t len;
    const u8 *va;
} window;

static const void *fw_map(void *ctx, paddr_t pa, size_t len)
{
    paddr_t start, end;

    (void)ctx;
    if (!len || pa >= FW_LIMIT || len > FW_LIMIT - pa)
        return NULL;
    if (window.va && pa >= window.pa && pa + len <= window.pa + window.len)
        return window.va + (pa - window.pa);
    start = ALIGN_DOWN(pa, PAGE_SIZE);
    end = ALIGN_UP(pa + len, PAGE_SIZE);
    if (end - start < WINDOW_SIZE)
        end = MIN(start + WINDOW_SIZE, FW_LIMIT);
    window.va = ioremap(start, end - start);
    if (!window.va)
        return NULL;
    window.pa = start;
    window.len = end - start;
    return window.va + (pa - start);
}

static const struct acpi_mem fw_mem = {fw_map, NULL};

/* RSDPs sit on 16-byte boundaries. */
static paddr_t scan_area(paddr_t start, paddr_t end)
{
    const u8 *p = fw_map(NULL, start, end - start);
    u8 rev;
    paddr_t xsdt, rsdt;

    if (!p)
        return 0;
    for (paddr_t off = 0; off + ACPI_RSDP_V1_LEN <= end - start; off += 16)
        if (acpi_rsdp_check(p + off, end - start - off, &rev, &xsdt, &rsdt) == ACPI_OK)
            return start + off;
    return 0;
}

static paddr_t find_rsdp(void)
{
    const u16 *seg = fw_map(NULL, EBDA_SEG_PTR, sizeof(*seg));
    paddr_t ebda = seg ? (paddr_t)*seg << 4 : 0, pa = 0;

    if (ebda >= EBDA_MIN && ebda + 1024 <= EBDA_MAX)
        pa = scan_area(ebda, ebda + 1024);
    return pa ? pa : scan_area(BIOS_ROM_START, BIOS_ROM_END);
}

static void report(void)
{
    unsigned int enabled = 0;

    for (unsigned int i = 0; i < info.nr_cpus; i++)
        enabled += info.cpus[i].enabled;
    printk("ACPI: RSDP at %#lx (revision %u), %s with %u tables\n", info.rsdp_pa,
           info.rsdp_revision, info.used_xsdt ? "XSDT" : "RSDT", info.nr_root_entries);
    printk("ACPI: MADT: %u CPUs (%u enabled), %u IO-APICs, %u overrides, "
           "local APIC at %#lx%s\n",
           info.nr_cpus, enabled, info.nr_ioapics, info.nr_overrides, info.lapic_addr,
           info.madt_flags & ACPI_MADT_PCAT_COMPAT ? ", 8259s present" : "");
    if (info.have_fadt)
        printk("ACPI: FADT: SCI IRQ %u, PM1 control %#x/%#x, reset register %s\n",
               info.sci_irq, info.pm1a_cnt, info.pm1b_cnt,
               info.reset_supported ? "present" : "absent");
    for (unsigned int i = 0; i < info.nr_overrides; i++)
        printk(KLOG_DEBUG "ACPI: IRQ%u -> GSI %u flags %#x\n", info.overrides[i].source_irq,
               info.overrides[i].gsi, info.overrides[i].flags);
    if (info.cpus_dropped || info.ioapics_dropped || info.overrides_dropped)
        printk(KLOG_WARN "ACPI: over Keel's limits, ignored: %u CPUs, %u IO-APICs, "
                         "%u overrides\n",
               info.cpus_dropped, info.ioapics_dropped, info.overrides_dropped);
    if (info.bad_entries || info.madt_truncated || info.bad_tables)
        printk(KLOG_WARN "ACPI: firmware errors: %u bad MADT entries%s, %u bad tables\n",
               info.bad_entries, info.madt_truncated ? ", MADT truncated" : "",
               info.bad_tables);
}

const struct acpi_info *acpi_init(paddr_t rsdp_hint)
{
    paddr_t rsdp = 0;
    int rc;

    if (rsdp_hint) {
        const void *p = fw_map(NULL, rsdp_hint, ACPI_RSDP_V1_LEN);
        u8 rev;
        paddr_t x, r;

        if (p && acpi_rsdp_check(p, ACPI_RSDP_V1_LEN, &rev, &x, &r) == ACPI_OK)
            rsdp = rsdp_hint;
        else
            printk(KLOG_WARN "ACPI: loader's RSDP at %#lx is invalid; scanning\n", rsdp_hint);
    }
    if (!rsdp)
        rsdp = find_rsdp();
    if (!rsdp) {
        printk(KLOG_WARN "ACPI: no RSDP found; assuming one CPU\n");
        return NULL;
    }
    rc = acpi_parse(&fw_mem, rsdp, &info);
    if (rc != ACPI_OK) {
        printk(KLOG_WARN "ACPI: RSDP at %#lx: %s; assuming one CPU\n", rsdp,
               acpi_strerror(rc));
        return NULL;
    }
    info_valid = true;
    report();
    return &info;
}

const struct acpi_info *acpi_get_info(void)
{
    return info_valid ? &info : NULL;
}
