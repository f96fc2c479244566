/*
 * check_frag.c -- IPv4 fragmentation (lib/frag.c) at the unit level: a
 * packet built by hand goes through pni_frag_output on a bare-IP stack,
 * the fragments are drained (pn_drain_raw) and checked field by field,
 * then reassembled by a second stack (pni_reass_input) as a round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "helper_ipfrag.h"

#define MAXF 2048

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

static void
drain_all(pn_stack *s, frames *fs)
{
    fs->n = 0;
    for (;;) {
        size_t need = pn_drain_peek(s);
        if (need == 0)
            break;
        ck_assert_uint_lt(fs->n, MAXF);
        uint8_t *p = malloc(need);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(pn_drain_raw(s, p, need), (int)need);
        fs->f[fs->n] = p;
        fs->len[fs->n] = need;
        fs->n++;
    }
}

/* A sender able to queue every fragment of a 64 KiB datagram at MTU 68. */
static pn_stack *
sender(uint16_t mtu, uint32_t tx_bufs)
{
    pn_config c;
    pnt_cfg(&c);
    c.mtu = mtu;
    c.buf_size = mtu < 1000 ? 256 : 0;
    c.tx_bufs = tx_bufs;
    c.egress_max_pkts = MAXF;
    c.egress_max_bytes = 64u << 20;
    return pnt_stack(&c);
}

/* A receiver with room to reassemble any of them. */
static pn_stack *
receiver(void)
{
    pn_config c;
    pnt_cfg(&c);
    c.buf_size = 256;
    c.rx_bufs = 4096;
    c.reass_max_bytes = 4u << 20;
    return pnt_stack(&c);
}

/* The packet as pni_ip4_output hands it over: a TX chain, IP header at
 * data, link headroom in front. */
static pni_buf *
make_pkt(pn_stack *s, uint16_t id, const uint8_t *opts, uint8_t opt_len, uint32_t payload,
         uint16_t frag_off, int mf, pni_ip4_repr *ip)
{
    pni_ip4_repr r;
    memset(&r, 0, sizeof r);
    r.tos = 0x10;
    r.id = id;
    r.mf = (uint8_t)(mf != 0);
    r.frag_off = frag_off;
    r.ttl = 33;
    r.proto = PNI_IPPROTO_UDP;
    memcpy(r.src, (uint8_t[4]){10, 0, 0, 1}, 4);
    memcpy(r.dst, (uint8_t[4]){10, 0, 0, 2}, 4);
    r.opts = opts;
    r.opt_len = opt_len;
    uint32_t hlen = PNI_IP4_HLEN + opt_len;
    r.hlen = (uint8_t)hlen;
    r.tot_len = (uint16_t)(hlen + payload);
    pni_buf *b = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_LINK, hlen + payload);
    ck_assert_ptr_nonnull(b);
    uint8_t *flat = malloc(hlen + payload);
    ck_assert_ptr_nonnull(flat);
    ck_assert_uint_eq(pni_wire_ip4_emit(&r, flat, hlen), hlen);
    for (uint32_t i = 0; i < payload; i++)
        flat[hlen + i] = pnt_pat(id, frag_off + i);
    ck_assert_int_eq(pni_buf_copyin(b, 0, flat, hlen + payload), 0);
    ck_assert_int_eq(pni_wire_ip4_parse(flat, hlen + payload, ip), 0);
    free(flat);
    ip->opts = opt_len > 0 ? pni_buf_data(b) + PNI_IP4_HLEN : NULL;
    return b;
}

/* Check the fragments of datagram id with the given first-fragment and
 * later header lengths; returns their count. Payload offsets run from
 * base; the last one carries last_mf. */
