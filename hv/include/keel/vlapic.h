/*
 * The virtual local APIC a PVH guest gets (Xen emulates only this device
 * for PVH): the register file, in xAPIC (MMIO) and x2APIC (MSR) form,
 * interrupt acceptance (IRR -> ISR by priority, EOI), the timer and the
 * interrupt command register.  This is the pure model: it says what an
 * access does and hands side effects back to the caller (an IPI to send,
 * a timer to arm), so it builds on the host for unit tests and the fuzzer.
 * The vCPU integration (MMIO/MSR exits, injection, the Keel timer, IPIs
 * to other vCPUs, INIT/SIPI) lives in hv/arch/x86/hvm/vlapic_glue.c.
 *
 * Timer counts tick at 1 GHz divided by the divide configuration (Xen's
 * vlapic uses a 1 ns bus cycle too).  APIC ids are 2 * vCPU id, as Xen.
 */
#ifndef KEEL_VLAPIC_H
#define KEEL_VLAPIC_H
#include <keel/types.h>

#define VLAPIC_BASE_DEFAULT 0xfee00000ULL
#define VLAPIC_BASE_BSP (1ULL << 8)
#define VLAPIC_BASE_EXTD (1ULL << 10)
#define VLAPIC_BASE_ENABLE (1ULL << 11)

/* Register offsets (xAPIC); x2APIC MSR = 0x800 + offset / 16. */
#define VLAPIC_ID 0x20
#define VLAPIC_LVR 0x30
#define VLAPIC_TASKPRI 0x80
#define VLAPIC_ARBPRI 0x90
#define VLAPIC_PROCPRI 0xa0
#define VLAPIC_EOI 0xb0
#define VLAPIC_RRR 0xc0
#define VLAPIC_LDR 0xd0
#define VLAPIC_DFR 0xe0
#define VLAPIC_SPIV 0xf0
#define VLAPIC_ISR 0x100
#define VLAPIC_TMR 0x180
#define VLAPIC_IRR 0x200
#define VLAPIC_ESR 0x280
#define VLAPIC_CMCI 0x2f0
#define VLAPIC_ICR 0x300
#define VLAPIC_ICR2 0x310
#define VLAPIC_LVTT 0x320
#define VLAPIC_LVTTHMR 0x330
#define VLAPIC_LVTPC 0x340
#define VLAPIC_LVT0 0x350
#define VLAPIC_LVT1 0x360
#define VLAPIC_LVTERR 0x370
#define VLAPIC_TMICT 0x380
#define VLAPIC_TMCCT 0x390
#define VLAPIC_TDCR 0x3e0
#define VLAPIC_SELF_IPI 0x3f0 /* x2APIC only */

#define VLAPIC_LVT_MASKED (1U << 16)
#define VLAPIC_TIMER_PERIODIC (1U << 17)
#define VLAPIC_SPIV_ENABLED (1U << 8)

/* What an ICR write asks for. */
enum vlapic_dm { VLAPIC_DM_FIXED = 0, VLAPIC_DM_LOWPRI = 1, VLAPIC_DM_SMI = 2,
                 VLAPIC_DM_NMI = 4, VLAPIC_DM_INIT = 5, VLAPIC_DM_STARTUP = 6 };
enum vlapic_shorthand { VLAPIC_SH_NONE, VLAPIC_SH_SELF, VLAPIC_SH_ALL, VLAPIC_SH_OTHERS };

struct vlapic_ipi {
    bool valid;
    u8 vector;
    enum vlapic_dm mode;
    enum vlapic_shorthand shorthand;
    bool logical;
    bool level_assert;    /* INIT level de-assert is ignored, as modern CPUs */
    u32 dest;             /* APIC id (physical) or logical mask */
};

struct vlapic {
    u64 base_msr;         /* IA32_APIC_BASE */
    u32 id;               /* x2APIC id (xAPIC: id << 24 in the register) */
    u32 tpr, ldr, dfr, svr, esr, icr2;
    u32 lvt[7];           /* CMCI, timer, thermal, perf, LINT0, LINT1, error */
    u32 irr[8], isr[8], tmr[8];
    u32 timer_initial, timer_divide;
    s64 timer_start;      /* ns when the count was (re)loaded */
    bool timer_armed;
};

void vlapic_reset(struct vlapic *a, unsigned int vcpu_id);
bool vlapic_enabled(const struct vlapic *a);       /* base enabled and SVR on */
bool vlapic_x2apic(const struct vlapic *a);
/* Registers (offset as in xAPIC).  read: false for a register that does
 * not exist or is write-only (the guest gets #GP in x2APIC form). */
bool vlapic_read(const struct vlapic *a, unsigned int offset, s64 now, u32 *val);
/* write: false for a read-only or absent register; *ipi filled when the
 * write sends one; *timer_changed when the caller must re-arm its timer
 * (at vlapic_timer_deadline). */
bool vlapic_write(struct vlapic *a, unsigned int offset, u32 val, s64 now,
                  struct vlapic_ipi *ipi, bool *timer_changed);
/* The x2APIC ICR is one 64-bit write. */
bool vlapic_write_icr64(struct vlapic *a, u64 val, struct vlapic_ipi *ipi);
/* IA32_APIC_BASE: false for a transition the CPU refuses (#GP). */
bool vlapic_set_base(struct vlapic *a, u64 val);

/* An interrupt arrives (edge): it waits in the IRR. */
void vlapic_set_irq(struct vlapic *a, u8 vector);
/* The vector to deliver now (above the processor priority), or -1. */
int vlapic_pending(const struct vlapic *a);
/* The CPU takes it: IRR -> ISR. */
void vlapic_ack(struct vlapic *a, u8 vector);
/* Whether a vector waits in the IRR / is in service. */
bool vlapic_irr_test(const struct vlapic *a, u8 vector);
bool vlapic_isr_test(const struct vlapic *a, u8 vector);

/* The timer: when it fires next (0 = not armed), and firing it (sets the
 * vector in the IRR unless masked; periodic timers reload). */
s64 vlapic_timer_deadline(const struct vlapic *a);
void vlapic_timer_fire(struct vlapic *a, s64 now);
/* Whether dest (as an ICR names it) names this APIC. */
bool vlapic_match_dest(const struct vlapic *a, const struct vlapic_ipi *ipi, bool is_self);
#endif
