/*
 * The page the toolstack guest (dom0) and the domU it builds share: the
 * domU's console page (start_info.console.domU.mfn), which dom0 keeps
 * mapped through a foreign mapping.  A domU cannot print on Xen's console
 * (console_io is the control domain's), so this page and the console
 * event channel are how it reports.
 */
#ifndef TOOLSTACK_COMM_H
#define TOOLSTACK_COMM_H
#include <stdint.h>

#define DOMU_MAGIC 0x554d4f44U /* "DOMU" */

enum ts_cmd {
    CMD_RUN,      /* count heartbeats, yield between them */
    CMD_SPIN,     /* count heartbeats, never give the CPU up */
    CMD_POWEROFF, /* SCHEDOP_shutdown(poweroff) */
};

struct ts_comm {
    volatile uint32_t magic;     /* DOMU_MAGIC once the domU runs */
    volatile uint32_t cmd;       /* enum ts_cmd, written by dom0 */
    volatile uint64_t heartbeat; /* counted by the domU */
    uint64_t nr_pages;           /* what its start_info said */
    uint64_t store_mfn;
    uint32_t store_evtchn, console_evtchn;
    /* Results of calls a domU must not get through (Xen's answers). */
    int64_t rc_domctl;           /* getdomaininfo(0): -EPERM */
    int64_t rc_domctl_badver;    /* wrong interface version: -EACCES */
    int64_t rc_sysctl;           /* physinfo: -EPERM */
    int64_t rc_mmu_foreign;      /* mmu_update naming dom0's frame: -EPERM */
    int64_t rc_populate_dom0;    /* populate_physmap for dom0: 0 done */
    int64_t rc_evtchn_foreign;   /* alloc_unbound in dom0: -EPERM */
    int64_t rc_console;          /* console_io write: -EPERM */
    int64_t rc_memory_map;       /* XENMEM_memory_map: what the builder stored */
    uint32_t e820_entries;
    uint64_t e820_size;
    char fail[96];               /* why the domU gave up, if it did */
};
#endif
