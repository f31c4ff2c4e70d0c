/*
 * The hypercalls Keel answers: the one list.  Each line names Xen's number
 * (__HYPERVISOR_<name>), the handler do_<fn> and who may call it; the
 * declarations in keel/hypercall.h and the dispatch table in
 * common/hypercall.c are both generated from it.  A handler that is
 * listed but not written fails the link; a number not listed is -ENOSYS.
 *
 * HYPERCALL(name, fn, flags): flags are HC_DOM0_ONLY (the whole hypercall
 * is privileged) and HC_NO_MULTICALL (not allowed inside a multicall).
 * No include guard: it is meant to be included more than once.
 */
HYPERCALL(set_trap_table, set_trap_table, 0)
HYPERCALL(mmu_update, mmu_update, 0)
HYPERCALL(set_gdt, set_gdt, 0)
HYPERCALL(stack_switch, stack_switch, 0)
HYPERCALL(set_callbacks, set_callbacks, 0)
HYPERCALL(fpu_taskswitch, fpu_taskswitch, 0)
HYPERCALL(platform_op, platform_op, HC_DOM0_ONLY)
HYPERCALL(set_debugreg, set_debugreg, 0)
HYPERCALL(get_debugreg, get_debugreg, 0)
HYPERCALL(update_descriptor, update_descriptor, 0)
HYPERCALL(memory_op, memory_op, 0)
HYPERCALL(multicall, multicall, HC_NO_MULTICALL)
HYPERCALL(update_va_mapping, update_va_mapping, 0)
HYPERCALL(set_timer_op, set_timer_op, 0)
HYPERCALL(xen_version, xen_version, 0)
HYPERCALL(console_io, console_io, 0)
HYPERCALL(grant_table_op, grant_table_op, 0)
HYPERCALL(vm_assist, vm_assist, 0)
HYPERCALL(iret, iret, HC_NO_MULTICALL)
HYPERCALL(vcpu_op, vcpu_op, 0)
HYPERCALL(set_segment_base, set_segment_base, 0)
HYPERCALL(mmuext_op, mmuext_op, 0)
HYPERCALL(sched_op, sched_op, 0)
HYPERCALL(callback_op, callback_op, 0)
HYPERCALL(event_channel_op, event_channel_op, 0)
HYPERCALL(physdev_op, physdev_op, 0)
HYPERCALL(xenpmu_op, xenpmu_op, 0)
HYPERCALL(xsm_op, xsm_op, 0)
HYPERCALL(sysctl, sysctl, 0)
HYPERCALL(domctl, domctl, 0)
HYPERCALL(hvm_op, hvm_op, 0)
