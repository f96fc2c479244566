/*
 * check_wire_csum.c -- the Internet checksum (RFC 1071), its incremental
 * update (RFC 1624) and the pseudo-header, against known values, real
 * headers captured from Linux (tests/data/wire/), and a plain byte-wise
 * reference on thousands of random buffers, lengths, alignments and split
 * points.
 */
#include <stdio.h>
#include <string.h>

#include "pn_check.h"
#include "wire.h"

/* The obvious RFC 1071 loop: 16-bit big-endian words, odd byte padded. */
static uint16_t
ref_sum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
        s = (s & 0xffff) + (s >> 16);
    }
    if (len & 1) {
        s += (uint32_t)p[len - 1] << 8;
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)s;
}

/* Equal modulo 0xffff (0 and 0xffff both mean zero in one's complement). */
static int
same_oc(uint16_t a, uint16_t b)
{
    return a % 0xffff == b % 0xffff;
}

static void
fill_rand(uint8_t *p, size_t n, uint64_t *st)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)pn_test_rand(st);
}

START_TEST(test_csum_rfc1071_example)
{
    /* RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
    static const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_UINT(pni_csum_fold(pni_csum_partial(b, 8, 0)), 0xddf2);
    EXPECT_UINT(pni_csum(b, 8), 0x220d);
    /* Byte order independence (section 2 (B)): swapped input, swapped sum. */
    static const uint8_t sw[8] = {0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
    EXPECT_UINT(pni_csum_fold(pni_csum_partial(sw, 8, 0)), 0xf2dd);
    EXPECT_UINT(pni_csum_fold(pni_csum_swap(pni_csum_partial(sw, 8, 0))), 0xddf2);
    /* Odd length: the last byte is padded with zero on its right. */
    static const uint8_t odd[3] = {0x12, 0x34, 0x56};
    EXPECT_UINT(pni_csum_fold(pni_csum_partial(odd, 3, 0)), 0x1234 + 0x5600);
}
END_TEST

START_TEST(test_csum_fold_edges)
{
    EXPECT_UINT(pni_csum_fold(0), 0);
    EXPECT_UINT(pni_csum_fold(0xffff), 0xffff);
    EXPECT_UINT(pni_csum_fold(0x10000), 1);
    EXPECT_UINT(pni_csum_fold(0x1fffe), 0xffff);
    EXPECT_UINT(pni_csum_fold(0xffffffffffffffffULL), 0xffff);
    EXPECT_UINT(pni_csum_fold(0x0001000100010001ULL), 4);
    EXPECT_UINT(pni_csum(NULL, 0), 0xffff);
    static uint8_t ones[4096];
    memset(ones, 0xff, sizeof(ones));
    EXPECT_UINT(pni_csum(ones, sizeof(ones)), 0);
    EXPECT_UINT(pni_csum(ones, 1), 0x00ff);
}
END_TEST

/* Real IPv4 headers captured from Linux (tools/capture-wire.sh): echo
 * request (ping.hex frame 3), record-route request (ping_rr.hex frame 1),
 * ICMP error with TOS 0xc0 (udp.hex frame 3). Each sums to all ones, and
 * zeroing the field and recomputing gives the captured value. */
START_TEST(test_csum_real_ip_headers)
{
    static const struct {
        const char *hex;
        uint16_t csum;
    } h[] = {
        {"450000549ded4000400187f30a6300010a630002", 0x87f3},
        {"4f00007c9e56400040014aef0a6300010a630002010727080a63000100000000000000000000000000000000"
         "00000000000000000000000000000000",
         0x4aef},
        {"45c00043efa10000400175900a6300020a630001", 0x7590},
    };
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        uint8_t b[60];
        int n = pn_test_hex(h[i].hex, b, sizeof(b));
        EXPECT_RET(n >= 20);
        EXPECT_UINT(pni_be16(b + 10), h[i].csum);
        EXPECT_UINT(pni_csum(b, (size_t)n), 0);
        pni_put_be16(b + 10, 0);
        EXPECT_UINT(pni_csum(b, (size_t)n), h[i].csum);
    }
}
END_TEST

