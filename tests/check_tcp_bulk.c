/*
 * check_tcp_bulk.c -- two instances back to back in memory move data both
 * ways at once, verified by hash, over a perfect link and over links that
 * (from a seeded PRNG) lose 1% and 5% of frames, reorder, duplicate and
 * corrupt them. Every emitted frame goes to the test pcap (helper_link).
 *
 * Size: 64 MiB each way in the plain build. The ASan+UBSan build runs the
 * same code on 8 MiB (compile-time check below) so `make test` stays well
 * inside its time budget, and so does the tshark pass (PN_TEST_PCAP set:
 * 2 MiB, the same kinds of segments without a gigabyte of capture);
 * PN_TCP_BULK_MB overrides all three.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_tcp.h"

#if defined(__SANITIZE_ADDRESS__)
#define BULK_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BULK_SAN 1
#endif
#endif
#ifndef BULK_SAN
#define BULK_SAN 0
#endif

static size_t
bulk_bytes(void)
{
    const char *e = getenv("PN_TCP_BULK_MB");
    size_t mb = BULK_SAN ? 8 : getenv("PN_TEST_PCAP") != NULL ? 2 : 64;
    if (e != NULL && atoi(e) > 0)
        mb = (size_t)atoi(e);
    return mb << 20;
}

/* A byte stream from a seed, and a running hash (FNV-1a 64) of what was
 * received; the sender's hash of what it sent is compared at the end. */
typedef struct stream {
    uint64_t gen;     /* PRNG state of the generator */
    size_t total;
    size_t sent;
    size_t rcvd;
    uint64_t h_sent;
    uint64_t h_rcvd;
    int shut;
    int eof;
} stream;

static void
hash_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
    uint64_t x = *h;
    for (size_t i = 0; i < n; i++) {
        x ^= p[i];
        x *= 0x100000001b3ULL;
    }
    *h = x;
}

static size_t
gen_bytes(stream *st, uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t v = pn_test_rand(&st->gen);
        for (int k = 0; k < 8 && i < n; k++, i++)
            p[i] = (uint8_t)(v >> (8 * k));
    }
    return n;
}

/* the other end, dumped too when a receive fails */
static pn_stack *dbg_other;
static int dbg_other_sock;
/* Push from st into sock; read from sock into rs. */
static int
pump(pn_stack *s, int sock, stream *st, stream *rs, uint64_t now)
{
    static uint8_t buf[65536];
    int progress = 0;
    while (st->sent < st->total) {
        pn_sock_status_t ss;
        ck_assert_int_eq(pn_sock_status(s, sock, &ss), 0);
        size_t n = st->total - st->sent;
        if (n > ss.writable)
            n = ss.writable;
        if (n > sizeof buf)
            n = sizeof buf;
        if (n == 0)
            break;
        /* regenerate deterministically: the generator advances only on
         * bytes accepted, so keep a copy of its state */
        uint64_t g = st->gen;
        gen_bytes(st, buf, n);
        int w = pn_tcp_send(s, sock, buf, n, now);
        ck_assert_int_gt(w, 0);
        if ((size_t)w < n) {
            st->gen = g;
            gen_bytes(st, buf, (size_t)w);
        }
        hash_bytes(&st->h_sent, buf, (size_t)w);
        st->sent += (size_t)w;
        progress = 1;
    }
    if (st->sent == st->total && !st->shut) {
        ck_assert_int_eq(pn_tcp_shutdown(s, sock, now), 0);
        st->shut = 1;
        progress = 1;
    }
    for (;;) {
        int r = pn_tcp_recv(s, sock, buf, sizeof buf, now);
        if (r == PN_EAGAIN)
            break;
        if (r < 0) {
            tt_dump(s, sock);
            tt_dump(dbg_other, dbg_other_sock);
        }
        ck_assert_msg(r >= 0, "recv error %s", pn_strerror(r));
        if (r == 0) {
            rs->eof = 1;
            break;
        }
        hash_bytes(&rs->h_rcvd, buf, (size_t)r);
        rs->rcvd += (size_t)r;
        progress = 1;
    }
    return progress;
}

static uint64_t
next_event(pn_test_link *l)
{
    uint64_t next = PN_TIME_NEVER;
    for (size_t i = 0; i < l->nq; i++)
        if (l->q[i].at < next)
            next = l->q[i].at;
    for (int e = 0; e < 2; e++) {
        uint64_t d = pn_next_deadline(l->end[e]);
        if (d < next)
            next = d;
    }
    return next;
}

