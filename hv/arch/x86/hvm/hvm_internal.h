/* Shared between the files of the HVM core; not an interface. */
#ifndef HVM_INTERNAL_H
#define HVM_INTERNAL_H
#include <asm/hvm.h>

struct vcpu;
const struct hvm_backend *svm_probe(void);
/* keel/domctl.h (which needs __XEN_TOOLS__ before any Xen header). */
void createdomain_set_hvm_caps(bool hvm, bool hap);

#define HVM_EXIT_HANDLER(name) \
    void name(struct vcpu *v, struct regs *r, const struct hvm_exit *x)
HVM_EXIT_HANDLER(hvm_exit_none);
HVM_EXIT_HANDLER(hvm_exit_cpuid);
HVM_EXIT_HANDLER(hvm_exit_msr_read);
HVM_EXIT_HANDLER(hvm_exit_msr_write);
HVM_EXIT_HANDLER(hvm_exit_io);
HVM_EXIT_HANDLER(hvm_exit_hlt);
HVM_EXIT_HANDLER(hvm_exit_hypercall);
HVM_EXIT_HANDLER(hvm_exit_npf);
HVM_EXIT_HANDLER(hvm_exit_shutdown);
HVM_EXIT_HANDLER(hvm_exit_ud);
HVM_EXIT_HANDLER(hvm_exit_gp);
HVM_EXIT_HANDLER(hvm_exit_invalid);
HVM_EXIT_HANDLER(hvm_exit_unhandled);

/* Past the instruction that exited (len: its length when the CPU did not
 * say). */
void hvm_skip(struct regs *r, const struct hvm_exit *x, unsigned int len);
/* The hypercall page for a guest that wrote Xen's MSR (hypercall.c). */
int hvm_write_hypercall_page(struct vcpu *v, u64 val);
/* Guest memory for the given vCPU (guest_mem.c). */
int hvm_copy_from_vcpu_virt(struct vcpu *v, void *dst, unsigned long gva, size_t n,
                            u32 access);
#endif
