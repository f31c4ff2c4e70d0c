/*
 * What the core's guest-facing subsystems (domains, PV page tables, grant
 * tables, event channels, memory_op, domctl/sysctl) ask of the code below
 * them: the arch code (hv/arch/<arch>/), or, for event channels, the
 * hypercall layer that knows the domain's memory.  Host builds of the
 * core (unit tests, fuzz targets) supply their own versions of the ones
 * they reach.  The subsystem headers include this one, so callers need
 * nothing more.
 */
#ifndef KEEL_ARCH_H
#define KEEL_ARCH_H
#include <keel/types.h>
#include <xen/xen.h>

struct cpu_policy;
struct domain;
struct domain_config;
struct evtchn_domain;
struct grant_table;
struct host_facts;
struct page_info;
struct vcpu;
struct xen_domctl;

/* ---- domains (hv/arch/x86/pv/domain.c) */
/* A dying domain's vCPU (off its CPU): release its page-table roots and
 * descriptor tables. */
void arch_vcpu_relinquish(struct vcpu *v);
/* The structure goes: free what the arch part allocated. */
void arch_domain_destroy(struct domain *d);
/* Creation: the arch part of a domain (HVM state and p2m) and of each of
 * its vCPUs; 0 or -XEN_ENOMEM.  arch_vcpu_destroy undoes the latter. */
int arch_domain_init(struct domain *d, const struct domain_config *c);
int arch_vcpu_init(struct vcpu *v);
void arch_vcpu_destroy(struct vcpu *v);
/* Relinquish step for the arch's own mappings of d's memory (the p2m):
 * 0 when done, > 0 when preempted. */
int arch_domain_relinquish(struct domain *d);

/* ---- PV page tables (keel/pv_mm.h; hv/arch/x86/pv/mm.c) */
bool pv_mm_arch_privileged(const struct domain *d);
/* A frame that is not RAM and that a privileged guest may map (device
 * memory, firmware tables), i.e. not Keel's own hardware (APICs). */
bool pv_mm_arch_io_frame(mfn_t mfn);
/* An I/O frame guests may map read-only only (its writable mappings lose
 * RW): device registers Keel programs itself, e.g. MSI-X tables. */
bool pv_mm_arch_io_frame_ro(mfn_t mfn);
/* Copy Keel's slots 256-271 into a guest L4.  (TLB flushes when a frame
 * changes between "page table" and anything else are the frame table's:
 * keel/tlbclock.h.) */
void pv_mm_arch_keel_slots(u64 *l4);
/* Preemptible validation should stop now: other work is pending (the
 * hypercall continues later). */
bool pv_mm_arch_should_yield(void);

/* ---- grant tables (keel/grant_table.h; the arch's PV code) */
/* The L1 page (general + L1 type reference held) and slot that map
 * linear address `va` in the current page tables of `ld`'s running vCPU;
 * NULL if there is none. */
struct page_info *gnttab_arch_va_l1(struct domain *ld, u64 va, u64 **slot);
/* An entry that mapped something was just replaced by a grant mapping:
 * flush it from every CPU before its references go. */
void gnttab_arch_flush_all(void);
/* A translated (HVM) mapper's host map: `mfn` placed at `gfn` of ld's
 * physical map (p2m_grant_place), GNTST_okay; GNTST_general_error when
 * it cannot be, and ld crashed when gfn already holds a grant (Xen). */
s16 gnttab_arch_p2m_map(struct domain *ld, u64 gfn, mfn_t mfn, bool ro);
/* Takes the grant mapping of `mfn` at `gfn` out of ld's physical map:
 * GNTST_okay, or GNTST_general_error when gfn maps anything else, or maps
 * it writable for a read-only mapping's unmap or the other way round
 * (Xen does not look: a read-only handle could take the writable entry
 * away and leave a writable one behind the read-only handle, without the
 * writable type reference that keeps the frame from being a page table).
 * The caller makes every CPU leave ld's guest before the frame's
 * references go. */
s16 gnttab_arch_p2m_unmap(struct domain *ld, u64 gfn, mfn_t mfn, bool ro);
/* A new grant frame: it has no guest-physical address (M2P). */
void gnttab_arch_new_frame(mfn_t mfn);
/* The grant table of domain `domid`, referenced (gnttab_put), for a
 * transitive grant; NULL if there is none. */
struct grant_table *gnttab_arch_table_by_id(domid_t domid);

/* ---- event channels (keel/event.h; event_channel_op.c) */
/* Frame `gfn` of d, referenced for Keel's writes (a general and a
 * PGT_writable_page type reference): its address, or NULL. */
void *evtchn_arch_map_frame(struct evtchn_domain *d, u64 gfn);
/* Drops what evtchn_arch_map_frame took; `page` is page-aligned. */
void evtchn_arch_unmap_frame(void *page);

/* ---- memory_op (keel/memory_op.h) */
/* Frames of d left its physical map (HVM): every CPU leaves guest mode
 * once, so no stale guest translation to them survives. */
void memop_arch_flush_released(struct domain *d);

#ifndef KEEL_HOST
/* ---- domctl/sysctl (keel/domctl.h, keel/cpu_policy.h) */
/* The HVM-only domctls (hv/arch/x86/hvm/hvm_domctl.c). */
long arch_hvm_domctl(struct xen_domctl *op, struct domain *d, bool *copyback);
/* The machine's facts for physinfo (hv/arch/x86/sysinfo.c). */
void arch_host_facts(struct host_facts *h);
/* Guest physical address bits (getdomaininfo's gpaddr_bits). */
u8 arch_gpaddr_bits(void);
/* The machine's physical address bits. */
u8 arch_paddr_bits(void);
/* Topology of an online CPU, as cputopoinfo reports it. */
void arch_cpu_topology(unsigned int cpu, u32 *core, u32 *socket);
/* The machine's policies by XEN_SYSCTL_cpu_policy_* index, NULL for the
 * HVM ones (pv/cpu_policy.c). */
const struct cpu_policy *arch_system_policy(u32 index);
#endif
#endif
