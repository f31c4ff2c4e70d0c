/*
 * PV memory management, the arch side: finding a guest's page-table
 * entries through its live tables, writing them, and flushing TLBs.  The
 * rules each entry obeys (and the references it holds) are the core's,
 * hv/common/pv_mm.c; this file supplies the machine facts it needs.
 */
#include <asm/cpu.h>
#include <asm/flushtlb.h>
#include <asm/irq.h>
#include <asm/page.h>
#include <asm/pv.h>
#include <asm/pv_mm.h>
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

bool pv_mm_arch_io_frame_ro(mfn_t mfn)
{
    return msi_frame_ro(mfn);
}

void pv_mm_arch_keel_slots(u64 *l4)
{
    pv_install_hypervisor_slots(l4);
}

/* Only hypercalls that can continue validate preemptibly. */
bool pv_mm_arch_should_yield(void)
{
    return hypercall_preempt_check(NULL);
}

/* ------------------------------------------------------- finding entries */

struct page_info *pv_domain_page(mfn_t mfn, const struct domain *d)
{
    struct page_info *pg;

    if (!mfn_valid(mfn))
        return NULL;
    pg = mfn_to_page(mfn);
    if (page_state(pg) != PGC_state_inuse || READ_ONCE(pg->owner) != d)
        return NULL;
    return pg;
}

/* The L1 frame v's tables map va through, or NULL: read without
 * references, so only a hint until the caller checks and takes the frame
 * (each step reads only frames that are d's). */
static struct page_info *walk_to_l1(struct vcpu *v, unsigned long va)
{
    static const unsigned int shift[] = {0, L1_SHIFT, L2_SHIFT, L3_SHIFT, L4_SHIFT};
    struct domain *d = v->domain;
    mfn_t mfn = pv_active_cr3(v) >> PAGE_SHIFT;

    for (unsigned int level = 4; level > 1; level--) {
        u64 e;
        if (!pv_domain_page(mfn, d))
            return NULL;
        e = READ_ONCE(((u64 *)mfn_to_virt(mfn))[PT_INDEX(va, shift[level])]);
        if (!(e & PTE_P) || (e & PTE_PSE))
            return NULL;
        mfn = pte_mfn(e);
    }
    return pv_domain_page(mfn, d);
}

/* The type reference keeps it an L1 while the caller writes the slot. */
struct page_info *pv_find_l1(struct vcpu *v, unsigned long va, u64 **slot)
{
    struct page_info *pg = walk_to_l1(v, va);

    if (!pg || !get_page_and_type(pg, v->domain, PGT_l1_page_table))
        return NULL;
    *slot = (u64 *)mfn_to_virt(page_to_mfn(pg)) + PT_INDEX(va, L1_SHIFT);
    return pg;
}

bool pv_read_l1e(struct vcpu *v, unsigned long va, u64 *e)
{
    struct page_info *pg = walk_to_l1(v, va);

    if (!pg || pv_table_level(pg) != 1)
        return false;
    *e = READ_ONCE(((u64 *)mfn_to_virt(page_to_mfn(pg)))[PT_INDEX(va, L1_SHIFT)]);
    return true;
}

struct domain *pv_pg_owner(unsigned long domid, long *err)
{
    struct domain *d = current->domain, *o;

    if (domid == DOMID_SELF) {
        domain_get_ref(d);
        return d;
    }
    /* Xen: "cannot specify itself as foreign domain". */
    o = domid < DOMID_FIRST_RESERVED && domid != d->domid ? domain_get((domid_t)domid) : NULL;
    if (!o)
        *err = -XEN_ESRCH;
    /* Xen's owner of its own frames exists there, and only the control
     * domain may name it: -EPERM for the others (Keel has no such owner,
     * so the control domain still gets -ESRCH). */
    if (domid == DOMID_XEN && !d->is_privileged)
        *err = -XEN_EPERM;
    return o;
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
        flush_tlb_local(); /* recorded: it may spare a flush later */
}

/*
 * The CPUs that may hold translations of d's page tables: this one, and
 * every CPU running one of d's vCPUs right now.  Any other CPU loaded CR3
 * (a full flush: Keel maps nothing global for guests and uses no PCIDs)
 * when it last switched away from d, and will again before it runs one
 * of d's vCPUs; so a vCPU found not running, after the caller's entry
 * updates, cannot see the old entries.  is_running stays true until the
 * CPU has stopped using the vCPU's tables (keel/sched.h).  Over-flushing
 * stays safe: "some vCPUs" in a guest's request means all of d's.
 */
