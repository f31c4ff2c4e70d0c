/* Event-channel port state machine and 2-level signalling. */
#include <keel/event.h>

#include "harness.h"

#define NPORTS 256

static struct shared_info sh_a, sh_b;
static struct evtchn_domain A, B;
static struct evtchn_kick kick;

/* Domain 1 with 2 vCPUs and 256 ports; domain 2 with 4 vCPUs, no limit
 * of its own (4096 in 2-level). */
static void setup(void)
{
    evtchn_domain_destroy(&A);
    evtchn_domain_destroy(&B);
    memset(&sh_a, 0, sizeof(sh_a));
    memset(&sh_b, 0, sizeof(sh_b));
    CHECK_EQ(evtchn_domain_init(&A, 1, 2, &sh_a, NPORTS), 0);
    CHECK_EQ(evtchn_domain_init(&B, 2, 4, &sh_b, ~0U), 0);
}

__attribute__((destructor)) static void teardown(void)
{
    evtchn_domain_destroy(&A);
    evtchn_domain_destroy(&B);
}

static bool pending(struct shared_info *s, evtchn_port_t p)
{
    return (s->evtchn_pending[p / 64] >> (p % 64)) & 1;
}

static void mask(struct shared_info *s, evtchn_port_t p)
{
    s->evtchn_mask[p / 64] |= 1UL << (p % 64);
}

static int status_of(struct evtchn_domain *d, evtchn_port_t p, struct evtchn_status *st)
{
    memset(st, 0xee, sizeof(*st));
    st->port = p;
    return evtchn_status(d, st);
}

TEST(init_rejects_bad_sizes)
{
    struct evtchn_domain d = {0};
    CHECK_EQ(evtchn_domain_init(&d, 0, 0, &sh_a, NPORTS), -XEN_EINVAL);
    CHECK_EQ(evtchn_domain_init(&d, 0, EVTCHN_MAX_VCPUS + 1, &sh_a, NPORTS), -XEN_EINVAL);
    CHECK_EQ(evtchn_domain_init(&d, 0, 1, &sh_a, 0), -XEN_EINVAL);
    CHECK_EQ(evtchn_domain_init(&d, 0, 1, NULL, NPORTS), -XEN_EINVAL);
    CHECK_EQ(EVTCHN_2L_PORTS, 4096);
    CHECK_EQ(EVTCHN_FIFO_PORTS, 131072);
}

TEST(alloc_unbound_and_status)
{
    evtchn_port_t p, q;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&A, 2, &p), 0);
    CHECK_EQ(p, 1); /* port 0 is never handed out */
    CHECK_EQ(evtchn_alloc_unbound(&A, DOMID_SELF, &q), 0);
    CHECK_EQ(q, 2);
    CHECK_EQ(status_of(&A, p, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.vcpu, 0);
    CHECK_EQ(st.u.unbound.dom, 2);
    CHECK_EQ(status_of(&A, 0, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(status_of(&A, 63, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    /* Ports become valid 64 at a time, as Xen's buckets: 64 is not yet. */
    CHECK_EQ(status_of(&A, 64, &st), -XEN_EINVAL);
    CHECK_EQ(status_of(&A, NPORTS, &st), -XEN_EINVAL);
    CHECK_EQ(status_of(&A, 0xffffffffU, &st), -XEN_EINVAL);
}

TEST(ports_run_out)
{
    evtchn_port_t p;
    setup();
    for (int i = 1; i < NPORTS; i++)
        CHECK_EQ(evtchn_alloc_unbound(&A, 0, &p), 0);
    CHECK_EQ(p, NPORTS - 1);
    CHECK_EQ(evtchn_alloc_unbound(&A, 0, &p), -XEN_ENOSPC);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &p), -XEN_ENOSPC);
    CHECK_EQ(evtchn_close(&A, 5), 0);
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &p), 0);
    CHECK_EQ(p, 5); /* lowest free port is reused */
}

TEST(bind_interdomain_links_both_ends)
{
    evtchn_port_t rp, lp;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &rp), 0);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), 0);
    CHECK_EQ(status_of(&A, lp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, 2);
    CHECK_EQ(st.u.interdomain.port, rp);
    CHECK_EQ(status_of(&B, rp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, 1);
    CHECK_EQ(st.u.interdomain.port, lp);
    /* The new local end starts pending, and vCPU 0 of A is told. */
    CHECK(pending(&sh_a, lp));
    CHECK(kick.dom == &A && kick.vcpu == 0);
    CHECK_EQ(sh_a.vcpu_info[0].evtchn_upcall_pending, 1);
    /* Already bound: a second bind fails. */
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), -XEN_EINVAL);
}

