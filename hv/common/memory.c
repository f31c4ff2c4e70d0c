/*
 * A domain's frames joining and leaving it (see keel/memory.h for the
 * rules).  Pattern throughout: do what can fail first, on frames nobody
 * else can see or on frames claimed one by one; then, under d->page_lock,
 * the accounting that cannot fail.
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/m2p.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <xen/errno.h>

/* dom0's reservation has no limit of its own, as with Xen. */
#define DOM0_LIMIT 0xffffffffUL

void mem_frame_freed(struct domain *d, const struct page_info *pg)
{
    if (!(READ_ONCE(pg->count_info) & PGC_shared))
        __atomic_sub_fetch(&d->tot_pages, 1, __ATOMIC_RELAXED);
}

unsigned long mem_limit(const struct domain *d)
{
    return d->is_privileged ? DOM0_LIMIT : d->max_pages;
}

unsigned int mem_max_order(const struct domain *d)
{
    return d->is_privileged ? MEM_DOM0_MAX_ORDER : MEM_DOMU_MAX_ORDER;
}

/* ------------------------------------------------------- new extents */

static bool below(const struct page_info *pg, unsigned int order, unsigned int bits)
{
    u64 end = ((u64)page_to_mfn(pg) + (1UL << order)) << PAGE_SHIFT;

    return !bits || bits >= 64 || end <= (1ULL << bits);
}

/* A zeroed block nobody knows about yet, or NULL. */
static struct page_info *fresh_block(const struct mem_extent *e)
{
    struct page_info *pg;

    if (e->order > MEM_DOM0_MAX_ORDER ||
        heap_free_frames() < MEM_KEEL_RESERVE + (1UL << e->order))
        return NULL;
    pg = alloc_pages(e->order);
    if (pg && !below(pg, e->order, e->address_bits)) {
        /* The allocator takes no address limit: a block too high fails. */
        free_pages(pg, e->order);
        return NULL;
    }
    for (unsigned long j = 0; pg && j < (1UL << e->order); j++)
        memset(mfn_to_virt(page_to_mfn(pg + j)), 0, PAGE_SIZE);
    return pg;
}

/*
 * d owns the block from now on (caller holds d->page_lock); false, the
 * block freed, when d takes no more frames (it is dying).  Counted first:
 * a frame that joins may be given back, and freed, at once.
 */
static bool join(struct domain *d, struct page_info *pg, unsigned int order,
                 unsigned long pfn)
{
    unsigned long n = 1UL << order, j;

    __atomic_add_fetch(&d->tot_pages, n, __ATOMIC_RELAXED);
    for (j = 0; j < n; j++) {
        m2p_set(page_to_mfn(pg + j), pfn == INVALID_M2P_ENTRY ? pfn : pfn + j);
        if (!page_assign(pg + j, d))
            break;
    }
    if (j == n)
        return true;
    /* Those assigned leave tot_pages as they are freed; the rest now. */
    __atomic_sub_fetch(&d->tot_pages, n - j, __ATOMIC_RELAXED);
    for (unsigned long k = 0; k < n; k++) {
        m2p_set(page_to_mfn(pg + k), INVALID_M2P_ENTRY);
        if (k < j)
            page_unassign(pg + k);
        else
            free_pages(pg + k, 0);
    }
    return false;
}

static bool alive(const struct domain *d)
{
    return !READ_ONCE(d->is_shutting_down) && READ_ONCE(d->is_dying) == DOMAIN_ALIVE;
}

static bool room_for(const struct domain *d, unsigned long frames)
{
    unsigned long tot = READ_ONCE(d->tot_pages);

    return alive(d) && tot + frames <= mem_limit(d) && tot + frames >= tot;
}

long mem_populate(struct domain *d, const struct mem_extent *e, unsigned long pfn,
                  mfn_t *mfn)
{
    unsigned long n = 1UL << e->order;
    struct page_info *pg;

    if (!room_for(d, n))
        return -XEN_ENOMEM; /* early: no zeroing for nothing */
    pg = fresh_block(e); /* the order is capped there */
    if (!pg)
        return -XEN_ENOMEM;
    spin_lock(&d->page_lock);
    if (!room_for(d, n)) {
        spin_unlock(&d->page_lock);
        free_pages(pg, e->order);
        return -XEN_ENOMEM;
    }
    if (!join(d, pg, e->order, pfn)) {
        spin_unlock(&d->page_lock);
        return -XEN_ENOMEM;
    }
    spin_unlock(&d->page_lock);
    *mfn = page_to_mfn(pg);
    return 0;
}

void mem_unpopulate(struct domain *d, unsigned int order, mfn_t mfn)
{
    spin_lock(&d->page_lock);
    for (unsigned long j = 0; j < (1UL << order); j++) {
        struct page_info *pg = mfn_to_page(mfn + j);
        /* Nobody was told about it; a guest that guessed and mapped it
         * merely keeps it alive until it unmaps it, and one that gave it
         * back already has done our work for this frame. */
        if (page_claim(pg, d)) {
            m2p_set(mfn + j, INVALID_M2P_ENTRY);
            put_page(pg);
        }
    }
    spin_unlock(&d->page_lock);
}

/* --------------------------------------------------------- releases */

/* A frame d may give back: its own, allocated, and neither a pinned table
 * nor one Keel writes into (those stay for the domain's life). */
