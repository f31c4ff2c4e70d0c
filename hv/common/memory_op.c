/*
 * memory_op: what a PV guest may learn about memory (maps, reservations,
 * where the M2P is) and how it gives frames back and takes new ones
 * (ballooning, dom0's repair of its pfns that overlap host holes).
 *
 * A PV guest is not translated: the "GMFNs" of the reservation calls are
 * machine frames, and Keel keeps no p2m of its own.  What Keel keeps
 * consistent is frame ownership (frame table), the M2P and tot_pages.
 * Every reservation call runs to completion and returns the number of
 * extents done; the first extent that cannot be done ends it.
 */
#define __XEN_TOOLS__ 1 /* memory.h: XENMEM_claim_pages and the other tools-only numbers */
#include <asm/hvm.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/grant_table.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/m2p.h>
#include <keel/memmap.h>
#include <keel/memory_op.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/spinlock.h>
#include <xen/memory.h>

/* Xen reuses the bits of `cmd` above the sub-op to resume a reservation
 * call at an extent (a private convention; Keel accepts it too). */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1UL << MEMOP_EXTENT_SHIFT) - 1)
/* dom0's reservation has no limit of its own, as with Xen. */
#define DOM0_MAX_RESERVATION 0xffffffffUL
/* Frames Keel keeps for itself whatever guests ask for. */
#define KEEL_RESERVE_FRAMES 1024
/* Largest extents, as Xen: 2 MiB for guests, 16 MiB for dom0. */
#define DOMU_MAX_ORDER 9
#define DOM0_MAX_ORDER 12

static long memop_domain_query(unsigned int op, unsigned long arg);
static long memop_reservation(unsigned int op, unsigned long start, unsigned long arg);
static long memop_machphys_mapping(unsigned long arg);
static long memop_memory_map(unsigned long arg);
static long memop_set_memory_map(unsigned long arg);
static long memop_machine_memory_map(unsigned long arg);
static long memop_exchange(unsigned long arg);
static long memop_add_to_physmap(unsigned long arg);
static long memop_remove_from_physmap(unsigned long arg);

long do_memory_op(struct hcall *h)
{
    unsigned int op = h->arg[0] & MEMOP_CMD_MASK;
    unsigned long start = h->arg[0] >> MEMOP_EXTENT_SHIFT;
    unsigned long arg = h->arg[1];

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return memop_reservation(op, start, arg);
    case XENMEM_maximum_ram_page:
        return start ? -XEN_EINVAL : (long)frame_table_nr;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return start ? -XEN_EINVAL : memop_domain_query(op, arg);
    case XENMEM_machphys_mapping:
        return memop_machphys_mapping(arg);
    case XENMEM_memory_map:
        return memop_memory_map(arg);
    case XENMEM_set_memory_map:
        return memop_set_memory_map(arg);
    case XENMEM_claim_pages:
        /* No claims: libxc's claim_mode accepts -ENOSYS (and only it). */
        return -XEN_ENOSYS;
    case XENMEM_machine_memory_map:
        return memop_machine_memory_map(arg);
    case XENMEM_exchange:
        return memop_exchange(arg);
    case XENMEM_acquire_resource:
        return memop_acquire_resource(start, arg);
    case XENMEM_add_to_physmap:
        return start ? -XEN_EINVAL : memop_add_to_physmap(arg);
    case XENMEM_remove_from_physmap:
        return start ? -XEN_EINVAL : memop_remove_from_physmap(arg);
    default:
        return -XEN_ENOSYS;
    }
}

/* ------------------------------------------------------------ queries */

/* The domain a call names: itself, or (dom0 only) any existing one.
 * On success the caller holds a reference and drops it with domain_put. */
static long memop_target(domid_t id, struct domain **out)
{
    struct domain *self = current->domain;
    struct domain *d;

    if (id == DOMID_SELF || id == self->domid) {
        domain_get_ref(self);
        *out = self;
        return 0;
    }
    d = domain_get(id);
    if (!d)
        return -XEN_ESRCH;
    if (!self->is_privileged) {
        domain_put(d);
        return -XEN_EPERM;
    }
    *out = d;
    return 0;
}

