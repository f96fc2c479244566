/*
 * check_icmp.c -- echo, protocol/port unreachable, the RFC 1122 3.2.2
 * rules for when no error may be sent, the token-bucket rate limit by
 * explicit time, received errors.
 */
#include <string.h>

#include "helper_frames.h"
#include "helper_link.h"
#include "pn_check.h"
#include "pn_internal.h"

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_P[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t IP_A[4] = {10, 0, 0, 1};
static const uint8_t IP_P[4] = {10, 0, 0, 2};
static uint8_t fr[4096], out[4096];
static pn_test_node A;
static pn_stack *S;

static void
start(uint32_t rate, uint32_t burst)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.icmp_rate = rate;
    c.icmp_burst = burst;
    S = pn_test_node_new(&A, &c);
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(S, fr, n, 1);
    pn_test_drain_all(S);
}

static void
finish(void)
{
    pn_test_drain_all(S);
    uint64_t d;
    while ((d = pn_next_deadline(S)) != PN_TIME_NEVER) {
        pn_poll(S, d);
        pn_test_drain_all(S);
    }
    pn_test_pools_empty(S);
    pn_test_node_free(&A);
}

static size_t
udp_closed(uint16_t id)
{
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, id, 0, 0};
    return pn_tf_udp(fr, &h, 1234, 9, "data", 4, 0);
}

START_TEST(test_icmp_rate_limit_by_explicit_time)
{
    start(2, 3); /* 2 per second, 3 deep */
    const pn_stats *st = pn_stats_get(S);
    uint64_t t0 = 10000000;
    for (int i = 0; i < 5; i++)
        pn_inject_raw(S, fr, udp_closed((uint16_t)i), t0);
    ck_assert_uint_eq(st->icmp_unreach_tx, 3);
    ck_assert_uint_eq(st->icmp_rate_drop, 2);
    ck_assert_int_eq(pn_test_drain_all(S), 3);
    pn_inject_raw(S, fr, udp_closed(9), t0 + 499999); /* 0.999 token */
    ck_assert_uint_eq(st->icmp_rate_drop, 3);
    pn_inject_raw(S, fr, udp_closed(10), t0 + 500000 + 499999); /* one token */
    ck_assert_uint_eq(st->icmp_unreach_tx, 4);
    /* fractions carry over: 0.999998 + 2 us * 2/s is a whole token */
    pn_inject_raw(S, fr, udp_closed(11), t0 + 1000000);
    ck_assert_uint_eq(st->icmp_unreach_tx, 5);
    pn_inject_raw(S, fr, udp_closed(12), t0 + 1000000);
    ck_assert_uint_eq(st->icmp_rate_drop, 4);
    /* a long pause refills only up to the burst */
    for (int i = 0; i < 5; i++)
        pn_inject_raw(S, fr, udp_closed((uint16_t)(20 + i)), t0 + 100000000);
    ck_assert_uint_eq(st->icmp_unreach_tx, 8);
    ck_assert_uint_eq(st->icmp_rate_drop, 6);
    ck_assert_uint_eq(st->udp_no_port, 14);
    finish();
}
END_TEST

START_TEST(test_icmp_protocol_unreachable_counted)
{
    start(0, 0);
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 99, 64, 0, 5, 0, 0};
    size_t n = pn_tf_ip4(fr, &h, "0123456789", 10);
    pn_inject_raw(S, fr, n, 5);
    ck_assert_uint_eq(pn_stats_get(S)->ip4_bad_proto, 1);
    int k = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_eq(k, 14 + 20 + 8 + 30);
    ck_assert_uint_eq(out[34], 3);
    ck_assert_uint_eq(out[35], 2);
    ck_assert_mem_eq(out + 26, IP_A, 4);
    ck_assert_mem_eq(out + 30, IP_P, 4);
    ck_assert_mem_eq(out + 42, fr + 14, 30);
    ck_assert_uint_eq(pn_tf_csum(out + 34, 38, 0), 0);
    finish();
}
END_TEST

/* Call pni_icmp_send_error on an IP packet built by the test. */
static int
error_about(const uint8_t *ip, size_t len, uint8_t flags)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_LINK, len);
    ck_assert_ptr_nonnull(b);
    pni_buf_copyin(b, 0, ip, len);
    b->flags = flags;
    pni_ip4_repr r;
    ck_assert_int_eq(pni_wire_ip4_parse(pni_buf_data(b), len, &r), 0);
    pni_icmp_send_error(S, b, &r, PNI_ICMP_DEST_UNREACH, PNI_ICMP_PORT_UNREACH, 0);
    pni_buf_free(S, b);
    return pn_test_drain_all(S);
}

