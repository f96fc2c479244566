/*
 * check_neigh.c -- ARP (RFC 826) and the neighbour cache: retry schedule,
 * give-up, unsolicited replies, expiry, LRU replacement, hold queues.
 */
#include <string.h>

#include "helper_frames.h"
#include "helper_link.h"
#include "pn_check.h"

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t IP_A[4] = {10, 0, 0, 1};
static const uint8_t ZERO6[6] = {0};
static uint8_t fr[2048], out[2048];
static pn_test_node A;
static pn_stack *S;
static int U;

static void
setup(void)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.neigh_entries = 4;
    c.neigh_hold_pkts = 2;
    S = pn_test_node_new(&A, &c);
    U = pn_udp_open(S);
}

static void
teardown(void)
{
    pn_udp_close(S, U);
    uint64_t d;
    while ((d = pn_next_deadline(S)) != PN_TIME_NEVER) {
        pn_poll(S, d);
        pn_test_drain_all(S);
    }
    pn_test_drain_all(S);
    pn_test_pools_empty(S);
    pn_test_node_free(&A);
}

static int
send_to(uint8_t last, uint64_t now)
{
    pn_sockaddr to = {PN_IP4(10, 0, 0, last), 9};
    return pn_udp_sendto(S, U, "x", 1, &to, now);
}

static int
is_arp_request_for(const uint8_t *f, int n, uint8_t last)
{
    return n == 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && f[38] == 10 && f[41] == last;
}

static void
reply_from(uint8_t last, uint64_t now)
{
    uint8_t mac[6] = {2, 0, 0, 0, 0, last}, ip[4] = {10, 0, 0, last};
    size_t n = pn_tf_arp(fr, 2, MAC_A, mac, ip, MAC_A, IP_A);
    ck_assert_int_eq(pn_inject_raw(S, fr, n, now), 0);
}

/* A TCP segment from 10.0.0.9:40000 (MAC ..:09) to us, port 80. */
static size_t
tcp_from9(uint8_t flags, uint32_t seq, uint32_t ack)
{
    static const uint8_t mac9[6] = {2, 0, 0, 0, 0, 9};
    pn_tf_ip h;
    memset(&h, 0, sizeof h);
    h.dmac = MAC_A;
    h.smac = mac9;
    memcpy(h.src, (uint8_t[4]){10, 0, 0, 9}, 4);
    memcpy(h.dst, IP_A, 4);
    h.proto = 6;
    h.ttl = 64;
    uint8_t t[20] = {0x9c, 0x40, 0, 80, (uint8_t)(seq >> 24), (uint8_t)(seq >> 16),
                     (uint8_t)(seq >> 8), (uint8_t)seq, (uint8_t)(ack >> 24), (uint8_t)(ack >> 16),
                     (uint8_t)(ack >> 8), (uint8_t)ack, 0x50, flags, 0xff, 0xff};
    uint32_t ph = (10 << 8) + 9 + (10 << 8) + 1 + 6 + 20; /* pseudo header */
    uint16_t c = pn_tf_csum(t, sizeof t, ph);
    t[16] = (uint8_t)(c >> 8);
    t[17] = (uint8_t)c;
    return pn_tf_ip4(fr, &h, t, sizeof t);
}

START_TEST(test_neigh_unresolved_three_requests_one_second_apart)
{
    const pn_stats *st = pn_stats_get(S);
    ck_assert_int_eq(send_to(9, 1000000), 1);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    ck_assert_uint_eq(pn_next_deadline(S), 2000000);
    pn_poll(S, 1999999);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    pn_poll(S, 2000000);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    pn_poll(S, 3000000);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    ck_assert_uint_eq(st->arp_req_tx, 3);
    ck_assert_uint_eq(st->arp_resolve_fail, 0);
    /* one retry interval after the third request: give up */
    pn_poll(S, 4000000);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    ck_assert_uint_eq(st->arp_req_tx, 3);
    ck_assert_uint_eq(st->arp_resolve_fail, 1);
    ck_assert_uint_eq(st->pool[PN_POOL_NEIGH].used, 0);
    ck_assert_uint_eq(st->pool[PN_POOL_TXBUF].used, 0);
    ck_assert_uint_eq(pn_next_deadline(S), PN_TIME_NEVER);
}
END_TEST

START_TEST(test_neigh_give_up_drops_every_held_packet_counted)
{
    const pn_stats *st = pn_stats_get(S);
    send_to(9, 0);
    send_to(9, 10);
    send_to(9, 20); /* third: over neigh_hold_pkts = 2 */
    ck_assert_uint_eq(st->neigh_hold_drop, 1);
    ck_assert_uint_eq(st->arp_req_tx, 1);
    pn_poll(S, 10000000);
    pn_poll(S, 20000000);
    pn_poll(S, 30000000);
    ck_assert_uint_eq(st->arp_resolve_fail, 2);
    pn_test_drain_all(S);
    ck_assert_uint_eq(st->pool[PN_POOL_TXBUF].used, 0);
}
END_TEST

