/*
 * check_ip4.c -- header validation mapped to counters, source and
 * destination checks, link padding, DF above the MTU, no route, IP IDs,
 * routing (longest prefix, source choice).
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
setup(void)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.n_addrs = 2;
    c.addrs[1].addr = PN_IP4(192, 168, 5, 1);
    c.addrs[1].prefix_len = 16;
    c.n_routes = 1;
    c.routes[0] = (pn_route){PN_IP4(172, 16, 0, 0), 12, PN_IP4(10, 0, 0, 254), PN_IP4(0, 0, 0, 0)};
    S = pn_test_node_new(&A, &c);
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(S, fr, n, 1);
    pn_test_drain_all(S);
}

static void
teardown(void)
{
    for (int i = 0; i < 8; i++)
        pn_udp_close(S, i);
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
good(void)
{
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 1, 0, 0};
    return pn_tf_udp(fr, &h, 1, 7, "abcd", 4, 0);
}

static void
fix_csum(void)
{
    fr[24] = fr[25] = 0;
    uint16_t c = pn_tf_csum(fr + 14, 20, 0);
    fr[24] = (uint8_t)(c >> 8);
    fr[25] = (uint8_t)c;
}

START_TEST(test_ip4_bad_headers_each_counted)
{
    const pn_stats *st = pn_stats_get(S);
    size_t n = good();
    fr[14] = 0x65; /* version 6 */
    fix_csum();
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_bad_ver, 1);
    n = good();
    fr[14] = 0x44; /* IHL 4 */
    fix_csum();
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_bad_hlen, 1);
    n = good();
    fr[24] ^= 0xff;
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_bad_csum, 1);
    n = good();
    fr[17] += 10; /* tot_len beyond the frame */
    fix_csum();
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_bad_len, 1);
    pn_inject_raw(S, fr, 14 + 12, 1); /* truncated header */
    ck_assert_uint_eq(st->ip4_bad_len, 2);
    n = good();
    fr[20] |= 0x80; /* reserved flag */
    fix_csum();
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_bad_field, 1);
    /* bad option: IHL 6 with an option whose length runs past the header */
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 1, 0, 0};
    uint8_t pl[12] = {0x07, 0x09, 0, 0};
    n = pn_tf_ip4(fr, &h, pl, sizeof pl);
    fr[14] = 0x46;
    fix_csum();
    fr[24] = fr[25] = 0;
    {
        uint16_t c = pn_tf_csum(fr + 14, 24, 0);
        fr[24] = (uint8_t)(c >> 8);
        fr[25] = (uint8_t)c;
    }
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_bad_opt, 1);
    ck_assert_uint_eq(st->ip4_rx, 7);
    ck_assert_uint_eq(st->udp_rx, 0);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
}
END_TEST

START_TEST(test_ip4_bad_source_and_not_for_us)
{
    const pn_stats *st = pn_stats_get(S);
    static const uint8_t srcs[][4] = {{255, 255, 255, 255}, {10, 0, 0, 255}, {224, 0, 0, 5}, {127, 0, 0, 1},
                                      {10, 0, 0, 1}};
    for (size_t i = 0; i < 5; i++) {
        pn_tf_ip h = {MAC_A, MAC_P, {0}, {10, 0, 0, 1}, 17, 64, 0, 1, 0, 0};
        memcpy(h.src, srcs[i], 4);
        size_t n = pn_tf_udp(fr, &h, 1, 7, "abcd", 4, 0);
        pn_inject_raw(S, fr, n, 1);
    }
    ck_assert_uint_eq(st->ip4_bad_src, 5);
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 3}, 17, 64, 0, 1, 0, 0};
    size_t n = pn_tf_udp(fr, &h, 1, 7, "abcd", 4, 0);
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(st->ip4_not_for_us, 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
}
END_TEST

START_TEST(test_ip4_link_padding_trimmed)
{
    int u = pn_udp_open(S);
    pn_sockaddr me = {PN_IP4(0, 0, 0, 0), 7};
    pn_udp_bind(S, u, &me);
    size_t n = good(); /* 46 bytes: pad to the Ethernet minimum of 60 */
    memset(fr + n, 0xee, 60 - n);
    pn_inject_raw(S, fr, 60, 1);
    char b[64];
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, sizeof b, NULL), 4);
    ck_assert_mem_eq(b, "abcd", 4);
    /* to our second address and to the directed broadcast too */
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {192, 168, 5, 1}, 17, 64, 0, 1, 0, 0};
    pn_inject_raw(S, fr, pn_tf_udp(fr, &h, 1, 7, "x", 1, 0), 1);
    memcpy(h.dst, (uint8_t[4]){10, 0, 0, 255}, 4);
    pn_inject_raw(S, fr, pn_tf_udp(fr, &h, 1, 7, "y", 1, 0), 1);
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, sizeof b, NULL), 1);
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, sizeof b, NULL), 1);
    ck_assert_uint_eq(b[0], 'y');
}
END_TEST

static pni_buf *
segment(size_t len)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, len);
    ck_assert_ptr_nonnull(b);
    memset(pni_buf_data(b), 0x5a, b->len);
    return b;
}