TEST(bind_interdomain_rejections)
{
    evtchn_port_t rp, lp;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&B, 7, &rp), 0); /* for someone else */
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, 0, &lp, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, 99, &lp, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, EVTCHN_2L_PORTS, &lp, &kick), -XEN_EINVAL);
    CHECK(kick.dom == NULL);
}

/* Found by the racing guest fuzzer: a bind that fails after picking its
 * local port leaves that port free, and Xen hands it out next (the lowest
 * free port), so the port numbers a guest sees stay Xen's. */
TEST(failed_bind_interdomain_leaves_its_port_lowest_free)
{
    evtchn_port_t rp, lp, p;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&A, 2, &p), 0);
    CHECK_EQ(p, 1);
    CHECK_EQ(evtchn_alloc_unbound(&B, 7, &rp), 0); /* not for A */
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, 99, &lp, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_alloc_unbound(&A, 2, &p), 0);
    CHECK_EQ(p, 2);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &p), 0);
    CHECK_EQ(p, 3);
    CHECK_EQ(evtchn_close(&A, 1), 0);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &p), 0);
    CHECK_EQ(p, 1);
}

TEST(close_interdomain_leaves_peer_unbound)
{
    evtchn_port_t rp, lp, lp2;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &rp), 0);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), 0);
    CHECK_EQ(evtchn_close(&A, lp), 0);
    CHECK(!pending(&sh_a, lp)); /* freed ports carry nothing pending */
    CHECK_EQ(status_of(&A, lp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    CHECK_EQ(status_of(&B, rp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, 1);
    /* Sending on the now unbound end is silently dropped. */
    CHECK_EQ(evtchn_send(&B, rp, &kick), 0);
    CHECK(kick.dom == NULL);
    /* ... and A can bind to it again. */
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp2, &kick), 0);
    CHECK_EQ(lp2, lp); /* the lowest free port again */
    CHECK_EQ(status_of(&B, rp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
}

TEST(loopback_interdomain)
{
    evtchn_port_t rp, lp;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&A, 1, &rp), 0);
    CHECK_EQ(evtchn_bind_interdomain(&A, &A, rp, &lp, &kick), 0);
    CHECK(lp != rp);
    sh_a.evtchn_pending[0] = 0;
    sh_a.vcpu_info[0].evtchn_pending_sel = 0;
    sh_a.vcpu_info[0].evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_send(&A, lp, &kick), 0);
    CHECK(pending(&sh_a, rp) && !pending(&sh_a, lp));
    CHECK(kick.dom == &A);
    CHECK_EQ(evtchn_close(&A, rp), 0);
    struct evtchn_status st;
    CHECK_EQ(status_of(&A, lp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
}

TEST(send_sets_bits_and_reports_upcall)
{
    evtchn_port_t rp, lp;
    setup();
    /* Use a high port on B so the selector bit is word 3. */
    for (int i = 1; i < 200; i++)
        CHECK_EQ(evtchn_alloc_unbound(&B, 9, &rp), 0);
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &rp), 0);
    CHECK_EQ(rp, 200);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), 0);
    CHECK_EQ(evtchn_bind_vcpu(&B, rp, 3), 0);
    CHECK_EQ(evtchn_send(&A, lp, &kick), 0);
    CHECK(kick.dom == &B && kick.vcpu == 3);
    CHECK_EQ(sh_b.evtchn_pending[3], 1UL << 8);
    CHECK_EQ(sh_b.vcpu_info[3].evtchn_pending_sel, 1UL << 3);
    CHECK_EQ(sh_b.vcpu_info[3].evtchn_upcall_pending, 1);
    CHECK_EQ(sh_b.vcpu_info[0].evtchn_upcall_pending, 0);
    /* Still pending: a second send changes nothing and asks for nothing. */
    CHECK_EQ(evtchn_send(&A, lp, &kick), 0);
    CHECK(kick.dom == NULL);
    /* Guest consumed it but left the selector: no new upcall is due. */
    sh_b.evtchn_pending[3] = 0;
    sh_b.vcpu_info[3].evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_send(&A, lp, &kick), 0);
    CHECK(kick.dom == NULL && pending(&sh_b, rp));
}

