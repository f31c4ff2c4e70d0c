/*
 * An HVM domain's physical map as the memory hypercalls change it:
 * RAM populated at guest frame numbers, RAM given back, and the frames
 * Keel shares with the guest (shared_info, grant-table frames) placed
 * where the guest asks (XENMEM_add_to_physmap).  A translation is only
 * taken away after every CPU that may cache it has left the guest
 * (memop_arch_flush_released waits for them), and only then is the frame
 * released: the guest never reaches a frame it no longer owns.
 */
#include <asm/flushtlb.h>
#include <asm/hvm.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/grant_table.h>
#include <keel/m2p.h>
#include <keel/memory_op.h>
#include <keel/sched.h>
#include <xen/memory.h>

int hvm_physmap_add_ram(struct domain *d, u64 gfn, mfn_t mfn, unsigned long n)
{
    struct p2m *p = &d->arch.hvm->p2m;

    for (unsigned long i = 0; i < n; i++) {
        enum p2m_type ot;
        mfn_t om;
        int rc = p2m_set(p, gfn + i, mfn + i, p2m_ram_rw, &om, &ot);

        if (rc) {
            while (i--)
                p2m_clear(p, gfn + i, NULL, NULL);
            return rc;
        }
        /* As on Xen, a frame that was there stays the domain's (freed at
         * its end) but no longer has a place in its physical space. */
        if (ot == p2m_ram_rw)
            m2p_set(om, INVALID_M2P_ENTRY);
    }
    return 0;
}

/* gfn's RAM frame out of the map; the caller flushes, then releases. */
int hvm_physmap_take_ram(struct domain *d, u64 gfn, mfn_t *mfn)
{
    struct p2m *p = &d->arch.hvm->p2m;
    enum p2m_type t;
    mfn_t m = p2m_lookup(p, gfn, &t);

    if (t == p2m_none)
        return -XEN_ENOENT;
    if (t != p2m_ram_rw)
        return -XEN_EINVAL;
    if (p2m_clear(p, gfn, NULL, NULL))
        return -XEN_ENOENT; /* raced with another removal */
    m2p_set(m, INVALID_M2P_ENTRY);
    *mfn = m;
    return 0;
}

mfn_t hvm_gfn_to_ram(struct domain *d, u64 gfn)
{
    enum p2m_type t;
    mfn_t m = p2m_lookup(&d->arch.hvm->p2m, gfn, &t);

    return t == p2m_ram_rw ? m : P2M_INVALID_MFN;
}

u64 hvm_max_gfn(struct domain *d)
{
    return READ_ONCE(d->arch.hvm->p2m.max_gfn);
}

