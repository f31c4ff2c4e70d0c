/*
 * The register frame every entry path builds on the stack: general
 * registers pushed by entry.S, then an error-code/vector word, then what the
 * CPU itself pushes.  Offsets for assembly come from asm-offsets.c.
 */
#ifndef ASM_REGS_H
#define ASM_REGS_H
#include <keel/types.h>

struct regs {
    u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    u64 rax, rcx, rdx, rsi, rdi;
    u32 error_code;   /* 0 for vectors without one */
    u32 entry_vector; /* stored by the stub over the error code's upper half */
    /* Pushed by the CPU. */
    u64 rip, cs, rflags, rsp, ss;
};

#define X86_EFLAGS_TF (1UL << 8)
#define X86_EFLAGS_IF (1UL << 9)
#define X86_EFLAGS_DF (1UL << 10)
#define X86_EFLAGS_NT (1UL << 14)
#define X86_EFLAGS_AC (1UL << 18)

static inline bool regs_from_guest(const struct regs *r)
{
    return (r->cs & 3) != 0;
}
#endif