TEST(top_port_uses_top_selector_bit)
{
    evtchn_port_t p = 0;
    setup();
    for (unsigned i = 1; i < EVTCHN_2L_PORTS; i++)
        CHECK_EQ(evtchn_bind_ipi(&B, 1, &p), 0);
    CHECK_EQ(p, 4095);
    CHECK_EQ(evtchn_send(&B, p, &kick), 0);
    CHECK(kick.dom == &B && kick.vcpu == 1);
    CHECK_EQ(sh_b.evtchn_pending[63], 1UL << 63);
    CHECK_EQ(sh_b.vcpu_info[1].evtchn_pending_sel, 1UL << 63);
    CHECK_EQ(evtchn_send(&B, 4096, &kick), -XEN_EINVAL);
}

TEST(masking_rules)
{
    evtchn_port_t p;
    setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &p), 0);
    mask(&sh_a, p);
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(pending(&sh_a, p));
    CHECK(kick.dom == NULL);
    CHECK_EQ(sh_a.vcpu_info[1].evtchn_pending_sel, 0);
    CHECK_EQ(sh_a.vcpu_info[1].evtchn_upcall_pending, 0);
    /* Unmask delivers what arrived while masked. */
    CHECK_EQ(evtchn_unmask(&A, p, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 1);
    CHECK_EQ(sh_a.evtchn_mask[0], 0);
    CHECK_EQ(sh_a.vcpu_info[1].evtchn_pending_sel, 1);
    CHECK_EQ(sh_a.vcpu_info[1].evtchn_upcall_pending, 1);
    /* Unmasking an unmasked or idle port does nothing. */
    CHECK_EQ(evtchn_unmask(&A, p, &kick), 0);
    CHECK(kick.dom == NULL);
    mask(&sh_a, 9);
    CHECK_EQ(evtchn_unmask(&A, 9, &kick), 0);
    CHECK(kick.dom == NULL);
    CHECK_EQ(sh_a.evtchn_mask[0], 0);
    CHECK_EQ(evtchn_unmask(&A, NPORTS, &kick), -XEN_EINVAL);
    /* An upcall already pending on the vCPU is not reported twice. */
    sh_a.evtchn_pending[0] = 0;
    sh_a.vcpu_info[1].evtchn_pending_sel = 0;
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(kick.dom == NULL);
    CHECK_EQ(sh_a.vcpu_info[1].evtchn_pending_sel, 1);
}

TEST(virq_binding)
{
    evtchn_port_t t0, t1, con, p;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 0, &t0), 0);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 1, &t1), 0);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 1, &p), -XEN_EEXIST);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 2, &p), -XEN_ENOENT);
    CHECK_EQ(evtchn_bind_virq(&A, NR_VIRQS, 0, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_virq(&A, 0xffffffffU, 0, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_CONSOLE, 1, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_CONSOLE, 0, &con), 0);
    CHECK_EQ(status_of(&A, t1, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_TIMER);
    CHECK_EQ(st.vcpu, 1);

    CHECK(evtchn_send_virq(&A, VIRQ_TIMER, 1, &kick));
    CHECK(pending(&sh_a, t1) && !pending(&sh_a, t0));
    CHECK(kick.dom == &A && kick.vcpu == 1);
    CHECK(!evtchn_send_virq(&A, VIRQ_DEBUG, 0, &kick));
    CHECK(!evtchn_send_virq(&A, NR_VIRQS + 5, 0, &kick));
    /* Sending on a VIRQ port from the guest is not allowed. */
    CHECK_EQ(evtchn_send(&A, t0, &kick), -XEN_EINVAL);

    /* Global VIRQs may move; per-vCPU ones may not. */
    CHECK_EQ(evtchn_bind_vcpu(&A, con, 1), 0);
    memset(&sh_a.vcpu_info[1], 0, sizeof(sh_a.vcpu_info[1])); /* guest acked */
    CHECK(evtchn_send_virq(&A, VIRQ_CONSOLE, 0, &kick));
    CHECK(kick.dom == &A && kick.vcpu == 1);
    CHECK_EQ(evtchn_bind_vcpu(&A, t0, 1), -XEN_EINVAL);

    /* Closing frees the binding for a later bind. */
    CHECK_EQ(evtchn_close(&A, t1), 0);
    CHECK(!evtchn_send_virq(&A, VIRQ_TIMER, 1, &kick));
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 1, &p), 0);
    CHECK_EQ(evtchn_close(&A, con), 0); /* bound on vCPU 1 by now */
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_CONSOLE, 0, &p), 0);
}

