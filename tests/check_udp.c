/*
 * check_udp.c -- UDP sockets: bind rules, autobind, every sendto error,
 * resource limits (egress queue, TX/RX pools, send and receive budgets),
 * port unreachable, close with datagrams in flight; the per-socket send
 * fast path (lib/udp.c) against the general path, and its fallbacks when
 * what it cached goes stale (route, neighbour, hooks, taps, MTU).
 */
#include <string.h>

#include "helper_frames.h"
#include "helper_link.h"
#include "pn_check.h"
#include "pn_internal.h" /* the fast-path tests install a hook at run time */

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_P[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t IP_A[4] = {10, 0, 0, 1};
static const uint8_t IP_P[4] = {10, 0, 0, 2};
static uint8_t fr[70000], out[70000];
static pn_test_node A;
static pn_stack *S;

static void
make(pn_config *c)
{
    S = pn_test_node_new(&A, c);
    /* teach it the peer's MAC */
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(S, fr, n, 1);
    pn_test_drain_all(S);
}

static void
setup(void)
{
    pn_config c;
    pn_test_config(&c, 1);
    make(&c);
}

static void
finish(void)
{
    for (int i = 0; i < 64; i++)
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

static const pn_sockaddr PEER = {{{10, 0, 0, 2}}, 40400};

static size_t
udp_in(uint16_t sport, uint16_t dport, const void *d, size_t len, const uint8_t dst[4])
{
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {0}, 17, 64, 0, 1, 0, 0};
    memcpy(h.dst, dst, 4);
    return pn_tf_udp(fr, &h, sport, dport, d, len, 0);
}

START_TEST(test_udp_bind_rules)
{
    int a = pn_udp_open(S), b = pn_udp_open(S), c = pn_udp_open(S);
    pn_sockaddr any = {PN_IP4(0, 0, 0, 0), 53}, mine = {PN_IP4(10, 0, 0, 1), 53};
    pn_sockaddr other = {PN_IP4(10, 0, 0, 9), 53};
    ck_assert_int_eq(pn_udp_bind(S, a, NULL), PN_EINVAL);
    ck_assert_int_eq(pn_udp_bind(S, a, &other), PN_EADDRNOTAVAIL);
    ck_assert_int_eq(pn_udp_bind(S, a, &any), 0);
    ck_assert_int_eq(pn_udp_bind(S, a, &any), PN_EINVAL);
    ck_assert_int_eq(pn_udp_bind(S, b, &mine), PN_EADDRINUSE);
    ck_assert_int_eq(pn_udp_bind(S, b, &any), PN_EADDRINUSE);
    ck_assert_int_eq(pn_udp_close(S, a), 0);
    ck_assert_int_eq(pn_udp_bind(S, b, &mine), 0);
    pn_sockaddr eph = {PN_IP4(0, 0, 0, 0), 0};
    ck_assert_int_eq(pn_udp_bind(S, c, &eph), 0);
    ck_assert_int_eq(pn_udp_bind(S, 99, &any), PN_EBADF);
    ck_assert_int_eq(pn_udp_bind(S, -1, &any), PN_EBADF);
    ck_assert_int_eq(pn_udp_close(S, a), PN_EBADF);
    finish();
}
END_TEST

START_TEST(test_udp_autobind_ephemeral_range_and_distinct)
{
    int u[8];
    uint16_t seen[8];
    for (int i = 0; i < 8; i++) {
        u[i] = pn_udp_open(S);
        ck_assert_int_eq(pn_udp_sendto(S, u[i], "q", 1, &PEER, 10), 1);
        ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 43);
        seen[i] = (uint16_t)(out[34] << 8 | out[35]);
        ck_assert_uint_ge(seen[i], 49152);
        for (int j = 0; j < i; j++)
            ck_assert_uint_ne(seen[i], seen[j]);
    }
    ck_assert_int_eq(pn_udp_open(S), PN_EMFILE); /* udp_socks = 8 */
    finish();
}
END_TEST

START_TEST(test_udp_sendto_argument_errors)
{
    int u = pn_udp_open(S);
    pn_sockaddr p0 = {PN_IP4(10, 0, 0, 2), 0}, a0 = {PN_IP4(0, 0, 0, 0), 9};
    ck_assert_int_eq(pn_udp_sendto(S, 7, "x", 1, &PEER, 1), PN_EBADF);
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, NULL, 1), PN_EINVAL);
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &p0, 1), PN_EINVAL);
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &a0, 1), PN_EINVAL);
    ck_assert_int_eq(pn_udp_sendto(S, u, NULL, 1, &PEER, 1), PN_EINVAL);
    ck_assert_int_eq(pn_udp_sendto(S, u, fr, 65508, &PEER, 1), PN_EMSGSIZE);
    pn_sockaddr self = {PN_IP4(10, 0, 0, 1), 9};
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &self, 1), PN_EHOSTUNREACH);
    ck_assert_int_eq(pn_udp_sendto(S, u, NULL, 0, &PEER, 1), 0); /* empty datagram */
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 42);
    ck_assert_int_eq(pn_udp_recvfrom(S, u, NULL, 5, NULL), PN_EINVAL);
    finish();
}
END_TEST

