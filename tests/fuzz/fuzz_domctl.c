/*
 * libFuzzer target for the domain-control workers against a model: the
 * input drives domain creation (the id rover and createdomain's checks),
 * memory populated and ballooned, page tables written and pinned through
 * pv_mm's real validation, dom0 foreign mappings taken and dropped, and
 * destruction with relinquish preempted at random points; plus the pure
 * workers (getdomaininfo flags, bitmaps, console indices, cpupools, CPUID
 * policies) on arbitrary values.
 *
 * Invariants after every step: each domain's frame list agrees with the
 * frame table (owner scan), a domain holds the frames' reference exactly
 * while it owns frames, and at the end — every mapping dropped, every
 * domain destroyed — the allocator has every frame back.
 */
#define __XEN_TOOLS__ 1
#include <keel/cpu_policy.h>
#include <keel/domain_mem.h>
#include <keel/domctl.h>
#include <keel/sched_types.h>
#include <keel/page_alloc.h>
#include <keel/pv_mm.h>
#include <xen/errno.h>

#define NR 256
#define NDOM 5 /* [0] plays dom0, the toolstack */
#define NMAP 32

struct domain {
    struct domain_mem mem;
    domid_t id;
    bool live, dying;
    int refs;
};

static struct page_info table[NR];
static struct domain doms[NDOM];
static u64 maps[NMAP]; /* dom0's foreign entries (0: free slot) */
static bool used_ids[DOMID_FIRST_RESERVED];
static domid_t rover;

static bool f_assign(struct page_info *pg, struct domain *d)
{
    bool first;

    if (dmem_assign(&d->mem, pg, d, &first))
        return false;
    d->refs += first;
    return true;
}

static bool f_release(struct page_info *pg, struct domain *d)
{
    return dmem_release(&d->mem, pg);
}

static void f_released(struct domain *d)
{
    d->refs--;
}

static const struct page_owner_ops owner_ops = {f_assign, f_release, f_released};

static void check_domains(void)
{
    unsigned long owned[NDOM] = {0};

    for (unsigned long m = 0; m < NR; m++)
        for (unsigned int i = 0; i < NDOM; i++)
            if (table[m].owner == &doms[i])
                owned[i]++;
    for (unsigned int i = 0; i < NDOM; i++) {
        struct domain *d = &doms[i];
        if (owned[i] != d->mem.nr_owned || d->refs != (d->mem.nr_owned ? 1 : 0) ||
            dmem_verify(&d->mem, d))
            abort();
    }
}

static bool id_taken(domid_t id, void *ctx)
{
    (void)ctx;
    return used_ids[id];
}

static struct domain *pick(u8 b)
{
    struct domain *d = &doms[1 + b % (NDOM - 1)];
    return d->live ? d : NULL;
}

static mfn_t frame_of(struct domain *d, u8 b)
{
    /* Some frame this domain owns, if any (scan from a random start). */
    for (unsigned int k = 0; k < NR; k++) {
        mfn_t m = (b * 7U + k) % NR;
        if (table[m].owner == d && page_state(&table[m]) == PGC_state_inuse)
            return m;
    }
    return 0;
}

static void op_create(u8 a, u8 b)
{
    struct xen_domctl_createdomain c;
    struct createdomain_args args;
    struct domain *d = NULL;
    domid_t id;

    for (unsigned int i = 1; i < NDOM; i++)
        if (!doms[i].live && !doms[i].mem.nr_owned)
            d = &doms[i];
    if (!d)
        return;
    memset(&c, 0, sizeof(c));
    c.max_vcpus = a & 0x3f;
    c.flags = (b & 1) ? 1U << (a & 31) : 0;
    c.grant_opts = b >> 5;
    c.max_grant_frames = (int8_t)a;
    c.max_maptrack_frames = -1;
    c.max_evtchn_port = (u32)a << (b & 31);
    if (createdomain_check(&c, 32, &args) == 0) {
        if (args.max_vcpus < 1 || args.max_vcpus > 32 || args.grant_version < 1 ||
            args.grant_version > KEEL_MAX_GRANT_VERSION ||
            args.max_grant_frames < 1 || args.max_grant_frames > 64 || !args.nr_evtchn_ports)
            abort();
    } else if (b & 2) {
        return;
    }
    id = domid_rover_next(rover, id_taken, NULL);
    if (id == DOMID_INVALID || used_ids[id] || id == rover)
        abort();
    rover = id;
    used_ids[id] = true;
    dmem_init(&d->mem);
    d->id = id;
    d->live = true;
    d->dying = false;
}

static void op_populate(struct domain *d, u8 n)
{
    for (unsigned int i = 0; i < (n & 7u); i++) {
        struct page_info *pg = alloc_pages(0);
        if (!pg)
            return;
        memset(mfn_to_virt(page_to_mfn(pg)), 0, PAGE_SIZE);
        if (!page_assign(pg, d)) {
            if (!d->dying)
                abort(); /* only a dying domain refuses */
            free_pages(pg, 0);
            return;
        }
    }
}

