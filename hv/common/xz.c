/*
 * XZ decompression: the .xz container, LZMA2 and the x86 BCJ filter,
 * written from the .xz file-format specification and the LZMA/LZMA2
 * format descriptions.
 *
 * Design: the caller's whole output buffer is the LZMA dictionary (a
 * boot-time, single-call decoder has no reason to keep a separate window),
 * so a match is a copy within the output and the only per-byte checks left
 * in the hot loop are the ones that keep hostile input in bounds.  The BCJ
 * filter runs over each block's output once the block is decoded, because
 * LZMA must see the unfiltered bytes as its dictionary.
 */
#include <keel/xz.h>

/* ------------------------------------------------------------ helpers */

static u32 get_le32(const u8 *p)
{
    return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get_le64(const u8 *p)
{
    return get_le32(p) | (u64)get_le32(p + 4) << 32;
}

static void put_le32(u8 *p, u32 v)
{
    p[0] = (u8)v;
    p[1] = (u8)(v >> 8);
    p[2] = (u8)(v >> 16);
    p[3] = (u8)(v >> 24);
}

/* ------------------------------------------------------------- checks */

static u32 crc32_tab[16][256];
static u64 crc64_tab[256];
static bool crc_ready;

static void crc_init(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        u64 c64 = i;
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
            c64 = (c64 >> 1) ^ (0xC96C5795D7870F42ull & -(c64 & 1));
        }
        crc32_tab[0][i] = c;
        crc64_tab[i] = c64;
    }
    /* Slicing by 16: table k advances a byte through k more zero bytes. */
    for (u32 i = 0; i < 256; i++)
        for (int k = 1; k < 16; k++)
            crc32_tab[k][i] = (crc32_tab[k - 1][i] >> 8) ^ crc32_tab[0][crc32_tab[k - 1][i] & 0xff];
    crc_ready = true;
}

