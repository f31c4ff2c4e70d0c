/*
 * The hypercall log: one line per hypercall a test makes,
 *
 *   @h<vcpu> <nr> <arg>... =<result>
 *
 * with the arguments the hypercall takes (Xen's count for each number, all
 * five for unknown numbers) in hex and the result in decimal.  The
 * conformance harness (tests/conformance/) compares these lines between
 * Xen 4.17 and Keel, and compares Keel's runs with Xen's recorded ones, so
 * values that differ between two correct hypervisors, or between two
 * builds of the same test, are written as what they mean:
 *   - an address inside our image (code, data, stack) is "K", one in the
 *     rest of the builder's mapping (start_info, page tables...) "V";
 *   - a machine address or page-table entry of one of our own frames is
 *     a frame name (+<offset> or :<flags>): "pK" for our image, "pT<n>"
 *     for the n-th initial page-table frame, "p<pfn>" for the rest;
 *     shared_info's frame is "si", any other frame "m?";
 *   - a timeout is "T" (0 stays 0);
 *   - results that are machine quantities (the highest MFN) are "M".
 * Lines are kept in memory and printed in blocks when a buffer fills and
 * before the verdict (rt_hlog_flush), so logging costs a test no console
 * time between its calls (timer tests measure milliseconds).
 * Not logged: the runtime's own console output (it is the log), the iret
 * hypercall (entry.S issues it directly), calls from exception and event
 * handlers (when they run depends on timing) and calls inside
 * rt_hlog_quiet_begin/end (waits whose number of calls depends on timing).
 */
#include "rt.h"

#define NR_KNOWN 43

/* Arguments each hypercall takes (0xff: unknown, print all five). */
static const uint8_t nargs[NR_KNOWN] = {
    [__HYPERVISOR_set_trap_table] = 1,   [__HYPERVISOR_mmu_update] = 4,
    [__HYPERVISOR_set_gdt] = 2,          [__HYPERVISOR_stack_switch] = 2,
    [__HYPERVISOR_set_callbacks] = 3,    [__HYPERVISOR_fpu_taskswitch] = 1,
    [__HYPERVISOR_sched_op_compat] = 2,  [__HYPERVISOR_platform_op] = 1,
    [__HYPERVISOR_set_debugreg] = 2,     [__HYPERVISOR_get_debugreg] = 1,
    [__HYPERVISOR_update_descriptor] = 2, [11] = 0xff,
    [__HYPERVISOR_memory_op] = 2,        [__HYPERVISOR_multicall] = 2,
    [__HYPERVISOR_update_va_mapping] = 3, [__HYPERVISOR_set_timer_op] = 1,
    [__HYPERVISOR_event_channel_op_compat] = 1, [__HYPERVISOR_xen_version] = 2,
    [__HYPERVISOR_console_io] = 3,       [__HYPERVISOR_physdev_op_compat] = 1,
    [__HYPERVISOR_grant_table_op] = 3,   [__HYPERVISOR_vm_assist] = 2,
    [__HYPERVISOR_update_va_mapping_otherdomain] = 4, [__HYPERVISOR_iret] = 0,
    [__HYPERVISOR_vcpu_op] = 3,          [__HYPERVISOR_set_segment_base] = 2,
    [__HYPERVISOR_mmuext_op] = 4,        [__HYPERVISOR_xsm_op] = 1,
    [__HYPERVISOR_nmi_op] = 2,           [__HYPERVISOR_sched_op] = 2,
    [__HYPERVISOR_callback_op] = 2,      [__HYPERVISOR_xenoprof_op] = 2,
    [__HYPERVISOR_event_channel_op] = 2, [__HYPERVISOR_physdev_op] = 2,
    [__HYPERVISOR_hvm_op] = 2,           [__HYPERVISOR_sysctl] = 1,
    [__HYPERVISOR_domctl] = 1,           [__HYPERVISOR_kexec_op] = 2,
    [__HYPERVISOR_tmem_op] = 1,          [__HYPERVISOR_argo_op] = 5,
    [__HYPERVISOR_xenpmu_op] = 2,        [__HYPERVISOR_dm_op] = 3,
    [__HYPERVISOR_hypfs_op] = 5,
};

enum kind { PLAIN, MADDR, PTE, TIME };

static enum kind arg_kind(unsigned nr, unsigned i)
{
    switch (nr) {
    case __HYPERVISOR_update_descriptor:
        return i == 0 ? MADDR : PLAIN;
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_update_va_mapping_otherdomain:
        return i == 1 ? PTE : PLAIN;
    case __HYPERVISOR_set_timer_op:
        return TIME;
    default:
        return PLAIN;
    }
}

extern char rt_stack[], rt_stack_top[];
extern char __kernel_start[], __kernel_end[];
#define VIRT_BASE 0xffffffff80000000UL
static volatile int quiet[2];

/* vCPU 0 runs on the boot stack; the tests' other vCPU has its own. */
static unsigned this_vcpu(void)
{
    char here;
    return &here >= rt_stack && &here < rt_stack_top ? 0 : 1;
}

void rt_hlog_quiet_begin(void)
{
    quiet[this_vcpu()]++;
}

void rt_hlog_quiet_end(void)
{
    quiet[this_vcpu()]--;
}

