/*
 * check_wire_ip4.c -- IPv4 headers (RFC 791): Linux's packets from
 * tests/data/wire/ (tools/capture-wire.sh), record-route options, every
 * impossible length, option errors, round trips, truncation under a guard
 * page.
 */
#include <string.h>

#include "pn_check.h"
#include "wire.h"

/* ping.hex frame 3: ICMP echo request 10.99.0.1 -> 10.99.0.2, DF. */
static const char echo_frame[] =
        "02000000000b02000000000a0800450000549ded4000400187f30a6300010a630002080031bc7cff00019d71"
        "046b00000000fdc908000000000072656e6574707572656e6574707572656e6574707572656e657470757265"
        "6e6574707572656e6574";
/* ping_rr.hex frames 1 and 2: ping -R, request (NOP, RR ptr 8) and reply. */
static const char rr_req_frame[] =
        "02000000000b02000000000a08004f00007c9e56400040014aef0a6300010a630002010727080a6300010000"
        "000000000000000000000000000000000000000000000000000000000000080011cd7dcf0001a171046b0000"
        "0000f9b20a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031"
        "323334353637";
static const char rr_rep_frame[] =
        "02000000000a02000000000b08004f00007cead2000040012ba00a6300020a6300010727100a6300010a6300"
        "020a63000200000000000000000000000000000000000000000000000000000019cd7dcf0001a171046b0000"
        "0000f9b20a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031"
        "323334353637";
/* udp.hex frame 3: ICMP port unreachable, TOS 0xc0. */
static const char unreach_frame[] =
        "02000000000a02000000000b080045c00043efa10000400175900a6300020a630001030311ea000000004500"
        "002719fd400040110c010a6300010a6300029c41270f0013fd806e6f626f647920686f6d65";
/* tcp.hex frame 4: TCP data with timestamps. */
static const char tcp_frame[] =
        "02000000000b02000000000a080045000041516940004006d4850a6300010a6300029c421f90a86869611afc"
        "68c18018003f9b8c00000101080ad67c5f67f006459c68656c6c6f20707572656e6574";

static const uint8_t ip_a[4] = {10, 99, 0, 1};
static const uint8_t ip_b[4] = {10, 99, 0, 2};

/* The IPv4 packet of an untagged frame, into b; returns its length. */
static size_t
load_ip(const char *hex, uint8_t *b, size_t cap)
{
    uint8_t f[1600];
    int n = pn_test_hex(hex, f, sizeof(f));
    ck_assert_int_gt(n, 14);
    ck_assert_uint_le((size_t)n - 14, cap);
    memcpy(b, f + 14, (size_t)n - 14);
    return (size_t)n - 14;
}

/* Recompute the header checksum after a test edits the header. */
static void
fix_csum(uint8_t *b)
{
    size_t hlen = (size_t)(b[0] & 15) * 4;
    pni_put_be16(b + 10, 0);
    pni_put_be16(b + 10, pni_csum(b, hlen));
}

START_TEST(test_ip4_real_echo)
{
    uint8_t b[128];
    size_t n = load_ip(echo_frame, b, sizeof(b));
    pni_ip4_repr r;
    EXPECT_INT(pni_wire_ip4_check(b, n), 0);
    EXPECT_INT(pni_wire_ip4_parse(b, n, &r), 0);
    EXPECT_UINT(r.hlen, 20);
    EXPECT_UINT(r.tos, 0);
    EXPECT_UINT(r.tot_len, 84);
    EXPECT_UINT(r.id, pni_be16(b + 4));
    EXPECT_UINT(r.df, 1);
    EXPECT_UINT(r.mf, 0);
    EXPECT_UINT(r.frag_off, 0);
    EXPECT_UINT(r.ttl, 64);
    EXPECT_UINT(r.proto, PNI_IPPROTO_ICMP);
    EXPECT_UINT(r.csum, pni_be16(b + 10));
    EXPECT_MEM(r.src, ip_a, 4);
    EXPECT_MEM(r.dst, ip_b, 4);
    EXPECT(r.opts == NULL);
    EXPECT_UINT(r.opt_len, 0);
}
END_TEST