/* bufsz > 0: that many data bytes per buffer block, so that every data
 * frame is a chain (the chained paths of emit, parse and the receive copy,
 * with pieces at odd offsets), and mb MiB each way instead of the default. */
/* Set by a test before bulk_ex: both ends with cfg.no_vector, and a hash
 * (FNV-1a) of every frame either end emits, in order. */
static int g_no_vector;
static uint64_t g_wire_hash;

static int
hash_filter(void *user, int from, uint8_t *frame, size_t *len, uint64_t now)
{
    (void)user;
    (void)now;
    uint8_t f = (uint8_t)from;
    hash_bytes(&g_wire_hash, &f, 1);
    hash_bytes(&g_wire_hash, frame, *len);
    return 0; /* pass it on */
}

static void
bulk_ex(uint32_t loss_ppm, int impair, int cc, int nosack, uint32_t bufsz, size_t mb)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    ca.no_vector = cb.no_vector = (uint8_t)g_no_vector;
    ca.tcp.max_socks = cb.tcp.max_socks = 4;
    ca.tcp.sndbuf = cb.tcp.sndbuf = 256 * 1024;
    ca.tcp.rcvbuf = cb.tcp.rcvbuf = 256 * 1024;
    ca.tcp.cc = cb.tcp.cc = (uint8_t)cc;
    ca.tcp.no_sack = cb.tcp.no_sack = (uint8_t)nosack;
    ca.tx_bufs = cb.tx_bufs = 512;
    ca.rx_bufs = cb.rx_bufs = 256;
    ca.egress_max_pkts = cb.egress_max_pkts = 512;
    ca.egress_max_bytes = cb.egress_max_bytes = 1 << 20;
    if (bufsz > 0) {
        ca.buf_size = cb.buf_size = bufsz;
        ca.tx_bufs = cb.tx_bufs = 8192;
        ca.rx_bufs = cb.rx_bufs = 4096;
    }
    pn_test_node A, B;
    pn_test_node_new(&A, &ca);
    pn_test_node_new(&B, &cb);
    /* the config's choice, then the CPU's */
    ck_assert_int_eq(A.s->vec, g_no_vector ? 0 : pni_cpu_vec());
    ck_assert_int_eq(B.s->vec, A.s->vec);
    pn_test_link *L = pn_test_link_new(A.s, B.s, 1000000);
    L->delay_us = 500;
    L->loss_ppm = loss_ppm;
    if (impair) {
        L->dup_ppm = 5000;
        L->reorder_ppm = 10000;
        L->reorder_us = 700;
        L->corrupt_ppm = 5000;
    }
    L->seed = 0x1234567 + loss_ppm;
    g_wire_hash = 0xcbf29ce484222325ULL;
    if (getenv("PN_TCP_TRACE") != NULL)
        L->filter = tt_trace_filter;
    else
        L->filter = hash_filter;

    int ls = pn_tcp_open(B.s);
    pn_sockaddr la = {{{0, 0, 0, 0}}, 5001};
    ck_assert_int_eq(pn_tcp_bind(B.s, ls, &la), 0);
    ck_assert_int_eq(pn_tcp_listen(B.s, ls, 4), 0);
    int cs = pn_tcp_open(A.s);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 5001};
    ck_assert_int_eq(pn_tcp_connect(A.s, cs, &to, L->now), PN_EINPROGRESS);
    int ss = -1;
    for (int i = 0; i < 100000 && ss < 0; i++) {
        pn_test_link_step(L);
        ss = pn_tcp_accept(B.s, ls, NULL);
        if (ss < 0) {
            L->now = next_event(L);
            pn_poll(A.s, L->now);
            pn_poll(B.s, L->now);
        }
    }
    ck_assert_int_ge(ss, 0);
    size_t total = mb > 0 ? mb << 20 : bulk_bytes();
    stream ab = {.gen = 11, .total = total}, ba = {.gen = 22, .total = total};
    ab.h_sent = ab.h_rcvd = ba.h_sent = ba.h_rcvd = 0xcbf29ce484222325ULL;
    uint64_t start = L->now;
    for (uint64_t guard = 0;; guard++) {
        ck_assert_msg(guard < 100000000ull, "no progress");
        dbg_other = B.s;
        dbg_other_sock = ss;
        int p = pump(A.s, cs, &ab, &ba, L->now);
        dbg_other = A.s;
        dbg_other_sock = cs;
        p |= pump(B.s, ss, &ba, &ab, L->now);
        int moved = pn_test_link_step(L);
        if (ab.eof && ba.eof)
            break;
        if (!p && moved == 0) {
            uint64_t n = next_event(L);
            ck_assert_msg(n != PN_TIME_NEVER, "stalled: ab %zu/%zu ba %zu/%zu", ab.rcvd, ab.sent,
                          ba.rcvd, ba.sent);
            ck_assert_msg(n - start < 3600ull * 1000000u, "too slow");
            if (n > L->now)
                L->now = n;
            pn_poll(A.s, L->now);
            pn_poll(B.s, L->now);
        }
    }
    ck_assert_uint_eq(ab.rcvd, total);
    ck_assert_uint_eq(ba.rcvd, total);
    ck_assert_uint_eq(ab.h_rcvd, ab.h_sent);
    ck_assert_uint_eq(ba.h_rcvd, ba.h_sent);
    ck_assert_int_eq(pn_tcp_close(A.s, cs, L->now), 0);
    ck_assert_int_eq(pn_tcp_close(B.s, ss, L->now), 0);
    ck_assert_int_eq(pn_tcp_close(B.s, ls, L->now), 0);
    L->loss_ppm = 0;
    L->corrupt_ppm = 0;
    pn_test_link_run(L, L->now + 200000000ull);
    pn_test_drain_all(A.s);
    pn_test_drain_all(B.s);
    pn_test_pools_empty(A.s);
    pn_test_pools_empty(B.s);
    pn_test_link_free(L);
    pn_test_node_free(&A);
    pn_test_node_free(&B);
}

