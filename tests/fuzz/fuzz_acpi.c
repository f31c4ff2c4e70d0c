/*
 * libFuzzer target for the ACPI walk.  The input is a little physical
 * memory image; its first bytes are read as an RSDP, and the whole input
 * also goes straight to the MADT entry parser, so both the table chain and
 * the entry loop see hostile data.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct acpi_info info;
    struct image im = {data, size};
    struct acpi_mem m = {image_map, &im};

    if (acpi_parse(&m, FUZZ_BASE, &info) == ACPI_OK && info.nr_cpus > ACPI_MAX_CPUS)
        __builtin_trap();
    memset(&info, 0, sizeof(info));
    if (size <= ACPI_MAX_TABLE_LEN)
        acpi_madt_parse(data, (u32)size, &info);
    if (info.nr_cpus > ACPI_MAX_CPUS || info.nr_ioapics > ACPI_MAX_IOAPICS ||
        info.nr_overrides > ACPI_MAX_OVERRIDES)
        __builtin_trap();
    return 0;
}