static u64 domain_dirty_cpus(const struct domain *d)
{
    u64 mask = 1UL << smp_processor_id();

    /* The callers' entry updates are visible before we look. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (unsigned int i = 0; i < READ_ONCE(d->nr_vcpus) && i < MAX_VIRT_CPUS; i++) {
        const struct vcpu *v = READ_ONCE(d->vcpus[i]);

        if (v && __atomic_load_n(&v->is_running, __ATOMIC_ACQUIRE))
            mask |= 1UL << READ_ONCE(v->processor);
    }
    return mask;
}

void pv_flush(unsigned int type, unsigned long va, bool everywhere)
{
    struct flush_req f = {.type = type, .va = va};
    u64 others;

    if (!everywhere || type == UVMF_NONE) {
        flush_here(&f);
        return;
    }
    others = domain_dirty_cpus(current->domain);
    if (type == UVMF_TLB_FLUSH) {
        flush_tlb_mask(others); /* this CPU included */
        return;
    }
    flush_here(&f);
    others &= ~(1UL << smp_processor_id());
    if (others)
        smp_call_function_mask(others, flush_here, &f, true);
}

#define FLUSH_LIST_MAX 8 /* beyond this many pages a full flush is cheaper */

struct flush_list {
    const u64 *va; /* NULL: everything */
    unsigned int n;
};

static void flush_list_here(void *data)
{
    const struct flush_list *f = data;

    if (!f->va) {
        flush_tlb_local();
        return;
    }
    for (unsigned int i = 0; i < f->n; i++)
        __asm__ __volatile__("invlpg (%0)" ::"r"(f->va[i]) : "memory");
}

void pv_flush_list(const u64 *va, unsigned int n)
{
    struct flush_list f = {.va = n > FLUSH_LIST_MAX ? NULL : va, .n = n};

    u64 others = domain_dirty_cpus(current->domain) & ~(1UL << smp_processor_id());

    flush_list_here(&f);
    if (others)
        smp_call_function_mask(others, flush_list_here, &f, true);
}

int pv_check_vcpumask(unsigned long gva)
{
    unsigned long mask;

    return copy_from_guest(&mask, gva, sizeof(mask));
}

/* The scope bits of UVMF flags (above the flush type): local, all, or a
 * pointer to a guest bitmap of vCPUs. */
static int flush_scope(unsigned long flags, bool *all)
{
    unsigned long scope = flags & ~(unsigned long)UVMF_FLUSHTYPE_MASK;

    *all = scope != UVMF_LOCAL;
    if (scope == UVMF_LOCAL || scope == UVMF_ALL)
        return 0;
    return pv_check_vcpumask(scope);
}

/* ----------------------------------------------------- update_va_mapping */

/* The entry may name pg_owner's frames (the caller's own, or for the
 * control domain another domain's). */
static long update_va_mapping(struct hcall *h, struct domain *pg_owner)
{
    unsigned long va = h->arg[0], flags = h->arg[2];
    struct vcpu *v = current;
    struct page_info *l1pg;
    u64 *slot;
    bool all;
    int rc;

    /* Xen checks the right to pg_owner's frames before anything else. */
    if (pg_owner != v->domain && !v->domain->is_privileged)
        return -XEN_EPERM;
    if (!guest_range_ok(va, 1))
        return -XEN_EINVAL;
    rc = flush_scope(flags, &all);
    if (rc)
        return rc;
    l1pg = pv_find_l1(v, va, &slot);
    if (!l1pg)
        return -XEN_EINVAL;
    rc = pv_entry_update_foreign(v->domain, pg_owner, slot, 1, PT_INDEX(va, L1_SHIFT),
                                 h->arg[1], false);
    put_page_and_type(l1pg);
    if (rc)
        return rc;
    pv_flush(flags & UVMF_FLUSHTYPE_MASK, va, all);
    return 0;
}

long do_update_va_mapping(struct hcall *h)
{
    return update_va_mapping(h, current->domain);
}

/* The fourth argument is a domid_t (Xen truncates it), named as
 * mmu_update's foreigndom is. */
long do_update_va_mapping_otherdomain(struct hcall *h)
{
    long rc = 0;
    struct domain *pg_owner = pv_pg_owner((domid_t)h->arg[3], &rc);

    if (!pg_owner)
        return rc;
    rc = update_va_mapping(h, pg_owner);
    domain_put(pg_owner);
    return rc;
}
