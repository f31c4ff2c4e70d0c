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

void trap(struct frame *f);
void trap(struct frame *f)
{
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
