/*
 * check_tcp_timer.c -- TCP timers driven by explicit time: RTO backoff
 * (RFC 6298 5.5) and give-up, SYN retries ending in PN_ETIMEDOUT, delayed
 * ACKs, zero-window probes, keepalive probes and give-up, TIME_WAIT and
 * FIN_WAIT_2 expiry. Each asserts exact segments at exact times.
 */
#include <string.h>

#include "helper_tcp.h"

/* Poll at `at` and expect exactly one segment with these fields. */
static void
expect_at(pn_tt *t, uint64_t at, uint8_t fl, uint32_t seq, uint32_t ack, size_t len)
{
    tt_at(t, at - 1);
    tt_none(t);
    tt_at(t, at);
    pni_tcp_repr o;
    ck_assert_msg(tt_out(t, &o), "nothing at %llu", (unsigned long long)at);
    EXPECT_SEG(o, fl, seq, ack);
    ck_assert_uint_eq(o.payload_len, len);
    tt_none(t);
}

START_TEST(test_tcp_established_rto_backoff_then_timeout)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    uint32_t s1 = syn.seq + 1;
    ck_assert_int_eq(pn_tcp_send(t.s, c, "x", 1, t.now), 1);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH, s1, 5001);
    /* RTT sample 0 -> RTO = rto_min = 200 ms, then doubling */
    uint64_t at = t.now, rto = 200000;
    for (int i = 0; i < 12; i++) {
        at += rto;
        expect_at(&t, at, PNI_TCP_ACK | PNI_TCP_PSH, s1, 5001, 1);
        rto = rto * 2 > 60000000 ? 60000000 : rto * 2;
    }
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    /* R2 reached: the connection is aborted, with a RST as ABORT sends
     * (RFC 9293 3.10.5; FreeBSD tcp_drop), so a peer that only lost its
     * return path does not keep a half-open connection. */
    tt_at(&t, at + rto);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_RST | PNI_TCP_ACK, s1 + 1, 5001);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_CLOSED);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_timeout, 1);
    uint8_t b[4];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 4, t.now), PN_ETIMEDOUT);
    ck_assert_int_eq(pn_tcp_send(t.s, c, "x", 1, t.now), PN_ETIMEDOUT);
    pn_sock_status_t st;
    ck_assert_int_eq(pn_sock_status(t.s, c, &st), 0);
    ck_assert_int_eq(st.pending_error, PN_ETIMEDOUT);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_ack_resets_backoff)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    uint32_t s1 = syn.seq + 1;
    ck_assert_int_eq(pn_tcp_send(t.s, c, "ab", 2, t.now), 2);
    pni_tcp_repr o;
    ck_assert(tt_out(&t, &o));
    uint64_t t0 = t.now;
    expect_at(&t, t0 + 200000, PNI_TCP_ACK | PNI_TCP_PSH, s1, 5001, 2);
    expect_at(&t, t0 + 600000, PNI_TCP_ACK | PNI_TCP_PSH, s1, 5001, 2);
    /* Karn: the ACK of a retransmitted segment gives no sample; the
     * backoff is cleared and the next segment gets the base RTO. */
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    a.ack = s1 + 2;
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_send(t.s, c, "c", 1, t.now), 1);
    ck_assert(tt_out(&t, &o));
    expect_at(&t, t.now + 200000, PNI_TCP_ACK | PNI_TCP_PSH, s1 + 2, 5001, 1);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_syn_sent_retries_then_etimedout)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int c = pn_tcp_open(t.s);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 80};
    ck_assert_int_eq(pn_tcp_connect(t.s, c, &to, t.now), PN_EINPROGRESS);
    ck_assert_int_eq(pn_tcp_connect(t.s, c, &to, t.now), PN_EALREADY);
    pni_tcp_repr o;
    ck_assert(tt_out(&t, &o));
    ck_assert_uint_eq(o.flags, PNI_TCP_SYN);
    uint32_t iss = o.seq;
    uint64_t at = t.now, rto = 1000000;
    /* RFC 6298 2.1 initial RTO 1 s, doubling: 1, 3, 7, 15, 31, 63 s */
    for (int i = 0; i < 6; i++) {
        at += rto;
        expect_at(&t, at, PNI_TCP_SYN, iss, 0, 0);
        rto *= 2;
    }
    rto = 60000000; /* 64 s capped by rto_max */
    tt_at(&t, at + rto - 1);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_SYN_SENT);
    tt_at(&t, at + rto);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_CLOSED);
    uint8_t b[1];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 1, t.now), PN_ETIMEDOUT);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_timeout, 1);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_delack_timer_and_two_segments)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int l = tt_listen(&t, 80, 4);
    pni_tcp_repr sa, o;
    int c = tt_accept_conn(&t, l, 80, 1234, 100, NULL, &sa);
    static uint8_t d[1460];
    memset(d, 'a', sizeof d);
    /* one full segment: ACK after delack_us (40 ms) */
    pni_tcp_repr r = tt_seg(&t, c, PNI_TCP_ACK);
    tt_inject(&t, &r, d, 1460);
    tt_none(&t);
    expect_at(&t, t.now + 40000, PNI_TCP_ACK, sa.seq + 1, 101 + 1460, 0);
    /* two full segments: ACK at once on the second (RFC 5681 4.2) */
    r = tt_seg(&t, c, PNI_TCP_ACK);
    tt_inject(&t, &r, d, 1460);
    tt_none(&t);
    r = tt_seg(&t, c, PNI_TCP_ACK);
    tt_inject(&t, &r, d, 1460);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, sa.seq + 1, 101 + 3 * 1460);
    tt_none(&t);
    /* out of order: duplicate ACK at once */
    r = tt_seg(&t, c, PNI_TCP_ACK);
    r.seq += 1460;
    tt_inject(&t, &r, d, 100);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, sa.seq + 1, 101 + 3 * 1460);
    tt_none(&t);
    /* the deadline is nothing pending but... keep it cheap: abort */
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    pn_test_drain_all(t.s);
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_zero_window_probes)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    uint32_t s1 = syn.seq + 1;
    ck_assert_int_eq(pn_tcp_send(t.s, c, "0123456789", 10, t.now), 10);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH, s1, 5001);
    /* the peer takes it and closes its window */
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    a.ack = s1 + 10;
    a.win = 0;
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_send(t.s, c, "abc", 3, t.now), 3);
    tt_none(&t);
    /* probes: SND.UNA - 1, no data, at RTO, then doubling */
    uint64_t at = t.now;
    uint64_t rto = 200000;
    for (int i = 0; i < 4; i++) {
        at += rto;
        expect_at(&t, at, PNI_TCP_ACK, s1 + 9, 5001, 0);
        rto *= 2;
        /* the peer answers each probe: still zero */
        tt_inject(&t, &a, NULL, 0);
        tt_none(&t);
    }
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_zero_window_probe, 4);
    /* the window opens: the data goes at once */
    a.win = 1000;
    tt_inject(&t, &a, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH, s1 + 10, 5001);
    ck_assert_uint_eq(o.payload_len, 3);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_keepalive_probes_then_give_up)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    uint32_t s1 = syn.seq + 1;
    ck_assert_int_eq(pn_tcp_setopt(t.s, c, PN_TCP_KEEPIDLE, 10), 0);
    ck_assert_int_eq(pn_tcp_setopt(t.s, c, PN_TCP_KEEPINTVL, 2), 0);
    ck_assert_int_eq(pn_tcp_setopt(t.s, c, PN_TCP_KEEPCNT, 3), 0);
    ck_assert_int_eq(pn_tcp_setopt(t.s, c, PN_TCP_KEEPALIVE, 1), 0);
    uint64_t t0 = t.now;
    /* RFC 9293 3.8.4: probe = SND.NXT - 1, no data; answered: idle again */
    expect_at(&t, t0 + 10000000, PNI_TCP_ACK, s1 - 1, 5001, 0);
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    uint64_t t1 = t.now;
    expect_at(&t, t1 + 10000000, PNI_TCP_ACK, s1 - 1, 5001, 0);
    expect_at(&t, t1 + 12000000, PNI_TCP_ACK, s1 - 1, 5001, 0);
    expect_at(&t, t1 + 14000000, PNI_TCP_ACK, s1 - 1, 5001, 0);
    tt_at(&t, t1 + 16000000);
    ck_assert(tt_out(&t, &o));
    ck_assert(o.flags & PNI_TCP_RST);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_CLOSED);
    uint8_t b[1];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 1, t.now), PN_ETIMEDOUT);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_keepalive_tx, 4);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_fin_wait_2_orphan_times_out)
{
    pn_tcp_config tc = tt_plain();
    tc.fin_wait2_us = 5000000;
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_FIN, syn.seq + 1, 5001);
    pni_tcp_repr a;
    memset(&a, 0, sizeof a);
    a.sport = 80;
    a.dport = syn.sport;
    a.seq = 5001;
    a.ack = syn.seq + 2;
    a.flags = PNI_TCP_ACK;
    a.win = 1000;
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 1);
    tt_at(&t, t.now + 5000000 - 1);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 1);
    tt_at(&t, t.now + 1);
    tt_none(&t);
    ck_assert_uint_eq(pn_next_deadline(t.s), PN_TIME_NEVER);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_time_wait_fin_retransmit_reacked_and_expires)
{
    pn_tcp_config tc = tt_plain();
    tc.msl_us = 1000000;
    pn_tt t;
    tt_init(&t, &tc);
    int l = tt_listen(&t, 80, 4);
    pni_tcp_repr sa, o;
    int c = tt_accept_conn(&t, l, 80, 1234, 100, NULL, &sa);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0); /* active close */
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_FIN, sa.seq + 1, 101);
    pni_tcp_repr f;
    memset(&f, 0, sizeof f);
    f.sport = 1234;
    f.dport = 80;
    f.seq = 101;
    f.ack = sa.seq + 2;
    f.flags = PNI_TCP_ACK | PNI_TCP_FIN;
    f.win = 1000;
    tt_inject(&t, &f, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, sa.seq + 2, 102);
    tt_none(&t);
    /* the peer did not get our ACK: its FIN again, ACKed, 2MSL restarts */
    tt_at(&t, t.now + 1500000);
    tt_inject(&t, &f, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, sa.seq + 2, 102);
    tt_none(&t);
    uint64_t end = t.now + 2000000;
    tt_at(&t, end - 1);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 2);
    tt_at(&t, end);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 1);
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    tt_free_check(&t);
}
END_TEST

Suite *
tcp_timer_suite(void)
{
    Suite *s = suite_create("tcp_timer");
    TCase *tc = tcase_create("timers");
    tcase_add_test(tc, test_tcp_established_rto_backoff_then_timeout);
    tcase_add_test(tc, test_tcp_established_ack_resets_backoff);
    tcase_add_test(tc, test_tcp_syn_sent_retries_then_etimedout);
    tcase_add_test(tc, test_tcp_established_delack_timer_and_two_segments);
    tcase_add_test(tc, test_tcp_established_zero_window_probes);
    tcase_add_test(tc, test_tcp_established_keepalive_probes_then_give_up);
    tcase_add_test(tc, test_tcp_fin_wait_2_orphan_times_out);
    tcase_add_test(tc, test_tcp_time_wait_fin_retransmit_reacked_and_expires);
    suite_add_tcase(s, tc);
    return s;
}
