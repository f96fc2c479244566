/*
 * check_tcp_unit.c -- the pure pieces of TCP: sequence arithmetic across
 * the wrap, the RFC 6298 estimator, the integer cube root, the SACK
 * scoreboard and pipe, receive ranges, SYN cookies.
 */
#include <string.h>

#include "helper_tcp.h"

START_TEST(test_tcp_unit_seq_wraps)
{
    ck_assert(pni_seq_lt(0xfffffff0u, 0x10u));
    ck_assert(pni_seq_gt(0x10u, 0xfffffff0u));
    ck_assert(pni_seq_leq(5u, 5u) && pni_seq_geq(5u, 5u));
    ck_assert(!pni_seq_lt(5u, 5u));
    ck_assert_uint_eq(pni_seq_max(0xfffffff0u, 0x10u), 0x10u);
    ck_assert_uint_eq(pni_seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
}
END_TEST

START_TEST(test_tcp_unit_cbrt)
{
    for (uint64_t x = 0; x < 100000; x++) {
        uint64_t r = pni_tcp_cbrt(x);
        ck_assert(r * r * r <= x && (r + 1) * (r + 1) * (r + 1) > x);
    }
    ck_assert_uint_eq(pni_tcp_cbrt(1000000000000ull), 10000);
    ck_assert_uint_eq(pni_tcp_cbrt(UINT64_MAX), 2642245);
}
END_TEST

START_TEST(test_tcp_unit_rtt_estimator)
{
    pn_tt t;
    tt_init(&t, NULL);
    pni_tcpcb cb;
    memset(&cb, 0, sizeof cb);
    /* RFC 6298 2.2: first R = 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms */
    pni_tcp_rtt_sample(t.s, &cb, 100000);
    ck_assert_uint_eq(cb.srtt >> 3, 100000);
    ck_assert_uint_eq(cb.rttvar >> 2, 50000);
    ck_assert_uint_eq(cb.rto, 300000);
    /* 2.3: R = 200 ms: RTTVAR = 3/4*50 + 1/4*100 = 62.5, SRTT = 112.5 */
    pni_tcp_rtt_sample(t.s, &cb, 200000);
    ck_assert_uint_eq(cb.rttvar, 250000);
    ck_assert_uint_eq(cb.srtt, 900000);
    ck_assert_uint_eq(cb.rto, 112500 + 250000);
    /* small samples clamp to rto_min */
    for (int i = 0; i < 50; i++)
        pni_tcp_rtt_sample(t.s, &cb, 10);
    ck_assert_uint_eq(cb.rto, 200000);
    /* backoff caps at rto_max */
    cb.rxtshift = 12;
    ck_assert_uint_eq(pni_tcp_rexmt_timeout(t.s, &cb), 60000000);
    tt_free(&t);
}
END_TEST

START_TEST(test_tcp_unit_sack_scoreboard)
{
    pni_tcpcb cb;
    memset(&cb, 0, sizeof cb);
    cb.snd_una = 1000;
    cb.snd_max = 11000;
    pni_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.n_sack = 3;
    r.sack[0] = (pni_tcp_sack){3000, 4000};
    r.sack[1] = (pni_tcp_sack){5000, 6000};
    r.sack[2] = (pni_tcp_sack){500, 900}; /* below snd_una: ignored */
    pni_tcp_sack_update(&cb, &r);
    ck_assert_uint_eq(cb.n_sb, 2);
    ck_assert_uint_eq(pni_tcp_sacked_bytes(&cb), 2000);
    ck_assert_uint_eq(pni_tcp_sack_fack(&cb), 6000);
    uint32_t seq, len;
    ck_assert(pni_tcp_sack_nexthole(&cb, 1000, &seq, &len));
    ck_assert_uint_eq(seq, 1000);
    ck_assert_uint_eq(len, 2000);
    ck_assert(pni_tcp_sack_nexthole(&cb, 3500, &seq, &len));
    ck_assert_uint_eq(seq, 4000);
    ck_assert_uint_eq(len, 1000);
    ck_assert(!pni_tcp_sack_nexthole(&cb, 6000, &seq, &len));
    /* pipe: 5000 above fack; holes lost until retransmitted */
    cb.sack_rxt = 1000;
    ck_assert_uint_eq(pni_tcp_sack_pipe(&cb), 5000);
    cb.sack_rxt = 2000;
    ck_assert_uint_eq(pni_tcp_sack_pipe(&cb), 6000);
    /* merging and the bound: a flood of disjoint blocks stays bounded */
    r.n_sack = 1;
    for (uint32_t i = 0; i < 100; i++) {
        r.sack[0] = (pni_tcp_sack){6100 + i * 40, 6120 + i * 40};
        pni_tcp_sack_update(&cb, &r);
        ck_assert_uint_le(cb.n_sb, PNI_TCP_SB_MAX);
    }
    r.sack[0] = (pni_tcp_sack){3900, 5100};
    pni_tcp_sack_update(&cb, &r);
    ck_assert_uint_eq(cb.sb[0].left, 3000);
    ck_assert_uint_eq(cb.sb[0].right, 6000);
    /* cumulative ACK cleans */
    cb.snd_una = 5000;
    pni_tcp_sack_clean(&cb);
    ck_assert_uint_eq(cb.sb[0].left, 5000);
}
END_TEST

START_TEST(test_tcp_unit_ooo_ranges_bounded)
{
    pni_tcpcb cb;
    memset(&cb, 0, sizeof cb);
    for (uint32_t i = 0; i < PNI_TCP_OOO_MAX; i++)
        ck_assert_int_eq(pni_tcp_ooo_add(&cb, 1000 + i * 100, 1050 + i * 100, PNI_TCP_OOO_MAX), 0);
    /* above everything, no room: refused */
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 5000, 5010, PNI_TCP_OOO_MAX), -1);
    /* lower: evicts the highest */
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 900, 950, PNI_TCP_OOO_MAX), 0);
    ck_assert_uint_eq(cb.n_ooo, PNI_TCP_OOO_MAX);
    ck_assert_uint_eq(cb.ooo[0].left, 900);
    ck_assert_uint_eq(cb.ooo_last, 0);
    /* adjacent ranges merge */
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 950, 1000, PNI_TCP_OOO_MAX), 0);
    ck_assert_uint_eq(cb.ooo[0].right, 1050);
}
END_TEST

