/*
 * Parsing and loading of 64-bit Xen PV kernel images.
 *
 * The image comes from a boot module or a toolstack, so it is treated as
 * hostile: every header field is read with memcpy (no alignment assumptions)
 * and every offset/size is checked against the buffer with arithmetic that
 * cannot wrap.  Loading follows Xen's rule (PV-ABI.md §1): a PT_LOAD goes to
 * VIRT_BASE + p_paddr - PADDR_OFFSET, never to p_vaddr, because Linux's
 * per-cpu segment has p_vaddr 0.
 */
#include <keel/console.h>
#include <keel/elf.h>
#include <xen/elfnote.h>
#include <xen/features.h>

/* Feature names as the FEATURES note spells them, indexed by XENFEAT_*. */
static const char *const feature_names[] = {
    [XENFEAT_writable_page_tables] = "writable_page_tables",
    [XENFEAT_writable_descriptor_tables] = "writable_descriptor_tables",
    [XENFEAT_auto_translated_physmap] = "auto_translated_physmap",
    [XENFEAT_supervisor_mode_kernel] = "supervisor_mode_kernel",
    [XENFEAT_pae_pgdir_above_4gb] = "pae_pgdir_above_4gb",
    [XENFEAT_mmu_pt_update_preserve_ad] = "mmu_pt_update_preserve_ad",
    [XENFEAT_highmem_assist] = "highmem_assist",
    [XENFEAT_gnttab_map_avail_bits] = "gnttab_map_avail_bits",
    [XENFEAT_hvm_callback_vector] = "hvm_callback_vector",
    [XENFEAT_hvm_safe_pvclock] = "hvm_safe_pvclock",
    [XENFEAT_hvm_pirqs] = "hvm_pirqs",
    [XENFEAT_dom0] = "dom0",
    [XENFEAT_memory_op_vnode_supported] = "memory_op_vnode_supported",
    [XENFEAT_ARM_SMCCC_supported] = "ARM_SMCCC_supported",
    [XENFEAT_linux_rsdp_unrestricted] = "linux_rsdp_unrestricted",
    [XENFEAT_not_direct_mapped] = "not_direct_mapped",
    [XENFEAT_direct_mapped] = "direct_mapped",
};

static const char *const note_names[] = {
    [XEN_ELFNOTE_INFO] = "INFO",
    [XEN_ELFNOTE_ENTRY] = "ENTRY",
    [XEN_ELFNOTE_HYPERCALL_PAGE] = "HYPERCALL_PAGE",
    [XEN_ELFNOTE_VIRT_BASE] = "VIRT_BASE",
    [XEN_ELFNOTE_PADDR_OFFSET] = "PADDR_OFFSET",
    [XEN_ELFNOTE_XEN_VERSION] = "XEN_VERSION",
    [XEN_ELFNOTE_GUEST_OS] = "GUEST_OS",
    [XEN_ELFNOTE_GUEST_VERSION] = "GUEST_VERSION",
    [XEN_ELFNOTE_LOADER] = "LOADER",
    [XEN_ELFNOTE_PAE_MODE] = "PAE_MODE",
    [XEN_ELFNOTE_FEATURES] = "FEATURES",
    [XEN_ELFNOTE_BSD_SYMTAB] = "BSD_SYMTAB",
    [XEN_ELFNOTE_HV_START_LOW] = "HV_START_LOW",
    [XEN_ELFNOTE_L1_MFN_VALID] = "L1_MFN_VALID",
    [XEN_ELFNOTE_SUSPEND_CANCEL] = "SUSPEND_CANCEL",
    [XEN_ELFNOTE_INIT_P2M] = "INIT_P2M",
    [XEN_ELFNOTE_MOD_START_PFN] = "MOD_START_PFN",
    [XEN_ELFNOTE_SUPPORTED_FEATURES] = "SUPPORTED_FEATURES",
    [XEN_ELFNOTE_PHYS32_ENTRY] = "PHYS32_ENTRY",
};

BUILD_BUG_ON(XEN_ELFNOTE_MAX >= 32); /* notes_seen is a u32 bitmap */

const char *pv_feature_name(unsigned bit)
{
    return bit < ARRAY_SIZE(feature_names) ? feature_names[bit] : NULL;
}

static int fail(struct pv_kernel_info *info, const char *fmt, ...)
    __printf(2, 3);
static int fail(struct pv_kernel_info *info, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(info->why, sizeof(info->why), fmt, ap);
    va_end(ap);
    return -1;
}

