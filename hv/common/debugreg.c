/* Debug-register rules for PV guests (see keel/debugreg.h). */
#include <keel/debugreg.h>
#include <xen/errno.h>

#define DR6_KEPT 0x0000e00fUL      /* B0-B3, BD, BS, BT: the guest's to set */
#define DR7_MUST_BE_ZERO 0xd800UL  /* bits 11, 12, 14, 15 */
#define DR7_GENERAL_DETECT (1UL << 13)
#define DR7_ENABLES 0xffUL         /* L0-L3, G0-G3 */
#define DR7_RW_IO 2UL              /* R/W field: an I/O breakpoint */

/* The PV ABI gives the hypervisor [0xffff800000000000, 0xffff880000000000);
 * the rest of the canonical address space is the guest's. */
static bool guest_address(unsigned long a)
{
    return a < 0x0000800000000000UL || a >= 0xffff880000000000UL;
}

static int check_dr7(unsigned long *val)
{
    unsigned long v = *val;

    if (v >> 32)
        return -XEN_EINVAL;
    v = (v & ~DR7_MUST_BE_ZERO) | DR7_DEFAULT;
    if (v & DR7_GENERAL_DETECT)
        return -XEN_EPERM;
    /* I/O breakpoints need CR4.DE, which a PV guest never has: with any
     * breakpoint enabled, Xen refuses an I/O kind in any of the four. */
    if (v & DR7_ENABLES)
        for (unsigned int i = 0; i < 4; i++)
            if (((v >> (16 + 4 * i)) & 3) == DR7_RW_IO)
                return -XEN_EPERM;
    *val = v;
    return 0;
}

int debugreg_check(unsigned int *reg, unsigned long *val)
{
    switch (*reg) {
    case 0: case 1: case 2: case 3:
        return guest_address(*val) ? 0 : -XEN_EPERM;
    case 4: case 6:
        if (*val >> 32)
            return -XEN_EINVAL;
        *reg = 6;
        *val = (*val & DR6_KEPT) | DR6_DEFAULT;
        return 0;
    case 5: case 7: {
        int rc = check_dr7(val);
        if (!rc)
            *reg = 7;
        return rc;
    }
    default:
        return -XEN_ENODEV;
    }
}
