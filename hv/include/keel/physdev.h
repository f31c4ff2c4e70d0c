/* physdev_op's interrupt and PCI sub-ops (hv/common/physdev_irq.c). */
#ifndef KEEL_PHYSDEV_H
#define KEEL_PHYSDEV_H

/* Runs physdev_op `cmd` for the current vCPU when it is one of those. */
long physdev_irq_op(unsigned long cmd, unsigned long arg);
#endif
