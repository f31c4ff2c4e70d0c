/*
 * libFuzzer target for the grant-table core: three model domains with
 * their grant tables, data frames and one L1 page table each run arbitrary
 * sequences of grant-entry writes (the guest; v1 entries, or v2 full-page,
 * sub-page and transitive ones), maps (by PTE address, by linear address,
 * device, read-only), unmaps, copies, growth, version switches, ordinary
 * page-table updates that drop grant PTEs or map shared and status frames,
 * and relinquish.  The last domain is translated (HVM): its host maps go
 * into its p2m (where its own data frames are RAM, so maps over RAM and
 * of its own frames move them, as Xen's p2m_add_page).  After every step:
 * every frame's general and writable-type counts equal what the L1
 * entries, device mappings, translated host mappings, allocations and
 * Keel's own references (shared and status frames) explain; the
 * translated domain's p2m holds exactly one grant entry per live host
 * mapping, of its frame, read-only exactly when the mapping is, and its
 * RAM agrees with the M2P; pinned entries show GTF_reading (and
 * GTF_writing exactly while written through) where the version keeps them; every active entry of a
 * sub-page or transitive pin is counted in nr_v2_ops; a transitive pin
 * holds a pin on its far end; handle counts match the live maptrack
 * entries.  At the end everything is torn down and every frame must be
 * back in the allocator.
 */
#include <keel/grant_table.h>
#include <keel/p2m.h>
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>

#define NR 256
#define ND 3
#define NDATA 4
#define VA_BASE 0x40000000UL

static struct page_info table[NR];
static struct domain *dom[ND] = {(struct domain *)0x1000, (struct domain *)0x2000,
                                 (struct domain *)0x3000};
static struct grant_table *gt[ND];
static mfn_t l1[ND], data[ND][NDATA];
static bool dead[ND];
static int cur; /* the domain running the operation */
#define HVM (ND - 1)        /* the translated domain */
#define RAM_GFN 0x10        /* its data frames' GFNs */
#define HOLE_GFN 0x100
static struct p2m hvm_p2m;
static unsigned long m2p[NR]; /* its frames' GFNs (~0: none) */

s16 gnttab_arch_p2m_map(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    u64 alias = P2M_INVALID_GFN;
    enum p2m_type ot;
    bool moved;
    mfn_t om;
    int rc;

    if (ld != dom[HVM])
        abort();
    if (table[mfn].owner == ld && m2p[mfn] != ~0UL)
        alias = m2p[mfn];
    rc = p2m_grant_place(&hvm_p2m, gfn, mfn, ro, alias, &moved, &om, &ot);
    if (moved)
        m2p[mfn] = ~0UL;
    if (!rc && ot == p2m_ram_rw)
        m2p[om] = ~0UL;
    return rc ? GNTST_general_error : GNTST_okay;
}

s16 gnttab_arch_p2m_unmap(struct domain *ld, u64 gfn, mfn_t mfn, bool ro)
{
    if (ld != dom[HVM])
        abort();
    return p2m_take(&hvm_p2m, gfn, P2M_TYPE_BIT(ro ? p2m_grant_ro : p2m_grant_rw), mfn, NULL,
                    NULL) ? GNTST_general_error : GNTST_okay;
}

struct page_info *gnttab_arch_va_l1(struct domain *ld, u64 va, u64 **slot)
{
    int d = (int)(((unsigned long)ld >> 12) - 1);
    if (d != cur || va < VA_BASE || va >= VA_BASE + 512 * PAGE_SIZE)
        return NULL;
    if (!get_page_and_type(&table[l1[d]], ld, PGT_l1_page_table))
        return NULL;
    *slot = (u64 *)mfn_to_virt(l1[d]) + ((va - VA_BASE) >> PAGE_SHIFT);
    return &table[l1[d]];
}

static grant_entry_v1_t *entry(int d, grant_ref_t ref)
{
    return (grant_entry_v1_t *)mfn_to_virt(gt[d]->frames[ref / GNTTAB_PER_FRAME]) +
           ref % GNTTAB_PER_FRAME;
}

static grant_entry_v2_t *entry2(int d, grant_ref_t ref)
{
    return (grant_entry_v2_t *)mfn_to_virt(gt[d]->frames[ref / GNTTAB_PER_FRAME_V2]) +
           ref % GNTTAB_PER_FRAME_V2;
}

