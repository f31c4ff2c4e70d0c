#ifndef KEEL_DOM0_H
#define KEEL_DOM0_H
#include <keel/bootinfo.h>
#include <keel/types.h>

/* XENFEAT_* bits Keel offers PV guests (submap 0). */
extern const u32 pv_offered_features;
/* Builds and wakes dom0 from boot module 0 (kernel) and 1 (initrd);
 * 0, or -1 after printing why. */
int dom0_build(const struct boot_info *bi);
#endif
