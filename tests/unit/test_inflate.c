/* gzip/DEFLATE decompression against the host's gzip(1). */
#include <keel/inflate.h>

#include <unistd.h>

#include "harness.h"

static u8 *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    u8 *buf = NULL;
    size_t cap = 0, n = 0, got;
    if (!f)
        return NULL;
    do {
        if (n == cap)
            buf = realloc(buf, cap = cap ? cap * 2 : 65536);
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    fclose(f);
    *len = n;
    return buf;
}

/* Compresses data with `gzip <opts>` through a temporary file. */
static u8 *host_gzip(const u8 *data, size_t len, const char *opts, size_t *out_len)
{
    char in[] = "/tmp/keel-gz-XXXXXX", cmd[256], out[64];
    int fd = mkstemp(in);
    u8 *r;
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
    snprintf(out, sizeof(out), "%s.gz", in);
    snprintf(cmd, sizeof(cmd), "gzip -c %s '%s' > '%s'", opts, in, out);
    r = system(cmd) == 0 ? slurp(out, out_len) : NULL;
    unlink(in);
    unlink(out);
    return r;
}

static u8 *make_data(size_t len, unsigned seed)
{
    static const char *words[] = {"keel ", "xen ", "pv ", "dom0 ", "\n", "grant ", "4096 "};
    u8 *d = malloc(len ? len : 1);
    u32 x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len;) {
        x = x * 1103515245u + 12345u;
        if ((x >> 27) == 0) {
            d[i++] = (u8)(x >> 16);
            continue;
        }
        for (const char *w = words[(x >> 16) % 7]; *w && i < len; w++)
            d[i++] = (u8)*w;
    }
    return d;
}

static bool have_gzip(void)
{
    bool have = system("gzip --version >/dev/null 2>&1") == 0;
    if (!have)
        printf("note: host gzip missing, comparison tests do nothing\n");
    return have;
}

static void roundtrip(const u8 *d, size_t len, const char *opts)
{
    size_t zlen, got;
    const char *why = NULL;
    u8 *z = host_gzip(d, len, opts, &zlen);
    u8 *out = malloc(len + 1);
    CHECK(z != NULL);
    if (!z)
        return;
    int rc = gzip_decode(z, zlen, out, len + 1, &got, &why);
    if (rc)
        fprintf(stderr, "  gzip %s (%zu bytes): %s\n", opts, len, why);
    CHECK_EQ(rc, 0);
    CHECK_EQ(got, len);
    CHECK(rc || !memcmp(out, d, len));
    /* One byte less room must fail, not overflow. */
    if (len)
        CHECK(gzip_decode(z, zlen, out, len - 1, &got, &why) != 0);
    free(out);
    free(z);
}

TEST(levels_and_block_types)
{
    if (!have_gzip())
        return;
    u8 *d = make_data(500000, 1);
    roundtrip(d, 500000, "-1");
    roundtrip(d, 500000, "-6");
    roundtrip(d, 500000, "-9");
    roundtrip(d, 5, "-9");       /* fixed Huffman */
    roundtrip(d, 0, "-9");
    /* Incompressible bytes become stored blocks. */
    u32 x = 3;
    for (size_t i = 0; i < 200000; i++)
        d[i] = (u8)((x = x * 1664525u + 1013904223u) >> 24);
    roundtrip(d, 300000, "-6");
    roundtrip(d, 300000, "-n -1");
    free(d);
}

TEST(corruption_rejected)
{
    size_t zlen, got;
    const char *why;
    unsigned accepted = 0;
    if (!have_gzip())
        return;
    u8 *d = make_data(4000, 2);
    u8 *z = host_gzip(d, 4000, "-n -6", &zlen);
    u8 *out = malloc(5000);
    for (size_t n = 0; n < zlen; n++)
        accepted += gzip_decode(z, n, out, 5000, &got, &why) == 0;
    CHECK_EQ(accepted, 0);
    /* Some bits carry no meaning (FTEXT, mtime, xfl, os, the last byte's
     * padding, lengths of symbols never used): damage there may be accepted
     * as long as the output is still exactly the original. */
    for (size_t i = 0; i < zlen; i++) {
        for (unsigned bit = 0; bit < 8; bit += 3) {
            z[i] ^= 1u << bit;
            if (gzip_decode(z, zlen, out, 5000, &got, &why) == 0 &&
                (got != 4000 || memcmp(out, d, 4000))) {
                fprintf(stderr, "  accepted damage at %zu bit %u\n", i, bit);
                accepted++;
            }
            z[i] ^= 1u << bit;
        }
    }
    CHECK_EQ(accepted, 0);
    CHECK(gzip_decode("\x1f\x8b\x08", 3, out, 5000, &got, &why) != 0);
    free(out);
    free(z);
    free(d);
}

/* A block type 3, a bad stored length, a distance before the start. */
TEST(hand_made_bad_streams)
{
    u8 out[64];
    size_t got, pos;
    const char *why;
    const u8 type3[] = {0x07};
    pos = 0;
    CHECK(inflate_raw(type3, 1, &pos, out, 64, &got, &why) != 0);
    const u8 stored_bad[] = {0x01, 0x05, 0x00, 0xfa, 0xfe, 'a', 'b', 'c', 'd', 'e'};
    pos = 0;
    CHECK(inflate_raw(stored_bad, sizeof(stored_bad), &pos, out, 64, &got, &why) != 0);
    const u8 stored_ok[] = {0x01, 0x05, 0x00, 0xfa, 0xff, 'a', 'b', 'c', 'd', 'e'};
    pos = 0;
    CHECK_EQ(inflate_raw(stored_ok, sizeof(stored_ok), &pos, out, 64, &got, &why), 0);
    CHECK_EQ(got, 5);
    CHECK_EQ(pos, sizeof(stored_ok));
    /* Fixed block: length 3 at distance 1 with nothing before it. */
    const u8 far[] = {0x03, 0x02, 0x00};
    pos = 0;
    CHECK(inflate_raw(far, sizeof(far), &pos, out, 64, &got, &why) != 0);
}