unsigned long memop_reservation_limit(const struct domain *d)
{
    return d->is_privileged ? DOM0_MAX_RESERVATION : d->max_pages;
}

/*
 * A PV guest's highest pfn is whatever it wrote into shared_info (Linux
 * does, for the toolstack); Xen reports it minus one, 0 until written.
 */
static long max_gpfn(struct domain *d)
{
    unsigned long n;

    if (is_hvm_domain(d))
        return (long)hvm_max_gfn(d);
    n = READ_ONCE(d->shared_info->arch.max_pfn);

    return (long)((n ? n : 1) - 1) & 0x7fffffffffffffffL;
}

static long memop_domain_query(unsigned int op, unsigned long arg)
{
    domid_t id;
    struct domain *d;
    long rc;

    if (copy_from_guest_obj(&id, arg))
        return -XEN_EFAULT;
    rc = memop_target(id, &d);
    if (rc)
        return rc;
    switch (op) {
    case XENMEM_current_reservation:
        rc = (long)READ_ONCE(d->tot_pages);
        break;
    case XENMEM_maximum_reservation:
        rc = (long)memop_reservation_limit(d);
        break;
    default:
        rc = max_gpfn(d);
        break;
    }
    domain_put(d);
    return rc;
}

static long memop_machphys_mapping(unsigned long arg)
{
    /* Exactly what is mapped: reads past it would fault. */
    unsigned long n = m2p_nr_entries();
    struct xen_machphys_mapping m = {
        .v_start = MACH2PHYS_VIRT_START,
        .v_end = MACH2PHYS_VIRT_START + n * sizeof(unsigned long),
        .max_mfn = n ? n - 1 : 0,
    };

    return copy_to_guest_obj(arg, &m);
}

/* ------------------------------------------------------------- maps */

/* The BIOS E820 entry layout: 20 bytes, packed. */
struct e820entry {
    u64 addr;
    u64 size;
    u32 type;
} __packed;

/*
 * A PV guest's pseudo-physical map is whatever its toolstack stored with
 * XENMEM_set_memory_map (libxl: one RAM range up to the domain's maximum).
 * Without one the answer is -ENOSYS, as Xen's: Linux then sizes a domU from
 * start_info's nr_pages, and dom0 (which has none) never asks.
 */
#define E820_MAX_ENTRIES 1024 /* Xen's E820MAX */

static long memop_memory_map(unsigned long arg)
{
    struct domain *d = current->domain;
    struct xen_memory_map mm;
    unsigned long f;
    long rc = 0;

    if (copy_from_guest_obj(&mm, arg))
        return -XEN_EFAULT;
    f = spin_lock_irqsave(&d->arch.e820_lock);
    if (!d->arch.e820) {
        spin_unlock_irqrestore(&d->arch.e820_lock, f);
        return -XEN_ENOSYS;
    }
    mm.nr_entries = MIN(mm.nr_entries, d->arch.nr_e820);
    if (copy_to_guest((unsigned long)mm.buffer.p, d->arch.e820,
                      (size_t)mm.nr_entries * sizeof(struct e820entry)) ||
        copy_to_guest_obj(arg, &mm))
        rc = -XEN_EFAULT;
    spin_unlock_irqrestore(&d->arch.e820_lock, f);
    return rc;
}

