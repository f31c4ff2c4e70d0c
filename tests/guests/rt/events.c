/*
 * Traps, event upcalls, shared_info and time for the test kernels.
 *
 * shared_info: dom0 (and any PV guest) is told the page's *machine* address
 * in start_info.shared_info; it is not mapped anywhere yet.  We reserve a
 * page-aligned page in our own .bss and retarget its L1 entry with
 * update_va_mapping.  That entry is guaranteed to exist (the builder maps
 * the whole image with 4 KiB pages, PV-ABI.md §2.2) and needs neither
 * mmu_update nor knowledge of the builder's page-table layout; the RAM page
 * that was there simply becomes unmapped.  This is the one place the
 * runtime uses update_va_mapping, and only tests that need shared_info
 * (events, time, traps' cr2) pull it in.
 */
#include "rt.h"
#include <xen/arch-x86/xen-x86_64.h>

#define VIRT_BASE 0xffffffff80000000UL
#define PTE_FLAGS 0x67UL        /* present, RW, user, accessed, dirty */

start_info_t *rt_start_info;
vcpu_info_t *volatile rt_vcpu;
static shared_info_t *shinfo;
static char shinfo_window[4096] __attribute__((aligned(4096)));

volatile struct rt_trap_info rt_last_trap;
volatile uint64_t rt_resume;
bool (*rt_trap_hook)(struct rt_frame *f);

volatile unsigned rt_upcalls;
volatile uint64_t rt_sel_seen;
volatile uint64_t rt_upcall_cs, rt_upcall_rflags;
volatile uint16_t rt_port_hits[4096];
void (*rt_event_hook)(unsigned port);
void (*rt_upcall_override)(void);

unsigned rt_failures;

void rt_check_failed(const char *file, int line, const char *what, long got,
                     long want)
{
    rt_failures++;
    if (got == want)
        printf("check failed: %s:%d: %s\n", file, line, what);
    else
        printf("check failed: %s:%d: %s (got %ld, want %ld)\n", file, line,
               what, got, want);
}

uint64_t rt_virt_to_mfn(const void *va)
{
    uint64_t pfn = ((uintptr_t)va - VIRT_BASE) >> 12;
    const unsigned long *p2m = (const unsigned long *)rt_start_info->mfn_list;
    CHECK(pfn < rt_start_info->nr_pages);
    return p2m[pfn];
}

shared_info_t *rt_shared_info(void)
{
    if (shinfo)
        return shinfo;
    long rc = HYPERVISOR_update_va_mapping((uintptr_t)shinfo_window,
                                           rt_start_info->shared_info | PTE_FLAGS,
                                           UVMF_INVLPG);
    if (rc)
        test_verdict(false, "mapping shared_info: update_va_mapping = %ld", rc);
    shinfo = (shared_info_t *)shinfo_window;
    if (!rt_vcpu)
        rt_vcpu = &shinfo->vcpu_info[0];
    return shinfo;
}

/* ---- traps */

extern const uint64_t rt_vector_table[32];
extern char rt_event_entry[], rt_failsafe_entry[];

void rt_install_traps(void)
{
    static struct trap_info table[33];
    for (unsigned v = 0; v < 32; v++) {
        table[v].vector = (uint8_t)v;
        /* DPL 3 for #BP/#OF as Linux; bit 2: mask events like an
         * interrupt gate. */
        table[v].flags = (v == 3 || v == 4 ? 3 : 0) | 4;
        table[v].cs = FLAT_KERNEL_CS;
        table[v].address = rt_vector_table[v];
    }
    table[32].address = 0;
    long rc = HYPERVISOR_set_trap_table(table);
    if (rc)
        test_verdict(false, "set_trap_table = %ld", rc);
}

void rt_install_events(void)
{
    rt_shared_info();
    struct callback_register cb = {
        .type = CALLBACKTYPE_event,
        .flags = CALLBACKF_mask_events,
        .address = (uintptr_t)rt_event_entry,
    };
    long rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
    if (rc)
        test_verdict(false, "callback_op(register event) = %ld", rc);
    cb.type = CALLBACKTYPE_failsafe;
    cb.address = (uintptr_t)rt_failsafe_entry;
    rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
    if (rc)
        test_verdict(false, "callback_op(register failsafe) = %ld", rc);
}

