/*
 * SMP: start the application processors listed in the MADT, and the IPIs
 * Keel sends between CPUs (event check, function call, stop).
 *
 * APs start one at a time with INIT-SIPI-SIPI into trampoline.S at
 * TRAMPOLINE_PA.  They first run on a private copy of the boot CPU's L4 with
 * slot 0 pointing at an identity map of the low 2 MiB (the trampoline page
 * must be reachable by its physical address while paging turns on), then
 * switch to the boot CPU's CR3 once they run at Keel's high addresses.
 */
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/io.h>
#include <asm/layout.h>
#include <asm/percpu.h>
#include <asm/smp.h>
#include <keel/acpi.h>
#include <asm/desc.h>
#include <asm/hvm.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/sched.h>
#include <keel/softirq.h>
#include <keel/time.h>
#include <keel/options.h>
#include <keel/selftest.h>
#include <keel/spinlock.h>

#define TRAMP_ABANDONED 0
#define TRAMP_WAITING 1
#define TRAMP_CLAIMED 2

/* Architectural start-up delays (SDM MP initialisation) and our patience. */
#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
#define CLAIM_TIMEOUT_US 1000000
#define ONLINE_TIMEOUT_US 2000000
#define CALL_TIMEOUT_US 1000000
#define STOP_TIMEOUT_US 100000

#define PT_PRESENT_RW 0x3UL
#define PT_LARGE 0x80UL
#define CR3_ADDR_MASK 0x000ffffffffff000UL

u64 cpu_online_mask;
u32 cpu_to_apic_id[NR_CPUS];
/* Read by trampoline.S on the AP being started. */
u64 ap_boot_cr3, ap_boot_cr4, ap_boot_stack;
__noreturn void ap_start(void);

extern const u8 trampoline_start[], trampoline_end[];
extern const u8 tramp_apic_id[], tramp_state[], tramp_cr3[], tramp_efer[], tramp_cr0[];

static u64 ap_l4[512] __aligned(PAGE_SIZE);
static u64 ap_l3[512] __aligned(PAGE_SIZE);
static u64 ap_l2[512] __aligned(PAGE_SIZE);
static u8 *tramp_va;
static unsigned int smp_expected = 1; /* CPUs we meant to have online */

/* ------------------------------------------------------------------ delay */
/* Delays and timeouts use the TSC, calibrated by time_init. */
static u64 tsc_deadline(unsigned long us)
{
    return rdtsc() + us * tsc_khz() / 1000;
}

void smp_udelay(unsigned long us)
{
    u64 end = tsc_deadline(us);

    while (rdtsc() < end)
        cpu_relax();
}

/* Polls cond until it holds or us microseconds pass; yields cond. */
#define WAIT_US(cond, us)                                                      \
    ({                                                                         \
        u64 end_ = tsc_deadline(us);                                           \
        bool ok_;                                                              \
        while (!(ok_ = (cond)) && rdtsc() < end_)                              \
            cpu_relax();                                                       \
        ok_;                                                                   \
    })

/* ------------------------------------------------------------- bring-up */
static volatile u32 *tramp_field(const u8 *sym)
{
    return (volatile u32 *)(tramp_va + (sym - trampoline_start));
}

/* Low memory is never given to the allocator; the direct map covers it. */
static void trampoline_setup(void)
{
    size_t size = (size_t)(trampoline_end - trampoline_start);
    paddr_t l4_pa = read_cr3() & CR3_ADDR_MASK;

    BUG_ON(size > PAGE_SIZE);
    tramp_va = __va(TRAMPOLINE_PA);
    memcpy(tramp_va, trampoline_start, size);

    memcpy(ap_l4, __va(l4_pa), PAGE_SIZE);
    ap_l2[0] = PT_LARGE | PT_PRESENT_RW;
    ap_l3[0] = __pa_image(ap_l2) | PT_PRESENT_RW;
    ap_l4[0] = __pa_image(ap_l3) | PT_PRESENT_RW;
    BUG_ON(__pa_image(ap_l4) >> 32); /* CR3 is loaded from 32-bit code */

    *tramp_field(tramp_cr3) = (u32)__pa_image(ap_l4);
    *tramp_field(tramp_efer) = (u32)(rdmsr(MSR_EFER) & (EFER_LME | EFER_SCE | EFER_NXE));
    *tramp_field(tramp_cr0) = (u32)read_cr0();
    ap_boot_cr3 = read_cr3();
    ap_boot_cr4 = read_cr4();
}

