/*
 * A PV vCPU's descriptor tables (hv/arch/x86/pv/descriptor.c).
 *
 * Each CPU has a window in the per-domain slot of the address space (Keel's
 * part, shared by every page table): 14 pages for the guest GDT frames of
 * the vCPU it runs, then that CPU's own Keel GDT page at byte 0xe000, then
 * 16 pages for the vCPU's LDT.  The CPU's GDTR points at its window for
 * good once it first runs a guest, so a switch between vCPUs only rewrites
 * the window's page-table entries (and LDTR), never GDTR or TR.
 */
#ifndef ASM_PV_DESC_H
#define ASM_PV_DESC_H
#include <keel/types.h>

#define PV_GDT_FRAMES 14 /* FIRST_RESERVED_GDT_PAGE */
#define PV_LDT_FRAMES 16 /* 8192 entries */

struct pv_desc {
    mfn_t gdt_frames[PV_GDT_FRAMES]; /* each: general + seg_desc reference */
    unsigned int gdt_ents;
    mfn_t ldt_frames[PV_LDT_FRAMES]; /* 0: none held (empty page mapped) */
    unsigned int ldt_ents;
    u64 stamp;   /* unique per (vCPU, table contents); 0 = empty tables */
    u16 sel[4];  /* %ds, %es, %fs, %gs while the vCPU is off the CPU */
};

struct vcpu;
/* Boot CPU, before any guest page table exists: the windows' tables. */
void pv_desc_init(void);
/* context_switch: selectors out of / window, LDTR and selectors into the CPU
 * (before the FS/GS base MSRs are written: loading a selector resets them). */
void pv_desc_save(struct vcpu *v);
void pv_desc_switch_in(struct vcpu *v);
/* VCPUOP_initialise: the selectors a fresh vCPU starts with. */
void pv_desc_set_selectors(struct vcpu *v, u16 ds, u16 es, u16 fs, u16 gs);
/* MMUEXT_SET_LDT for v (current), arguments already checked. */
long pv_vcpu_set_ldt(struct vcpu *v, unsigned long base, unsigned int ents);
/* context_switch to the idle vCPU: the window maps no guest frame. */
void pv_desc_switch_to_idle(void);
/* Drop every frame v's tables hold (vCPU teardown). */
void pv_desc_destroy(struct vcpu *v);
#endif
