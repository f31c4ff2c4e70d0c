/*
 * The x86 side of vcpu_op: the runstate area a guest registered (written
 * through its own kernel page tables on every switch to or from it), and
 * VCPUOP_initialise, which gives a down vCPU its first register state.
 */
#include <asm/cpu.h>
#include <asm/pv.h>
#include <asm/pv_vcpu.h>
#include <keel/pv_ctx.h>
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

/* ------------------------------------------------- initialise, set, get */

/*
 * One set of rules for VCPUOP_initialise (a guest starting its own vCPU)
 * and XEN_DOMCTL_setvcpucontext (the toolstack starting a new domain's):
 * checks that need no state first, then references on the page-table
 * roots and GDT frames, then the state itself, which cannot fail.
 */

/* A reference on a page-table root the vCPU will run on, as the running
 * CR3 of vCPU 0 holds one (dom0_build).  The toolstack pinned the L4
 * (MMUEXT_PIN_L4_TABLE with foreigndom) or the type is taken here,
 * validating preemptibly (Xen's arch_set_info_guest): -KEEL_ERESTART
 * means "call again", the tree kept partial meanwhile.  A refusal is
 * undone in one go (no parked release is run on this path). */
static long take_root(struct domain *d, unsigned long cr3, mfn_t *out)
{
    mfn_t mfn = xen_cr3_to_pfn(cr3);
    struct page_info *pg = mfn_valid(mfn) ? mfn_to_page(mfn) : NULL;
    long rc;

    if (!pg || !get_page(pg, d))
        return -XEN_EINVAL;
    rc = get_page_type_preemptible(pg, PGT_l4_page_table);
    if (rc) {
        if (rc != -KEEL_ERESTART)
            (void)page_park_partial(pg, NULL);
        put_page(pg);
        return rc == -KEEL_ERESTART ? rc : -XEN_EINVAL;
    }
    *out = mfn;
    return 0;
}

static void put_root(mfn_t mfn)
{
    if (mfn)
        put_page_and_type(mfn_to_page(mfn));
}

/* The other root stopped: keep this one's validation for the next call
 * instead of releasing it (which would undo the work every time). */
static void keep_root(mfn_t mfn)
{
    put_page_type_keep(mfn_to_page(mfn));
    put_page(mfn_to_page(mfn));
}

