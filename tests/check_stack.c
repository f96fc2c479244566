/*
 * check_stack.c -- whole-stack scenarios: the VecDevice script with exact
 * bytes (ARP reply, echo reply, a datagram to an unresolved neighbour),
 * two instances back to back over Ethernet, determinism, independence.
 * Varying fields, documented: the IP ID (keyed hash + counter, see
 * lib/ip4.c) and hence the IP header checksum (checked for validity).
 */
#include <stdlib.h>
#include <string.h>

#include "helper_frames.h"
#include "helper_link.h"
#include "pn_check.h"

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_P[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t IP_A[4] = {10, 0, 0, 1};
static const uint8_t IP_P[4] = {10, 0, 0, 2};
static const uint8_t ZERO6[6] = {0};

static uint8_t fr[70000];
static uint8_t out[70000];

/* Compare a drained frame with the expected one, skipping the IP ID and
 * header checksum (at eth + 4 and eth + 10), whose validity is checked. */
static void
expect_ip_frame(const uint8_t *got, int n, const uint8_t *want, size_t wlen)
{
    ck_assert_int_eq(n, (int)wlen);
    ck_assert_mem_eq(got, want, 18);
    ck_assert_mem_eq(got + 20, want + 20, 4);
    ck_assert_mem_eq(got + 26, want + 26, wlen - 26);
    ck_assert_uint_eq(pn_tf_csum(got + 14, 20, 0), 0);
}

START_TEST(test_stack_vecdevice_arp_ping_udp_exact)
{
    pn_config c;
    pn_test_config(&c, 1);
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);

    /* 1. ARP request for 10.0.0.1 -> exact reply. */
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A);
    ck_assert_int_eq(pn_inject_raw(s, fr, n, 1000), 0);
    uint8_t want[128];
    int w = pn_test_hex("020000000002 020000000001 0806 0001 0800 06 04 0002"
                        "020000000001 0a000001 020000000002 0a000002",
                        want, sizeof want);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), w);
    ck_assert_mem_eq(out, want, (size_t)w);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);

    /* 2. Echo request -> echo reply, byte for byte. */
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 0x1111, 0, 0};
    const char *data = "abcdefghijklmnopqrstuvwabcdefghi";
    n = pn_tf_icmp(fr, &h, 8, 0, 0x12340001u, data, 32);
    ck_assert_int_eq(pn_inject_raw(s, fr, n, 2000), 0);
    int got = pn_drain_raw(s, out, sizeof out);
    pn_tf_ip r = {MAC_P, MAC_A, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 64, 0, 0, 0, 0};
    size_t rl = pn_tf_icmp(fr, &r, 0, 0, 0x12340001u, data, 32);
    expect_ip_frame(out, got, fr, rl);
    ck_assert_uint_eq(pn_stats_get(s)->icmp_echo_tx, 1);

    /* 3. UDP to an unresolved neighbour (10.0.0.3): ARP request first. */
    int u = pn_udp_open(s);
    ck_assert_int_ge(u, 0);
    pn_sockaddr me = {PN_IP4(0, 0, 0, 0), 5555};
    ck_assert_int_eq(pn_udp_bind(s, u, &me), 0);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 3), 7777};
    ck_assert_int_eq(pn_udp_sendto(s, u, "hello", 5, &to, 3000), 5);
    w = pn_test_hex("ffffffffffff 020000000001 0806 0001 0800 0604 0001"
                    "020000000001 0a000001 000000000000 0a000003",
                    want, sizeof want);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), w);
    ck_assert_mem_eq(out, want, (size_t)w);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);
    const uint8_t mac3[6] = {2, 0, 0, 0, 0, 3}, ip3[4] = {10, 0, 0, 3};
    n = pn_tf_arp(fr, 2, MAC_A, mac3, ip3, MAC_A, IP_A);
    ck_assert_int_eq(pn_inject_raw(s, fr, n, 4000), 0);
    got = pn_drain_raw(s, out, sizeof out);
    pn_tf_ip uh = {mac3, MAC_A, {10, 0, 0, 1}, {10, 0, 0, 3}, 17, 64, 0, 0, 0, 0};
    rl = pn_tf_udp(fr, &uh, 5555, 7777, "hello", 5, 0);
    expect_ip_frame(out, got, fr, rl);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);

    ck_assert_int_eq(pn_udp_close(s, u), 0);
    pn_poll(s, 4000 + 61000000); /* neighbour entries expire */
    ck_assert_uint_eq(pn_next_deadline(s), PN_TIME_NEVER);
    pn_test_pools_empty(s);
    pn_test_node_free(&A);
}
END_TEST

