/*
 * The toolstack guest's pieces: hypercall wrappers as libxc issues them,
 * foreign mappings through dom0's own L1 entries, and the PV domain
 * builder (what libxenguest does for a 64-bit PV kernel).
 */
#ifndef TOOLSTACK_H
#define TOOLSTACK_H
#include <rt.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>
#include "comm.h"

#define VIRT_BASE 0xffffffff80000000UL
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DOMU_PAGES 1024U /* 4 MiB */

/* ---- hypercalls (hcalls.c) */
long domctl(struct xen_domctl *op);
long sysctl(struct xen_sysctl *op);
/* memory_op as libxc sends it: a one-entry multicall, result from it. */
long memop(unsigned int cmd, void *arg);
long mmu_update(struct mmu_update *req, unsigned int n, unsigned int *done, unsigned int dom);
long mmuext(struct mmuext_op *op, unsigned int n, unsigned int *done, unsigned int dom);
long getdomaininfo(domid_t dom, struct xen_domctl_getdomaininfo *out);
long physinfo(struct xen_sysctl_physinfo *out);
void flush_tlb(void);

/* ---- foreign mappings (foreign.c): window slots in dom0's own .bss */
#define WIN_SLOTS 8
void window_init(void);
/* Map frame mfn of `dom` at slot (0 on success, else the mmu_update rc). */
long map_foreign(unsigned int slot, uint64_t mfn, unsigned int dom, void **va);
long unmap_slot(unsigned int slot);
/* The machine address of the L1 entry behind slot (for hand-made batches). */
uint64_t slot_pte(unsigned int slot);
void *slot_va(unsigned int slot);

/* ---- the builder (builder.c) */
struct domu_image {
    domid_t domid;
    xen_pfn_t mfn[DOMU_PAGES];      /* its p2m, as populate_physmap filled it */
    uint64_t entry, kernel_end_pfn;
    uint64_t p2m_pfn, si_pfn, console_pfn, store_pfn, pt_pfn, stack_pfn;
    unsigned int nr_pt;
    uint64_t shared_info_mfn;
    uint32_t store_port, console_port;
};
/* Each step returns 0 or a negative Xen error; `why` names the failure. */
int build_load_kernel(struct domu_image *im, const char **why);
int build_page_tables(struct domu_image *im, const char **why);
int build_start_info(struct domu_image *im, const char **why);
int build_shared_info(struct domu_image *im, const char **why);
int build_vcpu(struct domu_image *im, const char **why);
#endif
