/*
 * The domctls only an HVM domain has: its CPU context in Xen's save
 * format (what libxenguest's PVH builder sets the boot vCPU with), and
 * the paging pool that holds its p2m tables (shadow_op's allocation and
 * the 4.17 paging_mempool sub-ops).
 */
#define __XEN_TOOLS__ 1
#include <asm/cpu.h>
#include <asm/hvm.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/domctl.h>
#include <keel/guest_access.h>
#include <keel/hvm_context.h>
#include <keel/mm.h>
#include <keel/sched.h>
#include <keel/time.h>
#include <xen/domctl.h>



static struct hvmctx_vcpu *ctx_alloc(struct domain *d)
{
    return xzalloc(sizeof(struct hvmctx_vcpu) * d->nr_vcpus);
}

static void vcpu_snapshot(struct vcpu *v, struct hvmctx_vcpu *c)
{
    const struct regs *r = &v->arch.user_regs;
    const u64 g[16] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
                       r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15};

    c->present = true;
    hvm_get_cpu_state(v, &c->st);
    memcpy(c->gpr, g, sizeof(g));
    memcpy(c->fpu, v->arch.fpu.fxsave, sizeof(c->fpu));
    c->fpu_initialised = v->arch.fpu_initialised;
    c->mtrr_def_type = v->arch.hvm->mtrr_def_type;
}

/* An MTRR record: the PAT it carries, and the default type (kept to be
 * read back: Keel's guests see no MTRRs, CPUID hides them). */
static void vcpu_restore_mtrr(struct vcpu *v, const struct hvmctx_vcpu *c)
{
    hvm_backend->set_pat(v, c->pat);
    v->arch.hvm->mtrr_def_type = c->mtrr_def_type;
}

static void vcpu_restore(struct vcpu *v, const struct hvmctx_vcpu *c)
{
    struct regs *r = &v->arch.user_regs;
    const u64 *g = c->gpr;

    hvm_set_cpu_state(v, &c->st);
    r->rax = g[0], r->rcx = g[1], r->rdx = g[2], r->rbx = g[3];
    r->rsp = g[4], r->rbp = g[5], r->rsi = g[6], r->rdi = g[7];
    r->r8 = g[8], r->r9 = g[9], r->r10 = g[10], r->r11 = g[11];
    r->r12 = g[12], r->r13 = g[13], r->r14 = g[14], r->r15 = g[15];
    memcpy(v->arch.fpu.fxsave, c->fpu, sizeof(c->fpu));
    /* libxenguest sends fninit's image with the flag clear: Xen loads it
     * all the same, and so does Keel (a zero FCW would be a broken FPU). */
    v->arch.fpu_initialised = true;
    if (!c->fpu_initialised && !((const u16 *)c->fpu)[0]) {
        /* Nothing at all: the power-on state at first run. */
        v->arch.fpu_initialised = false;
    }
    /* The vCPU has state now: it comes online, as after Xen's load. */
    __atomic_and_fetch(&v->pause_flags, ~(1UL << VPF_down), __ATOMIC_SEQ_CST);
}

static long set_context(struct domain *d, struct xen_domctl_hvmcontext *hc)
{
    struct hvmctx_vcpu *c;
    const char *why;
    u8 *buf;
    long rc;

    if (d == current->domain || READ_ONCE(d->is_dying))
        return -XEN_EINVAL;
    if (!hc->size || hc->size > hvmctx_size(HVMCTX_MAX_VCPUS) * 2)
        return -XEN_EINVAL;
    buf = xzalloc(hc->size);
    c = ctx_alloc(d);
    rc = !buf || !c ? -XEN_ENOMEM : 0;
    if (!rc && copy_from_guest(buf, (unsigned long)hc->buffer.p, hc->size))
        rc = -XEN_EFAULT;
    if (!rc) {
        rc = hvmctx_parse(buf, hc->size, d->nr_vcpus, c, &why);
        if (rc)
            printk(KLOG_WARN "d%u: sethvmcontext refused: %s\n", d->domid, why);
    }
    if (!rc) {
        domain_pause(d);
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            if (c[i].present)
                vcpu_restore(d->vcpus[i], &c[i]);
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            if (c[i].mtrr_present)
                vcpu_restore_mtrr(d->vcpus[i], &c[i]);
        domain_unpause(d); /* wakes them if nothing else holds them */
    }
    xfree(buf);
    xfree(c);
    return rc;
}

static long get_context(struct domain *d, struct xen_domctl_hvmcontext *hc)
{
    size_t need = hvmctx_size(d->nr_vcpus);
    struct hvmctx_vcpu *c;
    u8 *buf;
    long rc = 0;

    if (d == current->domain)
        return -XEN_EINVAL;
    if (!hc->buffer.p) {
        hc->size = (u32)need; /* a size query */
        return 0;
    }
    if (hc->size < need)
        return -XEN_ENOSPC;
    buf = xzalloc(need);
    c = ctx_alloc(d);
    if (!buf || !c) {
        xfree(buf);
        xfree(c);
        return -XEN_ENOMEM;
    }
    domain_pause(d);
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        vcpu_snapshot(d->vcpus[i], &c[i]);
    domain_unpause(d);
    hc->size = (u32)hvmctx_build(buf, d->nr_vcpus, c, cpuid(1).eax, tsc_khz());
    if (copy_to_guest((unsigned long)hc->buffer.p, buf, hc->size))
        rc = -XEN_EFAULT;
    xfree(buf);
    xfree(c);
    return rc;
}

static long shadow_op(struct domain *d, struct xen_domctl_shadow_op *so)
{
    struct p2m *p = &d->arch.hvm->p2m;

    switch (so->op) {
    case XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION:
        return p2m_set_pool(p, (unsigned long)so->mb << (20 - PAGE_SHIFT));
    case XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION:
        so->mb = (u32)((READ_ONCE(p->pool_frames) + 255) >> (20 - PAGE_SHIFT));
        return 0;
    case XEN_DOMCTL_SHADOW_OP_OFF:
        return 0;
    default:
        return -XEN_EINVAL; /* HAP: no log-dirty or shadow modes */
    }
}

long arch_hvm_domctl(struct xen_domctl *op, struct domain *d, bool *copyback)
{
    if (!is_hvm_domain(d))
        return -XEN_EINVAL;
    switch (op->cmd) {
    case XEN_DOMCTL_sethvmcontext:
        return set_context(d, &op->u.hvmcontext);
    case XEN_DOMCTL_gethvmcontext:
        *copyback = true;
        return get_context(d, &op->u.hvmcontext);
    case XEN_DOMCTL_shadow_op:
        *copyback = true;
        return shadow_op(d, &op->u.shadow_op);
    case XEN_DOMCTL_get_paging_mempool_size:
        *copyback = true;
        op->u.paging_mempool.size = (u64)READ_ONCE(d->arch.hvm->p2m.pool_frames) << PAGE_SHIFT;
        return 0;
    case XEN_DOMCTL_set_paging_mempool_size:
        if (op->u.paging_mempool.size & (PAGE_SIZE - 1))
            return -XEN_EINVAL;
        return p2m_set_pool(&d->arch.hvm->p2m, op->u.paging_mempool.size >> PAGE_SHIFT);
    default:
        return -XEN_ENOSYS;
    }
}