static void
bulk(uint32_t loss_ppm, int impair, int cc, int nosack)
{
    bulk_ex(loss_ppm, impair, cc, nosack, 0, 0);
}

START_TEST(test_tcp_bulk_perfect)
{
    bulk(0, 0, PN_CC_NEWRENO, 0);
}
END_TEST

START_TEST(test_tcp_bulk_loss1)
{
    bulk(10000, 1, PN_CC_NEWRENO, 0);
}
END_TEST

START_TEST(test_tcp_bulk_loss5)
{
    bulk(50000, 1, PN_CC_NEWRENO, 0);
}
END_TEST

START_TEST(test_tcp_bulk_loss1_cubic)
{
    bulk(10000, 1, PN_CC_CUBIC, 0);
}
END_TEST

/* NewReno without SACK (RFC 6582 alone) */
START_TEST(test_tcp_bulk_loss1_nosack)
{
    bulk(10000, 1, PN_CC_NEWRENO, 1);
}
END_TEST

/* Every frame a chain of 301-byte blocks (odd: pieces at odd offsets), over the impaired link (its
 * corrupted frames test the checksum over chains). */
START_TEST(test_tcp_bulk_small_blocks)
{
    bulk_ex(10000, 1, PN_CC_NEWRENO, 0, 301, BULK_SAN ? 1 : 4);
}
END_TEST

/* The checksums' vector code (AVX2, where this CPU has it: pni_cpu_vec)
 * and the scalar code (cfg.no_vector) give the same stack: over the
 * impaired link, whose corrupted frames the receive checksum must catch,
 * both ends emit the same frames, bit for bit, in the same order. */
START_TEST(test_tcp_bulk_vector_equals_scalar)
{
    g_no_vector = 1;
    bulk_ex(10000, 1, PN_CC_NEWRENO, 0, 0, BULK_SAN ? 1 : 4);
    uint64_t scalar = g_wire_hash;
    g_no_vector = 0;
    bulk_ex(10000, 1, PN_CC_NEWRENO, 0, 0, BULK_SAN ? 1 : 4);
    ck_assert_uint_eq(g_wire_hash, scalar);
    if (!pni_cpu_vec())
        fprintf(stderr, "tcp_bulk: this CPU has no AVX2: the vector half ran the scalar code\n");
}
END_TEST

Suite *
tcp_bulk_suite(void)
{
    Suite *s = suite_create("tcp_bulk");
    TCase *tc = tcase_create("bulk");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_tcp_bulk_perfect);
    tcase_add_test(tc, test_tcp_bulk_loss1);
    tcase_add_test(tc, test_tcp_bulk_loss5);
    tcase_add_test(tc, test_tcp_bulk_loss1_cubic);
    tcase_add_test(tc, test_tcp_bulk_loss1_nosack);
    tcase_add_test(tc, test_tcp_bulk_small_blocks);
    tcase_add_test(tc, test_tcp_bulk_vector_equals_scalar);
    suite_add_tcase(s, tc);
    return s;
}
