/*
 * Memory-management load for bench/mm.sh (issue 13): the work a PV kernel
 * turns into page-table updates, timed with rdtsc in the guest.  Built by
 * the script with the host's gcc, static, no libc (raw system calls).
 *
 *   /mmbench ROW N   runs N operations of ROW and prints
 *   "MMBENCH <row> n <N> ticks <total>"; ROW "all" runs the one-CPU rows.
 *
 * Rows (an "operation" is one loop turn):
 *   fork      fork + the child's exit + wait4, from a process with 8 MiB
 *             of touched anonymous memory (page tables to copy); the child
 *             writes one page (a copy-on-write fault) first
 *   clone     clone(CLONE_FS|CLONE_FILES|SIGCHLD) + exit + wait4 from a
 *             process with a small address space
 *   thread    a thread (CLONE_VM|...|CLONE_THREAD, the pthread set) that
 *             returns at once, joined through CLONE_CHILD_CLEARTID's futex
 *   mmap      mmap of 256 KiB, every page written, munmap
 *   mremap    a 4 MiB touched region moved (MREMAP_FIXED) to another
 *             place and back: two moves of 1024 entries
 *   mprotect  64 touched pages made read-only and writable again (two
 *             calls); mprotect2 the same with a thread of the process
 *             parked on CPU 1, so every change is a TLB shootdown there
 *   vm        1024 pages of a mapping written (a fault each), then freed
 *             with madvise(MADV_DONTNEED)
 */
typedef unsigned long u64;

#define SYS_write 1
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_mremap 25
#define SYS_madvise 28
#define SYS_clone 56
#define SYS_fork 57
#define SYS_exit 60
#define SYS_wait4 61
#define SYS_futex 202
#define SYS_sched_setaffinity 203
#define SYS_exit_group 231

