/*
 * Local APIC access.  One interface for both modes: xAPIC registers through
 * MMIO, x2APIC through MSRs (chosen at lapic_init when the CPU has x2APIC).
 * Register numbers are the xAPIC MMIO offsets.
 */
#ifndef ASM_APIC_H
#define ASM_APIC_H
#include <keel/types.h>

#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_LDR 0x0d0
#define APIC_SVR 0x0f0
#define APIC_ESR 0x280
#define APIC_ICR 0x300 /* low half; x2APIC: whole 64-bit ICR */
#define APIC_ICR2 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0

#define APIC_LVT_MASKED (1U << 16)
#define APIC_TIMER_PERIODIC (1U << 17)
#define APIC_TIMER_TSC_DEADLINE (2U << 17)

#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_NMI 0x400
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_LEVEL_TRIGGER 0x8000
#define ICR_BUSY 0x1000

/* Fixed vectors used by Keel itself. */
#define VECTOR_SPURIOUS 0xff
#define VECTOR_TIMER 0xf0
#define VECTOR_IPI_EVENT 0xf1   /* "look at your softirqs" */
#define VECTOR_IPI_CALL 0xf2    /* run a function on another CPU */
#define VECTOR_IPI_STOP 0xf3    /* park for good (machine_halt) */
#define VECTOR_APIC_ERROR 0xfe

void lapic_init(void); /* per CPU: enable, mask LVTs, pick mode */
bool lapic_x2apic_mode(void);
u32 lapic_id(void);
u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 v);
void lapic_eoi(void);
/* Delivery: ICR low bits (vector | mode) to one APIC id. */
void lapic_send_icr(u32 apic_id, u32 icr_low);
static inline void lapic_send_ipi(u32 apic_id, u8 vector) { lapic_send_icr(apic_id, vector); }
/* Spurious and APIC-error vectors (once, on the boot CPU). */
void lapic_register_vectors(void);

struct acpi_info;
/* Legacy 8259s: moved to vectors 0x20-0x2f, then fully masked. */
void pic_disable(void);
#endif