u32 xz_crc32(u32 crc, const void *buf, size_t len)
{
    const u8 *p = buf;

    if (!crc_ready)
        crc_init();
    crc = ~crc;
    for (; len >= 16; len -= 16, p += 16) {
        u32 a = crc ^ get_le32(p), b = get_le32(p + 4), c = get_le32(p + 8),
            d = get_le32(p + 12);
        crc = crc32_tab[15][a & 0xff] ^ crc32_tab[14][(a >> 8) & 0xff] ^
              crc32_tab[13][(a >> 16) & 0xff] ^ crc32_tab[12][a >> 24] ^
              crc32_tab[11][b & 0xff] ^ crc32_tab[10][(b >> 8) & 0xff] ^
              crc32_tab[9][(b >> 16) & 0xff] ^ crc32_tab[8][b >> 24] ^
              crc32_tab[7][c & 0xff] ^ crc32_tab[6][(c >> 8) & 0xff] ^
              crc32_tab[5][(c >> 16) & 0xff] ^ crc32_tab[4][c >> 24] ^
              crc32_tab[3][d & 0xff] ^ crc32_tab[2][(d >> 8) & 0xff] ^
              crc32_tab[1][(d >> 16) & 0xff] ^ crc32_tab[0][d >> 24];
    }
    while (len--)
        crc = (crc >> 8) ^ crc32_tab[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

u64 xz_crc64(u64 crc, const void *buf, size_t len)
{
    const u8 *p = buf;

    if (!crc_ready)
        crc_init();
    crc = ~crc;
    while (len--)
        crc = (crc >> 8) ^ crc64_tab[(crc ^ *p++) & 0xff];
    return ~crc;
}

/* ------------------------------------------------------- range decoder */

#define PROB_BITS 11
#define PROB_ONE (1u << PROB_BITS)
#define PROB_INIT (PROB_ONE / 2)
#define PROB_SHIFT 5
#define RC_TOP (1u << 24)

/*
 * Reads past `end` yield zeroes and set `overrun`, so the hot path has one
 * compare and no early exit; the chunk's caller sees the overrun afterwards
 * and rejects the chunk.  Work stays bounded by the chunk's declared output
 * size.
 */
struct rc {
    u32 range, code;
    const u8 *next, *end;
    bool overrun;
};

static inline __attribute__((always_inline)) void rc_normalize(struct rc *rc)
{
    if (unlikely(rc->range < RC_TOP)) {
        rc->range <<= 8;
        rc->code <<= 8;
        if (likely(rc->next < rc->end))
            rc->code |= *rc->next++;
        else
            rc->overrun = true;
    }
}

static inline __attribute__((always_inline)) unsigned rc_bit(struct rc *rc, u16 *prob)
{
    u32 p = *prob, bound = (rc->range >> PROB_BITS) * p;
    unsigned bit;

    if (rc->code < bound) {
        rc->range = bound;
        *prob = (u16)(p + ((PROB_ONE - p) >> PROB_SHIFT));
        bit = 0;
    } else {
        rc->range -= bound;
        rc->code -= bound;
        *prob = (u16)(p - (p >> PROB_SHIFT));
        bit = 1;
    }
    rc_normalize(rc);
    return bit;
}

/* One bit appended to *sym: the step of every tree walk, with the bit
 * folded into each branch rather than materialised and merged. */
static inline __attribute__((always_inline)) void rc_bit_into(struct rc *rc, u16 *prob,
                                                              unsigned *sym)
{
    u32 p = *prob, bound = (rc->range >> PROB_BITS) * p;

    if (rc->code < bound) {
        rc->range = bound;
        *prob = (u16)(p + ((PROB_ONE - p) >> PROB_SHIFT));
        *sym <<= 1;
    } else {
        rc->range -= bound;
        rc->code -= bound;
        *prob = (u16)(p - (p >> PROB_SHIFT));
        *sym = (*sym << 1) + 1;
    }
    rc_normalize(rc);
}

/* A symbol of `bits` bits, most significant first, through a binary tree of
 * probabilities indexed from 1. */
static inline __attribute__((always_inline)) unsigned rc_tree(struct rc *rc, u16 *probs, unsigned bits)
{
    unsigned node = 1;

#pragma GCC unroll 8
    for (unsigned i = 0; i < bits; i++)
        rc_bit_into(rc, &probs[node], &node);
    return node - (1u << bits);
}

/* The same tree walked least significant bit first. */
static inline __attribute__((always_inline)) unsigned rc_tree_reverse(struct rc *rc, u16 *probs, unsigned bits)
{
    unsigned node = 1, sym = 0;

#pragma GCC unroll 6
    for (unsigned i = 0; i < bits; i++) {
        unsigned bit = rc_bit(rc, &probs[node]);
        node = (node << 1) | bit;
        sym |= bit << i;
    }
    return sym;
}

/*
 * One bit of a literal that follows a match: a 0 where the match byte had
 * a 1 (offs == mbit), or a 1 where it had a 0 (mbit == 0), ends the
 * agreement.
 */
static inline __attribute__((always_inline)) void matched_bit(struct rc *rc, u16 *prob,
                                                              unsigned *sym, unsigned *offs,
                                                              unsigned mbit)
{
    u32 p = *prob, bound = (rc->range >> PROB_BITS) * p;

    if (rc->code < bound) {
        rc->range = bound;
        *prob = (u16)(p + ((PROB_ONE - p) >> PROB_SHIFT));
        *sym <<= 1;
        *offs &= ~mbit;
    } else {
        rc->range -= bound;
        rc->code -= bound;
        *prob = (u16)(p - (p >> PROB_SHIFT));
        *sym = (*sym << 1) + 1;
        *offs &= mbit;
    }
    rc_normalize(rc);
}

/* Bits with a fixed probability of one half. */
static inline __attribute__((always_inline)) u32 rc_direct(struct rc *rc, unsigned bits)
{
    u32 v = 0;

    /* code < range < 2^32, so after halving the range, code - range
     * wraps (sets the top bit) exactly when the bit is 0: then the range
     * goes back. */
    while (bits--) {
        rc->range >>= 1;
        rc->code -= rc->range;
        u32 zero = 0 - (rc->code >> 31);
        rc->code += rc->range & zero;
        v = (v << 1) + 1 + zero;
        rc_normalize(rc);
    }
    return v;
}

/* --------------------------------------------------------------- LZMA */

#define NR_STATES 12
#define LIT_STATES 7 /* states below this follow a literal */
#define POS_STATES_MAX 16
#define MATCH_LEN_MIN 2
#define DIST_STATES 4
#define DIST_SLOT_BITS 6
#define DIST_MODEL_START 4
#define DIST_MODEL_END 14
#define FULL_DISTANCES 128
#define ALIGN_BITS 4
#define LIT_PROBS 0x300
#define LIT_TABLES_MAX 16 /* LZMA2 caps lc + lp at 4 */

struct len_model {
    u16 choice, choice2;
    u16 low[POS_STATES_MAX][1 << 3];
    u16 mid[POS_STATES_MAX][1 << 3];
    u16 high[1 << 8];
};

/* Every adaptive probability: a state reset sets them all to one half. */
struct lzma_probs {
    u16 is_match[NR_STATES][POS_STATES_MAX];
    u16 is_rep[NR_STATES];
    u16 is_rep0[NR_STATES];
    u16 is_rep1[NR_STATES];
    u16 is_rep2[NR_STATES];
    u16 is_rep0_long[NR_STATES][POS_STATES_MAX];
    u16 dist_slot[DIST_STATES][1 << DIST_SLOT_BITS];
    u16 dist_special[FULL_DISTANCES - DIST_MODEL_END];
    u16 dist_align[1 << ALIGN_BITS];
    struct len_model match_len, rep_len;
    u16 literal[LIT_TABLES_MAX][LIT_PROBS];
};

struct lzma {
    struct lzma_probs p;
    unsigned state;
    u32 rep[4];  /* distances minus one, most recent first */
    unsigned lc, lp, pb;
};

/* The decoder is used once at boot, too big for a stack. */
static struct lzma lzma_dec;

static void lzma_reset_state(struct lzma *s)
{
    u16 *p = (u16 *)&s->p;
    /* Only the literal tables that lc + lp can reach need resetting. */
    size_t n = offsetof(struct lzma_probs, literal) / sizeof(u16) +
               ((size_t)LIT_PROBS << (s->lc + s->lp));

    for (size_t i = 0; i < n; i++)
        p[i] = PROB_INIT;
    s->state = 0;
    s->rep[0] = s->rep[1] = s->rep[2] = s->rep[3] = 0;
}

static inline __attribute__((always_inline)) unsigned lzma_len(struct rc *rc, struct len_model *m, unsigned pos_state)
{
    if (!rc_bit(rc, &m->choice))
        return MATCH_LEN_MIN + rc_tree(rc, m->low[pos_state], 3);
    if (!rc_bit(rc, &m->choice2))
        return MATCH_LEN_MIN + 8 + rc_tree(rc, m->mid[pos_state], 3);
    return MATCH_LEN_MIN + 16 + rc_tree(rc, m->high, 8);
}

/* A match distance minus one. */
static inline __attribute__((always_inline)) u32 lzma_dist(struct rc *rc, struct lzma_probs *p, unsigned len)
{
    unsigned dist_state = MIN(len - MATCH_LEN_MIN, DIST_STATES - 1);
    unsigned slot = rc_tree(rc, p->dist_slot[dist_state], DIST_SLOT_BITS);
    unsigned nbits;
    u32 dist;

    if (slot < DIST_MODEL_START)
        return slot;
    /* The slot gives the top two bits and the bit count of the rest. */
    nbits = (slot >> 1) - 1;
    dist = (2 | (slot & 1)) << nbits;
    if (slot < DIST_MODEL_END)
        return dist + rc_tree_reverse(rc, p->dist_special + dist - slot - 1, nbits);
    dist += rc_direct(rc, nbits - ALIGN_BITS) << ALIGN_BITS;
    return dist + rc_tree_reverse(rc, p->dist_align, ALIGN_BITS);
}

static inline u64 load64(const u8 *p)
{
    u64 v;

    __builtin_memcpy(&v, p, 8);
    return v;
}

static inline void store64(u8 *p, u64 v)
{
    __builtin_memcpy(p, &v, 8);
}

/*
 * Copies a match of `len` bytes from `dist` bytes back, where `room` bytes
 * (at least len) of this chunk are still to be written.  A source closer
 * than a word repeats a short pattern; the pattern repeated a whole number
 * of times is as good a source and lies a word or more back, so the copy
 * goes by words once a few bytes have laid it out.  Whole words may run up
 * to 7 bytes past the match while the chunk has room for them: those bytes
 * are rewritten by what comes next, and nothing reads them before.
 */
static inline __attribute__((always_inline)) void copy_match(u8 *dst, size_t dist, size_t len,
                                                             size_t room)
{
    const u8 *src = dst - dist;
    u8 *stop = dst + len;

    if (unlikely(dist < 8)) {
        /* The smallest multiple of dist that is at least 8. */
        size_t lead = (8 + dist - 1) / dist * dist - dist;
        if (len <= lead + 8) {
            while (dst < stop)
                *dst++ = *src++;
            return;
        }
        for (size_t k = 0; k < lead; k++)
            dst[k] = src[k];
        dst += lead;
        src = dst - (lead + dist);
    }
    if (room - len >= 7) {
        do {
            store64(dst, load64(src));
            dst += 8;
            src += 8;
        } while (dst < stop);
        return;
    }
    for (; stop - dst >= 8; dst += 8, src += 8)
        store64(dst, load64(src));
    while (dst < stop)
        *dst++ = *src++;
}

/* The state after a literal: one load rather than two compares. */
static const u8 next_state_literal_tab[NR_STATES] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5};

static inline unsigned next_state_literal(unsigned st)
{
    return next_state_literal_tab[st];
}

/*
 * Decodes one LZMA chunk: exactly `end - *ppos` bytes into out[*ppos..end).
 * `dict_start` is where the dictionary was last reset: no match may reach
 * before it, nor farther than the declared dictionary size.
 */
static const char *lzma_chunk(struct lzma *s, struct rc *rcp, u8 *out, size_t *ppos,
                              size_t end, size_t dict_start, u32 dict_size)
{
    struct rc rc = *rcp;
    struct lzma_probs *p = &s->p;
    unsigned state = s->state;
    /* rep0 is used by every match; the older distances, only by repeats,
     * stay in memory and leave the registers to the range decoder. */
    u32 rep0 = s->rep[0], *const reps = s->rep;
    const unsigned pb_mask = (1u << s->pb) - 1;
    /* The literal table is picked by the low lp bits of the position and
     * the top lc bits of the previous byte: both from one 16-bit value. */
    const u32 lit_mask = (0x100u << s->lp) - 1;
    const unsigned lit_shift = 8 - s->lc;
    u8 *op = out + *ppos, *const op_end = out + end;
    const u8 *const dict = out + dict_start;
    const char *err = NULL;

    while (op < op_end) {
        size_t rpos = (size_t)(op - dict); /* position since the dictionary reset */
        unsigned pos_state = rpos & pb_mask;
        unsigned len;

        if (!rc_bit(&rc, &p->is_match[state][pos_state])) {
            unsigned prev = rpos ? op[-1] : 0;
            u16 *probs = p->literal[((((u32)rpos << 8) | prev) & lit_mask) >> lit_shift];
            unsigned sym = 1;

            if (state >= LIT_STATES) {
                /* After a match the byte at rep0 predicts this one, until
                 * the first bit where they differ. */
                if (rep0 >= rpos) {
                    err = "LZMA: literal refers before the dictionary";
                    break;
                }
                /* `offs` is 0x100 while the bits agree and 0 from the
                 * first that differs: the table index then falls back to
                 * the plain one, with no branch out of the loop. */
                unsigned match = *(op - (size_t)rep0 - 1), offs = 0x100;
#pragma GCC unroll 8
                for (int k = 0; k < 8; k++) {
                    match <<= 1;
                    unsigned mbit = match & offs;
                    matched_bit(&rc, &probs[offs + mbit + sym], &sym, &offs, mbit);
                }
            } else {
#pragma GCC unroll 8
                for (int k = 0; k < 8; k++)
                    rc_bit_into(&rc, &probs[sym], &sym);
            }
            *op++ = (u8)sym;
            state = next_state_literal(state);
            continue;
        }

        if (!rc_bit(&rc, &p->is_rep[state])) {
            len = lzma_len(&rc, &p->match_len, pos_state);
            state = state < LIT_STATES ? 7 : 10;
            reps[3] = reps[2];
            reps[2] = reps[1];
            reps[1] = rep0;
            rep0 = lzma_dist(&rc, p, len);
        } else if (!rc_bit(&rc, &p->is_rep0[state])) {
            if (!rc_bit(&rc, &p->is_rep0_long[state][pos_state])) {
                state = state < LIT_STATES ? 9 : 11;
                len = 1;
                goto copy;
            }
            len = lzma_len(&rc, &p->rep_len, pos_state);
            state = state < LIT_STATES ? 8 : 11;
        } else {
            u32 d;
            if (!rc_bit(&rc, &p->is_rep1[state])) {
                d = reps[1];
            } else if (!rc_bit(&rc, &p->is_rep2[state])) {
                d = reps[2];
                reps[2] = reps[1];
            } else {
                d = reps[3];
                reps[3] = reps[2];
                reps[2] = reps[1];
            }
            reps[1] = rep0;
            rep0 = d;
            len = lzma_len(&rc, &p->rep_len, pos_state);
            state = state < LIT_STATES ? 8 : 11;
        }
    copy:
        if (rep0 >= rpos || rep0 >= dict_size) {
            err = rep0 == 0xFFFFFFFFu ? "LZMA: end marker inside LZMA2"
                                      : "LZMA: match distance beyond the dictionary";
            break;
        }
        if (len > (size_t)(op_end - op)) {
            err = "LZMA: match runs past the end of the chunk";
            break;
        }
        copy_match(op, rep0 + 1, len, (size_t)(op_end - op));
        op += len;
    }
    *ppos = (size_t)(op - out);
    *rcp = rc;
    s->state = state;
    s->rep[0] = rep0;
    return err;
}

/* -------------------------------------------------------------- LZMA2 */

static u32 be16(const u8 *p)
{
    return (u32)p[0] << 8 | p[1];
}

/*
 * Decodes LZMA2 data starting at in[*pin] (bounded by in_len) into
 * out[*pout..cap).  On success *pin is just past the end marker.
 */
static const char *lzma2_decode(const u8 *in, size_t in_len, size_t *pin, u8 *out, size_t cap,
                                size_t *pout, u32 dict_size)
{
    struct lzma *s = &lzma_dec;
    size_t ip = *pin, op = *pout, dict_start = op;
    bool need_dict_reset = true, need_props = true;

    for (;;) {
        unsigned ctrl;
        if (ip >= in_len)
            return "LZMA2: data truncated";
        ctrl = in[ip++];
        if (ctrl == 0)
            break;
        if (ctrl == 1 || ctrl >= 0xE0) {
            dict_start = op;
            need_dict_reset = false;
            need_props = true;
        } else if (need_dict_reset) {
            return "LZMA2: first chunk does not reset the dictionary";
        }
        if (ctrl >= 0x80) {
            size_t hdr = ctrl >= 0xC0 ? 5 : 4, usize, csize;
            const char *err;
            struct rc rc;

            if (in_len - ip < hdr)
                return "LZMA2: chunk header truncated";
            usize = ((size_t)(ctrl & 0x1F) << 16) + be16(in + ip) + 1;
            csize = be16(in + ip + 2) + 1;
            if (ctrl >= 0xC0) {
                unsigned props = in[ip + 4];
                if (props >= 9 * 5 * 5)
                    return "LZMA2: bad lc/lp/pb properties";
                s->lc = props % 9;
                s->lp = props / 9 % 5;
                s->pb = props / 45;
                if (s->lc + s->lp > 4)
                    return "LZMA2: lc + lp exceeds 4";
                need_props = false;
            } else if (need_props) {
                return "LZMA2: LZMA chunk without properties";
            }
            ip += hdr;
            if (ctrl >= 0xA0)
                lzma_reset_state(s);
            if (csize > in_len - ip)
                return "LZMA2: chunk data truncated";
            if (usize > cap - op)
                return "output larger than the buffer";
            if (csize < 5 || in[ip] != 0)
                return "LZMA2: bad range coder start";
            rc = (struct rc){.range = 0xFFFFFFFFu, .code = get_le32(in + ip + 1),
                             .next = in + ip + 5, .end = in + ip + csize};
            rc.code = __builtin_bswap32(rc.code);
            if (rc.code == 0xFFFFFFFFu)
                return "LZMA2: bad range coder start";
            err = lzma_chunk(s, &rc, out, &op, op + usize, dict_start, dict_size);
            if (err)
                return err;
            if (rc.overrun || rc.next != rc.end || rc.code != 0)
                return "LZMA2: chunk size does not match its data";
            ip += csize;
        } else if (ctrl <= 2) {
            size_t n;
            if (in_len - ip < 2)
                return "LZMA2: chunk header truncated";
            n = be16(in + ip) + 1;
            ip += 2;
            if (n > in_len - ip)
                return "LZMA2: chunk data truncated";
            if (n > cap - op)
                return "output larger than the buffer";
            memcpy(out + op, in + ip, n);
            ip += n;
            op += n;
        } else {
            return "LZMA2: invalid control byte";
        }
    }
    *pin = ip;
    *pout = op;
    return NULL;
}

/* ------------------------------------------------------- x86 BCJ filter */

static inline bool x86_ms_byte_ok(u8 b)
{
    return b == 0 || b == 0xFF;
}

/*
 * The first E8 or E9 byte in buf[i..limit), or i when i >= limit, or
 * limit when there is none.  A word at a time:
 * OR-ing in 1 makes both opcodes E9, so XOR with E9 leaves a zero byte
 * exactly there, and the lowest zero byte of a word is found exactly.
 */
static inline size_t find_e8(const u8 *buf, size_t i, size_t limit)
{
    const u64 ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

    /* Two words a step: opcodes are rare enough that one test for both
     * pays, and the second word is looked at again only when it has one. */
    for (; i + 16 <= limit; i += 16) {
        u64 x = (load64(buf + i) | ones) ^ (0xE9 * ones);
        u64 y = (load64(buf + i + 8) | ones) ^ (0xE9 * ones);
        u64 zx = (x - ones) & ~x, zy = (y - ones) & ~y;
        if ((zx | zy) & highs) {
            if (zx & highs)
                return i + (__builtin_ctzll(zx & highs) >> 3);
            return i + 8 + (__builtin_ctzll(zy & highs) >> 3);
        }
    }
    for (; i + 8 <= limit; i += 8) {
        u64 x = (load64(buf + i) | ones) ^ (0xE9 * ones);
        u64 z = (x - ones) & ~x & highs;
        if (z)
            return i + (__builtin_ctzll(z) >> 3);
    }
    while (i < limit && (buf[i] & 0xFE) != 0xE8)
        i++;
    return i;
}

/*
 * Undoes the x86 branch conversion over a whole block: the encoder turned
 * the relative operands of E8 (call) and E9 (jmp) into absolute ones when
 * their top byte was 00 or FF.  `mask` remembers which of the previous
 * three bytes were E8/E9 left unconverted, because such a byte may sit
 * inside the operand being looked at; the encoder made the same decisions
 * on the same unfiltered context.  The last four bytes are never filtered.
 */
static void bcj_x86_decode(u8 *buf, size_t len, u32 start)
{
    static const bool mask_ok[8] = {true, true, true, false, true, false, false, false};
    static const u8 mask_byte[8] = {0, 1, 2, 2, 3, 3, 3, 3};
    size_t prev = (size_t)-4; /* last E8/E9 seen: "long ago" */
    u32 mask = 0;

    if (len <= 4)
        return;
    for (size_t i = 0;; i++) {
        size_t gap;
        u32 v, rel;

        i = find_e8(buf, i, len - 4);
        if (i >= len - 4)
            break;
        gap = i - prev;
        prev = i;
        if (gap > 3) {
            mask = 0;
        } else {
            mask = (mask << (gap - 1)) & 7;
            if (mask && (!mask_ok[mask] || x86_ms_byte_ok(buf[i + 4 - mask_byte[mask]]))) {
                mask = (mask << 1) | 1;
                continue;
            }
        }
        if (!x86_ms_byte_ok(buf[i + 4])) {
            mask = (mask << 1) | 1;
            continue;
        }
        v = get_le32(buf + i + 1);
        for (;;) {
            unsigned sh;
            rel = v - (start + (u32)i + 5);
            if (!mask)
                break;
            sh = 24 - mask_byte[mask] * 8;
            if (!x86_ms_byte_ok((u8)(rel >> sh)))
                break;
            v = rel ^ ((1u << (sh + 8)) - 1);
        }
        /* Bit 24 decides the top byte: 00 or FF. */
        rel &= 0x01FFFFFF;
        rel |= 0 - (rel & 0x01000000);
        put_le32(buf + i + 1, rel);
        i += 4;
    }
}

/* ---------------------------------------------------------- container */

#define STREAM_HDR 12
#define FILTER_X86 0x04
#define FILTER_LZMA2 0x21
#define VLI_MAX_BYTES 9

static const u8 xz_magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};

