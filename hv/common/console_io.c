/*
 * console_io: guests print on Keel's console; dom0 also reads its input.
 * Output is copied in small chunks so a huge count cannot hold the console.
 */
#include <keel/console.h>
#include <keel/console_input.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/xen.h>

#define CHUNK 128

static long console_write(struct domain *d, unsigned long buf, long count)
{
    char tmp[CHUNK + 1];
    long done = 0;

    while (done < count) {
        long n = MIN(count - done, (long)CHUNK);
        if (copy_from_guest(tmp, buf + (unsigned long)done, (size_t)n))
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
    long count = (long)(int)h->arg[1];

    /* The console is the control domain's, as on a release build of Xen:
     * a domU has its own console ring (start_info.console), not this. */
    if (!d->is_privileged)
        return -XEN_EPERM;
    if (count < 0)
        return -XEN_EINVAL;
    switch (h->arg[0]) {
    case CONSOLEIO_write:
        return console_write(d, h->arg[2], count);
    case CONSOLEIO_read:
        return console_read(d, h->arg[2], count);
    default:
        return -XEN_ENOSYS;
    }
}
