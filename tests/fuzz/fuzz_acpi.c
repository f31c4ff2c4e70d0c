/*
 * libFuzzer target for the ACPI walk.  The input is a little physical
 * memory image; its first bytes are read as an RSDP, the whole input also
 * goes straight to the MADT entry parser, and it is parsed once more as the
 * body of a MADT inside a valid table chain, so the table chain, the entry
 * loop and the full walk all see hostile data.
 */
#include <keel/acpi.h>

#define FUZZ_BASE 0xe0000UL

struct image {
    const uint8_t *data;
    size_t size;
};

static const void *image_map(void *ctx, paddr_t pa, size_t len)
{
    const struct image *im = ctx;

    if (pa < FUZZ_BASE || pa - FUZZ_BASE > im->size || len > im->size - (pa - FUZZ_BASE))
        return NULL;
    return im->data + (pa - FUZZ_BASE);
}

/*
 * Checksums stop random inputs at the RSDP, so every input is also
 * wrapped in a valid RSDP v2 -> XSDT -> MADT chain with fixed-up sums: the
 * bytes become the MADT body (flags, address, entries).
 */
static uint8_t chain[ACPI_RSDP_V2_LEN + 44 + 44 + 4096];

static void fix_sum(uint8_t *p, size_t len, size_t at)
{
    p[at] = 0;
    p[at] = (uint8_t)(0x100 - acpi_checksum(p, len));
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void run_chain(const uint8_t *data, size_t size)
{
    static struct acpi_info info;
    uint8_t *rsdp = chain, *xsdt = chain + ACPI_RSDP_V2_LEN, *madt = xsdt + 44;
    uint64_t xsdt_pa = FUZZ_BASE + ACPI_RSDP_V2_LEN, madt_pa = xsdt_pa + 44;
    size_t body = size > 4096 + 8 ? 4096 + 8 : size;
    struct image im = {chain, ACPI_RSDP_V2_LEN + 44 + 36 + body};
    struct acpi_mem m = {image_map, &im};

    memset(chain, 0, sizeof(chain));
    memcpy(rsdp, "RSD PTR ", 8);
    rsdp[15] = 2;
    put32(rsdp + 20, ACPI_RSDP_V2_LEN);
    memcpy(rsdp + 24, &xsdt_pa, 8);
    fix_sum(rsdp, ACPI_RSDP_V1_LEN, 8);
    fix_sum(rsdp, ACPI_RSDP_V2_LEN, 32);
    memcpy(xsdt, "XSDT", 4);
    put32(xsdt + 4, 44);
    memcpy(xsdt + 36, &madt_pa, 8);
    fix_sum(xsdt, 44, 9);
    memcpy(madt, "APIC", 4);
    put32(madt + 4, (uint32_t)(36 + body));
    memcpy(madt + 36, data, body);
    fix_sum(madt, 36 + body, 9);
    if (acpi_parse(&m, FUZZ_BASE, &info) == ACPI_OK &&
        (!info.used_xsdt || info.nr_cpus > ACPI_MAX_CPUS))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct acpi_info info;
    struct image im = {data, size};
    struct acpi_mem m = {image_map, &im};

    if (acpi_parse(&m, FUZZ_BASE, &info) == ACPI_OK && info.nr_cpus > ACPI_MAX_CPUS)
        __builtin_trap();
    run_chain(data, size);
    memset(&info, 0, sizeof(info));
    if (size <= ACPI_MAX_TABLE_LEN)
        acpi_madt_parse(data, (u32)size, &info);
    if (info.nr_cpus > ACPI_MAX_CPUS || info.nr_ioapics > ACPI_MAX_IOAPICS ||
        info.nr_overrides > ACPI_MAX_OVERRIDES)
        __builtin_trap();
    return 0;
}
