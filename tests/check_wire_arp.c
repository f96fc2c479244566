/*
 * check_wire_arp.c -- ARP (RFC 826) for Ethernet/IPv4: Linux's request
 * and reply (tests/data/wire/ping.hex, tools/capture-wire.sh), wrong
 * types, bad opcodes, padding, truncation under a guard page.
 */
#include <string.h>

#include "pn_check.h"
#include "wire.h"

/* ping.hex frames 1 and 2: who-has 10.99.0.2 tell 10.99.0.1, and the reply. */
static const char req_frame[] =
        "ffffffffffff02000000000a0806000108000604000102000000000a0a6300010000000000000a630002";
static const char rep_frame[] =
        "02000000000a02000000000b0806000108000604000202000000000b0a63000202000000000a0a630001";

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 0x0b};
static const uint8_t zero6[6] = {0, 0, 0, 0, 0, 0};
static const uint8_t ip_a[4] = {10, 99, 0, 1};
static const uint8_t ip_b[4] = {10, 99, 0, 2};

/* The ARP body of a frame: 28 bytes after the 14-byte Ethernet header. */
static size_t
load_arp(const char *hex, uint8_t *b)
{
    uint8_t f[64];
    int n = pn_test_hex(hex, f, sizeof(f));
    ck_assert_int_eq(n, 42);
    memcpy(b, f + 14, 28);
    return 28;
}

START_TEST(test_arp_real_request)
{
    uint8_t b[28];
    size_t n = load_arp(req_frame, b);
    pni_arp_repr r;
    EXPECT_INT(pni_wire_arp_check(b, n), 0);
    EXPECT_INT(pni_wire_arp_parse(b, n, &r), 0);
    EXPECT_UINT(r.op, PNI_ARP_REQUEST);
    EXPECT_MEM(r.sha, mac_a, 6);
    EXPECT_MEM(r.spa, ip_a, 4);
    EXPECT_MEM(r.tha, zero6, 6);
    EXPECT_MEM(r.tpa, ip_b, 4);
}
END_TEST

START_TEST(test_arp_real_reply)
{
    uint8_t b[28];
    size_t n = load_arp(rep_frame, b);
    pni_arp_repr r;
    EXPECT_INT(pni_wire_arp_parse(b, n, &r), 0);
    EXPECT_UINT(r.op, PNI_ARP_REPLY);
    EXPECT_MEM(r.sha, mac_b, 6);
    EXPECT_MEM(r.spa, ip_b, 4);
    EXPECT_MEM(r.tha, mac_a, 6);
    EXPECT_MEM(r.tpa, ip_a, 4);
}
END_TEST

START_TEST(test_arp_round_trip)
{
    const char *frames[] = {req_frame, rep_frame};
    for (size_t i = 0; i < 2; i++) {
        uint8_t b[28], out[28];
        size_t n = load_arp(frames[i], b);
        pni_arp_repr r, q;
        EXPECT_INT(pni_wire_arp_parse(b, n, &r), 0);
        EXPECT_UINT(pni_wire_arp_emit(&r, out, sizeof(out)), 28);
        EXPECT_MEM(out, b, 28);
        EXPECT_UINT(pni_wire_arp_emit(&r, out, 27), 0);
        EXPECT_INT(pni_wire_arp_parse(out, 28, &q), 0);
        EXPECT(memcmp(&r, &q, sizeof(r)) == 0);
    }
}
END_TEST

START_TEST(test_arp_padding_allowed)
{
    uint8_t b[46];
    memset(b, 0, sizeof(b));
    load_arp(req_frame, b);
    pni_arp_repr r;
    EXPECT_INT(pni_wire_arp_parse(b, sizeof(b), &r), 0); /* 60-byte frame body */
    EXPECT_UINT(r.op, PNI_ARP_REQUEST);
}
END_TEST

START_TEST(test_arp_bad_types_and_ops)
{
    static const struct {
        size_t at;
        uint8_t val;
        int err;
    } cases[] = {
        {1, 6, PNI_WE_BADTYPE},    /* htype 6 (IEEE 802) */
        {2, 0x86, PNI_WE_BADTYPE}, /* ptype 0x86dd */
        {4, 8, PNI_WE_BADTYPE},    /* hlen 8 */
        {5, 16, PNI_WE_BADTYPE},   /* plen 16 */
        {7, 0, PNI_WE_BADFIELD},   /* op 0 */
        {7, 3, PNI_WE_BADFIELD},   /* op 3 (RARP request) */
        {6, 1, PNI_WE_BADFIELD},   /* op 0x0101 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[28];
        load_arp(req_frame, b);
        b[cases[i].at] = cases[i].val;
        pni_arp_repr r;
        EXPECT_INT(pni_wire_arp_check(b, 28), cases[i].err);
        EXPECT_INT(pni_wire_arp_parse(b, 28, &r), cases[i].err);
    }
}
END_TEST

START_TEST(test_arp_truncations)
{
    uint8_t b[28];
    load_arp(rep_frame, b);
    for (size_t len = 0; len < 28; len++) {
        uint8_t *g = pn_test_guard(b, len);
        pni_arp_repr r;
        EXPECT_INT(pni_wire_arp_parse(g, len, &r), PNI_WE_TRUNC);
        pn_test_guard_free(g, len);
    }
    uint8_t *g = pn_test_guard(b, 28);
    pni_arp_repr r;
    EXPECT_INT(pni_wire_arp_parse(g, 28, &r), 0);
    pn_test_guard_free(g, 28);
}
END_TEST

Suite *
wire_arp_suite(void)
{
    Suite *s = suite_create("wire_arp");
    TCase *tc = tcase_create("arp");
    tcase_add_test(tc, test_arp_real_request);
    tcase_add_test(tc, test_arp_real_reply);
    tcase_add_test(tc, test_arp_round_trip);
    tcase_add_test(tc, test_arp_padding_allowed);
    tcase_add_test(tc, test_arp_bad_types_and_ops);
    tcase_add_test(tc, test_arp_truncations);
    suite_add_tcase(s, tc);
    return s;
}
