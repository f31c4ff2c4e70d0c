/* Boot self-tests for descriptor tables, exception fixups and interrupts. */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <asm/uaccess.h>
#include <keel/console.h>
#include <keel/selftest.h>
#include <keel/spinlock.h>
#include <keel/symbols.h>

#define UNMAPPED_ADDR ((void *)0x00007f0000000000UL)
#define NONCANONICAL_ADDR ((void *)0x8000000000000000UL)
#define TEST_VECTOR 0x40

SELFTEST(idt_exceptions, "IDT: vectors 0-31 go to their stubs")
{
    for (unsigned v = 0; v < 32; v++) {
        u16 sel;
        u8 ist, attr;
        unsigned long target = idt_gate_target(v, &sel, &ist, &attr);
        if (target != entry_stubs[v] || sel != KEEL_CS || !(attr & 0x80) ||
            (attr & 0x1f) != 0x0e) {
            printk("idt: vector %u: target %lx sel %#x attr %#x\n", v, target, sel, attr);
            return -1;
        }
        if ((v == 8 || v == 2 || v == 18 || v == 1) != (ist != 0)) {
            printk("idt: vector %u: IST %u\n", v, ist);
            return -1;
        }
    }
    return 0;
}

SELFTEST(fixup_int3, "traps: int3 resumes through the fixup table")
{
    int hit = 0;

    /* int3 is a trap: the saved RIP is the instruction after it. */
    __asm__ __volatile__("int3\n"
                         "1: jmp 3f\n"
                         "2: movl $1, %0\n"
                         "3:\n" EXTABLE(1b, 2b)
                         : "+r"(hit));
    return hit == 1 && last_fixup()->vector == 3 ? 0 : -1;
}

SELFTEST(fixup_ud2, "traps: ud2 resumes through the fixup table")
{
    int hit = 0;

    __asm__ __volatile__("1: ud2\n"
                         "   jmp 3f\n"
                         "2: movl $1, %0\n"
                         "3:\n" EXTABLE(1b, 2b)
                         : "+r"(hit));
    return hit == 1 && last_fixup()->vector == 6 ? 0 : -1;
}

SELFTEST(copy_safe, "uaccess: faulting copies fail instead of crashing")
{
    static char src[32] = "keel copy test", dst[32];
    size_t left;

    if ((left = copy_from_user_safe(dst, src, sizeof(src))) != 0 || strcmp(dst, src))
        goto bad;
    if ((left = copy_from_user_safe(dst, UNMAPPED_ADDR, 16)) != 16 ||
        last_fixup()->vector != 14 || last_fixup()->cr2 != (unsigned long)UNMAPPED_ADDR)
        goto bad;
    if ((left = copy_from_user_safe(dst, NONCANONICAL_ADDR, 16)) != 16 ||
        last_fixup()->vector != 13)
        goto bad;
    if ((left = copy_to_user_safe(UNMAPPED_ADDR, src, 8)) != 8 || last_fixup()->vector != 14)
        goto bad;
    if ((left = copy_to_user_safe(NONCANONICAL_ADDR, src, 8)) != 8)
        goto bad;
    return 0;
bad:
    printk("uaccess: %zu bytes left, last fault vector %u\n", left, last_fixup()->vector);
    return -1;
}

SELFTEST(symbols, "symbols: addresses resolve to function names")
{
    unsigned long off;
    const char *name = symbol_lookup((unsigned long)traps_init + 3, &off);

    if (!name || strcmp(name, "traps_init") || off != 3) {
        printk("symbols: traps_init+3 -> %s+%#lx\n", name ? name : "?", off);
        return -1;
    }
    return symbol_lookup(0x1000, &off) ? -1 : 0;
}

static volatile int test_irqs;

static void test_irq(struct regs *r)
{
    (void)r;
    test_irqs++;
}

SELFTEST(irq_dispatch, "irq: self-IPIs reach their handler and are EOIed")
{
    unsigned long spins = 0;

    test_irqs = 0;
    if (set_irq_handler(TEST_VECTOR, test_irq) || !set_irq_handler(3, test_irq))
        return -1;
    local_irq_enable();
    /* The second IPI is only delivered if the first one was EOIed. */
    for (int i = 0; i < 2; i++) {
        lapic_send_ipi(lapic_id(), TEST_VECTOR);
        while (test_irqs <= i && ++spins < 100000000)
            __asm__ __volatile__("pause");
    }
    local_irq_disable();
    set_irq_handler(TEST_VECTOR, NULL);
    if (test_irqs != 2) {
        printk("irq: %d of 2 self-IPIs arrived\n", test_irqs);
        return -1;
    }
    return 0;
}

static volatile int nmi_ok, nmi_seen;

static void test_nmi(struct regs *r)
{
    unsigned long top = ist_stack_top(0, IST_NMI), at = (unsigned long)r;

    nmi_seen++;
    /* On the NMI stack, and still able to tell which CPU this is. */
    nmi_ok = at < top && at >= top - IST_STACK_SIZE && smp_processor_id() == 0;
}

SELFTEST(nmi_ist, "traps: a self-NMI runs on the NMI stack and returns")
{
    unsigned long spins = 0;

    if (smp_processor_id() != 0)
        return 0;
    nmi_seen = nmi_ok = 0;
    set_nmi_callback(test_nmi);
    lapic_send_icr(lapic_id(), ICR_NMI);
    while (!nmi_seen && ++spins < 100000000)
        __asm__ __volatile__("pause");
    set_nmi_callback(NULL);
    return nmi_seen == 1 && nmi_ok ? 0 : -1;
}

SELFTEST(ist_guards, "traps: every CPU's interrupt stacks have a guard page")
{
    for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
        if (!cpu_online(cpu))
            continue;
        for (unsigned ist = 1; ist <= IST_COUNT; ist++) {
            unsigned long g = ist_stack_guard(cpu, ist);
            if (lookup_pte(g, NULL) & _PAGE_PRESENT) {
                printk("traps: CPU%u IST%u guard page %#lx is mapped\n", cpu, ist, g);
                return -1;
            }
            if (!(lookup_pte(g + PAGE_SIZE, NULL) & _PAGE_PRESENT)) {
                printk("traps: CPU%u IST%u stack %#lx is not mapped\n", cpu, ist, g + PAGE_SIZE);
                return -1;
            }
        }
    }
    return 0;
}

/*
 * #DB in Keel with an unusable stack pointer (what the SYSCALL stub has for
 * a few instructions): single-step one instruction that loads a bad RSP.
 * Only an interrupt stack saves this from becoming a #DF; the handler
 * clears TF and Keel goes on.
 */
SELFTEST(db_on_ist, "traps: #DB in Keel runs on its own stack, even with a bad RSP")
{
    unsigned long before = debug_traps_in_keel(), f = irq_save();

    __asm__ __volatile__("mov %%rsp, %%r12\n\t"
                         "pushfq\n\t"
                         "orq $0x100, (%%rsp)\n\t"
                         "popfq\n\t"
                         "movabs %0, %%rsp\n\t" /* the single-step trap comes here */
                         "mov %%r12, %%rsp\n\t"
                         ::"i"(UNMAPPED_ADDR)
                         : "r12", "memory");
    irq_restore(f);
    return debug_traps_in_keel() == before + 1 ? 0 : -1;
}