START_TEST(test_udp_sendto_no_route_enetunreach)
{
    int u = pn_udp_open(S);
    pn_sockaddr far = {PN_IP4(192, 168, 1, 1), 9};
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 1), PN_ENETUNREACH);
    ck_assert_uint_eq(pn_stats_get(S)->ip4_no_route, 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    /* with a default route it goes to the gateway's MAC */
    pn_route r = {PN_IP4(0, 0, 0, 0), 0, PN_IP4(10, 0, 0, 2), PN_IP4(0, 0, 0, 0)};
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 2), 1);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 43);
    ck_assert_mem_eq(out, MAC_P, 6);
    ck_assert_mem_eq(out + 30, ((uint8_t[4]){192, 168, 1, 1}), 4);
    ck_assert_int_eq(pn_route_del(S, PN_IP4(0, 0, 0, 0), 0), 0);
    ck_assert_int_eq(pn_route_del(S, PN_IP4(0, 0, 0, 0), 0), PN_ENOENT);
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 3), PN_ENETUNREACH);
    finish();
}
END_TEST

START_TEST(test_udp_full_egress_queue_enobufs_counted)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.egress_max_pkts = 3;
    make(&c);
    int u = pn_udp_open(S);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), 3);
    ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), PN_ENOBUFS);
    const pn_stats *st = pn_stats_get(S);
    ck_assert_uint_eq(st->egress_drop_pkts, 1);
    ck_assert_uint_eq(st->egress_drop_bytes, 45);
    ck_assert_uint_eq(st->egress_pkts, 3);
    ck_assert_int_eq(pn_test_drain_all(S), 3);
    ck_assert_uint_eq(st->egress_pkts, 0);
    ck_assert_uint_eq(st->egress_bytes, 0);
    ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), 3);
    finish();
}
END_TEST

START_TEST(test_udp_egress_bytes_bound)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.egress_max_bytes = 100;
    make(&c);
    int u = pn_udp_open(S);
    ck_assert_int_eq(pn_udp_sendto(S, u, fr, 50, &PEER, 10), 50); /* 92 bytes */
    ck_assert_int_eq(pn_udp_sendto(S, u, fr, 1, &PEER, 10), PN_ENOBUFS);
    ck_assert_uint_eq(pn_stats_get(S)->egress_drop_bytes, 43);
    finish();
}
END_TEST

START_TEST(test_udp_tx_pool_exhausted_enobufs_no_crash)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.tx_bufs = 4;
    make(&c);
    int u = pn_udp_open(S);
    int ok = 0, nobufs = 0;
    for (int i = 0; i < 10; i++) {
        int rc = pn_udp_sendto(S, u, "abc", 3, &PEER, 10);
        if (rc == 3)
            ok++;
        else if (rc == PN_ENOBUFS)
            nobufs++;
    }
    ck_assert_int_eq(ok, 4);
    ck_assert_int_eq(nobufs, 6);
    ck_assert_uint_ge(pn_stats_get(S)->tx_nobufs, 6);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_TXBUF].failed, 6);
    /* an echo request now cannot be answered, and is not a crash either */
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 1, 0, 0};
    size_t n = pn_tf_icmp(fr, &h, 8, 0, 1, "x", 1);
    ck_assert_int_eq(pn_inject_raw(S, fr, n, 20), 0);
    finish();
}
END_TEST

START_TEST(test_udp_rx_pool_exhausted_inject_enobufs)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.rx_bufs = 4;
    make(&c);
    int u = pn_udp_open(S);
    pn_sockaddr me = {PN_IP4(0, 0, 0, 0), 7};
    pn_udp_bind(S, u, &me);
    size_t n = udp_in(1000, 7, "hi", 2, IP_A);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pn_inject_raw(S, fr, n, 10), 0);
    ck_assert_int_eq(pn_inject_raw(S, fr, n, 10), PN_ENOBUFS);
    ck_assert_uint_eq(pn_stats_get(S)->inject_nobufs, 1);
    ck_assert_uint_eq(pn_stats_get(S)->rx_nobufs, 1);
    char b[8];
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, sizeof b, NULL), 2);
    ck_assert_int_eq(pn_inject_raw(S, fr, n, 10), 0);
    finish();
}
END_TEST

START_TEST(test_udp_full_receive_queue_counted)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.udp_rcvbuf = 250;
    make(&c);
    int u = pn_udp_open(S);
    pn_sockaddr me = {PN_IP4(0, 0, 0, 0), 7};
    pn_udp_bind(S, u, &me);
    size_t n = udp_in(1000, 7, fr + 60000, 100, IP_A);
    for (int i = 0; i < 3; i++)
        pn_inject_raw(S, fr, n, 10);
    ck_assert_uint_eq(pn_stats_get(S)->udp_rcvbuf_drop, 1);
    char b[200];
    pn_sockaddr from;
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, sizeof b, &from), 100);
    ck_assert_mem_eq(from.addr.b, IP_P, 4);
    ck_assert_uint_eq(from.port, 1000);
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, 10, NULL), 10); /* truncated */
    ck_assert_int_eq(pn_udp_recvfrom(S, u, b, sizeof b, NULL), PN_EAGAIN);
    pn_inject_raw(S, fr, n, 10);
    pn_inject_raw(S, fr, n, 10); /* left queued: close frees it */
    finish();
}
END_TEST

