/*
 * check_fragnet.c -- fragmentation and reassembly end to end, two
 * instances back to back: UDP datagrams of every interesting size over MTU
 * 1500, fragments reordered and duplicated, overlapping fragments dropped,
 * a 4000-byte ICMP echo reassembled and answered (fragmented back).
 *
 * Frames are moved by hand between bare-IP stacks (pn_drain_raw ->
 * permute/duplicate/forge -> pn_inject_raw), so every scenario is exact
 * and deterministic; one test also runs over the seeded impaired Ethernet
 * link of helper_link.c. Forged fragments are built with helper_frames.c,
 * independent of the codecs under test.
 */
#include <stdlib.h>
#include <string.h>

#include "helper_frames.h"
#include "helper_link.h"
#include "pn_check.h"

#define MAXF 256

static const uint8_t IP_A[4] = {10, 0, 0, 1};
static const uint8_t IP_B[4] = {10, 0, 0, 2};
#define TIMEOUT_US 2000000u

typedef struct frames {
    size_t n;
    uint8_t *f[MAXF];
    size_t len[MAXF];
} frames;

static void
frames_free(frames *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->f[i]);
    fs->n = 0;
}

/* Everything s has queued, in order. */
static void
take(pn_stack *s, frames *fs)
{
    fs->n = 0;
    size_t need;
    while ((need = pn_drain_peek(s)) != 0) {
        ck_assert_uint_lt(fs->n, MAXF);
        uint8_t *p = malloc(need);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(pn_drain_raw(s, p, need), (int)need);
        fs->f[fs->n] = p;
        fs->len[fs->n++] = need;
    }
}

static void
give(pn_stack *s, const uint8_t *f, size_t len, uint64_t now)
{
    ck_assert_int_eq(pn_inject_raw(s, f, len, now), 0);
}

static void
cfg_ip(pn_config *c, unsigned id)
{
    pn_test_config(c, id);
    c->medium = PN_MEDIUM_IP;
    c->tx_bufs = 160;
    c->rx_bufs = 160;
    c->udp_sndbuf = 200000;
    c->udp_rcvbuf = 200000;
    c->reass_max_bytes = 200000;
    c->reass_timeout_us = TIMEOUT_US;
}

typedef struct pair {
    pn_test_node A, B;
    int ua, ub;
    uint8_t *msg, *rx;
    uint64_t now;
} pair;

static void
pair_new(pair *p)
{
    pn_config ca, cb;
    cfg_ip(&ca, 1);
    cfg_ip(&cb, 2);
    pn_test_node_new(&p->A, &ca);
    pn_test_node_new(&p->B, &cb);
    p->ua = pn_udp_open(p->A.s);
    p->ub = pn_udp_open(p->B.s);
    pn_sockaddr bb = {PN_IP4(0, 0, 0, 0), 9000};
    ck_assert_int_eq(pn_udp_bind(p->B.s, p->ub, &bb), 0);
    p->msg = malloc(65536);
    p->rx = malloc(65536);
    p->now = 1000;
}

static void
pair_free(pair *p)
{
    pn_udp_close(p->A.s, p->ua);
    pn_udp_close(p->B.s, p->ub);
    /* Let stale reassembly slots expire, drop whatever is left queued. */
    p->now += 2 * (uint64_t)TIMEOUT_US;
    pn_poll(p->A.s, p->now);
    pn_poll(p->B.s, p->now);
    pn_test_drain_all(p->A.s);
    pn_test_drain_all(p->B.s);
    pn_test_pools_empty(p->A.s);
    pn_test_pools_empty(p->B.s);
    ck_assert_uint_eq(pn_stats_get(p->B.s)->reass_bytes, 0);
    free(p->msg);
    free(p->rx);
    pn_test_node_free(&p->A);
    pn_test_node_free(&p->B);
}

