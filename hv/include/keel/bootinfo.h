/*
 * What the boot loader told us, in one loader-neutral structure.  Both
 * Multiboot 1 and Multiboot 2 are parsed into struct boot_info, and every
 * string and table is copied out, so nothing later depends on the loader's
 * memory staying intact (except the RSDP copy, whose address ACPI may want).
 *
 * The loader's memory is hostile input: the parser reaches it only through a
 * bounds-checked struct mem_window and rejects anything malformed with a
 * human-readable reason in boot_info.error.
 */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <keel/types.h>

#define MB1_LOADER_MAGIC 0x2badb002U
#define MB2_LOADER_MAGIC 0x36d76289U

#define BOOT_CMDLINE_MAX 1024
#define BOOT_LOADER_NAME_MAX 64
#define BOOT_MOD_CMDLINE_MAX 512
#define BOOT_MAX_RANGES 128
#define BOOT_MAX_MODULES 16
#define BOOT_ERROR_MAX 160
/* Bigger Multiboot 2 information than this is not a real loader's. */
#define MB2_MAX_TOTAL_SIZE (1U << 20)

/* Memory range types, as in the BIOS E820 map and both Multiboot maps. */
enum e820_type {
    E820_RAM = 1,
    E820_RESERVED = 2,
    E820_ACPI = 3,
    E820_NVS = 4,
    E820_UNUSABLE = 5,
};

struct mem_range {
    u64 start;
    u64 len;
    u32 type; /* enum e820_type; loaders may hand us other values */
};

struct boot_module {
    paddr_t start;
    paddr_t end; /* exclusive */
    char cmdline[BOOT_MOD_CMDLINE_MAX];
};

struct boot_info {
    u32 protocol;  /* 1 or 2: which Multiboot */
    paddr_t info_pa;   /* the loader's information structure ... */
    u64 info_size;     /* ... and its size, to keep it out of the allocator */
    char cmdline[BOOT_CMDLINE_MAX];
    char loader_name[BOOT_LOADER_NAME_MAX]; /* "" when not given */
    bool has_mmap;     /* false: ranges[] came from mem_lower/mem_upper */
    bool has_basic_mem;
    u32 mem_lower_kb, mem_upper_kb;
    unsigned int nr_ranges;
    struct mem_range ranges[BOOT_MAX_RANGES];
    unsigned int nr_modules;
    struct boot_module modules[BOOT_MAX_MODULES];
    /* ACPI RSDP from a Multiboot 2 tag: the loader's copy (0: none given). */
    paddr_t rsdp_pa;
    u32 rsdp_len;
    u8 rsdp[36]; /* the copy itself, so the tag's memory may be reused */
    const char *error; /* NULL, or why the information was rejected */
    char errbuf[BOOT_ERROR_MAX];
};

/*
 * Loader memory visible to the parser: physical [pa_base, pa_base + size)
 * readable at base.  Keel passes its direct map of the low 4 GiB.
 */
struct mem_window {
    const u8 *base;
    paddr_t pa_base;
    size_t size;
};

/* Returns 0, or -1 with bi->error set.  bi is fully overwritten. */
int boot_info_parse(struct boot_info *bi, u32 magic, paddr_t info_pa,
                    const struct mem_window *w);

/*
 * Most Multiboot loaders (QEMU's, GRUB legacy) put the image's own path
 * first on each command line (the hypervisor's and every module's); GRUB 2
 * passes only the arguments.  This returns the arguments of a command line
 * that came from bi's loader.
 */
const char *boot_cmdline_args(const struct boot_info *bi, const char *cmdline);

/* The information Keel booted with (filled by start_keel). */
extern struct boot_info boot_info;
/* Module 0 / module 1 (NULL when absent).  The kernel's own command line is
 * boot_cmdline_args(&boot_info, module->cmdline). */
const struct boot_module *boot_dom0_kernel(void);
const struct boot_module *boot_dom0_initrd(void);
void boot_info_print(const struct boot_info *bi);
void boot_modules_print(const struct boot_info *bi);

#endif