/* True when [off, off+len) lies inside a buffer of `size` bytes. */
static bool range_ok(u64 off, u64 len, u64 size)
{
    return off <= size && len <= size - off;
}

static u64 read_le(const u8 *p, size_t n)
{
    u64 v = 0;

    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Length of a note string: up to the first NUL or the end of the desc. */
static size_t note_strlen(const u8 *s, size_t n)
{
    size_t len = 0;

    while (len < n && s[len])
        len++;
    return len;
}

/* Keeps a printable, NUL-terminated (possibly truncated) copy for logs. */
static void copy_note_str(char *dst, const u8 *src, size_t n)
{
    size_t len = MIN(note_strlen(src, n), (size_t)PV_NOTE_STR_MAX - 1);

    for (size_t i = 0; i < len; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[len] = '\0';
}

static int feature_lookup(const u8 *name, size_t len)
{
    for (unsigned i = 0; i < ARRAY_SIZE(feature_names); i++) {
        const char *f = feature_names[i];
        if (f && strlen(f) == len && !memcmp(f, name, len))
            return (int)i;
    }
    return -1;
}

/* "name|!name|..." where '!' marks a feature the kernel cannot run without. */
static int parse_features(struct pv_kernel_info *info, const u8 *s, size_t n)
{
    size_t end = note_strlen(s, n), pos = 0;

    while (pos < end) {
        size_t start = pos;
        while (pos < end && s[pos] != '|')
            pos++;
        const u8 *tok = s + start;
        size_t len = pos - start;
        pos++; /* skip the separator */
        bool required = len && tok[0] == '!';
        if (required) {
            tok++;
            len--;
        }
        if (!len)
            continue;
        int bit = feature_lookup(tok, len);
        if (bit < 0) {
            if (required)
                return fail(info, "kernel requires unknown feature '%.*s'",
                            (int)MIN(len, (size_t)40), (const char *)tok);
            info->unknown_features++;
            continue;
        }
        info->features_supported |= 1U << bit;
        if (required)
            info->features_required |= 1U << bit;
    }
    return 0;
}

static bool note_is_numeric(u32 type)
{
    switch (type) {
    case XEN_ELFNOTE_ENTRY:
    case XEN_ELFNOTE_HYPERCALL_PAGE:
    case XEN_ELFNOTE_VIRT_BASE:
    case XEN_ELFNOTE_PADDR_OFFSET:
    case XEN_ELFNOTE_HV_START_LOW:
    case XEN_ELFNOTE_SUSPEND_CANCEL:
    case XEN_ELFNOTE_INIT_P2M:
    case XEN_ELFNOTE_MOD_START_PFN:
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
    case XEN_ELFNOTE_PHYS32_ENTRY:
        return true;
    default:
        return false;
    }
}

static void store_numeric(struct pv_kernel_info *info, u32 type, u64 v)
{
    switch (type) {
    case XEN_ELFNOTE_ENTRY: info->entry = v; break;
    case XEN_ELFNOTE_HYPERCALL_PAGE:
        info->hypercall_page = v;
        info->has_hypercall_page = true;
        break;
    case XEN_ELFNOTE_VIRT_BASE: info->virt_base = v; break;
    case XEN_ELFNOTE_PADDR_OFFSET: info->paddr_offset = v; break;
    case XEN_ELFNOTE_HV_START_LOW: info->hv_start_low = v; break;
    case XEN_ELFNOTE_SUSPEND_CANCEL: info->suspend_cancel = v; break;
    case XEN_ELFNOTE_INIT_P2M: info->init_p2m = v; break;
    case XEN_ELFNOTE_MOD_START_PFN: info->mod_start_pfn = v; break;
    case XEN_ELFNOTE_SUPPORTED_FEATURES: info->features_supported |= (u32)v; break;
    case XEN_ELFNOTE_PHYS32_ENTRY: info->phys32_entry = v; break;
    }
}

static int store_string(struct pv_kernel_info *info, u32 type, const u8 *d,
                        size_t n)
{
    switch (type) {
    case XEN_ELFNOTE_XEN_VERSION: copy_note_str(info->xen_version, d, n); break;
    case XEN_ELFNOTE_GUEST_OS: copy_note_str(info->guest_os, d, n); break;
    case XEN_ELFNOTE_GUEST_VERSION: copy_note_str(info->guest_version, d, n); break;
    case XEN_ELFNOTE_LOADER: copy_note_str(info->loader, d, n); break;
    case XEN_ELFNOTE_PAE_MODE: copy_note_str(info->pae_mode, d, n); break;
    case XEN_ELFNOTE_FEATURES: return parse_features(info, d, n);
    }
    return 0;
}

/* Two-value arrays (mask, value) of 4- or 8-byte words; only recorded. */
static void store_l1_mfn_valid(struct pv_kernel_info *info, const u8 *d, size_t n)
{
    size_t w = (n % 8 == 0) ? 8 : 4;

    for (size_t i = 0; i < 2 && (i + 1) * w <= n; i++)
        info->l1_mfn_valid[i] = read_le(d + i * w, w);
}

static int xen_note(struct pv_kernel_info *info, u32 type, const u8 *desc,
                    size_t descsz)
{
    if (type > XEN_ELFNOTE_MAX)
        return 0; /* crash/dumpcore notes and future ones: not for loading */
    const char *name = note_names[type];
    if (info->notes_seen & (1U << type))
        return fail(info, "duplicate Xen ELF note %s", name);
    info->notes_seen |= 1U << type;
    info->nr_notes++;
    if (note_is_numeric(type)) {
        if (descsz != 4 && descsz != 8)
            return fail(info, "Xen ELF note %s has a %zu-byte value (want 4 or 8)",
                        name, descsz);
        store_numeric(info, type, read_le(desc, descsz));
        return 0;
    }
    if (type == XEN_ELFNOTE_L1_MFN_VALID) {
        store_l1_mfn_valid(info, desc, descsz);
        return 0;
    }
    return store_string(info, type, desc, descsz);
}

/* Walks the notes in [off, off+len) of the image (range already checked). */
static int scan_notes(struct pv_kernel_info *info, const u8 *img, u64 off,
                      u64 len, u64 align)
{
    u64 pos = off, end = off + len;
    struct elf_note_hdr nh;

    align = (align == 8) ? 8 : 4;
    while (end - pos >= sizeof(nh)) {
        memcpy(&nh, img + pos, sizeof(nh));
        pos += sizeof(nh);
        u64 name_len = ALIGN_UP((u64)nh.n_namesz, align);
        if (name_len > end - pos)
            return fail(info, "ELF note name runs past its note area");
        const u8 *name = img + pos;
        pos += name_len;
        if (nh.n_descsz > end - pos)
            return fail(info, "ELF note descriptor runs past its note area");
        const u8 *desc = img + pos;
        pos += MIN(ALIGN_UP((u64)nh.n_descsz, align), end - pos);
        if (nh.n_namesz == 4 && !memcmp(name, "Xen", 4) &&
            xen_note(info, nh.n_type, desc, nh.n_descsz))
            return -1;
    }
    return 0;
}

static int check_ehdr(struct pv_kernel_info *info, const struct elf64_ehdr *eh)
{
    if (memcmp(eh->e_ident, ELF_MAGIC, 4))
        return fail(info, "not an ELF image (bad magic)");
    if (eh->e_ident[ELF_EI_CLASS] != ELF_CLASS64)
        return fail(info, "not a 64-bit ELF (class %u): Keel runs only 64-bit PV kernels",
                    eh->e_ident[ELF_EI_CLASS]);
    if (eh->e_ident[ELF_EI_DATA] != ELF_DATA_LSB)
        return fail(info, "ELF is not little-endian");
    if (eh->e_ident[ELF_EI_VERSION] != ELF_VERSION_CURRENT)
        return fail(info, "unknown ELF version %u", eh->e_ident[ELF_EI_VERSION]);
    if (eh->e_machine != ELF_EM_X86_64)
        return fail(info, "ELF machine %u is not x86-64", eh->e_machine);
    if (eh->e_type != ELF_ET_EXEC)
        return fail(info, "ELF type %u is not an executable (ET_EXEC)", eh->e_type);
    if (eh->e_phentsize != sizeof(struct elf64_phdr))
        return fail(info, "ELF program header size %u (want %zu)",
                    eh->e_phentsize, sizeof(struct elf64_phdr));
    if (eh->e_phnum == 0 || eh->e_phnum == ELF_PN_XNUM)
        return fail(info, "ELF has %s program headers",
                    eh->e_phnum ? "an extended count of" : "no");
    return 0;
}

static int add_load(struct pv_kernel_info *info, const struct elf64_phdr *ph,
                    u64 size, unsigned idx)
{
    if (ph->p_memsz == 0)
        return 0; /* occupies nothing */
    if (ph->p_filesz > ph->p_memsz)
        return fail(info, "PT_LOAD %u: filesz %#llx > memsz %#llx", idx,
                    (unsigned long long)ph->p_filesz,
                    (unsigned long long)ph->p_memsz);
    if (!range_ok(ph->p_offset, ph->p_filesz, size))
        return fail(info, "PT_LOAD %u: file range %#llx+%#llx is outside the image",
                    idx, (unsigned long long)ph->p_offset,
                    (unsigned long long)ph->p_filesz);
    if (ph->p_memsz > PV_KERNEL_MAX_SPAN)
        return fail(info, "PT_LOAD %u: memsz %#llx exceeds the %lu MiB limit", idx,
                    (unsigned long long)ph->p_memsz, PV_KERNEL_MAX_SPAN >> 20);
    if (info->nr_segs == PV_KERNEL_MAX_SEGS)
        return fail(info, "more than %d PT_LOAD segments", PV_KERNEL_MAX_SEGS);
    struct pv_segment *s = &info->seg[info->nr_segs++];
    s->offset = ph->p_offset;
    s->filesz = ph->p_filesz;
    s->memsz = ph->p_memsz;
    s->paddr = ph->p_paddr;
    s->vaddr = ph->p_vaddr;
    s->flags = ph->p_flags;
    return 0;
}

static int scan_phdrs(struct pv_kernel_info *info, const u8 *img, u64 size,
                      const struct elf64_ehdr *eh)
{
    u64 tbl = (u64)eh->e_phnum * sizeof(struct elf64_phdr);
    struct elf64_phdr ph;

    if (!range_ok(eh->e_phoff, tbl, size))
        return fail(info, "ELF program headers lie outside the image");
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == ELF_PT_LOAD && add_load(info, &ph, size, i))
            return -1;
        if (ph.p_type != ELF_PT_NOTE)
            continue;
        if (!range_ok(ph.p_offset, ph.p_filesz, size))
            return fail(info, "PT_NOTE %u lies outside the image", i);
        if (scan_notes(info, img, ph.p_offset, ph.p_filesz, ph.p_align))
            return -1;
    }
    return 0;
}

