/*
 * Who may set or read which HVM parameter, and which values are valid,
 * as Xen 4.17 decides it (hvm_allow_set_param / hvm_allow_get_param /
 * hvm_set_param): a guest only touches the few it owns (its callback,
 * its store and console event channels), the toolstack all of them;
 * some may be set once only.
 *
 * Core logic only: builds on the host for unit tests and the fuzzer.
 */
#ifndef KEEL_HVM_PARAM_H
#define KEEL_HVM_PARAM_H
#include <keel/types.h>

#define KEEL_HVM_NR_PARAMS 39 /* Xen 4.17: HVM_NR_PARAMS */

/* self: the caller is the domain itself.  0 or a negated Xen errno. */
int hvm_param_check_set(bool self, unsigned int index, u64 old, u64 value);
int hvm_param_check_get(bool self, unsigned int index);

/* HVM_PARAM_CALLBACK_IRQ: whether the value names a vector (type 2),
 * and which.  A PVH domain has no emulated IO-APIC or PIC, so Xen's
 * hvm_set_callback_via takes only those: any other value is stored as
 * the parameter but leaves the callback as it was (Linux writes 1, "GSI
 * 1", on purpose when it uses per-vCPU upcall vectors). */
bool hvm_param_callback_vector(u64 value, u8 *vector);
#endif
