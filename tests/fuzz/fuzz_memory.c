/*
 * libFuzzer target for a domain's memory: arbitrary sequences of
 * reservations, releases and exchanges (repeated and overlapping frames
 * included) on three domains, interleaved with what other hypercalls do to
 * the same frames — guest mappings (read-only and writable) loaded into two
 * CPUs' TLBs, pins, Keel write references, frames Keel shares with a
 * domain or allocates for itself, TLB flushes — against a model of every
 * frame.  After every step:
 *  - each frame's owner, reference count, type and type count are what the
 *    model says (so no frame is freed or owned twice, nothing leaks);
 *  - tot_pages of each domain counts exactly the frames it owns until they
 *    are freed (Keel's shared ones aside);
 *  - a frame Keel writes into is never typed as a table or descriptor;
 *  - no TLB holds a frame that was handed out again since, nor a writable
 *    translation of a frame that is a table now;
 *  - the allocator's lists are consistent.
 */
#include <keel/domain.h>
#include <keel/m2p.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/tlbclock.h>
#include <xen/errno.h>

#define NR (MEM_KEEL_RESERVE + 192)
#define NDOM 3
#define NCPU 2

static struct page_info table[NR];
static struct domain doms[NDOM];

struct fmodel {
    int owner;          /* domain index, or -1: free or Keel's */
    bool allocated;     /* PGC_allocated */
    bool shared;        /* page_share_with_guest: never in tot_pages */
    bool shared_ref;    /* ... and Keel still holds its write reference */
    bool keel;          /* Keel's own frame */
    unsigned ro, rw;    /* guest mappings */
    bool pinned;        /* pinned as an L1 */
    unsigned keelw;     /* Keel write references besides `shared` */
    unsigned gen;       /* bumped whenever the frame is handed out */
};
static struct fmodel fm[NR];

struct tlbe {
    bool valid, rw;
    unsigned gen;
};
static struct tlbe tlb[NCPU][NR];

void m2p_set(mfn_t mfn, unsigned long pfn)
{
    (void)mfn;
    (void)pfn;
}

static void cpu_flush(unsigned cpu)
{
    bool wrapped;
    u32 t = tlbclock_tick(&wrapped);
    memset(tlb[cpu], 0, sizeof(tlb[cpu]));
    tlbclock_flushed(cpu, t);
    if (wrapped) { /* the softirq's global flush, at once */
        for (unsigned c = 0; c < NCPU; c++) {
            u32 t2 = tlbclock_tick(&wrapped);
            memset(tlb[c], 0, sizeof(tlb[c]));
            tlbclock_flushed(c, t2);
        }
        tlbclock_period_done();
    }
}

void tlb_flush_stale(u32 stamp)
{
    u64 stale = tlbclock_stale_cpus((1UL << NCPU) - 1, stamp);
    for (unsigned c = 0; c < NCPU; c++)
        if (stale >> c & 1)
            cpu_flush(c);
}

/* The frame table's owner hooks, as domain.c installs them, minus the
 * frame lists: tot_pages follows frees. */
static bool t_assign(struct page_info *pg, struct domain *d)
{
    page_set_owner(pg, d);
    return true;
}
static bool t_release(struct page_info *pg, struct domain *d)
{
    mem_frame_freed(d, pg);
    return false;
}
static void t_released(struct domain *d) { (void)d; }
static const struct page_owner_ops t_owner_ops = {t_assign, t_release, t_released};

/* ---- the model's bookkeeping */

static void hand_out(mfn_t m, int owner, bool keel)
{
    if (fm[m].owner != -1 || fm[m].keel || fm[m].allocated)
        abort(); /* handed out twice */
    fm[m] = (struct fmodel){.owner = owner, .allocated = owner >= 0, .keel = keel,
                            .gen = fm[m].gen + 1};
}

static unsigned refs(const struct fmodel *f)
{
    return f->ro + f->rw + f->pinned + f->keelw + f->shared_ref;
}

/* Drops to free when nothing holds the frame any more. */
static void maybe_free(mfn_t m)
{
    struct fmodel *f = &fm[m];
    if (f->owner >= 0 && !f->allocated && !refs(f))
        f->owner = -1;
}

/* ---- checks */

