/*
 * x86-64 instruction decoding (see keel/x86_decode.h).  Table-driven: for
 * each opcode of the one-byte and 0F maps, whether a ModRM byte follows
 * and what immediate; the 0F 38 and 0F 3A maps always have ModRM (and
 * 0F 3A an imm8).  Everything else is computed from the prefixes.
 */
#include <keel/x86_decode.h>

/* Per-opcode attributes. */
enum {
    BAD = 0,     /* invalid in 64-bit mode, or an escape handled apart */
    NONE = 1,    /* no ModRM, no immediate */
    M = 2,       /* ModRM */
    IB = 4,      /* imm8 */
    IW = 8,      /* imm16 */
    IZ = 16,     /* imm16 with 66, else imm32 */
    IV = 32,     /* imm16 / imm32 / imm64 with REX.W (mov r, imm) */
    MOFFS = 64,  /* address-sized offset: 8 bytes, 4 with 67 */
    GRP3 = 128,  /* f6/f7: an immediate only for /0 and /1 (test) */
    IB2 = 256,   /* a second imm8 after the first immediate */
};

#define R4(x) x, x, x, x
#define R8(x) R4(x), R4(x)
#define R16(x) R8(x), R8(x)

static const u16 map1[256] = {
    /* 00 */ M, M, M, M, IB, IZ, BAD, BAD, M, M, M, M, IB, IZ, BAD, BAD,
    /* 10 */ M, M, M, M, IB, IZ, BAD, BAD, M, M, M, M, IB, IZ, BAD, BAD,
    /* 20 */ M, M, M, M, IB, IZ, BAD, BAD, M, M, M, M, IB, IZ, BAD, BAD,
    /* 30 */ M, M, M, M, IB, IZ, BAD, BAD, M, M, M, M, IB, IZ, BAD, BAD,
    /* 40: REX, taken as a prefix before the table is read */ R16(BAD),
    /* 50 */ R16(NONE),
    /* 60 */ BAD, BAD, BAD, M, BAD, BAD, BAD, BAD, IZ, M | IZ, IB, M | IB, NONE, NONE, NONE,
    NONE,
    /* 70 */ R16(IB),
    /* 80 */ M | IB, M | IZ, BAD, M | IB, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 90 */ NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, BAD, NONE, NONE,
    NONE, NONE, NONE,
    /* a0 */ MOFFS, MOFFS, MOFFS, MOFFS, NONE, NONE, NONE, NONE, IB, IZ, NONE, NONE, NONE,
    NONE, NONE, NONE,
    /* b0 */ R8(IB), R8(IV),
    /* c0 */ M | IB, M | IB, IW, NONE, BAD, BAD, M | IB, M | IZ, IW | IB2, NONE, IW, NONE,
    NONE, IB, BAD, NONE,
    /* d0 */ M, M, M, M, BAD, BAD, BAD, NONE, M, M, M, M, M, M, M, M,
    /* e0 */ IB, IB, IB, IB, IB, IB, IB, IB, IZ, IZ, BAD, IB, NONE, NONE, NONE, NONE,
    /* f0: f0/f2/f3 are prefixes */ BAD, NONE, BAD, BAD, NONE, NONE, M | GRP3, M | GRP3,
    NONE, NONE, NONE, NONE, NONE, NONE, M, M,
};

static const u16 map0f[256] = {
    /* 00 */ M, M, M, M, BAD, NONE, NONE, NONE, NONE, NONE, BAD, NONE, BAD, M, NONE, M | IB,
    /* 10 */ R16(M),
    /* 20 */ M, M, M, M, BAD, BAD, BAD, BAD, M, M, M, M, M, M, M, M,
    /* 30 */ NONE, NONE, NONE, NONE, NONE, NONE, BAD, NONE, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD,
    /* 40 */ R16(M),
    /* 50 */ R16(M),
    /* 60 */ R16(M),
    /* 70 */ M | IB, M | IB, M | IB, M | IB, M, M, M, NONE, M, M, BAD, BAD, M, M, M, M,
    /* 80 */ R16(IZ),
    /* 90 */ R16(M),
    /* a0 */ NONE, NONE, NONE, M, M | IB, M, BAD, BAD, NONE, NONE, NONE, M, M | IB, M, M, M,
    /* b0 */ M, M, M, M, M, M, M, M, M, M, M | IB, M, M, M, M, M,
    /* c0 */ M, M, M | IB, M, M | IB, M | IB, M | IB, M, R8(NONE),
    /* d0 */ R16(M),
    /* e0 */ R16(M),
    /* f0 */ R16(M),
};

struct cursor {
    const u8 *b;
    unsigned int n, at;
};

static bool take(struct cursor *c, unsigned int k, u64 *val)
{
    u64 v = 0;

    if (c->at + k > c->n || c->at + k > X86_MAX_INSN_LEN)
        return false;
    for (unsigned int i = 0; i < k; i++)
        v |= (u64)c->b[c->at + i] << (8 * i);
    c->at += k;
    *val = v;
    return true;
}

static bool is_legacy_prefix(u8 b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
        return true;
    default:
        return false;
    }
}

