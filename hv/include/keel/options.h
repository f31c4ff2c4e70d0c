/* Boot options, parsed once from the hypervisor command line. */
#ifndef KEEL_OPTIONS_H
#define KEEL_OPTIONS_H
#include <keel/console.h>

struct keel_options {
    enum log_level loglvl;
    u16 console_port; /* 0: no serial console */
    u32 console_baud;
    u64 dom0_mem;     /* bytes; 0 = builder's choice */
    u32 maxcpus;      /* 0 = all */
    u32 dom0_max_vcpus;
    bool selftest;
    bool debug_exit;
    bool noreboot;    /* dom0 crashing halts the machine instead of resetting it */
    char crashtest[8]; /* "" or a fault to provoke after boot (traps.c) */
    u32 tlbclock_bits; /* 0: full width; 4-31: wrap often (tests) */
    u32 preempt_every; /* 0: normal; n: every nth preemption check says yes (tests) */
    char sched[12];    /* sched=: "" (round-robin), "rr", "credit2", "rtds" */
    bool credit2_runq_per_cpu; /* credit2_runqueue=cpu|core (else shared) */
    bool hvm_stats;    /* hvm_stats: every HVM vCPU logs its exits by reason every 5 s */
};

extern struct keel_options opts;

/* Parses the command line into opts; returns the number of bad options. */
int options_parse(const char *cmdline);
#endif