/* The toolstack (or the domain itself, as Xen allows) stores the map. */
static long memop_set_memory_map(unsigned long arg)
{
    struct xen_foreign_memory_map fmap;
    struct domain *d;
    void *map, *old;
    unsigned long f;
    size_t bytes;
    long rc;

    if (copy_from_guest_obj(&fmap, arg))
        return -XEN_EFAULT;
    if (fmap.map.nr_entries > E820_MAX_ENTRIES)
        return -XEN_EINVAL;
    rc = memop_target(fmap.domid, &d);
    if (rc)
        return rc;
    bytes = (size_t)fmap.map.nr_entries * sizeof(struct e820entry);
    map = xzalloc(bytes ? bytes : 1);
    if (!map) {
        domain_put(d);
        return -XEN_ENOMEM;
    }
    if (copy_from_guest(map, (unsigned long)fmap.map.buffer.p, bytes)) {
        xfree(map);
        domain_put(d);
        return -XEN_EFAULT;
    }
    f = spin_lock_irqsave(&d->arch.e820_lock);
    old = d->arch.e820;
    d->arch.e820 = map;
    d->arch.nr_e820 = fmap.map.nr_entries;
    spin_unlock_irqrestore(&d->arch.e820_lock, f);
    xfree(old);
    domain_put(d);
    return 0;
}

/* The host map, sanitized once (sorted, no overlaps) from the loader's. */
static const struct memmap *host_map(void)
{
    static struct memmap map;
    static bool ready;
    static spinlock_t lock = SPINLOCK_INIT;

    spin_lock(&lock);
    if (!ready) {
        struct memmap_report rep;
        memmap_sanitize(&map, boot_info.ranges, boot_info.nr_ranges, &rep);
        ready = true;
    }
    spin_unlock(&lock);
    return &map;
}

/*
 * nr_entries is the buffer's capacity in, the count out.  A NULL buffer is
 * a size query; a buffer too small is -EINVAL (both as Xen).
 */
static long memop_machine_memory_map(unsigned long arg)
{
    const struct memmap *map;
    struct xen_memory_map mm;
    unsigned long buf;

    if (!current->domain->is_privileged)
        return -XEN_EPERM;
    if (copy_from_guest_obj(&mm, arg))
        return -XEN_EFAULT;
    map = host_map();
    buf = (unsigned long)mm.buffer.p;
    if (buf) {
        if (mm.nr_entries < map->nr)
            return -XEN_EINVAL;
        for (unsigned int i = 0; i < map->nr; i++) {
            struct e820entry e = {map->r[i].start, map->r[i].len, map->r[i].type};
            if (copy_to_guest(buf + i * sizeof(e), &e, sizeof(e)))
                return -XEN_EFAULT;
        }
    }
    mm.nr_entries = map->nr;
    return copy_to_guest_obj(arg, &mm);
}

/* ------------------------------------------------------- reservations */

/* Serialises every change of frame ownership made here, and tot_pages. */
static spinlock_t reservation_lock = SPINLOCK_INIT;

struct resv {
    struct domain *d;
    unsigned int op;
    unsigned int order;
    unsigned int address_bits; /* 0: anywhere */
    unsigned long list;        /* guest array of xen_pfn_t, 0: none */
    bool released;             /* some frame went back: TLBs need a flush */
};

static long resv_increase(struct resv *r, unsigned long i);
static long resv_populate(struct resv *r, unsigned long i);
static long resv_decrease(struct resv *r, unsigned long i);

static long memop_reservation(unsigned int op, unsigned long start, unsigned long arg)
{
    struct xen_memory_reservation mr;
    struct resv r = {.op = op};
    unsigned long i;
    long rc;

    /* Xen answers every refusal here with "no extent done", even an
     * unreadable argument or an unknown domain. */
    if (copy_from_guest_obj(&mr, arg) || memop_target(mr.domid, &r.d))
        return (long)start;
    r.order = mr.extent_order;
    r.address_bits = XENMEMF_get_address_bits(mr.mem_flags);
    r.list = (unsigned long)mr.extent_start.p;
    /* Populate-on-demand and virtual NUMA nodes are HVM things: nothing done.
     * The largest extent is the caller's to have, as Xen's. */
    if (r.order > (current->domain->is_privileged ? DOM0_MAX_ORDER : DOMU_MAX_ORDER) ||
        (mr.mem_flags & (XENMEMF_populate_on_demand | XENMEMF_vnode)) ||
        start >= mr.nr_extents) {
        domain_put(r.d);
        return (long)start;
    }
    for (i = start; i < mr.nr_extents; i++) {
        if (op == XENMEM_increase_reservation)
            rc = resv_increase(&r, i);
        else if (op == XENMEM_populate_physmap)
            rc = resv_populate(&r, i);
        else
            rc = resv_decrease(&r, i);
        if (rc)
            break;
    }
    if (r.released)
        memop_arch_flush_released(r.d);
    domain_put(r.d);
    return (long)i;
}

