/*
 * Exceptions and interrupts, after entry.S has built struct regs.  Faults
 * in Keel first consult the exception-fixup table; anything else is fatal:
 * a register dump, a symbolised backtrace, and a clean halt.  Exceptions
 * from ring 3 (PV guests) will be bounced to the guest; for now they are
 * fatal too.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/percpu.h>
#include <asm/pv.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <asm/uaccess.h>
#include <keel/console.h>
#include <keel/shutdown.h>
#include <keel/softirq.h>
#include <keel/symbols.h>

#define MAX_BACKTRACE_FRAMES 32
#define UNEXPECTED_IRQ_REPORTS 5

static const char *const trap_names[32] = {
    [TRAP_DE] = "#DE divide error",
    [TRAP_DB] = "#DB debug",
    [TRAP_NMI] = "NMI",
    [TRAP_BP] = "#BP breakpoint",
    [TRAP_OF] = "#OF overflow",
    [TRAP_BR] = "#BR bound range",
    [TRAP_UD] = "#UD invalid opcode",
    [TRAP_NM] = "#NM device not available",
    [TRAP_DF] = "#DF double fault",
    [9] = "coprocessor segment overrun",
    [TRAP_TS] = "#TS invalid TSS",
    [TRAP_NP] = "#NP segment not present",
    [TRAP_SS] = "#SS stack fault",
    [TRAP_GP] = "#GP general protection",
    [TRAP_PF] = "#PF page fault",
    [TRAP_MF] = "#MF x87 error",
    [TRAP_AC] = "#AC alignment check",
    [TRAP_MC] = "#MC machine check",
    [TRAP_XM] = "#XM SIMD error",
    [TRAP_VE] = "#VE virtualisation",
    [TRAP_CP] = "#CP control protection",
    [TRAP_HV] = "#HV hypervisor injection",
    [TRAP_VC] = "#VC VMM communication",
    [TRAP_SX] = "#SX security",
};

static irq_handler_t irq_handlers[256];
static void (*nmi_callback)(struct regs *regs);
static unsigned int unexpected_irqs;
static DEFINE_PER_CPU(struct fixup_info, fixup_info);
static DEFINE_PER_CPU(int, fatal_depth);

extern const struct extable_entry __ex_table_start[], __ex_table_end[];

static const char *trap_name(unsigned vec)
{
    if (vec < 32)
        return trap_names[vec] ? trap_names[vec] : "reserved exception";
    return vec == TRAP_SYSCALL ? "SYSCALL" : "interrupt";
}

unsigned long search_extable(unsigned long rip)
{
    /* A few dozen entries at most: a linear scan is plenty. */
    for (const struct extable_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if ((unsigned long)&e->insn + e->insn == rip)
            return (unsigned long)&e->fixup + e->fixup;
    return 0;
}

const struct fixup_info *last_fixup(void)
{
    return &this_cpu(fixup_info);
}

/* ------------------------------------------------------------ crash dump */

static void print_symbol(unsigned long addr, bool return_address)
{
    unsigned long off;
    /* A return address may sit just past its call's function. */
    const char *name = symbol_lookup(addr - return_address, &off);

    if (name)
        printk(KLOG_ERR "  [%016lx] %s+%#lx\n", addr, name, off + return_address);
    else
        printk(KLOG_ERR "  [%016lx] ?\n", addr);
}

/* The stack being walked may be the broken thing: read it through the fixup. */
static bool read_stack_word(unsigned long addr, unsigned long *out)
{
    return copy_from_user_safe(out, (const void *)addr, sizeof(*out)) == 0;
}

/*
 * GCC gives no frame to functions that need no stack, and a function caught
 * in its prologue has not linked its frame yet; in both cases its return
 * address is still on top of the stack, not in the rbp chain.
 */
static unsigned long unlinked_return_address(unsigned long rip, unsigned long rsp,
                                             unsigned long hi)
{
    static const u8 prologue[4] = {0x55, 0x48, 0x89, 0xe5}; /* push rbp; mov rsp,rbp */
    unsigned long off, slot, ret;

    if (!symbol_lookup(rip, &off))
        return 0;
    bool framed = !memcmp((const void *)(rip - off), prologue, sizeof(prologue));
    if (framed && off >= sizeof(prologue))
        return 0;
    slot = rsp + (framed && off > 0 ? 8 : 0);
    if (slot + 8 > hi || !read_stack_word(slot, &ret))
        return 0;
    return symbol_lookup(ret - 1, &off) ? ret : 0;
}

