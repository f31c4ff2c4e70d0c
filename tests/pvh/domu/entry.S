/*
 * Interrupt and exception entry of the PVH test domU: every vector pushes
 * the same frame (error code or 0, vector) and calls trap(frame); trap may
 * change the saved rip (to skip a probed instruction).
 */
        .text
.macro stub vec
        .p2align 4
        .if (\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17)
        .else
        pushq   $0
        .endif
        pushq   $\vec
        jmp     common
.endm

        .globl  stubs_start
stubs_start:
        .set    v, 0
        .rept   256
        stub    v
        .set    v, v + 1
        .endr

common:
        push    %rbx
        push    %rax
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        mov     %rsp, %rdi
        mov     %rsp, %rbx
        and     $-16, %rsp
        call    trap
        mov     %rbx, %rsp
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rax
        pop     %rbx
        add     $16, %rsp
        iretq

        .section .note.GNU-stack, "", @progbits
