/*
 * The one audited path to guest memory.  Guest pointers are virtual
 * addresses in the current vCPU's address space.  A range that touches
 * Keel's part of the address space, wraps, or is not canonical is refused
 * before any access; an access that faults is caught and reported.  Both
 * return 0 or -XEN_EFAULT, and never crash Keel.
 */
#ifndef KEEL_GUEST_ACCESS_H
#define KEEL_GUEST_ACCESS_H
#include <keel/types.h>
#include <asm/layout.h>

/* A PV guest's part of the address space: the lower half, and the upper
 * half above Keel's reserved slots.  Core logic (host-built callers). */
static inline bool guest_range_ok(unsigned long gva, size_t n)
{
    unsigned long end = gva + n; /* exclusive */

    if (n == 0)
        return true;
    if (end < gva)
        return false; /* wraps */
    return end <= 0x0000800000000000UL || gva >= HV_VIRT_END;
}

int copy_from_guest(void *dst, unsigned long gva, size_t n);
int copy_to_guest(unsigned long gva, const void *src, size_t n);

#define copy_from_guest_obj(dst, gva) copy_from_guest((dst), (gva), sizeof(*(dst)))
#define copy_to_guest_obj(gva, src) copy_to_guest((gva), (src), sizeof(*(src)))
#endif
