/*
 * Fuzz target for the PV vCPU context rules (keel/pv_ctx.h).  Each field
 * that matters is drawn from awkward values (edges of the canonical
 * halves and of Keel's reserved slots, unaligned, huge counts) or taken
 * raw from the input.  Invariants: an accepted context starts in kernel
 * mode, every base, stack and trap handler is canonical, the entry points
 * and the LDT are the guest's, the counts are in bounds, only known
 * assists; the debug registers handed out are ones set_debugreg accepts
 * unchanged, DR4/DR5 are zero, and DR0-3 are the input or zero.
 */
#include <asm/domain.h>
#include <keel/debugreg.h>
#include <keel/guest_access.h>
#include <keel/pv_ctx.h>

#include <stdlib.h>
#include <string.h>

static const unsigned long pool[] = {
    0, 1, 0x1000, 0x10008, 0x00007ffffffff000UL, 0x00007fffffffffffUL,
    0x0000800000000000UL, 0x7fffffffffffffffUL, 0x8000000000000000UL,
    0xfff0000000000000UL, 0xffff7fffffffffffUL, 0xffff800000000000UL - 8, 0xffff800000000000UL,
    0xffff87fffffff000UL, 0xffff880000000000UL, 0xffffffff81000000UL,
    0xfffffffffffff000UL, 0xffffffffffffffffUL, 8192, 8193, 16 * 512 + 1,
};

struct input {
    const unsigned char *p;
    size_t n;
};

static unsigned long take(struct input *in)
{
    unsigned long v = 0;

    if (!in->n)
        return 0;
    unsigned char sel = *in->p++;
    in->n--;
    if (sel < 2 * ARRAY_SIZE(pool))
        return pool[sel % ARRAY_SIZE(pool)] + (sel >= ARRAY_SIZE(pool));
    for (unsigned i = 0; i < 8 && in->n; i++, in->n--)
        v |= (unsigned long)*in->p++ << (8 * i);
    return v;
}

static bool canon(unsigned long a)
{
    return (unsigned long)((long)(a << 16) >> 16) == a;
}

static void check_accepted(const struct vcpu_guest_context *c, bool assists)
{
    if (!(c->flags & VGCF_in_kernel))
        abort();
    if (!canon(c->user_regs.rsp) || !canon(c->kernel_sp) || !canon(c->fs_base) ||
        !canon(c->gs_base_kernel) || !canon(c->gs_base_user))
        abort();
    for (unsigned i = 0; i < 256; i++)
        if (!canon(c->trap_ctxt[i].address))
            abort();
    if (!guest_range_ok(c->user_regs.rip, 1) || !guest_range_ok(c->event_callback_eip, 1) ||
        !guest_range_ok(c->failsafe_callback_eip, 1) ||
        !guest_range_ok(c->syscall_callback_eip, 1))
        abort();
    if ((c->ldt_base & 4095) || c->ldt_ents > 8192 || c->gdt_ents > 16 * 512 ||
        !guest_range_ok(c->ldt_base, c->ldt_ents ? c->ldt_ents * 8UL : 1))
        abort();
    if (assists && (c->vm_assist & ~ARCH_VM_ASSISTS))
        abort();
}

static void check_debugregs(const unsigned long in[8])
{
    unsigned long out[8];

    pv_ctx_debugregs(out, in);
    if (out[4] || out[5])
        abort();
    for (unsigned int reg = 0; reg < 8; reg++) {
        if (reg == 4 || reg == 5)
            continue;
        unsigned int r = reg;
        unsigned long v = out[reg];
        if (debugreg_check(&r, &v) || r != reg || v != out[reg])
            abort();
        if (reg < 4 && out[reg] && out[reg] != in[reg])
            abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct input in = {data, size};
    struct vcpu_guest_context *c = calloc(1, sizeof(*c));
    bool assists = size && (data[0] & 1);

    c->flags = take(&in);
    c->user_regs.rip = take(&in);
    c->user_regs.rsp = take(&in);
    c->kernel_sp = take(&in);
    c->fs_base = take(&in);
    c->gs_base_kernel = take(&in);
    c->gs_base_user = take(&in);
    c->ldt_base = take(&in);
    c->ldt_ents = take(&in);
    c->gdt_ents = take(&in);
    c->event_callback_eip = take(&in);
    c->failsafe_callback_eip = take(&in);
    c->syscall_callback_eip = take(&in);
    c->vm_assist = take(&in);
    for (unsigned i = 0; i < 8; i++)
        c->debugreg[i] = take(&in);
    /* The rest of the input names trap slots and their handlers. */
    while (in.n >= 2) {
        unsigned char slot = *in.p++;
        in.n--;
        c->trap_ctxt[slot].address = take(&in);
    }
    if (pv_ctx_check(c, assists) == 0)
        check_accepted(c, assists);
    check_debugregs(c->debugreg);
    free(c);
    return 0;
}
