/*
 * GDT, TSS and IDT.  One IDT serves every CPU; each CPU has its own GDT page
 * (Keel's reserved page, see asm/desc.h), TSS and interrupt stacks.
 */
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <asm/traps.h>
#include <keel/console.h>

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define GATE_DPL3 0x60
#define TSS_AVAILABLE 0x89ULL /* present, 64-bit TSS (not busy) */

#define MSR_SYSENTER_CS 0x174

/* Flat segments; the accessed bit is preset so the CPU never writes the GDT. */
#define SEG_RING0_CODE64 0x00af9b000000ffffULL
#define SEG_RING0_DATA 0x00cf93000000ffffULL
#define SEG_RING3_CODE32 0x00cffb000000ffffULL
#define SEG_RING3_DATA 0x00cff3000000ffffULL
#define SEG_RING3_CODE64 0x00affb000000ffffULL

#define GDT_SLOT(sel) (((sel) - GDT_RESERVED_BYTE) >> 3)

static struct idt_gate idt[256] __aligned(16);
static struct gdt_page gdt_pages[NR_CPUS];
static struct tss64 tss[NR_CPUS] __aligned(128);

/*
 * Each interrupt stack (#DF, NMI, #MC, #DB) is a STACK_SIZE-aligned block of its
 * own, laid out like a CPU stack: an unmapped guard page at the bottom, and
 * at the top a copy of the CPU's struct cpu_info, so get_cpu_info() still
 * works from those handlers.  The boot CPU's come from .bss (its guard pages
 * are unmapped once Keel's page tables exist); the others' from the vmap
 * area through alloc_cpu_stack, guard included.
 */
struct ist_block {
    u8 guard[PAGE_SIZE];
    u8 stack[IST_STACK_SIZE];
    u8 info[CPU_INFO_RESERVE];
};
_Static_assert(sizeof(struct ist_block) == STACK_SIZE, "IST block size");
static struct ist_block bsp_ist[IST_COUNT] __aligned(STACK_SIZE);
static struct ist_block *ist_blocks[NR_CPUS][IST_COUNT];

static void set_gate(unsigned vec, unsigned long target, u8 ist, u8 attr)
{
    struct idt_gate *g = &idt[vec];

    g->offset_lo = (u16)target;
    g->selector = KEEL_CS;
    g->ist = ist;
    g->type_attr = attr;
    g->offset_mid = (u16)(target >> 16);
    g->offset_hi = (u32)(target >> 32);
    g->reserved = 0;
}

unsigned long idt_gate_target(unsigned vector, u16 *selector, u8 *ist, u8 *attr)
{
    const struct idt_gate *g = &idt[vector & 0xff];

    *selector = g->selector;
    *ist = g->ist;
    *attr = g->type_attr;
    return g->offset_lo | ((unsigned long)g->offset_mid << 16) |
           ((unsigned long)g->offset_hi << 32);
}

void traps_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, entry_stubs[v], 0, GATE_INTERRUPT);
    /* These may arrive on a broken stack, or on top of each other; NMI,
     * #MC and #DB also while Keel runs its SYSCALL stub on the guest's
     * stack pointer (a #DB delayed by MOV SS lands there: XSA-260). */
    idt[TRAP_DF].ist = IST_DF;
    idt[TRAP_NMI].ist = IST_NMI;
    idt[TRAP_MC].ist = IST_MC;
    idt[TRAP_DB].ist = IST_DB;
    /* PV guest kernels (ring 3) may use int3 for their debuggers. */
    idt[TRAP_BP].type_attr |= GATE_DPL3;
}

static void fill_gdt(unsigned cpu)
{
    u64 *e = gdt_pages[cpu].entry;
    unsigned long base = (unsigned long)&tss[cpu];
    u64 limit = sizeof(struct tss64) - 1;

    e[GDT_SLOT(KEEL_CS)] = SEG_RING0_CODE64;
    e[GDT_SLOT(KEEL_DS)] = SEG_RING0_DATA;
    e[GDT_SLOT(RING3_CS32)] = SEG_RING3_CODE32;
    e[GDT_SLOT(RING3_DS)] = SEG_RING3_DATA;
    e[GDT_SLOT(RING3_CS64)] = SEG_RING3_CODE64;
    e[GDT_SLOT(KEEL_TSS)] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
                            (TSS_AVAILABLE << 40) | ((limit >> 16 & 0xf) << 48) |
                            ((u64)(base >> 24 & 0xff) << 56);
    e[GDT_SLOT(KEEL_TSS) + 1] = base >> 32;
}