TEST(ipi_binding)
{
    evtchn_port_t p;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 2, &p), -XEN_ENOENT);
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &p), 0);
    CHECK_EQ(status_of(&A, p, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 1);
    CHECK_EQ(evtchn_bind_vcpu(&A, p, 0), -XEN_EINVAL);
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 1);
}

TEST(bind_vcpu_rules)
{
    evtchn_port_t p;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&A, 0, &p), 0);
    CHECK_EQ(evtchn_bind_vcpu(&A, p, 1), 0);
    CHECK_EQ(status_of(&A, p, &st), 0);
    CHECK_EQ(st.vcpu, 1);
    CHECK_EQ(evtchn_bind_vcpu(&A, p, 2), -XEN_ENOENT);
    CHECK_EQ(evtchn_bind_vcpu(&A, 0, 0), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_vcpu(&A, 50, 0), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_vcpu(&A, NPORTS, 0), -XEN_EINVAL);
}

TEST(close_errors)
{
    setup();
    CHECK_EQ(evtchn_close(&A, 0), -XEN_EINVAL);
    CHECK_EQ(evtchn_close(&A, 3), -XEN_EINVAL);
    CHECK_EQ(evtchn_close(&A, NPORTS), -XEN_EINVAL);
    CHECK_EQ(evtchn_send(&A, 3, &kick), -XEN_EINVAL);
}

TEST(reset_closes_everything)
{
    evtchn_port_t rp, lp, p;
    struct evtchn_status st;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &rp), 0);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, rp, &lp, &kick), 0);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 0, &p), 0);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &p), 0);
    evtchn_reset(&A);
    for (evtchn_port_t i = 0; i < 4; i++) {
        CHECK_EQ(status_of(&A, i, &st), 0);
        CHECK_EQ(st.status, EVTCHNSTAT_closed);
    }
    CHECK_EQ(sh_a.evtchn_pending[0], 0);
    CHECK_EQ(status_of(&B, rp, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 0, &p), 0);
    CHECK_EQ(p, 1);
}

TEST(registered_vcpu_info)
{
    static struct vcpu_info vi;
    evtchn_port_t p;
    setup();
    CHECK_EQ(evtchn_set_vcpu_info(&A, 2, &vi), -XEN_ENOENT);
    CHECK_EQ(evtchn_set_vcpu_info(&A, 1, NULL), -XEN_EINVAL);
    CHECK_EQ(evtchn_set_vcpu_info(&A, 1, &vi), 0);
    CHECK_EQ(vi.evtchn_upcall_pending, 1); /* guest rescans after the move */
    CHECK_EQ(vi.evtchn_pending_sel, ~0UL);
    vi.evtchn_upcall_pending = 0;
    vi.evtchn_pending_sel = 0;
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &p), 0);
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 1);
    CHECK_EQ(vi.evtchn_upcall_pending, 1);
    CHECK_EQ(sh_a.vcpu_info[1].evtchn_upcall_pending, 0);
}

TEST(layout_matches_the_abi)
{
    /* PV-ABI.md §2.6: the offsets the guest uses. */
    CHECK_EQ(offsetof(struct shared_info, evtchn_pending), 0x800);
    CHECK_EQ(offsetof(struct shared_info, evtchn_mask), 0xa00);
    CHECK_EQ(offsetof(struct vcpu_info, evtchn_pending_sel), 8);
    CHECK_EQ(sizeof(struct vcpu_info), 64);
}

TEST(send_target_names_the_far_end)
{
    evtchn_port_t a, b, ipi, t = 0;
    setup();
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &a), 0);
    CHECK(evtchn_send_target(&B, a, &t) == NULL);   /* unbound: nobody */
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, a, &b, &kick), 0);
    CHECK(evtchn_send_target(&A, b, &t) == &B);
    CHECK_EQ(t, a);
    CHECK(evtchn_send_target(&B, a, &t) == &A);
    CHECK_EQ(t, b);
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &ipi), 0);
    CHECK(evtchn_send_target(&A, ipi, &t) == &A);
    CHECK_EQ(t, ipi);
    CHECK(evtchn_send_target(&A, 0, &t) == NULL);     /* reserved */
    CHECK(evtchn_send_target(&A, NPORTS, &t) == NULL); /* out of range */
    CHECK(evtchn_send_target(&A, 100, &t) == NULL);    /* free */
}