START_TEST(test_ip4_output_df_above_mtu_emsgsize_no_route_enetunreach)
{
    pni_ip4_tx tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.dst, IP_P, 4);
    tx.proto = 253;
    tx.df = 1;
    ck_assert_int_eq(pni_ip4_output(S, segment(1481), &tx), PN_EMSGSIZE);
    ck_assert_uint_eq(pn_stats_get(S)->ip4_df_drop, 1);
    ck_assert_int_eq(pni_ip4_output(S, segment(1480), &tx), 0);
    int k = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_eq(k, 1514);
    ck_assert_uint_eq(out[20], 0x40); /* DF */
    memcpy(tx.dst, (uint8_t[4]){8, 8, 8, 8}, 4);
    ck_assert_int_eq(pni_ip4_output(S, segment(10), &tx), PN_ENETUNREACH);
    ck_assert_uint_eq(pn_stats_get(S)->ip4_no_route, 1);
}
END_TEST

START_TEST(test_ip4_ids_keyed_not_a_bare_counter)
{
    const uint8_t d2[4] = {10, 0, 0, 3}, d3[4] = {10, 0, 0, 4};
    uint16_t a1 = pni_ip4_next_id(S, IP_A, IP_P, 17);
    uint16_t b1 = pni_ip4_next_id(S, IP_A, d2, 17);
    uint16_t c1 = pni_ip4_next_id(S, IP_A, d3, 17);
    uint16_t a2 = pni_ip4_next_id(S, IP_A, IP_P, 17);
    ck_assert_uint_eq((uint16_t)(a2 - a1), 3); /* per-destination order kept */
    ck_assert((uint16_t)(b1 - a1) != 1 || (uint16_t)(c1 - b1) != 1);
    /* another key, other IDs */
    pn_config c;
    pn_test_config(&c, 1);
    c.key[3] ^= 1;
    pn_test_node B;
    pn_test_node_new(&B, &c);
    ck_assert_uint_ne(pni_ip4_next_id(B.s, IP_A, IP_P, 17), a1);
    pn_test_pools_empty(B.s);
    pn_test_node_free(&B);
}
END_TEST

START_TEST(test_ip4_route_longest_prefix_and_source)
{
    uint8_t src[4], nh[4];
    ck_assert_int_eq(pni_route_lookup(S, (uint8_t[4]){10, 0, 0, 9}, src, nh), 0);
    ck_assert_mem_eq(src, IP_A, 4);
    ck_assert_mem_eq(nh, ((uint8_t[4]){10, 0, 0, 9}), 4);
    ck_assert_int_eq(pni_route_lookup(S, (uint8_t[4]){192, 168, 77, 1}, src, nh), 0);
    ck_assert_mem_eq(src, ((uint8_t[4]){192, 168, 5, 1}), 4);
    ck_assert_int_eq(pni_route_lookup(S, (uint8_t[4]){172, 20, 1, 1}, src, nh), 0);
    ck_assert_mem_eq(nh, ((uint8_t[4]){10, 0, 0, 254}), 4);
    ck_assert_mem_eq(src, IP_A, 4); /* the gateway's network */
    ck_assert_int_eq(pni_route_lookup(S, (uint8_t[4]){172, 32, 1, 1}, src, nh), PN_ENETUNREACH);
    ck_assert_int_eq(pni_route_lookup(S, (uint8_t[4]){255, 255, 255, 255}, src, nh), 0);
    /* a more specific route wins; a route's src is used */
    pn_route r = {PN_IP4(172, 20, 0, 0), 16, PN_IP4(192, 168, 0, 9), PN_IP4(192, 168, 5, 1)};
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    ck_assert_int_eq(pni_route_lookup(S, (uint8_t[4]){172, 20, 1, 1}, src, nh), 0);
    ck_assert_mem_eq(nh, ((uint8_t[4]){192, 168, 0, 9}), 4);
    ck_assert_mem_eq(src, ((uint8_t[4]){192, 168, 5, 1}), 4);
    pn_route bad = {PN_IP4(1, 0, 0, 0), 8, PN_IP4(8, 8, 8, 8), PN_IP4(0, 0, 0, 0)};
    ck_assert_int_eq(pn_route_add(S, &bad), PN_EINVAL);
    bad.prefix_len = 33;
    ck_assert_int_eq(pn_route_add(S, &bad), PN_EINVAL);
    for (int i = 0; i < 40; i++) {
        pn_route x = {PN_IP4(100, i, 0, 0), 16, PN_IP4(0, 0, 0, 0), PN_IP4(0, 0, 0, 0)};
        int rc = pn_route_add(S, &x);
        ck_assert(rc == 0 || rc == PN_ENOBUFS);
        if (i == 39)
            ck_assert_int_eq(rc, PN_ENOBUFS);
    }
}
END_TEST

Suite *
ip4_suite(void)
{
    Suite *s = suite_create("ip4");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ip4_bad_headers_each_counted);
    tcase_add_test(tc, test_ip4_bad_source_and_not_for_us);
    tcase_add_test(tc, test_ip4_link_padding_trimmed);
    tcase_add_test(tc, test_ip4_output_df_above_mtu_emsgsize_no_route_enetunreach);
    tcase_add_test(tc, test_ip4_ids_keyed_not_a_bare_counter);
    tcase_add_test(tc, test_ip4_route_longest_prefix_and_source);
    suite_add_tcase(s, tc);
    return s;
}
