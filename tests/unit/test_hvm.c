/*
 * The host-testable parts of the HVM core: the guest page-table walk in
 * every paging mode (permissions, large pages, A/D updates, faults), SVM
 * exit decoding, MMIO instruction classification and completion, HVM
 * parameter rules, and the HVM context records (Xen's checks, round trip).
 */
#include <asm/hvm.h>
#include <asm/svm.h>
#include <keel/guest_walk.h>
#include <keel/hvm_context.h>
#include <keel/hvm_mmio.h>
#include <keel/hvm_param.h>
#include <keel/hvm_upcall.h>
#include <xen/errno.h>
#define __XEN_TOOLS__ 1
#include <xen/hvm/params.h>
#include <xen/hvm/save.h>

#include "harness.h"

/* ------------------------------------------------------- guest memory */

#define MEM_SIZE (64 * 4096)
static u8 mem[MEM_SIZE];

static bool t_read(void *ctx, u64 gpa, unsigned int size, u64 *val)
{
    (void)ctx;
    if (gpa + size > MEM_SIZE)
        return false;
    *val = 0;
    memcpy(val, mem + gpa, size);
    return true;
}

static void t_set_bits(void *ctx, u64 gpa, unsigned int size, u64 bits)
{
    u64 v = 0;
    (void)ctx;
    memcpy(&v, mem + gpa, size);
    v |= bits;
    memcpy(mem + gpa, &v, size);
}

static const struct gw_ops ops = {t_read, t_set_bits};

static void put64(u64 gpa, u64 v) { memcpy(mem + gpa, &v, 8); }
static u64 get64(u64 gpa) { u64 v; memcpy(&v, mem + gpa, 8); return v; }
static void put32(u64 gpa, u32 v) { memcpy(mem + gpa, &v, 4); }

#define CR0_PG (1ULL << 31)
#define CR0_WP (1ULL << 16)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

