/*
 * Descriptor tables: set_gdt with a page of our own (read-only first, as
 * Linux does), its selectors used for data loads, far returns and iretq;
 * the hypervisor's fix-ups and refusals (DPL raised to 3, call gates into
 * the hypervisor's selectors, system descriptors, a writable frame, too
 * many entries); update_descriptor of a TLS entry then used through %fs;
 * an LDT through MMUEXT_SET_LDT and TI=1 selectors; selectors surviving a
 * block/wake-up; a second vCPU (dom0_max_vcpus=2) started by
 * VCPUOP_initialise on our GDT with Linux's kernel CS/SS (0x10/0x18).
 */
#include <rt.h>

#define PG_P 0x1UL
#define PG_RW 0x2UL
#define PG_US 0x4UL
#define PG_A 0x20UL
#define PG_RWPAGE 0x67UL

/* Flat descriptors (base 0, limit 4 GiB). */
#define D_CODE64_DPL0 0x00af9b000000ffffUL
#define D_CODE64_DPL3 0x00affb000000ffffUL
#define D_CODE32_DPL3 0x00cffb000000ffffUL
#define D_DATA_DPL0 0x00cf93000000ffffUL
#define D_DATA_DPL3 0x00cff3000000ffffUL
#define D_DATA_DPL3_UNACC 0x00cff2000000ffffUL /* the CPU sets "accessed" */
#define DPL_MASK (3UL << 45)
#define ACCESSED (1UL << 40)

/* 64-bit call gate to sel:0, DPL 3: low and high quadwords. */
#define GATE_LO(sel) (((unsigned long)(sel) << 16) | (0xecUL << 40))

/* Our GDT: indices as Linux's where it matters (2 = kernel CS, 6 = user
 * CS64, 12 = first TLS slot). */
enum { G_KCS = 2, G_KDS = 3, G_CS32 = 4, G_DS = 5, G_CS64 = 6, G_UNACC = 7,
       G_TLS = 12, G_GATE = 14, G_ENTS = 16 };

static uint64_t gdt[512] __attribute__((aligned(4096)));
static uint64_t bad[512] __attribute__((aligned(4096)));
static uint64_t ldt[512] __attribute__((aligned(4096)));
static uint64_t plain[512] __attribute__((aligned(4096)));
static volatile uint64_t tls_word = 0x5eed5eed12345678UL;
static unsigned tport;

static uint64_t mfn_of(const void *va) { return rt_virt_to_mfn(va); }

static long remap(void *va, uint64_t flags)
{
    return HYPERVISOR_update_va_mapping((uintptr_t)va, (mfn_of(va) << 12) | flags,
                                        UVMF_INVLPG);
}

static long set_gdt(uint64_t *frames, unsigned ents)
{
    return hypercall2(__HYPERVISOR_set_gdt, frames, ents);
}

static long update_desc(uint64_t maddr, uint64_t d)
{
    return hypercall2(__HYPERVISOR_update_descriptor, maddr, d);
}

static long set_ldt(const void *va, unsigned ents)
{
    struct mmuext_op op = {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (uintptr_t)va,
                           .arg2.nr_ents = ents};
    return hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
}

/* Loads sel into %ds (restored to 0 after); the vector it raised or -1. */
static long try_ds(uint16_t sel)
{
    unsigned n = rt_last_trap.count;
    __asm__ volatile(RT_GUARD("mov %w0, %%ds") "\n\tmov %w1, %%ds"
                     :: "r"(sel), "r"(0) : "r11", "memory");
    return rt_last_trap.count != n ? (long)rt_last_trap.vector : -1;
}

static uint16_t read_cs(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return cs;
}

/* Far return to sel, note %cs there, far return home; -1 if it trapped. */
static long lret_via(uint16_t sel)
{
    unsigned n = rt_last_trap.count;
    unsigned long seen = 0;
    __asm__ volatile("mov %%cs, %%rax\n\t"
                     "pushq %%rax\n\t"
                     "leaq 2f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t" /* the way home, used at 1: */
                     "pushq %q[sel]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     RT_GUARD("lretq")
                     "\n\tadd $32, %%rsp\n\tjmp 3f\n"
                     "1:\tmov %%cs, %[seen]\n\t"
                     "lretq\n"
                     "2:\n3:"
                     : [seen] "+r"(seen)
                     : [sel] "r"((unsigned long)sel)
                     : "rax", "r11", "memory");
    return rt_last_trap.count != n ? -1 : (long)seen;
}