/* Two stacks back to back: datagrams of many sizes arrive whole. */
static void
udp_sizes(const size_t *sizes, size_t count)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    ca.tx_bufs = cb.tx_bufs = 160;
    ca.rx_bufs = cb.rx_bufs = 160;
    ca.udp_sndbuf = cb.udp_sndbuf = 200000;
    ca.udp_rcvbuf = cb.udp_rcvbuf = 200000;
    ca.reass_max_bytes = cb.reass_max_bytes = 200000;
    pn_test_node A, B;
    pn_test_node_new(&A, &ca);
    pn_test_node_new(&B, &cb);
    pn_test_link *L = pn_test_link_new(A.s, B.s, 1000);
    int ua = pn_udp_open(A.s), ub = pn_udp_open(B.s);
    pn_sockaddr bb = {PN_IP4(0, 0, 0, 0), 9000};
    ck_assert_int_eq(pn_udp_bind(B.s, ub, &bb), 0);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 9000};
    uint8_t *msg = malloc(65507), *rx = malloc(65536);
    for (size_t k = 0; k < count; k++) {
        size_t len = sizes[k];
        for (size_t i = 0; i < len; i++)
            msg[i] = (uint8_t)(i * 7 + len);
        int rc = pn_udp_sendto(A.s, ua, msg, len, &to, L->now);
        ck_assert_msg(rc == (int)len, "sendto %zu: %d", len, rc);
        pn_test_link_run(L, L->now + 10000);
        pn_sockaddr from;
        rc = pn_udp_recvfrom(B.s, ub, rx, 65536, &from);
        ck_assert_msg(rc == (int)len, "size %zu: got %d", len, rc);
        ck_assert(memcmp(rx, msg, len) == 0);
        ck_assert_mem_eq(from.addr.b, IP_A, 4);
        ck_assert_int_eq(pn_udp_recvfrom(B.s, ub, rx, 65536, NULL), PN_EAGAIN);
    }
    free(msg);
    free(rx);
    pn_udp_close(A.s, ua);
    pn_udp_close(B.s, ub);
    pn_test_link_run(L, PN_TIME_NEVER);
    pn_test_pools_empty(A.s);
    pn_test_pools_empty(B.s);
    pn_test_link_free(L);
    pn_test_node_free(&A);
    pn_test_node_free(&B);
}

START_TEST(test_stack_two_nodes_udp_small_sizes_arrive_whole)
{
    static size_t sizes[2000];
    for (size_t i = 0; i < 2000; i++)
        sizes[i] = i + 1;
    udp_sizes(sizes, 2000);
}
END_TEST

START_TEST(test_stack_two_nodes_udp_large_sizes_arrive_whole)
{
    static const size_t sizes[] = {1472, 1473, 2960, 2961, 8000, 16384, 32768, 65000, 65507};
    udp_sizes(sizes, sizeof sizes / sizeof sizes[0]);
}
END_TEST