static void note_prefix(struct x86_insn *in, u8 b)
{
    switch (b) {
    case 0x66: in->prefixes |= X86_PFX_OPSIZE; break;
    case 0x67: in->prefixes |= X86_PFX_ADSIZE; break;
    case 0xf0: in->prefixes |= X86_PFX_LOCK; break;
    case 0xf2: in->prefixes |= X86_PFX_REPNE; break;
    case 0xf3: in->prefixes |= X86_PFX_REP; break;
    default: in->seg = b; break;
    }
}

/* Prefixes, then at most one REX (it counts only right before the opcode:
 * a prefix after it makes the CPU ignore it).  Returns the opcode byte. */
static bool prefixes(struct cursor *c, struct x86_insn *in, u8 *op)
{
    u64 b;

    for (;;) {
        if (!take(c, 1, &b))
            return false;
        if (is_legacy_prefix((u8)b)) {
            note_prefix(in, (u8)b);
            in->rex = 0;
            continue;
        }
        if ((b & 0xf0) == 0x40) {
            in->rex = (u8)b;
            continue;
        }
        *op = (u8)b;
        return true;
    }
}

/* The opcode after 0f (and 0f 38 / 0f 3a); its attributes in *attr. */
static bool escape(struct cursor *c, struct x86_insn *in, unsigned int *attr)
{
    u64 b, b2;

    if (!take(c, 1, &b))
        return false;
    if (b == 0x38 || b == 0x3a) {
        if (!take(c, 1, &b2))
            return false;
        in->opcode = (b == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A) | (unsigned int)b2;
        *attr = M | (b == 0x3a ? IB : 0);
        return true;
    }
    in->opcode = X86_MAP_0F | (unsigned int)b;
    *attr = map0f[b];
    return *attr != BAD;
}

static bool modrm(struct cursor *c, struct x86_insn *in, bool always_reg)
{
    u64 m, s, d;
    unsigned int base;

    if (!take(c, 1, &m))
        return false;
    in->has_modrm = true;
    in->modrm = (u8)m;
    in->mod = (unsigned int)m >> 6;
    in->reg = (((unsigned int)m >> 3) & 7) | (in->rex & 4 ? 8 : 0);
    in->rm = ((unsigned int)m & 7) | (in->rex & 1 ? 8 : 0);
    /* mov to/from control and debug registers: mod is ignored. */
    if (always_reg)
        in->mod = 3;
    if (in->mod == 3)
        return true;
    base = (unsigned int)m & 7;
    if (base == 4) {
        if (!take(c, 1, &s))
            return false;
        in->has_sib = true;
        in->sib = (u8)s;
        base = (unsigned int)s & 7;
    }
    if (in->mod == 1) {
        in->disp_len = 1;
    } else if (in->mod == 2 || (in->mod == 0 && base == 5)) {
        in->disp_len = 4;
        in->rip_relative = in->mod == 0 && !in->has_sib;
    }
    if (in->disp_len) {
        if (!take(c, in->disp_len, &d))
            return false;
        in->disp = in->disp_len == 1 ? (s64)(s8)d : (s64)(s32)d;
    }
    return true;
}

static unsigned int imm_size(const struct x86_insn *in, unsigned int attr)
{
    if (attr & IW) /* before IB: enter has both, imm16 first */
        return 2;
    if (attr & IB)
        return 1;
    if (attr & IZ)
        return in->opsize == 2 ? 2 : 4;
    if (attr & IV)
        return in->opsize;
    if (attr & MOFFS)
        return in->prefixes & X86_PFX_ADSIZE ? 4 : 8;
    return 0;
}

int x86_decode(const u8 *buf, unsigned int n, struct x86_insn *in)
{
    struct cursor c = {buf, n, 0};
    unsigned int attr;
    u8 op;

    *in = (struct x86_insn){0};
    if (!prefixes(&c, in, &op))
        return -1;
    in->opsize = in->rex & 8 ? 8 : in->prefixes & X86_PFX_OPSIZE ? 2 : 4;
    if (op == 0x0f) {
        if (!escape(&c, in, &attr))
            return -1;
    } else {
        in->opcode = X86_MAP_1 | op;
        attr = map1[op];
        /* 8f with a non-zero reg field is XOP, not pop. */
        if (op == 0x8f && c.at < n && (buf[c.at] & 0x38))
            return -1;
    }
    if (attr == BAD)
        return -1;
    if ((attr & M) &&
        !modrm(&c, in, in->opcode >= (X86_MAP_0F | 0x20) && in->opcode <= (X86_MAP_0F | 0x23)))
        return -1;
    if ((attr & GRP3) && (in->reg & 7) < 2)
        attr |= op == 0xf6 ? IB : IZ;
    /* 0f 78 is vmread, but with 66 or f2 it is SSE4a's extrq/insertq,
     * which carry two imm8 (taken like enter's pair below). */
    if (in->opcode == (X86_MAP_0F | 0x78) && (in->prefixes & (X86_PFX_OPSIZE | X86_PFX_REPNE)))
        attr |= IB | IB2;
    in->imm_len = imm_size(in, attr);
    if (in->imm_len && !take(&c, in->imm_len, &in->imm))
        return -1;
    /* enter iw, ib: the nesting level follows; extrq/insertq: the index */
    if ((attr & IB2) && !take(&c, 1, &in->imm2))
        return -1;
    in->len = c.at;
    return 0;
}