bool xz_is_xz(const void *in, size_t in_len)
{
    return in_len >= sizeof(xz_magic) && !memcmp(in, xz_magic, sizeof(xz_magic));
}

/* Multibyte integer: 7 bits a byte, low first, at most 9 bytes, minimal. */
static bool get_vli(const u8 *p, size_t len, size_t *off, u64 *v)
{
    u64 r = 0;

    for (unsigned i = 0; i < VLI_MAX_BYTES; i++) {
        u8 b;
        if (*off >= len)
            return false;
        b = p[(*off)++];
        r |= (u64)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i && !b)
                return false; /* a needless trailing zero byte */
            *v = r;
            return true;
        }
    }
    return false;
}

static size_t check_size(unsigned type)
{
    return type ? 4u << ((type - 1) / 3) : 0;
}

/* Stream flags: first byte zero, second the check type in its low nibble. */
static const char *parse_flags(const u8 *f, unsigned *check)
{
    if (f[0] || (f[1] & 0xF0))
        return "xz: unsupported stream flags";
    *check = f[1];
    if (*check != XZ_CHECK_NONE && *check != XZ_CHECK_CRC32 && *check != XZ_CHECK_CRC64)
        return *check == XZ_CHECK_SHA256 ? "xz: SHA-256 check not supported"
                                         : "xz: unsupported check type";
    return NULL;
}

