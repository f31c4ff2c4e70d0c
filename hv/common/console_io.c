/*
 * console_io: guests print on Keel's console; dom0 also reads its input.
 * Output is copied in small chunks so a huge count cannot hold the console,
 * and a long write continues itself when other work is pending.
 */
#include <keel/console.h>
#include <keel/console_input.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/xen.h>

#define CHUNK 128

/*
 * The count is unsigned, as on Xen: a huge one prints until the buffer
 * runs into an unmapped page (-EFAULT).  Long writes yield to other work
 * with a continuation for the rest.
 */
static long console_write(struct hcall *h, struct domain *d, unsigned long buf,
                          unsigned int count)
{
    char tmp[CHUNK + 1];
    unsigned int done = 0;

    while (done < count) {
        unsigned int n = MIN(count - done, (unsigned int)CHUNK);
        if (done && hypercall_preempt_check(h)) {
            h->arg[1] = count - done;
            h->arg[2] = buf + done;
            return hypercall_continue(h);
        }
        if (copy_from_guest(tmp, buf + done, n))
            return -XEN_EFAULT;
        tmp[n] = '\0';
        /* Non-dom0 output is tagged, so interleaved guests stay readable. */
        if (d->domid)
            printk("(d%u) %s", d->domid, tmp);
        else
            printk("%s", tmp);
        done += n;
    }
    return 0;
}

/* One chunk per call: Linux's hvc driver reads again while bytes come. */
static long console_read(struct domain *d, unsigned long buf, long count)
{
    char tmp[CHUNK];
    unsigned int n = console_input_read(d, tmp, (unsigned int)MIN(count, (long)CHUNK));

    if (n && copy_to_guest(buf, tmp, n))
        return -XEN_EFAULT;
    return n;
}

long do_console_io(struct hcall *h)
{
    struct domain *d = current->domain;
    unsigned int count = (unsigned int)h->arg[1];

    /* The console is the control domain's, as on a release build of Xen:
     * a domU has its own console ring (start_info.console), not this. */
    if (!d->is_privileged)
        return -XEN_EPERM;
    switch (h->arg[0]) {
    case CONSOLEIO_write:
        return console_write(h, d, h->arg[2], count);
    case CONSOLEIO_read:
        /* A count that would not fit the (int) result: Xen's -E2BIG. */
        if ((int)count < 0)
            return -XEN_E2BIG;
        return console_read(d, h->arg[2], (long)count);
    default:
        return -XEN_ENOSYS;
    }
}
