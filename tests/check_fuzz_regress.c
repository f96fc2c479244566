/*
 * check_fuzz_regress.c -- bugs the fuzzers found, as unit tests (the
 * inputs themselves are in fuzz/crashes/<target>/ and make fuzz-smoke
 * replays them). One test per bug, named after the behaviour required.
 */
#include <string.h>

#include "helper_tcp.h"

/* Run every timer out, draining; the stack must go quiet within a day. */
static void
run_timers_out(pn_tt *t)
{
    for (int i = 0; i < 10000; i++) {
        pn_test_drain_all(t->s);
        uint64_t d = pn_next_deadline(t->s);
        if (d == PN_TIME_NEVER)
            return;
        tt_at(t, d > t->now ? d : t->now + 1);
    }
    ck_abort_msg("timers never ran out");
}

/* SYN, then an ACK that acknowledges our SYN-ACK but carries an old
 * sequence number: the half-open entry becomes a control block in
 * SYN_RECEIVED and the segment is dropped with an ACK. */
static int
child_with_bad_ack(pn_tt *t, uint32_t *iss)
{
    int l = tt_listen(t, 80, 4);
    pni_tcp_repr syn, sa, ack, r;
    memset(&syn, 0, sizeof syn);
    syn.sport = 1234;
    syn.dport = 80;
    syn.seq = 100000;
    syn.flags = PNI_TCP_SYN;
    syn.win = 65535;
    tt_inject(t, &syn, NULL, 0);
    EXPECT(tt_out(t, &sa));
    EXPECT_UINT(sa.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    *iss = sa.seq;
    ack = syn;
    ack.flags = PNI_TCP_ACK;
    ack.seq = syn.seq + 1 - 5000; /* left of the window */
    ack.ack = sa.seq + 1;
    tt_inject(t, &ack, NULL, 0);
    EXPECT(tt_out(t, &r));
    EXPECT_UINT(r.flags, PNI_TCP_ACK);
    tt_none(t);
    return l;
}

/* fuzz/crashes/fuzz_api/tcp-synrcvd-child-without-timer: the child had no
 * timer and stayed in SYN_RECEIVED for ever (a remote peer could fill the
 * TCP pool with two segments per block). */
START_TEST(test_tcp_syn_received_bad_seq_ack_child_times_out)
{
    pn_tt t;
    tt_init(&t, NULL);
    uint32_t iss;
    int l = child_with_bad_ack(&t, &iss);
    EXPECT(pn_next_deadline(t.s) != PN_TIME_NEVER);
    /* the SYN-ACK is retransmitted, then the child gives up */
    tt_at(&t, pn_next_deadline(t.s));
    pni_tcp_repr r;
    EXPECT(tt_out(&t, &r));
    EXPECT_UINT(r.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    EXPECT_UINT(r.seq, iss);
    run_timers_out(&t);
    EXPECT_UINT(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 1); /* the listener only */
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    run_timers_out(&t);
    tt_free_check(&t);
}
END_TEST

/* fuzz/crashes/fuzz_api/tcp-synrcvd-child-of-closed-listener: closing the
 * listener left the child pointing at it; completing the handshake then
 * dereferenced the freed listener. Now the child is reset with it. */
START_TEST(test_tcp_listener_close_resets_syn_received_children)
{
    pn_tt t;
    tt_init(&t, NULL);
    uint32_t iss;
    int l = child_with_bad_ack(&t, &iss);
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    pni_tcp_repr r;
    EXPECT(tt_out(&t, &r));
    EXPECT(r.flags & PNI_TCP_RST);
    tt_none(&t);
    pni_tcp_repr ack;
    memset(&ack, 0, sizeof ack);
    ack.sport = 1234;
    ack.dport = 80;
    ack.seq = 100001;
    ack.ack = iss + 1;
    ack.flags = PNI_TCP_ACK;
    ack.win = 65535;
    tt_inject(&t, &ack, NULL, 0); /* nobody is there any more: RST */
    EXPECT(tt_out(&t, &r));
    EXPECT(r.flags & PNI_TCP_RST);
    run_timers_out(&t);
    tt_free_check(&t);
}
END_TEST

/* fuzz/crashes/fuzz_api/tcp-orphan-persist-never-gives-up: an orphan
 * (closed with data still queued) facing a zero window from a peer that
 * then goes silent probed for ever and was never freed. */
START_TEST(test_tcp_orphan_zero_window_silent_peer_is_dropped)
{
    pn_tt t;
    tt_init(&t, NULL);
    int l = tt_listen(&t, 80, 4);
    pni_tcp_repr sa;
    int c = tt_accept_conn(&t, l, 80, 1234, 100, NULL, &sa);
    ck_assert_int_ge(c, 0);
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    a.win = 0;
    tt_inject(&t, &a, NULL, 0);
    pn_test_drain_all(t.s);
    static const uint8_t data[3000];
    ck_assert_int_gt(pn_tcp_send(t.s, c, data, sizeof data, t.now), 0);
    pn_test_drain_all(t.s);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    run_timers_out(&t);
    EXPECT(pn_stats_get(t.s)->tcp_zero_window_probe > 0);
    tt_free_check(&t);
}
END_TEST

/* fuzz/crashes/fuzz_api/tcp-fin-unsent-without-timer: the application
 * closed an idle connection while the TX pool was exhausted by another
 * one, so the FIN could not be built; nothing was in flight, so no timer
 * ran and the orphan sat in FIN_WAIT_1 for ever. A FIN that could not be
 * sent must be retried by a timer, as a zero window's data is (RFC 9293
 * 3.8.6.1; Linux arms its probe timer when a send fails with nothing out). */
START_TEST(test_tcp_fin_blocked_by_exhausted_pool_is_retried)
{
    pn_config c;
    tt_config(&c, NULL);
    c.tx_bufs = 4;
    pn_tt t;
    tt_init_cfg(&t, &c);
    int l = tt_listen(&t, 80, 4);
    int a = tt_accept_conn(&t, l, 80, 1234, 100, NULL, NULL);
    int b = tt_accept_conn(&t, l, 80, 1235, 900, NULL, NULL);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(b, 0);
    tt_none(&t);
    /* b's burst takes every TX block (nothing drained yet) */
    static const uint8_t data[20000];
    ck_assert_int_gt(pn_tcp_send(t.s, b, data, sizeof data, t.now), 0);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TXBUF].used, 4);
    uint64_t nobufs = pn_stats_get(t.s)->tcp_nobufs;
    const pni_tcpcb *acb = tt_cb(&t, a);
    ck_assert_int_eq(pn_tcp_close(t.s, a, t.now), 0);
    ck_assert_int_eq(acb->state, PN_TCP_FIN_WAIT_1); /* an orphan now */
    ck_assert_uint_eq(acb->snd_max, acb->snd_una); /* nothing in flight */
    ck_assert_uint_gt(pn_stats_get(t.s)->tcp_nobufs, nobufs); /* the FIN did not fit */
    /* the FIN still goes out within the override timeout (<= 1 s) */
    uint64_t until = t.now + 1000000;
    int fin_seen = 0;
    pni_tcp_repr o;
    while (!fin_seen) {
        while (tt_out(&t, &o))
            if (o.dport == 1234 && (o.flags & PNI_TCP_FIN))
                fin_seen = 1;
        uint64_t d = pn_next_deadline(t.s);
        if (fin_seen || d == PN_TIME_NEVER || d > until)
            break;
        tt_at(&t, d > t.now ? d : t.now + 1);
    }
    ck_assert_msg(fin_seen, "the FIN of the closed connection never left");
    ck_assert_int_eq(pn_tcp_abort(t.s, b, t.now), 0);
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    run_timers_out(&t);
    tt_free_check(&t);
}
END_TEST

