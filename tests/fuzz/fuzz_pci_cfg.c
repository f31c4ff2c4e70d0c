/*
 * libFuzzer target for dom0's PCI configuration writes: the input is a
 * function's configuration space (any garbage a device or dom0 could leave
 * there) followed by write requests.  The capability walk must stay inside
 * the 256 bytes and end; for every write the filter must keep the bytes of
 * an MSI message (address, data, mask) and of a locked BAR as they are,
 * let no MSI enable through before Keel programmed it, and pass every
 * byte outside those structures untouched.
 */
#include <keel/pci_cfg.h>

static bool in(unsigned int b, unsigned int start, unsigned int len)
{
    return b >= start && b < start + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u8 cfg[256];
    struct pci_msi_caps c;
    struct pci_msi_policy p;

    if (size < 257)
        return 0;
    memcpy(cfg, data, 256);
    pci_find_msi_caps(cfg, &c);
    if ((c.msi && (c.msi < 0x40 || c.msi > 0xf4)) || (c.msix && (c.msix < 0x40 || c.msix > 0xf4)))
        abort();
    p.msi_ready = data[256] & 1;
    p.msix_ready = data[256] & 2;
    p.locked_bars = data[256] & 4 ? pci_msix_bar_regs(&c, cfg) : 0;
    for (size_t i = 257; i + 9 <= size; i += 9) {
        unsigned int reg = data[i], sz = 1U << (data[i + 1] % 3);
        u32 val, cur, out;
        bool refused;
        memcpy(&val, data + i + 1, 4);
        memcpy(&cur, data + i + 5, 4);
        reg &= ~(sz - 1); /* accesses stay inside their dword */
        out = pci_cfg_filter_write(&c, &p, reg, sz, val, cur, &refused);
        bool touches = pci_cfg_write_touches(&c, &p, reg, sz);
        for (unsigned int k = 0; k < sz; k++) {
            unsigned int b = reg + k;
            u8 o = (u8)(out >> (8 * k)), v = (u8)(val >> (8 * k)), w = (u8)(cur >> (8 * k));
            bool msi = c.msi && in(b, c.msi, pci_msi_cap_len(&c));
            bool msix = c.msix && in(b, c.msix, 12);
            bool bar = b >= 0x10 && b < 0x28 && (p.locked_bars >> ((b - 0x10) / 4) & 1);
            if (msi && b >= c.msi + 4U && o != w)
                abort(); /* the message changed */
            if (msi && b == c.msi + 2U && !p.msi_ready && (o & 1) && !(w & 1))
                abort(); /* enabled before Keel programmed it */
            if (bar && !msi && !msix && o != w)
                abort(); /* a locked BAR moved */
            if (!msi && !msix && !bar && o != v)
                abort(); /* something else was changed */
            if (!touches && o != v)
                abort(); /* "no need to filter" must be true */
        }
    }
    return 0;
}
