/*
 * Segment descriptor rules for PV guests (see keel/desc_check.h).  Facts
 * checked on Xen 4.17 (tests/guests/gdt): a DPL-0 code or data segment is
 * accepted with its DPL raised to 3; a call gate to a selector below the
 * reserved area (even the null one), to an LDT selector or to
 * FLAT_KERNEL_CS is accepted with DPL 0; a gate to another reserved
 * selector, a TSS or an LDT descriptor is refused.
 */
#include <keel/desc_check.h>
#include <xen/xen.h>
#include <xen/errno.h>

#define GATE_SEL_SHIFT 16
#define GATE_IST_BITS (0xffUL << 32) /* IST and reserved: 0 in a call gate */

static bool gate_target_ok(u16 sel)
{
    if (sel & 4)
        return true; /* the guest's LDT */
    if ((sel >> 3) < FIRST_RESERVED_GDT_ENTRY)
        return true; /* the guest's GDT */
    return sel == FLAT_KERNEL_CS;
}

bool desc_fixup(u64 *d)
{
    u64 v = *d;
    u16 sel;

    if (!(v & DESC_P))
        return true; /* any load of it faults */
    if (v & DESC_S) {
        *d = v | DESC_DPL_MASK;
        return true;
    }
    if (DESC_TYPE(v) == 0)
        return true; /* upper half of a 16-byte gate: unusable on its own */
    if (DESC_TYPE(v) != DESC_TYPE_CALL_GATE || (v & GATE_IST_BITS))
        return false;
    sel = (u16)(v >> GATE_SEL_SHIFT);
    if (!gate_target_ok(sel))
        return false;
    /* DPL 0: ring 3 cannot pass through it; the hypervisor may emulate. */
    sel |= 3;
    v = (v & ~DESC_DPL_MASK & ~(0xffffUL << GATE_SEL_SHIFT)) | ((u64)sel << GATE_SEL_SHIFT);
    *d = v;
    return true;
}

int desc_page_check(u64 *page)
{
    for (unsigned int i = 0; i < 512; i++) {
        u64 d = READ_ONCE(page[i]), fixed = d;

        if (!desc_fixup(&fixed))
            return -XEN_EINVAL;
        if (fixed != d)
            WRITE_ONCE(page[i], fixed);
    }
    return 0;
}