TEST(walk_no_paging)
{
    struct gw_regs r = {0x11, 0, 0, 0};
    u64 gpa;
    u32 pfec;

    CHECK_EQ(guest_walk(&r, 0x123456789ULL, 0, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(gpa, 0x23456789ULL); /* 32-bit physical */
}

/* L4 at 0x1000, L3 at 0x2000, L2 at 0x3000, L1 at 0x4000. */
static void long_tables(void)
{
    memset(mem, 0, sizeof(mem));
    put64(0x1000, 0x2000 | 0x7);
    put64(0x2000, 0x3000 | 0x7);
    put64(0x3000, 0x4000 | 0x7);
    put64(0x4000 + 5 * 8, 0x9000 | 0x7);            /* va 0x5000: user rw */
    put64(0x4000 + 6 * 8, 0xa000 | 0x1);            /* va 0x6000: supervisor ro */
    put64(0x4000 + 7 * 8, 0xb000 | 0x7 | (1ULL << 63)); /* NX */
    put64(0x3000 + 1 * 8, 0x200000 | 0x83);         /* va 2 MiB: a 2 MiB page */
}

TEST(walk_long_mode)
{
    struct gw_regs r = {CR0_PG | CR0_WP | 1, 0x1000, CR4_PAE, EFER_LMA | EFER_NXE};
    u64 gpa;
    u32 pfec;

    long_tables();
    CHECK_EQ(guest_walk(&r, 0x5123, PFEC_WRITE, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(gpa, 0x9123);
    CHECK(get64(0x4000 + 5 * 8) & 0x60); /* accessed and dirty */
    CHECK(get64(0x1000) & 0x20);
    /* Supervisor read-only: a user read faults, a kernel write with WP too. */
    CHECK_EQ(guest_walk(&r, 0x6000, PFEC_USER, &ops, NULL, &gpa, &pfec), GW_FAULT);
    CHECK_EQ(pfec, PFEC_PRESENT | PFEC_USER);
    CHECK_EQ(guest_walk(&r, 0x6000, PFEC_WRITE, &ops, NULL, &gpa, &pfec), GW_FAULT);
    CHECK_EQ(pfec, PFEC_PRESENT | PFEC_WRITE);
    r.cr0 &= ~CR0_WP; /* without WP the kernel may write */
    CHECK_EQ(guest_walk(&r, 0x6000, PFEC_WRITE, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(guest_walk(&r, 0x7000, PFEC_FETCH, &ops, NULL, &gpa, &pfec), GW_FAULT);
    CHECK_EQ(guest_walk(&r, 0x8000, 0, &ops, NULL, &gpa, &pfec), GW_FAULT);
    CHECK_EQ(pfec, 0); /* not present */
    CHECK_EQ(guest_walk(&r, 0x212345, 0, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(gpa, 0x212345);
    /* Not canonical. */
    CHECK_EQ(guest_walk(&r, 0x0000800000000000ULL, 0, &ops, NULL, &gpa, &pfec), GW_FAULT);
    /* A table outside RAM. */
    put64(0x1000 + 8, 0x7fff000 | 7);
    CHECK_EQ(guest_walk(&r, 1ULL << 39, 0, &ops, NULL, &gpa, &pfec), GW_BAD_TABLE);
}

TEST(walk_pae_and_32bit)
{
    struct gw_regs pae = {CR0_PG | 1, 0x1020, CR4_PAE, 0};
    struct gw_regs two = {CR0_PG | 1, 0x1000, CR4_PSE, 0};
    u64 gpa;
    u32 pfec;

    memset(mem, 0, sizeof(mem));
    /* PAE: PDPT at 0x1020 (32-byte aligned), PD at 0x2000, PT at 0x3000. */
    put64(0x1020 + 8, 0x2000 | 1);                  /* va 1 GiB.. */
    put64(0x2000, 0x3000 | 7);
    put64(0x3000 + 8, 0x5000 | 7);
    CHECK_EQ(guest_walk(&pae, 0x40001abc, 0, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(gpa, 0x5abc);
    /* 32-bit with a 4 MiB page (PSE-36 bits 13-20 give address bits 32-39). */
    memset(mem, 0, sizeof(mem));
    put32(0x1000 + 1 * 4, 0x00400000 | 0x87 | (1U << 13));
    CHECK_EQ(guest_walk(&two, 0x00412345, 0, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(gpa, 0x100412345ULL);
    put32(0x1000 + 2 * 4, 0x3000 | 7);
    put32(0x3000 + 3 * 4, 0x6000 | 7);
    CHECK_EQ(guest_walk(&two, 0x00803010, 0, &ops, NULL, &gpa, &pfec), GW_OK);
    CHECK_EQ(gpa, 0x6010);
}

/* ------------------------------------------------------- exit decoding */

TEST(svm_exit_decoding)
{
    struct hvm_exit x;

    svm_decode_exit(SVM_EXIT_CPUID, 0, 0, 0x1234, &x);
    CHECK_EQ(x.reason, HVM_EXIT_CPUID);
    CHECK_EQ(x.next_rip, 0x1234);
    svm_decode_exit(SVM_EXIT_MSR, 1, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_MSR_WRITE);
    svm_decode_exit(SVM_EXIT_MSR, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_MSR_READ);
    /* in %dx, %eax: port 0xcf8, 32 bits; the CPU's next rip in info2. */
    svm_decode_exit(SVM_EXIT_IOIO, (0xcf8ULL << 16) | SVM_IOIO_IN | SVM_IOIO_SZ32, 0x55, 0,
                    &x);
    CHECK_EQ(x.reason, HVM_EXIT_IO);
    CHECK_EQ(x.info1, 0xcf8);
    CHECK_EQ(x.info2, 4 | HVM_IO_IN);
    CHECK_EQ(x.next_rip, 0x55);
    svm_decode_exit(SVM_EXIT_IOIO, (0x80ULL << 16) | SVM_IOIO_STR | SVM_IOIO_REP |
                    SVM_IOIO_SZ8, 0, 0, &x);
    CHECK_EQ(x.info2, 1 | HVM_IO_STRING | HVM_IO_REP);
    svm_decode_exit(SVM_EXIT_NPF, 0x100000007ULL, 0xfee00000, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_NPF);
    CHECK_EQ(x.info1, 7);
    CHECK_EQ(x.info2, 0xfee00000);
    svm_decode_exit(SVM_EXIT_VMRUN, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_UD);
    svm_decode_exit(SVM_EXIT_XSETBV, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_UD);
    svm_decode_exit(SVM_EXIT_RDPMC, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_GP);
    svm_decode_exit(SVM_EXIT_IRET, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_NONE); /* the end of an NMI: svm.c reopens NMIs */
    svm_decode_exit(SVM_EXIT_SHUTDOWN, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_SHUTDOWN);
    svm_decode_exit(SVM_EXIT_INVALID, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_INVALID);
    svm_decode_exit(0x1234, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_UNHANDLED);
    svm_decode_exit(SVM_EXIT_EXCP_BASE + 14, 0, 0, 0, &x);
    CHECK_EQ(x.reason, HVM_EXIT_UNHANDLED); /* never intercepted: refuse */
}

/* -------------------------------------------------------------- MMIO */

static struct mmio_access classify(const u8 *b, unsigned int n, const u64 *g, int *rc)
{
    struct x86_insn in;
    struct mmio_access a = {0};

    *rc = x86_decode(b, n, &in);
    if (!*rc)
        *rc = mmio_classify(&in, g, &a);
    return a;
}

TEST(mmio_moves)
{
    u64 g[16] = {0x1111111111111111ULL, 0x2222, 0x3344, 0x4455};
    int rc;
    struct mmio_access a;
    static const u8 mov_load[] = {0x8b, 0x07};            /* mov (%rdi), %eax */
    static const u8 mov_store64[] = {0x48, 0x89, 0x0f};   /* mov %rcx, (%rdi) */
    static const u8 mov_ah[] = {0x8a, 0x27};              /* mov (%rdi), %ah */
    static const u8 mov_imm[] = {0xc7, 0x07, 0x78, 0x56, 0x34, 0x12}; /* movl $, (%rdi) */
    static const u8 movzx[] = {0x0f, 0xb6, 0x07};         /* movzbl (%rdi), %eax */
    static const u8 add[] = {0x01, 0x07};                 /* add %eax, (%rdi) */
    static const u8 lock_mov[] = {0xf0, 0x89, 0x07};
    static const u8 reg_form[] = {0x89, 0xc8};            /* mov %ecx, %eax */
    static const u8 moffs_load[] = {0xa1, 0x90, 0x03, 0xe0, 0xfe, 0, 0, 0, 0};
    static const u8 moffs_store[] = {0x48, 0xa3, 0x90, 0x03, 0xe0, 0xfe, 0, 0, 0, 0};

    a = classify(mov_load, sizeof(mov_load), g, &rc);
    CHECK_EQ(rc, 0);
    CHECK(!a.write && a.size == 4 && a.reg == 0);
    mmio_finish_read(&a, g, ~0ULL);
    CHECK_EQ(g[0], 0xffffffffULL); /* 32-bit loads zero the upper half */
    a = classify(mov_store64, sizeof(mov_store64), g, &rc);
    CHECK(rc == 0 && a.write && a.size == 8 && a.value == 0x2222);
    a = classify(mov_ah, sizeof(mov_ah), g, &rc);
    CHECK(rc == 0 && a.high_byte && a.reg == 0);
    g[0] = 0x1234;
    mmio_finish_read(&a, g, 0xab);
    CHECK_EQ(g[0], 0xab34);
    a = classify(mov_imm, sizeof(mov_imm), g, &rc);
    CHECK(rc == 0 && a.write && a.value == 0x12345678 && a.size == 4);
    a = classify(movzx, sizeof(movzx), g, &rc);
    CHECK(rc == 0 && a.size == 1 && a.dst_size == 4);
    g[0] = ~0ULL;
    mmio_finish_read(&a, g, 0x1ff);
    CHECK_EQ(g[0], 0xff);
    classify(add, sizeof(add), g, &rc);
    CHECK_EQ(rc, -1);
    classify(lock_mov, sizeof(lock_mov), g, &rc);
    CHECK_EQ(rc, -1);
    classify(reg_form, sizeof(reg_form), g, &rc);
    CHECK_EQ(rc, -1);
    a = classify(moffs_load, sizeof(moffs_load), g, &rc);
    CHECK(rc == 0 && !a.write && a.size == 4 && a.reg == 0);
    g[0] = 0x77;
    a = classify(moffs_store, sizeof(moffs_store), g, &rc);
    CHECK(rc == 0 && a.write && a.size == 8 && a.value == 0x77);
}

/* ------------------------------------------------------------- params */

TEST(param_rules)
{
    CHECK_EQ(hvm_param_check_set(true, HVM_PARAM_CALLBACK_IRQ, 0, (2ULL << 56) | 0xf3), 0);
    CHECK_EQ(hvm_param_check_set(true, HVM_PARAM_STORE_PFN, 0, 5), -XEN_EPERM);
    CHECK_EQ(hvm_param_check_set(false, HVM_PARAM_STORE_PFN, 0, 5), 0);
    CHECK_EQ(hvm_param_check_get(true, HVM_PARAM_STORE_PFN), 0);
    CHECK_EQ(hvm_param_check_get(true, HVM_PARAM_IOREQ_PFN), -XEN_EPERM);
    CHECK_EQ(hvm_param_check_get(false, HVM_NR_PARAMS), -XEN_EINVAL);
    CHECK_EQ(hvm_param_check_set(false, HVM_PARAM_TIMER_MODE, 0, 4), -XEN_EINVAL);
    CHECK_EQ(hvm_param_check_set(false, HVM_PARAM_IOREQ_SERVER_PFN, 7, 8), -XEN_EEXIST);
    CHECK_EQ(hvm_param_check_set(false, HVM_PARAM_IOREQ_SERVER_PFN, 7, 7), 0);
    CHECK_EQ(hvm_param_check_set(false, HVM_PARAM_BUFIOREQ_EVTCHN, 0, 1), -XEN_EINVAL);
}

TEST(param_callback_types)
{
    u8 vec = 0x77;

    CHECK(hvm_param_callback_vector((2ULL << 56) | 0xf3, &vec) && vec == 0xf3);
    /* A GSI (Linux's "1" beside per-vCPU vectors), a PCI INTx, an unknown
     * type, none: a PVH domain's callback is left as it was. */
    vec = 0x77;
    CHECK(!hvm_param_callback_vector(1, &vec) && vec == 0x77);
    CHECK(!hvm_param_callback_vector(1ULL << 56, &vec) && vec == 0x77);
    CHECK(!hvm_param_callback_vector(3ULL << 56, &vec) && vec == 0x77);
    CHECK(!hvm_param_callback_vector(0, &vec) && vec == 0x77);
}

/* ---------------------------------------------------------- upcalls */

TEST(upcall_vector_checks)
{
    /* Xen's order: the vector first, then the vCPU. */
    CHECK_EQ(hvm_upcall_vector_check(0, 0xf3, 2), 0);
    CHECK_EQ(hvm_upcall_vector_check(1, 0x10, 2), 0);
    CHECK_EQ(hvm_upcall_vector_check(0, 0x0f, 2), -XEN_EINVAL);
    CHECK_EQ(hvm_upcall_vector_check(0, 0, 2), -XEN_EINVAL);
    CHECK_EQ(hvm_upcall_vector_check(2, 0xf3, 2), -XEN_ENOENT);
    CHECK_EQ(hvm_upcall_vector_check(~0U, 0xf3, 2), -XEN_ENOENT);
    CHECK_EQ(hvm_upcall_vector_check(5, 0x0f, 2), -XEN_EINVAL);
}

TEST(upcall_through_the_apic)
{
    struct vlapic a;
    struct vlapic_ipi ipi;
    bool tc;
    struct hvm_intr n;

    vlapic_reset(&a, 1);
    /* Software-disabled at reset: the raise is dropped. */
    CHECK(!hvm_upcall_raise(&a, 0xd3));
    CHECK(!vlapic_irr_test(&a, 0xd3));
    vlapic_write(&a, VLAPIC_SPIV, 0x1ff, 0, &ipi, &tc);
    CHECK(hvm_upcall_raise(&a, 0xd3));
    CHECK(!hvm_upcall_raise(&a, 0xd3)); /* already waiting: no second kick */
    CHECK(!hvm_upcall_raise(&a, 0));    /* no vector configured */
    n = hvm_intr_select(0, true, vlapic_pending(&a));
    CHECK(n.source == HVM_INTR_LAPIC && n.vector == 0xd3);
    vlapic_ack(&a, 0xd3);
    CHECK(vlapic_isr_test(&a, 0xd3) && !vlapic_irr_test(&a, 0xd3));
    /* In service: a new upcall waits for the EOI. */
    CHECK(hvm_upcall_raise(&a, 0xd3));
    CHECK_EQ(vlapic_pending(&a), -1);
    vlapic_write(&a, VLAPIC_EOI, 0, 0, &ipi, &tc);
    CHECK_EQ(vlapic_pending(&a), 0xd3);
    vlapic_ack(&a, 0xd3);
    vlapic_write(&a, VLAPIC_EOI, 0, 0, &ipi, &tc);
    /* TPR at or above its class holds it back. */
    vlapic_write(&a, VLAPIC_TASKPRI, 0xd0, 0, &ipi, &tc);
    CHECK(hvm_upcall_raise(&a, 0xd3));
    CHECK_EQ(vlapic_pending(&a), -1);
    n = hvm_intr_select(0, true, vlapic_pending(&a));
    CHECK(n.source == HVM_INTR_NONE);
    vlapic_write(&a, VLAPIC_TASKPRI, 0xc0, 0, &ipi, &tc);
    CHECK_EQ(vlapic_pending(&a), 0xd3);
}

TEST(upcall_callback_and_wakeups)
{
    struct hvm_intr n;

    /* The callback vector goes first while an upcall is pending, the
     * APIC's vector (the per-vCPU one included) after it. */
    n = hvm_intr_select(0xf3, true, 0xd3);
    CHECK(n.source == HVM_INTR_CALLBACK && n.vector == 0xf3);
    n = hvm_intr_select(0xf3, false, 0xd3);
    CHECK(n.source == HVM_INTR_LAPIC && n.vector == 0xd3);
    n = hvm_intr_select(0, true, -1);
    CHECK(n.source == HVM_INTR_NONE);
    /* Blocking: with a per-vCPU vector only, a pending upcall that is not
     * in the APIC (being handled, or never cleared) does not wake. */
    CHECK(!hvm_upcall_wakes(0, 0xd3, true, -1));
    CHECK(hvm_upcall_wakes(0, 0xd3, true, 0xd3));
    CHECK(hvm_upcall_wakes(0xf3, 0xd3, true, -1));
    CHECK(!hvm_upcall_wakes(0xf3, 0, false, -1));
    CHECK(hvm_upcall_wakes(0xf3, 0, true, -1));
    CHECK(hvm_upcall_wakes(0, 0, true, -1));   /* nothing set up: Keel's old rule */
    CHECK(!hvm_upcall_wakes(0, 0, false, -1));
}

/* ------------------------------------------------------------ context */

struct pvh_ctx {
    struct hvm_save_descriptor hd;
    struct hvm_save_header h;
    struct hvm_save_descriptor cd;
    struct hvm_hw_cpu c;
    struct hvm_save_descriptor ed;
} __attribute__((packed));

static void pvh_boot_ctx(struct pvh_ctx *x)
{
    memset(x, 0, sizeof(*x));
    x->hd = (struct hvm_save_descriptor){1, 0, sizeof(x->h)};
    x->h.magic = HVM_FILE_MAGIC;
    x->h.version = HVM_FILE_VERSION;
    x->cd = (struct hvm_save_descriptor){2, 0, sizeof(x->c)};
    x->c.cs_limit = x->c.ds_limit = x->c.ss_limit = ~0U;
    x->c.cs_arbytes = 0xc9b;
    x->c.ds_arbytes = x->c.ss_arbytes = 0xc93;
    x->c.tr_arbytes = 0x8b;
    x->c.tr_limit = 0x67;
    x->c.cr0 = 0x11;
    x->c.rip = 0x100000;
    x->c.rbx = 0x7e000;
    x->c.rflags = 2;
}

TEST(context_parse)
{
    struct pvh_ctx x;
    struct hvmctx_vcpu out[2];
    const char *why;

    pvh_boot_ctx(&x);
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), 0);
    CHECK(out[0].present && !out[1].present);
    CHECK_EQ(out[0].st.rip, 0x100000);
    CHECK_EQ(out[0].gpr[3], 0x7e000); /* rbx */
    CHECK_EQ(out[0].st.seg[HVM_SEG_CS].attr, 0xc9b); /* D and G set: 32-bit flat */
    CHECK_EQ(out[0].st.seg[HVM_SEG_CS].limit, ~0U);
    /* Xen's refusals. */
    x.c.cr0 = 0x80000011 & ~1U; /* PG without PE */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    x.c.cr0 = 0x01; /* no ET */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    pvh_boot_ctx(&x);
    x.c.msr_efer = 1ULL << 10; /* LMA without LME and PG */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    pvh_boot_ctx(&x);
    x.c.cr4 = 1ULL << 13; /* VMXE */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    pvh_boot_ctx(&x);
    x.cd.instance = 2; /* no such vCPU */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    pvh_boot_ctx(&x);
    x.cd.length = 8; /* short record */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    pvh_boot_ctx(&x);
    x.h.magic = 0;
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    pvh_boot_ctx(&x);
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x) - 1, 2, out, &why), -XEN_EINVAL); /* no END */
    x.cd.typecode = 3; /* a PIC: not Keel's */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
}

TEST(context_round_trip)
{
    struct pvh_ctx x;
    struct hvmctx_vcpu in[2], back[2];
    static u8 buf[8192];
    const char *why;
    size_t n;

    pvh_boot_ctx(&x);
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, in, &why), 0);
    in[1] = in[0];
    in[1].st.rip = 0x2000;
    CHECK(hvmctx_size(2) <= sizeof(buf));
    n = hvmctx_build(buf, 2, in, 0x663, 2600000);
    CHECK_EQ(n, hvmctx_size(2));
    CHECK_EQ(hvmctx_parse(buf, n, 2, back, &why), 0);
    CHECK(back[0].present && back[1].present);
    CHECK_EQ(back[1].st.rip, 0x2000);
    CHECK_EQ(back[0].st.seg[HVM_SEG_SS].attr, 0xc93);
    CHECK_EQ(back[0].gpr[3], 0x7e000);
}

/* -------------------------------------------------------------- vLAPIC */

#include <keel/vlapic.h>

TEST(vlapic_registers)
{
    struct vlapic a;
    struct vlapic_ipi ipi;
    bool tc;
    u32 v;

    vlapic_reset(&a, 1);
    CHECK(vlapic_read(&a, VLAPIC_ID, 0, &v) && v == 2U << 24);
    CHECK(vlapic_read(&a, VLAPIC_LVR, 0, &v) && (v & 0xff) == 0x14);
    CHECK(!vlapic_enabled(&a)); /* SVR software-disabled at reset */
    CHECK(vlapic_read(&a, VLAPIC_LVTT, 0, &v) && (v & VLAPIC_LVT_MASKED));
    CHECK(vlapic_write(&a, VLAPIC_SPIV, 0x1ff, 0, &ipi, &tc));
    CHECK(vlapic_enabled(&a));
    CHECK(!vlapic_read(&a, VLAPIC_EOI, 0, &v));          /* write-only */
    CHECK(!vlapic_write(&a, VLAPIC_PROCPRI, 1, 0, &ipi, &tc)); /* read-only */
    CHECK(!vlapic_read(&a, 0x3f0, 0, &v));             /* SELF_IPI: x2APIC only */
    CHECK(!vlapic_read(&a, VLAPIC_ID + 4, 0, &v));       /* misaligned */
    /* ICR: a fixed IPI to APIC id 4. */
    CHECK(vlapic_write(&a, VLAPIC_ICR2, 4U << 24, 0, &ipi, &tc) && !ipi.valid);
    CHECK(vlapic_write(&a, VLAPIC_ICR, 0x4031, 0, &ipi, &tc));
    CHECK(ipi.valid && ipi.vector == 0x31 && ipi.mode == VLAPIC_DM_FIXED && ipi.dest == 4);
    /* INIT and STARTUP. */
    CHECK(vlapic_write(&a, VLAPIC_ICR, 0x4500, 0, &ipi, &tc) && ipi.mode == VLAPIC_DM_INIT);
    CHECK(vlapic_write(&a, VLAPIC_ICR, 0x4609, 0, &ipi, &tc) && ipi.mode == VLAPIC_DM_STARTUP &&
          ipi.vector == 9);
}

TEST(vlapic_priorities_and_eoi)
{
    struct vlapic a;
    struct vlapic_ipi ipi;
    bool tc;
    u32 v;

    vlapic_reset(&a, 0);
    vlapic_write(&a, VLAPIC_SPIV, 0x1ff, 0, &ipi, &tc);
    CHECK_EQ(vlapic_pending(&a), -1);
    vlapic_set_irq(&a, 0x31);
    vlapic_set_irq(&a, 0x61);
    CHECK_EQ(vlapic_pending(&a), 0x61);
    vlapic_ack(&a, 0x61);
    /* 0x31 waits: its class is below the one in service. */
    CHECK_EQ(vlapic_pending(&a), -1);
    CHECK(vlapic_read(&a, VLAPIC_PROCPRI, 0, &v) && v == 0x60);
    vlapic_write(&a, VLAPIC_EOI, 0, 0, &ipi, &tc);
    CHECK_EQ(vlapic_pending(&a), 0x31);
    /* TPR holds it back. */
    vlapic_write(&a, VLAPIC_TASKPRI, 0x40, 0, &ipi, &tc);
    CHECK_EQ(vlapic_pending(&a), -1);
    vlapic_write(&a, VLAPIC_TASKPRI, 0, 0, &ipi, &tc);
    CHECK_EQ(vlapic_pending(&a), 0x31);
    /* Vectors below 16 are illegal: an error, not an interrupt. */
    vlapic_set_irq(&a, 3);
    CHECK(vlapic_read(&a, VLAPIC_ESR, 0, &v) && (v & (1U << 6)));
}

TEST(vlapic_timer)
{
    struct vlapic a;
    struct vlapic_ipi ipi;
    bool tc;
    u32 v;

    vlapic_reset(&a, 0);
    vlapic_write(&a, VLAPIC_SPIV, 0x1ff, 0, &ipi, &tc);
    vlapic_write(&a, VLAPIC_TDCR, 0xb, 0, &ipi, &tc); /* divide by 1 */
    vlapic_write(&a, VLAPIC_LVTT, 0x40, 0, &ipi, &tc);
    CHECK(tc);
    vlapic_write(&a, VLAPIC_TMICT, 1000, 5000, &ipi, &tc);
    CHECK(tc);
    CHECK_EQ(vlapic_timer_deadline(&a), 6000);
    CHECK(vlapic_read(&a, VLAPIC_TMCCT, 5400, &v) && v == 600);
    vlapic_timer_fire(&a, 6000);
    CHECK_EQ(vlapic_pending(&a), 0x40);
    CHECK_EQ(vlapic_timer_deadline(&a), 0); /* one-shot: done */
    CHECK(vlapic_read(&a, VLAPIC_TMCCT, 7000, &v) && v == 0);
    /* Periodic, divide by 2. */
    vlapic_write(&a, VLAPIC_TDCR, 0, 0, &ipi, &tc);
    vlapic_write(&a, VLAPIC_LVTT, 0x41 | VLAPIC_TIMER_PERIODIC, 0, &ipi, &tc);
    vlapic_write(&a, VLAPIC_TMICT, 100, 10000, &ipi, &tc);
    CHECK_EQ(vlapic_timer_deadline(&a), 10200);
    vlapic_timer_fire(&a, 10200);
    CHECK_EQ(vlapic_timer_deadline(&a), 10400);
    /* Masked: fires without an interrupt. */
    vlapic_ack(&a, 0x41);
    vlapic_write(&a, VLAPIC_EOI, 0, 0, &ipi, &tc);
    vlapic_write(&a, VLAPIC_LVTT, 0x41 | VLAPIC_TIMER_PERIODIC | VLAPIC_LVT_MASKED, 0, &ipi, &tc);
    vlapic_timer_fire(&a, 10400);
    CHECK(vlapic_read(&a, VLAPIC_IRR + 0x20, 0, &v) && !(v & 2));
}

TEST(vlapic_x2apic_mode)
{
    struct vlapic a;
    struct vlapic_ipi ipi;
    bool tc;
    u32 v;

    vlapic_reset(&a, 3);
    CHECK(!vlapic_set_base(&a, VLAPIC_BASE_DEFAULT | VLAPIC_BASE_EXTD)); /* x2 without enable */
    CHECK(!vlapic_set_base(&a, 0xfec00000ULL | VLAPIC_BASE_ENABLE));     /* moving it */
    CHECK(vlapic_set_base(&a, VLAPIC_BASE_DEFAULT | VLAPIC_BASE_ENABLE | VLAPIC_BASE_EXTD));
    CHECK(vlapic_x2apic(&a));
    CHECK(vlapic_read(&a, VLAPIC_ID, 0, &v) && v == 6);
    CHECK(vlapic_read(&a, VLAPIC_LDR, 0, &v) && v == (1U << 6));
    CHECK(!vlapic_read(&a, VLAPIC_DFR, 0, &v));
    CHECK(!vlapic_write(&a, VLAPIC_EOI, 1, 0, &ipi, &tc)); /* non-zero EOI: #GP */
    CHECK(vlapic_write_icr64(&a, (6ULL << 32) | 0x4050, &ipi));
    CHECK(ipi.valid && ipi.dest == 6 && ipi.vector == 0x50);
    CHECK(vlapic_match_dest(&a, &ipi, true));
    CHECK(!vlapic_write_icr64(&a, 1ULL << 13, &ipi)); /* reserved */
    /* Back to xAPIC directly: refused. */
    CHECK(!vlapic_set_base(&a, VLAPIC_BASE_DEFAULT | VLAPIC_BASE_ENABLE));
    CHECK(vlapic_set_base(&a, VLAPIC_BASE_DEFAULT));
    CHECK(vlapic_set_base(&a, VLAPIC_BASE_DEFAULT | VLAPIC_BASE_ENABLE));
}

TEST(vlapic_destinations)
{
    struct vlapic a;
    struct vlapic_ipi ipi = {.valid = true, .shorthand = VLAPIC_SH_NONE};
    struct vlapic_ipi sh;
    bool tc;

    vlapic_reset(&a, 1); /* id 2 */
    ipi.dest = 2;
    CHECK(vlapic_match_dest(&a, &ipi, false));
    ipi.dest = 0xff;
    CHECK(vlapic_match_dest(&a, &ipi, false)); /* broadcast */
    ipi.dest = 4;
    CHECK(!vlapic_match_dest(&a, &ipi, false));
    vlapic_write(&a, VLAPIC_LDR, 0x02000000, 0, &sh, &tc);
    ipi.logical = true;
    ipi.dest = 0x03;
    CHECK(vlapic_match_dest(&a, &ipi, false));
    ipi.dest = 0x04;
    CHECK(!vlapic_match_dest(&a, &ipi, false));
    sh = (struct vlapic_ipi){.valid = true, .shorthand = VLAPIC_SH_OTHERS};
    CHECK(!vlapic_match_dest(&a, &sh, true));
    CHECK(vlapic_match_dest(&a, &sh, false));
}

TEST(context_mtrr_records)
{
    static u8 buf[8192];
    struct hvmctx_vcpu in[2], out[2];
    struct {
        struct hvm_save_descriptor hd;
        struct hvm_save_header h;
        struct hvm_save_descriptor md;
        struct hvm_hw_mtrr m;
        struct hvm_save_descriptor ed;
    } __attribute__((packed)) x;
    const char *why;
    size_t n;

    memset(in, 0, sizeof(in));
    in[0].st.pat = in[1].st.pat = 0x0007040600070406ULL;
    n = hvmctx_build(buf, 2, in, 0x663, 1000);
    /* What libxenguest does: MTRR instance 0 from Xen's context, the
     * default type set to write-back and enabled, back for each vCPU. */
    memset(&x, 0, sizeof(x));
    memcpy(&x, buf, sizeof(x.hd) + sizeof(x.h));
    CHECK_EQ(x.hd.typecode, 1);
    x.md = (struct hvm_save_descriptor){14, 1, sizeof(x.m)};
    x.m.msr_pat_cr = 0x0007040600070406ULL;
    x.m.msr_mtrr_def_type = 0x806;
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), 0);
    CHECK(!out[0].present && !out[1].present && out[1].mtrr_present && !out[0].mtrr_present);
    CHECK_EQ(out[1].mtrr_def_type, 0x806);
    x.m.msr_pat_cr = 0x0002; /* type 2 does not exist */
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    x.m.msr_pat_cr = 0x0007040600070406ULL;
    x.m.msr_mtrr_def_type = 0x1006;
    CHECK_EQ(hvmctx_parse((u8 *)&x, sizeof(x), 2, out, &why), -XEN_EINVAL);
    (void)n;
}

/* External interrupts go by V_IRQ (svm.c says why): the VINTR word. */
TEST(svm_virq_fields)
{
    u64 tpr_and_masking = 0x5 | SVM_VINTR_MASKING;
    u64 v = svm_vintr_set_virq(tpr_and_masking, 0xf3);

    CHECK(v & SVM_VINTR_V_IRQ);
    CHECK(v & SVM_VINTR_IGN_TPR);
    CHECK_EQ((v >> SVM_VINTR_PRIO_SHIFT) & 0xf, 0xf);
    CHECK_EQ((v >> SVM_VINTR_VECTOR_SHIFT) & 0xff, 0xf3);
    CHECK_EQ(v & (0xf | SVM_VINTR_MASKING), tpr_and_masking); /* left alone */
    CHECK_EQ((svm_vintr_set_virq(v, 0x20) >> SVM_VINTR_VECTOR_SHIFT) & 0xff, 0x20);
    CHECK_EQ(svm_vintr_clear_virq(v), tpr_and_masking);
}

TEST(svm_exitintinfo_redelivery)
{
    u64 intr = SVM_EVT_VALID | SVM_EVT_TYPE_INTR | 0x30;
    u64 qemu_irq = SVM_EVT_VALID | SVM_EVT_TYPE_EXCEPTION | 0xf3; /* QEMU's record */
    u64 pf = SVM_EVT_VALID | SVM_EVT_TYPE_EXCEPTION | SVM_EVT_EV | 14 | (2ULL << 32);
    u64 nmi = SVM_EVT_VALID | SVM_EVT_TYPE_NMI | 2;
    u64 soft = SVM_EVT_VALID | SVM_EVT_TYPE_SOFT | 0x80;

    CHECK(svm_exitint_is_irq(intr));
    CHECK(svm_exitint_is_irq(qemu_irq));
    CHECK(!svm_exitint_is_irq(pf));
    CHECK(!svm_exitint_is_irq(nmi));
    CHECK(!svm_exitint_is_irq(soft));
    CHECK_EQ(svm_exitint_redeliver(0, false), SVM_REDELIVER_NONE);
    CHECK_EQ(svm_exitint_redeliver(intr & ~SVM_EVT_VALID, false), SVM_REDELIVER_NONE);
    CHECK_EQ(svm_exitint_redeliver(intr, false), SVM_REDELIVER_VIRQ);
    CHECK_EQ(svm_exitint_redeliver(qemu_irq, false), SVM_REDELIVER_VIRQ);
    /* Already waiting in V_IRQ: delivered once, from there. */
    CHECK_EQ(svm_exitint_redeliver(qemu_irq, true), SVM_REDELIVER_NONE);
    CHECK_EQ(svm_exitint_redeliver(pf, true), SVM_REDELIVER_EVENTINJ);
    CHECK_EQ(svm_exitint_redeliver(nmi, false), SVM_REDELIVER_EVENTINJ);
    CHECK_EQ(svm_exitint_redeliver(soft, false), SVM_REDELIVER_EVENTINJ);
}

TEST(svm_interrupt_window)
{
    CHECK(svm_can_take_irq(X86_EFLAGS_IF, 0, 0));
    CHECK(!svm_can_take_irq(0, 0, 0));
    CHECK(!svm_can_take_irq(X86_EFLAGS_IF, 1, 0)); /* STI / MOV SS shadow */
    CHECK(!svm_can_take_irq(X86_EFLAGS_IF, 0, SVM_EVT_VALID | 14)); /* an exception first */
    CHECK(svm_can_take_irq(X86_EFLAGS_IF, 2, 0)); /* bit 1 is GUEST_INTERRUPT_MASK */
}
