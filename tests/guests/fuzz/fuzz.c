/*
 * Hypercall fuzzing from inside a PV guest: a fixed-seed PRNG throws
 * thousands of hypercalls (every number 0-63 and some beyond) with argument
 * words drawn from a pool of awkward values.  The hypervisor must answer
 * each one and stay consistent; afterwards the guest checks that its own
 * code is intact, the console works and calls with known answers still
 * give them.
 *
 * Calls that would legitimately end or wreck this guest are excluded or
 * confined (see sanitize()): the fuzzer probes the hypervisor, not our own
 * ability to shoot ourselves.
 *   - iret (23), set_callbacks (4): would send us to random addresses.
 *   - set_trap_table (0), callback_op (30): only with pointers that cannot
 *     be read (NULL would clear our trap table), so our handlers survive.
 *   - sched_op (29) / sched_op_compat (6): no shutdown, remote_shutdown,
 *     shutdown_code (changes the reason of our final power-off), watchdog
 *     (kills us later), block or poll (may sleep forever: no events bound).
 *   - mmu_update (1), mmuext_op (26), update_va_mapping(_otherdomain)
 *     (14, 22): requests are built here and only target a dedicated,
 *     unhooked scratch L1 and a window of pages we never touch; no
 *     MMUEXT_NEW_BASEPTR (a scratch table as CR3 is instant death).
 *   - memory_op (12): increase/decrease/populate/exchange only through
 *     build_memory(), on a pool of frames of our own nothing else uses
 *     (repeated and overlapping frames, mapped ones, Keel's own frames
 *     and bad lists included), the results tracked so that the pool goes
 *     back whole at the end; no physmap changes, claims or
 *     acquire_resource (they would remap our own frames).
 *   - event_channel_op (32): no init_control/expand_array (they take a
 *     gfn and write into it: our own text, for small gfns).
 *   - grant_table_op (20): no transfer (gives a frame of ours away).
 *   - vcpu_op (24): state-changing sub-ops only on vCPU ids we do not run
 *     on (the MANIFEST gives us a second, idle vCPU 1 to initialise with
 *     garbage); never VCPUOP_up (it would run that garbage, and a PV vCPU
 *     that crashes takes the domain with it); vCPU 0 gets read-only and
 *     timer sub-ops.
 *   - set_debugreg (8): DR7 never enables a breakpoint (it would hit our
 *     own code forever).
 *   - physdev_op (33): only irq_status_query/set_iopl/set_iobitmap and
 *     unknown sub-ops: the others reprogram real interrupt hardware,
 *     which dom0 may legitimately do.
 *   - kexec_op (37): dom0 may legitimately replace the hypervisor.
 *   - console_io (18): writes only of a short text buffer or bad pointers
 *     (a 4 GiB count of a good buffer prints our whole memory).
 * Besides hypercalls: wrmsr of the hypercall-page MSR at pool frames, our
 * grant frame, our page tables and bad values (tables must be refused),
 * and pins of frames the hypervisor writes into (must be refused).
 *
 * Built with -DFUZZ_RACE (../fuzz-race), vCPU 1 runs the same loop at the
 * same time on the same state, with a PRNG stream of its own; vCPU 1 then
 * is never taken down nor has its vcpu_info moved, and the end gives back
 * whatever the domain may still own instead of trusting the bookkeeping
 * (give_back_all).  Seed and length: "seed=<n> calls=<n>" on the command
 * line (calls per vCPU).
 */
#include <rt.h>
#include <xen/grant_table.h>
#include <xen/physdev.h>

/* Other seeds find other paths: build with -DSEED=<n>, or boot with
 * "seed=<n> calls=<n>" on the guest command line, to explore. */
#ifndef SEED
#define SEED 0x6b65656c66757a7aULL /* "keelfuzz" */
#endif
#ifndef NCALLS
#define NCALLS 8000
#endif
#define NSCRATCH 4
#define NWINDOW 4

extern char __kernel_start[], __rodata_end[];
extern char rt_stack[], rt_stack_top[];
static uint64_t seed = SEED;
static unsigned long ncalls = NCALLS;
#ifdef FUZZ_RACE
static const bool race = true;
#else
static const bool race = false;
#endif

static char scratch[NSCRATCH][4096] __attribute__((aligned(4096)));
/* Pages whose mappings update_va_mapping may replace: never touched. */
static char window[NWINDOW][4096] __attribute__((aligned(4096)));
/* The dedicated L1 that mmu_update may scribble on (never hooked in). */
static char scratch_l1[4096] __attribute__((aligned(4096)));
static const char junk[] = "fuzz: console junk\n";


static uint64_t scratch_mfn[NSCRATCH], l1_mfn, pt_mfn[8];
static unsigned n_pt;

/* Frames of our own for memory_op to take and give (fresh, unmapped
 * unless a window maps one), and frames the hypervisor writes into. */
#define NPOOL 48
static uint64_t pool[NPOOL];
static unsigned n_pool;
static uint64_t shinfo_mfn, grant_mfn;

/*
 * What each vCPU running the fuzzer keeps for itself (FUZZ_RACE runs it on
 * vCPUs 0 and 1 at once): its PRNG stream, the request buffers of the call
 * it is making and what it counts.  Everything else (pool, scratch pages,
 * scratch L1, windows) is shared, so the two vCPUs' calls overlap on it.
 */
struct lane {
    uint64_t rng;
    struct mmu_update mmu_reqs[8];
    struct mmuext_op ext_ops[8];
    multicall_entry_t mc[6];
    xen_pfn_t mem_in[8], mem_out[16];
    struct xen_memory_reservation resv;
    struct xen_memory_exchange xchg;
    unsigned mem_n, mem_order, mem_out_order;
    unsigned traps_taken, traps_now, msr_writes, msr_refused, mem_calls, mem_changed;
    unsigned long made;
    volatile uint64_t resume; /* where a guarded instruction continues */
    unsigned hist[130];
};
static struct lane lanes[2];

/* vCPU 0 runs on the runtime's boot stack, vCPU 1 on a stack of its own. */
static struct lane *me(void)
{
    char here;
    return &lanes[&here >= rt_stack && &here < rt_stack_top ? 0 : 1];
}
#define rng_state (me()->rng)
#define mmu_reqs (me()->mmu_reqs)
#define ext_ops (me()->ext_ops)
#define mc (me()->mc)
#define mem_in (me()->mem_in)
#define mem_out (me()->mem_out)
#define resv (me()->resv)
#define xchg (me()->xchg)
#define mem_n (me()->mem_n)
#define mem_order (me()->mem_order)
#define mem_out_order (me()->mem_out_order)