/* A scripted exchange; returns a hash of every emitted frame and time. */
static uint64_t
scripted_run(void)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    pn_test_node A, B;
    pn_test_node_new(&A, &ca);
    pn_test_node_new(&B, &cb);
    pn_test_link *L = pn_test_link_new(A.s, B.s, 5);
    L->loss_ppm = 100000;
    L->dup_ppm = 50000;
    L->delay_us = 300;
    uint64_t h = 1469598103934665603ULL;
    int ua = pn_udp_open(A.s), ub = pn_udp_open(B.s);
    pn_sockaddr bb = {PN_IP4(0, 0, 0, 0), 40053};
    pn_udp_bind(B.s, ub, &bb);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 40053};
    for (int i = 0; i < 50; i++) {
        char m[3000];
        memset(m, 'a' + i % 26, sizeof m);
        pn_udp_sendto(A.s, ua, m, (size_t)(i * 61 % 3000), &to, L->now);
        /* hash what leaves A before the link takes it */
        size_t pk = pn_drain_peek(A.s);
        h = (h ^ pk) * 1099511628211ULL;
        pn_test_link_run(L, L->now + 700000);
        char rx[3000];
        pn_sockaddr from;
        int n;
        while ((n = pn_udp_recvfrom(B.s, ub, rx, sizeof rx, &from)) >= 0) {
            h = (h ^ (uint64_t)n) * 1099511628211ULL;
            for (int k = 0; k < n; k++)
                h = (h ^ (uint8_t)rx[k]) * 1099511628211ULL;
            pn_sockaddr back = from;
            pn_udp_sendto(B.s, ub, rx, (size_t)n, &back, L->now);
        }
    }
    h = (h ^ L->now) * 1099511628211ULL;
    const pn_stats *sa = pn_stats_get(A.s), *sb = pn_stats_get(B.s);
    const uint64_t *va = (const uint64_t *)sa, *vb = (const uint64_t *)sb;
    for (size_t i = 0; i < pn_stats_count(); i++)
        h = (h ^ va[i] ^ (vb[i] << 32)) * 1099511628211ULL;
    pn_udp_close(A.s, ua);
    pn_udp_close(B.s, ub);
    pn_test_link_run(L, PN_TIME_NEVER);
    pn_test_pools_empty(A.s);
    pn_test_pools_empty(B.s);
    pn_test_link_free(L);
    pn_test_node_free(&A);
    pn_test_node_free(&B);
    return h;
}

START_TEST(test_stack_scripted_run_twice_byte_identical)
{
    uint64_t a = scripted_run();
    uint64_t b = scripted_run();
    ck_assert_uint_eq(a, b);
}
END_TEST

/* One step of a little script for node `who` (0 or 1); hashes into *h
 * everything the node emits. */
static void
script_step(pn_stack *s, int who, int step, uint64_t *h)
{
    uint8_t peer_mac[6] = {2, 0, 0, 0, 0, (uint8_t)(2 + who)};
    uint8_t peer_ip[4] = {10, 0, 0, (uint8_t)(2 + who)};
    uint64_t now = 1000 + (uint64_t)step * 1000;
    size_t n;
    switch (step) {
    case 0:
        n = pn_tf_arp(fr, 1, pn_tf_bcast, peer_mac, peer_ip, ZERO6, IP_A);
        pn_inject_raw(s, fr, n, now);
        break;
    case 1: {
        pn_tf_ip h4 = {MAC_A, peer_mac, {0}, {10, 0, 0, 1}, 1, 64, 0, 7, 0, 0};
        memcpy(h4.src, peer_ip, 4);
        n = pn_tf_icmp(fr, &h4, 8, 0, 0x00010001u + (uint32_t)who, "ping", 4);
        pn_inject_raw(s, fr, n, now);
        break;
    }
    default: {
        int u = pn_udp_open(s);
        pn_sockaddr to = {{{10, 0, 0, 0}}, (uint16_t)(100 + step)};
        to.addr.b[3] = peer_ip[3];
        pn_udp_sendto(s, u, "data", 4, &to, now);
        pn_udp_close(s, u);
        break;
    }
    }
    int k;
    while ((k = pn_drain_raw(s, out, sizeof out)) > 0)
        for (int i = 0; i < k; i++)
            *h = (*h ^ out[i]) * 1099511628211ULL;
}

