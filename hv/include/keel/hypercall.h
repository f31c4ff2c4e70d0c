/*
 * Hypercalls.  One table (hv/common/hypercall.c) names every hypercall,
 * its handler and who may call it; dispatch is derived from it.  Handlers
 * take the raw argument words and return a long: >= 0, or a negated Xen
 * errno.  Each family lives in its own file with do_<family> at the top.
 */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H
#include <keel/types.h>
#include <xen/errno.h>
#include <xen/xen.h>

#define NR_HYPERCALLS 64

struct hcall {
    unsigned long arg[5];
    bool in_multicall; /* continuations and iret are not allowed there */
    bool continuation; /* set by hypercall_continue() */
};

/*
 * Continuations: a long operation that sees other work pending stops
 * between two items, rewrites its arguments to describe what is left and
 * returns hypercall_continue(h).  The guest then re-issues the same
 * hypercall with those arguments, after Keel has done the pending work.
 */
bool hypercall_preempt_check(const struct hcall *h);
long hypercall_continue(struct hcall *h);

typedef long (*hypercall_fn_t)(struct hcall *h);

struct hypercall_desc {
    hypercall_fn_t fn;
    const char *name;
    bool dom0_only;      /* the whole hypercall is privileged */
    bool no_multicall;   /* may not appear inside a multicall */
};

extern const struct hypercall_desc hypercall_table[NR_HYPERCALLS];

/* Runs hypercall `nr` for the current vCPU; returns its result. */
long hypercall_run(unsigned long nr, struct hcall *h);

#define DECLARE_HYPERCALL(name) long do_##name(struct hcall *h)
DECLARE_HYPERCALL(set_trap_table);
DECLARE_HYPERCALL(mmu_update);
DECLARE_HYPERCALL(set_gdt);
DECLARE_HYPERCALL(stack_switch);
DECLARE_HYPERCALL(set_callbacks);
DECLARE_HYPERCALL(fpu_taskswitch);
DECLARE_HYPERCALL(platform_op);
DECLARE_HYPERCALL(set_debugreg);
DECLARE_HYPERCALL(get_debugreg);
DECLARE_HYPERCALL(update_descriptor);
DECLARE_HYPERCALL(memory_op);
DECLARE_HYPERCALL(multicall);
DECLARE_HYPERCALL(update_va_mapping);
DECLARE_HYPERCALL(set_timer_op);
DECLARE_HYPERCALL(xen_version);
DECLARE_HYPERCALL(console_io);
DECLARE_HYPERCALL(grant_table_op);
DECLARE_HYPERCALL(vm_assist);
DECLARE_HYPERCALL(iret);
DECLARE_HYPERCALL(vcpu_op);
DECLARE_HYPERCALL(set_segment_base);
DECLARE_HYPERCALL(mmuext_op);
DECLARE_HYPERCALL(sched_op);
DECLARE_HYPERCALL(callback_op);
DECLARE_HYPERCALL(event_channel_op);
DECLARE_HYPERCALL(physdev_op);
DECLARE_HYPERCALL(xenpmu_op);
DECLARE_HYPERCALL(xsm_op);
DECLARE_HYPERCALL(sysctl);
DECLARE_HYPERCALL(domctl);

#endif