/* The frame behind a shared space/index, or -XEN_EINVAL. */
static int shared_frame(struct domain *d, unsigned int space, unsigned long idx, mfn_t *mfn)
{
    xen_pfn_t m;

    switch (space) {
    case XENMAPSPACE_shared_info:
        if (idx)
            return -XEN_EINVAL;
        *mfn = d->shared_info_mfn;
        return 0;
    case XENMAPSPACE_grant_table:
        if (idx & XENMAPIDX_grant_table_status)
            return -XEN_EINVAL; /* v1 tables have no status frames */
        if (gnttab_acquire_frames(d, XENMEM_resource_grant_table_id_shared,
                                  (unsigned int)idx, 1, &m))
            return -XEN_EINVAL;
        *mfn = m;
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * XENMEM_add_to_physmap of a Keel-shared frame at gpfn: it leaves its old
 * place, and RAM that was at gpfn is given back (Xen does the same, so
 * that the guest's balloon accounting stays right).
 */
long hvm_add_to_physmap(struct domain *d, unsigned int space, unsigned long idx, u64 gpfn)
{
    struct p2m *p = &d->arch.hvm->p2m;
    unsigned long old_gfn;
    enum p2m_type ot;
    mfn_t mfn, om;
    int rc;

    rc = shared_frame(d, space, idx, &mfn);
    if (rc)
        return rc;
    if (gpfn >= P2M_MAX_GFN)
        return -XEN_EINVAL;
    old_gfn = m2p_get(mfn);
    if (old_gfn != INVALID_M2P_ENTRY && old_gfn != gpfn &&
        p2m_lookup(p, old_gfn, NULL) == mfn)
        p2m_clear(p, old_gfn, NULL, NULL);
    rc = p2m_set(p, gpfn, mfn, p2m_special, &om, &ot);
    if (rc)
        return rc;
    m2p_set(mfn, gpfn);
    memop_arch_flush_released(d);
    if (ot == p2m_ram_rw && om != mfn)
        memop_release_frame(d, om);
    return 0;
}

static bool is_grant(enum p2m_type t)
{
    return P2M_GRANT_TYPES & P2M_TYPE_BIT(t);
}

/* XENMEM_remove_from_physmap: whatever is at gpfn leaves the map; RAM is
 * given back as by decrease_reservation.  A grant mapping of another
 * domain's frame is not the guest's to remove (Xen: -ENXIO); its M2P
 * entry is its owner's. */
long hvm_remove_from_physmap(struct domain *d, u64 gpfn)
{
    struct p2m *p = &d->arch.hvm->p2m;
    enum p2m_type t;
    mfn_t m = p2m_lookup(p, gpfn, &t);

    if (is_grant(t) && READ_ONCE(mfn_to_page(m)->owner) != d)
        return -XEN_ENXIO;
    /* Exactly what was looked at, or nothing (it changed meanwhile). */
    if (t == p2m_none || p2m_take(p, gpfn, P2M_TYPE_BIT(t), m, NULL, NULL))
        return -XEN_ENOENT;
    if (t == p2m_ram_rw)
        m2p_set(m, INVALID_M2P_ENTRY);
    else if (m2p_get(m) == gpfn)
        m2p_set(m, INVALID_M2P_ENTRY);
    memop_arch_flush_released(d);
    if (t == p2m_ram_rw)
        memop_release_frame(d, m);
    return 0;
}

/*
 * Grant maps by an HVM guest (the grant core's hooks, keel/arch.h): the
 * granted frame at a GFN of the mapper's physical map, as Xen 4.17's
 * create/replace_grant_p2m_mapping.  The mapper's own frame leaves the
 * GFN its M2P entry names (Xen's p2m_add_page de-aliases it); RAM or a
 * Keel frame at the target GFN is replaced and stays the domain's; a grant
 * mapping there already crashes the domain, as on Xen.  Unmap leaves a
 * hole; it takes only an entry with the mapping's own access (keel/arch.h).
 * The grant core holds the frame's references meanwhile.
 */
s16 gnttab_arch_p2m_map(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    struct p2m *p = &ld->arch.hvm->p2m;
    u64 alias = P2M_INVALID_GFN;
    bool dealiased;
    enum p2m_type ot;
    mfn_t om;
    int rc;

    /* Referenced by the caller: its owner cannot change. */
    if (READ_ONCE(mfn_to_page(mfn)->owner) == ld && m2p_get(mfn) != INVALID_M2P_ENTRY)
        alias = m2p_get(mfn);
    rc = p2m_grant_place(p, gfn, mfn, ro, alias, &dealiased, &om, &ot);
    if (dealiased)
        m2p_set(mfn, INVALID_M2P_ENTRY);
    if (!rc && (ot == p2m_ram_rw || (ot == p2m_special && m2p_get(om) == gfn)))
        m2p_set(om, INVALID_M2P_ENTRY);
    if (rc == -XEN_EPERM)
        domain_crash(ld, "grant map over a grant mapping");
    /* Translations changed (the frames stay the domain's): as Xen. */
    if (dealiased || (!rc && ot != p2m_none))
        memop_arch_flush_released(ld);
    return rc ? GNTST_general_error : GNTST_okay;
}

s16 gnttab_arch_p2m_unmap(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    enum p2m_type t = ro ? p2m_grant_ro : p2m_grant_rw;

    if (p2m_take(&ld->arch.hvm->p2m, gfn, P2M_TYPE_BIT(t), mfn, NULL, NULL))
        return GNTST_general_error;
    return GNTST_okay;
}

/*
 * The p2m's generation moved on when a translation went away, so a vCPU
 * entering the guest again takes a fresh ASID; the IPI makes every CPU
 * leave guest mode once, so none keeps running on the old one.  (Host
 * translations of released frames are the TLB-flush clock's business.)
 */
void memop_arch_flush_released(struct domain *d)
{
    (void)d;
    flush_tlb_mask(READ_ONCE(cpu_online_mask));
}
