/* HVM parameter rules (keel/hvm_param.h). */
#include <keel/hvm_param.h>
#include <xen/errno.h>
#define __XEN_TOOLS__ 1
#include <xen/hvm/params.h>

/* The ones a guest may set on itself. */
static bool guest_may_set(unsigned int index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    default:
        return false;
    }
}

/* The ones a guest may read about itself. */
static bool guest_may_get(unsigned int index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_PFN:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_PFN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    default:
        return false;
    }
}

static int check_value(unsigned int index, u64 value)
{
    switch (index) {
    case HVM_PARAM_TIMER_MODE:
        return value > HVMPTM_one_missed_tick_pending ? -XEN_EINVAL : 0;
    case HVM_PARAM_X87_FIP_WIDTH:
        return value != 0 && value != 4 && value != 8 ? -XEN_EINVAL : 0;
    case HVM_PARAM_MCA_CAP:
        return value & ~XEN_HVM_MCA_CAP_MASK ? -XEN_EINVAL : 0;
    case HVM_PARAM_BUFIOREQ_EVTCHN:
        return -XEN_EINVAL; /* Xen's own to pick */
    case HVM_PARAM_NESTEDHVM:
        return value ? -XEN_EINVAL : 0; /* no nested virtualisation */
    case HVM_PARAM_ALTP2M:
        return value ? -XEN_EINVAL : 0;
    case HVM_PARAM_VIRIDIAN:
        return value ? -XEN_EINVAL : 0; /* no Hyper-V enlightenments for PVH */
    default:
        return 0;
    }
}

int hvm_param_check_set(bool self, unsigned int index, u64 old, u64 value)
{
    if (index >= KEEL_HVM_NR_PARAMS)
        return -XEN_EINVAL;
    if (self && !guest_may_set(index))
        return -XEN_EPERM;
    switch (index) {
    case HVM_PARAM_VIRIDIAN:
    case HVM_PARAM_IOREQ_SERVER_PFN:
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_MCA_CAP:
        if (old && value != old)
            return -XEN_EEXIST; /* set once */
        break;
    default:
        break;
    }
    return check_value(index, value);
}

int hvm_param_check_get(bool self, unsigned int index)
{
    if (index >= KEEL_HVM_NR_PARAMS)
        return -XEN_EINVAL;
    return self && !guest_may_get(index) ? -XEN_EPERM : 0;
}

bool hvm_param_callback_vector(u64 value, u8 *vector)
{
    if ((value >> 56) != HVM_PARAM_CALLBACK_TYPE_VECTOR)
        return false;
    *vector = (u8)value;
    return true;
}
