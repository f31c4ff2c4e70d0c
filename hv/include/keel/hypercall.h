/*
 * Hypercalls.  One list (keel/hypercall_list.h) names every hypercall,
 * its handler and who may call it; the declarations below and the
 * dispatch table (hv/common/hypercall.c) are derived from it.  Handlers
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

/* One declaration per listed handler (keel/hypercall_list.h). */
#define HC_DOM0_ONLY 1
#define HC_NO_MULTICALL 2
#define HYPERCALL(name, fn, flags) long do_##fn(struct hcall *h);
#include <keel/hypercall_list.h>
#undef HYPERCALL

#endif
