/*
 * x86-64 4-level paging: entry bits, index helpers and the mapping
 * interface of Keel's own page tables (hv/arch/x86/mm.c).
 */
#ifndef ASM_PAGE_H
#define ASM_PAGE_H

#include <asm/layout.h>
#include <keel/types.h>

typedef u64 pte_t;

#define _PAGE_PRESENT (1UL << 0)
#define _PAGE_RW (1UL << 1)
#define _PAGE_USER (1UL << 2)
#define _PAGE_PWT (1UL << 3)
#define _PAGE_PCD (1UL << 4)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY (1UL << 6)
#define _PAGE_PSE (1UL << 7) /* in L2/L3 entries: a big page */
#define _PAGE_GLOBAL (1UL << 8)
#define _PAGE_NX (1UL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000UL
#define PTE_PSE_ADDR_MASK 0x000fffffffe00000UL /* 2 MiB page frame */

#define L1_SHIFT 12
#define L2_SHIFT 21
#define L3_SHIFT 30
#define L4_SHIFT 39
#define PT_ENTRIES 512
#define L2_PAGE_SIZE (1UL << L2_SHIFT)
#define PT_INDEX(va, shift) (((unsigned long)(va) >> (shift)) & (PT_ENTRIES - 1))

/* Mapping flavours for Keel's own memory (NX is dropped if the CPU lacks it). */
#define PAGE_HYPERVISOR_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_HYPERVISOR_RO (_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_HYPERVISOR_RX (_PAGE_PRESENT | _PAGE_ACCESSED)
#define PAGE_HYPERVISOR_UC (PAGE_HYPERVISOR_RW | _PAGE_PCD | _PAGE_PWT)

struct memmap;
struct boot_info;

/* Physical address of the page table every CPU runs Keel on. */
extern paddr_t idle_pg_table_pa;

/*
 * Map [va, va + size) to [pa, pa + size) with 4 KiB pages; entries already
 * present are left alone.  Returns 0 or -1 (out of memory for tables).
 * Callers on other CPUs' behalf must flush their TLBs themselves.
 */
int map_pages(unsigned long va, paddr_t pa, unsigned long size, u64 flags);
void unmap_pages(unsigned long va, unsigned long size);
/* The leaf entry mapping va in the live tables (0: not mapped); *level is
 * 1 for a 4 KiB page, 2 for a 2 MiB page. */
pte_t lookup_pte(unsigned long va, unsigned int *level);

/* Uncached, non-executable mapping of device memory in the vmap area. */
void *ioremap(paddr_t pa, size_t size);
/* SMAP is on: Keel must open user-page access (stac/clac) around copies. */
extern bool smap_enabled;
/* A STACK_SIZE-aligned stack for a CPU (NULL if out of memory); its lowest
 * page is an unmapped guard.  The stack top is the returned base + STACK_SIZE. */
void *alloc_cpu_stack(unsigned int cpu);
void free_cpu_stack(void *base);

/* Memory bring-up: memory map -> page tables -> frame table -> allocator. */
void memory_init(const struct boot_info *bi);
#endif
