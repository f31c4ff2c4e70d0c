/* Guest port I/O: the dom0/domU port policy and IN/OUT decoding. */
#include <keel/ioport.h>

#include "harness.h"

TEST(domu_gets_no_ports)
{
    CHECK(!ioport_permitted(false, 0, 0x70, 1));
    CHECK(!ioport_permitted(false, 0, 0x3f8, 1));
    CHECK(!ioport_permitted(false, 0, 0x80, 1));
}

TEST(dom0_gets_ordinary_ports)
{
    CHECK(ioport_permitted(true, 0x3f8, 0x70, 1));
    CHECK(ioport_permitted(true, 0x3f8, 0x71, 1));
    CHECK(ioport_permitted(true, 0x3f8, 0x60, 1));
    CHECK(ioport_permitted(true, 0x3f8, 0x2f8, 1));
    CHECK(ioport_permitted(true, 0x3f8, 0x608, 4));
    CHECK(ioport_permitted(true, 0x3f8, 0xcf4, 4)); /* ends right before 0xcf8 */
    CHECK(ioport_permitted(true, 0x3f8, 0xfffc, 4));
}

TEST(dom0_never_gets_keels_ports)
{
    static const unsigned denied[] = {0x20, 0x21, 0xa0, 0xa1, 0x40, 0x41, 0x42, 0x43,
                                      0x61, 0xf4, 0xf7, 0xcf8, 0xcfc, 0xcff};
    for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
        CHECK(!ioport_permitted(true, 0x3f8, denied[i], 1));
    /* Keel's console, whichever port it is on. */
    CHECK(!ioport_permitted(true, 0x3f8, 0x3f8, 1));
    CHECK(!ioport_permitted(true, 0x3f8, 0x3ff, 1));
    CHECK(ioport_permitted(true, 0x3f8, 0x400, 1));
    CHECK(!ioport_permitted(true, 0x2f8, 0x2fd, 1));
    CHECK(ioport_permitted(true, 0, 0x3f8, 1)); /* no serial console */
}

TEST(partial_overlap_is_refused_whole)
{
    CHECK(!ioport_permitted(true, 0x3f8, 0x3f6, 4)); /* reaches 0x3f8 */
    CHECK(!ioport_permitted(true, 0x3f8, 0x1e, 4));  /* reaches 0x20 */
    CHECK(!ioport_permitted(true, 0x3f8, 0xcf6, 4)); /* reaches 0xcf8 */
    CHECK(!ioport_permitted(true, 0x3f8, 0x5f, 4));  /* reaches 0x61 */
    CHECK(!ioport_permitted(true, 0x3f8, 0xfffe, 4)); /* past the last port */
    CHECK(!ioport_permitted(true, 0x3f8, 0x80, 0));
    CHECK(!ioport_permitted(true, 0x3f8, 0x80, 8));
}

static bool dec(const char *bytes, size_t n, struct port_io *io)
{
    return decode_port_io((const u8 *)bytes, n, io);
}

TEST(decodes_every_form)
{
    struct port_io io;

    CHECK(dec("\xe4\x71", 2, &io));
    CHECK(!io.out && !io.use_dx && io.port == 0x71 && io.bytes == 1 && io.len == 2);
    CHECK(dec("\xe5\x40", 2, &io));
    CHECK(!io.out && io.bytes == 4 && io.len == 2);
    CHECK(dec("\x66\xe5\x40", 3, &io));
    CHECK(!io.out && io.bytes == 2 && io.len == 3);
    CHECK(dec("\xe6\x80", 2, &io));
    CHECK(io.out && !io.use_dx && io.port == 0x80 && io.bytes == 1);
    CHECK(dec("\xe7\x80", 2, &io));
    CHECK(io.out && io.bytes == 4);
    CHECK(dec("\xec", 1, &io));
    CHECK(!io.out && io.use_dx && io.bytes == 1 && io.len == 1);
    CHECK(dec("\xed", 1, &io));
    CHECK(!io.out && io.use_dx && io.bytes == 4);
    CHECK(dec("\x66\xef", 2, &io));
    CHECK(io.out && io.use_dx && io.bytes == 2 && io.len == 2);
    CHECK(dec("\xee", 1, &io));
    CHECK(io.out && io.bytes == 1);
    /* REX.W does not make a 64-bit port access. */
    CHECK(dec("\x48\xed", 2, &io));
    CHECK(io.bytes == 4 && io.len == 2);
    CHECK(dec("\x66\x41\xed", 3, &io));
    CHECK(io.bytes == 2 && io.len == 3);
    /* A REX before a legacy prefix is ignored (the CPU runs the rest). */
    CHECK(dec("\x48\x66\xed", 3, &io));
    CHECK(io.bytes == 2 && io.len == 3);
}

TEST(rejects_what_is_not_in_or_out)
{
    struct port_io io;

    CHECK(!dec("\x0f\x32", 2, &io));   /* rdmsr */
    CHECK(!dec("\x6c", 1, &io));       /* insb: string forms are not handled */
    CHECK(!dec("\xe4", 1, &io));       /* immediate cut off */
    CHECK(!dec("\x66\x66", 2, &io));   /* prefixes only */
    CHECK(!dec("", 0, &io));
    /* More than 15 bytes of prefixes: the CPU would refuse it too. */
    CHECK(!dec("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\xec", 16, &io));
}
