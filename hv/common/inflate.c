/*
 * DEFLATE (RFC 1951) and the gzip wrapper (RFC 1952).
 *
 * Huffman codes are decoded canonically: a code of length L is the
 * (code - first code of length L)-th symbol of that length, so a table of
 * counts per length plus the symbols sorted by code is enough, and no table
 * can be made to point outside itself.  As in xz.c, the output buffer is
 * the window.
 */
#include <keel/inflate.h>
#include <keel/xz.h>

#define MAX_BITS 15
#define MAX_LIT 288
#define MAX_DIST 32
#define END_OF_BLOCK 256

struct bits {
    const u8 *in;
    size_t len, pos;
    u64 buf;
    unsigned cnt;
    bool overrun; /* reads past the end return zeroes and set this */
};

static inline u32 get_bits(struct bits *b, unsigned n)
{
    u32 v;

    while (b->cnt < n) {
        if (b->pos < b->len)
            b->buf |= (u64)b->in[b->pos++] << b->cnt;
        else
            b->overrun = true;
        b->cnt += 8;
    }
    v = (u32)(b->buf & ((1ull << n) - 1));
    b->buf >>= n;
    b->cnt -= n;
    return v;
}

struct huff {
    u16 count[MAX_BITS + 1];
    u16 sym[MAX_LIT];
};

/* Builds the canonical code for lengths[0..n); false if over-subscribed. */
static bool huff_build(struct huff *h, const u8 *lengths, unsigned n)
{
    u16 offs[MAX_BITS + 2];
    int left = 1;

    memset(h->count, 0, sizeof(h->count));
    for (unsigned i = 0; i < n; i++)
        h->count[lengths[i]]++;
    for (unsigned len = 1; len <= MAX_BITS; len++) {
        left = (left << 1) - h->count[len];
        if (left < 0)
            return false;
    }
    offs[1] = 0;
    for (unsigned len = 1; len <= MAX_BITS; len++)
        offs[len + 1] = offs[len] + h->count[len];
    for (unsigned i = 0; i < n; i++)
        if (lengths[i])
            h->sym[offs[lengths[i]]++] = (u16)i;
    return true;
}