/* Fallback for images whose notes are only described by sections. */
static int scan_note_sections(struct pv_kernel_info *info, const u8 *img,
                              u64 size, const struct elf64_ehdr *eh)
{
    struct elf64_shdr sh;

    if (eh->e_shoff == 0 || eh->e_shnum == 0)
        return 0;
    if (eh->e_shentsize != sizeof(sh))
        return fail(info, "ELF section header size %u (want %zu)",
                    eh->e_shentsize, sizeof(sh));
    if (!range_ok(eh->e_shoff, (u64)eh->e_shnum * sizeof(sh), size))
        return fail(info, "ELF section headers lie outside the image");
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        memcpy(&sh, img + eh->e_shoff + i * sizeof(sh), sizeof(sh));
        if (sh.sh_type != ELF_SHT_NOTE)
            continue;
        if (!range_ok(sh.sh_offset, sh.sh_size, size))
            return fail(info, "note section %u lies outside the image", i);
        if (scan_notes(info, img, sh.sh_offset, sh.sh_size, sh.sh_addralign))
            return -1;
    }
    info->notes_from_sections = info->nr_notes != 0;
    return 0;
}

static bool overlaps(const struct pv_segment *a, const struct pv_segment *b)
{
    return a->dest < b->dest + b->memsz && b->dest < a->dest + a->memsz;
}

