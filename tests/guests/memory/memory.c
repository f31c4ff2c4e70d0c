/*
 * memory_op queries a PV dom0 makes (memory maps, reservations, M2P
 * location, highest pfn/mfn) and the read-only M2P itself: it maps every
 * MFN of ours back to its pfn, and writing it faults.
 */
#include <rt.h>

struct e820 {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

static struct e820 map[128];

static long mem(unsigned long cmd, void *arg)
{
    return HYPERVISOR_memory_op(cmd, arg);
}

static void memory_maps(start_info_t *si)
{
    struct xen_memory_map mm = {.nr_entries = 128};
    set_xen_guest_handle(mm.buffer, map);
    EXPECT_EQ(mem(XENMEM_machine_memory_map, &mm), 0);
    EXPECT(mm.nr_entries > 0 && mm.nr_entries <= 128);
    uint64_t ram = 0;
    for (unsigned i = 0; i < mm.nr_entries && i < 128; i++) {
        printf("memory: host e820 %lx-%lx type %u\n", (unsigned long)map[i].addr,
               (unsigned long)(map[i].addr + map[i].size), map[i].type);
        if (map[i].type == 1)
            ram += map[i].size;
    }
    EXPECT(ram >= si->nr_pages * 4096);
    /* A buffer too small for the host map. */
    mm.nr_entries = 1;
    long r = mem(XENMEM_machine_memory_map, &mm);
    printf("memory: machine_memory_map with room for 1 = %ld (n %u)\n", r,
           mm.nr_entries);
    if (mm.nr_entries > 1 || r != 0)
        EXPECT_EQ(r, -XEN_EINVAL);

    /* The pseudo-physical map of the domain itself. */
    mm.nr_entries = 128;
    r = mem(XENMEM_memory_map, &mm);
    printf("memory: memory_map = %ld, %u entries\n", r, mm.nr_entries);
    EXPECT(r == 0 || r == -XEN_ENOSYS);
}

static void reservations(start_info_t *si)
{
    domid_t self = DOMID_SELF, other = 1234;
    long cur = mem(XENMEM_current_reservation, &self);
    long max = mem(XENMEM_maximum_reservation, &self);
    long gpfn = mem(XENMEM_maximum_gpfn, &self);
    long ram = mem(XENMEM_maximum_ram_page, NULL);
    printf("memory: nr_pages %lu current %ld maximum %ld max_gpfn 0x%lx "
           "max_ram_page 0x%lx\n", (unsigned long)si->nr_pages, cur, max,
           gpfn, ram);
    EXPECT_EQ(cur, si->nr_pages);
    EXPECT(max >= cur || max == -1);
    /*
     * For a PV guest the "maximum gpfn" is what the guest itself wrote
     * into shared_info.arch.max_pfn (Linux does, in
     * xen_setup_mfn_list_list), minus one; 0 while nothing is written.
     */
    EXPECT_EQ(gpfn, 0);
    rt_shared_info()->arch.max_pfn = si->nr_pages;
    EXPECT_EQ(mem(XENMEM_maximum_gpfn, &self), (long)si->nr_pages - 1);
    EXPECT(ram > 0);
    EXPECT_EQ(mem(XENMEM_current_reservation, &other), -XEN_ESRCH);
    EXPECT_EQ(mem(XENMEM_current_reservation, NULL), -XEN_EFAULT);
}

static void m2p(start_info_t *si)
{
    struct xen_machphys_mapping mp = {0};
    EXPECT_EQ(mem(XENMEM_machphys_mapping, &mp), 0);
    printf("memory: M2P at 0x%lx-0x%lx max_mfn 0x%lx\n",
           (unsigned long)mp.v_start, (unsigned long)mp.v_end,
           (unsigned long)mp.max_mfn);
    EXPECT_EQ(mp.v_start, 0xffff800000000000UL);
    EXPECT(mp.v_end > mp.v_start);
    EXPECT(mp.max_mfn > 0);

    const unsigned long *p2m = (const unsigned long *)si->mfn_list;
    uintptr_t m2p = mp.v_start;
    unsigned bad = 0, checked = 0;
    for (unsigned long pfn = 0; pfn < si->nr_pages; pfn++) {
        /* Every page of the image and every 61st page beyond it. */
        if (pfn > 0x200 && pfn % 61)
            continue;
        unsigned long mfn = p2m[pfn];
        uint64_t back = ~0ULL;
        long vec = rt_probe_read(m2p + mfn * 8, &back);
        checked++;
        if (vec != -1 || back != pfn) {
            if (bad++ < 5)
                printf("memory: pfn 0x%lx -> mfn 0x%lx -> M2P 0x%lx (vec %ld)\n",
                       pfn, mfn, (unsigned long)back, vec);
        }
        EXPECT(mfn <= mp.max_mfn);
    }
    printf("memory: %u pfns checked through the M2P, %u wrong\n", checked, bad);
    EXPECT_EQ(bad, 0);

    /* Read-only for the guest: a write is a protection fault. */
    EXPECT_EQ(rt_probe_write(m2p + p2m[0] * 8, 0), 14);
    EXPECT_EQ(rt_last_trap.error & 3, 3);       /* present, write */
    EXPECT_EQ(rt_last_trap.cr2, m2p + p2m[0] * 8);
    uint64_t back;
    EXPECT_EQ(rt_probe_read(m2p + p2m[0] * 8, &back), -1);
    EXPECT_EQ(back, 0);
}

void test_main(start_info_t *si)
{
    rt_shared_info();       /* cr2 of bounced #PFs */
    rt_install_traps();
    memory_maps(si);
    reservations(si);
    m2p(si);
    EXPECT_EQ(mem(100, NULL), -XEN_ENOSYS);
}
