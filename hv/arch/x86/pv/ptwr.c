/*
 * Writable page tables (VMASST_TYPE_writable_pagetables): a 64-bit PV
 * kernel updates L1 entries of its pinned tables with ordinary stores,
 * which fault because those pages are mapped read-only.  Keel decodes the
 * faulting instruction, validates the resulting entry exactly as
 * mmu_update would, performs it atomically and steps over the instruction.
 * Only the store forms Linux uses are understood (mov, xchg, cmpxchg,
 * or/and, bts/btr, any operand size); anything else, or an entry that does
 * not validate, is bounced to the guest as the #PF it was.
 */
#include <asm/page.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/sched.h>
#include <keel/x86_decode.h>

#define FL_CF (1UL << 0)
#define FL_PF (1UL << 2)
#define FL_ZF (1UL << 6)
#define FL_SF (1UL << 7)
#define FL_OF (1UL << 11)
#define ARITH_FLAGS (FL_CF | FL_PF | FL_ZF | FL_SF | FL_OF | (1UL << 4) /* AF */)

enum op { OP_MOV, OP_XCHG, OP_CMPXCHG, OP_OR, OP_AND, OP_BTS, OP_BTR };

struct insn {
    enum op op;
    unsigned int size;  /* operand bytes: 1, 2, 4, 8 */
    unsigned int len;   /* instruction bytes */
    bool src_is_reg;
    unsigned int reg;   /* ModRM reg (with REX.R) */
    u64 imm;
};

/* ------------------------------------------------------------- decoding */

/* The group-1 (/1 or, /4 and) and group-8 (/5 bts, /6 btr) selectors. */
static bool group_op(unsigned int sel, bool bit_group, enum op *op)
{
    if (bit_group && (sel & 7) == 5)
        *op = OP_BTS;
    else if (bit_group && (sel & 7) == 6)
        *op = OP_BTR;
    else if (!bit_group && (sel & 7) == 1)
        *op = OP_OR;
    else if (!bit_group && (sel & 7) == 4)
        *op = OP_AND;
    else
        return false;
    return true;
}

/* Which store the decoded instruction is, if it is one we emulate: a
 * memory destination (its address is CR2) and a register or immediate
 * source. */
static bool classify(const struct x86_insn *x, struct insn *in)
{
    unsigned int op = x->opcode;
    bool byte_op;

    if (!x86_modrm_is_mem(x))
        return false;
    in->src_is_reg = true;
    switch (op) {
    case 0x88: case 0x89: in->op = OP_MOV; break;
    case 0x86: case 0x87: in->op = OP_XCHG; break;
    case 0x08: case 0x09: in->op = OP_OR; break;
    case 0x20: case 0x21: in->op = OP_AND; break;
    case X86_MAP_0F | 0xb0: case X86_MAP_0F | 0xb1: in->op = OP_CMPXCHG; break;
    case X86_MAP_0F | 0xab: in->op = OP_BTS; break;
    case X86_MAP_0F | 0xb3: in->op = OP_BTR; break;
    case 0xc6: case 0xc7:
        if ((x->reg & 7) != 0)
            return false;
        in->op = OP_MOV;
        in->src_is_reg = false;
        break;
    case 0x80: case 0x81: case 0x83: case X86_MAP_0F | 0xba:
        if (!group_op(x->reg, op == (X86_MAP_0F | 0xba), &in->op))
            return false;
        in->src_is_reg = false;
        break;
    default:
        return false;
    }
    byte_op = op == 0x88 || op == 0x86 || op == 0x08 || op == 0x20 ||
              op == (X86_MAP_0F | 0xb0) || op == 0xc6 || op == 0x80;
    in->size = byte_op ? 1 : x->opsize;
    in->reg = x->reg;
    /* Immediates are sign-extended to the operand size; bt's bit offset
     * is an unsigned byte. */
    in->imm = op == (X86_MAP_0F | 0xba) ? x->imm : x86_imm_sext(x);
    in->len = x->len;
    return true;
}

/* --------------------------------------------------------- registers */

