/*
 * keel-tsc: prints the time stamp counter in decimal.  The toolstack
 * benchmark reads it in dom0 around xl commands; under QEMU -icount the
 * TSC counts executed instructions and is one clock for every domain, so
 * dom0's reading and the BOOT-TSC a domU prints compare directly.
 */
#include "nolibc.h"

NOLIBC_START(tsc_main);

__attribute__((used)) long tsc_main(void)
{
    unsigned int lo, hi;
    char buf[32];

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    put_fd(1, utoa(((unsigned long)hi << 32) | lo, buf + sizeof(buf)));
    put_fd(1, "\n");
    return 0;
}