START_TEST(test_ip4_real_record_route)
{
    uint8_t b[160];
    size_t n = load_ip(rr_req_frame, b, sizeof(b));
    pni_ip4_repr r;
    EXPECT_INT(pni_wire_ip4_parse(b, n, &r), 0);
    EXPECT_UINT(r.hlen, 60);
    EXPECT_UINT(r.tot_len, 124);
    EXPECT_UINT(r.opt_len, 40);
    EXPECT(r.opts == b + 20);
    EXPECT_UINT(r.opts[0], 1);  /* NOP */
    EXPECT_UINT(r.opts[1], 7);  /* RR */
    EXPECT_UINT(r.opts[2], 39); /* length: 9 addresses */
    EXPECT_UINT(r.opts[3], 8);  /* pointer after 10.99.0.1 */
    EXPECT_MEM(r.opts + 4, ip_a, 4);

    n = load_ip(rr_rep_frame, b, sizeof(b));
    EXPECT_INT(pni_wire_ip4_parse(b, n, &r), 0);
    EXPECT_UINT(r.opts[0], 7);
    EXPECT_UINT(r.opts[1], 39);
    EXPECT_UINT(r.opts[2], 16); /* three addresses recorded */
    EXPECT_MEM(r.opts + 3, ip_a, 4);
    EXPECT_MEM(r.opts + 7, ip_b, 4);
    EXPECT_UINT(r.opts[39], 0); /* EOL */
    EXPECT_MEM(r.src, ip_b, 4);
    EXPECT_UINT(r.df, 0);
}
END_TEST

START_TEST(test_ip4_round_trip_real)
{
    const char *frames[] = {echo_frame, rr_req_frame, rr_rep_frame, unreach_frame, tcp_frame};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        uint8_t b[160], out[60];
        size_t n = load_ip(frames[i], b, sizeof(b));
        pni_ip4_repr r;
        EXPECT_INT(pni_wire_ip4_parse(b, n, &r), 0);
        /* Emit recomputes the checksum: the same bytes as Linux sent. */
        EXPECT_UINT(pni_wire_ip4_emit(&r, out, sizeof(out)), r.hlen);
        EXPECT_MEM(out, b, r.hlen);
        EXPECT_UINT(pni_wire_ip4_emit(&r, out, r.hlen - 1u), 0);
        /* In place, options already at p + 20. */
        EXPECT_UINT(pni_wire_ip4_emit(&r, b, sizeof(b)), r.hlen);
        EXPECT_INT(pni_wire_ip4_check(b, n), 0);
    }
}
END_TEST

