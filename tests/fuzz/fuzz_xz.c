/*
 * libFuzzer target for the XZ decoder: any input must decode or be refused
 * with a reason, never touch memory outside the buffers (ASan), and never
 * claim more output than the buffer holds.  The output buffer is small so
 * the limit paths run too; seeds made with xz(1) help it reach LZMA2.
 */
#include <keel/xz.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static u8 out[1 << 16];
    struct xz_status st;
    const char *why = NULL;
    u64 n;
    /* The first byte picks the output limit. */
    size_t cap = size ? (size_t)data[0] << 8 : 0;

    if (xz_decode(data + (size > 0), size - (size > 0), out, cap, &st)) {
        if (!st.why)
            abort();
    } else if (st.out_len > cap) {
        abort();
    }
    if (xz_decoded_size(data, size, &n, &why) && !why)
        abort();
    return 0;
}
