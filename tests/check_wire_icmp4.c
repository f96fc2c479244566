/*
 * check_wire_icmp4.c -- ICMPv4 (RFC 792): Linux's echo request and reply,
 * port unreachable quoting UDP, time exceeded and fragmentation needed
 * (RFC 1191) from a Linux router, all from tests/data/wire/
 * (tools/capture-wire.sh); lenient quotes; round trips; truncation under
 * a guard page.
 */
#include <string.h>

#include "pn_check.h"
#include "wire.h"

/* ping.hex frames 3 and 4: echo request and reply, id/seq as captured. */
static const char echo_req_frame[] =
        "02000000000b02000000000a0800450000549ded4000400187f30a6300010a630002080031bc7cff00019d71"
        "046b00000000fdc908000000000072656e6574707572656e6574707572656e6574707572656e657470757265"
        "6e6574707572656e6574";
static const char echo_rep_frame[] =
        "02000000000a02000000000b080045000054e9b6000040017c2a0a6300020a630001000039bc7cff00019d71"
        "046b00000000fdc908000000000072656e6574707572656e6574707572656e6574707572656e657470757265"
        "6e6574707572656e6574";
/* udp.hex frame 3: port unreachable for 10.99.0.1:40001 -> 10.99.0.2:9999. */
static const char port_unreach_frame[] =
        "02000000000a02000000000b080045c00043efa10000400175900a6300020a630001030311ea000000004500"
        "002719fd400040110c010a6300010a6300029c41270f0013fd806e6f626f647920686f6d65";
/* router.hex frame 2: time exceeded in transit (TTL-1 ping to 10.99.1.5). */
static const char time_exc_frame[] =
        "02000000000a02000000000b080045c00070f1010000400174030a6300020a6300010b00f4ff000000004500"
        "0054095a400001015a840a6300010a6301050800f8c003010001b771046b000000007e8d0300000000001011"
        "12131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
/* router.hex frame 4: fragmentation needed, next-hop MTU 1000; the quote
 * holds 548 bytes of a 1228-byte datagram. */
static const char frag_needed_frame[] =
        "02000000000a02000000000b080045c00240f10700004001722d0a6300020a630001030473e1000003e84500"
        "04cc00004000400120660a6300010a63010508003b5303020001b771046b000000002ab00400000000001011"
        "12131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d"
        "3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263646566676869"
        "6a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495"
        "969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1"
        "c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebeced"
        "eeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f10111213141516171819"
        "1a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445"
        "464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071"
        "72737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d"
        "9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9"
        "cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5"
        "f6f7f8f9fafbfcfdfeff0001020304050607";
/* raw.hex frame 11: echo request inside an 802.1Q tag (built by the script). */
static const char vlan_echo_frame[] =
        "02000000000d02000000000c8100a00a080045000028424240004001e1c80a6301030a6301020800ea517071"
        "0001707572656e657420766c616e";

static const uint8_t ip_a[4] = {10, 99, 0, 1};
static const uint8_t ip_b[4] = {10, 99, 0, 2};
static const uint8_t ip_far[4] = {10, 99, 1, 5};

/* The ICMP message of a frame (IP payload up to tot_len), into b. */
static size_t
load_icmp(const char *hex, uint8_t *b, size_t cap)
{
    static uint8_t f[1600];
    int n = pn_test_hex(hex, f, sizeof(f));
    ck_assert_int_gt(n, 0);
    pni_eth_repr e;
    pni_ip4_repr ip;
    ck_assert_int_eq(pni_wire_eth_parse(f, (size_t)n, &e), 0);
    ck_assert_int_eq(pni_wire_ip4_parse(f + e.hlen, (size_t)n - e.hlen, &ip), 0);
    ck_assert_uint_eq(ip.proto, PNI_IPPROTO_ICMP);
    size_t len = (size_t)ip.tot_len - ip.hlen;
    ck_assert_uint_le(len, cap);
    memcpy(b, f + e.hlen + ip.hlen, len);
    return len;
}