/* ---- PRNG (xorshift64*) and the value pool */

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

/* Exceptions the calls provoke (#NM after fpu_taskswitch...) resume; a
 * guarded instruction (FUZZ_GUARD) resumes after itself.  Many traps in a
 * row with no call in between: one that never stops. */
static bool trap_hook(struct rt_frame *f)
{
    struct lane *l = me();

    l->traps_taken++;
    if (++l->traps_now > 1000)
        test_verdict(false, "trap storm on vCPU %u: vector %lu at %lx (cr2 %lx)",
                     (unsigned)(l - lanes), (unsigned long)f->vector,
                     (unsigned long)f->rip, (unsigned long)rt_last_trap.cr2);
    if (l->resume) {
        f->rip = l->resume;
        l->resume = 0;
        return true;
    }
    return !rt_resume;
}

/* RT_GUARD with the resume address in this vCPU's lane (operand slot). */
#define FUZZ_GUARD(insn) \
    "leaq 9f(%%rip), %%r11\n\tmovq %%r11, (%[slot])\n\t" insn \
    "\n9:\tmovq $0, (%[slot])"

/* One lock for the pool's bookkeeping (never held across a fuzzed call). */
static volatile int pool_lock;

static void lock_pool(void)
{
    while (__atomic_exchange_n(&pool_lock, 1, __ATOMIC_ACQUIRE))
        rt_hypercall_raw(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
}

static void unlock_pool(void) { __atomic_store_n(&pool_lock, 0, __ATOMIC_RELEASE); }

/* Pointers that no hypercall may read or write through. */
static uint64_t bad_ptr(void)
{
    static const uint64_t v[] = {
        0xffff800000000000ULL, /* read-only M2P: still not a guest buffer */
        0xffff808000001000ULL, 0xffff828000000000ULL, /* hypervisor data/text */
        0xffff830000100000ULL, 0xffff87fffffff000ULL, /* direct map */
        0x8000000000000000ULL, 0x0000800000000000ULL, /* non-canonical */
        0xffffffff90000000ULL, 0x00007ffffffff000ULL, /* canonical, unmapped */
        0xfffffffffffffff8ULL,
    };
    return v[below(sizeof(v) / sizeof(v[0]))];
}

/* Our own memory the hypervisor may legitimately write into. */
static uint64_t own_ptr(void)
{
    if (below(4) == 0) /* mapped read-only; or straddling two frames */
        return rt_start_info->pt_base + (below(2) ? 0 : 4096 - 4);
    return (uintptr_t)scratch[below(NSCRATCH)] + (below(4) == 0 ? below(4096) : 0);
}

static uint64_t pool_mfn(void)
{
    switch (below(3)) {
    case 0: return scratch_mfn[below(NSCRATCH)];
    case 1: return l1_mfn;
    default: return pt_mfn[below(n_pt)];
    }
}

static uint64_t mem_frame(void)
{
    return n_pool ? pool[below(n_pool)] : scratch_mfn[0];
}

/* What pins and the hypercall-page MSR may be aimed at. */
static uint64_t target_mfn(void)
{
    switch (below(6)) {
    case 0: return shinfo_mfn;
    case 1: return grant_mfn;
    case 2: return l1_mfn;
    case 3: return pt_mfn[below(n_pt)];
    default: return mem_frame();
    }
}

#ifdef FUZZ_DOMU
void foreign_probes(void);
#endif

static uint64_t word(void)
{
#ifdef FUZZ_DOMU
    /* As a domU (fuzz-domu/): other domains' ids and ports too. */
    if (below(16) == 0) {
        static const uint64_t other[] = {0, 1, 2, 3, 4, 5, 0x7fe0, DOMID_XEN, DOMID_IO};
        return other[below(sizeof(other) / sizeof(other[0]))];
    }
#endif
    switch (below(12)) {
    case 0: return 0;
    case 1: return below(17);
    case 2: return ~0ULL;
    case 3: return 1ULL << 31;
    case 4: return 0xffffffffULL;
    case 5: return own_ptr();
    case 6: case 7: return bad_ptr();
    case 8: return pool_mfn();
    case 9: return (pool_mfn() << 12) | (below(2) ? 0x67 : 0x25);
    case 10: return 1ULL << below(64);
    default: return rnd();
    }
}

static void fill_scratch(void)
{
    for (unsigned i = 0; i < 16; i++) {
        uint64_t *p = (uint64_t *)scratch[below(NSCRATCH)] + below(512);
        *p = word();
    }
}

/* ---- making each call survivable for ourselves */

struct call {
    uint64_t nr, a[5];
};

static uint64_t ptr_or_bad(uint64_t good) { return below(4) == 0 ? bad_ptr() : good; }

static uint64_t window_va(void)
{
    return (uintptr_t)window[below(NWINDOW)] + (below(8) == 0 ? below(4096) : 0);
}

static void build_mmu(struct call *c)
{
    unsigned n = 1 + below(8);
    for (unsigned i = 0; i < n; i++) {
        uint64_t target = below(3) ? l1_mfn : pool_mfn();
        unsigned cmd = below(4); /* NORMAL, MACHPHYS, PRESERVE_AD, bad */
        if (cmd != MMU_MACHPHYS_UPDATE)
            target = l1_mfn; /* page-table writes only into the scratch L1 */
        mmu_reqs[i].ptr = (target << 12) + 8 * below(512) + cmd;
        mmu_reqs[i].val = word();
    }
    c->a[0] = ptr_or_bad((uintptr_t)mmu_reqs);
    c->a[1] = below(8) ? n : word();
    if (c->a[1] > 8 && c->a[0] == (uintptr_t)mmu_reqs)
        c->a[1] = n;
    c->a[2] = below(2) ? 0 : own_ptr();
    c->a[3] = below(2) ? DOMID_SELF : word();
}

static void build_mmuext(struct call *c)
{
    unsigned n = 1 + below(8);
    for (unsigned i = 0; i < n; i++) {
        unsigned cmd = below(24);
        if (cmd == MMUEXT_NEW_BASEPTR)
            cmd = MMUEXT_TLB_FLUSH_LOCAL;
        ext_ops[i].cmd = cmd;
        ext_ops[i].arg1.mfn = below(2) ? (below(2) ? pool_mfn() : target_mfn())
                                       : (below(2) ? window_va() : word());
        /* Page contents: never our grant entries (junk there becomes real
         * grants of our own frames) nor our event state. */
        if ((cmd == MMUEXT_CLEAR_PAGE || cmd == MMUEXT_COPY_PAGE) &&
            (ext_ops[i].arg1.mfn == grant_mfn || ext_ops[i].arg1.mfn == shinfo_mfn))
            ext_ops[i].arg1.mfn = mem_frame();
        /* A linear address must not be one of our live pages: SET_LDT and
         * INVLPG only read it, so any word is fine except as a base ptr. */
        ext_ops[i].arg2.nr_ents = (unsigned)word();
        if (below(4) == 0)
            ext_ops[i].arg2.vcpumask.p = (void *)own_ptr();
    }
    c->a[0] = ptr_or_bad((uintptr_t)ext_ops);
    c->a[1] = n;
    c->a[2] = below(2) ? 0 : own_ptr();
    c->a[3] = below(2) ? DOMID_SELF : word();
}

static void build_multicall(struct call *c)
{
    static const unsigned ops[] = {
        __HYPERVISOR_xen_version, __HYPERVISOR_multicall, __HYPERVISOR_vm_assist,
        __HYPERVISOR_event_channel_op, __HYPERVISOR_set_timer_op, 64, 200,
        __HYPERVISOR_fpu_taskswitch,
    };
    unsigned n = 1 + below(6);
    for (unsigned i = 0; i < n; i++) {
        mc[i].op = ops[below(sizeof(ops) / sizeof(ops[0]))];
        for (unsigned k = 0; k < 6; k++)
            mc[i].args[k] = word();
        if (mc[i].op == __HYPERVISOR_event_channel_op)
            mc[i].args[1] = bad_ptr(); /* no init_control into our pages */
        if (mc[i].op == __HYPERVISOR_multicall)
            mc[i].args[1] = 1;
        mc[i].result = word();
    }
    c->a[0] = ptr_or_bad((uintptr_t)mc);
    c->a[1] = below(8) ? n : word();
    if (c->a[1] > n && c->a[0] == (uintptr_t)mc)
        c->a[1] = n;
}

static bool in_list(uint64_t v, const uint64_t *l, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (v == l[i])
            return true;
    return false;
}
#define IN(v, ...) in_list(v, (const uint64_t[]){__VA_ARGS__}, \
                           sizeof((const uint64_t[]){__VA_ARGS__}) / 8)