/* A sends len bytes; its frames are returned in fs (not yet delivered). */
static void
send_udp(pair *p, size_t len, frames *fs)
{
    for (size_t i = 0; i < len; i++)
        p->msg[i] = (uint8_t)(i * 7 + len + (i >> 9));
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 9000};
    int rc = pn_udp_sendto(p->A.s, p->ua, p->msg, len, &to, p->now);
    ck_assert_msg(rc == (int)len, "sendto %zu: %d", len, rc);
    take(p->A.s, fs);
}

/* B must hold exactly the datagram A sent, once. */
static void
expect_rx(pair *p, size_t len)
{
    pn_sockaddr from;
    int rc = pn_udp_recvfrom(p->B.s, p->ub, p->rx, 65536, &from);
    ck_assert_msg(rc == (int)len, "size %zu: got %d", len, rc);
    ck_assert(memcmp(p->rx, p->msg, len) == 0);
    ck_assert_uint_eq(from.addr.b[3], 1);
    ck_assert_int_eq(pn_udp_recvfrom(p->B.s, p->ub, p->rx, 65536, NULL), PN_EAGAIN);
}

static uint16_t
frag_word(const uint8_t *ip)
{
    return (uint16_t)(ip[6] << 8 | ip[7]);
}

/* Every fragment boundary of a 1500 MTU (a UDP payload of k*1480 - 8 fills
 * k fragments exactly), one byte either side, the extremes, and random
 * sizes: all arrive whole, and each took the expected number of frames. */
START_TEST(test_fragnet_udp_sizes_over_1500)
{
    pair p;
    pair_new(&p);
    frames *fs = malloc(sizeof *fs);
    size_t sizes[200];
    size_t n = 0;
    sizes[n++] = 1;
    sizes[n++] = 8000;
    sizes[n++] = 65507;
    for (size_t k = 1; k <= 45; k++) {
        size_t b = k * 1480 - 8;
        for (size_t d = 0; d < 3; d++)
            if (b + d - 1 >= 1 && b + d - 1 <= 65507)
                sizes[n++] = b + d - 1;
    }
    uint64_t seed = 77;
    while (n < sizeof sizes / sizeof sizes[0])
        sizes[n++] = 1 + (size_t)(pn_test_rand(&seed) % 65507);
    uint64_t frags = 0;
    for (size_t k = 0; k < n; k++) {
        size_t len = sizes[k];
        send_udp(&p, len, fs);
        size_t want = len + 8 <= 1480 ? 1 : (len + 8 + 1479) / 1480;
        ck_assert_msg(fs->n == want, "size %zu: %zu frames, want %zu", len, fs->n, want);
        if (want > 1)
            frags += want;
        for (size_t i = 0; i < fs->n; i++) {
            ck_assert_uint_le(fs->len[i], 1500);
            give(p.B.s, fs->f[i], fs->len[i], p.now);
        }
        frames_free(fs);
        expect_rx(&p, len);
        p.now += 100;
    }
    const pn_stats *sb = pn_stats_get(p.B.s);
    EXPECT_UINT(pn_stats_get(p.A.s)->ip4_frag_tx, frags);
    ck_assert_uint_gt(sb->reass_ok, 0);
    ck_assert_uint_le(sb->reass_bytes_peak, 200000);
    EXPECT_UINT(sb->reass_overlap + sb->reass_dup + sb->reass_bad + sb->reass_mem +
                    sb->reass_no_slot + sb->reass_timeout,
                0);
    free(fs);
    pair_free(&p);
}
END_TEST

/* Fragments shuffled, some duplicated (never all of one datagram's, which
 * would legitimately rebuild it twice): each datagram arrives once, whole. */
