/*
 * Not linked into Keel: the Makefile compiles this to assembly and turns
 * each "@@asmoff NAME VALUE" line into a #define in asm-offsets.h, so entry
 * code uses the C compiler's idea of every structure layout.
 */
#include <asm/percpu.h>
#include <asm/regs.h>

#define DEFINE(sym, val) __asm__ __volatile__("\n@@asmoff " #sym " %c0" ::"i"(val))
#define OFFSET(sym, str, mem) DEFINE(sym, offsetof(str, mem))

void asm_offsets(void);

void asm_offsets(void)
{
    DEFINE(REGS_size, sizeof(struct regs));
    OFFSET(REGS_r15, struct regs, r15);
    OFFSET(REGS_r14, struct regs, r14);
    OFFSET(REGS_r13, struct regs, r13);
    OFFSET(REGS_r12, struct regs, r12);
    OFFSET(REGS_rbp, struct regs, rbp);
    OFFSET(REGS_rbx, struct regs, rbx);
    OFFSET(REGS_r11, struct regs, r11);
    OFFSET(REGS_r10, struct regs, r10);
    OFFSET(REGS_r9, struct regs, r9);
    OFFSET(REGS_r8, struct regs, r8);
    OFFSET(REGS_rax, struct regs, rax);
    OFFSET(REGS_rcx, struct regs, rcx);
    OFFSET(REGS_rdx, struct regs, rdx);
    OFFSET(REGS_rsi, struct regs, rsi);
    OFFSET(REGS_rdi, struct regs, rdi);
    OFFSET(REGS_error_code, struct regs, error_code);
    OFFSET(REGS_entry_vector, struct regs, entry_vector);
    OFFSET(REGS_rip, struct regs, rip);
    OFFSET(REGS_cs, struct regs, cs);
    OFFSET(REGS_ss, struct regs, ss);
    DEFINE(REGS_SIZE, sizeof(struct regs));
    OFFSET(CPUINFO_cpu_id, struct cpu_info, cpu_id);
    DEFINE(ASM_NR_CPUS, NR_CPUS);
}
