/*
 * Event-channel upcalls of an HVM vCPU, as Xen 4.17 delivers them.
 *
 * Two ways exist.  The domain-wide callback (HVM_PARAM_CALLBACK_IRQ of
 * type vector) is injected straight into the vCPU, bypassing its local
 * APIC, for as long as evtchn_upcall_pending is set.  A per-vCPU vector
 * (HVMOP_set_evtchn_upcall_vector) is an ordinary interrupt of the
 * vCPU's local APIC instead: raised into the IRR when evtchn_upcall_pending
 * goes from 0 to 1 (and when the vector is set, when the callback is set,
 * when the guest enables its APIC with an upcall pending), so it obeys
 * TPR and ISR priority and needs an EOI.  Nothing raises it again on EOI:
 * a guest that leaves evtchn_upcall_pending set gets no further upcall
 * until it clears the flag and a new event sets it.  With both in place
 * the callback wins while an upcall is pending (Xen's
 * hvm_vcpu_has_pending_irq looks at it before the APIC).
 *
 * Core logic only: builds on the host for unit tests and the fuzzer.
 */
#ifndef KEEL_HVM_UPCALL_H
#define KEEL_HVM_UPCALL_H
#include <keel/types.h>
#include <keel/vlapic.h>

/* HVMOP_set_evtchn_upcall_vector's checks in Xen's order: a vector
 * below 0x10 is -EINVAL, then a vCPU id the domain lacks -ENOENT. */
int hvm_upcall_vector_check(u32 vcpu, u8 vector, unsigned int nr_vcpus);

/* Raise the per-vCPU vector in the IRR: only while the APIC is enabled
 * (a disabled one drops it; enabling it raises it again if an upcall is
 * pending).  True when the bit was newly set: the vCPU must be kicked. */
bool hvm_upcall_raise(struct vlapic *a, u8 vector);

/* What the vCPU takes next. */
enum hvm_intr_source { HVM_INTR_NONE, HVM_INTR_CALLBACK, HVM_INTR_LAPIC };
struct hvm_intr {
    enum hvm_intr_source source;
    u8 vector;
};
/* callback_vector: the domain's (0: none); apic_pending: what
 * vlapic_pending says (-1: nothing above the processor priority). */
struct hvm_intr hvm_intr_select(u8 callback_vector, bool upcall_pending, int apic_pending);

/* Whether a vCPU about to block has something to take (Xen's
 * hvm_vcpu_has_pending_irq).  A vCPU with neither a callback nor an
 * upcall vector configured wakes on a pending upcall too, as Keel always
 * did for them (Xen would leave it asleep). */
bool hvm_upcall_wakes(u8 callback_vector, u8 upcall_vector, bool upcall_pending,
                      int apic_pending);
#endif