START_TEST(test_fragnet_reordered_duplicated)
{
    static const size_t sizes[] = {1473, 2961, 4000, 8000, 30000, 65507};
    pair p;
    pair_new(&p);
    frames *fs = malloc(sizeof *fs);
    uint64_t seed = 2024;
    uint64_t dups = 0;
    for (int round = 0; round < 10; round++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t len = sizes[k];
            send_udp(&p, len, fs);
            size_t n = fs->n;
            /* Order: a shuffled list of indices with extra copies of some
             * fragments (never fragment n-1's twin... any one fragment
             * left single is enough). */
            size_t order[2 * MAXF], m = 0;
            size_t keep_single = (size_t)(pn_test_rand(&seed) % n);
            for (size_t i = 0; i < n; i++) {
                order[m++] = i;
                if (i != keep_single && pn_test_rand(&seed) % 3 == 0)
                    order[m++] = i;
            }
            for (size_t i = m; i > 1; i--) {
                size_t j = (size_t)(pn_test_rand(&seed) % i);
                size_t t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
            }
            uint64_t dup_before = pn_stats_get(p.B.s)->reass_dup;
            size_t dup_sent = m - n, after_done = 0;
            int done = 0;
            for (size_t i = 0; i < m; i++) {
                uint64_t ok = pn_stats_get(p.B.s)->reass_ok;
                give(p.B.s, fs->f[order[i]], fs->len[order[i]], p.now);
                if (done)
                    after_done++;
                if (pn_stats_get(p.B.s)->reass_ok != ok)
                    done = 1;
            }
            ck_assert(done);
            /* Duplicates before completion were dropped as such; those
             * after it opened a stale slot (expires below). */
            ck_assert_uint_eq(pn_stats_get(p.B.s)->reass_dup - dup_before + after_done,
                              dup_sent);
            dups += dup_sent;
            frames_free(fs);
            expect_rx(&p, len);
            /* Stale slots (late duplicates) time out; any time exceeded
             * they cause goes to A, which drops it as an ICMP error for
             * nobody. */
            p.now += TIMEOUT_US;
            pn_poll(p.B.s, p.now);
            take(p.B.s, fs);
            for (size_t i = 0; i < fs->n; i++)
                give(p.A.s, fs->f[i], fs->len[i], p.now);
            frames_free(fs);
            ck_assert_uint_eq(pn_stats_get(p.B.s)->pool[PN_POOL_REASS].used, 0);
        }
    }
    ck_assert_uint_gt(dups, 20);
    EXPECT_UINT(pn_stats_get(p.B.s)->reass_overlap, 0);
    free(fs);
    pair_free(&p);
}
END_TEST

/* Rewrite a fragment's offset (bytes) and MF in place, fixing the header
 * checksum. */
static void
set_frag(uint8_t *ip, uint32_t off, int mf)
{
    uint16_t w = (uint16_t)((frag_word(ip) & 0x4000) | (mf ? 0x2000 : 0) | (off / 8));
    ip[6] = (uint8_t)(w >> 8);
    ip[7] = (uint8_t)w;
    ip[10] = ip[11] = 0;
    uint16_t c = pn_tf_csum(ip, 20, 0);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
}

/* A forged fragment overlapping real ones, with the very same bytes or with
 * other bytes, kills the whole datagram; the rest of it can then only time
 * out, without ICMP since fragment zero went with the datagram. */
