/* Basic types and helpers shared by all of Keel (core and arch). */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

#include <keel/env.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

typedef u64 paddr_t; /* machine (host-physical) address */
typedef u64 mfn_t;   /* machine frame number */

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __unused __attribute__((unused))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __section(s) __attribute__((section(s)))
/* Code and data only needed while booting; freed once boot is over. */
#ifdef KEEL_HOST
#define __init
#define __initdata
#else
#define __init __section(".init.text")
#define __initdata __section(".init.data")
#endif

#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#define container_of(p, type, member)                                          \
    ((type *)((char *)(p)-offsetof(type, member)))

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define barrier() __asm__ __volatile__("" ::: "memory")

/* "Preempted, call again": internal, never returned to a guest (Xen's
 * ERESTART, which its public header keeps to the hypervisor). */
#define KEEL_ERESTART 85

#endif
