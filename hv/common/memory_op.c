/*
 * memory_op: what a PV guest may learn about memory (maps, reservations,
 * where the M2P is) and how it gives frames back and takes new ones
 * (ballooning, dom0's repair of its pfns that overlap host holes).
 *
 * A PV guest is not translated: the "GMFNs" of the reservation calls are
 * machine frames, and Keel keeps no p2m of its own.  What Keel keeps
 * consistent is frame ownership (frame table), the M2P and tot_pages; the
 * logic lives in hv/common/memory.c (host-tested).  This file copies the
 * guest's arguments and lists in and out.  A reservation call returns the
 * number of extents done (the first that cannot be done ends it) and
 * continues itself when other work is pending (Xen's encoding: the extent
 * to resume at in the bits of `cmd` above the sub-op).
 */
#define __XEN_TOOLS__ 1 /* memory.h: XENMEM_claim_pages and the other tools-only numbers */
#include <asm/hvm.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/m2p.h>
#include <keel/memmap.h>
#include <keel/memory.h>
#include <keel/memory_op.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/spinlock.h>
#include <xen/memory.h>

#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1UL << MEMOP_EXTENT_SHIFT) - 1)
/* Xen's bound: larger lists could not encode their continuation. */
#define MEMOP_MAX_EXTENTS (0xffffffffUL >> MEMOP_EXTENT_SHIFT)

static long memop_domain_query(unsigned int op, unsigned long arg);
static long memop_reservation(struct hcall *h, unsigned int op, unsigned long start);
/*
 * Populate-on-demand targets.  Keel has no PoD: every HVM domain is fully
 * populated, which is Xen's "nothing to do" case (no PoD entries), so a
 * set only checks; libxl's `xl mem-set` on a PVH domU calls it before
 * writing memory/target for the balloon driver.  Xen's order of checks:
 * the domain, HVM, the caller's privilege, the target's bound.
 */
static long memop_pod_target(unsigned int op, unsigned long arg)
{
    struct xen_pod_target t;
    struct domain *d;
    long rc = 0;

    if (copy_from_guest_obj(&t, arg))
        return -XEN_EFAULT;
    if (t.domid == DOMID_SELF) {
        d = current->domain;
        domain_get_ref(d);
    } else if (!(d = domain_get(t.domid))) {
        return -XEN_ESRCH;
    }
    if (!is_hvm_domain(d))
        rc = -XEN_EINVAL;
    else if (!current->domain->is_privileged)
        rc = -XEN_EPERM;
    else if (op == XENMEM_set_pod_target && t.target_pages > READ_ONCE(d->max_pages))
        rc = -XEN_EINVAL;
    if (!rc) {
        t.tot_pages = READ_ONCE(d->tot_pages);
        t.pod_cache_pages = 0;
        t.pod_entries = 0;
        if (copy_to_guest_obj(arg, &t))
            rc = -XEN_EFAULT;
    }
    domain_put(d);
    return rc;
}

static long memop_machphys_mapping(unsigned long arg);
static long memop_memory_map(unsigned long arg);
static long memop_set_memory_map(unsigned long arg);
static long memop_machine_memory_map(unsigned long arg);
static long memop_exchange(unsigned long arg);
static long memop_add_to_physmap(unsigned long arg);
static long memop_remove_from_physmap(unsigned long arg);
static long memop_pod_target(unsigned int op, unsigned long arg);