START_TEST(test_udp_send_budget_enobufs_then_released_by_drain)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.buf_size = 512;
    c.udp_sndbuf = 1024; /* two segments of truesize */
    make(&c);
    int u = pn_udp_open(S);
    ck_assert_int_eq(pn_udp_sendto(S, u, "a", 1, &PEER, 10), 1);
    ck_assert_int_eq(pn_udp_sendto(S, u, "b", 1, &PEER, 10), 1);
    ck_assert_int_eq(pn_udp_sendto(S, u, "c", 1, &PEER, 10), PN_ENOBUFS);
    ck_assert_uint_eq(pn_stats_get(S)->udp_nobufs, 1);
    pn_test_drain_all(S);
    ck_assert_int_eq(pn_udp_sendto(S, u, "c", 1, &PEER, 10), 1);
    /* an idle socket may send a datagram bigger than its budget */
    pn_test_drain_all(S);
    ck_assert_int_eq(pn_udp_sendto(S, u, fr, 3000, &PEER, 10), 3000);
    finish();
}
END_TEST

START_TEST(test_udp_no_socket_port_unreachable)
{
    size_t n = udp_in(1000, 9999, "zz", 2, IP_A);
    pn_inject_raw(S, fr, n, 10);
    ck_assert_uint_eq(pn_stats_get(S)->udp_no_port, 1);
    int k = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_eq(k, 14 + 20 + 8 + 20 + 10);
    ck_assert_uint_eq(out[23], 1);      /* ICMP */
    ck_assert_uint_eq(out[34], 3);      /* dest unreach */
    ck_assert_uint_eq(out[35], 3);      /* port */
    ck_assert_mem_eq(out + 42, fr + 14, 30); /* the quote */
    ck_assert_uint_eq(pn_tf_csum(out + 34, (size_t)k - 34, 0), 0);
    /* to a broadcast: no error */
    const uint8_t bc[4] = {10, 0, 0, 255};
    n = udp_in(1000, 9999, "zz", 2, bc);
    pn_inject_raw(S, fr, n, 10);
    ck_assert_uint_eq(pn_stats_get(S)->udp_no_port, 2);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    finish();
}
END_TEST

START_TEST(test_udp_bad_checksum_and_length_counted)
{
    int u = pn_udp_open(S);
    pn_sockaddr me = {PN_IP4(0, 0, 0, 0), 7};
    pn_udp_bind(S, u, &me);
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 1, 0, 0};
    size_t n = pn_tf_udp(fr, &h, 1, 7, "abcd", 4, 0x1234);
    pn_inject_raw(S, fr, n, 10);
    ck_assert_uint_eq(pn_stats_get(S)->udp_bad_csum, 1);
    n = pn_tf_udp(fr, &h, 1, 7, "abcd", 4, 0);
    fr[14 + 20 + 5] = 40; /* UDP length beyond the packet */
    pn_inject_raw(S, fr, n, 10);
    ck_assert_uint_eq(pn_stats_get(S)->udp_bad_len, 1);
    ck_assert_int_eq(pn_udp_recvfrom(S, u, out, 10, NULL), PN_EAGAIN);
    finish();
}
END_TEST

START_TEST(test_udp_close_with_datagram_held_frees_after_arp_gives_up)
{
    int u = pn_udp_open(S);
    pn_sockaddr far = {PN_IP4(10, 0, 0, 50), 9};
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 10), 1);
    ck_assert_int_eq(pn_udp_close(S, u), 0);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_UDP].used, 1); /* lingering */
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 10), PN_EBADF);
    finish(); /* ARP gives up; the slot goes back */
}
END_TEST

static int one(void);

START_TEST(test_udp_close_with_frames_queued_frees_at_last_drain)
{
    /* Three datagrams on the egress queue (the first by the general path,
     * the others by the fast one), then close: each drained frame gives
     * its buffer's charge back (pni_buf_free's straight-line case while
     * others remain), the last one frees the lingering slot. */
    int u = pn_udp_open(S);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), 3);
    const pni_udp_sock *us = pni_pool_at(&S->pool[PN_POOL_UDP], (uint32_t)u);
    ck_assert_ptr_nonnull(us);
    ck_assert_uint_eq(us->wmem, 3 * S->buf_size);
    ck_assert_int_eq(pn_udp_close(S, u), 0);
    ck_assert_uint_eq(us->in_use, PNI_UDP_CLOSING);
    for (int left = 2; left >= 1; left--) {
        ck_assert_int_eq(one(), 14 + 20 + 8 + 3);
        ck_assert_uint_eq(us->wmem, (uint32_t)left * S->buf_size);
        ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_UDP].used, 1);
        ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_TXBUF].used, (uint32_t)left);
    }
    ck_assert_int_eq(one(), 14 + 20 + 8 + 3);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_UDP].used, 0);
    ck_assert_uint_eq(pn_stats_get(S)->pool[PN_POOL_TXBUF].used, 0);
    ck_assert_uint_eq(pn_stats_get(S)->buf_double_free, 0);
    finish();
}
END_TEST

