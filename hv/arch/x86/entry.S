/*
 * Every way into Keel from an interrupt, exception or SYSCALL ends in the
 * same frame, struct regs (asm/regs.h), and calls C with a pointer to it.
 * Offsets come from the generated asm-offsets.h.
 */
#include <asm/desc.h>
#include <asm/layout.h>
#include <asm/traps.h>
#include <asm-offsets.h>

        .text

/* Save the general registers below the error-code word and call C. */
.macro save_all_and_call fn
        cld
        sub     $REGS_error_code, %rsp
        mov     %rdi, REGS_rdi(%rsp)
        mov     %rsi, REGS_rsi(%rsp)
        mov     %rdx, REGS_rdx(%rsp)
        mov     %rcx, REGS_rcx(%rsp)
        mov     %rax, REGS_rax(%rsp)
        mov     %r8, REGS_r8(%rsp)
        mov     %r9, REGS_r9(%rsp)
        mov     %r10, REGS_r10(%rsp)
        mov     %r11, REGS_r11(%rsp)
        mov     %rbx, REGS_rbx(%rsp)
        mov     %rbp, REGS_rbp(%rsp)
        mov     %r12, REGS_r12(%rsp)
        mov     %r13, REGS_r13(%rsp)
        mov     %r14, REGS_r14(%rsp)
        mov     %r15, REGS_r15(%rsp)
        mov     %rsp, %rdi
        /* The CPU 16-byte aligned the stack before its 5-word frame; with
         * our 16 words the call needs one more to keep the ABI alignment. */
        sub     $8, %rsp
        call    \fn
        add     $8, %rsp
.endm

.macro restore_all
        mov     REGS_r15(%rsp), %r15
        mov     REGS_r14(%rsp), %r14
        mov     REGS_r13(%rsp), %r13
        mov     REGS_r12(%rsp), %r12
        mov     REGS_rbp(%rsp), %rbp
        mov     REGS_rbx(%rsp), %rbx
        mov     REGS_r11(%rsp), %r11
        mov     REGS_r10(%rsp), %r10
        mov     REGS_r9(%rsp), %r9
        mov     REGS_r8(%rsp), %r8
        mov     REGS_rax(%rsp), %rax
        mov     REGS_rcx(%rsp), %rcx
        mov     REGS_rdx(%rsp), %rdx
        mov     REGS_rsi(%rsp), %rsi
        mov     REGS_rdi(%rsp), %rdi
        add     $REGS_rip, %rsp
.endm

common_entry:
        /*
         * An interrupt or exception may arrive inside a guest-copy window
         * (stac): the CPU keeps RFLAGS.AC, so close it for the handler
         * (SMAP stays in force); iretq gives the interrupted code its AC
         * back.  SYSCALL needs nothing: FMASK clears AC.
         */
        testb   $1, smap_enabled(%rip)
        jz      1f
        clac
1:
        save_all_and_call do_trap
        /* Back to a guest (ring 3): through the exit work. */
        testb   $3, REGS_cs(%rsp)
        jnz     ret_to_guest
        restore_all
        iretq

/*
 * #DB, NMI and #MC arrive on their own interrupt stacks.  From Keel they
 * stay there (the interrupted code may be on a guest's stack pointer: the
 * SYSCALL stub).  From a guest they move to this CPU's main stack, where
 * every other entry from ring 3 lands: the way back may schedule, and the
 * next exception of the same kind must not overwrite this frame.  The
 * main stack is empty while a guest runs.
 */
ist_entry:
        testb   $3, 16(%rsp)                    /* the interrupted CS */
        jz      common_entry
        push    %rax
        push    %rcx
        /* 0: rcx, 8: rax, 16: error/vector, 24: rip ... 56: ss */
        mov     %rsp, %rax
        or      $(STACK_SIZE - 1), %rax
        movl    (1 - CPU_INFO_RESERVE + CPUINFO_cpu_id)(%rax), %eax
        lea     syscall_stack_top(%rip), %rcx
        mov     (%rcx, %rax, 8), %rax           /* the main stack's cpu_info */
        sub     $48, %rax                       /* where the frame goes */
        .irp    off, 0, 8, 16, 24, 32, 40
        mov     16 + \off(%rsp), %rcx
        mov     %rcx, \off(%rax)
        .endr
        mov     8(%rsp), %rcx
        mov     %rcx, -8(%rax)                  /* rax, popped below */
        mov     (%rsp), %rcx
        lea     -8(%rax), %rsp
        pop     %rax
        jmp     common_entry

