/*
 * Fuzz target for what an HVM guest or its toolstack controls in the HVM
 * core's workers.  The first byte picks one:
 *  - an HVM context blob (sethvmcontext): parse never reads past the
 *    buffer, accepts only what it can rebuild, and what it accepts round-
 *    trips through build and parse unchanged;
 *  - guest page tables in a 64 KiB "RAM" plus registers and an address:
 *    the walk ends in one of its three results, a translation lands inside
 *    the 52-bit space, and every A/D update stays inside the tables;
 *  - instruction bytes and registers: MMIO classification only accepts
 *    memory operands of 1/2/4/8 bytes, and completion only touches the
 *    destination register;
 *  - a raw SVM exit: decoding yields a known reason;
 *  - a run of upcall events, guest APIC writes, deliveries and EOIs with
 *    a per-vCPU upcall vector and a callback: the upcall vector enters
 *    the IRR only while the APIC is enabled, nothing below 16 ever does,
 *    the callback is chosen only while an upcall is pending, an APIC
 *    vector only from the IRR and above the processor priority.
 */
#include <asm/hvm.h>
#include <asm/svm.h>
#include <keel/guest_walk.h>
#include <keel/hvm_context.h>
#include <keel/hvm_mmio.h>
#include <keel/hvm_param.h>
#include <keel/hvm_upcall.h>
#include <xen/errno.h>
#include <xen/hvm/params.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static void fuzz_context(const u8 *data, size_t size)
{
    static struct hvmctx_vcpu out[4], again[4];
    const char *why;
    u8 *buf = malloc(size ? size : 1);
    u8 *built;
    size_t n;

    memcpy(buf, data, size);
    if (hvmctx_parse(buf, size, 4, out, &why) == 0) {
        for (unsigned int i = 0; i < 4; i++)
            if (!out[i].present)
                memset(&out[i], 0, sizeof(out[i])); /* built as zero state */
        built = malloc(hvmctx_size(4));
        n = hvmctx_build(built, 4, out, 1, 2);
        if (n != hvmctx_size(4))
            abort();
        /* Zero vCPUs fail Xen's CR0 check (no ET); present ones must pass. */
        if (hvmctx_parse(built, n, 4, again, &why) == 0)
            for (unsigned int i = 0; i < 4; i++)
                if (out[i].present &&
                    memcmp(&out[i].st, &again[i].st, sizeof(out[i].st)))
                    abort();
        free(built);
    }
    free(buf);
}

#define RAM 65536
static u8 *ram;

static bool r_read(void *ctx, u64 gpa, unsigned int size, u64 *val)
{
    (void)ctx;
    if (size != 4 && size != 8)
        abort();
    if (gpa >= RAM || gpa + size > RAM)
        return false;
    *val = 0;
    memcpy(val, ram + gpa, size);
    return true;
}

static void r_set(void *ctx, u64 gpa, unsigned int size, u64 bits)
{
    u64 v = 0;
    (void)ctx;
    if (gpa + size > RAM || (bits & ~0x60ULL))
        abort(); /* only entries it read, only A and D */
    memcpy(&v, ram + gpa, size);
    v |= bits;
    memcpy(ram + gpa, &v, size);
}

static void fuzz_walk(const u8 *data, size_t size)
{
    static const struct gw_ops ops = {r_read, r_set};
    struct gw_regs r;
    u64 va, gpa = 0;
    u32 access, pfec = 0;
    enum gw_result res;

    if (size < 40)
        return;
    memcpy(&r, data, 32);
    memcpy(&va, data + 32, 8);
    access = data[0] & (PFEC_WRITE | PFEC_USER | PFEC_FETCH);
    ram = calloc(1, RAM);
    memcpy(ram, data + 40, size - 40 > RAM ? RAM : size - 40);
    res = guest_walk(&r, va, access, &ops, NULL, &gpa, &pfec);
    if (res != GW_OK && res != GW_FAULT && res != GW_BAD_TABLE)
        abort();
    if (res == GW_OK && gpa >> 52)
        abort();
    if (res == GW_FAULT && (pfec & ~0x1fU))
        abort();
    free(ram);
}

static void fuzz_mmio(const u8 *data, size_t size)
{
    u64 g[16], before[16];
    struct x86_insn in;
    struct mmio_access a;
    unsigned int n;

    if (size < 128)
        return;
    memcpy(g, data, sizeof(g));
    memcpy(before, g, sizeof(g));
    n = (unsigned int)(size - 128 > 15 ? 15 : size - 128);
    if (x86_decode(data + 128, n, &in) || mmio_classify(&in, g, &a))
        return;
    if (a.size != 1 && a.size != 2 && a.size != 4 && a.size != 8)
        abort();
    if (a.write)
        return;
    if (a.reg > 15)
        abort();
    mmio_finish_read(&a, g, ~0ULL);
    for (unsigned int i = 0; i < 16; i++)
        if (i != a.reg && g[i] != before[i])
            abort();
}

/* V_IRQ never loses the bits it does not own; an interrupt is never both
 * re-injected by EVENTINJ and queued in V_IRQ, nor queued twice. */