struct block_hdr {
    size_t size;
    u64 csize, usize; /* ~0 when absent */
    bool x86;
    u32 x86_start;
    u32 dict_size;
};

static const char *parse_filter(const u8 *h, size_t end, size_t *off, bool last,
                                struct block_hdr *bh)
{
    u64 id, psize;

    if (!get_vli(h, end, off, &id) || !get_vli(h, end, off, &psize) || psize > end - *off)
        return "xz: bad filter flags";
    if (id == FILTER_LZMA2) {
        u8 b;
        if (!last || psize != 1)
            return "xz: LZMA2 must be the last filter, with one property byte";
        b = h[*off];
        if (b > 40)
            return "xz: bad LZMA2 dictionary size";
        bh->dict_size = b == 40 ? 0xFFFFFFFFu : (2u | (b & 1)) << (b / 2 + 11);
    } else if (id == FILTER_X86) {
        if (last || bh->x86 || (psize != 0 && psize != 4))
            return "xz: bad x86 filter";
        bh->x86 = true;
        bh->x86_start = psize ? get_le32(h + *off) : 0;
    } else {
        return "xz: unsupported filter (only x86 BCJ and LZMA2)";
    }
    *off += psize;
    return NULL;
}

static const char *parse_block_header(const u8 *in, size_t avail, struct block_hdr *bh)
{
    size_t size = ((size_t)in[0] + 1) * 4, off = 2;
    unsigned flags, nfilters;
    const char *err;

    *bh = (struct block_hdr){.size = size, .csize = ~0ull, .usize = ~0ull};
    if (size > avail)
        return "xz: block header truncated";
    if (xz_crc32(0, in, size - 4) != get_le32(in + size - 4))
        return "xz: block header CRC mismatch";
    flags = in[1];
    if (flags & 0x3C)
        return "xz: reserved block flags set";
    nfilters = (flags & 3) + 1;
    size -= 4; /* parse up to the CRC */
    if ((flags & 0x40) && (!get_vli(in, size, &off, &bh->csize) || !bh->csize))
        return "xz: bad compressed size";
    if ((flags & 0x80) && !get_vli(in, size, &off, &bh->usize))
        return "xz: bad uncompressed size";
    for (unsigned i = 0; i < nfilters; i++)
        if ((err = parse_filter(in, size, &off, i + 1 == nfilters, bh)))
            return err;
    for (; off < size; off++)
        if (in[off])
            return "xz: block header padding not zero";
    return NULL;
}

