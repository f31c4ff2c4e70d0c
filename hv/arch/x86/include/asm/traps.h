/* Exceptions, interrupts and exception fixups. */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#define TRAP_DE 0
#define TRAP_DB 1
#define TRAP_NMI 2
#define TRAP_BP 3
#define TRAP_OF 4
#define TRAP_BR 5
#define TRAP_UD 6
#define TRAP_NM 7
#define TRAP_DF 8
#define TRAP_TS 10
#define TRAP_NP 11
#define TRAP_SS 12
#define TRAP_GP 13
#define TRAP_PF 14
#define TRAP_MF 16
#define TRAP_AC 17
#define TRAP_MC 18
#define TRAP_XM 19
#define TRAP_VE 20
#define TRAP_CP 21
#define TRAP_HV 28
#define TRAP_VC 29
#define TRAP_SX 30
#define FIRST_IRQ_VECTOR 32
/* Page-fault error code bits. */
#define PF_PRESENT (1U << 0)
#define PF_WRITE (1U << 1)
#define PF_USER (1U << 2)
#define PF_RSVD (1U << 3)
/* Pseudo-vector recorded in the frame of a SYSCALL entry. */
#define TRAP_SYSCALL 0x100
/* Bytes per CPU of the SYSCALL trampolines in entry.S (LSTAR = base + cpu * size). */
#define SYSCALL_STUB_SIZE 32

/*
 * EXTABLE(insn, fixup): if the instruction at label insn faults in Keel (or,
 * for a trap like int3, if the saved RIP equals insn), execution continues
 * at fixup instead of panicking.  Entries are 32-bit self-relative offsets.
 */
#define EXTABLE(insn, fixup)                                                   \
    ".pushsection .ex_table, \"a\"\n"                                          \
    ".balign 4\n"                                                              \
    ".long (" #insn ") - .\n"                                                  \
    ".long (" #fixup ") - .\n"                                                 \
    ".popsection\n"

#ifdef __ASSEMBLER__
#define ASM_EXTABLE(insn, fixup)                                               \
    .pushsection .ex_table, "a"; .balign 4; .long (insn) - .;                  \
    .long (fixup) - .; .popsection
#else
#include <asm/regs.h>

struct extable_entry {
    s32 insn;
    s32 fixup;
};

/* What the last fixup on this CPU caught (for callers that care why). */
struct fixup_info {
    u32 vector;
    u32 error_code;
    unsigned long cr2;
};

/* Returns the continuation address for a faulting RIP, or 0. */
unsigned long search_extable(unsigned long rip);
const struct fixup_info *last_fixup(void);

/* Vectors 32-255.  Handlers run with interrupts off; EOI is done for them. */
typedef void (*irq_handler_t)(struct regs *regs);
int set_irq_handler(u8 vector, irq_handler_t fn);
/* NMIs go here when set (e.g. the shutdown IPI); otherwise they are logged. */
void set_nmi_callback(void (*fn)(struct regs *regs));

void show_registers(const struct regs *regs);
/* #DB taken in Keel context on this CPU so far (ignored, as Xen does). */
unsigned long debug_traps_in_keel(void);
/* Registers, backtrace, panic. */
__noreturn void fatal_trap(const struct regs *r, const char *why);
/* Frame-pointer walk of the stack that holds regs->rsp. */
void show_backtrace(unsigned long rip, unsigned long rbp, unsigned long rsp);
/* Deliberately fault, to test the crash path ("pf", "ud", "gp", "div", "df",
 * "syscall"). */
void crashtest(const char *kind);

/* entry.S */
extern const unsigned long entry_stubs[256];
void syscall_entry_stubs(void);
void cstar_entry(void);
extern unsigned long syscall_stack_top[];
#endif

#endif
