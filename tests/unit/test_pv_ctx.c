/* The rules for a new PV vCPU context (VCPUOP_initialise, setvcpucontext). */
#include <asm/domain.h>
#include <keel/debugreg.h>
#include <keel/pv_ctx.h>
#include <xen/errno.h>

#include "harness.h"

#define KTEXT 0xffffffff81000000UL
#define HOLE 0xffff800000001000UL       /* Keel's part of the address space */
#define NONCANON 0x0000800000000000UL

static struct vcpu_guest_context good(void)
{
    struct vcpu_guest_context c;

    memset(&c, 0, sizeof(c));
    c.flags = VGCF_in_kernel;
    c.user_regs.rip = KTEXT;
    c.user_regs.rsp = 0xffffc90000004000UL;
    c.kernel_sp = 0xffffc90000008000UL;
    c.event_callback_eip = KTEXT + 0x100;
    c.failsafe_callback_eip = KTEXT + 0x200;
    c.syscall_callback_eip = KTEXT + 0x300;
    c.trap_ctxt[14].address = KTEXT + 0x400;
    c.vm_assist = 1UL << VMASST_TYPE_writable_pagetables;
    return c;
}

TEST(good_context_accepted)
{
    struct vcpu_guest_context c = good();

    CHECK_EQ(pv_ctx_check(&c, true), 0);
    CHECK_EQ(pv_ctx_check(&c, false), 0);
    c.ldt_base = 0x10000;
    c.ldt_ents = 8192;
    c.gdt_ents = 16 * 512;
    CHECK_EQ(pv_ctx_check(&c, true), 0);
}

TEST(must_start_in_kernel)
{
    struct vcpu_guest_context c = good();

    c.flags = 0;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
}

/* Every base and stack that is later loaded as it is. */
TEST(non_canonical_bases_and_stacks)
{
    unsigned long *fields[6];
    struct vcpu_guest_context c;

    for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
        c = good();
        fields[0] = &c.user_regs.rsp;
        fields[1] = &c.kernel_sp;
        fields[2] = &c.fs_base;
        fields[3] = &c.gs_base_kernel;
        fields[4] = &c.gs_base_user;
        fields[5] = &c.trap_ctxt[255].address;
        *fields[i] = NONCANON;
        CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
        *fields[i] = 0xffff800000000000UL; /* canonical, even in Keel's part: only checked so */
        CHECK_EQ(pv_ctx_check(&c, false), 0);
    }
}

TEST(ldt_rules)
{
    struct vcpu_guest_context c = good();

    c.ldt_base = 0x10008; /* unaligned even with no entries (Xen) */
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c = good();
    c.ldt_base = HOLE; /* not the guest's, even with no entries */
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c = good();
    c.ldt_base = 0x10000;
    c.ldt_ents = 8193;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c = good();
    c.ldt_base = 0x00007ffffffff000UL; /* 8 entries run past the lower half */
    c.ldt_ents = 1024;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c.ldt_ents = 512;
    CHECK_EQ(pv_ctx_check(&c, false), 0);
}

TEST(gdt_size)
{
    struct vcpu_guest_context c = good();

    c.gdt_ents = 16 * 512 + 1;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
}

TEST(entry_points_in_guest)
{
    struct vcpu_guest_context c = good();

    c.user_regs.rip = HOLE;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c = good();
    c.event_callback_eip = HOLE;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c = good();
    c.failsafe_callback_eip = NONCANON;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
    c = good();
    c.syscall_callback_eip = 0xffff87fffffffff0UL;
    CHECK_EQ(pv_ctx_check(&c, false), -XEN_EINVAL);
}

/* Only vCPU 0's context sets the domain's assists. */
TEST(vm_assists)
{
    struct vcpu_guest_context c = good();

    c.vm_assist = 1UL << 40;
    CHECK_EQ(pv_ctx_check(&c, true), -XEN_EINVAL);
    CHECK_EQ(pv_ctx_check(&c, false), 0);
    c.vm_assist = ARCH_VM_ASSISTS;
    CHECK_EQ(pv_ctx_check(&c, true), 0);
}

TEST(debugregs_kept_or_reset)
{
    unsigned long in[8] = {0}, out[8];

    pv_ctx_debugregs(out, in);
    CHECK_EQ(out[6], DR6_DEFAULT);
    CHECK_EQ(out[7], DR7_DEFAULT);
    in[0] = 0x1000;
    in[1] = HOLE;              /* refused: dropped, the call still succeeds */
    in[4] = 0x1234;            /* never read: DR4/5 alias 6/7 */
    in[5] = 0xffffffff;
    in[7] = 0x2000 | 1;        /* general detect: refused */
    pv_ctx_debugregs(out, in);
    CHECK_EQ(out[0], 0x1000);
    CHECK_EQ(out[1], 0);
    CHECK_EQ(out[4], 0);
    CHECK_EQ(out[5], 0);
    CHECK_EQ(out[7], DR7_DEFAULT);
    in[7] = 0x00110003UL;
    pv_ctx_debugregs(out, in);
    CHECK_EQ(out[7], 0x00110003UL | DR7_DEFAULT);
}