static void fill_tss(unsigned cpu)
{
    struct tss64 *t = &tss[cpu];

    memset(t, 0, sizeof(*t));
    /* Entries from ring 3 land just below this CPU's struct cpu_info. */
    t->rsp[0] = (unsigned long)get_cpu_info();
    for (unsigned i = 0; i < IST_COUNT; i++) {
        struct ist_block *b = cpu == 0 ? &bsp_ist[i] : alloc_cpu_stack(cpu);
        if (!b)
            panic("CPU%u: no memory for its interrupt stacks", cpu);
        ist_blocks[cpu][i] = b;
        memcpy(b->info, get_cpu_info(), sizeof(struct cpu_info));
        t->ist[i] = (unsigned long)b->info;
    }
    t->iomap_base = sizeof(struct tss64);
}

static void load_tables(unsigned cpu)
{
    /* Only Keel's page exists so far; guest GDT frames will fill the rest. */
    struct desc_ptr gdtr = {GDT_LIMIT,
                            (unsigned long)&gdt_pages[cpu] - GDT_RESERVED_BYTE};
    struct desc_ptr idtr = {sizeof(idt) - 1, (unsigned long)idt};
    unsigned long tmp;

    __asm__ __volatile__("lgdt %0" ::"m"(gdtr));
    /* Reload CS with a far return; then the data segments and the TSS. */
    __asm__ __volatile__("pushq %[cs]\n\t"
                         "lea 1f(%%rip), %[tmp]\n\t"
                         "pushq %[tmp]\n\t"
                         "lretq\n"
                         "1:\n\t"
                         "mov %[ds], %%ss\n\t"
                         "mov %[ds], %%ds\n\t"
                         "mov %[ds], %%es\n\t"
                         : [tmp] "=&r"(tmp)
                         : [cs] "i"(KEEL_CS), [ds] "r"(KEEL_DS)
                         : "memory");
    __asm__ __volatile__("ltr %w0" ::"r"(KEEL_TSS));
    __asm__ __volatile__("lidt %0" ::"m"(idtr));
}

static void init_syscall(unsigned cpu)
{
    unsigned long stub = (unsigned long)syscall_entry_stubs + cpu * SYSCALL_STUB_SIZE;

    syscall_stack_top[cpu] = (unsigned long)get_cpu_info();
    wrmsr(MSR_STAR, ((u64)RING3_CS32 << 48) | ((u64)KEEL_CS << 32));
    wrmsr(MSR_LSTAR, stub);
    wrmsr(MSR_CSTAR, stub);
    /* Arrive with interrupts off and a known direction/trap/alignment state. */
    wrmsr(MSR_FMASK, X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF |
                         X86_EFLAGS_NT | X86_EFLAGS_AC);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* A null SYSENTER_CS makes SYSENTER fault instead of entering Keel. */
    if (cpuid(1).edx & (1U << 11))
        wrmsr(MSR_SYSENTER_CS, 0);
}

/* Guests use SSE: FXSAVE/FXRSTOR and SSE exceptions must be enabled, and
 * CR0.TS must raise #NM for the FPU as well as for WAIT (MP). */
static void fpu_init_cpu(void)
{
    write_cr4(read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
    write_cr0((read_cr0() | X86_CR0_MP | X86_CR0_NE) & ~(X86_CR0_EM | X86_CR0_TS));
}

void traps_init_cpu(unsigned cpu)
{
    BUG_ON(cpu >= NR_CPUS);
    fpu_init_cpu();
    fill_gdt(cpu);
    fill_tss(cpu);
    load_tables(cpu);
    init_syscall(cpu);
}

unsigned long ist_stack_top(unsigned cpu, unsigned ist)
{
    BUG_ON(cpu >= NR_CPUS || ist < 1 || ist > IST_COUNT);
    return (unsigned long)ist_blocks[cpu][ist - 1]->info;
}

/* Once Keel's own page tables exist: the boot CPU's IST guard pages. */
void traps_protect_boot_stacks(void)
{
    for (unsigned i = 0; i < IST_COUNT; i++)
        unmap_pages((unsigned long)bsp_ist[i].guard, PAGE_SIZE);
}

unsigned long ist_stack_guard(unsigned cpu, unsigned ist)
{
    BUG_ON(cpu >= NR_CPUS || ist < 1 || ist > IST_COUNT || !ist_blocks[cpu][ist - 1]);
    return (unsigned long)ist_blocks[cpu][ist - 1]->guard;
}