/* What the index must list, accumulated while decoding the blocks. */
struct index_sum {
    u64 count, unpadded, uncompressed;
    u32 hash;
};

static void index_add(struct index_sum *s, u64 unpadded, u64 uncompressed)
{
    u8 rec[16];

    put_le32(rec, (u32)unpadded);
    put_le32(rec + 4, (u32)(unpadded >> 32));
    put_le32(rec + 8, (u32)uncompressed);
    put_le32(rec + 12, (u32)(uncompressed >> 32));
    s->count++;
    s->unpadded += unpadded;
    s->uncompressed += uncompressed;
    s->hash = xz_crc32(s->hash, rec, sizeof(rec));
}

static const char *verify_check(unsigned type, const u8 *data, size_t len, const u8 *stored)
{
    if (type == XZ_CHECK_CRC32 && xz_crc32(0, data, len) != get_le32(stored))
        return "xz: CRC32 mismatch";
    if (type == XZ_CHECK_CRC64 && xz_crc64(0, data, len) != get_le64(stored))
        return "xz: CRC64 mismatch";
    return NULL;
}

static const char *decode_block(const u8 *in, size_t in_len, size_t *pin, u8 *out, size_t cap,
                                size_t *pout, unsigned check, struct index_sum *sum)
{
    struct block_hdr bh;
    size_t ip = *pin, op = *pout, data_start, csize, usize;
    const char *err;

    if ((err = parse_block_header(in + ip, in_len - ip, &bh)))
        return err;
    ip += bh.size;
    data_start = ip;
    if ((err = lzma2_decode(in, in_len, &ip, out, cap, &op, bh.dict_size)))
        return err;
    csize = ip - data_start;
    usize = op - *pout;
    if ((bh.csize != ~0ull && bh.csize != csize) || (bh.usize != ~0ull && bh.usize != usize))
        return "xz: block sizes differ from its header";
    for (; (ip - *pin) & 3; ip++)
        if (ip >= in_len || in[ip])
            return "xz: bad block padding";
    if (in_len - ip < check_size(check))
        return "xz: block check truncated";
    if (bh.x86)
        bcj_x86_decode(out + *pout, usize, bh.x86_start);
    if ((err = verify_check(check, out + *pout, usize, in + ip)))
        return err;
    ip += check_size(check);
    index_add(sum, bh.size + csize + check_size(check), usize);
    *pin = ip;
    *pout = op;
    return NULL;
}