START_TEST(test_stack_two_instances_interleaved_independent)
{
    uint64_t solo[2], mixed[2];
    pn_config c[2];
    pn_test_config(&c[0], 1);
    pn_test_config(&c[1], 1); /* same addresses, different key */
    c[1].key[0] ^= 0xff;
    for (int who = 0; who < 2; who++) {
        pn_test_node N;
        pn_test_node_new(&N, &c[who]);
        solo[who] = 1469598103934665603ULL;
        for (int step = 0; step < 6; step++)
            script_step(N.s, who, step, &solo[who]);
        pn_poll(N.s, 100000000);
        pn_test_pools_empty(N.s);
        pn_test_node_free(&N);
    }
    pn_test_node N[2];
    for (int who = 0; who < 2; who++) {
        pn_test_node_new(&N[who], &c[who]);
        mixed[who] = 1469598103934665603ULL;
    }
    for (int step = 0; step < 6; step++)
        for (int who = 0; who < 2; who++)
            script_step(N[who].s, who, step, &mixed[who]);
    ck_assert_uint_eq(solo[0], mixed[0]);
    ck_assert_uint_eq(solo[1], mixed[1]);
    ck_assert_uint_ne(solo[0], solo[1]); /* the key shows (ports, IP IDs) */
    for (int who = 0; who < 2; who++) {
        pn_poll(N[who].s, 100000000);
        pn_test_pools_empty(N[who].s);
        pn_test_node_free(&N[who]);
    }
}
END_TEST

/* ---- receive fast paths against the general path ----------------------- */

static int
accept_in(void *user, int point, const pn_pktview *ip)
{
    (*(uint64_t *)user)++;
    (void)point;
    (void)ip;
    return PN_ACCEPT;
}

/* The link's view of every frame: an FNV-1a hash over them in order. */
static int
hash_frames(void *user, int from, uint8_t *frame, size_t *len, uint64_t now)
{
    uint64_t *h = user;
    (void)now;
    *h = (*h ^ (uint64_t)from) * 0x100000001b3ull;
    for (size_t i = 0; i < *len; i++)
        *h = (*h ^ frame[i]) * 0x100000001b3ull;
    return 0;
}

/* One run: a TCP transfer both ways and UDP datagrams over a lossy,
 * reordering, corrupting link; hooked = accepting PRE_ROUTING and
 * LOCAL_IN hooks on both ends, which keep every frame off the receive
 * fast paths (lib/ip4.c pni_ip4_rx_fast). Returns the hash of every frame
 * on the wire; st gets both ends' counters. */
