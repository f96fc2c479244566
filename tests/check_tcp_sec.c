/*
 * check_tcp_sec.c -- hardening: RFC 5961 challenge ACKs (RST and SYN in
 * the window, rate limit), exact RST, old duplicates, PAWS (RFC 7323),
 * SYN cookies (RFC 4987), a 100,000-SYN flood against backlog 128, and
 * options negotiated only when both sides offer them.
 */
#include <string.h>

#include "helper_tcp.h"

/* An established server-side connection; *iss gets our ISS. */
static int
est(pn_tt *t, int *l, uint32_t *iss)
{
    *l = tt_listen(t, 80, 4);
    pni_tcp_repr sa;
    int c = tt_accept_conn(t, *l, 80, 1234, 100, NULL, &sa);
    *iss = sa.seq;
    return c;
}

START_TEST(test_tcp_established_inwindow_rst_challenge_ack)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int l;
    uint32_t iss;
    int c = est(&t, &l, &iss);
    pni_tcp_repr r = tt_seg(&t, c, PNI_TCP_RST), o;
    r.seq += 100; /* in the window, not exact */
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, iss + 1, 101);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    /* out of the window: silently ignored */
    r.seq += 1000000;
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    /* exact: reset, nothing sent */
    r = tt_seg(&t, c, PNI_TCP_RST);
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_CLOSED);
    uint8_t b[1];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 1, t.now), PN_ECONNRESET);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_challenge_ack, 1);
    pn_tcp_close(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_syn_challenge_ack)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int l;
    uint32_t iss;
    int c = est(&t, &l, &iss);
    pni_tcp_repr r = tt_seg(&t, c, PNI_TCP_SYN), o;
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, iss + 1, 101);
    tt_none(&t);
    r.seq = 7; /* anywhere */
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, iss + 1, 101);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    pn_tcp_abort(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_challenge_ack_rate_limited)
{
    pn_tcp_config tc = tt_plain();
    tc.challenge_ack_limit = 2;
    pn_tt t;
    tt_init(&t, &tc);
    int l;
    uint32_t iss;
    int c = est(&t, &l, &iss);
    pni_tcp_repr r = tt_seg(&t, c, PNI_TCP_RST), o;
    r.seq += 10;
    for (int i = 0; i < 5; i++)
        tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    ck_assert(tt_out(&t, &o));
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_challenge_ack_limited, 3);
    tt_at(&t, t.now + 1000000); /* a new second */
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    tt_none(&t);
    pn_tcp_abort(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_old_duplicate_acked_ignored)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int l;
    uint32_t iss;
    int c = est(&t, &l, &iss);
    pni_tcp_repr r = tt_seg(&t, c, PNI_TCP_ACK), o;
    tt_inject(&t, &r, "abcd", 4);
    r.seq = 101;
    tt_inject(&t, &r, "abcd", 4); /* old duplicate: ACK, not delivered twice */
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, iss + 1, 105);
    tt_none(&t);
    uint8_t b[16];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, sizeof b, t.now), 4);
    /* an ACK for data never sent: ACK and drop (RFC 9293 3.10.7.4) */
    r = tt_seg(&t, c, PNI_TCP_ACK);
    r.ack = iss + 1000;
    tt_inject(&t, &r, "zz", 2);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, iss + 1, 105);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, sizeof b, t.now), PN_EAGAIN);
    pn_tcp_abort(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_paws_drops_old_timestamp)
{
    pn_tt t;
    tt_init(&t, NULL);
    int l = tt_listen(&t, 80, 4);
    pni_tcp_repr opt, sa, o;
    memset(&opt, 0, sizeof opt);
    opt.has_mss = 1;
    opt.mss = 1460;
    opt.has_ts = 1;
    opt.ts_val = 5000;
    opt.sack_ok = 1;
    opt.has_ws = 1;
    opt.ws = 7;
    int c = tt_accept_conn(&t, l, 80, 1234, 100, &opt, &sa);
    ck_assert(sa.has_ts && sa.ts_ecr == 5000 && sa.sack_ok && sa.has_ws);
    pni_tcpcb *cb = tt_cb(&t, c);
    ck_assert(cb->t_flags & PNI_TF_TS);
    ck_assert_uint_eq(cb->snd_wscale, 7);
    pni_tcp_repr r = tt_seg(&t, c, PNI_TCP_ACK);
    r.ts_val = 6000;
    tt_inject(&t, &r, "new", 3);
    ck_assert_uint_eq(cb->ts_recent, 6000);
    r = tt_seg(&t, c, PNI_TCP_ACK);
    r.ts_val = 5500; /* older than TS.Recent: PAWS */
    tt_inject(&t, &r, "old", 3);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, sa.seq + 1, 104);
    ck_assert(o.has_ts && o.ts_ecr == 6000);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_paws_drop, 1);
    uint8_t b[16];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, sizeof b, t.now), 3);
    ck_assert_mem_eq(b, "new", 3);
    pn_tcp_abort(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_listen_options_only_when_offered)
{
    pn_tt t;
    tt_init(&t, NULL);
    int l = tt_listen(&t, 80, 4);
    pni_tcp_repr sa;
    /* a SYN with no options: the SYN-ACK offers none but MSS */
    int c = tt_accept_conn(&t, l, 80, 1234, 100, NULL, &sa);
    ck_assert(sa.has_mss && !sa.has_ws && !sa.sack_ok && !sa.has_ts);
    pni_tcpcb *cb = tt_cb(&t, c);
    ck_assert(!(cb->t_flags & (PNI_TF_TS | PNI_TF_SACK | PNI_TF_WS)));
    ck_assert_uint_eq(cb->peer_mss, 536); /* RFC 9293 3.7.1 default */
    pn_tcp_abort(t.s, c, t.now);
    pn_test_drain_all(t.s);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_listen_full_queue_syncookie_completes)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int l = tt_listen(&t, 80, 1); /* one half-open entry, then cookies */
    pni_tcp_repr r, o;
    memset(&r, 0, sizeof r);
    r.sport = 2000;
    r.dport = 80;
    r.seq = 1;
    r.flags = PNI_TCP_SYN;
    r.win = 65535;
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_SYN].used, 1);
    /* second SYN: the queue is full, a cookie SYN-ACK, no state */
    r.sport = 2001;
    r.seq = 5000;
    r.has_mss = 1;
    r.mss = 1400;
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    ck_assert_uint_eq(o.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    ck_assert_uint_eq(o.ack, 5001);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_SYN].used, 1);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_syncookie_tx, 1);
    /* a forged ACK is refused with a RST */
    pni_tcp_repr a;
    memset(&a, 0, sizeof a);
    a.sport = 2001;
    a.dport = 80;
    a.seq = 5001;
    a.ack = o.seq + 2;
    a.flags = PNI_TCP_ACK;
    a.win = 1000;
    tt_inject(&t, &a, NULL, 0);
    pni_tcp_repr rr;
    ck_assert(tt_out(&t, &rr));
    EXPECT_SEG(rr, PNI_TCP_RST, o.seq + 2, 0);
    /* the right one completes the handshake from the cookie alone */
    a.ack = o.seq + 1;
    tt_inject(&t, &a, "hi", 2);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_syncookie_ok, 1);
    int c = pn_tcp_accept(t.s, l, NULL);
    ck_assert_int_ge(c, 0);
    ck_assert_uint_eq(tt_cb(&t, c)->peer_mss, 1400); /* cookie MSS table entry */
    uint8_t b[4];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 4, t.now), 2);
    pn_tcp_abort(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

/* 100,000 spoofed SYNs against a listener with backlog 128: every pool
 * stays within its capacity, and a real client still connects. */
START_TEST(test_tcp_listen_syn_flood_real_client_connects)
{
    pn_tcp_config tc;
    memset(&tc, 0, sizeof tc);
    tc.syn_queue = 256;
    pn_tt t;
    tt_init(&t, &tc);
    int l = tt_listen(&t, 80, 128);
    uint64_t rng = 42;
    pni_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.dport = 80;
    r.flags = PNI_TCP_SYN;
    r.win = 65535;
    r.has_mss = 1;
    r.mss = 1460;
    r.sack_ok = 1;
    r.has_ts = 1;
    r.has_ws = 1;
    r.ws = 7;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = pn_test_rand(&rng);
        uint8_t src[4] = {(uint8_t)(11 + (v % 200)), (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                          (uint8_t)(1 + (v >> 24) % 250)};
        r.sport = (uint16_t)(1024 + (v >> 32) % 60000);
        r.seq = (uint32_t)(v >> 20);
        r.ts_val = (uint32_t)v;
        if ((i & 1023) == 0)
            tt_at(&t, t.now + 1000); /* time moves; SYN-ACK timers run */
        tt_inject_from(&t, src, &r, NULL, 0);
        pn_test_drain_all(t.s); /* the SYN-ACKs go nowhere */
    }
    const pn_stats *st = pn_stats_get(t.s);
    for (int p = 0; p < PN_POOL_COUNT; p++)
        ck_assert_uint_le(st->pool[p].peak, st->pool[p].capacity);
    ck_assert_uint_le(st->pool[PN_POOL_SYN].used, 128);
    ck_assert_uint_gt(st->tcp_syncookie_tx, 90000);
    ck_assert_uint_eq(st->pool[PN_POOL_TCPBUF].used, 0);
    /* the real client (10.0.0.2) */
    pni_tcp_repr opt;
    memset(&opt, 0, sizeof opt);
    opt.has_mss = 1;
    opt.mss = 1460;
    opt.sack_ok = 1;
    opt.has_ts = 1;
    opt.ts_val = 77;
    opt.has_ws = 1;
    opt.ws = 2;
    pni_tcp_repr sa;
    int c = tt_accept_conn(&t, l, 80, 33333, 999, &opt, &sa);
    pni_tcpcb *cb = tt_cb(&t, c);
    ck_assert(cb->t_flags & PNI_TF_SACK);
    ck_assert(cb->t_flags & PNI_TF_TS);
    ck_assert_uint_eq(cb->snd_wscale, 2);
    pn_tcp_abort(t.s, c, t.now);
    pn_tcp_close(t.s, l, t.now);
    tt_free_check(&t);
}
END_TEST

Suite *
tcp_sec_suite(void)
{
    Suite *s = suite_create("tcp_sec");
    TCase *tc = tcase_create("sec");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tcp_established_inwindow_rst_challenge_ack);
    tcase_add_test(tc, test_tcp_established_syn_challenge_ack);
    tcase_add_test(tc, test_tcp_established_challenge_ack_rate_limited);
    tcase_add_test(tc, test_tcp_established_old_duplicate_acked_ignored);
    tcase_add_test(tc, test_tcp_established_paws_drops_old_timestamp);
    tcase_add_test(tc, test_tcp_listen_options_only_when_offered);
    tcase_add_test(tc, test_tcp_listen_full_queue_syncookie_completes);
    tcase_add_test(tc, test_tcp_listen_syn_flood_real_client_connects);
    suite_add_tcase(s, tc);
    return s;
}