/* The same with iretq (same privilege: no hypervisor involvement). */
static long iret_via(uint16_t sel)
{
    unsigned long seen = 0;
    __asm__ volatile("mov %%ss, %%rax\n\t"
                     "mov %%rsp, %%rdx\n\t"
                     "pushq %%rax\n\t"
                     "pushq %%rdx\n\t"
                     "pushfq\n\t"
                     "pushq %q[sel]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "iretq\n"
                     "1:\tmov %%cs, %[seen]\n\t"
                     /* home: the kernel CS we came from */
                     "mov %%ss, %%rax\n\t"
                     "mov %%rsp, %%rdx\n\t"
                     "pushq %%rax\n\t"
                     "pushq %%rdx\n\t"
                     "pushfq\n\t"
                     "pushq %[home]\n\t"
                     "leaq 2f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "iretq\n"
                     "2:"
                     : [seen] "+r"(seen)
                     : [sel] "r"((unsigned long)sel), [home] "i"(FLAT_KERNEL_CS)
                     : "rax", "rdx", "memory");
    return (long)seen;
}

/* A page of one bad descriptor at index 2 (and a 2nd quadword at 3). */
static long gdt_with(uint64_t lo, uint64_t hi)
{
    uint64_t f = mfn_of(bad);
    long r;

    CHECK(remap(bad, PG_RWPAGE) == 0);
    memset(bad, 0, 4096);
    bad[G_KCS] = lo;
    bad[G_KCS + 1] = hi;
    CHECK(remap(bad, PG_P | PG_US | PG_A) == 0);
    r = set_gdt(&f, G_ENTS);
    return r;
}

