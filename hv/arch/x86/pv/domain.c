/*
 * Switching a CPU between vCPUs.  The running guest's registers sit in the
 * frame at the top of the CPU's stack; a switch saves them into the old
 * vCPU, loads the new vCPU's, swaps the per-vCPU CPU state (page-table
 * root, segment bases, FPU) and restarts on an empty stack.
 */
#include <asm/cpu.h>
#include <asm/flushtlb.h>
#include <asm/hvm.h>
#include <asm/page.h>
#include <asm/pv.h>
#include <asm/pv_vcpu.h>
#include <keel/console.h>
#include <keel/frametable.h>
#include <keel/mm.h>
#include <keel/rcu.h>
#include <keel/sched.h>
#include <keel/softirq.h>
#include <keel/vtime.h>

static void fpu_save(struct vcpu *v)
{
    __asm__ __volatile__("clts; fxsave64 %0" : "=m"(v->arch.fpu));
}

static void fpu_restore(struct vcpu *v)
{
    __asm__ __volatile__("clts");
    if (v->arch.fpu_initialised)
        __asm__ __volatile__("fxrstor64 %0" ::"m"(v->arch.fpu));
    else {
        /* A fresh vCPU gets the power-on FPU state. */
        u32 mxcsr = 0x1f80;
        __asm__ __volatile__("fninit; ldmxcsr %0" ::"m"(mxcsr));
        v->arch.fpu_initialised = true;
    }
    if (v->arch.vcr0_ts)
        write_cr0(read_cr0() | X86_CR0_TS);
}

static void save_guest_state(struct vcpu *v)
{
    v->arch.user_regs = *guest_regs();
    pv_desc_save(v);
    v->arch.fs_base = rdmsr(MSR_FS_BASE);
    /* GS_BASE holds the active mode's base, KERNEL_GS_BASE the other. */
    if (v->arch.kernel_mode) {
        v->arch.gs_base_kernel = rdmsr(MSR_GS_BASE);
        v->arch.gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
    } else {
        v->arch.gs_base_user = rdmsr(MSR_GS_BASE);
        v->arch.gs_base_kernel = rdmsr(MSR_KERNEL_GS_BASE);
    }
    fpu_save(v);
    pv_debugregs_unload(v);
}

static void load_guest_state(struct vcpu *v)
{
    bool selectors_ok;

    *guest_regs() = v->arch.user_regs;
    switch_cr3(pv_active_cr3(v));
    selectors_ok = pv_desc_switch_in(v); /* first: loading one resets its base */
    wrmsr(MSR_FS_BASE, v->arch.fs_base);
    wrmsr(MSR_GS_BASE, v->arch.kernel_mode ? v->arch.gs_base_kernel : v->arch.gs_base_user);
    wrmsr(MSR_KERNEL_GS_BASE, v->arch.kernel_mode ? v->arch.gs_base_user : v->arch.gs_base_kernel);
    if (!selectors_ok)
        pv_failsafe(v, guest_regs());
    fpu_restore(v);
    pv_debugregs_load(v);
    pv_update_vcpu_time(v);
}

static void save_hvm_state(struct vcpu *v)
{
    hvm_save_vcpu(v);
    fpu_save(v);
}

/* An HVM vCPU's control registers and hidden state live in its control
 * block; only the general registers and the FPU pass through here.  Keel
 * runs on its own page tables while an HVM guest is in. */
static __noreturn void switch_to_hvm(struct vcpu *prev, struct vcpu *next)
{
    if (prev != next) {
        write_cr3(idle_pg_table_pa);
        if (!is_hvm_vcpu(prev) && !prev->domain->is_idle)
            pv_desc_switch_to_idle();
        hvm_load_vcpu(next);
        fpu_restore(next);
        pv_update_vcpu_time(next);
        context_saved(prev);
        vcpu_timers_switch_in(next);
    }
    reset_stack_and_jump(hvm_resume);
}

void context_switch(struct vcpu *prev, struct vcpu *next)
{
    local_irq_disable();
    if (prev != next && !prev->domain->is_idle) {
        if (is_hvm_vcpu(prev)) {
            save_hvm_state(prev);
        } else {
            pv_write_runstate(prev); /* its page tables are still loaded */
            save_guest_state(prev);
        }
    }
    if (is_hvm_vcpu(next))
        switch_to_hvm(prev, next);
    if (next->domain->is_idle) {
        switch_cr3(idle_pg_table_pa);
        if (prev != next && !is_hvm_vcpu(prev)) {
            pv_desc_switch_to_idle();
            context_saved(prev);
        } else if (prev != next) {
            context_saved(prev);
        }
        reset_stack_and_jump(idle_loop);
    }
    if (prev != next) {
        load_guest_state(next); /* from here on prev's tables are unused */
        context_saved(prev);
        pv_vcpu_switched_in(next);
    }
    reset_stack_and_jump(ret_to_guest);
}

void arch_vcpu_relinquish(struct vcpu *v)
{
    mfn_t kernel = v->arch.guest_table, user = v->arch.guest_table_user;

    (void)page_put_later_run(&v->arch.old_table, false); /* a parked release */
    v->arch.guest_table = v->arch.guest_table_user = 0;
    if (kernel)
        put_page_and_type(mfn_to_page(kernel));
    if (user)
        put_page_and_type(mfn_to_page(user));
    pv_desc_destroy(v);
}

int arch_domain_init(struct domain *d, const struct domain_config *c)
{
    if (!c->hvm)
        return 0;
    if (!hvm_available())
        return -XEN_EINVAL;
    return hvm_domain_init(d);
}

int arch_vcpu_init(struct vcpu *v)
{
    return is_hvm_vcpu(v) ? hvm_vcpu_init(v) : 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
    if (v->arch.hvm)
        hvm_vcpu_destroy(v);
}

int arch_domain_relinquish(struct domain *d)
{
    return hvm_domain_relinquish(d);
}

void arch_domain_destroy(struct domain *d)
{
    hvm_domain_destroy(d);
    xfree(d->arch.e820);
    xfree(d->arch.cpuid);
}

void idle_loop(void)
{
    unsigned cpu = smp_processor_id();

    for (;;) {
        local_irq_disable();
        rcu_quiescent(); /* nothing is held between two passes */
        if (softirq_pending(cpu)) {
            local_irq_enable();
            do_softirq();
            continue;
        }
        /* sti takes effect after hlt begins: no wake-up is lost. */
        __asm__ __volatile__("sti; hlt" ::: "memory");
    }
}
