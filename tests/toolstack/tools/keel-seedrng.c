/*
 * keel-seedrng FILE: credits the bytes of FILE (a saved seed, at most 512
 * bytes) to the kernel's entropy pool with RNDADDENTROPY, as a Debian boot
 * does with the seed it saved at the last shutdown.  QEMU's qemu64 CPU has
 * no RDRAND, so without a credited seed the RNG is not ready when xl runs
 * and libuuid (inside `xl create`) sleeps about 3 s of guest time.
 */
#include "nolibc.h"

#define RNDADDENTROPY 0x40085203 /* _IOW('R', 0x03, int[2]) */
#define SEED_MAX 512

NOLIBC_START(seed_main);

struct seed_request {
    int entropy_count; /* bits credited */
    int buf_size;      /* bytes in buf */
    unsigned char buf[SEED_MAX];
};

static struct seed_request req;

__attribute__((used)) long seed_main(long argc, char **argv)
{
    char num[32];
    long fd, n, rc;

    if (argc != 2) {
        put_fd(2, "usage: keel-seedrng SEED-FILE\n");
        return 2;
    }
    fd = sys3(SYS_open, (long)argv[1], O_RDONLY, 0);
    if (fd < 0) {
        put_fd(2, "keel-seedrng: cannot open the seed file\n");
        return 1;
    }
    n = sys3(SYS_read, fd, (long)req.buf, SEED_MAX);
    sys3(SYS_close, fd, 0, 0);
    if (n <= 0) {
        put_fd(2, "keel-seedrng: empty seed file\n");
        return 1;
    }
    req.buf_size = (int)n;
    req.entropy_count = (int)n * 8;
    fd = sys3(SYS_open, (long)"/dev/urandom", O_WRONLY, 0);
    if (fd < 0) {
        put_fd(2, "keel-seedrng: cannot open /dev/urandom\n");
        return 1;
    }
    rc = sys3(SYS_ioctl, fd, RNDADDENTROPY, (long)&req);
    sys3(SYS_close, fd, 0, 0);
    if (rc < 0) {
        put_fd(2, "keel-seedrng: RNDADDENTROPY failed\n");
        return 1;
    }
    put_fd(1, "keel-seedrng: credited ");
    put_fd(1, utoa((unsigned long)req.entropy_count, num + sizeof(num)));
    put_fd(1, " bits\n");
    return 0;
}
