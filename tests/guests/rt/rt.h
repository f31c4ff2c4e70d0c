/*
 * Runtime of Keel's PV test kernels: hypercalls, console, verdict.
 *
 * A test is one directory under tests/guests/ with a test_main(); the
 * runtime calls it with start_info and reports a verdict on the console:
 *   TEST <name>: PASS            (test_main returned, or test_verdict(true))
 *   TEST <name>: FAIL <reason>   (CHECK failed, or test_verdict(false, ...))
 * then shuts the domain down (poweroff on PASS, crash on FAIL).
 * A `flags` file in the test directory adds compiler flags, e.g.
 * -DRT_HYPERCALL_PAGE to call through a hypervisor-filled hypercall page
 * instead of issuing `syscall` directly as modern Linux does.
 */
#ifndef KEEL_TEST_RT_H
#define KEEL_TEST_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>

#ifndef GUEST_NAME
#define GUEST_NAME "unnamed"
#endif

/* ---- hypercalls (PV-ABI.md §3.1: RAX = number; RDI, RSI, RDX, R10, R8) */

#ifdef RT_HYPERCALL_PAGE
extern char hypercall_page[4096];
/* Each 32-byte stub loads the number itself; RAX is set anyway. */
#define RT_HCALL_INSN "call *%[stub]"
#define RT_HCALL_STUB(nr) , [stub] "r"(hypercall_page + (nr) * 32)
#else
#define RT_HCALL_INSN "syscall"
#define RT_HCALL_STUB(nr)
#endif

static inline long rt_hypercall_raw(unsigned nr, unsigned long a1,
                                    unsigned long a2, unsigned long a3,
                                    unsigned long a4, unsigned long a5)
{
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    long ret;

    __asm__ volatile(RT_HCALL_INSN
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10),
                       "+r"(r8)
                     : "0"((unsigned long)nr) RT_HCALL_STUB(nr)
                     : "rcx", "r11", "memory");
    return ret;
}

/*
 * The hypercall log (rt/hlog.c): every hypercall a test makes is printed
 * as one "@h" line with its arguments and result, which the conformance
 * harness (tests/conformance/) compares between Xen 4.17 and Keel.
 * rt_hlog_quiet_begin/end leave calls out: waits whose number of calls
 * depends on timing.  Calls from trap and event handlers are never logged.
 */
void rt_hlog(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
             unsigned long a4, unsigned long a5, long ret);
void rt_hlog_quiet_begin(void);
void rt_hlog_quiet_end(void);
/* Prints what the log holds (the verdict does, first). */
void rt_hlog_flush(void);

static inline long hypercall5(unsigned nr, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4,
                              unsigned long a5)
{
    long ret = rt_hypercall_raw(nr, a1, a2, a3, a4, a5);

    rt_hlog(nr, a1, a2, a3, a4, a5, ret);
    return ret;
}

#define hypercall0(nr) hypercall5(nr, 0, 0, 0, 0, 0)
#define hypercall1(nr, a) hypercall5(nr, (unsigned long)(a), 0, 0, 0, 0)
#define hypercall2(nr, a, b)                                                   \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define hypercall3(nr, a, b, c)                                                \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), \
               0, 0)
#define hypercall4(nr, a, b, c, d)                                             \
    hypercall5(nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), \
               (unsigned long)(d), 0)

