/*
 * The mini toolstack's PVH build, as libxl and libxenguest do it for
 * `type = "pvh"`: createdomain with the HVM and HAP flags and only the
 * local APIC emulated, max_mem, the paging pool, populate_physmap at guest
 * frame numbers, the ELF loaded at its physical addresses through foreign
 * mappings by GFN, hvm_start_info with a command line, the boot vCPU's
 * state by get/sethvmcontext (32-bit flat protected mode at the
 * XEN_ELFNOTE_PHYS32_ENTRY point, %ebx = start_info), unpause.
 *
 * It runs the PVH test domU (tests/pvh/domu) once per area, prints the
 * domU's own log, checks how the domain ended (the hostile area ends in a
 * triple fault, which must only shut that domain down for reboot; HLT
 * with interrupts off powers it off), destroys it and checks that every
 * page came back.  "pvh <area>: PASS" per area, then the verdict.
 */
#include "toolstack.h"
#include "../../pvh/comm.h"
#include <xen/hvm/save.h>
#include <xen/arch-x86/hvm/start_info.h>

extern const uint8_t pvh_elf[], pvh_elf_end[];

#define SECOND 1000000000ULL
#define PVH_PAGES 1024U /* 4 MiB of RAM at GFN 0 */
#define SHUTDOWN_CODE(f) (((f) >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask)

struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static domid_t dom;

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static long create_pvh(unsigned int vcpus)
{
    static struct xen_domctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_createdomain;
    op.u.createdomain.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    op.u.createdomain.max_vcpus = vcpus;
    op.u.createdomain.max_evtchn_port = 1023;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    op.u.createdomain.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    rc = domctl(&op);
    dom = op.domain;
    if (rc)
        return rc;
    /* Xen 4.17 makes the vCPUs here (and its gethvmcontext dereferences
     * vCPU 0 without checking: it must come first). */
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_max_vcpus;
    op.domain = dom;
    op.u.max_vcpus.max = vcpus;
    return domctl(&op);
}

static long simple(uint32_t cmd)
{
    static struct xen_domctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = cmd;
    op.domain = dom;
    return domctl(&op);
}

static long setup_memory(void)
{
    static struct xen_domctl op;
    static xen_pfn_t gfns[PVH_PAGES];
    struct xen_memory_reservation r = {.nr_extents = PVH_PAGES, .domid = 0};
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_max_mem;
    op.domain = dom;
    op.u.max_mem.max_memkb = (PVH_PAGES + 64) * 4;
    rc = domctl(&op);
    if (rc)
        return rc;
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_set_paging_mempool_size;
    op.domain = dom;
    op.u.paging_mempool.size = 1UL << 20;
    rc = domctl(&op);
    if (rc)
        return rc;
    for (unsigned int i = 0; i < PVH_PAGES; i++)
        gfns[i] = i;
    r.domid = dom;
    set_xen_guest_handle(r.extent_start, gfns);
    rc = memop(XENMEM_populate_physmap, &r);
    /* A translated guest's list is not rewritten with machine frames. */
    EXPECT_EQ(gfns[5], 5);
    return rc == PVH_PAGES ? 0 : -1;
}

/* Bytes (NULL: zeros) into the domU at a guest physical address. */
static long put_phys(uint64_t gpa, const void *src, uint64_t len)
{
    while (len) {
        uint64_t off = gpa & 4095, n = MIN(len, 4096 - off);
        uint8_t *p;
        long rc = map_foreign(0, gpa >> 12, dom, (void **)&p);

        if (rc)
            return rc;
        if (src)
            memcpy(p + off, src, n);
        else
            memset(p + off, 0, n);
        src = src ? (const uint8_t *)src + n : NULL;
        gpa += n;
        len -= n;
    }
    return unmap_slot(0);
}

static long load_elf(uint64_t *entry)
{
    const struct ehdr *eh = (const void *)pvh_elf;
    uint64_t size = (uint64_t)(pvh_elf_end - pvh_elf);

    CHECK(size > sizeof(*eh) && !memcmp(eh->ident, "\177ELF", 4));
    for (unsigned int i = 0; i < eh->phnum; i++) {
        const struct phdr *ph = (const void *)(pvh_elf + eh->phoff + i * sizeof(*ph));
        long rc;

        if (ph->type != 1)
            continue;
        CHECK(ph->offset + ph->filesz <= size && ph->paddr + ph->memsz <= PVH_PAGES * 4096UL);
        rc = put_phys(ph->paddr, pvh_elf + ph->offset, ph->filesz);
        if (!rc)
            rc = put_phys(ph->paddr + ph->filesz, NULL, ph->memsz - ph->filesz);
        if (rc)
            return rc;
    }
    *entry = eh->entry; /* = the PHYS32 entry note (linked at its physical address) */
    return 0;
}

