/*
 * svm_vmrun(struct regs *r, paddr_t vmcb): the guest's general registers
 * from r, VMRUN, and back into r.  rax, rsp, rip and rflags travel in the
 * VMCB.  The host's rsp, rip and rax come back from the host-save area;
 * the callee-saved registers are kept on the stack around it.  Called
 * with GIF clear (clgi), so nothing interrupts the swap.
 */
#include <asm-offsets.h>

        .text
        .globl  svm_vmrun
svm_vmrun:
        push    %rbp
        push    %rbx
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        push    %rdi
        mov     %rsi, %rax
        mov     REGS_rbx(%rdi), %rbx
        mov     REGS_rcx(%rdi), %rcx
        mov     REGS_rdx(%rdi), %rdx
        mov     REGS_rsi(%rdi), %rsi
        mov     REGS_rbp(%rdi), %rbp
        mov     REGS_r8(%rdi), %r8
        mov     REGS_r9(%rdi), %r9
        mov     REGS_r10(%rdi), %r10
        mov     REGS_r11(%rdi), %r11
        mov     REGS_r12(%rdi), %r12
        mov     REGS_r13(%rdi), %r13
        mov     REGS_r14(%rdi), %r14
        mov     REGS_r15(%rdi), %r15
        mov     REGS_rdi(%rdi), %rdi
        vmrun
        push    %rdi
        mov     8(%rsp), %rdi
        mov     %rbx, REGS_rbx(%rdi)
        mov     %rcx, REGS_rcx(%rdi)
        mov     %rdx, REGS_rdx(%rdi)
        mov     %rsi, REGS_rsi(%rdi)
        mov     %rbp, REGS_rbp(%rdi)
        mov     %r8, REGS_r8(%rdi)
        mov     %r9, REGS_r9(%rdi)
        mov     %r10, REGS_r10(%rdi)
        mov     %r11, REGS_r11(%rdi)
        mov     %r12, REGS_r12(%rdi)
        mov     %r13, REGS_r13(%rdi)
        mov     %r14, REGS_r14(%rdi)
        mov     %r15, REGS_r15(%rdi)
        popq    REGS_rdi(%rdi)
        add     $8, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbx
        pop     %rbp
        ret
