/*
 * Linux bzImage unwrapping, from the x86 boot protocol's setup header:
 *   0x1f1 setup_sects (u8; 0 means 4): 512-byte sectors of setup code after
 *         the boot sector, so the protected-mode part starts at
 *         (setup_sects + 1) * 512;
 *   0x202 "HdrS", 0x206 protocol version (u16);
 *   0x248 payload_offset, 0x24c payload_length (u32, protocol >= 2.08):
 *         the compressed kernel, relative to the protected-mode part.
 * Linux appends the decompressed size (u32) to some payloads, after the
 * compressed stream; the stream's own sizes are used instead when it has
 * them, and the trailer is only stripped.
 */
#include <keel/bzimage.h>
#include <keel/console.h>
#include <keel/inflate.h>
#include <keel/xz.h>

#define HDR_SETUP_SECTS 0x1f1
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_PAYLOAD_OFF 0x248
#define HDR_PAYLOAD_LEN 0x24c
#define HDR_END 0x250
#define PROTO_PAYLOAD 0x208 /* first version with payload_offset/length */

static u32 le32(const u8 *p)
{
    return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static int fail(struct bzimage_info *bi, const char *fmt, ...) __printf(2, 3);
static int fail(struct bzimage_info *bi, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(bi->why, sizeof(bi->why), fmt, ap);
    va_end(ap);
    return -1;
}

bool bzimage_is_bzimage(const void *img, size_t size)
{
    return size >= HDR_END && !memcmp((const u8 *)img + HDR_MAGIC, "HdrS", 4);
}

struct magic {
    const char *name;
    u8 len;
    u8 bytes[6];
};

/* What Linux can compress its payload with (CONFIG_KERNEL_*). */
static const struct magic magics[] = {
    {"xz", 6, {0xFD, '7', 'z', 'X', 'Z', 0x00}},
    {"gzip", 2, {0x1F, 0x8B}},
    {"bzip2", 3, {'B', 'Z', 'h'}},
    {"lzma", 3, {0x5D, 0x00, 0x00}},
    {"lzo", 4, {0x89, 'L', 'Z', 'O'}},
    {"lz4", 4, {0x02, 0x21, 0x4C, 0x18}},
    {"zstd", 4, {0x28, 0xB5, 0x2F, 0xFD}},
};

static const char *identify(const u8 *p, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
        if (len >= magics[i].len && !memcmp(p, magics[i].bytes, magics[i].len))
            return magics[i].name;
    return NULL;
}

static int probe_xz(const u8 *p, struct bzimage_info *bi)
{
    size_t len = bi->payload_len;
    const char *why;

    /* The stream ends with "YZ"; if four bytes follow, they are the size. */
    if (len >= 6 && memcmp(p + len - 2, "YZ", 2) && !memcmp(p + len - 6, "YZ", 2))
        bi->payload_len = len -= 4;
    if (xz_decoded_size(p, len, &bi->out_size, &why))
        return fail(bi, "bzImage: xz payload: %s", why);
    return 0;
}

static int probe_gzip(const u8 *p, struct bzimage_info *bi)
{
    /* The gzip trailer's ISIZE is the size modulo 2^32: fine below 4 GiB. */
    if (bi->payload_len < 18)
        return fail(bi, "bzImage: gzip payload truncated");
    bi->out_size = le32(p + bi->payload_len - 4);
    return 0;
}

int bzimage_probe(const void *img, size_t size, struct bzimage_info *bi)
{
    const u8 *h = img;
    u64 pm_start, off, len;
    const u8 *p;

    *bi = (struct bzimage_info){0};
    if (!bzimage_is_bzimage(img, size))
        return fail(bi, "not a bzImage (no setup header)");
    bi->version = h[HDR_VERSION] | h[HDR_VERSION + 1] << 8;
    if (bi->version < PROTO_PAYLOAD)
        return fail(bi, "bzImage: boot protocol %u.%02u has no payload fields (2.08 needed)",
                    bi->version >> 8, bi->version & 0xff);
    pm_start = ((u64)(h[HDR_SETUP_SECTS] ? h[HDR_SETUP_SECTS] : 4) + 1) * 512;
    off = le32(h + HDR_PAYLOAD_OFF);
    len = le32(h + HDR_PAYLOAD_LEN);
    if (pm_start + off > size || len > size - (pm_start + off) || len == 0)
        return fail(bi, "bzImage: payload %llx+%llx outside the %zu-byte image",
                    (unsigned long long)(pm_start + off), (unsigned long long)len, size);
    bi->payload_off = pm_start + off;
    bi->payload_len = len;
    p = h + bi->payload_off;
    bi->comp = identify(p, len);
    if (!bi->comp)
        return fail(bi, "bzImage: unknown payload compression (magic %02x %02x %02x %02x)",
                    p[0], len > 1 ? p[1] : 0, len > 2 ? p[2] : 0, len > 3 ? p[3] : 0);
    if (!strcmp(bi->comp, "xz")) {
        if (probe_xz(p, bi))
            return -1;
    } else if (!strcmp(bi->comp, "gzip")) {
        if (probe_gzip(p, bi))
            return -1;
    } else {
        return fail(bi, "bzImage: unsupported compression %s", bi->comp);
    }
    if (bi->out_size == 0 || bi->out_size > BZIMAGE_MAX_OUT)
        return fail(bi, "bzImage: decompressed size %llu out of range (at most %lu MiB)",
                    (unsigned long long)bi->out_size, BZIMAGE_MAX_OUT >> 20);
    return 0;
}

int bzimage_unpack(const void *img, size_t size, struct bzimage_info *bi, void *out, size_t cap)
{
    const u8 *p = (const u8 *)img + bi->payload_off;
    size_t got;

    if (bi->payload_off > size || bi->payload_len > size - bi->payload_off || !bi->comp)
        return fail(bi, "bzImage: not probed");
    if (cap < bi->out_size)
        return fail(bi, "bzImage: output buffer too small");
    if (!strcmp(bi->comp, "xz")) {
        struct xz_status st;
        if (xz_decode(p, bi->payload_len, out, bi->out_size, &st))
            return fail(bi, "bzImage: xz payload: %s", st.why);
        got = st.out_len;
    } else {
        const char *why;
        if (gzip_decode(p, bi->payload_len, out, bi->out_size, &got, &why))
            return fail(bi, "bzImage: gzip payload: %s", why);
    }
    if (got != bi->out_size)
        return fail(bi, "bzImage: payload gave %zu bytes, %llu expected", got,
                    (unsigned long long)bi->out_size);
    return 0;
}
