/*
 * mbshim entry: a Multiboot 1 kernel (ELF, loaded by QEMU's -kernel) that
 * hands Keel deliberately crafted boot information.  Linked at 16 MiB so
 * Keel's image (2 MiB up) can be copied into place underneath it.
 */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00000003 /* page-align modules, memory info */

        .section .multiboot, "a"
        .align 4
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)

        .text
        .code32
        .globl _start
_start:
        cli
        cld
        mov     $stack_top, %esp
        push    %ebx                    /* loader's boot information */
        push    %eax                    /* loader's magic */
        call    shim_main
1:      hlt
        jmp     1b

/* enter_keel(entry, magic, info): jump with Keel's expected registers. */
        .globl enter_keel
enter_keel:
        mov     4(%esp), %ecx
        mov     8(%esp), %eax
        mov     12(%esp), %ebx
        jmp     *%ecx

        .bss
        .align 16
        .fill   16384, 1, 0
stack_top:
