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

static inline long hypercall5(unsigned nr, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4,
                              unsigned long a5)
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

/* ---- console and formatting */

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_write(const char *s, size_t len);

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

#endif