static u16 status_bits(int d, grant_ref_t ref)
{
    if (gt[d]->version == 1)
        return entry(d, ref)->flags & (GTF_reading | GTF_writing);
    return ((grant_status_t *)mfn_to_virt(gt[d]->status[ref / GNTTAB_STATUS_PER_FRAME]))
        [ref % GNTTAB_STATUS_PER_FRAME];
}

static const struct gnttab_active *active(int d, grant_ref_t ref)
{
    return &gt[d]->active[ref / GNTTAB_ACTIVE_PER_CHUNK][ref % GNTTAB_ACTIVE_PER_CHUNK];
}

/* Transitive grants find the far table by domid. */
struct grant_table *gnttab_arch_table_by_id(domid_t domid)
{
    if (domid >= ND || !gt[domid])
        return NULL;
    gnttab_get(gt[domid]);
    return gt[domid];
}

static void setup(void)
{
    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(1, NR - 1);
    pv_mm_init();
    for (int d = 0; d < ND; d++) {
        dead[d] = false;
        gt[d] = gnttab_create(dom[d], (domid_t)d, 2, 1);
        if (!gt[d] || gnttab_grow(gt[d], 1))
            abort();
        for (int i = 0; i < NDATA; i++) {
            struct page_info *pg = alloc_pages(0);
            page_assign(pg, dom[d]);
            data[d][i] = page_to_mfn(pg);
            memset(mfn_to_virt(data[d][i]), 0, PAGE_SIZE);
        }
        struct page_info *pg = alloc_pages(0);
        page_assign(pg, dom[d]);
        l1[d] = page_to_mfn(pg);
        memset(mfn_to_virt(l1[d]), 0, PAGE_SIZE);
        if (!get_page_and_type(pg, dom[d], PGT_l1_page_table))
            abort();
    }
    gt[HVM]->translated = true;
    memset(m2p, 0xff, sizeof(m2p));
    if (p2m_init(&hvm_p2m))
        abort();
    for (int i = 0; i < NDATA; i++) {
        if (p2m_set(&hvm_p2m, RAM_GFN + i, data[HVM][i], p2m_ram_rw, NULL, NULL))
            abort();
        m2p[data[HVM][i]] = RAM_GFN + i;
    }
}

/* The translated domain's p2m: grant entries (counted per frame, and
 * per frame read-only) for the checks below. */
static unsigned int p2m_grants[NR], p2m_grants_ro[NR];
static void count_p2m(void *ctx, u64 gfn, mfn_t mfn, enum p2m_type t)
{
    (void)ctx;
    if (t == p2m_ram_rw && m2p[mfn] != gfn)
        abort(); /* RAM whose M2P entry went elsewhere */
    if (t != p2m_grant_rw && t != p2m_grant_ro)
        return;
    if (mfn >= NR || page_state(&table[mfn]) != PGC_state_inuse)
        abort(); /* a mapped frame was freed */
    p2m_grants[mfn]++;
    p2m_grants_ro[mfn] += t == p2m_grant_ro;
}

/* Walks the p2m without changing it: a drain into a copy would, so look
 * GFN by GFN where maps can land. */
static void scan_p2m(void)
{
    static const u64 bases[] = {RAM_GFN, HOLE_GFN};

    memset(p2m_grants, 0, sizeof(p2m_grants));
    memset(p2m_grants_ro, 0, sizeof(p2m_grants_ro));
    for (unsigned int b = 0; b < 2; b++)
        for (u64 g = bases[b]; g < bases[b] + 16; g++) {
            enum p2m_type t;
            mfn_t m = p2m_lookup(&hvm_p2m, g, &t);
            if (t != p2m_none)
                count_p2m(NULL, g, m, t);
        }
    if (p2m_verify(&hvm_p2m))
        abort();
}

/* ------------------------------------------------------------ checks */

static unsigned int want_count[NR], want_type[NR];

