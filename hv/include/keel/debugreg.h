/*
 * The rules for a PV guest's debug registers (set_debugreg, and the
 * debugreg[] of VCPUOP_initialise): one check for every path, Xen's.
 * Core logic (host-built).
 */
#ifndef KEEL_DEBUGREG_H
#define KEEL_DEBUGREG_H
#include <keel/types.h>

#define DR6_DEFAULT 0xffff0ff0UL /* nothing recorded */
#define DR7_DEFAULT 0x00000400UL /* nothing enabled */

/*
 * May register *reg (0-7; 4 and 5 are 6 and 7, as without CR4.DE) hold
 * *val?  0 with both normalised (reserved bits forced, the alias
 * resolved), or -XEN_EPERM (a breakpoint address in the hypervisor's part
 * of the address space or not canonical, general detect, an I/O
 * breakpoint), -XEN_EINVAL (DR6/DR7 upper half), -XEN_ENODEV (no such
 * register).  Nothing is changed on refusal.
 */
int debugreg_check(unsigned int *reg, unsigned long *val);
#endif