START_TEST(test_csum_matches_reference_random)
{
    uint64_t st = 0x1071;
    static uint8_t buf[2048 + 8];
    for (int iter = 0; iter < 4000; iter++) {
        size_t len = (size_t)(pn_test_rand(&st) % (iter < 2000 ? 80 : 2048));
        size_t off = (size_t)(pn_test_rand(&st) % 8); /* every alignment */
        fill_rand(buf + off, len, &st);
        uint16_t want = ref_sum(buf + off, len);
        uint16_t got = pni_csum_fold(pni_csum_partial(buf + off, len, 0));
        ck_assert_msg(same_oc(got, want), "len %zu off %zu: %04x vs %04x", len, off, got, want);
        EXPECT_UINT(pni_csum(buf + off, len), (uint16_t)~got);
    }
}
END_TEST

/* The AVX2 loop (pni_csum_partial_v with vec set, where this CPU has
 * it) against the reference: every length to 700 at every alignment with
 * and without a seed sum, and long buffers past one accumulation round
 * (4096 blocks of 64 bytes) made of the words at the ends of the signed
 * range the loop biases into (0x0000, 0x7fff, 0x8000, 0xffff, and
 * mixtures). */
START_TEST(test_csum_vector_matches_reference)
{
    int vec = pni_cpu_vec();
    uint64_t st = 0xa7c2;
    static uint8_t buf[(1u << 20) + 130];
    for (size_t len = 0; len <= 700; len++) {
        for (size_t off = 0; off < 8; off++) {
            fill_rand(buf + off, len, &st);
            uint16_t want = ref_sum(buf + off, len);
            uint16_t got = pni_csum_fold(pni_csum_partial_v(buf + off, len, 0, vec));
            ck_assert_msg(same_oc(got, want), "len %zu off %zu: %04x vs %04x", len, off, got, want);
            uint64_t seed = pn_test_rand(&st) >> 20;
            EXPECT(same_oc(pni_csum_fold(pni_csum_partial_v(buf + off, len, seed, vec)),
                           pni_csum_fold(pni_csum_partial(buf + off, len, seed))));
        }
    }
    static const uint16_t words[][2] = {{0x0000, 0x0000}, {0xffff, 0xffff}, {0x8000, 0x8000},
                                        {0x7fff, 0x7fff}, {0x8000, 0x7fff}, {0xffff, 0x0000}};
    static const size_t lens[] = {64, 128, 192, (size_t)4096 * 64, (size_t)4096 * 64 + 64,
                                  (size_t)8193 * 64 + 63, (size_t)1 << 20, ((size_t)1 << 20) + 129};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        for (size_t i = 0; i + 1 < sizeof buf; i += 2) {
            pni_put_be16(buf + i, words[w][(i / 2) & 1]);
        }
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            for (size_t off = 0; off < 2; off++) {
                uint16_t want = ref_sum(buf + off, lens[l]);
                uint16_t got = pni_csum_fold(pni_csum_partial_v(buf + off, lens[l], 0, vec));
                ck_assert_msg(same_oc(got, want), "words %04x/%04x len %zu off %zu: %04x vs %04x",
                              words[w][0], words[w][1], lens[l], off, got, want);
            }
        }
    }
    if (!vec)
        fprintf(stderr, "wire_csum: this CPU has no AVX2: only the scalar path was checked\n");
}
END_TEST

/* Sums of consecutive spans add up, with pni_csum_swap after an odd-length
 * prefix (wire.h contract), at every split point of random buffers. */
