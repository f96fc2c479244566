/*
 * check_tcp_pkt.c -- exact-segment tests of the TCP state machine: a
 * scripted peer injects segments built from the socket's sequence state at
 * a given time; each test asserts the exact segments that come out, then
 * that nothing else does. Names: test_tcp_<state>_<event>_<outcome>.
 * Options are off unless a test turns them on, so segments are plain.
 */
#include <string.h>

#include "helper_tcp.h"

static pni_tcp_repr
seg(uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t fl)
{
    pni_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = sp;
    r.dport = dp;
    r.seq = seq;
    r.ack = ack;
    r.flags = fl;
    r.win = 65535;
    return r;
}

/* The VecDevice scenario: raw SYN at a listener, SYN-ACK, ACK, data. */
START_TEST(test_tcp_listen_syn_synack_then_data)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    int l = tt_listen(&t, 80, 4);
    pni_tcp_repr r = seg(40000, 80, 1000, 0, PNI_TCP_SYN), o;
    r.has_mss = 1;
    r.mss = 1460;
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    ck_assert_uint_eq(o.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    ck_assert_uint_eq(o.ack, 1001);
    ck_assert_uint_eq(o.sport, 80);
    ck_assert_uint_eq(o.dport, 40000);
    ck_assert(o.has_mss && o.mss == 1460);
    ck_assert(!o.has_ws && !o.sack_ok && !o.has_ts);
    ck_assert_uint_eq(o.win, 16384);
    tt_none(&t);
    uint32_t iss = o.seq;
    /* the ACK completes the handshake: no reply, nothing spurious */
    r = seg(40000, 80, 1001, iss + 1, PNI_TCP_ACK);
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    int c = pn_tcp_accept(t.s, l, NULL);
    ck_assert_int_ge(c, 0);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    /* data flows: one segment is ACKed after the delayed-ACK time */
    r = seg(40000, 80, 1001, iss + 1, PNI_TCP_ACK | PNI_TCP_PSH);
    tt_inject(&t, &r, "hello", 5);
    tt_none(&t);
    uint8_t buf[16];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, buf, sizeof buf, t.now), 5);
    ck_assert_mem_eq(buf, "hello", 5);
    ck_assert_uint_eq(pn_next_deadline(t.s), t.now + 40000);
    tt_at(&t, t.now + 40000);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, iss + 1, 1006);
    /* receiver SWS avoidance: the right edge stays until it can move by
     * at least one MSS, so the window reads 5 bytes less */
    ck_assert_uint_eq(o.win, 16379);
    tt_none(&t);
    /* and back */
    ck_assert_int_eq(pn_tcp_send(t.s, c, "world!", 6, t.now), 6);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH, iss + 1, 1006);
    ck_assert_uint_eq(o.payload_len, 6);
    ck_assert_mem_eq(t.data, "world!", 6);
    tt_none(&t);
    r = seg(40000, 80, 1006, iss + 7, PNI_TCP_ACK);
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_RST | PNI_TCP_ACK, iss + 7, 1006);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_conn_reset, 1);
    /* closing the listener resets no connection: nothing sent, not counted */
    ck_assert_int_eq(pn_tcp_close(t.s, l, t.now), 0);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_conn_reset, 1);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_closed_syn_rst_ack)
{
    pn_tt t;
    tt_init(&t, NULL);
    pni_tcp_repr r = seg(40000, 81, 5000, 0, PNI_TCP_SYN), o;
    tt_inject(&t, &r, "ab", 2);
    ck_assert(tt_out(&t, &o));
    /* RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
    EXPECT_SEG(o, PNI_TCP_RST | PNI_TCP_ACK, 0, 5003);
    ck_assert_uint_eq(o.win, 0);
    tt_none(&t);
    /* with ACK: <SEQ=SEG.ACK><CTL=RST> */
    r = seg(40000, 81, 5000, 777, PNI_TCP_ACK);
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_RST, 777, 0);
    tt_none(&t);
    /* never a RST for a RST */
    r = seg(40000, 81, 5000, 777, PNI_TCP_RST);
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_no_socket, 3);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_closed_connect_handshake_client)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 9000, NULL, &syn);
    ck_assert(syn.has_mss && syn.mss == 1460);
    ck_assert_uint_eq(syn.win, 16384);
    ck_assert_int_eq(pn_tcp_send(t.s, c, "GET /", 5, t.now), 5);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH, syn.seq + 1, 9001);
    tt_none(&t);
    /* orderly close from our side */
    pni_tcp_repr r = seg(80, syn.sport, 9001, syn.seq + 6, PNI_TCP_ACK);
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_shutdown(t.s, c, t.now), 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_FIN, syn.seq + 6, 9001);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_FIN_WAIT_1);
    r = seg(80, syn.sport, 9001, syn.seq + 7, PNI_TCP_ACK);
    tt_inject(&t, &r, NULL, 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_FIN_WAIT_2);
    r = seg(80, syn.sport, 9001, syn.seq + 7, PNI_TCP_ACK | PNI_TCP_FIN);
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, syn.seq + 7, 9002);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_TIME_WAIT);
    uint8_t b[4];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 4, t.now), 0);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    /* TIME_WAIT lasts 2*MSL */
    uint64_t end = t.now + 60000000;
    tt_at(&t, end - 1);
    ck_assert_uint_eq(pn_stats_get(t.s)->pool[PN_POOL_TCP].used, 1);
    tt_at(&t, end);
    tt_none(&t);
    tt_free_check(&t);
}
END_TEST

Suite *
tcp_pkt_suite(void)
{
    Suite *s = suite_create("tcp_pkt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tcp_listen_syn_synack_then_data);
    tcase_add_test(tc, test_tcp_closed_syn_rst_ack);
    tcase_add_test(tc, test_tcp_closed_connect_handshake_client);
    suite_add_tcase(s, tc);
    return s;
}
