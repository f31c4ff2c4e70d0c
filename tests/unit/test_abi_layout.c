/*
 * The guest ABI as Keel compiles it: sizes and offsets of the structures a
 * 64-bit PV guest shares with the hypervisor, and the hypercall numbers.
 * The numbers are those a Linux 6.1 guest uses (checked against Xen 4.17,
 * ../shared/docs/PV-ABI.md); a wrong __XEN_INTERFACE_VERSION__ or a header
 * change would move them, and every guest would break silently.
 */
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/physdev.h>
#include <xen/platform.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/io/console.h>

#include "harness.h"

TEST(hypercall_numbers_are_the_modern_ones)
{
    CHECK_EQ(__HYPERVISOR_set_trap_table, 0);
    CHECK_EQ(__HYPERVISOR_mmu_update, 1);
    CHECK_EQ(__HYPERVISOR_multicall, 13);
    CHECK_EQ(__HYPERVISOR_update_va_mapping, 14);
    CHECK_EQ(__HYPERVISOR_xen_version, 17);
    CHECK_EQ(__HYPERVISOR_console_io, 18);
    CHECK_EQ(__HYPERVISOR_iret, 23);
    CHECK_EQ(__HYPERVISOR_vcpu_op, 24);
    CHECK_EQ(__HYPERVISOR_mmuext_op, 26);
    /* Pre-3.0 interface versions would give 6 and 16 here. */
    CHECK_EQ(__HYPERVISOR_sched_op, 29);
    CHECK_EQ(__HYPERVISOR_event_channel_op, 32);
    CHECK_EQ(__HYPERVISOR_physdev_op, 33);
}

TEST(start_info)
{
    CHECK_EQ(sizeof(start_info_t), 0x490);
    CHECK_EQ(offsetof(start_info_t, nr_pages), 0x20);
    CHECK_EQ(offsetof(start_info_t, shared_info), 0x28);
    CHECK_EQ(offsetof(start_info_t, flags), 0x30);
    CHECK_EQ(offsetof(start_info_t, store_mfn), 0x38);
    CHECK_EQ(offsetof(start_info_t, pt_base), 0x58);
    CHECK_EQ(offsetof(start_info_t, nr_pt_frames), 0x60);
    CHECK_EQ(offsetof(start_info_t, mfn_list), 0x68);
    CHECK_EQ(offsetof(start_info_t, mod_start), 0x70);
    CHECK_EQ(offsetof(start_info_t, mod_len), 0x78);
    CHECK_EQ(offsetof(start_info_t, cmd_line), 0x80);
    CHECK_EQ(offsetof(start_info_t, first_p2m_pfn), 0x480);
    CHECK_EQ(offsetof(start_info_t, nr_p2m_frames), 0x488);
}

TEST(shared_info_and_vcpu_info)
{
    CHECK_EQ(sizeof(struct shared_info), 0xc40);
    CHECK_EQ(sizeof(struct vcpu_info), 0x40);
    CHECK_EQ(sizeof(struct vcpu_time_info), 0x20);
    CHECK_EQ(offsetof(struct shared_info, evtchn_pending), 0x800);
    CHECK_EQ(offsetof(struct shared_info, evtchn_mask), 0xa00);
    CHECK_EQ(offsetof(struct shared_info, wc_version), 0xc00);
    CHECK_EQ(offsetof(struct shared_info, arch), 0xc10);
    CHECK_EQ(offsetof(struct vcpu_info, evtchn_upcall_mask), 1);
    CHECK_EQ(offsetof(struct vcpu_info, evtchn_pending_sel), 8);
    CHECK_EQ(offsetof(struct vcpu_info, arch.cr2), 0x10);
    CHECK_EQ(offsetof(struct vcpu_info, time), 0x20);
    CHECK_EQ(offsetof(struct vcpu_time_info, tsc_timestamp), 0x08);
    CHECK_EQ(offsetof(struct vcpu_time_info, system_time), 0x10);
    CHECK_EQ(offsetof(struct vcpu_time_info, tsc_to_system_mul), 0x18);
    CHECK_EQ(offsetof(struct vcpu_time_info, tsc_shift), 0x1c);
}

TEST(hypercall_argument_structures)
{
    CHECK_EQ(sizeof(struct trap_info), 0x10);
    CHECK_EQ(sizeof(struct mmu_update), 0x10);
    CHECK_EQ(sizeof(struct mmuext_op), 0x18);
    CHECK_EQ(sizeof(struct multicall_entry), 0x40);
    CHECK_EQ(sizeof(struct callback_register), 0x10);
    CHECK_EQ(sizeof(struct vcpu_register_vcpu_info), 0x10);
    CHECK_EQ(sizeof(struct vcpu_runstate_info), 0x30);
    CHECK_EQ(sizeof(struct vcpu_set_singleshot_timer), 0x10);
    CHECK_EQ(sizeof(struct evtchn_init_control), 0x18);
    CHECK_EQ(sizeof(struct evtchn_bind_virq), 0xc);
    CHECK_EQ(sizeof(struct xen_memory_map), 0x10);
    CHECK_EQ(sizeof(struct xen_machphys_mapping), 0x18);
    CHECK_EQ(sizeof(struct xen_memory_reservation), 0x20);
    CHECK_EQ(sizeof(struct xen_memory_exchange), 0x48);
    CHECK_EQ(sizeof(struct xen_platform_op), 0x88);
    CHECK_EQ(sizeof(struct physdev_map_pirq), 0x28);
    CHECK_EQ(sizeof(struct iret_context), 0x48);
    /* 4.17's ring ends at out_prod (0xc0c); later Xen adds a field. */
    CHECK_EQ(sizeof(struct xencons_interface), 0xc10);
    CHECK_EQ(offsetof(struct xencons_interface, out_prod), 0xc0c);
}

TEST(iret_context_order)
{
    /* What the iret hypercall finds on the guest stack, lowest first. */
    CHECK_EQ(offsetof(struct iret_context, rax), 0x00);
    CHECK_EQ(offsetof(struct iret_context, r11), 0x08);
    CHECK_EQ(offsetof(struct iret_context, rcx), 0x10);
    CHECK_EQ(offsetof(struct iret_context, flags), 0x18);
    CHECK_EQ(offsetof(struct iret_context, rip), 0x20);
    CHECK_EQ(offsetof(struct iret_context, cs), 0x28);
    CHECK_EQ(offsetof(struct iret_context, rflags), 0x30);
    CHECK_EQ(offsetof(struct iret_context, rsp), 0x38);
    CHECK_EQ(offsetof(struct iret_context, ss), 0x40);
}

TEST(fixed_addresses_and_selectors)
{
    CHECK_EQ(HYPERVISOR_VIRT_START, 0xffff800000000000UL);
    CHECK_EQ(HYPERVISOR_VIRT_END, 0xffff880000000000UL);
    CHECK_EQ(MACH2PHYS_VIRT_START, 0xffff800000000000UL);
    CHECK_EQ(FLAT_KERNEL_CS, 0xe033);
    CHECK_EQ(FLAT_KERNEL_SS, 0xe02b);
    CHECK_EQ(FLAT_USER_CS32, 0xe023);
}