START_TEST(test_csum_split_points)
{
    uint64_t st = 0x5eed;
    uint8_t buf[300];
    for (int iter = 0; iter < 200; iter++) {
        size_t len = 1 + (size_t)(pn_test_rand(&st) % sizeof(buf));
        fill_rand(buf, len, &st);
        uint16_t full = pni_csum_fold(pni_csum_partial(buf, len, 0));
        for (size_t cut = 0; cut <= len; cut++) {
            uint64_t a = pni_csum_partial(buf, cut, 0);
            uint64_t b = pni_csum_partial(buf + cut, len - cut, 0);
            if (cut & 1)
                b = pni_csum_swap(b);
            ck_assert_msg(same_oc(pni_csum_fold(a + b), full), "len %zu cut %zu", len, cut);
            /* Chaining through the sum argument is the same as adding. */
            uint64_t c = pni_csum_partial(buf + cut, len - cut, 0);
            if ((cut & 1) == 0) {
                uint64_t chained = pni_csum_partial(buf + cut, len - cut, a);
                EXPECT(same_oc(pni_csum_fold(chained), pni_csum_fold(a + c)));
            }
        }
    }
}
END_TEST

START_TEST(test_csum_three_way_odd_spans)
{
    uint64_t st = 42;
    uint8_t buf[64];
    for (int iter = 0; iter < 2000; iter++) {
        fill_rand(buf, sizeof(buf), &st);
        size_t x = (size_t)(pn_test_rand(&st) % 65);
        size_t y = x + (size_t)(pn_test_rand(&st) % (65 - x));
        /* Track the parity of the running offset, swapping as needed. */
        uint64_t s = pni_csum_partial(buf, x, 0);
        uint64_t m = pni_csum_partial(buf + x, y - x, 0);
        s += (x & 1) ? pni_csum_swap(m) : m;
        uint64_t t = pni_csum_partial(buf + y, sizeof(buf) - y, 0);
        s += (y & 1) ? pni_csum_swap(t) : t;
        EXPECT(same_oc(pni_csum_fold(s), ref_sum(buf, sizeof(buf))));
    }
}
END_TEST

START_TEST(test_csum_pseudo4)
{
    uint64_t st = 768;
    for (int iter = 0; iter < 1000; iter++) {
        uint8_t ph[12];
        fill_rand(ph, 8, &st);
        uint8_t proto = (uint8_t)pn_test_rand(&st);
        uint16_t l4 = (uint16_t)pn_test_rand(&st);
        ph[8] = 0;
        ph[9] = proto;
        pni_put_be16(ph + 10, l4);
        uint16_t got = pni_csum_fold(pni_csum_pseudo4(ph, ph + 4, proto, l4));
        EXPECT(same_oc(got, ref_sum(ph, 12)));
    }
    /* Real UDP datagram (udp.hex frame 1): pseudo-header + segment = ones. */
    uint8_t u[19];
    EXPECT_INT(pn_test_hex("9c401e6100138598707572656e657420756470", u, sizeof(u)), 19);
    static const uint8_t src[4] = {10, 99, 0, 1}, dst[4] = {10, 99, 0, 2};
    uint64_t s = pni_csum_pseudo4(src, dst, 17, 19);
    EXPECT_UINT(pni_csum_fold(pni_csum_partial(u, 19, s)), 0xffff);
}
END_TEST

/* RFC 1624 eqn. 3 equals a full recomputation after changing one 16-bit
 * word or one 32-bit field, on random data. */