/* ---- send fast path ---------------------------------------------------- */

static int hook_calls, hook_verdict;
static int
count_hook(void *user, int point, const pn_pktview *ip)
{
    (void)user;
    (void)ip;
    if (point == PN_HOOK_LOCAL_OUT || point == PN_HOOK_POST_ROUTING)
        hook_calls++;
    return hook_verdict;
}

/* Drain one frame into out; returns its length. */
static int
one(void)
{
    return pn_drain_raw(S, out, sizeof out);
}

START_TEST(test_udp_fast_path_frames_match_general_path)
{
    /* The same datagrams from one socket (the second and later take the
     * fast path) and from a fresh socket each time on a twin stack (the
     * general path every time): byte-identical frames and counters. */
    pn_test_node B;
    pn_config c;
    pn_test_config(&c, 1);
    pn_stack *T = pn_test_node_new(&B, &c);
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(T, fr, n, 1);
    pn_test_drain_all(T);
    pn_sockaddr la = {PN_IP4(0, 0, 0, 0), 7000};
    int u = pn_udp_open(S);
    ck_assert_int_eq(pn_udp_bind(S, u, &la), 0);
    static uint8_t pay[6][1500], f1[2048];
    size_t lens[6] = {1, 0, 64, 2, 1401, 1472};
    for (int k = 0; k < 6; k++)
        for (size_t i = 0; i < lens[k]; i++)
            pay[k][i] = (uint8_t)(i * 7 + k);
    for (int k = 0; k < 6; k++) {
        if (k == 3) {
            /* a payload word making the computed checksum 0: sent as
             * 0xffff (RFC 768). The UDP sum ignores the IP ID, so the
             * checksum of a zero word tells which word that is. */
            pay[3][0] = 0;
            pay[3][1] = 0;
            int t = pn_udp_open(T);
            ck_assert_int_eq(pn_udp_bind(T, t, &la), 0);
            ck_assert_int_eq(pn_udp_sendto(T, t, pay[3], 2, &PEER, 5), 2);
            ck_assert_int_eq(pn_drain_raw(T, f1, sizeof f1), 44);
            pn_udp_close(T, t);
            pay[3][0] = f1[40];
            pay[3][1] = f1[41];
            /* and the same on S, to keep both stacks' IP ID counters equal */
            ck_assert_int_eq(pn_udp_sendto(S, u, pay[3] + 2, 0, &PEER, 5), 0);
            ck_assert_int_eq(one(), 42);
        }
        int t = pn_udp_open(T);
        ck_assert_int_eq(pn_udp_bind(T, t, &la), 0);
        ck_assert_int_eq(pn_udp_sendto(S, u, pay[k], lens[k], &PEER, 10 + k), (int)lens[k]);
        ck_assert_int_eq(pn_udp_sendto(T, t, pay[k], lens[k], &PEER, 10 + k), (int)lens[k]);
        int a = one();
        int b = pn_drain_raw(T, f1, sizeof f1);
        ck_assert_int_eq(a, (int)(42 + lens[k]));
        ck_assert_int_eq(a, b);
        ck_assert_mem_eq(out, f1, (size_t)a);
        if (k == 3)
            ck_assert_uint_eq(pni_be16(out + 40), 0xffff);
        ck_assert_uint_eq(pn_tf_csum(out + 14, 20, 0), 0);
        pn_udp_close(T, t);
    }
    const pn_stats *sa = pn_stats_get(S), *sb = pn_stats_get(T);
    ck_assert_uint_eq(sa->udp_tx, sb->udp_tx);
    ck_assert_uint_eq(sa->ip4_tx, sb->ip4_tx);
    ck_assert_uint_eq(sa->frames_out, sb->frames_out);
    ck_assert_uint_eq(A.tap_out, B.tap_out);
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

START_TEST(test_udp_fast_path_route_change_between_sends)
{
    static const uint8_t MAC_Q[6] = {2, 0, 0, 0, 0, 3};
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_Q, (const uint8_t[4]){10, 0, 0, 3},
                         (const uint8_t[6]){0}, IP_A);
    pn_inject_raw(S, fr, n, 1);
    pn_test_drain_all(S);
    pn_route r = {PN_IP4(0, 0, 0, 0), 0, PN_IP4(10, 0, 0, 2), PN_IP4(0, 0, 0, 0)};
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    int u = pn_udp_open(S);
    pn_sockaddr far = {PN_IP4(192, 168, 1, 1), 9};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 2), 1);
        ck_assert_int_eq(one(), 43);
        ck_assert_mem_eq(out, MAC_P, 6);
    }
    r.gateway = PN_IP4(10, 0, 0, 3); /* replaces the default route */
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 3), 1);
        ck_assert_int_eq(one(), 43);
        ck_assert_mem_eq(out, MAC_Q, 6);
    }
    ck_assert_int_eq(pn_route_del(S, PN_IP4(0, 0, 0, 0), 0), 0);
    ck_assert_int_eq(pn_udp_sendto(S, u, "x", 1, &far, 4), PN_ENETUNREACH);
    ck_assert_int_eq(one(), 0);
    finish();
}
END_TEST