START_TEST(test_neigh_reply_releases_held_in_order)
{
    pn_sockaddr to = {PN_IP4(10, 0, 0, 9), 9};
    ck_assert_int_eq(pn_udp_sendto(S, U, "first", 5, &to, 0), 5);
    ck_assert_int_eq(pn_udp_sendto(S, U, "second", 6, &to, 1), 6);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    reply_from(9, 500);
    int n = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_eq(n, 14 + 20 + 8 + 5);
    ck_assert_mem_eq(out + 42, "first", 5);
    ck_assert_uint_eq(out[5], 9); /* dst MAC learnt */
    n = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_eq(n, 14 + 20 + 8 + 6);
    ck_assert_mem_eq(out + 42, "second", 6);
    /* resolved: the next one goes straight out */
    ck_assert_int_eq(send_to(9, 600), 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 14 + 20 + 8 + 1);
    ck_assert_uint_eq(pn_stats_get(S)->arp_req_tx, 1);
}
END_TEST

START_TEST(test_neigh_unsolicited_reply_ignored)
{
    const pn_stats *st = pn_stats_get(S);
    reply_from(7, 100);
    ck_assert_uint_eq(st->arp_unsolicited, 1);
    ck_assert_uint_eq(st->pool[PN_POOL_NEIGH].used, 0);
    /* so a send still has to ask */
    send_to(7, 200);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 7));
}
END_TEST

START_TEST(test_neigh_request_for_us_answered_and_learnt)
{
    uint8_t mac[6] = {2, 0, 0, 0, 0, 5}, ip[4] = {10, 0, 0, 5};
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, mac, ip, ZERO6, IP_A);
    pn_inject_raw(S, fr, n, 100);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 42);
    ck_assert_uint_eq(out[21], 2);
    /* learnt: no request needed */
    ck_assert_int_eq(send_to(5, 200), 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 43);
    ck_assert_uint_eq(pn_stats_get(S)->arp_req_tx, 0);
}
END_TEST

START_TEST(test_neigh_request_for_other_not_answered_not_learnt)
{
    uint8_t mac[6] = {2, 0, 0, 0, 0, 5}, ip[4] = {10, 0, 0, 5}, other[4] = {10, 0, 0, 77};
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, mac, ip, ZERO6, other);
    pn_inject_raw(S, fr, n, 100);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    ck_assert_uint_eq(pn_stats_get(S)->arp_not_for_us, 1);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_NEIGH].used, 0);
}
END_TEST

START_TEST(test_neigh_entry_expires_after_ttl)
{
    send_to(9, 0);
    pn_test_drain_all(S);
    reply_from(9, 1000);
    pn_test_drain_all(S);
    ck_assert_uint_eq(pn_next_deadline(S), 1000 + 60000000);
    pn_poll(S, 1000 + 59999999);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_NEIGH].used, 1);
    pn_poll(S, 1000 + 60000000);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_NEIGH].used, 0);
    send_to(9, 61000000);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
}
END_TEST

START_TEST(test_neigh_full_table_replaces_lru_reachable)
{
    /* fill 4 entries, resolve all, touch all but .12 */
    for (uint8_t i = 10; i < 14; i++) {
        send_to(i, i);
        reply_from(i, 100 + i);
    }
    pn_test_drain_all(S);
    send_to(10, 1000);
    send_to(11, 1001);
    send_to(13, 1003);
    pn_test_drain_all(S);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_NEIGH].used, 4);
    send_to(20, 2000); /* replaces .12, the least recently used */
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 20));
    send_to(12, 2001);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 12));
    /* .10 went now (LRU after .12 took its place); .13 still known */
    send_to(13, 2002);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 43);
}
END_TEST

START_TEST(test_neigh_full_table_of_incomplete_drops_counted)
{
    for (uint8_t i = 10; i < 14; i++)
        send_to(i, i);
    pn_test_drain_all(S);
    send_to(20, 100);
    ck_assert_uint_eq(pn_stats_get(S)->neigh_table_full, 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
}
END_TEST

START_TEST(test_neigh_bad_arp_counted)
{
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_A, IP_A, ZERO6, IP_A);
    fr[14 + 1] = 0x99; /* htype 0x0199 */
    pn_inject_raw(S, fr, n, 1);
    ck_assert_uint_eq(pn_stats_get(S)->arp_bad, 1);
    n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_A, IP_A, ZERO6, IP_A);
    pn_inject_raw(S, fr, 30, 1); /* truncated */
    ck_assert_uint_eq(pn_stats_get(S)->arp_bad, 2);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
}
END_TEST

/* ARP gives up on the next hop of a connecting TCP socket: the connect
 * fails with PN_EHOSTUNREACH at once (Linux: "No route to host" after
 * about 3 s), instead of six more SYNs over two minutes. */
