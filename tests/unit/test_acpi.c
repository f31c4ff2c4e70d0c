/* ACPI walk against hand-built firmware images, good and corrupt. */
#include <keel/acpi.h>

#include "harness.h"

/* A fake physical memory window: [MEM_BASE, MEM_BASE + MEM_SIZE). */
#define MEM_BASE 0x40000UL
#define MEM_SIZE 0x10000UL
static unsigned char mem[MEM_SIZE];

static const void *fake_map(void *ctx, paddr_t pa, size_t len)
{
    (void)ctx;
    if (pa < MEM_BASE || pa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (pa - MEM_BASE))
        return NULL;
    return mem + (pa - MEM_BASE);
}

static const struct acpi_mem fake = {fake_map, NULL};

#define RSDP_AT 0x0000
#define RSDT_AT 0x0100
#define XSDT_AT 0x0200
#define MADT_AT 0x1000
#define MADT2_AT 0x3000

static void put32(size_t off, unsigned v) { memcpy(mem + off, &v, 4); }
static void put64(size_t off, unsigned long long v) { memcpy(mem + off, &v, 8); }
static unsigned get32m(size_t off) { unsigned v; memcpy(&v, mem + off, 4); return v; }

static void fix_sum(size_t off, size_t len, size_t sum_at)
{
    mem[sum_at] = 0;
    mem[sum_at] = (unsigned char)(0x100 - acpi_checksum(mem + off, len));
}

static void put_rsdp(unsigned rev, unsigned rsdt, unsigned long long xsdt)
{
    memcpy(mem + RSDP_AT, "RSD PTR ", 8);
    memcpy(mem + RSDP_AT + 9, "KEELT ", 6);
    mem[RSDP_AT + 15] = (unsigned char)rev;
    put32(RSDP_AT + 16, rsdt);
    put32(RSDP_AT + 20, ACPI_RSDP_V2_LEN);
    put64(RSDP_AT + 24, xsdt);
    fix_sum(RSDP_AT, ACPI_RSDP_V1_LEN, RSDP_AT + 8);
    fix_sum(RSDP_AT, ACPI_RSDP_V2_LEN, RSDP_AT + 32);
}

static void put_header(size_t off, const char *sig, unsigned len)
{
    memcpy(mem + off, sig, 4);
    put32(off + 4, len);
    mem[off + 8] = 1;
    memcpy(mem + off + 10, "KEELT ", 6);
    fix_sum(off, len, off + 9);
}

/* Root table at off listing the given tables (entry size 4 or 8). */
static void put_root(size_t off, const char *sig, unsigned esz, const size_t *tables, int n)
{
    for (int i = 0; i < n; i++) {
        if (esz == 8)
            put64(off + ACPI_HDR_LEN + 8 * i, MEM_BASE + tables[i]);
        else
            put32(off + ACPI_HDR_LEN + 4 * i, (unsigned)(MEM_BASE + tables[i]));
    }
    put_header(off, sig, ACPI_HDR_LEN + esz * n);
}

/* MADT builder: entries appended at madt_end, header fixed by madt_close. */
static size_t madt_at, madt_end;

static void madt_open(size_t off)
{
    madt_at = off;
    memset(mem + off, 0, 0x1000);
    put32(off + 36, 0xfee00000);
    put32(off + 40, ACPI_MADT_PCAT_COMPAT);
    madt_end = off + 44;
}

static void madt_raw(const unsigned char *e, size_t n)
{
    memcpy(mem + madt_end, e, n);
    madt_end += n;
}

static void madt_lapic(unsigned uid, unsigned id, unsigned flags)
{
    unsigned char e[8] = {0, 8, (unsigned char)uid, (unsigned char)id};
    memcpy(e + 4, &flags, 4);
    madt_raw(e, sizeof(e));
}

static void madt_x2apic(unsigned id, unsigned flags, unsigned uid)
{
    unsigned char e[16] = {9, 16};
    memcpy(e + 4, &id, 4);
    memcpy(e + 8, &flags, 4);
    memcpy(e + 12, &uid, 4);
    madt_raw(e, sizeof(e));
}

static void madt_ioapic(unsigned id, unsigned addr, unsigned gsi)
{
    unsigned char e[12] = {1, 12, (unsigned char)id};
    memcpy(e + 4, &addr, 4);
    memcpy(e + 8, &gsi, 4);
    madt_raw(e, sizeof(e));
}

