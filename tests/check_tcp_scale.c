/*
 * check_tcp_scale.c -- many connections: 10,000 concurrent connections
 * between two instances, each exchanging data, then all closed, every
 * pool back to zero; the arena cost of a connection (W4 budget: <= 512
 * bytes beyond data buffers); pn_next_deadline stays O(1) at 100,000
 * control blocks.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper_tcp.h"

START_TEST(test_tcp_scale_arena_per_connection)
{
    pn_config c;
    tt_config(&c, NULL);
    c.tcp.buf_budget = 1 << 20;
    c.tcp.syn_queue = 128;
    c.tcp.max_socks = 1000;
    size_t a = pn_arena_size(&c);
    c.tcp.max_socks = 101000;
    size_t b = pn_arena_size(&c);
    ck_assert_uint_gt(b, a);
    size_t per = (b - a) / 100000;
    ck_assert_msg(per <= 512, "%zu arena bytes per connection", per);
}
END_TEST

#define NCONN 10000
#define BATCH 500

static int cli[NCONN], srv[NCONN];

START_TEST(test_tcp_scale_10000_connections)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    for (int i = 0; i < 2; i++) {
        pn_config *c = i ? &cb : &ca;
        c->tcp.max_socks = NCONN + 8;
        c->tcp.sndbuf = 4096;
        c->tcp.rcvbuf = 4096;
        c->tcp.buf_budget = 8 << 20;
        c->tcp.syn_queue = 1024;
        c->tcp.msl_us = 1000000;
        c->tx_bufs = 4096;
        c->rx_bufs = 256;
        c->egress_max_pkts = 4096;
        c->egress_max_bytes = 8 << 20;
    }
    pn_test_node A, B;
    pn_test_node_new(&A, &ca);
    pn_test_node_new(&B, &cb);
    pn_test_link *L = pn_test_link_new(A.s, B.s, 1000000);
    L->delay_us = 100;
    int ls = pn_tcp_open(B.s);
    pn_sockaddr la = {{{0, 0, 0, 0}}, 5001};
    ck_assert_int_eq(pn_tcp_bind(B.s, ls, &la), 0);
    ck_assert_int_eq(pn_tcp_listen(B.s, ls, 1024), 0);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 5001};
    uint8_t buf[256], msg[100];
    for (int base = 0; base < NCONN; base += BATCH) {
        for (int i = base; i < base + BATCH; i++) {
            cli[i] = pn_tcp_open(A.s);
            ck_assert_int_ge(cli[i], 0);
            ck_assert_int_eq(pn_tcp_connect(A.s, cli[i], &to, L->now), PN_EINPROGRESS);
        }
        /* the first batch waits for ARP (4 packets held), then SYN retry */
        pn_test_link_run(L, L->now + (base == 0 ? 3000000 : 50000));
        for (int i = base; i < base + BATCH; i++) {
            srv[i] = pn_tcp_accept(B.s, ls, NULL);
            ck_assert_msg(srv[i] >= 0, "accept %d: %s", i, pn_strerror(srv[i]));
            memset(msg, (uint8_t)i, sizeof msg);
            memcpy(msg, &i, sizeof i);
            ck_assert_int_eq(pn_tcp_send(A.s, cli[i], msg, sizeof msg, L->now), 100);
        }
        pn_test_link_run(L, L->now + 50000);
        for (int i = base; i < base + BATCH; i++) {
            ck_assert_int_eq(pn_tcp_recv(B.s, srv[i], buf, sizeof buf, L->now), 100);
            int k;
            memcpy(&k, buf, sizeof k);
            ck_assert_int_eq(pn_tcp_send(B.s, srv[i], &k, sizeof k, L->now), (int)sizeof k);
        }
        pn_test_link_run(L, L->now + 50000);
        for (int i = base; i < base + BATCH; i++) {
            int k = -1;
            ck_assert_int_eq(pn_tcp_recv(A.s, cli[i], &k, sizeof k, L->now), (int)sizeof k);
            ck_assert_int_eq(k, i);
        }
    }
    ck_assert_uint_eq(pn_stats_get(A.s)->pool[PN_POOL_TCP].used, NCONN);
    ck_assert_uint_eq(pn_stats_get(B.s)->pool[PN_POOL_TCP].used, NCONN + 1);
    /* idle connections hold no data chunks */
    pn_test_link_run(L, L->now + 100000);
    ck_assert_uint_eq(pn_stats_get(A.s)->pool[PN_POOL_TCPBUF].used, 0);
    ck_assert_uint_eq(pn_stats_get(B.s)->pool[PN_POOL_TCPBUF].used, 0);
    /* close everything, in batches so the wire queue keeps up */
    for (int base = 0; base < NCONN; base += BATCH) {
        for (int i = base; i < base + BATCH; i++)
            ck_assert_int_eq(pn_tcp_close(A.s, cli[i], L->now), 0);
        pn_test_link_run(L, L->now + 50000);
        for (int i = base; i < base + BATCH; i++) {
            ck_assert_int_eq(pn_tcp_recv(B.s, srv[i], buf, sizeof buf, L->now), 0);
            ck_assert_int_eq(pn_tcp_close(B.s, srv[i], L->now), 0);
        }
        pn_test_link_run(L, L->now + 50000);
    }
    ck_assert_int_eq(pn_tcp_close(B.s, ls, L->now), 0);
    pn_test_link_run(L, L->now + 3000000); /* 2*MSL */
    ck_assert_uint_eq(pn_stats_get(A.s)->pool[PN_POOL_TCP].used, 0);
    ck_assert_uint_eq(pni_tcp_deadline(A.s), PN_TIME_NEVER); /* ARP may still tick */
    ck_assert_uint_eq(L->overflow, 0);
    pn_test_link_run(L, L->now + 120000000); /* neighbour entries age out */
    pn_test_drain_all(A.s);
    pn_test_drain_all(B.s);
    pn_test_pools_empty(A.s);
    pn_test_pools_empty(B.s);
    pn_test_link_free(L);
    pn_test_node_free(&A);
    pn_test_node_free(&B);
}
END_TEST

