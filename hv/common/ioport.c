/*
 * Port I/O policy and IN/OUT decoding for PV guests (see keel/ioport.h).
 * Built on the host too (tests/unit/test_ioport.c).
 */
#include <keel/ioport.h>
#include <keel/x86_decode.h>

/* Ports Keel keeps for itself, as [first, last]. */
static const struct {
    u16 first, last;
} keel_ports[] = {
    {0x20, 0x21},   /* master PIC: Keel masks it for the APICs */
    {0x40, 0x43},   /* PIT: Keel's calibration */
    {0x61, 0x61},   /* PIT gate/speaker, also used for calibration */
    {0xa0, 0xa1},   /* slave PIC */
    {0xf4, 0xf7},   /* QEMU isa-debug-exit (Keel's halt) */
    {0xcf8, 0xcff}, /* PCI configuration mechanism 1 */
};

static bool overlaps(unsigned a_first, unsigned a_last, unsigned b_first, unsigned b_last)
{
    return a_first <= b_last && b_first <= a_last;
}

bool ioport_permitted(bool privileged, u16 console_port, unsigned port, unsigned bytes)
{
    unsigned last = port + bytes - 1;

    if (!privileged || bytes == 0 || bytes > 4 || last > 0xffff)
        return false;
    if (console_port && overlaps(port, last, console_port, console_port + 7U))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(keel_ports); i++)
        if (overlaps(port, last, keel_ports[i].first, keel_ports[i].last))
            return false;
    return true;
}

/* IN/OUT with an immediate port (e4-e7) or the port in DX (ec-ef). */
bool decode_port_io(const u8 *insn, size_t n, struct port_io *io)
{
    struct x86_insn in;
    unsigned int op;

    if (x86_decode(insn, n > X86_MAX_INSN_LEN ? X86_MAX_INSN_LEN : (unsigned int)n, &in))
        return false;
    op = in.opcode;
    if (op >= 0xe4 && op <= 0xe7) {
        io->port = (u8)in.imm;
        io->use_dx = false;
    } else if (op >= 0xec && op <= 0xef) {
        io->port = 0;
        io->use_dx = true;
    } else {
        return false;
    }
    io->out = op & 2;
    /* REX.W does not widen I/O: 66 is the only size prefix that counts. */
    io->bytes = !(op & 1) ? 1 : (in.prefixes & X86_PFX_OPSIZE) ? 2 : 4;
    io->len = in.len;
    return true;
}