enum boot_result { BOOT_OK, BOOT_NO_MEMORY, BOOT_NO_RESPONSE, BOOT_STUCK };

static bool tramp_claimed(void)
{
    return __atomic_load_n(tramp_field(tramp_state), __ATOMIC_ACQUIRE) == TRAMP_CLAIMED;
}

static void send_init_sipi_sipi(u32 apic_id)
{
    apic_write(APIC_ESR, 0);
    lapic_send_icr(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
    smp_udelay(INIT_DELAY_US);
    for (int i = 0; i < 2 && !tramp_claimed(); i++) {
        lapic_send_icr(apic_id, ICR_STARTUP | (TRAMPOLINE_PA >> 12));
        smp_udelay(SIPI_DELAY_US);
    }
}

/* Gives the AP its stack (cpu_info on top) and per-CPU area. */
static bool prepare_ap(unsigned int cpu, u32 apic_id)
{
    u8 *stack = alloc_cpu_stack(cpu);
    struct cpu_info *ci;

    if (!stack || percpu_alloc(cpu) < 0)
        return false;
    ci = (struct cpu_info *)(stack + STACK_SIZE - CPU_INFO_RESERVE);
    memset(ci, 0, CPU_INFO_RESERVE);
    ci->cpu_id = cpu;
    ci->apic_id = apic_id;
    ci->per_cpu_offset = per_cpu_offset[cpu];
    ap_boot_stack = (u64)(uintptr_t)ci;
    cpu_to_apic_id[cpu] = apic_id;
    return true;
}

static enum boot_result boot_ap(unsigned int cpu, u32 apic_id)
{
    volatile u32 *state = tramp_field(tramp_state);
    u32 waiting = TRAMP_WAITING;

    if (!prepare_ap(cpu, apic_id))
        return BOOT_NO_MEMORY;
    *tramp_field(tramp_apic_id) = apic_id;
    __atomic_store_n(state, TRAMP_WAITING, __ATOMIC_SEQ_CST);
    send_init_sipi_sipi(apic_id);

    /* Withdraw the offer atomically: a late AP then finds it gone and parks. */
    if (!WAIT_US(tramp_claimed(), CLAIM_TIMEOUT_US) &&
        __atomic_compare_exchange_n(state, &waiting, TRAMP_ABANDONED, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return BOOT_NO_RESPONSE;
    if (!WAIT_US(cpu_online(cpu), ONLINE_TIMEOUT_US))
        return BOOT_STUCK;
    return BOOT_OK;
}

void ap_start(void)
{
    unsigned int cpu = smp_processor_id();

    traps_init_cpu(cpu);
    lapic_init();
    time_init_cpu();
    scheduler_cpu_up(cpu); /* before anyone may place a vCPU here */
    hvm_cpu_up(cpu);
    __atomic_fetch_or(&cpu_online_mask, 1UL << cpu, __ATOMIC_SEQ_CST);
    local_irq_enable();
    scheduler_start_cpu(cpu);
    for (;;)
        halt();
}

/* Says why a MADT CPU is not to be started; false when it is. */
static bool skip_cpu(const struct acpi_cpu *c, unsigned int limit, unsigned int next)
{
    const char *why = NULL;

    if (!c->enabled)
        why = "hot-pluggable only";
    else if (!lapic_x2apic_mode() && c->apic_id > 0xfe)
        why = "its APIC id needs x2APIC mode";
    else if (num_online_cpus() >= limit && opts.maxcpus && opts.maxcpus <= NR_CPUS)
        printk("SMP: APIC id %u not started: maxcpus=%u\n", c->apic_id, opts.maxcpus);
    else if (num_online_cpus() >= limit || next >= NR_CPUS)
        why = "Keel's CPU limit reached";
    else
        return false;
    if (why)
        printk("SMP: APIC id %u not started: %s\n", c->apic_id, why);
    return true;
}

static void start_aps(const struct acpi_info *acpi, u32 bsp_id)
{
    unsigned int limit = opts.maxcpus ? MIN(opts.maxcpus, (u32)NR_CPUS) : NR_CPUS;
    unsigned int next = 1;

    for (unsigned int i = 0; i < acpi->nr_cpus; i++) {
        const struct acpi_cpu *c = &acpi->cpus[i];
        enum boot_result r;

        if (c->apic_id == bsp_id || skip_cpu(c, limit, next))
            continue;
        smp_expected++;
        r = boot_ap(next, c->apic_id);
        if (r == BOOT_OK)
            printk("CPU%u: APIC id %u online\n", next, c->apic_id);
        else if (r == BOOT_NO_MEMORY)
            printk(KLOG_ERR "CPU%u: APIC id %u: no memory for stack or per-CPU area; "
                            "skipped\n", next, c->apic_id);
        else if (r == BOOT_NO_RESPONSE)
            printk(KLOG_ERR "CPU%u: APIC id %u did not respond to INIT-SIPI-SIPI; "
                            "skipped\n", next, c->apic_id);
        else
            printk(KLOG_ERR "CPU%u: APIC id %u started but never came online; "
                            "skipped\n", next, c->apic_id);
        /* A CPU that got as far as its stack keeps its number: never reuse. */
        if (r == BOOT_OK || r == BOOT_STUCK)
            next++;
        else
            cpu_to_apic_id[next] = 0;
    }
}

/* ------------------------------------------------------------------ IPIs */
/*
 * Cross-CPU calls never give up: a TLB flush that did not happen is a hole,
 * so the caller waits as long as it takes, saying so once a second and
 * knocking again.  That cannot deadlock because every CPU that waits for
 * another one (spin_relax: locks, frame types, this function's own lock)
 * answers pending calls while it waits, interrupts on or off.
 */
static spinlock_t call_lock = SPINLOCK_INIT;
static int call_holder = -1; /* the CPU in smp_call_function_mask, if any */
static void (*call_fn)(void *);
static void *call_data;
static bool call_wait;
static u64 call_pending;  /* CPUs that have not taken the call yet */
static u64 call_running;  /* CPUs that have not finished it (wait only) */
static int stopping_cpu = -1;
static DEFINE_PER_CPU(unsigned long, event_ipis);

static void run_pending_call(void)
{
    u64 bit = 1UL << smp_processor_id();
    void (*fn)(void *);
    void *data;
    bool wait;

    if (!(__atomic_load_n(&call_pending, __ATOMIC_ACQUIRE) & bit))
        return;
    fn = call_fn;
    data = call_data;
    wait = call_wait;
    /* Taken once, whichever of the IPI and a waiting loop gets here first. */
    if (!(__atomic_fetch_and(&call_pending, ~bit, __ATOMIC_ACQ_REL) & bit))
        return;
    fn(data);
    if (wait)
        __atomic_fetch_and(&call_running, ~bit, __ATOMIC_RELEASE);
}

void smp_serve_calls(void)
{
    run_pending_call();
}

/* traps.c sends the EOI after these return. */
static void ipi_call(struct regs *r)
{
    (void)r;
    run_pending_call();
}

static void ipi_event(struct regs *r)
{
    (void)r;
    this_cpu(event_ipis)++;
}

static __noreturn void stop_this_cpu(void)
{
    __atomic_fetch_and(&cpu_online_mask, ~(1UL << smp_processor_id()), __ATOMIC_SEQ_CST);
    for (;;)
        __asm__ __volatile__("cli; hlt" ::: "memory");
}

static void ipi_stop(struct regs *r)
{
    (void)r;
    stop_this_cpu();
}

void smp_send_event_check(unsigned int cpu)
{
    if (cpu_online(cpu))
        lapic_send_ipi(cpu_to_apic_id[cpu], VECTOR_IPI_EVENT);
}

static void send_to_mask(u64 mask, u32 icr_low)
{
    for (unsigned int c = 0; c < NR_CPUS; c++)
        if (mask & (1UL << c))
            lapic_send_icr(cpu_to_apic_id[c], icr_low);
}

/*
 * A CPU that does not answer a cross-CPU call runs with interrupts off
 * somewhere: an NMI asks it where, so the log names the loop it is stuck
 * in.  The NMI handler only records (printing there could take a console
 * lock the CPU already holds); the waiting CPU prints.
 */
#define STUCK_WORDS 24
static u64 stuck_want;
static struct {
    u64 rip, rflags, rsp, stack[STUCK_WORDS];
    bool guest, valid;
} stuck[NR_CPUS];

bool smp_nmi_stuck_check(const struct regs *r)
{
    unsigned int cpu = smp_processor_id();
    const u64 *sp = (const u64 *)r->rsp;

    if (!(__atomic_load_n(&stuck_want, __ATOMIC_ACQUIRE) & (1UL << cpu)))
        return false;
    stuck[cpu].rip = r->rip;
    stuck[cpu].rflags = r->rflags;
    stuck[cpu].rsp = r->rsp;
    stuck[cpu].guest = regs_from_guest(r);
    for (unsigned int i = 0; !stuck[cpu].guest && i < STUCK_WORDS; i++)
        stuck[cpu].stack[i] = sp[i]; /* Keel's own stack: mapped */
    __atomic_store_n(&stuck[cpu].valid, true, __ATOMIC_RELEASE);
    __atomic_fetch_and(&stuck_want, ~(1UL << cpu), __ATOMIC_RELEASE);
    return true;
}

static void report_stuck(u64 cpus)
{
    extern char __text_start[], __text_end[];

    for (unsigned int c = 0; c < NR_CPUS; c++)
        stuck[c].valid = false;
    __atomic_store_n(&stuck_want, cpus, __ATOMIC_RELEASE);
    send_to_mask(cpus, ICR_NMI);
    WAIT_US(!__atomic_load_n(&stuck_want, __ATOMIC_ACQUIRE), 100000);
    for (unsigned int c = 0; c < NR_CPUS; c++) {
        if (!((cpus >> c) & 1) || !__atomic_load_n(&stuck[c].valid, __ATOMIC_ACQUIRE))
            continue;
        printk(KLOG_ERR "SMP: CPU %u is at %s rip %016lx rflags %lx rsp %016lx\n", c,
               stuck[c].guest ? "guest" : "Keel", (unsigned long)stuck[c].rip,
               (unsigned long)stuck[c].rflags, (unsigned long)stuck[c].rsp);
        for (unsigned int i = 0; i < STUCK_WORDS; i++)
            if (stuck[c].stack[i] >= (u64)__text_start && stuck[c].stack[i] < (u64)__text_end)
                printk(KLOG_ERR "SMP:   [rsp+%#x] %016lx\n", i * 8,
                       (unsigned long)stuck[c].stack[i]);
    }
}

/* Waits until none of `targets` is left in *word (CPUs that went offline
 * drop out); complains and re-sends the IPI every CALL_TIMEOUT_US. */
static void wait_for_cpus(u64 *word, u64 targets, const char *what)
{
    u64 left, deadline = tsc_deadline(CALL_TIMEOUT_US);
    unsigned int seconds = 0;

    while ((left = __atomic_load_n(word, __ATOMIC_ACQUIRE) & targets &
                   __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE))) {
        cpu_relax();
        if (rdtsc() < deadline)
            continue;
        printk(KLOG_ERR "SMP: CPUs %#lx have not %s a cross-CPU call for %us; waiting\n",
               (unsigned long)left, what, ++seconds);
        if (seconds == 2)
            report_stuck(left);
        send_to_mask(left, VECTOR_IPI_CALL);
        deadline = tsc_deadline(CALL_TIMEOUT_US);
    }
}

int smp_call_function_mask(u64 mask, void (*fn)(void *), void *data, bool wait)
{
    u64 targets;
    int me = (int)smp_processor_id();

    /* From an interrupt that hit this CPU inside its own call: it would
     * wait for itself forever.  Nothing may do that (softirqs that flush
     * other CPUs run at safe points only). */
    if (__atomic_load_n(&call_holder, __ATOMIC_RELAXED) == me)
        panic("cross-CPU call from inside a cross-CPU call on CPU %d", me);
    /* Answer calls aimed at us while we wait: the holder may wait on us. */
    while (!spin_trylock(&call_lock))
        spin_relax();
    __atomic_store_n(&call_holder, me, __ATOMIC_RELAXED);
    targets = mask & __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) &
              ~(1UL << smp_processor_id());
    if (targets) {
        call_fn = fn;
        call_data = data;
        call_wait = wait;
        __atomic_store_n(&call_running, wait ? targets : 0, __ATOMIC_RELAXED);
        __atomic_store_n(&call_pending, targets, __ATOMIC_RELEASE);
        send_to_mask(targets, VECTOR_IPI_CALL);
        wait_for_cpus(&call_pending, targets, "taken");
        if (wait)
            wait_for_cpus(&call_running, targets, "finished");
    }
    __atomic_store_n(&call_holder, -1, __ATOMIC_RELAXED);
    spin_unlock(&call_lock);
    return 0;
}

int smp_call_function(void (*fn)(void *), void *data, bool wait)
{
    return smp_call_function_mask(~0UL, fn, data, wait);
}

void smp_nmi_stop_check(void)
{
    int s = __atomic_load_n(&stopping_cpu, __ATOMIC_ACQUIRE);

    if (s >= 0 && s != (int)smp_processor_id())
        stop_this_cpu();
}

static bool others_stopped(u64 others)
{
    return !(__atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) & others);
}