START_TEST(test_icmp_real_echo)
{
    uint8_t b[1600];
    size_t n = load_icmp(echo_req_frame, b, sizeof(b));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_check(b, n), 0);
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
    EXPECT_UINT(r.type, PNI_ICMP_ECHO_REQUEST);
    EXPECT_UINT(r.code, 0);
    EXPECT_UINT(r.csum, pni_be16(b + 2));
    EXPECT_UINT(r.id, pni_be16(b + 4));
    EXPECT_UINT(r.seq, 1);
    EXPECT_UINT(r.data_len, 56);
    EXPECT(r.data == b + 8);
    EXPECT_UINT(r.has_quote, 0);
    /* ping -p 707572656e6574 fills the tail with "purenet" repeated. */
    EXPECT_MEM(b + n - 7, "purenet", 7);
    uint16_t id = r.id;

    uint8_t c[1600];
    size_t m = load_icmp(echo_rep_frame, c, sizeof(c));
    EXPECT_INT(pni_wire_icmp_parse(c, m, &r), 0);
    EXPECT_UINT(r.type, PNI_ICMP_ECHO_REPLY);
    EXPECT_UINT(r.id, id);
    EXPECT_UINT(r.seq, 1);
    EXPECT_UINT(r.data_len, 56);
    EXPECT_MEM(r.data, b + 8, 56);
}
END_TEST

START_TEST(test_icmp_real_port_unreachable)
{
    uint8_t b[1600];
    size_t n = load_icmp(port_unreach_frame, b, sizeof(b));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
    EXPECT_UINT(r.type, PNI_ICMP_DEST_UNREACH);
    EXPECT_UINT(r.code, PNI_ICMP_PORT_UNREACH);
    EXPECT_UINT(r.next_mtu, 0);
    EXPECT_UINT(r.data_len, 39); /* Linux quotes the whole small datagram */
    EXPECT_UINT(r.has_quote, 1);
    EXPECT_UINT(r.quoted.hlen, 20);
    EXPECT_UINT(r.quoted.tot_len, 39);
    EXPECT_UINT(r.quoted.proto, PNI_IPPROTO_UDP);
    EXPECT_UINT(r.quoted.df, 1);
    EXPECT_MEM(r.quoted.src, ip_a, 4);
    EXPECT_MEM(r.quoted.dst, ip_b, 4);
    EXPECT_UINT(r.q_sport, 40001);
    EXPECT_UINT(r.q_dport, 9999);
    /* The quoted datagram is itself a valid UDP datagram. */
    pni_udp_repr u;
    EXPECT_INT(pni_wire_udp_parse(r.data + 20, 19, r.quoted.src, r.quoted.dst, &u), 0);
    EXPECT_MEM(u.payload, "nobody home", 11);
}
END_TEST

START_TEST(test_icmp_real_time_exceeded)
{
    uint8_t b[1600];
    size_t n = load_icmp(time_exc_frame, b, sizeof(b));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
    EXPECT_UINT(r.type, PNI_ICMP_TIME_EXCEEDED);
    EXPECT_UINT(r.code, 0);
    EXPECT_UINT(r.has_quote, 1);
    EXPECT_UINT(r.quoted.ttl, 1);
    EXPECT_UINT(r.quoted.proto, PNI_IPPROTO_ICMP);
    EXPECT_MEM(r.quoted.src, ip_a, 4);
    EXPECT_MEM(r.quoted.dst, ip_far, 4);
    EXPECT_UINT(r.q_sport, (PNI_ICMP_ECHO_REQUEST << 8) | 0); /* type, code */
}
END_TEST

START_TEST(test_icmp_real_frag_needed)
{
    uint8_t b[1600];
    size_t n = load_icmp(frag_needed_frame, b, sizeof(b));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
    EXPECT_UINT(r.type, PNI_ICMP_DEST_UNREACH);
    EXPECT_UINT(r.code, PNI_ICMP_FRAG_NEEDED);
    EXPECT_UINT(r.next_mtu, 1000);
    EXPECT_UINT(r.has_quote, 1);
    EXPECT_UINT(r.quoted.tot_len, 1228); /* more than was quoted: fine */
    EXPECT(r.data_len < 1228);
    EXPECT_MEM(r.quoted.dst, ip_far, 4);
    EXPECT_UINT(r.quoted.df, 1);
}
END_TEST

