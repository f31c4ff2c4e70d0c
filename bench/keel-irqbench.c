/*
 * keel-irqbench: the measuring program of bench/irq.sh, run in the guest
 * (natively, as dom0 of Xen 4.17, as dom0 of Keel) under QEMU -icount, so
 * that TSC ticks count executed instructions.
 *
 *   keel-irqbench lat UIO DIR N     interrupt latency: N times, raise QEMU's
 *                                   edu interrupt (a write to BAR 0 + 0x60, a
 *                                   level INTx; DIR is the function's sysfs
 *                                   directory) and wait in read() on the
 *                                   uio_pci_generic device UIO until the
 *                                   handler ran; ticks from the raise to the
 *                                   return of read()
 *   keel-irqbench read DEV MIB P    sequential O_DIRECT read of MIB MiB in
 *                                   1 MiB requests, P times; the fastest
 *
 * Prints "IRQBENCH lat min M median D n N" or
 * "IRQBENCH read DEV MIB passes T1 T2 ... ticks MIN".
 * No libc, as keel-rdtsc.c.  Built by bench/irq.sh with:
 *   gcc -static -O2 -nostdlib -ffreestanding -fno-pie -no-pie
 */
#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_mmap 9
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_exit 60
#define O_RDWR 2
#define O_RDONLY 0
#define O_DIRECT 040000
#define PROT_RW 3
#define MAP_SHARED 1
#define MAX_SAMPLES 4096
#define CHUNK (1UL << 20)

typedef unsigned long u64;

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "    movq %rsp, %rdi\n"
        "    andq $-16, %rsp\n"
        "    call bench_main\n"
        "    hlt\n");

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static long sys3(long nr, long a, long b, long c)
{
    return sys6(nr, a, b, c, 0, 0, 0);
}

static u64 rdtsc(void)
{
    unsigned lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (u64)hi << 32 | lo;
}

static unsigned long len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static void put(const char *s)
{
    sys3(SYS_write, 1, (long)s, (long)len(s));
}

static void put_num(u64 v)
{
    char b[24];
    int i = 23;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b + i);
}

static u64 num(const char *s)
{
    u64 v = 0;
    int base = 10;
    if (s[0] == '0' && s[1] == 'x') {
        base = 16;
        s += 2;
    }
    for (; *s; s++) {
        int d = *s >= 'a' ? *s - 'a' + 10 : *s >= 'A' ? *s - 'A' + 10 : *s - '0';
        v = v * base + d;
    }
    return v;
}

static __attribute__((noreturn)) void die(const char *why)
{
    put("IRQBENCH error: ");
    put(why);
    put("\n");
    sys3(SYS_exit, 1, 0, 0);
    __builtin_unreachable();
}

static u64 samples[MAX_SAMPLES];

static void sort(u64 *a, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            u64 t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

static void path(char *out, const char *dir, const char *file)
{
    unsigned long n = 0;
    while (*dir && n < 200)
        out[n++] = *dir++;
    out[n++] = '/';
    while (*file && n < 250)
        out[n++] = *file++;
    out[n] = 0;
}

/* uio_pci_generic masks the INTx in its handler (the command register's
 * "interrupt disable"); the user side unmasks it through config space. */
static void intx_on(long cfg)
{
    unsigned short cmd;

    if (sys6(SYS_pread64, cfg, (long)&cmd, 2, 4, 0, 0) != 2)
        die("read command");
    cmd &= (unsigned short)~0x400;
    if (sys6(SYS_pwrite64, cfg, (long)&cmd, 2, 4, 0, 0) != 2)
        die("write command");
}

static void latency(const char *uio, const char *dir, int n)
{
    char res[256], cfgp[256];
    long u, b, cfg;
    volatile unsigned *edu;
    unsigned count;

    path(res, dir, "resource0");
    path(cfgp, dir, "config");
    u = sys3(SYS_open, (long)uio, O_RDONLY, 0);
    b = sys3(SYS_open, (long)res, O_RDWR, 0);
    cfg = sys3(SYS_open, (long)cfgp, O_RDWR, 0);
    if (u < 0 || b < 0 || cfg < 0)
        die("open");
    edu = (volatile unsigned *)sys6(SYS_mmap, 0, 4096, PROT_RW, MAP_SHARED, b, 0);
    if ((long)edu < 0)
        die("mmap");
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    for (int i = 0; i < n; i++) {
        intx_on(cfg);
        u64 t0 = rdtsc();
        edu[0x60 / 4] = 1;
        if (sys3(SYS_read, u, (long)&count, 4) != 4)
            die("read uio");
        samples[i] = rdtsc() - t0;
        edu[0x64 / 4] = 1;
    }
    sort(samples, n);
    put("IRQBENCH lat min ");
    put_num(samples[0]);
    put(" median ");
    put_num(samples[n / 2]);
    put(" n ");
    put_num((u64)n);
    put("\n");
}

static unsigned char buf[CHUNK] __attribute__((aligned(4096)));

/* The fastest of `reps` passes: idle time (waiting for QEMU's disk) passes
 * at host speed under -icount with sleep on, so the minimum is the pass the
 * host disturbed least. */
static void seq_read(const char *dev, u64 mib, u64 reps)
{
    u64 best = ~0UL;

    put("IRQBENCH read ");
    put(dev);
    put(" ");
    put_num(mib);
    put(" passes");
    for (u64 r = 0; r < reps; r++) {
        long fd = sys3(SYS_open, (long)dev, O_RDONLY | O_DIRECT, 0);
        u64 t0, t;
        if (fd < 0)
            die("open disk");
        t0 = rdtsc();
        for (u64 i = 0; i < mib; i++)
            if (sys3(SYS_read, fd, (long)buf, CHUNK) != (long)CHUNK)
                die("short read");
        t = rdtsc() - t0;
        sys3(SYS_close, fd, 0, 0);
        best = t < best ? t : best;
        put(" ");
        put_num(t);
    }
    put(" ticks ");
    put_num(best);
    put("\n");
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void bench_main(long *sp);
void bench_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);

    if (argc == 5 && streq(argv[1], "lat"))
        latency(argv[2], argv[3], (int)num(argv[4]));
    else if (argc == 5 && streq(argv[1], "read"))
        seq_read(argv[2], num(argv[3]), num(argv[4]));
    else
        die("usage: lat UIO DIR N | read DEV MIB PASSES");
    sys3(SYS_exit, 0, 0, 0);
}
