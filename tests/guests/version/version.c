/*
 * xen_version: every sub-op a PV kernel uses, their buffers, and unknown
 * sub-ops.  Linux panics unless get_features reports
 * XENFEAT_mmu_pt_update_preserve_ad and XENFEAT_gnttab_map_avail_bits.
 */
#include <rt.h>
#include <xen/features.h>

static bool has_nul(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i])
            return true;
    return false;
}

static bool contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!memcmp(hay, needle, n))
            return true;
    return false;
}

void test_main(start_info_t *si)
{
    (void)si;

    /* XENVER_version: (major << 16) | minor.  Xen 4.17 says 0x40011;
     * Keel reports its own version, but it must look like a Xen >= 4. */
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);
    printf("version: %ld.%ld\n", v >> 16, v & 0xffff);
    EXPECT(v >= 0x40000);
    /* The argument is ignored for XENVER_version. */
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_version, (void *)1), v);

    xen_extraversion_t extra;
    memset(extra, 0x55, sizeof(extra));
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_extraversion, extra), 0);
    EXPECT(has_nul(extra, sizeof(extra)));
    printf("version: extraversion \"%s\"\n", has_nul(extra, sizeof(extra)) ? extra : "?");

    xen_compile_info_t ci;
    memset(&ci, 0x55, sizeof(ci));
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_compile_info, &ci), 0);
    EXPECT(has_nul(ci.compiler, sizeof(ci.compiler)));
    EXPECT(has_nul(ci.compile_date, sizeof(ci.compile_date)));

    xen_capabilities_info_t caps;
    memset(caps, 0x55, sizeof(caps));
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_capabilities, caps), 0);
    EXPECT(has_nul(caps, sizeof(caps)));
    if (has_nul(caps, sizeof(caps))) {
        printf("version: capabilities \"%s\"\n", caps);
        EXPECT(contains(caps, "xen-3.0-x86_64"));
    }

    xen_changeset_info_t cs;
    memset(cs, 0x55, sizeof(cs));
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_changeset, cs), 0);
    EXPECT(has_nul(cs, sizeof(cs)));

    xen_platform_parameters_t pp = {0};
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_platform_parameters, &pp), 0);
    EXPECT_EQ(pp.virt_start, 0xffff800000000000UL);

    xen_feature_info_t fi = {.submap_idx = 0, .submap = 0};
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_get_features, &fi), 0);
    printf("version: features[0] = 0x%x\n", fi.submap);
    EXPECT(fi.submap & (1u << XENFEAT_mmu_pt_update_preserve_ad));
    EXPECT(fi.submap & (1u << XENFEAT_gnttab_map_avail_bits));
    EXPECT(fi.submap & (1u << XENFEAT_dom0));
    /* Only translated guests get writable_page_tables. */
    EXPECT(!(fi.submap & (1u << XENFEAT_writable_page_tables)));
    EXPECT(!(fi.submap & (1u << XENFEAT_auto_translated_physmap)));
    /* Later submaps exist (and are empty) or are refused; either way the
     * call must not fail with a fault. */
    fi.submap_idx = 1;
    fi.submap = 0xdead;
    long r = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    EXPECT(r == 0 || r == -XEN_EINVAL);
    if (r == 0)
        EXPECT_EQ(fi.submap, 0);
    fi.submap_idx = 0xffffffff;
    r = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    EXPECT(r == 0 || r == -XEN_EINVAL);

    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);

    xen_domain_handle_t h;
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_guest_handle, h), 0);

    /* Bad buffers fault cleanly. */
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_extraversion, NULL), -XEN_EFAULT);
    EXPECT_EQ(HYPERVISOR_xen_version(XENVER_get_features, NULL), -XEN_EFAULT);

    /* Unknown sub-ops. */
    EXPECT_EQ(HYPERVISOR_xen_version(100, NULL), -XEN_ENOSYS);
    EXPECT_EQ(HYPERVISOR_xen_version(-1, NULL), -XEN_ENOSYS);
}
