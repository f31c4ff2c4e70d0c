/* A domain's frames joining and leaving it: reservations and exchange
 * (hv/common/memory.c), repeated and overlapping inputs included. */
#include <keel/domain.h>
#include <keel/m2p.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <xen/errno.h>

#include "harness.h"

#define NR (MEM_KEEL_RESERVE + 512)
static struct page_info table[NR];
static unsigned long m2p[NR];
static struct domain *dom, *other;

void m2p_set(mfn_t mfn, unsigned long pfn)
{
    if (mfn < NR)
        m2p[mfn] = pfn;
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

static struct domain *new_domain(domid_t id, unsigned long max)
{
    struct domain *d = calloc(1, sizeof(*d));
    d->domid = id;
    d->max_pages = max;
    d->page_lock = (spinlock_t)SPINLOCK_INIT;
    return d;
}

static void setup(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    memset(m2p, 0xff, sizeof(m2p));
    free(dom);
    free(other);
    dom = new_domain(1, 64);
    other = new_domain(2, 64);
    page_owner_set_ops(&t_owner_ops);
}

static mfn_t populate(struct domain *d, unsigned order, unsigned long pfn)
{
    struct mem_extent e = {order, 0};
    mfn_t m = 0;
    CHECK_EQ(mem_populate(d, &e, pfn, &m), 0);
    return m;
}

#define COUNT(m) (table[m].count_info & PGC_count_mask)
#define OWNED(m, d) (page_state(&table[m]) == PGC_state_inuse && table[m].owner == (d) && \
                     (table[m].count_info & PGC_allocated))

TEST(populate_gives_zeroed_frames_with_m2p)
{
    setup();
    memset(host_directmap, 0x5a, (size_t)NR * PAGE_SIZE);
    mfn_t m = populate(dom, 2, 0x100);
    CHECK_EQ(dom->tot_pages, 4);
    for (unsigned j = 0; j < 4; j++) {
        CHECK(OWNED(m + j, dom));
        CHECK_EQ(m2p[m + j], 0x100 + j);
        CHECK_EQ(((u8 *)mfn_to_virt(m + j))[100], 0);
    }
    mfn_t n = populate(dom, 0, INVALID_M2P_ENTRY);
    CHECK_EQ(m2p[n], INVALID_M2P_ENTRY);
}

TEST(populate_respects_limit_order_reserve_and_address)
{
    setup();
    struct mem_extent big = {7, 0}, huge = {10, 0}, half = {9, 0}, low = {0, 13};
    mfn_t m = 0;
    unsigned long free_before = heap_free_frames();
    CHECK_EQ(mem_populate(dom, &big, 0, &m), -XEN_ENOMEM);  /* 128 > its 64 */
    CHECK_EQ(mem_populate(dom, &huge, 0, &m), -XEN_ENOMEM); /* order > 9 */
    CHECK_EQ(heap_free_frames(), free_before);
    CHECK_EQ(dom->tot_pages, 0);
    dom->is_privileged = true; /* no limit of its own, but Keel's reserve */
    populate(dom, 0, 0);
    CHECK_EQ(mem_populate(dom, &half, 0, &m), -XEN_ENOMEM);
    /* Below 8 KiB: frame 0 or 1, or nothing. */
    long rc = mem_populate(dom, &low, 0, &m);
    CHECK(rc == -XEN_ENOMEM || (rc == 0 && m < 2));
    CHECK_EQ(heap_verify(), 0);
}

TEST(release_is_all_or_nothing_per_extent)
{
    setup();
    mfn_t m = populate(dom, 1, 0);
    CHECK(get_page_keel_write(&table[m + 1], dom)); /* Keel writes into it */
    CHECK_EQ(mem_release(dom, 1, m), -XEN_EINVAL);
    CHECK(OWNED(m, dom) && OWNED(m + 1, dom));
    CHECK_EQ(dom->tot_pages, 2);
    put_page_keel_write(&table[m + 1]);
    CHECK_EQ(mem_release(dom, 1, m), 0);
    CHECK_EQ(page_state(&table[m]), PGC_state_free);
    CHECK_EQ(m2p[m], INVALID_M2P_ENTRY);
    CHECK_EQ(dom->tot_pages, 0);
    CHECK_EQ(heap_verify(), 0);
}

TEST(release_twice_or_overlapping_is_refused)
{
    setup();
    mfn_t m = populate(dom, 2, 0);
    CHECK_EQ(mem_release(dom, 0, m), 0);
    CHECK_EQ(mem_release(dom, 0, m), -XEN_EINVAL); /* gone already */
    CHECK_EQ(mem_release(dom, 1, m), -XEN_EINVAL); /* half gone: nothing done */
    CHECK(OWNED(m + 1, dom));
    CHECK_EQ(mem_release(dom, 1, m + 1), 0);
    CHECK_EQ(mem_release(dom, 1, m + 2), -XEN_EINVAL); /* overlaps the last one */
    CHECK(OWNED(m + 3, dom));
    CHECK_EQ(dom->tot_pages, 1);
    CHECK_EQ(mem_release(dom, 0, m + 3), 0);
    CHECK_EQ(heap_verify(), 0);
}