static bool resv_read(const struct resv *r, unsigned long i, xen_pfn_t *v)
{
    return !copy_from_guest(v, r->list + i * sizeof(*v), sizeof(*v));
}

static bool resv_write(const struct resv *r, unsigned long i, xen_pfn_t v)
{
    return !copy_to_guest(r->list + i * sizeof(v), &v, sizeof(v));
}

/* Hand the n frames at pg to the domain; if it is dying (it takes no more
 * frames) none of them: the block goes back to the allocator. */
static bool extent_assign(struct resv *r, struct page_info *pg, unsigned long n,
                          unsigned long pfn)
{
    for (unsigned long j = 0; j < n; j++) {
        memset(mfn_to_virt(page_to_mfn(pg + j)), 0, PAGE_SIZE);
        if (page_assign(pg + j, r->d))
            continue;
        /* Frame by frame: those already assigned are freed as they go. */
        for (unsigned long k = 0; k < n; k++) {
            if (k < j)
                page_unassign(pg + k);
            else
                free_pages(pg + k, 0);
        }
        return false;
    }
    for (unsigned long j = 0; j < n; j++)
        m2p_set(page_to_mfn(pg + j), pfn == INVALID_M2P_ENTRY ? pfn : pfn + j);
    /* A translated domain sees the frames at their GFNs through its p2m. */
    if (is_hvm_domain(r->d) && pfn != INVALID_M2P_ENTRY &&
        hvm_physmap_add_ram(r->d, pfn, page_to_mfn(pg), n)) {
        for (unsigned long j = 0; j < n; j++) {
            m2p_set(page_to_mfn(pg + j), INVALID_M2P_ENTRY);
            page_unassign(pg + j);
        }
        return false;
    }
    __atomic_add_fetch(&r->d->tot_pages, n, __ATOMIC_RELAXED);
    return true;
}

/* Give the domain one extent of fresh zeroed frames, M2P entries from pfn
 * (INVALID_M2P_ENTRY: none).  NULL when over its limit or out of memory. */
static struct page_info *extent_alloc(struct resv *r, unsigned long pfn)
{
    unsigned long n = 1UL << r->order;
    struct page_info *pg;

    spin_lock(&reservation_lock);
    if (r->d->is_shutting_down || r->d->is_dying ||
        READ_ONCE(r->d->tot_pages) + n > memop_reservation_limit(r->d) ||
        heap_free_frames() < KEEL_RESERVE_FRAMES + n) {
        spin_unlock(&reservation_lock);
        return NULL;
    }
    pg = alloc_pages(r->order);
    if (pg && r->address_bits && r->address_bits < 64 &&
        ((page_to_mfn(pg) + n) << PAGE_SHIFT) > (1ULL << r->address_bits)) {
        /* The allocator takes no address limit: a block too high fails. */
        free_pages(pg, r->order);
        pg = NULL;
    }
    if (pg && !extent_assign(r, pg, n, pfn))
        pg = NULL;
    spin_unlock(&reservation_lock);
    return pg;
}

/* Take back an extent the guest never learnt about. */
static void extent_undo(struct resv *r, struct page_info *pg)
{
    unsigned long n = 1UL << r->order;

    spin_lock(&reservation_lock);
    for (unsigned long j = 0; j < n; j++) {
        m2p_set(page_to_mfn(pg + j), INVALID_M2P_ENTRY);
        page_unassign(pg + j);
    }
    __atomic_sub_fetch(&r->d->tot_pages, n, __ATOMIC_RELAXED);
    spin_unlock(&reservation_lock);
}

