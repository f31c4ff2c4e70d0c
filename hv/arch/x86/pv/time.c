/*
 * Guest time: every vCPU's vcpu_time_info says how to turn the TSC into
 * Keel's system time (ns since boot), and shared_info carries the wall
 * clock at system time 0.  Writers follow Xen's version protocol: odd
 * while the fields change, even when they are consistent.
 */
#include <asm/cpu.h>
#include <asm/pv.h>
#include <keel/time.h>

static void write_time(struct vcpu_time_info *t)
{
    const struct time_scale *s = tsc_to_ns_scale();
    u64 tsc = rdtsc();

    WRITE_ONCE(t->version, t->version | 1);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->tsc_timestamp = tsc;
    t->system_time = scale_delta(tsc - boot_tsc(), s);
    t->tsc_to_system_mul = s->mul;
    t->tsc_shift = s->shift;
    t->flags = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    WRITE_ONCE(t->version, (t->version | 1) + 1);
}

void pv_update_vcpu_time(struct vcpu *v)
{
    struct shared_info *si = v->domain->shared_info;

    write_time(&v->vcpu_info->time);
    /* Until a vCPU registers its own vcpu_info, and for readers of the
     * legacy slot (TSC frequency early in boot), keep both current. */
    if (v->vcpu_id < XEN_LEGACY_MAX_VCPUS && v->vcpu_info != &si->vcpu_info[v->vcpu_id])
        write_time(&si->vcpu_info[v->vcpu_id].time);
}

/* ----------------------------------------------------------- wall clock */

#include <asm/io.h>

static u8 cmos_read(u8 reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned int bcd(u8 v, bool is_bcd)
{
    return is_bcd ? (v >> 4) * 10 + (v & 15) : v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static u64 days_since_epoch(unsigned int y, unsigned int m, unsigned int d)
{
    if (m <= 2) {
        y--;
        m += 12;
    }
    return (u64)365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 719469;
}

/* Seconds since the epoch from the CMOS clock, read twice until stable. */
static u64 rtc_seconds(void)
{
    u8 t[6], again[6];

    do {
        while (cmos_read(0x0a) & 0x80) /* update in progress */
            ;
        for (int i = 0; i < 6; i++)
            t[i] = cmos_read((u8[]){0, 2, 4, 7, 8, 9}[i]);
        for (int i = 0; i < 6; i++)
            again[i] = cmos_read((u8[]){0, 2, 4, 7, 8, 9}[i]);
    } while (memcmp(t, again, sizeof(t)));
    bool is_bcd = !(cmos_read(0x0b) & 4);
    unsigned int hour = bcd(t[2] & 0x7f, is_bcd);
    if (!(cmos_read(0x0b) & 2) && (t[2] & 0x80)) /* 12-hour clock, PM */
        hour = (hour % 12) + 12;
    u64 days = days_since_epoch(2000 + bcd(t[5], is_bcd), bcd(t[4], is_bcd), bcd(t[3], is_bcd));
    return days * 86400 + hour * 3600 + bcd(t[1], is_bcd) * 60 + bcd(t[0], is_bcd);
}

/* Wall clock at system time 0, in ns since the epoch (0: not read yet). */
static u64 boot_wall_ns;
static spinlock_t wallclock_lock = SPINLOCK_INIT;

void pv_update_wallclock(struct domain *d)
{
    struct shared_info *si = d->shared_info;

    if (!boot_wall_ns)
        boot_wall_ns = rtc_seconds() * 1000000000ULL - (u64)NOW();
    WRITE_ONCE(si->wc_version, si->wc_version | 1);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    si->wc_sec = (u32)(boot_wall_ns / 1000000000ULL);
    si->wc_nsec = (u32)(boot_wall_ns % 1000000000ULL);
    si->xen_wc_sec_hi = (u32)((boot_wall_ns / 1000000000ULL) >> 32);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    WRITE_ONCE(si->wc_version, (si->wc_version | 1) + 1);
}

/* dom0 set the clock (XENPF_settime): every domain sees the new one. */
void pv_set_wallclock(u64 wall_at_boot_ns)
{
    spin_lock(&wallclock_lock);
    boot_wall_ns = wall_at_boot_ns ? wall_at_boot_ns : 1;
    for (struct domain *d = domain_get_next(0), *n; d; d = n) {
        if (d->shared_info)
            pv_update_wallclock(d);
        n = d->domid + 1u < MAX_DOMAINS ? domain_get_next((domid_t)(d->domid + 1)) : NULL;
        domain_put(d);
    }
    spin_unlock(&wallclock_lock);
}