/* Parses the index at in[0..len) into *sum; `len` must be its exact size. */
static const char *parse_index(const u8 *in, size_t len, struct index_sum *sum)
{
    size_t off = 1;
    u64 n;

    *sum = (struct index_sum){0};
    if (len < 8 || (len & 3) || in[0] != 0 || !get_vli(in, len - 4, &off, &n))
        return "xz: bad index";
    for (u64 i = 0; i < n; i++) {
        u64 unpadded, uncompressed;
        if (!get_vli(in, len - 4, &off, &unpadded) || !get_vli(in, len - 4, &off, &uncompressed) ||
            unpadded < 5 || unpadded > (1ull << 62) || uncompressed > (1ull << 62))
            return "xz: bad index record";
        index_add(sum, unpadded, uncompressed);
    }
    for (; off < len - 4; off++)
        if (in[off])
            return "xz: bad index padding";
    if (xz_crc32(0, in, len - 4) != get_le32(in + len - 4))
        return "xz: index CRC mismatch";
    return NULL;
}

/* The footer's index size, after checking the footer against `flags`. */
static const char *parse_footer(const u8 *f, const u8 *hdr_flags, size_t *index_size)
{
    if (f[10] != 'Y' || f[11] != 'Z')
        return "xz: bad stream footer magic";
    if (xz_crc32(0, f + 4, 6) != get_le32(f))
        return "xz: stream footer CRC mismatch";
    if (memcmp(f + 8, hdr_flags, 2))
        return "xz: stream header and footer flags differ";
    *index_size = ((size_t)get_le32(f + 4) + 1) * 4;
    return NULL;
}