/* New frames anywhere; the guest learns their MFNs (if it gave a list). */
static long resv_increase(struct resv *r, unsigned long i)
{
    struct page_info *pg = extent_alloc(r, INVALID_M2P_ENTRY);

    if (!pg)
        return -XEN_ENOMEM;
    /* Translated guests never learn machine frame numbers. */
    if (r->list && !is_hvm_domain(r->d) && !resv_write(r, i, page_to_mfn(pg))) {
        extent_undo(r, pg);
        return -XEN_EFAULT;
    }
    return 0;
}

/* Pseudo-physical pfns a guest may name: below the 52-bit machine limit. */
#define MAX_GUEST_PFN (1UL << (PADDR_BITS - PAGE_SHIFT))

/* New frames for the pfns the guest names; the M2P maps them back. */
static long resv_populate(struct resv *r, unsigned long i)
{
    xen_pfn_t pfn;
    struct page_info *pg;

    if (!resv_read(r, i, &pfn))
        return -XEN_EFAULT;
    if (pfn >= MAX_GUEST_PFN || pfn + (1UL << r->order) > MAX_GUEST_PFN)
        return -XEN_EINVAL;
    pg = extent_alloc(r, pfn);
    if (!pg)
        return -XEN_ENOMEM;
    if (!is_hvm_domain(r->d) && !resv_write(r, i, page_to_mfn(pg))) {
        extent_undo(r, pg);
        return -XEN_EFAULT;
    }
    return 0;
}

/*
 * May frame mfn of d go back to the allocator?  Only a frame d owns as
 * ordinary memory: not one Keel itself writes into (shared_info, grant
 * frames, registered vcpu_info areas), and not one pinned as a page table.
 * Frames still mapped are fine: their references keep them alive until
 * the last mapping goes, and only then are they freed.
 */
static bool frame_releasable(const struct domain *d, mfn_t mfn)
{
    const struct page_info *pg;
    unsigned long count;

    if (!mfn_valid(mfn))
        return false;
    pg = mfn_to_page(mfn);
    count = READ_ONCE(pg->count_info);
    if (READ_ONCE(pg->owner) != d || (count & PGC_state_mask) != PGC_state_inuse ||
        !(count & PGC_allocated) || (READ_ONCE(pg->u.type_info) & PGT_pinned))
        return false;
    if (mfn == d->shared_info_mfn || gnttab_is_frame(d, mfn))
        return false;
    for (unsigned int v = 0; v < d->nr_vcpus; v++)
        if (d->vcpus[v] && virt_to_mfn(d->vcpus[v]->vcpu_info) == mfn)
            return false;
    return true;
}

bool memop_release_frame(struct domain *d, mfn_t mfn)
{
    bool ok;

    spin_lock(&reservation_lock);
    ok = frame_releasable(d, mfn);
    if (ok) {
        m2p_set(mfn, INVALID_M2P_ENTRY);
        page_unassign(mfn_to_page(mfn));
        __atomic_sub_fetch(&d->tot_pages, 1, __ATOMIC_RELAXED);
    }
    spin_unlock(&reservation_lock);
    return ok;
}

/* A translated domain names guest frames: each leaves the p2m, every CPU
 * forgets it, then it is released.  All of the extent or, from the first
 * frame that is not RAM, nothing more (Xen stops there too). */
static long resv_decrease_hvm(struct resv *r, xen_pfn_t first)
{
    unsigned long n = 1UL << r->order;
    mfn_t mfn[1UL << DOMU_MAX_ORDER];
    unsigned long taken = 0;
    long rc = 0;

    if (n > (1UL << DOMU_MAX_ORDER))
        return -XEN_EINVAL;
    for (; taken < n; taken++) {
        rc = hvm_physmap_take_ram(r->d, first + taken, &mfn[taken]);
        if (rc)
            break;
    }
    if (taken)
        memop_arch_flush_released(r->d);
    for (unsigned long j = 0; j < taken; j++)
        if (!memop_release_frame(r->d, mfn[j]))
            printk(KLOG_WARN "d%u: gfn %#lx: frame %#lx not released (Keel's own)\n",
                   r->d->domid, (unsigned long)(first + j), (unsigned long)mfn[j]);
    return rc;
}