static void
check_frags(const frames *fs, uint16_t mtu, uint16_t id, uint32_t payload, uint32_t hlen0,
            uint32_t hlen1, uint32_t base, int last_mf)
{
    uint32_t pos = 0;
    for (size_t k = 0; k < fs->n; k++) {
        pni_ip4_repr ip;
        ck_assert_int_eq(pni_wire_ip4_parse(fs->f[k], fs->len[k], &ip), 0); /* csum too */
        ck_assert_uint_le(fs->len[k], mtu);
        ck_assert_uint_eq(ip.tot_len, fs->len[k]);
        uint32_t hl = k == 0 ? hlen0 : hlen1;
        ck_assert_uint_eq(ip.hlen, hl);
        ck_assert_uint_eq(ip.id, id);
        ck_assert_uint_eq(ip.ttl, 33);
        ck_assert_uint_eq(ip.tos, 0x10);
        ck_assert_uint_eq(ip.proto, PNI_IPPROTO_UDP);
        ck_assert_uint_eq(ip.frag_off, base + pos);
        uint32_t flen = ip.tot_len - hl;
        int last = k + 1 == fs->n;
        if (!last) {
            /* RFC 791: every fragment but the last carries the largest
             * multiple of 8 that fits the MTU. */
            ck_assert_uint_eq(flen, ((uint32_t)mtu - hl) & ~7u);
            ck_assert_uint_eq(ip.mf, 1);
        } else {
            ck_assert_uint_eq(ip.mf, (unsigned)last_mf);
            ck_assert_uint_eq(pos + flen, payload);
        }
        ck_assert_uint_gt(flen, 0);
        for (uint32_t i = 0; i < flen; i++)
            ck_assert_msg(fs->f[k][hl + i] == pnt_pat(id, base + pos + i), "frag %zu byte %u", k,
                          (unsigned)i);
        pos += flen;
    }
    ck_assert_uint_eq(pos, payload);
}

/* Feed drained fragments, in the order idx, to a receiver. */
static pni_buf *
reassemble(pn_stack *r, const frames *fs, const uint32_t *idx)
{
    pni_buf *out = NULL;
    for (size_t k = 0; k < fs->n; k++) {
        size_t i = idx != NULL ? idx[k] : k;
        pni_buf *b = pni_buf_alloc(r, PN_POOL_RXBUF, PNI_LAYER_RAW, fs->len[i]);
        ck_assert_ptr_nonnull(b);
        pni_buf_copyin(b, 0, fs->f[i], fs->len[i]);
        pni_ip4_repr ip;
        ck_assert_int_eq(pni_wire_ip4_parse(fs->f[i], fs->len[i], &ip), 0);
        ck_assert_ptr_null(out);
        out = pni_reass_input(r, b, &ip);
    }
    return out;
}

static uint32_t
expect_count(uint32_t payload, uint16_t mtu, uint32_t hlen0, uint32_t hlen1)
{
    uint32_t first = ((uint32_t)mtu - hlen0) & ~7u;
    if (payload <= (uint32_t)mtu - hlen0)
        return 1;
    uint32_t rest = payload - first, per = ((uint32_t)mtu - hlen1) & ~7u;
    return 1 + (rest + per - 1) / per;
}

START_TEST(test_frag_sizes_mtus)
{
    static const uint16_t mtus[] = {68, 576, 1500};
    static const uint32_t sizes[] = {49,  100,  548,  549,  556,  1472, 1480,
                                     1481, 2961, 4000, 8000, 8008, 65515};
    uint64_t seed = 3;
    uint32_t *idx = malloc(MAXF * sizeof *idx);
    frames *fs = malloc(sizeof *fs);
    for (size_t m = 0; m < sizeof mtus / sizeof mtus[0]; m++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            uint16_t mtu = mtus[m];
            uint32_t payload = sizes[z];
            if (payload + 20 <= mtu)
                continue; /* the caller only fragments what does not fit */
            pn_stack *s = sender(mtu, 2048);
            pn_stack *r = receiver();
            uint16_t id = (uint16_t)(m * 100 + z);
            pni_ip4_repr ip;
            pni_buf *pkt = make_pkt(s, id, NULL, 0, payload, 0, 0, &ip);
            uint8_t nh[4] = {10, 0, 0, 2};
            EXPECT_INT(pni_frag_output(s, pkt, &ip, mtu, nh), 0);
            drain_all(s, fs);
            uint32_t n = expect_count(payload, mtu, 20, 20);
            ck_assert_msg(fs->n == n, "mtu %u size %u: %zu fragments, want %u", mtu, payload,
                          fs->n, n);
            EXPECT_UINT(pn_stats_get(s)->ip4_frag_tx, n);
            check_frags(fs, mtu, id, payload, 20, 20, 0, 0);
            /* Round trip, shuffled. */
            for (uint32_t i = 0; i < n; i++)
                idx[i] = i;
            pnt_shuffle(idx, n, &seed);
            pni_buf *d = reassemble(r, fs, idx);
            pnt_check_dgram(d, id, payload, 20);
            pni_buf_free(r, d);
            frames_free(fs);
            pnt_free(s);
            pnt_free(r);
        }
    }
    free(fs);
    free(idx);
}
END_TEST

