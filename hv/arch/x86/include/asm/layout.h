/*
 * Keel's virtual address map.  Everything lives inside the range the 64-bit
 * PV ABI reserves for the hypervisor (L4 slots 256-271), so PV guests own all
 * of the rest.  Used from C and from assembly.
 *
 *  slot 256  0xffff800000000000  read-only machine-to-phys table (guest-visible)
 *  slot 257  0xffff808000000000  per-domain mappings (GDT/LDT shadows)
 *  slot 258  0xffff810000000000  guest linear page table (reserved)
 *  slot 259  0xffff818000000000  vmap: stacks with guard pages, MMIO, fixmaps
 *  slot 260  0xffff820000000000  frame table (one record per machine frame)
 *  slot 261  0xffff828000000000  Keel image (text, data, bss), VA = base + PA
 *  262-271   0xffff830000000000  direct map of all machine memory (5 TiB)
 */
#ifndef ASM_LAYOUT_H
#define ASM_LAYOUT_H

#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

#define L4_SLOT_VA(s) (_UL(0xffff000000000000) | (_UL(s) << 39))

#define HV_VIRT_START _UL(0xffff800000000000)
#define HV_VIRT_END _UL(0xffff880000000000)
#define RO_M2P_VIRT_START L4_SLOT_VA(256)
#define PERDOMAIN_VIRT_START L4_SLOT_VA(257)
#define LINEAR_PT_VIRT_START L4_SLOT_VA(258)
#define VMAP_VIRT_START L4_SLOT_VA(259)
#define FRAMETABLE_VIRT_START L4_SLOT_VA(260)
#define KEEL_VIRT_BASE L4_SLOT_VA(261)
#define DIRECTMAP_VIRT_START L4_SLOT_VA(262)
#define DIRECTMAP_VIRT_END HV_VIRT_END

/* Physical address Keel's image is loaded at (2 MiB aligned for big pages). */
#define KEEL_PHYS_START _UL(0x200000)

#define STACK_ORDER 3 /* 8 pages per CPU stack; the lowest is a guard page */
#define STACK_SIZE (_UL(4096) << STACK_ORDER)
/* struct cpu_info sits in the top bytes of each CPU's stack (found from rsp). */
#define CPU_INFO_RESERVE 1024

#ifndef __ASSEMBLER__
#include <keel/types.h>
/* Only for the image; other memory goes through the direct map. */
#define __pa_image(va) ((paddr_t)(uintptr_t)(va)-KEEL_VIRT_BASE)
#define __va(pa) ((void *)((uintptr_t)(pa) + DIRECTMAP_VIRT_START))
#define __pa(va) ((paddr_t)((uintptr_t)(va)-DIRECTMAP_VIRT_START))
#endif

#endif