static long resv_decrease(struct resv *r, unsigned long i)
{
    unsigned long n = 1UL << r->order;
    xen_pfn_t first;

    if (!resv_read(r, i, &first))
        return -XEN_EFAULT;
    if (is_hvm_domain(r->d))
        return first >= MAX_GUEST_PFN ? -XEN_EINVAL : resv_decrease_hvm(r, first);
    if (first >= MAX_GUEST_PFN || first + n > MAX_GUEST_PFN)
        return -XEN_EINVAL;
    spin_lock(&reservation_lock);
    /* All of the extent or none of it. */
    for (unsigned long j = 0; j < n; j++)
        if (!frame_releasable(r->d, first + j)) {
            spin_unlock(&reservation_lock);
            return -XEN_EINVAL;
        }
    for (unsigned long j = 0; j < n; j++) {
        m2p_set(first + j, INVALID_M2P_ENTRY);
        page_unassign(mfn_to_page(first + j));
    }
    __atomic_sub_fetch(&r->d->tot_pages, n, __ATOMIC_RELAXED);
    r->released = true;
    spin_unlock(&reservation_lock);
    return 0;
}

/* ------------------------------------------------------ physical map */

/* Only translated domains have a physical map to place frames in; a PV
 * guest asking gets -ENOSYS as before. */
static long memop_add_to_physmap(unsigned long arg)
{
    struct xen_add_to_physmap x;
    struct domain *d;
    long rc;

    if (copy_from_guest_obj(&x, arg))
        return -XEN_EFAULT;
    rc = memop_target(x.domid, &d);
    if (rc)
        return rc;
    if (!is_hvm_domain(d))
        rc = -XEN_ENOSYS;
    else
        rc = hvm_add_to_physmap(d, x.space, x.idx, x.gpfn);
    domain_put(d);
    return rc;
}

static long memop_remove_from_physmap(unsigned long arg)
{
    struct xen_remove_from_physmap x;
    struct domain *d;
    long rc;

    if (copy_from_guest_obj(&x, arg))
        return -XEN_EFAULT;
    rc = memop_target(x.domid, &d);
    if (rc)
        return rc;
    rc = is_hvm_domain(d) ? hvm_remove_from_physmap(d, x.gpfn) : -XEN_ENOSYS;
    domain_put(d);
    return rc;
}

/* ------------------------------------------------------------ exchange */

/*
 * XENMEM_exchange: frames the guest gives up for new extents with other
 * properties (Linux's swiotlb-xen: machine-contiguous, below 4 GiB).
 * Keel does a whole call or nothing: new extents first, then the old
 * frames are released only if every one of them may be, so a failure
 * leaves the guest exactly as it was (nr_exchanged 0, as Linux requires).
 * The old frames must be unmapped already (Xen's rule too).
 * At most EXCHANGE_MAX_FRAMES frames per call (Linux's largest is 2 MiB).
 */
#define EXCHANGE_MAX_FRAMES (1UL << DOMU_MAX_ORDER)

/* Stricter than a release: as on Xen, a frame still mapped (any reference
 * besides the domain's own) cannot be exchanged; Linux unmaps first. */
static bool frame_exchangeable(const struct domain *d, mfn_t mfn)
{
    return frame_releasable(d, mfn) &&
           (READ_ONCE(mfn_to_page(mfn)->count_info) & PGC_count_mask) == 1;
}

static long exchange_fail(struct resv *out, struct page_info **pg, unsigned long n, long rc)
{
    for (unsigned long i = 0; i < n; i++)
        extent_undo(out, pg[i]); /* the last reference frees them */
    return rc;
}

