/* bzImage unwrapping: synthetic images around host-made payloads, every
 * header check, and Debian's real kernel when cache/ has it. */
#include <keel/bzimage.h>
#include <keel/elf.h>

#include <unistd.h>

#include "harness.h"

#define SETUP_SECTS 3
#define PM_START ((SETUP_SECTS + 1) * 512)
#define PAYLOAD_REL 0x100

static u8 *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    u8 *buf = NULL;
    size_t cap = 0, n = 0, got;
    if (!f)
        return NULL;
    do {
        if (n == cap)
            buf = realloc(buf, cap = cap ? cap * 2 : 1 << 20);
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    fclose(f);
    *len = n;
    return buf;
}

static void put32(u8 *p, u32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (u8)(v >> (8 * i));
}

/* A bzImage-shaped buffer: header, then `payload` at PM_START + PAYLOAD_REL. */
static u8 *make_image(const u8 *payload, size_t plen, size_t *len)
{
    u8 *img = calloc(1, PM_START + PAYLOAD_REL + plen + 16);
    img[0x1f1] = SETUP_SECTS;
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xAA;
    memcpy(img + 0x202, "HdrS", 4);
    img[0x206] = 0x0f;
    img[0x207] = 0x02;
    put32(img + 0x248, PAYLOAD_REL);
    put32(img + 0x24c, (u32)plen);
    memcpy(img + PM_START + PAYLOAD_REL, payload, plen);
    *len = PM_START + PAYLOAD_REL + plen + 16;
    return img;
}

/* Compresses with a host tool the way Linux's build does. */
static u8 *compress(const u8 *d, size_t len, const char *cmd_fmt, size_t *out_len)
{
    char in[] = "/tmp/keel-bz-XXXXXX", cmd[256], out[64];
    int fd = mkstemp(in);
    u8 *r;
    if (fd < 0 || write(fd, d, len) != (ssize_t)len)
        abort();
    close(fd);
    snprintf(out, sizeof(out), "%s.z", in);
    snprintf(cmd, sizeof(cmd), cmd_fmt, in, out);
    r = system(cmd) == 0 ? slurp(out, out_len) : NULL;
    unlink(in);
    unlink(out);
    return r;
}

static u8 *payload_data(size_t len)
{
    u8 *d = malloc(len);
    for (size_t i = 0; i < len; i++)
        d[i] = (u8)(i * 7 / 13 + (i >> 9));
    return d;
}

static void check_unpack(const char *cmd, const char *comp, bool append_size)
{
    size_t dlen = 100000, plen, ilen;
    u8 *d = payload_data(dlen);
    u8 *p = compress(d, dlen, cmd, &plen);
    struct bzimage_info bi;
    CHECK(p != NULL);
    if (!p)
        return;
    if (append_size) { /* as Linux's size_append does */
        p = realloc(p, plen + 4);
        put32(p + plen, (u32)dlen);
        plen += 4;
    }
    u8 *img = make_image(p, plen, &ilen);
    CHECK(bzimage_is_bzimage(img, ilen));
    CHECK_EQ(bzimage_probe(img, ilen, &bi), 0);
    CHECK_STR(bi.comp, comp);
    CHECK_EQ(bi.out_size, dlen);
    CHECK_EQ(bi.payload_off, PM_START + PAYLOAD_REL);
    u8 *out = malloc(dlen);
    int rc = bzimage_unpack(img, ilen, &bi, out, dlen);
    if (rc)
        fprintf(stderr, "  %s\n", bi.why);
    CHECK_EQ(rc, 0);
    CHECK(!rc && !memcmp(out, d, dlen));
    CHECK(bzimage_unpack(img, ilen, &bi, out, dlen - 1) != 0);
    free(out);
    free(img);
    free(p);
    free(d);
}

TEST(xz_and_gzip_payloads)
{
    if (system("xz --version >/dev/null 2>&1") == 0) {
        check_unpack("xz --check=crc32 --x86 --lzma2=preset=6 -c '%s' > '%s'", "xz", true);
        check_unpack("xz -c '%s' > '%s'", "xz", false);
    }
    if (system("gzip --version >/dev/null 2>&1") == 0)
        check_unpack("gzip -n -9 -c '%s' > '%s'", "gzip", false);
}

