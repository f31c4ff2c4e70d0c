/* The x86 part of vcpu_op (hv/arch/x86/pv/vcpu_state.c). */
#ifndef ASM_PV_VCPU_H
#define ASM_PV_VCPU_H
#include <keel/domain.h>

/* Write v's registered runstate area, if any, from v->runstate. */
void pv_write_runstate(struct vcpu *v);
/* context_switch, once v's state is loaded on this CPU. */
void pv_vcpu_switched_in(struct vcpu *v);
/* VCPUOP_initialise: 0, or -XEN_EINVAL with v unchanged, or
 * -KEEL_ERESTART (a root's validation stopped: call again). */
long pv_vcpu_initialise(struct vcpu *v, const struct vcpu_guest_context *c);
/* XEN_DOMCTL_setvcpucontext (v paused, off its CPU): initialise (also
 * -KEEL_ERESTART), or on an initialised vCPU new registers with the same
 * tables (else -XEN_EOPNOTSUPP).  The caller applies VGCF_online. */
long pv_vcpu_set_context(struct vcpu *v, const struct vcpu_guest_context *c);
/* XEN_DOMCTL_getvcpucontext (v paused, off its CPU). */
void pv_vcpu_get_context(struct vcpu *v, struct vcpu_guest_context *c);
/* MMUEXT_SET_LDT for v (pv/descriptor.c). */
long pv_vcpu_set_ldt(struct vcpu *v, unsigned long base, unsigned int ents);
/* Give v a GDT of `entries` descriptors in machine frames (set_gdt;
 * pv/descriptor.c): 0 or -XEN_EINVAL with v's old GDT kept. */
long pv_vcpu_set_gdt(struct vcpu *v, const unsigned long *frames, unsigned int entries);
#endif