/* A symbol, or -1 for a bit pattern the code does not contain. */
static int huff_decode(struct bits *b, const struct huff *h)
{
    int code = 0, first = 0, index = 0;

    for (unsigned len = 1; len <= MAX_BITS; len++) {
        int count = h->count[len];
        code |= (int)get_bits(b, 1);
        if (code - first < count)
            return h->sym[index + code - first];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

static const u16 len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const u8 len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const u16 dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                  33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                  1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const u8 dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                  6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

struct out {
    u8 *buf;
    size_t cap, pos;
};

static const char *inflate_codes(struct bits *b, struct out *o, const struct huff *lit,
                                 const struct huff *dist)
{
    for (;;) {
        int sym = huff_decode(b, lit);
        if (b->overrun)
            return "deflate: data truncated";
        if (sym < 0)
            return "deflate: invalid literal/length code";
        if (sym < 256) {
            if (o->pos >= o->cap)
                return "output larger than the buffer";
            o->buf[o->pos++] = (u8)sym;
            continue;
        }
        if (sym == END_OF_BLOCK)
            return NULL;
        sym -= 257;
        if (sym >= 29)
            return "deflate: invalid length symbol";
        size_t len = len_base[sym] + get_bits(b, len_extra[sym]);
        int ds = huff_decode(b, dist);
        if (ds < 0 || ds >= 30)
            return "deflate: invalid distance code";
        size_t d = dist_base[ds] + get_bits(b, dist_extra[ds]);
        if (b->overrun)
            return "deflate: data truncated";
        if (d > o->pos)
            return "deflate: distance before the start of the output";
        if (len > o->cap - o->pos)
            return "output larger than the buffer";
        const u8 *src = o->buf + o->pos - d;
        u8 *dst = o->buf + o->pos;
        o->pos += len;
        while (len--)
            *dst++ = *src++;
    }
}

static const char *inflate_stored(struct bits *b, struct out *o)
{
    size_t n;

    if (b->overrun)
        return "deflate: data truncated";
    /* Drop to the byte boundary; whole bytes still buffered go back. */
    b->buf = 0;
    b->pos -= b->cnt / 8;
    b->cnt = 0;
    if (b->len - b->pos < 4)
        return "deflate: stored block truncated";
    n = b->in[b->pos] | b->in[b->pos + 1] << 8;
    if ((n ^ 0xFFFF) != (size_t)(b->in[b->pos + 2] | b->in[b->pos + 3] << 8))
        return "deflate: stored block length check failed";
    b->pos += 4;
    if (n > b->len - b->pos)
        return "deflate: stored block truncated";
    if (n > o->cap - o->pos)
        return "output larger than the buffer";
    memcpy(o->buf + o->pos, b->in + b->pos, n);
    b->pos += n;
    o->pos += n;
    return NULL;
}

static struct huff lit_code, dist_code;

static const char *inflate_fixed(struct bits *b, struct out *o)
{
    static struct huff fixed_lit, fixed_dist;
    static bool built;

    if (!built) {
        u8 lens[MAX_LIT];
        for (unsigned i = 0; i < MAX_LIT; i++)
            lens[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        huff_build(&fixed_lit, lens, MAX_LIT);
        memset(lens, 5, MAX_DIST);
        huff_build(&fixed_dist, lens, MAX_DIST);
        built = true;
    }
    return inflate_codes(b, o, &fixed_lit, &fixed_dist);
}

static const char *inflate_dynamic(struct bits *b, struct out *o)
{
    static const u8 order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    u8 lens[MAX_LIT + MAX_DIST];
    unsigned nlit = get_bits(b, 5) + 257, ndist = get_bits(b, 5) + 1, nclen = get_bits(b, 4) + 4;
    unsigned i;

    if (nlit > 286 || ndist > 30)
        return "deflate: too many codes";
    memset(lens, 0, 19);
    for (i = 0; i < nclen; i++)
        lens[order[i]] = (u8)get_bits(b, 3);
    if (!huff_build(&lit_code, lens, 19))
        return "deflate: bad code-length code";
    for (i = 0; i < nlit + ndist;) {
        int sym = huff_decode(b, &lit_code);
        unsigned rep;
        u8 val = 0;
        if (sym < 0 || b->overrun)
            return "deflate: bad code lengths";
        if (sym < 16) {
            lens[i++] = (u8)sym;
            continue;
        }
        if (sym == 16) {
            if (!i)
                return "deflate: repeat with no previous length";
            val = lens[i - 1];
            rep = 3 + get_bits(b, 2);
        } else if (sym == 17) {
            rep = 3 + get_bits(b, 3);
        } else {
            rep = 11 + get_bits(b, 7);
        }
        if (rep > nlit + ndist - i)
            return "deflate: code lengths overflow";
        while (rep--)
            lens[i++] = val;
    }
    if (!lens[END_OF_BLOCK])
        return "deflate: no end-of-block code";
    if (!huff_build(&lit_code, lens, nlit) || !huff_build(&dist_code, lens + nlit, ndist))
        return "deflate: over-subscribed code";
    return inflate_codes(b, o, &lit_code, &dist_code);
}

int inflate_raw(const void *in, size_t in_len, size_t *pin, void *out, size_t cap,
                size_t *out_len, const char **why)
{
    struct bits b = {.in = in, .len = in_len, .pos = *pin};
    struct out o = {.buf = out, .cap = cap};
    const char *err = NULL;
    unsigned last;

    do {
        last = get_bits(&b, 1);
        switch (get_bits(&b, 2)) {
        case 0:
            err = inflate_stored(&b, &o);
            break;
        case 1:
            err = inflate_fixed(&b, &o);
            break;
        case 2:
            err = inflate_dynamic(&b, &o);
            break;
        default:
            err = "deflate: invalid block type";
        }
        if (!err && b.overrun)
            err = "deflate: data truncated";
    } while (!err && !last);
    *out_len = o.pos;
    if (err) {
        *why = err;
        return -1;
    }
    *pin = b.pos - b.cnt / 8; /* unread whole bytes were not consumed */
    return 0;
}

#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10

static bool skip_zstring(const u8 *p, size_t len, size_t *off)
{
    while (*off < len)
        if (!p[(*off)++])
            return true;
    return false;
}

int gzip_decode(const void *inp, size_t in_len, void *out, size_t cap, size_t *out_len,
                const char **why)
{
    const u8 *in = inp;
    size_t off = 10;
    unsigned flags;

    *out_len = 0;
    if (in_len < 18 || in[0] != 0x1F || in[1] != 0x8B || in[2] != 8) {
        *why = "gzip: not a deflate-compressed gzip member";
        return -1;
    }
    flags = in[3];
    if (flags & 0xE0) {
        *why = "gzip: reserved flags set";
        return -1;
    }
    if (flags & GZ_FEXTRA) {
        size_t n = in[off] | in[off + 1] << 8;
        off += 2;
        if (n > in_len - off) {
            *why = "gzip: header truncated";
            return -1;
        }
        off += n;
    }
    if (((flags & GZ_FNAME) && !skip_zstring(in, in_len, &off)) ||
        ((flags & GZ_FCOMMENT) && !skip_zstring(in, in_len, &off)) ||
        ((flags & GZ_FHCRC) && (off += 2) > in_len)) {
        *why = "gzip: header truncated";
        return -1;
    }
    if (inflate_raw(in, in_len, &off, out, cap, out_len, why))
        return -1;
    if (in_len - off != 8) {
        *why = in_len - off < 8 ? "gzip: trailer truncated" : "gzip: data after the member";
        return -1;
    }
    if (xz_crc32(0, out, *out_len) != (u32)(in[off] | in[off + 1] << 8 | in[off + 2] << 16 |
                                            (u32)in[off + 3] << 24)) {
        *why = "gzip: CRC32 mismatch";
        return -1;
    }
    if ((u32)*out_len != (u32)(in[off + 4] | in[off + 5] << 8 | in[off + 6] << 16 |
                               (u32)in[off + 7] << 24)) {
        *why = "gzip: size mismatch";
        return -1;
    }
    return 0;
}