static void madt_override(unsigned irq, unsigned gsi, unsigned short flags)
{
    unsigned char e[10] = {2, 10, 0, (unsigned char)irq};
    memcpy(e + 4, &gsi, 4);
    memcpy(e + 8, &flags, 2);
    madt_raw(e, sizeof(e));
}

static void madt_close(void)
{
    put_header(madt_at, "APIC", (unsigned)(madt_end - madt_at));
}

/* A typical two-CPU machine reached via RSDP v1 -> RSDT -> MADT. */
static void build_basic(void)
{
    size_t tables[] = {0x2000, MADT_AT};

    memset(mem, 0, sizeof(mem));
    put_header(0x2000, "FACP", 64); /* unrelated table first */
    madt_open(MADT_AT);
    madt_lapic(0, 0, 1);
    madt_lapic(1, 1, 1);
    madt_ioapic(0, 0xfec00000, 0);
    madt_override(0, 2, 0);
    madt_override(9, 9, 0xd);
    madt_close();
    put_root(RSDT_AT, "RSDT", 4, tables, 2);
    put_rsdp(0, (unsigned)(MEM_BASE + RSDT_AT), 0);
}

static struct acpi_info info;

TEST(basic_rsdt_madt)
{
    build_basic();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK_EQ(info.rsdp_revision, 0);
    CHECK(!info.used_xsdt);
    CHECK_EQ(info.nr_root_entries, 2);
    CHECK(info.have_madt);
    CHECK_EQ(info.lapic_addr, 0xfee00000);
    CHECK_EQ(info.madt_flags, ACPI_MADT_PCAT_COMPAT);
    CHECK_EQ(info.nr_cpus, 2);
    CHECK_EQ(info.cpus[0].apic_id, 0);
    CHECK_EQ(info.cpus[1].apic_id, 1);
    CHECK(info.cpus[1].enabled);
    CHECK_EQ(info.nr_ioapics, 1);
    CHECK_EQ(info.ioapics[0].addr, 0xfec00000);
    CHECK_EQ(info.nr_overrides, 2);
    CHECK_EQ(info.overrides[0].source_irq, 0);
    CHECK_EQ(info.overrides[0].gsi, 2);
    CHECK_EQ(info.overrides[1].flags, 0xd);
    CHECK(!info.madt_truncated);
    CHECK_EQ(info.bad_entries + info.bad_tables, 0);
}

/* v2: the XSDT wins over the RSDT (which points at a different MADT). */
static void build_v2(void)
{
    size_t xt[] = {MADT_AT}, rt[] = {MADT2_AT};

    build_basic();
    madt_open(MADT2_AT);
    madt_lapic(0, 7, 1);
    madt_close();
    put_root(RSDT_AT, "RSDT", 4, rt, 1);
    put_root(XSDT_AT, "XSDT", 8, xt, 1);
    put_rsdp(2, (unsigned)(MEM_BASE + RSDT_AT), MEM_BASE + XSDT_AT);
}

TEST(xsdt_preferred)
{
    build_v2();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK_EQ(info.rsdp_revision, 2);
    CHECK(info.used_xsdt);
    CHECK_EQ(info.nr_cpus, 2);
}

TEST(bad_xsdt_falls_back_to_rsdt)
{
    build_v2();
    mem[XSDT_AT + 20] ^= 0x55; /* checksum now wrong */
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(!info.used_xsdt);
    CHECK_EQ(info.bad_tables, 1);
    CHECK_EQ(info.nr_cpus, 1);
    CHECK_EQ(info.cpus[0].apic_id, 7);
}

TEST(bad_rsdp_v2_extension_uses_rsdt)
{
    build_v2();
    mem[RSDP_AT + 32] ^= 1; /* extended checksum only */
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(!info.used_xsdt);
    CHECK_EQ(info.cpus[0].apic_id, 7);
    /* An extension length larger than the RSDP can be also rejects it. */
    build_v2();
    put32(RSDP_AT + 20, 0xffffff00);
    fix_sum(RSDP_AT, ACPI_RSDP_V2_LEN, RSDP_AT + 32);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(!info.used_xsdt);
}

