/*
 * Hardware-assisted (HVM/PVH) guests: the vendor-neutral core.
 *
 * A vCPU of an HVM domain runs in the CPU's guest mode.  Its general
 * registers live in the usual guest frame at the top of the stack
 * (guest_regs(), so hypercall code reads arguments the same way for PV
 * and HVM); rsp, rip and rflags are mirrored there from the vendor's
 * control block around every exit.  Everything else is the backend's.
 *
 * The run loop (hvm.c) is: softirqs (may switch vCPUs) -> pending events
 * and interrupts -> backend enter -> exit decoded by the backend into a
 * struct hvm_exit -> handled here by reason -> again.  A backend (SVM
 * today, VMX later) fills a struct hvm_backend; nothing outside
 * hv/arch/x86/hvm/<vendor>.c knows its control-block layout.
 */
#ifndef ASM_HVM_H
#define ASM_HVM_H
#include <asm/regs.h>
#include <keel/p2m.h>
#include <keel/spinlock.h>
#include <keel/timer.h>
#include <keel/types.h>
#include <keel/vlapic.h>

struct vcpu;
struct domain;

/* Why the guest stopped, vendor-neutral. */
enum hvm_exit_reason {
    HVM_EXIT_NONE,       /* nothing to do (e.g. a physical interrupt) */
    HVM_EXIT_CPUID,
    HVM_EXIT_MSR_READ,
    HVM_EXIT_MSR_WRITE,
    HVM_EXIT_IO,         /* info1: port, info2: size | IN flag | string/rep flags */
    HVM_EXIT_HLT,
    HVM_EXIT_HYPERCALL,  /* VMMCALL / VMCALL */
    HVM_EXIT_NPF,        /* info1: error code bits, info2: guest physical address */
    HVM_EXIT_SHUTDOWN,   /* triple fault */
    HVM_EXIT_INTR_WINDOW,/* the guest can take an interrupt now */
    HVM_EXIT_UD,         /* an instruction Keel refuses: give the guest #UD */
    HVM_EXIT_GP,         /* ... #GP(0) */
    HVM_EXIT_INVALID,    /* the backend refused the state (crash the guest) */
    HVM_EXIT_UNHANDLED,  /* anything else: crash, with the raw code logged */
    HVM_EXIT_NR
};

#define HVM_IO_IN 0x100
#define HVM_IO_STRING 0x200
#define HVM_IO_REP 0x400
#define HVM_NPF_WRITE 0x2
#define HVM_NPF_FETCH 0x10
#define HVM_NPF_PRESENT 0x1

struct hvm_exit {
    enum hvm_exit_reason reason;
    u64 raw;             /* the backend's own exit code (for messages) */
    u64 info1, info2;
    u64 next_rip;        /* rip after the instruction, when the CPU told us */
};

/* A segment register in the CPU's hidden form (attributes as in a
 * descriptor: type/S/DPL/P in bits 0-7, AVL/L/DB/G in bits 8-11). */
struct hvm_seg {
    u16 sel;
    u16 attr;
    u32 limit;
    u64 base;
};

enum { HVM_SEG_ES, HVM_SEG_CS, HVM_SEG_SS, HVM_SEG_DS, HVM_SEG_FS, HVM_SEG_GS,
       HVM_SEG_GDTR, HVM_SEG_LDTR, HVM_SEG_IDTR, HVM_SEG_TR, HVM_SEG_NR };

/* The architectural state a toolstack or an INIT/SIPI sets. */
struct hvm_cpu_state {
    u64 rip, rsp, rflags, rax;
    u64 cr0, cr2, cr3, cr4, efer;
    u64 dr6, dr7;
    u64 star, lstar, cstar, sfmask, kernel_gs_base;
    u64 sysenter_cs, sysenter_esp, sysenter_eip;
    u64 pat;
    struct hvm_seg seg[HVM_SEG_NR];
};

