/* The smallest PV guest: one console line through console_io, then PASS. */
#include <rt.h>

void test_main(start_info_t *si)
{
    printf("hello from a PV guest\n");
    CHECK(si != NULL);
    /* Xen writes "xen-3.0-x86_64" (+ "p" for PAE) here; Keel must too. */
    CHECK(!memcmp(si->magic, "xen-3.0-x86_64", 14));
    CHECK(si->nr_pages > 0);
}