/* Places every segment by paddr and checks the result is one sane range. */
static int place_segments(struct pv_kernel_info *info)
{
    info->virt_kstart = ~0ULL;
    info->virt_kend = 0;
    for (unsigned i = 0; i < info->nr_segs; i++) {
        struct pv_segment *s = &info->seg[i];
        u64 end;
        if (s->paddr < info->paddr_offset)
            return fail(info, "segment at paddr %#llx lies below PADDR_OFFSET %#llx",
                        (unsigned long long)s->paddr,
                        (unsigned long long)info->paddr_offset);
        if (__builtin_add_overflow(info->virt_base, s->paddr - info->paddr_offset,
                                   &s->dest) ||
            __builtin_add_overflow(s->dest, s->memsz, &end))
            return fail(info, "segment at paddr %#llx wraps the address space",
                        (unsigned long long)s->paddr);
        info->virt_kstart = MIN(info->virt_kstart, s->dest);
        info->virt_kend = MAX(info->virt_kend, end);
        for (unsigned j = 0; j < i; j++)
            if (overlaps(s, &info->seg[j]))
                return fail(info, "PT_LOAD segments at %#llx and %#llx overlap",
                            (unsigned long long)info->seg[j].dest,
                            (unsigned long long)s->dest);
    }
    if (info->virt_kend - info->virt_kstart > PV_KERNEL_MAX_SPAN)
        return fail(info, "kernel spans %llu MiB (limit %lu MiB)",
                    (unsigned long long)((info->virt_kend - info->virt_kstart) >> 20),
                    PV_KERNEL_MAX_SPAN >> 20);
    return 0;
}

