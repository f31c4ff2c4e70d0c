/*
 * Multiboot 1 and 2 information parsing.  The loader's structures are
 * untrusted: every read goes through win_get(), which checks the physical
 * range against the window (with overflow checks) before touching memory,
 * and every count, size and string is validated before use.  The first
 * problem found ends the parse with a sentence saying what and where.
 */
#include <keel/bootinfo.h>
#include <keel/console.h>

/* Multiboot 1 information flags (which fields are valid). */
#define MB1_F_MEM (1U << 0)
#define MB1_F_CMDLINE (1U << 2)
#define MB1_F_MODS (1U << 3)
#define MB1_F_MMAP (1U << 6)
#define MB1_F_LOADER (1U << 9)
#define MB1_INFO_SIZE 68 /* up to and including boot_loader_name */
#define MB1_MOD_SIZE 16
#define MB1_MMAP_MIN 20 /* base, length, type after the size field */

/* Multiboot 2 tag types. */
enum {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_MEMINFO = 4,
    MB2_TAG_MMAP = 6,
    MB2_TAG_RSDP_OLD = 14,
    MB2_TAG_RSDP_NEW = 15,
};
#define MB2_MMAP_ENTRY_MIN 24
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

struct parser {
    struct boot_info *bi;
    const struct mem_window *w;
};

static int fail(struct parser *p, const char *fmt, ...) __printf(2, 3);

static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->bi->error) {
        va_start(ap, fmt);
        kvsnprintf(p->bi->errbuf, sizeof(p->bi->errbuf), fmt, ap);
        va_end(ap);
        p->bi->error = p->bi->errbuf;
    }
    return -1;
}

/* The bytes at physical [pa, pa + len), or NULL when any are outside. */
static const u8 *win_get(const struct mem_window *w, paddr_t pa, u64 len)
{
    if (pa < w->pa_base)
        return NULL;
    u64 off = pa - w->pa_base;
    if (off > w->size || len > w->size - off)
        return NULL;
    return w->base + off;
}

