/* ELF64 PV kernel parsing, validation and loading, on images built here. */
#include <keel/elf.h>
#include <xen/elfnote.h>
#include <xen/features.h>

#include "harness.h"

#define VBASE 0xffffffff80000000ULL
#define TEXT_PADDR 0x1000000ULL
#define TEXT_VA (VBASE + TEXT_PADDR)
#define ENTRY_VA (TEXT_VA + 0x10)
#define IMG_SIZE 0x4000
#define NOTE_OFF 0x200
#define TEXT_OFF 0x1000
#define DATA_OFF 0x2000

/*
 * The test image: ELF header, three program headers (PT_NOTE, text
 * PT_LOAD, data+bss PT_LOAD), notes at NOTE_OFF, text and data contents.
 */
static u8 img[IMG_SIZE];
static size_t note_len;
static struct pv_kernel_info ki;

static struct elf64_ehdr *ehdr(void) { return (struct elf64_ehdr *)img; }
static struct elf64_phdr *phdr(int i) { return (struct elf64_phdr *)(img + 64) + i; }

static void put_note(u32 type, const void *desc, u32 len)
{
    struct elf_note_hdr nh = {4, len, type};
    u8 *p = img + NOTE_OFF + note_len;
    memcpy(p, &nh, sizeof(nh));
    memcpy(p + 12, "Xen", 4);
    memcpy(p + 16, desc, len);
    note_len += 16 + ((len + 3) & ~3U);
    phdr(0)->p_filesz = note_len;
}

static void note_num(u32 type, u64 v, u32 size) { put_note(type, &v, size); }
static void note_str(u32 type, const char *s) { put_note(type, s, strlen(s) + 1); }

/* A bare image with segments but no notes. */
static void img_bare(void)
{
    memset(img, 0, sizeof(img));
    note_len = 0;
    struct elf64_ehdr *eh = ehdr();
    memcpy(eh->e_ident, "\x7f" "ELF", 4);
    eh->e_ident[ELF_EI_CLASS] = ELF_CLASS64;
    eh->e_ident[ELF_EI_DATA] = ELF_DATA_LSB;
    eh->e_ident[ELF_EI_VERSION] = 1;
    eh->e_type = ELF_ET_EXEC;
    eh->e_machine = ELF_EM_X86_64;
    eh->e_version = 1;
    eh->e_entry = TEXT_PADDR; /* native entry: must not be used for PV */
    eh->e_phoff = 64;
    eh->e_ehsize = 64;
    eh->e_phentsize = sizeof(struct elf64_phdr);
    eh->e_phnum = 3;
    *phdr(0) = (struct elf64_phdr){ELF_PT_NOTE, ELF_PF_R, NOTE_OFF, 0, 0, 0, 0, 4};
    *phdr(1) = (struct elf64_phdr){ELF_PT_LOAD, ELF_PF_R | ELF_PF_X, TEXT_OFF,
                                   TEXT_VA, TEXT_PADDR, 0x1000, 0x1000, 0x1000};
    /* Like Linux's per-cpu segment: p_vaddr 0, placed by p_paddr. */
    *phdr(2) = (struct elf64_phdr){ELF_PT_LOAD, ELF_PF_R | ELF_PF_W, DATA_OFF,
                                   0, TEXT_PADDR + 0x1000, 0x800, 0x3000, 0x1000};
    memset(img + TEXT_OFF, 0x90, 0x1000);
    memset(img + DATA_OFF, 0x5a, 0x800);
}