START_TEST(test_udp_fast_path_neighbour_change_and_expiry)
{
    static const uint8_t MAC_R[6] = {2, 0, 0, 0, 0, 9};
    int u = pn_udp_open(S);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, 2), 2);
        ck_assert_int_eq(one(), 44);
        ck_assert_mem_eq(out, MAC_P, 6);
    }
    /* the peer's MAC changes: a reply from it merges into the entry
     * (RFC 826) and, unlike a request, makes us emit no ARP naming the
     * new MAC (tshark would flag that pcap frame as a duplicate use of
     * the address) */
    size_t n = pn_tf_arp(fr, 2, MAC_A, MAC_R, IP_P, MAC_A, IP_A);
    pn_inject_raw(S, fr, n, 3);
    ck_assert_int_eq(one(), 0);
    ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, 4), 2);
    ck_assert_int_eq(one(), 44);
    ck_assert_mem_eq(out, MAC_R, 6);
    /* past the entry's lifetime: ARP again, the datagram is held */
    uint64_t late = 3 + 60000000u;
    ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, late), 2);
    ck_assert_int_eq(one(), 42);
    ck_assert_uint_eq(pni_be16(out + 12), 0x0806);
    ck_assert_int_eq(one(), 0);
    /* the reply releases it, and the next one goes straight out */
    n = pn_tf_arp(fr, 2, MAC_A, MAC_P, IP_P, MAC_A, IP_A);
    pn_inject_raw(S, fr, n, late + 1);
    ck_assert_int_eq(one(), 44);
    ck_assert_mem_eq(out, MAC_P, 6);
    ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, late + 2), 2);
    ck_assert_int_eq(one(), 44);
    ck_assert_mem_eq(out, MAC_P, 6);
    finish();
}
END_TEST

START_TEST(test_udp_fast_path_hook_installed_later_sees_datagram)
{
    int u = pn_udp_open(S);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, 2), 2);
        ck_assert_int_eq(one(), 44);
    }
    hook_calls = 0;
    hook_verdict = PN_DROP;
    S->cfg.hook = count_hook;
    S->cfg.hook_mask = 1u << PN_HOOK_POST_ROUTING;
    ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, 3), 2);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(one(), 0);
    ck_assert_uint_eq(pn_stats_get(S)->hook_drop_post_routing, 1);
    S->cfg.hook_mask = 1u << PN_HOOK_LOCAL_OUT;
    ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, 4), 2);
    ck_assert_int_eq(hook_calls, 2);
    ck_assert_uint_eq(pn_stats_get(S)->hook_drop_local_out, 1);
    /* a hook on the receive side only does not stop the fast path */
    S->cfg.hook_mask = 1u << PN_HOOK_LOCAL_IN;
    ck_assert_int_eq(pn_udp_sendto(S, u, "ab", 2, &PEER, 5), 2);
    ck_assert_int_eq(one(), 44);
    ck_assert_int_eq(hook_calls, 2);
    S->cfg.hook = NULL;
    S->cfg.hook_mask = 0;
    finish();
}
END_TEST

START_TEST(test_udp_fast_path_taps_egress_limit_and_fragments)
{
    pn_test_node_free(&A);
    pn_config c;
    pn_test_config(&c, 1);
    c.egress_max_pkts = 2;
    make(&c);
    int u = pn_udp_open(S);
    uint64_t t0 = A.tap_out;
    ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), 3);
    ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), 3);
    ck_assert_int_eq(pn_udp_sendto(S, u, "abc", 3, &PEER, 10), PN_ENOBUFS);
    ck_assert_uint_eq(A.tap_out - t0, 2);
    const pn_stats *st = pn_stats_get(S);
    ck_assert_uint_eq(st->egress_drop_pkts, 1);
    ck_assert_uint_eq(st->egress_drop_bytes, 45);
    ck_assert_uint_eq(st->udp_tx, 2);
    ck_assert_uint_eq(st->ip4_tx, 3);
    ck_assert_int_eq(pn_test_drain_all(S), 2);
    /* above the MTU the general path fragments, after fast sends */
    ck_assert_int_eq(pn_udp_sendto(S, u, fr, 1473, &PEER, 11), 1473);
    ck_assert_int_eq(pn_test_drain_all(S), 2);
    ck_assert_int_eq(pn_udp_sendto(S, u, fr, 1472, &PEER, 12), 1472);
    ck_assert_int_eq(one(), 1514);
    finish();
}
END_TEST

