#include <asm/layout.h>
#include <asm/uaccess.h>
#include <keel/guest_access.h>
#include <xen/errno.h>

/* The lower half, and the upper half outside Keel's reserved slots. */
bool guest_range_ok(unsigned long gva, size_t n)
{
    unsigned long end = gva + n; /* exclusive */

    if (n == 0)
        return true;
    if (end < gva)
        return false; /* wraps */
    return end <= 0x0000800000000000UL || gva >= HV_VIRT_END;
}

int copy_from_guest(void *dst, unsigned long gva, size_t n)
{
    if (!guest_range_ok(gva, n))
        return -XEN_EFAULT;
    return copy_from_user_safe(dst, (const void *)gva, n) ? -XEN_EFAULT : 0;
}

int copy_to_guest(unsigned long gva, const void *src, size_t n)
{
    if (!guest_range_ok(gva, n))
        return -XEN_EFAULT;
    return copy_to_user_safe((void *)gva, src, n) ? -XEN_EFAULT : 0;
}
