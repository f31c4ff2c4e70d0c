/*
 * The dom0 builder: turns the first boot module (a PV kernel ELF with Xen
 * notes) into a running domain 0, laid out the way Xen documents it for
 * 64-bit PV guests:
 *
 *   VIRT_BASE -> kernel image | [initrd, unless MOD_START_PFN] |
 *                [p2m list, unless INIT_P2M] | start_info | page tables |
 *                boot stack | padding to 4 MiB (at least 512 KiB)
 *   INIT_P2M  -> the p2m list with its own page tables (when the note asks)
 *   unmapped  -> the initrd (MOD_START_PFN), then the rest of dom0's pages
 *
 * Guest pseudo-physical frame N is mapped at VIRT_BASE + N pages.  Every
 * page-table frame is mapped read-only; pinning the L4 validates (and so
 * types) every table below it, and the L4 becomes the vCPU's CR3.
 */
#include <asm/page.h>
#include <asm/pv.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/dom0.h>
#include <keel/elf.h>
#include <keel/frametable.h>
#include <keel/m2p.h>
#include <keel/options.h>
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <keel/sched.h>
#include <keel/mm.h>
#include <xen/elfnote.h>
#include <xen/features.h>

#define MB(x) ((u64)(x) << 20)
#define L1_COVER (1UL << L2_SHIFT) /* one L1 maps 2 MiB */
#define L2_COVER (1UL << L3_SHIFT) /* one L2 maps 1 GiB */
#define L3_COVER (1UL << L4_SHIFT)
#define GUEST_PT_FLAGS (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define GUEST_L1_FLAGS (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)

/* What Keel offers a PV guest (XENFEAT_* bits, submap 0). */
const u32 pv_offered_features =
    (1U << XENFEAT_writable_page_tables) | (1U << XENFEAT_writable_descriptor_tables) |
    (1U << XENFEAT_auto_translated_physmap) * 0 | (1U << XENFEAT_supervisor_mode_kernel) * 0 |
    (1U << XENFEAT_pae_pgdir_above_4gb) | (1U << XENFEAT_mmu_pt_update_preserve_ad) |
    (1U << XENFEAT_gnttab_map_avail_bits) | (1U << XENFEAT_dom0);

struct layout {
    u64 vstart;            /* VIRT_BASE */
    u64 kern_end;          /* end of the kernel image (page-aligned) */
    u64 initrd_va, initrd_len;   /* mapped initrd (0: not mapped) */
    u64 p2m_va;            /* p2m list address */
    u64 p2m_pages;
    bool p2m_separate;     /* INIT_P2M: own mapping outside the initial one */
    u64 si_va;             /* start_info */
    u64 pt_va;             /* first page-table frame (the L4) */
    unsigned long nr_pt;   /* page-table frames of the initial mapping */
    u64 stack_va;          /* boot stack page */
    u64 vend;              /* end of the initial mapping */
    /* pfns past the initial mapping */
    u64 p2m_pfn, p2m_frames;    /* INIT_P2M list + its tables */
    u64 initrd_pfn;             /* MOD_START_PFN initrd */
};

struct builder {
    struct domain *d;
    unsigned long nr_pages;
    mfn_t *p2m;            /* Keel's copy, pfn -> mfn */
    struct layout l;
    const struct pv_kernel_info *ki;
    unsigned long next_pt_pfn; /* page-table frames are handed out in order */
    unsigned long pt_end_pfn;
};

static void *pfn_va(const struct builder *b, u64 pfn)
{
    return mfn_to_virt(b->p2m[pfn]);
}

static u64 va_to_pfn(const struct builder *b, u64 va)
{
    return (va - b->l.vstart) >> PAGE_SHIFT;
}

/* Page-table frames needed to map [start, end) in one L4 slot's subtree. */
static unsigned long tables_for(u64 start, u64 end)
{
    u64 last = end - 1;
    return (unsigned long)(1 /* L3 */ + ((last >> L3_SHIFT) - (start >> L3_SHIFT) + 1) +
                           ((last >> L2_SHIFT) - (start >> L2_SHIFT) + 1));
}

