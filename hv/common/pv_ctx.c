/* Rules for a new PV vCPU context (see keel/pv_ctx.h). */
#include <asm/domain.h>
#include <keel/debugreg.h>
#include <keel/guest_access.h>
#include <keel/pv_ctx.h>
#include <xen/errno.h>

#define LDT_MAX_ENTS 8192      /* a 64 KiB table */
#define GDT_MAX_ENTS (16 * 512) /* 16 frames */

static bool is_canonical(unsigned long va)
{
    return (unsigned long)((long)(va << 16) >> 16) == va;
}

/* Stacks and segment bases: loaded as they are later (a non-canonical
 * base would #GP inside Keel on its WRMSR). */
static bool bases_ok(const struct vcpu_guest_context *c)
{
    if (!is_canonical(c->user_regs.rsp) || !is_canonical(c->kernel_sp) ||
        (c->ldt_ents && !is_canonical(c->ldt_base)) || !is_canonical(c->fs_base) ||
        !is_canonical(c->gs_base_kernel) || !is_canonical(c->gs_base_user))
        return false;
    for (unsigned int i = 0; i < 256; i++)
        if (!is_canonical(c->trap_ctxt[i].address))
            return false;
    return true;
}

/* Xen's checks (arch_set_info_guest), plus Keel's own: a vCPU starts in
 * its kernel, and its entry points are guest addresses. */
long pv_ctx_check(const struct vcpu_guest_context *c, bool sets_assists)
{
    if (!(c->flags & VGCF_in_kernel))
        return -XEN_EINVAL;
    if (!bases_ok(c))
        return -XEN_EINVAL;
    /* The LDT base must be the guest's even with no entries (Xen). */
    if ((c->ldt_base & (PAGE_SIZE - 1)) || c->ldt_ents > LDT_MAX_ENTS ||
        !guest_range_ok(c->ldt_base, c->ldt_ents ? c->ldt_ents * 8UL : 1))
        return -XEN_EINVAL;
    if (c->gdt_ents > GDT_MAX_ENTS)
        return -XEN_EINVAL;
    if (sets_assists && (c->vm_assist & ~ARCH_VM_ASSISTS))
        return -XEN_EINVAL;
    if (!guest_range_ok(c->user_regs.rip, 1) || !guest_range_ok(c->event_callback_eip, 1) ||
        !guest_range_ok(c->failsafe_callback_eip, 1) ||
        !guest_range_ok(c->syscall_callback_eip, 1))
        return -XEN_EINVAL;
    return 0;
}

void pv_ctx_debugregs(unsigned long out[8], const unsigned long in[8])
{
    static const unsigned int regs[] = {0, 1, 2, 3, 6, 7};

    memset(out, 0, 8 * sizeof(out[0]));
    out[6] = DR6_DEFAULT;
    out[7] = DR7_DEFAULT;
    for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++) {
        unsigned int reg = regs[i];
        unsigned long val = in[reg];
        if (!debugreg_check(&reg, &val))
            out[reg] = val;
    }
}