void show_backtrace(unsigned long rip, unsigned long rbp, unsigned long rsp)
{
    /* Frames must lie in the stack that holds rsp, each above the last. */
    unsigned long lo = rsp;
    unsigned long hi = ALIGN_DOWN(rsp, STACK_SIZE) + STACK_SIZE;
    unsigned long caller = unlinked_return_address(rip, rsp, hi);

    /* A wild RSP (the usual cause of a #DF) says nothing about where the
     * frames are: follow RBP's stack instead. */
    if (ALIGN_DOWN(rbp, STACK_SIZE) != ALIGN_DOWN(rsp, STACK_SIZE)) {
        lo = rbp;
        hi = ALIGN_DOWN(rbp, STACK_SIZE) + STACK_SIZE;
    }

    printk(KLOG_ERR "Backtrace:\n");
    print_symbol(rip, false);
    if (caller)
        print_symbol(caller, true);
    for (int i = 0; i < MAX_BACKTRACE_FRAMES; i++) {
        unsigned long next, ret;
        if (rbp < lo || rbp + 16 > hi || !IS_ALIGNED(rbp, 8) ||
            !read_stack_word(rbp, &next) || !read_stack_word(rbp + 8, &ret) || !ret)
            return;
        print_symbol(ret, true);
        lo = rbp + 16;
        rbp = next;
    }
    printk(KLOG_ERR "  ... (more frames)\n");
}

void show_registers(const struct regs *r)
{
    unsigned long off;
    const char *sym = symbol_lookup(r->rip, &off);

    printk(KLOG_ERR "RIP: %04lx:%016lx %s+%#lx\n", r->cs, r->rip, sym ? sym : "?",
           sym ? off : 0);
    printk(KLOG_ERR "RFLAGS: %016lx  RSP: %016lx  SS: %04lx\n", r->rflags, r->rsp, r->ss);
    printk(KLOG_ERR "RAX: %016lx  RBX: %016lx  RCX: %016lx\n", r->rax, r->rbx, r->rcx);
    printk(KLOG_ERR "RDX: %016lx  RSI: %016lx  RDI: %016lx\n", r->rdx, r->rsi, r->rdi);
    printk(KLOG_ERR "RBP: %016lx  R8:  %016lx  R9:  %016lx\n", r->rbp, r->r8, r->r9);
    printk(KLOG_ERR "R10: %016lx  R11: %016lx  R12: %016lx\n", r->r10, r->r11, r->r12);
    printk(KLOG_ERR "R13: %016lx  R14: %016lx  R15: %016lx\n", r->r13, r->r14, r->r15);
    printk(KLOG_ERR "CR0: %016lx  CR2: %016lx  CR3: %016lx  CR4: %016lx\n", read_cr0(),
           read_cr2(), read_cr3(), read_cr4());
}

__noreturn void fatal_trap(const struct regs *r, const char *why)
{
    unsigned vec = r->entry_vector;

    local_irq_disable();
    console_force_unlock(); /* we may have died holding it */
    /* A fault while dumping must not recurse: just stop. */
    if (this_cpu(fatal_depth)++) {
        printk(KLOG_ERR "*** Keel: nested fatal trap %u at %016lx\n", vec, r->rip);
        machine_halt(KEEL_EXIT_PANIC);
    }
    printk(KLOG_ERR "\n*** Keel fatal trap: vector %u (%s), error code %#06x, CPU %u, %s\n",
           vec, trap_name(vec), r->error_code, smp_processor_id(), why);
    if (vec == TRAP_PF)
        printk(KLOG_ERR "Page fault at %016lx: %s %s, %s mode\n", read_cr2(),
               r->error_code & 1 ? "protection" : "not-present",
               r->error_code & 16 ? "fetch" : r->error_code & 2 ? "write" : "read",
               r->error_code & 4 ? "user" : "supervisor");
    show_registers(r);
    if (!regs_from_guest(r))
        show_backtrace(r->rip, r->rbp, r->rsp);
    panic("fatal trap %s in %s", trap_name(vec), regs_from_guest(r) ? "guest" : "Keel");
}

/* ------------------------------------------------------------- dispatch */

static void do_nmi(struct regs *r)
{
    smp_nmi_stop_check(); /* machine_halt parks the other CPUs by NMI */
    if (smp_nmi_stuck_check(r))
        return; /* asked for by a CPU waiting on this one: no printk here */
    if (nmi_callback)
        nmi_callback(r);
    else
        printk(KLOG_WARN "NMI on CPU %u at %016lx ignored\n", smp_processor_id(), r->rip);
}

/*
 * #DB inside Keel (on its own stack): a single step that followed a guest
 * in (MOV SS then SYSCALL: the trap is delivered at the first instruction
 * of the SYSCALL stub), or a guest's data breakpoint on memory Keel
 * touched for it.  Both are the guest's doing and harmless: note it and
 * go on, as Xen does; never a fixup (the copy did happen) nor a panic.
 */
static DEFINE_PER_CPU(unsigned long, keel_db_traps);

