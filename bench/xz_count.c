/*
 * Host driver for counting the instructions of Keel's XZ decoder on a real
 * kernel: decodes the payload of a bzImage (default cache/vmlinuz) with
 * hv/common/xz.c built as Keel builds it, and compares the result with the
 * expected ELF (default cache/vmlinux).  Run under
 * `valgrind --tool=callgrind` (see `make bench-xz`): the counts are exact.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/xz.h>

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        perror(path);
        exit(2);
    }
    buf = malloc(n ? n : 1);
    if (!buf || fread(buf, 1, n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint32_t le32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
    const char *zpath = argc > 1 ? argv[1] : "cache/vmlinuz";
    const char *epath = argc > 2 ? argv[2] : "cache/vmlinux";
    size_t zlen, elen, off, len;
    unsigned char *z = slurp(zpath, &zlen), *e = slurp(epath, &elen), *out;
    struct xz_status st;
    const char *why;
    uint64_t size;

    if (zlen < 0x250) {
        fprintf(stderr, "%s: too small for a bzImage\n", zpath);
        return 2;
    }
    off = ((size_t)(z[0x1f1] ? z[0x1f1] : 4) + 1) * 512 + le32(z + 0x248);
    len = le32(z + 0x24c);
    if (off > zlen || len > zlen - off || len < 6) {
        fprintf(stderr, "%s: payload outside the image\n", zpath);
        return 2;
    }
    /* The stream ends with "YZ", perhaps followed by a 4-byte size. */
    if (memcmp(z + off + len - 2, "YZ", 2) && !memcmp(z + off + len - 6, "YZ", 2))
        len -= 4;
    if (xz_decoded_size(z + off, len, &size, &why)) {
        fprintf(stderr, "xz_decoded_size: %s\n", why);
        return 1;
    }
    out = malloc(size);
    if (!out)
        return 2;
    if (xz_decode(z + off, len, out, size, &st)) {
        fprintf(stderr, "xz_decode: %s\n", st.why);
        return 1;
    }
    if (st.out_len != elen || memcmp(out, e, elen)) {
        fprintf(stderr, "output differs from %s (%zu vs %zu bytes)\n", epath, st.out_len, elen);
        return 1;
    }
    printf("ok: %zu -> %zu bytes, %u block(s)\n", len, st.out_len, st.blocks);
    return 0;
}
