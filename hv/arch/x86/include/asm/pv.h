/* The PV entry/exit path (hv/arch/x86/pv/). */
#ifndef ASM_PV_H
#define ASM_PV_H
#include <asm/cpu.h>
#include <asm/percpu.h>
#include <asm/regs.h>
#include <keel/domain.h>

/* A guest's registers live at the top of its CPU's stack while it runs. */
static inline struct regs *guest_regs(void)
{
    return (struct regs *)get_cpu_info() - 1;
}

/* Leave the current stack and continue at fn with an empty one (the guest
 * frame at the top is kept). */
__noreturn void reset_stack_and_jump(void (*fn)(void));
void ret_to_guest(void);

/*
 * Deliver an exception or callback to the guest kernel: push Xen's bounce
 * frame on the guest kernel stack and continue at `handler`.  Crashes the
 * domain (and returns false) if the frame cannot be written.
 */
bool pv_bounce(struct regs *r, unsigned long handler, bool mask_events,
               bool has_error_code, u32 error_code);
/* v's saved selectors did not all load at a context switch: enter its
 * failsafe callback (v is current, its state loaded). */
void pv_failsafe(struct vcpu *v, struct regs *r);
/* Bounce hardware exception `vector` through the guest's trap table. */
/* The guest's #PF at cr2 (an address of its own), with the CPU's error
 * code (its U/S bit rewritten for the guest's mode). */
void pv_guest_page_fault(struct regs *r, unsigned long cr2, u32 err);
void pv_inject_exception(struct regs *r, unsigned vector, bool has_error_code,
                         u32 error_code);
/* Registers and top of stack of a guest about to be crashed. */
void pv_show_guest_state(struct vcpu *v, const struct regs *r);
/* Debug registers: a vCPU whose DR7 enables a breakpoint has DR0-3 and
 * DR7 in the hardware while it runs (pv_debugregs_load, at switch-in and
 * when it sets them); switching away from it disables them again
 * (pv_debugregs_unload), so they never fire in another vCPU. */
void pv_debugregs_load(const struct vcpu *v);
void pv_debugregs_unload(const struct vcpu *v);
/* Exceptions taken in guest context (ring 3). */
void pv_do_exception(struct regs *r);
/* Kernel <-> user: GS bases and page-table root flip together. */
void pv_toggle_guest_mode(struct vcpu *v);
/* The CR3 value for v's current mode. */
unsigned long pv_active_cr3(const struct vcpu *v);
/* Emulates what a PV kernel may do at CPL3 and hardware refuses (#GP/#UD);
 * true when handled. */
bool pv_emulate_privileged(struct regs *r);
bool pv_emulate_forced_cpuid(struct regs *r);
/* Up to 15 guest instruction bytes at rip into buf; returns how many could
 * be read (0: none). */
unsigned pv_fetch_insn(unsigned long rip, u8 *buf);
/* The CPUID a PV guest sees (forced emulation, hypervisor leaves). */
void pv_cpuid(u32 leaf, u32 sub, struct cpuid_regs *r);
/* Virtual IOPL (PHYSDEVOP_set_iopl) lets v's current mode do port I/O and
 * CLI/STI; denied ports read all-ones and drop writes (pv/physdev.c). */
bool pv_iopl_allows(const struct vcpu *v);
/* ... then PHYSDEVOP_set_iobitmap's bitmap lets the access through. */
bool pv_io_allowed(struct vcpu *v, unsigned port, unsigned bytes);
u32 pv_port_in(const struct vcpu *v, unsigned port, unsigned bytes);
void pv_port_out(const struct vcpu *v, unsigned port, unsigned bytes, u32 val);
/* One CMOS register, read or written under Keel's lock (pv/time.c). */
u8 cmos_access(u8 reg, bool write, u8 val);
/* Fill a page with hypercall stubs (ELF note, or the CPUID-advertised MSR). */
void pv_fill_hypercall_page(void *page);
int pv_write_hypercall_page_msr(struct vcpu *v, u64 val);
/* Copy Keel's L4 slots 256-271 into a guest L4 (as a u64 array). */
void pv_install_hypervisor_slots(u64 *l4);
/* Wall clock at system time 0 into d's shared_info. */
void pv_update_wallclock(struct domain *d);
/* Set the wall clock at system time 0 and tell every domain. */
void pv_set_wallclock(u64 wall_at_boot_ns);
/* A guest batch (mmu_update, mmuext_op) with continuations; see batch.c. */
struct hcall;
long pv_run_batch(struct hcall *h, size_t size, void *item,
                  long (*one)(void *ctx, const void *item), void *ctx);
/* What mmu_update and mmuext_op do before looking at their arguments:
 * true, with *rc the answer, when a parked page-table release is not done
 * yet (a continuation) or the call only carries a final answer. */
bool pv_batch_prologue(struct hcall *h, long *rc);
/* Bring the shared time info of v up to date (on every switch to it). */
void pv_update_vcpu_time(struct vcpu *v);
#endif