/* Spot values from RFC 791's own arithmetic: 8000 bytes of payload over a
 * 1500 MTU go as 5 x 1480 + 600 at offsets 0, 185, 370, 555, 740, 925 (in
 * 8-octet units). */
START_TEST(test_frag_8000_over_1500_exact)
{
    pn_stack *s = sender(1500, 64);
    frames *fs = malloc(sizeof *fs);
    pni_ip4_repr ip;
    pni_buf *pkt = make_pkt(s, 0xabcd, NULL, 0, 8000, 0, 0, &ip);
    EXPECT_INT(pni_frag_output(s, pkt, &ip, 1500, (uint8_t[4]){10, 0, 0, 2}), 0);
    drain_all(s, fs);
    EXPECT_UINT(fs->n, 6);
    for (size_t k = 0; k < 6; k++) {
        uint16_t fo = pni_be16(fs->f[k] + 6);
        EXPECT_UINT(fo & PNI_IP4_OFFMASK, 185 * k);
        EXPECT_UINT((fo & PNI_IP4_MF) != 0, k < 5);
        EXPECT_UINT(pni_be16(fs->f[k] + 2), k < 5 ? 1500 : 620);
        EXPECT_UINT(pni_csum(fs->f[k], 20), 0);
    }
    frames_free(fs);
    free(fs);
    pnt_free(s);
}
END_TEST

/* RFC 791 3.1: only options with the copied flag go into later fragments. */
START_TEST(test_frag_options_copied)
{
    /* Record Route (7, not copied), NOP, Router Alert (148, copied). */
    static const uint8_t o1[12] = {0x07, 7, 4, 0, 0, 0, 0, 0x01, 0x94, 4, 0, 0};
    /* LSRR (131, copied), Record Route (not copied), EOL padding. */
    static const uint8_t o2[16] = {0x83, 7, 4, 10, 0, 0, 9, 0x07, 7, 4, 0, 0, 0, 0, 0, 0};
    /* Timestamp (68, not copied) only: later headers have no options. */
    static const uint8_t o3[12] = {0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    /* A copied option after EOL is not an option. */
    static const uint8_t o4[8] = {0x00, 0x94, 4, 0, 0, 0, 0, 0};
    static const struct {
        const uint8_t *o;
        uint8_t len;
        uint32_t hlen1;
        uint8_t later[8];
    } cases[] = {
        {o1, 12, 24, {0x94, 4, 0, 0}},
        {o2, 16, 28, {0x83, 7, 4, 10, 0, 0, 9, 0x00}},
        {o3, 12, 20, {0}},
        {o4, 8, 20, {0}},
    };
    frames *fs = malloc(sizeof *fs);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pn_stack *s = sender(576, 64);
        pn_stack *r = receiver();
        pni_ip4_repr ip;
        uint32_t hlen0 = 20u + cases[k].len;
        pni_buf *pkt = make_pkt(s, (uint16_t)k, cases[k].o, cases[k].len, 3000, 0, 0, &ip);
        EXPECT_INT(pni_frag_output(s, pkt, &ip, 576, (uint8_t[4]){10, 0, 0, 2}), 0);
        drain_all(s, fs);
        EXPECT_UINT(fs->n, expect_count(3000, 576, hlen0, cases[k].hlen1));
        check_frags(fs, 576, (uint16_t)k, 3000, hlen0, cases[k].hlen1, 0, 0);
        EXPECT_MEM(fs->f[0] + 20, cases[k].o, cases[k].len); /* first: all */
        for (size_t i = 1; i < fs->n; i++)
            EXPECT_MEM(fs->f[i] + 20, cases[k].later, cases[k].hlen1 - 20);
        pni_buf *d = reassemble(r, fs, NULL);
        pnt_check_dgram(d, (uint16_t)k, 3000, hlen0); /* fragment zero's header */
        uint8_t h[60];
        pni_buf_copyout(d, 0, h, hlen0);
        EXPECT_MEM(h + 20, cases[k].o, cases[k].len);
        pni_buf_free(r, d);
        frames_free(fs);
        pnt_free(s);
        pnt_free(r);
    }
    free(fs);
}
END_TEST