static void debug_in_keel(struct regs *r)
{
    static unsigned int reported;
    unsigned long dr6;

    __asm__ __volatile__("mov %%db6, %0" : "=r"(dr6));
    __asm__ __volatile__("mov %0, %%db6" ::"r"(0xffff0ff0UL));
    r->rflags &= ~X86_EFLAGS_TF;
    this_cpu(keel_db_traps)++;
    if (__atomic_fetch_add(&reported, 1, __ATOMIC_RELAXED) < 5)
        printk(KLOG_WARN "#DB in Keel at %016lx (rsp %016lx, dr6 %lx): ignored\n", r->rip,
               r->rsp, dr6);
}

unsigned long debug_traps_in_keel(void)
{
    return this_cpu(keel_db_traps);
}

static void do_exception(struct regs *r)
{
    unsigned vec = r->entry_vector;
    unsigned long fixup;

    if (vec == TRAP_NMI) {
        do_nmi(r);
        return;
    }
    if (vec == TRAP_DB && !regs_from_guest(r)) {
        debug_in_keel(r);
        return;
    }
    if (regs_from_guest(r)) {
        pv_do_exception(r);
        return;
    }
    /* A double fault or machine check has no trustworthy context to resume. */
    if (vec != TRAP_DF && vec != TRAP_MC && (fixup = search_extable(r->rip))) {
        struct fixup_info *fi = &this_cpu(fixup_info);
        fi->vector = vec;
        fi->error_code = r->error_code;
        fi->cr2 = vec == TRAP_PF ? read_cr2() : 0;
        r->rip = fixup;
        return;
    }
    fatal_trap(r, "in Keel");
}

static void do_irq(struct regs *r)
{
    u8 vec = (u8)r->entry_vector;

    /* The APIC sends a spurious vector without setting an in-service bit:
     * it must not be acknowledged. */
    if (vec == VECTOR_SPURIOUS)
        return;
    if (irq_handlers[vec])
        irq_handlers[vec](r);
    else if (unexpected_irqs++ < UNEXPECTED_IRQ_REPORTS)
        printk(KLOG_WARN "unexpected interrupt vector %#x on CPU %u\n", vec,
               smp_processor_id());
    lapic_eoi();
    /* Interrupted code that had interrupts on holds no IRQ-safe lock, so
     * deferred work can run now, before we return to it. */
    if (r->rflags & X86_EFLAGS_IF)
        process_pending_softirqs();
}

void do_trap(struct regs *r);
void do_trap(struct regs *r)
{
    if (r->entry_vector < FIRST_IRQ_VECTOR)
        do_exception(r);
    else
        do_irq(r);
}


int set_irq_handler(u8 vector, irq_handler_t fn)
{
    if (vector < FIRST_IRQ_VECTOR || vector == VECTOR_SPURIOUS)
        return -1;
    __atomic_store_n(&irq_handlers[vector], fn, __ATOMIC_RELEASE);
    return 0;
}

void set_nmi_callback(void (*fn)(struct regs *regs))
{
    __atomic_store_n(&nmi_callback, fn, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ crash test */

/* Addresses no Keel mapping will ever cover: guest-half and non-canonical. */
#define UNMAPPED_ADDR 0x00007f0000000000UL
#define NONCANONICAL_ADDR 0x8000000000000000UL

static __attribute__((noinline)) void crash_pf(void)
{
    (void)*(volatile u64 *)UNMAPPED_ADDR;
}

static __attribute__((noinline)) void crash_gp(void)
{
    (void)*(volatile u64 *)NONCANONICAL_ADDR;
}

static __attribute__((noinline)) void crash_ud(void)
{
    __asm__ __volatile__("ud2");
}

static __attribute__((noinline)) void crash_div(void)
{
    unsigned int lo = 1, hi = 0, zero = 0;
    /* In assembly: the compiler may legally rewrite a C division by zero. */
    __asm__ __volatile__("divl %2" : "+a"(lo), "+d"(hi) : "r"(zero));
}

/* A #PF that cannot push its frame becomes a #DF, taken on its IST stack. */
static __attribute__((noinline)) void crash_df(void)
{
    __asm__ __volatile__("mov %0, %%rsp\n\tpushq $0" ::"r"(UNMAPPED_ADDR) : "memory");
}

/* SYSCALL works from ring 0 too, which tests the LSTAR trampolines now. */
static __attribute__((noinline)) void crash_syscall(void)
{
    __asm__ __volatile__("syscall" ::: "rcx", "r11", "memory");
}

void crashtest(const char *kind)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {{"pf", crash_pf}, {"gp", crash_gp}, {"ud", crash_ud}, {"div", crash_div},
               {"df", crash_df}, {"syscall", crash_syscall}};

    for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
        if (!strcmp(kind, tests[i].name)) {
            printk("crashtest: %s\n", kind);
            tests[i].fn();
            printk(KLOG_ERR "crashtest: %s did not fault\n", kind);
            return;
        }
    printk(KLOG_WARN "crashtest: unknown kind '%s' (pf, gp, ud, div, df, syscall)\n", kind);
}
