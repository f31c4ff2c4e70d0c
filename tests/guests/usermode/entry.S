/*
 * Guest-kernel <-> guest-user transitions for the usermode test.
 *
 * enter_user(rip, rsp): iret hypercall to user mode (CS with RPL 3), after
 * saving the kernel's callee-saved registers and stack; user_exit_landing
 * (reached from the syscall callback, in kernel mode) restores them and
 * returns from enter_user.
 *
 * Bounce frames from user mode arrive on the stack_switch stack as (lowest
 * first) RCX, R11, RIP, CS, RFLAGS, RSP, SS.
 */
#define __ASSEMBLY__ 1
#include <xen/xen.h>

    .text
    .globl enter_user, user_exit_landing
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
user_exit_landing:
    mov     kern_saved_rsp(%rip), %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbp
    pop     %rbx
    ret

/*
 * The syscall callback: RAX = 99 ends the user part; anything else is
 * counted, the frame noted, and answered with RAX = 42 through the iret
 * hypercall with VGCF_in_syscall (as Linux's sysret path does).
 */
    .globl user_syscall_entry
user_syscall_entry:
    cmp     $99, %rax
    je      user_exit_landing
    incl    sys_count(%rip)
    mov     %rax, sys_nr(%rip)
    mov     (%rsp), %rcx
    mov     %rcx, sys_rcx(%rip)
    mov     16(%rsp), %rcx
    mov     %rcx, sys_rip(%rip)
    mov     24(%rsp), %rcx
    mov     %rcx, sys_cs(%rip)
    mov     %gs:0, %rcx                 /* the kernel GS base is active */
    mov     %rcx, sys_gs(%rip)
    pop     %rcx
    pop     %r11
    pushq   $VGCF_in_syscall
    push    %rcx
    push    %r11
    pushq   $42                         /* rax for the user */
    mov     $__HYPERVISOR_iret, %eax
    syscall
    ud2

/* int $0x80 from user space (DPL 3): note the frame, return to user. */
    .globl user_int80_entry
user_int80_entry:
    incl    int80_count(%rip)
    mov     16(%rsp), %rcx
    mov     %rcx, int80_rip(%rip)
    mov     24(%rsp), %rcx
    mov     %rcx, int80_cs(%rip)
    pop     %rcx
    pop     %r11
    jmp     rt_iret_tail

    .bss
    .balign 8
kern_saved_rsp: .quad 0
    .globl sys_count, sys_nr, sys_rcx, sys_rip, sys_cs, sys_gs
    .globl int80_count, int80_rip, int80_cs
sys_nr:     .quad 0
sys_rcx:    .quad 0
sys_rip:    .quad 0
sys_cs:     .quad 0
sys_gs:     .quad 0
int80_rip:  .quad 0
int80_cs:   .quad 0
sys_count:  .long 0
int80_count: .long 0

    .section .note.GNU-stack, "", @progbits
