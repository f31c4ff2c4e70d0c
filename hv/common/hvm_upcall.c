/* Event-channel upcall delivery rules for HVM vCPUs (keel/hvm_upcall.h). */
#include <keel/hvm_upcall.h>
#include <xen/errno.h>

int hvm_upcall_vector_check(u32 vcpu, u8 vector, unsigned int nr_vcpus)
{
    /* Vectors 0-15 are exceptions or reserved: no APIC can accept them. */
    if (vector < 0x10)
        return -XEN_EINVAL;
    if (vcpu >= nr_vcpus)
        return -XEN_ENOENT;
    return 0;
}

bool hvm_upcall_raise(struct vlapic *a, u8 vector)
{
    if (!vector || !vlapic_enabled(a) || vlapic_irr_test(a, vector))
        return false;
    vlapic_set_irq(a, vector);
    return true;
}

struct hvm_intr hvm_intr_select(u8 callback_vector, bool upcall_pending, int apic_pending)
{
    if (callback_vector && upcall_pending)
        return (struct hvm_intr){HVM_INTR_CALLBACK, callback_vector};
    if (apic_pending >= 0)
        return (struct hvm_intr){HVM_INTR_LAPIC, (u8)apic_pending};
    return (struct hvm_intr){HVM_INTR_NONE, 0};
}

bool hvm_upcall_wakes(u8 callback_vector, u8 upcall_vector, bool upcall_pending,
                      int apic_pending)
{
    if (apic_pending >= 0)
        return true;
    /* With a per-vCPU vector only, the upcall is in the APIC or nowhere. */
    return upcall_pending && (callback_vector || !upcall_vector);
}
