/* The PVH test domU (tests/pvh/domu) the launcher builds, carried in its image. */
    .section .rodata
    .balign 16
    .globl pvh_elf, pvh_elf_end
pvh_elf:
    .incbin EMBED_ELF
pvh_elf_end:

    .section .note.GNU-stack, "", @progbits
