/*
 * The few system calls the toolstack initramfs' helper programs make, with
 * no C library: they are built at fetch time with the host's gcc
 * (-static -nostdlib) and must start fast and stay small.
 */
#ifndef KEEL_NOLIBC_H
#define KEEL_NOLIBC_H

#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_ioctl 16
#define SYS_exit 60
#define O_RDONLY 0
#define O_WRONLY 1

static inline long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline unsigned long str_len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static inline void put_fd(int fd, const char *s)
{
    sys3(SYS_write, fd, (long)s, (long)str_len(s));
}

/* Decimal text of v, written backwards from end (which gets the NUL). */
static inline char *utoa(unsigned long v, char *end)
{
    *--end = '\0';
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* _start: argc and argv from the initial stack, an aligned stack for C. */
#define NOLIBC_START(main_fn)                                                  \
    __asm__(".text\n"                                                          \
            ".globl _start\n"                                                  \
            "_start:\n"                                                        \
            "    movq (%rsp), %rdi\n"                                          \
            "    leaq 8(%rsp), %rsi\n"                                         \
            "    andq $-16, %rsp\n"                                            \
            "    call " #main_fn "\n"                                          \
            "    movq %rax, %rdi\n"                                            \
            "    movl $60, %eax\n"                                             \
            "    syscall\n"                                                    \
            "    hlt\n")

#endif
