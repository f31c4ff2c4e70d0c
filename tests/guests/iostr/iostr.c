/*
 * String I/O and the I/O bitmap.  A PV kernel runs at CPL3, so INS/OUTS
 * fault and the hypervisor carries them out: element by element, with the
 * pointer and count registers of a REP advanced for the elements done,
 * and the fault a bad buffer gives (Xen 4.17: #PF whose error code says
 * only "write" for INS, nothing for OUTS, at the first byte not reached;
 * #GP(0) outside the guest's half).  PHYSDEVOP_set_iobitmap's bitmap lets
 * I/O through without IOPL (for the kernel as well as for user space; the
 * two bytes around a port are read at once, and deny it if they cannot
 * be), and a REP with a zero count does nothing, not even the I/O check.
 * The RTC's index port 0x70 is a per-domain latch that reads back what
 * was written.
 */
#include <rt.h>
#include <xen/physdev.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_SCRATCH 0x38 /* NVRAM byte, also privops' */
#define PF_W 2
#define PF_U 4

extern char user_syscall_entry[], rt_failsafe_entry[];
void enter_user(void (*rip)(void), void *rsp);

static uint8_t pages[2][4096] __attribute__((aligned(4096))); /* [1] unmapped */
static uint8_t buf[64], src[16];
static uint8_t bitmap[16];
static uint64_t kstack[1024] __attribute__((aligned(16)));
static uint64_t ustack[1024] __attribute__((aligned(16)));

static long physdev_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_physdev_op, cmd, arg);
}

static long set_iopl(uint32_t iopl)
{
    struct physdev_set_iopl s = {.iopl = iopl};
    return physdev_op(PHYSDEVOP_set_iopl, &s);
}

static long set_iobitmap(uintptr_t map, uint32_t nr_ports)
{
    struct physdev_set_iobitmap s = {.nr_ports = nr_ports};
    set_xen_guest_handle(s.bitmap, (uint8_t *)map);
    return physdev_op(PHYSDEVOP_set_iobitmap, &s);
}

static void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

/* The registers a string instruction left, and the trap it took. */
struct sio {
    uint64_t rcx, rsi, rdi, rax;
    long vec;
    uint64_t err, cr2;
};

#define SIO(insn, port_, cnt, si, di, out)                                            \
    do {                                                                               \
        uint64_t c_ = (cnt), s_ = (uint64_t)(si), d_ = (uint64_t)(di), a_ = 0;       \
        unsigned n_ = rt_last_trap.count;                                              \
        __asm__ volatile(RT_GUARD(insn)                                               \
                         : "+c"(c_), "+S"(s_), "+D"(d_), "+a"(a_)                      \
                         : "d"(port_)                                                  \
                         : "r11", "memory");                                           \
        (out).rcx = c_, (out).rsi = s_, (out).rdi = d_, (out).rax = a_;                \
        (out).vec = rt_last_trap.count != n_ ? (long)rt_last_trap.vector : -1;         \
        (out).err = rt_last_trap.error, (out).cr2 = rt_last_trap.cr2;                  \
    } while (0)

static void expect_fault(const char *what, const struct sio *s, long vec, uint64_t err)
{
    printf("iostr: %s: vector %ld error 0x%lx cr2 %s\n", what, s->vec,
           (unsigned long)s->err, s->vec == 14 ? "set" : "-");
    EXPECT_EQ(s->vec, vec);
    EXPECT_EQ(s->err, err);
}

static void iobitmap_args(void)
{
    EXPECT_EQ(physdev_op(PHYSDEVOP_set_iobitmap, (void *)0x10), -XEN_EFAULT);
    EXPECT_EQ(set_iobitmap(0xffff800000000000UL, 0), -XEN_EINVAL); /* Xen's own */
    EXPECT_EQ(set_iobitmap(0x0000800000000000UL, 0), -XEN_EINVAL); /* non-canonical */
    EXPECT_EQ(set_iobitmap((uintptr_t)bitmap, 65537), -XEN_EINVAL);
    /* Only where the bitmap starts is checked. */
    EXPECT_EQ(set_iobitmap(0x00007ffffffff000UL, 65536), 0);
    EXPECT_EQ(set_iobitmap(0, 0), 0);
}

