/*
 * Hypercalls from HVM guests: VMMCALL with Xen's register conventions
 * (64-bit: rax = number, rdi rsi rdx r10 r8; 32-bit: eax, ebx ecx edx esi
 * edi), only from guest kernel mode, only the families Xen offers HVM
 * guests; and the hypercall page the guest asks for through Xen's MSR.
 */
#include <asm/hvm.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <xen/errno.h>

#include "hvm_internal.h"

/* The PV-only families (page tables, descriptor tables, trap and callback
 * registration, iret...) are not there for an HVM guest: -ENOSYS. */
static bool hvm_allowed(unsigned long nr)
{
    switch (nr) {
    case __HYPERVISOR_memory_op:
    case __HYPERVISOR_multicall:
    case __HYPERVISOR_set_timer_op:
    case __HYPERVISOR_xen_version:
    case __HYPERVISOR_console_io:
    case __HYPERVISOR_grant_table_op:
    case __HYPERVISOR_vcpu_op:
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_event_channel_op:
    case __HYPERVISOR_physdev_op:
    case __HYPERVISOR_hvm_op:
    case __HYPERVISOR_sysctl:
    case __HYPERVISOR_domctl:
    case __HYPERVISOR_xsm_op:
    case __HYPERVISOR_xenpmu_op:
        return true;
    default:
        return false;
    }
}

bool hvm_hypercall_allowed(unsigned long nr);
bool hvm_hypercall_allowed(unsigned long nr)
{
    return hvm_allowed(nr);
}

HVM_EXIT_HANDLER(hvm_exit_hypercall)
{
    bool wide = hvm_backend->long_mode(v);
    unsigned long nr = wide ? r->rax : (u32)r->rax;
    struct hcall h = {{0}, false, false};
    long ret;

    if (hvm_backend->cpl(v)) {
        /* Not from guest user space (Xen: -EPERM in rax). */
        hvm_skip(r, x, 3);
        r->rax = (unsigned long)-XEN_EPERM;
        return;
    }
    if (wide) {
        h.arg[0] = r->rdi, h.arg[1] = r->rsi, h.arg[2] = r->rdx;
        h.arg[3] = r->r10, h.arg[4] = r->r8;
    } else {
        h.arg[0] = (u32)r->rbx, h.arg[1] = (u32)r->rcx, h.arg[2] = (u32)r->rdx;
        h.arg[3] = (u32)r->rsi, h.arg[4] = (u32)r->rdi;
    }
    if (!hvm_allowed(nr))
        ret = -XEN_ENOSYS;
    else
        ret = hypercall_run(nr, &h);
    v->arch.hvm->stat_last_hcall = (u32)(nr << 8) | (h.arg[0] & 0xff);
    v->arch.hvm->stat_last_ret = ret;
    if (h.continuation) {
        /* Same instruction again with what is left (rip not advanced). */
        if (wide) {
            r->rdi = h.arg[0], r->rsi = h.arg[1], r->rdx = h.arg[2];
            r->r10 = h.arg[3], r->r8 = h.arg[4];
        } else {
            r->rbx = (u32)h.arg[0], r->rcx = (u32)h.arg[1], r->rdx = (u32)h.arg[2];
            r->rsi = (u32)h.arg[3], r->rdi = (u32)h.arg[4];
        }
        return;
    }
    hvm_skip(r, x, 3);
    r->rax = wide ? (unsigned long)ret : (u32)ret;
}

/*
 * The page: one 32-byte stub per hypercall, "mov $nr, %eax; vmmcall;
 * ret", int3 everywhere else; the iret slot stays int3 (no HVM guest may
 * use it).  val is the guest physical address of the page; its low bits
 * name the page (only 0 exists), as on Xen.
 */
int hvm_write_hypercall_page(struct vcpu *v, u64 val)
{
    static u8 page[PAGE_SIZE];
    static spinlock_t lock = SPINLOCK_INIT;
    int rc;

    if (val & (PAGE_SIZE - 1))
        return -XEN_EINVAL;
    spin_lock(&lock);
    memset(page, 0xcc, sizeof(page));
    for (unsigned int i = 0; i < PAGE_SIZE / 32; i++) {
        u8 *p = page + i * 32;
        if (i == __HYPERVISOR_iret)
            continue;
        p[0] = 0xb8; /* mov $i, %eax */
        p[1] = (u8)i;
        p[2] = (u8)(i >> 8);
        p[3] = 0;
        p[4] = 0;
        p[5] = 0x0f; /* vmmcall */
        p[6] = 0x01;
        p[7] = 0xd9;
        p[8] = 0xc3; /* ret */
    }
    rc = hvm_copy_to_guest_phys(v->domain, val, page, PAGE_SIZE);
    spin_unlock(&lock);
    if (rc)
        printk(KLOG_WARN "d%uv%u: hypercall page at gpa %#lx: not RAM\n", v->domain->domid,
               v->vcpu_id, (unsigned long)val);
    return rc;
}