static long memop_exchange(unsigned long arg)
{
    struct xen_memory_exchange x;
    struct resv in = {0}, out = {0};
    static struct page_info *pg[EXCHANGE_MAX_FRAMES];
    static xen_pfn_t in_mfn[EXCHANGE_MAX_FRAMES];
    static spinlock_t exchange_lock = SPINLOCK_INIT;
    unsigned long n_in, n_out, frames;
    long rc = 0;

    if (copy_from_guest_obj(&x, arg))
        return -XEN_EFAULT;
    if (x.nr_exchanged || x.in.extent_order > DOMU_MAX_ORDER ||
        x.out.extent_order > DOMU_MAX_ORDER || x.in.domid != x.out.domid)
        return -XEN_EINVAL;
    n_in = x.in.nr_extents;
    n_out = x.out.nr_extents;
    frames = n_in << x.in.extent_order;
    if (n_in > EXCHANGE_MAX_FRAMES || n_out > EXCHANGE_MAX_FRAMES || !frames ||
        frames > EXCHANGE_MAX_FRAMES || frames != n_out << x.out.extent_order)
        return -XEN_EINVAL;
    if (memop_target(x.in.domid, &in.d))
        return -XEN_ESRCH;
    /* A PV guest exchanges only its own frames (current needs no reference). */
    domain_put(in.d);
    if (in.d != current->domain)
        return -XEN_EPERM;
    in.order = x.in.extent_order;
    in.list = (unsigned long)x.in.extent_start.p;
    out = (struct resv){.d = in.d, .order = x.out.extent_order,
                        .address_bits = XENMEMF_get_address_bits(x.out.mem_flags),
                        .list = (unsigned long)x.out.extent_start.p};

    /* One exchange at a time: the lists above are shared scratch. */
    spin_lock(&exchange_lock);
    for (unsigned long i = 0; i < n_in; i++)
        if (!resv_read(&in, i, &in_mfn[i])) {
            rc = -XEN_EFAULT;
            goto out_unlock;
        }
    for (unsigned long i = 0; i < n_out; i++) {
        xen_pfn_t pfn;
        if (!resv_read(&out, i, &pfn)) {
            rc = exchange_fail(&out, pg, i, -XEN_EFAULT);
            goto out_unlock;
        }
        if (pfn >= MAX_GUEST_PFN || pfn + (1UL << out.order) > MAX_GUEST_PFN) {
            rc = exchange_fail(&out, pg, i, -XEN_EINVAL);
            goto out_unlock;
        }
        pg[i] = extent_alloc(&out, pfn);
        if (!pg[i]) {
            rc = exchange_fail(&out, pg, i, -XEN_ENOMEM);
            goto out_unlock;
        }
    }
    /* The old frames: all of them may go, or the exchange does not happen. */
    spin_lock(&reservation_lock);
    for (unsigned long i = 0; i < n_in; i++)
        for (unsigned long j = 0; j < (1UL << in.order); j++)
            if (in_mfn[i] >= MAX_GUEST_PFN || !frame_exchangeable(in.d, in_mfn[i] + j)) {
                spin_unlock(&reservation_lock);
                rc = exchange_fail(&out, pg, n_out, -XEN_EINVAL);
                goto out_unlock;
            }
    for (unsigned long i = 0; i < n_in; i++)
        for (unsigned long j = 0; j < (1UL << in.order); j++) {
            m2p_set(in_mfn[i] + j, INVALID_M2P_ENTRY);
            page_unassign(mfn_to_page(in_mfn[i] + j));
        }
    __atomic_sub_fetch(&in.d->tot_pages, frames, __ATOMIC_RELAXED);
    spin_unlock(&reservation_lock);
    memop_arch_flush_released(in.d);
    /* The guest learns the new extents; the old frames are gone already,
     * so an unwritable list only costs it the answer. */
    for (unsigned long i = 0; i < n_out; i++)
        if (!resv_write(&out, i, page_to_mfn(pg[i])))
            rc = -XEN_EFAULT;
    x.nr_exchanged = n_in;
    if (copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged),
                      &x.nr_exchanged, sizeof(x.nr_exchanged)))
        rc = -XEN_EFAULT;
out_unlock:
    spin_unlock(&exchange_lock);
    return rc;
}