/* The good image: notes shaped like Debian's 6.1 kernel (PV-ABI.md §1). */
static void img_good(void)
{
    img_bare();
    note_str(XEN_ELFNOTE_GUEST_OS, "linux");
    note_str(XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    note_num(XEN_ELFNOTE_PADDR_OFFSET, 0, 8);
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA, 8);
    note_num(XEN_ELFNOTE_INIT_P2M, 0x8000000000ULL, 8);
    /* Not NUL-terminated, as Linux emits it. */
    put_note(XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb", 41);
    note_num(XEN_ELFNOTE_SUPPORTED_FEATURES, 0x8801, 4);
    note_str(XEN_ELFNOTE_LOADER, "generic");
    note_num(XEN_ELFNOTE_MOD_START_PFN, 1, 4);
}

static int parse(void) { return elf_parse_pv_kernel(img, sizeof(img), &ki); }

static bool why_has(const char *s)
{
    bool ok = strstr(ki.why, s) != NULL;
    if (!ok)
        fprintf(stderr, "  why = \"%s\", expected to contain \"%s\"\n", ki.why, s);
    return ok;
}

#define OFFERED (1U << XENFEAT_writable_page_tables)

TEST(good_image_fields)
{
    img_good();
    CHECK_EQ(parse(), 0);
    CHECK_EQ(ki.virt_base, VBASE);
    CHECK_EQ(ki.entry, ENTRY_VA);
    CHECK_EQ(ki.elf_entry, TEXT_PADDR);
    CHECK_EQ(ki.init_p2m, 0x8000000000ULL);
    CHECK(PV_HAS(&ki, XEN_ELFNOTE_INIT_P2M));
    CHECK_EQ(ki.mod_start_pfn, 1);
    CHECK(!ki.has_hypercall_page);
    CHECK_STR(ki.guest_os, "linux");
    CHECK_STR(ki.loader, "generic");
    CHECK_STR(ki.xen_version, "xen-3.0");
    CHECK_EQ(ki.features_required, 1U << XENFEAT_writable_page_tables);
    CHECK_EQ(ki.features_supported, 0x8801U | (1U << XENFEAT_pae_pgdir_above_4gb));
    CHECK_EQ(ki.nr_notes, 10);
    CHECK(!ki.notes_from_sections);
    CHECK_EQ(ki.nr_segs, 2);
    CHECK_EQ(ki.seg[1].dest, TEXT_VA + 0x1000);
    CHECK_EQ(ki.virt_kstart, TEXT_VA);
    CHECK_EQ(ki.virt_kend, TEXT_VA + 0x4000);
    CHECK_EQ(pv_kernel_check(&ki, OFFERED), 0);
}

TEST(missing_required_feature_is_refused)
{
    img_good();
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check(&ki, 0), -1);
    CHECK(why_has("writable_page_tables"));
}

static u8 guest_mem[0x4000];

static int copy_to_guest(void *ctx, u64 gva, const void *src, u64 len)
{
    int *calls = ctx;
    (*calls)++;
    if (gva < TEXT_VA || gva - TEXT_VA > sizeof(guest_mem) ||
        len > sizeof(guest_mem) - (gva - TEXT_VA))
        return -1;
    if (src)
        memcpy(guest_mem + (gva - TEXT_VA), src, len);
    else
        memset(guest_mem + (gva - TEXT_VA), 0, len);
    return 0;
}

static int refuse_copy(void *ctx, u64 gva, const void *src, u64 len)
{
    (void)ctx, (void)gva, (void)src, (void)len;
    return -1;
}

TEST(load_copies_and_zeroes)
{
    int calls = 0;
    img_good();
    CHECK_EQ(parse(), 0);
    memset(guest_mem, 0xaa, sizeof(guest_mem));
    CHECK_EQ(pv_kernel_load(img, sizeof(img), &ki, copy_to_guest, &calls), 0);
    CHECK_EQ(calls, 3); /* text, data, bss */
    CHECK_EQ(guest_mem[0], 0x90);
    CHECK_EQ(guest_mem[0xfff], 0x90);
    CHECK_EQ(guest_mem[0x1000], 0x5a);
    CHECK_EQ(guest_mem[0x17ff], 0x5a);
    CHECK_EQ(guest_mem[0x1800], 0);
    CHECK_EQ(guest_mem[0x3fff], 0);
    CHECK_EQ(pv_kernel_load(img, sizeof(img), &ki, refuse_copy, NULL), -1);
    CHECK(why_has("copying segment 0"));
    CHECK_EQ(pv_kernel_load(img, 0x1800, &ki, copy_to_guest, &calls), -1);
}

