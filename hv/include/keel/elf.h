/*
 * ELF64 PV kernel images: parsing, Xen ELF notes, validation and loading
 * (core, host-testable).
 *
 * The image is hostile input: every offset, size and count in it is checked
 * against the buffer before use.  Usage by a domain builder:
 *
 *   struct pv_kernel_info ki;
 *   if (elf_parse_pv_kernel(img, size, &ki) ||
 *       pv_kernel_check(&ki, offered_features))
 *       fail with ki.why;
 *   ... allocate [ki.virt_kstart, ki.virt_kend) ...
 *   pv_kernel_load(img, size, &ki, copy_fn, ctx);
 */
#ifndef KEEL_ELF_H
#define KEEL_ELF_H

#include <keel/types.h>

/* ---- ELF64 file format (the System V gABI and x86-64 psABI layouts) ---- */

#define ELF_MAGIC "\x7f" "ELF"
#define ELF_EI_CLASS 4
#define ELF_EI_DATA 5
#define ELF_EI_VERSION 6
#define ELF_CLASS64 2
#define ELF_DATA_LSB 1
#define ELF_VERSION_CURRENT 1
#define ELF_ET_EXEC 2
#define ELF_EM_X86_64 62
#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4
#define ELF_PF_X 1
#define ELF_PF_W 2
#define ELF_PF_R 4
#define ELF_SHT_NOTE 7
#define ELF_PN_XNUM 0xffff

struct elf64_ehdr {
    u8 e_ident[16];
    u16 e_type;
    u16 e_machine;
    u32 e_version;
    u64 e_entry;
    u64 e_phoff;
    u64 e_shoff;
    u32 e_flags;
    u16 e_ehsize;
    u16 e_phentsize;
    u16 e_phnum;
    u16 e_shentsize;
    u16 e_shnum;
    u16 e_shstrndx;
};

struct elf64_phdr {
    u32 p_type;
    u32 p_flags;
    u64 p_offset;
    u64 p_vaddr;
    u64 p_paddr;
    u64 p_filesz;
    u64 p_memsz;
    u64 p_align;
};

struct elf64_shdr {
    u32 sh_name;
    u32 sh_type;
    u64 sh_flags;
    u64 sh_addr;
    u64 sh_offset;
    u64 sh_size;
    u32 sh_link;
    u32 sh_info;
    u64 sh_addralign;
    u64 sh_entsize;
};

struct elf_note_hdr {
    u32 n_namesz;
    u32 n_descsz;
    u32 n_type;
};

/* ---- Limits: anything larger is refused rather than trusted ---- */

/* A Linux vmlinux is ~60 MiB; the whole initial mapping must fit in 1 GiB. */
#define PV_KERNEL_MAX_FILE (256UL << 20)
#define PV_KERNEL_MAX_SPAN (512UL << 20)
#define PV_KERNEL_MAX_SEGS 16
#define PV_NOTE_STR_MAX 64

struct pv_segment {
    u64 offset; /* in the file */
    u64 filesz; /* bytes copied from the file */
    u64 memsz;  /* filesz..memsz is zero-filled */
    u64 paddr;  /* p_paddr as found in the image */
    u64 vaddr;  /* p_vaddr (informational: loading goes by paddr) */
    u64 dest;   /* guest virtual load address: virt_base + paddr - paddr_offset */
    u32 flags;  /* ELF_PF_* */
};

/* Which optional notes were present (bit = XEN_ELFNOTE_* number). */
#define PV_HAS(info, note) (((info)->notes_seen >> (note)) & 1)

struct pv_kernel_info {
    u64 elf_entry;      /* e_entry: the native entry, unused for PV */
    u64 virt_base;      /* VIRT_BASE (0 when absent) */
    u64 paddr_offset;   /* PADDR_OFFSET (0 when absent) */
    u64 entry;          /* ENTRY note, else e_entry */
    u64 hypercall_page; /* valid when has_hypercall_page */
    bool has_hypercall_page;
    u64 init_p2m;       /* valid when PV_HAS(INIT_P2M) */
    u64 mod_start_pfn;  /* MOD_START_PFN value (0 when absent) */
    u64 hv_start_low;   /* 32-bit guests only; recorded, unused */
    u64 suspend_cancel;
    u64 phys32_entry;   /* PVH entry; recorded, unused for PV */
    u64 l1_mfn_valid[2]; /* mask, value (as many as present) */
    u32 features_required;  /* XENFEAT_* bitmap (submap 0) */
    u32 features_supported; /* listed in FEATURES or SUPPORTED_FEATURES */
    u32 unknown_features;   /* count of unrecognised optional names */
    char guest_os[PV_NOTE_STR_MAX];      /* NUL-terminated, truncated */
    char guest_version[PV_NOTE_STR_MAX];
    char xen_version[PV_NOTE_STR_MAX];
    char loader[PV_NOTE_STR_MAX];
    char pae_mode[PV_NOTE_STR_MAX];
    u32 notes_seen;     /* bitmap of XEN_ELFNOTE_* types found */
    unsigned nr_notes;  /* Xen notes found */
    bool notes_from_sections; /* no PT_NOTE had them; SHT_NOTE did */
    u64 virt_kstart, virt_kend; /* guest virtual range of all PT_LOADs */
    unsigned nr_segs;
    struct pv_segment seg[PV_KERNEL_MAX_SEGS];
    char why[128]; /* reason for the last failure */
};

/* Fills *info from the image.  Returns 0, or -1 with info->why set. */
int elf_parse_pv_kernel(const void *img, size_t size, struct pv_kernel_info *info);

/*
 * Refuses what Keel cannot honour: loader other than "generic", entry or
 * hypercall page outside the loaded segments, a required feature outside
 * `offered` (XENFEAT_* bitmap the caller will provide to this guest).
 * Returns 0, or -1 with info->why set.
 */
int pv_kernel_check(struct pv_kernel_info *info, u32 offered);

/*
 * May this kernel be built as dom0?  Xen asks only kernels that carry a
 * SUPPORTED_FEATURES note to list XENFEAT_dom0 (there or in FEATURES);
 * older kernels with no such note are taken as they are.  Returns 0, or
 * -1 with info->why set.
 */
int pv_kernel_check_dom0(struct pv_kernel_info *info);

/*
 * Receives `len` bytes for guest virtual address `gva` (in the kernel's
 * initial mapping: pseudo-physical = gva - virt_base); `src` is NULL for
 * zero fill.  Returns 0, or non-zero to abort the load.
 */
typedef int (*pv_copy_fn)(void *ctx, u64 gva, const void *src, u64 len);

/* Copies every segment through `copy` (file part, then zeroes).  The image
 * must be the buffer that was parsed; bounds are re-checked anyway.
 * Returns 0, or -1 with info->why set. */
int pv_kernel_load(const void *img, size_t size, struct pv_kernel_info *info,
                   pv_copy_fn copy, void *ctx);

/* The name Xen's FEATURES note uses for a XENFEAT_* bit, or NULL. */
const char *pv_feature_name(unsigned bit);

#endif
