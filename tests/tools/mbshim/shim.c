/*
 * mbshim: boots Keel with crafted Multiboot information, so system tests can
 * check what Keel does with malformed or unusual loader input.
 *
 * QEMU loads the shim with -kernel and "case=<name>" on its command line;
 * module 0 is Keel's flat image ("path keel-args"), further modules are
 * passed on to Keel.  The shim copies Keel to the load address its Multiboot 1
 * header names, builds the structure the case asks for and jumps to Keel's
 * entry with the case's magic in eax and the structure in ebx.
 *
 * The shim trusts QEMU (it is test equipment, not a loader for real use) but
 * still says clearly what went wrong when its own input is unusable.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned long size_t;

#define MB1_HEADER_MAGIC 0x1badb002u
#define MB1_LOADER_MAGIC 0x2badb002u
#define MB2_LOADER_MAGIC 0x36d76289u

#define MB1_INFO_MEM (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MMAP (1u << 6)

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_BAD 5

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP 6

#define COM1 0x3f8
#define MiB(x) ((u32)(x) << 20)

struct mb1_info {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline;
    u32 mods_count, mods_addr;
    u32 syms[4];
    u32 mmap_length, mmap_addr;
    /* drives, config table, loader name, APM, VBE, framebuffer: left zero */
    u32 unused[16];
};

struct mb1_module {
    u32 mod_start, mod_end, string, reserved;
};

struct mb1_mmap_entry {
    u32 size; /* of the rest of the entry: may exceed 20 */
    u64 addr, len;
    u32 type;
} __attribute__((packed));

struct mb1_header {
    u32 magic, flags, checksum;
    u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct range {
    u64 base, len;
    u32 type;
};

extern char __shim_start[], __shim_end[];
void shim_main(u32 magic, const struct mb1_info *mbi);
__attribute__((noreturn)) void enter_keel(u32 entry, u32 magic, u32 info);

/* ---------------------------------------------------------------- console */

static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (u8)c);
}

static void puts(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc('\r');
        putc(*s);
    }
}

