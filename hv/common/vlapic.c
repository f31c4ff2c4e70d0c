/* The virtual local APIC's register model (keel/vlapic.h). */
#include <keel/vlapic.h>

#define LVT_CMCI 0
#define LVT_TIMER 1
#define NR_LVT 7
#define LVR_VALUE (0x14U | ((NR_LVT - 1U) << 16)) /* version 0x14, 7 LVTs */
/* Writable bits of each LVT: vector, delivery mode, polarity, trigger,
 * mask, and the timer's mode. */
static const u32 lvt_mask[NR_LVT] = {0x117ff, 0x300ff, 0x117ff, 0x117ff, 0x1a7ff, 0x1a7ff,
                                     0x100ff};

static unsigned int lvt_index(unsigned int offset)
{
    return offset == VLAPIC_CMCI ? LVT_CMCI : (offset - VLAPIC_LVTT) / 0x10 + 1;
}

static bool is_lvt(unsigned int offset)
{
    return offset == VLAPIC_CMCI || (offset >= VLAPIC_LVTT && offset <= VLAPIC_LVTERR);
}

void vlapic_reset(struct vlapic *a, unsigned int vcpu_id)
{
    memset(a, 0, sizeof(*a));
    a->base_msr = VLAPIC_BASE_DEFAULT | VLAPIC_BASE_ENABLE | (vcpu_id ? 0 : VLAPIC_BASE_BSP);
    a->id = vcpu_id * 2;
    a->dfr = 0xffffffffU;
    a->svr = 0xff;
    for (unsigned int i = 0; i < NR_LVT; i++)
        a->lvt[i] = VLAPIC_LVT_MASKED;
}

bool vlapic_x2apic(const struct vlapic *a)
{
    return (a->base_msr & (VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD)) ==
           (VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD);
}

bool vlapic_enabled(const struct vlapic *a)
{
    return (a->base_msr & VLAPIC_BASE_ENABLE) && (a->svr & VLAPIC_SPIV_ENABLED);
}

static int highest(const u32 *bits)
{
    for (int i = 7; i >= 0; i--)
        if (bits[i])
            return i * 32 + 31 - __builtin_clz(bits[i]);
    return -1;
}

static u32 ppr(const struct vlapic *a)
{
    int isr = highest(a->isr);
    u32 isrv = isr < 0 ? 0 : (u32)isr & 0xf0;

    return (a->tpr & 0xf0) >= isrv ? a->tpr & 0xff : isrv;
}

static u32 divisor(const struct vlapic *a)
{
    u32 d = (a->timer_divide & 3) | ((a->timer_divide >> 1) & 4);

    return d == 7 ? 1 : 2U << d;
}

static u32 current_count(const struct vlapic *a, s64 now)
{
    u64 ticks, period;

    if (!a->timer_initial || !a->timer_armed)
        return 0;
    ticks = (u64)(now - a->timer_start) / divisor(a);
    if (a->lvt[LVT_TIMER] & VLAPIC_TIMER_PERIODIC) {
        period = a->timer_initial;
        return (u32)(period - ticks % period);
    }
    return ticks >= a->timer_initial ? 0 : (u32)(a->timer_initial - ticks);
}

bool vlapic_read(const struct vlapic *a, unsigned int offset, s64 now, u32 *val)
{
    bool x2 = vlapic_x2apic(a);

    if (offset & 0xf)
        return false;
    if (offset >= VLAPIC_ISR && offset < VLAPIC_ISR + 0x80) {
        *val = a->isr[(offset - VLAPIC_ISR) / 16];
        return true;
    }
    if (offset >= VLAPIC_TMR && offset < VLAPIC_TMR + 0x80) {
        *val = a->tmr[(offset - VLAPIC_TMR) / 16];
        return true;
    }
    if (offset >= VLAPIC_IRR && offset < VLAPIC_IRR + 0x80) {
        *val = a->irr[(offset - VLAPIC_IRR) / 16];
        return true;
    }
    if (is_lvt(offset)) {
        *val = a->lvt[lvt_index(offset)];
        return true;
    }
    switch (offset) {
    case VLAPIC_ID:
        *val = x2 ? a->id : a->id << 24;
        return true;
    case VLAPIC_LVR:
        *val = LVR_VALUE;
        return true;
    case VLAPIC_TASKPRI:
        *val = a->tpr;
        return true;
    case VLAPIC_ARBPRI:
        if (x2)
            return false;
        *val = 0;
        return true;
    case VLAPIC_PROCPRI:
        *val = ppr(a);
        return true;
    case VLAPIC_LDR:
        /* x2APIC: cluster in 31:16, one bit per APIC in the cluster. */
        *val = x2 ? ((a->id >> 4) << 16) | (1U << (a->id & 15)) : a->ldr;
        return true;
    case VLAPIC_DFR:
        if (x2)
            return false;
        *val = a->dfr;
        return true;
    case VLAPIC_SPIV:
        *val = a->svr;
        return true;
    case VLAPIC_ESR:
        *val = a->esr;
        return true;
    case VLAPIC_ICR:
        *val = 0; /* idle: delivery status clear */
        return true;
    case VLAPIC_ICR2:
        if (x2)
            return false;
        *val = a->icr2;
        return true;
    case VLAPIC_TMICT:
        *val = a->timer_initial;
        return true;
    case VLAPIC_TMCCT:
        *val = current_count(a, now);
        return true;
    case VLAPIC_TDCR:
        *val = a->timer_divide;
        return true;
    default:
        return false; /* EOI and SELF_IPI are write-only; the rest absent */
    }
}