START_TEST(test_ip4_round_trip_random)
{
    uint64_t st = 791;
    for (int i = 0; i < 3000; i++) {
        pni_ip4_repr r, q;
        uint8_t opts[40], b[60 + 8];
        memset(&r, 0, sizeof(r));
        r.tos = (uint8_t)pn_test_rand(&st);
        r.id = (uint16_t)pn_test_rand(&st);
        r.df = (uint8_t)(pn_test_rand(&st) & 1);
        r.mf = (uint8_t)(pn_test_rand(&st) & 1);
        r.ttl = (uint8_t)pn_test_rand(&st);
        r.proto = (uint8_t)pn_test_rand(&st);
        for (int j = 0; j < 4; j++) {
            r.src[j] = (uint8_t)pn_test_rand(&st);
            r.dst[j] = (uint8_t)pn_test_rand(&st);
        }
        /* Options: NOPs, then maybe one unknown option filling the rest. */
        size_t olen = 4 * (size_t)(pn_test_rand(&st) % 11);
        memset(opts, 1, olen);
        if (olen >= 4) {
            opts[0] = 0x1e; /* experimental, copied flag clear */
            opts[1] = (uint8_t)olen;
            for (size_t j = 2; j < olen; j++)
                opts[j] = (uint8_t)pn_test_rand(&st);
        }
        r.opts = olen ? opts : NULL;
        r.opt_len = (uint8_t)olen;
        r.hlen = (uint8_t)(20 + olen);
        size_t pay = (size_t)(pn_test_rand(&st) % 8);
        r.tot_len = (uint16_t)(r.hlen + pay);
        r.frag_off = (uint16_t)(8 * (pn_test_rand(&st) % 8000));
        size_t n = pni_wire_ip4_emit(&r, b, sizeof(b));
        EXPECT_UINT(n, r.hlen);
        memset(b + n, 0xab, pay);
        EXPECT_INT(pni_wire_ip4_parse(b, n + pay, &q), 0);
        EXPECT_UINT(q.hlen, r.hlen);
        EXPECT_UINT(q.tos, r.tos);
        EXPECT_UINT(q.tot_len, r.tot_len);
        EXPECT_UINT(q.id, r.id);
        EXPECT_UINT(q.df, r.df);
        EXPECT_UINT(q.mf, r.mf);
        EXPECT_UINT(q.frag_off, r.frag_off);
        EXPECT_UINT(q.ttl, r.ttl);
        EXPECT_UINT(q.proto, r.proto);
        EXPECT_MEM(q.src, r.src, 4);
        EXPECT_MEM(q.dst, r.dst, 4);
        EXPECT_UINT(q.opt_len, olen);
        if (olen)
            EXPECT_MEM(q.opts, opts, olen);
    }
}
END_TEST

START_TEST(test_ip4_emit_pads_options_with_eol)
{
    static const uint8_t ra[3] = {1, 1, 1}; /* three NOPs: padded to 4 */
    pni_ip4_repr r;
    memset(&r, 0, sizeof(r));
    r.opts = ra;
    r.opt_len = 3;
    r.tot_len = 24;
    r.ttl = 1;
    uint8_t b[24];
    EXPECT_UINT(pni_wire_ip4_emit(&r, b, sizeof(b)), 24);
    EXPECT_UINT(b[0], 0x46);
    EXPECT_UINT(b[23], 0);
    EXPECT_INT(pni_wire_ip4_check(b, 24), 0);
    r.opt_len = 41;
    EXPECT_UINT(pni_wire_ip4_emit(&r, b, sizeof(b)), 0);
}
END_TEST

/* Every truncation of every real packet fails, reading nothing beyond. */
START_TEST(test_ip4_truncations)
{
    const char *frames[] = {echo_frame, rr_req_frame, rr_rep_frame, unreach_frame, tcp_frame};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        uint8_t b[160];
        size_t n = load_ip(frames[i], b, sizeof(b));
        for (size_t len = 0; len < n; len++) {
            uint8_t *g = pn_test_guard(b, len);
            pni_ip4_repr r;
            int err = pni_wire_ip4_parse(g, len, &r);
            EXPECT_INT(err, len < 20 ? PNI_WE_TRUNC : PNI_WE_BADLEN);
            pn_test_guard_free(g, len);
        }
        uint8_t *g = pn_test_guard(b, n);
        EXPECT_INT(pni_wire_ip4_check(g, n), 0);
        pn_test_guard_free(g, n);
    }
}
END_TEST