START_TEST(test_csum_incremental_random)
{
    uint64_t st = 1624;
    uint8_t buf[64];
    for (int iter = 0; iter < 5000; iter++) {
        size_t len = 4 + 2 * (size_t)(pn_test_rand(&st) % 30);
        fill_rand(buf, len, &st);
        if (iter % 50 == 0)
            memset(buf, 0, len); /* mostly-zero data too */
        uint16_t hc = pni_csum(buf, len);
        size_t at = 2 * (size_t)(pn_test_rand(&st) % (len / 2 - 1));
        uint16_t c2;
        if (iter & 1) {
            uint16_t oldw = pni_be16(buf + at);
            uint16_t neww = (uint16_t)pn_test_rand(&st);
            if (iter % 7 == 0)
                neww = oldw;
            pni_put_be16(buf + at, neww);
            c2 = pni_csum_update16(hc, oldw, neww);
        } else {
            uint32_t oldv = pni_be32(buf + at);
            uint32_t newv = (uint32_t)pn_test_rand(&st);
            pni_put_be32(buf + at, newv);
            c2 = pni_csum_update32(hc, oldv, newv);
        }
        uint16_t full = pni_csum(buf, len);
        int allzero = 1;
        for (size_t i = 0; i < len; i++)
            allzero &= buf[i] == 0;
        if (allzero) /* RFC 1624 section 3: +0/-0 may differ here only */
            EXPECT(same_oc(c2, full));
        else
            ck_assert_msg(c2 == full, "iter %d: %04x vs %04x", iter, c2, full);
    }
}
END_TEST

/* RFC 1624 section 4 example: an IP header whose checksum is 0xdd2f;
 * a 16-bit field goes 0x5555 -> 0x3285, new checksum 0x0000. */
START_TEST(test_csum_rfc1624_example)
{
    EXPECT_UINT(pni_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    /* And a TTL decrement on a real header (ping.hex frame 3: TTL 64). */
    uint8_t h[20];
    EXPECT_INT(pn_test_hex("450000549ded4000400187f30a6300010a630002", h, sizeof(h)), 20);
    uint16_t old = pni_be16(h + 8);
    h[8]--;
    uint16_t upd = pni_csum_update16(pni_be16(h + 10), old, pni_be16(h + 8));
    pni_put_be16(h + 10, 0);
    EXPECT_UINT(upd, pni_csum(h, 20));
}
END_TEST

START_TEST(test_csum_large_and_unaligned)
{
    static uint8_t big[70001];
    uint64_t st = 7;
    fill_rand(big, sizeof(big), &st);
    for (size_t off = 0; off < 4; off++) {
        size_t len = sizeof(big) - off;
        EXPECT(same_oc(pni_csum_fold(pni_csum_partial(big + off, len, 0)), ref_sum(big + off, len)));
    }
}
END_TEST

/* Carry-heavy data: all-ones and near-all-ones words make every 64-bit
 * add carry out (the wide path's add-with-carry and end-around add). */
START_TEST(test_csum_all_ones_carries)
{
    static uint8_t buf[9000 + 8];
    uint64_t st = 0xffff;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = (size_t)(pn_test_rand(&st) % 9000);
        size_t off = (size_t)(pn_test_rand(&st) % 8);
        memset(buf + off, 0xff, len);
        if (iter & 1) /* a few other bytes among the ones */
            for (int k = 0; k < 4 && len > 0; k++)
                buf[off + pn_test_rand(&st) % len] = (uint8_t)pn_test_rand(&st);
        uint16_t want = ref_sum(buf + off, len);
        ck_assert_msg(same_oc(pni_csum_fold(pni_csum_partial(buf + off, len, 0)), want),
                      "len %zu off %zu", len, off);
    }
}
END_TEST

/* Every length 0..300 at every alignment 0..15, on random data, all-0xff
 * data (every add carries: the adc chain of the x86-64 block loop and its
 * last end-around carry), 0x80 bytes and zeros, each checked against the
 * byte-wise reference. Lengths cross 0, 1, 2 and more 64-byte blocks with
 * every tail size; a running sum of all ones is carried in. */
