/*
 * The PVH test domU: one image, one area per run, chosen by the command
 * line in hvm_start_info.  Each area checks what a PVH guest relies on and
 * writes its log and verdict into the comm page (tests/pvh/comm.h) for
 * the launcher in dom0:
 *   hypercall  CPUID leaves, the hypercall page, VMMCALL, -XEN_ENOSYS for PV-only
 *              families, HVM features, start_info
 *   callback   shared_info placed by add_to_physmap, an event upcall as the
 *              callback vector, only with interrupts on
 *   timer      VIRQ_TIMER from a singleshot timer, through the callback
 *   cpuid      the leaves and bits a PVH guest sees
 *   upcall     per-vCPU upcall vectors (HVMOP_set_evtchn_upcall_vector) on
 *              both vCPUs (the second started by INIT/STARTUP): the CPUID
 *              bit, error codes, the vector through the local APIC (in
 *              service in the handler, held back until EOI, by TPR, raised
 *              again after EOI for an event that came meanwhile, not for
 *              an upcall left pending), raised when the APIC is enabled,
 *              and the domain-wide callback taking precedence when set
 *   apic       the local APIC: xAPIC MMIO registers, its timer (one-shot and
 *              periodic), self-IPIs and EOI, then the same in x2APIC mode
 *   npf        reads from unpopulated guest-physical space give all-ones,
 *              writes vanish; ballooning a frame out and back in
 *   hostile    port I/O (all-ones), unknown MSRs (#GP), SVM instructions
 *              (#UD), then a triple fault that ends only this guest
 *   gntmap     grant maps into the guest's own physical space: its own grant
 *              mapped at a GPA in a hole (GNTMAP_host_map), read-only grants,
 *              Xen's answers to bad maps and unmaps, the hole after unmap
 *   halt       HLT with interrupts off: the domain powers off
 *   bench      null hypercalls and event round trips, timed with the TSC
 */
#include <stddef.h>
#include <stdint.h>
#include "../comm.h"

#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/memory.h>
#include <xen/vcpu.h>
#include <xen/errno.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/version.h>

#define CALLBACK_VECTOR 0xf3
#define UPCALL_VECTOR 0xd3             /* per-vCPU (area upcall) */
#define AP_TRAMP_PAGE 0x8UL            /* an AP's STARTUP vector: code at 32 KiB */
#define SHINFO_GFN 0x3000UL            /* in the hole above RAM */
#define HOLE_ADDR 0x20000000UL         /* 512 MiB: never populated */

extern uint8_t hypercall_page[];
extern uint8_t stubs_start[];
static struct pvh_comm *const comm = (struct pvh_comm *)(PVH_COMM_GFN << 12);

/* ------------------------------------------------------------ output */

static void *mset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memset(void *d, int c, size_t n);
void *memset(void *d, int c, size_t n)
{
    return mset(d, c, n);
}

static void put(const char *s)
{
    while (*s && comm->log_len < PVH_LOG_SIZE - 1)
        comm->log[comm->log_len++] = *s++;
}

static void put_hex(uint64_t v)
{
    char b[19] = "0x";
    int n = 2;
    for (int i = 60; i >= 0; i -= 4)
        if ((v >> i) || i == 0 || n > 2)
            b[n++] = "0123456789abcdef"[(v >> i) & 15];
    b[n] = 0;
    put(b);
}

static void check(int ok, const char *what, uint64_t got)
{
    comm->checks++;
    if (ok)
        return;
    comm->failed++;
    put("FAIL ");
    put(what);
    put(" (got ");
    put_hex(got);
    put(")\n");
}
#define CHECK(c, got) check((c), #c, (uint64_t)(got))