/* Our pfn of machine frame mfn; -1 if it is not ours. */
static long pfn_of(uint64_t mfn)
{
    const unsigned long *p2m;

    if (!rt_start_info)
        return -1;
    p2m = (const unsigned long *)rt_start_info->mfn_list;
    for (unsigned long pfn = 0; pfn < rt_start_info->nr_pages; pfn++)
        if (p2m[pfn] == mfn)
            return (long)pfn;
    return -1;
}

static unsigned long va_pfn(uintptr_t va)
{
    return (va - VIRT_BASE) >> 12;
}

static int put_frame(char *b, size_t n, uint64_t mfn)
{
    const start_info_t *si = rt_start_info;
    long pfn;

    if (si && mfn == si->shared_info >> 12)
        return snprintf(b, n, "si");
    pfn = pfn_of(mfn);
    if (pfn < 0)
        return snprintf(b, n, "m?");
    if ((unsigned long)pfn >= va_pfn((uintptr_t)__kernel_start) &&
        (unsigned long)pfn < va_pfn((uintptr_t)__kernel_end + 4095))
        return snprintf(b, n, "pK");
    if ((unsigned long)pfn - va_pfn(si->pt_base) < si->nr_pt_frames)
        return snprintf(b, n, "pT%lx", (unsigned long)pfn - va_pfn(si->pt_base));
    return snprintf(b, n, "p%lx", pfn);
}

/* The end of the builder's initial mapping: at least 512 KiB past the
 * page tables and the boot stack, rounded up to 4 MiB (Xen's layout). */
static uintptr_t mapping_end(void)
{
    const start_info_t *si = rt_start_info;
    uintptr_t end = si->pt_base + ((uintptr_t)si->nr_pt_frames << 12) + 4096 + (512 << 10);

    return (end + (4UL << 20) - 1) & ~((4UL << 20) - 1);
}

/* Our own addresses move with every build: named by region. */
static int put_plain(char *b, size_t n, uint64_t v)
{
    if (v >= (uintptr_t)__kernel_start && v < (uintptr_t)__kernel_end)
        return snprintf(b, n, "K");
    if (rt_start_info && v >= (uintptr_t)__kernel_end && v < mapping_end())
        return snprintf(b, n, "V");
    return snprintf(b, n, "%lx", (unsigned long)v);
}

static int put_arg(char *b, size_t n, enum kind k, uint64_t v)
{
    int len;

    switch (k) {
    case MADDR:
        len = put_frame(b, n, v >> 12);
        return len + snprintf(b + len, n - len, "+%lx", (unsigned long)(v & 0xfff));
    case PTE:
        if (!(v & 1))
            return snprintf(b, n, "%lx", (unsigned long)v);
        len = put_frame(b, n, (v & 0x000ffffffffff000UL) >> 12);
        return len + snprintf(b + len, n - len, ":%lx",
                              (unsigned long)(v & ~0x000ffffffffff000UL));
    case TIME:
        return snprintf(b, n, v ? "T" : "0");
    default:
        return put_plain(b, n, v);
    }
}

static bool result_is_machine(unsigned nr, uint64_t a1)
{
    return nr == __HYPERVISOR_memory_op && (a1 & 0xffff) == XENMEM_maximum_ram_page;
}

#define BUF_SIZE (32 << 10)
static struct {
    char text[BUF_SIZE];
    unsigned len;
} buf[2];

static void write_out(const char *s, unsigned len)
{
    while (len) {
        unsigned n = len > 2048 ? 2048 : len;
        rt_write(s, n);
        s += n;
        len -= n;
    }
}

void rt_hlog_flush(void)
{
    for (unsigned v = 0; v < 2; v++) {
        write_out(buf[v].text, buf[v].len);
        buf[v].len = 0;
    }
}

static void keep(unsigned v, const char *line, unsigned len)
{
    if (buf[v].len + len > BUF_SIZE) {
        write_out(buf[v].text, buf[v].len);
        buf[v].len = 0;
    }
    memcpy(buf[v].text + buf[v].len, line, len);
    buf[v].len += len;
}

void rt_hlog(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3,
             unsigned long a4, unsigned long a5, long ret)
{
    unsigned long a[5] = {a1, a2, a3, a4, a5};
    unsigned v = this_vcpu(), count;
    char line[200];
    int len;

#ifdef RT_NO_HLOG
    return; /* the benchmark guest: its timings must not pay for this */
#endif
    if (quiet[v] || nr == __HYPERVISOR_iret)
        return;
    count = nr < NR_KNOWN ? nargs[nr] : 0xff;
    if (count > 5)
        count = 5;
    len = snprintf(line, sizeof(line), "@h%u %u", v, nr);
    for (unsigned i = 0; i < count; i++) {
        line[len++] = ' ';
        len += put_arg(line + len, sizeof(line) - (size_t)len, arg_kind(nr, i), a[i]);
    }
    if (result_is_machine(nr, a1))
        len += snprintf(line + len, sizeof(line) - (size_t)len, " =M\n");
    else
        len += snprintf(line + len, sizeof(line) - (size_t)len, " =%ld\n", ret);
    keep(v, line, (unsigned)len);
}