#define PROT_RW 3
#define PROT_R 1
#define MAP_PRIVATE_ANON 0x22
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MADV_DONTNEED 4
#define SIGCHLD 17
#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define PAGE 4096UL

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;

    __asm__ __volatile__("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    return ret;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* long raw_clone(flags, stack, ptid, ctid, fn, arg): the child runs
 * fn(arg) on `stack` and exits the thread with its result. */
long raw_clone(u64 flags, void *stack, int *ptid, int *ctid, int (*fn)(void *), void *arg);
__asm__(".text\n.globl raw_clone\nraw_clone:\n"
        "  sub $16, %rsi\n"
        "  mov %r8, (%rsi)\n"
        "  mov %r9, 8(%rsi)\n"
        "  mov %rcx, %r10\n"
        "  xor %r8d, %r8d\n"
        "  mov $56, %eax\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  pop %rax\n"
        "  pop %rdi\n"
        "  call *%rax\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n"
        "  syscall\n"
        "  ud2\n"
        "1: ret\n");

static u64 rdtsc(void)
{
    unsigned int lo, hi;

    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((u64)hi << 32) | lo;
}

/* ------------------------------------------------------------- output */

static u64 slen(const char *s)
{
    u64 n = 0;

    while (s[n])
        n++;
    return n;
}

static void put(const char *s)
{
    sys3(SYS_write, 1, s, slen(s));
}

static void put_u(u64 v)
{
    char b[24];
    int i = 23;

    b[i] = 0;
    do
        b[--i] = (char)('0' + v % 10);
    while (v /= 10);
    put(b + i);
}

static u64 parse_u(const char *s)
{
    u64 v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (u64)(*s++ - '0');
    return v;
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void die(const char *what, long rc)
{
    put("MMBENCH error ");
    put(what);
    put(" ");
    put_u((u64)-rc);
    put("\n");
    sys3(SYS_exit_group, 1, 0, 0);
}

/* ------------------------------------------------------------- helpers */

static char *map(u64 len)
{
    long p = sys6(SYS_mmap, 0, (long)len, PROT_RW, MAP_PRIVATE_ANON, -1, 0);

    if (p < 0 && p > -4096)
        die("mmap", p);
    return (char *)p;
}

static void touch(char *p, u64 len)
{
    for (u64 off = 0; off < len; off += PAGE)
        ((volatile char *)p)[off] = 1;
}

static void pin_cpu(long tid, unsigned int cpu)
{
    u64 mask = 1UL << cpu;
    long rc = sys3(SYS_sched_setaffinity, tid, sizeof(mask), &mask);

    if (rc)
        die("sched_setaffinity", rc);
}

static void reap(void)
{
    long rc = sys6(SYS_wait4, -1, 0, 0, 0, 0, 0);

    if (rc < 0)
        die("wait4", rc);
}

/* ------------------------------------------------------------- rows */

static char *fork_heap;

static void op_fork(void)
{
    long pid = sys3(SYS_fork, 0, 0, 0);

    if (pid < 0)
        die("fork", pid);
    if (pid == 0) {
        fork_heap[0] = 2;
        sys3(SYS_exit_group, 0, 0, 0);
    }
    reap();
}

static void op_clone(void)
{
    long pid = sys6(SYS_clone, CLONE_FS | CLONE_FILES | SIGCHLD, 0, 0, 0, 0, 0);

    if (pid < 0)
        die("clone", pid);
    if (pid == 0)
        sys3(SYS_exit_group, 0, 0, 0);
    reap();
}

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
                      CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define STACK_SIZE (64 * 1024UL)
static char *thread_stack;
static volatile int thread_tid;

static int thread_return(void *arg)
{
    (void)arg;
    return 0;
}

static void join(volatile int *tid)
{
    int t;

    while ((t = *tid) != 0)
        sys6(SYS_futex, (long)tid, FUTEX_WAIT, t, 0, 0, 0);
}

static void op_thread(void)
{
    long rc = raw_clone(THREAD_FLAGS, thread_stack + STACK_SIZE, (int *)&thread_tid,
                        (int *)&thread_tid, thread_return, 0);

    if (rc < 0)
        die("clone thread", rc);
    join(&thread_tid);
}

#define MMAP_LEN (256 * 1024UL)

static void op_mmap(void)
{
    char *p = map(MMAP_LEN);
    long rc;

    touch(p, MMAP_LEN);
    rc = sys3(SYS_munmap, p, MMAP_LEN, 0);
    if (rc)
        die("munmap", rc);
}

#define MREMAP_LEN (4UL << 20)
static char *mremap_a, *mremap_b;

static void move(char *from, char *to)
{
    long rc = sys6(SYS_mremap, (long)from, MREMAP_LEN, MREMAP_LEN,
                   MREMAP_MAYMOVE | MREMAP_FIXED, (long)to, 0);

    if (rc != (long)to)
        die("mremap", rc);
}

static void op_mremap(void)
{
    move(mremap_a, mremap_b);
    move(mremap_b, mremap_a);
}

#define MPROTECT_LEN (64 * PAGE)
static char *prot_area;

static void op_mprotect(void)
{
    long rc = sys3(SYS_mprotect, prot_area, MPROTECT_LEN, PROT_R);

    if (!rc)
        rc = sys3(SYS_mprotect, prot_area, MPROTECT_LEN, PROT_RW);
    if (rc)
        die("mprotect", rc);
}

#define VM_LEN (1024 * PAGE)
static char *vm_area;

static void op_vm(void)
{
    long rc;

    touch(vm_area, VM_LEN);
    rc = sys3(SYS_madvise, vm_area, VM_LEN, MADV_DONTNEED);
    if (rc)
        die("madvise", rc);
}

/* The thread that keeps the process's address space live on CPU 1: it
 * runs there once, then sleeps in a futex until the row is done. */
static volatile int parked_tid, park_word, parked_ready;

static int park(void *arg)
{
    (void)arg;
    pin_cpu(0, 1);
    touch(prot_area, MPROTECT_LEN);
    parked_ready = 1;
    while (!park_word)
        sys6(SYS_futex, (long)&park_word, FUTEX_WAIT, 0, 0, 0, 0);
    return 0;
}

static void park_start(void)
{
    long rc = raw_clone(THREAD_FLAGS, thread_stack + STACK_SIZE, (int *)&parked_tid,
                        (int *)&parked_tid, park, 0);

    if (rc < 0)
        die("clone park", rc);
    while (!parked_ready)
        __asm__ __volatile__("pause");
}

static void park_end(void)
{
    park_word = 1;
    sys6(SYS_futex, (long)&park_word, FUTEX_WAKE, 1, 0, 0, 0);
    join(&parked_tid);
}

/* ------------------------------------------------------------- driver */

struct row {
    const char *name;
    void (*op)(void);
};

static const struct row rows[] = {
    {"fork", op_fork},     {"clone", op_clone},       {"thread", op_thread},
    {"mmap", op_mmap},     {"mremap", op_mremap},     {"mprotect", op_mprotect},
    {"vm", op_vm},         {"mprotect2", op_mprotect},
};

static void setup(void)
{
    thread_stack = map(STACK_SIZE);
    touch(thread_stack, STACK_SIZE);
    prot_area = map(MPROTECT_LEN);
    touch(prot_area, MPROTECT_LEN);
    vm_area = map(VM_LEN);
    /* Two 2 MiB-aligned windows for mremap, so whole L1 tables move. */
    mremap_a = map(4 * MREMAP_LEN);
    mremap_a = (char *)(((u64)mremap_a + (2UL << 20) - 1) & ~((2UL << 20) - 1));
    mremap_b = mremap_a + MREMAP_LEN + (2UL << 20);
    touch(mremap_a, MREMAP_LEN);
}

static void run(const struct row *r, u64 n)
{
    u64 t0, t1;

    if (streq(r->name, "fork")) {
        fork_heap = map(8UL << 20);
        touch(fork_heap, 8UL << 20);
    }
    if (streq(r->name, "mprotect2"))
        park_start();
    r->op(); /* warm: first-time faults and caches out of the figure */
    t0 = rdtsc();
    for (u64 i = 0; i < n; i++)
        r->op();
    t1 = rdtsc();
    if (streq(r->name, "mprotect2"))
        park_end();
    if (fork_heap) {
        sys3(SYS_munmap, fork_heap, 8UL << 20, 0);
        fork_heap = 0;
    }
    put("MMBENCH ");
    put(r->name);
    put(" n ");
    put_u(n);
    put(" ticks ");
    put_u(t1 - t0);
    put("\n");
}

__attribute__((used)) static void start_c(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    u64 n;

    if (argc < 3) {
        put("usage: mmbench ROW N\n");
        sys3(SYS_exit_group, 2, 0, 0);
    }
    n = parse_u(argv[2]);
    setup();
    pin_cpu(0, 0);
    for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (streq(argv[1], rows[i].name) ||
            (streq(argv[1], "all") && !streq(rows[i].name, "mprotect2")))
            run(&rows[i], n);
    sys3(SYS_exit_group, 0, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call start_c\n"
        "  ud2\n");
