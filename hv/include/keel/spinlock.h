/* Ticket spinlocks: fair, and small enough to read in one go. */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <keel/types.h>

typedef struct {
    volatile u16 next;  /* ticket handed to the next arrival */
    volatile u16 owner; /* ticket now being served */
} spinlock_t;

#define SPINLOCK_INIT {0, 0}

static inline void cpu_relax(void)
{
#ifdef KEEL_HOST
    barrier();
#else
    __asm__ __volatile__("pause" ::: "memory");
#endif
}

/*
 * Every loop that waits for another CPU uses this: a CPU that waits (even
 * with interrupts off) still answers cross-CPU calls such as TLB flushes,
 * because the CPU it waits for may itself be waiting for that answer.
 */
#ifdef KEEL_HOST
static inline void spin_relax(void) { cpu_relax(); }
#else
void smp_serve_calls(void);
static inline void spin_relax(void)
{
    smp_serve_calls();
    cpu_relax();
}
#endif

static inline void spin_lock(spinlock_t *l)
{
    u16 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        spin_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
    u16 owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    u16 want = owner;
    /* Only succeed when nobody holds or waits: next == owner. */
    return __atomic_compare_exchange_n(&l->next, &want, (u16)(owner + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (u16)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *l)
{
    return l->next != l->owner;
}

#ifndef KEEL_HOST
static inline unsigned long irq_save(void)
{
    unsigned long flags;
    __asm__ __volatile__("pushf; pop %0; cli" : "=r"(flags)::"memory");
    return flags;
}

static inline void irq_restore(unsigned long flags)
{
    if (flags & (1UL << 9))
        __asm__ __volatile__("sti" ::: "memory");
}
#else
static inline unsigned long irq_save(void) { return 0; }
static inline void irq_restore(unsigned long flags) { (void)flags; }
#endif

static inline unsigned long spin_lock_irqsave(spinlock_t *l)
{
    unsigned long f = irq_save();
    spin_lock(l);
    return f;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, unsigned long f)
{
    spin_unlock(l);
    irq_restore(f);
}

#endif