static void with_iopl(void)
{
    struct sio s;
    uint8_t *end = pages[1]; /* first unmapped byte */

    /* REP OUTSB then REP INSB through the CMOS data port. */
    memcpy(src, "\x11\x22\x33", 3);
    outb(CMOS_INDEX, CMOS_SCRATCH);
    SIO("rep outsb", CMOS_DATA, 3, src, 0, s);
    EXPECT_EQ(s.vec, -1);
    EXPECT_EQ(s.rcx, 0);
    EXPECT_EQ(s.rsi, (uintptr_t)src + 3);
    memset(buf, 0, sizeof(buf));
    SIO("rep insb", CMOS_DATA, 4, 0, buf, s);
    EXPECT_EQ(s.vec, -1);
    EXPECT_EQ(s.rcx, 0);
    EXPECT_EQ(s.rdi, (uintptr_t)buf + 4);
    EXPECT_EQ(buf[0], 0x33);
    EXPECT_EQ(buf[3], 0x33);
    EXPECT_EQ(buf[4], 0);

    /* A word from 0x70: the index latch, then the data port. */
    SIO("insw", CMOS_INDEX, 0, 0, buf, s);
    EXPECT_EQ(s.vec, -1);
    EXPECT_EQ(buf[0] | buf[1] << 8, CMOS_SCRATCH | 0x33 << 8);
    /* ... and a word out sets the index and writes the register. */
    src[0] = CMOS_SCRATCH;
    src[1] = 0x44;
    SIO("outsw", CMOS_INDEX, 0, src, 0, s);
    outb(CMOS_INDEX, CMOS_SCRATCH);
    SIO("insb", CMOS_DATA, 0, 0, buf, s);
    EXPECT_EQ(buf[0], 0x44);

    /* Backwards with DF set. */
    memset(buf, 0, sizeof(buf));
    SIO("std\n\trep insb\n\tcld", CMOS_DATA, 2, 0, buf + 10, s);
    EXPECT_EQ(s.vec, -1);
    EXPECT_EQ(s.rdi, (uintptr_t)buf + 8);
    EXPECT_EQ(buf[10], 0x44);
    EXPECT_EQ(buf[9], 0x44);
    EXPECT_EQ(buf[8], 0);

    /* A zero count does nothing. */
    SIO("rep insb", CMOS_DATA, 0, 0, end, s);
    EXPECT_EQ(s.vec, -1);
    EXPECT_EQ(s.rdi, (uintptr_t)end);

    /* Bad buffers. */
    SIO("insb", CMOS_DATA, 0, 0, end, s);
    expect_fault("insb to an unmapped page", &s, 14, PF_W);
    EXPECT_EQ(s.cr2, (uintptr_t)end);
    EXPECT_EQ(s.rdi, (uintptr_t)end);
    SIO("outsb", CMOS_DATA, 0, end + 5, 0, s);
    expect_fault("outsb from an unmapped page", &s, 14, 0);
    EXPECT_EQ(s.cr2, (uintptr_t)end + 5);
    SIO("rep insb", CMOS_DATA, 3, 0, end - 1, s);
    expect_fault("rep insb into the page edge", &s, 14, PF_W);
    EXPECT_EQ(s.cr2, (uintptr_t)end);
    EXPECT_EQ(s.rcx, 2); /* one element done, and kept */
    EXPECT_EQ(s.rdi, (uintptr_t)end);
    EXPECT_EQ(end[-1], 0x44);
    SIO("insl", CMOS_DATA, 0, 0, end - 2, s);
    expect_fault("insl across the page edge", &s, 14, PF_W);
    EXPECT_EQ(s.cr2, (uintptr_t)end); /* the first byte not written */
    /* 67: EDI, so a kernel address loses its top half. */
    SIO("addr32 rep insb", CMOS_DATA, 2, 0, buf, s);
    expect_fault("addr32 rep insb", &s, 14, PF_W);
    EXPECT_EQ(s.cr2, (uint32_t)(uintptr_t)buf);
    EXPECT_EQ(s.rcx, 2);
    SIO("insb", CMOS_DATA, 0, 0, 0x0000800000000000UL, s);
    expect_fault("insb to a non-canonical address", &s, 13, 0);
    SIO("outsb", CMOS_DATA, 0, 0xffff800000001000UL, 0, s);
    expect_fault("outsb from Xen's area", &s, 13, 0);

    /* An FS override moves the source. */
    src[0] = 0x5c;
    CHECK(HYPERVISOR_set_segment_base(SEGBASE_FS, (uintptr_t)src - 0x1000) == 0);
    outb(CMOS_INDEX, CMOS_SCRATCH);
    SIO("outsb %%fs:(%%rsi), (%%dx)", CMOS_DATA, 0, 0x1000, 0, s);
    CHECK(HYPERVISOR_set_segment_base(SEGBASE_FS, 0) == 0);
    EXPECT_EQ(s.vec, -1);
    SIO("insb", CMOS_DATA, 0, 0, buf, s);
    EXPECT_EQ(buf[0], 0x5c);
}