START_TEST(test_neigh_give_up_fails_tcp_connect_host_unreachable)
{
    const pn_stats *st = pn_stats_get(S);
    int t = pn_tcp_open(S);
    ck_assert_int_ge(t, 0);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 9), 80};
    ck_assert_int_eq(pn_tcp_connect(S, t, &to, 1000000), PN_EINPROGRESS);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    pn_poll(S, 2000000);
    pn_poll(S, 3000000);
    pn_test_drain_all(S);
    ck_assert_int_eq(pn_tcp_state(S, t), PN_TCP_SYN_SENT);
    pn_poll(S, 4000000); /* gave up: the held SYN and its retransmission */
    ck_assert_uint_eq(st->arp_resolve_fail, 2);
    ck_assert_int_eq(pn_tcp_state(S, t), PN_TCP_CLOSED);
    pn_sock_status_t ss;
    ck_assert_int_eq(pn_sock_status(S, t, &ss), 0);
    ck_assert_int_eq(ss.pending_error, PN_EHOSTUNREACH);
    ck_assert_int_eq(pn_tcp_send(S, t, "x", 1, 4000000), PN_EHOSTUNREACH);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0); /* no RST, nothing */
    ck_assert_int_eq(pn_tcp_close(S, t, 4000000), 0);
}
END_TEST

/* An established connection whose next hop stops answering: the error is
 * soft (a later resolution may succeed), and it is what the connection
 * reports when its retransmissions finally give up, not PN_ETIMEDOUT. */
START_TEST(test_neigh_give_up_is_soft_error_of_established_tcp)
{
    int l = pn_tcp_open(S);
    pn_sockaddr any = {PN_IP4(0, 0, 0, 0), 80};
    ck_assert_int_eq(pn_tcp_bind(S, l, &any), 0);
    ck_assert_int_eq(pn_tcp_listen(S, l, 1), 0);
    /* the peer 10.0.0.9 connects; the SYN-ACK waits for ARP */
    ck_assert_int_eq(pn_inject_raw(S, fr, tcp_from9(0x02, 1000, 0), 0), 0);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    reply_from(9, 0);
    int k = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_gt(k, 14 + 20 + 20);
    ck_assert_uint_eq(out[14 + 20 + 13], 0x12); /* SYN-ACK */
    uint32_t iss = (uint32_t)out[38] << 24 | (uint32_t)out[39] << 16 | (uint32_t)out[40] << 8 | out[41];
    ck_assert_int_eq(pn_inject_raw(S, fr, tcp_from9(0x10, 1001, iss + 1), 0), 0);
    int c = pn_tcp_accept(S, l, NULL);
    ck_assert_int_ge(c, 0);
    pn_test_drain_all(S);
    /* the entry expires (neigh_ttl 60 s); then data needs a new resolution */
    uint64_t now = 61000000;
    pn_poll(S, now);
    pn_test_drain_all(S);
    ck_assert_int_eq(pn_tcp_send(S, c, "hello", 5, now), 5);
    ck_assert(is_arp_request_for(out, pn_drain_raw(S, out, sizeof out), 9));
    uint64_t d;
    while ((d = pn_next_deadline(S)) != PN_TIME_NEVER && pn_tcp_state(S, c) == PN_TCP_ESTABLISHED) {
        pn_poll(S, d);
        pn_test_drain_all(S);
        pn_sock_status_t ss;
        ck_assert_int_eq(pn_sock_status(S, c, &ss), 0);
        if (ss.state == PN_TCP_ESTABLISHED)
            ck_assert_int_eq(ss.pending_error, 0); /* soft: not reported yet */
    }
    ck_assert_uint_gt(pn_stats_get(S)->arp_resolve_fail, 1);
    ck_assert_int_eq(pn_tcp_state(S, c), PN_TCP_CLOSED);
    ck_assert_int_eq(pn_tcp_send(S, c, "x", 1, pn_next_deadline(S)), PN_EHOSTUNREACH);
    ck_assert_int_eq(pn_tcp_close(S, c, d), 0);
    ck_assert_int_eq(pn_tcp_close(S, l, d), 0);
}
END_TEST

Suite *
neigh_suite(void)
{
    Suite *s = suite_create("neigh");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_neigh_unresolved_three_requests_one_second_apart);
    tcase_add_test(tc, test_neigh_give_up_drops_every_held_packet_counted);
    tcase_add_test(tc, test_neigh_give_up_fails_tcp_connect_host_unreachable);
    tcase_add_test(tc, test_neigh_give_up_is_soft_error_of_established_tcp);
    tcase_add_test(tc, test_neigh_reply_releases_held_in_order);
    tcase_add_test(tc, test_neigh_unsolicited_reply_ignored);
    tcase_add_test(tc, test_neigh_request_for_us_answered_and_learnt);
    tcase_add_test(tc, test_neigh_request_for_other_not_answered_not_learnt);
    tcase_add_test(tc, test_neigh_entry_expires_after_ttl);
    tcase_add_test(tc, test_neigh_full_table_replaces_lru_reachable);
    tcase_add_test(tc, test_neigh_full_table_of_incomplete_drops_counted);
    tcase_add_test(tc, test_neigh_bad_arp_counted);
    suite_add_tcase(s, tc);
    return s;
}