void smp_stop_others(void)
{
    int me = (int)smp_processor_id(), expect = -1;
    u64 others;

    /* Two CPUs halting at once: the first one wins, the other parks. */
    if (!__atomic_compare_exchange_n(&stopping_cpu, &expect, me, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
        if (expect != me)
            stop_this_cpu();
        return;
    }
    others = __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) & ~(1UL << me);
    if (!others)
        return;
    send_to_mask(others, VECTOR_IPI_STOP);
    if (WAIT_US(others_stopped(others), STOP_TIMEOUT_US))
        return;
    /* Someone runs with interrupts off: an NMI still gets through. */
    send_to_mask(others & cpu_online_mask, ICR_NMI);
    if (!WAIT_US(others_stopped(others), STOP_TIMEOUT_US))
        printk(KLOG_WARN "SMP: CPUs %#lx did not stop\n",
               (unsigned long)(others & cpu_online_mask));
    console_force_unlock(); /* an NMI may have caught a CPU inside printk */
}

/* ------------------------------------------------------------------ init */
void smp_init(void)
{
    const struct acpi_info *acpi = acpi_get_info();
    u32 bsp_id = lapic_id();
    bool bsp_listed = false;

    cpu_to_apic_id[0] = bsp_id;
    get_cpu_info()->apic_id = bsp_id;
    __atomic_fetch_or(&cpu_online_mask, 1UL, __ATOMIC_SEQ_CST);
    lapic_register_vectors();
    set_irq_handler(VECTOR_IPI_EVENT, ipi_event);
    set_irq_handler(VECTOR_IPI_CALL, ipi_call);
    set_irq_handler(VECTOR_IPI_STOP, ipi_stop);
    printk("CPU0: APIC id %u online (boot CPU, %s)\n", bsp_id,
           lapic_x2apic_mode() ? "x2APIC" : "xAPIC");

    if (acpi)
        for (unsigned int i = 0; i < acpi->nr_cpus; i++)
            bsp_listed |= acpi->cpus[i].apic_id == bsp_id;
    if (acpi && !bsp_listed)
        printk(KLOG_WARN "SMP: boot CPU's APIC id %u is not in the MADT\n", bsp_id);
    if (acpi && acpi->nr_cpus > 1) {
        trampoline_setup();
        start_aps(acpi, bsp_id);
    }
    printk("SMP: %u CPU%s online\n", num_online_cpus(), num_online_cpus() == 1 ? "" : "s");
}