TEST(header_rejections)
{
    static const struct {
        size_t off;
        u8 val;
        const char *why;
    } cases[] = {
        {0, 0x7e, "bad magic"},
        {ELF_EI_CLASS, 1, "not a 64-bit ELF"},
        {ELF_EI_DATA, 2, "little-endian"},
        {ELF_EI_VERSION, 0, "ELF version"},
        {offsetof(struct elf64_ehdr, e_machine), 3, "not x86-64"},
        {offsetof(struct elf64_ehdr, e_type), 3, "ET_EXEC"},
        {offsetof(struct elf64_ehdr, e_phentsize), 32, "program header size"},
        {offsetof(struct elf64_ehdr, e_phnum), 0, "no program headers"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        img_good();
        img[cases[i].off] = cases[i].val;
        CHECK_EQ(parse(), -1);
        CHECK(why_has(cases[i].why));
    }
    img_good();
    ehdr()->e_phnum = ELF_PN_XNUM;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("extended count"));
}

TEST(program_header_table_bounds)
{
    img_good();
    ehdr()->e_phoff = IMG_SIZE - 100;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("program headers lie outside"));
    ehdr()->e_phoff = ~0ULL - 10; /* would wrap */
    CHECK_EQ(parse(), -1);
    CHECK(why_has("program headers lie outside"));
}

TEST(segment_rejections)
{
    img_good();
    phdr(1)->p_filesz = 0x2000;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("filesz"));

    img_good();
    phdr(2)->p_offset = IMG_SIZE - 0x100;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("outside the image"));

    img_good();
    phdr(2)->p_offset = ~0ULL - 0x100; /* offset + filesz wraps */
    CHECK_EQ(parse(), -1);
    CHECK(why_has("outside the image"));

    img_good();
    phdr(2)->p_paddr = TEXT_PADDR + 0x800;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("overlap"));

    img_good();
    phdr(2)->p_memsz = 1ULL << 30;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("limit"));

    img_good();
    phdr(2)->p_paddr = TEXT_PADDR + (600ULL << 20); /* sparse but too wide */
    CHECK_EQ(parse(), -1);
    CHECK(why_has("spans"));

    img_good();
    phdr(2)->p_paddr = ~0ULL - 0x100; /* VIRT_BASE + paddr wraps */
    CHECK_EQ(parse(), -1);
    CHECK(why_has("wraps"));

    img_good();
    phdr(1)->p_type = phdr(2)->p_type = 0;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("no loadable"));
}

TEST(paddr_offset_rules)
{
    img_bare();
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    note_num(XEN_ELFNOTE_PADDR_OFFSET, TEXT_PADDR, 8);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(ki.virt_kstart, VBASE);
    CHECK_EQ(ki.entry, TEXT_PADDR); /* no ENTRY note: e_entry */
    CHECK_EQ(pv_kernel_check(&ki, 0), -1);
    CHECK(why_has("entry"));

    img_bare();
    note_num(XEN_ELFNOTE_PADDR_OFFSET, TEXT_PADDR + 0x1000, 8);
    CHECK_EQ(parse(), -1);
    CHECK(why_has("below PADDR_OFFSET"));
}

TEST(too_many_segments)
{
    img_good();
    /* The table outgrows the space before the notes: move it. */
    struct elf64_phdr *tbl = (struct elf64_phdr *)(img + 0x3000);
    memcpy(tbl, phdr(0), 3 * sizeof(*tbl));
    ehdr()->e_phoff = 0x3000;
    ehdr()->e_phnum = 20;
    for (int i = 3; i < 20; i++)
        tbl[i] = (struct elf64_phdr){ELF_PT_LOAD, ELF_PF_R, TEXT_OFF, 0,
                                     TEXT_PADDR + (u64)i * 0x10000, 0x10, 0x10, 0};
    CHECK_EQ(parse(), -1);
    CHECK(why_has("more than"));
    ehdr()->e_phnum = 3 + PV_KERNEL_MAX_SEGS - 2; /* exactly the limit */
    CHECK_EQ(parse(), 0);
    CHECK_EQ(ki.nr_segs, PV_KERNEL_MAX_SEGS);
}