/* 100,000 control blocks with live timers: pn_next_deadline is the heap
 * top, and arming/disarming one timer costs O(log n) at most. */
START_TEST(test_tcp_scale_deadline_cheap_at_100k)
{
    pn_config c;
    tt_config(&c, NULL);
    c.tcp.max_socks = 100000;
    c.tcp.buf_budget = 1 << 20;
    pn_test_node n;
    pn_test_node_new(&n, &c);
    pn_stack *s = n.s;
    for (int i = 0; i < 100000; i++) {
        int h = pn_tcp_open(s);
        ck_assert_int_ge(h, 0);
        ck_assert_int_eq(pn_tcp_setopt(s, h, PN_TCP_KEEPALIVE, 1), 0);
    }
    /* sockets not connected have no keepalive deadline */
    ck_assert_uint_eq(pn_next_deadline(s), PN_TIME_NEVER);
    for (int i = 0; i < 100000; i++) {
        pni_tcpcb *cb = pni_tcp_cb(s, (uint32_t)i);
        cb->t_keep = 5000000000ull + (uint64_t)((i * 7919) % 100000) * 1000;
        pni_tcp_timer_update(s, cb);
    }
    ck_assert_uint_eq(pn_next_deadline(s), 5000000000ull);
    uint64_t sum = 0;
    for (int i = 0; i < 1000000; i++)
        sum += pn_next_deadline(s);
    ck_assert_uint_eq(sum, 1000000ull * 5000000000ull);
    for (int i = 0; i < 100000; i++) {
        pni_tcpcb *cb = pni_tcp_cb(s, (uint32_t)i);
        cb->t_keep = PN_TIME_NEVER;
        pn_tcp_close(s, i, 0);
    }
    pn_poll(s, 6000000000ull); /* stale heap keys pop and go */
    ck_assert_uint_eq(pn_next_deadline(s), PN_TIME_NEVER);
    pn_test_pools_empty(s);
    pn_test_node_free(&n);
}
END_TEST

Suite *
tcp_scale_suite(void)
{
    Suite *s = suite_create("tcp_scale");
    TCase *tc = tcase_create("scale");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_tcp_scale_arena_per_connection);
    tcase_add_test(tc, test_tcp_scale_10000_connections);
    tcase_add_test(tc, test_tcp_scale_deadline_cheap_at_100k);
    suite_add_tcase(s, tc);
    return s;
}