/* ------------------------------------------------------------- selftests */
/*
 * Each CPU takes the lock up to LOCK_ITERS times, stopping early at a
 * deadline: with more vCPUs than host threads a fair lock hands over at
 * host-scheduler speed under TCG.  The check is exact either way: the
 * counter must equal the sum of what the CPUs say they added.
 */
#define LOCK_ITERS 2000
#define LOCK_BUDGET_US 1000000

static spinlock_t st_lock = SPINLOCK_INIT;
static unsigned long st_counter, st_added;
static u32 st_done, st_arrived, st_cpus;
static u64 st_deadline;
static DEFINE_PER_CPU(unsigned long, st_marker);
static u32 st_seen_apic[NR_CPUS];

/* A read-modify-write split in two: only the lock keeps it exact. */
static void st_lock_work(void *arg)
{
    unsigned long i;

    (void)arg;
    /* Start together, or the CPUs may take turns and never contend. */
    __atomic_fetch_add(&st_arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&st_arrived, __ATOMIC_ACQUIRE) < st_cpus && rdtsc() < st_deadline)
        cpu_relax();
    for (i = 0; i < LOCK_ITERS && rdtsc() < st_deadline; i++) {
        spin_lock(&st_lock);
        unsigned long v = READ_ONCE(st_counter);
        for (int k = 0; k < 8; k++) /* widen the window a broken lock leaves */
            cpu_relax();
        WRITE_ONCE(st_counter, v + 1);
        spin_unlock(&st_lock);
    }
    __atomic_fetch_add(&st_added, i, __ATOMIC_RELAXED);
    __atomic_fetch_add(&st_done, 1, __ATOMIC_RELEASE);
}