static u64 *gpr(struct regs *r, unsigned int i)
{
    static const u8 off[16] = {
        offsetof(struct regs, rax), offsetof(struct regs, rcx), offsetof(struct regs, rdx),
        offsetof(struct regs, rbx), offsetof(struct regs, rsp), offsetof(struct regs, rbp),
        offsetof(struct regs, rsi), offsetof(struct regs, rdi), offsetof(struct regs, r8),
        offsetof(struct regs, r9),  offsetof(struct regs, r10), offsetof(struct regs, r11),
        offsetof(struct regs, r12), offsetof(struct regs, r13), offsetof(struct regs, r14),
        offsetof(struct regs, r15)};
    return (u64 *)((char *)r + off[i & 15]);
}

static u64 size_mask(unsigned int size)
{
    return size == 8 ? ~0UL : (1UL << (size * 8)) - 1;
}

/* Writes a register result with the CPU's rules: 32-bit results clear the
 * upper half, 8/16-bit ones keep it. */
static void set_gpr(struct regs *r, unsigned int i, unsigned int size, u64 v)
{
    u64 *p = gpr(r, i);

    if (size >= 4)
        *p = v & size_mask(size);
    else
        *p = (*p & ~size_mask(size)) | (v & size_mask(size));
}

static bool parity_even(u64 v)
{
    unsigned int bits = 0;

    for (unsigned int i = 0; i < 8; i++)
        bits += (v >> i) & 1;
    return !(bits & 1);
}

static void logic_flags(struct regs *r, u64 res, unsigned int size)
{
    r->rflags &= ~ARITH_FLAGS;
    if (!(res & size_mask(size)))
        r->rflags |= FL_ZF;
    if ((res >> (size * 8 - 1)) & 1)
        r->rflags |= FL_SF;
    if (parity_even(res))
        r->rflags |= FL_PF;
}

/* cmpxchg compares like `cmp mem, acc` (acc - mem). */
static void cmp_flags(struct regs *r, u64 a, u64 b, unsigned int size)
{
    u64 m = size_mask(size), res = (a - b) & m;
    unsigned int top = size * 8 - 1;

    logic_flags(r, res, size);
    if ((a & m) < (b & m))
        r->rflags |= FL_CF;
    if ((((a ^ b) & (a ^ res)) >> top) & 1)
        r->rflags |= FL_OF;
}

/* ------------------------------------------------------------ emulation */

/*
 * Apply `in` to the L1 slot at `slot` (entry `index`), `off` bytes into it.
 * Returns false if the result does not validate (nothing changed).
 */
static bool apply(struct regs *r, const struct insn *in, struct domain *d, u64 *slot,
                  unsigned int index, unsigned int off)
{
    u64 m = size_mask(in->size), src = in->src_is_reg ? *gpr(r, in->reg) & m : in->imm & m;
    unsigned int shift = off * 8;

    for (;;) {
        u64 old = READ_ONCE(*slot), cur = (old >> shift) & m, part;
        int rc;

        switch (in->op) {
        case OP_MOV: case OP_XCHG: part = src; break;
        case OP_CMPXCHG:
            cmp_flags(r, *gpr(r, 0), cur, in->size);
            if ((*gpr(r, 0) & m) != cur) {
                set_gpr(r, 0, in->size, cur);
                return true;
            }
            part = src;
            break;
        case OP_OR: part = cur | src; break;
        case OP_AND: part = cur & src; break;
        case OP_BTS: case OP_BTR: {
            u64 bit = src & (in->size * 8 - 1);
            if (in->src_is_reg && src >= in->size * 8)
                return false; /* bit strings reaching past the operand */
            part = in->op == OP_BTS ? cur | (1UL << bit) : cur & ~(1UL << bit);
            break;
        }
        default: return false;
        }
        rc = pv_entry_replace(d, slot, 1, index, old, (old & ~(m << shift)) | (part << shift),
                              false);
        if (rc == -XEN_EAGAIN)
            continue;
        if (rc)
            return false;
        if (in->op == OP_XCHG)
            set_gpr(r, in->reg, in->size, cur);
        else if (in->op == OP_OR || in->op == OP_AND)
            logic_flags(r, part, in->size);
        else if (in->op == OP_BTS || in->op == OP_BTR)
            r->rflags = (r->rflags & ~FL_CF) | ((cur >> (src & (in->size * 8 - 1))) & 1);
        return true;
    }
}

/* The frame cr2 falls in, if it is a validated L1 of d mapped read-only.
 * The entry that maps cr2 only names a candidate (a racing guest may
 * change it); the frame is checked and referenced on its own. */
static struct page_info *target_l1(struct vcpu *v, unsigned long cr2)
{
    struct page_info *pg;
    u64 e;