static void expect_refs(void)
{
    memset(want_count, 0, sizeof(want_count));
    memset(want_type, 0, sizeof(want_type));
    scan_p2m();
    for (int d = 0; d < ND; d++) {
        for (int i = 0; i < NDATA; i++)
            want_count[data[d][i]] += !!(table[data[d][i]].count_info & PGC_allocated);
        want_count[l1[d]] += 2; /* allocation + our L1 type holder */
        for (unsigned int s = 0; s < 512; s++) {
            u64 e = ((u64 *)mfn_to_virt(l1[d]))[s];
            if (!(e & PTE_P))
                continue;
            want_count[pte_mfn(e)]++;
            want_type[pte_mfn(e)] += !!(e & PTE_RW);
        }
    }
    for (int d = 0; d < ND; d++) {
        if (!gt[d])
            continue;
        for (unsigned int f = 0; f < gt[d]->nr_frames; f++) {
            mfn_t m = gt[d]->frames[f];
            want_count[m] += 1 + !!(table[m].count_info & PGC_allocated);
            want_type[m] += 1;
        }
        for (unsigned int f = 0; f < gt[d]->nr_status; f++) {
            mfn_t m = gt[d]->status[f];
            want_count[m] += 1 + !!(table[m].count_info & PGC_allocated);
            want_type[m] += 1;
        }
        unsigned int live = 0;
        for (unsigned int h = 0; h < gt[d]->maptrack_limit; h++) {
            const struct gnttab_maptrack *e =
                &gt[d]->maptrack[h / GNTTAB_CHUNK][h % GNTTAB_CHUNK];
            if (!(e->flags & (GNTMAP_host_map | GNTMAP_device_map)))
                continue;
            live++;
            mfn_t m = e->rgt->active[e->ref / GNTTAB_ACTIVE_PER_CHUNK]
                                    [e->ref % GNTTAB_ACTIVE_PER_CHUNK].mfn;
            if (e->flags & GNTMAP_device_map) {
                want_count[m]++;
                want_type[m] += !(e->flags & GNTMAP_readonly);
            }
            if ((e->flags & GNTMAP_host_map) && gt[d]->translated) {
                /* Its own references, and exactly one p2m entry. */
                want_count[m]++;
                want_type[m] += !(e->flags & GNTMAP_readonly);
                if (!p2m_grants[m] || ((e->flags & GNTMAP_readonly) && !p2m_grants_ro[m]) ||
                    (!(e->flags & GNTMAP_readonly) && p2m_grants[m] == p2m_grants_ro[m]))
                    abort();
                p2m_grants[m]--;
                p2m_grants_ro[m] -= !!(e->flags & GNTMAP_readonly);
            }
        }
        if (live != gt[d]->maptrack_used)
            abort();
    }
}

static void check(void)
{
    expect_refs();
    /* Every grant entry of the p2m was explained by a live mapping (a
     * dead translated domain's entries wait for the p2m to go). */
    for (mfn_t m = 0; m < NR && !dead[HVM]; m++)
        if (p2m_grants[m] || p2m_grants_ro[m])
            abort();
    for (mfn_t m = 1; m < NR; m++) {
        struct page_info *pg = &table[m];
        if (page_state(pg) != PGC_state_inuse)
            continue;
        unsigned long c = pg->count_info & PGC_count_mask;
        unsigned long t = pg->u.type_info & PGT_count_mask;
        bool tracked = want_count[m] || pg->owner;
        if (tracked && c != want_count[m])
            abort();
        if (tracked && (pg->u.type_info & PGT_type_mask) == PGT_writable_page &&
            t != want_type[m])
            abort();
    }
    for (int d = 0; d < ND; d++) {
        unsigned int per, v2_ops = 0;
        if (!gt[d])
            continue;
        per = gt[d]->version == 1 ? GNTTAB_PER_FRAME : GNTTAB_PER_FRAME_V2;
        for (grant_ref_t r = 0; r < gt[d]->nr_frames * GNTTAB_PER_FRAME; r++) {
            const struct gnttab_active *a = active(d, r);
            if (r >= gt[d]->nr_frames * per) {
                /* Past the entries of this version: pins only from before
                 * a switch, which the reserved first 8 alone may keep. */
                if (a->pin)
                    abort();
                continue;
            }
            u16 fl = status_bits(d, r);
            bool w = a->pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask);
            /* A pinned reserved entry the guest rewrote across a switch
             * may show stale bits: Keel sets them only at the first pin. */
            if (r >= GNTTAB_NR_RESERVED_ENTRIES &&
                (!!(fl & GTF_reading) != !!a->pin || !!(fl & GTF_writing) != w))
                abort();
            if (a->pin && page_state(&table[a->mfn]) != PGC_state_inuse)
                abort(); /* a pinned frame was freed */
            if (a->pin && a->is_sub_page)
                v2_ops++;
            if (a->pin && a->trans_gt) {
                /* The far end is pinned for us, on the frame we use. */
                int t = (int)(a->trans_gt->domid);
                if (t >= ND || a->trans_gt != gt[t] || !active(t, a->trans_ref)->pin ||
                    active(t, a->trans_ref)->mfn != a->mfn)
                    abort();
            }
            if (!a->pin && (a->trans_gt || a->is_sub_page))
                abort();
        }
        if (v2_ops != gt[d]->nr_v2_ops)
            abort();
    }
}