static long write_start_info(const char *cmdline)
{
    static uint8_t page[4096];
    struct hvm_start_info *si = (struct hvm_start_info *)page;
    uint64_t base = PVH_START_INFO_GFN << 12;

    memset(page, 0, sizeof(page));
    si->magic = XEN_HVM_START_MAGIC_VALUE;
    si->version = 1;
    si->cmdline_paddr = base + 2048;
    for (unsigned int i = 0; cmdline[i] && i < 1000; i++)
        page[2048 + i] = (uint8_t)cmdline[i];
    return put_phys(base, page, sizeof(page));
}

/* libxenguest's vcpu_hvm: the header from Xen's own context, then the
 * boot vCPU in 32-bit flat protected mode. */
static long set_boot_vcpu(uint64_t entry)
{
    static struct xen_domctl op;
    static uint8_t full[16384];
    static struct {
        struct hvm_save_descriptor header_d;
        struct hvm_save_header header;
        struct hvm_save_descriptor cpu_d;
        struct hvm_hw_cpu cpu;
        struct hvm_save_descriptor end_d;
        struct hvm_save_end end;
    } ctx;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_gethvmcontext;
    op.domain = dom;
    rc = domctl(&op);
    if (rc)
        return rc;
    CHECK(op.u.hvmcontext.size > 0 && op.u.hvmcontext.size <= sizeof(full));
    set_xen_guest_handle(op.u.hvmcontext.buffer, full);
    rc = domctl(&op);
    if (rc)
        return rc;
    memset(&ctx, 0, sizeof(ctx));
    memcpy(&ctx, full, sizeof(ctx.header_d) + sizeof(ctx.header));
    EXPECT_EQ(ctx.header_d.typecode, 1);
    EXPECT_EQ(ctx.header.magic, HVM_FILE_MAGIC);
    ctx.cpu_d.typecode = 2;
    ctx.cpu_d.length = sizeof(ctx.cpu);
    ctx.cpu.cs_limit = ctx.cpu.ds_limit = ctx.cpu.ss_limit = ~0U;
    ctx.cpu.tr_limit = 0x67;
    ctx.cpu.cs_arbytes = 0xc9b;
    ctx.cpu.ds_arbytes = ctx.cpu.ss_arbytes = 0xc93;
    ctx.cpu.tr_arbytes = 0x8b;
    ctx.cpu.cr0 = 0x11; /* PE, ET */
    ctx.cpu.rip = entry;
    ctx.cpu.rbx = PVH_START_INFO_GFN << 12;
    ctx.cpu.rflags = 2;
    ((uint16_t *)ctx.cpu.fpu_regs)[0] = 0x37f; /* fninit's FCW */
    ctx.cpu.fpu_regs[4] = 0xff;
    *(uint32_t *)(ctx.cpu.fpu_regs + 24) = 0x1f80;
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_sethvmcontext;
    op.domain = dom;
    op.u.hvmcontext.size = sizeof(ctx);
    set_xen_guest_handle(op.u.hvmcontext.buffer, (uint8_t *)&ctx);
    return domctl(&op);
}

/* The domU's log, line by line, as "  | text". */
static void print_log(const struct pvh_comm *c)
{
    static char line[256];
    unsigned int n = 0, len = MIN(c->log_len, (uint32_t)PVH_LOG_SIZE);

    for (unsigned int i = 0; i < len; i++) {
        if (c->log[i] == '\n' || n == sizeof(line) - 1) {
            line[n] = 0;
            printf("  | %s\n", line);
            n = 0;
            continue;
        }
        line[n++] = c->log[i];
    }
}