/* ---- memory_op on the pool */

/*
 * Racing, the two vCPUs report what their calls did in either order: a
 * frame one gave back may be reported before the other's report of getting
 * it (again).  A release of a frame the pool does not hold yet is kept as a
 * debt that the next report of that frame pays.  Every frame the pool ever
 * held is also remembered (seen[]), so that the end can give back anything
 * the bookkeeping still missed.
 */
#define NSEEN 8192
static uint64_t debt[NPOOL], seen[NSEEN];
static unsigned n_debt, n_seen, races;

static bool take_from(uint64_t *l, unsigned *n, uint64_t mfn)
{
    for (unsigned i = 0; i < *n; i++)
        if (l[i] == mfn) {
            l[i] = l[--*n];
            return true;
        }
    return false;
}

static void remember(uint64_t mfn)
{
    unsigned h = (unsigned)((mfn * 0x9e3779b97f4a7c15ULL) >> 51) % NSEEN;
    for (unsigned i = 0; i < NSEEN && n_seen < NSEEN - 1; i++, h = (h + 1) % NSEEN) {
        if (seen[h] == mfn)
            return;
        if (!seen[h]) {
            seen[h] = mfn;
            n_seen++;
            return;
        }
    }
}

static void pool_add(uint64_t mfn)
{
    remember(mfn);
    if (race && take_from(debt, &n_debt, mfn))
        return;
    if (n_pool < NPOOL)
        pool[n_pool++] = mfn;
    else /* no room to track it: give it straight back */
        CHECK(HYPERVISOR_memory_op(XENMEM_decrease_reservation,
                                   &(struct xen_memory_reservation){
                                       .extent_start.p = (xen_pfn_t[]){mfn},
                                       .nr_extents = 1, .domid = DOMID_SELF}) == 1);
}

static bool pool_take(uint64_t mfn)
{
    return take_from(pool, &n_pool, mfn);
}

/* A release the pool cannot match: alone, no hypervisor may report it;
 * racing, the matching report may still be on its way. */
static bool unmatched(uint64_t mfn)
{
    if (!race)
        return false;
    races++;
    if (n_debt < NPOOL)
        debt[n_debt++] = mfn;
    return true;
}

/* n frames from the pool, a third of them repeats of earlier ones.  Any
 * pin on them goes first: Xen lets a pinned frame go (it lives on, still
 * counted, while pinned) where Keel refuses it, and we would lose track. */
static void pick_inputs(unsigned n)
{
    /* The other references a random mmuext may have left on a pool frame:
     * the user page-table root and the LDT. */
    struct mmuext_op drop[2] = {{.cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = 0},
                                {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = 0}};
    hypercall4(__HYPERVISOR_mmuext_op, drop, 2, NULL, DOMID_SELF);
    for (unsigned i = 0; i < n; i++) {
        mem_in[i] = i && below(3) == 0 ? mem_in[below(i)] : mem_frame();
        struct mmuext_op op = {.cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = mem_in[i]};
        hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
    }
}

