/*
 * Exceptions raised while a PV guest runs, and the guest's trap table and
 * callbacks.  Most exceptions are the guest's own business and bounce to
 * its handler; a few are Keel's (emulation, lazy FPU).  A guest that faults
 * with no handler registered is crashed with the reason logged.
 */
#include <asm/cpu.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>
#include <asm/traps.h>
#include <keel/debugreg.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/x86_decode.h>

static bool has_error_code(unsigned vector)
{
    return vector == TRAP_DF || (vector >= TRAP_TS && vector <= TRAP_PF) ||
           vector == TRAP_AC || vector == TRAP_CP;
}

/* What a guest looked like when Keel gave up on it. */
void pv_show_guest_state(struct vcpu *v, const struct regs *r)
{
    unsigned long stack[8];

    printk(KLOG_ERR "d%u v%u %s mode, cr2 %016lx, cr3 %016lx\n", v->domain->domid, v->vcpu_id,
           v->arch.kernel_mode ? "kernel" : "user", v->arch.vcr2, pv_active_cr3(v));
    show_registers(r);
    if (!copy_from_guest(stack, r->rsp, sizeof(stack)))
        printk(KLOG_ERR "guest stack: %016lx %016lx %016lx %016lx\n"
                        "             %016lx %016lx %016lx %016lx\n",
               stack[0], stack[1], stack[2], stack[3], stack[4], stack[5], stack[6], stack[7]);
}

void pv_inject_exception(struct regs *r, unsigned vector, bool with_err, u32 err)
{
    struct vcpu *v = current;
    const struct pv_trap *t = &v->arch.traps[vector & 0xff];

    if (!t->address) {
        printk(KLOG_ERR "d%u v%u: exception %u (error %#x) at %016lx with no handler\n",
               v->domain->domid, v->vcpu_id, vector, err, r->rip);
        pv_show_guest_state(v, r);
        domain_crash(v->domain, "unhandled exception");
        return;
    }
    pv_bounce(r, t->address, t->mask_events, with_err, err);
}

/* The guest's #PF at cr2 (its own address) with the CPU's error code. */
void pv_guest_page_fault(struct regs *r, unsigned long cr2, u32 err)
{
    struct vcpu *v = current;

    /* Both guest modes run in ring 3: the guest learns which one faulted
     * from the U/S bit, so Keel rewrites it. */
    err = v->arch.kernel_mode ? err & ~PF_USER : err | PF_USER;
    v->arch.vcr2 = cr2;
    v->vcpu_info->arch.cr2 = cr2;
    pv_inject_exception(r, TRAP_PF, true, err);
}

static void guest_page_fault(struct regs *r, unsigned long cr2)
{
    if (pv_ptwr_fault(r, cr2) || pv_mmio_ro_fault(r, cr2) || pv_desc_ldt_fault(r, cr2))
        return;
    pv_guest_page_fault(r, cr2, r->error_code);
}

static void guest_no_device(struct regs *r)
{
    struct vcpu *v = current;

    /* Keel set CR0.TS for the guest's virtual TS: the guest's #NM, and its
     * virtual TS is cleared as the bounce happens. */
    write_cr0(read_cr0() & ~X86_CR0_TS);
    if (v->arch.vcr0_ts) {
        v->arch.vcr0_ts = 0;
        pv_inject_exception(r, TRAP_NM, false, 0);
    }
}

/* The `int n` at rip (prefixes allowed): its length, and n in *vec;
 * 0 if that is not what is there. */
static unsigned int_insn(unsigned long rip, unsigned *vec)
{
    u8 bytes[X86_MAX_INSN_LEN];
    struct x86_insn in;

    if (x86_decode(bytes, pv_fetch_insn(rip, bytes), &in) || in.opcode != 0xcd)
        return 0;
    *vec = (unsigned)in.imm;
    return in.len;
}