/* Until the domU gives its verdict or shuts down. */
static uint32_t wait_domu(struct pvh_comm *c, uint32_t *flags)
{
    struct xen_domctl_getdomaininfo info;
    uint64_t end = rt_system_time() + 30 * SECOND;
    uint32_t st = PVH_RUNNING;

    *flags = 0;
    rt_hlog_quiet_begin(); /* how often it polls is timing */
    while (rt_system_time() < end) {
        st = __atomic_load_n(&c->state, __ATOMIC_SEQ_CST);
        CHECK(getdomaininfo(dom, &info) == 0);
        *flags = info.flags;
        if (info.flags & XEN_DOMINF_shutdown)
            break;
        /* Its verdict given, a domU halts: the shutdown follows its last
         * vCPU going down, a moment after it stopped running. */
        if (st != PVH_RUNNING && !(info.flags & XEN_DOMINF_running) &&
            end > rt_system_time() + SECOND)
            end = rt_system_time() + SECOND;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    rt_hlog_quiet_end();
    return __atomic_load_n(&c->state, __ATOMIC_SEQ_CST);
}

/* Xen 4.17 does not give back a page or two of each PVH domain with a
 * second vCPU (whatever the domain did: seen with areas that never start
 * it), Keel every page.  On Xen such a domain may leave up to XEN_KEPT_MAX
 * pages behind, said in the log, and later areas count from there. */
#define XEN_KEPT_MAX 4
static bool on_xen;        /* XENVER_compile_info: not built by "keel" */
static uint64_t xen_kept;  /* pages Xen kept so far */

static void destroy_and_check(uint64_t free_before, unsigned int vcpus)
{
    struct xen_domctl_getdomaininfo info;
    struct xen_sysctl_physinfo pi;
    uint64_t end, want = free_before - xen_kept;
    long rc;

    EXPECT_EQ(simple(XEN_DOMCTL_destroydomain), 0);
    rt_hlog_quiet_begin(); /* how long destruction takes is timing */
    end = rt_system_time() + 10 * SECOND;
    while ((rc = getdomaininfo(dom, &info)) == 0 && info.domain == dom &&
           rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    EXPECT(rc == -XEN_ESRCH || (rc == 0 && info.domain != dom));
    end = rt_system_time() + 10 * SECOND;
    while (physinfo(&pi) == 0 && pi.free_pages != want && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    if (on_xen && vcpus > 1 && pi.free_pages < want && pi.free_pages + XEN_KEPT_MAX >= want) {
        printf("pvh: Xen kept %lu pages of this %u-vCPU domain\n",
               (unsigned long)(want - pi.free_pages), vcpus);
        xen_kept += want - pi.free_pages;
        return;
    }
    EXPECT_EQ(pi.free_pages, want);
}

/* One area: build, run, judge.  expect_shutdown: -1 none, else the code. */
static bool run_area(const char *area, int expect_shutdown, uint64_t free_before)
{
    struct pvh_comm *c;
    uint64_t entry = 0;
    uint32_t flags, st;
    unsigned int fails = rt_failures;
    /* The upcall area starts a second vCPU (INIT/STARTUP) itself. */
    unsigned int vcpus = same(area, "upcall") ? 2 : 1;
    bool ok;

    CHECK(create_pvh(vcpus) == 0);
    EXPECT_EQ(setup_memory(), 0);
    EXPECT_EQ(load_elf(&entry), 0);
    EXPECT_EQ(write_start_info(area), 0);
    EXPECT_EQ(set_boot_vcpu(entry), 0);
    CHECK(map_foreign(1, PVH_COMM_GFN, dom, (void **)&c) == 0);
    memset(c, 0, sizeof(*c));
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain), 0);
    st = wait_domu(c, &flags);
    print_log(c);
    EXPECT_EQ(c->magic, PVH_COMM_MAGIC);
    EXPECT_EQ(st, PVH_PASS);
    if (expect_shutdown < 0) {
        EXPECT(!(flags & XEN_DOMINF_shutdown));
    } else {
        EXPECT(flags & XEN_DOMINF_shutdown);
        EXPECT_EQ(SHUTDOWN_CODE(flags), expect_shutdown);
    }
    if (same(area, "bench"))
        printf("pvh bench: null hypercall %lu ticks, event round trip %lu ticks\n",
               (unsigned long)c->bench[0], (unsigned long)c->bench[1]);
    EXPECT_EQ(unmap_slot(1), 0);
    destroy_and_check(free_before, vcpus);
    ok = rt_failures == fails;
    printf("pvh %s: %s\n", area, ok ? "PASS" : "FAIL");
    return ok;
}

void test_main(start_info_t *si)
{
    struct xen_sysctl_physinfo pi;
    static xen_compile_info_t ci;
    const char *only = (const char *)si->cmd_line;

    rt_install_traps();
    rt_install_events();
    rt_events_enable();
    window_init();
    CHECK(HYPERVISOR_xen_version(XENVER_compile_info, &ci) == 0);
    on_xen = !same(ci.compile_by, "keel");
    CHECK(physinfo(&pi) == 0);
    printf("physinfo: caps 0x%x\n", pi.capabilities);
    if (!(pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm) || !(pi.capabilities & XEN_SYSCTL_PHYSCAP_hap))
        test_verdict(false, "no HVM with HAP on this machine (run with -cpu qemu64,+svm,+npt)");
    if (*only) {
        /* One area (bench, irqonce, or any other when debugging). */
        run_area(only, same(only, "hostile") ? SHUTDOWN_reboot : SHUTDOWN_poweroff,
                 pi.free_pages);
    } else {
        /* A domU that is done halts with interrupts off: powered off. */
        run_area("hypercall", SHUTDOWN_poweroff, pi.free_pages);
        run_area("cpuid", SHUTDOWN_poweroff, pi.free_pages);
        run_area("callback", SHUTDOWN_poweroff, pi.free_pages);
        run_area("upcall", SHUTDOWN_poweroff, pi.free_pages);
        run_area("timer", SHUTDOWN_poweroff, pi.free_pages);
        run_area("apic", SHUTDOWN_poweroff, pi.free_pages);
        run_area("nmi", SHUTDOWN_poweroff, pi.free_pages);
        run_area("npf", SHUTDOWN_poweroff, pi.free_pages);
        run_area("gntmap", SHUTDOWN_poweroff, pi.free_pages);
        run_area("hostile", SHUTDOWN_reboot, pi.free_pages);
        run_area("halt", SHUTDOWN_poweroff, pi.free_pages);
    }
    if (rt_failures)
        test_verdict(false, "%u checks failed", rt_failures);
}