static bool build_memory(struct call *c)
{
    unsigned op = below(4);
    uint64_t *a = c->a;

    mem_order = below(4) == 0;
    a[0] = op == 0 ? XENMEM_increase_reservation : op == 1 ? XENMEM_decrease_reservation
           : op == 2 ? XENMEM_populate_physmap : XENMEM_exchange;
    a[1] = op == 3 ? (uintptr_t)&xchg : (uintptr_t)&resv;
    if (op == 1) {
        mem_order = 0; /* a pool frame's neighbour is not ours to give */
        mem_n = 1 + below(4);
        pick_inputs(mem_n);
    } else if (op != 3) {
        unsigned room = (NPOOL - n_pool) >> mem_order;
        mem_n = room ? 1 + below(room < 4 ? room : 4) : 0;
        for (unsigned i = 0; i < mem_n; i++)
            mem_in[i] = below(2) ? 0x70000 + below(64) : word();
    }
    if (op != 3) {
        resv = (struct xen_memory_reservation){
            .nr_extents = mem_n, .extent_order = mem_order, .domid = DOMID_SELF,
            .mem_flags = below(2) ? XENMEMF_address_bits(32) : 0};
        /* A bad list: for increase only one every hypervisor refuses up
         * front (Xen keeps frames it could not report through a list that
         * faults late: the guest would lose track of them). */
        uint64_t bad = op == 0 ? 0xffff830000100000ULL : bad_ptr();
        set_xen_guest_handle(resv.extent_start, below(8) ? mem_in : (xen_pfn_t *)bad);
        return true;
    }
    mem_n = 1 + below(4);
    pick_inputs(mem_n);
    mem_out_order = below(3);
    unsigned n_out = (mem_n >> mem_out_order) ? mem_n >> mem_out_order : 1;
    if (below(8) == 0)
        n_out++; /* sizes that do not match */
    for (unsigned i = 0; i < n_out; i++)
        mem_out[i] = 0x71000 + below(64);
    xchg = (struct xen_memory_exchange){
        .in = {.nr_extents = mem_n, .domid = DOMID_SELF},
        .out = {.nr_extents = n_out, .extent_order = mem_out_order, .domid = DOMID_SELF,
                .mem_flags = below(2) ? XENMEMF_address_bits(32) : 0}};
    set_xen_guest_handle(xchg.in.extent_start, mem_in);
    set_xen_guest_handle(xchg.out.extent_start, mem_out);
    return true;
}

/* Learn what the call did to the pool.  Returns false for an outcome no
 * hypervisor may give. */
static unsigned reported_drift;
static unsigned long pool_base; /* our reservation without the pool */
/* What each window maps (0: nothing of the pool's), and frames given back
 * while a window still maps them: they count until the window lets go. */
static uint64_t window_map[NWINDOW], ghost[NPOOL];
static unsigned n_ghost;

static bool in_a_window(uint64_t mfn)
{
    for (unsigned w = 0; w < NWINDOW; w++)
        if (window_map[w] == mfn)
            return true;
    return false;
}

/* The builder's page-table frames, where the initial mapping shows them
 * (found by MFN: the M2P is the fuzzer's to scribble on). */
static const uint64_t *table_va(uint64_t mfn)
{
    for (unsigned long i = 0; i < rt_start_info->nr_pt_frames; i++) {
        const void *va = (const char *)rt_start_info->pt_base + 4096 * i;
        if (rt_virt_to_mfn(va) == mfn)
            return va;
    }
    return NULL;
}

/* The L1 entry mapping va (0 if the walk leaves the builder's tables). */
static uint64_t pte_of(uint64_t va)
{
    const uint64_t *t = (const uint64_t *)rt_start_info->pt_base;
    for (int shift = 39; shift > 12 && t; shift -= 9)
        t = table_va((t[(va >> shift) & 511] & 0x000ffffffffff000ULL) >> 12);
    return t ? t[(va >> 12) & 511] : 0;
}

/* After any update_va_mapping: what the windows map now (Xen may change
 * the entry and still fail the call, on a bad flush mask). */
static void windows_changed(void)
{
    for (unsigned w = 0; w < NWINDOW; w++) {
        uint64_t old = window_map[w], e = pte_of((uintptr_t)window[w]);
        window_map[w] = (e & 1) ? (e & 0x000ffffffffff000ULL) >> 12 : 0;
        for (unsigned g = 0; g < n_ghost; g++)
            if (ghost[g] == old && !in_a_window(old)) {
                ghost[g] = ghost[--n_ghost];
                break;
            }
    }
}

static long reservation(void)
{
    domid_t self = DOMID_SELF;
    return HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
}

static bool memory_done_locked(const struct call *c, long r)
{
    unsigned op = (unsigned)c->a[0];

    me()->mem_calls++;
    me()->mem_changed += op == XENMEM_exchange ? xchg.nr_exchanged != 0 : r > 0;

    if (op == XENMEM_exchange) {
        /* Keel does all or nothing; Xen may stop after whole chunks. */
        unsigned long done = xchg.nr_exchanged;
        uint64_t added[16];
        unsigned n_added = 0;
        if (done > mem_n || (r == 0 && done != mem_n))
            return false;
        for (unsigned i = 0; i < (done >> mem_out_order); i++)
            for (unsigned j = 0; j < (1U << mem_out_order); j++)
                added[n_added++] = mem_out[i] + j;
        for (unsigned i = 0; i < done; i++) {
            if (pool_take(mem_in[i]))
                continue;
            /* Xen exchanges chunk by chunk: a frame named again may have
             * come back as an earlier chunk's new frame. */
            unsigned k = 0;
            while (k < n_added && added[k] != mem_in[i])
                k++;
            if (k == n_added) {
                if (!unmatched(mem_in[i]))
                    return false; /* a frame exchanged twice */
                continue;
            }
            added[k] = added[--n_added];
        }
        for (unsigned k = 0; k < n_added; k++)
            pool_add(added[k]);
        return true;
    }
    if (r < 0 || (unsigned long)r > mem_n)
        return false;
    for (unsigned i = 0; i < (unsigned)r; i++) {
        if (op == XENMEM_decrease_reservation) {
            bool repeat = false;
            for (unsigned j = 0; j < i; j++)
                repeat |= mem_in[j] == mem_in[i];
            /* Xen counts the repeat of a frame that is still mapped as
             * done (there is nothing left to drop); Keel stops there. */
            if (pool_take(mem_in[i])) {
                if (!race && in_a_window(mem_in[i]) && n_ghost < NPOOL)
                    ghost[n_ghost++] = mem_in[i];
            } else if (!repeat && !unmatched(mem_in[i])) {
                return false; /* released a frame that was not ours */
            }
            continue;
        }
        for (unsigned j = 0; j < (1U << mem_order); j++)
            pool_add(mem_in[i] + j);
    }
    return true;
}

static bool memory_done(const struct call *c, long r)
{
    lock_pool();
    bool ok = memory_done_locked(c, r);
    unlock_pool();
    return ok;
}