TEST(release_of_mapped_frame_frees_at_last_unmap)
{
    setup();
    mfn_t m = populate(dom, 0, 0);
    CHECK(get_page(&table[m], dom)); /* a guest mapping */
    CHECK_EQ(mem_release(dom, 0, m), 0);
    /* Still counted while it lives (Xen's accounting): mappings cannot
     * stretch the domain past its limit. */
    CHECK_EQ(dom->tot_pages, 1);
    CHECK_EQ(page_state(&table[m]), PGC_state_inuse);
    put_page(&table[m]);
    CHECK_EQ(page_state(&table[m]), PGC_state_free);
    CHECK_EQ(dom->tot_pages, 0);
}

TEST(release_refuses_others_pinned_and_bad_frames)
{
    setup();
    mfn_t theirs = populate(other, 0, 0), mine = populate(dom, 0, 0);
    CHECK_EQ(mem_release(dom, 0, theirs), -XEN_EINVAL);
    CHECK(page_pin(&table[mine], dom, PGT_l1_page_table));
    CHECK_EQ(mem_release(dom, 0, mine), -XEN_EINVAL);
    CHECK(page_unpin(&table[mine]));
    CHECK_EQ(mem_release(dom, 0, NR + 5), -XEN_EINVAL);
    CHECK_EQ(mem_release(dom, 0, ~0UL), -XEN_EINVAL);
    CHECK_EQ(mem_release(dom, 10, mine), -XEN_EINVAL); /* order over the limit */
    CHECK_EQ(mem_release(dom, 0, mine), 0);
}

static long xchg(xen_pfn_t *in, unsigned long n_in, unsigned in_order, unsigned out_order,
                 unsigned long n_out, mfn_t *out)
{
    struct mem_extent e = {out_order, 0};
    xen_pfn_t pfns[8] = {10, 20, 30, 40, 50, 60, 70, 80};
    return mem_exchange(dom, in_order, in, n_in, &e, pfns, n_out, out);
}

/* Nothing changed: the frames still ours, the heap whole, no leak. */
static void unchanged(const xen_pfn_t *in, unsigned n, unsigned long free_before)
{
    for (unsigned i = 0; i < n; i++)
        CHECK(OWNED(in[i], dom) && COUNT(in[i]) == 1);
    CHECK_EQ(heap_free_frames(), free_before);
    CHECK_EQ(heap_verify(), 0);
}

TEST(exchange_of_a_repeated_frame_is_refused)
{
    setup();
    mfn_t a = populate(dom, 0, 1), b = populate(dom, 0, 2), out[4];
    unsigned long free_before = heap_free_frames();
    xen_pfn_t twice[2] = {a, a}, abab[4] = {a, b, a, b};
    CHECK_EQ(xchg(twice, 2, 0, 1, 1, out), -XEN_EINVAL);
    unchanged(twice, 2, free_before);
    CHECK_EQ(xchg(abab, 4, 0, 2, 1, out), -XEN_EINVAL);
    unchanged(abab, 4, free_before);
    CHECK_EQ(dom->tot_pages, 2);
}

TEST(exchange_of_overlapping_extents_is_refused)
{
    setup();
    mfn_t base = populate(dom, 2, 0), out[1];
    unsigned long free_before = heap_free_frames();
    xen_pfn_t ext[2] = {base, base + 1};
    CHECK_EQ(xchg(ext, 2, 1, 2, 1, out), -XEN_EINVAL);
    xen_pfn_t all[4] = {base, base + 1, base + 2, base + 3};
    unchanged(all, 4, free_before);
}

TEST(exchange_refuses_mapped_typed_and_foreign_frames)
{
    setup();
    mfn_t a = populate(dom, 0, 0), b = populate(dom, 0, 0), t = populate(other, 0, 0), out[1];
    unsigned long free_before = heap_free_frames();
    xen_pfn_t in[2] = {a, b};
    CHECK(get_page(&table[b], dom));
    CHECK_EQ(xchg(in, 2, 0, 1, 1, out), -XEN_EINVAL);
    put_page(&table[b]);
    CHECK(get_page_keel_write(&table[b], dom));
    CHECK_EQ(xchg(in, 2, 0, 1, 1, out), -XEN_EINVAL);
    put_page_keel_write(&table[b]);
    in[1] = t;
    CHECK_EQ(xchg(in, 2, 0, 1, 1, out), -XEN_EINVAL);
    CHECK(OWNED(t, other));
    in[1] = NR + 100;
    CHECK_EQ(xchg(in, 2, 0, 1, 1, out), -XEN_EINVAL);
    in[1] = b;
    unchanged(in, 2, free_before);
}