START_TEST(test_icmp_no_error_about_error_bcast_fragment_or_bad_source)
{
    start(0, 0);
    const pn_stats *st = pn_stats_get(S);
    pn_tf_ip h = {NULL, NULL, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 5, 0, 0};
    /* baseline: allowed */
    size_t n = pn_tf_udp(fr, &h, 1, 2, "abcdefgh", 8, 0);
    ck_assert_int_eq(error_about(fr, n, 0), 1);
    /* about an ICMP error */
    n = pn_tf_icmp(fr, &h, 3, 3, 0, "quotedquoted", 12);
    ck_assert_int_eq(error_about(fr, n, 0), 0);
    /* about an echo request: allowed */
    n = pn_tf_icmp(fr, &h, 8, 0, 0, "x", 1);
    ck_assert_int_eq(error_about(fr, n, 0), 1);
    /* to a broadcast */
    pn_tf_ip hb = h;
    memcpy(hb.dst, (uint8_t[4]){10, 0, 0, 255}, 4);
    n = pn_tf_udp(fr, &hb, 1, 2, "abcdefgh", 8, 0);
    ck_assert_int_eq(error_about(fr, n, 0), 0);
    memcpy(hb.dst, (uint8_t[4]){255, 255, 255, 255}, 4);
    n = pn_tf_udp(fr, &hb, 1, 2, "abcdefgh", 8, 0);
    ck_assert_int_eq(error_about(fr, n, 0), 0);
    memcpy(hb.dst, (uint8_t[4]){224, 0, 0, 1}, 4);
    n = pn_tf_udp(fr, &hb, 1, 2, "abcdefgh", 8, 0);
    ck_assert_int_eq(error_about(fr, n, 0), 0);
    /* received as a link broadcast */
    n = pn_tf_udp(fr, &h, 1, 2, "abcdefgh", 8, 0);
    ck_assert_int_eq(error_about(fr, n, PNI_BUF_F_L2_BCAST), 0);
    /* a non-first fragment */
    pn_tf_ip hf = h;
    hf.frag = 0x2003; /* MF, offset 24 */
    n = pn_tf_ip4(fr, &hf, "abcdefgh", 8);
    ck_assert_int_eq(error_about(fr, n, 0), 0);
    /* sources that are not a unicast host */
    static const uint8_t bad[][4] = {{0, 0, 0, 0}, {127, 0, 0, 1}, {224, 1, 2, 3}, {240, 0, 0, 1},
                                     {10, 0, 0, 255}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pn_tf_ip hs = h;
        memcpy(hs.src, bad[i], 4);
        n = pn_tf_udp(fr, &hs, 1, 2, "abcdefgh", 8, 0);
        ck_assert_int_eq(error_about(fr, n, 0), 0);
    }
    ck_assert_uint_eq(st->icmp_err_suppressed, 11);
    ck_assert_uint_eq(st->icmp_unreach_tx, 2);
    finish();
}
END_TEST

START_TEST(test_icmp_quote_limited_to_576)
{
    start(0, 0);
    static uint8_t big[1400];
    pn_tf_ip h = {NULL, NULL, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 5, 0, 0};
    size_t n = pn_tf_udp(fr, &h, 1, 2, big, sizeof big, 0);
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_LINK, n);
    pni_buf_copyin(b, 0, fr, n);
    pni_ip4_repr r;
    pni_wire_ip4_parse(pni_buf_data(b), n, &r);
    pni_icmp_send_error(S, b, &r, 3, 3, 0);
    pni_buf_free(S, b);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 14 + 576);
    finish();
}
END_TEST

START_TEST(test_icmp_echo_bad_checksum_and_broadcast_ignored)
{
    start(0, 0);
    const pn_stats *st = pn_stats_get(S);
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 5, 0, 0};
    size_t n = pn_tf_icmp(fr, &h, 8, 0, 1, "abc", 3);
    fr[n - 1] ^= 1;
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->icmp_bad_csum, 1);
    pn_tf_ip hb = h;
    hb.dmac = pn_tf_bcast;
    memcpy(hb.dst, (uint8_t[4]){10, 0, 0, 255}, 4);
    n = pn_tf_icmp(fr, &hb, 8, 0, 1, "abc", 3);
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->icmp_ignored, 1);
    n = pn_tf_icmp(fr, &h, 0, 0, 1, "abc", 3); /* an echo reply */
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->icmp_ignored, 2);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    finish();
}
END_TEST

START_TEST(test_icmp_error_received_counted)
{
    start(0, 0);
    pn_tf_ip q = {NULL, NULL, {10, 0, 0, 1}, {10, 0, 0, 2}, 17, 64, 0, 5, 0, 0};
    uint8_t quote[64];
    size_t qn = pn_tf_udp(quote, &q, 5000, 53, "abcd", 4, 0);
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 5, 0, 0};
    size_t n = pn_tf_icmp(fr, &h, 3, 3, 0, quote, qn);
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(pn_stats_get(S)->icmp_err_rx, 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    finish();
}
END_TEST

Suite *
icmp_suite(void)
{
    Suite *s = suite_create("icmp");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_icmp_rate_limit_by_explicit_time);
    tcase_add_test(tc, test_icmp_protocol_unreachable_counted);
    tcase_add_test(tc, test_icmp_no_error_about_error_bcast_fragment_or_bad_source);
    tcase_add_test(tc, test_icmp_quote_limited_to_576);
    tcase_add_test(tc, test_icmp_echo_bad_checksum_and_broadcast_ignored);
    tcase_add_test(tc, test_icmp_error_received_counted);
    suite_add_tcase(s, tc);
    return s;
}
