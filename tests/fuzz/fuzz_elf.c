/*
 * libFuzzer target for the PV kernel ELF parser: any input must be either
 * refused with a reason or yield an info whose segments all lie inside the
 * input and inside [virt_kstart, virt_kend).
 */
#include <keel/elf.h>

static const u8 *cur_data;
static size_t cur_size;
static const struct pv_kernel_info *cur_info;

static int check_copy(void *ctx, u64 gva, const void *src, u64 len)
{
    (void)ctx;
    if (gva < cur_info->virt_kstart || gva > cur_info->virt_kend ||
        len > cur_info->virt_kend - gva)
        abort(); /* a write outside the range the builder was told about */
    if (src && ((const u8 *)src < cur_data ||
                (const u8 *)src + len > cur_data + cur_size))
        abort(); /* a read outside the image */
    if (src && len) {
        volatile u8 sink = ((const u8 *)src)[0] ^ ((const u8 *)src)[len - 1];
        (void)sink;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pv_kernel_info info;

    if (elf_parse_pv_kernel(data, size, &info)) {
        if (!info.why[0])
            abort(); /* every refusal carries a reason */
        return 0;
    }
    if (info.nr_segs == 0 || info.nr_segs > PV_KERNEL_MAX_SEGS ||
        info.virt_kend - info.virt_kstart > PV_KERNEL_MAX_SPAN)
        abort();
    cur_data = data;
    cur_size = size;
    cur_info = &info;
    if (pv_kernel_load(data, size, &info, check_copy, NULL))
        abort(); /* a parsed image must load */
    (void)pv_kernel_check(&info, 0);
    (void)pv_kernel_check(&info, ~0U);
    return 0;
}
