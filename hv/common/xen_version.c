/*
 * xen_version: who the hypervisor claims to be and what it offers.  Keel
 * answers as the Xen release whose interface it implements (keel/version.h),
 * because guests key behaviour off the number, and reports in the feature
 * submap only what it really does.
 */
#include <asm/hvm.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/guest_access.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/version.h>
#include <xen/features.h>
#include <xen/version.h>

static long xenver_copy_string(unsigned long arg, const char *s, size_t size);
static long xenver_compile_info(unsigned long arg);
static long xenver_get_features(const struct domain *d, unsigned long arg);

long do_xen_version(struct hcall *h)
{
    const struct domain *d = current->domain;
    unsigned long arg = h->arg[1];

    /* Xen takes the sub-op as an int: the upper half of the word is noise. */
    switch ((unsigned int)h->arg[0]) {
    case XENVER_version:
        return (KEEL_XEN_MAJOR << 16) | KEEL_XEN_MINOR;
    case XENVER_extraversion:
        return xenver_copy_string(arg, KEEL_XEN_EXTRAVERSION, sizeof(xen_extraversion_t));
    case XENVER_compile_info:
        return xenver_compile_info(arg);
    case XENVER_capabilities:
        /* 64-bit PV guests, and HVM ones when the machine can run them. */
        return xenver_copy_string(arg, hvm_available() ? "xen-3.0-x86_64 hvm-3.0-x86_32 "
                                                         "hvm-3.0-x86_32p hvm-3.0-x86_64"
                                                       : "xen-3.0-x86_64",
                                  sizeof(xen_capabilities_info_t));
    case XENVER_changeset:
        return xenver_copy_string(arg, "keel " KEEL_VERSION_STRING,
                                  sizeof(xen_changeset_info_t));
    case XENVER_platform_parameters: {
        xen_platform_parameters_t p = {.virt_start = HYPERVISOR_VIRT_START};
        return copy_to_guest_obj(arg, &p);
    }
    case XENVER_get_features:
        return xenver_get_features(d, arg);
    case XENVER_pagesize:
        return PAGE_SIZE;
    case XENVER_guest_handle:
        /* The toolstack's UUID (createdomain, setdomainhandle); dom0's is 0. */
        return copy_to_guest(arg, d->handle, sizeof(d->handle));
    case XENVER_commandline:
        /* Keel's command line may name devices and memory: dom0's business. */
        if (!d->is_privileged)
            return -XEN_EPERM;
        return xenver_copy_string(arg, boot_cmdline_args(&boot_info, boot_info.cmdline),
                                  sizeof(xen_commandline_t));
    case XENVER_build_id:
        return -XEN_ENODATA; /* Keel is not linked with a build id */
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * Feature submap 0 as Keel really provides it.  Xen also sets highmem_assist
 * (MMUEXT_{CLEAR,COPY}_PAGE) and memory_op_vnode_supported (vNUMA queries):
 * Keel implements neither, so it does not claim them.  writable_page_tables
 * and auto_translated_physmap belong to translated guests only.
 */
static u32 pv_guest_features(bool privileged, unsigned int idx)
{
    u32 f;

    if (idx != 0)
        return 0;
    f = (1U << XENFEAT_mmu_pt_update_preserve_ad) | /* MMU_PT_UPDATE_PRESERVE_AD */
        (1U << XENFEAT_gnttab_map_avail_bits) |     /* Linux refuses to boot without */
        (1U << XENFEAT_direct_mapped);              /* PV: guest frames are machine frames */
    if (privileged)
        f |= 1U << XENFEAT_dom0;
    return f;
}

/* A translated guest with the event callback as an interrupt vector and
 * pvclock that is safe to read from its own vCPU (Xen's HVM set, without
 * the PIRQ and vNUMA ones Keel does not offer). */
static u32 hvm_guest_features(bool privileged, unsigned int idx)
{
    u32 f;

    if (idx != 0)
        return 0;
    f = (1U << XENFEAT_writable_page_tables) | (1U << XENFEAT_auto_translated_physmap) |
        (1U << XENFEAT_hvm_safe_pvclock) | (1U << XENFEAT_hvm_callback_vector) |
        (1U << XENFEAT_not_direct_mapped);
    if (privileged)
        f |= 1U << XENFEAT_dom0;
    return f;
}

static long xenver_get_features(const struct domain *d, unsigned long arg)
{
    xen_feature_info_t fi;

    if (copy_from_guest_obj(&fi, arg))
        return -XEN_EFAULT;
    if (fi.submap_idx >= XENFEAT_NR_SUBMAPS)
        return -XEN_EINVAL;
    fi.submap = is_hvm_domain(d) ? hvm_guest_features(d->is_privileged, fi.submap_idx)
                                 : pv_guest_features(d->is_privileged, fi.submap_idx);
    return copy_to_guest_obj(arg, &fi);
}

/* s into a fixed-size buffer, truncated and NUL-padded. */
static void fill_string(char *dst, const char *s, size_t size)
{
    size_t n = strnlen(s, size - 1);

    memset(dst, 0, size);
    memcpy(dst, s, n);
}

/* Xen's string sub-ops always write the whole fixed-size buffer. */
static long xenver_copy_string(unsigned long arg, const char *s, size_t size)
{
    char buf[sizeof(xen_commandline_t)];

    BUG_ON(size > sizeof(buf));
    fill_string(buf, s, size);
    return copy_to_guest(arg, buf, size);
}

static long xenver_compile_info(unsigned long arg)
{
    xen_compile_info_t ci;

    memset(&ci, 0, sizeof(ci));
    fill_string(ci.compiler, "gcc " __VERSION__, sizeof(ci.compiler));
    fill_string(ci.compile_by, "keel", sizeof(ci.compile_by));
    fill_string(ci.compile_domain, "", sizeof(ci.compile_domain));
    /* No build date: builds stay reproducible. */
    fill_string(ci.compile_date, "keel " KEEL_VERSION_STRING, sizeof(ci.compile_date));
    return copy_to_guest_obj(arg, &ci);
}