static void fuzz_event_state(u64 vintr, u64 exitint, bool pending)
{
    u64 set = svm_vintr_set_virq(vintr, (u8)exitint);
    u64 own = SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xfULL << SVM_VINTR_PRIO_SHIFT) |
              (0xffULL << SVM_VINTR_VECTOR_SHIFT);
    enum svm_redeliver r = svm_exitint_redeliver(exitint, pending);

    if ((set & ~own) != (vintr & ~own) || ((set >> SVM_VINTR_VECTOR_SHIFT) & 0xff) != (u8)exitint)
        abort();
    if (svm_vintr_clear_virq(set) != (vintr & ~own))
        abort();
    if (!(exitint & SVM_EVT_VALID) && r != SVM_REDELIVER_NONE)
        abort();
    if (r == SVM_REDELIVER_VIRQ && (pending || !svm_exitint_is_irq(exitint)))
        abort();
    if (r == SVM_REDELIVER_EVENTINJ && svm_exitint_is_irq(exitint))
        abort();
}

static void fuzz_exit(const u8 *data, size_t size)
{
    u64 v[4] = {0};
    struct hvm_exit x;

    memcpy(v, data, size > sizeof(v) ? sizeof(v) : size);
    svm_decode_exit(v[0], v[1], v[2], v[3], &x);
    if (x.reason >= HVM_EXIT_NR)
        abort();
    if (x.reason == HVM_EXIT_IO && (x.info1 > 0xffff || !(x.info2 & 7)))
        abort();
    fuzz_event_state(v[1], v[2], (v[3] & 1) != 0);
}

static void raise_checked(struct vlapic *a, u8 vec)
{
    u32 before[8];

    memcpy(before, a->irr, sizeof(before));
    if (hvm_upcall_raise(a, vec) && (!vec || !vlapic_enabled(a) || !vlapic_irr_test(a, vec)))
        abort();
    if (!vlapic_enabled(a) && memcmp(before, a->irr, sizeof(before)))
        abort(); /* a disabled APIC drops the upcall */
}

static void fuzz_upcall(const u8 *data, size_t size)
{
    struct vlapic a;
    struct vlapic_ipi ipi;
    struct hvm_intr n;
    u8 cb = 0, vec = 0;
    bool pending = false, tc;
    u32 ppr;
    int rc;

    vlapic_reset(&a, 0);
    for (size_t i = 0; i + 1 < size; i += 2) {
        u8 op = data[i], arg = data[i + 1];

        switch (op & 7) {
        case 0: /* HVMOP_set_evtchn_upcall_vector for vCPU op >> 6 of 2 */
            rc = hvm_upcall_vector_check(op >> 6, arg, 2);
            if (rc != (arg < 0x10 ? -XEN_EINVAL : (op >> 6) >= 2 ? -XEN_ENOENT : 0))
                abort();
            if (!rc) {
                vec = arg;
                raise_checked(&a, vec);
            }
            break;
        case 1: /* an event: the upcall goes pending */
            if (!pending && vec)
                raise_checked(&a, vec);
            pending = true;
            break;
        case 2:
            pending = false;
            break;
        case 3: /* SPIV */
            vlapic_write(&a, VLAPIC_SPIV, arg & 1 ? 0x1ff : 0xff, 0, &ipi, &tc);
            if ((arg & 1) && pending)
                raise_checked(&a, vec);
            break;
        case 4:
            vlapic_write(&a, VLAPIC_TASKPRI, arg, 0, &ipi, &tc);
            break;
        case 5: /* the run loop delivers */
            n = hvm_intr_select(cb, pending, cb && pending ? -1 : vlapic_pending(&a));
            if (n.source == HVM_INTR_CALLBACK && !(cb && pending && n.vector == cb))
                abort();
            if (n.source == HVM_INTR_LAPIC) {
                vlapic_read(&a, VLAPIC_PROCPRI, 0, &ppr);
                if (n.vector < 16 || !vlapic_irr_test(&a, n.vector) ||
                    (n.vector & 0xf0) <= (ppr & 0xf0) || !vlapic_enabled(&a))
                    abort();
                vlapic_ack(&a, n.vector);
            }
            break;
        case 6:
            vlapic_write(&a, VLAPIC_EOI, 0, 0, &ipi, &tc);
            break;
        default: { /* HVM_PARAM_CALLBACK_IRQ: type from op, vector arg */
            u8 v = cb;
            if (hvm_param_callback_vector(((u64)(op >> 3) << 56) | arg, &v)) {
                if ((op >> 3) != HVM_PARAM_CALLBACK_TYPE_VECTOR)
                    abort();
                cb = v;
                raise_checked(&a, vec);
            } else if (v != cb) {
                abort();
            }
            break;
        }
        }
        if (a.irr[0] & 0xffff)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    if (!size)
        return 0;
    if ((data[0] & 7) == 4) {
        fuzz_upcall(data + 1, size - 1);
        return 0;
    }
    switch (data[0] & 3) {
    case 0:
        fuzz_context(data + 1, size - 1);
        break;
    case 1:
        fuzz_walk(data + 1, size - 1);
        break;
    case 2:
        fuzz_mmio(data + 1, size - 1);
        break;
    default:
        fuzz_exit(data + 1, size - 1);
        break;
    }
    return 0;
}
