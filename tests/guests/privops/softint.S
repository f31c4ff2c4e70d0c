/*
 * Handlers for software-interrupt vectors above 31 (the runtime covers
 * 0-31 only).  Each records its vector and the bounce frame's RIP/CS, then
 * returns through the runtime's iret tail.  The interrupted code declares
 * RCX and R11 clobbered, so the handler may use them.
 */
.macro soft_entry n
    .globl privops_int_\n
    .balign 16
privops_int_\n:
    pop     %rcx                        /* hypervisor-saved RCX, R11 */
    pop     %r11
    movq    $\n, privops_soft_vec(%rip)
    mov     (%rsp), %rcx
    mov     %rcx, privops_soft_rip(%rip)
    mov     8(%rsp), %rcx
    mov     %rcx, privops_soft_cs(%rip)
    incl    privops_soft_count(%rip)
    jmp     rt_iret_tail
.endm

    .text
    soft_entry 0x80
    soft_entry 0x81
    soft_entry 0x82

    .bss
    .balign 8
    .globl privops_soft_vec, privops_soft_rip, privops_soft_cs, privops_soft_count
privops_soft_vec:   .quad 0
privops_soft_rip:   .quad 0
privops_soft_cs:    .quad 0
privops_soft_count: .long 0

    .section .note.GNU-stack, "", @progbits