TEST(is_pending_follows_the_bitmap_even_masked)
{
    evtchn_port_t ipi;
    setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &ipi), 0);
    CHECK(!evtchn_is_pending(&A, ipi));
    mask(&sh_a, ipi);
    CHECK_EQ(evtchn_send(&A, ipi, &kick), 0);
    CHECK(kick.dom == NULL);            /* masked: no upcall ... */
    CHECK(evtchn_is_pending(&A, ipi));  /* ... but pending, which poll sees */
    CHECK(!evtchn_is_pending(&A, NPORTS));
    CHECK(!evtchn_is_pending(&A, 0xffffffffu));
}

TEST(virq_port_lookup)
{
    evtchn_port_t p, g;
    setup();
    CHECK_EQ(evtchn_virq_port(&A, VIRQ_TIMER, 1), 0);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_TIMER, 1, &p), 0);
    CHECK_EQ(evtchn_virq_port(&A, VIRQ_TIMER, 1), p);
    CHECK_EQ(evtchn_virq_port(&A, VIRQ_TIMER, 0), 0);  /* per-vCPU */
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_CONSOLE, 0, &g), 0);
    CHECK_EQ(evtchn_virq_port(&A, VIRQ_CONSOLE, 1), g); /* global: vCPU 0's table */
    CHECK_EQ(evtchn_virq_port(&A, NR_VIRQS, 0), 0);
    CHECK_EQ(evtchn_virq_port(&A, VIRQ_TIMER, 2), 0);   /* no such vCPU */
}

TEST(bind_interdomain_needs_a_free_port_first)
{
    setup();
    evtchn_port_t p, r;
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &r), 0);
    while (evtchn_alloc_unbound(&A, 2, &p) == 0)
        ;
    /* Xen looks for the local port before the remote one: -ENOSPC even
     * for a bad remote port. */
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, 9999, &p, &kick), -XEN_ENOSPC);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, r, &p, &kick), -XEN_ENOSPC);
}

