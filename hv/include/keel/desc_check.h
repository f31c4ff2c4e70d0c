/*
 * The rules for segment descriptors a PV guest supplies (GDT and LDT pages,
 * update_descriptor).  A 64-bit PV guest runs in ring 3, so no descriptor
 * it controls may give it more: code and data segments get DPL 3, call
 * gates may only lead to the guest's own selectors (and are made DPL 0, so
 * that using one traps to the hypervisor), other system descriptors (TSS,
 * LDT, interrupt/trap gates) are refused.  Not-present descriptors and the
 * type-0 second half of a 16-byte gate are harmless and kept.
 *
 * Core logic only: it compiles on the host for unit tests.
 */
#ifndef KEEL_DESC_CHECK_H
#define KEEL_DESC_CHECK_H
#include <keel/types.h>

#define DESC_P (1UL << 47)
#define DESC_S (1UL << 44) /* code/data (1) or system (0) */
#define DESC_DPL_SHIFT 45
#define DESC_DPL_MASK (3UL << DESC_DPL_SHIFT)
#define DESC_TYPE(d) (((d) >> 40) & 0xf)
#define DESC_TYPE_CALL_GATE 0xc

/* Check *d and rewrite it into the form the CPU may use; false: refused
 * (*d unchanged). */
bool desc_fixup(u64 *d);
/* Every entry of a 512-entry page, fixed in place; 0 or -XEN_EINVAL (the
 * entries before the bad one may have been fixed already). */
int desc_page_check(u64 *page);
#endif
