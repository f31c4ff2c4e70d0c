/*
 * XZ decompression against the host's xz(1): every option Linux kernels and
 * common presets use, byte-for-byte comparison, corrupted and truncated
 * inputs rejected, and the real Debian kernel payload when cache/ has it.
 */
#include <keel/xz.h>

#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ------------------------------------------------------------ helpers */

static u8 *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    u8 *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n ? n : 1);
    if (fread(buf, 1, n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len)
        abort();
    fclose(f);
}

static bool have_xz(void)
{
    static int have = -1;
    if (have < 0)
        have = system("xz --version >/dev/null 2>&1") == 0;
    if (!have)
        printf("note: host xz missing, xz comparison tests do nothing\n");
    return have;
}

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char path[128];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/keel-xz-XXXXXX");
        if (!mkdtemp(tmpdir))
            abort();
    }
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

/* Compresses `data` with `xz <opts>`; returns the .xz bytes (malloc). */
static u8 *host_xz(const void *data, size_t len, const char *opts, size_t *out_len)
{
    char cmd[512], in[128];
    snprintf(in, sizeof(in), "%s", tmp_path("in"));
    write_file(in, data, len);
    snprintf(cmd, sizeof(cmd), "xz -q -c %s '%s' > '%s.xz'", opts, in, in);
    if (system(cmd) != 0)
        return NULL;
    snprintf(cmd, sizeof(cmd), "%s.xz", in);
    return read_file(cmd, out_len);
}

/* Decodes `xz` and compares with `want`; returns the decode's result. */
static int roundtrip(const u8 *xz, size_t xz_len, const u8 *want, size_t len)
{
    u8 *out = malloc(len + 1);
    struct xz_status st;
    u64 size = 0;
    const char *why = NULL;
    int rc = xz_decode(xz, xz_len, out, len + 1, &st);

    if (rc) {
        fprintf(stderr, "  xz_decode: %s\n", st.why);
    } else {
        CHECK_EQ(st.out_len, len);
        CHECK_EQ(st.in_used, xz_len);
        CHECK(!memcmp(out, want, len));
    }
    /* A single stream's index gives the size without decoding. */
    if (!rc && xz_decoded_size(xz, xz_len, &size, &why) == 0)
        CHECK_EQ(size, len);
    free(out);
    return rc;
}

/* Text-like data: repeats at many distances, with some noise. */
static u8 *make_data(size_t len, unsigned seed)
{
    static const char *words[] = {"keel ", "hypervisor ", "page ", "table ", "domain ",
                                  "\n", "event ", "channel ", "0123456789 ", "grant "};
    u8 *d = malloc(len);
    u32 x = seed * 2654435761u + 1;

    for (size_t i = 0; i < len;) {
        x = x * 1103515245u + 12345u;
        if ((x >> 28) == 0) {
            d[i++] = (u8)(x >> 16); /* noise */
            continue;
        }
        const char *w = words[(x >> 16) % 10];
        for (size_t k = 0; w[k] && i < len; k++)
            d[i++] = (u8)w[k];
    }
    return d;
}

static void check_opts(const u8 *data, size_t len, const char *opts)
{
    size_t xz_len;
    u8 *xz = host_xz(data, len, opts, &xz_len);

    CHECK(xz != NULL);
    if (!xz)
        return;
    if (roundtrip(xz, xz_len, data, len)) {
        fprintf(stderr, "  (xz %s, %zu bytes)\n", opts, len);
        CHECK(0);
    }
    free(xz);
}

/* -------------------------------------------------------------- tests */