TEST(no_notes_is_refused)
{
    img_bare();
    CHECK_EQ(parse(), -1);
    CHECK(why_has("no Xen ELF notes"));
    /* A non-Xen note does not count. */
    struct elf_note_hdr nh = {4, 4, 1};
    memcpy(img + NOTE_OFF, &nh, sizeof(nh));
    memcpy(img + NOTE_OFF + 12, "GNU", 4);
    phdr(0)->p_filesz = 20;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("no Xen ELF notes"));
}

TEST(notes_from_sections)
{
    img_good();
    phdr(0)->p_type = 0; /* notes only reachable through SHT_NOTE */
    struct elf64_shdr sh[2] = {{0}};
    sh[1].sh_type = ELF_SHT_NOTE;
    sh[1].sh_offset = NOTE_OFF;
    sh[1].sh_size = note_len;
    sh[1].sh_addralign = 4;
    memcpy(img + 0x3000, sh, sizeof(sh));
    ehdr()->e_shoff = 0x3000;
    ehdr()->e_shnum = 2;
    ehdr()->e_shentsize = sizeof(struct elf64_shdr);
    CHECK_EQ(parse(), 0);
    CHECK(ki.notes_from_sections);
    CHECK_EQ(ki.entry, ENTRY_VA);

    ehdr()->e_shnum = 0x7fff; /* table runs off the end */
    CHECK_EQ(parse(), -1);
    CHECK(why_has("section headers"));
    ehdr()->e_shnum = 2;
    sh[1].sh_size = 0x10000;
    memcpy(img + 0x3000, sh, sizeof(sh));
    CHECK_EQ(parse(), -1);
    CHECK(why_has("note section 1"));
}

TEST(note_bounds)
{
    img_good();
    struct elf_note_hdr nh = {0xffffffffU, 0, XEN_ELFNOTE_ENTRY};
    memcpy(img + NOTE_OFF + note_len, &nh, sizeof(nh));
    phdr(0)->p_filesz = note_len + 12 + 8;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("name runs past"));

    img_good();
    nh = (struct elf_note_hdr){4, 0xfffffff0U, XEN_ELFNOTE_ENTRY};
    memcpy(img + NOTE_OFF + note_len, &nh, sizeof(nh));
    memcpy(img + NOTE_OFF + note_len + 12, "Xen", 4);
    phdr(0)->p_filesz = note_len + 24;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("descriptor runs past"));

    img_good();
    phdr(0)->p_offset = ~0ULL - 4;
    CHECK_EQ(parse(), -1);
    CHECK(why_has("PT_NOTE 0"));
}

TEST(note_value_rules)
{
    img_good();
    note_num(XEN_ELFNOTE_HYPERCALL_PAGE, TEXT_VA, 3);
    CHECK_EQ(parse(), -1);
    CHECK(why_has("3-byte value"));

    img_good();
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA, 8);
    CHECK_EQ(parse(), -1);
    CHECK(why_has("duplicate Xen ELF note ENTRY"));

    img_bare();
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    note_num(XEN_ELFNOTE_ENTRY, (u32)0x81000010, 4); /* 4-byte form */
    note_num(0x2000000, 1, 4);                       /* dumpcore: ignored */
    CHECK_EQ(parse(), 0);
    CHECK_EQ(ki.entry, 0x81000010);
    CHECK_EQ(ki.nr_notes, 2);
}

