/*
 * Hostile iret hypercalls.  Xen 4.17's behaviour (observed):
 *  - a frame whose CS or SS the CPU refuses, or a non-canonical RIP: the
 *    return fails and the guest gets #GP(0) with the frame's RIP; the
 *    domain lives on.  Checked in one boot (no command line): PASS.
 *  - command line "rsp": a kernel-mode frame with RSP in the hypervisor's
 *    area; the first push faults and no exception frame can be written,
 *    so the domain is crashed.
 *  - command line "frame": the iret frame itself is unreadable; crashed.
 * The crash variants print no verdict; tests/system/scenarios/pv_crash.py
 * expects dom0's crash there (Xen: "Dom0 crashed").
 */
#include <rt.h>

#define HV_AREA 0xffff830000000000UL
#define RFLAGS_IF 0x200UL

extern char iret_probe_resume[];
extern uint64_t probe_saved_rsp;
void iret_probe(uint64_t *frame);

/* Where a bad frame that was (wrongly) accepted lands. */
static void landed(void)
{
    test_verdict(false, "the bad iret frame was accepted");
}

static void pusher(void)
{
    __asm__ volatile("push %%rax\n\tpop %%rax" ::: "memory");
    landed();
}

static uint64_t stack[1024] __attribute__((aligned(16)));
static uint64_t frame[9];

static void make_frame(void)
{
    /* struct iret_context: rax, r11, rcx, flags, rip, cs, rflags, rsp, ss.
     * RPL 0 in CS: back to guest-kernel mode, as Linux's frames say. */
    uint64_t good[9] = {0, 0, 0, 0, (uintptr_t)landed, FLAT_KERNEL_CS & ~3,
                        RFLAGS_IF, (uintptr_t)&stack[1024], FLAT_KERNEL_SS & ~3};
    memcpy(frame, good, sizeof(good));
}

/* The reflected exception: note it and resume in iret_probe. */
static volatile unsigned seen;
static volatile uint64_t seen_vec, seen_err, seen_rip;

static bool hook(struct rt_frame *f)
{
    seen++;
    seen_vec = f->vector;
    seen_err = f->error;
    seen_rip = f->rip;
    f->rip = (uintptr_t)iret_probe_resume;
    f->cs = FLAT_KERNEL_CS & ~3;
    f->ss = FLAT_KERNEL_SS & ~3;
    f->rsp = probe_saved_rsp;
    return true;
}

static void refused(const char *what, unsigned slot, uint64_t val)
{
    make_frame();
    frame[slot] = val;
    seen = 0;
    rt_trap_hook = hook;
    iret_probe(frame);
    rt_trap_hook = NULL;
    printf("badiret: %s: vector %lu error 0x%lx rip %lx\n", what,
           (unsigned long)seen_vec, (unsigned long)seen_err,
           (unsigned long)seen_rip);
    EXPECT_EQ(seen, 1);
    EXPECT_EQ(seen_vec, 13);
    EXPECT_EQ(seen_err, 0);
    EXPECT_EQ(seen_rip, frame[4]);
}

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The variant: the last word of the command line, unless that is the
 * image path some loaders leave in front. */
static const char *variant(const char *s)
{
    const char *w = s;
    for (const char *p = s; *p; p++)
        if (*p == ' ' && p[1] && p[1] != ' ')
            w = p + 1;
    for (const char *p = w; *p; p++)
        if (*p == '/')
            return "";
    return *w == ' ' ? "" : w;
}

void test_main(start_info_t *si)
{
    const char *how = variant((const char *)si->cmd_line);

    rt_install_traps();
    if (same(how, "rsp")) {
        make_frame();
        frame[4] = (uintptr_t)pusher;
        frame[7] = HV_AREA + 0x1000;
        printf("badiret: rsp: a kernel stack in the hypervisor's area\n");
        iret_probe(frame);
        test_verdict(false, "iret came back");
    }
    if (same(how, "frame")) {
        printf("badiret: frame: an unreadable iret frame\n");
        iret_probe((uint64_t *)HV_AREA);
        test_verdict(false, "iret came back");
    }
    if (*how)
        test_verdict(false, "unknown variant '%s'", how);

    refused("null CS", 5, 0);
    refused("null SS", 8, 0);
    refused("non-canonical RIP", 4, 0x8000000000001000UL);
    /* After all that, an ordinary return still works. */
    make_frame();
    frame[4] = (uintptr_t)iret_probe_resume;
    iret_probe(frame);
    printf("badiret: a good frame afterwards returns normally\n");
}
