/*
 * check_wire_udp.c -- UDP (RFC 768): Linux's datagrams from
 * tests/data/wire/udp.hex (tools/capture-wire.sh), length and checksum
 * errors, the zero-checksum rules, round trips, truncation under a guard
 * page; the inline short-buffer sums of lib/csum_short.h against
 * wire_csum.c.
 */
#include <string.h>

#include "pn_check.h"
#include "wire.h"
#include "csum_short.h"

/* udp.hex frame 1: 10.99.0.1:40000 -> 10.99.0.2:7777 "purenet udp". */
static const char udp_frame[] =
        "02000000000b02000000000a0800450000271989400040110c750a6300010a6300029c401e61001385987075"
        "72656e657420756470";

static const uint8_t ip_a[4] = {10, 99, 0, 1};
static const uint8_t ip_b[4] = {10, 99, 0, 2};

static size_t
load_udp(uint8_t *b)
{
    uint8_t f[64];
    int n = pn_test_hex(udp_frame, f, sizeof(f));
    ck_assert_int_eq(n, 53);
    memcpy(b, f + 34, 19);
    return 19;
}

static void
fix_csum(uint8_t *b, size_t ulen)
{
    pni_put_be16(b + 6, 0);
    uint16_t c = (uint16_t)~pni_csum_fold(
        pni_csum_partial(b, ulen, pni_csum_pseudo4(ip_a, ip_b, PNI_IPPROTO_UDP, (uint32_t)ulen)));
    pni_put_be16(b + 6, c == 0 ? 0xffff : c);
}

START_TEST(test_udp_real)
{
    uint8_t b[19];
    size_t n = load_udp(b);
    pni_udp_repr r;
    EXPECT_INT(pni_wire_udp_check(b, n, ip_a, ip_b), 0);
    EXPECT_INT(pni_wire_udp_parse(b, n, ip_a, ip_b, &r), 0);
    EXPECT_UINT(r.sport, 40000);
    EXPECT_UINT(r.dport, 7777);
    EXPECT_UINT(r.len, 19);
    EXPECT_UINT(r.csum, 0x8598);
    EXPECT_UINT(r.payload_len, 11);
    EXPECT(r.payload == b + 8);
    EXPECT_MEM(r.payload, "purenet udp", 11);
#ifndef PN_FUZZ_NO_CSUM
    /* The pseudo-header matters: wrong addresses fail. */
    EXPECT_INT(pni_wire_udp_check(b, n, ip_b, ip_b), PNI_WE_BADCSUM);
#endif
}
END_TEST

START_TEST(test_udp_round_trip_real)
{
    uint8_t b[19], out[8];
    size_t n = load_udp(b);
    pni_udp_repr r;
    EXPECT_INT(pni_wire_udp_parse(b, n, ip_a, ip_b, &r), 0);
    uint64_t ps = pni_csum_partial(r.payload, r.payload_len, 0); /* odd: 11 bytes */
    EXPECT_UINT(pni_wire_udp_emit(&r, out, sizeof(out), ip_a, ip_b, ps), 8);
    EXPECT_MEM(out, b, 8);
    EXPECT_UINT(pni_wire_udp_emit(&r, out, 7, ip_a, ip_b, ps), 0);
}
END_TEST

START_TEST(test_udp_truncations)
{
    uint8_t b[19];
    size_t n = load_udp(b);
    for (size_t len = 0; len < n; len++) {
        uint8_t *g = pn_test_guard(b, len);
        pni_udp_repr r;
        EXPECT_INT(pni_wire_udp_parse(g, len, ip_a, ip_b, &r), len < 8 ? PNI_WE_TRUNC : PNI_WE_BADLEN);
        pn_test_guard_free(g, len);
    }
}
END_TEST

START_TEST(test_udp_lengths)
{
    uint8_t b[32], t[32];
    size_t n = load_udp(b);
    for (uint16_t ulen = 0; ulen < 8; ulen++) {
        memcpy(t, b, n);
        pni_put_be16(t + 4, ulen);
        EXPECT_INT(pni_wire_udp_check(t, n, ip_a, ip_b), PNI_WE_BADLEN);
    }
    memcpy(t, b, n);
    pni_put_be16(t + 4, 20);
    EXPECT_INT(pni_wire_udp_check(t, n, ip_a, ip_b), PNI_WE_BADLEN);
    /* A shorter UDP length than the span: the rest is not payload. */
    memcpy(t, b, n);
    pni_put_be16(t + 4, 15);
    fix_csum(t, 15);
    pni_udp_repr r;
    EXPECT_INT(pni_wire_udp_parse(t, n, ip_a, ip_b, &r), 0);
    EXPECT_UINT(r.payload_len, 7);
    /* Exactly the header. */
    memcpy(t, b, n);
    pni_put_be16(t + 4, 8);
    fix_csum(t, 8);
    EXPECT_INT(pni_wire_udp_parse(t, 8, ip_a, ip_b, &r), 0);
    EXPECT_UINT(r.payload_len, 0);
}
END_TEST

