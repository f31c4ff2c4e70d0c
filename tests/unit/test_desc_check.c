/* Segment descriptor rules for PV guests (values as Xen 4.17 treats them,
 * see tests/guests/gdt). */
#include <keel/desc_check.h>
#include <xen/errno.h>

#include "harness.h"

#define CODE64_DPL0 0x00af9b000000ffffULL
#define CODE64_DPL3 0x00affb000000ffffULL
#define DATA_DPL0 0x00cf93000000ffffULL
#define DATA_DPL3 0x00cff3000000ffffULL
#define GATE(sel) (((u64)(sel) << 16) | (0xecULL << 40)) /* DPL 3 */

static bool fix(u64 in, u64 *out)
{
    *out = in;
    return desc_fixup(out);
}

TEST(code_and_data_get_dpl3)
{
    u64 d;
    CHECK(fix(CODE64_DPL0, &d));
    CHECK_EQ(d, CODE64_DPL3);
    CHECK(fix(DATA_DPL0, &d));
    CHECK_EQ(d, DATA_DPL3);
    CHECK(fix(DATA_DPL3, &d));
    CHECK_EQ(d, DATA_DPL3);
    /* DPL 1 and 2 too; other bits untouched (base, limit, L, accessed). */
    CHECK(fix(0x12cfb2345678ffffULL, &d));
    CHECK_EQ(d, 0x12cff2345678ffffULL);
}

TEST(not_present_and_type0_kept)
{
    u64 d;
    /* Not present: whatever else it says (even a ring-0 gate). */
    CHECK(fix(GATE(0xe008) & ~(1ULL << 47), &d));
    CHECK_EQ(d, GATE(0xe008) & ~(1ULL << 47));
    CHECK(fix(0x0000f00000000000ULL, &d)); /* present system type 0 */
    CHECK_EQ(d, 0x0000f00000000000ULL);
    CHECK(fix(0, &d));
    CHECK_EQ(d, 0);
}

TEST(system_descriptors_refused)
{
    u64 d = 0x0000890000000067ULL; /* 64-bit TSS */
    CHECK(!desc_fixup(&d));
    CHECK_EQ(d, 0x0000890000000067ULL);
    d = 0x0000820000000067ULL; /* LDT */
    CHECK(!desc_fixup(&d));
    d = 0x00008e0000080000ULL; /* interrupt gate */
    CHECK(!desc_fixup(&d));
    d = 0x00008f0000080000ULL; /* trap gate */
    CHECK(!desc_fixup(&d));
}

TEST(call_gates)
{
    u64 d;
    /* Into the guest's GDT, LDT, null, or FLAT_KERNEL_CS: kept, DPL 0,
     * target RPL 3. */
    CHECK(fix(GATE(0x33), &d));
    CHECK_EQ(d, 0x00008c0000330000ULL);
    CHECK(fix(GATE(0x10), &d));
    CHECK_EQ(d, 0x00008c0000130000ULL);
    CHECK(fix(GATE(0), &d));
    CHECK(fix(GATE(0xe00c), &d)); /* TI=1 */
    CHECK(fix(GATE(0xe033), &d));
    CHECK(fix(GATE(0xdff8), &d)); /* last guest entry */
    /* Into Keel's own selectors. */
    CHECK(!fix(GATE(0xe008), &d));
    CHECK(!fix(GATE(0xe000), &d));
    CHECK(!fix(GATE(0xe02b), &d));
    CHECK(!fix(GATE(0xe040), &d));
    CHECK(!fix(GATE(0xfff8), &d));
    /* IST/reserved bits set. */
    CHECK(!fix(GATE(0x33) | (1ULL << 32), &d));
}

TEST(page_check_fixes_in_place_and_stops_at_bad)
{
    static u64 page[512];
    memset(page, 0, sizeof(page));
    page[2] = CODE64_DPL0;
    page[3] = DATA_DPL0;
    CHECK_EQ(desc_page_check(page), 0);
    CHECK_EQ(page[2], CODE64_DPL3);
    CHECK_EQ(page[3], DATA_DPL3);
    page[511] = GATE(0xe008);
    CHECK_EQ(desc_page_check(page), -XEN_EINVAL);
    CHECK_EQ(page[511], GATE(0xe008));
}
