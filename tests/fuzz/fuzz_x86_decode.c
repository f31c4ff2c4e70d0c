/*
 * Fuzz target for the x86 decoder: arbitrary bytes in an exact-size
 * buffer (ASan sees any over-read).  Invariants: an accepted instruction
 * is 1..15 bytes and no longer than the input; it decodes the same from
 * exactly its own bytes and from any longer buffer; fewer bytes are
 * refused; its parts add up to its length.
 */
#include <keel/x86_decode.h>

#include <stdlib.h>
#include <string.h>

static void same(const struct x86_insn *a, const struct x86_insn *b)
{
    if (memcmp(a, b, sizeof(*a)))
        abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    struct x86_insn in, again;
    unsigned int n = size > 32 ? 32 : (unsigned int)size, parts;
    u8 *buf = malloc(n ? n : 1);

    memcpy(buf, data, n);
    if (x86_decode(buf, n, &in) == 0) {
        if (in.len == 0 || in.len > X86_MAX_INSN_LEN || in.len > n)
            abort();
        /* exactly its bytes, in a buffer of that size */
        u8 *exact = malloc(in.len);
        memcpy(exact, buf, in.len);
        if (x86_decode(exact, in.len, &again) != 0)
            abort();
        same(&in, &again);
        for (unsigned int k = 0; k < in.len; k++)
            if (x86_decode(exact, k, &again) == 0)
                abort();
        free(exact);
        parts = (in.has_modrm ? 1 : 0) + (in.has_sib ? 1 : 0) + in.disp_len + in.imm_len +
                (in.imm2 || in.opcode == 0xc8 ? 1 : 0);
        if (parts >= in.len || in.reg > 15 || in.rm > 15 || in.mod > 3)
            abort();
        if (in.opsize != 2 && in.opsize != 4 && in.opsize != 8)
            abort();
    }
    free(buf);
    return 0;
}