TEST(bad_rsdp)
{
    build_basic();
    mem[RSDP_AT + 19] ^= 1;
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_RSDP);
    build_basic();
    mem[RSDP_AT] = 'X';
    fix_sum(RSDP_AT, ACPI_RSDP_V1_LEN, RSDP_AT + 8);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_RSDP);
    /* RSDP straddling the end of readable memory. */
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + MEM_SIZE - 10, &info), ACPI_E_NO_RSDP);
    CHECK_EQ(acpi_parse(&fake, 0, &info), ACPI_E_NO_RSDP);
}

TEST(bad_root)
{
    build_basic();
    mem[RSDT_AT + 36] ^= 1;
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_ROOT);
    build_basic();
    put_rsdp(0, 0x7fff0000, 0); /* outside memory */
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_ROOT);
    build_basic();
    put_rsdp(0, 0, 0);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_ROOT);
}

TEST(bad_madt_checksum)
{
    build_basic();
    mem[MADT_AT + 50] ^= 1;
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_MADT);
    CHECK_EQ(info.bad_tables, 1);
    CHECK_EQ(info.nr_cpus, 0);
}

TEST(madt_length_lies)
{
    unsigned len;

    /* Longer than memory: the accessor refuses; shorter than a header too. */
    build_basic();
    put32(MADT_AT + 4, 0x00100000);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_MADT);
    build_basic();
    put32(MADT_AT + 4, 0xffffffff);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_MADT);
    build_basic();
    put32(MADT_AT + 4, 10);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_MADT);
    /* Valid checksum but too short for the MADT's own fields. */
    build_basic();
    put_header(MADT_AT, "APIC", 40);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_BAD_TABLE);
    CHECK(info.madt_truncated);
    /* Truncate the MADT inside its second CPU entry: first one survives. */
    build_basic();
    len = 44 + 8 + 5;
    put_header(MADT_AT, "APIC", len);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(info.madt_truncated);
    CHECK_EQ(info.nr_cpus, 1);
}

TEST(root_table_length_lies)
{
    build_basic();
    put32(RSDT_AT + 4, 0x20000); /* past the end of memory */
    fix_sum(RSDT_AT, ACPI_HDR_LEN + 8, RSDT_AT + 9);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_E_NO_ROOT);
    /* Entries pointing nowhere are counted and skipped. */
    build_basic();
    put32(RSDT_AT + ACPI_HDR_LEN, 0x90000000);
    fix_sum(RSDT_AT, ACPI_HDR_LEN + 8, RSDT_AT + 9);
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK_EQ(info.bad_tables, 1);
    CHECK_EQ(info.nr_cpus, 2);
}

TEST(zero_length_entry_stops)
{
    unsigned char zero[2] = {0, 0}, one[2] = {1, 1};

    build_basic();
    madt_open(MADT_AT);
    madt_lapic(0, 0, 1);
    madt_raw(zero, 2);
    madt_lapic(1, 1, 1);
    madt_close();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(info.madt_truncated);
    CHECK_EQ(info.nr_cpus, 1);

    build_basic();
    madt_open(MADT_AT);
    madt_raw(one, 2);
    madt_close();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(info.madt_truncated);
    CHECK_EQ(info.nr_cpus, 0);
}

TEST(entry_past_end_and_short_entries)
{
    unsigned char past[4] = {0, 200, 1, 1};
    unsigned char short_io[8] = {1, 8, 0, 0, 0, 0, 0xc0, 0xfe};
    unsigned char unknown[6] = {0x7f, 6, 1, 2, 3, 4};

    build_basic();
    madt_open(MADT_AT);
    madt_raw(unknown, sizeof(unknown));
    madt_raw(short_io, sizeof(short_io));
    madt_lapic(0, 3, 1);
    madt_raw(past, sizeof(past));
    madt_close();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK(info.madt_truncated);
    CHECK_EQ(info.bad_entries, 1);
    CHECK_EQ(info.nr_ioapics, 0);
    CHECK_EQ(info.nr_cpus, 1);
    CHECK_EQ(info.cpus[0].apic_id, 3);
}