static const char *parse_header(const u8 *in, size_t len, unsigned *check)
{
    if (len < STREAM_HDR || memcmp(in, xz_magic, sizeof(xz_magic)))
        return "xz: not an xz stream";
    if (xz_crc32(0, in + 6, 2) != get_le32(in + 8))
        return "xz: stream header CRC mismatch";
    return parse_flags(in + 6, check);
}

static const char *decode_stream(const u8 *in, size_t in_len, size_t *pin, u8 *out, size_t cap,
                                 size_t *pout, struct xz_status *st)
{
    struct index_sum blocks = {0}, listed;
    size_t ip = *pin, index_start, index_size;
    unsigned check;
    const char *err;

    if ((err = parse_header(in + ip, in_len - ip, &check)))
        return err;
    st->check = check;
    ip += STREAM_HDR;
    for (;;) {
        if (ip >= in_len)
            return "xz: stream truncated";
        if (in[ip] == 0)
            break; /* the index indicator */
        if ((err = decode_block(in, in_len, &ip, out, cap, pout, check, &blocks)))
            return err;
        st->blocks++;
    }
    /* The index's size is only known from the footer that follows it:
     * parse records up to where the footer must start, then cross-check. */
    index_start = ip;
    {
        size_t off = ip + 1;
        u64 n, v;
        if (!get_vli(in, in_len, &off, &n))
            return "xz: bad index";
        for (u64 i = 0; i < 2 * n; i++)
            if (!get_vli(in, in_len, &off, &v))
                return "xz: bad index record";
        index_size = ALIGN_UP(off - index_start, 4) + 4;
    }
    if (in_len - index_start < index_size + STREAM_HDR)
        return "xz: stream truncated";
    if ((err = parse_index(in + index_start, index_size, &listed)))
        return err;
    if (listed.count != blocks.count || listed.unpadded != blocks.unpadded ||
        listed.uncompressed != blocks.uncompressed || listed.hash != blocks.hash)
        return "xz: index does not match the blocks";
    ip = index_start + index_size;
    {
        size_t footer_index_size;
        if ((err = parse_footer(in + ip, in + *pin + 6, &footer_index_size)))
            return err;
        if (footer_index_size != index_size)
            return "xz: footer disagrees with the index size";
    }
    *pin = ip + STREAM_HDR;
    return NULL;
}

