/*
 * The x86 part of domains and vCPUs: what a 64-bit PV vCPU carries besides
 * its registers — the guest's two page-table roots, trap table, callbacks,
 * segment bases and FPU state.  Guest kernel and guest user both run in
 * ring 3; `kernel_mode` is what tells them apart.
 */
#ifndef ASM_DOMAIN_H
#define ASM_DOMAIN_H
#include <asm/pv_desc.h>
#include <asm/regs.h>
#include <keel/frametable.h>
#include <keel/spinlock.h>
#include <keel/types.h>
#include <xen/xen.h>
#include <xen/callback.h>

/* The assists a 64-bit PV guest may name (as Xen accepts them). */
#define ARCH_VM_ASSISTS                                                                \
    ((1UL << VMASST_TYPE_4gb_segments) | (1UL << VMASST_TYPE_4gb_segments_notify) |  \
     (1UL << VMASST_TYPE_writable_pagetables) | (1UL << VMASST_TYPE_pae_extended_cr3) | \
     (1UL << VMASST_TYPE_architectural_iopl) | (1UL << VMASST_TYPE_runstate_update_flag) | \
     (1UL << VMASST_TYPE_m2p_strict))

/* A guest's registered handler: where to go, and whether to mask events. */
struct pv_callback {
    unsigned long eip;
    bool mask_events;
};

/* trap_info flags: DPL in bits 0-1, "interrupt gate" (mask events) bit 2. */
struct pv_trap {
    unsigned long address; /* 0: not set, the guest gets crashed */
    u8 dpl;
    bool mask_events;
};

struct fpu_area {
    u8 fxsave[512];
} __aligned(16);

struct hvm_vcpu;
struct hvm_domain;

struct arch_vcpu {
    struct regs user_regs;    /* saved when the vCPU is not on a CPU */
    struct hvm_vcpu *hvm;     /* HVM vCPUs only (asm/hvm.h) */
    bool kernel_mode;         /* guest kernel (true) or guest user */
    mfn_t guest_table;        /* kernel L4 (MMUEXT_NEW_BASEPTR) */
    mfn_t guest_table_user;   /* user L4 (0: none) */
    /* A page-table release that stopped part-way (unpin, a new root, an
     * entry overwritten): mmu_update and mmuext_op finish it first. */
    struct page_put_later old_table;
    unsigned long kernel_ss, kernel_sp; /* stack_switch */
    unsigned long ldt_base;   /* MMUEXT_SET_LDT: guest linear address */
    unsigned int ldt_ents;    /* 0: no LDT */
    struct pv_desc desc;      /* GDT/LDT frames in use, saved selectors */
    unsigned long fs_base, gs_base_kernel, gs_base_user;
    struct pv_trap traps[256];
    struct pv_callback event_cb, failsafe_cb, syscall_cb, syscall32_cb,
        sysenter_cb, nmi_cb;
    unsigned long vcr0_ts;    /* virtual CR0.TS from fpu_taskswitch */
    unsigned long vcr2;       /* last #PF address bounced */
    unsigned int iopl;        /* virtual IOPL from PHYSDEVOP_set_iopl */
    unsigned long iobmp;      /* PHYSDEVOP_set_iobitmap: guest-kernel address */
    unsigned int iobmp_limit; /* ... and how many ports it covers */
    unsigned long debugreg[8];
    bool fpu_initialised;
    struct fpu_area fpu;
};

/*
 * The x86 part of a domain: what the toolstack set for it.
 *  - e820/nr_e820: XENMEM_set_memory_map's pseudo-physical map, answered by
 *    XENMEM_memory_map (none: -ENOSYS, as Xen);
 *  - cpuid: the CPUID policy from set_cpu_policy (NULL: Keel's default);
 *  - tsc_mode: settscinfo (stored; Keel always runs the native TSC);
 *  - cmos_idx: the RTC index (port 0x70) the domain last wrote: the real
 *    latch is shared with Keel, so each domain gets its own copy.
 */
struct cpu_policy;
struct arch_domain {
    void *e820;
    unsigned int nr_e820;
    spinlock_t e820_lock;
    struct cpu_policy *cpuid;
    u32 tsc_mode;
    u8 cmos_idx;
    struct hvm_domain *hvm;   /* HVM domains only (asm/hvm.h) */
};

#define is_hvm_domain(d) ((d)->arch.hvm != NULL)
#define is_hvm_vcpu(v) is_hvm_domain((v)->domain)

#endif
