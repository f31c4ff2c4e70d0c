/*
 * Classifying and completing the MMIO instructions Keel emulates
 * (keel/hvm_mmio.h).
 */
#include <keel/hvm_mmio.h>

static u64 mask_of(unsigned int size)
{
    return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* A byte register operand: without REX, 4-7 are AH, CH, DH, BH. */
static void byte_reg(const struct x86_insn *in, unsigned int reg, unsigned int *out,
                     bool *high)
{
    *high = !in->rex && reg >= 4 && reg < 8;
    *out = *high ? reg - 4 : reg;
}

static u64 read_reg(const u64 gpr[16], unsigned int reg, bool high, unsigned int size)
{
    u64 v = gpr[reg];

    return (high ? v >> 8 : v) & mask_of(size);
}

int mmio_classify(const struct x86_insn *in, const u64 gpr[16], struct mmio_access *a)
{
    unsigned int reg;
    bool high;

    *a = (struct mmio_access){0};
    if (in->prefixes & (X86_PFX_LOCK | X86_PFX_REP | X86_PFX_REPNE))
        return -1;
    /* mov with a full address in the instruction (moffs): AL/eAX only. */
    switch (in->opcode) {
    case 0xa0:
        *a = (struct mmio_access){.size = 1, .reg = 0, .dst_size = 1};
        return 0;
    case 0xa1:
        *a = (struct mmio_access){.size = in->opsize, .reg = 0, .dst_size = in->opsize};
        return 0;
    case 0xa2:
        *a = (struct mmio_access){.write = true, .size = 1, .value = gpr[0] & 0xff};
        return 0;
    case 0xa3:
        *a = (struct mmio_access){.write = true, .size = in->opsize,
                                  .value = read_reg(gpr, 0, false, in->opsize)};
        return 0;
    default:
        break;
    }
    if (!x86_modrm_is_mem(in))
        return -1;
    switch (in->opcode) {
    case 0x88: /* mov r/m8, r8 */
        byte_reg(in, in->reg, &reg, &high);
        *a = (struct mmio_access){.write = true, .size = 1,
                                  .value = read_reg(gpr, reg, high, 1)};
        return 0;
    case 0x89: /* mov r/m, r */
        *a = (struct mmio_access){.write = true, .size = in->opsize,
                                  .value = read_reg(gpr, in->reg, false, in->opsize)};
        return 0;
    case 0x8a: /* mov r8, r/m8 */
        byte_reg(in, in->reg, &reg, &high);
        *a = (struct mmio_access){.size = 1, .reg = reg, .high_byte = high, .dst_size = 1};
        return 0;
    case 0x8b: /* mov r, r/m */
        *a = (struct mmio_access){.size = in->opsize, .reg = in->reg,
                                  .dst_size = in->opsize};
        return 0;
    case 0xc6: /* mov r/m8, imm8 */
        if ((in->modrm >> 3) & 7)
            return -1;
        *a = (struct mmio_access){.write = true, .size = 1, .value = in->imm & 0xff};
        return 0;
    case 0xc7: /* mov r/m, imm32 (sign-extended for 64-bit) */
        if ((in->modrm >> 3) & 7)
            return -1;
        *a = (struct mmio_access){.write = true, .size = in->opsize,
                                  .value = x86_imm_sext(in) & mask_of(in->opsize)};
        return 0;
    case 0x1b6: /* movzx r, r/m8 */
    case 0x1b7: /* movzx r, r/m16 */
        *a = (struct mmio_access){.size = in->opcode == 0x1b6 ? 1 : 2, .reg = in->reg,
                                  .dst_size = in->opsize};
        return 0;
    default:
        return -1;
    }
}

void mmio_finish_read(const struct mmio_access *a, u64 gpr[16], u64 val)
{
    u64 *r = &gpr[a->reg & 15];

    val &= mask_of(a->size);
    if (a->high_byte) {
        *r = (*r & ~0xff00ULL) | (val << 8);
        return;
    }
    switch (a->dst_size) {
    case 1:
        *r = (*r & ~0xffULL) | val;
        break;
    case 2:
        *r = (*r & ~0xffffULL) | (val & 0xffff);
        break;
    case 4:
        *r = val & 0xffffffffULL;
        break;
    default:
        *r = val;
        break;
    }
}