struct hvm_backend {
    const char *name;
    bool has_hap;
    int (*cpu_up)(unsigned int cpu);          /* enable on this CPU */
    int (*vcpu_init)(struct vcpu *v);
    void (*vcpu_destroy)(struct vcpu *v);
    void (*set_state)(struct vcpu *v, const struct hvm_cpu_state *s);
    void (*get_state)(struct vcpu *v, struct hvm_cpu_state *s);
    /* The MSRs the guest writes through Keel (checked by the caller). */
    void (*set_efer)(struct vcpu *v, u64 efer);
    void (*set_pat)(struct vcpu *v, u64 pat);
    /* Run v until an exit; fills *x.  Interrupts off on entry and return. */
    void (*enter)(struct vcpu *v, struct regs *r, struct hvm_exit *x);
    /* Deliver at the next entry: an exception (with error code when
     * has_ec) or an external interrupt vector. */
    void (*inject_exception)(struct vcpu *v, u8 vector, bool has_ec, u32 ec);
    void (*inject_interrupt)(struct vcpu *v, u8 vector);
    /* Whether an interrupt can be delivered now; if not, ask for an
     * HVM_EXIT_INTR_WINDOW exit when it can. */
    bool (*interruptible)(struct vcpu *v, bool request_window);
    bool (*event_pending)(struct vcpu *v);     /* an injection is queued */
    /* NMIs: one in service (until the guest's IRET) or an injection
     * queued holds the next back; inject_nmi delivers vector 2. */
    bool (*nmi_blocked)(struct vcpu *v);
    void (*inject_nmi)(struct vcpu *v);
    u32 (*cpl)(struct vcpu *v);
    bool (*long_mode)(struct vcpu *v);         /* 64-bit code (EFER.LMA and CS.L) */
    void (*paging_regs)(struct vcpu *v, u64 *cr0, u64 *cr3, u64 *cr4, u64 *efer);
    void (*flush_guest_tlb)(struct vcpu *v);   /* at the next entry */
};

extern const struct hvm_backend *hvm_backend; /* NULL: no HVM on this machine */

static inline bool hvm_available(void) { return hvm_backend != NULL; }
static inline bool hap_available(void) { return hvm_backend && hvm_backend->has_hap; }

#define HVM_NR_PARAMS 40

/* Per-domain state of an HVM domain. */
struct hvm_domain {
    struct p2m p2m;
    u64 params[HVM_NR_PARAMS];
    u8 callback_vector;           /* HVM_PARAM_CALLBACK_IRQ of type vector, 0: none */
    u64 p2m_drain_cursor;         /* teardown progress */
};

/* Per-vCPU state. */
struct hvm_vcpu {
    void *vendor;                 /* the backend's control block and friends */
    bool initialised;             /* has state (sethvmcontext or VCPUOP_initialise) */
    u64 xcr0;
    u64 tsc_aux;
    u8 upcall_vector;             /* HVMOP_set_evtchn_upcall_vector, 0: none */
    /* The local APIC (vlapic_glue.c); the lock guards it against IPIs
     * from other vCPUs and the timer callback. */
    spinlock_t vlapic_lock;
    struct vlapic vlapic;
    struct timer vlapic_timer;
    bool wait_for_sipi;           /* INIT received: only a STARTUP wakes it */
    bool init_pending;            /* INIT sent while it ran: taken by itself */
    bool nmi_pending;             /* an NMI IPI waits for injection */
    u64 mtrr_def_type;            /* from sethvmcontext's MTRR record */
    /* hvm_stats: exits by reason since the last report (hvm.c). */
    u32 stat_exits[HVM_EXIT_NR];
    u32 stat_intr_injected;
    u32 stat_last_hcall;          /* op << 8 | first argument's low byte */
    long stat_last_ret;
    u64 stat_since;
};

