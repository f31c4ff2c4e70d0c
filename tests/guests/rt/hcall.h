/*
 * Typed wrappers for the hypercalls the test kernels exercise.  They take
 * raw integers and pointers on purpose: the negative tests pass values a
 * well-behaved kernel never would (negative counts, wild pointers).
 * Included by rt.h after hypercall5().
 */
#ifndef KEEL_TEST_HCALL_H
#define KEEL_TEST_HCALL_H

#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/errno.h>

static inline long HYPERVISOR_set_trap_table(const struct trap_info *t)
{
    return hypercall1(__HYPERVISOR_set_trap_table, t);
}

static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long sp)
{
    return hypercall2(__HYPERVISOR_stack_switch, ss, sp);
}

static inline long HYPERVISOR_set_callbacks(unsigned long event,
                                            unsigned long failsafe,
                                            unsigned long syscall)
{
    return hypercall3(__HYPERVISOR_set_callbacks, event, failsafe, syscall);
}

static inline long HYPERVISOR_fpu_taskswitch(int set)
{
    return hypercall1(__HYPERVISOR_fpu_taskswitch, set);
}

static inline long HYPERVISOR_memory_op(unsigned long cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_multicall(void *calls, unsigned long n)
{
    return hypercall2(__HYPERVISOR_multicall, calls, n);
}

static inline long HYPERVISOR_update_va_mapping(unsigned long va,
                                                uint64_t pte,
                                                unsigned long flags)
{
    return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long HYPERVISOR_set_timer_op(uint64_t abs_ns)
{
    return hypercall1(__HYPERVISOR_set_timer_op, abs_ns);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned long vcpu, void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}

static inline long HYPERVISOR_set_segment_base(int which, unsigned long base)
{
    return hypercall2(__HYPERVISOR_set_segment_base, which, base);
}

static inline long HYPERVISOR_callback_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_callback_op, cmd, arg);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_vm_assist(unsigned cmd, unsigned type)
{
    return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

#endif
