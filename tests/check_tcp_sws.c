/*
 * check_tcp_sws.c -- sender silly-window-syndrome avoidance and its
 * override timeout (RFC 1122 4.2.3.4). A small nonzero peer window (below
 * the MSS and below half the largest window offered) with data queued and
 * nothing in flight holds the data back (Nagle, sender SWS); the persist
 * timer then runs as the override timeout (0.1-1 s) and, when it runs out,
 * what the window allows is sent. Before the fix no timer ran and the
 * connection stalled for ever (fuzz/crashes/fuzz_api/tcp-small-window-sws-stall).
 */
#include <string.h>

#include "helper_tcp.h"

/* The override deadline: set, within 0.1-1 s; nothing comes out before it,
 * then exactly one segment [seq, seq+len) with these bytes. */
static void
expect_override(pn_tt *t, uint32_t seq, uint32_t ack, const uint8_t *data, size_t len)
{
    uint64_t d = pn_next_deadline(t->s);
    ck_assert_msg(d != PN_TIME_NEVER, "no timer: the connection stalls");
    ck_assert_uint_ge(d, t->now + 100000);
    ck_assert_uint_le(d, t->now + 1000000);
    tt_at(t, d - 1);
    tt_none(t);
    tt_at(t, d);
    pni_tcp_repr o;
    ck_assert_msg(tt_out(t, &o), "nothing at the override deadline %llu", (unsigned long long)d);
    EXPECT_SEG(o, PNI_TCP_ACK, seq, ack);
    ck_assert_uint_eq(o.payload_len, len);
    ck_assert_uint_eq(t->dlen, len);
    ck_assert(memcmp(t->data, data, len) == 0);
    tt_none(t);
}

START_TEST(test_tcp_sws_small_window_override_timeout)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    uint32_t s1 = syn.seq + 1;
    pni_tcpcb *cb = tt_cb(&t, c);
    ck_assert_uint_gt(cb->max_sndwnd, 2 * 500);
    ck_assert_uint_gt(cb->t_maxseg, 500);
    /* the peer shrinks its offer to 500 bytes: below the MSS and below
     * half the largest window it offered */
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    a.win = 500;
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    static uint8_t buf[2000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    ck_assert_int_eq(pn_tcp_send(t.s, c, buf, sizeof buf, t.now), (int)sizeof buf);
    /* held back: a short segment that does not empty the queue */
    tt_none(&t);
    ck_assert_uint_eq(cb->snd_una, cb->snd_max);
    /* the override timeout runs out: 500 bytes, all the window allows */
    expect_override(&t, s1, 5001, buf, 500);
    /* the peer takes them and offers 500 again: the same once more */
    a = tt_seg(&t, c, PNI_TCP_ACK);
    a.ack = s1 + 500;
    a.win = 500;
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    expect_override(&t, s1 + 500, 5001, buf + 500, 500);
    /* the window opens: the rest (1000 bytes) at once, a full segment
     * and the queue's end */
    uint32_t mss = cb->t_maxseg;
    a = tt_seg(&t, c, PNI_TCP_ACK);
    a.ack = s1 + 1000;
    a.win = 8000;
    tt_inject(&t, &a, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, s1 + 1000, 5001);
    ck_assert_uint_eq(o.payload_len, mss);
    ck_assert(memcmp(t.data, buf + 1000, mss) == 0);
    if (!tt_out(&t, &o)) { /* cwnd allowed one: ack it */
        a.ack = s1 + 1000 + mss;
        tt_inject(&t, &a, NULL, 0);
        ck_assert(tt_out(&t, &o));
    }
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH, s1 + 1000 + mss, 5001);
    ck_assert_uint_eq(o.payload_len, 1000 - mss);
    ck_assert(memcmp(t.data, buf + 1000 + mss, 1000 - mss) == 0);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

/* The fuzzer's form: the application closes with data held back by a small
 * window; the orphan in FIN_WAIT_1 must still drain and be freed. */
START_TEST(test_tcp_sws_small_window_orphan_drains)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    pni_tcp_repr syn, o;
    int c = tt_connect_conn(&t, 80, 5000, NULL, &syn);
    uint32_t s1 = syn.seq + 1;
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    a.win = 500;
    tt_inject(&t, &a, NULL, 0);
    static uint8_t buf[1200];
    memset(buf, 'z', sizeof buf);
    ck_assert_int_eq(pn_tcp_send(t.s, c, buf, sizeof buf, t.now), (int)sizeof buf);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    tt_none(&t);
    uint32_t seq = s1;
    for (int i = 0; i < 2; i++) {
        expect_override(&t, seq, 5001, buf, 500);
        seq += 500;
        a.ack = seq;
        a.win = 500;
        tt_inject(&t, &a, NULL, 0);
    }
    /* 200 bytes left: they empty the queue, so they go with the FIN */
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK | PNI_TCP_PSH | PNI_TCP_FIN, seq, 5001);
    ck_assert_uint_eq(o.payload_len, 200);
    tt_none(&t);
    /* the peer acks everything and closes too: every timer runs out and
     * the orphan is freed */
    a.ack = seq + 201;
    a.flags = PNI_TCP_ACK | PNI_TCP_FIN;
    tt_inject(&t, &a, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, seq + 201, 5002);
    for (int k = 0; k < 100 && pn_next_deadline(t.s) != PN_TIME_NEVER; k++)
        tt_at(&t, pn_next_deadline(t.s));
    ck_assert_uint_eq(pn_next_deadline(t.s), PN_TIME_NEVER);
    tt_none(&t);
    tt_free_check(&t);
}
END_TEST

Suite *
tcp_sws_suite(void)
{
    Suite *s = suite_create("tcp_sws");
    TCase *tc = tcase_create("override");
    tcase_add_test(tc, test_tcp_sws_small_window_override_timeout);
    tcase_add_test(tc, test_tcp_sws_small_window_orphan_drains);
    suite_add_tcase(s, tc);
    return s;
}