TEST(dying_domain_gets_no_ports_and_peers_see_the_close)
{
    setup();
    evtchn_port_t ua, pb, pa;
    CHECK_EQ(evtchn_alloc_unbound(&A, 2, &ua), 0);
    CHECK_EQ(evtchn_bind_interdomain(&B, &A, ua, &pb, &kick), 0);
    CHECK_EQ(evtchn_alloc_unbound(&B, 1, &pa), 0);
    A.dying = true;
    evtchn_reset(&A); /* what evtchn_domain_relinquish does, port by port */
    struct evtchn_status st;
    CHECK_EQ(status_of(&B, pb, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, 1);
    evtchn_port_t p;
    CHECK_EQ(evtchn_alloc_unbound(&A, 2, &p), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_interdomain(&A, &B, pa, &p, &kick), -XEN_EINVAL);
    CHECK_EQ(evtchn_bind_virq(&A, VIRQ_DOM_EXC, 0, &p), -XEN_EINVAL);
    /* B may still bind... to nothing of A's: every port of A is closed. */
    CHECK_EQ(evtchn_bind_interdomain(&B, &A, ua, &p, &kick), -XEN_EINVAL);
}

/* ------------------------------------------------------------------ FIFO */

#define NPAGES 8
static u8 pool[NPAGES][4096] __attribute__((aligned(4096)));
static int refs[NPAGES];

/* The layer's frame references, modelled: frame gfn of the pool. */
void *evtchn_arch_map_frame(struct evtchn_domain *d, u64 gfn)
{
    (void)d;
    if (gfn >= NPAGES)
        return NULL;
    refs[gfn]++;
    return pool[gfn];
}

void evtchn_arch_unmap_frame(void *page)
{
    long i = ((u8 *)page - pool[0]) / 4096;
    if (i < 0 || i >= NPAGES || (u8 *)page != pool[i] || refs[i] <= 0)
        abort();
    refs[i]--;
}

static struct evtchn_fifo_control_block *cb_of(unsigned gfn, unsigned off)
{
    return (struct evtchn_fifo_control_block *)(pool[gfn] + off);
}

static event_word_t *word(unsigned page, evtchn_port_t p)
{
    return (event_word_t *)pool[page] + p % 1024;
}

#define W_P (1U << EVTCHN_FIFO_PENDING)
#define W_M (1U << EVTCHN_FIFO_MASKED)
#define W_L (1U << EVTCHN_FIFO_LINKED)
#define W_B (1U << EVTCHN_FIFO_BUSY)

/* What the layer does for init_control / expand_array. */
static int init_control(struct evtchn_domain *d, u32 vcpu, u64 gfn, u32 off)
{
    int rc = evtchn_fifo_control_check(d, vcpu, off);
    void *page;
    if (rc)
        return rc;
    page = evtchn_arch_map_frame(d, gfn);
    if (!page)
        return -XEN_EINVAL;
    rc = evtchn_fifo_init_control(d, vcpu, off, page);
    if (rc)
        evtchn_arch_unmap_frame(page);
    return rc;
}

static int expand(struct evtchn_domain *d, u64 gfn, u32 *kicks)
{
    int rc = evtchn_fifo_expand_check(d);
    void *page;
    if (rc)
        return rc;
    page = evtchn_arch_map_frame(d, gfn);
    if (!page)
        return -XEN_EINVAL;
    memset(page, 0, 4096);
    rc = evtchn_fifo_expand_array(d, page, kicks);
    if (rc)
        evtchn_arch_unmap_frame(page);
    return rc;
}

static void fifo_setup(void)
{
    u32 kicks;
    setup();
    memset(pool, 0, sizeof(pool));
    CHECK_EQ(init_control(&A, 0, 0, 0), 0);
    CHECK_EQ(init_control(&A, 1, 0, 2048), 0); /* two blocks in one frame */
    CHECK_EQ(expand(&A, 1, &kicks), 0);
}

TEST(fifo_init_control_checks_in_xens_order)
{
    u32 kicks;
    setup();
    memset(refs, 0, sizeof(refs));
    CHECK_EQ(expand(&A, 1, &kicks), -XEN_EOPNOTSUPP);   /* still 2-level */
    CHECK_EQ(evtchn_set_priority(&A, 0, 3), -XEN_ENOSYS);
    CHECK_EQ(evtchn_set_priority(&A, 5000, 3), -XEN_EINVAL);
    CHECK_EQ(init_control(&A, 2, 99, 0), -XEN_ENOENT);  /* vCPU before the frame */
    CHECK_EQ(init_control(&A, 0, 99, 4096 - 64), -XEN_EINVAL); /* crosses the page */
    CHECK_EQ(init_control(&A, 0, 0, 4096 - 72), 0);     /* last place that fits */
    CHECK(A.fifo != NULL);
    CHECK_EQ(init_control(&A, 0, 2, 0), -XEN_EINVAL);   /* once per vCPU */
    CHECK_EQ(refs[2], 0);
    CHECK_EQ(init_control(&A, 1, 99, 8), -XEN_EINVAL);  /* no such frame */
    CHECK_EQ(init_control(&A, 1, 2, 4), -XEN_EINVAL);   /* misaligned */
    CHECK_EQ(init_control(&A, 1, 2, 8), 0);
    CHECK_EQ(refs[0], 1);
    CHECK_EQ(refs[2], 1);
    CHECK_EQ(evtchn_set_priority(&A, 0, 16), -XEN_EINVAL);
    CHECK_EQ(evtchn_set_priority(&A, 0, 15), 0);
    /* Reset: every frame goes back. */
    evtchn_reset(&A);
    CHECK(A.fifo == NULL);
    CHECK_EQ(refs[0], 0);
    CHECK_EQ(refs[2], 0);
}

TEST(fifo_events_queue_in_order)
{
    evtchn_port_t a, b, c;
    struct evtchn_fifo_control_block *cb = cb_of(0, 0);
    fifo_setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &a), 0);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &b), 0);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &c), 0);
    /* First event: head of the empty default queue, READY, upcall. */
    CHECK_EQ(evtchn_send(&A, a, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 0);
    CHECK_EQ(*word(1, a), W_P | W_L);
    CHECK_EQ(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT], a);
    CHECK_EQ(cb->ready, 1U << EVTCHN_FIFO_PRIORITY_DEFAULT);
    CHECK_EQ(sh_a.vcpu_info[0].evtchn_upcall_pending, 1);
    /* Second: linked after the first, nothing more to tell. */
    CHECK_EQ(evtchn_send(&A, b, &kick), 0);
    CHECK(kick.dom == NULL);
    CHECK_EQ(*word(1, a), W_P | W_L | b);
    CHECK_EQ(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT], a);
    /* Again while still linked: nothing changes. */
    CHECK_EQ(evtchn_send(&A, b, &kick), 0);
    CHECK_EQ(*word(1, b), W_P | W_L);
    /* The guest consumes both (unlinks, clears P) and the READY bit; the
     * next event starts the queue again from the head. */
    *word(1, a) = 0;
    *word(1, b) = 0;
    cb->ready = 0;
    sh_a.vcpu_info[0].evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_send(&A, c, &kick), 0);
    CHECK(kick.dom == &A);
    CHECK_EQ(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT], c);
    CHECK_EQ(*word(1, b), 0); /* b was no longer linked: not touched */
    CHECK(evtchn_is_pending(&A, c));
    /* Close: P goes, LINKED stays until the guest unlinks: not reused. */
    CHECK_EQ(evtchn_close(&A, c), 0);
    CHECK_EQ(*word(1, c), W_L);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &a), 0);
    CHECK(a != c);
    *word(1, c) = 0;
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &b), 0);
    CHECK_EQ(b, c);
}