TEST(loader_and_hypercall_page_checks)
{
    img_good();
    note_num(XEN_ELFNOTE_HYPERCALL_PAGE, TEXT_VA, 8);
    CHECK_EQ(parse(), 0);
    CHECK(ki.has_hypercall_page);
    CHECK_EQ(pv_kernel_check(&ki, OFFERED), 0);

    img_good();
    note_num(XEN_ELFNOTE_HYPERCALL_PAGE, TEXT_VA + 8, 8);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check(&ki, OFFERED), -1);
    CHECK(why_has("hypercall page"));

    img_good();
    note_num(XEN_ELFNOTE_HYPERCALL_PAGE, TEXT_VA + 0x4000, 8);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check(&ki, OFFERED), -1);

    img_bare();
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA, 8);
    note_str(XEN_ELFNOTE_LOADER, "generic-ish");
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check(&ki, 0), -1);
    CHECK(why_has("LOADER"));

    img_bare();
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE + 0x10, 8);
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA + 0x10, 8);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check(&ki, 0), -1);
    CHECK(why_has("not page aligned"));
}

TEST(features_string)
{
    img_bare();
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    note_str(XEN_ELFNOTE_FEATURES, "|dom0||!auto_translated_physmap|future_thing|!");
    CHECK_EQ(parse(), 0);
    CHECK_EQ(ki.features_required, 1U << XENFEAT_auto_translated_physmap);
    CHECK_EQ(ki.features_supported,
             (1U << XENFEAT_auto_translated_physmap) | (1U << XENFEAT_dom0));
    CHECK_EQ(ki.unknown_features, 1);

    img_bare();
    note_str(XEN_ELFNOTE_FEATURES, "writable_page_tables|!future_thing");
    CHECK_EQ(parse(), -1);
    CHECK(why_has("unknown feature 'future_thing'"));

    /* A name that is a prefix of a real one is not that feature. */
    img_bare();
    note_str(XEN_ELFNOTE_FEATURES, "!writable_page");
    CHECK_EQ(parse(), -1);
    CHECK_STR(pv_feature_name(XENFEAT_dom0), "dom0");
    CHECK(pv_feature_name(40) == NULL);
}

TEST(strings_are_sanitised_and_truncated)
{
    char long_os[200];
    memset(long_os, 'a', sizeof(long_os) - 1);
    long_os[sizeof(long_os) - 1] = 0;
    long_os[3] = '\n';
    img_bare();
    note_str(XEN_ELFNOTE_GUEST_OS, long_os);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(strlen(ki.guest_os), PV_NOTE_STR_MAX - 1);
    CHECK_EQ(ki.guest_os[3], '?');
}

/* Every truncation of a good image must be refused cleanly (ASan watches). */
TEST(every_truncation)
{
    img_good();
    int accepted = 0;
    for (size_t n = 0; n <= 0x1000; n++)
        accepted += elf_parse_pv_kernel(img, n, &ki) == 0;
    CHECK_EQ(accepted, 0);
    CHECK_EQ(elf_parse_pv_kernel(NULL, 0, &ki), -1);
    CHECK(why_has("too small"));
}

static u8 *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    u8 *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = buf ? (size_t)n : 0;
    return buf;
}

static int count_copy(void *ctx, u64 gva, const void *src, u64 len)
{
    (void)gva, (void)src;
    *(u64 *)ctx += len;
    return 0;
}

/* Debian's kernel, when scripts/fetch-debian.sh has run; skipped otherwise. */
TEST(real_debian_kernel)
{
    size_t size;
    u8 *buf = read_file("cache/vmlinux", &size);
    if (!buf) {
        fprintf(stderr, "  skip: cache/vmlinux absent (run scripts/fetch-debian.sh)\n");
        return;
    }
    CHECK_EQ(elf_parse_pv_kernel(buf, size, &ki), 0);
    CHECK_STR(ki.guest_os, "linux");
    CHECK_STR(ki.loader, "generic");
    CHECK_EQ(ki.virt_base, VBASE);
    CHECK_EQ(ki.virt_kstart, VBASE + 0x1000000);
    CHECK(ki.features_required & (1U << XENFEAT_writable_page_tables));
    CHECK(ki.features_supported & (1U << XENFEAT_dom0));
    CHECK_EQ(pv_kernel_check(&ki, OFFERED | (1U << XENFEAT_dom0)), 0);
    bool percpu_by_paddr = false;
    for (unsigned i = 0; i < ki.nr_segs; i++)
        percpu_by_paddr |= ki.seg[i].vaddr == 0 && ki.seg[i].dest == VBASE + ki.seg[i].paddr;
    CHECK(percpu_by_paddr);
    u64 bytes = 0;
    CHECK_EQ(pv_kernel_load(buf, size, &ki, count_copy, &bytes), 0);
    u64 total = 0;
    for (unsigned i = 0; i < ki.nr_segs; i++)
        total += ki.seg[i].memsz;
    CHECK_EQ(bytes, total);
    free(buf);
}