/* tcp.ooo_max_segs is honoured below the compile-time array size. */
START_TEST(test_tcp_unit_ooo_ranges_config_limit)
{
    pni_tcpcb cb;
    memset(&cb, 0, sizeof cb);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 1000, 1100, 2), 0);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 2000, 2100, 2), 0);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 3000, 3100, 2), -1);
    ck_assert_uint_eq(cb.n_ooo, 2);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 500, 600, 2), 0); /* evicts 2000 */
    ck_assert_uint_eq(cb.n_ooo, 2);
    ck_assert_uint_eq(cb.ooo[0].left, 500);
    ck_assert_uint_eq(cb.ooo[1].left, 1000);
    /* merging needs no new slot */
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 1100, 1200, 2), 0);
    ck_assert_uint_eq(cb.ooo[1].right, 1200);
    /* a limit of 1, and out-of-range limits clamped */
    memset(&cb, 0, sizeof cb);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 1000, 1100, 1), 0);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 2000, 2100, 1), -1);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 2000, 2100, 0), -1);
    memset(&cb, 0, sizeof cb);
    for (uint32_t i = 0; i < PNI_TCP_OOO_MAX; i++)
        ck_assert_int_eq(pni_tcp_ooo_add(&cb, 1000 + i * 100, 1050 + i * 100, 1000), 0);
    ck_assert_int_eq(pni_tcp_ooo_add(&cb, 5000, 5010, 1000), -1);
}
END_TEST

START_TEST(test_tcp_unit_syncookie_roundtrip)
{
    pn_tt t;
    tt_init(&t, NULL);
    pni_tcp_syn sy;
    memset(&sy, 0, sizeof sy);
    memcpy(sy.laddr, t.us, 4);
    memcpy(sy.raddr, t.peer, 4);
    sy.lport = 80;
    sy.rport = 4000;
    sy.irs = 12345;
    sy.opts = PNI_SO_WS | PNI_SO_SACK;
    sy.peer_ws = 7;
    uint32_t ck = pni_tcp_cookie_make(t.s, &sy, 1460);
    pni_tcp_syn chk = sy;
    chk.opts = 0;
    chk.peer_ws = 0;
    ck_assert_int_eq(pni_tcp_cookie_check(t.s, &chk, ck), 0);
    ck_assert_uint_eq(chk.peer_mss, 1460);
    ck_assert_uint_eq(chk.peer_ws, 7);
    ck_assert_uint_eq(chk.opts, PNI_SO_WS | PNI_SO_SACK);
    ck_assert_int_ne(pni_tcp_cookie_check(t.s, &chk, ck ^ 0x100000u), 0);
    chk.irs = 12346;
    ck_assert_int_ne(pni_tcp_cookie_check(t.s, &chk, ck), 0);
    chk.irs = 12345;
    /* valid for the current and the previous 64 s period only */
    tt_at(&t, t.now + (1ull << 26));
    ck_assert_int_eq(pni_tcp_cookie_check(t.s, &chk, ck), 0);
    tt_at(&t, t.now + (2ull << 26));
    ck_assert_int_ne(pni_tcp_cookie_check(t.s, &chk, ck), 0);
    tt_free(&t);
}
END_TEST

Suite *
tcp_unit_suite(void)
{
    Suite *s = suite_create("tcp_unit");
    TCase *tc = tcase_create("unit");
    tcase_add_test(tc, test_tcp_unit_seq_wraps);
    tcase_add_test(tc, test_tcp_unit_cbrt);
    tcase_add_test(tc, test_tcp_unit_rtt_estimator);
    tcase_add_test(tc, test_tcp_unit_sack_scoreboard);
    tcase_add_test(tc, test_tcp_unit_ooo_ranges_bounded);
    tcase_add_test(tc, test_tcp_unit_ooo_ranges_config_limit);
    tcase_add_test(tc, test_tcp_unit_syncookie_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
