/*
 * The x86 side of vcpu_op: the runstate area a guest registered (written
 * through its own kernel page tables on every switch to or from it), and
 * VCPUOP_initialise, which gives a down vCPU its first register state.
 */
#include <asm/cpu.h>
#include <asm/pv.h>
#include <asm/pv_vcpu.h>
#include <keel/debugreg.h>
#include <keel/frametable.h>
#include <keel/guest_access.h>
#include <keel/vtime.h>

#define RUNSTATE_ENTRY_OFF offsetof(struct vcpu_runstate_info, state_entry_time)

/*
 * The area is a guest-kernel virtual address: it is written with v's kernel
 * L4 loaded, which is not the active one while v is in user mode.  With
 * VMASST_TYPE_runstate_update_flag, XEN_RUNSTATE_UPDATE in
 * state_entry_time tells readers that the record is being rewritten.
 */
void pv_write_runstate(struct vcpu *v)
{
    unsigned long gva = READ_ONCE(v->runstate_guest);
    struct vcpu_runstate_info rs = v->runstate;
    bool flag = v->domain->vm_assist & (1UL << VMASST_TYPE_runstate_update_flag);
    unsigned long cr3, kernel_cr3 = v->arch.guest_table << PAGE_SHIFT;
    u64 entry = rs.state_entry_time;
    int rc = 0;

    if (!gva || !v->arch.guest_table)
        return;
    cr3 = read_cr3();
    if (cr3 != kernel_cr3)
        write_cr3(kernel_cr3);
    if (flag) {
        rs.state_entry_time = entry | XEN_RUNSTATE_UPDATE;
        rc |= copy_to_guest(gva + RUNSTATE_ENTRY_OFF, &rs.state_entry_time, 8);
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    rc |= copy_to_guest(gva, &rs, sizeof(rs));
    if (flag) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        rc |= copy_to_guest(gva + RUNSTATE_ENTRY_OFF, &entry, 8);
    }
    if (cr3 != kernel_cr3)
        write_cr3(cr3);
    (void)rc; /* an unmapped area is the guest's problem, as on Xen */
}

void pv_vcpu_switched_in(struct vcpu *v)
{
    pv_write_runstate(v);
    vcpu_timers_switch_in(v);
}

/* ------------------------------------------------------ initialise */

/* A reference on a page-table root the vCPU will run on, as the running
 * CR3 of vCPU 0 holds one (dom0_build). */
static bool take_root(struct domain *d, unsigned long cr3, mfn_t *out)
{
    mfn_t mfn = xen_cr3_to_pfn(cr3);

    if (!mfn_valid(mfn) || !get_page_and_type(mfn_to_page(mfn), d, PGT_l4_page_table))
        return false;
    *out = mfn;
    return true;
}

static void load_regs(struct regs *r, const struct cpu_user_regs *u)
{
    memset(r, 0, sizeof(*r));
    r->r15 = u->r15; r->r14 = u->r14; r->r13 = u->r13; r->r12 = u->r12;
    r->rbp = u->rbp; r->rbx = u->rbx; r->r11 = u->r11; r->r10 = u->r10;
    r->r9 = u->r9;   r->r8 = u->r8;   r->rax = u->rax; r->rcx = u->rcx;
    r->rdx = u->rdx; r->rsi = u->rsi; r->rdi = u->rdi;
    r->rip = u->rip;
    r->rsp = u->rsp;
    /* Guest selectors always carry RPL 3; a bad one crashes the domain
     * on the way in (pv_bad_return), never Keel. */
    r->cs = (u->cs ? u->cs : FLAT_KERNEL_CS) | 3;
    r->ss = (u->ss ? u->ss : FLAT_KERNEL_SS) | 3;
    r->rflags = (u->rflags & ~((3UL << 12) | (1UL << 17))) | X86_EFLAGS_IF | 2;
}

static void load_traps(struct vcpu *v, const struct trap_info *t)
{
    memset(v->arch.traps, 0, sizeof(v->arch.traps));
    for (unsigned i = 0; i < 256; i++) {
        if (!t[i].address || !guest_range_ok(t[i].address, 1))
            continue;
        struct pv_trap *slot = &v->arch.traps[t[i].vector];
        slot->address = t[i].address;
        slot->dpl = t[i].flags & 3;
        slot->mask_events = t[i].flags & 4;
    }
}

static bool canonical(unsigned long va)
{
    return (unsigned long)((long)(va << 16) >> 16) == va;
}

/*
 * Xen's checks, in its order, before anything changes: every address the
 * CPU will be loaded with (some by WRMSR, which faults inside Keel on a
 * non-canonical value) is canonical; the LDT is the guest's, page
 * aligned, at most 8192 entries.
 */