/* ---- receive fast path ------------------------------------------------- */

static int rx_hook_calls;
static int
accept_hook(void *user, int point, const pn_pktview *ip)
{
    (void)user;
    (void)ip;
    if (point == PN_HOOK_PRE_ROUTING || point == PN_HOOK_LOCAL_IN)
        rx_hook_calls++;
    return PN_ACCEPT;
}

START_TEST(test_udp_rx_fast_path_matches_general_path)
{
    /* Twin stacks given the same frames: S takes the receive fast path
     * (lib/ip4.c rx_fast) where it may, T has accepting PRE_ROUTING and
     * LOCAL_IN hooks installed, which keep every frame on the general
     * path. Every frame kind the fast path takes or must refuse: the same
     * counters, output frames (ICMP errors), and datagrams read. */
    pn_test_node B;
    pn_config c;
    pn_test_config(&c, 1);
    c.udp_rcvbuf = 40;
    pn_test_node_free(&A);
    S = pn_test_node_new(&A, &c);
    c.hook = accept_hook;
    c.hook_mask = (1u << PN_HOOK_PRE_ROUTING) | (1u << PN_HOOK_LOCAL_IN);
    pn_stack *T = pn_test_node_new(&B, &c);
    pn_stack *st[2] = {S, T};
    pn_sockaddr la = {PN_IP4(0, 0, 0, 0), 7};
    int u[2];
    for (int i = 0; i < 2; i++) {
        u[i] = pn_udp_open(st[i]);
        ck_assert_int_eq(pn_udp_bind(st[i], u[i], &la), 0);
    }
    static uint8_t f1[2048];
    rx_hook_calls = 0;
    int expect_hook = 0;
    for (int k = 0; k < 14; k++) {
        pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, (uint16_t)(100 + k), 0, 0};
        uint16_t dport = 7, csum = 0;
        size_t plen = 5;
        switch (k) {
        case 3: csum = 0x1234; break;           /* bad UDP checksum */
        case 5: dport = 9999; break;            /* no socket: ICMP */
        case 6: h.dst[3] = 255; break;          /* directed broadcast */
        case 7: h.frag = 0x2000; break;         /* a first fragment (MF) */
        case 8: h.src[3] = 1; break;            /* our own address as source */
        case 9: h.dst[3] = 9; break;            /* not for us */
        case 10: plen = 30; break;              /* fills the receive queue */
        case 11: plen = 700; break;             /* longer than the short sum */
        case 12: h.proto = 6; h.dst[3] = 9; break; /* not UDP */
        default: break;
        }
        static uint8_t pay[800];
        for (size_t i = 0; i < plen; i++)
            pay[i] = (uint8_t)(i * 3 + k);
        size_t n = pn_tf_udp(fr, &h, 1234, dport, pay, plen, csum);
        switch (k) {
        case 1: fr[14 + 26] = fr[14 + 27] = 0; break; /* no checksum sent */
        case 2: /* Ethernet padding past tot_len */
            memset(fr + n, 0xee, 60 - n);
            n = 60;
            break;
        case 4: fr[14 + 8]--; break;            /* bad IP header checksum */
        case 13: /* UDP length short of the IP payload, no checksum */
            fr[14 + 25] = 8 + 2;
            fr[14 + 26] = fr[14 + 27] = 0;
            break;
        default: break;
        }
        if (k != 4 && k != 9 && k != 12)
            expect_hook += k == 6 || k == 7 || k == 8 ? 1 : 2;
        if (k == 9 || k == 12)
            expect_hook += 1;
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pn_inject_raw(st[i], fr, n, 10 + (uint64_t)k), 0);
        int a, b;
        do {
            a = pn_drain_raw(S, out, sizeof out);
            b = pn_drain_raw(T, f1, sizeof f1);
            ck_assert_int_eq(a, b);
            ck_assert_mem_eq(out, f1, (size_t)(a > 0 ? a : 0));
        } while (a > 0);
        if (k == 5)
            ck_assert_uint_eq(pn_stats_get(S)->udp_no_port, 1);
        if (k == 9) { /* drain both queues: the rcvbuf case starts empty */
            for (int i = 0; i < 2; i++)
                while (pn_udp_recvfrom(st[i], u[i], f1, sizeof f1, NULL) >= 0)
                    ;
        }
    }
    ck_assert_int_eq(rx_hook_calls, expect_hook);
    const pn_stats *sa = pn_stats_get(S), *sb = pn_stats_get(T);
    ck_assert_uint_eq(sa->udp_rcvbuf_drop, 1);
    ck_assert_uint_eq(sa->udp_bad_csum, 1);
    ck_assert_uint_eq(sa->ip4_bad_csum, 1);
    ck_assert_mem_eq(sa, sb, sizeof *sa);
    int got = 0;
    for (;;) {
        pn_sockaddr fa, fb;
        int a = pn_udp_recvfrom(S, u[0], out, sizeof out, &fa);
        int b = pn_udp_recvfrom(T, u[1], f1, sizeof f1, &fb);
        ck_assert_int_eq(a, b);
        if (a < 0)
            break;
        got++;
        ck_assert_mem_eq(out, f1, (size_t)a);
        ck_assert_mem_eq(&fa, &fb, sizeof fa);
        ck_assert_uint_eq(fa.port, 1234);
    }
    ck_assert_int_eq(got, 2); /* 10 (30 bytes) and 13 (2); 11 found no room */
    pn_udp_close(T, u[1]);
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

