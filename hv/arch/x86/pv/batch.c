/*
 * The loop behind mmu_update and mmuext_op: `count` requests at h->arg[0],
 * a running total at h->arg[2] (may be NULL), stop at the first refusal.
 * A long batch yields to pending work with a continuation: what is left is
 * re-issued with BATCH_PREEMPTED in the count (bit 31, as Xen and Linux
 * agree), and the total keeps counting from what the guest's `done` says.
 * A request answering -KEEL_ERESTART (a page table whose validation
 * stopped part-way) continues the same way, from that request.
 *
 * A request whose page-table release stopped part-way succeeded; the rest
 * of the release is parked in the vCPU (arch.old_table) and, as on Xen,
 * the batch stops before its next request: every continuation first goes
 * on with the release (pv_batch_prologue), so the guest sees the call
 * return only once the tree is released.  When that request was the last
 * one, the continuation carries just the final answer: no requests, count
 * BATCH_PREEMPTED, the answer in the fourth argument (Xen's encoding).
 */
#include <asm/pv.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>

#define BATCH_PREEMPTED (1UL << 31)
#define PREEMPT_EVERY 64 /* requests between two looks at pending work */

/* Re-issue what is left from request i on. */
static long batch_continue(struct hcall *h, unsigned long done_ptr, unsigned int base,
                           unsigned int i, size_t size, unsigned int count)
{
    unsigned int done = base + i;

    if (done_ptr && copy_to_guest_obj(done_ptr, &done))
        return -XEN_EFAULT;
    h->arg[0] += (unsigned long)i * size;
    h->arg[1] = (count - i) | BATCH_PREEMPTED;
    return hypercall_continue(h);
}

bool pv_batch_prologue(struct hcall *h, long *rc)
{
    if (page_put_later_run(&current->arch.old_table, true) == -KEEL_ERESTART) {
        *rc = hypercall_continue(h); /* the same arguments again */
        return true;
    }
    if (!h->arg[0] && (unsigned int)h->arg[1] == BATCH_PREEMPTED) {
        *rc = (long)(int)h->arg[3];
        return true;
    }
    return false;
}

/* A parked release outlived the last request: finish it in a continuation
 * that then answers rc. */
static long answer_later(struct hcall *h, long rc)
{
    h->arg[0] = 0;
    h->arg[1] = BATCH_PREEMPTED;
    h->arg[2] = 0;
    h->arg[3] = (unsigned long)rc;
    return hypercall_continue(h);
}

long pv_run_batch(struct hcall *h, size_t size, void *item,
                  long (*one)(void *ctx, const void *item), void *ctx)
{
    unsigned long reqs = h->arg[0], done_ptr = h->arg[2];
    /* count and *done are unsigned ints in the ABI (Linux's `done` is an
     * int beside other locals: never write more than 4 bytes there). */
    unsigned int count = (unsigned int)h->arg[1] & ~(unsigned int)BATCH_PREEMPTED;
    unsigned int base = 0, i;
    long rc = 0;

    if ((h->arg[1] & BATCH_PREEMPTED) && done_ptr && copy_from_guest_obj(&base, done_ptr))
        return -XEN_EFAULT;
    for (i = 0; i < count; i++) {
        if (current->arch.old_table.pg ||
            (i && i % PREEMPT_EVERY == 0 && hypercall_preempt_check(h)))
            return batch_continue(h, done_ptr, base, i, size, count);
        if (copy_from_guest(item, reqs + (unsigned long)i * size, size)) {
            rc = -XEN_EFAULT;
            break;
        }
        rc = one(ctx, item);
        /* A table's validation stopped part-way: this request again. */
        if (rc == -KEEL_ERESTART)
            return batch_continue(h, done_ptr, base, i, size, count);
        if (rc)
            break;
    }
    base += i;
    if (done_ptr && copy_to_guest_obj(done_ptr, &base))
        rc = rc ? rc : -XEN_EFAULT;
    if (current->arch.old_table.pg)
        return answer_later(h, rc);
    return rc;
}
