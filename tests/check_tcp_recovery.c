/*
 * check_tcp_recovery.c -- when duplicate ACKs may start a new loss
 * recovery (RFC 6582 3.2 step 2, RFC 6675 5.1): exact segments out of a
 * sender whose recovery point `recover` is forced to a given place. The
 * full black-box scenarios are the vectors
 * tcp/sack/recovery-restarts-when-ack-reaches-recovery-point.pkt and
 * tcp/fastrtx/newreno-no-new-recovery-at-recover.pkt.
 */
#include <string.h>

#include "helper_tcp.h"

#define MSS 1000u

static pn_tcp_config
cfg(int sack)
{
    pn_tcp_config c;
    memset(&c, 0, sizeof c);
    c.no_sack = (uint8_t)!sack;
    c.no_timestamps = 1;
    c.no_wscale = 1;
    return c;
}

/* Client connection to a peer offering MSS 1000 (and SACK if asked) with
 * 14 segments written: the initial window's 10 leave, 4 wait. Returns the
 * socket; *s1 = our first data sequence number. */
static int
setup(pn_tt *t, int sack, uint32_t *s1)
{
    pn_tcp_config tc = cfg(sack);
    tt_init(t, &tc);
    pni_tcp_repr opt, syn, o;
    memset(&opt, 0, sizeof opt);
    opt.has_mss = 1;
    opt.mss = MSS;
    opt.sack_ok = (uint8_t)sack;
    int c = tt_connect_conn(t, 80, 5000, &opt, &syn);
    *s1 = syn.seq + 1;
    static uint8_t data[14 * MSS];
    ck_assert_int_eq(pn_tcp_send(t->s, c, data, sizeof data, t->now), (int)sizeof data);
    for (uint32_t i = 0; i < 10; i++) {
        ck_assert(tt_out(t, &o));
        EXPECT_SEG(o, PNI_TCP_ACK, *s1 + i * MSS, 5001);
        ck_assert_uint_eq(o.payload_len, MSS);
    }
    tt_none(t);
    return c;
}

/* A duplicate ACK of `ack` from the peer, SACKing [s1 + l, s1 + r) unless
 * l == r. */
static void
dup(pn_tt *t, int c, uint32_t ack, uint32_t l, uint32_t r)
{
    pni_tcp_repr a = tt_seg(t, c, PNI_TCP_ACK);
    a.ack = ack;
    if (l != r) {
        a.n_sack = 1;
        a.sack[0] = (pni_tcp_sack){l, r};
    }
    tt_inject(t, &a, NULL, 0);
}

static void
expect_data(pn_tt *t, uint32_t seq)
{
    pni_tcp_repr o;
    ck_assert_msg(tt_out(t, &o), "no segment %u", seq);
    ck_assert_uint_eq(o.seq, seq);
    ck_assert_uint_eq(o.payload_len, MSS);
}

/* snd_una == recover (the previous recovery's full ACK landed exactly on
 * it) and the duplicate ACKs SACK data above it: a new loss, recovered at
 * once (RFC 6675 5.1: HighACK >= RecoveryPoint). Before the fix nothing
 * went out until the RTO. */
START_TEST(test_tcp_established_sack_dupacks_at_recover_fast_retransmit)
{
    pn_tt t;
    uint32_t s1;
    int c = setup(&t, 1, &s1);
    pni_tcpcb *cb = tt_cb(&t, c);
    cb->recover = cb->snd_una; /* as left by a full ACK of exactly recover */
    dup(&t, c, s1, s1 + MSS, s1 + 2 * MSS);
    expect_data(&t, s1 + 10 * MSS); /* limited transmit */
    tt_none(&t);
    dup(&t, c, s1, s1 + MSS, s1 + 3 * MSS);
    expect_data(&t, s1 + 11 * MSS);
    tt_none(&t);
    dup(&t, c, s1, s1 + MSS, s1 + 4 * MSS);
    expect_data(&t, s1); /* the hole, at once */
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 1);
    ck_assert_uint_eq(cb->recover, s1 + 12 * MSS);
    ck_assert(cb->t_flags & PNI_TF_RECOVERY);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

/* With SACK negotiated but duplicate ACKs that SACK nothing (as D-SACKs
 * of segments the receiver got twice would be), snd_una == recover is
 * ambiguous: the NewReno rule holds. A later duplicate ACK SACKing three
 * segments above recover shows a new loss: recovery starts. */
START_TEST(test_tcp_established_sack_bare_dupacks_at_recover_wait_for_sack)
{
    pn_tt t;
    uint32_t s1;
    int c = setup(&t, 1, &s1);
    pni_tcpcb *cb = tt_cb(&t, c);
    cb->recover = cb->snd_una;
    /* Whatever new data limited transmit releases, nothing is resent. */
    for (int i = 0; i < 4; i++) {
        dup(&t, c, s1, 0, 0);
        pni_tcp_repr o;
        while (tt_out(&t, &o))
            ck_assert(pni_seq_geq(o.seq, s1 + 10 * MSS));
    }
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 0);
    ck_assert(!(cb->t_flags & PNI_TF_RECOVERY));
    dup(&t, c, s1, s1 + MSS, s1 + 4 * MSS);
    expect_data(&t, s1);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 1);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