static bool releasable(const struct page_info *pg)
{
    return !(READ_ONCE(pg->u.type_info) & PGT_pinned) && !page_keel_writes(pg);
}

static void unclaim_all(mfn_t first, unsigned long n)
{
    for (unsigned long j = 0; j < n; j++)
        page_unclaim(mfn_to_page(first + j));
}

long mem_release(struct domain *d, unsigned int order, xen_pfn_t first)
{
    unsigned long n = 1UL << order, j;

    if (order > MEM_DOM0_MAX_ORDER || first >= MEM_MAX_GUEST_PFN ||
        first + n > MEM_MAX_GUEST_PFN || !mfn_valid(first + n - 1))
        return -XEN_EINVAL;
    spin_lock(&d->page_lock);
    for (j = 0; j < n; j++) {
        struct page_info *pg = mfn_to_page(first + j);
        if (!page_claim(pg, d))
            break;
        if (!releasable(pg)) {
            page_unclaim(pg);
            break;
        }
    }
    if (j < n) {
        unclaim_all(first, j);
        spin_unlock(&d->page_lock);
        return -XEN_EINVAL;
    }
    /* Point of no return: every frame of the extent is ours to drop. */
    for (j = 0; j < n; j++) {
        m2p_set(first + j, INVALID_M2P_ENTRY);
        put_page(mfn_to_page(first + j)); /* freed now, or at the last unmap */
    }
    spin_unlock(&d->page_lock);
    return 0;
}

/* ----------------------------------------------------------- exchange */

static long exchange_sizes(const struct domain *d, unsigned int in_order, unsigned long n_in,
                           const struct mem_extent *out, unsigned long n_out)
{
    unsigned long frames;

    if (in_order > mem_max_order(d) || out->order > mem_max_order(d))
        return -XEN_EPERM; /* Xen's answer for an order over the caller's limit */
    if (n_in > MEM_EXCHANGE_MAX_FRAMES || n_out > MEM_EXCHANGE_MAX_FRAMES)
        return -XEN_EINVAL;
    frames = n_in << in_order;
    if (!frames || frames > MEM_EXCHANGE_MAX_FRAMES || frames != n_out << out->order)
        return -XEN_EINVAL;
    return 0;
}

static void free_blocks(const mfn_t *blk, unsigned long n, unsigned int order)
{
    for (unsigned long i = 0; i < n; i++)
        free_pages(mfn_to_page(blk[i]), order);
}

/* Steal every input frame, or none: false undoes what was stolen. */
static bool steal_inputs(struct domain *d, unsigned int order, const xen_pfn_t *in,
                         unsigned long n_in)
{
    unsigned long per = 1UL << order, i, j = 0;

    for (i = 0; i < n_in; i++) {
        if (in[i] >= MEM_MAX_GUEST_PFN || !mfn_valid(in[i] + per - 1))
            break;
        for (j = 0; j < per; j++)
            if (!page_steal(mfn_to_page(in[i] + j), d))
                break;
        if (j < per)
            break;
    }
    if (i == n_in)
        return true;
    /* Give back what was taken: the partial extent, then the whole ones. */
    while (j--)
        page_unsteal(mfn_to_page(in[i] + j));
    while (i--)
        for (j = 0; j < per; j++)
            page_unsteal(mfn_to_page(in[i] + j));
    return false;
}

long mem_exchange(struct domain *d, unsigned int in_order, const xen_pfn_t *in,
                  unsigned long n_in, const struct mem_extent *out, const xen_pfn_t *out_pfn,
                  unsigned long n_out, mfn_t *out_mfn)
{
    unsigned long i;
    long rc = exchange_sizes(d, in_order, n_in, out, n_out);

    if (rc)
        return rc;
    /* The new blocks first (zeroed, unseen); out_mfn holds them. */
    for (i = 0; i < n_out; i++) {
        struct page_info *pg;
        if (out_pfn[i] != INVALID_M2P_ENTRY &&
            (out_pfn[i] >= MEM_MAX_GUEST_PFN ||
             out_pfn[i] + (1UL << out->order) > MEM_MAX_GUEST_PFN)) {
            free_blocks(out_mfn, i, out->order);
            return -XEN_EINVAL;
        }
        pg = fresh_block(out);
        if (!pg) {
            free_blocks(out_mfn, i, out->order);
            return -XEN_ENOMEM;
        }
        out_mfn[i] = page_to_mfn(pg);
    }
    spin_lock(&d->page_lock);
    if (!alive(d) || !steal_inputs(d, in_order, in, n_in)) {
        spin_unlock(&d->page_lock);
        free_blocks(out_mfn, n_out, out->order);
        return -XEN_EINVAL;
    }
    /* Point of no return: as many frames leave as join. */
    for (i = 0; i < n_in; i++)
        for (unsigned long j = 0; j < (1UL << in_order); j++) {
            m2p_set(in[i] + j, INVALID_M2P_ENTRY);
            page_free_stolen(mfn_to_page(in[i] + j));
        }
    for (i = 0; i < n_out; i++)
        join(d, mfn_to_page(out_mfn[i]), out->order, out_pfn[i]); /* dying: freed */
    spin_unlock(&d->page_lock);
    return 0;
}

#ifdef KEEL_HOST
/* Unit tests that do not look at the M2P still link this file. */
__attribute__((weak)) void m2p_set(mfn_t mfn, unsigned long pfn)
{
    (void)mfn;
    (void)pfn;
}
#endif