/* Write an entry of one of d's frames naming another (maybe as a table),
 * then pin it at some level: validation decides. */
static void op_table(struct domain *d, u8 a, u8 b)
{
    mfn_t t = frame_of(d, a), x = frame_of(d, b);
    struct page_info *pg = mfn_to_page(t);
    unsigned int level = 1 + (a >> 6);

    if (!t || !x)
        return;
    /* Only a frame that is not a table right now may be written freely. */
    if (get_page_and_type(pg, d, PGT_writable_page)) {
        ((u64 *)mfn_to_virt(t))[b & 511] =
            ((u64)x << PAGE_SHIFT) | PTE_P | ((b & 0x80) ? PTE_RW : 0);
        put_page_and_type(pg);
    }
    /* A pin that races destruction is undone at once (mmuext.c does the
     * same): relinquish may already have passed the frame. */
    if ((b & 0x40) && page_pin(pg, d, pgt_of_level(level)) && d->dying)
        page_unpin(pg);
    else if (!(b & 0x40))
        page_unpin(pg);
}

static void op_map(struct domain *d, u8 a, u8 b)
{
    mfn_t m = frame_of(d, a);
    u64 e = ((u64)m << PAGE_SHIFT) | PTE_P | ((b & 1) ? PTE_RW : 0);

    if (!m)
        return;
    for (unsigned int i = 0; i < NMAP; i++)
        if (!maps[i]) {
            if (pv_l1e_get_foreign(&doms[0], d, e) == 0)
                maps[i] = e;
            return;
        }
}

static void op_unmap(u8 a)
{
    unsigned int i = a % NMAP;

    if (maps[i]) {
        pv_l1e_put(maps[i]);
        maps[i] = 0;
    }
}

/* A balloon-out: the frame goes unless pinned (mapped frames linger). */
static void op_balloon(struct domain *d, u8 a)
{
    mfn_t m = frame_of(d, a);
    struct page_info *pg = mfn_to_page(m);

    if (m && (pg->count_info & PGC_allocated) && !(pg->u.type_info & PGT_pinned))
        page_unassign(pg);
}

static void op_kill(struct domain *d, u8 budget)
{
    if (!d->dying) {
        dmem_close(&d->mem);
        d->dying = true;
    }
    if (!dmem_relinquish(&d->mem, d, 1 + (budget & 15), NULL, NULL)) {
        d->live = false;
        used_ids[d->id] = false; /* freed ids come back, but not at once */
    }
}

/* A domU's domctl is always refused, with one of Xen's refusals. */
static void refusal_check(u8 a, u8 b, u8 c)
{
    struct xen_domctl op;
    long rc;

    memset(&op, 0, sizeof(op));
    op.cmd = a % 90;
    for (unsigned int i = 0; i < 32; i++)
        ((u8 *)&op.u)[i] = (u8)(b * (i + 1) ^ (c << (i % 8)));
    rc = domctl_refusal(&op, c & 1, (enum domctl_other)((c >> 1) & 3), 36 + (b & 15));
    if (rc != -XEN_EPERM && rc != -XEN_EINVAL && rc != -XEN_EOPNOTSUPP && rc != -XEN_ESRCH)
        abort();
    /* Only set_target knows "no such domain"; only a few know -EINVAL. */
    if (rc == -XEN_ESRCH && op.cmd != XEN_DOMCTL_set_target)
        abort();
}

static void pure_workers(u8 a, u8 b, u8 c)
{
    refusal_check(a, b, c);
    struct dominfo s;
    struct xen_domctl_getdomaininfo out;
    u8 bytes[8];
    u64 mask = ((u64)a << 56) | ((u64)b << 28) | c;

    memset(&s, 0, sizeof(s));
    s.nr_vcpus = a % 33;
    for (unsigned int i = 0; i < s.nr_vcpus && i < 32; i++)
        s.vcpu[i] = (struct dominfo_vcpu){(b >> (i % 8)) & 1, (c >> (i % 8)) & 1,
                                          ((b ^ c) >> (i % 8)) & 1, i};
    s.shutdown_code = c;
    dominfo_fill(&s, &out);
    if (out.nr_online_vcpus > s.nr_vcpus || ((out.flags >> 16) != c) ||
        (s.nr_vcpus && out.max_vcpu_id != s.nr_vcpus - 1) ||
        (!out.nr_online_vcpus && (out.flags & (XEN_DOMINF_blocked | XEN_DOMINF_running))))
        abort();
    u32 n = mask_to_ctlbytes(mask, 64, b, bytes);
    if (n > ctlbitmap_bytes(b) || (ctlbytes_to_mask(bytes, n, b, 64) & ~mask))
        abort();
    u32 cc = (u32)a << 24, p = cc + c, from = console_read_from(cc, p, b & 1, (u32)b << 1);
    if (p - from > p - cc)
        abort();
    static const u32 pools[] = {0, 3, 200};
    int idx = cpupool_next(pools, 3, c);
    if (idx >= 0 ? pools[idx] < c : c <= 200)
        abort();
    /* Rate limits: a refused put changes nothing; what is stored is 0 or
     * in range, and is what the caller hears. */
    static u32 ratelimit = 1000;
    u32 io = mask & 0xfffff, before = ratelimit;
    int rc = credit2_ratelimit_adjust(&ratelimit, a & 1, &io);
    if ((rc && ratelimit != before) || (!rc && io != ratelimit) ||
        (ratelimit && (ratelimit < XEN_SYSCTL_SCHED_RATELIMIT_MIN ||
                       ratelimit > XEN_SYSCTL_SCHED_RATELIMIT_MAX)))
        abort();
    /* RTDS elements: a vcpuid past the domain is refused; getvcpuinfo
     * changes only the extratime bit of the caller's flags. */
    struct xen_domctl_schedparam_vcpu e = {.vcpuid = c};
    struct sched_params sp = {.period_us = b, .budget_us = a, .flags = c & 1};
    e.u.rtds.flags = (u32)mask;
    if (schedop_vcpu_in(XEN_SCHEDULER_RTDS, &e, b, a & 2, &sp) != (c < b && (a & 2) ? 0 : -XEN_EINVAL))
        abort();
    sp.flags = c & 1;
    schedop_vcpu_out(XEN_SCHEDULER_RTDS, &sp, &e);
    if (((e.u.rtds.flags ^ (u32)mask) & ~(u32)XEN_DOMCTL_SCHEDRT_extra) ||
        !(e.u.rtds.flags & XEN_DOMCTL_SCHEDRT_extra) != !(c & 1))
        abort();
}

