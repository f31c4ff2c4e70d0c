/*
 * set_gdt and update_descriptor, and the descriptor tables a PV vCPU runs
 * with (GDT frames, LDT, segment selectors) — see asm/pv_desc.h for the
 * per-CPU window they are mapped in.
 *
 * What a guest supplies is checked by the frame table: a frame becomes a
 * descriptor page (PGT_seg_desc_page) only while nothing maps it writable,
 * and only if every descriptor in it passes desc_fixup (pv_mm's validation
 * hook); while the type is held no writable mapping can be made.  So the
 * window may map those frames writable for Keel alone: the CPU sets the
 * "accessed" bit in descriptors it loads, and nothing else writes them
 * except update_descriptor, which checks first.
 *
 * The LDT is mapped when MMUEXT_SET_LDT names it (Xen maps it lazily on
 * the first fault; Linux always maps the pages read-only first, so the
 * difference shows only for a guest that sets an LDT before mapping it:
 * here such pages read as empty and selectors in them fault).
 */
#include <asm/cpu.h>
#include <asm/desc.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <asm/pv.h>
#include <asm/pv_desc.h>
#include <asm/pv_mm.h>
#include <asm/pv_vcpu.h>
#include <asm/traps.h>
#include <keel/console.h>
#include <keel/desc_check.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/selftest.h>


long do_set_gdt(struct hcall *h)
{
    unsigned long frames[PV_GDT_FRAMES];
    unsigned int entries = (unsigned int)h->arg[1]; /* an unsigned int in the ABI */
    unsigned int nr = DIV_ROUND_UP(entries, 512);

    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -XEN_EINVAL;
    if (nr && copy_from_guest(frames, h->arg[0], nr * sizeof(frames[0])))
        return -XEN_EFAULT;
    return pv_vcpu_set_gdt(current, frames, entries);
}

long do_update_descriptor(struct hcall *h)
{
    struct domain *d = current->domain;
    unsigned long maddr = h->arg[0];
    u64 desc = h->arg[1];
    struct page_info *pg;
    unsigned long type;

    /* Misaligned, it would straddle two descriptors. */
    if (!IS_ALIGNED(maddr, 8) || !desc_fixup(&desc))
        return -XEN_EINVAL;
    pg = pv_domain_page(maddr >> PAGE_SHIFT, d);
    if (!pg || !get_page(pg, d))
        return -XEN_EINVAL;
    /* A descriptor page stays one; anything else must be plain memory
     * (never a page table). */
    type = (READ_ONCE(pg->u.type_info) & PGT_type_mask) == PGT_seg_desc_page
               ? PGT_seg_desc_page
               : PGT_writable_page;
    if (!get_page_type(pg, type)) {
        put_page(pg);
        return -XEN_EINVAL;
    }
    WRITE_ONCE(*(u64 *)((u8 *)mfn_to_virt(page_to_mfn(pg)) + (maddr & (PAGE_SIZE - 1))),
               desc);
    put_page_and_type(pg);
    return 0;
}

/* ------------------------------------------------------------ windows */

#define WIN_PAGES 32
#define WIN_KEEL_PAGE PV_GDT_FRAMES /* byte 0xe000: Keel's page */
#define WIN_LDT_PAGE 16
#define WIN_SIZE ((unsigned long)WIN_PAGES * PAGE_SIZE)
#define LDT_DESC_TYPE 0x82UL /* present, DPL 0, LDT */

_Static_assert(GDT_RESERVED_BYTE == WIN_KEEL_PAGE * PAGE_SIZE, "Keel's GDT page");
_Static_assert(GDT_LIMIT < (WIN_KEEL_PAGE + 1) * PAGE_SIZE, "GDT limit in the window");
_Static_assert(WIN_LDT_PAGE + PV_LDT_FRAMES <= WIN_PAGES, "LDT in the window");
_Static_assert(NR_CPUS * WIN_SIZE <= (1UL << 39), "windows in one L4 slot");