START_TEST(test_icmp_real_in_vlan)
{
    uint8_t b[64];
    size_t n = load_icmp(vlan_echo_frame, b, sizeof(b));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
    EXPECT_UINT(r.type, PNI_ICMP_ECHO_REQUEST);
    EXPECT_UINT(r.id, 0x7071);
    EXPECT_UINT(r.data_len, 12);
    EXPECT_MEM(r.data, "purenet vlan", 12);
}
END_TEST

START_TEST(test_icmp_round_trip_real)
{
    const char *frames[] = {echo_req_frame, echo_rep_frame, port_unreach_frame, time_exc_frame,
                            frag_needed_frame, vlan_echo_frame};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        static uint8_t b[1600], out[1600];
        size_t n = load_icmp(frames[i], b, sizeof(b));
        pni_icmp_repr r;
        EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
        EXPECT_UINT(pni_wire_icmp_emit(&r, out, sizeof(out)), n);
        EXPECT_MEM(out, b, n);
        EXPECT_UINT(pni_wire_icmp_emit(&r, out, n - 1), 0);
        /* Data already in place at p + 8 is left alone. */
        EXPECT_UINT(pni_wire_icmp_emit(&r, b, n), n);
        EXPECT_MEM(out, b, n);
    }
}
END_TEST

START_TEST(test_icmp_emit_echo_reply_from_request)
{
    uint8_t b[1600];
    size_t n = load_icmp(echo_req_frame, b, sizeof(b));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
    r.type = PNI_ICMP_ECHO_REPLY;
    EXPECT_UINT(pni_wire_icmp_emit(&r, b, n), n);
    uint8_t c[1600];
    size_t m = load_icmp(echo_rep_frame, c, sizeof(c));
    EXPECT_UINT(m, n);
    EXPECT_MEM(b, c, n); /* byte for byte what Linux answered */
}
END_TEST

START_TEST(test_icmp_truncations)
{
    const char *frames[] = {echo_req_frame, port_unreach_frame, time_exc_frame, vlan_echo_frame};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        uint8_t b[1600];
        size_t n = load_icmp(frames[i], b, sizeof(b));
        for (size_t len = 0; len < n; len++) {
            uint8_t *g = pn_test_guard(b, len);
            pni_icmp_repr r;
            int err = pni_wire_icmp_parse(g, len, &r);
#ifndef PN_FUZZ_NO_CSUM
            /* ICMP has no length of its own (IP's tot_len bounds it): a
             * cut that drops a suffix summing to zero, e.g. a whole quoted
             * datagram whose own checksums balance it, is undetectable
             * here. Every other cut must fail. */
            uint64_t rest = pni_csum_partial(b + len, n - len, 0);
            if (len & 1)
                rest = pni_csum_swap(rest);
            int undetectable = pni_csum_fold(rest) % 0xffff == 0;
            if (len < 8)
                EXPECT_INT(err, PNI_WE_TRUNC);
            else if (!undetectable)
                EXPECT_INT(err, PNI_WE_BADCSUM);
            else
                EXPECT_INT(err, 0);
#else
            EXPECT(len < 8 ? err == PNI_WE_TRUNC : err == 0);
#endif
            pn_test_guard_free(g, len);
        }
    }
}
END_TEST

