/*
 * XZ decompression (core, host-testable): the .xz container with CRC32,
 * CRC64 or no integrity check, LZMA2, and the x86 BCJ filter -- what Linux
 * kernels are compressed with.
 *
 * Input is hostile: every byte read is bounds-checked, every size is checked
 * against the output buffer, and malformed input ends in an error with a
 * reason, never in a read or write outside the buffers.
 *
 *   u64 n;
 *   const char *why;
 *   if (xz_decoded_size(in, len, &n, &why)) fail(why);
 *   ... allocate n bytes ...
 *   struct xz_status st;
 *   if (xz_decode(in, len, out, n, &st)) fail(st.why);
 */
#ifndef KEEL_XZ_H
#define KEEL_XZ_H

#include <keel/types.h>

#define XZ_CHECK_NONE 0
#define XZ_CHECK_CRC32 1
#define XZ_CHECK_CRC64 4
#define XZ_CHECK_SHA256 10

struct xz_status {
    size_t out_len;   /* bytes written to the output */
    size_t in_used;   /* bytes of input consumed (streams + padding) */
    unsigned check;   /* check type of the last stream decoded */
    unsigned blocks;  /* blocks decoded, over all streams */
    const char *why;  /* set when decoding fails */
};

/*
 * Decodes the whole of `in` -- one or more .xz streams, with stream padding
 * between them -- into `out`, writing at most `out_cap` bytes.  Returns 0, or
 * -1 with st->why set (the output then holds garbage).
 */
int xz_decode(const void *in, size_t in_len, void *out, size_t out_cap, struct xz_status *st);

/*
 * The uncompressed size of the single stream that `in` holds, read from the
 * stream's index (found through its footer, so no data is decoded).
 * Returns 0, or -1 with *why set.
 */
int xz_decoded_size(const void *in, size_t in_len, u64 *size, const char **why);

/* True when `in` starts with the .xz stream magic. */
bool xz_is_xz(const void *in, size_t in_len);

/* The checks, exposed for the tests and for other users of CRC32. */
u32 xz_crc32(u32 crc, const void *buf, size_t len);
u64 xz_crc64(u64 crc, const void *buf, size_t len);

#endif