/* The hypercall-page MSR at a frame; tables must be refused (#GP). */
static void fuzz_hypercall_msr(void)
{
    uint64_t mfn = target_mfn(), val = mfn << 12;
    struct lane *l = me();
    unsigned before = l->traps_taken;

    static const uint64_t junk_vals[] = {0, ~0ULL, 1ULL << 63, 0xffffffffff000ULL, 0x1000};
    if (below(4) == 0)
        val |= below(4096);
    else if (below(8) == 0) /* never a frame of ours: it would be overwritten */
        val = junk_vals[below(sizeof(junk_vals) / sizeof(junk_vals[0]))];
    if (mfn == shinfo_mfn && (val >> 12) == shinfo_mfn)
        return; /* a writable page: it would take our event state */
    __asm__ volatile(FUZZ_GUARD("wrmsr")::"c"(0x40000000U), "a"((uint32_t)val),
                     "d"((uint32_t)(val >> 32)), [slot] "r"(&l->resume)
                     : "r11", "memory");
    bool refused = l->traps_taken != before;
    bool table = false; /* our live tables (the scratch L1 may be unpinned) */
    for (unsigned i = 0; i < n_pt; i++)
        table |= (val >> 12) == pt_mfn[i];
    if (table && !(val & 0xfff) && !refused)
        rt_check_failed(__FILE__, __LINE__, "hypercall page written into a table", 0, 13);
    l->msr_writes++;
    l->msr_refused += refused;
}

/* Rewrites c so that it cannot end or wreck us; false: skip it. */
static bool sanitize(struct call *c)
{
    uint64_t *a = c->a;
    unsigned cmd = (unsigned)a[0];

    switch (c->nr) {
    case __HYPERVISOR_iret:
    case __HYPERVISOR_set_callbacks:
    case __HYPERVISOR_kexec_op:
        return false;
    case __HYPERVISOR_set_trap_table:
        a[0] = bad_ptr();
        return true;
    case __HYPERVISOR_callback_op:
        a[1] = bad_ptr();
        return true;
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_sched_op_compat:
        if (cmd < 8 && cmd != SCHEDOP_yield && cmd != SCHEDOP_pin_override)
            a[0] = SCHEDOP_yield;
        if (c->nr == __HYPERVISOR_sched_op_compat && cmd < 8)
            a[0] = SCHEDOP_yield;
        return true;
    case __HYPERVISOR_mmu_update:
        build_mmu(c);
        return true;
    case __HYPERVISOR_mmuext_op:
        build_mmuext(c);
        return true;
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_update_va_mapping_otherdomain:
        a[0] = below(4) ? window_va() : bad_ptr();
        if (below(4) == 0) /* a pool frame: exchange must refuse it now */
            a[1] = (mem_frame() << 12) | (below(2) ? 0x67 : 0x25);
        if (c->nr == __HYPERVISOR_update_va_mapping_otherdomain)
            a[3] = below(2) ? DOMID_SELF : word();
        return true;
    case __HYPERVISOR_multicall:
        build_multicall(c);
        return true;
    case __HYPERVISOR_memory_op:
        if (IN(cmd & 0x3f, XENMEM_increase_reservation, XENMEM_decrease_reservation,
               XENMEM_populate_physmap, XENMEM_exchange))
            return build_memory(c);
        if (IN(cmd & 0x3f, XENMEM_add_to_physmap, XENMEM_remove_from_physmap,
               XENMEM_add_to_physmap_batch, 24 /* claim_pages */, 28 /* acquire_resource */))
            a[0] = XENMEM_current_reservation;
        return true;
    case __HYPERVISOR_event_channel_op:
        if (cmd == EVTCHNOP_init_control || cmd == EVTCHNOP_expand_array)
            a[0] = EVTCHNOP_status;
        return true;
    case __HYPERVISOR_grant_table_op:
        if (cmd == GNTTABOP_transfer)
            a[0] = GNTTABOP_query_size;
        /* Maps, unmaps and copies read from our scratch pages only:
         * thousands of them from whatever memory follows would map over,
         * or copy into, our own kernel (start_info included) as asked. */
        if (IN(cmd, GNTTABOP_map_grant_ref, GNTTABOP_unmap_grant_ref, GNTTABOP_copy,
               GNTTABOP_unmap_and_replace) && (uint32_t)a[2] > 4)
            a[2] = 1 + below(4);
        return true;
    case __HYPERVISOR_vcpu_op:
        /* vCPU 1 may be initialised with garbage, never started on it */
        if (cmd == VCPUOP_up)
            a[0] = VCPUOP_is_up;
        if (!IN(cmd, VCPUOP_is_up, VCPUOP_get_runstate_info, VCPUOP_get_physid,
                VCPUOP_set_periodic_timer, VCPUOP_stop_periodic_timer,
                VCPUOP_set_singleshot_timer, VCPUOP_stop_singleshot_timer)) {
            /* ids are 32 bits: keep the low half away from 0 */
            static const uint64_t ids[] = {1, 2, 63, 4096, 0xffffffff, 0x80000000};
            a[1] = ids[below(6)];
            /* Racing, vCPU 1 runs the fuzzer too: it must not go down, nor
             * move its vcpu_info into a page the fuzzer scribbles on (junk
             * there unmasks events it has no handler state for). */
            if (race && IN(cmd, VCPUOP_down, VCPUOP_register_vcpu_info))
                a[1] = 2;
        }
        return true;
    case __HYPERVISOR_set_debugreg:
        if ((unsigned)a[0] == 7 || (unsigned)a[0] == 5) /* DR5 aliases DR7 */
            a[1] &= ~0x23ffULL; /* no enables, no general detect */
        return true;
    case __HYPERVISOR_physdev_op:
        if (cmd < 64 && !IN(cmd, PHYSDEVOP_irq_status_query, PHYSDEVOP_set_iopl,
                            PHYSDEVOP_set_iobitmap))
            a[0] = PHYSDEVOP_set_iopl;
        return true;
    case __HYPERVISOR_console_io:
        if (cmd == CONSOLEIO_write) {
            a[2] = below(2) ? (uintptr_t)junk : bad_ptr();
            if (a[2] == (uintptr_t)junk)
                a[1] = below(sizeof(junk));
        }
        return true;
    default:
        return true;
    }
}

/* ---- the run */

static long raw_hypercall(const struct call *c)
{
    register uint64_t r10 __asm__("r10") = c->a[3];
    register uint64_t r8 __asm__("r8") = c->a[4];
    uint64_t a1 = c->a[0], a2 = c->a[1], a3 = c->a[2];
    long ret;

    __asm__ volatile("syscall"
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     : "0"(c->nr)
                     : "rcx", "r11", "memory");
    return ret;
}


