#include <asm/hvm.h>
#include <asm/layout.h>
#include <asm/page.h>
#include <asm/uaccess.h>
#include <keel/guest_access.h>
#include <keel/sched.h>
#include <xen/errno.h>

/* Guest pages are user pages: with SMAP, Keel may touch them only inside
 * an stac/clac window, which covers exactly the copy. */
static inline void user_access_begin(void)
{
    if (smap_enabled)
        __asm__ __volatile__("stac" ::: "memory");
}

static inline void user_access_end(void)
{
    if (smap_enabled)
        __asm__ __volatile__("clac" ::: "memory");
}

int copy_from_guest(void *dst, unsigned long gva, size_t n)
{
    size_t left;

    /* An HVM guest's addresses mean nothing in Keel's own tables. */
    if (is_hvm_vcpu(current))
        return hvm_copy_from_guest_virt(dst, gva, n);
    if (!guest_range_ok(gva, n))
        return -XEN_EFAULT;
    user_access_begin();
    left = copy_from_user_safe(dst, (const void *)gva, n);
    user_access_end();
    return left ? -XEN_EFAULT : 0;
}

int copy_to_guest(unsigned long gva, const void *src, size_t n)
{
    size_t left;

    if (is_hvm_vcpu(current))
        return hvm_copy_to_guest_virt(gva, src, n);
    if (!guest_range_ok(gva, n))
        return -XEN_EFAULT;
    user_access_begin();
    left = copy_to_user_safe((void *)gva, src, n);
    user_access_end();
    return left ? -XEN_EFAULT : 0;
}
