/*
 * Keel's own page tables and memory bring-up.
 *
 * The boot tables from head.S map the low 4 GiB three times with 2 MiB
 * writable, executable pages: fine for getting to C, wrong for running.
 * memory_init() builds the final tables: a non-executable direct map of the
 * memory the firmware describes, the image with W^X per section, a guard
 * page under the BSP stack, the frame table, and an area for ioremap and
 * CPU stacks.  There is no identity map: NULL and low addresses fault.
 *
 * Until the buddy allocator exists, page-table frames are stolen from the
 * top of free RAM below 4 GiB (reachable through the boot direct map);
 * those frames stay "reserved" in the frame table forever.
 */
#include <asm/cpu.h>
#include <asm/page.h>
#include <asm/percpu.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/memmap.h>
#include <keel/page_alloc.h>
#include <keel/selftest.h>
#include <keel/spinlock.h>

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
#define LOW_MEMORY_END MiB /* BIOS data, EBDA, ROMs; the AP trampoline */
#define DIRECTMAP_SIZE (DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START)
#define VMAP_VIRT_END (VMAP_VIRT_START + (1UL << L4_SHIFT))

extern char __image_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_end[];
extern u8 bsp_stack[];

paddr_t idle_pg_table_pa;
static pte_t *idle_l4;
static u64 nx_mask;  /* _PAGE_NX when EFER.NXE is on, else 0 */
static bool heap_ready;
static struct memmap *boot_ram; /* free RAM while stealing is allowed */

static struct memmap sanitized, free_ram;
static spinlock_t map_lock = SPINLOCK_INIT;
static spinlock_t vmap_lock = SPINLOCK_INIT;
static unsigned long vmap_next = VMAP_VIRT_START;

/* ------------------------------------------------------------ table edits */

static void *pt_alloc(void)
{
    paddr_t pa;
    void *va;

    if (heap_ready)
        return alloc_page_va();
    pa = memmap_steal(boot_ram, PAGE_SIZE, PAGE_SIZE, 4 * GiB);
    if (!pa)
        return NULL;
    va = __va(pa);
    memset(va, 0, PAGE_SIZE);
    return va;
}

/* The next-level table under *e, created if absent; NULL for a big page. */
static pte_t *next_table(pte_t *e)
{
    if (!(*e & _PAGE_PRESENT)) {
        pte_t *t = pt_alloc();
        if (!t)
            return NULL;
        /* Intermediate entries allow everything; leaves restrict. */
        *e = __pa(t) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    } else if (*e & _PAGE_PSE) {
        return NULL;
    }
    return __va(*e & PTE_ADDR_MASK);
}

/* The L2 table covering va, or NULL (no memory, or a 1 GiB page there). */
static pte_t *l2_table(unsigned long va)
{
    pte_t *l3 = next_table(&idle_l4[PT_INDEX(va, L4_SHIFT)]);
    return l3 ? next_table(&l3[PT_INDEX(va, L3_SHIFT)]) : NULL;
}

/* Map with 2 MiB pages where both sides allow it (big), else 4 KiB. */
static int map_range(unsigned long va, paddr_t pa, u64 size, u64 flags, bool big)
{
    unsigned long end = va + size;

    flags &= ~_PAGE_NX | nx_mask;
    while (va < end) {
        pte_t *l2 = l2_table(va), *e, *l1;

        if (!l2)
            return -1;
        e = &l2[PT_INDEX(va, L2_SHIFT)];
        if (big && IS_ALIGNED(va | pa, L2_PAGE_SIZE) && end - va >= L2_PAGE_SIZE &&
            !(*e & _PAGE_PRESENT)) {
            *e = pa | flags | _PAGE_PSE;
            va += L2_PAGE_SIZE;
            pa += L2_PAGE_SIZE;
            continue;
        }
        if (*e & _PAGE_PSE) { /* already mapped by a big page: keep it */
            unsigned long next = ALIGN_DOWN(va, L2_PAGE_SIZE) + L2_PAGE_SIZE;
            pa += next - va;
            va = next;
            continue;
        }
        l1 = next_table(e);
        if (!l1)
            return -1;
        e = &l1[PT_INDEX(va, L1_SHIFT)];
        if (!(*e & _PAGE_PRESENT))
            *e = pa | flags;
        va += PAGE_SIZE;
        pa += PAGE_SIZE;
    }
    return 0;
}