static uint64_t text_sum(void)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = __kernel_start; p < __rodata_end; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h;
}

/* Histogram: [0] = 0, [1..127] = -errno, [128] = positive, [129] = other. */
static void count(long r)
{
    unsigned *hist = me()->hist;

    if (r == 0)
        hist[0]++;
    else if (r > 0)
        hist[128]++;
    else if (r >= -127)
        hist[-r]++;
    else
        hist[129]++;
}

static const uint64_t out_of_range[] = {
    64, 65, 100, 1000, 0xffffffff, 0x80000000, (1ULL << 32) + __HYPERVISOR_xen_version,
    (1ULL << 32) + __HYPERVISOR_sched_op, ~0ULL,
};

static void fuzz(void)
{
    struct lane *l = me();

    for (unsigned long i = 0; i < ncalls; i++) {
        struct call c;
        l->traps_now = 0;
        unsigned pick = below(70);
        c.nr = pick < 64 ? pick : out_of_range[below(sizeof(out_of_range) / 8)];
        for (unsigned k = 0; k < 5; k++)
            c.a[k] = word();
        /* Most families take a sub-op first: hit the real ones often. */
        if (below(2))
            c.a[0] = below(32);
        fill_scratch();
        if (below(64) == 0) {
            fuzz_hypercall_msr();
            continue;
        }
        if (below(12) == 0) { /* the reservation calls, often */
            c.nr = __HYPERVISOR_memory_op;
            c.a[0] = XENMEM_increase_reservation;
        }
        if (!sanitize(&c))
            continue;
        long r = raw_hypercall(&c);
        l->made++;
        count(r);
        if (c.nr == __HYPERVISOR_memory_op && c.a[1] == (uintptr_t)(c.a[0] == XENMEM_exchange
                                                                     ? (void *)&xchg
                                                                     : (void *)&resv) &&
            !memory_done(&c, r))
            rt_check_failed(__FILE__, __LINE__, "memory_op result", r, 0);
        if (c.nr >= 64 && r != -XEN_ENOSYS)
            rt_check_failed(__FILE__, __LINE__, "unknown hypercall is -ENOSYS", r,
                            -XEN_ENOSYS);
        if (race) /* the other vCPU's calls land in between: only the end counts */
            continue;
        if (c.nr == __HYPERVISOR_update_va_mapping ||
            c.nr == __HYPERVISOR_update_va_mapping_otherdomain)
            windows_changed();
        /* Every frame we hold is accounted for, after every call. */
        if ((unsigned long)reservation() != pool_base + n_pool + n_ghost && !reported_drift++)
            printf("fuzz: reservation %ld, pool says %lu, after call %lu (%lx %lx %lx) = %ld\n",
                   reservation(), pool_base + n_pool + n_ghost, (unsigned long)c.nr,
                   (unsigned long)c.a[0], (unsigned long)c.a[1], (unsigned long)c.a[2], r),
            printf("fuzz:   list %lx %lx %lx %lx; windows %lx %lx %lx %lx; %u ghosts\n",
                   (unsigned long)mem_in[0], (unsigned long)mem_in[1], (unsigned long)mem_in[2],
                   (unsigned long)mem_in[3], (unsigned long)window_map[0],
                   (unsigned long)window_map[1], (unsigned long)window_map[2],
                   (unsigned long)window_map[3], n_ghost);
    }
}

/* The pool, and the frames the hypervisor writes into. */
static void setup_pool(void)
{
    xen_pfn_t fresh[32] = {0};
    struct xen_memory_reservation r = {.nr_extents = 32, .domid = DOMID_SELF};
    xen_pfn_t gframe = 0;
    struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};

    set_xen_guest_handle(r.extent_start, fresh);
    pool_base = (unsigned long)reservation();
    CHECK(HYPERVISOR_memory_op(XENMEM_increase_reservation, &r) == 32);
    for (unsigned i = 0; i < 32; i++)
        pool_add(fresh[i]);
    set_xen_guest_handle(st.frame_list, &gframe);
    CHECK(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1) == 0);
    grant_mfn = gframe;
    shinfo_mfn = rt_start_info->shared_info >> 12;
}

/* Everything back as it was: pins off, windows unmapped, the pool given
 * back (the reservation must then be what it was before). */
static void give_back_pool(void)
{
    unsigned lost = 0;

    for (unsigned round = 0; round < 4; round++)
        for (unsigned i = 0; i < n_pool; i++) {
            struct mmuext_op op = {.cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = pool[i]};
            hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
        }
    for (unsigned i = 0; i < NWINDOW; i++)
        HYPERVISOR_update_va_mapping((uintptr_t)window[i], 0, UVMF_INVLPG);
    /* Our scratch L1 may map pool frames: clear it (still pinned). */
    for (unsigned i = 0; i < 512; i++) {
        struct mmu_update u = {.ptr = (l1_mfn << 12) + 8 * i, .val = 0};
        hypercall4(__HYPERVISOR_mmu_update, &u, 1, NULL, DOMID_SELF);
    }
    while (n_pool) {
        struct xen_memory_reservation r = {.nr_extents = 1, .domid = DOMID_SELF};
        set_xen_guest_handle(r.extent_start, &pool[n_pool - 1]);
        if (HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r) != 1) {
            printf("fuzz: pool frame %lx could not be given back\n",
                   (unsigned long)pool[n_pool - 1]);
            lost++;
        }
        n_pool--;
    }
    EXPECT_EQ(lost, 0);
}

static void setup_scratch_l1(void)
{
    for (unsigned i = 0; i < NSCRATCH; i++)
        scratch_mfn[i] = rt_virt_to_mfn(scratch[i]);
    n_pt = rt_start_info->nr_pt_frames < 8 ? rt_start_info->nr_pt_frames : 8;
    for (unsigned i = 0; i < n_pt; i++)
        pt_mfn[i] = rt_virt_to_mfn((void *)(rt_start_info->pt_base + 4096UL * i));
    l1_mfn = rt_virt_to_mfn(scratch_l1);
    memset(scratch_l1, 0, sizeof(scratch_l1));
    /* Read-only, then pinned: an L1 of our own that nothing walks. */
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)scratch_l1, (l1_mfn << 12) | 0x25,
                                       UVMF_INVLPG) == 0);
    struct mmuext_op pin = {.cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = l1_mfn};
    CHECK(hypercall4(__HYPERVISOR_mmuext_op, &pin, 1, NULL, DOMID_SELF) == 0);
}