TEST(crc_known_values)
{
    CHECK_EQ(xz_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK(xz_crc64(0, "123456789", 9) == 0x995DC9BBDF1939FAull);
    /* Incremental use equals one call (the slicing path and the tail). */
    u8 *d = make_data(1000, 1);
    CHECK_EQ(xz_crc32(xz_crc32(0, d, 333), d + 333, 667), xz_crc32(0, d, 1000));
    free(d);
}

TEST(presets_and_checks)
{
    static const char *opts[] = {"-0", "-1", "-6", "-9e", "--check=crc32", "--check=crc64",
                                 "--check=none", "-6 --check=crc32"};
    if (!have_xz())
        return;
    u8 *d = make_data(300000, 2);
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
        check_opts(d, 300000, opts[i]);
    check_opts(d, 1, "-6");
    check_opts(d, 0, "-6");
    free(d);
}

TEST(lzma2_options)
{
    static const char *opts[] = {
        "--lzma2=lc=0,lp=0,pb=0", "--lzma2=lc=4,lp=0,pb=4", "--lzma2=lc=1,lp=3,pb=2",
        "--lzma2=lc=0,lp=4,pb=1", "--lzma2=dict=4KiB", "--lzma2=preset=3,mode=fast",
        "--lzma2=preset=9,nice=273,mf=bt4", "--lzma2=preset=0,mf=hc3",
        "--block-size=50000", "--x86 --lzma2=preset=1"};
    if (!have_xz())
        return;
    u8 *d = make_data(400000, 3);
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
        check_opts(d, 400000, opts[i]);
    free(d);
}

/*
 * Runs of short periods (1 to 9 bytes: matches that overlap themselves) of
 * every length up to 80, between noise, so match copies of every distance
 * and length end inside chunks, at their ends and at the end of the output.
 */
TEST(short_period_runs)
{
    static const char *opts[] = {"-6", "--lzma2=preset=0", "--block-size=4093 -6",
                                 "--x86 --block-size=1000 -1"};
    size_t cap = 9 * 80 * (80 + 8) + 64, len = 0;
    u8 *d = malloc(cap);
    u32 x = 11;

    if (!have_xz()) {
        free(d);
        return;
    }
    for (unsigned period = 1; period <= 9; period++) {
        for (unsigned run = 1; run <= 80; run++) {
            for (unsigned k = 0; k < 3; k++)
                d[len++] = (u8)((x = x * 1664525u + 1013904223u) >> 24);
            for (unsigned k = 0; k < run; k++)
                d[len++] = (u8)(0xE8 + (k % period));
        }
    }
    CHECK(len <= cap);
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
        check_opts(d, len, opts[i]);
        /* Ends of every residue mod 8, so the last copy ends anywhere. */
        for (size_t cut = 1; cut <= 8; cut++)
            check_opts(d, len - cut * 37, opts[i]);
    }
    free(d);
}

/* Random bytes do not compress: LZMA2 stores them as uncompressed chunks. */
TEST(incompressible_data)
{
    if (!have_xz())
        return;
    u8 *d = malloc(200000);
    u32 x = 7;
    for (size_t i = 0; i < 200000; i++)
        d[i] = (u8)((x = x * 1664525u + 1013904223u) >> 24);
    /* Mix compressible and incompressible runs so chunk kinds alternate. */
    u8 *t = make_data(100000, 4);
    memcpy(d + 50000, t, 100000);
    check_opts(d, 200000, "-6");
    check_opts(d, 200000, "--x86 -6");
    free(t);
    free(d);
}

/* The x86 filter on real x86 code: this test binary itself. */
TEST(x86_filter_on_code)
{
    size_t len;
    u8 *code;
    if (!have_xz())
        return;
    code = read_file("/proc/self/exe", &len);
    CHECK(code != NULL);
    if (!code)
        return;
    check_opts(code, len, "--check=crc32 --x86 --lzma2=preset=6");
    check_opts(code, len, "--x86=start=4096 --lzma2=preset=1");
    check_opts(code, len, "--check=crc64 --x86 --lzma2=preset=9,lc=1,lp=2 --block-size=70000");
    free(code);
}

TEST(concatenated_streams_and_padding)
{
    size_t a_len, b_len;
    if (!have_xz())
        return;
    u8 *d = make_data(100000, 5);
    u8 *a = host_xz(d, 60000, "-6", &a_len);
    u8 *b = host_xz(d + 60000, 40000, "--check=crc64 -1", &b_len);
    CHECK(a && b);
    if (!a || !b)
        return;
    u8 *cat = malloc(a_len + 8 + b_len + 4);
    memcpy(cat, a, a_len);
    memset(cat + a_len, 0, 8);
    memcpy(cat + a_len + 8, b, b_len);
    memset(cat + a_len + 8 + b_len, 0, 4);
    CHECK_EQ(roundtrip(cat, a_len + 8 + b_len + 4, d, 100000), 0);
    /* Padding not a multiple of four is an error. */
    struct xz_status st;
    u8 *out = malloc(100000);
    memset(cat + a_len + 8 + b_len, 0, 3);
    CHECK(xz_decode(cat, a_len + 8 + b_len + 3, out, 100000, &st) != 0);
    CHECK(xz_decode(cat, a_len + 3, out, 100000, &st) != 0);
    free(out);
    free(cat);
    free(a);
    free(b);
    free(d);
}

TEST(output_limit_enforced)
{
    size_t xz_len;
    struct xz_status st;
    if (!have_xz())
        return;
    u8 *d = make_data(100000, 6);
    u8 *xz = host_xz(d, 100000, "-6", &xz_len);
    u8 *out = malloc(100000);
    CHECK(xz_decode(xz, xz_len, out, 99999, &st) != 0);
    CHECK(st.why != NULL);
    CHECK(st.out_len <= 99999);
    CHECK(xz_decode(xz, xz_len, out, 100000, &st) == 0);
    free(out);
    free(xz);
    free(d);
}

