/*
 * A guest that asks for a hypercall page (HYPERCALL_PAGE note) and makes
 * every hypercall through it, as pre-2024 Linux did.
 */
#include <rt.h>
#include <xen/version.h>

void test_main(start_info_t *si)
{
    (void)si;
    /* The runtime fills the page with int3; the hypervisor must replace
     * at least the stubs we use. */
    CHECK((unsigned char)hypercall_page[__HYPERVISOR_console_io * 32] != 0xcc);
    CHECK((unsigned char)hypercall_page[__HYPERVISOR_xen_version * 32] != 0xcc);
    printf("hypercalls through the hypercall page\n");
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);
    CHECK(v >= 0);
    printf("xen_version: %ld.%ld\n", v >> 16, v & 0xffff);
}
