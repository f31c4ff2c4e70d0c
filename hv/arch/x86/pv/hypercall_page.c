/*
 * The hypercall page: 32-byte stubs a guest calls instead of issuing
 * SYSCALL itself.  Each keeps RCX and R11 (which SYSCALL clobbers); the
 * iret stub also pushes RAX, as the iret hypercall expects, and never
 * returns.
 */
#include <asm/page.h>
#include <asm/pv.h>
#include <keel/frametable.h>
#include <keel/hypercall.h>

#define STUB_SIZE 32

void pv_fill_hypercall_page(void *page)
{
    u8 *p = page;

    memset(page, 0xcc, PAGE_SIZE); /* int3 in every unused byte */
    for (unsigned nr = 0; nr < PAGE_SIZE / STUB_SIZE; nr++, p += STUB_SIZE) {
        unsigned i = 0;
        p[i++] = 0x51;                         /* push %rcx */
        p[i++] = 0x41; p[i++] = 0x53;          /* push %r11 */
        if (nr == __HYPERVISOR_iret)
            p[i++] = 0x50;                     /* push %rax */
        p[i++] = 0xb8;                         /* mov $nr, %eax */
        p[i++] = (u8)nr; p[i++] = 0; p[i++] = 0; p[i++] = 0;
        p[i++] = 0x0f; p[i++] = 0x05;          /* syscall */
        if (nr == __HYPERVISOR_iret)
            continue;                          /* does not return */
        p[i++] = 0x41; p[i++] = 0x5b;          /* pop %r11 */
        p[i++] = 0x59;                         /* pop %rcx */
        p[i++] = 0xc3;                         /* ret */
    }
}

/*
 * wrmsr(0x40000000, machine address of a page of the guest): fill it.  The
 * low 12 bits would pick a page of a multi-page area; there is only one
 * (Xen: #GP for any other).  The frame must be an ordinary page of the
 * guest's for as long as Keel writes it: never a page table (a pinned L1
 * would keep unvalidated entries, the live L4 would lose Keel's slots) nor
 * a descriptor page.  Any refusal is a #GP for the guest.
 */
int pv_write_hypercall_page_msr(struct vcpu *v, u64 val)
{
    mfn_t mfn = val >> PAGE_SHIFT;
    struct page_info *pg;

    if ((val & ~PAGE_MASK) || !mfn_valid(mfn))
        return -XEN_EINVAL;
    pg = mfn_to_page(mfn);
    if (!get_page_keel_write(pg, v->domain))
        return -XEN_EINVAL;
    pv_fill_hypercall_page(mfn_to_virt(mfn));
    put_page_keel_write(pg);
    return 0;
}
