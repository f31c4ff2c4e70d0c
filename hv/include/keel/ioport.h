/*
 * Guest port I/O: which ports a domain may really touch, and the decoding
 * of the IN/OUT instructions a PV kernel executes at CPL3 (they fault, and
 * Keel performs them on its behalf).  No hardware access here: the arch
 * code (hv/arch/x86/pv/physdev.c, emulate.c) does the actual port cycles.
 */
#ifndef KEEL_IOPORT_H
#define KEEL_IOPORT_H
#include <keel/types.h>

/*
 * Whether a domain may access `bytes` ports from `port` on the real
 * hardware.  Only the privileged domain gets real ports, and never those
 * Keel itself drives: its serial console (8 ports from `console_port`;
 * 0 = none), the PICs, the PIT and port 0x61, the debug-exit port and PCI
 * configuration space (dom0's accesses to it are mediated: keel/pci_cfg.h).  An access that is only
 * partly permitted is refused whole.
 */
bool ioport_permitted(bool privileged, u16 console_port, unsigned port, unsigned bytes);

/* One decoded IN or OUT (not the string forms). */
struct port_io {
    unsigned len;   /* instruction length in bytes */
    unsigned bytes; /* 1, 2 or 4 */
    bool out;       /* OUT (true) or IN */
    bool use_dx;    /* the port is in DX, else `port` holds the immediate */
    u8 port;
};

/*
 * Decodes the IN/OUT at the start of `insn` (`n` readable bytes), allowing
 * an operand-size prefix, segment/lock/rep prefixes and one REX byte as
 * the CPU does.  Returns false for anything else.
 */
bool decode_port_io(const u8 *insn, size_t n, struct port_io *io);

/* One decoded INS or OUTS (6c-6f). */
struct string_io {
    unsigned len;   /* instruction length in bytes */
    unsigned bytes; /* 1, 2 or 4 per element */
    bool out;       /* OUTS (from [seg:rSI]) or INS (to [ES:rDI]) */
    bool rep;       /* f3 or f2 (both repeat for these) */
    bool addr32;    /* 67: ECX/ESI/EDI instead of RCX/RSI/RDI */
    u8 seg;         /* OUTS only: the segment-override prefix byte, 0 if none */
};

/* Decodes the INS/OUTS at the start of `insn`; false for anything else. */
bool decode_string_io(const u8 *insn, size_t n, struct string_io *io);

/*
 * PHYSDEVOP_set_iobitmap's bitmap: `bits` are the two bytes from byte
 * port / 8 (0xff if the guest could not supply them); a clear bit
 * allows its port.  Is an access of `bytes` at `port` allowed, given the
 * limit (nr_ports) the guest set?
 */
bool ioport_bitmap_allows(const u8 bits[2], unsigned limit, unsigned port, unsigned bytes);
#endif