/* What unused GDT and LDT pages show: null descriptors, which fault. */
static u64 empty_page[512] __aligned(PAGE_SIZE);
static pte_t *win_ptes[NR_CPUS];  /* the window's L1 entries */
static u64 win_stamp[NR_CPUS];    /* whose tables the window shows */
static bool win_live[NR_CPUS];    /* GDTR points at the window */
static u64 stamp_last;
static u64 pte_nx;

static unsigned long win_va(unsigned int cpu)
{
    return PERDOMAIN_VIRT_START + cpu * WIN_SIZE;
}

static u64 new_stamp(void)
{
    return __atomic_add_fetch(&stamp_last, 1, __ATOMIC_RELAXED);
}

static pte_t pte_of(paddr_t pa, u64 flags)
{
    return pa | (flags & ~_PAGE_NX) | pte_nx;
}

/* The L1 entry for va in Keel's tables (shared by every guest's). */
static pte_t *l1_slot(unsigned long va)
{
    static const unsigned int shift[] = {L4_SHIFT, L3_SHIFT, L2_SHIFT};
    pte_t *t = __va(idle_pg_table_pa);

    for (unsigned int i = 0; i < 3; i++) {
        pte_t e = t[PT_INDEX(va, shift[i])];
        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return NULL;
        t = __va(e & PTE_ADDR_MASK);
    }
    return &t[PT_INDEX(va, L1_SHIFT)];
}

/* The tables must exist before the first guest L4 copies Keel's slots. */
void pv_desc_init(void)
{
    paddr_t empty = __pa_image(empty_page);

    pte_nx = rdmsr(MSR_EFER) & EFER_NXE ? _PAGE_NX : 0;
    for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
        for (unsigned int i = 0; i < WIN_PAGES; i++) {
            /* Keel's page comes when the CPU first uses its window;
             * the page after it is beyond the GDT limit. */
            if (i == WIN_KEEL_PAGE || i == WIN_KEEL_PAGE + 1)
                continue;
            if (map_pages(win_va(cpu) + i * PAGE_SIZE, empty, PAGE_SIZE, PAGE_HYPERVISOR_RO))
                panic("pv: no memory for the descriptor windows");
        }
        win_ptes[cpu] = l1_slot(win_va(cpu));
        BUG_ON(!win_ptes[cpu]);
    }
}

