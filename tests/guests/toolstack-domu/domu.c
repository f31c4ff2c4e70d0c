/*
 * The domU the toolstack guest builds (not run on its own: no MANIFEST
 * line).  It reports through its console page, shared with dom0 (see
 * ../toolstack/comm.h): what it was told in start_info, what the calls a
 * domU must not get through answered, then a heartbeat while it runs,
 * until dom0 asks it to spin or to power off.  The console event channel
 * tells dom0 it is up.
 */
#include <rt.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>
#include "../toolstack/comm.h"

#define VIRT_BASE 0xffffffff80000000UL

static struct ts_comm *comm;

static long domctl_probe(uint32_t version)
{
    static struct xen_domctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_DOMCTL_getdomaininfo;
    op.interface_version = version;
    op.domain = 0;
    return hypercall1(__HYPERVISOR_domctl, &op);
}

static long sysctl_probe(void)
{
    static struct xen_sysctl op;

    memset(&op, 0, sizeof(op));
    op.cmd = XEN_SYSCTL_physinfo;
    op.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return hypercall1(__HYPERVISOR_sysctl, &op);
}

/* An L1 update naming a frame of dom0 (foreigndom 0): refused before the
 * entry is even looked at. */
static long mmu_foreign_probe(void)
{
    struct mmu_update req = {.ptr = MMU_NORMAL_PT_UPDATE, .val = 0};
    unsigned int done = 0;

    return hypercall4(__HYPERVISOR_mmu_update, &req, 1, &done, 0);
}

static long populate_dom0_probe(void)
{
    xen_pfn_t pfn = 0x10000;
    struct xen_memory_reservation r = {.nr_extents = 1, .extent_order = 0, .domid = 0};

    set_xen_guest_handle(r.extent_start, &pfn);
    return HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
}

static long evtchn_foreign_probe(void)
{
    struct evtchn_alloc_unbound a = {.dom = 0, .remote_dom = DOMID_SELF};

    return HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
}

/* XENMEM_memory_map answers with what the builder stored. */
static void memory_map_probe(void)
{
    static struct {
        uint64_t addr, size;
        uint32_t type;
    } __attribute__((packed)) e820[4];
    struct xen_memory_map mm = {.nr_entries = 4};

    set_xen_guest_handle(mm.buffer, e820);
    comm->rc_memory_map = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    comm->e820_entries = mm.nr_entries;
    comm->e820_size = e820[0].size;
}

static void probes(void)
{
    comm->rc_domctl = domctl_probe(XEN_DOMCTL_INTERFACE_VERSION);
    comm->rc_domctl_badver = domctl_probe(XEN_DOMCTL_INTERFACE_VERSION - 1);
    comm->rc_sysctl = sysctl_probe();
    comm->rc_mmu_foreign = mmu_foreign_probe();
    comm->rc_populate_dom0 = populate_dom0_probe();
    comm->rc_evtchn_foreign = evtchn_foreign_probe();
    comm->rc_console = HYPERVISOR_console_io(CONSOLEIO_write, 1, "x");
    memory_map_probe();
}

static void notify(evtchn_port_t port)
{
    struct evtchn_send s = {.port = port};

    HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

void test_main(start_info_t *si)
{
    const unsigned long *m2p = (const unsigned long *)MACH2PHYS_VIRT_START;

    /* The console page is one of ours: its pfn from the M2P the builder
     * filled, its address from the builder's 1:1 layout. */
    comm = (struct ts_comm *)(VIRT_BASE + (m2p[si->console.domU.mfn] << 12));
    comm->nr_pages = si->nr_pages;
    comm->store_mfn = si->store_mfn;
    comm->store_evtchn = si->store_evtchn;
    comm->console_evtchn = si->console.domU.evtchn;
    probes();
    rt_install_traps();
    rt_install_events();
    rt_events_enable();
    __atomic_store_n(&comm->magic, DOMU_MAGIC, __ATOMIC_SEQ_CST);
    notify(si->console.domU.evtchn);
    for (;;) {
        struct sched_shutdown off = {.reason = SHUTDOWN_poweroff};

        switch (comm->cmd) {
        case CMD_POWEROFF:
            HYPERVISOR_sched_op(SCHEDOP_shutdown, &off);
            break;
        case CMD_SPIN:
            comm->heartbeat++; /* never gives the CPU up */
            break;
        default:
            comm->heartbeat++;
            HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
            break;
        }
    }
}
