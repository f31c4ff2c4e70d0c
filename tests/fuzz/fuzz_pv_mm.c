/*
 * libFuzzer target for PV page tables under mmu_update's writer
 * (pv_pt_write, keel/pv_mm.h): arbitrary runs of entry writes into two
 * domains' frames — tables and plain frames, every level, present or not,
 * writable or not, linear, foreign, self-referencing — interleaved with
 * the end of a run, pins and unpins at every level, and type references
 * taken and dropped as loaded page-table roots do.  Pins, references and
 * writes may validate preemptibly, stopping wherever the input says
 * (Xen's PGT_partial), and partial states may be dropped as domain
 * destruction does; a dropped root reference may keep its table whole
 * as partial (put_page_type_keep).  Unpins, dropped root references, overwritten entries
 * and refused validations may release preemptibly too, the rest parked as in a vCPU
 * (page_put_later): while something is parked, a step either goes on
 * with it (a continuation) or is another vCPU's, which parks nothing
 * (and may take a half-released table over).  After every step:
 *  - a frame Keel writes (a Keel write reference) is writable, never a
 *    table or descriptor page;
 *  - every type reference sits on a general one (count >= type count,
 *    plus PGC_allocated's), and a frame with a type count has an owner;
 *  - a partially validated or released frame is a table of level 2-4
 *    with exactly the flag's type reference, never validated, never
 *    usable (level 0), its stop point within the table;
 *  - a parked release holds a general reference, and a type reference
 *    on a validated table unless it is only a claim on a partial one;
 *  - every present entry of a validated table in use names a validated
 *    frame, never a partial one.
 * (The frame table's own BUG_ONs check the rest as it goes.)
 * At the end the parked release is finished, stopping at every look, in
 * a bounded number of calls (each makes progress); then everything is
 * undone (run ended, pins and references dropped, partial states
 * dropped) and every frame must be back where it began:
 * only PGC_allocated's reference, no type count, no linear count, no
 * Keel write reference — so no step leaked or lost a reference.
 */
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

#define NR 24
#define NREFS 16

static struct page_info table[NR];
static struct domain *dom_a = (struct domain *)0x1000, *dom_b = (struct domain *)0x2000;
static bool pinned[NR];
static struct {
    mfn_t m;
    unsigned long type;
} refs[NREFS];
static unsigned int nrefs;
static unsigned int yield_mask, yield_looks;
static struct page_put_later later; /* one vCPU's parked release */

/* Stops preemptible validation at the looks the input chose. */
bool pv_mm_arch_should_yield(void)
{
    return yield_mask && (yield_mask >> (yield_looks++ % 8)) & 1;
}

struct input {
    const uint8_t *p;
    size_t n;
};