/* --------------------------------------------------------------- ops */

static u64 addr_of(int d, u8 sel, u8 slot)
{
    /* The translated domain's GPAs: over its RAM, in a hole, beyond. */
    if (gt[d] && gt[d]->translated) {
        u64 low = (u64)(slot & 0xf0) << 4;
        switch (sel & 3) {
        case 0: return ((RAM_GFN + (slot % 16)) << PAGE_SHIFT) | low;
        case 3: return (P2M_MAX_GFN + slot) << PAGE_SHIFT;
        default: return ((HOLE_GFN + (slot % 16)) << PAGE_SHIFT) | low;
        }
    }
    switch (sel & 3) {
    case 0: return ((u64)l1[d] << PAGE_SHIFT) + (slot % 512) * 8;
    case 1: return ((u64)l1[d] << PAGE_SHIFT) + slot;           /* maybe misaligned */
    case 2: return VA_BASE + (u64)(slot % 512) * PAGE_SIZE;
    default: return ((u64)data[d][slot % NDATA] << PAGE_SHIFT); /* not an L1 */
    }
}

/* The guest fills a v2 entry: full page, sub-page or transitive. */
static void op_grant_v2(int d, const u8 *a)
{
    grant_entry_v2_t *e = entry2(d, a[1] % 32);
    int owner = a[2] % ND;
    u16 type = a[4] & GTF_type_mask;
    u16 flags = type | (a[4] & GTF_readonly) | (a[4] & 0x80 ? GTF_sub_page : 0);

    e->hdr.domid = (domid_t)(a[3] % ND);
    if (type == GTF_transitive) {
        e->transitive.trans_domid = (domid_t)(a[5] % (ND + 1));
        e->transitive.gref = a[6] % 40;
    } else if (flags & GTF_sub_page) {
        e->sub_page.frame = a[2] & 0x80 ? 0x7fffff : data[owner][a[3] % NDATA];
        e->sub_page.page_off = (u16)(a[5] << 4);
        e->sub_page.length = (u16)(a[6] << 5);
    } else {
        e->full_page.frame = a[2] & 0x80 ? 0x7fffff : data[owner][a[3] % NDATA];
    }
    __atomic_store_n(&e->hdr.flags, flags, __ATOMIC_RELEASE);
}

static void op_grant(int d, const u8 *a)
{
    grant_ref_t ref = a[1] % 32;
    if (gt[d]->version == 2) {
        op_grant_v2(d, a);
        return;
    }
    grant_entry_v1_t *e = entry(d, ref);
    int owner = a[2] % ND;
    /* The guest writes the frame and type/domid/readonly bits, never the
     * status bits (Keel's to set while pinned). */
    e->frame = (u32)(a[2] & 0x80 ? 0x7fffff : data[owner][a[3] % NDATA]);
    u32 word = __atomic_load_n((u32 *)e, __ATOMIC_RELAXED);
    u32 keep = word & (GTF_reading | GTF_writing);
    u32 nw = keep | ((u32)(a[3] % ND) << 16) | (a[4] & (GTF_type_mask | GTF_readonly)) |
             (a[4] & 0x80 ? GTF_sub_page : 0);
    __atomic_store_n((u32 *)e, nw, __ATOMIC_RELAXED);
}

static void op_map(int d, const u8 *a)
{
    int r = a[1] % ND;
    u32 flags = a[2] & (GNTMAP_device_map | GNTMAP_host_map | GNTMAP_readonly |
                        GNTMAP_application_map | GNTMAP_contains_pte);
    flags |= (u32)(a[3] & 7) << _GNTMAP_guest_avail0;
    struct gnttab_map_grant_ref op = {.host_addr = addr_of(d, a[3] >> 3, a[4]),
                                      .flags = flags, .ref = a[5] % 40, .dom = (domid_t)r};
    if (dead[d] || !gt[r])
        return;
    /* What the hypercall layer refuses before it finds the table, the
     * core refuses the same way, touching nothing. */
    s16 pre = gnttab_map_flags_check(gt[d]->translated, flags);
    s16 rc = gnttab_map(gt[d], gt[r], &op);
    if (pre && rc != pre)
        abort();
}

