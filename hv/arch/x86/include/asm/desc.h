/*
 * Descriptor tables.  Keel's own GDT entries live in the page Xen's PV ABI
 * reserves (GDT bytes 0xe000-0xefff): a PV guest's GDT frames will later be
 * mapped in front of this page, so the flat ring-3 selectors the ABI
 * promises (FLAT_RING3_*) and Keel's ring-0 selectors work in every GDT.
 *
 * The order ring-3 CS32, DS, CS64 is forced by SYSRET, which derives all
 * three from one STAR base; ring-0 DS must follow ring-0 CS for SYSCALL.
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#include <asm/layout.h>

#define GDT_RESERVED_BYTE 0xe000 /* FIRST_RESERVED_GDT_BYTE in the ABI */
#define GDT_LIMIT 0xefff         /* guest pages + Keel's page */

#define KEEL_CS 0xe008     /* ring 0, 64-bit code */
#define KEEL_DS 0xe010     /* ring 0 data, also SS */
/* 0xe018: kept free for a future 32-bit PV ring-1 code segment. */
#define RING3_CS32 0xe023  /* FLAT_RING3_CS32 */
#define RING3_DS 0xe02b    /* FLAT_RING3_DS32 / SS32 / SS64 */
#define RING3_CS64 0xe033  /* FLAT_RING3_CS64 */
#define KEEL_TSS 0xe040    /* 16-byte system descriptor */
#define KEEL_LDT 0xe050    /* reserved for PV guests' LDTs */

/* Interrupt stack table slots (1-based, as the IDT encodes them). */
#define IST_DF 1
#define IST_NMI 2
#define IST_MC 3
#define IST_DB 4 /* a #DB may follow Keel into the SYSCALL stub (guest RSP) */
#define IST_COUNT 4
/* Usable bytes of each interrupt stack (a STACK_SIZE block less its guard
 * page and the cpu_info copy). */
#define IST_STACK_SIZE (STACK_SIZE - 4096 - CPU_INFO_RESERVE)

#ifndef __ASSEMBLER__
#include <keel/types.h>

struct __packed tss64 {
    u32 reserved0;
    u64 rsp[3];  /* stack for entering ring 0/1/2 from a less privileged ring */
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base; /* past the limit: no I/O bitmap, ring 3 may use no ports */
};

struct __packed idt_gate {
    u16 offset_lo;
    u16 selector;
    u8 ist;
    u8 type_attr;
    u16 offset_mid;
    u32 offset_hi;
    u32 reserved;
};

struct __packed desc_ptr {
    u16 limit;
    u64 base;
};

/* Keel's page of the GDT: byte offset (selector & ~7) - GDT_RESERVED_BYTE. */
struct gdt_page {
    u64 entry[4096 / 8];
} __aligned(4096);

void traps_init(void);              /* BSP, once: build the IDT */
void traps_init_cpu(unsigned cpu);  /* each CPU: GDT, TSS, IDT, SYSCALL */

/* Top of a CPU's interrupt stack (ist = IST_DF, IST_NMI, IST_MC or IST_DB). */
unsigned long ist_stack_top(unsigned cpu, unsigned ist);
unsigned long ist_stack_guard(unsigned cpu, unsigned ist);
void traps_protect_boot_stacks(void);
/* For the self-tests: decode one IDT entry. */
unsigned long idt_gate_target(unsigned vector, u16 *selector, u8 *ist, u8 *attr);
#endif

#endif