static void invlpg(unsigned long va)
{
    __asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

int map_pages(unsigned long va, paddr_t pa, unsigned long size, u64 flags)
{
    unsigned long f = spin_lock_irqsave(&map_lock);
    int rc = map_range(va, pa, size, flags, false);

    spin_unlock_irqrestore(&map_lock, f);
    return rc;
}

/* The live leaf entry slot for va, or NULL when nothing maps it. */
static pte_t *leaf_slot(unsigned long va, unsigned int *level)
{
    pte_t *t = __va(read_cr3() & PTE_ADDR_MASK);
    static const unsigned int shifts[] = {L4_SHIFT, L3_SHIFT, L2_SHIFT, L1_SHIFT};

    for (unsigned int i = 0; i < 4; i++) {
        pte_t *e = &t[PT_INDEX(va, shifts[i])];
        if (!(*e & _PAGE_PRESENT))
            return NULL;
        if (i == 3 || ((*e & _PAGE_PSE) && i > 0)) {
            *level = 4 - i;
            return e;
        }
        t = __va(*e & PTE_ADDR_MASK);
    }
    return NULL;
}

pte_t lookup_pte(unsigned long va, unsigned int *level)
{
    unsigned int lvl = 0;
    pte_t *e = leaf_slot(va, &lvl);

    if (level)
        *level = lvl;
    return e ? *e : 0;
}

/* Only 4 KiB mappings are ever unmapped (vmap area, trampolines). */
void unmap_pages(unsigned long va, unsigned long size)
{
    unsigned long f = spin_lock_irqsave(&map_lock);

    for (unsigned long a = va; a < va + size; a += PAGE_SIZE) {
        unsigned int lvl;
        pte_t *e = leaf_slot(a, &lvl);
        if (!e)
            continue;
        BUG_ON(lvl != 1);
        *e = 0;
        invlpg(a);
    }
    spin_unlock_irqrestore(&map_lock, f);
}

/* -------------------------------------------------------------- vmap area */

static unsigned long vmap_reserve(unsigned long size, unsigned long align)
{
    unsigned long f = spin_lock_irqsave(&vmap_lock);
    unsigned long va = ALIGN_UP(vmap_next, align);

    if (va + size > VMAP_VIRT_END || va + size < va) {
        spin_unlock_irqrestore(&vmap_lock, f);
        return 0;
    }
    vmap_next = va + size + PAGE_SIZE; /* an unmapped page between areas */
    spin_unlock_irqrestore(&vmap_lock, f);
    return va;
}

void *ioremap(paddr_t pa, size_t size)
{
    paddr_t base = ALIGN_DOWN(pa, PAGE_SIZE);
    u64 len = ALIGN_UP(pa + size, PAGE_SIZE) - base;
    unsigned long va = vmap_reserve(len, PAGE_SIZE);

    if (!va || map_pages(va, base, len, PAGE_HYPERVISOR_UC))
        return NULL;
    return (void *)(va + (pa - base));
}

void *alloc_cpu_stack(unsigned int cpu)
{
    struct page_info *pg = alloc_pages(STACK_ORDER);
    unsigned long va = vmap_reserve(STACK_SIZE, STACK_SIZE);
    paddr_t pa;

    if (!pg || !va) {
        if (pg)
            free_pages(pg, STACK_ORDER);
        printk(KLOG_ERR "mm: no memory for CPU %u's stack\n", cpu);
        return NULL;
    }
    pa = page_to_mfn(pg) << PAGE_SHIFT;
    free_pages(pg, 0); /* the guard page needs no frame */
    if (map_pages(va + PAGE_SIZE, pa + PAGE_SIZE, STACK_SIZE - PAGE_SIZE,
                  PAGE_HYPERVISOR_RW)) {
        for (unsigned int i = 1; i < (1U << STACK_ORDER); i++)
            free_pages(pg + i, 0);
        return NULL;
    }
    return (void *)va;
}

void free_cpu_stack(void *base)
{
    unsigned long va = (unsigned long)base;

    for (unsigned long a = va + PAGE_SIZE; a < va + STACK_SIZE; a += PAGE_SIZE) {
        pte_t e = lookup_pte(a, NULL);
        unmap_pages(a, PAGE_SIZE);
        if (e)
            free_pages(mfn_to_page((e & PTE_ADDR_MASK) >> PAGE_SHIFT), 0);
    }
}

/* ---------------------------------------------------------- building them */

static bool cacheable(u32 type)
{
    return type == E820_RAM || type == E820_ACPI || type == E820_NVS;
}

/*
 * Everything the firmware describes goes into the direct map: RAM and ACPI
 * tables write-back, reserved ranges uncached (ACPI code reads tables there;
 * devices may live there too).  RAM first, so a page shared by two entries
 * keeps the cacheable mapping.  The low 1 MiB is mapped whole (BIOS areas).
 */
static void map_direct(void)
{
    BUG_ON(map_range(DIRECTMAP_VIRT_START, 0, LOW_MEMORY_END, PAGE_HYPERVISOR_RW, true));
    for (int pass = 0; pass < 2; pass++)
        for (unsigned int i = 0; i < sanitized.nr; i++) {
            const struct mem_range *r = &sanitized.r[i];
            u64 s = ALIGN_DOWN(r->start, PAGE_SIZE);
            u64 e = MIN(ALIGN_UP(range_end(r), PAGE_SIZE), (u64)DIRECTMAP_SIZE);

            if (cacheable(r->type) != (pass == 0) || s >= e)
                continue;
            if (map_range(DIRECTMAP_VIRT_START + s, s, e - s,
                          pass ? PAGE_HYPERVISOR_UC : PAGE_HYPERVISOR_RW, true))
                panic("mm: out of memory building the direct map");
        }
}

static void map_image_part(const void *start, const void *end, u64 flags)
{
    unsigned long va = (unsigned long)start;

    if (map_range(va, __pa_image(start), (unsigned long)end - va, flags, false))
        panic("mm: out of memory mapping Keel's image");
}

static void map_image(void)
{
    map_image_part(__text_start, __text_end, PAGE_HYPERVISOR_RX);
    map_image_part(__rodata_start, __rodata_end, PAGE_HYPERVISOR_RO);
    /* The lowest page of the BSP stack stays unmapped: overflow faults. */
    map_image_part(__data_start, bsp_stack, PAGE_HYPERVISOR_RW);
    map_image_part(bsp_stack + PAGE_SIZE, __bss_end, PAGE_HYPERVISOR_RW);
}

static void map_frame_table(unsigned long nr_frames)
{
    u64 bytes = ALIGN_UP((u64)nr_frames * sizeof(struct page_info), L2_PAGE_SIZE);
    paddr_t pa = memmap_steal(boot_ram, bytes, L2_PAGE_SIZE, 4 * GiB);

    if (!pa)
        pa = memmap_steal(boot_ram, bytes, PAGE_SIZE, 4 * GiB);
    if (!pa || map_range(FRAMETABLE_VIRT_START, pa, bytes, PAGE_HYPERVISOR_RW, true))
        panic("mm: no memory for the frame table (%llu KiB)",
              (unsigned long long)bytes >> 10);
    printk("Frame table: %lu frames, %llu KiB at %#llx\n", nr_frames,
           (unsigned long long)bytes >> 10, (unsigned long long)pa);
}

bool smap_enabled;

static void cpu_protections(void)
{
    struct cpuid_regs r = cpuid(0);
    unsigned long cr4 = read_cr4();

    write_cr0(read_cr0() | X86_CR0_WP);
    if (r.eax >= 7) {
        r = cpuid_count(7, 0);
        if (r.ebx & (1U << 7))
            cr4 |= X86_CR4_SMEP;
        if (r.ebx & (1U << 20))
            cr4 |= X86_CR4_SMAP;
    }
    write_cr4(cr4);
    smap_enabled = cr4 & X86_CR4_SMAP;
    printk("Paging: NX %s, SMEP %s, SMAP %s\n", nx_mask ? "on" : "off (CPU lacks it)",
           cr4 & X86_CR4_SMEP ? "on" : "off", cr4 & X86_CR4_SMAP ? "on" : "off");
}

static void paging_init(unsigned long nr_frames)
{
    nx_mask = rdmsr(MSR_EFER) & EFER_NXE ? _PAGE_NX : 0;
    idle_l4 = pt_alloc();
    if (!idle_l4)
        panic("mm: no memory for page tables");
    map_direct();
    map_image();
    map_frame_table(nr_frames);
    idle_pg_table_pa = __pa(idle_l4);
    write_cr3(idle_pg_table_pa);
    cpu_protections();
}

/* ------------------------------------------------------------ memory_init */

static void carve(paddr_t start, paddr_t end, const char *what)
{
    if (end > start && memmap_carve(&free_ram, start, end) < 0)
        panic("mm: memory map too fragmented to reserve %s", what);
}

static void carve_in_use(const struct boot_info *bi)
{
    carve(0, LOW_MEMORY_END, "low memory");
    carve(KEEL_PHYS_START, __pa_image(__image_end), "Keel's image"); /* = __image_phys_start */
    carve(bi->info_pa, bi->info_pa + bi->info_size, "the boot information");
    for (unsigned int i = 0; i < bi->nr_modules; i++)
        carve(bi->modules[i].start, bi->modules[i].end, "a module");
}

/* Frames past the direct map's reach cannot be used by Keel. */
static unsigned long frames_to_manage(void)
{
    u64 top = 0;

    for (unsigned int i = 0; i < sanitized.nr; i++)
        if (sanitized.r[i].type == E820_RAM)
            top = MAX(top, range_end(&sanitized.r[i]));
    if (top > DIRECTMAP_SIZE) {
        printk(KLOG_WARN "mm: RAM above %llu GiB is not used\n",
               (unsigned long long)DIRECTMAP_SIZE / GiB);
        top = DIRECTMAP_SIZE;
    }
    return (unsigned long)(top >> PAGE_SHIFT);
}

static void heap_init(unsigned long nr_frames)
{
    frametable_init((struct page_info *)FRAMETABLE_VIRT_START, nr_frames);
    for (unsigned int i = 0; i < free_ram.nr; i++) {
        mfn_t s = free_ram.r[i].start >> PAGE_SHIFT;
        mfn_t e = MIN(range_end(&free_ram.r[i]) >> PAGE_SHIFT, (u64)nr_frames);
        if (e > s)
            heap_add_range(s, e - s);
    }
    heap_ready = true;
}

void memory_init(const struct boot_info *bi)
{
    struct memmap_report rep;
    unsigned long nr_frames;

    memmap_sanitize(&sanitized, bi->ranges, bi->nr_ranges, &rep);
    memmap_print(&sanitized, "Memory map (sanitized)");
    if (rep.overlaps || rep.clipped || rep.empty)
        printk(KLOG_WARN "memmap: fixed %u overlaps, %u clipped, %u empty entries\n",
               rep.overlaps, rep.clipped, rep.empty);
    memmap_ram(&free_ram, &sanitized);
    carve_in_use(bi);
    nr_frames = frames_to_manage();
    if (!nr_frames || !free_ram.nr)
        panic("mm: the memory map has no usable RAM");
    boot_ram = &free_ram;
    paging_init(nr_frames);
    heap_init(nr_frames);
    printk("Memory: %llu MiB RAM, %lu MiB free for the allocator\n",
           (unsigned long long)(memmap_total(&sanitized, E820_RAM) >> 20),
           heap_free_frames() >> (20 - PAGE_SHIFT));
}

/* ------------------------------------------------------------- self-tests */

static int expect(bool ok, const char *what)
{
    if (!ok)
        printk(KLOG_ERR "mm selftest: %s\n", what);
    return ok ? 0 : -1;
}

SELFTEST(mm_wx, "page tables: W^X image, NX direct map, stack guard")
{
    unsigned int lvl;
    pte_t text = lookup_pte((unsigned long)__text_start, &lvl);
    pte_t ro = lookup_pte((unsigned long)__rodata_start, &lvl);
    pte_t data = lookup_pte((unsigned long)__data_start, &lvl);
    pte_t dm = lookup_pte((unsigned long)__va(2 * MiB), &lvl);
    int rc = 0;

    rc |= expect(text & _PAGE_PRESENT, "text not mapped");
    rc |= expect(!(text & _PAGE_RW), "text is writable");
    rc |= expect(!(text & _PAGE_NX), "text is not executable");
    rc |= expect((ro & _PAGE_PRESENT) && !(ro & _PAGE_RW), "rodata missing or writable");
    rc |= expect((data & _PAGE_PRESENT) && (data & _PAGE_RW), "data missing or read-only");
    rc |= expect(!nx_mask || ((ro & _PAGE_NX) && (data & _PAGE_NX)), "rodata/data executable");
    rc |= expect(dm & _PAGE_PRESENT, "direct map missing");
    rc |= expect(!nx_mask || (dm & _PAGE_NX), "direct map executable");
    rc |= expect(!lookup_pte((unsigned long)bsp_stack, NULL), "BSP stack guard mapped");
    rc |= expect(lookup_pte((unsigned long)bsp_stack + PAGE_SIZE, NULL) & _PAGE_PRESENT,
                 "BSP stack missing");
    rc |= expect(!lookup_pte(0, NULL) && !lookup_pte(0x8000, NULL), "low memory identity-mapped");
    rc |= expect(read_cr0() & X86_CR0_WP, "CR0.WP off");
    return rc;
}

SELFTEST(mm_vmap, "vmap: CPU stack guard page and ioremap")
{
    u8 *stack = alloc_cpu_stack(NR_CPUS - 1);
    int rc = 0;

    if (!stack)
        return expect(false, "alloc_cpu_stack failed");
    rc |= expect(IS_ALIGNED((unsigned long)stack, STACK_SIZE), "stack misaligned");
    rc |= expect(!lookup_pte((unsigned long)stack, NULL), "stack guard mapped");
    rc |= expect(lookup_pte((unsigned long)stack + PAGE_SIZE, NULL) & _PAGE_RW,
                 "stack not writable");
    stack[STACK_SIZE - 1] = 0x5a; /* touch it */
    free_cpu_stack(stack);
    rc |= expect(!lookup_pte((unsigned long)stack + PAGE_SIZE, NULL), "stack still mapped");

    pte_t e = lookup_pte((unsigned long)ioremap(0xfee00000, 4096), NULL);
    rc |= expect((e & _PAGE_PCD) && (e & PTE_ADDR_MASK) == 0xfee00000, "ioremap wrong");
    return rc;
}

SELFTEST(mm_alloc, "page allocator: round trip on real memory")
{
    unsigned long before = heap_free_frames();
    struct page_info *pg[8];
    int rc = 0;

    for (unsigned int i = 0; i < ARRAY_SIZE(pg); i++) {
        pg[i] = alloc_pages(i);
        if (!pg[i])
            return expect(false, "alloc_pages failed");
        memset(mfn_to_virt(page_to_mfn(pg[i])), 0xa5, PAGE_SIZE << i);
    }
    rc |= expect(heap_free_frames() == before - 255, "free count after alloc");
    for (unsigned int i = 0; i < ARRAY_SIZE(pg); i++)
        free_pages(pg[i], i);
    u64 *va = alloc_page_va();
    rc |= expect(va && va[0] == 0 && va[511] == 0, "alloc_page_va not zeroed");
    free_page_va(va);
    rc |= expect(heap_free_frames() == before, "free count after free");
    rc |= expect(heap_verify() == 0, "heap invariants");
    return rc;
}

SELFTEST(mm_frametable, "frame table sanity")
{
    mfn_t text = __pa_image(__text_start) >> PAGE_SHIFT;
    struct page_info *pg = alloc_pages(0);
    int rc = 0;

    rc |= expect(mfn_valid(text) && page_state(mfn_to_page(text)) == PGC_state_reserved,
                 "Keel's image not reserved");
    rc |= expect(page_state(mfn_to_page(0x8)) == PGC_state_reserved, "trampoline frame usable");
    rc |= expect(pg && page_to_mfn(mfn_to_page(page_to_mfn(pg))) == page_to_mfn(pg),
                 "mfn/page round trip");
    rc |= expect(pg && page_state(pg) == PGC_state_inuse, "allocated frame not in use");
    rc |= expect(pg && !get_page(pg, NULL), "reference on an unowned frame");
    if (pg)
        free_pages(pg, 0);
    rc |= expect(pg && page_state(pg) == PGC_state_free, "freed frame not free");
    rc |= expect((u64)frame_table_nr << PAGE_SHIFT >= memmap_total(&free_ram, E820_RAM),
                 "frame table too small");
    return rc;
}