START_TEST(test_udp_demux_cache_follows_bind_and_close)
{
    /* The receive demux cache must not outlive a binding: close, rebind
     * and a second socket on another port between two datagrams. */
    uint8_t got[16];
    pn_sockaddr la = {PN_IP4(0, 0, 0, 0), 7000}, lb = {PN_IP4(10, 0, 0, 1), 7001};
    int a = pn_udp_open(S);
    ck_assert_int_eq(pn_udp_bind(S, a, &la), 0);
    for (int i = 0; i < 2; i++) {
        size_t n = udp_in(1000, 7000, "hi", 2, IP_A);
        pn_inject_raw(S, fr, n, 10);
        ck_assert_int_eq(pn_udp_recvfrom(S, a, got, sizeof got, NULL), 2);
    }
    ck_assert_int_eq(pn_udp_close(S, a), 0);
    size_t n = udp_in(1000, 7000, "hi", 2, IP_A);
    pn_inject_raw(S, fr, n, 11);
    ck_assert_uint_eq(pn_stats_get(S)->udp_no_port, 1);
    pn_test_drain_all(S); /* the port unreachable */
    int b = pn_udp_open(S);
    int c = pn_udp_open(S);
    ck_assert_int_eq(pn_udp_bind(S, c, &lb), 0);
    n = udp_in(1000, 7001, "c!", 2, IP_A);
    pn_inject_raw(S, fr, n, 12);
    ck_assert_int_eq(pn_udp_recvfrom(S, c, got, sizeof got, NULL), 2);
    ck_assert_int_eq(pn_udp_bind(S, b, &la), 0);
    n = udp_in(1000, 7000, "b!", 2, IP_A);
    pn_inject_raw(S, fr, n, 13);
    ck_assert_int_eq(pn_udp_recvfrom(S, b, got, sizeof got, NULL), 2);
    ck_assert_mem_eq(got, "b!", 2);
    ck_assert_int_eq(pn_udp_recvfrom(S, c, got, sizeof got, NULL), PN_EAGAIN);
    ck_assert_uint_eq(pn_stats_get(S)->udp_no_port, 1);
    /* autobind by a send also counts as a binding change */
    int d = pn_udp_open(S);
    ck_assert_int_eq(pn_udp_sendto(S, d, "x", 1, &PEER, 14), 1);
    pn_test_drain_all(S);
    n = udp_in(1000, 7000, "b2", 2, IP_A);
    pn_inject_raw(S, fr, n, 15);
    ck_assert_int_eq(pn_udp_recvfrom(S, b, got, sizeof got, NULL), 2);
    finish();
}
END_TEST

/* RFC 1112 6.4: a datagram to a multicast group leaves in a frame to
 * 01:00:5e plus the low 23 bits of the group, without ARP. */
START_TEST(test_udp_sendto_multicast_mapped_mac_no_arp)
{
    pn_route r = {{{224, 0, 0, 0}}, 4, {{0, 0, 0, 0}}, {{0, 0, 0, 0}}}; /* on link */
    ck_assert_int_eq(pn_route_add(S, &r), 0);
    int u = pn_udp_open(S);
    ck_assert_int_ge(u, 0);
    pn_sockaddr to = {{{224, 129, 0, 251}}, 40004}; /* no dissector on the port: tshark check */
    ck_assert_int_eq(pn_udp_sendto(S, u, "data", 4, &to, 10), 4);
    int n = pn_drain_raw(S, out, sizeof out);
    ck_assert_int_eq(n, 14 + 20 + 8 + 4);
    static const uint8_t want[6] = {0x01, 0x00, 0x5e, 0x01, 0x00, 0xfb}; /* bit 23 dropped */
    ck_assert_mem_eq(out, want, 6);
    ck_assert_uint_eq(out[12], 0x08);
    ck_assert_uint_eq(out[13], 0x00);
    ck_assert_uint_eq(out[14 + 16], 224);
    ck_assert_uint_eq(out[14 + 19], 251);
    ck_assert_uint_eq(pn_stats_get(S)->arp_req_tx, 0);
    ck_assert_int_eq(pn_drain_raw(S, out, sizeof out), 0);
    ck_assert_int_eq(pn_udp_close(S, u), 0);
    finish();
}
END_TEST

/* The receive fast paths remember the last (source, destination) pair
 * that passed their address tests (pni_ip4_pair_ok); every other pair
 * still gets the whole test, right after a good one: the zero pair (the
 * memory's empty value) first, then bad sources and a foreign
 * destination between good datagrams. */
