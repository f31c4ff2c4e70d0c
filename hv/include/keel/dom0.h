#ifndef KEEL_DOM0_H
#define KEEL_DOM0_H
#include <keel/bootinfo.h>
#include <keel/types.h>

/* XENFEAT_* bits Keel offers PV guests (submap 0). */
extern const u32 pv_offered_features;
/* Builds and wakes dom0 from boot module 0 (kernel) and 1 (initrd);
 * 0, or -1 after printing why. */
int dom0_build(const struct boot_info *bi);

/* A kernel decompressed from a bzImage, held until it is loaded. */
struct page_info;
struct dom0_unpacked {
    struct page_info *pg;
    unsigned int order;
};
/* If *img is a bzImage, replaces (*img, *size) with its decompressed ELF;
 * other images pass through.  0, or -1 after printing why. */
int dom0_unpack_kernel(const void **img, size_t *size, struct dom0_unpacked *u);
/* Frees what dom0_unpack_kernel allocated (nothing if it allocated nothing). */
void dom0_unpack_release(struct dom0_unpacked *u);
#endif