START_TEST(test_fragnet_overlap_dropped)
{
    pair p;
    pair_new(&p);
    frames *fs = malloc(sizeof *fs);
    for (int variant = 0; variant < 3; variant++) {
        send_udp(&p, 4000, fs); /* 3 fragments: 0..1480, 1480..2960, 2960..4008 */
        ck_assert_uint_eq(fs->n, 3);
        /* The rogue: a copy of fragment 1 moved 8 bytes down (same length:
         * overlaps fragment 0's tail), or 8 bytes up (overlaps fragment 1),
         * or fragment 1 shortened by 8 (same start, same bytes, other
         * extent). */
        uint8_t *rogue = malloc(fs->len[1]);
        memcpy(rogue, fs->f[1], fs->len[1]);
        size_t rlen = fs->len[1];
        if (variant == 0) {
            set_frag(rogue, 1480 - 8, 1);
        } else if (variant == 1) {
            set_frag(rogue, 1480 + 8, 1);
        } else {
            rlen -= 8;
            rogue[2] = (uint8_t)(rlen >> 8);
            rogue[3] = (uint8_t)rlen;
            set_frag(rogue, 1480, 1);
        }
        uint64_t ov = pn_stats_get(p.B.s)->reass_overlap;
        uint64_t to = pn_stats_get(p.B.s)->reass_timeout;
        give(p.B.s, fs->f[0], fs->len[0], p.now);
        if (variant != 0)
            give(p.B.s, fs->f[1], fs->len[1], p.now); /* real one first */
        give(p.B.s, rogue, rlen, p.now);
        EXPECT_UINT(pn_stats_get(p.B.s)->reass_overlap, ov + 1);
        EXPECT_UINT(pn_stats_get(p.B.s)->pool[PN_POOL_REASS].used, 0);
        if (variant == 0)
            give(p.B.s, fs->f[1], fs->len[1], p.now);
        give(p.B.s, fs->f[2], fs->len[2], p.now);
        EXPECT_INT(pn_udp_recvfrom(p.B.s, p.ub, p.rx, 65536, NULL), PN_EAGAIN);
        p.now += TIMEOUT_US;
        pn_poll(p.B.s, p.now);
        EXPECT_UINT(pn_stats_get(p.B.s)->reass_timeout, to + 1);
        EXPECT_UINT(pn_drain_peek(p.B.s), 0); /* no fragment zero: no ICMP */
        free(rogue);
        frames_free(fs);
        /* The next datagram is unaffected. */
        send_udp(&p, 3000, fs);
        for (size_t i = fs->n; i-- > 0;)
            give(p.B.s, fs->f[i], fs->len[i], p.now);
        frames_free(fs);
        expect_rx(&p, 3000);
    }
    free(fs);
    pair_free(&p);
}
END_TEST

/* A 4000-byte echo request in three hand-made fragments: B reassembles it,
 * answers with a 4000-byte reply that it fragments itself. */
START_TEST(test_fragnet_big_echo_answered)
{
    pair p;
    pair_new(&p);
    frames *fs = malloc(sizeof *fs);
    enum { LEN = 4000 };
    uint8_t *icmp = malloc(LEN), *frame = malloc(1600), *back = calloc(1, LEN + 8);
    icmp[0] = 8;
    icmp[1] = 0;
    icmp[2] = icmp[3] = 0;
    icmp[4] = 0x12;
    icmp[5] = 0x34; /* id */
    icmp[6] = 0x00;
    icmp[7] = 0x07; /* seq */
    for (size_t i = 8; i < LEN; i++)
        icmp[i] = (uint8_t)(i * 13 + 5);
    uint16_t c = pn_tf_csum(icmp, LEN, 0);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    /* Send the fragments last first. */
    for (int k = 2; k >= 0; k--) {
        size_t off = (size_t)k * 1480, n = LEN - off < 1480 ? LEN - off : 1480;
        pn_tf_ip h = {NULL, NULL, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 64, 0, 0x5151,
                      (uint16_t)((k < 2 ? 0x2000 : 0) | off / 8), 0};
        size_t fl = pn_tf_ip4(frame, &h, icmp + off, n);
        give(p.B.s, frame, fl, p.now);
    }
    const pn_stats *sb = pn_stats_get(p.B.s);
    EXPECT_UINT(sb->reass_ok, 1);
    EXPECT_UINT(sb->icmp_echo_rx, 1);
    EXPECT_UINT(sb->icmp_echo_tx, 1);
    take(p.B.s, fs);
    EXPECT_UINT(fs->n, 3);
    EXPECT_UINT(sb->ip4_frag_tx, 3);
    /* Put the reply back together by hand and compare. */
    size_t got = 0;
    int last_seen = 0;
    for (size_t i = 0; i < fs->n; i++) {
        const uint8_t *ip = fs->f[i];
        ck_assert_uint_eq(pn_tf_csum(ip, 20, 0), 0);
        ck_assert_uint_eq(ip[9], 1);
        ck_assert_mem_eq(ip + 12, IP_B, 4);
        ck_assert_mem_eq(ip + 16, IP_A, 4);
        size_t off = (size_t)(frag_word(ip) & 0x1fff) * 8, n = fs->len[i] - 20;
        ck_assert_uint_le(off + n, LEN);
        if (frag_word(ip) & 0x2000)
            ck_assert_uint_eq(n % 8, 0);
        else
            last_seen = 1;
        memcpy(back + off, ip + 20, n);
        got += n;
    }
    ck_assert(last_seen);
    ck_assert_uint_eq(got, LEN);
    EXPECT_UINT(back[0], 0); /* echo reply */
    EXPECT_UINT(back[1], 0);
    ck_assert_mem_eq(back + 4, icmp + 4, LEN - 4); /* id, seq, data */
    ck_assert_uint_eq(pn_tf_csum(back, LEN, 0), 0);
    frames_free(fs);
    free(icmp);
    free(frame);
    free(back);
    free(fs);
    pair_free(&p);
}
END_TEST

