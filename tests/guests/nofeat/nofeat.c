/*
 * A kernel whose notes have no SUPPORTED_FEATURES (built with
 * -DRT_NO_SUPPORTED_FEATURES): Xen checks XENFEAT_dom0 only when that note
 * is there, so older kernels and unikernels boot as dom0.  Reaching
 * test_main is most of the test; the domain is then told it is dom0.
 */
#include <rt.h>
#include <xen/features.h>

void test_main(start_info_t *si)
{
    xen_feature_info_t fi = {.submap_idx = 0};

    EXPECT(si->flags & SIF_INITDOMAIN);
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
    printf("nofeat: features 0x%x\n", fi.submap);
    EXPECT(fi.submap & (1U << XENFEAT_dom0));
}