static void refusals(void)
{
    uint64_t f = mfn_of(gdt);
    long r;

    /* Still writable: the frame cannot become a descriptor page. */
    r = set_gdt(&f, G_ENTS);
    printf("gdt: set_gdt of a writable frame = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    r = set_gdt(&f, 7169);
    printf("gdt: set_gdt with 7169 entries = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);

    r = gdt_with(GATE_LO(0xe008), 0);
    printf("gdt: call gate to the hypervisor's CS = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* 64-bit TSS and LDT descriptors (base 0, limit 0x67). */
    r = gdt_with(0x0000890000000067UL, 0);
    printf("gdt: TSS descriptor = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    r = gdt_with(0x0000820000000067UL, 0);
    printf("gdt: LDT descriptor = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* A refused frame is an ordinary page again. */
    EXPECT_EQ(remap(bad, PG_RWPAGE), 0);
    bad[0] = 1;

    /* A gate into our own code selector is kept, with DPL 0 so that
     * using it traps to the hypervisor. */
    r = gdt_with(GATE_LO(G_CS64 * 8 + 3), 0);
    printf("gdt: call gate to a guest CS = %ld, now %016lx\n", r,
           (unsigned long)bad[G_KCS]);
    EXPECT_EQ(r, 0);
    EXPECT_EQ((bad[G_KCS] & DPL_MASK) >> 45, 0);
    /* In use as our GDT: it cannot be mapped writable. */
    r = remap(bad, PG_RWPAGE);
    printf("gdt: writable mapping of the live GDT = %ld\n", r);
    EXPECT_EQ(r, -XEN_EBUSY);
    /* An empty GDT releases the frame. */
    EXPECT_EQ(set_gdt(&f, 0), 0);
    /* Gate targets: any selector below the reserved area (even null),
     * or the flat kernel CS. */
    r = gdt_with(GATE_LO(0), 0);
    printf("gdt: call gate to the null selector = %ld\n", r);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(set_gdt(&f, 0), 0);
    r = gdt_with(GATE_LO(FLAT_KERNEL_CS), 0);
    printf("gdt: call gate to FLAT_KERNEL_CS = %ld\n", r);
    EXPECT_EQ(set_gdt(&f, 0), 0);
    r = gdt_with(GATE_LO(0xe02b), 0);
    printf("gdt: call gate to FLAT_KERNEL_SS = %ld\n", r);
    EXPECT_EQ(set_gdt(&f, 0), 0);
    r = gdt_with(GATE_LO(G_CS64 * 8 + 3), 0x100000000UL);
    printf("gdt: call gate with a non-zero type in its 2nd half = %ld\n", r);
    EXPECT_EQ(set_gdt(&f, 0), 0);
    r = gdt_with(0x0000f00000000000UL, 0);
    printf("gdt: system descriptor type 0, present, DPL 3 = %ld\n", r);
    EXPECT_EQ(set_gdt(&f, 0), 0);
    r = gdt_with(D_DATA_DPL3 | (1UL << 53), 0);
    printf("gdt: data segment with L set = %ld\n", r);
    EXPECT_EQ(set_gdt(&f, 0), 0);
    EXPECT_EQ(remap(bad, PG_RWPAGE), 0);
}

static void build_gdt(void)
{
    uint64_t f = mfn_of(gdt);
    long r;

    gdt[G_KCS] = D_CODE64_DPL0;
    gdt[G_KDS] = D_DATA_DPL0;
    gdt[G_CS32] = D_CODE32_DPL3;
    gdt[G_DS] = D_DATA_DPL3;
    gdt[G_CS64] = D_CODE64_DPL3;
    gdt[G_UNACC] = D_DATA_DPL3_UNACC;
    refusals();
    CHECK(remap(gdt, PG_P | PG_US | PG_A) == 0);
    r = set_gdt(&f, G_ENTS);
    printf("gdt: set_gdt = %ld\n", r);
    CHECK(r == 0);
    /* DPL 0 code and data were raised to 3 in place. */
    printf("gdt: entry 2 now %016lx, entry 3 %016lx\n", (unsigned long)gdt[G_KCS],
           (unsigned long)gdt[G_KDS]);
    EXPECT_EQ(gdt[G_KCS], D_CODE64_DPL0 | DPL_MASK);
    EXPECT_EQ(gdt[G_KDS], D_DATA_DPL0 | DPL_MASK);
    EXPECT_EQ(gdt[G_DS], D_DATA_DPL3);
}

static void use_gdt(void)
{
    EXPECT_EQ(try_ds(G_DS * 8 + 3), -1);
    EXPECT_EQ(try_ds(G_KDS * 8 + 3), -1);
    /* The CPU writes the accessed bit into the (read-only to us) page. */
    EXPECT_EQ(try_ds(G_UNACC * 8 + 3), -1);
    EXPECT(gdt[G_UNACC] & ACCESSED);
    /* Past our page's end: a null descriptor, not someone else's. */
    EXPECT_EQ(try_ds(0x1000 + 3), 13);
    EXPECT_EQ(rt_last_trap.error, 0x1000);
    EXPECT_EQ(try_ds(G_ENTS * 8 + 3), 13);
    /* Hypervisor's ring-0 data: refused by the CPU (DPL 0). */
    EXPECT_EQ(try_ds(0xe010 | 3), 13);
    /* The flat selectors still work next to our GDT. */
    EXPECT_EQ(try_ds(0xe02b), -1);

    EXPECT_EQ(lret_via(G_CS64 * 8 + 3), G_CS64 * 8 + 3);
    EXPECT_EQ(lret_via(G_KCS * 8 + 3), G_KCS * 8 + 3);
    EXPECT_EQ(read_cs(), FLAT_KERNEL_CS);
    EXPECT_EQ(iret_via(G_CS64 * 8 + 3), G_CS64 * 8 + 3);
    EXPECT_EQ(read_cs(), FLAT_KERNEL_CS);
    /* A data selector is no code. */
    EXPECT_EQ(lret_via(G_DS * 8 + 3), -1);
    EXPECT_EQ(rt_last_trap.vector, 13);
}

static uint64_t fs_read(uintptr_t off)
{
    uint64_t v;
    __asm__ volatile("movq %%fs:(%1), %0" : "=r"(v) : "r"(off));
    return v;
}

static void descriptors(void)
{
    uint64_t base = mfn_of(gdt) << 12;
    /* TLS: data DPL 3 based at 0x1000, so fs:(va - 0x1000) reads va. */
    uint64_t tls = D_DATA_DPL3 | (0x1000UL << 16);
    long r;

    EXPECT_EQ(update_desc(base + G_TLS * 8, tls), 0);
    EXPECT_EQ(gdt[G_TLS], tls);
    __asm__ volatile("mov %w0, %%fs" ::"r"(G_TLS * 8 + 3));
    EXPECT_EQ(fs_read((uintptr_t)&tls_word - 0x1000), tls_word);

    /* Selectors survive a block and wake-up on a timer event. */
    uint16_t ds = G_DS * 8 + 3, fs, ds_after;
    __asm__ volatile("mov %w0, %%ds" ::"r"(ds));
    rt_events_disable();
    unsigned h = rt_port_hits[tport];
    struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = rt_system_time() + 2000000};
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t), 0);
    EXPECT_EQ(HYPERVISOR_sched_op(SCHEDOP_block, NULL), 0);
    EXPECT(rt_wait_port(tport, h + 1, 100000000));
    __asm__ volatile("mov %%ds, %0\n\tmov %%fs, %1" : "=r"(ds_after), "=r"(fs));
    EXPECT_EQ(ds_after, ds);
    EXPECT_EQ(fs, G_TLS * 8 + 3);
    EXPECT_EQ(fs_read((uintptr_t)&tls_word - 0x1000), tls_word);
    __asm__ volatile("mov %w0, %%fs\n\tmov %w0, %%ds" ::"r"(0));
    EXPECT_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);

    /* Fixed like set_gdt's; refused like set_gdt's. */
    EXPECT_EQ(update_desc(base + 13 * 8, D_DATA_DPL0), 0);
    EXPECT_EQ(gdt[13], D_DATA_DPL0 | DPL_MASK);
    r = update_desc(base + 13 * 8, GATE_LO(0xe008));
    printf("gdt: update_descriptor with a gate to the hypervisor = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(update_desc(base + 13 * 8, 0x0000890000000067UL), -XEN_EINVAL);
    EXPECT_EQ(gdt[13], D_DATA_DPL0 | DPL_MASK);
    r = update_desc(base + 13 * 8 + 4, D_DATA_DPL3);
    printf("gdt: misaligned update_descriptor = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* An ordinary writable page of ours is fine. */
    EXPECT_EQ(update_desc((mfn_of(plain) << 12) + 8, D_DATA_DPL3), 0);
    EXPECT_EQ(plain[1], D_DATA_DPL3);
    /* A page-table page is not (it would let us write any PTE). */
    uint64_t l4 = rt_virt_to_mfn((void *)rt_start_info->pt_base);
    r = update_desc((l4 << 12) + 8, D_DATA_DPL3);
    printf("gdt: update_descriptor into our L4 = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    /* Nor a frame beyond the machine. */
    EXPECT_EQ(update_desc(0xffffffffff000UL, D_DATA_DPL3), -XEN_EINVAL);
}

static void ldts(void)
{
    long r;

    ldt[0] = D_DATA_DPL3;
    ldt[1] = D_CODE64_DPL0; /* raised to DPL 3 */
    CHECK(remap(ldt, PG_P | PG_US | PG_A) == 0);
    r = set_ldt(ldt, 2);
    printf("gdt: SET_LDT = %ld\n", r);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(try_ds(0 * 8 + 4 + 3), -1);
    EXPECT_EQ(lret_via(1 * 8 + 4 + 3), 1 * 8 + 4 + 3);
    EXPECT_EQ(ldt[1], D_CODE64_DPL0 | DPL_MASK);
    /* Past the LDT's limit. */
    EXPECT_EQ(try_ds(2 * 8 + 4 + 3), 13);
    EXPECT_EQ(rt_last_trap.error, 2 * 8 + 4);
    /* update_descriptor works on LDT pages too. */
    EXPECT_EQ(update_desc((mfn_of(ldt) << 12) + 0, D_DATA_DPL3 & ~(1UL << 47)), 0);
    EXPECT_EQ(try_ds(0 * 8 + 4 + 3), 11); /* not present */
    EXPECT_EQ(set_ldt(ldt, 0), 0);
    EXPECT_EQ(try_ds(0 * 8 + 4 + 3), 13);
    EXPECT_EQ(set_ldt(ldt + 1, 1), -XEN_EINVAL); /* not page aligned */
    EXPECT_EQ(set_ldt(ldt, 8193), -XEN_EINVAL);
    /* No LDT holds the page any more: it can be writable again. */
    EXPECT_EQ(remap(ldt, PG_RWPAGE), 0);
    ldt[0] = 0;
}

/* ---- vCPU 1: started on our GDT; never prints (the console is vCPU 0's) */

static char stack1[8192] __attribute__((aligned(16)));
static struct vcpu_guest_context ctxt;
static volatile uint16_t seen1[4];
static volatile unsigned done1;
extern char rt_event_entry[], rt_failsafe_entry[];

void secondary(void);
void secondary(void)
{
    uint16_t cs, ss, ds, ds2 = 0;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%ds, %2"
                     : "=r"(cs), "=r"(ss), "=r"(ds));
    /* Its GDT is ours: our user data selector loads there too. */
    __asm__ volatile("mov %w1, %%ds\n\tmov %%ds, %0\n\tmov %w2, %%ds"
                     : "=r"(ds2) : "r"(G_DS * 8 + 3), "r"(0));
    seen1[0] = cs;
    seen1[1] = ss;
    seen1[2] = ds;
    seen1[3] = ds2;
    done1 = 1;
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
}

static void second_vcpu(start_info_t *si)
{
    long r;

    ctxt.flags = VGCF_in_kernel;
    ctxt.user_regs.rip = (uintptr_t)secondary;
    ctxt.user_regs.rsp = (uintptr_t)(stack1 + sizeof(stack1) - 8);
    ctxt.user_regs.cs = G_KCS * 8; /* as Linux: __KERNEL_CS, RPL 0 */
    ctxt.user_regs.ss = G_KDS * 8;
    ctxt.user_regs.ds = ctxt.user_regs.es = G_DS * 8 + 3;
    ctxt.user_regs.rflags = 0x202;
    ctxt.kernel_ss = G_KDS * 8;
    ctxt.kernel_sp = (uintptr_t)(stack1 + sizeof(stack1));
    ctxt.ctrlreg[3] = xen_pfn_to_cr3(rt_virt_to_mfn((void *)si->pt_base));
    ctxt.event_callback_eip = (uintptr_t)rt_event_entry;
    ctxt.failsafe_callback_eip = (uintptr_t)rt_failsafe_entry;
    /* A writable frame as its GDT: refused, the vCPU stays uninitialised. */
    ctxt.gdt_frames[0] = mfn_of(plain);
    ctxt.gdt_ents = G_ENTS;
    r = HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt);
    printf("gdt: VCPUOP_initialise with a writable GDT frame = %ld\n", r);
    EXPECT_EQ(r, -XEN_EINVAL);
    ctxt.gdt_frames[0] = mfn_of(gdt);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt) == 0);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL) == 0);
    uint64_t end = rt_system_time() + 2000000000ULL;
    rt_hlog_quiet_begin();
    while (!done1 && rt_system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    rt_hlog_quiet_end();
    CHECK(done1);
    printf("gdt: vCPU 1 ran with cs %x ss %x ds %x, loaded %x\n", seen1[0], seen1[1],
           seen1[2], seen1[3]);
    EXPECT_EQ(seen1[0], G_KCS * 8 + 3);
    EXPECT_EQ(seen1[1], G_KDS * 8 + 3);
    EXPECT_EQ(seen1[2], G_DS * 8 + 3);
    EXPECT_EQ(seen1[3], G_DS * 8 + 3);
}

void test_main(start_info_t *si)
{
    rt_shared_info();
    rt_install_traps();
    rt_install_events();
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    CHECK(HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv) == 0);
    tport = bv.port;
    rt_shared_info()->evtchn_mask[tport / 64] &= ~(1UL << (tport % 64));
    rt_events_enable();

    build_gdt();
    use_gdt();
    descriptors();
    ldts();
    second_vcpu(si);
}
