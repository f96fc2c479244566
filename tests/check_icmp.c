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

/* ---- IPv4 output cache (lib/ip4.c) through echo replies ---------------- */

static int hook_calls;
static int
accept_hook(void *user, int point, const pn_pktview *ip)
{
    (void)user;
    (void)ip;
    if (point == PN_HOOK_LOCAL_OUT || point == PN_HOOK_POST_ROUTING)
        hook_calls++;
    return PN_ACCEPT;
}

static size_t
echo_from(const uint8_t smac[6], const uint8_t src[4], uint16_t id, const char *data)
{
    pn_tf_ip h = {MAC_A, smac, {0}, {10, 0, 0, 1}, 1, 64, 0, id, 0, 0};
    memcpy(h.src, src, 4);
    return pn_tf_icmp(fr, &h, 8, 0, id, data, strlen(data));
}

START_TEST(test_icmp_echo_replies_output_cache_matches_general_path)
{
    /* The same echo requests to S (replies after the first from the
     * output cache) and to a twin with an accepting POST_ROUTING hook
     * (general path every time): byte-identical replies and counters. */
    start(0, 0);
    pn_test_node B;
    pn_config c;
    pn_test_config(&c, 1);
    pn_stack *T = pn_test_node_new(&B, &c);
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(T, fr, n, 1);
    pn_test_drain_all(T);
    T->cfg.hook = accept_hook;
    T->cfg.hook_mask = 1u << PN_HOOK_POST_ROUTING;
    hook_calls = 0;
    static const char *data[4] = {"a", "", "0123456789abcdef", "xyz"};
    static uint8_t f1[4096];
    for (int k = 0; k < 4; k++) {
        n = echo_from(MAC_P, IP_P, (uint16_t)(k + 1), data[k]);
        pn_inject_raw(S, fr, n, 2 + (uint64_t)k);
        pn_inject_raw(T, fr, n, 2 + (uint64_t)k);
        int a = pn_drain_raw(S, out, sizeof out);
        int b = pn_drain_raw(T, f1, sizeof f1);
        ck_assert_int_eq(a, (int)(42 + strlen(data[k])));
        ck_assert_int_eq(a, b);
        ck_assert_mem_eq(out, f1, (size_t)a);
        ck_assert_mem_eq(out, MAC_P, 6);
        ck_assert_uint_eq(pn_tf_csum(out + 14, 20, 0), 0);
    }
    ck_assert_int_eq(hook_calls, 4);
    const pn_stats *sa = pn_stats_get(S), *sb = pn_stats_get(T);
    ck_assert_uint_eq(sa->ip4_tx, sb->ip4_tx);
    ck_assert_uint_eq(sa->frames_out, sb->frames_out);
    ck_assert_uint_eq(A.tap_out, B.tap_out);
    T->cfg.hook = NULL;
    T->cfg.hook_mask = 0;
    pn_test_drain_all(T);
    uint64_t d;
    while ((d = pn_next_deadline(T)) != PN_TIME_NEVER) {
        pn_poll(T, d);
        pn_test_drain_all(T);
    }
    pn_test_pools_empty(T);
    pn_test_node_free(&B);
    finish();
}
END_TEST

START_TEST(test_icmp_echo_replies_output_cache_follows_routes_neighbours_hooks)
{
    static const uint8_t MAC_Q[6] = {2, 0, 0, 0, 0, 3}, MAC_R[6] = {2, 0, 0, 0, 0, 9};
    static const uint8_t FAR[4] = {192, 168, 1, 1};
    start(0, 0);
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_Q, (const uint8_t[4]){10, 0, 0, 3},
                         (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(S, fr, n, 1);
    pn_test_drain_all(S);
    pn_route r = {PN_IP4(0, 0, 0, 0), 0, PN_IP4(10, 0, 0, 2), PN_IP4(0, 0, 0, 0)};
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    for (int i = 0; i < 3; i++) { /* via the gateway 10.0.0.2 */
        pn_inject_raw(S, fr, echo_from(MAC_P, FAR, 1, "x"), 2);
        ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 43);
        ck_assert_mem_eq(out, MAC_P, 6);
        ck_assert_mem_eq(out + 30, FAR, 4);
    }
    r.gateway = PN_IP4(10, 0, 0, 3); /* replaces the default route */
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    for (int i = 0; i < 2; i++) {
        pn_inject_raw(S, fr, echo_from(MAC_P, FAR, 2, "x"), 3);
        ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 43);
        ck_assert_mem_eq(out, MAC_Q, 6);
    }
    ck_assert_int_eq(pn_route_del(S, PN_IP4(0, 0, 0, 0), 0), 0);
    pn_inject_raw(S, fr, echo_from(MAC_P, FAR, 3, "x"), 4);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    ck_assert_uint_eq(pn_stats_get(S)->ip4_no_route, 1);
    /* the on-link peer changes its MAC (an ARP reply merges into the
     * entry): the next reply goes to the new one */
    for (int i = 0; i < 2; i++) {
        pn_inject_raw(S, fr, echo_from(MAC_P, IP_P, 4, "ab"), 5);
        ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 44);
        ck_assert_mem_eq(out, MAC_P, 6);
    }
    n = pn_tf_arp(fr, 2, MAC_A, MAC_R, IP_P, MAC_A, IP_A);
    pn_inject_raw(S, fr, n, 6);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    pn_inject_raw(S, fr, echo_from(MAC_R, IP_P, 5, "ab"), 7);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 44);
    ck_assert_mem_eq(out, MAC_R, 6);
    /* a hook installed now sees the reply (and may drop it) */
    hook_calls = 0;
    S->cfg.hook = accept_hook;
    S->cfg.hook_mask = 1u << PN_HOOK_LOCAL_OUT;
    pn_inject_raw(S, fr, echo_from(MAC_R, IP_P, 6, "ab"), 8);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 44);
    S->cfg.hook = NULL;
    S->cfg.hook_mask = 0;
    /* past the entry's lifetime: ARP again, the reply is held */
    uint64_t late = 7 + 60000000u;
    pn_inject_raw(S, fr, echo_from(MAC_R, IP_P, 7, "ab"), late);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 42);
    ck_assert_uint_eq(pni_be16(out + 12), 0x0806);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    n = pn_tf_arp(fr, 2, MAC_A, MAC_P, IP_P, MAC_A, IP_A);
    pn_inject_raw(S, fr, n, late + 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 44);
    ck_assert_mem_eq(out, MAC_P, 6);
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
    tcase_add_test(tc, test_icmp_echo_replies_output_cache_matches_general_path);
    tcase_add_test(tc, test_icmp_echo_replies_output_cache_follows_routes_neighbours_hooks);
    suite_add_tcase(s, tc);
    return s;
}
