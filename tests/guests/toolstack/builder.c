/*
 * A 64-bit PV domain builder, doing what libxenguest does for a small
 * kernel, with every domU frame reached through a foreign mapping:
 *
 *   pfn 0 ..          (unused low memory, as for Linux)
 *   0x100 .. kend     the kernel image (linked at VIRT_BASE + 1 MiB)
 *   kend ..           p2m list (2 pages), start_info, console page,
 *                     xenstore page, page tables (L4, L3, L2, 2 x L1),
 *                     boot stack
 *
 * Every frame is mapped at VIRT_BASE + pfn * 4 KiB with 4 KiB pages;
 * page-table frames read-only.  The tables are written while they are
 * ordinary frames, unmapped from dom0, then pinned as an L4 on the domU's
 * behalf (MMUEXT_PIN_L4_TABLE with foreigndom).
 */
#include "toolstack.h"

extern const uint8_t domu_elf[], domu_elf_end[];

/* The ELF64 structures the loader reads (just the fields it needs). */
struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PG_RW 0x67UL /* present, RW, user, accessed, dirty */
#define PG_RO 0x25UL /* present, user, accessed */

static uint64_t pfn_of(uint64_t va)
{
    return (va - VIRT_BASE) >> 12;
}

/* Copy len bytes (NULL src: zeros) to the domU at its pfn/offset. */
static int put_bytes(struct domu_image *im, uint64_t pfn, uint64_t off, const uint8_t *src,
                     uint64_t len)
{
    while (len) {
        uint64_t n = MIN(len, 4096 - off);
        uint8_t *p;
        long rc;

        if (pfn >= DOMU_PAGES)
            return -XEN_EINVAL;
        rc = map_foreign(0, im->mfn[pfn], im->domid, (void **)&p);
        if (rc)
            return (int)rc;
        if (src)
            memcpy(p + off, src, n);
        else
            memset(p + off, 0, n);
        src = src ? src + n : NULL;
        len -= n;
        off = 0;
        pfn++;
    }
    return 0;
}

int build_load_kernel(struct domu_image *im, const char **why)
{
    const struct ehdr *eh = (const void *)domu_elf;
    uint64_t size = (uint64_t)(domu_elf_end - domu_elf), end = 0;

    *why = "not an x86-64 ELF executable";
    if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) || eh->ident[4] != 2 ||
        eh->machine != 62 || eh->phoff + (uint64_t)eh->phnum * sizeof(struct phdr) > size)
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < eh->phnum; i++) {
        const struct phdr *ph = (const void *)(domu_elf + eh->phoff + i * sizeof(*ph));
        int rc;

        if (ph->type != PT_LOAD)
            continue;
        *why = "segment outside the image or the domain";
        if (ph->offset + ph->filesz > size || ph->vaddr < VIRT_BASE + 0x100000 ||
            pfn_of(ph->vaddr + ph->memsz) >= DOMU_PAGES / 2)
            return -XEN_EINVAL;
        *why = "copying a segment into the domU";
        rc = put_bytes(im, pfn_of(ph->vaddr), ph->vaddr & 4095, domu_elf + ph->offset,
                       ph->filesz);
        if (!rc)
            rc = put_bytes(im, pfn_of(ph->vaddr + ph->filesz), (ph->vaddr + ph->filesz) & 4095,
                           NULL, ph->memsz - ph->filesz);
        if (rc)
            return rc;
        end = MAX(end, ph->vaddr + ph->memsz);
    }
    im->entry = eh->entry;
    im->kernel_end_pfn = pfn_of(end + 4095);
    im->p2m_pfn = im->kernel_end_pfn;
    im->si_pfn = im->p2m_pfn + DOMU_PAGES * 8 / 4096;
    im->console_pfn = im->si_pfn + 1;
    im->store_pfn = im->console_pfn + 1;
    im->pt_pfn = im->store_pfn + 1;
    im->nr_pt = 5;
    im->stack_pfn = im->pt_pfn + im->nr_pt;
    *why = "layout does not fit";
    if (im->stack_pfn >= DOMU_PAGES)
        return -XEN_EINVAL;
    /* The pages the kernel expects zeroed, and the p2m it reads. */
    *why = "writing the p2m and zeroing the boot pages";
    for (uint64_t pfn = im->console_pfn; pfn <= im->stack_pfn; pfn++) {
        int rc = put_bytes(im, pfn, 0, NULL, 4096);
        if (rc)
            return rc;
    }
    return put_bytes(im, im->p2m_pfn, 0, (const uint8_t *)im->mfn, sizeof(im->mfn));
}

static bool is_pt(const struct domu_image *im, uint64_t pfn)
{
    return pfn >= im->pt_pfn && pfn < im->pt_pfn + im->nr_pt;
}

static uint64_t table_entry(const struct domu_image *im, unsigned int which)
{
    return (im->mfn[im->pt_pfn + which] << 12) | PG_RW;
}