/* The quote is parsed leniently, never beyond the message. */
START_TEST(test_icmp_lenient_quote)
{
    uint8_t b[1600];
    size_t n = load_icmp(port_unreach_frame, b, sizeof(b));
    for (size_t qlen = 0; qlen + 8 <= n; qlen++) {
        pni_icmp_repr r;
        r.type = PNI_ICMP_DEST_UNREACH;
        r.code = PNI_ICMP_PORT_UNREACH;
        r.data = b + 8;
        r.data_len = qlen;
        r.next_mtu = 0;
        uint8_t m[64];
        size_t k = pni_wire_icmp_emit(&r, m, sizeof(m));
        EXPECT_UINT(k, 8 + qlen);
        uint8_t *g = pn_test_guard(m, k);
        pni_icmp_repr q;
        EXPECT_INT(pni_wire_icmp_parse(g, k, &q), 0);
        EXPECT_UINT(q.has_quote, qlen >= 28);
        pn_test_guard_free(g, k);
    }
    /* A quote that is not IPv4, or whose IHL runs past the quote. */
    uint8_t t[1600];
    memcpy(t, b, n);
    t[8] = 0x65;
    pni_put_be16(t + 2, 0);
    pni_put_be16(t + 2, pni_csum(t, n));
    pni_icmp_repr r;
    EXPECT_INT(pni_wire_icmp_parse(t, n, &r), 0);
    EXPECT_UINT(r.has_quote, 0);
    memcpy(t, b, n);
    t[8] = 0x4f; /* IHL 60 > 39 quoted bytes */
    pni_put_be16(t + 2, 0);
    pni_put_be16(t + 2, pni_csum(t, n));
    EXPECT_INT(pni_wire_icmp_parse(t, n, &r), 0);
    EXPECT_UINT(r.has_quote, 0);
    memcpy(t, b, n);
    t[8] = 0x44; /* IHL 4 */
    pni_put_be16(t + 2, 0);
    pni_put_be16(t + 2, pni_csum(t, n));
    EXPECT_INT(pni_wire_icmp_parse(t, n, &r), 0);
    EXPECT_UINT(r.has_quote, 0);
}
END_TEST

START_TEST(test_icmp_bad_checksum)
{
    uint8_t b[1600];
    size_t n = load_icmp(echo_req_frame, b, sizeof(b));
    b[n - 1] ^= 1;
    pni_icmp_repr r;
#ifndef PN_FUZZ_NO_CSUM
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), PNI_WE_BADCSUM);
#else
    EXPECT_INT(pni_wire_icmp_parse(b, n, &r), 0);
#endif
}
END_TEST

START_TEST(test_icmp_round_trip_random)
{
    uint64_t st = 792;
    static const uint8_t types[] = {0, 3, 8, 11, 13};
    for (int i = 0; i < 2000; i++) {
        pni_icmp_repr r, q;
        uint8_t data[40], b[64];
        memset(&r, 0, sizeof(r));
        r.type = types[pn_test_rand(&st) % sizeof(types)];
        r.code = (uint8_t)(pn_test_rand(&st) % 6);
        if (r.type == 0 || r.type == 8) {
            r.id = (uint16_t)pn_test_rand(&st);
            r.seq = (uint16_t)pn_test_rand(&st);
        }
        if (r.type == 3 && r.code == PNI_ICMP_FRAG_NEEDED)
            r.next_mtu = (uint16_t)pn_test_rand(&st);
        r.data_len = (size_t)(pn_test_rand(&st) % sizeof(data));
        for (size_t j = 0; j < r.data_len; j++)
            data[j] = (uint8_t)pn_test_rand(&st);
        r.data = data;
        size_t n = pni_wire_icmp_emit(&r, b, sizeof(b));
        EXPECT_UINT(n, 8 + r.data_len);
        EXPECT_INT(pni_wire_icmp_parse(b, n, &q), 0);
        EXPECT_UINT(q.type, r.type);
        EXPECT_UINT(q.code, r.code);
        EXPECT_UINT(q.id, r.id);
        EXPECT_UINT(q.seq, r.seq);
        EXPECT_UINT(q.next_mtu, r.next_mtu);
        EXPECT_UINT(q.data_len, r.data_len);
        EXPECT_MEM(q.data, data, r.data_len);
    }
}
END_TEST

Suite *
wire_icmp4_suite(void)
{
    Suite *s = suite_create("wire_icmp4");
    TCase *tc = tcase_create("icmp4");
    tcase_add_test(tc, test_icmp_real_echo);
    tcase_add_test(tc, test_icmp_real_port_unreachable);
    tcase_add_test(tc, test_icmp_real_time_exceeded);
    tcase_add_test(tc, test_icmp_real_frag_needed);
    tcase_add_test(tc, test_icmp_real_in_vlan);
    tcase_add_test(tc, test_icmp_round_trip_real);
    tcase_add_test(tc, test_icmp_emit_echo_reply_from_request);
    tcase_add_test(tc, test_icmp_truncations);
    tcase_add_test(tc, test_icmp_lenient_quote);
    tcase_add_test(tc, test_icmp_bad_checksum);
    tcase_add_test(tc, test_icmp_round_trip_random);
    suite_add_tcase(s, tc);
    return s;
}
