/*
 * What a guest instruction that touched emulated (or absent) physical
 * memory asks for: a read into a register or a write of a register or
 * immediate, with its size.  Only the plain MOV forms a kernel uses for
 * device registers are understood (88/89/8a/8b, a0-a3, c6/c7 /0, movzx
 * 0f b6/b7);
 * anything else is refused and the caller ends the guest, as Keel never
 * guesses at an instruction's meaning.
 *
 * Core logic only: builds on the host for unit tests and the fuzzer.
 * Registers are in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi,
 * rdi, r8..r15).
 */
#ifndef KEEL_HVM_MMIO_H
#define KEEL_HVM_MMIO_H
#include <keel/types.h>
#include <keel/x86_decode.h>

struct mmio_access {
    bool write;
    unsigned int size;    /* bytes: 1, 2, 4 or 8 */
    u64 value;            /* for a write */
    unsigned int reg;     /* for a read: destination register */
    bool high_byte;       /* ... AH/CH/DH/BH */
    unsigned int dst_size;/* ... bytes written to it (movzx widens) */
};

/* 0 and *a, or -1 when the instruction is not one Keel emulates. */
int mmio_classify(const struct x86_insn *in, const u64 gpr[16], struct mmio_access *a);
/* Complete a read: the value lands in the register as the CPU would put
 * it (32-bit writes zero the upper half, 8/16-bit ones merge). */
void mmio_finish_read(const struct mmio_access *a, u64 gpr[16], u64 val);
#endif
