/*
 * The hypercall log: one line per hypercall a test makes,
 *
 *   @h<vcpu> <nr> <arg>... =<result>
 *
 * with the arguments the hypercall takes (Xen's count for each number, all
 * five for unknown numbers) in hex and the result in decimal.  The
 * conformance harness (tests/conformance/) compares these lines between
 * Xen 4.17 and Keel, so values that differ between two correct
 * hypervisors are written as what they mean, not as numbers:
 *   - a machine address or page-table entry of one of our own frames is
 *     "p<pfn>" (+<offset> or :<flags>), shared_info's frame "si", any
 *     other frame "m?"; a timeout is "T" (0 stays 0);
 *   - results that are machine quantities (the highest MFN) are "M".
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

static int put_frame(char *b, size_t n, uint64_t mfn)
{
    long pfn;

    if (rt_start_info && mfn == rt_start_info->shared_info >> 12)
        return snprintf(b, n, "si");
    pfn = pfn_of(mfn);
    return pfn < 0 ? snprintf(b, n, "m?") : snprintf(b, n, "p%lx", pfn);
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
        return snprintf(b, n, "%lx", (unsigned long)v);
    }
}

static bool result_is_machine(unsigned nr, uint64_t a1)
{
    return nr == __HYPERVISOR_memory_op && (a1 & 0xffff) == XENMEM_maximum_ram_page;
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
    rt_hypercall_raw(__HYPERVISOR_console_io, CONSOLEIO_write, (unsigned long)len,
                     (unsigned long)line, 0, 0);
}
