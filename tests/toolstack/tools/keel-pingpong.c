/*
 * keel-pingpong ROUNDS CPU_A CPU_B: two processes, one pinned to each of
 * dom0's vCPUs CPU_A and CPU_B, pass a byte back and forth through two
 * pipes ROUNDS times; prints "ticks_per_round N" (TSC ticks, which under
 * QEMU -icount count executed instructions).  Each round wakes a vCPU that
 * blocked in the hypervisor on each side (when the two are different
 * vCPUs): the scheduling benchmark measures that wake-up path, alone and
 * with CPU hogs beside the woken vCPU, and the switch between two vCPUs
 * sharing one physical CPU.
 */
#include "nolibc.h"

#define SYS_pipe 22
#define SYS_fork 57
#define SYS_wait4 61
#define SYS_sched_setaffinity 203

NOLIBC_START(pingpong_main);

static unsigned long rdtsc(void)
{
    unsigned int lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

/* wait4(pid, NULL, 0, NULL): four arguments, one more than sys3 passes. */
static void reap(long pid)
{
    long ret;
    register long r10 __asm__("r10") = 0;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_wait4), "D"(pid), "S"(0L), "d"(0L), "r"(r10)
                     : "rcx", "r11", "memory");
    (void)ret;
}

static int parse(const char *s, unsigned long *out)
{
    unsigned long v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    *out = v;
    return 0;
}

static int pin(unsigned long cpu)
{
    unsigned long mask = 1UL << cpu;

    return (int)sys3(SYS_sched_setaffinity, 0, sizeof(mask), (long)&mask);
}

/* One byte through `out`, one back through `in`: a round. */
static int round_trip(int out, int in)
{
    char c = 'x';

    if (sys3(SYS_write, out, (long)&c, 1) != 1)
        return -1;
    return sys3(SYS_read, in, (long)&c, 1) == 1 ? 0 : -1;
}

static long echo_rounds(int in, int out, unsigned long n)
{
    char c;

    for (unsigned long i = 0; i < n; i++)
        if (sys3(SYS_read, in, (long)&c, 1) != 1 || sys3(SYS_write, out, (long)&c, 1) != 1)
            return 1;
    return 0;
}

__attribute__((used)) long pingpong_main(long argc, char **argv)
{
    unsigned long rounds, a, b, t0, t1;
    int there[2], back[2];
    char buf[32];
    long pid;

    if (argc != 4 || parse(argv[1], &rounds) || parse(argv[2], &a) || parse(argv[3], &b) ||
        !rounds || a >= 64 || b >= 64) {
        put_fd(2, "usage: keel-pingpong ROUNDS CPU_A CPU_B\n");
        return 2;
    }
    if (sys3(SYS_pipe, (long)there, 0, 0) || sys3(SYS_pipe, (long)back, 0, 0))
        return 1;
    pid = sys3(SYS_fork, 0, 0, 0);
    if (pid < 0)
        return 1;
    if (pid == 0) {
        if (pin(b))
            return 1;
        return echo_rounds(there[0], back[1], rounds + 1);
    }
    if (pin(a))
        return 1;
    /* The first round only makes sure both sides sit on their vCPUs. */
    if (round_trip(there[1], back[0]))
        return 1;
    t0 = rdtsc();
    for (unsigned long i = 0; i < rounds; i++)
        if (round_trip(there[1], back[0]))
            return 1;
    t1 = rdtsc();
    reap(pid);
    put_fd(1, "ticks_per_round ");
    put_fd(1, utoa((t1 - t0) / rounds, buf + sizeof(buf)));
    put_fd(1, "\n");
    return 0;
}
