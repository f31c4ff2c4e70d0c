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
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/sched.h>

#define PF_PRESENT (1U << 0)
#define PF_WRITE (1U << 1)
#define PF_RSVD (1U << 3)
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

struct cursor {
    const u8 *b;
    unsigned int n, at;
};

static bool take(struct cursor *c, unsigned int k, u64 *val)
{
    u64 v = 0;

    if (c->at + k > c->n)
        return false;
    for (unsigned int i = 0; i < k; i++)
        v |= (u64)c->b[c->at + i] << (8 * i);
    c->at += k;
    if (val)
        *val = v;
    return true;
}

/* Skip a memory ModRM operand (the address itself is CR2); false for a
 * register operand. */
static bool skip_modrm(struct cursor *c, unsigned int rex_r, unsigned int *reg)
{
    u64 m, sib;
    unsigned int mod, rm;

    if (!take(c, 1, &m))
        return false;
    mod = m >> 6;
    rm = m & 7;
    *reg = ((m >> 3) & 7) | (rex_r << 3);
    if (mod == 3)
        return false;
    if (rm == 4) {
        if (!take(c, 1, &sib))
            return false;
        if (mod == 0 && (sib & 7) == 5)
            return take(c, 4, NULL);
    }
    if (mod == 0 && rm == 5)
        return take(c, 4, NULL); /* rip-relative */
    return take(c, mod == 1 ? 1 : mod == 2 ? 4 : 0, NULL);
}

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

static bool decode(const u8 *bytes, unsigned int n, struct insn *in)
{
    struct cursor c = {bytes, n, 0};
    bool opsz16 = false, rex_w = false, byte_op;
    unsigned int rex_r = 0, imm_len = 0;
    u64 b;

    for (;;) { /* legacy prefixes, then REX */
        if (!take(&c, 1, &b))
            return false;
        if (b == 0x66)
            opsz16 = true;
        else if (b == 0xf0 || b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36 ||
                 b == 0x64 || b == 0x65)
            continue;
        else
            break;
    }
    if ((b & 0xf0) == 0x40) {
        rex_w = b & 8;
        rex_r = (b >> 2) & 1;
        if (!take(&c, 1, &b))
            return false;
    }
    in->src_is_reg = true;
    if (b == 0x0f) {
        if (!take(&c, 1, &b))
            return false;
        b |= 0x100;
    }
    switch (b) {
    case 0x88: case 0x89: in->op = OP_MOV; break;
    case 0x86: case 0x87: in->op = OP_XCHG; break;
    case 0x08: case 0x09: in->op = OP_OR; break;
    case 0x20: case 0x21: in->op = OP_AND; break;
    case 0x1b0: case 0x1b1: in->op = OP_CMPXCHG; break;
    case 0x1ab: in->op = OP_BTS; break;
    case 0x1b3: in->op = OP_BTR; break;
    case 0xc6: case 0xc7: in->op = OP_MOV; in->src_is_reg = false; break;
    case 0x80: case 0x81: case 0x83: case 0x1ba: in->src_is_reg = false; break;
    default: return false;
    }
    byte_op = b == 0x88 || b == 0x86 || b == 0x08 || b == 0x20 || b == 0x1b0 ||
              b == 0xc6 || b == 0x80;
    in->size = byte_op ? 1 : rex_w ? 8 : opsz16 ? 2 : 4;
    if (!skip_modrm(&c, rex_r, &in->reg))
        return false;
    if (!in->src_is_reg) {
        if (b == 0x80 || b == 0x81 || b == 0x83 || b == 0x1ba)
            if (!group_op(in->reg, b == 0x1ba, &in->op))
                return false;
        if (b == 0xc6 && (in->reg & 7) != 0)
            return false;
        if (b == 0xc7 && (in->reg & 7) != 0)
            return false;
        imm_len = (b == 0x81 || b == 0xc7) ? MIN(in->size, 4U) : 1;
        if (!take(&c, imm_len, &in->imm))
            return false;
        /* Immediates are sign-extended to the operand size. */
        if (b != 0x1ba && imm_len < 8 && (in->imm >> (imm_len * 8 - 1)) & 1)
            in->imm |= ~0UL << (imm_len * 8);
    }
    in->len = c.at;
    return true;
}

/* --------------------------------------------------------- registers */

static u64 *gpr(struct regs *r, unsigned int i)
{
    u64 *map[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
                    &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};
    return map[i & 15];
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

/* Instruction bytes at rip; fewer than 15 near the end of mapped memory. */
static unsigned int fetch(unsigned long rip, u8 *buf)
{
    unsigned int n = 0;

    while (n < 15 && !copy_from_guest(buf + n, rip + n, 1))
        n++;
    return n;
}

/* The frame cr2 falls in, if it is a validated L1 of d mapped read-only. */
static struct page_info *target_l1(struct vcpu *v, unsigned long cr2)
{
    struct page_info *map, *pg;
    u64 *slot, e;

    map = pv_find_l1(v, cr2, &slot);
    if (!map)
        return NULL;
    e = READ_ONCE(*slot);
    put_page_and_type(map);
    if ((e & (PTE_P | PTE_RW)) != PTE_P)
        return NULL;
    pg = pv_domain_page(pte_mfn(e), v->domain);
    if (!pg || pv_table_level(pg) != 1 || !get_page_and_type(pg, v->domain, PGT_l1_page_table))
        return NULL;
    return pg;
}

bool pv_ptwr_fault(struct regs *r, unsigned long cr2)
{
    struct vcpu *v = current;
    struct page_info *pg;
    struct insn in = {0};
    u8 bytes[15];
    unsigned int n, off = cr2 & 7;
    bool ok = false;

    if ((r->error_code & (PF_PRESENT | PF_WRITE | PF_RSVD)) != (PF_PRESENT | PF_WRITE) ||
        !v->arch.kernel_mode ||
        !(READ_ONCE(v->domain->vm_assist) & (1UL << VMASST_TYPE_writable_pagetables)) ||
        !guest_range_ok(cr2, 1))
        return false;
    pg = target_l1(v, cr2);
    if (!pg)
        return false;
    n = fetch(r->rip, bytes);
    if (decode(bytes, n, &in) && off + in.size <= 8 && !(off & (in.size - 1))) {
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
    struct page_info *map;
    struct insn in = {0};
    u8 bytes[15];
    u64 *slot, e;

    if ((r->error_code & (PF_PRESENT | PF_WRITE | PF_RSVD)) != (PF_PRESENT | PF_WRITE) ||
        !v->arch.kernel_mode || !v->domain->is_privileged || !guest_range_ok(cr2, 1))
        return false;
    map = pv_find_l1(v, cr2, &slot);
    if (!map)
        return false;
    e = READ_ONCE(*slot);
    put_page_and_type(map);
    if ((e & (PTE_P | PTE_RW)) != PTE_P || !pv_mm_arch_io_frame_ro(pte_mfn(e)))
        return false;
    if (!decode(bytes, fetch(r->rip, bytes), &in) || in.op != OP_MOV || (cr2 & (in.size - 1)))
        return false;
    if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        printk(KLOG_WARN "d%u: store to read-only device memory at %016lx (mfn %lx) dropped "
                         "(an MSI-X table is Keel's; logged once)\n",
               v->domain->domid, cr2, (unsigned long)pte_mfn(e));
    r->rip += in.len;
    return true;
}