TEST(fifo_priorities_and_vcpus)
{
    evtchn_port_t hi, lo;
    struct evtchn_fifo_control_block *cb0 = cb_of(0, 0), *cb1 = cb_of(0, 2048);
    fifo_setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &hi), 0);
    CHECK_EQ(evtchn_bind_ipi(&A, 1, &lo), 0);
    CHECK_EQ(evtchn_set_priority(&A, hi, 0), 0);
    CHECK_EQ(evtchn_send(&A, lo, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 1);
    CHECK_EQ(evtchn_send(&A, hi, &kick), 0);
    CHECK(kick.dom == NULL); /* the vCPU's upcall is pending already */
    CHECK_EQ(cb1->ready, (1U << 0) | (1U << EVTCHN_FIFO_PRIORITY_DEFAULT));
    CHECK_EQ(cb1->head[0], hi);
    CHECK_EQ(cb1->head[EVTCHN_FIFO_PRIORITY_DEFAULT], lo);
    CHECK_EQ(cb0->ready, 0);
}

TEST(fifo_masked_events_wait_for_unmask)
{
    evtchn_port_t p;
    fifo_setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &p), 0);
    *word(1, p) = W_M;
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(kick.dom == NULL);
    CHECK_EQ(*word(1, p), W_M | W_P);
    CHECK(evtchn_is_pending(&A, p)); /* SCHEDOP_poll sees it */
    CHECK_EQ(evtchn_unmask(&A, p, &kick), 0);
    CHECK(kick.dom == &A);
    CHECK_EQ(*word(1, p), W_P | W_L);
    CHECK_EQ(evtchn_unmask(&A, 3000, &kick), -XEN_EINVAL);
}

TEST(fifo_ports_beyond_the_array_wait_for_their_page)
{
    evtchn_port_t p = 0;
    u32 kicks;
    fifo_setup();
    for (unsigned i = 1; i <= 1030; i++)
        CHECK_EQ(evtchn_bind_ipi(&A, 1, &p), -(i >= NPORTS) * XEN_ENOSPC);
    /* A's limit is 256 ports: B has none of its own. */
    CHECK_EQ(init_control(&B, 3, 3, 0), 0);
    CHECK_EQ(expand(&B, 4, &kicks), 0);
    for (unsigned i = 1; i <= 1030; i++)
        CHECK_EQ(evtchn_bind_ipi(&B, 3, &p), 0);
    CHECK_EQ(p, 1030);
    CHECK_EQ(evtchn_send(&B, p, &kick), 0);   /* no word yet: remembered */
    CHECK(kick.dom == NULL);
    CHECK(!evtchn_is_pending(&B, p));
    CHECK_EQ(expand(&B, 5, &kicks), 0);
    CHECK_EQ(kicks, 1U << 3);
    CHECK_EQ(*word(5, p), W_P | W_L);
    CHECK_EQ(cb_of(3, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p);
}

TEST(fifo_switch_keeps_what_was_pending)
{
    evtchn_port_t p;
    u32 kicks;
    setup();
    memset(pool, 0, sizeof(pool));
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &p), 0);
    mask(&sh_a, p);
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(pending(&sh_a, p));
    CHECK_EQ(init_control(&A, 0, 0, 0), 0);
    CHECK(!evtchn_is_pending(&A, p)); /* no word yet */
    CHECK_EQ(expand(&A, 1, &kicks), 0);
    CHECK_EQ(kicks, 1U);
    CHECK_EQ(*word(1, p), W_P | W_L);
}