/* fuzz/crashes/fuzz_api/tcp-orphan-synrcvd-syncnt-127-*: a simultaneous
 * open with PN_TCP_SYNCNT 127, then close: the orphan in SYN_RECEIVED
 * retransmitted its SYN-ACK 127 times at rto_max, for hours. Orphans are
 * bounded by the stack's default SYN retries (6: about two minutes). */
START_TEST(test_tcp_orphan_syn_received_bounded_by_default_retries)
{
    pn_tt t;
    tt_init(&t, NULL);
    int c = pn_tcp_open(t.s);
    ck_assert_int_ge(c, 0);
    ck_assert_int_eq(pn_tcp_setopt(t.s, c, PN_TCP_SYNCNT, 127), 0);
    pn_sockaddr to = {{{t.peer[0], t.peer[1], t.peer[2], t.peer[3]}}, 80};
    ck_assert_int_eq(pn_tcp_connect(t.s, c, &to, t.now), PN_EINPROGRESS);
    pni_tcp_repr syn, o;
    ck_assert(tt_out(&t, &syn));
    ck_assert_uint_eq(syn.flags, PNI_TCP_SYN);
    pni_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = 80;
    r.dport = syn.sport;
    r.seq = 5000;
    r.flags = PNI_TCP_SYN; /* simultaneous open (RFC 9293 3.5) */
    r.win = 65535;
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    ck_assert_uint_eq(o.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_SYN_RECEIVED);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    uint64_t start = t.now;
    run_timers_out(&t);
    ck_assert_uint_lt(t.now - start, 600000000u); /* ten minutes at most */
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 0);
    tt_free_check(&t);
}
END_TEST

