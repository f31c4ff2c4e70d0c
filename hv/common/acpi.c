/*
 * ACPI table walk: RSDP -> XSDT (or RSDT) -> MADT.  All firmware memory is
 * reached through acpi_mem.map with the exact length about to be read, and
 * every length field is checked against the bytes already validated before
 * it is used, so a corrupt table yields "not found", never a wild read.
 */
#include <keel/acpi.h>

#define MADT_ENTRIES_OFF 44 /* header, local APIC address, flags */
#define RSDP_MAX_LEN 4096   /* v2 length field sanity bound */

enum madt_type {
    MADT_LAPIC = 0,
    MADT_IOAPIC = 1,
    MADT_OVERRIDE = 2,
    MADT_LAPIC_ADDR = 5,
    MADT_X2APIC = 9,
};

/* Firmware structures are packed and unaligned: read fields bytewise. */
static u16 get16(const u8 *p)
{
    u16 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static u32 get32(const u8 *p)
{
    u32 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static u64 get64(const u8 *p)
{
    u64 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

u8 acpi_checksum(const void *p, size_t n)
{
    const u8 *b = p;
    u8 sum = 0;

    while (n--)
        sum = (u8)(sum + *b++);
    return sum;
}

int acpi_rsdp_check(const void *p, size_t avail, u8 *revision, paddr_t *xsdt,
                    paddr_t *rsdt)
{
    const u8 *b = p;
    u32 len;

    if (!b || avail < ACPI_RSDP_V1_LEN || memcmp(b, "RSD PTR ", 8) ||
        acpi_checksum(b, ACPI_RSDP_V1_LEN))
        return ACPI_E_NO_RSDP;
    *revision = b[15];
    *rsdt = get32(b + 16);
    *xsdt = 0;
    if (b[15] < 2 || avail < ACPI_RSDP_V2_LEN)
        return ACPI_OK;
    /* The v1 part is sound; a broken v2 extension only costs us the XSDT. */
    len = get32(b + 20);
    if (len < ACPI_RSDP_V2_LEN || len > avail || acpi_checksum(b, len))
        return ACPI_OK;
    *xsdt = get64(b + 24);
    return ACPI_OK;
}

const void *acpi_table_get(const struct acpi_mem *m, paddr_t pa, const char *sig,
                           u32 *len)
{
    const u8 *h, *t;
    u32 l;

    if (!pa)
        return NULL;
    h = m->map(m->ctx, pa, ACPI_HDR_LEN);
    if (!h || (sig && memcmp(h, sig, 4)))
        return NULL;
    l = get32(h + 4);
    if (l < ACPI_HDR_LEN || l > ACPI_MAX_TABLE_LEN)
        return NULL;
    t = m->map(m->ctx, pa, l);
    /* Re-read through the full mapping: that is the copy we will parse. */
    if (!t || get32(t + 4) != l || (sig && memcmp(t, sig, 4)) || acpi_checksum(t, l))
        return NULL;
    *len = l;
    return t;
}

/* Finds the first valid table with signature sig listed in the root table. */
static const void *root_find(const struct acpi_mem *m, const u8 *root, u32 root_len,
                             unsigned int entry_size, const char *sig, u32 *len,
                             struct acpi_info *out)
{
    u32 n = (root_len - ACPI_HDR_LEN) / entry_size;

    for (u32 i = 0; i < n; i++) {
        const u8 *e = root + ACPI_HDR_LEN + i * entry_size;
        paddr_t pa = entry_size == 8 ? get64(e) : get32(e);
        const u8 *h = pa ? m->map(m->ctx, pa, ACPI_HDR_LEN) : NULL;
        const void *t;

        if (!h) {
            out->bad_tables++;
            continue;
        }
        if (memcmp(h, sig, 4))
            continue;
        t = acpi_table_get(m, pa, sig, len);
        if (t)
            return t;
        out->bad_tables++;
    }
    return NULL;
}

static bool have_apic_id(const struct acpi_info *out, u32 apic_id)
{
    for (unsigned int i = 0; i < out->nr_cpus; i++)
        if (out->cpus[i].apic_id == apic_id)
            return true;
    return false;
}

static void add_cpu(struct acpi_info *out, u32 apic_id, u32 uid, u32 flags, bool x2)
{
    struct acpi_cpu *c;

    /* Neither enabled nor online-capable: the slot is not populated. */
    if (!(flags & (ACPI_MADT_CPU_ENABLED | ACPI_MADT_CPU_ONLINE_CAPABLE)))
        return;
    if (x2 ? apic_id == 0xffffffffU : apic_id == 0xff) {
        out->bad_entries++;
        return;
    }
    /* Firmware may describe one CPU with both entry types. */
    if (have_apic_id(out, apic_id))
        return;
    if (out->nr_cpus == ACPI_MAX_CPUS) {
        out->cpus_dropped++;
        return;
    }
    c = &out->cpus[out->nr_cpus++];
    c->apic_id = apic_id;
    c->uid = uid;
    c->enabled = flags & ACPI_MADT_CPU_ENABLED;
    c->online_capable = !c->enabled && (flags & ACPI_MADT_CPU_ONLINE_CAPABLE);
    c->x2apic_entry = x2;
}

static void add_ioapic(struct acpi_info *out, const u8 *e)
{
    struct acpi_ioapic *io;

    if (!get32(e + 4)) {
        out->bad_entries++;
        return;
    }
    if (out->nr_ioapics == ACPI_MAX_IOAPICS) {
        out->ioapics_dropped++;
        return;
    }
    io = &out->ioapics[out->nr_ioapics++];
    io->id = e[2];
    io->addr = get32(e + 4);
    io->gsi_base = get32(e + 8);
}

static void add_override(struct acpi_info *out, const u8 *e)
{
    struct acpi_override *o;

    if (out->nr_overrides == ACPI_MAX_OVERRIDES) {
        out->overrides_dropped++;
        return;
    }
    o = &out->overrides[out->nr_overrides++];
    o->bus = e[2];
    o->source_irq = e[3];
    o->gsi = get32(e + 4);
    o->flags = get16(e + 8);
}

/* Smallest valid length of each entry type Keel reads (0: ignored type). */
static u8 madt_min_len(u8 type)
{
    switch (type) {
    case MADT_LAPIC: return 8;
    case MADT_IOAPIC: return 12;
    case MADT_OVERRIDE: return 10;
    case MADT_LAPIC_ADDR: return 12;
    case MADT_X2APIC: return 16;
    default: return 0;
    }
}

static void madt_entry(const u8 *e, u8 elen, struct acpi_info *out)
{
    u8 min = madt_min_len(e[0]);

    if (!min)
        return;
    if (elen < min) {
        out->bad_entries++;
        return;
    }
    switch (e[0]) {
    case MADT_LAPIC:
        add_cpu(out, e[3], e[2], get32(e + 4), false);
        break;
    case MADT_IOAPIC:
        add_ioapic(out, e);
        break;
    case MADT_OVERRIDE:
        add_override(out, e);
        break;
    case MADT_LAPIC_ADDR:
        out->lapic_addr = get64(e + 4);
        break;
    case MADT_X2APIC:
        add_cpu(out, get32(e + 4), get32(e + 12), get32(e + 8), true);
        break;
    }
}

void acpi_madt_parse(const void *madt, u32 len, struct acpi_info *out)
{
    const u8 *t = madt;
    u32 off = MADT_ENTRIES_OFF;

    if (len < MADT_ENTRIES_OFF) {
        out->madt_truncated = true;
        return;
    }
    out->have_madt = true;
    out->lapic_addr = get32(t + 36);
    out->madt_flags = get32(t + 40);
    /* Each step advances by at least 2 bytes, so this always ends. */
    while (off < len) {
        u8 elen;

        if (len - off < 2 || (elen = t[off + 1]) < 2 || elen > len - off) {
            out->madt_truncated = true;
            return;
        }
        madt_entry(t + off, elen, out);
        off += elen;
    }
}

#define FADT_SCI_INT 46
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_RESET_REG_SUP (1U << 10)
#define GAS_LEN 12

/* A 64-bit I/O port from a generic address structure (0: not I/O). */
static u32 gas_port(const u8 *g)
{
    u64 a = get64(g + 4);
    return g[0] == ACPI_SPACE_IO && a <= 0xffff ? (u32)a : 0;
}

void acpi_fadt_parse(const void *fadt, u32 len, struct acpi_info *out)
{
    const u8 *t = fadt;

    if (len < FADT_PM1B_CNT + 4)
        return;
    out->have_fadt = true;
    out->sci_irq = get16(t + FADT_SCI_INT);
    out->pm1a_cnt = get32(t + FADT_PM1A_CNT);
    out->pm1b_cnt = get32(t + FADT_PM1B_CNT);
    /* ACPI 2.0+: the extended blocks win when they name I/O ports. */
    if (len >= FADT_X_PM1A_CNT + GAS_LEN && gas_port(t + FADT_X_PM1A_CNT))
        out->pm1a_cnt = gas_port(t + FADT_X_PM1A_CNT);
    if (len >= FADT_X_PM1B_CNT + GAS_LEN && gas_port(t + FADT_X_PM1B_CNT))
        out->pm1b_cnt = gas_port(t + FADT_X_PM1B_CNT);
    if (len >= FADT_RESET_VALUE + 1 && (get32(t + FADT_FLAGS) & FADT_RESET_REG_SUP)) {
        const u8 *g = t + FADT_RESET_REG;
        out->reset_space = g[0];
        out->reset_addr = get64(g + 4);
        out->reset_value = t[FADT_RESET_VALUE];
        out->reset_supported = out->reset_addr &&
                               (g[0] == ACPI_SPACE_IO || g[0] == ACPI_SPACE_MEMORY ||
                                g[0] == ACPI_SPACE_PCI);
    }
}

/* Maps the RSDP with as many bytes as its revision says it has. */
static int rsdp_load(const struct acpi_mem *m, paddr_t pa, struct acpi_info *out,
                     paddr_t *xsdt, paddr_t *rsdt)
{
    const u8 *p = m->map(m->ctx, pa, ACPI_RSDP_V1_LEN);
    size_t avail = ACPI_RSDP_V1_LEN;

    if (p && p[15] >= 2) {
        const u8 *p2 = m->map(m->ctx, pa, ACPI_RSDP_V2_LEN);
        u32 len = p2 ? get32(p2 + 20) : 0;

        if (p2 && len >= ACPI_RSDP_V2_LEN && len <= RSDP_MAX_LEN)
            p2 = m->map(m->ctx, pa, len);
        else
            len = ACPI_RSDP_V2_LEN;
        if (p2) {
            p = p2;
            avail = len;
        }
    }
    return acpi_rsdp_check(p, avail, &out->rsdp_revision, xsdt, rsdt);
}

int acpi_parse(const struct acpi_mem *m, paddr_t rsdp_pa, struct acpi_info *out)
{
    paddr_t xsdt, rsdt;
    const u8 *root = NULL, *madt;
    u32 root_len = 0, madt_len = 0, fadt_len = 0;
    unsigned int entry_size = 4;

    memset(out, 0, sizeof(*out));
    out->rsdp_pa = rsdp_pa;
    if (rsdp_load(m, rsdp_pa, out, &xsdt, &rsdt) != ACPI_OK)
        return ACPI_E_NO_RSDP;
    if (xsdt) {
        root = acpi_table_get(m, xsdt, "XSDT", &root_len);
        if (root) {
            entry_size = 8;
            out->used_xsdt = true;
        } else {
            out->bad_tables++;
        }
    }
    if (!root && rsdt)
        root = acpi_table_get(m, rsdt, "RSDT", &root_len);
    if (!root)
        return ACPI_E_NO_ROOT;
    out->nr_root_entries = (root_len - ACPI_HDR_LEN) / entry_size;
    madt = root_find(m, root, root_len, entry_size, "APIC", &madt_len, out);
    if (!madt)
        return ACPI_E_NO_MADT;
    acpi_madt_parse(madt, madt_len, out);
    /* The FADT is optional to Keel: power-off and reset use it if valid. */
    unsigned int bad = out->bad_tables; /* the walk for the MADT counted them */
    const void *fadt = root_find(m, root, root_len, entry_size, "FACP", &fadt_len, out);
    out->bad_tables = bad;
    if (fadt)
        acpi_fadt_parse(fadt, fadt_len, out);
    return out->have_madt ? ACPI_OK : ACPI_E_BAD_TABLE;
}

const char *acpi_strerror(int err)
{
    switch (err) {
    case ACPI_OK: return "ok";
    case ACPI_E_NO_RSDP: return "no valid RSDP";
    case ACPI_E_NO_ROOT: return "no valid XSDT or RSDT";
    case ACPI_E_NO_MADT: return "no valid MADT";
    case ACPI_E_BAD_TABLE: return "MADT too short";
    default: return "unknown error";
    }
}
