/*
 * The x86-64 decoder: hand-picked encodings (the forms Keel emulates and
 * the corner cases of prefixes, REX, ModRM/SIB and immediates), truncation
 * at every length, and a differential run against binutils' objdump over
 * thousands of generated instructions: wherever Keel's decoder accepts an
 * instruction that objdump knows, objdump must agree on its length.
 */
#include <keel/x86_decode.h>

#include <stdint.h>
#include <unistd.h>

#include "harness.h"

static int dec(const char *bytes, size_t n, struct x86_insn *in)
{
    /* An exact-size heap copy: ASan catches any read past the end. */
    u8 *b = malloc(n ? n : 1);
    int rc;

    memcpy(b, bytes, n);
    rc = x86_decode(b, (unsigned int)n, in);
    free(b);
    return rc;
}

#define DEC(s, in) dec(s, sizeof(s) - 1, in)

TEST(simple_lengths)
{
    struct x86_insn in;

    CHECK_EQ(DEC("\x90", &in), 0);
    CHECK_EQ(in.len, 1);
    CHECK_EQ(DEC("\xcd\x80", &in), 0); /* int $0x80 */
    CHECK_EQ(in.opcode, 0xcd);
    CHECK_EQ(in.imm, 0x80);
    CHECK_EQ(in.len, 2);
    CHECK_EQ(DEC("\x0f\x30", &in), 0); /* wrmsr */
    CHECK_EQ(in.opcode, X86_MAP_0F | 0x30);
    CHECK_EQ(in.len, 2);
    CHECK_EQ(DEC("\x48\xb8\x01\x02\x03\x04\x05\x06\x07\x08", &in), 0); /* movabs */
    CHECK_EQ(in.len, 10);
    CHECK_EQ(in.imm, 0x0807060504030201LL);
    CHECK_EQ(DEC("\xc8\x10\x00\x02", &in), 0); /* enter $16, $2 */
    CHECK_EQ(in.len, 4);
    CHECK_EQ(in.imm, 16);
    CHECK_EQ(in.imm2, 2);
}

TEST(port_io_forms)
{
    struct x86_insn in;

    CHECK_EQ(DEC("\xe4\x71", &in), 0); /* in $0x71, %al */
    CHECK_EQ(in.len, 2);
    CHECK_EQ(in.imm, 0x71);
    CHECK_EQ(DEC("\x66\xed", &in), 0); /* in (%dx), %ax */
    CHECK_EQ(in.len, 2);
    CHECK_EQ(in.opsize, 2);
    CHECK(in.prefixes & X86_PFX_OPSIZE);
    CHECK_EQ(DEC("\xf3\x6e", &in), 0); /* rep outsb */
    CHECK(in.prefixes & X86_PFX_REP);
    CHECK_EQ(in.len, 2);
}

TEST(modrm_and_sib)
{
    struct x86_insn in;

    /* mov %rax, 0x10(%rbx) */
    CHECK_EQ(DEC("\x48\x89\x43\x10", &in), 0);
    CHECK_EQ(in.len, 4);
    CHECK_EQ(in.mod, 1);
    CHECK_EQ(in.disp, 0x10);
    CHECK(x86_modrm_is_mem(&in));
    /* mov %r9, (%r12,%r13,8) with REX.WRXB */
    CHECK_EQ(DEC("\x4f\x89\x0c\xec", &in), 0);
    CHECK_EQ(in.len, 4);
    CHECK_EQ(in.reg, 9);
    CHECK(in.has_sib);
    /* rip-relative: mov %eax, -4(%rip) */
    CHECK_EQ(DEC("\x89\x05\xfc\xff\xff\xff", &in), 0);
    CHECK(in.rip_relative);
    CHECK_EQ(in.disp, -4);
    CHECK_EQ(in.len, 6);
    /* SIB with no base: mov %eax, 0x1000(,%rcx,4) */
    CHECK_EQ(DEC("\x89\x04\x8d\x00\x10\x00\x00", &in), 0);
    CHECK(!in.rip_relative);
    CHECK_EQ(in.len, 7);
    /* mov %cr4, %rax: the mod bits do not matter */
    CHECK_EQ(DEC("\x0f\x20\xe0", &in), 0);
    CHECK_EQ(in.mod, 3);
    CHECK_EQ(in.reg, 4);
    CHECK_EQ(in.len, 3);
    CHECK_EQ(DEC("\x0f\x22\x20", &in), 0);
    CHECK_EQ(in.mod, 3);
    CHECK_EQ(in.len, 3);
}