/* MTU 68 with a 60-byte header: 8 bytes per fragment (RFC 791: 68 = 60 +
 * 8). With a copied 40-byte option every fragment has 60 bytes of header;
 * with a non-copied one the later ones shrink to 20 and carry 48. */
START_TEST(test_frag_mtu68_full_header)
{
    uint8_t copied[40], plain[40];
    memset(copied, 0, sizeof copied);
    memset(plain, 0, sizeof plain);
    copied[0] = 0x9e; /* copied flag, class 0, number 30 */
    copied[1] = 40;
    plain[0] = 0x1e;
    plain[1] = 40;
    frames *fs = malloc(sizeof *fs);
    for (int k = 0; k < 2; k++) {
        pn_stack *s = sender(68, 256);
        pn_stack *r = receiver();
        pni_ip4_repr ip;
        pni_buf *pkt = make_pkt(s, 9, k == 0 ? copied : plain, 40, 400, 0, 0, &ip);
        EXPECT_INT(pni_frag_output(s, pkt, &ip, 68, (uint8_t[4]){10, 0, 0, 2}), 0);
        drain_all(s, fs);
        uint32_t h1 = k == 0 ? 60 : 20;
        EXPECT_UINT(fs->n, expect_count(400, 68, 60, h1));
        EXPECT_UINT(fs->n, k == 0 ? 50 : 1 + (392 + 47) / 48);
        check_frags(fs, 68, 9, 400, 60, h1, 0, 0);
        pni_buf *d = reassemble(r, fs, NULL);
        pnt_check_dgram(d, 9, 400, 60);
        pni_buf_free(r, d);
        frames_free(fs);
        pnt_free(s);
        pnt_free(r);
    }
    free(fs);
}
END_TEST

/* Re-fragmenting a fragment: offsets are relative to its own offset, and
 * MF stays set on every piece unless the input was the last fragment. */
START_TEST(test_frag_of_a_fragment)
{
    frames *fs = malloc(sizeof *fs);
    for (int mf = 0; mf < 2; mf++) {
        pn_stack *s = sender(576, 64);
        pni_ip4_repr ip;
        pni_buf *pkt = make_pkt(s, 12, NULL, 0, 1480, 2960, mf, &ip);
        EXPECT_INT(pni_frag_output(s, pkt, &ip, 576, (uint8_t[4]){10, 0, 0, 2}), 0);
        drain_all(s, fs);
        EXPECT_UINT(fs->n, 3);
        check_frags(fs, 576, 12, 1480, 20, 20, 2960, mf);
        frames_free(fs);
        pnt_free(s);
    }
    free(fs);
}
END_TEST

/* TX pool exhaustion part way: fragments already sent stay sent, the rest
 * is freed, tx_nobufs is counted once, PN_ENOBUFS returned. */
