/*
 * The machine-to-phys table: for every machine frame, the guest pfn it
 * backs (INVALID_M2P_ENTRY when none).  Keel writes it; PV guests read it
 * at MACH2PHYS_VIRT_START through a read-only mapping in every L4.
 */
#ifndef KEEL_M2P_H
#define KEEL_M2P_H
#include <keel/types.h>

#define INVALID_M2P_ENTRY (~0UL)

void m2p_init(void);
void m2p_set(mfn_t mfn, unsigned long pfn);
unsigned long m2p_get(mfn_t mfn);
unsigned long m2p_nr_entries(void);
#endif