static void upcall(struct rt_frame *f)
{
    vcpu_info_t *v = rt_vcpu;
    shared_info_t *s = shinfo;

    rt_upcalls++;
    rt_upcall_cs = f->cs;
    rt_upcall_rflags = f->rflags;
    if (rt_upcall_override) {
        rt_upcall_override();
        return;
    }
    while (v->evtchn_upcall_pending) {
        v->evtchn_upcall_pending = 0;
        uint64_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0,
                                           __ATOMIC_SEQ_CST);
        rt_sel_seen |= sel;
        while (sel) {
            unsigned w = (unsigned)__builtin_ctzll(sel);
            sel &= sel - 1;
            uint64_t bits = s->evtchn_pending[w] & ~s->evtchn_mask[w];
            while (bits) {
                unsigned b = (unsigned)__builtin_ctzll(bits);
                bits &= bits - 1;
                __atomic_and_fetch(&s->evtchn_pending[w], ~(1UL << b),
                                   __ATOMIC_SEQ_CST);
                unsigned port = w * 64 + b;
                rt_port_hits[port]++;
                if (rt_event_hook)
                    rt_event_hook(port);
            }
        }
    }
}

static void trap(struct rt_frame *f);

/* Handlers run when the hypervisor decides: their hypercalls are left out
 * of the log (hlog.c). */
void rt_trap(struct rt_frame *f);
void rt_trap(struct rt_frame *f)
{
    rt_hlog_quiet_begin();
    trap(f);
    rt_hlog_quiet_end();
}

static void trap(struct rt_frame *f)
{
    if (f->vector == RT_VEC_EVENT) {
        upcall(f);
        return;
    }
    rt_last_trap.vector = f->vector;
    rt_last_trap.error = f->error;
    rt_last_trap.rip = f->rip;
    rt_last_trap.cs = f->cs;
    rt_last_trap.rflags = f->rflags;
    rt_last_trap.cr2 = rt_vcpu ? rt_vcpu->arch.cr2 : 0;
    rt_last_trap.count++;
    if (rt_trap_hook && rt_trap_hook(f))
        return;
    if (rt_resume) {
        f->rip = rt_resume;
        rt_resume = 0;
        return;
    }
    test_verdict(false, "unexpected trap %lu error 0x%lx at rip %lx cr2 %lx",
                 (unsigned long)f->vector, (unsigned long)f->error,
                 (unsigned long)f->rip, (unsigned long)rt_last_trap.cr2);
}

void rt_failsafe(uint64_t *frame);
void rt_failsafe(uint64_t *frame)
{
    test_verdict(false, "failsafe callback (rip %lx)", (unsigned long)frame[6]);
}

long rt_probe_read_insn(uintptr_t addr);
void rt_probe_write_insn(uintptr_t addr, uint64_t val);

long rt_probe_read(uintptr_t addr, uint64_t *val)
{
    unsigned before = rt_last_trap.count;
    uint64_t v = (uint64_t)rt_probe_read_insn(addr);
    if (rt_last_trap.count != before)
        return (long)rt_last_trap.vector;
    if (val)
        *val = v;
    return -1;
}

long rt_probe_write(uintptr_t addr, uint64_t val)
{
    unsigned before = rt_last_trap.count;
    rt_probe_write_insn(addr, val);
    return rt_last_trap.count != before ? (long)rt_last_trap.vector : -1;
}

/* ---- virtual interrupt flag */

void rt_events_enable(void)
{
    rt_vcpu->evtchn_upcall_mask = 0;
    rt_barrier();
    /* Anything that arrived while masked is delivered on the way out of
     * any hypercall; xen_version(0) is the cheap one Linux uses.  Whether
     * it is needed depends on timing: not logged. */
    if (rt_vcpu->evtchn_upcall_pending) {
        rt_hlog_quiet_begin();
        HYPERVISOR_xen_version(XENVER_version, NULL);
        rt_hlog_quiet_end();
    }
}

void rt_events_disable(void)
{
    rt_vcpu->evtchn_upcall_mask = 1;
    rt_barrier();
}

/* ---- time */

uint64_t rt_system_time(void)
{
    volatile vcpu_time_info_t *t = &rt_vcpu->time;
    uint32_t ver;
    uint64_t ns;
    do {
        ver = t->version;
        rt_barrier();
        uint64_t delta = rdtsc() - t->tsc_timestamp;
        int8_t shift = t->tsc_shift;
        if (shift < 0)
            delta >>= -shift;
        else
            delta <<= shift;
        ns = t->system_time +
             (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
        rt_barrier();
    } while ((ver & 1) || ver != t->version);
    return ns;
}

/* Waits yield as often as time takes: not logged (hlog.c). */
unsigned rt_wait(volatile unsigned *flag, uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;
    rt_hlog_quiet_begin();
    while (!*flag && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    return *flag;
}

bool rt_wait_port(unsigned port, unsigned n, uint64_t ns)
{
    uint64_t end = rt_system_time() + ns;
    rt_hlog_quiet_begin();
    while (rt_port_hits[port] < n && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    return rt_port_hits[port] >= n;
}
