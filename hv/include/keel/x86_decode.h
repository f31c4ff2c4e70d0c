/*
 * The one x86-64 instruction decoder: every place in Keel that looks at a
 * guest's instruction bytes (privileged-op emulation, port I/O, `int n`,
 * writable page tables) decodes them here, so prefixes, REX, ModRM, SIB,
 * displacements and immediates are parsed by one piece of code that the
 * host tests and fuzzes.
 *
 * It decodes the structure of legacy-encoded instructions of 64-bit mode
 * (the one-byte map, 0F, 0F 38 and 0F 3A) and reports their parts; it does
 * not know what they mean.  VEX/EVEX/XOP encodings, instructions invalid
 * in 64-bit mode and anything longer than 15 bytes are refused: Keel never
 * emulates them, and refusing is always safe (the guest gets its fault).
 * Guest bytes are read once, by the caller, into a buffer.
 */
#ifndef KEEL_X86_DECODE_H
#define KEEL_X86_DECODE_H
#include <keel/types.h>

#define X86_MAX_INSN_LEN 15

/* Legacy prefixes seen (any order, repeats allowed). */
#define X86_PFX_OPSIZE (1U << 0) /* 66 */
#define X86_PFX_ADSIZE (1U << 1) /* 67 */
#define X86_PFX_LOCK (1U << 2)   /* f0 */
#define X86_PFX_REP (1U << 3)    /* f3 */
#define X86_PFX_REPNE (1U << 4)  /* f2 */

/* Opcode maps, in the high byte of `opcode`. */
#define X86_MAP_1 0x000   /* one-byte opcodes */
#define X86_MAP_0F 0x100  /* 0f xx */
#define X86_MAP_0F38 0x200 /* 0f 38 xx */
#define X86_MAP_0F3A 0x300 /* 0f 3a xx */

struct x86_insn {
    unsigned int len;      /* total bytes, prefixes included */
    unsigned int prefixes; /* X86_PFX_* */
    u8 seg;                /* last segment-override prefix byte, 0 if none */
    u8 rex;                /* the REX byte that applies, 0 if none */
    unsigned int opcode;   /* map | opcode byte */
    bool has_modrm;
    u8 modrm;
    unsigned int mod;      /* ModRM.mod */
    unsigned int reg;      /* ModRM.reg with REX.R (0-15) */
    unsigned int rm;       /* ModRM.rm with REX.B (0-15); meaningful when mod == 3 */
    bool has_sib;
    u8 sib;
    bool rip_relative;
    s64 disp;              /* sign-extended displacement (0 if none) */
    unsigned int disp_len; /* 0, 1 or 4 */
    u64 imm;               /* first immediate, zero-extended (see imm_len) */
    unsigned int imm_len;  /* 0, 1, 2, 4 or 8 */
    u64 imm2;              /* second immediate (enter: the nesting byte) */
    unsigned int opsize;   /* operand size for non-byte forms: 2, 4 or 8 */
};

/*
 * Decodes the instruction at the start of buf (n readable bytes).  Returns
 * 0 and fills *in, or -1 if the bytes end too early, the length would
 * exceed 15, or the encoding is one Keel does not decode (see above).
 */
int x86_decode(const u8 *buf, unsigned int n, struct x86_insn *in);

/* A memory operand (ModRM with mod != 3), as opposed to a register. */
static inline bool x86_modrm_is_mem(const struct x86_insn *in)
{
    return in->has_modrm && in->mod != 3;
}

/* The immediate sign-extended from its length to 64 bits. */
static inline u64 x86_imm_sext(const struct x86_insn *in)
{
    unsigned int bits = in->imm_len * 8;

    if (!bits || bits >= 64 || !((in->imm >> (bits - 1)) & 1))
        return in->imm;
    return in->imm | (~0UL << bits);
}
#endif