static void check_rejects_damage(const char *opts, bool every_byte)
{
    size_t xz_len;
    struct xz_status st;
    u8 *d = make_data(5000, 7);
    u8 *xz = host_xz(d, 5000, opts, &xz_len);
    u8 *out = malloc(6000);
    unsigned accepted = 0;

    /* Every truncation fails. */
    for (size_t n = 0; n < xz_len; n++)
        if (xz_decode(xz, n, out, 6000, &st) == 0)
            accepted++;
    CHECK_EQ(accepted, 0);
    /* With a check, any flipped bit is found; without, it either fails or
     * still produces exactly 5000 bytes (damaged data, caught elsewhere). */
    for (size_t i = 0; i < xz_len; i++) {
        for (unsigned bit = 0; bit < 8; bit += every_byte ? 3 : 8) {
            xz[i] ^= 1u << bit;
            int rc = xz_decode(xz, xz_len, out, 6000, &st);
            if (rc == 0 && (every_byte || st.out_len != 5000)) {
                fprintf(stderr, "  accepted damage at byte %zu bit %u (%s)\n", i, bit, opts);
                accepted++;
            }
            if (rc)
                CHECK(st.why != NULL);
            xz[i] ^= 1u << bit;
        }
    }
    CHECK_EQ(accepted, 0);
    free(out);
    free(xz);
    free(d);
}

TEST(corruption_rejected)
{
    if (!have_xz())
        return;
    check_rejects_damage("--check=crc32 --x86 -6", true);
    check_rejects_damage("--check=crc64 -1", true);
    check_rejects_damage("--check=none -6", false);
}

TEST(not_xz_and_unsupported)
{
    struct xz_status st;
    u8 out[16];
    const char *why;
    u64 size;

    CHECK(xz_decode("hello", 5, out, sizeof(out), &st) != 0);
    CHECK(st.why != NULL);
    CHECK(xz_decode("", 0, out, sizeof(out), &st) != 0);
    CHECK(xz_decoded_size("\xfd" "7zXZ", 5, &size, &why) != 0);
    CHECK(!xz_is_xz("\xfd" "7zX", 4));
    CHECK(xz_is_xz("\xfd" "7zXZ\0", 6));
    if (!have_xz())
        return;
    size_t xz_len;
    u8 *d = make_data(1000, 8);
    u8 *xz = host_xz(d, 1000, "--check=sha256", &xz_len);
    u8 *big = malloc(1000);
    CHECK(xz_decode(xz, xz_len, big, 1000, &st) != 0);
    CHECK(st.why && strstr(st.why, "SHA-256"));
    free(xz);
    xz = host_xz(d, 1000, "--delta=dist=4 --lzma2", &xz_len);
    CHECK(xz_decode(xz, xz_len, big, 1000, &st) != 0);
    CHECK(st.why && strstr(st.why, "unsupported filter"));
    free(xz);
    free(big);
    free(d);
}

/*
 * The real thing: the payload of Debian's bzImage (found by its setup
 * header, see bzimage.c) against the vmlinux fetch-debian.sh unpacked.
 */
TEST(debian_kernel_payload)
{
    size_t zlen, elen;
    u8 *z = read_file("cache/vmlinuz", &zlen);
    u8 *elf = read_file("cache/vmlinux", &elen);
    if (!z || !elf || zlen < 0x250) {
        printf("note: cache/vmlinuz or cache/vmlinux absent, real-kernel test skipped\n");
        free(z);
        free(elf);
        return;
    }
    size_t setup = ((size_t)(z[0x1f1] ? z[0x1f1] : 4) + 1) * 512;
    u32 poff = z[0x248] | z[0x249] << 8 | z[0x24a] << 16 | (u32)z[0x24b] << 24;
    u32 plen = z[0x24c] | z[0x24d] << 8 | z[0x24e] << 16 | (u32)z[0x24f] << 24;
    CHECK(setup + poff + plen <= zlen);
    const u8 *payload = z + setup + poff;
    /* Linux appends the decompressed size after the stream. */
    plen -= 4;
    u64 size = 0;
    const char *why = NULL;
    CHECK_EQ(xz_decoded_size(payload, plen, &size, &why), 0);
    CHECK_EQ(size, elen);
    u8 *out = malloc(elen);
    struct xz_status st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = xz_decode(payload, plen, out, elen, &st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc)
        fprintf(stderr, "  %s\n", st.why);
    CHECK_EQ(rc, 0);
    CHECK_EQ(st.out_len, elen);
    CHECK_EQ(st.check, XZ_CHECK_CRC32);
    CHECK(!memcmp(out, elf, elen));
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* Informational only (this build has sanitizers): no timing assert. */
    printf("note: debian payload %u -> %zu bytes in %.2f s (%.1f MiB/s, ASan build)\n", plen,
           elen, s, elen / s / 1048576);
    free(out);
    free(elf);
    free(z);
}

__attribute__((destructor)) static void cleanup(void)
{
    char cmd[128];
    if (tmpdir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd))
            fprintf(stderr, "cleanup failed\n");
    }
}