TEST(immediates_follow_operand_size)
{
    struct x86_insn in;

    CHECK_EQ(DEC("\x81\x08\x01\x00\x00\x00", &in), 0); /* orl $1, (%rax) */
    CHECK_EQ(in.imm_len, 4);
    CHECK_EQ(DEC("\x66\x81\x08\x01\x00", &in), 0); /* orw $1, (%rax) */
    CHECK_EQ(in.imm_len, 2);
    CHECK_EQ(DEC("\x48\x83\x20\xfe", &in), 0); /* andq $-2, (%rax) */
    CHECK_EQ(in.imm_len, 1);
    CHECK_EQ((long long)x86_imm_sext(&in), -2);
    CHECK_EQ(DEC("\x48\xc7\x00\xff\xff\xff\xff", &in), 0); /* movq $-1, (%rax) */
    CHECK_EQ(in.imm_len, 4);
    CHECK_EQ((long long)x86_imm_sext(&in), -1);
    CHECK_EQ(DEC("\xf6\x00\x01", &in), 0); /* testb $1, (%rax) */
    CHECK_EQ(in.len, 3);
    CHECK_EQ(DEC("\xf7\x18", &in), 0); /* negl (%rax): no immediate */
    CHECK_EQ(in.len, 2);
    CHECK_EQ(DEC("\x0f\xba\x28\x05", &in), 0); /* btsl $5, (%rax) */
    CHECK_EQ(in.len, 4);
    CHECK_EQ(DEC("\xa1\x00\x00\x00\x00\x00\x00\x00\x80", &in), 0); /* movabs moffs */
    CHECK_EQ(in.len, 9);
    CHECK_EQ(DEC("\x67\xa1\x00\x00\x00\x80", &in), 0);
    CHECK_EQ(in.len, 6);
}

TEST(prefix_rules)
{
    struct x86_insn in;

    /* A REX followed by a legacy prefix is ignored by the CPU. */
    CHECK_EQ(DEC("\x48\x66\x89\x00", &in), 0);
    CHECK_EQ(in.rex, 0);
    CHECK_EQ(in.opsize, 2);
    /* The last of several REX bytes applies. */
    CHECK_EQ(DEC("\x41\x48\x89\x00", &in), 0);
    CHECK_EQ(in.rex, 0x48);
    CHECK_EQ(in.opsize, 8);
    /* Segment overrides and lock are recorded. */
    CHECK_EQ(DEC("\x65\xf0\x48\x0f\xb1\x0a", &in), 0); /* lock cmpxchg %rcx,%gs:(%rdx) */
    CHECK_EQ(in.seg, 0x65);
    CHECK(in.prefixes & X86_PFX_LOCK);
    CHECK_EQ(in.opcode, X86_MAP_0F | 0xb1);
    /* Fifteen bytes at most: 14 prefixes and a nop is fine, 15 is not. */
    CHECK_EQ(DEC("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x90", &in), 0);
    CHECK_EQ(in.len, 15);
    CHECK_EQ(DEC("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x90", &in), -1);
    CHECK_EQ(DEC("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x81\x00\x01\x00", &in), -1);
}

TEST(refused_encodings)
{
    struct x86_insn in;

    CHECK_EQ(DEC("\x06", &in), -1);             /* push %es: invalid in 64-bit */
    CHECK_EQ(DEC("\x9a\x00\x00\x00\x00\x00\x00", &in), -1); /* far call ptr */
    CHECK_EQ(DEC("\xc5\xf8\x77", &in), -1);     /* vzeroupper (VEX) */
    CHECK_EQ(DEC("\x62\xf1\x7c\x48\x28\xc1", &in), -1); /* EVEX */
    CHECK_EQ(DEC("\x8f\xe8\x78\xc0\xc1\x01", &in), -1); /* XOP */
    CHECK_EQ(DEC("\x8f\x00", &in), 0);          /* pop (%rax) is fine */
    CHECK_EQ(DEC("", &in), -1);
    CHECK_EQ(DEC("\x66", &in), -1);
}

TEST(truncation_everywhere)
{
    static const char *const cases[] = {
        "\x48\xc7\x84\x88\x00\x01\x00\x00\xff\xff\xff\xff",
        "\x65\xf0\x48\x0f\xb1\x0a",
        "\x66\x0f\x3a\x0f\xc1\x08",
        "\xc8\x10\x00\x02",
        "\x48\xa1\x00\x00\x00\x00\x00\x00\x00\x80",
    };
    static const size_t lens[] = {12, 6, 6, 4, 10};
    struct x86_insn in;

    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        CHECK_EQ(dec(cases[c], lens[c], &in), 0);
        CHECK_EQ(in.len, lens[c]);
        for (size_t n = 0; n < lens[c]; n++)
            CHECK_EQ(dec(cases[c], n, &in), -1);
    }
}