SELFTEST(smp_spinlock, "spinlock: contended counter on all CPUs")
{
    unsigned int n = num_online_cpus();

    st_counter = st_added = 0;
    st_done = st_arrived = 0;
    st_cpus = n;
    st_deadline = tsc_deadline(LOCK_BUDGET_US);
    if (smp_call_function(st_lock_work, NULL, false))
        return -1;
    st_lock_work(NULL);
    if (!WAIT_US(__atomic_load_n(&st_done, __ATOMIC_ACQUIRE) == n, 10 * CALL_TIMEOUT_US)) {
        printk("  only %u of %u CPUs finished\n", st_done, n);
        return -1;
    }
    if (st_counter != st_added || !st_added) {
        printk("  counter %lu, expected %lu\n", st_counter, st_added);
        return -1;
    }
    return 0;
}

static void st_mark(void *arg)
{
    unsigned int cpu = smp_processor_id();

    (void)arg;
    this_cpu(st_marker) = 0x5e1f0000UL + cpu;
    st_seen_apic[cpu] = lapic_id();
}

SELFTEST(percpu_distinct, "percpu: every CPU has its own copy")
{
    unsigned int c, d;

    st_mark(NULL);
    if (smp_call_function(st_mark, NULL, true))
        return -1;
    for_each_online_cpu(c) {
        if (per_cpu(st_marker, c) != 0x5e1f0000UL + c) {
            printk("  CPU%u's copy holds %#lx\n", c, per_cpu(st_marker, c));
            return -1;
        }
        for (d = 0; d < c; d++)
            if (cpu_online(d) && &per_cpu(st_marker, d) == &per_cpu(st_marker, c)) {
                printk("  CPU%u and CPU%u share a copy\n", d, c);
                return -1;
            }
    }
    return 0;
}