static void check_frame(mfn_t m)
{
    const struct page_info *pg = &table[m];
    const struct fmodel *f = &fm[m];
    unsigned long count = pg->count_info & PGC_count_mask;
    unsigned long tc = pg->u.type_info & PGT_count_mask, type = pg->u.type_info & PGT_type_mask;

    if (f->owner < 0 && !f->keel) {
        if (page_state(pg) != PGC_state_free)
            abort();
        return;
    }
    if (page_state(pg) != PGC_state_inuse)
        abort();
    if (f->keel) {
        if (pg->owner || count)
            abort();
        return;
    }
    if (pg->owner != &doms[f->owner] || !!(pg->count_info & PGC_allocated) != f->allocated)
        abort();
    if (count != f->allocated + refs(f) || pg->keel_writes != f->keelw + f->shared_ref)
        abort();
    if (!!(pg->count_info & PGC_shared) != f->shared)
        abort();
    if (tc != f->rw + f->keelw + f->shared_ref + f->pinned)
        abort();
    if (tc && (f->rw || f->keelw || f->shared_ref) && type != PGT_writable_page)
        abort();
    if (f->pinned && (type != PGT_l1_page_table || !(pg->u.type_info & PGT_pinned)))
        abort();
    /* The rule of finding 1: never a table while Keel writes it. */
    if (pg->keel_writes && type != PGT_writable_page)
        abort();
}

static void check_tlbs(void)
{
    for (unsigned c = 0; c < NCPU; c++)
        for (mfn_t m = 0; m < NR; m++) {
            const struct tlbe *e = &tlb[c][m];
            if (!e->valid || (fm[m].owner < 0 && !fm[m].keel))
                continue; /* free frames may linger in TLBs until reused */
            if (e->gen != fm[m].gen)
                abort(); /* reachable in its new life */
            if (e->rw && (table[m].u.type_info & PGT_type_mask) != PGT_writable_page &&
                (table[m].u.type_info & PGT_count_mask))
                abort(); /* writable translation of a table */
        }
}

static void check_all(void)
{
    unsigned long tot[NDOM] = {0};

    for (mfn_t m = 0; m < NR; m++) {
        check_frame(m);
        /* Counted until freed, given back or not (Xen's accounting). */
        if (fm[m].owner >= 0 && !fm[m].shared)
            tot[fm[m].owner]++;
    }
    for (unsigned d = 0; d < NDOM; d++)
        if (doms[d].tot_pages != tot[d])
            abort();
    check_tlbs();
    if (heap_verify())
        abort();
}

/* ---- the operations */

struct input {
    const uint8_t *p;
    size_t n;
};