static void invlpg(unsigned long va)
{
    __asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

/* GDTR moves to the window; the Keel page is the same frame as before, so
 * TR (and its busy TSS descriptor) stays as it is. */
static void window_activate(unsigned int cpu)
{
    struct desc_ptr cur, gdtr = {GDT_LIMIT, win_va(cpu)};

    __asm__ __volatile__("sgdt %0" : "=m"(cur));
    win_ptes[cpu][WIN_KEEL_PAGE] =
        pte_of(__pa_image(cur.base + GDT_RESERVED_BYTE), PAGE_HYPERVISOR_RW);
    invlpg(win_va(cpu) + GDT_RESERVED_BYTE);
    __asm__ __volatile__("lgdt %0" ::"m"(gdtr) : "memory");
    win_live[cpu] = true;
}

static void set_pte(unsigned int cpu, unsigned int i, pte_t val)
{
    pte_t *e = &win_ptes[cpu][i];

    if (READ_ONCE(*e) == val)
        return;
    WRITE_ONCE(*e, val);
    invlpg(win_va(cpu) + i * PAGE_SIZE);
}

static pte_t frame_pte(mfn_t mfn)
{
    if (!mfn)
        return pte_of(__pa_image(empty_page), PAGE_HYPERVISOR_RO);
    return pte_of((paddr_t)mfn << PAGE_SHIFT, PAGE_HYPERVISOR_RW);
}

static void load_ldtr(unsigned int cpu, unsigned int ents)
{
    u64 *keel = (u64 *)(win_va(cpu) + GDT_RESERVED_BYTE);
    unsigned int slot = (KEEL_LDT - GDT_RESERVED_BYTE) / 8;
    unsigned long base = win_va(cpu) + WIN_LDT_PAGE * PAGE_SIZE;
    u64 limit = (u64)ents * 8 - 1;

    if (!ents) {
        __asm__ __volatile__("lldt %w0" ::"r"(0));
        return;
    }
    keel[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (LDT_DESC_TYPE << 40) |
                 ((limit >> 16 & 0xf) << 48) | ((u64)(base >> 24 & 0xff) << 56);
    keel[slot + 1] = base >> 32;
    __asm__ __volatile__("lldt %w0" ::"r"(KEEL_LDT) : "memory");
}

/* Show s in this CPU's window (the CPU must be running the vCPU next). */
static void window_load(unsigned int cpu, const struct pv_desc *s)
{
    unsigned int gdt_nr = DIV_ROUND_UP(s->gdt_ents, 512);

    if (!win_live[cpu])
        window_activate(cpu);
    for (unsigned int i = 0; i < PV_GDT_FRAMES; i++)
        set_pte(cpu, i, frame_pte(i < gdt_nr ? s->gdt_frames[i] : 0));
    for (unsigned int i = 0; i < PV_LDT_FRAMES; i++)
        set_pte(cpu, WIN_LDT_PAGE + i, frame_pte(s->ldt_frames[i]));
    load_ldtr(cpu, s->ldt_ents);
    win_stamp[cpu] = s->stamp;
}

/* ------------------------------------------------------------- frames */

static bool take_desc_frame(struct domain *d, mfn_t mfn)
{
    struct page_info *pg = mfn ? pv_domain_page(mfn, d) : NULL;

    return pg && get_page_and_type(pg, d, PGT_seg_desc_page);
}

static void put_frames(const mfn_t *f, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        if (f[i])
            put_page_and_type(mfn_to_page(f[i]));
}

/* New contents for v's tables: shown at once if v runs here; the old
 * frames are released only once the window no longer maps them. */
static void tables_changed(struct vcpu *v)
{
    v->arch.desc.stamp = new_stamp();
    if (v == current) {
        unsigned long f = irq_save();
        window_load(smp_processor_id(), &v->arch.desc);
        irq_restore(f);
    }
}

long pv_vcpu_set_gdt(struct vcpu *v, const unsigned long *frames, unsigned int entries)
{
    struct pv_desc *s = &v->arch.desc;
    mfn_t fresh[PV_GDT_FRAMES] = {0}, old[PV_GDT_FRAMES];
    unsigned int nr = DIV_ROUND_UP(entries, 512);
    unsigned int old_nr = DIV_ROUND_UP(s->gdt_ents, 512);

    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < nr; i++) {
        if (!take_desc_frame(v->domain, frames[i])) {
            put_frames(fresh, i);
            return -XEN_EINVAL;
        }
        fresh[i] = frames[i];
    }
    memcpy(old, s->gdt_frames, sizeof(old));
    memcpy(s->gdt_frames, fresh, sizeof(fresh));
    s->gdt_ents = entries;
    tables_changed(v);
    put_frames(old, old_nr);
    return 0;
}

/* The frame the guest maps at va, as a descriptor page; 0 if none. */
static mfn_t ldt_frame(struct vcpu *v, unsigned long va)
{
    u64 *slot, e;
    struct page_info *l1 = pv_find_l1(v, va, &slot);

    if (!l1)
        return 0;
    e = READ_ONCE(*slot);
    put_page_and_type(l1);
    if (!(e & PTE_P) || !take_desc_frame(v->domain, pte_mfn(e)))
        return 0;
    return pte_mfn(e);
}

long pv_vcpu_set_ldt(struct vcpu *v, unsigned long base, unsigned int ents)
{
    struct pv_desc *s = &v->arch.desc;
    mfn_t fresh[PV_LDT_FRAMES] = {0}, old[PV_LDT_FRAMES];
    unsigned int nr = DIV_ROUND_UP(ents * 8, PAGE_SIZE);

    if (nr > PV_LDT_FRAMES)
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < nr; i++)
        fresh[i] = ldt_frame(v, base + i * PAGE_SIZE);
    memcpy(old, s->ldt_frames, sizeof(old));
    memcpy(s->ldt_frames, fresh, sizeof(fresh));
    s->ldt_ents = ents;
    tables_changed(v);
    put_frames(old, PV_LDT_FRAMES);
    return 0;
}

