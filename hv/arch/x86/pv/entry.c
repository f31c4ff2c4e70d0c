/*
 * PV guests entering and leaving Keel: SYSCALL (hypercalls from the guest
 * kernel, system calls from guest user space), exception bounces, the iret
 * hypercall, and the work done on every way back into a guest.
 */
#include <asm/cpu.h>
#include <asm/pv.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/rcu.h>
#include <keel/sched.h>
#include <keel/softirq.h>

#define EFLAGS_IOPL (3UL << 12)
#define EFLAGS_RF (1UL << 16)
#define EFLAGS_VM (1UL << 17)
#define EFLAGS_FIXED1 (1UL << 1)
#define EFLAGS_DEFINED 0x3f7fd5UL /* the flags that exist; others read 0 */

static bool is_canonical(unsigned long va)
{
    return (unsigned long)((long)(va << 16) >> 16) == va;
}

unsigned long pv_active_cr3(const struct vcpu *v)
{
    mfn_t root = v->arch.kernel_mode || !v->arch.guest_table_user
                     ? v->arch.guest_table : v->arch.guest_table_user;
    return root << PAGE_SHIFT;
}

void pv_toggle_guest_mode(struct vcpu *v)
{
    v->arch.kernel_mode = !v->arch.kernel_mode;
    /* The inactive GS base always waits in KERNEL_GS_BASE. */
    __asm__ __volatile__("swapgs" ::: "memory");
    write_cr3(pv_active_cr3(v));
}

bool pv_bounce(struct regs *r, unsigned long handler, bool mask_events,
               bool has_error_code, u32 error_code)
{
    struct vcpu *v = current;
    struct vcpu_info *vi = v->vcpu_info;
    u8 saved_mask = vi->evtchn_upcall_mask;
    bool from_kernel = v->arch.kernel_mode;
    /* Xen's frame, lowest word first: rcx, r11, [error code], rip, cs,
     * rflags, rsp, ss.  Every slot has a fixed place here; without an
     * error code, rcx and r11 move up one and the copy starts a word later. */
    unsigned long frame[8], *f = has_error_code ? frame : frame + 1;
    size_t len = has_error_code ? sizeof(frame) : sizeof(frame) - 8;
    unsigned long sp;

    if (!from_kernel)
        pv_toggle_guest_mode(v);
    sp = ((from_kernel ? r->rsp : v->arch.kernel_sp) & ~0xfUL) - len;

    /* The error code first: without one, its slot is r11's. */
    frame[2] = error_code;
    f[0] = r->rcx;
    f[1] = r->r11;
    frame[3] = r->rip;
    /* The guest kernel sees its own CS with RPL 0, and the event mask it
     * had, in the upper half of the CS slot. */
    frame[4] = (from_kernel ? (r->cs & ~3UL) : r->cs) | ((unsigned long)saved_mask << 32);
    frame[5] = (r->rflags & ~X86_EFLAGS_IF) | (saved_mask ? 0 : X86_EFLAGS_IF);
    frame[6] = r->rsp;
    frame[7] = r->ss;
    if (copy_to_guest(sp, f, len)) {
        printk(KLOG_ERR "d%u v%u: no exception frame at guest rsp %016lx (rip %016lx)\n",
               v->domain->domid, v->vcpu_id, sp, r->rip);
        domain_crash(v->domain, "cannot write an exception frame on the guest kernel stack");
        return false;
    }
    r->rsp = sp;
    r->rip = handler;
    r->cs = FLAT_KERNEL_CS;
    r->ss = FLAT_KERNEL_SS;
    r->rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_NT | EFLAGS_RF | EFLAGS_VM |
                   X86_EFLAGS_AC | EFLAGS_IOPL);
    r->rflags |= X86_EFLAGS_IF;
    if (mask_events)
        vi->evtchn_upcall_mask = 1;
    return true;
}

/* SYSCALL from guest user space goes to the guest kernel's handler. */
static void user_syscall(struct regs *r)
{
    struct vcpu *v = current;

    if (!v->arch.syscall_cb.eip) {
        pv_inject_exception(r, TRAP_UD, false, 0);
        return;
    }
    r->rflags &= ~X86_EFLAGS_DF;
    pv_bounce(r, v->arch.syscall_cb.eip, v->arch.syscall_cb.mask_events, false, 0);
}

void do_syscall(struct regs *r);
void do_syscall(struct regs *r)
{
    struct hcall h = {{r->rdi, r->rsi, r->rdx, r->r10, r->r8}, false, false};
    long ret;

    if (!current || current->domain->is_idle)
        fatal_trap(r, "syscall while no guest is running");
    if (!current->arch.kernel_mode) {
        user_syscall(r);
        return;
    }
    local_irq_enable();
    ret = hypercall_run(r->rax, &h);
    local_irq_disable();
    if (h.continuation) {
        static bool reported;
        if (!reported) {
            reported = true;
            printk(KLOG_DEBUG "d%u: hypercall %lu preempted, continues (first continuation)\n",
                   current->domain->domid, r->rax);
        }
        /* Back onto the SYSCALL (2 bytes), same number, what is left. */
        r->rip -= 2;
        r->rdi = h.arg[0];
        r->rsi = h.arg[1];
        r->rdx = h.arg[2];
        r->r10 = h.arg[3];
        r->r8 = h.arg[4];
        return;
    }
    r->rax = (unsigned long)ret;
}