static u32 rd32(const u8 *p)
{
    u32 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static u64 rd64(const u8 *p)
{
    u64 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/*
 * Copy the NUL-terminated string at pa into dst.  It must end inside the
 * window and within max bytes (its tag, for Multiboot 2).  A string longer
 * than dst is an error when must_fit, otherwise it is cut (names we only
 * print).
 */
static int copy_str(struct parser *p, const char *what, paddr_t pa, u64 max,
                    char *dst, size_t size, bool must_fit)
{
    const u8 *s;
    u64 avail, n;

    if (pa < p->w->pa_base || pa - p->w->pa_base >= p->w->size)
        return fail(p, "%s at %#llx is outside loader memory", what,
                    (unsigned long long)pa);
    avail = MIN(p->w->size - (pa - p->w->pa_base), max);
    s = win_get(p->w, pa, avail);
    for (n = 0; n < avail && s[n]; n++)
        ;
    if (n == avail)
        return fail(p, "%s at %#llx is not NUL-terminated", what, (unsigned long long)pa);
    if (n >= size) {
        if (must_fit)
            return fail(p, "%s is %llu bytes long (at most %zu allowed)", what,
                        (unsigned long long)n, size - 1);
        n = size - 1;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int add_range(struct parser *p, u64 start, u64 len, u32 type)
{
    struct boot_info *bi = p->bi;

    if (bi->nr_ranges == BOOT_MAX_RANGES)
        return fail(p, "memory map has more than %d entries", BOOT_MAX_RANGES);
    bi->ranges[bi->nr_ranges++] = (struct mem_range){start, len, type};
    return 0;
}

static int add_module(struct parser *p, u32 start, u32 end, paddr_t str_pa,
                      u64 str_max)
{
    struct boot_info *bi = p->bi;
    struct boot_module *m;

    if (bi->nr_modules == BOOT_MAX_MODULES)
        return fail(p, "more than %d modules", BOOT_MAX_MODULES);
    if (end < start)
        return fail(p, "module %u ends (%#x) before it starts (%#x)", bi->nr_modules,
                    end, start);
    m = &bi->modules[bi->nr_modules];
    m->start = start;
    m->end = end;
    m->cmdline[0] = '\0';
    if (str_pa && copy_str(p, "module command line", str_pa, str_max, m->cmdline,
                           sizeof(m->cmdline), true))
        return -1;
    bi->nr_modules++;
    return 0;
}

/* Without a map, the two "basic" sizes describe low and extended RAM. */
static int ranges_from_basic(struct parser *p)
{
    struct boot_info *bi = p->bi;

    if (bi->has_mmap)
        return 0;
    if (!bi->has_basic_mem)
        return fail(p, "the loader gave no memory map and no memory sizes");
    if (bi->mem_lower_kb && add_range(p, 0, (u64)bi->mem_lower_kb << 10, E820_RAM))
        return -1;
    if (bi->mem_upper_kb &&
        add_range(p, 1ULL << 20, (u64)bi->mem_upper_kb << 10, E820_RAM))
        return -1;
    return 0;
}

/* ------------------------------------------------------------ Multiboot 1 */

static int mb1_mmap(struct parser *p, u32 len, u32 addr)
{
    u64 pos = addr, end = (u64)addr + len;

    if (!win_get(p->w, addr, len))
        return fail(p, "Multiboot memory map [%#x, +%#x) is outside loader memory",
                    addr, len);
    while (pos < end) {
        const u8 *e;
        u32 size;

        if (end - pos < 4)
            return fail(p, "Multiboot memory map entry at %#llx is truncated",
                        (unsigned long long)pos);
        size = rd32(win_get(p->w, pos, 4));
        if (size < MB1_MMAP_MIN)
            return fail(p, "Multiboot memory map entry at %#llx has size %u (< %d)",
                        (unsigned long long)pos, size, MB1_MMAP_MIN);
        if (size > end - pos - 4)
            return fail(p, "Multiboot memory map entry at %#llx runs past the map",
                        (unsigned long long)pos);
        e = win_get(p->w, pos + 4, size);
        if (add_range(p, rd64(e), rd64(e + 8), rd32(e + 16)))
            return -1;
        pos += 4 + (u64)size;
    }
    p->bi->has_mmap = true;
    return 0;
}

static int mb1_mods(struct parser *p, u32 count, u32 addr)
{
    const u8 *m;

    if (count > BOOT_MAX_MODULES)
        return fail(p, "the loader gave %u modules (at most %d supported)", count,
                    BOOT_MAX_MODULES);
    m = win_get(p->w, addr, (u64)count * MB1_MOD_SIZE);
    if (!m)
        return fail(p, "Multiboot module list at %#x is outside loader memory", addr);
    for (u32 i = 0; i < count; i++, m += MB1_MOD_SIZE)
        if (add_module(p, rd32(m), rd32(m + 4), rd32(m + 8), UINT64_MAX))
            return -1;
    return 0;
}

static int mb1_parse(struct parser *p, paddr_t pa)
{
    struct boot_info *bi = p->bi;
    const u8 *info = win_get(p->w, pa, MB1_INFO_SIZE);
    u32 flags;

    if (!info)
        return fail(p, "Multiboot information at %#llx is outside loader memory",
                    (unsigned long long)pa);
    flags = rd32(info);
    bi->protocol = 1;
    bi->info_size = MB1_INFO_SIZE;
    if (flags & MB1_F_MEM) {
        bi->has_basic_mem = true;
        bi->mem_lower_kb = rd32(info + 4);
        bi->mem_upper_kb = rd32(info + 8);
    }
    if ((flags & MB1_F_CMDLINE) &&
        copy_str(p, "command line", rd32(info + 16), UINT64_MAX, bi->cmdline,
                 sizeof(bi->cmdline), true))
        return -1;
    if ((flags & MB1_F_MODS) && mb1_mods(p, rd32(info + 20), rd32(info + 24)))
        return -1;
    if ((flags & MB1_F_MMAP) && mb1_mmap(p, rd32(info + 44), rd32(info + 48)))
        return -1;
    if ((flags & MB1_F_LOADER) &&
        copy_str(p, "boot loader name", rd32(info + 64), UINT64_MAX, bi->loader_name,
                 sizeof(bi->loader_name), false))
        return -1;
    return ranges_from_basic(p);
}

/* ------------------------------------------------------------ Multiboot 2 */

/* A tag: header checked, body = [pa + 8, pa + size) inside the information. */
struct mb2_tag {
    u32 type, size;
    paddr_t pa;
    const u8 *body;
};

static int mb2_mmap(struct parser *p, const struct mb2_tag *t)
{
    u32 esize;
    u64 n;

    if (p->bi->has_mmap)
        return fail(p, "Multiboot2 information has two memory map tags");
    if (t->size < 16)
        return fail(p, "Multiboot2 memory map tag has size %u (< 16)", t->size);
    esize = rd32(t->body);
    if (esize < MB2_MMAP_ENTRY_MIN || esize % 8)
        return fail(p, "Multiboot2 memory map entry size %u is invalid", esize);
    n = (t->size - 16) / esize;
    for (u64 i = 0; i < n; i++) {
        const u8 *e = t->body + 8 + i * esize;
        if (add_range(p, rd64(e), rd64(e + 8), rd32(e + 16)))
            return -1;
    }
    p->bi->has_mmap = true;
    return 0;
}

static int mb2_rsdp(struct parser *p, const struct mb2_tag *t)
{
    u32 want = t->type == MB2_TAG_RSDP_NEW ? RSDP_V2_LEN : RSDP_V1_LEN;
    struct boot_info *bi = p->bi;

    if (t->size - 8 < want)
        return fail(p, "Multiboot2 ACPI RSDP tag has size %u (< %u)", t->size, want + 8);
    /* A v2 RSDP is the better source: an old one never replaces it. */
    if (bi->rsdp_len > want)
        return 0;
    bi->rsdp_pa = t->pa + 8;
    bi->rsdp_len = want;
    memcpy(bi->rsdp, t->body, want);
    return 0;
}

static int mb2_tag(struct parser *p, const struct mb2_tag *t, bool *end)
{
    struct boot_info *bi = p->bi;
    u64 room = t->size - 8; /* bytes after the header */

    switch (t->type) {
    case MB2_TAG_END:
        *end = true;
        return 0;
    case MB2_TAG_CMDLINE:
        return copy_str(p, "command line", t->pa + 8, room, bi->cmdline,
                        sizeof(bi->cmdline), true);
    case MB2_TAG_LOADER:
        return copy_str(p, "boot loader name", t->pa + 8, room, bi->loader_name,
                        sizeof(bi->loader_name), false);
    case MB2_TAG_MODULE:
        if (t->size < 17)
            return fail(p, "Multiboot2 module tag has size %u (< 17)", t->size);
        return add_module(p, rd32(t->body), rd32(t->body + 4), t->pa + 16, room - 8);
    case MB2_TAG_MEMINFO:
        if (t->size < 16)
            return fail(p, "Multiboot2 memory size tag has size %u (< 16)", t->size);
        bi->has_basic_mem = true;
        bi->mem_lower_kb = rd32(t->body);
        bi->mem_upper_kb = rd32(t->body + 4);
        return 0;
    case MB2_TAG_MMAP:
        return mb2_mmap(p, t);
    case MB2_TAG_RSDP_OLD:
    case MB2_TAG_RSDP_NEW:
        return mb2_rsdp(p, t);
    default:
        return 0; /* framebuffer, ELF sections, ...: not needed */
    }
}

static int mb2_parse(struct parser *p, paddr_t pa)
{
    const u8 *hdr;
    u32 total;
    u64 off = 8;
    bool end = false;

    if (pa % 8)
        return fail(p, "Multiboot2 information at %#llx is not 8-byte aligned",
                    (unsigned long long)pa);
    hdr = win_get(p->w, pa, 8);
    if (!hdr)
        return fail(p, "Multiboot2 information at %#llx is outside loader memory",
                    (unsigned long long)pa);
    total = rd32(hdr);
    if (total < 16 || total > MB2_MAX_TOTAL_SIZE)
        return fail(p, "Multiboot2 information total_size %u is absurd", total);
    if (!win_get(p->w, pa, total))
        return fail(p, "Multiboot2 information [%#llx, +%#x) is outside loader memory",
                    (unsigned long long)pa, total);
    p->bi->protocol = 2;
    p->bi->info_size = total;
    while (!end) {
        struct mb2_tag t;

        if (off > total || total - off < 8)
            return fail(p, "Multiboot2 information has no end tag");
        t.pa = pa + off;
        t.type = rd32(win_get(p->w, t.pa, 8)) & 0xffff;
        t.size = rd32(win_get(p->w, t.pa + 4, 4));
        t.body = win_get(p->w, t.pa + 8, 0);
        if (t.size < 8 || t.size > total - off)
            return fail(p, "Multiboot2 tag %u at offset %#llx has bad size %u", t.type,
                        (unsigned long long)off, t.size);
        if (mb2_tag(p, &t, &end))
            return -1;
        off += ALIGN_UP((u64)t.size, 8);
    }
    return ranges_from_basic(p);
}

int boot_info_parse(struct boot_info *bi, u32 magic, paddr_t info_pa,
                    const struct mem_window *w)
{
    struct parser p = {bi, w};

    memset(bi, 0, sizeof(*bi));
    bi->info_pa = info_pa;
    if (magic == MB1_LOADER_MAGIC)
        return mb1_parse(&p, info_pa);
    if (magic == MB2_LOADER_MAGIC)
        return mb2_parse(&p, info_pa);
    return fail(&p, "unknown boot loader magic %#x (not Multiboot 1 or 2)", magic);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Multiboot 1 loaders other than GRUB 2 (QEMU's, GRUB legacy) put the
 * image path first; GRUB 2 does not, and Multiboot 2 has no such habit.
 */
static bool loader_passes_path(const struct boot_info *bi)
{
    return bi->protocol == 1 && strncmp(bi->loader_name, "GRUB 2", 6) != 0;
}

const char *boot_cmdline_args(const struct boot_info *bi, const char *cmdline)
{
    const char *s = cmdline;

    while (is_blank(*s))
        s++;
    if (!loader_passes_path(bi))
        return s;
    while (*s && !is_blank(*s))
        s++;
    while (is_blank(*s))
        s++;
    return s;
}