START_TEST(test_udp_rx_pair_memory_judges_every_new_pair)
{
    int u = pn_udp_open(S);
    pn_sockaddr any = {PN_IP4(0, 0, 0, 0), 7};
    ck_assert_int_eq(pn_udp_bind(S, u, &any), 0);
    static const struct {
        uint8_t src[4], dst[4];
        int ok;
    } c[] = {
        {{0, 0, 0, 0}, {0, 0, 0, 0}, 0},     /* dst 0.0.0.0: not ours */
        {{10, 0, 0, 2}, {10, 0, 0, 1}, 1},   /* good: remembered */
        {{10, 0, 0, 2}, {10, 0, 0, 9}, 0},   /* same source, foreign dst */
        {{127, 0, 0, 1}, {10, 0, 0, 1}, 0},  /* loopback source */
        {{10, 0, 0, 1}, {10, 0, 0, 1}, 0},   /* our own address */
        {{10, 0, 0, 255}, {10, 0, 0, 1}, 0}, /* our subnet's broadcast */
        {{224, 0, 0, 1}, {10, 0, 0, 1}, 0},  /* multicast */
        {{10, 0, 0, 2}, {10, 0, 0, 1}, 1},   /* the good pair again */
        {{0, 0, 0, 0}, {10, 0, 0, 1}, 1},    /* 0.0.0.0 may send (DHCP) */
        {{10, 0, 0, 3}, {10, 0, 0, 1}, 1},   /* another good source */
    };
    uint8_t got[8];
    uint64_t bad0 = pn_stats_get(S)->ip4_bad_src, nfu0 = pn_stats_get(S)->ip4_not_for_us;
    int bad = 0, nfu = 0;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        pn_tf_ip h = {MAC_A, MAC_P, {0}, {0}, 17, 64, 0, (uint16_t)(i + 1), 0, 0};
        memcpy(h.src, c[i].src, 4);
        memcpy(h.dst, c[i].dst, 4);
        size_t n = pn_tf_udp(fr, &h, 5000, 7, "pair", 4, 0);
        ck_assert_int_eq(pn_inject_raw(S, fr, n, 10 + i), 0);
        pn_sockaddr from;
        int r = pn_udp_recvfrom(S, u, got, sizeof got, &from);
        ck_assert_msg(r == (c[i].ok ? 4 : PN_EAGAIN), "case %zu: %d", i, r);
        if (c[i].ok)
            ck_assert_mem_eq(from.addr.b, c[i].src, 4);
        else if (c[i].dst[3] != 1)
            nfu++;
        else
            bad++;
        ck_assert_uint_eq(pn_stats_get(S)->ip4_bad_src, bad0 + (uint64_t)bad);
        ck_assert_uint_eq(pn_stats_get(S)->ip4_not_for_us, nfu0 + (uint64_t)nfu);
    }
    pn_test_drain_all(S);
    finish();
}
END_TEST

Suite *
udp_suite(void)
{
    Suite *s = suite_create("udp");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_udp_bind_rules);
    tcase_add_test(tc, test_udp_autobind_ephemeral_range_and_distinct);
    tcase_add_test(tc, test_udp_sendto_argument_errors);
    tcase_add_test(tc, test_udp_sendto_multicast_mapped_mac_no_arp);
    tcase_add_test(tc, test_udp_sendto_no_route_enetunreach);
    tcase_add_test(tc, test_udp_full_egress_queue_enobufs_counted);
    tcase_add_test(tc, test_udp_egress_bytes_bound);
    tcase_add_test(tc, test_udp_tx_pool_exhausted_enobufs_no_crash);
    tcase_add_test(tc, test_udp_rx_pool_exhausted_inject_enobufs);
    tcase_add_test(tc, test_udp_full_receive_queue_counted);
    tcase_add_test(tc, test_udp_send_budget_enobufs_then_released_by_drain);
    tcase_add_test(tc, test_udp_no_socket_port_unreachable);
    tcase_add_test(tc, test_udp_bad_checksum_and_length_counted);
    tcase_add_test(tc, test_udp_close_with_datagram_held_frees_after_arp_gives_up);
    tcase_add_test(tc, test_udp_close_with_frames_queued_frees_at_last_drain);
    tcase_add_test(tc, test_udp_fast_path_frames_match_general_path);
    tcase_add_test(tc, test_udp_fast_path_route_change_between_sends);
    tcase_add_test(tc, test_udp_fast_path_neighbour_change_and_expiry);
    tcase_add_test(tc, test_udp_fast_path_hook_installed_later_sees_datagram);
    tcase_add_test(tc, test_udp_fast_path_taps_egress_limit_and_fragments);
    tcase_add_test(tc, test_udp_demux_cache_follows_bind_and_close);
    tcase_add_test(tc, test_udp_rx_fast_path_matches_general_path);
    tcase_add_test(tc, test_udp_rx_pair_memory_judges_every_new_pair);
    suite_add_tcase(s, tc);
    return s;
}
