/*
 * dom0's kernel as boot loaders give it: GRUB's Xen entries pass the
 * distribution's /boot/vmlinuz, a bzImage, not the ELF the builder parses.
 * Unwrap it into heap pages that live only until the kernel is loaded.
 */
#include <keel/bzimage.h>
#include <keel/console.h>
#include <keel/dom0.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>

static unsigned int order_for(u64 bytes)
{
    unsigned int order = 0;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

int dom0_unpack_kernel(const void **img, size_t *size, struct dom0_unpacked *u)
{
    static struct bzimage_info bi;
    unsigned int order;
    struct page_info *pg;
    void *out;

    *u = (struct dom0_unpacked){0};
    if (!bzimage_is_bzimage(*img, *size))
        return 0;
    if (bzimage_probe(*img, *size, &bi)) {
        printk(KLOG_ERR "dom0: kernel rejected: %s\n", bi.why);
        return -1;
    }
    order = order_for(bi.out_size);
    if (order > MAX_ORDER || !(pg = alloc_pages(order))) {
        printk(KLOG_ERR "dom0: no room to decompress the kernel (%llu MiB)\n",
               (unsigned long long)(bi.out_size >> 20));
        return -1;
    }
    out = mfn_to_virt(page_to_mfn(pg));
    if (bzimage_unpack(*img, *size, &bi, out, PAGE_SIZE << order)) {
        printk(KLOG_ERR "dom0: kernel rejected: %s\n", bi.why);
        free_pages(pg, order);
        return -1;
    }
    printk("dom0: bzImage (boot protocol %u.%02u), %s payload %lu KiB -> ELF %lu KiB\n",
           bi.version >> 8, bi.version & 0xff, bi.comp, (unsigned long)(bi.payload_len >> 10),
           (unsigned long)(bi.out_size >> 10));
    u->pg = pg;
    u->order = order;
    *img = out;
    *size = bi.out_size;
    return 0;
}

void dom0_unpack_release(struct dom0_unpacked *u)
{
    if (u->pg)
        free_pages(u->pg, u->order);
    u->pg = NULL;
}
