/*
 * The rules for a 64-bit PV vCPU's register state as a guest or the
 * toolstack hands it over (VCPUOP_initialise, XEN_DOMCTL_setvcpucontext):
 * everything that needs no domain state.  Core logic (host-built, unit
 * tested and fuzzed); the page-table roots and descriptor frames named in
 * the context are checked by the caller, which holds the references.
 */
#ifndef KEEL_PV_CTX_H
#define KEEL_PV_CTX_H
#include <keel/types.h>
#include <xen/xen.h>

/*
 * 0, or Xen's -XEN_EINVAL: not in kernel mode, a non-canonical or
 * hypervisor stack, segment base, LDT base or trap handler, an LDT base
 * not page aligned or an LDT/GDT too big, entry points outside the guest.
 * `sets_assists`: this context also sets the domain's VM assists (vCPU 0),
 * which must be ones a 64-bit PV guest may name.
 */
long pv_ctx_check(const struct vcpu_guest_context *c, bool sets_assists);

/* The debug registers the new vCPU gets: reset values, then each one of
 * `in` that set_debugreg would accept (Xen drops the rest silently). */
void pv_ctx_debugregs(unsigned long out[8], const unsigned long in[8]);
#endif