static unsigned byte(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

/* A frame, biased towards the ones the domains own. */
static mfn_t pick(struct input *in)
{
    unsigned b = byte(in), want = byte(in) % NDOM;
    if (b & 0x80) /* anything */
        return (mfn_t)((b & 0x7f) * 13 + byte(in)) % NR;
    for (mfn_t k = 0; k < NR; k++) {
        mfn_t m = (mfn_t)(b * 7 + k) % NR;
        if (fm[m].owner == (int)want)
            return m;
    }
    return b % NR;
}

static void op_populate(struct input *in)
{
    unsigned d = byte(in) % NDOM, b = byte(in);
    struct mem_extent e = {b & 3, (b & 4) ? 24 : 0};
    mfn_t m;

    if (mem_populate(&doms[d], &e, byte(in), &m))
        return;
    for (unsigned j = 0; j < (1U << e.order); j++)
        hand_out(m + j, (int)d, false);
    if (b & 8) { /* the guest could not be told: taken back */
        mem_unpopulate(&doms[d], e.order, m);
        for (unsigned j = 0; j < (1U << e.order); j++) {
            fm[m + j].allocated = false;
            maybe_free(m + j);
        }
    }
}

static void op_release(struct input *in)
{
    unsigned d = byte(in) % NDOM, order = byte(in) % 3;
    mfn_t m = pick(in);

    if (mem_release(&doms[d], order, m))
        return;
    for (unsigned j = 0; j < (1U << order); j++) {
        if (fm[m + j].owner != (int)d || !fm[m + j].allocated || fm[m + j].shared_ref ||
            fm[m + j].pinned || fm[m + j].keelw)
            abort(); /* released what it may not */
        fm[m + j].allocated = false;
        maybe_free(m + j);
    }
}

static void op_exchange(struct input *in)
{
    unsigned d = byte(in) % NDOM, b = byte(in), n_in = 1 + (b & 3), in_order = (b >> 2) & 1;
    unsigned frames = n_in << in_order, out_order = (b >> 3) & 3;
    xen_pfn_t list[4], pfn[8] = {0};
    mfn_t out[8];
    struct mem_extent e = {out_order, 0};
    unsigned n_out = (frames >> out_order) ? frames >> out_order : 1;

    for (unsigned i = 0; i < n_in; i++)
        list[i] = (b & 0x40) && i ? list[byte(in) % i] : pick(in); /* repeats */
    if (mem_exchange(&doms[d], in_order, list, n_in, &e, pfn, n_out, out))
        return;
    /* Success: every input frame was d's alone, each named once. */
    for (unsigned i = 0; i < n_in; i++)
        for (unsigned j = 0; j < (1U << in_order); j++) {
            struct fmodel *f = &fm[list[i] + j];
            if (f->owner != (int)d || !f->allocated || refs(f))
                abort(); /* exchanged a frame twice, or one in use */
            f->allocated = false;
            f->owner = -1;
        }
    for (unsigned i = 0; i < n_out; i++)
        for (unsigned j = 0; j < (1U << out_order); j++)
            hand_out(out[i] + j, (int)d, false);
}

static void op_map(struct input *in)
{
    unsigned d = byte(in) % NDOM, b = byte(in), cpu = b % NCPU;
    bool rw = b & 2;
    mfn_t m = pick(in);
    struct page_info *pg = &table[m];

    if (!get_page(pg, &doms[d]))
        return;
    if (rw && !get_page_type(pg, PGT_writable_page)) {
        put_page(pg);
        return;
    }
    if (fm[m].owner != (int)d)
        abort();
    rw ? fm[m].rw++ : fm[m].ro++;
    tlb[cpu][m] = (struct tlbe){true, rw, fm[m].gen};
}

static void op_unmap(struct input *in)
{
    mfn_t m = pick(in);
    bool rw = byte(in) & 1;

    if (rw ? !fm[m].rw : !fm[m].ro)
        return;
    rw ? fm[m].rw-- : fm[m].ro--;
    if (rw)
        put_page_type(&table[m]);
    put_page(&table[m]); /* no flush: the TLB keeps it */
    maybe_free(m);
}

static void op_pin(struct input *in)
{
    unsigned d = byte(in) % NDOM;
    mfn_t m = pick(in);

    if (fm[m].pinned) {
        if (!page_unpin(&table[m]))
            abort();
        fm[m].pinned = false;
        maybe_free(m);
        return;
    }
    if (!page_pin(&table[m], &doms[d], PGT_l1_page_table))
        return;
    if (fm[m].owner != (int)d || fm[m].rw || fm[m].keelw || fm[m].shared_ref)
        abort(); /* a writable or Keel-written frame became a table */
    fm[m].pinned = true;
}

static void op_keel_write(struct input *in)
{
    unsigned d = byte(in) % NDOM;
    mfn_t m = pick(in);

    if (fm[m].keelw && (byte(in) & 1)) {
        put_page_keel_write(&table[m]);
        fm[m].keelw--;
        maybe_free(m);
        return;
    }
    if (!get_page_keel_write(&table[m], &doms[d]))
        return;
    if (fm[m].owner != (int)d || fm[m].pinned)
        abort();
    fm[m].keelw++;
}

static void op_keel_frame(struct input *in)
{
    unsigned d = byte(in) % NDOM, b = byte(in);
    mfn_t m = pick(in);

    if (b & 1) { /* give one back: Keel's own, or a shared one */
        if (fm[m].keel) {
            free_pages(&table[m], 0);
            fm[m].keel = false;
        } else if (fm[m].shared_ref && fm[m].allocated) {
            page_unshare(&table[m]);
            fm[m].shared_ref = false;
            fm[m].allocated = false;
            maybe_free(m);
        }
        return;
    }
    if (heap_free_frames() <= MEM_KEEL_RESERVE)
        return;
    struct page_info *pg = alloc_pages(0);
    if (!pg)
        return;
    m = page_to_mfn(pg);
    if (b & 2) {
        hand_out(m, -1, true);
    } else {
        page_share_with_guest(pg, &doms[d]);
        hand_out(m, (int)d, false);
        fm[m].shared = fm[m].shared_ref = true;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    unsigned steps = 0;

    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    tlbclock_init(size && (data[0] & 1) ? 0x1f : 0); /* small clocks wrap */
    memset(doms, 0, sizeof(doms));
    for (unsigned d = 0; d < NDOM; d++) {
        doms[d].domid = (domid_t)d;
        doms[d].max_pages = 48;
        doms[d].page_lock = (spinlock_t)SPINLOCK_INIT;
    }
    doms[0].is_privileged = true;
    page_owner_set_ops(&t_owner_ops);
    memset(tlb, 0, sizeof(tlb));
    for (mfn_t m = 0; m < NR; m++)
        fm[m] = (struct fmodel){.owner = -1};

    while (in.n && steps++ < 400) {
        switch (byte(&in) % 10) {
        case 0: case 1: op_populate(&in); break;
        case 2: op_release(&in); break;
        case 3: op_exchange(&in); break;
        case 4: op_map(&in); break;
        case 5: op_unmap(&in); break;
        case 6: op_pin(&in); break;
        case 7: op_keel_write(&in); break;
        case 8: op_keel_frame(&in); break;
        default: cpu_flush(byte(&in) % NCPU); break;
        }
        check_all();
    }
    return 0;
}
