/*
 * libFuzzer target for bzImage unwrapping (header parsing, payload
 * location, xz and gzip payloads): refusals carry a reason, success stays
 * inside the buffers and yields exactly the probed size.
 */
#include <keel/bzimage.h>
#include <keel/inflate.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static u8 out[1 << 16];
    struct bzimage_info bi;
    size_t got;
    const char *why = NULL;

    /* Raw gzip too: bzImages rarely reach the inflater otherwise. */
    if (gzip_decode(data, size, out, sizeof(out), &got, &why)) {
        if (!why)
            abort();
    } else if (got > sizeof(out)) {
        abort();
    }
    if (bzimage_probe(data, size, &bi)) {
        if (!bi.why[0])
            abort();
        return 0;
    }
    if (bi.payload_off > size || bi.payload_len > size - bi.payload_off)
        abort();
    if (bi.out_size > sizeof(out))
        return 0;
    if (bzimage_unpack(data, size, &bi, out, sizeof(out)) && !bi.why[0])
        abort();
    return 0;
}
