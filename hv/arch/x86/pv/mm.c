/*
 * PV memory management, the arch side: finding a guest's page-table
 * entries through its live tables, writing them, and flushing TLBs.  The
 * rules each entry obeys (and the references it holds) are the core's,
 * hv/common/pv_mm.c; this file supplies the machine facts it needs.
 */
#include <asm/cpu.h>
#include <asm/page.h>
#include <asm/pv.h>
#include <asm/smp.h>
#include <keel/console.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/pv_mm.h>
#include <keel/sched.h>

#define LAPIC_MMIO_START 0xfee00000UL
#define IOAPIC_MMIO_START 0xfec00000UL
#define APIC_MMIO_LEN 0x100000UL

/* ------------------------------------------------- hooks for the core */

bool pv_mm_arch_privileged(const struct domain *d)
{
    return d->is_privileged;
}

static unsigned int paddr_bits(void)
{
    static unsigned int bits;

    if (!bits) {
        unsigned int b = 36;
        if (cpuid(0x80000000).eax >= 0x80000008)
            b = cpuid(0x80000008).eax & 0xff;
        bits = b;
    }
    return bits;
}

bool pv_mm_arch_io_frame(mfn_t mfn)
{
    paddr_t pa = (paddr_t)mfn << PAGE_SHIFT;
    paddr_t lapic = rdmsr(MSR_APIC_BASE) & PTE_MFN_MASK;

    if (mfn >> (paddr_bits() - PAGE_SHIFT))
        return false; /* the CPU would fault on the entry */
    /* Interrupt controllers are Keel's; dom0 must not program them. */
    if ((pa >= IOAPIC_MMIO_START && pa < IOAPIC_MMIO_START + APIC_MMIO_LEN) ||
        (pa >= LAPIC_MMIO_START && pa < LAPIC_MMIO_START + APIC_MMIO_LEN) ||
        pa == lapic)
        return false;
    return !paddr_is_ram(pa);
}

void pv_mm_arch_keel_slots(u64 *l4)
{
    pv_install_hypervisor_slots(l4);
}

/* ------------------------------------------------------- finding entries */

static bool domain_table(mfn_t mfn, const struct domain *d)
{
    const struct page_info *pg;

    if (!mfn_valid(mfn))
        return false;
    pg = mfn_to_page(mfn);
    return page_state(pg) == PGC_state_inuse && READ_ONCE(pg->owner) == d;
}

/*
 * The L1 table mapping `va` in v's current tables, with a general and an
 * L1 type reference held for the caller (so it stays an L1 while the
 * caller writes it), and the slot in it; NULL if `va` is not mapped
 * through an L1 of v's domain.
 */
static struct page_info *find_l1(struct vcpu *v, unsigned long va, u64 **slot)
{
    static const unsigned int shift[] = {0, L1_SHIFT, L2_SHIFT, L3_SHIFT, L4_SHIFT};
    struct domain *d = v->domain;
    mfn_t mfn = pv_active_cr3(v) >> PAGE_SHIFT;
    struct page_info *pg;

    for (unsigned int level = 4; level > 1; level--) {
        u64 e;
        if (!domain_table(mfn, d))
            return NULL;
        e = READ_ONCE(((u64 *)mfn_to_virt(mfn))[PT_INDEX(va, shift[level])]);
        if (!(e & PTE_P) || (e & PTE_PSE))
            return NULL;
        mfn = pte_mfn(e);
    }
    if (!domain_table(mfn, d))
        return NULL;
    pg = mfn_to_page(mfn);
    if (!get_page_and_type(pg, d, PGT_l1_page_table))
        return NULL;
    *slot = (u64 *)mfn_to_virt(mfn) + PT_INDEX(va, L1_SHIFT);
    return pg;
}

/* Validate nl1e, take its references, swap it in, drop the old entry's.
 * The caller holds an L1 type reference on the slot's frame. */
static int write_l1e(struct domain *d, u64 *slot, u64 nl1e)
{
    int rc = pv_l1e_get(d, nl1e);
    u64 old;

    if (rc)
        return rc;
    old = __atomic_exchange_n(slot, pv_l1e_adjust(nl1e), __ATOMIC_SEQ_CST);
    pv_l1e_put(old);
    return 0;
}

/* ---------------------------------------------------------------- flushes */

struct flush_req {
    unsigned int type; /* UVMF_TLB_FLUSH / UVMF_INVLPG; anything else: none */
    unsigned long va;
};

static void flush_here(void *data)
{
    const struct flush_req *f = data;

    if (f->type == UVMF_INVLPG)
        __asm__ __volatile__("invlpg (%0)" ::"r"(f->va) : "memory");
    else if (f->type != UVMF_NONE)
        write_cr3(read_cr3()); /* Keel runs without global pages */
}

/* Other CPUs may hold v's domain's translations: over-flushing is safe. */
static void flush_everywhere(struct flush_req *f)
{
    flush_here(f);
    if (f->type != UVMF_NONE && num_online_cpus() > 1)
        smp_call_function(flush_here, f, true);
}

/*
 * The scope bits of UVMF flags (above the flush type): local, all, or a
 * pointer to a guest bitmap of vCPUs.  The bitmap is read only to check
 * it is valid; every CPU is flushed for it.
 */
static int flush_scope(unsigned long flags, bool *all)
{
    unsigned long scope = flags & ~(unsigned long)UVMF_FLUSHTYPE_MASK, mask;

    *all = scope != UVMF_LOCAL;
    if (scope == UVMF_LOCAL || scope == UVMF_ALL)
        return 0;
    return copy_from_guest(&mask, scope, sizeof(mask));
}

/* ----------------------------------------------------- update_va_mapping */

long do_update_va_mapping(struct hcall *h)
{
    unsigned long va = h->arg[0], flags = h->arg[2];
    struct vcpu *v = current;
    struct flush_req f = {.type = flags & UVMF_FLUSHTYPE_MASK, .va = va};
    struct page_info *l1pg;
    u64 *slot;
    bool all;
    int rc;

    if (!guest_range_ok(va, 1))
        return -XEN_EINVAL;
    rc = flush_scope(flags, &all);
    if (rc)
        return rc;
    l1pg = find_l1(v, va, &slot);
    if (!l1pg)
        return -XEN_EINVAL;
    rc = write_l1e(v->domain, slot, h->arg[1]);
    put_page_and_type(l1pg);
    if (rc)
        return rc;
    if (all)
        flush_everywhere(&f);
    else
        flush_here(&f);
    return 0;
}
