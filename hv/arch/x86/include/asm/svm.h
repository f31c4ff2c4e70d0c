/*
 * AMD SVM: the VMCB layout (AMD APM vol. 2, appendix B) and the exit
 * codes Keel handles.  Only hv/arch/x86/hvm/svm.c uses this.
 */
#ifndef ASM_SVM_H
#define ASM_SVM_H
#include <keel/types.h>

struct vmcb_seg {
    u16 sel, attr;
    u32 limit;
    u64 base;
} __packed;

struct vmcb {
    /* Control area, 0x000 - 0x3ff. */
    u32 cr_intercepts;        /* 0x000: reads 0-15, writes 16-31 */
    u32 dr_intercepts;        /* 0x004 */
    u32 exception_intercepts; /* 0x008 */
    u32 intercepts1;          /* 0x00c */
    u32 intercepts2;          /* 0x010 */
    u32 intercepts3;          /* 0x014 */
    u8 res018[0x03c - 0x018];
    u16 pause_filter_thresh;  /* 0x03c */
    u16 pause_filter_count;   /* 0x03e */
    u64 iopm_base_pa;         /* 0x040 */
    u64 msrpm_base_pa;        /* 0x048 */
    u64 tsc_offset;           /* 0x050 */
    u32 asid;                 /* 0x058 */
    u8 tlb_control;           /* 0x05c */
    u8 res05d[3];
    u64 vintr;                /* 0x060: V_TPR, V_IRQ (8), V_INTR_PRIO, V_IGN_TPR (20),
                                 V_INTR_MASKING (24), V_INTR_VECTOR (32-39) */
    u64 interrupt_shadow;     /* 0x068: bit 0 */
    u64 exitcode;             /* 0x070 */
    u64 exitinfo1;            /* 0x078 */
    u64 exitinfo2;            /* 0x080 */
    u64 exitintinfo;          /* 0x088 */
    u64 np_enable;            /* 0x090 */
    u8 res098[0x0a8 - 0x098];
    u64 eventinj;             /* 0x0a8 */
    u64 n_cr3;                /* 0x0b0 */
    u64 virt_ext;             /* 0x0b8 */
    u32 clean_bits;           /* 0x0c0 */
    u32 res0c4;
    u64 next_rip;             /* 0x0c8 */
    u8 insn_len;              /* 0x0d0 */
    u8 insn_bytes[15];        /* 0x0d1 */
    u8 res0e0[0x400 - 0x0e0];
    /* State save area, 0x400 on. */
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 - 0x49f */
    u8 res4a0[0x4cb - 0x4a0];
    u8 cpl;                   /* 0x4cb */
    u32 res4cc;
    u64 efer;                 /* 0x4d0 */
    u8 res4d8[0x548 - 0x4d8];
    u64 cr4;                  /* 0x548 */
    u64 cr3;                  /* 0x550 */
    u64 cr0;                  /* 0x558 */
    u64 dr7;                  /* 0x560 */
    u64 dr6;                  /* 0x568 */
    u64 rflags;               /* 0x570 */
    u64 rip;                  /* 0x578 */
    u8 res580[0x5d8 - 0x580];
    u64 rsp;                  /* 0x5d8 */
    u8 res5e0[0x5f8 - 0x5e0];
    u64 rax;                  /* 0x5f8 */
    u64 star;                 /* 0x600 */
    u64 lstar;                /* 0x608 */
    u64 cstar;                /* 0x610 */
    u64 sfmask;               /* 0x618 */
    u64 kernel_gs_base;       /* 0x620 */
    u64 sysenter_cs;          /* 0x628 */
    u64 sysenter_esp;         /* 0x630 */
    u64 sysenter_eip;         /* 0x638 */
    u64 cr2;                  /* 0x640 */
    u8 res648[0x668 - 0x648];
    u64 g_pat;                /* 0x668 */
    u8 res670[0x1000 - 0x670];
} __packed;