/* vlapic_glue.c */
void hvm_vlapic_init(struct vcpu *v);
void hvm_vlapic_destroy(struct vcpu *v);
void hvm_vlapic_migrate(struct vcpu *v, unsigned int cpu);
/* The xAPIC page: true when gpa is in it (and the APIC is in xAPIC mode). */
bool hvm_vlapic_mmio(struct vcpu *v, u64 gpa);
/* An MMIO access to it: 0, or -1 for one the guest gets #GP for. */
int hvm_vlapic_mmio_access(struct vcpu *v, u64 gpa, bool write, unsigned int size, u64 *val);
/* MSRs 0x800-0x8ff and IA32_APIC_BASE: false means #GP. */
bool hvm_vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val);
bool hvm_vlapic_msr_write(struct vcpu *v, u32 msr, u64 val);
/* An INIT another vCPU sent while this one ran (run loop, own vCPU). */
void hvm_vlapic_take_init(struct vcpu *v);
/* The vector the APIC wants delivered now (-1: none), and taking it. */
int hvm_vlapic_pending(struct vcpu *v);
void hvm_vlapic_ack(struct vcpu *v, u8 vector);
/* The per-vCPU upcall vector into the IRR if the APIC is enabled; true
 * when newly set. */
bool hvm_vlapic_raise_upcall(struct vcpu *v, u8 vector);

struct cpuid_regs;
/* CPUID as an HVM vCPU sees it before its domain's policy (v NULL: the
 * machine's HVM policy). */
void hvm_cpuid_base(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *c);

/* hvm.c */
void hvm_init(void);                          /* detect and pick a backend */
void hvm_cpu_up(unsigned int cpu);            /* each CPU, before it schedules */
int hvm_domain_init(struct domain *d);
void hvm_domain_destroy(struct domain *d);
/* Relinquish: drop what the p2m holds; >0 when preempted. */
int hvm_domain_relinquish(struct domain *d);
int hvm_vcpu_init(struct vcpu *v);
void hvm_vcpu_destroy(struct vcpu *v);
__noreturn void hvm_resume(void);             /* the run loop, from context_switch */
void hvm_save_vcpu(struct vcpu *v);           /* switching away */
void hvm_load_vcpu(struct vcpu *v);           /* switching in */
void hvm_set_cpu_state(struct vcpu *v, const struct hvm_cpu_state *s);
void hvm_get_cpu_state(struct vcpu *v, struct hvm_cpu_state *s);
/* Inject #vector into the current guest (from hypercalls and exits). */
void hvm_inject_exception(struct vcpu *v, u8 vector, bool has_ec, u32 ec);
/* An upcall became pending for v (or its delivery changed): raise its
 * per-vCPU vector, or kick it to take the callback (keel/hvm_upcall.h). */
void hvm_assert_upcall(struct vcpu *v);
/* Whether v, about to block, has an interrupt or upcall to take. */
bool hvm_wake_pending(struct vcpu *v);

/* The physical map as the memory hypercalls change it (physmap.c). */
int hvm_physmap_add_ram(struct domain *d, u64 gfn, mfn_t mfn, unsigned long n);
int hvm_physmap_take_ram(struct domain *d, u64 gfn, mfn_t *mfn);
u64 hvm_max_gfn(struct domain *d);
/* The RAM frame at gfn, or an invalid MFN (~0) when there is none. */
mfn_t hvm_gfn_to_ram(struct domain *d, u64 gfn);
long hvm_add_to_physmap(struct domain *d, unsigned int space, unsigned long idx, u64 gpfn);
long hvm_remove_from_physmap(struct domain *d, u64 gpfn);

/* Guest memory through the guest's page tables and the p2m (guest_access). */
int hvm_copy_from_guest_virt(void *dst, unsigned long gva, size_t n);
int hvm_copy_to_guest_virt(unsigned long gva, const void *src, size_t n);
/* Through the p2m only (guest physical addresses). */
int hvm_copy_from_guest_phys(struct domain *d, void *dst, u64 gpa, size_t n);
int hvm_copy_to_guest_phys(struct domain *d, u64 gpa, const void *src, size_t n);
#endif