static bool context_ok(const struct vcpu_guest_context *c)
{
    const unsigned long must[] = {
        c->user_regs.rip, c->user_regs.rsp, c->kernel_sp, c->fs_base, c->gs_base_kernel,
        c->gs_base_user, c->event_callback_eip, c->syscall_callback_eip,
        c->failsafe_callback_eip,
    };

    for (unsigned int i = 0; i < ARRAY_SIZE(must); i++)
        if (!canonical(must[i]))
            return false;
    if (c->ldt_ents && !canonical(c->ldt_base))
        return false;
    for (unsigned int i = 0; i < ARRAY_SIZE(c->trap_ctxt); i++)
        if (!canonical(c->trap_ctxt[i].address))
            return false;
    return guest_range_ok(c->ldt_base, 1) && !(c->ldt_base & (PAGE_SIZE - 1)) &&
           c->ldt_ents <= 8192;
}

/* Reset values, then whatever set_debugreg would accept (Xen drops the
 * rest and the call still succeeds). */
static void load_debugregs(struct vcpu *v, const unsigned long *dr)
{
    static const unsigned int regs[] = {0, 1, 2, 3, 6, 7};

    memset(v->arch.debugreg, 0, sizeof(v->arch.debugreg));
    v->arch.debugreg[6] = DR6_DEFAULT;
    v->arch.debugreg[7] = DR7_DEFAULT;
    for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++) {
        unsigned int reg = regs[i];
        unsigned long val = dr[reg];
        if (!debugreg_check(&reg, &val))
            v->arch.debugreg[reg] = val;
    }
}

long pv_vcpu_initialise(struct vcpu *v, const struct vcpu_guest_context *c)
{
    struct domain *d = v->domain;
    mfn_t kroot, uroot = 0;

    if (!context_ok(c))
        return -XEN_EINVAL;
    if (!(c->flags & VGCF_in_kernel))
        return -XEN_EINVAL; /* a 64-bit PV vCPU starts in its kernel */
    if (c->gdt_ents > 16 * 512)
        return -XEN_EINVAL;
    if (!take_root(d, c->ctrlreg[3], &kroot))
        return -XEN_EINVAL;
    if (c->ctrlreg[1] && !take_root(d, c->ctrlreg[1], &uroot)) {
        put_page_and_type(mfn_to_page(kroot));
        return -XEN_EINVAL;
    }
    if (c->gdt_ents && pv_vcpu_set_gdt(v, c->gdt_frames, (unsigned)c->gdt_ents)) {
        put_page_and_type(mfn_to_page(kroot));
        if (uroot)
            put_page_and_type(mfn_to_page(uroot));
        return -XEN_EINVAL;
    }
    load_regs(&v->arch.user_regs, &c->user_regs);
    /* As on Xen, the IOPL field of the new context is the vCPU's virtual
     * IOPL (Linux starts secondary vCPUs with 1, for port I/O). */
    v->arch.iopl = (c->user_regs.rflags >> 12) & 3;
    pv_desc_set_selectors(v, c->user_regs.ds, c->user_regs.es, c->user_regs.fs,
                          c->user_regs.gs);
    load_traps(v, c->trap_ctxt);
    v->arch.kernel_mode = true;
    v->arch.kernel_ss = c->kernel_ss | 3;
    v->arch.kernel_sp = c->kernel_sp;
    v->arch.event_cb = (struct pv_callback){c->event_callback_eip, true};
    v->arch.failsafe_cb = (struct pv_callback){c->failsafe_callback_eip,
                                               c->flags & VGCF_failsafe_disables_events};
    v->arch.syscall_cb = (struct pv_callback){c->syscall_callback_eip,
                                              c->flags & VGCF_syscall_disables_events};
    v->arch.fs_base = c->fs_base;
    v->arch.gs_base_kernel = c->gs_base_kernel;
    v->arch.gs_base_user = c->gs_base_user;
    load_debugregs(v, c->debugreg);
    v->arch.fpu_initialised = c->flags & VGCF_i387_valid;
    if (v->arch.fpu_initialised) {
        u32 mxcsr;
        memcpy(v->arch.fpu.fxsave, c->fpu_ctxt.x, sizeof(v->arch.fpu.fxsave));
        /* fxrstor faults on reserved MXCSR bits: keep only the ones
         * every SSE CPU has. */
        memcpy(&mxcsr, v->arch.fpu.fxsave + 24, 4);
        mxcsr &= 0xffbf;
        memcpy(v->arch.fpu.fxsave + 24, &mxcsr, 4);
    }
    v->arch.guest_table_user = uroot;
    /* Last: a non-zero kernel root is what makes the vCPU "initialised". */
    WRITE_ONCE(v->arch.guest_table, kroot);
    return 0;
}