struct known {
    long version, reservation;
};

static struct known known_answers(void)
{
    domid_t self = DOMID_SELF;
    struct known k = {
        .version = HYPERVISOR_xen_version(XENVER_version, NULL),
        .reservation = HYPERVISOR_memory_op(XENMEM_current_reservation, &self),
    };
    return k;
}

static void check_after(const struct known *before, uint64_t sum)
{
    HYPERVISOR_fpu_taskswitch(0);
    EXPECT_EQ(text_sum() == sum, 1);
    static const char ok[] = "\nfuzz: console still works\n";
    /* A domU's console is its ring: console_io is dom0's (release Xen). */
    EXPECT_EQ(HYPERVISOR_console_io(CONSOLEIO_write, sizeof(ok) - 1, ok),
              rt_start_info->flags & SIF_INITDOMAIN ? 0 : -XEN_EPERM);
    struct known now = known_answers();
    EXPECT_EQ(now.version, before->version);
    EXPECT_EQ(now.reservation, before->reservation);
    EXPECT_EQ(HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    EXPECT_EQ(hypercall0(64), -XEN_ENOSYS);
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0);
    struct evtchn_close cl = {.port = au.port};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl), 0);
    /* Our scratch L1 is still ours to unpin. */
    struct mmuext_op op = {.cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = l1_mfn};
    long r = hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
    printf("fuzz: unpin scratch L1 = %ld\n", r);
}

/* ---- racing (FUZZ_RACE): vCPU 1 runs the fuzzer beside vCPU 0 */

static char stack1[16384] __attribute__((aligned(16)));
static volatile unsigned go, done1;
static struct vcpu_guest_context ctxt1;
extern char rt_event_entry[], rt_failsafe_entry[];

/* What a vCPU (not the domain) may hold on pool frames: its user page-table
 * root and its LDT. */
static void drop_vcpu_refs(void)
{
    struct mmuext_op drop[2] = {{.cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = 0},
                                {.cmd = MMUEXT_SET_LDT, .arg1.linear_addr = 0}};
    hypercall4(__HYPERVISOR_mmuext_op, drop, 2, NULL, DOMID_SELF);
}

static void yield(void) { rt_hypercall_raw(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0); }

void fuzz_secondary(void);
void fuzz_secondary(void)
{
    rt_install_traps(); /* trap tables are per vCPU */
    while (!go)
        yield();
    fuzz();
    drop_vcpu_refs();
    done1 = 1;
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, 1, NULL);
}

/* vCPU 1 with a stack of its own and our page tables; its events stay
 * masked (it has no handler state of its own), traps are its own. */
static void start_second(void)
{
    shared_info_t *s = rt_shared_info();

    s->vcpu_info[1].evtchn_upcall_mask = 1;
    ctxt1.flags = VGCF_in_kernel;
    ctxt1.user_regs.rip = (uintptr_t)fuzz_secondary;
    ctxt1.user_regs.rsp = (uintptr_t)(stack1 + sizeof(stack1) - 8);
    ctxt1.user_regs.cs = FLAT_KERNEL_CS;
    ctxt1.user_regs.ss = FLAT_KERNEL_SS;
    ctxt1.user_regs.rflags = 0x202;
    ctxt1.kernel_ss = FLAT_KERNEL_SS;
    ctxt1.kernel_sp = (uintptr_t)(stack1 + sizeof(stack1));
    ctxt1.ctrlreg[3] = xen_pfn_to_cr3(rt_virt_to_mfn((void *)rt_start_info->pt_base));
    ctxt1.event_callback_eip = (uintptr_t)rt_event_entry;
    ctxt1.failsafe_callback_eip = (uintptr_t)rt_failsafe_entry;
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_initialise, 1, &ctxt1) == 0);
    CHECK(HYPERVISOR_vcpu_op(VCPUOP_up, 1, NULL) == 0);
}

static void wait_second(void)
{
    while (!done1 || HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL) != 0)
        yield();
}

static bool is_grant_frame(uint64_t mfn, const xen_pfn_t *frames, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (frames[i] == mfn)
            return true;
    return false;
}

static long give_one(uint64_t mfn)
{
    struct xen_memory_reservation r = {.nr_extents = 1, .domid = DOMID_SELF};
    set_xen_guest_handle(r.extent_start, &mfn);
    return HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
}

/*
 * After the race: whatever the bookkeeping says, give back every frame we
 * may still own.  Each frame that is still ours must be writable again
 * (no pin, no table type left behind) before it goes back.
 */
static void give_back_all(void)
{
    unsigned back = 0, gone = 0, stuck = 0, swept = 0;
    struct gnttab_query_size qs = {.dom = DOMID_SELF};
    xen_pfn_t gframes[64];
    struct gnttab_setup_table st = {.dom = DOMID_SELF};
    struct gnttab_set_version v1 = {.version = 1};

    drop_vcpu_refs();
    for (unsigned round = 0; round < 4; round++)
        for (unsigned h = 0; h < NSEEN; h++)
            if (seen[h]) {
                struct mmuext_op op = {.cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = seen[h]};
                hypercall4(__HYPERVISOR_mmuext_op, &op, 1, NULL, DOMID_SELF);
            }
    for (unsigned i = 0; i < NWINDOW; i++)
        HYPERVISOR_update_va_mapping((uintptr_t)window[i], 0, UVMF_INVLPG);
    for (unsigned i = 0; i < 512; i++) {
        struct mmu_update u = {.ptr = (l1_mfn << 12) + 8 * i, .val = 0};
        hypercall4(__HYPERVISOR_mmu_update, &u, 1, NULL, DOMID_SELF);
    }
    /* Grant state back to one v1 table: no status frames; and never give
     * back a grant frame (a frame given back may come back as one). */
    EXPECT_EQ(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, &v1, 1), 0);
    EXPECT_EQ(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, &qs, 1), 0);
    st.nr_frames = qs.nr_frames < 64 ? qs.nr_frames : 64;
    set_xen_guest_handle(st.frame_list, gframes);
    EXPECT_EQ(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);

    /* The pool first (each frame once), then, if the reservation is still
     * above what it was, every frame the pool ever held. */
    for (unsigned pass = 0; pass < 2; pass++) {
        if (pass && (unsigned long)reservation() == pool_base)
            break;
        for (unsigned i = 0; i < (pass ? NSEEN : n_pool); i++) {
            uint64_t mfn = pass ? seen[i] : pool[i];
            if (!mfn || mfn == shinfo_mfn || is_grant_frame(mfn, gframes, st.nr_frames))
                continue;
            if (!pass && in_list(mfn, pool, i))
                continue;
            long m = HYPERVISOR_update_va_mapping((uintptr_t)window[0], (mfn << 12) | 0x67,
                                                  UVMF_INVLPG);
            if (m == 0)
                HYPERVISOR_update_va_mapping((uintptr_t)window[0], 0, UVMF_INVLPG);
            long r = give_one(mfn);
            if (r == 1 && m != 0) {
                printf("fuzz: frame %lx was ours but not mappable writable (%ld)\n",
                       (unsigned long)mfn, m);
                stuck++;
            }
            back += r == 1 && !pass;
            swept += r == 1 && pass;
            gone += r != 1 && !pass;
        }
    }
    printf("fuzz: end: %u pool frames given back, %u already gone, %u found by the sweep "
           "(%u frames seen), %u unmatched releases\n", back, gone, swept, n_seen, races);
    n_pool = 0;
    EXPECT_EQ(stuck, 0);
    EXPECT_EQ(reservation(), pool_base);
}

