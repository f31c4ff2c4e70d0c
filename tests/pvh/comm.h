/*
 * What a PVH test domU and its launcher (tests/guests/pvh, in dom0) share:
 * a page at a fixed guest frame that the domU fills with its log and
 * verdict and dom0 reads through a foreign mapping.  Xen 4.17 refuses
 * console_io to domUs, so this is the domU's only voice on both.
 */
#ifndef PVH_COMM_H
#define PVH_COMM_H
#include <stdint.h>

#define PVH_COMM_GFN 0x7fUL        /* just below the image at 1 MiB */
#define PVH_START_INFO_GFN 0x7eUL  /* hvm_start_info and the command line */
#define PVH_COMM_MAGIC 0x4876704bU /* "KpvH" */
#define PVH_LOG_SIZE 3800

enum { PVH_RUNNING = 0, PVH_PASS = 1, PVH_FAIL = 2 };

struct pvh_comm {
    uint32_t magic;
    volatile uint32_t state;    /* PVH_* */
    volatile uint32_t log_len;
    uint32_t checks, failed;
    uint64_t bench[8];          /* figures a benchmark run reports */
    char log[PVH_LOG_SIZE];
};
#endif
