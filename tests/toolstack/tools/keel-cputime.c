/*
 * keel-cputime DOMID...: for each domain, its cpu_time in nanoseconds (the
 * sum over its vCPUs of time spent running, from XEN_DOMCTL_getdomaininfo),
 * one "DOMID NS" line each, after a first "now NS" line (CLOCK_MONOTONIC in
 * dom0).  `xl list` and `xl vcpu-list` round times to 0.1 s, too coarse for
 * the scheduling tests' shares over a few seconds; this asks the
 * hypervisor directly, through privcmd, as libxenctrl would.
 * Exit status 1 if a domain is missing or a call fails.
 */
#include <stdint.h>
#define __XEN_TOOLS__ 1
#include <xen/domctl.h>

#include "nolibc.h"

#define SYS_clock_gettime 228
#define CLOCK_MONOTONIC 1
#define O_RDWR 2
/* _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall)): an op and
 * five arguments. */
#define IOCTL_PRIVCMD_HYPERCALL 0x305000

struct privcmd_hypercall {
    uint64_t op;
    uint64_t arg[5];
};

struct timespec_k {
    long sec, nsec;
};

NOLIBC_START(cputime_main);

/* Touched before each call, so the page is present when Xen copies it. */
static struct xen_domctl dc;

static int parse_domid(const char *s, unsigned int *out)
{
    unsigned int v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 0x7fff)
            return -1;
        v = v * 10 + (unsigned int)(*s - '0');
    }
    *out = v;
    return 0;
}

static long domain_cpu_time(long fd, unsigned int domid, uint64_t *ns)
{
    struct privcmd_hypercall h = {__HYPERVISOR_domctl, {(uint64_t)(unsigned long)&dc}};
    long rc;

    for (unsigned long i = 0; i < sizeof(dc); i++)
        ((volatile char *)&dc)[i] = 0;
    dc.cmd = XEN_DOMCTL_getdomaininfo;
    dc.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    dc.domain = (domid_t)domid;
    rc = sys3(SYS_ioctl, fd, IOCTL_PRIVCMD_HYPERCALL, (long)&h);
    if (rc < 0)
        return rc;
    if (dc.domain != domid)
        return -3; /* getdomaininfo answers the next domain up: this one is gone */
    *ns = dc.u.getdomaininfo.cpu_time;
    return 0;
}

__attribute__((used)) long cputime_main(long argc, char **argv)
{
    struct timespec_k ts;
    char buf[32];
    long fd, status = 0;

    if (argc < 2) {
        put_fd(2, "usage: keel-cputime DOMID...\n");
        return 2;
    }
    fd = sys3(SYS_open, (long)"/dev/xen/privcmd", O_RDWR, 0);
    if (fd < 0) {
        put_fd(2, "keel-cputime: cannot open /dev/xen/privcmd\n");
        return 1;
    }
    sys3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0);
    put_fd(1, "now ");
    put_fd(1, utoa((unsigned long)ts.sec * 1000000000UL + (unsigned long)ts.nsec,
                   buf + sizeof(buf)));
    put_fd(1, "\n");
    for (long i = 1; i < argc; i++) {
        unsigned int domid;
        uint64_t ns;
        if (parse_domid(argv[i], &domid) || domain_cpu_time(fd, domid, &ns)) {
            put_fd(2, "keel-cputime: no cpu_time for domain ");
            put_fd(2, argv[i]);
            put_fd(2, "\n");
            status = 1;
            continue;
        }
        put_fd(1, argv[i]);
        put_fd(1, " ");
        put_fd(1, utoa(ns, buf + sizeof(buf)));
        put_fd(1, "\n");
    }
    sys3(SYS_close, fd, 0, 0);
    return status;
}