static unsigned int byte(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static struct domain *owner_of(mfn_t m)
{
    return m < NR / 2 + 4 ? dom_a : dom_b;
}

/* An entry naming one of the frames (or one past them), with flags that
 * matter to the rules. */
static u64 entry(struct input *in)
{
    static const u64 flag_sets[8] = {
        0, PTE_P, PTE_P | PTE_RW, PTE_P | PTE_RW | PTE_US, PTE_P | PTE_PSE,
        PTE_P | PTE_G | PTE_A | PTE_D, PTE_P | PTE_PCD, PTE_RW,
    };
    unsigned int b = byte(in);
    mfn_t m = byte(in) % (NR + 1);

    return ((u64)m << PAGE_SHIFT) | flag_sets[b & 7];
}

static void check_frame(mfn_t m)
{
    const struct page_info *pg = &table[m];
    unsigned long t = pg->u.type_info, c = pg->count_info & PGC_count_mask;
    unsigned long tc = t & PGT_count_mask;

    if (page_keel_writes(pg) && (t & PGT_type_mask) != PGT_writable_page)
        abort();
    if (c < tc + !!(pg->count_info & PGC_allocated))
        abort();
    if (tc && !pg->owner)
        abort();
    if (t & PGT_partial) {
        unsigned int level = pgt_level(t);
        if (level < 2 || tc != 1 || (t & PGT_validated) || pv_table_level(pg) ||
            ((pg->nr_validated & ~PG_NR_PARTIAL_CHILD) > PT_SLOTS &&
             pg->nr_validated != PG_NR_ALL) ||
            ((pg->nr_validated & PG_NR_PARTIAL_CHILD) &&
             (pg->nr_validated & ~PG_NR_PARTIAL_CHILD) == PT_SLOTS))
            abort();
    }
    if (later.pg == pg) {
        if (c < 1 + !!(pg->count_info & PGC_allocated) + tc)
            abort();
        if (!later.partial && (!tc || !(t & PGT_validated) || !pgt_level(t)))
            abort();
    }
    /* Entries of a usable table name only usable tables below it. */
    unsigned int level = pv_table_level(pg);
    if (level >= 2) {
        const u64 *e = mfn_to_virt(m);
        for (unsigned int i = 0; i < PT_SLOTS; i++) {
            mfn_t c = pte_mfn(e[i]);
            if (!(e[i] & PTE_P) || c >= NR || c == m || (level == 4 && l4_slot_is_keel(i)))
                continue;
            if (!(table[c].u.type_info & PGT_validated) || (table[c].u.type_info & PGT_partial))
                abort();
        }
    }
}

static void op_write(struct input *in, struct pv_pt_writer *w)
{
    mfn_t m = byte(in) % NR;
    unsigned int slot = byte(in) % 8;
    u64 maddr, val = entry(in);

    if (byte(in) & 1)
        slot = L4_KEEL_FIRST + (slot & 1); /* Keel's L4 slots */
    maddr = ((u64)m << PAGE_SHIFT) + 8 * slot;
    (void)pv_pt_write(w, maddr, val, byte(in) & 1);
}

static void op_pin(struct input *in)
{
    mfn_t m = byte(in) % NR;
    unsigned int level = 1 + byte(in) % 4;

    if (pinned[m]) {
        /* Preemptibly only by the vCPU with nothing parked. */
        if (!later.pg && (byte(in) & 1) ? !page_unpin_later(&table[m], &later)
                                        : !page_unpin(&table[m]))
            abort();
        pinned[m] = false;
        return;
    }
    if (byte(in) & 1) /* a refusal's undo may be parked (by the vCPU with room) */
        pinned[m] = page_pin_preemptible_later(&table[m], owner_of(m), pgt_of_level(level),
                                               later.pg ? NULL : &later) == 0;
    else
        pinned[m] = page_pin(&table[m], owner_of(m), pgt_of_level(level));
}

static void op_ref(struct input *in)
{
    mfn_t m = byte(in) % NR;
    unsigned long type = pgt_of_level(1 + byte(in) % 4);

    if (nrefs && (byte(in) & 1)) {
        nrefs--;
        unsigned int how = byte(in);
        if (!later.pg && (how & 1))
            (void)put_page_and_type_later(&table[refs[nrefs].m], &later);
        else if (how & 2) { /* as a root kept for VCPUOP_initialise's next call */
            put_page_type_keep(&table[refs[nrefs].m]);
            put_page(&table[refs[nrefs].m]);
        } else
            put_page_and_type(&table[refs[nrefs].m]);
        return;
    }
    if (nrefs >= NREFS || !get_page(&table[m], owner_of(m)))
        return;
    /* As a new root is loaded: preemptibly (a refusal's undo parked). */
    int rc = get_page_type_preemptible(&table[m], type);
    if (rc) {
        if (rc == -KEEL_ERESTART || !page_park_partial(&table[m], later.pg ? NULL : &later))
            put_page(&table[m]);
        return;
    }
    refs[nrefs++] = (typeof(refs[0])){m, type};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct pv_pt_writer w = {.pt_owner = dom_a, .pg_owner = dom_a};
    unsigned int steps = 0;

    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    pv_mm_init();
    for (mfn_t m = 0; m < NR; m++) {
        struct page_info *pg = alloc_pages(0);
        memset(mfn_to_virt(page_to_mfn(pg)), 0, PAGE_SIZE);
        page_assign(pg, owner_of(page_to_mfn(pg)));
        pinned[m] = false;
    }
    nrefs = 0;
    later = (struct page_put_later){0};
    yield_mask = yield_looks = 0;

    while (in.n && steps++ < 300) {
        /* The parked vCPU's continuation, or another vCPU's step. */
        if (later.pg && (byte(&in) & 1)) {
            pv_pt_writer_done(&w);
            (void)page_put_later_run(&later, true);
            goto check;
        }
        w.later = later.pg ? NULL : &later;
        switch (byte(&in) % 8) {
        case 0: case 1: case 2: op_write(&in, &w); break;
        case 3:
            pv_pt_writer_done(&w);
            switch (byte(&in) % 4) {
            case 0: w.preemptible = !w.preemptible; break;
            case 1: yield_mask = byte(&in); break;
            case 2: page_drop_partial(&table[byte(&in) % NR]); break;
            default: break;
            }
            break;
        case 4: op_pin(&in); break;
        case 5: op_ref(&in); break;
        case 6: /* a privileged caller writing with another domain's frames */
            pv_pt_writer_done(&w);
            w.pg_owner = byte(&in) & 1 ? dom_b : dom_a;
            break;
        default: /* the writer for the other domain's tables */
            pv_pt_writer_done(&w);
            w.pt_owner = w.pt_owner == dom_a ? dom_b : dom_a;
            break;
        }
    check:
        for (mfn_t m = 0; m < NR; m++)
            check_frame(m);
    }

    /* Undo everything: nothing may be left over. */
    pv_pt_writer_done(&w);
    yield_mask = 0xff;
    for (unsigned int calls = 0; later.pg; calls++) {
        if (calls > NR * PT_SLOTS)
            abort(); /* a call that made no progress */
        (void)page_put_later_run(&later, true);
        for (mfn_t m = 0; m < NR; m++)
            check_frame(m);
    }
    yield_mask = 0;
    while (nrefs) {
        nrefs--;
        put_page_and_type(&table[refs[nrefs].m]);
    }
    for (mfn_t m = 0; m < NR; m++)
        if (pinned[m] && !page_unpin(&table[m]))
            abort();
    for (mfn_t m = 0; m < NR; m++) /* as domain destruction meets them */
        page_drop_partial(&table[m]);
    for (mfn_t m = 0; m < NR; m++) {
        const struct page_info *pg = &table[m];
        if ((pg->count_info & PGC_count_mask) != 1 || !(pg->count_info & PGC_allocated) ||
            (pg->u.type_info & (PGT_count_mask | PGT_linear_mask | PGT_partial)) ||
            page_keel_writes(pg))
            abort();
    }
    return 0;
}
