/*
 * gzip / DEFLATE decompression (core, host-testable), for kernels whose
 * bzImage payload is gzip.  Same contract as xz.h: output into a
 * caller-supplied buffer with a hard limit, hostile input bounds-checked,
 * errors with a reason.
 */
#ifndef KEEL_INFLATE_H
#define KEEL_INFLATE_H

#include <keel/types.h>

/*
 * Decodes one gzip member occupying all of `in` into out (at most cap
 * bytes), verifying the trailer's CRC32 and size.  Returns 0 with *out_len
 * set, or -1 with *why set.
 */
int gzip_decode(const void *in, size_t in_len, void *out, size_t cap, size_t *out_len,
                const char **why);

/* Raw DEFLATE data (RFC 1951) from in[*pin]; *pin ends past the last block. */
int inflate_raw(const void *in, size_t in_len, size_t *pin, void *out, size_t cap,
                size_t *out_len, const char **why);

#endif