/*
 * `int n` from the guest: Keel's IDT gates are DPL 0, so the CPU raised
 * #GP with the IDT bit in the error code.  The vector comes from the
 * instruction, not the error code's index: QEMU's TCG scales that by the
 * 16-byte gate size, hardware does not.  The guest's trap table decides:
 * a gate whose DPL the current guest mode meets (kernel counts as ring 1,
 * user as ring 3) gets the interrupt, as a trap after the instruction;
 * otherwise the guest gets #GP with the architectural (n << 3) | 2.
 */
static bool guest_soft_interrupt(struct regs *r)
{
    struct vcpu *v = current;
    const struct pv_trap *t;
    unsigned ring = v->arch.kernel_mode ? 1 : 3;
    unsigned vec, len;

    if ((r->error_code & 3) != 2 || !(len = int_insn(r->rip, &vec)))
        return false;
    t = &v->arch.traps[vec];
    if (!t->address || t->dpl < ring) {
        pv_inject_exception(r, TRAP_GP, true, (vec << 3) | 2);
        return true;
    }
    r->rip += len;
    pv_bounce(r, t->address, t->mask_events, false, 0);
    return true;
}

/* #DB: the guest reads the cause back with get_debugreg(6). */
static void guest_debug(struct regs *r, unsigned long dr6)
{
    current->arch.debugreg[6] = dr6;
    pv_inject_exception(r, TRAP_DB, false, 0);
}

static unsigned long take_dr6(void)
{
    unsigned long dr6;

    __asm__ __volatile__("mov %%db6, %0" : "=r"(dr6));
    /* The CPU never clears DR6 itself. */
    __asm__ __volatile__("mov %0, %%db6" ::"r"(DR6_DEFAULT));
    return dr6;
}

void pv_do_exception(struct regs *r)
{
    unsigned vec = r->entry_vector;
    unsigned long cr2 = 0, dr6 = 0;

    if (vec == TRAP_NMI || vec == TRAP_MC)
        return; /* Keel's own business, never the guest's (traps.c) */
    /* What the next fault would overwrite, first; then, as in a
     * hypercall, interrupts on: a CPU waiting here (for a table another
     * CPU validates, say) keeps answering IPIs.  ret_to_guest turns them
     * off again. */
    if (vec == TRAP_PF)
        cr2 = read_cr2();
    else if (vec == TRAP_DB)
        dr6 = take_dr6();
    local_irq_enable();
    switch (vec) {
    case TRAP_DB:
        guest_debug(r, dr6);
        return;
    case TRAP_PF:
        guest_page_fault(r, cr2);
        return;
    case TRAP_NM:
        guest_no_device(r);
        return;
    case TRAP_UD:
        if (pv_emulate_forced_cpuid(r))
            return;
        break;
    case TRAP_GP:
        if (guest_soft_interrupt(r) || pv_emulate_privileged(r))
            return;
        break;
    default:
        break;
    }
    pv_inject_exception(r, vec, has_error_code(vec), r->error_code);
}

/* ------------------------------------------------------- trap table */

long do_set_trap_table(struct hcall *h)
{
    struct vcpu *v = current;
    unsigned long gva = h->arg[0];
    struct trap_info ti;

    if (!gva) {
        /* A NULL table clears every entry. */
        memset(v->arch.traps, 0, sizeof(v->arch.traps));
        return 0;
    }
    for (unsigned i = 0; i < 256; i++, gva += sizeof(ti)) {
        if (copy_from_guest_obj(&ti, gva))
            return -XEN_EFAULT;
        if (!ti.address)
            return 0;
        /* Non-canonical (Xen's check too) or inside Keel: never runnable. */
        if (!guest_range_ok(ti.address, 1))
            return -XEN_EINVAL;
        v->arch.traps[ti.vector].address = ti.address;
        v->arch.traps[ti.vector].dpl = ti.flags & 3;
        v->arch.traps[ti.vector].mask_events = ti.flags & 4;
    }
    return 0;
}

/* ------------------------------------------------------- callbacks */