/* IOPL 0: the bitmap (port 0x70 is bit 0 of byte 14) decides. */
static void with_bitmap(void)
{
    struct sio s;

    SIO("insb", CMOS_DATA, 0, 0, buf, s);
    expect_fault("insb at IOPL 0", &s, 13, 0);
    EXPECT_EQ(s.rdi, (uintptr_t)buf);
    /* Nothing to do: not even the I/O check. */
    SIO("rep outsb", CMOS_DATA, 0, src, 0, s);
    EXPECT_EQ(s.vec, -1);

    memset(bitmap, 0xff, sizeof(bitmap));
    bitmap[14] = 0xfc; /* 0x70 and 0x71 */
    EXPECT_EQ(set_iobitmap((uintptr_t)bitmap, 0x80), 0);
    SIO("insb", CMOS_DATA, 0, 0, buf, s);
    EXPECT_EQ(s.vec, -1);
    SIO("inw %%dx, %%ax", CMOS_INDEX, 0, 0, 0, s);
    EXPECT_EQ(s.vec, -1);
    EXPECT_EQ(s.rax & 0xff, CMOS_SCRATCH);
    SIO("inw %%dx, %%ax", CMOS_DATA, 0, 0, 0, s);
    expect_fault("inw 0x71 (0x72 denied)", &s, 13, 0);
    SIO("inb %%dx, %%al", 0x72, 0, 0, 0, s);
    expect_fault("inb 0x72", &s, 13, 0);
    /* nr_ports bounds the bitmap. */
    EXPECT_EQ(set_iobitmap((uintptr_t)bitmap, 0x71), 0);
    SIO("inb %%dx, %%al", CMOS_INDEX, 0, 0, 0, s);
    EXPECT_EQ(s.vec, -1);
    SIO("inb %%dx, %%al", CMOS_DATA, 0, 0, 0, s);
    expect_fault("inb 0x71 past nr_ports", &s, 13, 0);
    /* An unreadable bitmap denies everything... */
    EXPECT_EQ(set_iobitmap((uintptr_t)pages[1], 0x80), 0);
    SIO("inb %%dx, %%al", CMOS_INDEX, 0, 0, 0, s);
    expect_fault("inb with an unmapped bitmap", &s, 13, 0);
    /* ... and the two bytes around a port are read together: with the
     * second unreadable, ports that only need the first are denied too. */
    pages[0][4095] = 0x00;
    EXPECT_EQ(set_iobitmap((uintptr_t)pages[1] - 15, 0x80), 0);
    SIO("inb %%dx, %%al", 0x77, 0, 0, 0, s);
    expect_fault("inb 0x77, next bitmap byte unreadable", &s, 13, 0);
    EXPECT_EQ(set_iobitmap((uintptr_t)pages[1] - 16, 0x80), 0);
    SIO("inb %%dx, %%al", 0x77, 0, 0, 0, s);
    EXPECT_EQ(s.vec, -1);
}

/* What user mode saw. */
static volatile struct {
    struct sio in, rep, denied, pf;
    uint8_t data[2];
    bool done;
} u;

static void user_main(void)
{
    struct sio s;

    SIO("inb %%dx, %%al", CMOS_DATA, 0, 0, 0, s);
    u.in = s;
    SIO("rep insb", CMOS_DATA, 2, 0, (uintptr_t)u.data, s);
    u.rep = s;
    SIO("inb %%dx, %%al", 0x72, 0, 0, 0, s);
    u.denied = s;
    SIO("insb", CMOS_DATA, 0, 0, pages[1], s);
    u.pf = s;
    u.done = true;
    __asm__ volatile("syscall" ::: "rcx", "r11", "memory");
    for (;;)
        ;
}

static void user_mode(start_info_t *si)
{
    struct callback_register cb = {
        .type = CALLBACKTYPE_syscall,
        .flags = CALLBACKF_mask_events,
        .address = (uintptr_t)user_syscall_entry,
    };
    struct mmuext_op op = {.cmd = MMUEXT_NEW_USER_BASEPTR,
                           .arg1.mfn = rt_virt_to_mfn((void *)si->pt_base)};

    CHECK(HYPERVISOR_callback_op(CALLBACKOP_register, &cb) == 0);
    cb.type = CALLBACKTYPE_failsafe;
    cb.address = (uintptr_t)rt_failsafe_entry;
    CHECK(HYPERVISOR_callback_op(CALLBACKOP_register, &cb) == 0);
    CHECK(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (uintptr_t)&kstack[1024]) == 0);
    CHECK(hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF) == 0);
    /* IOPL 1 is the kernel's; user space goes by the bitmap. */
    CHECK(set_iopl(1) == 0);
    EXPECT_EQ(set_iobitmap((uintptr_t)bitmap, 0x80), 0);
    outb(CMOS_INDEX, CMOS_SCRATCH);
    outb(CMOS_DATA, 0x66);

    enter_user(user_main, &ustack[1024]);

    CHECK(u.done);
    EXPECT_EQ(u.in.vec, -1);
    EXPECT_EQ(u.in.rax & 0xff, 0x66);
    EXPECT_EQ(u.rep.vec, -1);
    EXPECT_EQ(u.rep.rcx, 0);
    EXPECT_EQ(u.data[0], 0x66);
    EXPECT_EQ(u.data[1], 0x66);
    expect_fault("user inb 0x72", (const struct sio *)&u.denied, 13, 0);
    expect_fault("user insb to an unmapped page", (const struct sio *)&u.pf, 14, PF_W | PF_U);
    EXPECT_EQ(u.pf.cr2, (uintptr_t)pages[1]);
}

void test_main(start_info_t *si)
{
    CHECK(si->flags & SIF_INITDOMAIN);
    rt_install_traps();
    (void)rt_shared_info(); /* for cr2 */
    memset(pages, 0, sizeof(pages));
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)pages[1], 0, UVMF_INVLPG) == 0);

    iobitmap_args();
    CHECK(set_iopl(1) == 0);
    with_iopl();
    CHECK(set_iopl(0) == 0);
    with_bitmap();
    user_mode(si);
}
