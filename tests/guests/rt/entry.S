/*
 * Exception and event-callback entry of the test kernels.
 *
 * The hypervisor bounces to us on the current (guest-kernel) stack with
 * (lowest first) RCX, R11, [ERR,] RIP, CS, RFLAGS, RSP, SS (PV-ABI.md §4.4).
 * Every stub reshapes that into one layout (a 0 error code where the vector
 * has none), pushes the vector and the other registers (struct rt_frame in
 * rt.h) and calls rt_trap(frame).  The way back is the iret hypercall, as
 * Linux does it: push flags (0: not in a syscall), RCX, R11, RAX on top of
 * the RIP..SS part, so the stack holds struct iret_context, and syscall with
 * RAX = __HYPERVISOR_iret.  The hypervisor restores RAX, RCX, R11 and the
 * event mask (from RFLAGS.IF) and never returns to the syscall.
 */
#define __ASSEMBLY__ 1
#include <xen/xen.h>

#define RT_VEC_EVENT 0x100


.macro vec_noerr n
    .balign 16
rt_vec_\n:
    pop     %rcx
    pop     %r11
    pushq   $0
    push    %r11
    push    %rcx
    pushq   $\n
    jmp     rt_trap_common
.endm

.macro vec_err n
    .balign 16
rt_vec_\n:
    pushq   $\n
    jmp     rt_trap_common
.endm

    .text
    .irp n, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,29,30,31
    vec_noerr \n
    .endr
    .irp n, 8,10,11,12,13,14,17,21
    vec_err \n
    .endr

    .globl rt_event_entry
    .balign 16
rt_event_entry:
    pop     %rcx
    pop     %r11
    pushq   $0
    push    %r11
    push    %rcx
    pushq   $RT_VEC_EVENT
    jmp     rt_trap_common

rt_trap_common:
    push    %rax
    push    %rdx
    push    %rbx
    push    %rbp
    push    %rsi
    push    %rdi
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    sub     $8, %rsp                    /* rt_frame.pad */
    mov     %rsp, %rdi
    cld
    call    rt_trap
    add     $8, %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rdi
    pop     %rsi
    pop     %rbp
    pop     %rbx
    pop     %rdx
    pop     %rax
    add     $8, %rsp                    /* vector */
    pop     %rcx
    pop     %r11
    add     $8, %rsp                    /* error code */
    .globl rt_iret_tail
rt_iret_tail:
    pushq   $0                          /* iret_context.flags */
    push    %rcx
    push    %r11
    push    %rax
    mov     $__HYPERVISOR_iret, %eax
    syscall
    ud2                                 /* iret does not come back */

/*
 * Failsafe callback: the hypervisor could not load a segment selector on
 * the way back to us.  Nothing here is expected to do that; report it.
 */
    .globl rt_failsafe_entry
    .balign 16
rt_failsafe_entry:
    mov     %rsp, %rdi
    and     $~0xf, %rsp
    call    rt_failsafe
    ud2

/* Guarded probes (rt.h): return value in RAX, vector in rt_last_trap. */
    .globl rt_probe_read_insn
rt_probe_read_insn:                     /* rdi = address -> rax */
    lea     1f(%rip), %r11
    mov     %r11, rt_resume(%rip)
    mov     (%rdi), %rax
1:  movq    $0, rt_resume(%rip)
    ret

    .globl rt_probe_write_insn
rt_probe_write_insn:                    /* rdi = address, rsi = value */
    lea     1f(%rip), %r11
    mov     %r11, rt_resume(%rip)
    mov     %rsi, (%rdi)
1:  movq    $0, rt_resume(%rip)
    ret

/* The handler table, indexed by vector, for rt_install_traps. */
    .section .rodata
    .balign 8
    .globl rt_vector_table
rt_vector_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad rt_vec_\n
    .endr

    .section .note.GNU-stack, "", @progbits