/* One table (which: 0 L4, 1 L3, 2 L2, 3-4 L1) written through slot 1. */
static int write_table(struct domu_image *im, unsigned int which)
{
    uint64_t *t;
    long rc = map_foreign(1, im->mfn[im->pt_pfn + which], im->domid, (void **)&t);

    if (rc)
        return (int)rc;
    memset(t, 0, 4096);
    switch (which) {
    case 0:
        t[511] = table_entry(im, 1); /* VIRT_BASE: L4 slot 511 */
        break;
    case 1:
        t[510] = table_entry(im, 2); /* L3 slot 510 */
        break;
    case 2:
        t[0] = table_entry(im, 3);   /* two L1s: 4 MiB */
        t[1] = table_entry(im, 4);
        break;
    default:
        for (unsigned int i = 0; i < 512; i++) {
            uint64_t pfn = (which - 3) * 512 + i;
            t[i] = (im->mfn[pfn] << 12) | (is_pt(im, pfn) ? PG_RO : PG_RW);
        }
        break;
    }
    return 0;
}

int build_page_tables(struct domu_image *im, const char **why)
{
    struct mmuext_op pin = {.cmd = MMUEXT_PIN_L4_TABLE};
    int rc = 0;

    *why = "writing the page tables";
    for (unsigned int i = 0; i < im->nr_pt && !rc; i++)
        rc = write_table(im, i);
    /* No writable mapping may remain when the tables are validated. */
    if (!rc)
        rc = (int)unmap_slot(1);
    if (!rc)
        rc = (int)unmap_slot(0);
    if (rc)
        return rc;
    *why = "MMUEXT_PIN_L4_TABLE with foreigndom";
    pin.arg1.mfn = im->mfn[im->pt_pfn];
    return (int)mmuext(&pin, 1, NULL, im->domid);
}

int build_start_info(struct domu_image *im, const char **why)
{
    static start_info_t si;

    memset(&si, 0, sizeof(si));
    memcpy(si.magic, "xen-3.0-x86_64", 15);
    si.nr_pages = DOMU_PAGES;
    si.shared_info = im->shared_info_mfn << 12;
    si.pt_base = VIRT_BASE + (im->pt_pfn << 12);
    si.nr_pt_frames = im->nr_pt;
    si.mfn_list = VIRT_BASE + (im->p2m_pfn << 12);
    si.store_mfn = im->mfn[im->store_pfn];
    si.store_evtchn = im->store_port;
    si.console.domU.mfn = im->mfn[im->console_pfn];
    si.console.domU.evtchn = im->console_port;
    memcpy(si.cmd_line, "toolstack-domu", 15);
    *why = "writing start_info";
    return put_bytes(im, im->si_pfn, 0, (const uint8_t *)&si, sizeof(si));
}

/* As libxenguest: the domU's shared_info, mapped foreign, cleared with every
 * vCPU's events masked. */
int build_shared_info(struct domu_image *im, const char **why)
{
    shared_info_t *s;
    long rc;

    *why = "mapping the domU's shared_info";
    rc = map_foreign(2, im->shared_info_mfn, im->domid, (void **)&s);
    if (rc)
        return (int)rc;
    memset(s, 0, sizeof(*s));
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        s->vcpu_info[i].evtchn_upcall_mask = 1;
    *why = "unmapping the domU's shared_info";
    return (int)unmap_slot(2);
}

int build_vcpu(struct domu_image *im, const char **why)
{
    static vcpu_guest_context_t c;
    static struct xen_domctl op;

    memset(&c, 0, sizeof(c));
    c.user_regs.rip = im->entry;
    c.user_regs.rsp = VIRT_BASE + ((im->stack_pfn + 1) << 12);
    c.user_regs.rsi = VIRT_BASE + (im->si_pfn << 12);
    c.user_regs.rflags = 1 << 9;
    c.debugreg[6] = 0xffff0ff0;
    c.debugreg[7] = 0x400;
    c.flags = VGCF_in_kernel | VGCF_online;
    c.ctrlreg[3] = xen_pfn_to_cr3(im->mfn[im->pt_pfn]);
    c.user_regs.ds = c.user_regs.es = c.user_regs.fs = c.user_regs.gs = FLAT_KERNEL_DS;
    c.user_regs.ss = FLAT_KERNEL_SS;
    c.user_regs.cs = FLAT_KERNEL_CS;
    c.kernel_ss = c.user_regs.ss;
    c.kernel_sp = c.user_regs.rsp;
    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_setvcpucontext;
    op.domain = im->domid;
    op.u.vcpucontext.vcpu = 0;
    set_xen_guest_handle(op.u.vcpucontext.ctxt, &c);
    *why = "XEN_DOMCTL_setvcpucontext";
    return (int)domctl(&op);
}