    if (!pv_read_l1e(v, cr2, &e) || (e & (PTE_P | PTE_RW)) != PTE_P)
        return NULL;
    pg = pv_domain_page(pte_mfn(e), v->domain);
    if (!pg || pv_table_level(pg) != 1 || !get_page_and_type(pg, v->domain, PGT_l1_page_table))
        return NULL;
    return pg;
}

/*
 * Linux writes its page tables from a handful of instructions, so each
 * CPU remembers the last one it decoded.  The bytes are fetched every
 * time (the guest may have changed them) and compared; only the decoding
 * is skipped, and decoding depends on nothing but the bytes.
 */
struct decoded {
    unsigned long rip;
    u8 bytes[X86_MAX_INSN_LEN];
    struct insn in; /* in.len == 0: nothing cached */
};
static DEFINE_PER_CPU(struct decoded, last_decoded);

static bool decode_store(unsigned long rip, struct insn *in)
{
    struct decoded *c = &this_cpu(last_decoded);
    u8 bytes[X86_MAX_INSN_LEN];
    unsigned int n = pv_fetch_insn(rip, bytes);
    struct x86_insn x;

    if (c->in.len && c->rip == rip && n >= c->in.len && !memcmp(bytes, c->bytes, c->in.len)) {
        *in = c->in;
        return true;
    }
    if (x86_decode(bytes, n, &x) || !classify(&x, in))
        return false;
    c->rip = rip;
    memcpy(c->bytes, bytes, in->len);
    c->in = *in;
    return true;
}

bool pv_ptwr_fault(struct regs *r, unsigned long cr2)
{
    struct vcpu *v = current;
    struct page_info *pg;
    struct insn in = {0};
    unsigned int off = cr2 & 7;
    bool ok = false;

    if ((r->error_code & (PF_PRESENT | PF_WRITE | PF_RSVD)) != (PF_PRESENT | PF_WRITE) ||
        !v->arch.kernel_mode ||
        !(READ_ONCE(v->domain->vm_assist) & (1UL << VMASST_TYPE_writable_pagetables)) ||
        !guest_range_ok(cr2, 1))
        return false;
    pg = target_l1(v, cr2);
    if (!pg)
        return false;
    if (decode_store(r->rip, &in) && off + in.size <= 8 && !(off & (in.size - 1))) {
        u64 *slot = (u64 *)mfn_to_virt(page_to_mfn(pg)) + ((cr2 & (PAGE_SIZE - 1)) >> 3);
        ok = apply(r, &in, v->domain, slot, (cr2 & (PAGE_SIZE - 1)) >> 3, off);
    }
    put_page_and_type(pg);
    if (ok)
        r->rip += in.len;
    return ok;
}

/*
 * A store by dom0's kernel into device memory Keel keeps read-only (an
 * MSI-X table): dropped and stepped over, as Xen's mmio_ro emulation does,
 * so a driver that pokes the table does not take a fault it cannot
 * explain.  Only plain stores, naturally aligned, are dropped; anything
 * else (or from user space) is the guest's #PF.
 */
bool pv_mmio_ro_fault(struct regs *r, unsigned long cr2)
{
    static bool warned;
    struct vcpu *v = current;
    struct insn in = {0};
    struct x86_insn x;
    u8 bytes[X86_MAX_INSN_LEN];
    u64 e;

    if ((r->error_code & (PF_PRESENT | PF_WRITE | PF_RSVD)) != (PF_PRESENT | PF_WRITE) ||
        !v->arch.kernel_mode || !v->domain->is_privileged || !guest_range_ok(cr2, 1))
        return false;
    /* The entry only says which frame: a read-only device frame or not. */
    if (!pv_read_l1e(v, cr2, &e))
        return false;
    if ((e & (PTE_P | PTE_RW)) != PTE_P || !pv_mm_arch_io_frame_ro(pte_mfn(e)))
        return false;
    if (x86_decode(bytes, pv_fetch_insn(r->rip, bytes), &x) || !classify(&x, &in) ||
        in.op != OP_MOV || (cr2 & (in.size - 1)))
        return false;
    if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        printk(KLOG_WARN "d%u: store to read-only device memory at %016lx (mfn %lx) dropped "
                         "(an MSI-X table is Keel's; logged once)\n",
               v->domain->domid, cr2, (unsigned long)pte_mfn(e));
    r->rip += in.len;
    return true;
}
