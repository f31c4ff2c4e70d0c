/*
 * keel-rdtsc: the /init of the boot benchmark's initramfs.  Its entry point
 * reads the TSC before anything else runs in user space, prints
 * "BOOT-TSC <ticks>" on the console, then hands over to the ordinary init
 * script (/init.sh), so the boot continues as in the test initramfs.
 *
 * No libc: the C library's start-up would run first and add instructions
 * to the measurement.  Built at benchmark time (scripts/fetch-debian.sh
 * --bench) with: gcc -static -O2 -nostdlib -ffreestanding -fno-pie -no-pie
 */
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_execve 59
#define SYS_exit 60
#define SYS_mkdir 83
#define SYS_mount 165
#define O_RDWR 2

/* rdtsc is the first instruction of the process; the value goes to
 * boot_main with the initial stack pointer (argc, argv..., envp...). */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "    rdtsc\n"
        "    shlq $32, %rdx\n"
        "    orq %rdx, %rax\n"
        "    movq %rax, %rdi\n"
        "    movq %rsp, %rsi\n"
        "    andq $-16, %rsp\n"
        "    call boot_main\n"
        "    hlt\n");

static long sys5(long nr, long a, long b, long c, long d, long e)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}

static long sys3(long nr, long a, long b, long c)
{
    return sys5(nr, a, b, c, 0, 0);
}

static unsigned long str_len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static int put(const char *s)
{
    return sys3(SYS_write, 1, (long)s, (long)str_len(s)) < 0 ? -1 : 0;
}

/* Without a /dev/console node in the archive the kernel starts /init with
 * no open descriptors: mount devtmpfs and open the console ourselves. */
static void ensure_console(void)
{
    long fd;

    if (sys3(SYS_write, 1, (long)"", 0) >= 0)
        return;
    sys3(SYS_mkdir, (long)"/dev", 0755, 0);
    sys5(SYS_mount, (long)"devtmpfs", (long)"/dev", (long)"devtmpfs", 0, 0);
    fd = sys3(SYS_open, (long)"/dev/console", O_RDWR, 0);
    if (fd < 0)
        return;
    /* The lowest free descriptors are taken in order: 0, 1, 2. */
    while (fd < 2 && fd >= 0)
        fd = sys3(SYS_open, (long)"/dev/console", O_RDWR, 0);
}

static char *utoa(unsigned long v, char *end)
{
    *--end = '\0';
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

__attribute__((used, noreturn)) void boot_main(unsigned long tsc, long *sp)
{
    char buf[32];
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    char *script_argv[] = { "/init.sh", 0 };

    ensure_console();
    put("BOOT-TSC ");
    put(utoa(tsc, buf + sizeof(buf)));
    put("\n");
    sys3(SYS_execve, (long)script_argv[0], (long)script_argv, (long)envp);
    put("keel-rdtsc: cannot exec /init.sh\n");
    for (;;)
        sys3(SYS_exit, 1, 0, 0);
}
