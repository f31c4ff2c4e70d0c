/*
 * multicall: a batch of hypercalls in one guest entry.  Each entry runs as
 * if the guest had made it directly and gets its own result; an entry's
 * failure does not stop the batch.  Only an unreadable list (or a result
 * that cannot be written back) fails the multicall itself.
 */
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/xen.h>

BUILD_BUG_ON(sizeof(struct multicall_entry) != 64);

static long multicall_one(unsigned long gva);

long do_multicall(struct hcall *h)
{
    unsigned long list = h->arg[0];
    /* Xen's count is an unsigned int. */
    unsigned int nr = (unsigned int)h->arg[1];
    struct domain *d = current->domain;

    for (unsigned int i = 0; i < nr; i++) {
        long rc;

        /* An entry that shut the domain down (or crashed it) ends the batch:
         * nothing after it may run on the domain's behalf. */
        if (READ_ONCE(d->is_shutting_down) || READ_ONCE(d->is_dying))
            break;
        rc = multicall_one(list + (unsigned long)i * sizeof(struct multicall_entry));
        if (rc)
            return rc;
    }
    return 0;
}

/* Run the entry at gva and store its result; 0, or -EFAULT. */
static long multicall_one(unsigned long gva)
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
    /* Only the result word: the entry may have been rewritten by its call. */
    return copy_to_guest(gva + offsetof(struct multicall_entry, result), &result,
                         sizeof(result));
}