/* The runtime's notes, when the guest kernels have been built. */
TEST(keel_test_guest)
{
    size_t size;
    u8 *buf = read_file("build/guests/hello.elf", &size);
    if (!buf) {
        fprintf(stderr, "  skip: build/guests/hello.elf absent (make guests)\n");
        return;
    }
    CHECK_EQ(elf_parse_pv_kernel(buf, size, &ki), 0);
    CHECK_STR(ki.guest_os, "keeltest");
    CHECK_STR(ki.loader, "generic");
    CHECK_STR(ki.xen_version, "xen-3.0");
    CHECK_EQ(ki.paddr_offset, 0);
    CHECK(!ki.has_hypercall_page);
    CHECK_EQ(ki.features_required, 0);
    CHECK_EQ(pv_kernel_check(&ki, 0), 0);
    CHECK(ki.entry >= ki.virt_kstart && ki.entry < ki.virt_kend);
    free(buf);
}

TEST(keel_test_guest_with_hypercall_page)
{
    size_t size;
    u8 *buf = read_file("build/guests/hypercall-page.elf", &size);
    if (!buf) {
        fprintf(stderr, "  skip: build/guests/hypercall-page.elf absent (make guests)\n");
        return;
    }
    CHECK_EQ(elf_parse_pv_kernel(buf, size, &ki), 0);
    CHECK(ki.has_hypercall_page);
    CHECK_EQ(ki.hypercall_page & 0xfff, 0);
    CHECK_EQ(pv_kernel_check(&ki, 0), 0);
    free(buf);
}

/* Xen checks XENFEAT_dom0 only when SUPPORTED_FEATURES is present. */
TEST(dom0_feature_rule)
{
    img_good(); /* SUPPORTED_FEATURES 0x8801: dom0 (bit 11) among them */
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check_dom0(&ki), 0);

    img_good();
    phdr(0)->p_filesz = 0;
    note_len = 0;
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA, 8);
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    note_num(XEN_ELFNOTE_SUPPORTED_FEATURES, 1U << XENFEAT_writable_page_tables, 4);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check_dom0(&ki), -1);
    CHECK(why_has("XENFEAT_dom0"));

    /* The same kernel with no SUPPORTED_FEATURES note at all: accepted. */
    img_good();
    phdr(0)->p_filesz = 0;
    note_len = 0;
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA, 8);
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    put_note(XEN_ELFNOTE_FEATURES, "writable_page_tables", 20);
    CHECK_EQ(parse(), 0);
    CHECK(!PV_HAS(&ki, XEN_ELFNOTE_SUPPORTED_FEATURES));
    CHECK_EQ(pv_kernel_check_dom0(&ki), 0);

    /* dom0 named in the FEATURES string counts as supported. */
    img_good();
    phdr(0)->p_filesz = 0;
    note_len = 0;
    note_num(XEN_ELFNOTE_ENTRY, ENTRY_VA, 8);
    note_num(XEN_ELFNOTE_VIRT_BASE, VBASE, 8);
    put_note(XEN_ELFNOTE_FEATURES, "dom0", 4);
    note_num(XEN_ELFNOTE_SUPPORTED_FEATURES, 0, 4);
    CHECK_EQ(parse(), 0);
    CHECK_EQ(pv_kernel_check_dom0(&ki), 0);
}