/* The guest asked to return from an exception or callback frame. */
long do_iret(struct hcall *h)
{
    struct vcpu *v = current;
    struct regs *r = guest_regs();
    struct iret_context c;

    (void)h;
    if (copy_from_guest(&c, r->rsp, sizeof(c))) {
        domain_crash(v->domain, "iret: frame not readable");
        return 0;
    }
    if ((c.cs & 3) == 3 && v->arch.kernel_mode) {
        if (!v->arch.guest_table_user) {
            domain_crash(v->domain, "iret to user mode without a user page table");
            return 0;
        }
        pv_toggle_guest_mode(v);
    }
    r->rip = c.rip;
    r->cs = c.cs | 3;
    r->rsp = c.rsp;
    r->ss = c.ss | 3;
    r->rflags = (c.rflags & EFLAGS_DEFINED & ~(EFLAGS_IOPL | EFLAGS_VM)) |
                X86_EFLAGS_IF | EFLAGS_FIXED1;
    if (!(c.flags & VGCF_in_syscall)) {
        r->rcx = c.rcx;
        r->r11 = c.r11;
    }
    v->vcpu_info->evtchn_upcall_mask = !(c.rflags & X86_EFLAGS_IF);
    /* A non-canonical RIP/RSP faults at the IRETQ on some CPUs and only in
     * the guest on others; Xen's guest sees #GP(0) at the bad RIP either
     * way, so give it that directly. */
    if (!is_canonical(c.rip) || !is_canonical(c.rsp)) {
        printk(KLOG_WARN "d%u v%u: iret to non-canonical rip %016lx rsp %016lx: #GP\n",
               v->domain->domid, v->vcpu_id, c.rip, c.rsp);
        r->rax = c.rax;
        pv_inject_exception(r, TRAP_GP, true, 0);
        return (long)r->rax;
    }
    return (long)c.rax;
}

/* Pending, unmasked events become an upcall before the guest runs again. */
static void deliver_events(struct vcpu *v, struct regs *r)
{
    struct vcpu_info *vi = v->vcpu_info;

    if (!READ_ONCE(vi->evtchn_upcall_pending) || READ_ONCE(vi->evtchn_upcall_mask))
        return;
    if (!v->arch.event_cb.eip)
        return; /* nothing registered yet: it stays pending */
    pv_bounce(r, v->arch.event_cb.eip, true, false, 0);
}

/* Called with interrupts off, right before the guest frame is restored. */
/* Out of line: the usual way back has nothing pending, and should not pay
 * for this loop's registers. */
static __attribute__((noinline)) void exit_softirqs(unsigned cpu)
{
    do {
        local_irq_enable();
        do_softirq(); /* may switch to another vCPU and not come back */
        local_irq_disable();
    } while (softirq_pending(cpu));
}

void pv_exit_work(struct regs *r);
void pv_exit_work(struct regs *r)
{
    unsigned cpu = smp_processor_id();

    rcu_quiescent(); /* the hypercall or exception is over: nothing held */
    if (softirq_pending(cpu))
        exit_softirqs(cpu);
    deliver_events(current, r);
}

/*
 * The frame restored on the way into the guest was refused by the CPU (a
 * selector from the guest's iret that is not usable): as on Xen, the
 * guest gets the fault (#GP with the selector, usually) at the place it
 * asked to return to.  Without a handler, or without a writable stack for
 * the exception frame, the guest dies; Keel goes on either way.
 */
void pv_bad_return(void);
void pv_bad_return(void)
{
    struct regs *r = guest_regs();
    const struct fixup_info *fi = last_fixup();

    printk(KLOG_WARN "d%u v%u: return to guest refused (vector %u error %#x): "
           "rip %016lx cs %lx ss %lx rsp %016lx\n",
           current->domain->domid, current->vcpu_id, fi->vector, fi->error_code,
           r->rip, r->cs, r->ss, r->rsp);
    if (fi->vector == TRAP_NP || fi->vector == TRAP_SS || fi->vector == TRAP_GP)
        pv_inject_exception(r, fi->vector, true, fi->error_code);
    else
        domain_crash(current->domain, "bad guest context");
    if (current->domain->is_shutting_down) {
        /* Never back into this guest: the scheduler picks another. */
        local_irq_enable();
        do_softirq();
        panic("crashed vCPU still scheduled");
    }
    reset_stack_and_jump(ret_to_guest);
}
