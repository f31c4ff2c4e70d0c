/*
 * To guest user mode and back for the iostr test.  enter_user(rip, rsp)
 * irets to user mode after saving the kernel's callee-saved registers;
 * the user code ends with a `syscall`, whose callback (in kernel mode,
 * on the stack_switch stack) restores them and returns from enter_user.
 */
#define __ASSEMBLY__ 1
#include <xen/xen.h>

    .text
    .globl enter_user, user_syscall_entry
enter_user:
    push    %rbx
    push    %rbp
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, kern_saved_rsp(%rip)
    pushq   $FLAT_USER_SS64             /* iret_context, highest first */
    push    %rsi                        /* rsp */
    pushq   $0x200                      /* rflags: events on */
    pushq   $FLAT_USER_CS64
    push    %rdi                        /* rip */
    pushq   $0                          /* flags */
    pushq   $0                          /* rcx */
    pushq   $0                          /* r11 */
    pushq   $0                          /* rax */
    mov     $__HYPERVISOR_iret, %eax
    syscall
    ud2

user_syscall_entry:
    mov     kern_saved_rsp(%rip), %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbp
    pop     %rbx
    ret

    .bss
    .balign 8
kern_saved_rsp: .quad 0

    .section .note.GNU-stack, "", @progbits