START_TEST(test_frag_tx_exhaustion)
{
    pn_stack *s = sender(1500, 8);
    frames *fs = malloc(sizeof *fs);
    pni_ip4_repr ip;
    pni_buf *pkt = make_pkt(s, 1, NULL, 0, 8000, 0, 0, &ip);
    uint32_t held = pn_stats_get(s)->pool[PN_POOL_TXBUF].used;
    ck_assert_uint_lt(held, 8);
    EXPECT_INT(pni_frag_output(s, pkt, &ip, 1500, (uint8_t[4]){10, 0, 0, 2}), PN_ENOBUFS);
    EXPECT_UINT(pn_stats_get(s)->tx_nobufs, 1);
    EXPECT_UINT(pn_stats_get(s)->ip4_frag_tx, 8 - held);
    drain_all(s, fs);
    EXPECT_UINT(fs->n, 8 - held);
    frames_free(fs);
    free(fs);
    pnt_free(s);
}
END_TEST

/* Bad arguments free the packet and say so. */
START_TEST(test_frag_bad_args)
{
    pn_stack *s = sender(1500, 64);
    pni_ip4_repr ip;
    pni_buf *pkt = make_pkt(s, 1, NULL, 0, 100, 0, 0, &ip);
    EXPECT_INT(pni_frag_output(s, pkt, &ip, 27, (uint8_t[4]){10, 0, 0, 2}), PN_EINVAL);
    pkt = make_pkt(s, 1, NULL, 0, 100, 0, 0, &ip);
    ip.tot_len = 2000; /* longer than the buffer */
    EXPECT_INT(pni_frag_output(s, pkt, &ip, 576, (uint8_t[4]){10, 0, 0, 2}), PN_EINVAL);
    EXPECT_UINT(pn_drain_peek(s), 0);
    pnt_free(s);
}
END_TEST

static uint32_t
count_owned(const pni_buf *q, uint8_t kind, uint16_t owner)
{
    uint32_t n = 0;
    for (; q != NULL; q = q->next) {
        ck_assert(q->owner_kind == 0 || (q->owner_kind == kind && q->owner == owner));
        n += q->owner_kind == kind;
    }
    return n;
}

/* The send-buffer charge moves from the original to its fragments: as
 * many segments are marked afterwards as before, never more. */
START_TEST(test_frag_owner_charge_moves)
{
    static const uint32_t sizes[] = {1481, 3000, 8000, 20000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        pn_stack *s = sender(1500, 64);
        pni_ip4_repr ip;
        pni_buf *pkt = make_pkt(s, 1, NULL, 0, sizes[k], 0, 0, &ip);
        uint32_t charged = 0;
        for (pni_buf *q = pkt; q != NULL; q = q->next) {
            q->owner_kind = 2; /* a kind lib/buf.c does not release */
            q->owner = 5;
            charged++;
        }
        EXPECT_INT(pni_frag_output(s, pkt, &ip, 1500, (uint8_t[4]){10, 0, 0, 2}), 0);
        uint32_t after = 0, segs = 0;
        for (const pni_buf *f = s->eg_head; f != NULL; f = f->qnext) {
            after += count_owned(f, 2, 5);
            for (const pni_buf *q = f; q != NULL; q = q->next)
                segs++;
        }
        EXPECT_UINT(after, charged < segs ? charged : segs);
        frames fs;
        drain_all(s, &fs);
        frames_free(&fs);
        pnt_free(s);
    }
}
END_TEST

Suite *
frag_suite(void)
{
    Suite *su = suite_create("frag");
    TCase *tc = tcase_create("unit");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_frag_sizes_mtus);
    tcase_add_test(tc, test_frag_8000_over_1500_exact);
    tcase_add_test(tc, test_frag_options_copied);
    tcase_add_test(tc, test_frag_mtu68_full_header);
    tcase_add_test(tc, test_frag_of_a_fragment);
    tcase_add_test(tc, test_frag_tx_exhaustion);
    tcase_add_test(tc, test_frag_bad_args);
    tcase_add_test(tc, test_frag_owner_charge_moves);
    suite_add_tcase(su, tc);
    return su;
}