/* Every event channel closed: the lowest port is free again. */
static void close_all_ports(void)
{
    for (unsigned p = 1; p < 1024; p++) {
        struct evtchn_close cl = {.port = p};
        rt_hypercall_raw(__HYPERVISOR_event_channel_op, EVTCHNOP_close, (uintptr_t)&cl, 0, 0,
                         0);
    }
    for (unsigned p = 1; p < 64; p++) {
        struct evtchn_status st = {.dom = DOMID_SELF, .port = p};
        EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_status, &st), 0);
        if (st.status != EVTCHNSTAT_closed)
            printf("fuzz: port %u still in state %u\n", p, st.status);
        EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    }
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = DOMID_SELF};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), 0);
    EXPECT_EQ(au.port, 1);
    struct evtchn_close cl = {.port = au.port};
    EXPECT_EQ(HYPERVISOR_event_channel_op(EVTCHNOP_close, &cl), 0);
}

/* "seed=<n> calls=<n>" on the guest command line (decimal or 0x hex). */
static void parse_cmdline(const char *p)
{
    for (; *p; p++) {
        unsigned long long *dst = NULL, v = 0;
        unsigned long long s64 = seed, c64 = ncalls;
        if (!memcmp(p, "seed=", 5))
            dst = &s64, p += 5;
        else if (!memcmp(p, "calls=", 6))
            dst = &c64, p += 6;
        else
            continue;
        unsigned base = p[0] == '0' && p[1] == 'x' ? 16 : 10;
        p += base == 16 ? 2 : 0;
        for (; *p && *p != ' '; p++)
            v = v * base + (unsigned)(*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
        *dst = v;
        seed = s64;
        ncalls = (unsigned long)c64;
        if (!*p)
            break;
    }
}

static void print_stats(void)
{
    unsigned hist[130] = {0}, traps = 0, msr = 0, refused = 0, calls = 0, changed = 0;
    unsigned long made = 0;

    for (unsigned i = 0; i < 2; i++) {
        for (unsigned e = 0; e < 130; e++)
            hist[e] += lanes[i].hist[e];
        traps += lanes[i].traps_taken;
        msr += lanes[i].msr_writes;
        refused += lanes[i].msr_refused;
        calls += lanes[i].mem_calls;
        changed += lanes[i].mem_changed;
        made += lanes[i].made;
    }
    printf("fuzz: hypercall-page MSR written %u times, %u refused\n", msr, refused);
    printf("fuzz: %u reservation/exchange calls, %u changed the pool (%u frames now)\n",
           calls, changed, n_pool);
    printf("fuzz: %lu calls", made);
    if (race)
        printf(" (vCPU 0: %lu, vCPU 1: %lu)", lanes[0].made, lanes[1].made);
    printf("; return codes:");
    if (hist[0])
        printf(" 0:%u", hist[0]);
    for (unsigned e = 1; e < 128; e++)
        if (hist[e])
            printf(" -%u:%u", e, hist[e]);
    if (hist[128])
        printf(" >0:%u", hist[128]);
    if (hist[129])
        printf(" other:%u", hist[129]);
    printf("\nfuzz: traps taken %u\n", traps);
}

/* Memory of ours no call may touch: a page of known contents. */
static uint64_t canary[512];

static bool canary_intact(uint64_t tag)
{
    bool ok = true;
    for (unsigned i = 0; i < 512; i++)
        ok &= canary[i] == (tag ^ (i * 0x9e3779b97f4a7c15ULL));
    return ok;
}

void test_main(start_info_t *si)
{
    parse_cmdline((const char *)si->cmd_line);
    lanes[0].rng = seed;
    lanes[1].rng = (seed ^ 0xa5a5a5a55a5a5a5aULL) * 0x2545f4914f6cdd1dULL | 1;
    for (unsigned i = 0; i < 512; i++)
        canary[i] = seed ^ (i * 0x9e3779b97f4a7c15ULL);
    rt_install_traps();
    rt_install_events();
    rt_trap_hook = trap_hook;
#ifdef FUZZ_DOMU
    foreign_probes();
#endif
    setup_scratch_l1();
    uint64_t sum = text_sum();
    struct known before = known_answers();
    setup_pool();
    printf("fuzz: seed 0x%llx, %lu rounds%s, text checksum %lx\n", (unsigned long long)seed,
           ncalls, race ? " on each of vCPUs 0 and 1 at once" : "", (unsigned long)sum);
    uint64_t t0 = rt_system_time();
    if (race) {
        start_second();
        go = 1;
    }
    fuzz();
    if (race)
        wait_second();
    uint64_t ms = (rt_system_time() - t0) / 1000000;
    if (race) {
        print_stats();
        printf("fuzz: %lu calls in %lu ms\n", lanes[0].made + lanes[1].made, (unsigned long)ms);
        give_back_all();
        close_all_ports();
        check_after(&before, sum);
    } else {
        print_stats();
        EXPECT_EQ(reported_drift, 0);
        give_back_pool();
        check_after(&before, sum);
    }
    EXPECT(canary_intact(seed));
    test_verdict(rt_failures == 0, "%u soft checks failed", rt_failures);
}