int xz_decode(const void *inp, size_t in_len, void *outp, size_t out_cap, struct xz_status *st)
{
    const u8 *in = inp;
    size_t ip = 0, op = 0;

    *st = (struct xz_status){0};
    do {
        const char *err = decode_stream(in, in_len, &ip, outp, out_cap, &op, st);
        st->in_used = ip;
        st->out_len = op;
        if (err) {
            st->why = err;
            return -1;
        }
        /* Stream padding: zero bytes in groups of four. */
        size_t pad = ip;
        while (ip < in_len && !in[ip])
            ip++;
        if ((ip - pad) & 3) {
            st->why = "xz: stream padding is not a multiple of four bytes";
            return -1;
        }
    } while (ip < in_len);
    st->in_used = ip;
    return 0;
}

int xz_decoded_size(const void *inp, size_t len, u64 *size, const char **why)
{
    const u8 *in = inp;
    struct index_sum sum;
    size_t index_size;
    unsigned check;
    const char *err;

    if ((err = parse_header(in, len, &check)))
        goto fail;
    if (len < 2 * STREAM_HDR) {
        err = "xz: stream truncated";
        goto fail;
    }
    if ((err = parse_footer(in + len - STREAM_HDR, in + 6, &index_size)))
        goto fail;
    if (index_size > len - 2 * STREAM_HDR) {
        err = "xz: index larger than the stream";
        goto fail;
    }
    if ((err = parse_index(in + len - STREAM_HDR - index_size, index_size, &sum)))
        goto fail;
    *size = sum.uncompressed;
    return 0;
fail:
    *why = err;
    return -1;
}
