/*
 * ACPI static tables: just enough to find the CPUs and interrupt controllers
 * (RSDP -> XSDT/RSDT -> MADT).  Firmware tables are input like any other:
 * the parser reaches memory only through acpi_mem.map with an explicit
 * length, and never believes a length field without checking it against
 * what it already validated.  Core code, host-testable.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H
#include <keel/types.h>

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 16
/* No table Keel reads is anywhere near this; a bigger length is corrupt. */
#define ACPI_MAX_TABLE_LEN (1U << 20)
#define ACPI_HDR_LEN 36
#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36

/* The MADT's "PC-AT compatible": there are 8259 PICs to mask. */
#define ACPI_MADT_PCAT_COMPAT 1U
#define ACPI_MADT_CPU_ENABLED 1U
#define ACPI_MADT_CPU_ONLINE_CAPABLE 2U

enum acpi_err {
    ACPI_OK = 0,
    ACPI_E_NO_RSDP = -1,      /* RSDP unreadable or bad signature/checksum */
    ACPI_E_NO_ROOT = -2,      /* neither XSDT nor RSDT is valid */
    ACPI_E_NO_MADT = -3,      /* no valid MADT in the root table */
    ACPI_E_BAD_TABLE = -4,    /* signature, length or checksum wrong */
};

/*
 * Reads firmware memory: returns a pointer to len readable bytes at pa, or
 * NULL when that range is not available.  Host tests back it with a buffer.
 */
struct acpi_mem {
    const void *(*map)(void *ctx, paddr_t pa, size_t len);
    void *ctx;
};

struct acpi_cpu {
    u32 apic_id;
    u32 uid;             /* ACPI processor UID */
    bool enabled;        /* usable now */
    bool online_capable; /* may be enabled later (hotplug); Keel leaves it */
    bool x2apic_entry;   /* came from a type 9 entry */
};

struct acpi_ioapic {
    u32 id;
    u32 addr;
    u32 gsi_base;
};

struct acpi_override {
    u8 bus, source_irq;
    u16 flags; /* polarity (bits 0-1) and trigger mode (bits 2-3) */
    u32 gsi;
};

struct acpi_info {
    paddr_t rsdp_pa;
    u8 rsdp_revision;
    bool used_xsdt;
    u32 nr_root_entries;
    bool have_madt;
    paddr_t lapic_addr;
    u32 madt_flags;
    unsigned int nr_cpus;
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned int nr_ioapics;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned int nr_overrides;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    /* From the FADT (FACP), when there is one. */
    bool have_fadt;
    u16 sci_irq;
    u32 pm1a_cnt, pm1b_cnt;  /* PM1 control blocks (I/O ports, 0: none) */
    bool reset_supported;    /* the reset register may be used */
    u8 reset_space;          /* ACPI_SPACE_* of reset_addr */
    u64 reset_addr;
    u8 reset_value;
    /* What the parser had to skip, so the caller can say so. */
    unsigned int cpus_dropped;      /* more than ACPI_MAX_CPUS */
    unsigned int ioapics_dropped;
    unsigned int overrides_dropped;
    unsigned int bad_entries;       /* too short for their type, bad ids */
    bool madt_truncated;            /* an entry ran past the end, or len < 2 */
    unsigned int bad_tables;        /* listed tables that failed validation */
};

/* Checksum of n bytes: valid ACPI structures sum to 0. */
u8 acpi_checksum(const void *p, size_t n);

/*
 * Validates an RSDP at p with avail readable bytes: signature, the v1
 * checksum, and for revision >= 2 the length and extended checksum.  Gives
 * the XSDT address (0 unless revision >= 2) and the RSDT address.
 */
int acpi_rsdp_check(const void *p, size_t avail, u8 *revision, paddr_t *xsdt,
                    paddr_t *rsdt);

/*
 * Maps and validates the table at pa: signature (when sig is non-NULL),
 * header length within [ACPI_HDR_LEN, ACPI_MAX_TABLE_LEN], checksum.
 * Returns the table (len bytes readable) or NULL.
 */
const void *acpi_table_get(const struct acpi_mem *m, paddr_t pa, const char *sig,
                           u32 *len);

/* Generic address structure spaces. */
#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1
#define ACPI_SPACE_PCI 2

/* Parses a validated FADT of len bytes (fields past len are absent). */
void acpi_fadt_parse(const void *fadt, u32 len, struct acpi_info *out);

/* Parses a validated MADT of len bytes into out (cpus/ioapics/overrides). */
void acpi_madt_parse(const void *madt, u32 len, struct acpi_info *out);

/* The whole walk from the RSDP at rsdp_pa; out is zeroed first. */
int acpi_parse(const struct acpi_mem *m, paddr_t rsdp_pa, struct acpi_info *out);

const char *acpi_strerror(int err);

#ifndef KEEL_HOST
/* Arch side: find the RSDP (hint first, then the BIOS areas), parse, print.
 * Returns the result, which stays valid for good. */
const struct acpi_info *acpi_init(paddr_t rsdp_hint);
const struct acpi_info *acpi_get_info(void);
#endif

#endif
