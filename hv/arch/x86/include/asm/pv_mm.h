/* Helpers the PV memory hypercalls share (hv/arch/x86/pv/mm.c). */
#ifndef ASM_PV_MM_H
#define ASM_PV_MM_H
#include <keel/domain.h>
#include <keel/pv_mm.h>

/*
 * The L1 table mapping `va` in v's current tables, held with a general and
 * an L1 type reference (put_page_and_type when done), and the slot in it;
 * NULL if `va` is not mapped through an L1 table of v's domain.
 */
struct page_info *pv_find_l1(struct vcpu *v, unsigned long va, u64 **slot);
/* The L1 entry for `va` in v's current tables, read without taking any
 * reference (false if there is none): good only for choosing a frame the
 * caller then checks and references itself. */
bool pv_read_l1e(struct vcpu *v, unsigned long va, u64 *e);
/* A frame of d that is in use (RAM with an owner); NULL otherwise. */
struct page_info *pv_domain_page(mfn_t mfn, const struct domain *d);

/* TLB flushes: UVMF_TLB_FLUSH (all of this CPU's), UVMF_INVLPG (one va),
 * UVMF_NONE; here or on every CPU. */
void pv_flush(unsigned int type, unsigned long va, bool everywhere);
/* Every CPU that may hold the current domain's translations (this one
 * and those running its vCPUs) drops them for the `n` linear addresses in
 * va[] (all of them when va is NULL or the list is long): one IPI round. */
void pv_flush_list(const u64 *va, unsigned int n);
/* A guest vCPU bitmap pointer (UVMF_MULTI / MMUEXT_*_MULTI): 0 if readable. */
int pv_check_vcpumask(unsigned long gva);
/* The domain whose frames a batch names (`foreigndom`, low 16 bits):
 * DOMID_SELF for the caller's own, or another existing domain, referenced
 * (domain_put when the batch is done); NULL with *err = -XEN_ESRCH for
 * anything else, the caller's own numeric id included (as Xen).  Whether
 * the caller may act on it is the caller's check. */
struct domain *pv_pg_owner(unsigned long domid, long *err);
/* A #PF from a guest store into one of its read-only, validated L1 tables
 * (writable_pagetables): emulated, true; otherwise false (bounce it). */
bool pv_ptwr_fault(struct regs *r, unsigned long cr2);
/* A dom0 kernel store into read-only device memory (MSI-X tables): true
 * if it was dropped and stepped over. */
bool pv_mmio_ro_fault(struct regs *r, unsigned long cr2);
#endif