START_TEST(test_ip4_impossible_lengths)
{
    uint8_t b[160];
    size_t n = load_ip(echo_frame, b, sizeof(b));
    uint8_t t[160];

    memcpy(t, b, n);
    t[0] = 0x65; /* version 6 */
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADVER);
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        memcpy(t, b, n);
        t[0] = (uint8_t)(0x40 | ihl);
        EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADHLEN);
    }
    /* IHL 15 (60 bytes) in a 40-byte buffer. */
    memcpy(t, b, n);
    t[0] = 0x4f;
    uint8_t *g = pn_test_guard(t, 40);
    EXPECT_INT(pni_wire_ip4_check(g, 40), PNI_WE_BADLEN);
    pn_test_guard_free(g, 40);
    /* tot_len beyond the buffer, and below the header length. */
    memcpy(t, b, n);
    pni_put_be16(t + 2, (uint16_t)(n + 1));
    fix_csum(t);
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADLEN);
    pni_put_be16(t + 2, 19);
    fix_csum(t);
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADLEN);
    /* IHL 6 but tot_len 20. */
    memcpy(t, b, n);
    t[0] = 0x46;
    pni_put_be16(t + 2, 20);
    fix_csum(t);
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADLEN);
    /* Link padding after tot_len is fine. */
    memcpy(t, b, n);
    memset(t + n, 0, 10);
    pni_ip4_repr r;
    EXPECT_INT(pni_wire_ip4_parse(t, n + 10, &r), 0);
    EXPECT_UINT(r.tot_len, n);
}
END_TEST

START_TEST(test_ip4_bad_fields)
{
    uint8_t b[160], t[160];
    size_t n = load_ip(echo_frame, b, sizeof(b));
#ifndef PN_FUZZ_NO_CSUM
    memcpy(t, b, n);
    t[8]--; /* TTL changed, checksum not */
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADCSUM);
#endif
    memcpy(t, b, n);
    t[6] |= 0x80; /* reserved flag */
    fix_csum(t);
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADFIELD);
    /* Fragment at 8 * 8191 = 65528 with 64 payload bytes: past 65535. */
    memcpy(t, b, n);
    pni_put_be16(t + 6, 0x1fff);
    fix_csum(t);
    EXPECT_INT(pni_wire_ip4_check(t, n), PNI_WE_BADFIELD);
    /* ... while one that ends exactly at 65535 is fine. */
    memcpy(t, b, n);
    pni_put_be16(t + 2, 20 + 7);
    pni_put_be16(t + 6, 0x1fff);
    fix_csum(t);
    EXPECT_INT(pni_wire_ip4_check(t, n), 0);
}
END_TEST

/* Build a header with the given option bytes (<= 40, multiple of 4). */
static size_t
with_opts(uint8_t *t, const uint8_t *o, size_t olen)
{
    memset(t, 0, 60);
    t[0] = (uint8_t)(0x40 | (5 + olen / 4));
    pni_put_be16(t + 2, (uint16_t)(20 + olen));
    t[8] = 64;
    t[9] = 1;
    memcpy(t + 12, ip_a, 4);
    memcpy(t + 16, ip_b, 4);
    memcpy(t + 20, o, olen);
    fix_csum(t);
    return 20 + olen;
}

