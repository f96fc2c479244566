/*
 * check_wire_eth.c -- Ethernet II and 802.1Q: real frames (from
 * tests/data/wire/, see tools/capture-wire.sh), round trips, truncation
 * under a guard page.
 */
#include <string.h>

#include "pn_check.h"
#include "wire.h"

/* ping.hex frame 1: Linux's ARP request, broadcast. */
static const char arp_req_frame[] =
        "ffffffffffff02000000000a0806000108000604000102000000000a0a6300010000000000000a630002";
/* raw.hex frame 11: 802.1Q VID 10 PCP 5 around an ICMP echo request. */
static const char vlan_frame[] =
        "02000000000d02000000000c8100a00a080045000028424240004001e1c80a6301030a6301020800ea517071"
        "0001707572656e657420766c616e";
/* ping.hex frame 3: ICMP echo request, unicast. */
static const char echo_frame[] =
        "02000000000b02000000000a0800450000549ded4000400187f30a6300010a630002080031bc7cff00019d71"
        "046b00000000fdc908000000000072656e6574707572656e6574707572656e6574707572656e657470757265"
        "6e6574707572656e6574";

static size_t
load(const char *hex, uint8_t *b, size_t cap)
{
    int n = pn_test_hex(hex, b, cap);
    ck_assert_int_gt(n, 0);
    return (size_t)n;
}

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 0x0b};
static const uint8_t mac_c[6] = {2, 0, 0, 0, 0, 0x0c};
static const uint8_t mac_d[6] = {2, 0, 0, 0, 0, 0x0d};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

START_TEST(test_eth_real_untagged)
{
    uint8_t b[128];
    size_t n = load(arp_req_frame, b, sizeof(b));
    pni_eth_repr r;
    EXPECT_INT(pni_wire_eth_check(b, n), 0);
    EXPECT_INT(pni_wire_eth_parse(b, n, &r), 0);
    EXPECT_MEM(r.dst, bcast, 6);
    EXPECT_MEM(r.src, mac_a, 6);
    EXPECT_UINT(r.ethertype, PNI_ETHERTYPE_ARP);
    EXPECT_UINT(r.has_vlan, 0);
    EXPECT_UINT(r.hlen, 14);

    n = load(echo_frame, b, sizeof(b));
    EXPECT_INT(pni_wire_eth_parse(b, n, &r), 0);
    EXPECT_MEM(r.dst, mac_b, 6);
    EXPECT_MEM(r.src, mac_a, 6);
    EXPECT_UINT(r.ethertype, PNI_ETHERTYPE_IP4);
}
END_TEST

START_TEST(test_eth_real_vlan)
{
    uint8_t b[128];
    size_t n = load(vlan_frame, b, sizeof(b));
    pni_eth_repr r;
    EXPECT_INT(pni_wire_eth_parse(b, n, &r), 0);
    EXPECT_MEM(r.dst, mac_d, 6);
    EXPECT_MEM(r.src, mac_c, 6);
    EXPECT_UINT(r.has_vlan, 1);
    EXPECT_UINT(r.vlan_tci, (5u << 13) | 10u); /* PCP 5, DEI 0, VID 10 */
    EXPECT_UINT(r.ethertype, PNI_ETHERTYPE_IP4);
    EXPECT_UINT(r.hlen, 18);
    /* The inner packet starts at hlen: an IPv4 header. */
    EXPECT_UINT(b[r.hlen] >> 4, 4);
}
END_TEST

START_TEST(test_eth_round_trip_real)
{
    const char *frames[] = {arp_req_frame, vlan_frame, echo_frame};
    for (size_t i = 0; i < 3; i++) {
        uint8_t b[128], out[18];
        size_t n = load(frames[i], b, sizeof(b));
        pni_eth_repr r;
        EXPECT_INT(pni_wire_eth_parse(b, n, &r), 0);
        EXPECT_UINT(pni_wire_eth_emit(&r, out, sizeof(out)), r.hlen);
        EXPECT_MEM(out, b, r.hlen);
        EXPECT_UINT(pni_wire_eth_emit(&r, out, r.hlen - 1u), 0);
    }
}
END_TEST

START_TEST(test_eth_round_trip_random)
{
    uint64_t st = 0xe7;
    for (int i = 0; i < 2000; i++) {
        pni_eth_repr r, q;
        memset(&r, 0, sizeof(r));
        for (int j = 0; j < 6; j++) {
            r.dst[j] = (uint8_t)pn_test_rand(&st);
            r.src[j] = (uint8_t)pn_test_rand(&st);
        }
        r.has_vlan = (uint8_t)(pn_test_rand(&st) & 1);
        r.ethertype = (uint16_t)pn_test_rand(&st);
        if (!r.has_vlan && r.ethertype == PNI_ETHERTYPE_VLAN)
            r.ethertype = PNI_ETHERTYPE_IP4;
        r.vlan_tci = r.has_vlan ? (uint16_t)pn_test_rand(&st) : 0;
        r.hlen = r.has_vlan ? 18 : 14;
        uint8_t b[18];
        size_t n = pni_wire_eth_emit(&r, b, sizeof(b));
        EXPECT_UINT(n, r.hlen);
        EXPECT_INT(pni_wire_eth_parse(b, n, &q), 0);
        EXPECT(memcmp(&r, &q, sizeof(r)) == 0);
    }
}
END_TEST

/* Every truncation is rejected, and nothing past the span is read: the
 * byte after the buffer is an unmapped page. */
START_TEST(test_eth_truncations)
{
    const char *frames[] = {arp_req_frame, vlan_frame};
    for (size_t i = 0; i < 2; i++) {
        uint8_t b[128];
        size_t n = load(frames[i], b, sizeof(b));
        size_t need = i == 0 ? 14 : 18;
        for (size_t len = 0; len < n; len++) {
            uint8_t *g = pn_test_guard(b, len);
            pni_eth_repr r;
            int err = pni_wire_eth_parse(g, len, &r);
            if (len < need)
                EXPECT_INT(err, PNI_WE_TRUNC);
            else
                EXPECT_INT(err, 0);
            EXPECT_INT(pni_wire_eth_check(g, len), err);
            pn_test_guard_free(g, len);
        }
    }
}
END_TEST

START_TEST(test_eth_tag_needs_four_more_bytes)
{
    uint8_t b[18] = {0};
    pni_put_be16(b + 12, PNI_ETHERTYPE_VLAN);
    for (size_t len = 14; len < 18; len++) {
        uint8_t *g = pn_test_guard(b, len);
        EXPECT_INT(pni_wire_eth_check(g, len), PNI_WE_TRUNC);
        pn_test_guard_free(g, len);
    }
    EXPECT_INT(pni_wire_eth_check(b, 18), 0);
}
END_TEST

Suite *
wire_eth_suite(void)
{
    Suite *s = suite_create("wire_eth");
    TCase *tc = tcase_create("eth");
    tcase_add_test(tc, test_eth_real_untagged);
    tcase_add_test(tc, test_eth_real_vlan);
    tcase_add_test(tc, test_eth_round_trip_real);
    tcase_add_test(tc, test_eth_round_trip_random);
    tcase_add_test(tc, test_eth_truncations);
    tcase_add_test(tc, test_eth_tag_needs_four_more_bytes);
    suite_add_tcase(s, tc);
    return s;
}