static void op_unmap(int d, const u8 *a)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = a[2] & 1 ? 0 : addr_of(d, a[2] >> 1, a[3]),
                                        .handle = a[1] % 300};
    struct gnttab_unmap_done done;
    if (dead[d])
        return;
    if (a[4] & 1)
        op.dev_bus_addr = (u64)data[a[4] >> 1 & 1][a[5] % NDATA] << PAGE_SHIFT;
    gnttab_unmap(gt[d], &op, &done);
    gnttab_unmap_complete(&done);
}

static void op_copy(int d, const u8 *a)
{
    struct gnttab_copy op = {.flags = a[1] & 3, .len = (u16)(a[2] << 5)};
    int s = a[3] % ND, t = a[4] % ND;
    op.source.offset = (u16)(a[5] << 4);
    op.dest.offset = (u16)(a[6] << 4);
    if (op.flags & GNTCOPY_source_gref)
        op.source.u.ref = a[7] % 40;
    else
        op.source.u.gmfn = data[a[7] & 1 ? d : s][a[7] % NDATA];
    if (op.flags & GNTCOPY_dest_gref)
        op.dest.u.ref = a[3] % 40;
    else
        op.dest.u.gmfn = data[a[3] & 1 ? d : t][a[4] % NDATA];
    if (dead[d] || ((op.flags & GNTCOPY_source_gref) && !gt[s]) ||
        ((op.flags & GNTCOPY_dest_gref) && !gt[t]))
        return;
    gnttab_copy_one(dom[d], (domid_t)d, (op.flags & GNTCOPY_source_gref) ? gt[s] : NULL,
                    (op.flags & GNTCOPY_dest_gref) ? gt[t] : NULL, &op);
}

static void op_zap(int d, const u8 *a)
{
    unsigned int s = a[1] | (a[2] & 1) << 8;
    mfn_t m = data[d][a[3] % NDATA];
    u64 nv;

    /* Sometimes one of the table's own frames (the guest maps its status
     * frames to read them). */
    if ((a[2] & 4) && gt[d] && gt[d]->nr_status)
        m = gt[d]->status[a[3] % gt[d]->nr_status];
    else if ((a[2] & 8) && gt[d] && gt[d]->nr_frames)
        m = gt[d]->frames[a[3] % gt[d]->nr_frames];
    nv = a[2] & 2 ? (((u64)m << PAGE_SHIFT) | PTE_P | (a[3] & PTE_RW)) : 0;
    pv_entry_update(dom[d], (u64 *)mfn_to_virt(l1[d]) + s, 1, s, nv, false);
}

static void op_relinquish(int d)
{
    if (dead[d])
        return;
    while (gnttab_relinquish(gt[d], 3) > 0)
        ;
    dead[d] = true;
}

/* Everything goes: PTEs, tables, pages.  Every frame must come back. */
static void teardown(void)
{
    for (int d = 0; d < ND; d++)
        op_relinquish(d);
    for (int d = 0; d < ND; d++) {
        for (unsigned int s = 0; s < 512; s++)
            pv_entry_update(dom[d], (u64 *)mfn_to_virt(l1[d]) + s, 1, s, 0, false);
        put_page_and_type(&table[l1[d]]);
        page_unassign(&table[l1[d]]);
        for (int i = 0; i < NDATA; i++)
            page_unassign(&table[data[d][i]]);
    }
    {
        u64 cursor = 0;
        while (p2m_drain(&hvm_p2m, &cursor, 5, NULL, NULL))
            ;
        p2m_destroy(&hvm_p2m);
    }
    for (int d = 0; d < ND; d++) {
        gnttab_put(gt[d]);
        gt[d] = NULL;
    }
    for (mfn_t m = 1; m < NR; m++)
        if (page_state(&table[m]) != PGC_state_free)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data_in, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data_in, size_t size)
{
    setup();
    for (size_t i = 0; i + 8 <= size; i += 8) {
        const u8 *a = data_in + i;
        cur = a[0] % ND;
        switch ((a[0] / ND) % 8) {
        case 0: op_grant(cur, a); break;
        case 1: op_map(cur, a); break;
        case 2: op_unmap(cur, a); break;
        case 3: op_copy(cur, a); break;
        case 4: if (!dead[cur]) gnttab_grow(gt[cur], a[1] % 3); break;
        case 5: op_zap(cur, a); break;
        case 6: op_map(cur, a); break;
        case 7:
            if (a[1] == 0x5a)
                op_relinquish(cur);
            else if (!dead[cur])
                gnttab_set_version(gt[cur], a[2] % 4);
            break;
        }
        check();
    }
    teardown();
    return 0;
}