START_TEST(test_ip4_options)
{
    static const struct {
        uint8_t o[8];
        size_t len;
        int err;
    } cases[] = {
        {{1, 1, 1, 1}, 4, 0},                  /* NOPs */
        {{0, 0xff, 0xff, 0xff}, 4, 0},         /* EOL, then padding is ignored */
        {{0x1e, 4, 9, 9}, 4, 0},               /* unknown, skipped by length */
        {{0x1e, 0, 9, 9}, 4, PNI_WE_BADOPT},   /* length 0 */
        {{0x1e, 1, 9, 9}, 4, PNI_WE_BADOPT},   /* length 1 */
        {{0x1e, 5, 9, 9}, 4, PNI_WE_BADOPT},   /* longer than the space */
        {{1, 1, 1, 0x1e}, 4, PNI_WE_BADOPT},   /* no room for the length */
        {{7, 3, 4, 0}, 4, 0},                  /* RR, empty, pointer 4 */
        {{7, 7, 3, 0, 0, 0, 0, 0}, 8, PNI_WE_BADOPT}, /* RR pointer 3 */
        {{7, 2, 0, 0}, 4, PNI_WE_BADOPT},      /* RR length 2 */
        {{131, 7, 4, 1, 2, 3, 4, 0}, 8, 0},    /* LSRR */
        {{137, 7, 2, 1, 2, 3, 4, 0}, 8, PNI_WE_BADOPT}, /* SSRR pointer 2 */
        {{68, 4, 5, 0}, 4, 0},                 /* timestamp, empty */
        {{68, 3, 5, 0}, 4, PNI_WE_BADOPT},     /* timestamp length 3 */
        {{68, 8, 4, 0, 0, 0, 0, 0}, 8, PNI_WE_BADOPT}, /* timestamp pointer 4 */
        {{148, 4, 0, 0}, 4, 0},                /* router alert */
        {{148, 3, 0, 0}, 4, PNI_WE_BADOPT},    /* router alert length 3 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t t[60];
        size_t n = with_opts(t, cases[i].o, cases[i].len);
        uint8_t *g = pn_test_guard(t, n);
        ck_assert_msg(pni_wire_ip4_check(g, n) == cases[i].err, "case %zu", i);
        pn_test_guard_free(g, n);
    }
}
END_TEST

START_TEST(test_ip4_addr_classes)
{
    static const uint8_t bc[4] = {255, 255, 255, 255}, nb[4] = {255, 255, 255, 254};
    static const uint8_t m0[4] = {224, 0, 0, 1}, m1[4] = {239, 255, 255, 255}, m2[4] = {240, 0, 0, 0};
    EXPECT_INT(pni_ip4_is_bcast(bc), 1);
    EXPECT_INT(pni_ip4_is_bcast(nb), 0);
    EXPECT_INT(pni_ip4_is_mcast(m0), 1);
    EXPECT_INT(pni_ip4_is_mcast(m1), 1);
    EXPECT_INT(pni_ip4_is_mcast(m2), 0);
    EXPECT_INT(pni_ip4_is_mcast(ip_a), 0);
}
END_TEST

/* pni_mod_ffff_zero, the fast paths' checksum test, against the
 * remainder: multiples of 0xffff near the edges of 64 bits and around
 * them, and random values. */
START_TEST(test_ip4_mod_ffff_zero_is_remainder_test)
{
    static const uint64_t edge[] = {0,
                                    1,
                                    0xfffe,
                                    0xffff,
                                    0x10000,
                                    0x1fffe,
                                    0xffffffffu,
                                    0x100000000u,
                                    0xffff0000ffff0000u,
                                    0x1000100010001u,
                                    0xfffefffefffeffffu,
                                    UINT64_MAX - 0xffff,
                                    UINT64_MAX - 1,
                                    UINT64_MAX};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        for (int d = -2; d <= 2; d++) {
            uint64_t x = edge[i] + (uint64_t)(int64_t)d;
            ck_assert_int_eq(pni_mod_ffff_zero(x), x % 0xffff == 0);
        }
    uint64_t x = 0x9e3779b97f4a7c15u;
    int zeros = 0;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        uint64_t v = (i & 1) ? x : (x >> 16) * 0xffff + (uint64_t)(i % 3 == 0);
        int z = pni_mod_ffff_zero(v);
        ck_assert_int_eq(z, v % 0xffff == 0);
        zeros += z;
    }
    ck_assert_int_gt(zeros, 60000);
}
END_TEST

Suite *
wire_ip4_suite(void)
{
    Suite *s = suite_create("wire_ip4");
    TCase *tc = tcase_create("ip4");
    tcase_add_test(tc, test_ip4_real_echo);
    tcase_add_test(tc, test_ip4_real_record_route);
    tcase_add_test(tc, test_ip4_round_trip_real);
    tcase_add_test(tc, test_ip4_round_trip_random);
    tcase_add_test(tc, test_ip4_emit_pads_options_with_eol);
    tcase_add_test(tc, test_ip4_truncations);
    tcase_add_test(tc, test_ip4_impossible_lengths);
    tcase_add_test(tc, test_ip4_bad_fields);
    tcase_add_test(tc, test_ip4_options);
    tcase_add_test(tc, test_ip4_addr_classes);
    tcase_add_test(tc, test_ip4_mod_ffff_zero_is_remainder_test);
    suite_add_tcase(s, tc);
    return s;
}
