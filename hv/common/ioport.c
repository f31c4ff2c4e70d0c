/*
 * Port I/O policy and IN/OUT decoding for PV guests (see keel/ioport.h).
 * Built on the host too (tests/unit/test_ioport.c).
 */
#include <keel/ioport.h>

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

static bool is_legacy_prefix(u8 b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: /* segments */
    case 0xf0: case 0xf2: case 0xf3:                                   /* lock, rep */
    case 0x67:                                                         /* address size */
        return true;
    default:
        return false;
    }
}

bool decode_port_io(const u8 *insn, size_t n, struct port_io *io)
{
    bool opsize16 = false;
    size_t i = 0;
    u8 op;

    /* The CPU rejects instructions longer than 15 bytes. */
    if (n > 15)
        n = 15;
    while (i < n && (is_legacy_prefix(insn[i]) || insn[i] == 0x66)) {
        if (insn[i] == 0x66)
            opsize16 = true;
        i++;
    }
    /* REX only counts right before the opcode; REX.W does not widen I/O. */
    if (i < n && (insn[i] & 0xf0) == 0x40)
        i++;
    if (i >= n)
        return false;
    op = insn[i++];
    switch (op) {
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: /* imm8 forms */
        if (i >= n)
            return false;
        io->port = insn[i++];
        io->use_dx = false;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef: /* DX forms */
        io->port = 0;
        io->use_dx = true;
        break;
    default:
        return false;
    }
    io->out = op & 2;
    io->bytes = !(op & 1) ? 1 : opsize16 ? 2 : 4;
    io->len = (unsigned)i;
    return true;
}
