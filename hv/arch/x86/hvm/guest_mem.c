/*
 * An HVM guest's memory as Keel reaches it: guest linear addresses go
 * through the guest's own page tables (guest_walk) and guest physical ones
 * through its p2m; every frame is held by a reference while it is copied,
 * so a racing balloon or unmap cannot free it under the copy.  A fault on
 * the way is -EFAULT for the hypercall, as on Xen (no #PF is injected).
 */
#include <asm/hvm.h>
#include <asm/pv.h>
#include <keel/domain.h>
#include <keel/frametable.h>
#include <keel/guest_walk.h>
#include <keel/sched.h>
#include <xen/errno.h>

#include "hvm_internal.h"

/* The frame behind gfn with a reference, or NULL (no RAM, or a read-only
 * mapping asked for writing). */
static struct page_info *get_gfn(struct domain *d, u64 gfn, bool write)
{
    enum p2m_type t;
    mfn_t mfn = p2m_lookup(&d->arch.hvm->p2m, gfn, &t);
    struct page_info *pg;

    if (t == p2m_none || (write && t == p2m_grant_ro) || !mfn_valid(mfn))
        return NULL;
    pg = mfn_to_page(mfn);
    if (!get_page(pg, READ_ONCE(pg->owner)))
        return NULL;
    return pg;
}

static int copy_phys(struct domain *d, u64 gpa, void *buf, size_t n, bool write)
{
    while (n) {
        size_t chunk = MIN(n, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
        struct page_info *pg = get_gfn(d, gpa >> PAGE_SHIFT, write);
        u8 *p;

        if (!pg)
            return -XEN_EFAULT;
        p = (u8 *)mfn_to_virt(page_to_mfn(pg)) + (gpa & (PAGE_SIZE - 1));
        if (write)
            memcpy(p, buf, chunk);
        else
            memcpy(buf, p, chunk);
        put_page(pg);
        buf = (u8 *)buf + chunk;
        gpa += chunk;
        n -= chunk;
    }
    return 0;
}

int hvm_copy_from_guest_phys(struct domain *d, void *dst, u64 gpa, size_t n)
{
    return copy_phys(d, gpa, dst, n, false);
}

int hvm_copy_to_guest_phys(struct domain *d, u64 gpa, const void *src, size_t n)
{
    return copy_phys(d, gpa, (void *)src, n, true);
}

/* ------------------------------------------------- the guest's tables */

static bool walk_read(void *ctx, u64 gpa, unsigned int size, u64 *val)
{
    *val = 0;
    return !copy_phys(ctx, gpa, val, size, false);
}

static void walk_set_bits(void *ctx, u64 gpa, unsigned int size, u64 bits)
{
    struct page_info *pg = get_gfn(ctx, gpa >> PAGE_SHIFT, true);
    void *p;

    if (!pg)
        return;
    p = (u8 *)mfn_to_virt(page_to_mfn(pg)) + (gpa & (PAGE_SIZE - 1));
    /* Atomic, as the CPU's own updates: the guest may be editing the entry. */
    if (size == 8)
        __atomic_fetch_or((u64 *)p, bits, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_or((u32 *)p, (u32)bits, __ATOMIC_SEQ_CST);
    put_page(pg);
}

static const struct gw_ops walk_ops = {walk_read, walk_set_bits};

static int linear_to_phys(struct vcpu *v, unsigned long va, u32 access, u64 *gpa)
{
    struct gw_regs g;
    u32 pfec;

    hvm_backend->paging_regs(v, &g.cr0, &g.cr3, &g.cr4, &g.efer);
    if (hvm_backend->cpl(v) == 3)
        access |= PFEC_USER;
    return guest_walk(&g, va, access, &walk_ops, v->domain, gpa, &pfec) == GW_OK
               ? 0 : -XEN_EFAULT;
}

static int copy_virt(struct vcpu *v, unsigned long va, void *buf, size_t n, u32 access)
{
    bool write = access & PFEC_WRITE;

    if (va + n < va)
        return -XEN_EFAULT;
    while (n) {
        size_t chunk = MIN(n, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        u64 gpa;
        int rc = linear_to_phys(v, va, access, &gpa);

        if (!rc)
            rc = copy_phys(v->domain, gpa, buf, chunk, write);
        if (rc)
            return rc;
        buf = (u8 *)buf + chunk;
        va += chunk;
        n -= chunk;
    }
    return 0;
}

int hvm_copy_from_vcpu_virt(struct vcpu *v, void *dst, unsigned long gva, size_t n,
                            u32 access)
{
    return copy_virt(v, gva, dst, n, access & ~PFEC_WRITE);
}

int hvm_copy_from_guest_virt(void *dst, unsigned long gva, size_t n)
{
    return copy_virt(current, gva, dst, n, 0);
}

int hvm_copy_to_guest_virt(unsigned long gva, const void *src, size_t n)
{
    return copy_virt(current, gva, (void *)src, n, PFEC_WRITE);
}