static inline long HYPERVISOR_console_io(int cmd, int count, const char *buf)
{
    return hypercall3(__HYPERVISOR_console_io, cmd, count, buf);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

#include "hcall.h"

/* ---- console and formatting */

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Console output: console_io, or with -DRT_PV_CONSOLE (a domU's build)
 * the console ring of start_info once it is known (rt.c). */
void rt_write(const char *s, size_t len);
/* Waits (bounded) until dom0 has read everything written to the ring. */
void rt_console_drain(void);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---- tests */

/* Provided by each test. */
void test_main(start_info_t *si);

/* Reports and ends the domain; fmt (may be "") explains a failure. */
__attribute__((noreturn, format(printf, 2, 3))) void
test_verdict(bool pass, const char *fmt, ...);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            test_verdict(false, "%s:%d: %s", __FILE__, __LINE__, #cond);       \
    } while (0)

/*
 * Soft checks: a failure prints one "check failed" line and the test goes
 * on; the verdict at the end is FAIL if any soft check failed.  Used where
 * one run should report every wrong answer (e.g. the hostile test).
 */
extern unsigned rt_failures;
void rt_check_failed(const char *file, int line, const char *what, long got,
                     long want);
#define EXPECT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            rt_check_failed(__FILE__, __LINE__, #cond, 0, 0);                  \
    } while (0)
/* a == b, printing both values when not (results and -XEN_E* codes). */
#define EXPECT_EQ(a, b)                                                        \
    do {                                                                       \
        long _a = (long)(a), _b = (long)(b);                                   \
        if (_a != _b)                                                          \
            rt_check_failed(__FILE__, __LINE__, #a " == " #b, _a, _b);         \
    } while (0)

/* ---- traps, events, time (rt/events.c, rt/entry.S) */

/* What the entry stubs build on the stack; C handlers may edit it. */
struct rt_frame {
    uint64_t pad;                 /* keeps the C call 16-byte aligned */
    uint64_t r15, r14, r13, r12, r11_unused, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax;
    uint64_t vector;              /* 0-31, or RT_VEC_EVENT */
    uint64_t rcx, r11;            /* as saved by the hypervisor */
    uint64_t error;               /* 0 for vectors without one */
    uint64_t rip, cs, rflags, rsp, ss;
};
#define RT_VEC_EVENT 0x100

/* Information about the last exception taken. */
struct rt_trap_info {
    unsigned count;
    uint64_t vector, error, rip, cs, rflags, cr2;
};
extern volatile struct rt_trap_info rt_last_trap;

/*
 * Guarded instructions: rt_resume holds where to continue if the next
 * instruction traps.  RT_GUARD(insn) emits
 *   arm rt_resume; insn; label: disarm
 * so a trap in insn lands after it with rt_last_trap filled in.
 * Operands are numbered from %0 as usual; r11 is clobbered.
 */
extern volatile uint64_t rt_resume;
#define RT_GUARD(insn) \
    "leaq 9f(%%rip), %%r11\n\tmovq %%r11, rt_resume(%%rip)\n\t" insn \
    "\n9:\tmovq $0, rt_resume(%%rip)"

/* Runs one guarded probe; returns the vector taken or -1. */
long rt_probe_read(uintptr_t addr, uint64_t *val);
long rt_probe_write(uintptr_t addr, uint64_t val);

/* Maps shared_info (once) and returns it; see events.c for how. */
shared_info_t *rt_shared_info(void);
extern start_info_t *rt_start_info;
/* The vcpu_info in use: shared_info's slot 0 until a test registers one. */
extern vcpu_info_t *volatile rt_vcpu;

/*
 * Installs handlers for vectors 0-31 (set_trap_table).  rt_last_trap.cr2
 * comes from vcpu_info, so a test that checks #PF addresses must map
 * shared_info (rt_shared_info()) first; without it cr2 reads as 0.
 */
void rt_install_traps(void);
/* Registers event + failsafe callbacks through callback_op. */
void rt_install_events(void);
/* Optional per-trap hook: return true if it handled the trap. */
extern bool (*rt_trap_hook)(struct rt_frame *f);

/* Event bookkeeping filled by the upcall handler. */
extern volatile unsigned rt_upcalls;
extern volatile uint64_t rt_sel_seen;     /* OR of all selectors read */
extern volatile uint64_t rt_upcall_cs;    /* CS slot of the last upcall frame */
extern volatile uint64_t rt_upcall_rflags;
extern volatile uint16_t rt_port_hits[4096];
extern void (*rt_event_hook)(unsigned port);
/* Replaces the 2-level scan of the upcall handler (the FIFO guest). */
extern void (*rt_upcall_override)(void);

static inline void rt_barrier(void) { __asm__ volatile("" ::: "memory"); }
/* Virtual IF: evtchn_upcall_mask, and make Xen deliver what is pending. */
void rt_events_enable(void);
void rt_events_disable(void);

/* pvclock */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
uint64_t rt_system_time(void);          /* ns, from rt_vcpu->time */
/* Waits (yielding) until *flag != 0 or ns pass; returns *flag. */
unsigned rt_wait(volatile unsigned *flag, uint64_t ns);
/* Waits until port has been hit at least n times in total. */
bool rt_wait_port(unsigned port, unsigned n, uint64_t ns);

/* Machine frame of one of our own pages (via the p2m list). */
uint64_t rt_virt_to_mfn(const void *va);

#endif