static long register_callback(struct vcpu *v, const struct callback_register *cb)
{
    struct pv_callback *slot;

    switch (cb->type) {
    case CALLBACKTYPE_event: slot = &v->arch.event_cb; break;
    case CALLBACKTYPE_failsafe: slot = &v->arch.failsafe_cb; break;
    case CALLBACKTYPE_syscall: slot = &v->arch.syscall_cb; break;
    case CALLBACKTYPE_syscall32: slot = &v->arch.syscall32_cb; break;
    case CALLBACKTYPE_sysenter: slot = &v->arch.sysenter_cb; break;
    case CALLBACKTYPE_nmi: slot = &v->arch.nmi_cb; break;
    default: return -XEN_ENOSYS; /* as Xen: unknown type is "no such call" */
    }
    if (cb->address && !guest_range_ok(cb->address, 1))
        return -XEN_EINVAL;
    slot->eip = cb->address;
    slot->mask_events = cb->flags & CALLBACKF_mask_events;
    return 0;
}

long do_callback_op(struct hcall *h)
{
    union {
        struct callback_register reg;
        struct callback_unregister unreg;
    } u;
    struct vcpu *v = current;

    switch (h->arg[0]) {
    case CALLBACKOP_register:
        if (copy_from_guest_obj(&u.reg, h->arg[1]))
            return -XEN_EFAULT;
        return register_callback(v, &u.reg);
    case CALLBACKOP_unregister:
        if (copy_from_guest_obj(&u.unreg, h->arg[1]))
            return -XEN_EFAULT;
        switch (u.unreg.type) {
        case CALLBACKTYPE_nmi:
            v->arch.nmi_cb.eip = 0;
            return 0;
        case CALLBACKTYPE_event:
        case CALLBACKTYPE_failsafe:
        case CALLBACKTYPE_syscall:
        case CALLBACKTYPE_syscall32:
        case CALLBACKTYPE_sysenter:
            /* Xen keeps these for the vCPU's life: replace, never remove. */
            return -XEN_EINVAL;
        default:
            return -XEN_ENOSYS;
        }
    default:
        return -XEN_ENOSYS;
    }
}

/* The old interface: event, failsafe and syscall in one go. */
long do_set_callbacks(struct hcall *h)
{
    struct vcpu *v = current;
    struct callback_register cb[3] = {
        {.type = CALLBACKTYPE_event, .flags = 0, .address = h->arg[0]},
        {.type = CALLBACKTYPE_failsafe, .flags = 0, .address = h->arg[1]},
        {.type = CALLBACKTYPE_syscall, .flags = CALLBACKF_mask_events, .address = h->arg[2]},
    };

    for (unsigned i = 0; i < 3; i++)
        if (cb[i].address && !guest_range_ok(cb[i].address, 1))
            return -XEN_EINVAL;
    for (unsigned i = 0; i < 3; i++)
        register_callback(v, &cb[i]);
    return 0;
}

long do_stack_switch(struct hcall *h)
{
    struct vcpu *v = current;

    /* The guest kernel runs in ring 3: its stack selector's RPL says so.
     * The stack itself is checked when a bounce writes to it. */
    v->arch.kernel_ss = h->arg[0] ? (h->arg[0] | 3) & 0xffff : 0;
    v->arch.kernel_sp = h->arg[1];
    return 0;
}

long do_fpu_taskswitch(struct hcall *h)
{
    struct vcpu *v = current;

    v->arch.vcr0_ts = h->arg[0] ? 1 : 0;
    if (v->arch.vcr0_ts)
        write_cr0(read_cr0() | X86_CR0_TS);
    else
        write_cr0(read_cr0() & ~X86_CR0_TS);
    return 0;
}