/*
 * The way into a guest: %rsp points at the guest frame at the top of this
 * CPU's stack.  Softirqs and event delivery run first (pv_exit_work may
 * switch vCPUs and never come back here).  If the CPU refuses the frame
 * (a bad selector the guest gave us), the fault is fixed up into
 * pv_bad_return instead of a Keel crash.
 */
        .globl  ret_to_guest
ret_to_guest:
        cli
        mov     %rsp, %rdi
        sub     $8, %rsp
        call    pv_exit_work
        add     $8, %rsp
        restore_all
.Liret_to_guest:
        iretq
.Lbad_return:
        sub     $REGS_rip, %rsp
        sub     $8, %rsp
        call    pv_bad_return
        ud2
        ASM_EXTABLE(.Liret_to_guest, .Lbad_return)

/* reset_stack_and_jump(fn): drop everything below the guest frame. */
        .globl  reset_stack_and_jump
reset_stack_and_jump:
        mov     %rdi, %rax
        mov     %rsp, %rdi
        or      $(STACK_SIZE - 1), %rdi
        lea     1 - CPU_INFO_RESERVE - REGS_size(%rdi), %rsp
        jmp     *%rax

/*
 * One 16-byte stub per vector.  Vectors whose exceptions push no error code
 * push a zero, so the frame is the same for all; the vector number goes in
 * the upper half of that word.  Their addresses form entry_stubs[].
 */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
                           (v) == 21 || (v) == 29 || (v) == 30)

        .pushsection .rodata
        .balign 8
        .globl  entry_stubs
entry_stubs:
        .popsection

/* Vectors taken on an interrupt stack (desc.c) that may come from a guest. */
#define IST_FROM_GUEST(v) ((v) == 1 || (v) == 2 || (v) == 18)

.macro entry_stub vec
        .p2align 4
.Lstub_\@:
        .if !HAS_ERROR_CODE(\vec)
        pushq   $0
        .endif
        movl    $\vec, 4(%rsp)
        .if IST_FROM_GUEST(\vec)
        jmp     ist_entry
        .else
        jmp     common_entry
        .endif
        .pushsection .rodata
        .quad   .Lstub_\@
        .popsection
.endm

        .set    vec, 0
        .rept   256
        entry_stub vec
        .set    vec, vec + 1
        .endr

/*
 * SYSCALL leaves RSP as the caller's, so each CPU gets its own 32-byte
 * trampoline (LSTAR points at its own) that parks the caller's RSP, moves
 * to that CPU's stack and starts the frame an interrupt from ring 3 would
 * have left.  Interrupts are off on arrival (SYSCALL_MASK clears IF).
 */
        .balign SYSCALL_STUB_SIZE
        .globl  syscall_entry_stubs
syscall_entry_stubs:
        .set    cpu, 0
        .rept   ASM_NR_CPUS
        mov     %rsp, syscall_saved_rsp + 8 * cpu(%rip)
        mov     syscall_stack_top + 8 * cpu(%rip), %rsp
        pushq   $RING3_DS                               /* ss */
        pushq   syscall_saved_rsp + 8 * cpu(%rip)       /* rsp */
        jmp     syscall_common
        /* Pads to the next slot; fails to assemble if the stub outgrew it. */
        .org    syscall_entry_stubs + (cpu + 1) * SYSCALL_STUB_SIZE, 0xcc
        .set    cpu, cpu + 1
        .endr

syscall_common:
        push    %r11                                    /* rflags */
        pushq   $RING3_CS64                             /* cs */
        push    %rcx                                    /* rip */
        pushq   $0
        movl    $TRAP_SYSCALL, 4(%rsp)
        save_all_and_call do_syscall
        jmp     ret_to_guest

        .bss
        .balign 8
        .globl  syscall_stack_top
syscall_stack_top:
        .fill   ASM_NR_CPUS, 8, 0
syscall_saved_rsp:
        .fill   ASM_NR_CPUS, 8, 0