START_TEST(test_udp_checksum_rules)
{
    uint8_t b[19], t[19];
    size_t n = load_udp(b);
#ifndef PN_FUZZ_NO_CSUM
    memcpy(t, b, n);
    t[18] ^= 0x20;
    EXPECT_INT(pni_wire_udp_check(t, n, ip_a, ip_b), PNI_WE_BADCSUM);
#endif
    /* A zero field means "none" (RFC 768): not verified. */
    memcpy(t, b, n);
    pni_put_be16(t + 6, 0);
    t[18] ^= 0x20;
    pni_udp_repr r;
    EXPECT_INT(pni_wire_udp_parse(t, n, ip_a, ip_b, &r), 0);
    EXPECT_UINT(r.csum, 0);
    /* A computed zero is sent as 0xffff: choose the last payload word so
     * that the sum comes out as zero. */
    uint8_t u[20];
    memcpy(u, b, n);
    u[19] = 0;
    pni_put_be16(u + 4, 20);
    pni_put_be16(u + 18, 0);
    pni_udp_repr e;
    EXPECT_INT(pni_wire_udp_parse(b, n, ip_a, ip_b, &e), 0);
    e.len = 20;
    uint8_t hdr[8];
    pni_wire_udp_emit(&e, hdr, 8, ip_a, ip_b, pni_csum_partial(u + 8, 12, 0));
    pni_put_be16(u + 18, pni_be16(hdr + 6)); /* w = ~S makes S + w all ones */
    EXPECT_UINT(pni_wire_udp_emit(&e, hdr, 8, ip_a, ip_b, pni_csum_partial(u + 8, 12, 0)), 8);
    EXPECT_UINT(pni_be16(hdr + 6), 0xffff);
    memcpy(u, hdr, 8);
    EXPECT_INT(pni_wire_udp_check(u, 20, ip_a, ip_b), 0);
}
END_TEST

START_TEST(test_udp_round_trip_random)
{
    uint64_t st = 768;
    static uint8_t b[8 + 1500];
    for (int i = 0; i < 2000; i++) {
        pni_udp_repr r, q;
        uint8_t src[4], dst[4];
        for (int j = 0; j < 4; j++) {
            src[j] = (uint8_t)pn_test_rand(&st);
            dst[j] = (uint8_t)pn_test_rand(&st);
        }
        memset(&r, 0, sizeof(r));
        r.sport = (uint16_t)pn_test_rand(&st);
        r.dport = (uint16_t)pn_test_rand(&st);
        size_t pl = (size_t)(pn_test_rand(&st) % 1500);
        r.len = (uint16_t)(8 + pl);
        for (size_t j = 0; j < pl; j++)
            b[8 + j] = (uint8_t)pn_test_rand(&st);
        EXPECT_UINT(pni_wire_udp_emit(&r, b, 8, src, dst, pni_csum_partial(b + 8, pl, 0)), 8);
        EXPECT_INT(pni_wire_udp_parse(b, 8 + pl, src, dst, &q), 0);
        EXPECT_UINT(q.sport, r.sport);
        EXPECT_UINT(q.dport, r.dport);
        EXPECT_UINT(q.len, r.len);
        EXPECT(q.csum != 0);
        EXPECT_UINT(q.payload_len, pl);
    }
}
END_TEST

START_TEST(test_udp_csum_short_matches_partial)
{
    /* Every length up to PNI_CSUM_SHORT_MAX + 9 at every alignment, with
     * bytes that make carries: equal modulo 0xffff, and zero exactly for
     * all-zero data; the copy leaves the same bytes. */
    static uint8_t src[PNI_CSUM_SHORT_MAX + 32], dst[PNI_CSUM_SHORT_MAX + 32];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof src; i++) {
        x = x * 1103515245u + 12345u;
        src[i] = (uint8_t)(i % 3 == 0 ? 0xff : x >> 24);
    }
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len <= PNI_CSUM_SHORT_MAX + 9 && off + len <= sizeof src; len++) {
            uint16_t ref = pni_csum_fold(pni_csum_partial(src + off, len, 0));
            uint16_t a = pni_csum_short(src + off, len);
            memset(dst, 0xa5, sizeof dst);
            uint16_t b = pni_csum_copy_short(dst + (7 - off), src + off, len);
            ck_assert_uint_eq(a % 0xffff, ref % 0xffff);
            ck_assert_uint_eq(b % 0xffff, ref % 0xffff);
            ck_assert_uint_eq(a == 0, ref == 0);
            ck_assert_uint_eq(b == 0, ref == 0);
            ck_assert_mem_eq(dst + (7 - off), src + off, len);
            ck_assert_uint_eq(dst[7 - off + len], 0xa5);
        }
    }
    memset(src, 0, sizeof src);
    ck_assert_uint_eq(pni_csum_short(src, 77), 0);
    ck_assert_uint_eq(pni_csum_copy_short(dst, src, 96), 0);
    memset(src, 0xff, sizeof src); /* a carry out of every add */
    for (size_t len = 64; len <= 96; len += 32) {
        uint16_t ref = pni_csum_fold(pni_csum_partial(src, len, 0));
        ck_assert_uint_eq(pni_csum_short(src, len) % 0xffff, ref % 0xffff);
        ck_assert_uint_eq(pni_csum_copy_short(dst, src, len) % 0xffff, ref % 0xffff);
        ck_assert_uint_ne(pni_csum_copy_short(dst, src, len), 0);
    }
    ck_assert_uint_eq(pni_csum_short(src, 77) % 0xffff, pni_csum_fold(pni_csum_partial(src, 77, 0)) % 0xffff);
    ck_assert_uint_eq(pni_csum_pseudo4_short(ip_a, ip_b, 17, 70000),
                      pni_csum_pseudo4(ip_a, ip_b, 17, 70000));
}
END_TEST