long do_set_segment_base(struct hcall *h)
{
    struct vcpu *v = current;
    unsigned long base = h->arg[1];

    switch (h->arg[0]) {
    case SEGBASE_FS:
        if (!guest_range_ok(base, 1))
            return -XEN_EINVAL;
        v->arch.fs_base = base;
        wrmsr(MSR_FS_BASE, base);
        return 0;
    case SEGBASE_GS_USER:
        if (!guest_range_ok(base, 1))
            return -XEN_EINVAL;
        v->arch.gs_base_user = base;
        /* In guest kernel mode the user base waits in KERNEL_GS_BASE. */
        wrmsr(v->arch.kernel_mode ? MSR_KERNEL_GS_BASE : MSR_GS_BASE, base);
        return 0;
    case SEGBASE_GS_KERNEL:
        if (!guest_range_ok(base, 1))
            return -XEN_EINVAL;
        v->arch.gs_base_kernel = base;
        wrmsr(v->arch.kernel_mode ? MSR_GS_BASE : MSR_KERNEL_GS_BASE, base);
        return 0;
    case SEGBASE_GS_USER_SEL: {
        /* Load a user %gs selector without losing the kernel GS base. */
        unsigned long f = irq_save();
        u16 sel = (u16)base;
        /* A selector the CPU refuses (not a usable data segment) loads
         * the null selector instead. */
        __asm__ __volatile__("swapgs\n\t"
                             "1: mov %w0, %%gs\n\t"
                             "2: swapgs\n\t"
                             "jmp 4f\n\t"
                             "3: xor %k0, %k0\n\t"
                             "mov %w0, %%gs\n\t"
                             "jmp 2b\n\t"
                             "4:\n\t" EXTABLE(1b, 3b)
                             : "+r"(sel)::"memory");
        irq_restore(f);
        v->arch.gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
        return 0;
    }
    default:
        return -XEN_EINVAL;
    }
}

/* ------------------------------------------------------- debug registers */

/*
 * The rules are shared with VCPUOP_initialise (keel/debugreg.h): addresses
 * only in the guest's part of the address space, no general detect, no
 * I/O breakpoints.  So the guest's DR7 can go into the hardware as it is;
 * a breakpoint that fires while Keel touches guest memory for it is
 * ignored (traps.c), as on Xen.  #DB in the guest records DR6 here.
 */
#define DR7_ENABLED 0xffUL /* L0-L3, G0-G3 */

static void write_dr(unsigned int reg, unsigned long val)
{
    switch (reg) {
    case 0: __asm__ __volatile__("mov %0, %%db0" ::"r"(val)); break;
    case 1: __asm__ __volatile__("mov %0, %%db1" ::"r"(val)); break;
    case 2: __asm__ __volatile__("mov %0, %%db2" ::"r"(val)); break;
    case 3: __asm__ __volatile__("mov %0, %%db3" ::"r"(val)); break;
    case 7: __asm__ __volatile__("mov %0, %%db7" ::"r"(val)); break;
    default: break;
    }
}

void pv_debugregs_load(const struct vcpu *v)
{
    if (!(v->arch.debugreg[7] & DR7_ENABLED))
        return;
    for (unsigned int i = 0; i < 4; i++)
        write_dr(i, v->arch.debugreg[i]);
    write_dr(7, v->arch.debugreg[7]); /* last: the addresses are in place */
}

void pv_debugregs_unload(const struct vcpu *v)
{
    if (v->arch.debugreg[7] & DR7_ENABLED)
        write_dr(7, DR7_DEFAULT);
}

long do_set_debugreg(struct hcall *h)
{
    struct vcpu *v = current;
    unsigned int reg = (unsigned int)h->arg[0]; /* an int in Xen's ABI */
    unsigned long val = h->arg[1];
    int rc = debugreg_check(&reg, &val);

    if (rc)
        return rc;
    /* Off first, so no breakpoint is armed with a stale address. */
    pv_debugregs_unload(v);
    v->arch.debugreg[reg] = val;
    pv_debugregs_load(v);
    return 0;
}

long do_get_debugreg(struct hcall *h)
{
    struct vcpu *v = current;
    unsigned long reg = h->arg[0];

    switch (reg) {
    case 0: case 1: case 2: case 3:
        return (long)v->arch.debugreg[reg];
    case 4: case 6:
        return (long)(v->arch.debugreg[6] ? v->arch.debugreg[6] : DR6_DEFAULT);
    case 5: case 7:
        return (long)(v->arch.debugreg[7] | DR7_DEFAULT);
    default:
        return -XEN_ENODEV;
    }
}
