/*
 * iret_probe(frame): hands `frame` (a struct iret_context) to the iret
 * hypercall.  A frame the hypervisor refuses comes back as an exception;
 * the test's hook then resumes at iret_probe_resume, which restores the
 * stack and registers saved here and returns to the caller.
 */
    .text
    .globl iret_probe, iret_probe_resume
iret_probe:
    push    %rbx
    push    %rbp
    push    %r12
    push    %r13
    push    %r14
    push    %r15
    mov     %rsp, probe_saved_rsp(%rip)
    mov     %rdi, %rsp
    mov     $23, %eax                   /* __HYPERVISOR_iret */
    syscall
    ud2
iret_probe_resume:
    mov     probe_saved_rsp(%rip), %rsp
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbp
    pop     %rbx
    ret

    .bss
    .balign 8
    .globl probe_saved_rsp
probe_saved_rsp: .quad 0

    .section .note.GNU-stack, "", @progbits