START_TEST(test_csum_every_len_and_alignment)
{
    static uint8_t buf[300 + 16];
    uint64_t st = 0xadc;
    for (int pat = 0; pat < 4; pat++) {
        for (size_t off = 0; off < 16; off++) {
            for (size_t len = 0; len <= 300; len++) {
                if (pat == 0)
                    fill_rand(buf + off, len, &st);
                else
                    memset(buf + off, pat == 1 ? 0xff : pat == 2 ? 0x80 : 0, len);
                uint16_t want = ref_sum(buf + off, len);
                uint16_t got = pni_csum_fold(pni_csum_partial(buf + off, len, 0));
                ck_assert_msg(same_oc(got, want), "pat %d len %zu off %zu: %04x vs %04x", pat,
                              len, off, got, want);
                /* 2^64 - 1 is a multiple of 0xffff: a zero that carries. */
                got = pni_csum_fold(pni_csum_partial(buf + off, len, 0xffffffffffffffffULL));
                ck_assert_msg(same_oc(got, want), "pat %d len %zu off %zu (sum in)", pat, len,
                              off);
            }
        }
    }
}
END_TEST

/* pni_csum_copy copies exactly and sums like pni_csum_partial, for every
 * alignment of source and destination, across its internal pieces, with
 * a running sum carried in. */
START_TEST(test_csum_copy_matches_reference)
{
    static uint8_t src[12000 + 8], dst[12000 + 16];
    uint64_t st = 0xc0b1;
    for (int iter = 0; iter < 600; iter++) {
        size_t len = (size_t)(pn_test_rand(&st) % (iter < 400 ? 200 : 12000));
        size_t so = (size_t)(pn_test_rand(&st) % 8), d_o = (size_t)(pn_test_rand(&st) % 8);
        fill_rand(src + so, len, &st);
        memset(dst, 0xa5, sizeof dst);
        uint64_t in = pn_test_rand(&st) & 0xffffffffu;
        uint64_t got = pni_csum_copy(dst + d_o, src + so, len, in);
        ck_assert_mem_eq(dst + d_o, src + so, len);
        ck_assert_uint_eq(dst[d_o + len], 0xa5); /* nothing written past len */
        if (d_o > 0)
            ck_assert_uint_eq(dst[d_o - 1], 0xa5);
        uint16_t want = pni_csum_fold(in + ref_sum(src + so, len));
        ck_assert_msg(same_oc(pni_csum_fold(got), want), "len %zu", len);
        EXPECT(same_oc(pni_csum_fold(got), pni_csum_fold(pni_csum_partial(src + so, len, in))));
    }
}
END_TEST

START_TEST(test_wire_strerror_names)
{
    static const int codes[] = {PNI_WE_TRUNC,  PNI_WE_BADLEN, PNI_WE_BADVER,  PNI_WE_BADHLEN,
                                PNI_WE_BADCSUM, PNI_WE_BADOPT, PNI_WE_BADTYPE, PNI_WE_BADFIELD};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *a = pni_wire_strerror(codes[i]);
        EXPECT(a != NULL && a[0] != '\0');
        for (size_t j = 0; j < i; j++)
            EXPECT(strcmp(a, pni_wire_strerror(codes[j])) != 0);
    }
    EXPECT(pni_wire_strerror(-1000) != NULL);
}
END_TEST

Suite *
wire_csum_suite(void)
{
    Suite *s = suite_create("wire_csum");
    TCase *tc = tcase_create("csum");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_csum_rfc1071_example);
    tcase_add_test(tc, test_csum_fold_edges);
    tcase_add_test(tc, test_csum_real_ip_headers);
    tcase_add_test(tc, test_csum_matches_reference_random);
    tcase_add_test(tc, test_csum_vector_matches_reference);
    tcase_add_test(tc, test_csum_split_points);
    tcase_add_test(tc, test_csum_three_way_odd_spans);
    tcase_add_test(tc, test_csum_pseudo4);
    tcase_add_test(tc, test_csum_incremental_random);
    tcase_add_test(tc, test_csum_rfc1624_example);
    tcase_add_test(tc, test_csum_large_and_unaligned);
    tcase_add_test(tc, test_csum_all_ones_carries);
    tcase_add_test(tc, test_csum_copy_matches_reference);
    tcase_add_test(tc, test_csum_every_len_and_alignment);
    tcase_add_test(tc, test_wire_strerror_names);
    suite_add_tcase(s, tc);
    return s;
}
