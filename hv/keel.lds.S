/*
 * Keel's link map.  The boot section is linked at its physical address (it
 * runs before paging); everything after it is linked high, at
 * KEEL_VIRT_BASE + physical, and laid out so the flat binary made from this
 * ELF is the memory image.  Text, rodata and data each start on a page, so
 * the final page tables can give them W^X permissions.
 */
#include <asm/layout.h>

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

SECTIONS
{
    . = KEEL_PHYS_START;
    __image_phys_start = .;
    .boot : {
        *(.multiboot)
        *(.boot.text)
        *(.boot.data)
    }
    . = ALIGN(4096);

    . += KEEL_VIRT_BASE;
    __text_start = .;
    .text : AT(ADDR(.text) - KEEL_VIRT_BASE) {
        *(.text.entry)
        *(.text .text.*)
        *(.init.text)
    }
    . = ALIGN(4096);
    __text_end = .;

    __rodata_start = .;
    .rodata : AT(ADDR(.rodata) - KEEL_VIRT_BASE) {
        *(.rodata .rodata.*)
        . = ALIGN(8);
        __initcalls_start = .;
        KEEP(*(.initcalls))
        __initcalls_end = .;
        . = ALIGN(8);
        __selftests_start = .;
        KEEP(*(.selftests))
        __selftests_end = .;
        . = ALIGN(8);
        /* Exception fixups: faulting instruction -> continuation. */
        __ex_table_start = .;
        KEEP(*(.ex_table))
        __ex_table_end = .;
        . = ALIGN(8);
        /* Last, so its size (which differs between the two link passes)
         * moves nothing that the table itself describes. */
        KEEP(*(.symtab.keel))
    }
    . = ALIGN(4096);
    __rodata_end = .;

    __data_start = .;
    .data : AT(ADDR(.data) - KEEL_VIRT_BASE) {
        /* Template of per-CPU variables: CPU 0 uses it in place, the
         * others get copies (offset = copy - template). */
        . = ALIGN(64);
        __per_cpu_start = .;
        *(.data.percpu)
        . = ALIGN(64);
        __per_cpu_end = .;
        *(.data .data.*)
        *(.init.data)
        /* The file ends here: loaders zero from here to __bss_end. */
        __load_end = .;
    }
    . = ALIGN(4096);

    __bss_start = .;
    .bss : AT(ADDR(.bss) - KEEL_VIRT_BASE) {
        *(.bss.stack)
        *(.bss .bss.* COMMON)
    }
    . = ALIGN(4096);
    __bss_end = .;
    __image_end = .;

    /DISCARD/ : {
        *(.note .note.*)
        *(.comment)
        *(.eh_frame)
        *(.eh_frame_hdr)
    }
}
