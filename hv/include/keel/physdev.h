/* physdev_op's interrupt and PCI sub-ops, and the PIRQ side of event
 * channels (hv/common/physdev_irq.c). */
#ifndef KEEL_PHYSDEV_H
#define KEEL_PHYSDEV_H
#include <keel/types.h>
#include <xen/event_channel.h>

struct domain;

/* Runs physdev_op `cmd` for the current vCPU when it is one of those. */
long physdev_irq_op(unsigned long cmd, unsigned long arg);

/* EVTCHNOP_bind_pirq (argument at guest address arg). */
long pirq_evtchn_bind(unsigned long arg);
/* Closes PIRQ port `port` of d, unbinding its interrupt first; returns 1
 * when the port turned out not to be a PIRQ port (the caller closes it
 * the ordinary way), else the result of the close. */
long pirq_evtchn_close(struct domain *d, evtchn_port_t port);
/* EVTCHNOP_bind_vcpu moved PIRQ port `port`: route its interrupt to the
 * CPU of the port's new vCPU. */
void pirq_evtchn_moved(struct domain *d, evtchn_port_t port);
/* v now runs on another CPU (v->processor): its PIRQs follow it
 * (sched_move_vcpu calls it). */
struct vcpu;
void pirq_vcpu_moved(struct vcpu *v);
#endif
