/*
 * The HVM context records the toolstack moves with domctl
 * get/sethvmcontext (Xen's save format: a descriptor {typecode, instance,
 * length} before each record, HEADER first, END last).  Keel reads the
 * HEADER, a CPU and an MTRR record per vCPU (libxenguest's PVH builder
 * reads the MTRR one back and sets it with the PAT and default type it
 * wants), checking every field the way Xen's loader does; LAPIC,
 * LAPIC_REGS and the other per-vCPU records a toolstack may send are
 * checked for shape and otherwise ignored.  It writes HEADER, CPU and MTRR
 * per vCPU, and END.
 *
 * Core logic only: builds on the host for unit tests and the fuzzer.
 */
#ifndef KEEL_HVM_CONTEXT_H
#define KEEL_HVM_CONTEXT_H
#include <asm/hvm.h>
#include <keel/types.h>

#define HVMCTX_MAX_VCPUS 128

struct hvmctx_vcpu {
    bool present;                /* a CPU record named it */
    struct hvm_cpu_state st;
    u64 gpr[16];                 /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
    u8 fpu[512];                 /* FXSAVE image */
    bool fpu_initialised;
    bool mtrr_present;           /* an MTRR record named it */
    u64 pat;                     /* from the MTRR record (msr_pat_cr) */
    u64 mtrr_def_type;
};

/*
 * Check and decode a context for a domain of nr_vcpus vCPUs into out[0..
 * nr_vcpus): 0, or -XEN_EINVAL (bad header, unknown or malformed record,
 * a vCPU that does not exist, a control-register or EFER value a CPU would
 * refuse), with *why naming the problem.
 */
int hvmctx_parse(const u8 *buf, size_t len, unsigned int nr_vcpus, struct hvmctx_vcpu *out,
                 const char **why);
/* Bytes hvmctx_build needs. */
size_t hvmctx_size(unsigned int nr_vcpus);
/* The context of nr_vcpus vCPUs into buf (room for hvmctx_size bytes). */
size_t hvmctx_build(u8 *buf, unsigned int nr_vcpus, const struct hvmctx_vcpu *in,
                    u32 host_cpuid1_eax, u32 tsc_khz);
#endif
