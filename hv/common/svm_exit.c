/*
 * SVM exit codes into the vendor-neutral struct hvm_exit: which handler
 * runs, with the information it needs in a fixed form.  Pure, so it
 * builds on the host (unit tests, fuzzer): no guest can steer it into
 * anything but one of the listed reasons.
 */
#include <asm/hvm.h>
#include <asm/svm.h>

/* Instructions a PVH guest gets #UD for, as on Xen without nested
 * virtualisation (VMRUN & co.) or with the feature hidden. */
static bool refused_with_ud(u64 code)
{
    switch (code) {
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD:
    case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI:
    case SVM_EXIT_SKINIT:
    case SVM_EXIT_INVLPGA:
    case SVM_EXIT_RSM:
    case SVM_EXIT_MONITOR:
    case SVM_EXIT_MWAIT:
    case SVM_EXIT_RDTSCP:
    case SVM_EXIT_XSETBV:
        return true;
    default:
        return false;
    }
}

static u64 io_info(u64 info1)
{
    u64 size = (info1 & SVM_IOIO_SZ32) ? 4 : (info1 & SVM_IOIO_SZ16) ? 2 : 1;

    return size | ((info1 & SVM_IOIO_IN) ? HVM_IO_IN : 0) |
           ((info1 & SVM_IOIO_STR) ? HVM_IO_STRING : 0) |
           ((info1 & SVM_IOIO_REP) ? HVM_IO_REP : 0);
}

void svm_decode_exit(u64 code, u64 info1, u64 info2, u64 next_rip, struct hvm_exit *x)
{
    x->raw = code;
    x->info1 = x->info2 = 0;
    x->next_rip = next_rip;
    switch (code) {
    case SVM_EXIT_INTR:
    case SVM_EXIT_NMI:
    case SVM_EXIT_SMI:
    case SVM_EXIT_INIT:
    case SVM_EXIT_PAUSE:
    case SVM_EXIT_IRET: /* armed while an NMI is in service (svm.c) */
        x->reason = HVM_EXIT_NONE;
        return;
    case SVM_EXIT_VINTR:
        x->reason = HVM_EXIT_INTR_WINDOW;
        return;
    case SVM_EXIT_CPUID:
        x->reason = HVM_EXIT_CPUID;
        return;
    case SVM_EXIT_MSR:
        x->reason = (info1 & 1) ? HVM_EXIT_MSR_WRITE : HVM_EXIT_MSR_READ;
        return;
    case SVM_EXIT_IOIO:
        x->reason = HVM_EXIT_IO;
        x->info1 = (info1 >> 16) & 0xffff; /* port */
        x->info2 = io_info(info1);
        x->next_rip = info2;               /* the CPU gives the next rip here */
        return;
    case SVM_EXIT_HLT:
        x->reason = HVM_EXIT_HLT;
        return;
    case SVM_EXIT_VMMCALL:
        x->reason = HVM_EXIT_HYPERCALL;
        return;
    case SVM_EXIT_NPF:
        x->reason = HVM_EXIT_NPF;
        x->info1 = info1 & 0xffffffffULL;  /* error code */
        x->info2 = info2;                  /* guest physical address */
        return;
    case SVM_EXIT_SHUTDOWN:
        x->reason = HVM_EXIT_SHUTDOWN;
        return;
    case SVM_EXIT_INVD:
    case SVM_EXIT_WBINVD:
        /* Harmless to skip: the guest owns no cache that Keel must keep. */
        x->reason = HVM_EXIT_NONE;
        x->info1 = 1;                      /* skip the instruction */
        return;
    case SVM_EXIT_RDPMC:
        x->reason = HVM_EXIT_GP;           /* no vPMU: #GP as on Xen */
        return;
    case SVM_EXIT_INVALID:
        x->reason = HVM_EXIT_INVALID;
        return;
    default:
        x->reason = refused_with_ud(code) ? HVM_EXIT_UD : HVM_EXIT_UNHANDLED;
        return;
    }
}

/* ------------------------------------------------------- event state */

#define VIRQ_FIELDS (SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xfULL << SVM_VINTR_PRIO_SHIFT) | \
                     (0xffULL << SVM_VINTR_VECTOR_SHIFT))

/* Priority 15 and TPR ignored: the vLAPIC already decided this vector
 * is the one to deliver; V_TPR and masking bits are left as they are. */
u64 svm_vintr_set_virq(u64 vintr, u8 vector)
{
    return (vintr & ~VIRQ_FIELDS) | SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR |
           (0xfULL << SVM_VINTR_PRIO_SHIFT) | ((u64)vector << SVM_VINTR_VECTOR_SHIFT);
}

u64 svm_vintr_clear_virq(u64 vintr)
{
    return vintr & ~VIRQ_FIELDS;
}

/* EXITINTINFO holds an external interrupt whose delivery an exit cut
 * short: type INTR, or, from QEMU, a vector >= 32 typed as an exception
 * (how it records deliveries it started itself, V_IRQ's included). */
bool svm_exitint_is_irq(u64 e)
{
    u64 type = e & (7ULL << 8);

    return type == SVM_EVT_TYPE_INTR || (type == SVM_EVT_TYPE_EXCEPTION && (e & 0xff) >= 32);
}

/* An interrupt already in V_IRQ is the same one (QEMU may still hold it
 * there): delivering it twice is what V_IRQ is there to prevent. */
enum svm_redeliver svm_exitint_redeliver(u64 e, bool virq_pending)
{
    if (!(e & SVM_EVT_VALID))
        return SVM_REDELIVER_NONE;
    if (!svm_exitint_is_irq(e))
        return SVM_REDELIVER_EVENTINJ;
    return virq_pending ? SVM_REDELIVER_NONE : SVM_REDELIVER_VIRQ;
}

bool svm_can_take_irq(u64 rflags, u64 interrupt_shadow, u64 eventinj)
{
    return (rflags & X86_EFLAGS_IF) && !(interrupt_shadow & 1) && !(eventinj & SVM_EVT_VALID);
}
