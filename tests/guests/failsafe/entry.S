/*
 * The failsafe callback of the failsafe test: note the frame (11 words,
 * lowest first: rcx, r11, ds, es, fs, gs, rip, cs, rflags, rsp, ss), the
 * event mask and %es on entry, then return to where the vCPU was through
 * the iret hypercall.  Only rcx and r11 are used, and they come back from
 * the frame, so the interrupted code sees no change.
 */
    .text
    .globl fs_entry
fs_entry:
    incl    fs_count(%rip)
    mov     %rsp, fs_rsp(%rip)
    mov     %es, %ecx
    mov     %rcx, fs_es_seen(%rip)
    mov     rt_vcpu(%rip), %rcx
    movzbq  1(%rcx), %rcx                /* vcpu_info.evtchn_upcall_mask */
    mov     %rcx, fs_mask_seen(%rip)
    .irp i, 0,1,2,3,4,5,6,7,8,9,10
    mov     8*\i(%rsp), %rcx
    mov     %rcx, fs_frame+8*\i(%rip)
    .endr
    pop     %rcx
    pop     %r11
    add     $32, %rsp                   /* ds, es, fs, gs */
    jmp     rt_iret_tail

    .bss
    .balign 8
    .globl fs_count, fs_rsp, fs_es_seen, fs_mask_seen, fs_frame
fs_count:     .quad 0
fs_rsp:       .quad 0
fs_es_seen:   .quad 0
fs_mask_seen: .quad 0
fs_frame:     .skip 8*11

    .section .note.GNU-stack, "", @progbits
