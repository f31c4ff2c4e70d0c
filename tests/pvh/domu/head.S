/*
 * PVH entry: 32-bit flat protected mode, paging off, %ebx = physical
 * address of hvm_start_info.  Identity-map the first 4 GiB with 2 MiB pages,
 * enter long mode and call pvh_main(start_info).
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

        .section .text.head, "ax"
        .code32
        .globl  _start
_start:
        cld
        mov     %ebx, %esi
        /* Clear .bss (the page tables and stack live there). */
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        xor     %eax, %eax
        rep stosb
        /* PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs, PD entry i = i * 2 MiB. */
        mov     $pdpt, %eax
        or      $0x7, %eax
        mov     %eax, pml4
        xor     %ecx, %ecx
2:      mov     %ecx, %eax
        shl     $12, %eax
        add     $pd, %eax
        or      $0x7, %eax
        mov     %eax, pdpt(,%ecx,8)
        inc     %ecx
        cmp     $4, %ecx
        jne     2b
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x87, %eax             /* present, writable, user, 2 MiB */
        mov     %eax, pd(,%ecx,8)
        inc     %ecx
        cmp     $2048, %ecx
        jne     1b
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        mov     $0xc0000080, %ecx       /* EFER.LME (Keel/Xen check it) */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       /* PG, PE */
        mov     %eax, %cr0
        lgdt    gdt_desc
        ljmp    $0x08, $long_mode

        .code64
long_mode:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        mov     $stack_top, %rsp
        mov     %esi, %edi
        call    pvh_main
1:      cli
        hlt
        jmp     1b

/*
 * An AP's way in (area upcall): the vCPU wakes from a STARTUP IPI in real
 * mode at CS = vector << 8, IP 0, where pvh_main copied this code (it
 * must sit below 1 MiB).  It turns on PAE, long mode and paging with the
 * BSP's tables and jumps straight to the 64-bit code segment.
 */
        .text
        .code16
        .globl  ap_tramp_start, ap_tramp_end
ap_tramp_start:
        cli
        mov     %cs, %ax
        mov     %ax, %ds
        lgdtl   (ap_gdt_desc - ap_tramp_start)
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        movl    $pml4, %eax
        mov     %eax, %cr3
        mov     $0xc0000080, %ecx       /* EFER.LME */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       /* PG, PE */
        mov     %eax, %cr0
        ljmpl   $0x08, $ap_long_mode
ap_gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   gdt
ap_tramp_end:

        .code64
ap_long_mode:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        mov     $ap_stack_top, %rsp
        call    ap_main
1:      cli
        hlt
        jmp     1b

        .section .rodata
        .balign 8
gdt:
        .quad   0
        .quad   0x00af9b000000ffff      /* 64-bit code */
        .quad   0x00cf93000000ffff      /* data */
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   gdt

        .section .bss
        .balign 4096
pml4:   .fill   512, 8, 0
pdpt:   .fill   512, 8, 0
pd:     .fill   2048, 8, 0
        .globl  hypercall_page
hypercall_page:
        .fill   4096, 1, 0
stack:  .fill   16384, 1, 0
stack_top:
ap_stack:
        .fill   16384, 1, 0
ap_stack_top:

        .section .note.Xen, "a"
        .balign 4
        .long   4, 4, XEN_ELFNOTE_PHYS32_ENTRY
        .asciz  "Xen"
        .balign 4
        .long   _start
        .balign 4

        .section .note.GNU-stack, "", @progbits
