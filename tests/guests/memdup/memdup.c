/*
 * Repeated and overlapping inputs to the memory operations that take lists
 * of frames (issue 10, finding 4: an XENMEM_exchange naming one frame twice
 * freed it twice and stopped the hypervisor).  Xen 4.17 refuses such an
 * exchange with -EINVAL and changes nothing; a reservation call stops at
 * the first extent it cannot do and says how many it did.
 */
#include <rt.h>

static long mem(unsigned long cmd, void *arg)
{
    return HYPERVISOR_memory_op(cmd, arg);
}

static long reservation(unsigned long cmd, xen_pfn_t *list, unsigned long n, unsigned order)
{
    struct xen_memory_reservation r = {.nr_extents = n, .extent_order = order,
                                       .domid = DOMID_SELF};
    set_xen_guest_handle(r.extent_start, list);
    return mem(cmd, &r);
}

static long cur(void)
{
    domid_t self = DOMID_SELF;
    return mem(XENMEM_current_reservation, &self);
}

static long exchange(xen_pfn_t *in, unsigned long n_in, unsigned in_order, xen_pfn_t *out,
                     unsigned long n_out, unsigned out_order, xen_ulong_t *done)
{
    struct xen_memory_exchange x = {
        .in = {.nr_extents = n_in, .extent_order = in_order, .domid = DOMID_SELF},
        .out = {.nr_extents = n_out, .extent_order = out_order,
                .mem_flags = XENMEMF_address_bits(32), .domid = DOMID_SELF},
    };
    long rc;

    set_xen_guest_handle(x.in.extent_start, in);
    set_xen_guest_handle(x.out.extent_start, out);
    rc = mem(XENMEM_exchange, &x);
    *done = x.nr_exchanged;
    return rc;
}

/* Fresh unmapped frames of ours (one extent of 2^order). */
static xen_pfn_t fresh(unsigned order)
{
    xen_pfn_t x = 0;
    CHECK(reservation(XENMEM_increase_reservation, &x, 1, order) == 1);
    return x;
}

static void exchange_repeats(void)
{
    long before = cur();
    xen_pfn_t a = fresh(0), b = fresh(0), out[4];
    xen_ulong_t done = 99;
    long r;

    /* One frame twice, for one extent of two. */
    xen_pfn_t twice[2] = {a, a};
    out[0] = 0x7ff00;
    r = exchange(twice, 2, 0, out, 1, 1, &done);
    printf("memdup: exchange [a, a] -> 1 x order 1 = %ld, done %lu\n", r, (unsigned long)done);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(done, 0);
    EXPECT_EQ(cur(), before + 2);

    /* Repeated with a distinct frame in between. */
    xen_pfn_t thrice[4] = {a, b, a, b};
    out[0] = 0x7ff00;
    r = exchange(thrice, 4, 0, out, 1, 2, &done);
    printf("memdup: exchange [a, b, a, b] -> 1 x order 2 = %ld, done %lu\n", r,
           (unsigned long)done);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(done, 0);
    EXPECT_EQ(cur(), before + 2);

    /* Both frames are still ours and still whole: an honest exchange works. */
    xen_pfn_t pair[2] = {a, b};
    out[0] = 0x7ff00;
    r = exchange(pair, 2, 0, out, 1, 1, &done);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(done, 2);
    EXPECT_EQ(cur(), before + 2);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, out, 1, 1), 1);
    EXPECT_EQ(cur(), before);
}

/* Extents of two frames that overlap by one: frame a+1 is named twice. */
static void exchange_overlap(void)
{
    long before = cur();
    xen_pfn_t base = fresh(2), out[1] = {0x7ff00};
    xen_pfn_t ext[2] = {base, base + 1};
    xen_ulong_t done = 99;

    long r = exchange(ext, 2, 1, out, 1, 2, &done);
    printf("memdup: exchange overlapping order-1 extents = %ld, done %lu\n", r,
           (unsigned long)done);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(done, 0);
    EXPECT_EQ(cur(), before + 4);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, &base, 1, 2), 1);
    EXPECT_EQ(cur(), before);
}

/* decrease_reservation: the first copy goes, the repeat is where it stops. */
static void decrease_repeats(void)
{
    long before = cur();
    xen_pfn_t a = fresh(0), b = fresh(0);
    xen_pfn_t list[3] = {a, a, b};

    long r = reservation(XENMEM_decrease_reservation, list, 3, 0);
    printf("memdup: decrease [a, a, b] = %ld\n", r);
    EXPECT_EQ(r, 1);
    EXPECT_EQ(cur(), before + 1);
    list[0] = b;
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, list, 1, 0), 1);
    EXPECT_EQ(cur(), before);

    /* Overlapping order-1 extents: the second one is half gone. */
    xen_pfn_t base = fresh(2);
    xen_pfn_t ext[2] = {base, base + 1};
    r = reservation(XENMEM_decrease_reservation, ext, 2, 1);
    printf("memdup: decrease overlapping order-1 extents = %ld\n", r);
    EXPECT_EQ(r, 1);
    EXPECT_EQ(cur(), before + 2);
    ext[0] = base + 2;
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, ext, 1, 1), 1);
    EXPECT_EQ(cur(), before);
}

/* populate_physmap may name one pfn twice: each extent is a new frame. */
static void populate_repeats(void)
{
    long before = cur();
    xen_pfn_t list[2] = {0x7fe00, 0x7fe00};

    EXPECT_EQ(reservation(XENMEM_populate_physmap, list, 2, 0), 2);
    EXPECT(list[0] != list[1]);
    EXPECT_EQ(cur(), before + 2);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, list, 2, 0), 2);
    EXPECT_EQ(cur(), before);
}

/* Other lists of frames: a GDT naming one frame twice holds it twice and
 * lets go of it twice; pinning it twice is refused the second time. */
static char gdt_page[4096] __attribute__((aligned(4096)));

static void other_lists(void)
{
    uint64_t mfn = rt_virt_to_mfn(gdt_page);
    unsigned long frames[2] = {mfn, mfn};
    struct mmuext_op pin = {.cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = mfn};

    memset(gdt_page, 0, sizeof(gdt_page));
    CHECK(HYPERVISOR_update_va_mapping((uintptr_t)gdt_page, (mfn << 12) | 0x25,
                                       UVMF_INVLPG) == 0);
    long r = hypercall2(__HYPERVISOR_set_gdt, frames, 1024);
    printf("memdup: set_gdt [f, f] = %ld\n", r);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(hypercall2(__HYPERVISOR_set_gdt, frames, 0), 0);
    /* Both references gone: it can be a table now, once. */
    struct mmuext_op two[2] = {pin, pin};
    unsigned done = 99;
    r = hypercall4(__HYPERVISOR_mmuext_op, two, 2, &done, DOMID_SELF);
    printf("memdup: pin, pin = %ld (done %u)\n", r, done);
    EXPECT_EQ(r, -XEN_EINVAL);
    EXPECT_EQ(done, 1);
    pin.cmd = MMUEXT_UNPIN_TABLE;
    EXPECT_EQ(hypercall4(__HYPERVISOR_mmuext_op, &pin, 1, NULL, DOMID_SELF), 0);
    EXPECT_EQ(HYPERVISOR_update_va_mapping((uintptr_t)gdt_page, (mfn << 12) | 0x67,
                                           UVMF_INVLPG), 0);
}

void test_main(start_info_t *si)
{
    (void)si;
    rt_install_traps();
    other_lists();
    exchange_repeats();
    exchange_overlap();
    decrease_repeats();
    populate_repeats();
    test_verdict(rt_failures == 0, "%u check(s) failed", rt_failures);
}