static bool madt_has_enabled(u32 apic_id)
{
    const struct acpi_info *acpi = acpi_get_info();

    for (unsigned int i = 0; acpi && i < acpi->nr_cpus; i++)
        if (acpi->cpus[i].apic_id == apic_id && acpi->cpus[i].enabled)
            return true;
    return !acpi && apic_id == cpu_to_apic_id[0];
}

SELFTEST(smp_online, "smp: expected CPUs online with their MADT APIC ids")
{
    unsigned int c;

    if (num_online_cpus() != smp_expected) {
        printk("  %u CPUs online, expected %u\n", num_online_cpus(), smp_expected);
        return -1;
    }
    memset(st_seen_apic, 0xff, sizeof(st_seen_apic));
    st_mark(NULL);
    if (smp_call_function(st_mark, NULL, true))
        return -1;
    for_each_online_cpu(c) {
        if (st_seen_apic[c] != cpu_to_apic_id[c] || !madt_has_enabled(st_seen_apic[c])) {
            printk("  CPU%u: APIC id %u, expected %u (from the MADT)\n", c, st_seen_apic[c],
                   cpu_to_apic_id[c]);
            return -1;
        }
    }
    return 0;
}

SELFTEST(smp_event_ipi, "smp: event-check IPI reaches every other CPU")
{
    unsigned int c, me = smp_processor_id();

    for_each_online_cpu(c) {
        unsigned long before;

        if (c == me)
            continue;
        before = READ_ONCE(per_cpu(event_ipis, c));
        smp_send_event_check(c);
        if (!WAIT_US(READ_ONCE(per_cpu(event_ipis, c)) != before, CALL_TIMEOUT_US)) {
            printk("  CPU%u did not take the IPI\n", c);
            return -1;
        }
    }
    return 0;
}