static void puthex(u32 v)
{
    puts("0x");
    for (int shift = 28; shift >= 0; shift -= 4)
        putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

__attribute__((noreturn)) static void die(const char *why)
{
    puts("mbshim: error: ");
    puts(why);
    puts("\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---------------------------------------------------------------- memory */

/* The compiler may call these for struct copies, so they keep their names. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

#define copy memcpy
#define zero(p, n) memset((p), 0, (n))

static size_t length(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Everything handed to Keel lives in this arena, inside the shim's image. */
static u8 arena[64 * 1024] __attribute__((aligned(8)));
static u32 arena_used;

static void *alloc(u32 size, u32 align)
{
    u32 at = (arena_used + align - 1) & ~(align - 1);

    if (at + size > sizeof(arena))
        die("arena exhausted");
    arena_used = at + size;
    zero(arena + at, size);
    return arena + at;
}

static char *dup_string(const char *s, size_t n)
{
    char *d = alloc((u32)n + 1, 1);
    copy(d, s, n);
    d[n] = 0;
    return d;
}

static u32 addr(const void *p)
{
    return (u32)(size_t)p;
}

static int overlaps(u32 a, u32 a_end, u32 b, u32 b_end)
{
    return a < b_end && b < a_end;
}

/* ---------------------------------------------------------------- input */

static const struct mb1_module *mods;
static u32 nr_mods;
static const char *keel_cmdline; /* module 0's string, copied: "path args" */

static const char *case_name(const struct mb1_info *mbi, size_t *len)
{
    const char *s;

    if (!(mbi->flags & MB1_INFO_CMDLINE))
        die("no command line: pass -append case=<name>");
    for (s = (const char *)(size_t)mbi->cmdline; *s; s++)
        if ((s == (const char *)(size_t)mbi->cmdline || s[-1] == ' ') && s[0] == 'c' &&
            s[1] == 'a' && s[2] == 's' && s[3] == 'e' && s[4] == '=') {
            s += 5;
            for (*len = 0; s[*len] && s[*len] != ' '; (*len)++)
                ;
            return s;
        }
    die("no case=<name> on the command line");
}

static int name_is(const char *s, size_t n, const char *want)
{
    return length(want) == n && !memcmp(s, want, n);
}

/* Keel's arguments without the leading image path, as GRUB's multiboot2 gives. */
static const char *args_only(const char *s)
{
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

static const struct mb1_header *find_header(const u8 *image, u32 size, u32 *offset)
{
    for (u32 off = 0; off + sizeof(struct mb1_header) <= size && off < 8192; off += 4) {
        const struct mb1_header *h = (const void *)(image + off);
        if (h->magic == MB1_HEADER_MAGIC && h->magic + h->flags + h->checksum == 0) {
            *offset = off;
            return h;
        }
    }
    return 0;
}

/* Put Keel's flat image where its header wants it; return its entry point. */
static u32 load_keel(void)
{
    const u8 *image = (const u8 *)(size_t)mods[0].mod_start;
    u32 size = mods[0].mod_end - mods[0].mod_start, off, end, file_at;
    const struct mb1_header *h = find_header(image, size, &off);

    if (!h)
        die("module 0 has no Multiboot 1 header: is it build/keel?");
    if (!(h->flags & (1u << 16)))
        die("Keel's Multiboot 1 header has no address fields");
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > off)
        die("Keel's header_addr/load_addr are inconsistent");
    file_at = off - (h->header_addr - h->load_addr);
    end = h->load_end_addr ? h->load_end_addr : h->load_addr + (size - file_at);
    if (end < h->load_addr || end - h->load_addr > size - file_at || h->bss_end_addr < end)
        die("Keel's load range does not fit the module");
    if (overlaps(h->load_addr, h->bss_end_addr, addr(__shim_start), addr(__shim_end)))
        die("Keel would overwrite the shim");
    for (u32 i = 0; i < nr_mods; i++)
        if (overlaps(h->load_addr, h->bss_end_addr, mods[i].mod_start, mods[i].mod_end))
            die("Keel would overwrite a module");
    copy((void *)(size_t)h->load_addr, image + file_at, end - h->load_addr);
    zero((void *)(size_t)end, h->bss_end_addr - end);
    return h->entry_addr;
}

/* ---------------------------------------------------------------- Multiboot 1 */

/* The boot information a well-behaved loader would give, before a case bends it. */
static struct mb1_info *mb1_base(void)
{
    struct mb1_info *info = alloc(sizeof(*info), 8);
    struct mb1_module *m = alloc(sizeof(*m) * (nr_mods ? nr_mods : 1), 8);

    info->flags = MB1_INFO_CMDLINE | MB1_INFO_MODS;
    info->cmdline = addr(keel_cmdline);
    for (u32 i = 1; i < nr_mods; i++) {
        const char *s = (const char *)(size_t)mods[i].string;
        m[i - 1] = mods[i];
        m[i - 1].string = addr(dup_string(s, length(s)));
    }
    info->mods_count = nr_mods - 1;
    info->mods_addr = addr(m);
    return info;
}

static void mb1_set_mmap(struct mb1_info *info, const struct range *r, u32 n, u32 wide_at)
{
    u32 bytes = 0;
    u8 *map = alloc(n * 28, 8), *p = map;

    for (u32 i = 0; i < n; i++) {
        /* One entry is wider than the minimum, as the spec allows. */
        u32 rest = i == wide_at ? 24 : 20;
        struct mb1_mmap_entry *e = (void *)p;
        e->size = rest;
        e->addr = r[i].base;
        e->len = r[i].len;
        e->type = r[i].type;
        p += 4 + rest;
        bytes += 4 + rest;
    }
    info->flags |= MB1_INFO_MMAP;
    info->mmap_addr = addr(map);
    info->mmap_length = bytes;
}

/* Overlapping, unsorted, with holes: Keel must sanitize it and boot. */
static u32 case_mb1_mmap_overlap(u32 *magic)
{
    struct mb1_info *info = mb1_base();
    const u32 shim = addr(__shim_start), shim_len = addr(__shim_end) - shim;
    const struct range map[] = {
        {MiB(1), MiB(127), E820_RAM},
        {0, 0x9fc00, E820_RAM},                      /* out of order */
        {0xf0000, 0x10000, E820_RESERVED},
        {0x9fc00, 0x400, E820_RESERVED},
        {MiB(48), MiB(1), E820_RESERVED},            /* a hole punched into RAM */
        {MiB(112), MiB(32), E820_RAM},               /* overlaps the first RAM range */
        {shim, shim_len, E820_RESERVED},             /* keep the shim (and this map) */
        {MiB(80), 0, E820_RAM},                      /* empty */
        {MiB(128), 0x10000, E820_BAD},               /* bad RAM inside RAM */
        {MiB(148), MiB(92), E820_RAM},               /* after a hole at 144..148 */
        {MiB(100), MiB(2), E820_RAM},                /* duplicate of part of RAM */
        {MiB(240), MiB(16), E820_RESERVED},          /* QEMU's ACPI tables live here */
        {0xfffc0000, 0x40000, E820_RESERVED},
    };

    mb1_set_mmap(info, map, sizeof(map) / sizeof(map[0]), 3);
    info->flags |= MB1_INFO_MEM;
    info->mem_lower = 639;
    info->mem_upper = (MiB(240) - MiB(1)) >> 10;
    *magic = MB1_LOADER_MAGIC;
    return addr(info);
}

/* Only mem_lower/mem_upper, as very old loaders give. */
static u32 case_mb1_no_mmap(u32 *magic)
{
    struct mb1_info *info = mb1_base();

    info->flags |= MB1_INFO_MEM;
    info->mem_lower = 639;
    info->mem_upper = (MiB(240) - MiB(1)) >> 10;
    *magic = MB1_LOADER_MAGIC;
    return addr(info);
}

/* A module that ends before it starts. */
static u32 case_mb1_bad_module(u32 *magic)
{
    struct mb1_info *info = mb1_base();
    struct mb1_module *m = alloc(sizeof(*m), 8);

    m->mod_start = MiB(80);
    m->mod_end = MiB(64);
    m->string = addr(dup_string("bogus-module", 12));
    info->mods_count = 1;
    info->mods_addr = addr(m);
    info->flags |= MB1_INFO_MEM;
    info->mem_lower = 639;
    info->mem_upper = (MiB(240) - MiB(1)) >> 10;
    *magic = MB1_LOADER_MAGIC;
    return addr(info);
}

/* Sound Multiboot 1 information, but the wrong magic in eax. */
static u32 case_bad_magic(u32 *magic)
{
    u32 info = case_mb1_no_mmap(magic);

    *magic = 0x0badc0de;
    return info;
}

/* ---------------------------------------------------------------- Multiboot 2 */

static u8 *mb2_buf;
static u32 mb2_len;

static void *mb2_tag(u32 type, u32 size)
{
    u32 at = (mb2_len + 7) & ~7u;
    u32 *tag;

    if (at + size > 8192)
        die("multiboot2 scratch buffer too small");
    tag = (u32 *)(mb2_buf + at);
    tag[0] = type;
    tag[1] = size;
    mb2_len = at + size;
    return tag;
}

/* Header (size filled in by mb2_finish), then a sound set of tags. */
static void mb2_start(void)
{
    mb2_buf = alloc(8192, 8);
    mb2_len = 8;
}

static void mb2_cmdline(void)
{
    const char *s = args_only(keel_cmdline);
    u32 n = (u32)length(s);
    u8 *tag = mb2_tag(MB2_TAG_CMDLINE, 8 + n + 1);

    copy(tag + 8, s, n + 1);
}

static void mb2_meminfo(void)
{
    u32 *tag = mb2_tag(MB2_TAG_MEMINFO, 16);

    tag[2] = 639;
    tag[3] = (MiB(240) - MiB(1)) >> 10;
}

static void mb2_mmap(void)
{
    static const struct range map[] = {
        {0, 0x9fc00, E820_RAM},
        {0x9fc00, 0x400, E820_RESERVED},
        {0xf0000, 0x10000, E820_RESERVED},
        {MiB(1), MiB(239), E820_RAM},
        {MiB(240), MiB(16), E820_RESERVED},
    };
    const u32 n = sizeof(map) / sizeof(map[0]);
    u32 *tag = mb2_tag(MB2_TAG_MMAP, 16 + n * 24);

    tag[2] = 24; /* entry_size */
    tag[3] = 0;  /* entry_version */
    for (u32 i = 0; i < n; i++) {
        u32 *e = tag + 4 + i * 6;
        copy(e, &map[i].base, 8);
        copy(e + 2, &map[i].len, 8);
        e[4] = map[i].type;
        e[5] = 0;
    }
}

static void mb2_modules(void)
{
    for (u32 i = 1; i < nr_mods; i++) {
        const char *s = args_only((const char *)(size_t)mods[i].string);
        u32 n = (u32)length(s);
        u32 *tag = mb2_tag(MB2_TAG_MODULE, 16 + n + 1);

        tag[2] = mods[i].mod_start;
        tag[3] = mods[i].mod_end;
        copy(tag + 4, s, n + 1);
    }
}

static u32 mb2_finish(u32 *magic)
{
    mb2_tag(MB2_TAG_END, 8);
    ((u32 *)mb2_buf)[0] = mb2_len;
    ((u32 *)mb2_buf)[1] = 0;
    *magic = MB2_LOADER_MAGIC;
    return addr(mb2_buf);
}

/* A well-formed structure: the control case for the malformed ones. */
static u32 case_mb2_ok(u32 *magic)
{
    mb2_start();
    mb2_cmdline();
    mb2_meminfo();
    mb2_mmap();
    mb2_modules();
    return mb2_finish(magic);
}

/* total_size smaller than the fixed 8-byte header. */
static u32 case_mb2_bad_size(u32 *magic)
{
    u32 info = case_mb2_ok(magic);

    ((u32 *)mb2_buf)[0] = 4;
    return info;
}

/* A tag whose size runs far past total_size. */
static u32 case_mb2_tag_overrun(u32 *magic)
{
    u32 *tag;

    mb2_start();
    mb2_cmdline();
    tag = mb2_tag(MB2_TAG_MEMINFO, 16);
    tag[2] = 639;
    tag[3] = (MiB(240) - MiB(1)) >> 10;
    mb2_mmap();
    mb2_finish(magic);
    tag[1] = 0x10000;
    return addr(mb2_buf);
}

/* A sound structure at an address that is not 8-byte aligned. */
static u32 case_mb2_misaligned(u32 *magic)
{
    u8 *moved;

    case_mb2_ok(magic);
    moved = (u8 *)alloc(mb2_len + 8, 8) + 4;
    copy(moved, mb2_buf, mb2_len);
    return addr(moved);
}

/* ---------------------------------------------------------------- main */

static const struct {
    const char *name;
    u32 (*build)(u32 *magic);
} cases[] = {
    {"bad-magic", case_bad_magic},
    {"mb1-mmap-overlap", case_mb1_mmap_overlap},
    {"mb1-no-mmap", case_mb1_no_mmap},
    {"mb1-bad-module", case_mb1_bad_module},
    {"mb2-ok", case_mb2_ok},
    {"mb2-bad-size", case_mb2_bad_size},
    {"mb2-tag-overrun", case_mb2_tag_overrun},
    {"mb2-misaligned", case_mb2_misaligned},
};

void shim_main(u32 magic, const struct mb1_info *mbi)
{
    const char *name, *s;
    size_t name_len;
    u32 entry, info, keel_magic;

    if (magic != MB1_LOADER_MAGIC)
        die("not started by a Multiboot 1 loader");
    name = case_name(mbi, &name_len);
    if (!(mbi->flags & MB1_INFO_MODS) || mbi->mods_count == 0)
        die("no modules: pass Keel's image as module 0 (-initrd \"build/keel args\")");
    mods = (const struct mb1_module *)(size_t)mbi->mods_addr;
    nr_mods = mbi->mods_count;
    s = (const char *)(size_t)mods[0].string;
    keel_cmdline = dup_string(s, length(s));

    for (u32 i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!name_is(name, name_len, cases[i].name))
            continue;
        entry = load_keel();
        info = cases[i].build(&keel_magic);
        puts("mbshim: case ");
        puts(cases[i].name);
        puts(": entering Keel at ");
        puthex(entry);
        puts(" with eax=");
        puthex(keel_magic);
        puts(" ebx=");
        puthex(info);
        puts("\n");
        enter_keel(entry, keel_magic, info);
    }
    die("unknown case");
}