/* Over the seeded Ethernet link with reordering, duplication and latency:
 * every datagram arrives whole (a late duplicate may rebuild it twice when
 * all its fragments were doubled; both copies are then intact). */
START_TEST(test_fragnet_impaired_link)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    ca.tx_bufs = cb.tx_bufs = 160;
    ca.rx_bufs = cb.rx_bufs = 160;
    ca.udp_sndbuf = cb.udp_sndbuf = 200000;
    ca.udp_rcvbuf = cb.udp_rcvbuf = 400000;
    ca.reass_max_bytes = cb.reass_max_bytes = 200000;
    pn_test_node A, B;
    pn_test_node_new(&A, &ca);
    pn_test_node_new(&B, &cb);
    pn_test_link *L = pn_test_link_new(A.s, B.s, 1000);
    L->reorder_ppm = 300000;
    L->reorder_us = 700;
    L->dup_ppm = 200000;
    L->delay_us = 100;
    int ua = pn_udp_open(A.s), ub = pn_udp_open(B.s);
    pn_sockaddr bb = {PN_IP4(0, 0, 0, 0), 9000};
    ck_assert_int_eq(pn_udp_bind(B.s, ub, &bb), 0);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 9000};
    uint8_t *msg = malloc(65536), *rx = malloc(65536);
    static const size_t sizes[] = {3000, 8000, 12000, 20000, 65507};
    size_t arrived = 0;
    for (int round = 0; round < 6; round++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t len = sizes[k];
            for (size_t i = 0; i < len; i++)
                msg[i] = (uint8_t)(i * 3 + len + (size_t)round);
            ck_assert_int_eq(pn_udp_sendto(A.s, ua, msg, len, &to, L->now), (int)len);
            pn_test_link_run(L, L->now + 20000);
            int n, seen = 0;
            while ((n = pn_udp_recvfrom(B.s, ub, rx, 65536, NULL)) >= 0) {
                ck_assert_int_eq(n, (int)len);
                ck_assert(memcmp(rx, msg, len) == 0);
                seen++;
            }
            ck_assert_int_ge(seen, 1);
            arrived++;
        }
    }
    ck_assert_uint_gt(L->duped, 0);
    ck_assert_uint_gt(L->reordered, 0);
    EXPECT_UINT(pn_stats_get(B.s)->reass_overlap, 0);
    ck_assert_uint_eq(arrived, 30);
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
END_TEST

Suite *
fragnet_suite(void)
{
    Suite *su = suite_create("fragnet");
    TCase *tc = tcase_create("e2e");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fragnet_udp_sizes_over_1500);
    tcase_add_test(tc, test_fragnet_reordered_duplicated);
    tcase_add_test(tc, test_fragnet_overlap_dropped);
    tcase_add_test(tc, test_fragnet_big_echo_answered);
    tcase_add_test(tc, test_fragnet_impaired_link);
    suite_add_tcase(su, tc);
    return su;
}