TEST(exchange_swaps_frames)
{
    setup();
    mfn_t a = populate(dom, 0, 1), b = populate(dom, 0, 2), out[1] = {0};
    xen_pfn_t in[2] = {a, b};
    CHECK_EQ(xchg(in, 2, 0, 1, 1, out), 0);
    CHECK_EQ(page_state(&table[a]), PGC_state_free);
    CHECK_EQ(page_state(&table[b]), PGC_state_free);
    CHECK_EQ(m2p[a], INVALID_M2P_ENTRY);
    CHECK(OWNED(out[0], dom) && OWNED(out[0] + 1, dom));
    CHECK_EQ(out[0] & 1, 0);
    CHECK_EQ(m2p[out[0]], 10);
    CHECK_EQ(m2p[out[0] + 1], 11);
    CHECK_EQ(dom->tot_pages, 2);
    /* And back to two single frames. */
    xen_pfn_t one[1] = {out[0]};
    mfn_t two[2];
    CHECK_EQ(xchg(one, 1, 1, 0, 2, two), 0);
    CHECK(OWNED(two[0], dom) && OWNED(two[1], dom));
    CHECK_EQ(dom->tot_pages, 2);
    CHECK_EQ(heap_verify(), 0);
}

TEST(exchange_size_rules)
{
    setup();
    mfn_t a = populate(dom, 0, 0), out[2];
    xen_pfn_t in[1] = {a};
    CHECK_EQ(xchg(in, 1, 0, 10, 1, out), -XEN_EPERM); /* order over the limit */
    CHECK_EQ(xchg(in, 1, 10, 0, 1, out), -XEN_EPERM);
    CHECK_EQ(xchg(in, 1, 0, 1, 1, out), -XEN_EINVAL); /* 1 frame for 2 */
    CHECK_EQ(xchg(in, 0, 0, 0, 0, out), -XEN_EINVAL); /* nothing */
    struct mem_extent e = {0, 0};
    CHECK_EQ(mem_exchange(dom, 0, in, MEM_EXCHANGE_MAX_FRAMES + 1, &e, NULL,
                          MEM_EXCHANGE_MAX_FRAMES + 1, NULL), -XEN_EINVAL);
    xen_pfn_t badpfn[1] = {MEM_MAX_GUEST_PFN};
    CHECK_EQ(mem_exchange(dom, 0, in, 1, &e, badpfn, 1, out), -XEN_EINVAL);
    unchanged(in, 1, heap_free_frames());
}

TEST(exchange_out_of_low_memory_leaks_nothing)
{
    setup();
    mfn_t a = populate(dom, 0, 0), out[1];
    xen_pfn_t in[1] = {a}, pfn[1] = {0};
    unsigned long free_before = heap_free_frames();
    struct mem_extent e = {0, 13}; /* below 8 KiB: frame 0 or 1 only */
    long rc = mem_exchange(dom, 0, in, 1, &e, pfn, 1, out);
    CHECK(rc == -XEN_ENOMEM || rc == 0);
    if (rc)
        unchanged(in, 1, free_before);
}

TEST(unpopulate_takes_back_only_what_is_still_there)
{
    setup();
    mfn_t m = populate(dom, 1, 0);
    CHECK_EQ(mem_release(dom, 0, m + 1), 0); /* the guest guessed and gave it back */
    mem_unpopulate(dom, 1, m);
    CHECK_EQ(dom->tot_pages, 0);
    CHECK_EQ(page_state(&table[m]), PGC_state_free);
    CHECK_EQ(heap_verify(), 0);
}

TEST(mappings_cannot_stretch_the_limit)
{
    setup();
    mfn_t held[64];
    for (unsigned i = 0; i < 64; i++) {
        held[i] = populate(dom, 0, i);
        CHECK(get_page(&table[held[i]], dom)); /* mapped */
        CHECK_EQ(mem_release(dom, 0, held[i]), 0); /* given back, still alive */
    }
    struct mem_extent e = {0, 0};
    mfn_t m;
    CHECK_EQ(mem_populate(dom, &e, 0, &m), -XEN_ENOMEM); /* 64 still alive */
    put_page(&table[held[0]]);
    CHECK_EQ(mem_populate(dom, &e, 0, &m), 0);
    for (unsigned i = 1; i < 64; i++)
        put_page(&table[held[i]]);
    CHECK_EQ(dom->tot_pages, 1);
}

TEST(shared_frames_are_not_counted)
{
    setup();
    struct page_info *pg = alloc_pages(0);
    page_share_with_guest(pg, dom);
    CHECK_EQ(dom->tot_pages, 0);
    page_unshare(pg);
    CHECK_EQ(dom->tot_pages, 0);
}
