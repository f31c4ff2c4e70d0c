/*
 * TEMPORARY (remove when the traps subsystem lands): 256 interrupt entry
 * stubs for the stand-in IDT in smp_fallback.c, so IPIs can be tested in
 * this branch alone.  Each stub is 16 bytes: push the vector, jump to the
 * common path.  Exceptions go to a C function that never returns.
 */
        .text
        .code64
        .align 16
        .globl smp_fallback_stubs
smp_fallback_stubs:
        .set    v, 0
        .rept   256
        .align  16
        pushq   $v
        jmp     stub_common
        .set    v, v + 1
        .endr

stub_common:
        cmpq    $32, (%rsp)
        jb      stub_exception
        push    %rax
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        mov     72(%rsp), %rdi
        sub     $8, %rsp                /* 16-byte alignment for the call */
        call    smp_fallback_irq
        add     $8, %rsp
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rax
        add     $8, %rsp
        iretq

stub_exception:
        mov     (%rsp), %rdi
        lea     8(%rsp), %rsi
        and     $-16, %rsp
        call    smp_fallback_exception
1:      cli
        hlt
        jmp     1b
