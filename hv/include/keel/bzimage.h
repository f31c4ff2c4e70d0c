/*
 * Linux bzImage unwrapping (core, host-testable): what GRUB's `module2
 * /boot/vmlinuz-...` hands Keel is a bzImage -- real-mode setup code, then a
 * self-decompressing stub whose compressed payload is the kernel ELF.  Keel,
 * like Xen, skips the stub: it finds the payload through the setup header
 * and decompresses it itself.
 *
 *   struct bzimage_info bi;
 *   if (bzimage_probe(img, size, &bi)) fail(bi.why);
 *   ... allocate bi.out_size bytes ...
 *   if (bzimage_unpack(img, size, &bi, out, cap)) fail(bi.why);
 *   ... out[0 .. bi.out_size) is the ELF ...
 */
#ifndef KEEL_BZIMAGE_H
#define KEEL_BZIMAGE_H

#include <keel/types.h>

/* Refuse anything larger: a vmlinux is ~60 MiB. */
#define BZIMAGE_MAX_OUT (256UL << 20)

struct bzimage_info {
    u16 version;          /* boot protocol version */
    size_t payload_off;   /* payload position in the image */
    size_t payload_len;   /* the compressed stream only (size trailer dropped) */
    const char *comp;     /* compression name: "xz", "gzip", ... */
    u64 out_size;         /* decompressed size, exact */
    char why[96];         /* reason for the last failure */
};

/* True when the image carries a Linux setup header ("HdrS" at 0x202). */
bool bzimage_is_bzimage(const void *img, size_t size);

/* Locates and identifies the payload and learns its decompressed size.
 * Returns 0, or -1 with bi->why set. */
int bzimage_probe(const void *img, size_t size, struct bzimage_info *bi);

/* Decompresses the probed payload into out (cap bytes, at least
 * bi->out_size).  Returns 0, or -1 with bi->why set. */
int bzimage_unpack(const void *img, size_t size, struct bzimage_info *bi, void *out, size_t cap);

#endif
