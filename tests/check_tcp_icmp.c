/*
 * check_tcp_icmp.c -- TCP's reaction to ICMP errors (pni_tcp_icmp_error):
 * RFC 1191 fragmentation needed lowers the segment size and resends at
 * once; RFC 5927 4.1 ignores errors quoting a sequence number not in
 * flight; RFC 1122 4.2.3.9 makes port/protocol unreachable fatal while
 * connecting and every other unreachable a soft error, which is only
 * reported if the connection later gives up; RFC 5927 5.2 / RFC 5461 keep
 * hard errors soft in synchronized states. Exact segments, as
 * check_tcp_pkt.c.
 */
#include <string.h>

#include "helper_tcp.h"

static const uint8_t router[4] = {10, 0, 0, 254};

/* Connect as client and send n bytes (segments drained and counted). */
static int
conn_with_data(pn_tt *t, size_t n, uint32_t *s1, int *nsegs)
{
    static uint8_t data[8000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    pni_tcp_repr syn, o, opts;
    memset(&opts, 0, sizeof opts);
    opts.has_mss = 1;
    opts.mss = 1460;
    int c = tt_connect_conn(t, 80, 5000, &opts, &syn);
    *s1 = syn.seq + 1;
    ck_assert_uint_le(n, sizeof data);
    ck_assert_int_eq(pn_tcp_send(t->s, c, data, n, t->now), (int)n);
    int k = 0;
    while (tt_out(t, &o)) {
        ck_assert_uint_eq(o.payload_len, n - (size_t)k * 1460 < 1460 ? n - (size_t)k * 1460 : 1460);
        k++;
    }
    *nsegs = k;
    return c;
}

START_TEST(test_tcp_established_frag_needed_resends_smaller)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    uint32_t s1;
    int n;
    int c = conn_with_data(&t, 2920, &s1, &n);
    ck_assert_int_eq(n, 2);
    pni_tcpcb *cb = tt_cb(&t, c);
    ck_assert_uint_eq(cb->t_maxseg, 1460);
    uint64_t retrans = pn_stats_get(t.s)->tcp_retrans;
    /* a router on the path has an MTU of 1000: 960-byte segments now */
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, PNI_ICMP_FRAG_NEEDED, 1000, cb->lport, 80,
                   s1);
    ck_assert_uint_eq(cb->t_maxseg, 960);
    pni_tcp_repr o;
    uint32_t seq = s1;
    static const uint32_t lens[] = {960, 960, 960, 40};
    for (int i = 0; i < 4; i++) {
        ck_assert(tt_out(&t, &o));
        EXPECT_SEG(o, PNI_TCP_ACK | (i == 3 ? PNI_TCP_PSH : 0), seq, 5001);
        ck_assert_uint_eq(o.payload_len, lens[i]);
        seq += lens[i];
    }
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_retrans, retrans + 4);
    /* not a congestion signal; the connection goes on at the new size */
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    int v = 0;
    ck_assert_int_eq(pn_tcp_getopt(t.s, c, PN_TCP_MAXSEG, &v), 0);
    ck_assert_int_eq(v, 960);
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    a.ack = s1 + 2920;
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    ck_assert_uint_eq(cb->snd_una, s1 + 2920);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_frag_needed_not_in_flight_ignored)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    uint32_t s1;
    int n;
    int c = conn_with_data(&t, 2920, &s1, &n);
    pni_tcpcb *cb = tt_cb(&t, c);
    /* RFC 5927 4.1: below SND.UNA, at or above SND.MAX: forged or stale */
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, PNI_ICMP_FRAG_NEEDED, 1000, cb->lport, 80,
                   s1 - 1);
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, PNI_ICMP_FRAG_NEEDED, 1000, cb->lport, 80,
                   s1 + 2920);
    /* another connection's ports */
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, PNI_ICMP_FRAG_NEEDED, 1000,
                   (uint16_t)(cb->lport + 1), 80, s1);
    /* implausible MTUs: below 296, or not below our own */
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, PNI_ICMP_FRAG_NEEDED, 200, cb->lport, 80, s1);
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, PNI_ICMP_FRAG_NEEDED, 1500, cb->lport, 80, s1);
    tt_none(&t);
    ck_assert_uint_eq(cb->t_maxseg, 1460);
    ck_assert_uint_eq(cb->mss_clamp, 0);
    ck_assert_uint_eq(cb->snd_nxt, s1 + 2920);
    ck_assert_uint_eq(pn_stats_get(t.s)->icmp_err_rx, 5);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_syn_sent_port_unreach_refused)
{
    pn_tt t;
    tt_init(&t, NULL);
    int c = pn_tcp_open(t.s);
    pn_sockaddr to = {{{10, 0, 0, 2}}, 80};
    ck_assert_int_eq(pn_tcp_connect(t.s, c, &to, t.now), PN_EINPROGRESS);
    pni_tcp_repr syn;
    ck_assert(tt_out(&t, &syn));
    ck_assert_uint_eq(syn.flags, PNI_TCP_SYN);
    /* RFC 1122 4.2.3.9: codes 2-4 are hard errors; while connecting the
     * connection fails at once (as ECONNREFUSED, like Linux) */
    tt_inject_icmp(&t, t.peer, PNI_ICMP_DEST_UNREACH, PNI_ICMP_PORT_UNREACH, 0, syn.sport, 80,
                   syn.seq);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_CLOSED);
    pn_sock_status_t st;
    ck_assert_int_eq(pn_sock_status(t.s, c, &st), 0);
    ck_assert_int_eq(st.pending_error, PN_ECONNREFUSED);
    ck_assert_uint_eq(pn_next_deadline(t.s), PN_TIME_NEVER);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_syn_sent_host_unreach_soft_then_timeout_reports_it)
{
    pn_tcp_config tc;
    memset(&tc, 0, sizeof tc);
    tc.syn_retries = 2;
    pn_tt t;
    tt_init(&t, &tc);
    int c = pn_tcp_open(t.s);
    pn_sockaddr to = {{{10, 0, 0, 2}}, 80};
    ck_assert_int_eq(pn_tcp_connect(t.s, c, &to, t.now), PN_EINPROGRESS);
    pni_tcp_repr syn, o;
    ck_assert(tt_out(&t, &syn));
    /* host unreachable: a soft error (RFC 1122 4.2.3.9 "MUST NOT abort") */
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, 1, 0, syn.sport, 80, syn.seq);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_SYN_SENT);
    pn_sock_status_t st;
    ck_assert_int_eq(pn_sock_status(t.s, c, &st), 0);
    ck_assert_int_eq(st.pending_error, 0);
    /* the SYN is retried as usual: 1 s, then 2 s */
    tt_at(&t, t.now + 1000000);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_SYN, syn.seq, 0);
    tt_at(&t, t.now + 2000000);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_SYN, syn.seq, 0);
    /* retries exhausted: the soft error is what the application sees,
     * not PN_ETIMEDOUT; no RST in SYN_SENT */
    tt_at(&t, t.now + 4000000);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_CLOSED);
    ck_assert_int_eq(pn_sock_status(t.s, c, &st), 0);
    ck_assert_int_eq(st.pending_error, PN_EHOSTUNREACH);
    uint8_t b[1];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, b, 1, t.now), PN_EHOSTUNREACH);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_timeout, 1);
    ck_assert_int_eq(pn_tcp_close(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_syn_sent_net_unreach_then_synack_connects)
{
    pn_tt t;
    tt_init(&t, NULL);
    int c = pn_tcp_open(t.s);
    pn_sockaddr to = {{{10, 0, 0, 2}}, 80};
    ck_assert_int_eq(pn_tcp_connect(t.s, c, &to, t.now), PN_EINPROGRESS);
    pni_tcp_repr syn, o;
    ck_assert(tt_out(&t, &syn));
    tt_inject_icmp(&t, router, PNI_ICMP_DEST_UNREACH, 0, 0, syn.sport, 80, syn.seq);
    tt_none(&t);
    /* the route came back: the handshake completes and the soft error
     * is never reported */
    pni_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = 80;
    r.dport = syn.sport;
    r.seq = 7000;
    r.ack = syn.seq + 1;
    r.flags = PNI_TCP_SYN | PNI_TCP_ACK;
    r.win = 65535;
    tt_inject(&t, &r, NULL, 0);
    ck_assert(tt_out(&t, &o));
    EXPECT_SEG(o, PNI_TCP_ACK, syn.seq + 1, 7001);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    pn_sock_status_t st;
    ck_assert_int_eq(pn_sock_status(t.s, c, &st), 0);
    ck_assert_int_eq(st.pending_error, 0);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    ck_assert(tt_out(&t, &o));
    ck_assert(o.flags & PNI_TCP_RST);
    tt_free_check(&t);
}
END_TEST

START_TEST(test_tcp_established_port_unreach_is_soft)
{
    pn_tcp_config tc = tt_plain();
    pn_tt t;
    tt_init(&t, &tc);
    uint32_t s1;
    int n;
    int c = conn_with_data(&t, 100, &s1, &n);
    pni_tcpcb *cb = tt_cb(&t, c);
    /* RFC 5927 5.2: in a synchronized state even a "hard" error must not
     * reset the connection (a blind attacker could forge it) */
    tt_inject_icmp(&t, t.peer, PNI_ICMP_DEST_UNREACH, PNI_ICMP_PORT_UNREACH, 0, cb->lport, 80, s1);
    tt_inject_icmp(&t, router, PNI_ICMP_TIME_EXCEEDED, 0, 0, cb->lport, 80, s1);
    tt_none(&t);
    ck_assert_int_eq(pn_tcp_state(t.s, c), PN_TCP_ESTABLISHED);
    pn_sock_status_t st;
    ck_assert_int_eq(pn_sock_status(t.s, c, &st), 0);
    ck_assert_int_eq(st.pending_error, 0);
    ck_assert_int_eq(cb->soft_error, PN_EHOSTUNREACH);
    /* the ACK arrives: everything is normal */
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    tt_inject(&t, &a, NULL, 0);
    tt_none(&t);
    ck_assert_uint_eq(cb->snd_una, s1 + 100);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

Suite *
tcp_icmp_suite(void)
{
    Suite *s = suite_create("tcp_icmp");
    TCase *tc = tcase_create("icmp");
    tcase_add_test(tc, test_tcp_established_frag_needed_resends_smaller);
    tcase_add_test(tc, test_tcp_established_frag_needed_not_in_flight_ignored);
    tcase_add_test(tc, test_tcp_syn_sent_port_unreach_refused);
    tcase_add_test(tc, test_tcp_syn_sent_host_unreach_soft_then_timeout_reports_it);
    tcase_add_test(tc, test_tcp_syn_sent_net_unreach_then_synack_connects);
    tcase_add_test(tc, test_tcp_established_port_unreach_is_soft);
    suite_add_tcase(s, tc);
    return s;
}