/* ------------------------------------------------ differential vs objdump */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u32 rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (u32)(rng_state >> 11);
}

/* A plausible instruction: a few prefixes, maybe a REX, an opcode (one
 * byte or escaped), then random bytes for whatever follows. */
static unsigned int gen(u8 *b)
{
    static const u8 pfx[] = {0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36};
    unsigned int n = 0, np = rnd() % 4;

    for (unsigned int i = 0; i < np; i++)
        b[n++] = pfx[rnd() % sizeof(pfx)];
    if (rnd() % 2)
        b[n++] = 0x40 | (rnd() % 16);
    switch (rnd() % 4) {
    case 0:
        b[n++] = 0x0f;
        b[n++] = (u8)rnd();
        break;
    case 1:
        b[n++] = 0x0f;
        b[n++] = rnd() % 2 ? 0x38 : 0x3a;
        b[n++] = (u8)rnd();
        break;
    default:
        /* Not a prefix or REX: those are generated above, in order.  Nor
         * fwait (9b), which objdump prints as a prefix of what follows. */
        do
            b[n] = (u8)rnd();
        while ((b[n] & 0xf0) == 0x40 || b[n] == 0x0f || b[n] == 0x66 || b[n] == 0x67 ||
               b[n] == 0xf0 || b[n] == 0xf2 || b[n] == 0xf3 || b[n] == 0x26 ||
               b[n] == 0x2e || b[n] == 0x36 || b[n] == 0x3e || b[n] == 0x64 || b[n] == 0x65 ||
               b[n] == 0x9b);
        n++;
        break;
    }
    while (n < 16)
        b[n++] = (u8)rnd();
    return n;
}

#define SLOT 32
#define NCASES 20000

TEST(agrees_with_objdump)
{
    char path[] = "/tmp/keel-x86dec-XXXXXX";
    static u8 buf[NCASES * SLOT];
    static int ours[NCASES];
    unsigned int checked = 0, unknown = 0, mismatches = 0;
    char cmd[256], line[512];
    FILE *p;
    int fd;

    if (system("objdump --version >/dev/null 2>&1") != 0) {
        printf("  (objdump not found: differential check skipped)\n");
        return;
    }
    for (unsigned int i = 0; i < NCASES; i++) {
        struct x86_insn in;
        u8 *b = buf + i * SLOT;

        gen(b);
        ours[i] = x86_decode(b, 16, &in) == 0 ? (int)in.len : -1;
        /* objdump must start the next case on its boundary: pad with nops
         * after our length (or after 15 bytes when we refused). */
        memset(b + (ours[i] > 0 ? ours[i] : 15), 0x90, SLOT - (ours[i] > 0 ? ours[i] : 15));
    }
    fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
    close(fd);
    snprintf(cmd, sizeof(cmd),
             "objdump -D -b binary -m i386:x86-64 --insn-width=16 %s", path);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    while (p && fgets(line, sizeof(line), p)) {
        unsigned long addr;
        char *tab = strchr(line, '\t'), *tab2;
        unsigned int nbytes = 0;

        if (!tab || sscanf(line, " %lx:", &addr) != 1 || addr % SLOT)
            continue;
        tab2 = strchr(tab + 1, '\t');
        for (char *q = tab + 1; *q && q != tab2 && *q != '\n'; q++)
            if (q[0] != ' ' && (q == tab + 1 || q[-1] == ' '))
                nbytes++;
        unsigned int i = (unsigned int)(addr / SLOT);
        if (i >= NCASES || ours[i] < 0)
            continue;
        /* An opcode objdump does not know (undefined, or reserved in this
         * map): its length is not defined either; Keel never emulates one. */
        if (strstr(line, "(bad)")) {
            unknown++;
            continue;
        }
        checked++;
        if (nbytes != (unsigned int)ours[i]) {
            if (mismatches++ < 10) {
                fprintf(stderr, "  case %u: ours %d, objdump %u:", i, ours[i], nbytes);
                for (unsigned int k = 0; k < 16; k++)
                    fprintf(stderr, " %02x", buf[i * SLOT + k]);
                fprintf(stderr, "\n    %s", line);
            }
        }
    }
    if (p)
        pclose(p);
    unlink(path);
    printf("  differential: %u accepted instructions compared (%u opcodes objdump does not "
           "know), %u mismatches\n", checked, unknown, mismatches);
    CHECK(checked > NCASES / 4);
    CHECK_EQ(mismatches, 0);
}