long do_memory_op(struct hcall *h)
{
    unsigned int op = h->arg[0] & MEMOP_CMD_MASK;
    unsigned long start = h->arg[0] >> MEMOP_EXTENT_SHIFT;
    unsigned long arg = h->arg[1];

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return memop_reservation(h, op, start);
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
        return start ? -XEN_EINVAL : memop_exchange(arg);
    case XENMEM_acquire_resource:
        return memop_acquire_resource(start, arg);
    case XENMEM_add_to_physmap:
        return start ? -XEN_EINVAL : memop_add_to_physmap(arg);
    case XENMEM_remove_from_physmap:
        return start ? -XEN_EINVAL : memop_remove_from_physmap(arg);
    case XENMEM_set_pod_target:
    case XENMEM_get_pod_target:
        /* Xen matches these with the extent bits included: else ENOSYS. */
        return start ? -XEN_ENOSYS : memop_pod_target(op, arg);
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
        rc = (long)mem_limit(d);
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

struct resv {
    struct domain *d;
    unsigned int op;
    struct mem_extent extent;
    unsigned long list; /* guest array of xen_pfn_t, 0: none */
};

static long resv_one(struct resv *r, unsigned long i);

static long memop_reservation(struct hcall *h, unsigned int op, unsigned long start)
{
    struct xen_memory_reservation mr;
    struct resv r = {.op = op};
    unsigned long i;

    /* Xen answers every refusal here with "no extent done", even an
     * unreadable argument or an unknown domain. */
    if (copy_from_guest_obj(&mr, h->arg[1]) || mr.nr_extents > MEMOP_MAX_EXTENTS ||
        start >= mr.nr_extents || memop_target(mr.domid, &r.d))
        return (long)start;
    r.extent = (struct mem_extent){mr.extent_order, XENMEMF_get_address_bits(mr.mem_flags)};
    r.list = (unsigned long)mr.extent_start.p;
    /* Populate-on-demand and virtual NUMA nodes are HVM things: nothing done.
     * The largest extent is the caller's to have, as Xen's. */
    if (r.extent.order > mem_max_order(current->domain) ||
        (mr.mem_flags & (XENMEMF_populate_on_demand | XENMEMF_vnode))) {
        domain_put(r.d);
        return (long)start;
    }
    for (i = start; i < mr.nr_extents; i++) {
        if (i != start && hypercall_preempt_check(h)) {
            domain_put(r.d);
            h->arg[0] = op | (i << MEMOP_EXTENT_SHIFT);
            return hypercall_continue(h);
        }
        if (resv_one(&r, i))
            break;
    }
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

static long resv_decrease_hvm(struct resv *r, xen_pfn_t first);

/* Extent i: 0, or why it could not be done. */
static long resv_one(struct resv *r, unsigned long i)
{
    xen_pfn_t v = INVALID_M2P_ENTRY;
    mfn_t mfn;
    long rc;

    /* increase: new frames anywhere, the list (if any) learns them;
     * populate: new frames for the pfns listed; decrease: frames listed. */
    if (r->op != XENMEM_increase_reservation && !resv_read(r, i, &v))
        return -XEN_EFAULT;
    if (r->op == XENMEM_decrease_reservation && is_hvm_domain(r->d))
        return v >= MEM_MAX_GUEST_PFN ? -XEN_EINVAL : resv_decrease_hvm(r, v);
    if (r->op == XENMEM_decrease_reservation)
        return mem_release(r->d, r->extent.order, v);
    if (r->op == XENMEM_populate_physmap &&
        (v >= MEM_MAX_GUEST_PFN || v + (1UL << r->extent.order) > MEM_MAX_GUEST_PFN))
        return -XEN_EINVAL;
    rc = mem_populate(r->d, &r->extent, v, &mfn);
    if (rc)
        return rc;
    /* A translated domain sees the frames at their GFNs through its p2m,
     * and never learns machine frame numbers. */
    if (is_hvm_domain(r->d)) {
        if (v != INVALID_M2P_ENTRY &&
            hvm_physmap_add_ram(r->d, v, mfn, 1UL << r->extent.order)) {
            mem_unpopulate(r->d, r->extent.order, mfn);
            return -XEN_ENOMEM;
        }
        return 0;
    }
    if ((r->list || r->op == XENMEM_populate_physmap) && !resv_write(r, i, mfn)) {
        mem_unpopulate(r->d, r->extent.order, mfn);
        return -XEN_EFAULT;
    }
    return 0;
}

bool memop_release_frame(struct domain *d, mfn_t mfn)
{
    return mem_release(d, 0, mfn) == 0;
}

/* A translated domain names guest frames: each leaves the p2m, every CPU
 * forgets it, then it is released.  All of the extent or, from the first
 * frame that is not RAM, nothing more (Xen stops there too). */
static long resv_decrease_hvm(struct resv *r, xen_pfn_t first)
{
    unsigned long n = 1UL << r->extent.order;
    mfn_t mfn[1UL << MEM_DOMU_MAX_ORDER];
    unsigned long taken = 0;
    long rc = 0;

    if (n > (1UL << MEM_DOMU_MAX_ORDER))
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

/* ------------------------------------------------------ physical map */

/*
 * Only translated domains have a physical map to place frames in.  As on
 * Xen, the target is looked up (-ESRCH), a PV one is -EACCES for anyone,
 * and only then does another domain's need the control domain (-EPERM).
 */
static long memop_physmap_target(domid_t id, struct domain **out)
{
    struct domain *self = current->domain;
    struct domain *d = id == DOMID_SELF ? self : domain_get(id);

    if (!d)
        return -XEN_ESRCH;
    if (id == DOMID_SELF)
        domain_get_ref(self);
    if (!is_hvm_domain(d) || (d != self && !self->is_privileged)) {
        long rc = is_hvm_domain(d) ? -XEN_EPERM : -XEN_EACCES;
        domain_put(d);
        return rc;
    }
    *out = d;
    return 0;
}

static long memop_add_to_physmap(unsigned long arg)
{
    struct xen_add_to_physmap x;
    struct domain *d;
    long rc;

    if (copy_from_guest_obj(&x, arg))
        return -XEN_EFAULT;
    rc = memop_physmap_target(x.domid, &d);
    if (rc)
        return rc;
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
    rc = memop_physmap_target(x.domid, &d);
    if (rc)
        return rc;
    rc = hvm_remove_from_physmap(d, x.gpfn);
    domain_put(d);
    return rc;
}

/* ------------------------------------------------------------ exchange */

/*
 * XENMEM_exchange: frames the guest gives up for new extents with other
 * properties (Linux's swiotlb-xen: machine-contiguous, below 4 GiB).  Keel
 * does the whole call or nothing (mem_exchange), so a failure leaves the
 * guest exactly as it was (nr_exchanged untouched, as Linux requires); a
 * frame still mapped is refused, as on Xen.  At most
 * MEM_EXCHANGE_MAX_FRAMES frames per call.  A non-zero nr_exchanged is
 * where a call resumes (Xen's convention): the lists are taken from there.
 */
struct xchg_lists {
    xen_pfn_t in[MEM_EXCHANGE_MAX_FRAMES];
    xen_pfn_t out_pfn[MEM_EXCHANGE_MAX_FRAMES];
    mfn_t out_mfn[MEM_EXCHANGE_MAX_FRAMES];
};

static bool read_list(xen_pfn_t *dst, unsigned long gva, unsigned long from, unsigned long n)
{
    return !copy_from_guest(dst, gva + from * sizeof(*dst), n * sizeof(*dst));
}

/* The part of the exchange still to do: its first in and out extents. */
static long xchg_resume(const struct xen_memory_exchange *x, unsigned long *in0,
                        unsigned long *out0)
{
    unsigned int io = x->in.extent_order, oo = x->out.extent_order;
    unsigned long done = x->nr_exchanged;

    if (done > x->in.nr_extents)
        return -XEN_EINVAL;
    /* Resume at a whole chunk (Xen: in extents per out extent, or the
     * other way round), rounding down as Xen does. */
    if (io <= oo) {
        done &= ~((1UL << (oo - io)) - 1);
        *out0 = done >> (oo - io);
    } else {
        *out0 = done << (io - oo);
    }
    *in0 = done;
    return 0;
}

static long memop_exchange(unsigned long arg)
{
    struct xen_memory_exchange x;
    struct domain *d = current->domain;
    struct mem_extent out;
    struct xchg_lists *l;
    unsigned long in0, out0, n_in, n_out;
    long rc;

    if (copy_from_guest_obj(&x, arg))
        return -XEN_EFAULT;
    /* Checked in Xen's order: orders, sizes, then the domain. */
    if (x.in.extent_order > mem_max_order(d) || x.out.extent_order > mem_max_order(d))
        return -XEN_EPERM;
    if (x.in.domid != x.out.domid || xchg_resume(&x, &in0, &out0))
        return -XEN_EINVAL;
    if (x.nr_exchanged == x.in.nr_extents)
        return 0;
    n_in = x.in.nr_extents - in0;
    n_out = x.out.nr_extents > out0 ? x.out.nr_extents - out0 : 0;
    /* A PV guest exchanges only its own frames. */
    if (x.in.domid != DOMID_SELF && x.in.domid != d->domid) {
        struct domain *t = domain_get(x.in.domid);
        if (!t)
            return -XEN_ESRCH;
        domain_put(t);
        return -XEN_EPERM;
    }
    out = (struct mem_extent){x.out.extent_order, XENMEMF_get_address_bits(x.out.mem_flags)};
    if (n_in > MEM_EXCHANGE_MAX_FRAMES || n_out > MEM_EXCHANGE_MAX_FRAMES)
        return mem_exchange(d, x.in.extent_order, NULL, n_in, &out, NULL, n_out, NULL);
    l = xzalloc(sizeof(*l));
    if (!l)
        return -XEN_ENOMEM;
    rc = -XEN_EFAULT;
    if (read_list(l->in, (unsigned long)x.in.extent_start.p, in0, n_in) &&
        read_list(l->out_pfn, (unsigned long)x.out.extent_start.p, out0, n_out))
        rc = mem_exchange(d, x.in.extent_order, l->in, n_in, &out, l->out_pfn, n_out,
                          l->out_mfn);
    if (!rc) {
        /* The old frames are gone already: an unwritable list only costs
         * the guest the answer. */
        for (unsigned long i = 0; i < n_out; i++)
            if (copy_to_guest((unsigned long)x.out.extent_start.p + (out0 + i) * sizeof(xen_pfn_t),
                              &l->out_mfn[i], sizeof(xen_pfn_t)))
                rc = -XEN_EFAULT;
        x.nr_exchanged = x.in.nr_extents;
        if (copy_to_guest(arg + offsetof(struct xen_memory_exchange, nr_exchanged),
                          &x.nr_exchanged, sizeof(x.nr_exchanged)))
            rc = -XEN_EFAULT;
    }
    xfree(l);
    return rc;
}