/* The CPU goes idle: its window stops showing the last vCPU's frames, which
 * may be released while the CPU idles (domain destruction). */
void pv_desc_switch_to_idle(void)
{
    static const struct pv_desc empty;
    unsigned int cpu = smp_processor_id();

    if (win_live[cpu] && win_stamp[cpu])
        window_load(cpu, &empty);
}

void pv_desc_destroy(struct vcpu *v)
{
    struct pv_desc *s = &v->arch.desc;

    BUG_ON(v == current);
    put_frames(s->gdt_frames, DIV_ROUND_UP(s->gdt_ents, 512));
    put_frames(s->ldt_frames, PV_LDT_FRAMES);
    memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------- selectors */

/* A selector that no longer loads (its table changed) becomes null. */
#define LOAD_SEG(seg, sel)                                                     \
    __asm__ __volatile__("1: mov %w0, %%" seg "\n\t"                           \
                         "jmp 3f\n"                                            \
                         "2: xor %k0, %k0\n\t"                                 \
                         "mov %w0, %%" seg "\n"                                \
                         "3:\n" EXTABLE(1b, 2b)                                \
                         : "+r"(sel)::"memory")

void pv_desc_save(struct vcpu *v)
{
    u16 *sel = v->arch.desc.sel;

    __asm__ __volatile__("mov %%ds, %0" : "=r"(sel[0]));
    __asm__ __volatile__("mov %%es, %0" : "=r"(sel[1]));
    __asm__ __volatile__("mov %%fs, %0" : "=r"(sel[2]));
    __asm__ __volatile__("mov %%gs, %0" : "=r"(sel[3]));
}

void pv_desc_switch_in(struct vcpu *v)
{
    unsigned int cpu = smp_processor_id();
    u16 *sel = v->arch.desc.sel;
    unsigned long ds = sel[0], es = sel[1], fs = sel[2], gs = sel[3];

    if (!win_live[cpu] || win_stamp[cpu] != v->arch.desc.stamp)
        window_load(cpu, &v->arch.desc);
    LOAD_SEG("ds", ds);
    LOAD_SEG("es", es);
    LOAD_SEG("fs", fs);
    LOAD_SEG("gs", gs);
}

void pv_desc_set_selectors(struct vcpu *v, u16 ds, u16 es, u16 fs, u16 gs)
{
    u16 *sel = v->arch.desc.sel;

    sel[0] = ds;
    sel[1] = es;
    sel[2] = fs;
    sel[3] = gs;
}

/* ---------------------------------------------------------- self-test */

SELFTEST(pv_desc_window, "PV descriptor window: Keel's selectors, empty guest part")
{
    unsigned int cpu = smp_processor_id();
    struct pv_desc none = {0};
    struct desc_ptr gdtr;
    unsigned long sel = 0x1000 | 3, keel = KEEL_DS;
    unsigned long f = irq_save();

    window_load(cpu, &none);
    __asm__ __volatile__("sgdt %0" : "=m"(gdtr));
    /* A guest selector past its tables: the empty page, a fault, null. */
    LOAD_SEG("es", sel);
    LOAD_SEG("es", keel); /* Keel's own page is where it was */
    irq_restore(f);
    if (gdtr.base != win_va(cpu) || gdtr.limit != GDT_LIMIT || sel != 0 || keel != KEEL_DS)
        return -1;
    return 0;
}