TEST(fifo_queue_moves_with_bind_vcpu)
{
    evtchn_port_t p, q;
    struct evtchn_fifo_control_block *cb0 = cb_of(0, 0), *cb1 = cb_of(0, 2048);
    fifo_setup();
    CHECK_EQ(evtchn_alloc_unbound(&A, 1, &p), 0);
    CHECK_EQ(evtchn_bind_interdomain(&A, &A, p, &q, &kick), 0); /* q pending */
    CHECK_EQ(cb0->head[7], q);
    /* The guest consumes q; then q moves to vCPU 1 and fires again. */
    *word(1, q) = 0;
    CHECK_EQ(evtchn_bind_vcpu(&A, q, 1), 0);
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 1);
    CHECK_EQ(cb1->head[7], q);
    /* vCPU 0's queue must not link after q any more. */
    CHECK_EQ(A.vcpu[0].fifo_tail[7], 0);
    CHECK_EQ(evtchn_bind_vcpu(&A, q, 0), 0);
    *word(1, q) = 0;
    cb0->ready = 0;
    sh_a.vcpu_info[0].evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_send(&A, p, &kick), 0);
    CHECK(kick.dom == &A && kick.vcpu == 0);
    CHECK_EQ(cb0->ready, 1U << 7);
}

TEST(fifo_tail_consumed_under_us)
{
    evtchn_port_t a, b;
    struct evtchn_fifo_control_block *cb = cb_of(0, 0);
    fifo_setup();
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &a), 0);
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &b), 0);
    CHECK_EQ(evtchn_send(&A, a, &kick), 0);
    /* The guest unlinked a but left READY set: b is a new head, and the
     * READY bit already says so (no new upcall). */
    *word(1, a) &= ~W_L;
    CHECK_EQ(evtchn_send(&A, b, &kick), 0);
    CHECK_EQ(cb->head[7], b);
    CHECK_EQ(*word(1, a) & EVTCHN_FIFO_LINK_MASK, 0);
    CHECK(kick.dom == NULL);
    /* A BUSY tail (Keel retrying) is linked through and BUSY cleared. */
    CHECK_EQ(evtchn_bind_ipi(&A, 0, &a), 0);
    *word(1, b) |= W_B;
    CHECK_EQ(evtchn_send(&A, a, &kick), 0);
    CHECK_EQ(*word(1, b), W_P | W_L | a);
}

TEST(fifo_131072_ports)
{
    evtchn_port_t p = 0;
    u32 kicks;
    static u8 big[128][4096] __attribute__((aligned(4096)));
    setup();
    memset(pool, 0, sizeof(pool));
    CHECK_EQ(init_control(&B, 0, 0, 0), 0);
    for (unsigned i = 0; i < 128; i++)
        CHECK_EQ(evtchn_fifo_expand_array(&B, big[i], &kicks), 0);
    CHECK_EQ(evtchn_fifo_expand_check(&B), -XEN_ENOSPC);
    for (unsigned i = 1; i < EVTCHN_FIFO_PORTS; i++)
        CHECK_EQ(evtchn_bind_ipi(&B, 0, &p), 0);
    CHECK_EQ(p, EVTCHN_FIFO_PORTS - 1);
    CHECK_EQ(evtchn_bind_ipi(&B, 0, &p), -XEN_ENOSPC);
    CHECK_EQ(evtchn_send(&B, EVTCHN_FIFO_PORTS - 1, &kick), 0);
    CHECK_EQ(((event_word_t *)big[127])[1023], W_P | W_L);
    /* The big pages are not the pool's: forget them before the reset. */
    memset(B.fifo->array, 0, sizeof(B.fifo->array));
    B.fifo->nr_words = 0;
    evtchn_reset(&B);
    CHECK(B.fifo == NULL);
    CHECK_EQ(refs[0], 0);
    /* Back to 2-level: 4096 ports again. */
    for (unsigned i = 1; i < EVTCHN_2L_PORTS; i++)
        CHECK_EQ(evtchn_bind_ipi(&B, 0, &p), 0);
    CHECK_EQ(evtchn_bind_ipi(&B, 0, &p), -XEN_ENOSPC);
}