/* intercepts1 (vector 3) */
#define SVM_INTERCEPT_INTR (1U << 0)
#define SVM_INTERCEPT_NMI (1U << 1)
#define SVM_INTERCEPT_SMI (1U << 2)
#define SVM_INTERCEPT_INIT (1U << 3)
#define SVM_INTERCEPT_VINTR (1U << 4)
#define SVM_INTERCEPT_RDPMC (1U << 15)
#define SVM_INTERCEPT_CPUID (1U << 18)
#define SVM_INTERCEPT_IRET (1U << 20)
#define SVM_INTERCEPT_RSM (1U << 19)
#define SVM_INTERCEPT_INVD (1U << 22)
#define SVM_INTERCEPT_HLT (1U << 24)
#define SVM_INTERCEPT_INVLPGA (1U << 26)
#define SVM_INTERCEPT_IOIO (1U << 27)
#define SVM_INTERCEPT_MSR (1U << 28)
#define SVM_INTERCEPT_TASK_SWITCH (1U << 29)
#define SVM_INTERCEPT_SHUTDOWN (1U << 31)
/* intercepts2 (vector 4) */
#define SVM_INTERCEPT_VMRUN (1U << 0)
#define SVM_INTERCEPT_VMMCALL (1U << 1)
#define SVM_INTERCEPT_VMLOAD (1U << 2)
#define SVM_INTERCEPT_VMSAVE (1U << 3)
#define SVM_INTERCEPT_STGI (1U << 4)
#define SVM_INTERCEPT_CLGI (1U << 5)
#define SVM_INTERCEPT_SKINIT (1U << 6)
#define SVM_INTERCEPT_RDTSCP (1U << 7)
#define SVM_INTERCEPT_ICEBP (1U << 8)
#define SVM_INTERCEPT_WBINVD (1U << 9)
#define SVM_INTERCEPT_MONITOR (1U << 10)
#define SVM_INTERCEPT_MWAIT (1U << 11)
#define SVM_INTERCEPT_XSETBV (1U << 13)

/* Exit codes. */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_RDPMC 0x6f
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_RSM 0x73
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_PAUSE 0x77
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_TASK_SWITCH 0x7d
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_RDTSCP 0x87
#define SVM_EXIT_ICEBP 0x88
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((u64)-1)

/* EVENTINJ / EXITINTINFO */
#define SVM_EVT_VALID (1ULL << 31)
#define SVM_EVT_EV (1ULL << 11)
#define SVM_EVT_TYPE_INTR (0ULL << 8)
#define SVM_EVT_TYPE_NMI (2ULL << 8)
#define SVM_EVT_TYPE_EXCEPTION (3ULL << 8)
#define SVM_EVT_TYPE_SOFT (4ULL << 8)

/* vintr */
#define SVM_VINTR_V_IRQ (1ULL << 8)
#define SVM_VINTR_PRIO_SHIFT 16
#define SVM_VINTR_IGN_TPR (1ULL << 20)
#define SVM_VINTR_MASKING (1ULL << 24)
#define SVM_VINTR_VECTOR_SHIFT 32

/* TLB control */
#define SVM_TLB_FLUSH_NONE 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_GUEST 3

#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define EFER_SVME (1UL << 12)
#define VM_CR_SVMDIS (1UL << 4)

/* IOIO exit info1 */
#define SVM_IOIO_IN (1U << 0)
#define SVM_IOIO_STR (1U << 2)
#define SVM_IOIO_REP (1U << 3)
#define SVM_IOIO_SZ8 (1U << 4)
#define SVM_IOIO_SZ16 (1U << 5)
#define SVM_IOIO_SZ32 (1U << 6)

/* Decoding of an exit into the vendor-neutral form (svm_exit.c, host-testable). */
struct hvm_exit;
void svm_decode_exit(u64 code, u64 info1, u64 info2, u64 next_rip, struct hvm_exit *x);

/* Event state rules (svm_exit.c, host-testable); see svm.c for why
 * external interrupts go by V_IRQ. */
u64 svm_vintr_set_virq(u64 vintr, u8 vector);  /* V_IRQ pending with this vector */
u64 svm_vintr_clear_virq(u64 vintr);           /* nothing pending in V_IRQ */
bool svm_exitint_is_irq(u64 exitintinfo);
/* What an event cut short by an exit becomes: an interrupt waits in V_IRQ
 * (unless one waits there already), anything else is injected again. */
enum svm_redeliver { SVM_REDELIVER_NONE, SVM_REDELIVER_EVENTINJ, SVM_REDELIVER_VIRQ };
enum svm_redeliver svm_exitint_redeliver(u64 exitintinfo, bool virq_pending);
/* The guest can take an external interrupt now. */
bool svm_can_take_irq(u64 rflags, u64 interrupt_shadow, u64 eventinj);
#endif
