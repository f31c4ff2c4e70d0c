/*
 * The M2P table (keel/m2p.h) and the hypervisor part of guest L4s.
 * Keel's view is the direct map of one contiguous allocation; guests see
 * the same frames read-only at MACH2PHYS_VIRT_START, user-accessible and
 * non-executable, through L4 slot 256 which every guest L4 shares.
 */
#include <asm/page.h>
#include <asm/pv.h>
#include <keel/console.h>
#include <keel/frametable.h>
#include <keel/m2p.h>
#include <keel/page_alloc.h>
#include <xen/xen.h>

static unsigned long *m2p;
static unsigned long m2p_entries;

static pte_t *table_of(pte_t e)
{
    return mfn_to_virt((e & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

/* User access needs the U bit at every level of the walk, not just the leaf. */
static void make_user_walk(unsigned long va, unsigned long end)
{
    pte_t *l4 = __va(idle_pg_table_pa);

    for (; va < end; va += PAGE_SIZE) {
        pte_t *e = &l4[PT_INDEX(va, L4_SHIFT)];
        *e |= _PAGE_USER;
        e = &table_of(*e)[PT_INDEX(va, L3_SHIFT)];
        *e |= _PAGE_USER;
        if (*e & _PAGE_PSE)
            continue;
        e = &table_of(*e)[PT_INDEX(va, L2_SHIFT)];
        *e |= _PAGE_USER;
    }
}

void m2p_init(void)
{
    unsigned long bytes = ALIGN_UP(frame_table_nr * sizeof(unsigned long), PAGE_SIZE);
    unsigned int order = 0;
    struct page_info *pg;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    BUG_ON(bytes > MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START);
    pg = alloc_pages(order);
    if (!pg)
        panic("no memory for the %lu KiB machine-to-phys table", bytes >> 10);
    m2p = mfn_to_virt(page_to_mfn(pg));
    m2p_entries = frame_table_nr;
    memset(m2p, 0xff, PAGE_SIZE << order);
    if (map_pages(MACH2PHYS_VIRT_START, page_to_mfn(pg) << PAGE_SHIFT, bytes,
                  _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX))
        panic("cannot map the read-only machine-to-phys table");
    make_user_walk(MACH2PHYS_VIRT_START, MACH2PHYS_VIRT_START + bytes);
    printk("m2p: %lu entries, read-only to guests at %#lx\n", m2p_entries,
           (unsigned long)MACH2PHYS_VIRT_START);
}

void m2p_set(mfn_t mfn, unsigned long pfn)
{
    if (mfn < m2p_entries)
        m2p[mfn] = pfn;
}

unsigned long m2p_get(mfn_t mfn)
{
    return mfn < m2p_entries ? m2p[mfn] : INVALID_M2P_ENTRY;
}

unsigned long m2p_nr_entries(void)
{
    return m2p_entries;
}

/* Keel's slots (256-271) of a guest L4 are the idle tables' own. */
void pv_install_hypervisor_slots(pte_t *l4)
{
    const pte_t *idle = __va(idle_pg_table_pa);

    for (unsigned int i = 256; i < 272; i++)
        l4[i] = idle[i];
}