/* NewReno at snd_una == recover: RFC 6582 3.2 step 2 wants the ACK to
 * cover more than recover; three duplicate ACKs only release the limited
 * transmit segments. */
START_TEST(test_tcp_established_newreno_dupacks_at_recover_no_retransmit)
{
    pn_tt t;
    uint32_t s1;
    int c = setup(&t, 0, &s1);
    pni_tcpcb *cb = tt_cb(&t, c);
    cb->recover = cb->snd_una;
    dup(&t, c, s1, 0, 0);
    expect_data(&t, s1 + 10 * MSS);
    dup(&t, c, s1, 0, 0);
    expect_data(&t, s1 + 11 * MSS);
    dup(&t, c, s1, 0, 0);
    dup(&t, c, s1, 0, 0);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 0);
    ck_assert(!(cb->t_flags & PNI_TF_RECOVERY));
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

/* recover trails snd_una outside recovery, so it never ends up 2^31 or
 * more behind, where modular arithmetic would put it "ahead" and refuse
 * every later fast retransmit. Here it starts 2^31 - 1500 bytes behind:
 * without the drag the second ACK (1000 bytes) carried snd_una past the
 * half-way point and the loss below waited for the RTO. */
START_TEST(test_tcp_established_old_recover_dragged_fast_retransmit)
{
    pn_tt t;
    uint32_t s1;
    int c = setup(&t, 0, &s1);
    pni_tcpcb *cb = tt_cb(&t, c);
    cb->recover = cb->snd_una - (0x80000000u - 1500u);
    for (uint32_t k = 1; k <= 2; k++) {
        pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
        a.ack = s1 + k * MSS;
        tt_inject(&t, &a, NULL, 0);
        expect_data(&t, s1 + (8 + 2 * k) * MSS); /* slow start: 2 per ACK */
        expect_data(&t, s1 + (9 + 2 * k) * MSS);
        tt_none(&t);
    }
    /* all 14 out: the duplicate ACKs have no limited transmit to send */
    dup(&t, c, s1 + 2 * MSS, 0, 0);
    dup(&t, c, s1 + 2 * MSS, 0, 0);
    tt_none(&t);
    dup(&t, c, s1 + 2 * MSS, 0, 0);
    expect_data(&t, s1 + 2 * MSS);
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 1);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

/* RFC 3042 2: with SACK, limited transmit releases one new segment only
 * for a duplicate ACK that carries new SACK information, and what it sent
 * is remembered apart from FlightSize (RFC 5681 3.2 step 2, lt_sent).
 * Before the fix, the output at the end of segment processing applied the
 * cwnd + dupacks*SMSS allowance to a duplicate ACK with stale SACK
 * information too, and that segment was not counted in lt_sent. */
START_TEST(test_tcp_established_sack_limited_transmit_only_on_new_sack)
{
    pn_tt t;
    uint32_t s1;
    int c = setup(&t, 1, &s1);
    pni_tcpcb *cb = tt_cb(&t, c);
    dup(&t, c, s1, s1 + MSS, s1 + 2 * MSS);
    expect_data(&t, s1 + 10 * MSS);
    tt_none(&t);
    ck_assert_uint_eq(cb->lt_sent, MSS);
    dup(&t, c, s1, s1 + MSS, s1 + 2 * MSS); /* nothing new SACKed */
    tt_none(&t);
    ck_assert_uint_eq(cb->lt_sent, MSS);
    /* the third duplicate ACK starts recovery: the hole goes first */
    dup(&t, c, s1, s1 + MSS, s1 + 3 * MSS);
    expect_data(&t, s1);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 1);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

/* Without SACK each of the first two duplicate ACKs releases one new
 * segment (RFC 3042 2), the third none: it starts recovery instead. */
START_TEST(test_tcp_established_newreno_limited_transmit_two_segments)
{
    pn_tt t;
    uint32_t s1;
    int c = setup(&t, 0, &s1);
    pni_tcpcb *cb = tt_cb(&t, c);
    dup(&t, c, s1, 0, 0);
    expect_data(&t, s1 + 10 * MSS);
    tt_none(&t);
    dup(&t, c, s1, 0, 0);
    expect_data(&t, s1 + 11 * MSS);
    tt_none(&t);
    ck_assert_uint_eq(cb->lt_sent, 2 * MSS);
    dup(&t, c, s1, 0, 0);
    expect_data(&t, s1); /* fast retransmit, no new data */
    tt_none(&t);
    ck_assert_uint_eq(pn_stats_get(t.s)->tcp_fast_retrans, 1);
    ck_assert_int_eq(pn_tcp_abort(t.s, c, t.now), 0);
    tt_free_check(&t);
}
END_TEST

Suite *
tcp_recovery_suite(void)
{
    Suite *s = suite_create("tcp_recovery");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tcp_established_sack_dupacks_at_recover_fast_retransmit);
    tcase_add_test(tc, test_tcp_established_sack_bare_dupacks_at_recover_wait_for_sack);
    tcase_add_test(tc, test_tcp_established_newreno_dupacks_at_recover_no_retransmit);
    tcase_add_test(tc, test_tcp_established_old_recover_dragged_fast_retransmit);
    tcase_add_test(tc, test_tcp_established_sack_limited_transmit_only_on_new_sack);
    tcase_add_test(tc, test_tcp_established_newreno_limited_transmit_two_segments);
    suite_add_tcase(s, tc);
    return s;
}