TEST(cpu_flags_and_x2apic)
{
    build_basic();
    madt_open(MADT_AT);
    madt_lapic(0, 0, 1);
    madt_lapic(1, 1, 0);          /* not present: ignored */
    madt_lapic(2, 2, 2);          /* online-capable, not enabled */
    madt_lapic(3, 0xff, 1);       /* broadcast id: bad */
    madt_x2apic(0, 1, 0);         /* duplicate of APIC id 0 */
    madt_x2apic(300, 1, 4);       /* needs x2APIC */
    madt_x2apic(0xffffffff, 1, 5); /* bad */
    madt_close();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK_EQ(info.nr_cpus, 3);
    CHECK_EQ(info.cpus[0].apic_id, 0);
    CHECK(!info.cpus[0].x2apic_entry);
    CHECK_EQ(info.cpus[1].apic_id, 2);
    CHECK(!info.cpus[1].enabled);
    CHECK(info.cpus[1].online_capable);
    CHECK_EQ(info.cpus[2].apic_id, 300);
    CHECK_EQ(info.cpus[2].uid, 4);
    CHECK(info.cpus[2].x2apic_entry);
    CHECK(info.cpus[2].enabled);
    CHECK_EQ(info.bad_entries, 2);
}

TEST(too_many_cpus_and_ioapics)
{
    build_basic();
    madt_open(MADT_AT);
    for (unsigned i = 0; i < ACPI_MAX_CPUS + 6; i++)
        madt_x2apic(i * 2, 1, i);
    for (unsigned i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
        madt_ioapic(i, 0xfec00000 + i * 0x1000, i * 24);
    madt_ioapic(99, 0, 0); /* address 0: bad */
    madt_close();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK_EQ(info.nr_cpus, ACPI_MAX_CPUS);
    CHECK_EQ(info.cpus_dropped, 6);
    CHECK_EQ(info.cpus[ACPI_MAX_CPUS - 1].apic_id, (ACPI_MAX_CPUS - 1) * 2);
    CHECK_EQ(info.nr_ioapics, ACPI_MAX_IOAPICS);
    CHECK_EQ(info.ioapics_dropped, 2);
    CHECK_EQ(info.bad_entries, 1);
}

TEST(lapic_address_override)
{
    unsigned char e[12] = {5, 12};
    unsigned long long a = 0x1234567000ULL;

    memcpy(e + 4, &a, 8);
    build_basic();
    madt_open(MADT_AT);
    madt_lapic(0, 0, 1);
    madt_raw(e, sizeof(e));
    madt_close();
    CHECK_EQ(acpi_parse(&fake, MEM_BASE + RSDP_AT, &info), ACPI_OK);
    CHECK_EQ(info.lapic_addr, 0x1234567000ULL);
    CHECK_EQ(get32m(MADT_AT + 36), 0xfee00000);
}

TEST(table_get_checks_signature)
{
    unsigned len = 0;

    build_basic();
    CHECK(acpi_table_get(&fake, MEM_BASE + MADT_AT, "APIC", &len) != NULL);
    CHECK_EQ(len, 44 + 16 + 12 + 20);
    CHECK(acpi_table_get(&fake, MEM_BASE + MADT_AT, "FACP", &len) == NULL);
    CHECK(acpi_table_get(&fake, MEM_BASE + MADT_AT, NULL, &len) != NULL);
}

/* ---- FADT */


static void fput32(u8 *p, u32 v) { memcpy(p, &v, 4); }

TEST(fadt_gives_pm1_sci_and_reset)
{
    u8 f[244] = {0};
    struct acpi_info info;

    memset(&info, 0, sizeof(info));
    f[46] = 9;
    fput32(f + 64, 0x604);
    acpi_fadt_parse(f, 116, &info); /* ACPI 1.0 size: no reset register */
    CHECK(info.have_fadt);
    CHECK_EQ(info.sci_irq, 9);
    CHECK_EQ(info.pm1a_cnt, 0x604);
    CHECK(!info.reset_supported);
    /* 2.0+: reset register (I/O 0xcf9, value 6) and extended blocks. */
    fput32(f + 112, 1U << 10);
    f[116] = ACPI_SPACE_IO;
    fput32(f + 120, 0xcf9);
    f[128] = 6;
    f[172] = ACPI_SPACE_IO;
    fput32(f + 176, 0x1004);
    memset(&info, 0, sizeof(info));
    acpi_fadt_parse(f, sizeof(f), &info);
    CHECK(info.reset_supported);
    CHECK_EQ(info.reset_addr, 0xcf9);
    CHECK_EQ(info.reset_value, 6);
    CHECK_EQ(info.pm1a_cnt, 0x1004);
    /* Too short to hold the PM1 blocks: nothing taken. */
    memset(&info, 0, sizeof(info));
    acpi_fadt_parse(f, 60, &info);
    CHECK(!info.have_fadt);
}
