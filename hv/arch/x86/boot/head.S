/*
 * Keel's first instructions.  Both Multiboot 1 and 2 loaders enter here in
 * 32-bit protected mode with paging off; we check the CPU can do long mode,
 * switch to it on small static page tables (identity + image + direct map of
 * the low 4 GiB, 2 MiB pages), jump to the image's high address and call C.
 * The image is a flat binary: both headers carry load addresses, so loaders
 * never need to parse ELF and the file layout is the memory layout.
 */
#include <asm/layout.h>

#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00010003 /* page-align modules, memory info, address fields */
#define MB2_MAGIC 0xe85250d6
#define MB1_LOADER_MAGIC 0x2badb002
#define MB2_LOADER_MAGIC 0x36d76289

#define PHYS(sym) ((sym) - KEEL_VIRT_BASE)
#define COM1 0x3f8

        .section .multiboot, "a"
        .align 8
mb1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)
        .long mb1_header                /* header_addr */
        .long __image_phys_start        /* load_addr */
        .long PHYS(__load_end)          /* load_end_addr */
        .long PHYS(__bss_end)           /* bss_end_addr */
        .long _start                    /* entry_addr */

        .align 8
mb2_header:
        .long MB2_MAGIC
        .long 0                         /* i386 protected mode */
        .long mb2_header_end - mb2_header
        .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
        /* information request: cmdline, modules, basic mem, mmap */
        .align 8
        .short 1, 0
        .long 24
        .long 1, 3, 4, 6
        /* address tag */
        .align 8
        .short 2, 0
        .long 24
        .long mb2_header
        .long __image_phys_start
        .long PHYS(__load_end)
        .long PHYS(__bss_end)
        /* entry address tag */
        .align 8
        .short 3, 0
        .long 12
        .long _start
        /* page-align modules */
        .align 8
        .short 6, 0
        .long 8
        /* end */
        .align 8
        .short 0, 0
        .long 8
mb2_header_end:

        .section .boot.text, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        mov     %eax, %edi              /* loader magic, kept for C */
        mov     %ebx, %esi              /* boot information (physical) */
        mov     $boot_stack_top, %esp

        cmp     $MB1_LOADER_MAGIC, %edi
        je      1f
        cmp     $MB2_LOADER_MAGIC, %edi
        je      1f
        mov     $msg_not_multiboot, %ebx
        jmp     fail32
1:
        /* Long mode available?  (CPUID 0x80000001 EDX bit 29) */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      no_long_mode
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     no_long_mode
        mov     %edx, %ebp              /* keep the NX bit (20) for EFER */

        mov     $boot_l4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        mov     $0xc0000080, %ecx       /* EFER */
        rdmsr
        or      $0x101, %eax            /* LME | SCE */
        bt      $20, %ebp
        jnc     2f
        or      $0x800, %eax            /* NXE */
2:      wrmsr
        mov     %cr0, %eax
        or      $0x80010021, %eax       /* PG | WP | NE | PE */
        mov     %eax, %cr0
        lgdt    boot_gdt_desc
        ljmp    $0x08, $start64_low

no_long_mode:
        mov     $msg_no_lm, %ebx
        /* fall through */

/* Print the NUL-terminated string at %ebx on COM1 and stop for good. */
fail32:
        mov     $COM1 + 3, %dx          /* 8n1, DLAB off; BIOS set the rate */
        mov     $0x03, %al
        outb    %al, %dx
3:      mov     $COM1 + 5, %dx
4:      inb     %dx, %al
        test    $0x20, %al
        jz      4b
        movb    (%ebx), %al
        test    %al, %al
        jz      5f
        mov     $COM1, %dx
        outb    %al, %dx
        inc     %ebx
        jmp     3b
5:      hlt
        jmp     5b

        .code64
start64_low:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        movabs  $start64, %rax
        jmp     *%rax

        .section .boot.data, "aw"
msg_not_multiboot:
        .asciz  "Keel: not started by a Multiboot loader; halting.\r\n"
msg_no_lm:
        .asciz  "Keel: this CPU has no 64-bit long mode; halting.\r\n"

        .align 16
boot_gdt:
        .quad   0
        .quad   0x00af9a000000ffff      /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
        .short  boot_gdt_end - boot_gdt - 1
        .long   boot_gdt

        .align 4096
boot_stack:
        .fill   1024, 1, 0
boot_stack_top:

        /*
         * The same L3 serves three L4 slots: identity (for the switch),
         * Keel's image (VA = base + PA) and the direct map.
         */
        .align 4096
        .globl boot_l4
boot_l4:
        .quad   boot_l3 + 0x3
        .fill   260, 8, 0
        .quad   boot_l3 + 0x3           /* slot 261: image */
        .quad   boot_l3 + 0x3           /* slot 262: direct map */
        .fill   249, 8, 0
boot_l3:
        .quad   boot_l2 + 0x0003
        .quad   boot_l2 + 0x1003
        .quad   boot_l2 + 0x2003
        .quad   boot_l2 + 0x3003
        .fill   508, 8, 0
boot_l2:
        .set    i, 0
        .rept   2048
        .quad   (i << 21) | 0x83        /* present, writable, 2 MiB */
        .set    i, i + 1
        .endr

        .text
        .code64
start64:
        /* Clear .bss before anything (the BSP stack lives there). */
        mov     %rdi, %r12
        mov     %rsi, %r13
        movabs  $__bss_start, %rdi
        movabs  $__bss_end, %rcx
        sub     %rdi, %rcx
        shr     $3, %rcx
        xor     %eax, %eax
        rep stosq
        movabs  $bsp_stack + STACK_SIZE - CPU_INFO_RESERVE, %rsp
        xor     %ebp, %ebp
        mov     %r12d, %edi
        mov     %r13d, %esi
        call    start_keel
6:      cli
        hlt
        jmp     6b