TEST(header_checks)
{
    struct bzimage_info bi;
    size_t ilen;
    const u8 xzmagic[16] = {0xFD, '7', 'z', 'X', 'Z', 0};
    u8 *img = make_image(xzmagic, sizeof(xzmagic), &ilen);

    CHECK(!bzimage_is_bzimage(img, 0x240));
    CHECK(bzimage_probe(img, 0x100, &bi) != 0);
    /* Protocol too old for payload fields. */
    img[0x206] = 0x07;
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    CHECK(strstr(bi.why, "2.08") != NULL);
    img[0x206] = 0x0f;
    /* Payload past the end, with and without wrap-around. */
    put32(img + 0x24c, (u32)ilen);
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    put32(img + 0x248, 0xFFFFFF00u);
    put32(img + 0x24c, 0x200);
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    CHECK(strstr(bi.why, "outside") != NULL);
    put32(img + 0x248, PAYLOAD_REL);
    put32(img + 0x24c, 0);
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    /* setup_sects 0 means 4: the payload is then elsewhere, not xz. */
    put32(img + 0x24c, sizeof(xzmagic));
    img[0x1f1] = 0;
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    img[0x1f1] = SETUP_SECTS;
    /* A bare xz magic with no valid stream is refused with a reason. */
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    CHECK(strstr(bi.why, "xz") != NULL);
    free(img);
}

TEST(unsupported_compressions_named)
{
    static const struct {
        const char *name;
        u8 magic[4];
    } cases[] = {{"bzip2", {'B', 'Z', 'h', '9'}},
                 {"lzma", {0x5D, 0, 0, 0x80}},
                 {"lzo", {0x89, 'L', 'Z', 'O'}},
                 {"lz4", {0x02, 0x21, 0x4C, 0x18}},
                 {"zstd", {0x28, 0xB5, 0x2F, 0xFD}}};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct bzimage_info bi;
        size_t ilen;
        char want[64];
        u8 *img = make_image(cases[i].magic, 4, &ilen);
        CHECK(bzimage_probe(img, ilen, &bi) != 0);
        snprintf(want, sizeof(want), "unsupported compression %s", cases[i].name);
        if (!strstr(bi.why, want))
            fprintf(stderr, "  why = %s\n", bi.why);
        CHECK(strstr(bi.why, want) != NULL);
        free(img);
    }
    struct bzimage_info bi;
    size_t ilen;
    u8 *img = make_image((const u8 *)"\x12\x34\x56\x78", 4, &ilen);
    CHECK(bzimage_probe(img, ilen, &bi) != 0);
    CHECK(strstr(bi.why, "unknown payload compression") != NULL);
    free(img);
}

/* Debian's vmlinuz unwraps to exactly the vmlinux, which parses as a PV
 * kernel with Xen notes. */
TEST(debian_vmlinuz)
{
    size_t zlen = 0, elen = 0;
    u8 *z = slurp("cache/vmlinuz", &zlen), *elf = slurp("cache/vmlinux", &elen);
    struct bzimage_info bi;
    static struct pv_kernel_info ki;
    if (!z || !elf) {
        printf("note: cache/vmlinuz or cache/vmlinux absent, real-kernel test skipped\n");
        free(z);
        free(elf);
        return;
    }
    CHECK_EQ(bzimage_probe(z, zlen, &bi), 0);
    CHECK_STR(bi.comp, "xz");
    CHECK_EQ(bi.out_size, elen);
    u8 *out = malloc(bi.out_size);
    CHECK_EQ(bzimage_unpack(z, zlen, &bi, out, bi.out_size), 0);
    CHECK(!memcmp(out, elf, elen));
    int rc = elf_parse_pv_kernel(out, bi.out_size, &ki);
    if (rc)
        fprintf(stderr, "  %s\n", ki.why);
    CHECK_EQ(rc, 0);
    CHECK_STR(ki.guest_os, "linux");
    free(out);
    free(elf);
    free(z);
}