static void clear_bit(u32 *bits, unsigned int v)
{
    bits[v / 32] &= ~(1U << (v % 32));
}

static void set_bit(u32 *bits, unsigned int v)
{
    bits[v / 32] |= 1U << (v % 32);
}

static void do_eoi(struct vlapic *a)
{
    int v = highest(a->isr);

    if (v >= 0) {
        clear_bit(a->isr, (unsigned int)v);
        clear_bit(a->tmr, (unsigned int)v);
    }
}

static void decode_icr(struct vlapic *a, u32 low, u32 dest, struct vlapic_ipi *ipi)
{
    (void)a;
    ipi->valid = true;
    ipi->vector = (u8)low;
    ipi->mode = (enum vlapic_dm)((low >> 8) & 7);
    ipi->logical = low & (1U << 11);
    ipi->level_assert = low & (1U << 14);
    ipi->shorthand = (enum vlapic_shorthand)((low >> 18) & 3);
    ipi->dest = dest;
}

static void timer_load(struct vlapic *a, s64 now)
{
    a->timer_start = now;
    a->timer_armed = a->timer_initial != 0;
}

bool vlapic_write(struct vlapic *a, unsigned int offset, u32 val, s64 now,
                  struct vlapic_ipi *ipi, bool *timer_changed)
{
    bool x2 = vlapic_x2apic(a);

    ipi->valid = false;
    *timer_changed = false;
    if (offset & 0xf)
        return false;
    if (is_lvt(offset)) {
        unsigned int i = lvt_index(offset);
        u32 m = lvt_mask[i];
        /* With the APIC software-disabled every LVT stays masked. */
        if (!(a->svr & VLAPIC_SPIV_ENABLED))
            val |= VLAPIC_LVT_MASKED;
        a->lvt[i] = val & m;
        *timer_changed = i == LVT_TIMER;
        return true;
    }
    switch (offset) {
    case VLAPIC_ID:
        if (x2)
            return false;
        return true; /* Xen ignores writes to the xAPIC id */
    case VLAPIC_TASKPRI:
        a->tpr = val & 0xff;
        return true;
    case VLAPIC_EOI:
        if (x2 && val)
            return false; /* x2APIC: a non-zero EOI is #GP */
        do_eoi(a);
        return true;
    case VLAPIC_LDR:
        if (x2)
            return false;
        a->ldr = val & 0xff000000U;
        return true;
    case VLAPIC_DFR:
        if (x2)
            return false;
        a->dfr = val | 0x0fffffffU;
        return true;
    case VLAPIC_SPIV:
        a->svr = val & 0x13ff;
        if (!(val & VLAPIC_SPIV_ENABLED)) {
            for (unsigned int i = 0; i < NR_LVT; i++)
                a->lvt[i] |= VLAPIC_LVT_MASKED;
            *timer_changed = true;
        }
        return true;
    case VLAPIC_ESR:
        if (x2 && val)
            return false;
        a->esr = 0;
        return true;
    case VLAPIC_ICR:
        if (x2)
            return false; /* one 64-bit write: vlapic_write_icr64 */
        decode_icr(a, val, a->icr2 >> 24, ipi);
        return true;
    case VLAPIC_ICR2:
        if (x2)
            return false;
        a->icr2 = val & 0xff000000U;
        return true;
    case VLAPIC_TMICT:
        a->timer_initial = val;
        timer_load(a, now);
        *timer_changed = true;
        return true;
    case VLAPIC_TDCR:
        a->timer_divide = val & 0xb;
        return true;
    case VLAPIC_SELF_IPI:
        if (!x2)
            return false;
        decode_icr(a, val & 0xff, 0, ipi);
        ipi->shorthand = VLAPIC_SH_SELF;
        return true;
    default:
        return false;
    }
}

