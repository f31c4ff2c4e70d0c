/* Multiboot 1 and 2 parsing, with well-formed and hostile information. */
#include <keel/bootinfo.h>

#include "harness.h"

#define BASE 0x10000ULL /* physical address of buf[0] */
static _Alignas(8) u8 buf[8192];
static struct mem_window win = {buf, BASE, sizeof(buf)};
static struct boot_info bi;

static void put32(u64 pa, u32 v) { memcpy(&buf[pa - BASE], &v, 4); }
static void put64(u64 pa, u64 v) { memcpy(&buf[pa - BASE], &v, 8); }
static void putstr(u64 pa, const char *s) { memcpy(&buf[pa - BASE], s, strlen(s) + 1); }

/* ---------------------------------------------------------- Multiboot 1 */

#define MB1 (BASE + 0x100)
#define MB1_MODS (BASE + 0x200)
#define MB1_MMAP (BASE + 0x300)
#define MB1_STR (BASE + 0x800)

static void mb1_entry(u64 pa, u32 size, u64 start, u64 len, u32 type)
{
    put32(pa, size);
    put64(pa + 4, start);
    put64(pa + 12, len);
    put32(pa + 20, type);
}

/* A GRUB-like MB1 block: cmdline, two modules, a 3-entry map, a name. */
static void mb1_build(void)
{
    memset(buf, 0, sizeof(buf));
    put32(MB1, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
    put32(MB1 + 4, 639);
    put32(MB1 + 8, 260000);
    put32(MB1 + 16, MB1_STR);
    putstr(MB1_STR, "/boot/keel loglvl=debug selftest");
    put32(MB1 + 20, 2);
    put32(MB1 + 24, MB1_MODS);
    put32(MB1_MODS, 0x1000000);
    put32(MB1_MODS + 4, 0x1234567);
    put32(MB1_MODS + 8, MB1_STR + 0x100);
    putstr(MB1_STR + 0x100, "vmlinuz console=hvc0 root=/dev/xvda");
    put32(MB1_MODS + 16, 0x2000000);
    put32(MB1_MODS + 20, 0x2000000); /* empty module is fine */
    put32(MB1_MODS + 24, MB1_STR + 0x200);
    putstr(MB1_STR + 0x200, "initrd.img");
    mb1_entry(MB1_MMAP, 20, 0, 0x9fc00, E820_RAM);
    mb1_entry(MB1_MMAP + 24, 24, 0x9fc00, 0x400, E820_RESERVED); /* bigger entry */
    mb1_entry(MB1_MMAP + 52, 20, 0x100000, 0x7f00000, E820_RAM);
    put32(MB1 + 44, 76);
    put32(MB1 + 48, MB1_MMAP);
    put32(MB1 + 64, MB1_STR + 0x300);
    putstr(MB1_STR + 0x300, "GRUB 0.97");
}

static int parse(u32 magic, u64 pa)
{
    return boot_info_parse(&bi, magic, pa, &win);
}

TEST(mb1_good)
{
    mb1_build();
    CHECK_EQ(parse(MB1_LOADER_MAGIC, MB1), 0);
    CHECK(bi.error == NULL);
    CHECK_EQ(bi.protocol, 1);
    CHECK_STR(bi.cmdline, "/boot/keel loglvl=debug selftest");
    CHECK_STR(boot_cmdline_args(&bi, bi.cmdline), "loglvl=debug selftest");
    CHECK_STR(bi.loader_name, "GRUB 0.97");
    CHECK_EQ(bi.nr_modules, 2);
    CHECK_EQ(bi.modules[0].start, 0x1000000);
    CHECK_EQ(bi.modules[0].end, 0x1234567);
    CHECK_STR(bi.modules[0].cmdline, "vmlinuz console=hvc0 root=/dev/xvda");
    CHECK_STR(boot_cmdline_args(&bi, bi.modules[0].cmdline), "console=hvc0 root=/dev/xvda");
    CHECK_STR(bi.modules[1].cmdline, "initrd.img");
    CHECK_STR(boot_cmdline_args(&bi, bi.modules[1].cmdline), "");
    CHECK(bi.has_mmap);
    CHECK_EQ(bi.nr_ranges, 3);
    CHECK_EQ(bi.ranges[1].start, 0x9fc00);
    CHECK_EQ(bi.ranges[1].type, E820_RESERVED);
    CHECK_EQ(bi.ranges[2].start, 0x100000);
    CHECK_EQ(bi.ranges[2].len, 0x7f00000);
    CHECK_EQ(bi.rsdp_pa, 0);
}

TEST(mb1_basic_memory_fallback)
{
    mb1_build();
    put32(MB1, (1 << 0));
    CHECK_EQ(parse(MB1_LOADER_MAGIC, MB1), 0);
    CHECK(!bi.has_mmap);
    CHECK_EQ(bi.nr_ranges, 2);
    CHECK_EQ(bi.ranges[0].len, 639 * 1024);
    CHECK_EQ(bi.ranges[1].start, 1 << 20);
    CHECK_EQ(bi.ranges[1].len, 260000ULL * 1024);
    CHECK_STR(bi.cmdline, "");
}

static void expect_error(u32 magic, u64 pa, const char *fragment)
{
    CHECK_EQ(parse(magic, pa), -1);
    CHECK(bi.error != NULL);
    if (bi.error && !strstr(bi.error, fragment)) {
        fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", bi.error, fragment);
        CHECK(0);
    }
}

TEST(bad_magic)
{
    mb1_build();
    expect_error(0x12345678, MB1, "unknown boot loader magic 0x12345678");
}

TEST(mb1_no_memory_info)
{
    mb1_build();
    put32(MB1, 0);
    expect_error(MB1_LOADER_MAGIC, MB1, "no memory map and no memory sizes");
}

TEST(mb1_info_outside_window)
{
    mb1_build();
    expect_error(MB1_LOADER_MAGIC, BASE + sizeof(buf) - 8, "outside loader memory");
    expect_error(MB1_LOADER_MAGIC, 0x100, "outside loader memory");
    expect_error(MB1_LOADER_MAGIC, ~0ULL - 4, "outside loader memory");
}

TEST(mb1_unterminated_cmdline)
{
    mb1_build();
    memset(&buf[sizeof(buf) - 16], 'x', 16);
    put32(MB1 + 16, BASE + sizeof(buf) - 16);
    expect_error(MB1_LOADER_MAGIC, MB1, "command line at 0x11ff0 is not NUL-terminated");
}

TEST(mb1_cmdline_too_long)
{
    mb1_build();
    memset(&buf[0x1000], 'y', BOOT_CMDLINE_MAX);
    buf[0x1000 + BOOT_CMDLINE_MAX] = 0;
    put32(MB1 + 16, BASE + 0x1000);
    expect_error(MB1_LOADER_MAGIC, MB1, "command line is 1024 bytes long");
}

TEST(mb1_long_loader_name_is_cut)
{
    mb1_build();
    memset(&buf[0x1000], 'n', 200);
    buf[0x1000 + 200] = 0;
    put32(MB1 + 64, BASE + 0x1000);
    CHECK_EQ(parse(MB1_LOADER_MAGIC, MB1), 0);
    CHECK_EQ(strlen(bi.loader_name), BOOT_LOADER_NAME_MAX - 1);
}

TEST(mb1_module_end_before_start)
{
    mb1_build();
    put32(MB1_MODS + 4, 0xfff);
    expect_error(MB1_LOADER_MAGIC, MB1, "module 0 ends (0xfff) before it starts");
}

TEST(mb1_too_many_modules)
{
    mb1_build();
    put32(MB1 + 20, 1000);
    expect_error(MB1_LOADER_MAGIC, MB1, "1000 modules");
    put32(MB1 + 20, 0x10000000); /* count * 16 overflows 32 bits */
    expect_error(MB1_LOADER_MAGIC, MB1, "modules");
}

TEST(mb1_module_list_outside)
{
    mb1_build();
    put32(MB1 + 24, BASE + sizeof(buf) - 16); /* two entries don't fit */
    expect_error(MB1_LOADER_MAGIC, MB1, "module list at 0x11ff0 is outside");
}

TEST(mb1_mmap_entry_too_small)
{
    mb1_build();
    put32(MB1_MMAP + 24, 12);
    expect_error(MB1_LOADER_MAGIC, MB1, "has size 12 (< 20)");
}

TEST(mb1_mmap_entry_past_end)
{
    mb1_build();
    put32(MB1 + 44, 70); /* last entry cut short */
    expect_error(MB1_LOADER_MAGIC, MB1, "runs past the map");
    put32(MB1 + 44, 54); /* 2 bytes: not even a size field */
    expect_error(MB1_LOADER_MAGIC, MB1, "truncated");
}

TEST(mb1_mmap_outside)
{
    mb1_build();
    put32(MB1 + 44, 0xffffff00);
    expect_error(MB1_LOADER_MAGIC, MB1, "memory map [0x10300, +0xffffff00) is outside");
}

TEST(mb1_too_many_ranges)
{
    mb1_build();
    for (int i = 0; i < BOOT_MAX_RANGES + 1; i++)
        mb1_entry(BASE + 0x1000 + i * 24, 20, (u64)i << 20, 1 << 20, E820_RAM);
    put32(MB1 + 44, (BOOT_MAX_RANGES + 1) * 24);
    put32(MB1 + 48, BASE + 0x1000);
    expect_error(MB1_LOADER_MAGIC, MB1, "more than 128 entries");
    put32(MB1 + 44, BOOT_MAX_RANGES * 24);
    CHECK_EQ(parse(MB1_LOADER_MAGIC, MB1), 0);
    CHECK_EQ(bi.nr_ranges, BOOT_MAX_RANGES);
}

/* ---------------------------------------------------------- Multiboot 2 */

#define MB2 (BASE + 0x1000)
static u64 mb2_off;

static u64 mb2_tag(u16 type, u32 size)
{
    u64 pa = MB2 + mb2_off;
    put32(pa, type);
    put32(pa + 4, size);
    mb2_off += (size + 7) & ~7U;
    return pa;
}

static void mb2_str_tag(u16 type, const char *s)
{
    u64 pa = mb2_tag(type, 8 + strlen(s) + 1);
    putstr(pa + 8, s);
}

static void mb2_finish(void)
{
    mb2_tag(0, 8);
    put32(MB2, mb2_off);
}

static void mb2_build(void)
{
    u64 t;

    memset(buf, 0, sizeof(buf));
    mb2_off = 8;
    mb2_str_tag(1, "keel.gz console=com1");
    mb2_str_tag(2, "GRUB 2.06-13");
    t = mb2_tag(3, 16 + 12);
    put32(t + 8, 0x400000);
    put32(t + 12, 0x500000);
    putstr(t + 16, "vmlinuz ro");
    t = mb2_tag(4, 16);
    put32(t + 8, 639);
    put32(t + 12, 129920);
    t = mb2_tag(6, 16 + 3 * 24);
    put32(t + 8, 24);
    put32(t + 12, 0);
    put64(t + 16, 0);
    put64(t + 24, 0x9fc00);
    put32(t + 32, E820_RAM);
    put64(t + 40, 0x100000);
    put64(t + 48, 0x7ee0000);
    put32(t + 56, E820_RAM);
    put64(t + 64, 0x7fe0000);
    put64(t + 72, 0x20000);
    put32(t + 80, E820_RESERVED);
    t = mb2_tag(14, 8 + 20);
    memcpy(&buf[t + 8 - BASE], "RSD PTR v1..........", 20);
    t = mb2_tag(21, 12); /* unknown tag: skipped */
    mb2_finish();
}

TEST(mb2_good)
{
    mb2_build();
    CHECK_EQ(parse(MB2_LOADER_MAGIC, MB2), 0);
    CHECK(bi.error == NULL);
    CHECK_EQ(bi.protocol, 2);
    CHECK_EQ(bi.info_size, mb2_off);
    CHECK_STR(bi.cmdline, "keel.gz console=com1");
    CHECK_STR(bi.loader_name, "GRUB 2.06-13");
    CHECK_EQ(bi.nr_modules, 1);
    CHECK_EQ(bi.modules[0].start, 0x400000);
    CHECK_EQ(bi.modules[0].end, 0x500000);
    CHECK_STR(bi.modules[0].cmdline, "vmlinuz ro");
    /* GRUB 2 passes no image path: nothing to strip. */
    CHECK_STR(boot_cmdline_args(&bi, bi.cmdline), "keel.gz console=com1");
    CHECK_STR(boot_cmdline_args(&bi, " ro quiet"), "ro quiet");
    /* Nor does any other Multiboot 2 loader. */
    bi.loader_name[0] = '\0';
    CHECK_STR(boot_cmdline_args(&bi, "debug-exit selftest"), "debug-exit selftest");
    CHECK(bi.has_basic_mem && bi.mem_upper_kb == 129920);
    CHECK(bi.has_mmap);
    CHECK_EQ(bi.nr_ranges, 3);
    CHECK_EQ(bi.ranges[2].start, 0x7fe0000);
    CHECK_EQ(bi.ranges[2].type, E820_RESERVED);
    CHECK(bi.rsdp_pa != 0);
    CHECK_EQ(bi.rsdp_len, 20);
    CHECK(!memcmp(bi.rsdp, "RSD PTR v1", 10));
    CHECK(!memcmp(&buf[bi.rsdp_pa - BASE], "RSD PTR v1", 10));
}

TEST(mb2_new_rsdp_wins)
{
    u64 t;
    mb2_build();
    mb2_off -= 8; /* reopen before the end tag */
    t = mb2_tag(15, 8 + 36);
    memcpy(&buf[t + 8 - BASE], "RSD PTR v2", 10);
    t = mb2_tag(14, 8 + 20); /* a later old one must not replace it */
    mb2_finish();
    CHECK_EQ(parse(MB2_LOADER_MAGIC, MB2), 0);
    CHECK_EQ(bi.rsdp_len, 36);
    CHECK(!memcmp(bi.rsdp, "RSD PTR v2", 10));
}

TEST(mb2_meminfo_fallback)
{
    u64 t;
    memset(buf, 0, sizeof(buf));
    mb2_off = 8;
    t = mb2_tag(4, 16);
    put32(t + 8, 600);
    put32(t + 12, 1024);
    mb2_finish();
    CHECK_EQ(parse(MB2_LOADER_MAGIC, MB2), 0);
    CHECK_EQ(bi.nr_ranges, 2);
    CHECK_EQ(bi.ranges[1].len, 1 << 20);
}

TEST(mb2_misaligned)
{
    mb2_build();
    expect_error(MB2_LOADER_MAGIC, MB2 + 4, "not 8-byte aligned");
}

TEST(mb2_absurd_total_size)
{
    mb2_build();
    put32(MB2, 4);
    expect_error(MB2_LOADER_MAGIC, MB2, "total_size 4 is absurd");
    put32(MB2, 0x80000000);
    expect_error(MB2_LOADER_MAGIC, MB2, "total_size 2147483648 is absurd");
    put32(MB2, 0x8000); /* plausible, but past the window */
    expect_error(MB2_LOADER_MAGIC, MB2, "outside loader memory");
}

TEST(mb2_tag_too_small)
{
    mb2_build();
    put32(MB2 + 8 + 4, 4); /* first tag's size */
    expect_error(MB2_LOADER_MAGIC, MB2, "tag 1 at offset 0x8 has bad size 4");
}

TEST(mb2_tag_past_end)
{
    mb2_build();
    put32(MB2 + 8 + 4, 0x4000);
    expect_error(MB2_LOADER_MAGIC, MB2, "has bad size 16384");
}

TEST(mb2_no_end_tag)
{
    mb2_build();
    put32(MB2, mb2_off - 8); /* total_size stops before the end tag */
    expect_error(MB2_LOADER_MAGIC, MB2, "no end tag");
}

TEST(mb2_unterminated_cmdline)
{
    mb2_build();
    u64 t = MB2 + 8;
    memset(&buf[t + 8 - BASE], 'z', 21); /* overwrite the NUL, keep the size */
    expect_error(MB2_LOADER_MAGIC, MB2, "command line at 0x11010 is not NUL-terminated");
}

TEST(mb2_empty_string_tag)
{
    memset(buf, 0, sizeof(buf));
    mb2_off = 8;
    mb2_tag(1, 8); /* no room for even a NUL */
    mb2_finish();
    expect_error(MB2_LOADER_MAGIC, MB2, "not NUL-terminated");
}

TEST(mb2_mmap_entry_size_bad)
{
    mb2_build();
    /* find the mmap tag: cmdline(32) + loader(24) + module(32) + meminfo(16) */
    u64 t = MB2 + 8 + 32 + 24 + 32 + 16;
    CHECK_EQ(buf[t - BASE], 6);
    put32(t + 8, 16);
    expect_error(MB2_LOADER_MAGIC, MB2, "entry size 16 is invalid");
    put32(t + 8, 0);
    expect_error(MB2_LOADER_MAGIC, MB2, "entry size 0 is invalid");
    put32(t + 8, 28);
    expect_error(MB2_LOADER_MAGIC, MB2, "entry size 28 is invalid");
}

TEST(mb2_module_bad)
{
    mb2_build();
    u64 t = MB2 + 8 + 32 + 24;
    CHECK_EQ(buf[t - BASE], 3);
    put32(t + 12, 0x3fffff);
    expect_error(MB2_LOADER_MAGIC, MB2, "ends (0x3fffff) before it starts (0x400000)");
    put32(t + 12, 0x500000);
    put32(t + 4, 16);
    expect_error(MB2_LOADER_MAGIC, MB2, "module tag has size 16");
}

TEST(mb2_too_many_modules)
{
    memset(buf, 0, sizeof(buf));
    mb2_off = 8;
    for (int i = 0; i <= BOOT_MAX_MODULES; i++)
        mb2_str_tag(3, "12345678m");
    mb2_tag(4, 16);
    mb2_finish();
    expect_error(MB2_LOADER_MAGIC, MB2, "more than 16 modules");
}

TEST(mb2_rsdp_short)
{
    memset(buf, 0, sizeof(buf));
    mb2_off = 8;
    mb2_tag(4, 16);
    mb2_tag(15, 8 + 20);
    mb2_finish();
    expect_error(MB2_LOADER_MAGIC, MB2, "RSDP tag has size 28 (< 44)");
}

/* Random corruption of good blocks must never crash (ASan watches). */
TEST(random_corruption_is_contained)
{
    unsigned seed = 1;
    for (int round = 0; round < 20000; round++) {
        bool two = round & 1;
        two ? mb2_build() : mb1_build();
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245 + 12345;
            unsigned off = (seed >> 8) % 0x400;
            buf[(two ? 0x1000 : 0x100) + off] = (u8)(seed >> 20);
        }
        int rc = parse(two ? MB2_LOADER_MAGIC : MB1_LOADER_MAGIC, two ? MB2 : MB1);
        CHECK(rc == 0 ? bi.error == NULL : bi.error != NULL);
    }
}