/* fuzz/crashes/fuzz_api/tcp-ooo-range-without-bytes: an out-of-order
 * segment adjacent to a held range merged with it, then its bytes could
 * not be stored (chunk pool empty); removing "its" range found no exact
 * match, so the merged range claimed bytes the queue never held. Filling
 * the hole then made them readable past the end of the chunks. */
START_TEST(test_tcp_ooo_write_failure_keeps_ranges_exact)
{
    pn_config cfg;
    tt_config(&cfg, NULL);
    cfg.tcp.buf_budget = 2040; /* one chunk for everything */
    cfg.tcp.rcvbuf = 65535;
    pn_tt t;
    tt_init_cfg(&t, &cfg);
    int l = tt_listen(&t, 80, 4);
    int c = tt_accept_conn(&t, l, 80, 1234, 100, NULL, NULL);
    ck_assert_int_ge(c, 0);
    pni_tcp_repr o;
    static uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    uint32_t s0 = a.seq;
    /* [100, 1100) out of order: fits the one chunk */
    a.seq = s0 + 100;
    tt_inject(&t, &a, data + 100, 1000);
    while (tt_out(&t, &o))
        ;
    uint64_t drops = pn_stats_get(t.s)->tcp_rcvbuf_drop;
    /* [1100, 2500) touches it, but needs a second chunk: dropped */
    a.seq = s0 + 1100;
    tt_inject(&t, &a, data + 1100, 1400);
    while (tt_out(&t, &o))
        ;
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_rcvbuf_drop, drops + 1);
    /* the hole [0, 100): only [0, 1100) may become readable */
    a.seq = s0;
    tt_inject(&t, &a, data, 100);
    while (tt_out(&t, &o))
        ;
    pn_sock_status_t ss;
    ck_assert_int_eq(pn_sock_status(t.s, c, &ss), 0);
    ck_assert_uint_eq(ss.readable, 1100);
    static uint8_t got[3000];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, got, sizeof got, t.now), 1100);
    ck_assert_mem_eq(got, data, 1100);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    run_timers_out(&t);
    tt_free_check(&t);
}
END_TEST

Suite *
fuzz_regress_suite(void)
{
    Suite *s = suite_create("fuzz_regress");
    TCase *tc = tcase_create("tcp");
    tcase_add_test(tc, test_tcp_syn_received_bad_seq_ack_child_times_out);
    tcase_add_test(tc, test_tcp_listener_close_resets_syn_received_children);
    tcase_add_test(tc, test_tcp_orphan_zero_window_silent_peer_is_dropped);
    tcase_add_test(tc, test_tcp_fin_blocked_by_exhausted_pool_is_retried);
    tcase_add_test(tc, test_tcp_orphan_syn_received_bounded_by_default_retries);
    tcase_add_test(tc, test_tcp_ooo_write_failure_keeps_ranges_exact);
    suite_add_tcase(s, tc);
    return s;
}