static void finish(void)
{
    put(comm->failed ? "verdict: FAIL\n" : "verdict: PASS\n");
    __atomic_store_n(&comm->state, comm->failed ? PVH_FAIL : PVH_PASS, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------ CPU bits */

struct cpuid { uint32_t a, b, c, d; };

static struct cpuid cpuid(uint32_t leaf, uint32_t sub)
{
    struct cpuid r;
    __asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
    return r;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* ---------------------------------------------------- traps and probes */

struct frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax, rbx, vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
static struct idt_entry idt[256] __attribute__((aligned(16)));

static volatile uint64_t fixup_rip;
static volatile unsigned int apic_hits[16];
static int x2apic_on;
#define APIC_MMIO ((volatile uint32_t *)0xfee00000UL)

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t apic_read(unsigned int reg)
{
    return x2apic_on ? (uint32_t)rdmsr(0x800 + reg / 16) : APIC_MMIO[reg / 4];
}

static void apic_write(unsigned int reg, uint32_t v)
{
    if (x2apic_on)
        wrmsr(0x800 + reg / 16, v);
    else
        APIC_MMIO[reg / 4] = v;
}
/* An NMI IPI to APIC id 0 (this vCPU), physical destination. */
static void send_nmi_self(void)
{
    if (!x2apic_on)
        APIC_MMIO[0x310 / 4] = 0;
    apic_write(0x300, 4U << 8);
}

static volatile int last_vector = -1;
static volatile unsigned int upcalls;
static volatile uint32_t upcall_if_off_seen;
static volatile uint32_t upcall_nested;
static volatile int in_upcall;
static volatile uint32_t upcall_spin; /* loop turns the handler spends with interrupts off */
static volatile unsigned int nmis, nmis_nested, nmi_resend;
static volatile int in_nmi;
static shared_info_t *shinfo;

/* Area upcall: what the per-vCPU vector's handler saw, per vCPU, and how
 * it behaves (clear the upcall, EOI, send the event again inside). */
struct upcall_state {
    volatile unsigned int count, nested, isr_seen, irr_seen;
    volatile int in, clear, eoi, resend;
    evtchn_port_t port;
};
static struct upcall_state ups[2];
static void upcall_handler(void);

void trap(struct frame *f);
void trap(struct frame *f)
{
    if (f->vector == UPCALL_VECTOR) {
        upcall_handler();
        return;
    }
    if (f->vector == CALLBACK_VECTOR) {
        upcalls++;
        /* An interrupt gate: a callback can only arrive where interrupts
         * were on, and never inside this handler (which runs with them off). */
        if (!(f->rflags & (1U << 9)))
            upcall_if_off_seen++;
        if (in_upcall)
            upcall_nested++;
        in_upcall = 1;
        for (volatile uint32_t i = 0; i < upcall_spin; i++)
            ;
        in_upcall = 0;
        if (shinfo) {
            shinfo->vcpu_info[0].evtchn_upcall_pending = 0;
            __atomic_store_n(&shinfo->vcpu_info[0].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
            for (unsigned int i = 0; i < sizeof(shinfo->evtchn_pending) / 8; i++)
                __atomic_store_n(&shinfo->evtchn_pending[i], 0, __ATOMIC_SEQ_CST);
        }
        return;
    }
    if (f->vector == 2) {
        unsigned int seen;

        nmis++;
        if (in_nmi)
            nmis_nested++;
        in_nmi = 1;
        seen = nmis;
        if (nmi_resend) {
            /* A second NMI sent from inside the first waits for its IRET. */
            nmi_resend = 0;
            send_nmi_self();
            for (volatile int i = 0; i < 200000; i++)
                ;
            if (nmis != seen)
                nmis_nested++;
        }
        in_nmi = 0;
        return;
    }
    if (f->vector >= 0xe0 && f->vector < 0xf0) {
        apic_hits[f->vector - 0xe0]++;
        apic_write(0xb0, 0); /* EOI */
        return;
    }
    if (fixup_rip && f->vector < 32) {
        last_vector = (int)f->vector;
        f->rip = fixup_rip;
        fixup_rip = 0;
        return;
    }
    put("unexpected trap ");
    put_hex(f->vector);
    put(" at ");
    put_hex(f->rip);
    put("\n");
    comm->failed++;
    finish();
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void idt_init(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {sizeof(idt) - 1,
                                                                          (uint64_t)idt};
    for (int i = 0; i < 256; i++) {
        uint64_t a = (uint64_t)stubs_start + 16 * i;
        idt[i] = (struct idt_entry){(uint16_t)a, 0x08, 0, 0x8e, (uint16_t)(a >> 16),
                                    (uint32_t)(a >> 32), 0};
    }
    __asm__ volatile("lidt %0" ::"m"(d));
}

/* The vector an instruction raised (-1: none), skipping it. */
#define PROBE(insn)                                                                 \
    ({                                                                              \
        last_vector = -1;                                                           \
        __asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, %0;" insn "; 1:"         \
                         : "=m"(fixup_rip) : : "rax", "rcx", "rdx", "memory");      \
        last_vector;                                                                \
    })

/* ------------------------------------------------------------ hypercalls */

static long hcall(unsigned int nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    long ret;
    __asm__ volatile("call *%[fn]"
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3)
                     : [fn] "r"(hypercall_page + nr * 32)
                     : "memory", "rcx", "r8", "r10", "r11");
    return ret;
}

static long vmmcall(unsigned int nr, uint64_t a1, uint64_t a2)
{
    long ret;
    __asm__ volatile("vmmcall" : "=a"(ret), "+D"(a1), "+S"(a2) : "a"((uint64_t)nr)
                     : "memory", "rdx", "r8", "r10");
    return ret;
}

static void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) d = {sizeof(idt) - 1,
                                                                          (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}

static void hypercall_page_init(void)
{
    struct cpuid c = cpuid(0x40000002, 0);
    wrmsr(c.b, (uint64_t)hypercall_page);
}

static long evtchn_op(int cmd, void *arg)
{
    return hcall(__HYPERVISOR_event_channel_op, (uint64_t)cmd, (uint64_t)arg, 0);
}

static long memory_op(int cmd, void *arg)
{
    return hcall(__HYPERVISOR_memory_op, (uint64_t)cmd, (uint64_t)arg, 0);
}

static long hvm_op(int cmd, void *arg)
{
    return hcall(__HYPERVISOR_hvm_op, (uint64_t)cmd, (uint64_t)arg, 0);
}

static void place_shared_info(void)
{
    struct xen_add_to_physmap x = {.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
                                   .idx = 0, .gpfn = SHINFO_GFN};
    long rc = memory_op(XENMEM_add_to_physmap, &x);

    CHECK(rc == 0, rc);
    shinfo = (shared_info_t *)(SHINFO_GFN << 12);
}

static void set_callback(void)
{
    struct xen_hvm_param p = {.domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
                              .value = (2ULL << 56) | CALLBACK_VECTOR};
    long rc = hvm_op(HVMOP_set_param, &p);

    CHECK(rc == 0, rc);
}

/* ----------------------------------------------------------------- areas */

static void area_hypercall(const struct hvm_start_info *si)
{
    struct cpuid c = cpuid(0x40000000, 0);
    xen_feature_info_t fi = {.submap_idx = 0};
    struct xen_hvm_param p = {.domid = DOMID_SELF, .index = HVM_PARAM_STORE_PFN};
    uint8_t *stub = hypercall_page + __HYPERVISOR_xen_version * 32;
    domid_t self = DOMID_SELF;
    long rc;

    CHECK(c.b == 0x566e6558 && c.c == 0x65584d4d && c.d == 0x4d4d566e, c.b);
    CHECK(c.a >= 0x40000002, c.a);
    CHECK(cpuid(0x40000001, 0).a == 0x40011, cpuid(0x40000001, 0).a);
    CHECK(cpuid(0x40000002, 0).a == 1, cpuid(0x40000002, 0).a);
    CHECK(si->magic == XEN_HVM_START_MAGIC_VALUE, si->magic);
    CHECK(si->version >= 1, si->version);
    hypercall_page_init();
    /* mov $nr, %eax; vmmcall; ret */
    CHECK(stub[0] == 0xb8 && stub[1] == __HYPERVISOR_xen_version && stub[5] == 0x0f &&
          stub[6] == 0x01 && stub[7] == 0xd9 && stub[8] == 0xc3, stub[5]);
    rc = hcall(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
    CHECK(rc == 0x40011, rc);
    rc = vmmcall(__HYPERVISOR_xen_version, XENVER_version, 0);
    CHECK(rc == 0x40011, rc);
    rc = hcall(__HYPERVISOR_xen_version, XENVER_get_features, (uint64_t)&fi, 0);
    CHECK(rc == 0, rc);
    CHECK(fi.submap & (1U << XENFEAT_hvm_callback_vector), fi.submap);
    CHECK(fi.submap & (1U << XENFEAT_auto_translated_physmap), fi.submap);
    CHECK(fi.submap & (1U << XENFEAT_hvm_safe_pvclock), fi.submap);
    CHECK(!(fi.submap & (1U << XENFEAT_direct_mapped)), fi.submap);
    /* The PV-only families are not there for an HVM guest. */
    rc = hcall(__HYPERVISOR_mmu_update, 0, 0, 0);
    CHECK(rc == -XEN_ENOSYS, rc);
    rc = hcall(__HYPERVISOR_set_trap_table, 0, 0, 0);
    CHECK(rc == -XEN_ENOSYS, rc);
    rc = hcall(__HYPERVISOR_update_va_mapping, 0, 0, 0);
    CHECK(rc == -XEN_ENOSYS, rc);
    rc = memory_op(XENMEM_current_reservation, &self);
    CHECK(rc > 0 && rc <= 2048, rc);
    /* The toolstack's parameters: the guest may read its store page... */
    rc = hvm_op(HVMOP_get_param, &p);
    CHECK(rc == 0, rc);
    /* ...but may not set it. */
    p.value = 5;
    rc = hvm_op(HVMOP_set_param, &p);
    CHECK(rc == -XEN_EPERM, rc);
    p.index = HVM_NR_PARAMS;
    rc = hvm_op(HVMOP_get_param, &p);
    CHECK(rc == -XEN_EINVAL, rc);
    /* A bad guest pointer is -XEN_EFAULT, nothing worse. */
    rc = hcall(__HYPERVISOR_xen_version, XENVER_get_features, HOLE_ADDR, 0);
    CHECK(rc == -XEN_EFAULT, rc);
}

static void enable_irqs(void) { __asm__ volatile("sti; nop" ::: "memory"); }
static void disable_irqs(void) { __asm__ volatile("cli" ::: "memory"); }

static void area_callback(void)
{
    struct evtchn_bind_ipi b = {.vcpu = 0};
    struct evtchn_send s;
    long rc;

    hypercall_page_init();
    place_shared_info();
    set_callback();
    shinfo->vcpu_info[0].evtchn_upcall_mask = 0;
    rc = evtchn_op(EVTCHNOP_bind_ipi, &b);
    CHECK(rc == 0, rc);
    s.port = b.port;
    /* Interrupts off: the event waits. */
    rc = evtchn_op(EVTCHNOP_send, &s);
    CHECK(rc == 0, rc);
    for (volatile int i = 0; i < 100000; i++)
        ;
    CHECK(upcalls == 0, upcalls);
    CHECK(shinfo->vcpu_info[0].evtchn_upcall_pending == 1,
          shinfo->vcpu_info[0].evtchn_upcall_pending);
    enable_irqs();
    for (volatile int i = 0; i < 100000 && !upcalls; i++)
        ;
    disable_irqs();
    CHECK(upcalls == 1, upcalls);
    /* Again, with interrupts on: delivered at once. */
    enable_irqs();
    rc = evtchn_op(EVTCHNOP_send, &s);
    for (volatile int i = 0; i < 100000 && upcalls < 2; i++)
        ;
    disable_irqs();
    CHECK(rc == 0, rc);
    CHECK(upcalls == 2, upcalls);
    /* An event sent with interrupts off, then sti; hlt: the HLT returns
     * with the upcall taken (the STI shadow covers the HLT). */
    rc = evtchn_op(EVTCHNOP_send, &s);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    CHECK(upcalls == 3, upcalls);
}

/* Many callbacks, each handler a long stretch with interrupts off: every
 * one arrives exactly once, where interrupts were on.  (QEMU's TCG can
 * deliver an interrupt injected by EVENTINJ a second time, whenever its
 * execution loop is next left, even with interrupts off; under -icount
 * with two CPUs that happens within a few hundred callbacks.) */
static void area_irqonce(void)
{
    struct evtchn_bind_ipi b = {.vcpu = 0};
    struct evtchn_send s;
    const unsigned int n = 400;
    unsigned int sent = 0;

    hypercall_page_init();
    place_shared_info();
    set_callback();
    shinfo->vcpu_info[0].evtchn_upcall_mask = 0;
    CHECK(evtchn_op(EVTCHNOP_bind_ipi, &b) == 0, b.port);
    s.port = b.port;
    upcall_spin = 20000;
    enable_irqs();
    for (unsigned int k = 0; k < n; k++) {
        unsigned int before = upcalls;

        if (evtchn_op(EVTCHNOP_send, &s) != 0)
            break;
        sent++;
        for (volatile int i = 0; i < 1000000 && upcalls == before; i++)
            ;
    }
    disable_irqs();
    upcall_spin = 0;
    CHECK(sent == n, sent);
    CHECK(upcalls == n, upcalls);
    CHECK(upcall_if_off_seen == 0, upcall_if_off_seen);
    CHECK(upcall_nested == 0, upcall_nested);
}

/* NMI IPIs through the ICR (delivery mode NMI, to itself): taken with
 * interrupts off, one at a time, a second one sent inside the handler
 * right after the handler's IRET. */
static void area_nmi(void)
{
    uint64_t end;

    disable_irqs();
    apic_write(0xf0, 0x1ff);
    send_nmi_self();
    for (end = rdtsc() + 3000000000ULL; nmis < 1 && rdtsc() < end;)
        ;
    CHECK(nmis == 1, nmis);
    nmi_resend = 1;
    send_nmi_self();
    for (end = rdtsc() + 3000000000ULL; nmis < 3 && rdtsc() < end;)
        ;
    CHECK(nmis == 3, nmis);
    CHECK(nmis_nested == 0, nmis_nested);
}

/* ------------------------------------------------------ area upcall */

extern uint8_t ap_tramp_start[], ap_tramp_end[];
void ap_main(void);
static volatile int ap_alive, ap_go, ap_done;

static unsigned int this_vcpu(void)
{
    return (APIC_MMIO[0x20 / 4] >> 24) / 2; /* APIC id = 2 * vCPU id */
}

static int apic_bit(unsigned int base, unsigned int vec)
{
    return (APIC_MMIO[(base + (vec / 32) * 0x10) / 4] >> (vec % 32)) & 1;
}
#define IRR_SET(v) apic_bit(0x200, (v))
#define ISR_SET(v) apic_bit(0x100, (v))

static void send_port(evtchn_port_t port)
{
    struct evtchn_send s = {.port = port};
    long rc = evtchn_op(EVTCHNOP_send, &s);

    CHECK(rc == 0, rc);
}

/* What a guest does with an upcall: clear it, then the port's event. */
static void clear_upcall(unsigned int cpu)
{
    evtchn_port_t p = ups[cpu].port;

    shinfo->vcpu_info[cpu].evtchn_upcall_pending = 0;
    __atomic_store_n(&shinfo->vcpu_info[cpu].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    __atomic_and_fetch(&shinfo->evtchn_pending[p / 64], ~(1ULL << (p % 64)), __ATOMIC_SEQ_CST);
}

static void upcall_handler(void)
{
    unsigned int cpu = this_vcpu() & 1;
    struct upcall_state *u = &ups[cpu];

    u->count++;
    if (u->in)
        u->nested++;
    u->in = 1;
    if (ISR_SET(UPCALL_VECTOR))
        u->isr_seen++;
    if (u->clear)
        clear_upcall(cpu);
    if (u->resend) {
        /* An event while this one is in service: it waits in the IRR. */
        u->resend = 0;
        send_port(u->port);
        if (IRR_SET(UPCALL_VECTOR))
            u->irr_seen++;
    }
    u->in = 0;
    if (u->eoi)
        apic_write(0xb0, 0);
}

/* Interrupts on until cond holds or about three seconds of TSC pass. */
#define WAIT_IRQ(cond)                                                           \
    do {                                                                         \
        uint64_t end_ = rdtsc() + 9000000000ULL;                                 \
        while (!(cond) && rdtsc() < end_)                                        \
            __asm__ volatile("sti; nop; nop; cli" ::: "memory");                 \
    } while (0)
/* Interrupts on for a while: nothing that is held back may arrive. */
static void irq_window(void)
{
    enable_irqs();
    for (volatile int i = 0; i < 200000; i++)
        ;
    disable_irqs();
}

/* The per-vCPU vector through this vCPU's local APIC (interrupts off,
 * the vector set, nothing pending or in service). */
static void upcall_delivery(unsigned int cpu)
{
    struct upcall_state *u = &ups[cpu];
    unsigned int c = u->count;

    /* In service in the handler; with no EOI it stays so and holds the
     * next upcall back. */
    u->clear = 1;
    u->eoi = 0;
    send_port(u->port);
    CHECK(IRR_SET(UPCALL_VECTOR), cpu);
    CHECK(u->count == c, u->count);
    WAIT_IRQ(u->count == c + 1);
    CHECK(u->count == c + 1, u->count);
    CHECK(u->isr_seen == c + 1, u->isr_seen);
    CHECK(ISR_SET(UPCALL_VECTOR), cpu);
    send_port(u->port);
    irq_window();
    CHECK(u->count == c + 1, u->count);
    CHECK(IRR_SET(UPCALL_VECTOR), cpu);
    u->eoi = 1;
    apic_write(0xb0, 0);
    WAIT_IRQ(u->count == c + 2);
    CHECK(u->count == c + 2, u->count);
    CHECK(!ISR_SET(UPCALL_VECTOR) && !IRR_SET(UPCALL_VECTOR), cpu);
    /* TPR above its priority class holds it back.  (Not equal to it:
     * QEMU's TCG takes a virtual interrupt whose priority equals V_TPR,
     * and Xen 4.17, which holds it back, asks for the interrupt window
     * again at once, for ever: the vCPU makes no progress.) */
    apic_write(0x80, (UPCALL_VECTOR & 0xf0) + 0x10);
    send_port(u->port);
    irq_window();
    CHECK(u->count == c + 2, u->count);
    apic_write(0x80, 0);
    WAIT_IRQ(u->count == c + 3);
    CHECK(u->count == c + 3, u->count);
    /* An event sent from inside the handler, after it cleared the upcall:
     * raised in the IRR, taken right after the handler's EOI and IRET. */
    u->resend = 1;
    send_port(u->port);
    WAIT_IRQ(u->count == c + 5);
    CHECK(u->count == c + 5, u->count);
    CHECK(u->irr_seen == 1, u->irr_seen);
    /* An upcall the handler leaves pending is not raised again, not on
     * EOI and not by more events: only a new 0 -> 1 of the flag raises. */
    u->clear = 0;
    send_port(u->port);
    WAIT_IRQ(u->count == c + 6);
    CHECK(u->count == c + 6, u->count);
    CHECK(shinfo->vcpu_info[cpu].evtchn_upcall_pending == 1, cpu);
    __atomic_store_n(&shinfo->vcpu_info[cpu].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    __atomic_and_fetch(&shinfo->evtchn_pending[u->port / 64], ~(1ULL << (u->port % 64)),
                       __ATOMIC_SEQ_CST);
    send_port(u->port);
    irq_window();
    CHECK(u->count == c + 6, u->count);
    CHECK(!IRR_SET(UPCALL_VECTOR), cpu);
    u->clear = 1;
    clear_upcall(cpu);
    send_port(u->port);
    WAIT_IRQ(u->count == c + 7);
    CHECK(u->count == c + 7, u->count);
    CHECK(u->nested == 0, u->nested);
}

/* vCPU 1, from the trampoline: its APIC is off until it turns it on. */
void ap_main(void)
{
    struct cpuid h4 = cpuid(0x40000004, 0);

    idt_load();
    ap_alive = 1;
    while (!ap_go)
        ;
    CHECK(h4.a & XEN_HVM_CPUID_UPCALL_VECTOR, h4.a);
    CHECK((h4.a & XEN_HVM_CPUID_VCPU_ID_PRESENT) && h4.b == 1, h4.b);
    CHECK(this_vcpu() == 1, APIC_MMIO[0x20 / 4]);
    /* The upcall pending since before it ran was dropped by the disabled
     * APIC; enabling the APIC raises it. */
    CHECK(!IRR_SET(UPCALL_VECTOR), 1);
    apic_write(0xf0, 0x1ff);
    CHECK(IRR_SET(UPCALL_VECTOR), 1);
    ups[1].clear = 1;
    ups[1].eoi = 1;
    WAIT_IRQ(ups[1].count == 1);
    CHECK(ups[1].count == 1, ups[1].count);
    upcall_delivery(1);
    ap_done = 1;
}

static long set_upcall_vector(uint32_t vcpu, uint8_t vector)
{
    struct xen_hvm_evtchn_upcall_vector u = {.vcpu = vcpu, .vector = vector};

    return hvm_op(HVMOP_set_evtchn_upcall_vector, &u);
}

static long set_callback_irq(uint64_t value)
{
    struct xen_hvm_param p = {.domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
                              .value = value};

    return hvm_op(HVMOP_set_param, &p);
}

/* INIT then STARTUP to APIC id 2 (vCPU 1), starting it at the trampoline. */
static void start_ap(void)
{
    uint8_t *dst = (uint8_t *)(AP_TRAMP_PAGE << 12);

    for (uint8_t *p = ap_tramp_start; p < ap_tramp_end; p++)
        *dst++ = *p;
    APIC_MMIO[0x310 / 4] = 2U << 24;
    APIC_MMIO[0x300 / 4] = 0x4500;
    APIC_MMIO[0x310 / 4] = 2U << 24;
    APIC_MMIO[0x300 / 4] = 0x4600 | AP_TRAMP_PAGE;
}

static void area_upcall(void)
{
    struct evtchn_bind_ipi b0 = {.vcpu = 0}, b1 = {.vcpu = 1};
    struct xen_hvm_param p = {.domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ};
    struct cpuid h4 = cpuid(0x40000004, 0);
    unsigned int c;
    long rc;

    hypercall_page_init();
    place_shared_info();
    CHECK(h4.a & XEN_HVM_CPUID_UPCALL_VECTOR, h4.a);
    apic_write(0xf0, 0x1ff);
    /* Xen's checks: the vector first, then the vCPU; a bad pointer. */
    CHECK(set_upcall_vector(0, 0x0f) == -XEN_EINVAL, set_upcall_vector(0, 0x0f));
    CHECK(set_upcall_vector(2, UPCALL_VECTOR) == -XEN_ENOENT, set_upcall_vector(2, UPCALL_VECTOR));
    CHECK(set_upcall_vector(~0U, UPCALL_VECTOR) == -XEN_ENOENT, 0);
    CHECK(set_upcall_vector(5, 0) == -XEN_EINVAL, set_upcall_vector(5, 0));
    rc = hvm_op(HVMOP_set_evtchn_upcall_vector, (void *)HOLE_ADDR);
    CHECK(rc == -XEN_EFAULT, rc);
    CHECK(!IRR_SET(UPCALL_VECTOR), 0);
    CHECK(evtchn_op(EVTCHNOP_bind_ipi, &b0) == 0, b0.port);
    CHECK(evtchn_op(EVTCHNOP_bind_ipi, &b1) == 0, b1.port);
    ups[0].port = b0.port;
    ups[1].port = b1.port;
    clear_upcall(0);
    clear_upcall(1);
    ups[0].clear = ups[0].eoi = 1;
    /* Set, the vector is raised once whatever is pending; then Linux's
     * "GSI 1" callback, which a PVH domain's callback ignores. */
    rc = set_upcall_vector(0, UPCALL_VECTOR);
    CHECK(rc == 0, rc);
    CHECK(IRR_SET(UPCALL_VECTOR), 0);
    rc = set_callback_irq(1);
    CHECK(rc == 0, rc);
    rc = hvm_op(HVMOP_get_param, &p);
    CHECK(rc == 0 && p.value == 1, p.value);
    WAIT_IRQ(ups[0].count == 1);
    CHECK(ups[0].count == 1, ups[0].count);
    put("vCPU 0: the vector through its APIC\n");
    upcall_delivery(0);

    /* vCPU 1's vector set and an event sent before it runs. */
    rc = set_upcall_vector(1, UPCALL_VECTOR);
    CHECK(rc == 0, rc);
    send_port(b1.port);
    CHECK(shinfo->vcpu_info[1].evtchn_upcall_pending == 1,
          shinfo->vcpu_info[1].evtchn_upcall_pending);
    put("vCPU 1: started by INIT/STARTUP\n");
    start_ap();
    for (uint64_t end = rdtsc() + 30000000000ULL; !ap_alive && rdtsc() < end;)
        ;
    CHECK(ap_alive, ap_alive);
    ap_go = 1;
    for (uint64_t end = rdtsc() + 90000000000ULL; ap_alive && !ap_done && rdtsc() < end;)
        ;
    CHECK(ap_done, ap_done);

    /* The domain-wide callback as well: setting it raises the vector once;
     * then, while an upcall is pending, the callback is injected first,
     * straight (nothing in service), the APIC's vector after it. */
    put("both: the callback vector first\n");
    c = ups[0].count;
    rc = set_callback_irq((2ULL << 56) | CALLBACK_VECTOR);
    CHECK(rc == 0, rc);
    CHECK(IRR_SET(UPCALL_VECTOR), 0);
    WAIT_IRQ(ups[0].count == c + 1);
    CHECK(ups[0].count == c + 1 && upcalls == 0, upcalls);
    send_port(b0.port);
    WAIT_IRQ(upcalls == 1 && ups[0].count == c + 2);
    CHECK(upcalls == 1, upcalls);
    CHECK(ups[0].count == c + 2, ups[0].count);
    CHECK(!ISR_SET(CALLBACK_VECTOR) && !ISR_SET(UPCALL_VECTOR), 0);
    /* "GSI 1" again: the callback stays. */
    rc = set_callback_irq(1);
    CHECK(rc == 0, rc);
    send_port(b0.port);
    WAIT_IRQ(upcalls == 2 && ups[0].count == c + 3);
    CHECK(upcalls == 2, upcalls);
    CHECK(ups[0].count == c + 3, ups[0].count);
}

static void area_timer(void)
{
    struct evtchn_bind_virq b = {.virq = VIRQ_TIMER, .vcpu = 0};
    struct vcpu_set_singleshot_timer t;
    long rc;
    uint64_t now;

    hypercall_page_init();
    place_shared_info();
    set_callback();
    rc = evtchn_op(EVTCHNOP_bind_virq, &b);
    CHECK(rc == 0, rc);
    /* A singleshot timer 1 ms from now, then wait for it in HLT. */
    for (int round = 0; round < 3; round++) {
        unsigned int before = upcalls;
        struct vcpu_time_info *ti = &shinfo->vcpu_info[0].time;
        uint64_t delta = rdtsc() - ti->tsc_timestamp;
        delta = ti->tsc_shift >= 0 ? delta << ti->tsc_shift : delta >> -ti->tsc_shift;
        now = ti->system_time + (uint64_t)(((__uint128_t)delta * ti->tsc_to_system_mul) >> 32);
        t.timeout_abs_ns = now + 1000000;
        t.flags = 0;
        rc = hcall(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, (uint64_t)&t);
        CHECK(rc == 0, rc);
        while (upcalls == before)
            __asm__ volatile("sti; hlt; cli");
        CHECK(upcalls == before + 1, upcalls);
    }
    CHECK(now > 0, now);
}

static void area_cpuid(void)
{
    struct cpuid c1 = cpuid(1, 0), h4 = cpuid(0x40000004, 0), e1 = cpuid(0x80000001, 0);

    CHECK(c1.c & (1U << 31), c1.c);          /* hypervisor present */
    CHECK(!(c1.c & (1U << 5)), c1.c);        /* no VMX */
    CHECK(!(e1.c & (1U << 2)), e1.c);        /* no SVM: no nested virtualisation */
    CHECK((c1.b >> 24) == 0, c1.b);          /* vCPU 0: APIC id 0 */
    CHECK(c1.d & (1U << 9), c1.d);           /* a local APIC */
    CHECK(h4.a & XEN_HVM_CPUID_VCPU_ID_PRESENT, h4.a);
    CHECK(h4.b == 0, h4.b);                  /* vCPU id */
    CHECK((h4.a & XEN_HVM_CPUID_DOMID_PRESENT) && h4.c > 0, h4.c);
    CHECK(cpuid(0x40000100, 0).a == 0 || cpuid(0x40000100, 0).a < 0x40000100 ||
          cpuid(0x40000100, 0).b != 0x566e6558, cpuid(0x40000100, 0).a);
}

/* Until n hits or about a second of TSC (2-3e9 ticks): generous, as the
 * QEMU running this may be starved for long stretches on a loaded host. */
static void wait_hits(unsigned int idx, unsigned int n)
{
    uint64_t end = rdtsc() + 3000000000ULL;

    while (apic_hits[idx] < n && rdtsc() < end)
        __asm__ volatile("sti; nop; nop; cli" ::: "memory");
}

/* Timer, self-IPI, priorities: the same in either mode. */
static void apic_checks(void)
{
    uint32_t before, after;

    apic_write(0xf0, 0x1ff);                      /* SVR: enabled, spurious 0xff */
    CHECK((apic_read(0xf0) & 0x1ff) == 0x1ff, apic_read(0xf0));
    CHECK((apic_read(0x30) & 0xff) == 0x14, apic_read(0x30));
    apic_write(0x80, 0x20);                       /* TPR */
    CHECK(apic_read(0x80) == 0x20, apic_read(0x80));
    apic_write(0x80, 0);
    /* The current count runs down: a masked one-shot of one second, long
     * enough that no host stall lets it expire between the reads. */
    apic_write(0x3e0, 0xb);
    apic_write(0x320, 0xe0 | (1U << 16));
    apic_write(0x380, 1000000000);
    before = apic_read(0x390);
    for (volatile int i = 0; i < 10000; i++)
        ;
    after = apic_read(0x390);
    CHECK(before <= 1000000000 && after < before && after > 0, after);
    apic_write(0x380, 0);
    /* One-shot timer: 2 ms at 1 GHz, divide by 1 (it may have run out by
     * the first read on a loaded host: then both reads say 0). */
    apic_write(0x320, 0xe0);
    apic_write(0x380, 2000000);
    before = apic_read(0x390);
    after = apic_read(0x390);
    CHECK(before <= 2000000 && (after < before || (before == 0 && after == 0)), after);
    wait_hits(0, 1);
    CHECK(apic_hits[0] == 1, apic_hits[0]);
    CHECK(apic_read(0x390) == 0, apic_read(0x390));
    /* Periodic, 1 ms: a few ticks, then masked. */
    apic_write(0x320, 0xe2 | (1U << 17));
    apic_write(0x380, 1000000);
    wait_hits(2, 3);
    CHECK(apic_hits[2] >= 3, apic_hits[2]);
    apic_write(0x320, 0xe2 | (1U << 16));
    apic_write(0x380, 0);
    /* A self-IPI, held back by TPR until it is lowered. */
    apic_write(0x80, 0xf0);
    if (x2apic_on)
        wrmsr(0x83f, 0xe1);
    else
        apic_write(0x300, 0x40000 | 0x4000 | 0xe1); /* self shorthand, assert */
    wait_hits(1, 1);
    CHECK(apic_hits[1] == 0, apic_hits[1]);
    apic_write(0x80, 0);
    wait_hits(1, 1);
    CHECK(apic_hits[1] == 1, apic_hits[1]);
}

static void area_apic(void)
{
    uint64_t base = rdmsr(0x1b);
    int vec;

    hypercall_page_init();
    CHECK((base & ~0xfffULL) == 0xfee00000ULL, base);
    CHECK((base & (1U << 11)) && (base & (1U << 8)) && !(base & (1U << 10)), base);
    CHECK((APIC_MMIO[0x20 / 4] >> 24) == 0, APIC_MMIO[0x20 / 4]); /* id 0 */
    /* x2APIC registers are #GP in xAPIC mode. */
    vec = PROBE("mov $0x802, %%ecx; rdmsr");
    CHECK(vec == 13, vec);
    apic_checks();
    if (!(cpuid(1, 0).c & (1U << 21))) {
        put("no x2APIC offered\n");
        return;
    }
    wrmsr(0x1b, base | (1U << 10));
    x2apic_on = 1;
    CHECK(rdmsr(0x802) == 0, rdmsr(0x802));       /* x2APIC id */
    CHECK(rdmsr(0x80d) == 1, rdmsr(0x80d));       /* LDR: cluster 0, bit 0 */
    vec = PROBE("mov $0x80b, %%ecx; mov $1, %%eax; xor %%edx, %%edx; wrmsr");
    CHECK(vec == 13, vec);                        /* non-zero EOI */
    for (int i = 0; i < 16; i++)
        apic_hits[i] = 0;
    apic_checks();
    /* Back to xAPIC only through disabled. */
    vec = PROBE("mov $0x1b, %%ecx; mov $0xfee00900, %%eax; xor %%edx, %%edx; wrmsr");
    CHECK(vec == 13, vec);
}

static void area_npf(void)
{
    volatile uint32_t *hole = (volatile uint32_t *)HOLE_ADDR;
    volatile uint8_t *hole8 = (volatile uint8_t *)(HOLE_ADDR + 0x11);
    volatile uint64_t *hole64 = (volatile uint64_t *)(HOLE_ADDR + 0x100);
    xen_pfn_t gfn = 0x300; /* a RAM frame the image does not use */
    struct xen_memory_reservation r = {.nr_extents = 1, .extent_order = 0,
                                       .domid = DOMID_SELF};
    domid_t self = DOMID_SELF;
    long before, rc;
    uint32_t v;

    hypercall_page_init();
    v = *hole;
    CHECK(v == 0xffffffffU, v);
    *hole = 0x12345678;
    v = *hole;
    CHECK(v == 0xffffffffU, v);
    CHECK(*hole8 == 0xff, *hole8);
    *hole64 = 0;
    CHECK(*hole64 == ~0ULL, *hole64);
    /* Balloon one frame out: it reads all-ones afterwards; back in: zeroed. */
    *(volatile uint64_t *)(gfn << 12) = 0x5a5a;
    before = memory_op(XENMEM_current_reservation, &self);
    set_xen_guest_handle(r.extent_start, &gfn);
    rc = memory_op(XENMEM_decrease_reservation, &r);
    CHECK(rc == 1, rc);
    CHECK(memory_op(XENMEM_current_reservation, &self) == before - 1,
          memory_op(XENMEM_current_reservation, &self));
    CHECK(*(volatile uint64_t *)(gfn << 12) == ~0ULL, *(volatile uint64_t *)(gfn << 12));
    rc = memory_op(XENMEM_populate_physmap, &r);
    CHECK(rc == 1, rc);
    CHECK(gfn == 0x300, gfn); /* a translated guest's list is left alone */
    /* RAM again.  Keel zeroes it; Xen 4.17 may hand the guest its own old
     * frame back unscrubbed (a running domain's freed pages are not
     * scrubbed: the balloon driver's job), so only "not a hole" is checked. */
    CHECK(*(volatile uint64_t *)(gfn << 12) != ~0ULL, *(volatile uint64_t *)(gfn << 12));
    CHECK(memory_op(XENMEM_current_reservation, &self) == before,
          memory_op(XENMEM_current_reservation, &self));
    /* A hole is not RAM to give back. */
    gfn = HOLE_ADDR >> 12;
    rc = memory_op(XENMEM_decrease_reservation, &r);
    CHECK(rc == 0, rc);
}

static void area_hostile(void)
{
    uint8_t b;
    uint32_t l;
    int vec;

    hypercall_page_init();
    __asm__ volatile("inb $0x80, %0" : "=a"(b));
    CHECK(b == 0xff, b);
    __asm__ volatile("inl %%dx, %0" : "=a"(l) : "d"(0xcf8));
    CHECK(l == 0xffffffffU, l);
    __asm__ volatile("outb %%al, $0x80" ::"a"(0));
    vec = PROBE("mov $0xc0011020, %%ecx; rdmsr");   /* an AMD MSR Keel refuses */
    CHECK(vec == 13, vec);
    vec = PROBE("mov $0x12345678, %%ecx; xor %%eax, %%eax; xor %%edx, %%edx; wrmsr");
    CHECK(vec == 13, vec);
    vec = PROBE("mov $0x40000000, %%ecx; mov $0x123, %%eax; xor %%edx, %%edx; wrmsr");
    CHECK(vec == 13, vec);                          /* hypercall page index 0x123 */
    vec = PROBE("mov $0x100000, %%eax; vmrun");
    CHECK(vec == 6, vec);
    vec = PROBE("mov $0x100000, %%eax; vmload");
    CHECK(vec == 6, vec);
    vec = PROBE("stgi");
    CHECK(vec == 6, vec);
    vec = PROBE("clgi");
    CHECK(vec == 6, vec);
    vec = PROBE("skinit");
    CHECK(vec == 6, vec);
    /* No vPMU: Keel intercepts RDPMC and gives #GP; Xen 4.17 leaves it to
     * the CPU, which under QEMU is #UD.  Either is a fault, not a count. */
    vec = PROBE("xor %%ecx, %%ecx; rdpmc");
    CHECK(vec == 13 || vec == 6, vec);
    put("triple fault next\n");
    /* The launcher sees the domain shut down for reboot. */
    finish();
    {
        struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = {0, 0};
        __asm__ volatile("lidt %0; int3" ::"m"(none));
    }
}

/* ------------------------------------------------------------ gntmap */

/*
 * Grant maps by a PVH guest into its own physical space, the way a backend
 * in a PVH domain maps its frontends' pages: GNTMAP_host_map with a
 * guest-physical address.  The guest maps grants of its own (Xen lets a
 * domain map what it granted itself), so the frames are its RAM, which
 * shows what Xen 4.17 does with them: the frame moves to the new address
 * (p2m_add_page takes the domain's own frame out of the GFN its M2P entry
 * names), even when the map then fails, and unmap leaves a hole at both.
 */
#define GNT_GFN 0x3001UL        /* grant frame 0, in the hole above RAM */
#define MAP_GFN 0x20100UL       /* where grants are mapped: a hole */
#define MAP_ADDR (MAP_GFN << 12)
#define ONES (~0ULL)

static grant_entry_v1_t *gnt;
static domid_t self_id;

static long gnttab_op(unsigned int cmd, void *op, unsigned int count)
{
    return hcall(__HYPERVISOR_grant_table_op, cmd, (uint64_t)op, count);
}

static volatile uint64_t *at(uint64_t gfn, unsigned int off)
{
    return (volatile uint64_t *)((gfn << 12) + off);
}

/* Grant `ref` to `to`: frame `gfn`, with a word of data in it. */
static void grant_page(grant_ref_t ref, domid_t to, uint64_t gfn, uint16_t flags)
{
    *at(gfn, 0) = 0x1000000 + gfn;
    gnt[ref].frame = (uint32_t)gfn;
    gnt[ref].domid = to;
    __atomic_store_n(&gnt[ref].flags, GTF_permit_access | flags, __ATOMIC_SEQ_CST);
}

static int16_t gmap(grant_ref_t ref, domid_t dom, uint32_t flags, uint64_t addr,
                    grant_handle_t *h)
{
    struct gnttab_map_grant_ref op = {.host_addr = addr, .flags = flags, .ref = ref,
                                      .dom = dom, .handle = ~0U};
    long rc = gnttab_op(GNTTABOP_map_grant_ref, &op, 1);

    CHECK(rc == 0, rc);
    if (h)
        *h = op.handle;
    return op.status;
}

static int16_t gunmap(grant_handle_t h, uint64_t addr, uint64_t bus)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = addr, .dev_bus_addr = bus, .handle = h};
    long rc = gnttab_op(GNTTABOP_unmap_grant_ref, &op, 1);

    CHECK(rc == 0, rc);
    return op.status;
}

#define GF(ref) (gnt[ref].flags)
#define RW_IN_USE (GTF_permit_access | GTF_reading | GTF_writing)

static void gntmap_own(void)
{
    grant_handle_t h = ~0U;
    int16_t st;

    grant_page(8, self_id, 0x310, 0);
    *at(0x310, 0xff8) = 0x5555;
    st = gmap(8, self_id, GNTMAP_host_map, MAP_ADDR, &h);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(8) == RW_IN_USE, GF(8));
    CHECK(*at(MAP_GFN, 0) == 0x1000310, *at(MAP_GFN, 0));
    CHECK(*at(MAP_GFN, 0xff8) == 0x5555, *at(MAP_GFN, 0xff8));
    *at(MAP_GFN, 8) = 0xabcdef;
    CHECK(*at(MAP_GFN, 8) == 0xabcdef, *at(MAP_GFN, 8));
    /* The frame moved: its old address is a hole now. */
    CHECK(*at(0x310, 0) == ONES, *at(0x310, 0));
    /* Unmaps that do nothing. */
    st = gunmap(h, (MAP_GFN + 1) << 12, 0);    /* not where it is mapped */
    CHECK(st == GNTST_general_error, st);
    st = gunmap(h + 1, MAP_ADDR, 0);
    CHECK(st == GNTST_bad_handle, st);
    st = gunmap(0xffffff, MAP_ADDR, 0);
    CHECK(st == GNTST_bad_handle, st);
    CHECK(GF(8) == RW_IN_USE, GF(8));
    /* A bus address is looked at only for a device mapping. */
    st = gunmap(h, MAP_ADDR, 0x1000);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(8) == GTF_permit_access, GF(8));
    /* A hole again: reads all-ones, writes vanish; the handle is gone. */
    CHECK(*at(MAP_GFN, 0) == ONES, *at(MAP_GFN, 0));
    *at(MAP_GFN, 0) = 7;
    CHECK(*at(MAP_GFN, 0) == ONES, *at(MAP_GFN, 0));
    CHECK(*at(0x310, 0) == ONES, *at(0x310, 0));
    st = gunmap(h, MAP_ADDR, 0);
    CHECK(st == GNTST_bad_handle, st);
    st = gunmap(h, 0, 0);
    CHECK(st == GNTST_bad_handle, st);
    /* The grant names a GFN with nothing behind it now. */
    st = gmap(8, self_id, GNTMAP_host_map, MAP_ADDR, &h);
    CHECK(st == GNTST_bad_page, st);
    CHECK(GF(8) == GTF_permit_access, GF(8));
}

/* Maps Xen refuses, in its order; none leaves a trace in the entry. */
static void gntmap_refused(void)
{
    grant_handle_t h = ~0U;
    int16_t st;

    grant_page(9, self_id, 0x311, 0);
    st = gmap(9, self_id, GNTMAP_readonly, MAP_ADDR, 0);
    CHECK(st == GNTST_bad_gntref, st);                  /* neither host nor device */
    /* Device, application and PTE maps are not for an HVM guest, checked
     * before the domain is looked up. */
    st = gmap(9, self_id, GNTMAP_host_map | GNTMAP_device_map, MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);
    st = gmap(9, 0x7000, GNTMAP_device_map, MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);
    st = gmap(9, self_id, GNTMAP_host_map | GNTMAP_application_map, MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);
    st = gmap(9, self_id, GNTMAP_host_map | GNTMAP_contains_pte, MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);
    /* Any other flag: refused after the pin, which is undone. */
    st = gmap(9, self_id, GNTMAP_host_map | (1U << _GNTMAP_guest_avail0), MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);
    CHECK(GF(9) == GTF_permit_access, GF(9));
    st = gmap(0xfffff, self_id, GNTMAP_host_map, MAP_ADDR, 0);
    CHECK(st == GNTST_bad_gntref, st);
    st = gmap(9, 0x7000, GNTMAP_host_map, MAP_ADDR, 0);   /* no such domain */
    CHECK(st == GNTST_bad_domain, st);
    st = gmap(9, DOMID_SELF, GNTMAP_host_map, MAP_ADDR, 0); /* ids only */
    CHECK(st == GNTST_bad_domain, st);
    st = gmap(10, self_id, GNTMAP_host_map, MAP_ADDR, 0);   /* not granted */
    CHECK(st == GNTST_general_error, st);
    grant_page(10, 0, 0x311, 0);                            /* granted to dom0 */
    st = gmap(10, self_id, GNTMAP_host_map, MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);
    grant_page(10, self_id, 0x20200, 0);                    /* a hole */
    st = gmap(10, self_id, GNTMAP_host_map, MAP_ADDR, 0);
    CHECK(st == GNTST_bad_page, st);
    CHECK(GF(9) == GTF_permit_access && GF(10) == GTF_permit_access, GF(10));
    /* Cache attributes in the entry do not matter for RAM. */
    grant_page(10, self_id, 0x311, GTF_PCD);
    st = gmap(10, self_id, GNTMAP_host_map, MAP_ADDR, &h);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(10) == (RW_IN_USE | GTF_PCD), GF(10));
    CHECK(*at(MAP_GFN, 0) == 0x1000311, *at(MAP_GFN, 0));
    st = gunmap(h, MAP_ADDR, 0);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(10) == (GTF_permit_access | GTF_PCD), GF(10));
}

/* host_addr >> 12 is the GFN: 36 bits of it (a 48-bit guest-physical
 * space), the low 12 bits of the address do not matter. */
static void gntmap_range(void)
{
    const uint64_t top = (1ULL << 48) - 4096, beyond = 1ULL << 48;
    grant_handle_t h = ~0U;
    int16_t st;

    grant_page(9, self_id, 0x317, 0);
    st = gmap(9, self_id, GNTMAP_host_map, 1ULL << 52, 0);
    CHECK(st == GNTST_general_error, st);
    CHECK(GF(9) == GTF_permit_access, GF(9));
    /* Refused, yet the frame left its GFN first (Xen's p2m_add_page). */
    CHECK(*at(0x317, 0) == ONES, *at(0x317, 0));
    grant_page(9, self_id, 0x318, 0);
    st = gmap(9, self_id, GNTMAP_host_map, beyond, 0);
    CHECK(st == GNTST_general_error, st);
    CHECK(*at(0x318, 0) == ONES, *at(0x318, 0));
    grant_page(9, self_id, 0x319, 0);
    st = gmap(9, self_id, GNTMAP_host_map, top, &h);
    CHECK(st == GNTST_okay, st);
    st = gunmap(h, top, 0);
    CHECK(st == GNTST_okay, st);
    grant_page(9, self_id, 0x31a, 0);
    st = gmap(9, self_id, GNTMAP_host_map, MAP_ADDR + 0x123, &h);
    CHECK(st == GNTST_okay, st);
    CHECK(*at(MAP_GFN, 0) == 0x100031a, *at(MAP_GFN, 0));
    st = gunmap(h, MAP_ADDR + 0x456, 0);
    CHECK(st == GNTST_okay, st);
    CHECK(*at(MAP_GFN, 0) == ONES, *at(MAP_GFN, 0));
    CHECK(GF(9) == GTF_permit_access, GF(9));
}

static void gntmap_readonly(void)
{
    grant_handle_t h = ~0U;
    int16_t st;
    int vec;

    grant_page(13, self_id, 0x314, GTF_readonly);
    st = gmap(13, self_id, GNTMAP_host_map, MAP_ADDR, 0);
    CHECK(st == GNTST_general_error, st);             /* a read-only grant */
    CHECK(GF(13) == (GTF_permit_access | GTF_readonly), GF(13));
    st = gmap(13, self_id, GNTMAP_host_map | GNTMAP_readonly, MAP_ADDR, &h);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(13) == (GTF_permit_access | GTF_readonly | GTF_reading), GF(13));
    CHECK(*at(MAP_GFN, 0) == 0x1000314, *at(MAP_GFN, 0));
    /* A write is emulated and dropped (p2m_grant_map_ro discards writes):
     * no fault, nothing changes. */
    vec = PROBE("movq $0x99, 0x20100000");
    CHECK(vec == -1, vec);
    CHECK(*at(MAP_GFN, 0) == 0x1000314, *at(MAP_GFN, 0));
    st = gunmap(h, MAP_ADDR, 0);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(13) == (GTF_permit_access | GTF_readonly), GF(13));
}

/* Over RAM: the RAM leaves (it stays the domain's), the grant shows, and
 * unmap leaves a hole. */
static void gntmap_over_ram(void)
{
    grant_handle_t h = ~0U;
    int16_t st;

    *at(0x320, 0) = 0x320320;
    grant_page(14, self_id, 0x315, 0);
    st = gmap(14, self_id, GNTMAP_host_map, 0x320 << 12, &h);
    CHECK(st == GNTST_okay, st);
    CHECK(*at(0x320, 0) == 0x1000315, *at(0x320, 0));
    st = gunmap(h, 0x320 << 12, 0);
    CHECK(st == GNTST_okay, st);
    CHECK(*at(0x320, 0) == ONES, *at(0x320, 0));
}

/* What Xen 4.17 does not let an HVM guest ask for. */
static void gntmap_nosys(void)
{
    struct gnttab_unmap_and_replace u = {.host_addr = MAP_ADDR, .new_addr = 0, .handle = 0};
    long rc;

    rc = gnttab_op(GNTTABOP_unmap_and_replace, &u, 1);
    CHECK(rc == -XEN_ENOSYS, rc);
    rc = gnttab_op(GNTTABOP_get_status_frames, &u, 1);
    CHECK(rc == -XEN_ENOSYS, rc);
    rc = gnttab_op(GNTTABOP_transfer, &u, 1);
    CHECK(rc == -XEN_ENOSYS, rc);
    rc = gnttab_op(GNTTABOP_cache_flush, &u, 1);
    CHECK(rc == -XEN_ENOSYS, rc);
}

/* One frame mapped twice; the read-only mapping stays when the domain
 * ends: its destruction must release it (the launcher counts pages). */
static void gntmap_left(void)
{
    grant_handle_t h = ~0U, h2 = ~0U;
    int16_t st;

    grant_page(15, self_id, 0x316, 0);
    st = gmap(15, self_id, GNTMAP_host_map, MAP_ADDR, &h);
    CHECK(st == GNTST_okay, st);
    st = gmap(15, self_id, GNTMAP_host_map | GNTMAP_readonly, (MAP_GFN + 1) << 12, &h2);
    CHECK(st == GNTST_okay, st);
    CHECK(h2 != h, h2);
    CHECK(*at(MAP_GFN + 1, 0) == 0x1000316, *at(MAP_GFN + 1, 0));
    *at(MAP_GFN, 0) = 0x42;
    CHECK(*at(MAP_GFN + 1, 0) == 0x42, *at(MAP_GFN + 1, 0));
    CHECK(GF(15) == RW_IN_USE, GF(15));
    st = gunmap(h, MAP_ADDR, 0);
    CHECK(st == GNTST_okay, st);
    CHECK(GF(15) == (GTF_permit_access | GTF_reading), GF(15));
}

static void area_gntmap(void)
{
    struct xen_add_to_physmap x = {.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                   .idx = 0, .gpfn = GNT_GFN};
    struct cpuid c = cpuid(0x40000004, 0);
    long rc;

    hypercall_page_init();
    /* Our own id: CPUID leaf 0x40000004 names it on Keel and Xen. */
    CHECK(c.a & XEN_HVM_CPUID_DOMID_PRESENT, c.a);
    self_id = (domid_t)c.c;
    rc = memory_op(XENMEM_add_to_physmap, &x);
    CHECK(rc == 0, rc);
    gnt = (grant_entry_v1_t *)(GNT_GFN << 12);
    gntmap_own();
    gntmap_refused();
    gntmap_range();
    gntmap_readonly();
    gntmap_over_ram();
    gntmap_nosys();
    gntmap_left();
}

static void area_halt(void)
{
    finish();
    __asm__ volatile("cli; hlt");
}

static void area_bench(void)
{
    struct evtchn_bind_ipi b = {.vcpu = 0};
    struct evtchn_send s;
    uint64_t t0, t1;
    const int n = 2000;

    hypercall_page_init();
    place_shared_info();
    set_callback();
    evtchn_op(EVTCHNOP_bind_ipi, &b);
    s.port = b.port;
    t0 = rdtsc();
    for (int i = 0; i < n; i++)
        hcall(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
    t1 = rdtsc();
    comm->bench[0] = (t1 - t0) / n;
    enable_irqs();
    t0 = rdtsc();
    for (int i = 0; i < n; i++) {
        unsigned int before = upcalls;
        evtchn_op(EVTCHNOP_send, &s);
        while (upcalls == before)
            ;
    }
    t1 = rdtsc();
    disable_irqs();
    comm->bench[1] = (t1 - t0) / n;
    put("null hypercall ");
    put_hex(comm->bench[0]);
    put(" ticks, event round trip ");
    put_hex(comm->bench[1]);
    put(" ticks\n");
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void pvh_main(uint32_t start_info);
void pvh_main(uint32_t start_info)
{
    const struct hvm_start_info *si = (const void *)(uint64_t)start_info;
    const char *cmd = (const char *)si->cmdline_paddr;

    comm->magic = PVH_COMM_MAGIC;
    idt_init();
    put("area ");
    put(cmd);
    put("\n");
    if (streq(cmd, "hypercall"))
        area_hypercall(si);
    else if (streq(cmd, "callback"))
        area_callback();
    else if (streq(cmd, "timer"))
        area_timer();
    else if (streq(cmd, "irqonce"))
        area_irqonce();
    else if (streq(cmd, "nmi"))
        area_nmi();
    else if (streq(cmd, "cpuid"))
        area_cpuid();
    else if (streq(cmd, "upcall"))
        area_upcall();
    else if (streq(cmd, "apic"))
        area_apic();
    else if (streq(cmd, "npf"))
        area_npf();
    else if (streq(cmd, "hostile"))
        area_hostile();
    else if (streq(cmd, "gntmap"))
        area_gntmap();
    else if (streq(cmd, "halt"))
        area_halt();
    else if (streq(cmd, "bench"))
        area_bench();
    else
        check(0, "known area", 0);
    finish();
}
