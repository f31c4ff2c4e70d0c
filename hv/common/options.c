/* The hypervisor's boot options: one table, one handler per option. */
#include <keel/cmdline.h>
#include <keel/options.h>

struct keel_options opts = {
    .loglvl = LOG_INFO,
    .console_port = 0x3f8,
    .console_baud = 115200,
};

static bool value_is(const struct cmdline_word *w, const char *s)
{
    size_t n = strlen(s);
    return w->value && w->value_len == n && !memcmp(w->value, s, n);
}

static int opt_console(const struct cmdline_word *w)
{
    if (value_is(w, "com1"))
        opts.console_port = 0x3f8;
    else if (value_is(w, "com2"))
        opts.console_port = 0x2f8;
    else if (value_is(w, "none"))
        opts.console_port = 0;
    else if (value_is(w, "vga"))
        ; /* accepted for Xen compatibility: Keel has no VGA console */
    else
        return -1;
    return 0;
}

static int opt_loglvl(const struct cmdline_word *w)
{
    static const char *const names[] = {"none", "error", "warning", "info", "debug"};
    u64 n;

    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (value_is(w, names[i])) {
            opts.loglvl = (enum log_level)i;
            return 0;
        }
    if (value_is(w, "all")) {
        opts.loglvl = LOG_DEBUG;
        return 0;
    }
    if (w->value && parse_uint(w->value, w->value_len, &n) && n <= LOG_DEBUG) {
        opts.loglvl = (enum log_level)n;
        return 0;
    }
    return -1;
}

static int opt_dom0_mem(const struct cmdline_word *w)
{
    return w->value && parse_size(w->value, w->value_len, &opts.dom0_mem) ? 0 : -1;
}

static int parse_u32(const struct cmdline_word *w, u32 *out)
{
    u64 n;

    if (!w->value || !parse_uint(w->value, w->value_len, &n) || n > UINT32_MAX)
        return -1;
    *out = (u32)n;
    return 0;
}

static int opt_maxcpus(const struct cmdline_word *w)
{
    return parse_u32(w, &opts.maxcpus) < 0 || opts.maxcpus == 0 ? -1 : 0;
}

static int opt_dom0_max_vcpus(const struct cmdline_word *w)
{
    return parse_u32(w, &opts.dom0_max_vcpus);
}

static int opt_selftest(const struct cmdline_word *w)
{
    opts.selftest = true;
    return w->value ? -1 : 0;
}

static int opt_debug_exit(const struct cmdline_word *w)
{
    opts.debug_exit = true;
    return w->value ? -1 : 0;
}

static int opt_noreboot(const struct cmdline_word *w)
{
    opts.noreboot = true;
    return w->value ? -1 : 0;
}

static int opt_crashtest(const struct cmdline_word *w)
{
    return w->value && cmdline_word_value(w, opts.crashtest, sizeof(opts.crashtest)) ? 0 : -1;
}

static int opt_tlbclock_bits(const struct cmdline_word *w)
{
    return parse_u32(w, &opts.tlbclock_bits) < 0 || opts.tlbclock_bits < 4 ||
                   opts.tlbclock_bits > 32
               ? -1
               : 0;
}

static int opt_preempt_every(const struct cmdline_word *w)
{
    return parse_u32(w, &opts.preempt_every);
}

/* Xen's names; an unknown one is reported when the scheduler starts. */
static int opt_sched(const struct cmdline_word *w)
{
    return w->value && cmdline_word_value(w, opts.sched, sizeof(opts.sched)) ? 0 : -1;
}

/* Keel knows no topology: a runqueue per CPU, or shared by up to 16. */
static int opt_credit2_runqueue(const struct cmdline_word *w)
{
    static const char *const shared[] = {"socket", "node", "all"};

    if (value_is(w, "cpu") || value_is(w, "core")) {
        opts.credit2_runq_per_cpu = true;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(shared); i++)
        if (value_is(w, shared[i])) {
            opts.credit2_runq_per_cpu = false;
            return 0;
        }
    return -1;
}

static int opt_hvm_stats(const struct cmdline_word *w)
{
    opts.hvm_stats = true;
    return w->value ? -1 : 0;
}

static const struct cmdline_opt table[] = {
    {"console", opt_console},
    {"loglvl", opt_loglvl},
    {"dom0_mem", opt_dom0_mem},
    {"maxcpus", opt_maxcpus},
    {"dom0_max_vcpus", opt_dom0_max_vcpus},
    {"selftest", opt_selftest},
    {"debug-exit", opt_debug_exit},
    {"noreboot", opt_noreboot},
    {"crashtest", opt_crashtest},
    {"tlbclock_bits", opt_tlbclock_bits},
    {"preempt_every", opt_preempt_every},
    {"sched", opt_sched},
    {"credit2_runqueue", opt_credit2_runqueue},
    {"hvm_stats", opt_hvm_stats},
};

static void report_unknown(const struct cmdline_word *w)
{
    printk(KLOG_WARN "cmdline: unknown option '%.*s' ignored\n", (int)w->name_len,
           w->name);
}

int options_parse(const char *cmdline)
{
    return cmdline_parse(cmdline, table, ARRAY_SIZE(table), report_unknown);
}