bool vlapic_write_icr64(struct vlapic *a, u64 val, struct vlapic_ipi *ipi)
{
    ipi->valid = false;
    if (val & 0xfff32000ULL & 0xffffffffULL)
        return false; /* reserved bits of the low half */
    decode_icr(a, (u32)val, (u32)(val >> 32), ipi);
    return true;
}

bool vlapic_set_base(struct vlapic *a, u64 val)
{
    u64 old = a->base_msr;
    bool en = val & VLAPIC_BASE_ENABLE, x2 = val & VLAPIC_BASE_EXTD;

    /* The base address stays put (Xen's vlapic cannot move), reserved
     * bits are #GP, and x2APIC -> xAPIC without disabling is refused. */
    if ((val & ~(VLAPIC_BASE_BSP | VLAPIC_BASE_EXTD | VLAPIC_BASE_ENABLE)) != VLAPIC_BASE_DEFAULT)
        return false;
    if ((val & VLAPIC_BASE_BSP) != (old & VLAPIC_BASE_BSP))
        return false;
    if (x2 && !en)
        return false;
    if ((old & VLAPIC_BASE_EXTD) && !x2 && en)
        return false;
    if (!en) {
        a->svr &= ~VLAPIC_SPIV_ENABLED;
        for (unsigned int i = 0; i < NR_LVT; i++)
            a->lvt[i] |= VLAPIC_LVT_MASKED;
    }
    a->base_msr = val;
    return true;
}

void vlapic_set_irq(struct vlapic *a, u8 vector)
{
    if (vector < 16) {
        a->esr |= 1U << 6; /* illegal vector received */
        return;
    }
    set_bit(a->irr, vector);
}

int vlapic_pending(const struct vlapic *a)
{
    int v = highest(a->irr);

    if (v < 0 || !vlapic_enabled(a))
        return -1;
    return ((u32)v & 0xf0) > (ppr(a) & 0xf0) ? v : -1;
}

void vlapic_ack(struct vlapic *a, u8 vector)
{
    clear_bit(a->irr, vector);
    set_bit(a->isr, vector);
}

static bool test_bit(const u32 *bits, unsigned int v)
{
    return bits[v / 32] & (1U << (v % 32));
}

bool vlapic_irr_test(const struct vlapic *a, u8 vector)
{
    return test_bit(a->irr, vector);
}

bool vlapic_isr_test(const struct vlapic *a, u8 vector)
{
    return test_bit(a->isr, vector);
}

s64 vlapic_timer_deadline(const struct vlapic *a)
{
    u64 ticks;

    if (!a->timer_armed || !a->timer_initial)
        return 0;
    ticks = (u64)a->timer_initial * divisor(a);
    return a->timer_start + (s64)ticks;
}

void vlapic_timer_fire(struct vlapic *a, s64 now)
{
    u32 lvt = a->lvt[LVT_TIMER];

    if (!a->timer_armed)
        return;
    if (!(lvt & VLAPIC_LVT_MASKED) && vlapic_enabled(a))
        vlapic_set_irq(a, (u8)lvt);
    if (lvt & VLAPIC_TIMER_PERIODIC) {
        /* The next period starts where this one ended, not at `now`. */
        s64 period = (s64)((u64)a->timer_initial * divisor(a));
        a->timer_start += period;
        if (a->timer_start + period <= now)
            a->timer_start = now; /* far behind: do not fire a backlog */
    } else {
        a->timer_armed = false;
    }
}

bool vlapic_match_dest(const struct vlapic *a, const struct vlapic_ipi *ipi, bool is_self)
{
    switch (ipi->shorthand) {
    case VLAPIC_SH_SELF:
        return is_self;
    case VLAPIC_SH_ALL:
        return true;
    case VLAPIC_SH_OTHERS:
        return !is_self;
    default:
        break;
    }
    if (vlapic_x2apic(a)) {
        if (!ipi->logical)
            return ipi->dest == 0xffffffffU || ipi->dest == a->id;
        /* Cluster model: cluster in 31:16, member mask in 15:0. */
        return (ipi->dest >> 16) == (a->id >> 4) && (ipi->dest & (1U << (a->id & 15)));
    }
    if (!ipi->logical)
        return (ipi->dest & 0xff) == 0xff || (ipi->dest & 0xff) == a->id;
    if ((a->dfr >> 28) == 0xf) /* flat model: a bit per APIC */
        return ((a->ldr >> 24) & ipi->dest) != 0;
    /* Cluster model: high nibble cluster, low nibble members. */
    return ((a->ldr >> 28) == ((ipi->dest >> 4) & 0xf) || (ipi->dest & 0xf0) == 0xf0) &&
           ((a->ldr >> 24) & ipi->dest & 0xf);
}