static int compute_layout(struct builder *b, const struct boot_module *initrd)
{
    struct layout *l = &b->l;
    const struct pv_kernel_info *ki = b->ki;
    u64 v, initrd_len = initrd ? initrd->end - initrd->start : 0;

    l->vstart = ki->virt_base;
    l->kern_end = ALIGN_UP(ki->virt_kend, PAGE_SIZE);
    v = l->kern_end;
    if (initrd_len && !ki->mod_start_pfn) {
        l->initrd_va = v;
        l->initrd_len = initrd_len;
        v = ALIGN_UP(v + initrd_len, PAGE_SIZE);
    }
    l->p2m_pages = ALIGN_UP(b->nr_pages * sizeof(u64), PAGE_SIZE) >> PAGE_SHIFT;
    l->p2m_separate = ki->notes_seen & (1U << XEN_ELFNOTE_INIT_P2M);
    if (!l->p2m_separate) {
        l->p2m_va = v;
        v += l->p2m_pages << PAGE_SHIFT;
    }
    l->si_va = v;
    v += PAGE_SIZE;
    l->pt_va = v;
    /* The tables map themselves: grow the estimate until it is stable. */
    for (l->nr_pt = 1;;) {
        u64 end = l->pt_va + ((u64)l->nr_pt << PAGE_SHIFT) + PAGE_SIZE /* stack */;
        u64 vend = ALIGN_UP(end + 512 * 1024, MB(4));
        unsigned long need = 1 /* L4 */ + tables_for(l->vstart, vend);
        if (need <= l->nr_pt) {
            l->vend = vend;
            break;
        }
        l->nr_pt = need;
    }
    l->stack_va = l->pt_va + ((u64)l->nr_pt << PAGE_SHIFT);
    /* Linux copies one L2 from L4[511]/L3[510]: the whole initial mapping
     * must fit under it. */
    if ((l->vstart >> L3_SHIFT) != ((l->vend - 1) >> L3_SHIFT)) {
        printk(KLOG_ERR "dom0: initial mapping %lx-%lx crosses a 1 GiB boundary\n",
               (unsigned long)l->vstart, (unsigned long)l->vend);
        return -1;
    }
    v = (l->vend - l->vstart) >> PAGE_SHIFT; /* first pfn past the mapping */
    if (l->p2m_separate) {
        l->p2m_pfn = v;
        l->p2m_frames = l->p2m_pages +
                        tables_for(ki->init_p2m, ki->init_p2m + (l->p2m_pages << PAGE_SHIFT));
        v += l->p2m_frames;
    }
    if (initrd_len && ki->mod_start_pfn) {
        l->initrd_pfn = v;
        v += ALIGN_UP(initrd_len, PAGE_SIZE) >> PAGE_SHIFT;
    }
    if (v > b->nr_pages) {
        printk(KLOG_ERR "dom0: %lu pages needed for the initial layout, only %lu given\n",
               (unsigned long)v, b->nr_pages);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ memory */

static int allocate_memory(struct builder *b)
{
    unsigned long pfn = 0;
    unsigned int order = MAX_ORDER;

    b->p2m = xzalloc(b->nr_pages * sizeof(mfn_t));
    if (!b->p2m)
        return -1;
    while (pfn < b->nr_pages) {
        struct page_info *pg;
        while (order && (1UL << order) > b->nr_pages - pfn)
            order--;
        pg = alloc_pages(order);
        if (!pg) {
            if (!order)
                return -1;
            order--;
            continue;
        }
        for (unsigned long i = 0; i < (1UL << order); i++, pfn++) {
            struct page_info *p = pg + i;
            BUG_ON(!page_assign(p, b->d));
            b->p2m[pfn] = page_to_mfn(p);
            m2p_set(b->p2m[pfn], pfn);
            memset(mfn_to_virt(b->p2m[pfn]), 0, PAGE_SIZE);
        }
    }
    b->d->tot_pages = b->d->max_pages = b->nr_pages;
    return 0;
}

/* ------------------------------------------------------- page tables */

static pte_t *new_table(struct builder *b, mfn_t *mfn)
{
    u64 pfn = b->next_pt_pfn++;

    BUG_ON(pfn >= b->pt_end_pfn);
    *mfn = b->p2m[pfn];
    return pfn_va(b, pfn);
}

/* The entry for `va` at `level` (4..2) below `table`, making a table. */
static pte_t *walk_alloc(struct builder *b, pte_t *table, u64 va, unsigned int level)
{
    static const unsigned int shifts[] = {0, L1_SHIFT, L2_SHIFT, L3_SHIFT, L4_SHIFT};
    pte_t *e = &table[PT_INDEX(va, shifts[level])];
    mfn_t mfn;

    if (!(*e & _PAGE_PRESENT)) {
        new_table(b, &mfn);
        *e = ((pte_t)mfn << PAGE_SHIFT) | GUEST_PT_FLAGS;
    }
    return mfn_to_virt((*e & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

static void map_page(struct builder *b, pte_t *l4, u64 va, mfn_t mfn, bool writable)
{
    pte_t *l3 = walk_alloc(b, l4, va, 4);
    pte_t *l2 = walk_alloc(b, l3, va, 3);
    pte_t *l1 = walk_alloc(b, l2, va, 2);

    l1[PT_INDEX(va, L1_SHIFT)] = ((pte_t)mfn << PAGE_SHIFT) | GUEST_L1_FLAGS |
                                 (writable ? _PAGE_RW : 0);
}

static bool is_pt_pfn(const struct builder *b, u64 pfn)
{
    u64 first = va_to_pfn(b, b->l.pt_va);
    return pfn >= first && pfn < first + b->l.nr_pt;
}

static int build_page_tables(struct builder *b, mfn_t *l4_mfn)
{
    struct layout *l = &b->l;
    u64 first_pt = va_to_pfn(b, l->pt_va);
    pte_t *l4;

    b->next_pt_pfn = first_pt;
    b->pt_end_pfn = first_pt + l->nr_pt;
    l4 = new_table(b, l4_mfn);
    pv_install_hypervisor_slots(l4);
    for (u64 va = l->vstart; va < l->vend; va += PAGE_SIZE) {
        u64 pfn = va_to_pfn(b, va);
        map_page(b, l4, va, b->p2m[pfn], !is_pt_pfn(b, pfn));
    }
    if (l->p2m_separate) {
        /* Its tables come from the pfns reserved after the mapping. */
        b->next_pt_pfn = l->p2m_pfn + l->p2m_pages;
        b->pt_end_pfn = l->p2m_pfn + l->p2m_frames;
        for (u64 i = 0; i < l->p2m_pages; i++)
            map_page(b, l4, b->ki->init_p2m + (i << PAGE_SHIFT), b->p2m[l->p2m_pfn + i], true);
        /* Those table frames must be read-only wherever they are mapped:
         * they are not in the initial mapping, so nothing to change. */
    }
    /* Validating the L4 types every table below it (pv_mm's hooks). */
    if (!page_pin(mfn_to_page(*l4_mfn), b->d, PGT_l4_page_table)) {
        printk(KLOG_ERR "dom0: the initial page tables do not validate\n");
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- content */

static int copy_to_dom0(void *ctx, u64 gva, const void *src, u64 len)
{
    struct builder *b = ctx;

    while (len) {
        u64 off = gva & (PAGE_SIZE - 1), n = MIN(len, PAGE_SIZE - off);
        u64 pfn = va_to_pfn(b, gva);
        if (gva < b->l.vstart || pfn >= b->nr_pages)
            return -1;
        if (src) {
            memcpy((u8 *)pfn_va(b, pfn) + off, src, n);
            src = (const u8 *)src + n;
        } else {
            memset((u8 *)pfn_va(b, pfn) + off, 0, n);
        }
        gva += n;
        len -= n;
    }
    return 0;
}

static void copy_to_pfns(struct builder *b, u64 pfn, const u8 *src, u64 len)
{
    for (u64 off = 0; off < len; off += PAGE_SIZE, pfn++)
        memcpy(pfn_va(b, pfn), src + off, MIN(PAGE_SIZE, len - off));
}

static void write_p2m(struct builder *b)
{
    u64 pfn = b->l.p2m_separate ? b->l.p2m_pfn : va_to_pfn(b, b->l.p2m_va);

    for (u64 i = 0; i < b->nr_pages; i++) {
        u64 *page = pfn_va(b, pfn + (i * 8 >> PAGE_SHIFT));
        page[i % (PAGE_SIZE / 8)] = b->p2m[i];
    }
}

static void write_start_info(struct builder *b, const struct boot_module *initrd,
                             const char *cmdline)
{
    start_info_t *si = pfn_va(b, va_to_pfn(b, b->l.si_va));
    const struct layout *l = &b->l;

    memset(si, 0, PAGE_SIZE);
    memcpy(si->magic, "xen-3.0-x86_64", 15);
    si->nr_pages = b->nr_pages;
    si->shared_info = (u64)b->d->shared_info_mfn << PAGE_SHIFT;
    si->flags = SIF_PRIVILEGED | SIF_INITDOMAIN;
    si->pt_base = l->pt_va;
    si->nr_pt_frames = l->nr_pt;
    si->mfn_list = l->p2m_separate ? b->ki->init_p2m : l->p2m_va;
    if (l->p2m_separate) {
        si->first_p2m_pfn = l->p2m_pfn;
        si->nr_p2m_frames = l->p2m_frames;
    }
    if (initrd) {
        if (b->ki->mod_start_pfn) {
            si->flags |= SIF_MOD_START_PFN;
            si->mod_start = l->initrd_pfn;
        } else {
            si->mod_start = l->initrd_va;
        }
        si->mod_len = initrd->end - initrd->start;
    }
    for (size_t i = 0; cmdline && cmdline[i] && i < sizeof(si->cmd_line) - 1; i++)
        si->cmd_line[i] = cmdline[i];
}

static void setup_vcpu0(struct builder *b, mfn_t l4_mfn)
{
    struct vcpu *v = b->d->vcpus[0];
    struct regs *r = &v->arch.user_regs;

    memset(r, 0, sizeof(*r));
    r->rip = b->ki->entry;
    r->rsp = b->l.stack_va + PAGE_SIZE;
    r->rsi = b->l.si_va;
    r->rflags = X86_EFLAGS_IF | 2;
    r->cs = FLAT_KERNEL_CS;
    r->ss = FLAT_KERNEL_SS;
    v->arch.kernel_mode = true;
    v->arch.guest_table = l4_mfn;
    /* The running CR3 holds a reference, as a pin does. */
    get_page_and_type(mfn_to_page(l4_mfn), b->d, PGT_l4_page_table);
    __atomic_and_fetch(&v->pause_flags, ~(1UL << VPF_down), __ATOMIC_SEQ_CST);
}

static unsigned long dom0_pages(void)
{
    unsigned long avail = heap_free_frames();
    unsigned long want;

    if (opts.dom0_mem)
        want = opts.dom0_mem >> PAGE_SHIFT;
    else /* leave Keel 1/16 of memory, at least 16 MiB */
        want = avail - MAX(avail / 16, MB(16) >> PAGE_SHIFT);
    return MIN(want, avail > 1024 ? avail - 1024 : 0);
}

int dom0_build(const struct boot_info *bi)
{
    const struct boot_module *kmod = &bi->modules[0];
    const struct boot_module *initrd = bi->nr_modules > 1 ? &bi->modules[1] : NULL;
    const void *img = __va(kmod->start);
    size_t size = kmod->end - kmod->start;
    static struct pv_kernel_info ki;
    struct builder b = {.ki = &ki};
    struct dom0_unpacked unpacked;
    mfn_t l4_mfn;

    if (dom0_unpack_kernel(&img, &size, &unpacked))
        return -1;
    if (elf_parse_pv_kernel(img, size, &ki) || pv_kernel_check(&ki, pv_offered_features)) {
        printk(KLOG_ERR "dom0: kernel rejected: %s\n", ki.why);
        dom0_unpack_release(&unpacked);
        return -1;
    }
    if (!(ki.features_supported & (1U << XENFEAT_dom0))) {
        printk(KLOG_ERR "dom0: kernel rejected: it does not support running as dom0 "
                        "(XENFEAT_dom0 missing from its notes)\n");
        return -1;
    }
    pv_mm_init();
    b.nr_pages = dom0_pages();
    struct domain_config cfg = {
        .privileged = true,
        .max_vcpus = opts.dom0_max_vcpus ? opts.dom0_max_vcpus : 1,
        .nr_evtchn_ports = DOMAIN_EVTCHN_PORTS,
        .max_grant_frames = 64,
        .max_maptrack_frames = 1024,
        .max_grant_version = 1,
    };
    if (domain_create(0, &cfg, &b.d)) {
        printk(KLOG_ERR "dom0: cannot create the domain\n");
        return -1;
    }
    if (compute_layout(&b, initrd) || allocate_memory(&b)) {
        printk(KLOG_ERR "dom0: not enough memory for %lu pages\n", b.nr_pages);
        return -1;
    }
    printk("dom0: %lu MiB, kernel %lx-%lx, entry %lx, start_info %lx, %lu page-table frames,"
           " initial mapping up to %lx\n",
           b.nr_pages >> (20 - PAGE_SHIFT), (unsigned long)ki.virt_kstart,
           (unsigned long)ki.virt_kend, (unsigned long)ki.entry, (unsigned long)b.l.si_va,
           b.l.nr_pt, (unsigned long)b.l.vend);
    if (build_page_tables(&b, &l4_mfn))
        return -1;
    if (pv_kernel_load(img, size, &ki, copy_to_dom0, &b)) {
        printk(KLOG_ERR "dom0: loading the kernel failed: %s\n", ki.why);
        dom0_unpack_release(&unpacked);
        return -1;
    }
    dom0_unpack_release(&unpacked);
    if (initrd) {
        const u8 *src = __va(initrd->start);
        if (ki.mod_start_pfn)
            copy_to_pfns(&b, b.l.initrd_pfn, src, initrd->end - initrd->start);
        else
            copy_to_dom0(&b, b.l.initrd_va, src, initrd->end - initrd->start);
    }
    if (ki.has_hypercall_page)
        pv_fill_hypercall_page(pfn_va(&b, va_to_pfn(&b, ki.hypercall_page)));
    write_p2m(&b);
    /* As Xen: the kernel sees its arguments, not the loader's image path. */
    write_start_info(&b, initrd, boot_cmdline_args(bi, kmod->cmdline));
    setup_vcpu0(&b, l4_mfn);
    for (unsigned int i = 0; i < b.d->nr_vcpus; i++)
        pv_update_vcpu_time(b.d->vcpus[i]);
    pv_update_wallclock(b.d);
    xfree(b.p2m);
    vcpu_wake(b.d->vcpus[0]);
    return 0;
}