static long context_check(const struct vcpu *v, const struct vcpu_guest_context *c)
{
    return pv_ctx_check(c, v->vcpu_id == 0);
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

/* Everything but the roots and descriptor tables; cannot fail. */
static void load_state(struct vcpu *v, const struct vcpu_guest_context *c)
{
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
    pv_ctx_debugregs(v->arch.debugreg, c->debugreg);
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
    if (v->vcpu_id == 0)
        v->domain->vm_assist = c->vm_assist;
}

long pv_vcpu_initialise(struct vcpu *v, const struct vcpu_guest_context *c)
{
    struct domain *d = v->domain;
    mfn_t kroot, uroot = 0;
    long rc = context_check(v, c);

    if (rc)
        return rc;
    if ((rc = take_root(d, c->ctrlreg[3], &kroot)))
        return rc;
    if (c->ctrlreg[1] && (rc = take_root(d, c->ctrlreg[1], &uroot))) {
        if (rc == -KEEL_ERESTART)
            keep_root(kroot);
        else
            put_root(kroot);
        return rc;
    }
    if (c->gdt_ents && pv_vcpu_set_gdt(v, c->gdt_frames, (unsigned)c->gdt_ents)) {
        put_root(kroot);
        put_root(uroot);
        return -XEN_EINVAL;
    }
    load_state(v, c);
    v->arch.guest_table_user = uroot;
    /* Last: a non-zero kernel root is what makes the vCPU "initialised"
     * (the LDT is looked up through it). */
    WRITE_ONCE(v->arch.guest_table, kroot);
    if (c->ldt_ents) {
        v->arch.ldt_base = c->ldt_base;
        v->arch.ldt_ents = c->ldt_ents;
        pv_vcpu_set_ldt(v, c->ldt_base, c->ldt_ents);
    }
    return 0;
}

long pv_vcpu_set_context(struct vcpu *v, const struct vcpu_guest_context *c)
{
    long rc;

    if (!READ_ONCE(v->arch.guest_table))
        return pv_vcpu_initialise(v, c);
    /* Initialised already: new registers, but the same tables (Xen says
     * -EOPNOTSUPP to anything else). */
    rc = context_check(v, c);
    if (rc)
        return rc;
    if (xen_cr3_to_pfn(c->ctrlreg[3]) != v->arch.guest_table ||
        xen_cr3_to_pfn(c->ctrlreg[1]) != v->arch.guest_table_user ||
        c->gdt_ents != v->arch.desc.gdt_ents || c->ldt_ents != v->arch.ldt_ents ||
        (c->ldt_ents && c->ldt_base != v->arch.ldt_base))
        return -XEN_EOPNOTSUPP;
    for (unsigned int i = 0; i < DIV_ROUND_UP(c->gdt_ents, 512); i++)
        if (c->gdt_frames[i] != v->arch.desc.gdt_frames[i])
            return -XEN_EOPNOTSUPP;
    load_state(v, c);
    return 0;
}

void pv_vcpu_get_context(struct vcpu *v, struct vcpu_guest_context *c)
{
    const struct regs *r = &v->arch.user_regs;
    struct cpu_user_regs *u = &c->user_regs;

    memset(c, 0, sizeof(*c));
    u->r15 = r->r15; u->r14 = r->r14; u->r13 = r->r13; u->r12 = r->r12;
    u->rbp = r->rbp; u->rbx = r->rbx; u->r11 = r->r11; u->r10 = r->r10;
    u->r9 = r->r9;   u->r8 = r->r8;   u->rax = r->rax; u->rcx = r->rcx;
    u->rdx = r->rdx; u->rsi = r->rsi; u->rdi = r->rdi;
    u->rip = r->rip; u->rsp = r->rsp;
    u->cs = (u16)r->cs; u->ss = (u16)r->ss;
    u->rflags = (r->rflags & ~(3UL << 12)) | ((unsigned long)v->arch.iopl << 12);
    u->ds = v->arch.desc.sel[0]; u->es = v->arch.desc.sel[1];
    u->fs = v->arch.desc.sel[2]; u->gs = v->arch.desc.sel[3];
    c->flags = (v->arch.fpu_initialised ? VGCF_i387_valid : 0) |
               (v->arch.kernel_mode ? VGCF_in_kernel : 0) |
               (v->arch.failsafe_cb.mask_events ? VGCF_failsafe_disables_events : 0) |
               (v->arch.syscall_cb.mask_events ? VGCF_syscall_disables_events : 0) |
               (READ_ONCE(v->pause_flags) & (1UL << VPF_down) ? 0 : VGCF_online);
    if (v->arch.fpu_initialised)
        memcpy(c->fpu_ctxt.x, v->arch.fpu.fxsave, sizeof(v->arch.fpu.fxsave));
    for (unsigned int i = 0; i < 256; i++) {
        const struct pv_trap *t = &v->arch.traps[i];
        if (!t->address)
            continue;
        c->trap_ctxt[i].vector = (u8)i;
        c->trap_ctxt[i].flags = t->dpl | (t->mask_events ? 4 : 0);
        c->trap_ctxt[i].cs = FLAT_KERNEL_CS;
        c->trap_ctxt[i].address = t->address;
    }
    c->ldt_base = v->arch.ldt_base;
    c->ldt_ents = v->arch.ldt_ents;
    c->gdt_ents = v->arch.desc.gdt_ents;
    for (unsigned int i = 0; i < DIV_ROUND_UP(c->gdt_ents, 512) && i < 16; i++)
        c->gdt_frames[i] = v->arch.desc.gdt_frames[i];
    c->kernel_ss = v->arch.kernel_ss;
    c->kernel_sp = v->arch.kernel_sp;
    c->ctrlreg[0] = 0x80050033UL | (v->arch.vcr0_ts ? 8 : 0); /* as the guest reads it */
    c->ctrlreg[3] = xen_pfn_to_cr3(v->arch.guest_table);
    c->ctrlreg[1] = v->arch.guest_table_user ? xen_pfn_to_cr3(v->arch.guest_table_user) : 0;
    for (unsigned int i = 0; i < 8; i++)
        c->debugreg[i] = v->arch.debugreg[i];
    c->event_callback_eip = v->arch.event_cb.eip;
    c->failsafe_callback_eip = v->arch.failsafe_cb.eip;
    c->syscall_callback_eip = v->arch.syscall_cb.eip;
    c->vm_assist = v->domain->vm_assist;
    c->fs_base = v->arch.fs_base;
    c->gs_base_kernel = v->arch.gs_base_kernel;
    c->gs_base_user = v->arch.gs_base_user;
}