/* pni_wire_ip4_udp_fast against the two general parsers on random
 * datagrams, valid and damaged (every length from 0 to 300 payload bytes,
 * odd ones included; random header fields; checksums right, zero, or one
 * bit off): it accepts exactly the datagrams that pni_wire_ip4_parse and
 * pni_wire_udp_parse both accept in its layout (IHL 5, UDP, no fragment),
 * with the same repr. */
START_TEST(test_udp_ip4_fast_agrees_with_parsers)
{
    static uint8_t d[400];
    uint32_t x = 12345;
    int accepted = 0;
    for (int it = 0; it < 20000; it++) {
        size_t plen = (size_t)(it % 301);
        size_t n = 20 + 8 + plen;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            d[i] = (uint8_t)(x >> 16);
        }
        if (it % 7 == 0) /* all ones: the most carries, the sum's top bits set */
            memset(d + 28, 0xff, plen);
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        d[0] = (r & 15) == 0 ? 0x46 : 0x45;
        d[9] = (r & 0x30) == 0 ? 6 : 17;
        pni_put_be16(d + 2, (uint16_t)n);
        pni_put_be16(d + 6, (r & 0x1c0) == 0 ? 0x2000 : (r & 0x200) ? 0x4000 : 0);
        pni_put_be16(d + 24, (uint16_t)(8 + plen - ((r & 0x400) ? plen / 2 : 0)));
        pni_put_be16(d + 26, 0);
        if ((r & 0x800) == 0) {
            pni_udp_repr u = {0};
            u.sport = pni_be16(d + 20);
            u.dport = pni_be16(d + 22);
            u.len = pni_be16(d + 24);
            uint16_t ul = u.len;
            pni_wire_udp_emit(&u, d + 20, 8, d + 12, d + 16,
                              pni_csum_partial(d + 28, ul - 8u, 0));
        }
        pni_put_be16(d + 10, 0);
        pni_put_be16(d + 10, pni_csum(d, 20));
        if ((r & 0x7000) == 0)
            d[20 + (r >> 15) % (8 + plen)] ^= (uint8_t)(1u << (r >> 20) % 8); /* UDP damage */
        if ((r & 0x38000) == 0)
            d[(r >> 18) % 20] ^= 4; /* IP damage */
        size_t len = n + ((r >> 22) & 3); /* link padding */
        pni_ip4_repr ip;
        pni_udp_repr g, f;
        memset(&g, 0, sizeof g);
        memset(&f, 0, sizeof f);
        int ge = pni_wire_ip4_parse(d, len, &ip);
        int general = ge == 0 && ip.hlen == 20 && ip.proto == 17 && !ip.mf && ip.frag_off == 0 &&
                      pni_wire_udp_parse(d + 20, ip.tot_len - 20u, ip.src, ip.dst, &g) == 0;
        int fast = pni_wire_ip4_udp_fast(d, len, &f) == 0;
        ck_assert_int_eq(fast, general);
        if (fast) {
            accepted++;
            ck_assert_uint_eq(f.sport, g.sport);
            ck_assert_uint_eq(f.dport, g.dport);
            ck_assert_uint_eq(f.len, g.len);
            ck_assert_uint_eq(f.csum, g.csum);
            ck_assert_ptr_eq(f.payload, g.payload);
            ck_assert_uint_eq(f.payload_len, g.payload_len);
        }
    }
    ck_assert_int_gt(accepted, 5000);
    ck_assert_int_lt(accepted, 15000);
}
END_TEST

Suite *
wire_udp_suite(void)
{
    Suite *s = suite_create("wire_udp");
    TCase *tc = tcase_create("udp");
    tcase_add_test(tc, test_udp_real);
    tcase_add_test(tc, test_udp_round_trip_real);
    tcase_add_test(tc, test_udp_truncations);
    tcase_add_test(tc, test_udp_lengths);
    tcase_add_test(tc, test_udp_checksum_rules);
    tcase_add_test(tc, test_udp_round_trip_random);
    tcase_add_test(tc, test_udp_csum_short_matches_partial);
    tcase_add_test(tc, test_udp_ip4_fast_agrees_with_parsers);
    suite_add_tcase(s, tc);
    return s;
}
