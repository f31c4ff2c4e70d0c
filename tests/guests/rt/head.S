/*
 * Entry and Xen ELF notes of a Keel PV test kernel.
 *
 * The builder enters at ENTRY in 64-bit guest-kernel mode with %rsi = the
 * virtual address of start_info and %rsp on a builder-provided page
 * (PV-ABI.md §2.3).  We switch to our own stack, clear .bss (the builder
 * zeroes it too, but a test kernel should not depend on what it tests) and
 * hand start_info to test_main.
 */
#include <xen/elfnote.h>
#include <xen/features.h>

#define VIRT_BASE 0xffffffff80000000

/* One "Xen" note: type, then the assembler directive making its desc. */
.macro xen_note type:req, desc:vararg
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 2f - 1f
    .long 4f - 3f
    .long \type
1:  .asciz "Xen"
2:  .balign 4
3:  \desc
4:  .balign 4
    .popsection
.endm

    xen_note XEN_ELFNOTE_GUEST_OS,       .asciz "keeltest"
    xen_note XEN_ELFNOTE_GUEST_VERSION,  .asciz "1"
    xen_note XEN_ELFNOTE_XEN_VERSION,    .asciz "xen-3.0"
    xen_note XEN_ELFNOTE_LOADER,         .asciz "generic"
    xen_note XEN_ELFNOTE_VIRT_BASE,      .quad VIRT_BASE
    xen_note XEN_ELFNOTE_PADDR_OFFSET,   .quad 0
    xen_note XEN_ELFNOTE_ENTRY,          .quad _start
    /* Unterminated, as Linux emits it: parsers must cope. */
    xen_note XEN_ELFNOTE_FEATURES,       .ascii "pae_pgdir_above_4gb"
#ifndef RT_NO_SUPPORTED_FEATURES
    /* Lets a builder run a test kernel as dom0 (Xen insists on this bit
     * when the note is there; a kernel without the note is taken as is). */
    xen_note XEN_ELFNOTE_SUPPORTED_FEATURES, .long (1 << XENFEAT_dom0)
#endif
#ifdef RT_HYPERCALL_PAGE
    xen_note XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page
#endif

    .section .text.head, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    cld
    mov     %rsi, %r12                  /* start_info survives the bss clear */
    lea     rt_stack_top(%rip), %rsp
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    rep stosb
    mov     %r12, %rdi
    call    rt_main
    ud2                                 /* rt_main never returns */
    .size _start, . - _start

#ifdef RT_HYPERCALL_PAGE
    /* Filled by the hypervisor: 32-byte stubs, one per hypercall number. */
    .section .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc                 /* int3 if it was never filled */
#endif

    .section .bss
    .balign 16
    .globl rt_stack, rt_stack_top       /* hlog.c tells vCPU 0 by its stack */
rt_stack:
    .skip 16384
rt_stack_top:

    .section .note.GNU-stack, "", @progbits
