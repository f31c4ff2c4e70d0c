/*
 * libFuzzer target for the Multiboot parser.  The first byte picks the
 * protocol and the next two the information's offset in the window; the
 * rest is the window itself, copied to an exact-size heap block so ASan
 * sees any read past it.
 */
#include <keel/bootinfo.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct boot_info bi;
    struct mem_window w;
    u32 magic;
    u64 off;
    u8 *copy;

    if (size < 3)
        return 0;
    magic = data[0] & 1 ? MB2_LOADER_MAGIC : MB1_LOADER_MAGIC;
    if (data[0] & 2)
        magic ^= data[0]; /* sometimes a bad magic */
    off = (u64)data[1] | (u64)data[2] << 8;
    data += 3;
    size -= 3;
    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    w = (struct mem_window){copy, 0x1000, size};
    if (boot_info_parse(&bi, magic, 0x1000 + off, &w) == 0) {
        if (bi.error)
            abort();
    } else if (!bi.error || !memchr(bi.errbuf, 0, sizeof(bi.errbuf))) {
        abort();
    }
    free(copy);
    return 0;
}
