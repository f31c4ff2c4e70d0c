/*
 * multicall: a batch of hypercalls in one guest entry.  Each entry runs as
 * if the guest had made it directly and gets its own result; an entry's
 * failure does not stop the batch.  Only an unreadable list (or a result
 * that cannot be written back) fails the multicall itself.
 *
 * Long batches continue (Xen's semantics): between two entries, when other
 * work is pending, the multicall re-issues itself for the entries left; an
 * entry that continues itself has its rewritten arguments stored back into
 * the guest's list, and the multicall resumes at that entry.
 */
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/xen.h>

BUILD_BUG_ON(sizeof(struct multicall_entry) != 64);

#define ENTRY_SIZE sizeof(struct multicall_entry)

static long multicall_one(unsigned long gva, bool *preempted);

static long continue_at(struct hcall *h, unsigned long gva, unsigned int left)
{
    h->arg[0] = gva;
    h->arg[1] = left;
    return hypercall_continue(h);
}

long do_multicall(struct hcall *h)
{
    unsigned long list = h->arg[0];
    /* Xen's count is an unsigned int. */
    unsigned int nr = (unsigned int)h->arg[1];
    struct domain *d = current->domain;

    if (!guest_range_ok(list, (unsigned long)nr * ENTRY_SIZE))
        return -XEN_EFAULT;
    for (unsigned int i = 0; i < nr; i++) {
        unsigned long gva = list + (unsigned long)i * ENTRY_SIZE;
        bool preempted = false;
        long rc;

        /* An entry that shut the domain down (or crashed it) ends the batch:
         * nothing after it may run on the domain's behalf. */
        if (READ_ONCE(d->is_shutting_down) || READ_ONCE(d->is_dying))
            break;
        if (i && hypercall_preempt_check(h))
            return continue_at(h, gva, nr - i);
        rc = multicall_one(gva, &preempted);
        if (rc)
            return rc;
        if (preempted)
            return continue_at(h, gva, nr - i);
    }
    return 0;
}

/* Run the entry at gva and store its result (or, if it continues itself,
 * its new arguments); 0, or -EFAULT. */
static long multicall_one(unsigned long gva, bool *preempted)
{
    struct multicall_entry e;
    struct hcall h = {.in_multicall = true};
    unsigned long result;

    if (copy_from_guest_obj(&e, gva))
        return -XEN_EFAULT;
    for (unsigned int a = 0; a < ARRAY_SIZE(h.arg); a++)
        h.arg[a] = e.args[a];
    /* Nested multicall and iret are refused by hypercall_run (-EINVAL). */
    result = (unsigned long)hypercall_run(e.op, &h);
    if (h.continuation) {
        *preempted = true;
        for (unsigned int a = 0; a < ARRAY_SIZE(h.arg); a++)
            e.args[a] = h.arg[a];
        return copy_to_guest(gva + offsetof(struct multicall_entry, args), e.args,
                             sizeof(h.arg));
    }
    /* Only the result word: the entry may have been rewritten by its call. */
    return copy_to_guest(gva + offsetof(struct multicall_entry, result), &result,
                         sizeof(result));
}