static uint64_t
fast_twin_run(int hooked, pn_stats st[2], uint64_t *hook_calls)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    ca.tcp.max_socks = cb.tcp.max_socks = 4;
    ca.tcp.sndbuf = cb.tcp.sndbuf = 64 * 1024;
    ca.tcp.rcvbuf = cb.tcp.rcvbuf = 64 * 1024;
    ca.tx_bufs = cb.tx_bufs = 256;
    ca.rx_bufs = cb.rx_bufs = 256;
    ca.egress_max_pkts = cb.egress_max_pkts = 256;
    if (hooked) {
        ca.hook = cb.hook = accept_in;
        ca.hook_user = cb.hook_user = hook_calls;
        ca.hook_mask = cb.hook_mask = (1u << PN_HOOK_PRE_ROUTING) | (1u << PN_HOOK_LOCAL_IN);
    }
    pn_test_node A, B;
    pn_test_node_new(&A, &ca);
    pn_test_node_new(&B, &cb);
    pn_test_link *L = pn_test_link_new(A.s, B.s, 1000);
    uint64_t h = 0xcbf29ce484222325ull;
    L->filter = hash_frames;
    L->filter_user = &h;
    L->seed = 77;
    L->loss_ppm = 20000;
    L->reorder_ppm = 20000;
    L->reorder_us = 3000;
    L->dup_ppm = 10000;
    L->corrupt_ppm = 10000;
    L->delay_us = 500;
    int ls = pn_tcp_open(B.s), c = pn_tcp_open(A.s), ua = pn_udp_open(A.s), ub = pn_udp_open(B.s);
    pn_sockaddr lb = {PN_IP4(0, 0, 0, 0), 40006}, ub_at = {PN_IP4(0, 0, 0, 0), 40005};
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 40006}, uto = {PN_IP4(10, 0, 0, 2), 40005};
    ck_assert_int_eq(pn_tcp_bind(B.s, ls, &lb), 0);
    ck_assert_int_eq(pn_tcp_listen(B.s, ls, 4), 0);
    ck_assert_int_eq(pn_udp_bind(B.s, ub, &ub_at), 0);
    ck_assert_int_eq(pn_tcp_connect(A.s, c, &to, L->now), PN_EINPROGRESS);
    static uint8_t msg[3000], rx[4096];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 13);
    int a = -1;
    size_t got_b = 0, got_a = 0;
    for (int k = 0; k < 400; k++) {
        pn_test_link_run(L, L->now + 2000);
        if (a < 0)
            a = pn_tcp_accept(B.s, ls, NULL);
        pn_tcp_send(A.s, c, msg, (size_t)(k * 37) % sizeof msg, L->now);
        if (a >= 0) {
            pn_tcp_send(B.s, a, msg, (size_t)(k % 5) * 10, L->now);
            int n;
            while ((n = pn_tcp_recv(B.s, a, rx, sizeof rx, L->now)) > 0)
                got_b += (size_t)n;
        }
        int n;
        while ((n = pn_tcp_recv(A.s, c, rx, sizeof rx, L->now)) > 0)
            got_a += (size_t)n;
        pn_udp_sendto(A.s, ua, msg, (size_t)(k * 7) % 600, &uto, L->now);
        while (pn_udp_recvfrom(B.s, ub, rx, sizeof rx, NULL) >= 0)
            ;
    }
    ck_assert_int_ge(a, 0);
    ck_assert_uint_gt(got_b, 100000);
    ck_assert_uint_gt(got_a, 1000);
    pn_tcp_close(A.s, c, L->now);
    pn_tcp_close(B.s, a, L->now);
    pn_tcp_close(B.s, ls, L->now);
    pn_udp_close(A.s, ua);
    pn_udp_close(B.s, ub);
    pn_test_link_run(L, PN_TIME_NEVER);
    st[0] = *pn_stats_get(A.s);
    st[1] = *pn_stats_get(B.s);
    pn_test_pools_empty(A.s);
    pn_test_pools_empty(B.s);
    pn_test_link_free(L);
    pn_test_node_free(&A);
    pn_test_node_free(&B);
    return h;
}

START_TEST(test_stack_rx_fast_paths_match_general_path)
{
    pn_stats fast[2], gen[2];
    uint64_t calls = 0;
    uint64_t hf = fast_twin_run(0, fast, &calls);
    ck_assert_uint_eq(calls, 0);
    uint64_t hg = fast_twin_run(1, gen, &calls);
    ck_assert_uint_gt(calls, 1000);
    ck_assert_uint_eq(hf, hg); /* every frame on the wire, in order */
    ck_assert_uint_gt(fast[1].tcp_bad_csum + fast[1].ip4_bad_csum + fast[1].udp_bad_csum, 0);
    for (int i = 0; i < 2; i++) {
        /* A TCP segment injected without hooks is processed where it
         * lies (pn_inject_raw): it takes no receive buffer, so the RX
         * pool's high-water mark is all that may differ, and only down. */
        ck_assert_uint_le(fast[i].pool[PN_POOL_RXBUF].peak, gen[i].pool[PN_POOL_RXBUF].peak);
        fast[i].pool[PN_POOL_RXBUF].peak = gen[i].pool[PN_POOL_RXBUF].peak;
        ck_assert_mem_eq(&fast[i], &gen[i], sizeof fast[i]);
    }
}
END_TEST

Suite *
stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_stack_vecdevice_arp_ping_udp_exact);
    tcase_add_test(tc, test_stack_two_nodes_udp_small_sizes_arrive_whole);
    tcase_add_test(tc, test_stack_two_nodes_udp_large_sizes_arrive_whole);
    tcase_add_test(tc, test_stack_scripted_run_twice_byte_identical);
    tcase_add_test(tc, test_stack_two_instances_interleaved_independent);
    tcase_add_test(tc, test_stack_rx_fast_paths_match_general_path);
    suite_add_tcase(s, tc);
    return s;
}
