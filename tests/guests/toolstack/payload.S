/* The domU kernel the toolstack guest builds, carried in its image. */
    .section .rodata
    .balign 16
    .globl domu_elf, domu_elf_end
domu_elf:
    .incbin EMBED_ELF
domu_elf_end:

    .section .note.GNU-stack, "", @progbits
