/*
 * xenctl_bitmap copies shared by domctl and sysctl (CPU and node maps):
 * the byte conversions are host-built in domctl_worker.c; this is only the
 * guest-memory half.
 */
#define __XEN_TOOLS__ 1
#include <asm/smp.h>
#include <keel/domctl.h>
#include <keel/guest_access.h>
#include <xen/domctl.h>
#include <xen/errno.h>

long xenctl_bitmap_read(const struct xenctl_bitmap *b, unsigned int nbits, u64 *mask)
{
    u8 bytes[8] = {0};
    u32 len = ctlbitmap_read_len(b->nr_bits, nbits);

    if (len && copy_from_guest(bytes, (unsigned long)b->bitmap.p, len))
        return -XEN_EFAULT;
    *mask = ctlbytes_to_mask(bytes, len, b->nr_bits, nbits);
    return 0;
}

long xenctl_bitmap_write(const struct xenctl_bitmap *b, u64 mask, unsigned int nbits)
{
    static const u8 zeros[64];
    u8 bytes[8];
    unsigned long gva = (unsigned long)b->bitmap.p;
    u32 total = ctlbitmap_bytes(b->nr_bits);
    u32 n = mask_to_ctlbytes(mask, nbits, b->nr_bits, bytes);

    if (n && copy_to_guest(gva, bytes, n))
        return -XEN_EFAULT;
    for (u32 done = n; done < total;) {
        u32 chunk = MIN(total - done, (u32)sizeof(zeros));
        if (copy_to_guest(gva + done, zeros, chunk))
            return -XEN_EFAULT;
        done += chunk;
    }
    return 0;
}

unsigned int ctl_cpu_bits(void)
{
    return 64 - (unsigned int)__builtin_clzll(__atomic_load_n(&cpu_online_mask,
                                                              __ATOMIC_ACQUIRE));
}