static void policy_round_trip(const u8 *data, size_t size)
{
    static struct cpu_policy p, q;
    static xen_cpuid_leaf_t buf[CP_MAX_LEAVES];
    u32 nr = 0, el, es;

    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i + 12 <= size && nr < CP_MAX_LEAVES; i += 12, nr++) {
        u32 w[3];
        memcpy(w, data + i, sizeof(w));
        /* Leaves near the ranges Xen knows, subleaves small or "none". */
        u32 leaf = (w[0] & 0x80000000U) | (w[0] & 0x3f);
        buf[nr] = (xen_cpuid_leaf_t){leaf, (w[1] & 0x100) ? XEN_CPUID_NO_SUBLEAF : w[1] & 0x7f,
                                     w[1], w[2], w[0], w[2] ^ w[1]};
    }
    if (cpu_policy_deserialise(&p, buf, nr, &el, &es))
        return;
    cpu_policy_clear_out_of_range(&p);
    nr = CP_MAX_LEAVES;
    if (cpu_policy_serialise(&p, buf, &nr))
        abort(); /* a policy always fits its own maximum */
    memset(&q, 0, sizeof(q));
    if (cpu_policy_deserialise(&q, buf, nr, &el, &es))
        abort();
    cpu_policy_clear_out_of_range(&q);
    if (memcmp(&p, &q, sizeof(p)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long free_start;

    if (!host_directmap)
        host_directmap = aligned_alloc(PAGE_SIZE, (size_t)NR * PAGE_SIZE);
    heap_reset();
    frametable_init(table, NR);
    heap_add_range(0, NR);
    pv_mm_init();
    page_owner_set_ops(&owner_ops);
    memset(doms, 0, sizeof(doms));
    memset(maps, 0, sizeof(maps));
    memset(used_ids, 0, sizeof(used_ids));
    for (unsigned int i = 0; i < NDOM; i++)
        dmem_init(&doms[i].mem);
    doms[0].live = true;
    used_ids[0] = true;
    rover = 0;
    free_start = heap_free_frames();

    for (size_t i = 0; i + 4 <= size; i += 4) {
        u8 op = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
        struct domain *d = pick(op >> 4);

        switch (op & 15) {
        case 0: op_create(a, b); break;
        case 1: if (d) op_populate(d, a); break;
        case 2: case 3: if (d) op_table(d, a, b); break;
        case 4: if (d) op_map(d, a, b); break;
        case 5: op_unmap(a); break;
        case 6: if (d) op_balloon(d, a); break;
        case 7: if (d && (c & 1)) op_kill(d, b); break;
        default: pure_workers(a, b, c); break;
        }
        check_domains();
    }
    policy_round_trip(data, size);

    /* Teardown: dom0 drops its mappings, every domain dies. */
    for (unsigned int i = 0; i < NMAP; i++)
        op_unmap((u8)i);
    for (unsigned int i = 1; i < NDOM; i++)
        while (doms[i].live)
            op_kill(&doms[i], 0xff);
    check_domains();
    for (unsigned int i = 0; i < NDOM; i++)
        if (doms[i].mem.nr_owned || doms[i].refs) {
#ifdef FUZZ_DEBUG
            for (unsigned long m = 0; m < NR; m++)
                if (table[m].owner == &doms[i])
                    fprintf(stderr, "d%u mfn %lu count %lx type %lx\n", i, m,
                            table[m].count_info, table[m].u.type_info);
#endif
            abort();
        }
    if (heap_free_frames() != free_start || heap_verify())
        abort();
    return 0;
}
