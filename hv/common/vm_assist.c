/*
 * vm_assist: a guest opts into hypervisor help.  Keel records the bits; the
 * one with behaviour behind it is writable_pagetables (the #PF path then
 * emulates the guest's stores into its own L1 tables).  The others are
 * accepted because Linux enables them and a 64-bit guest is already served
 * the way they ask.
 */
#include <keel/domain.h>
#include <keel/hypercall.h>
#include <keel/sched.h>

long do_vm_assist(struct hcall *h)
{
    unsigned long cmd = h->arg[0], type = h->arg[1];
    struct domain *d = current->domain;

    if (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable)
        return -XEN_ENOSYS;
    if (type >= 64 || !((ARCH_VM_ASSISTS >> type) & 1))
        return -XEN_EINVAL;
    if (cmd == VMASST_CMD_enable)
        __atomic_fetch_or(&d->vm_assist, 1UL << type, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&d->vm_assist, ~(1UL << type), __ATOMIC_SEQ_CST);
    return 0;
}