int elf_parse_pv_kernel(const void *image, size_t size, struct pv_kernel_info *info)
{
    const u8 *img = image;
    struct elf64_ehdr eh;

    memset(info, 0, sizeof(*info));
    if (!img || size < sizeof(eh))
        return fail(info, "image too small for an ELF header (%zu bytes)", size);
    if (size > PV_KERNEL_MAX_FILE)
        return fail(info, "image of %zu MiB exceeds the %lu MiB limit", size >> 20,
                    PV_KERNEL_MAX_FILE >> 20);
    memcpy(&eh, img, sizeof(eh));
    if (check_ehdr(info, &eh) || scan_phdrs(info, img, size, &eh))
        return -1;
    if (info->nr_notes == 0 && scan_note_sections(info, img, size, &eh))
        return -1;
    if (info->nr_notes == 0)
        return fail(info, "no Xen ELF notes: not a PV kernel (Keel loads only "
                          "PV kernels that carry notes)");
    if (info->nr_segs == 0)
        return fail(info, "no loadable (PT_LOAD) segments");
    info->elf_entry = eh.e_entry;
    if (!PV_HAS(info, XEN_ELFNOTE_ENTRY))
        info->entry = eh.e_entry;
    return place_segments(info);
}

/* True when [va, va+len) lies within a single loaded segment. */
static bool in_segment(const struct pv_kernel_info *info, u64 va, u64 len)
{
    for (unsigned i = 0; i < info->nr_segs; i++) {
        const struct pv_segment *s = &info->seg[i];
        if (va >= s->dest && va - s->dest < s->memsz && len <= s->memsz - (va - s->dest))
            return true;
    }
    return false;
}

int pv_kernel_check(struct pv_kernel_info *info, u32 offered)
{
    if (PV_HAS(info, XEN_ELFNOTE_LOADER) && strcmp(info->loader, "generic"))
        return fail(info, "LOADER note is '%s', Keel supports only 'generic'",
                    info->loader);
    if (!IS_ALIGNED(info->virt_base, PAGE_SIZE))
        return fail(info, "VIRT_BASE %#llx is not page aligned",
                    (unsigned long long)info->virt_base);
    if (!in_segment(info, info->entry, 1))
        return fail(info, "entry %#llx lies outside the loaded segments",
                    (unsigned long long)info->entry);
    if (info->has_hypercall_page &&
        (!IS_ALIGNED(info->hypercall_page, PAGE_SIZE) ||
         !in_segment(info, info->hypercall_page, PAGE_SIZE)))
        return fail(info, "hypercall page %#llx is unaligned or outside the loaded segments",
                    (unsigned long long)info->hypercall_page);
    u32 missing = info->features_required & ~offered;
    if (missing) {
        unsigned bit = (unsigned)__builtin_ctz(missing);
        const char *name = pv_feature_name(bit);
        return fail(info, "kernel requires feature %s (%u), which Keel does not offer",
                    name ? name : "?", bit);
    }
    return 0;
}

int pv_kernel_check_dom0(struct pv_kernel_info *info)
{
    if (PV_HAS(info, XEN_ELFNOTE_SUPPORTED_FEATURES) &&
        !(info->features_supported & (1U << XENFEAT_dom0)))
        return fail(info, "it does not support running as dom0 (its SUPPORTED_FEATURES "
                          "note lacks XENFEAT_dom0)");
    return 0;
}

int pv_kernel_load(const void *image, size_t size, struct pv_kernel_info *info,
                   pv_copy_fn copy, void *ctx)
{
    const u8 *img = image;

    for (unsigned i = 0; i < info->nr_segs; i++) {
        const struct pv_segment *s = &info->seg[i];
        if (s->filesz > s->memsz || !range_ok(s->offset, s->filesz, size))
            return fail(info, "segment %u no longer matches the image", i);
        if (s->filesz && copy(ctx, s->dest, img + s->offset, s->filesz))
            return fail(info, "copying segment %u to %#llx failed", i,
                        (unsigned long long)s->dest);
        if (s->memsz > s->filesz &&
            copy(ctx, s->dest + s->filesz, NULL, s->memsz - s->filesz))
            return fail(info, "zeroing the tail of segment %u failed", i);
    }
    return 0;
}
