/*
 * check_iface.c -- link-layer filtering, 802.1Q, bare-IP medium, hooks at
 * all four points (accept and drop, counted), taps in and out.
 */
#include <string.h>

#include "helper_frames.h"
#include "helper_link.h"
#include "pn_check.h"

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_P[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t IP_A[4] = {10, 0, 0, 1};
static const uint8_t IP_P[4] = {10, 0, 0, 2};
static const uint8_t ZERO6[6] = {0};
static uint8_t fr[4096], out[4096];

static void
finish(pn_test_node *n)
{
    pn_test_drain_all(n->s);
    uint64_t d;
    while ((d = pn_next_deadline(n->s)) != PN_TIME_NEVER) {
        pn_poll(n->s, d);
        pn_test_drain_all(n->s);
    }
    pn_test_pools_empty(n->s);
    pn_test_node_free(n);
}

static size_t
ping(const uint8_t dmac[6], const uint8_t dst[4])
{
    pn_tf_ip h = {dmac, MAC_P, {10, 0, 0, 2}, {0}, 1, 64, 0, 3, 0, 0};
    memcpy(h.dst, dst, 4);
    return pn_tf_icmp(fr, &h, 8, 0, 0x00050001u, "ping", 4);
}

START_TEST(test_iface_eth_filtering_counted)
{
    pn_config c;
    pn_test_config(&c, 1);
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    const pn_stats *st = pn_stats_get(s);
    const uint8_t other[6] = {2, 0, 0, 0, 0, 9}, mc[6] = {0x01, 0, 0x5e, 0, 0, 1};
    pn_inject_raw(s, fr, ping(other, IP_A), 1);
    ck_assert_uint_eq(st->eth_not_for_us, 1);
    pn_inject_raw(s, fr, ping(mc, IP_A), 1);
    ck_assert_uint_eq(st->eth_multicast_drop, 1);
    pn_inject_raw(s, fr, 10, 1);
    ck_assert_uint_eq(st->eth_bad_len, 1);
    size_t n = ping(MAC_A, IP_A);
    fr[12] = 0x86;
    fr[13] = 0xdd;
    pn_inject_raw(s, fr, n, 1);
    ck_assert_uint_eq(st->eth_bad_type, 1);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);
    /* our MAC: answered */
    pn_inject_raw(s, fr, ping(MAC_A, IP_A), 1);
    ck_assert_int_gt(pn_drain_raw(s, out, sizeof out), 0);
    finish(&A);
}
END_TEST

START_TEST(test_iface_multicast_accepted_when_enabled)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.accept_multicast = 1;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    const uint8_t mc[6] = {0x01, 0, 0x5e, 0, 0, 1};
    pn_inject_raw(s, fr, ping(mc, IP_A), 1);
    ck_assert_uint_eq(pn_stats_get(s)->eth_multicast_drop, 0);
    ck_assert_uint_eq(pn_stats_get(s)->icmp_echo_rx, 1);
    /* echo arrived as a link multicast: ignored, no reply */
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);
    finish(&A);
}
END_TEST

START_TEST(test_iface_vlan_priority_tag_accepted_other_vid_dropped)
{
    pn_config c;
    pn_test_config(&c, 1);
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    pn_inject_raw(s, fr, pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A), 1);
    pn_test_drain_all(s);
    size_t n = ping(MAC_A, IP_A);
    uint8_t t[4096];
    memcpy(t, fr, 12);
    t[12] = 0x81;
    t[13] = 0x00;
    t[14] = 0xa0; /* PCP 5, VID 0 */
    t[15] = 0x00;
    memcpy(t + 16, fr + 12, n - 12);
    pn_inject_raw(s, t, n + 4, 1);
    ck_assert_uint_eq(pn_stats_get(s)->icmp_echo_tx, 1);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), (int)n); /* untagged reply */
    t[15] = 0x05; /* VID 5 */
    pn_inject_raw(s, t, n + 4, 1);
    ck_assert_uint_eq(pn_stats_get(s)->eth_vlan_drop, 1);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);
    finish(&A);
}
END_TEST

START_TEST(test_iface_bare_ip_medium_ping)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.medium = PN_MEDIUM_IP;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    pn_tf_ip h = {NULL, NULL, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 3, 0, 0};
    size_t n = pn_tf_icmp(fr, &h, 8, 0, 0x00050001u, "ping", 4);
    ck_assert_int_eq(pn_inject_raw(s, fr, n, 1), 0);
    int k = pn_drain_raw(s, out, sizeof out);
    ck_assert_int_eq(k, (int)n);
    ck_assert_uint_eq(out[0], 0x45);
    ck_assert_mem_eq(out + 16, IP_P, 4);
    ck_assert_uint_eq(out[20], 0);
    /* UDP needs no ARP on this medium */
    int u = pn_udp_open(s);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 7), 9};
    ck_assert_int_eq(pn_udp_sendto(s, u, "x", 1, &to, 2), 1);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 29);
    pn_udp_close(s, u);
    finish(&A);
}
END_TEST

/* ---- hooks ---- */

typedef struct hook_ctx {
    int calls[PN_HOOK_COUNT];
    int drop_point; /* -1: accept all */
} hook_ctx;

static int
hook(void *user, int point, const pn_pktview *ip)
{
    hook_ctx *h = user;
    ck_assert_uint_eq(ip->head[0] >> 4, 4);
    h->calls[point]++;
    return point == h->drop_point ? PN_DROP : PN_ACCEPT;
}

START_TEST(test_iface_hooks_all_points_accept_and_drop_counted)
{
    for (int drop = -1; drop < PN_HOOK_COUNT; drop++) {
        hook_ctx hc;
        memset(&hc, 0, sizeof hc);
        hc.drop_point = drop;
        pn_config c;
        pn_test_config(&c, 1);
        c.hook = hook;
        c.hook_user = &hc;
        c.hook_mask = 0xf;
        pn_test_node A;
        pn_stack *s = pn_test_node_new(&A, &c);
        pn_inject_raw(s, fr, ping(MAC_P, IP_A), 1); /* wrong MAC: never reaches IP */
        pn_inject_raw(s, fr, pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A), 1);
        pn_test_drain_all(s);
        pn_inject_raw(s, fr, ping(MAC_A, IP_A), 2);
        int k = pn_drain_raw(s, out, sizeof out);
        const pn_stats *st = pn_stats_get(s);
        ck_assert_int_eq(hc.calls[PN_HOOK_PRE_ROUTING], 1);
        ck_assert_int_eq(hc.calls[PN_HOOK_LOCAL_IN], drop >= 1 || drop == -1 ? 1 : 0);
        ck_assert_int_eq(hc.calls[PN_HOOK_LOCAL_OUT], drop >= 2 || drop == -1 ? 1 : 0);
        ck_assert_int_eq(hc.calls[PN_HOOK_POST_ROUTING], drop >= 3 || drop == -1 ? 1 : 0);
        ck_assert_int_eq(k > 0, drop == -1);
        ck_assert_uint_eq(st->hook_drop_pre_routing, drop == 0);
        ck_assert_uint_eq(st->hook_drop_local_in, drop == 1);
        ck_assert_uint_eq(st->hook_drop_local_out, drop == 2);
        ck_assert_uint_eq(st->hook_drop_post_routing, drop == 3);
        finish(&A);
    }
}
END_TEST

START_TEST(test_iface_hook_mask_limits_points)
{
    hook_ctx hc;
    memset(&hc, 0, sizeof hc);
    hc.drop_point = PN_HOOK_PRE_ROUTING;
    pn_config c;
    pn_test_config(&c, 1);
    c.hook = hook;
    c.hook_user = &hc;
    c.hook_mask = 1u << PN_HOOK_LOCAL_OUT;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    pn_inject_raw(s, fr, pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A), 1);
    pn_test_drain_all(s);
    pn_inject_raw(s, fr, ping(MAC_A, IP_A), 2);
    ck_assert_int_gt(pn_drain_raw(s, out, sizeof out), 0);
    ck_assert_int_eq(hc.calls[PN_HOOK_PRE_ROUTING], 0);
    ck_assert_int_eq(hc.calls[PN_HOOK_LOCAL_OUT], 1);
    finish(&A);
}
END_TEST

/* ---- taps ---- */

typedef struct tap_ctx {
    int in, out;
    size_t in_bytes, out_bytes;
    uint8_t last_out[256];
} tap_ctx;

static void
tap(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    (void)now;
    tap_ctx *t = user;
    if (dir == PN_TAP_IN) {
        t->in++;
        t->in_bytes += v->tot_len;
    } else {
        t->out++;
        t->out_bytes += v->tot_len;
        pn_pktview_copy(v, 0, t->last_out, v->tot_len < 256 ? v->tot_len : 256);
    }
}

START_TEST(test_iface_taps_see_every_frame_in_and_out)
{
    tap_ctx t;
    memset(&t, 0, sizeof t);
    pn_config c;
    pn_test_config(&c, 1);
    c.tap = tap;
    c.tap_user = &t;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    size_t n1 = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A);
    pn_inject_raw(s, fr, n1, 1);
    size_t n2 = ping(MAC_A, IP_A);
    pn_inject_raw(s, fr, n2, 2);
    size_t n3 = ping(MAC_P, IP_A); /* dropped, but tapped in */
    pn_inject_raw(s, fr, n3, 3);
    ck_assert_int_eq(t.in, 3);
    ck_assert_uint_eq(t.in_bytes, n1 + n2 + n3);
    ck_assert_int_eq(t.out, 2);
    int k1 = pn_drain_raw(s, out, sizeof out);
    int k2 = pn_drain_raw(s, out, sizeof out);
    ck_assert_uint_eq(t.out_bytes, (size_t)(k1 + k2));
    ck_assert_mem_eq(t.last_out, out, (size_t)k2);
    ck_assert_uint_eq(A.tap_out, 2);
    finish(&A);
}
END_TEST

Suite *
iface_suite(void)
{
    Suite *s = suite_create("iface");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_iface_eth_filtering_counted);
    tcase_add_test(tc, test_iface_multicast_accepted_when_enabled);
    tcase_add_test(tc, test_iface_vlan_priority_tag_accepted_other_vid_dropped);
    tcase_add_test(tc, test_iface_bare_ip_medium_ping);
    tcase_add_test(tc, test_iface_hooks_all_points_accept_and_drop_counted);
    tcase_add_test(tc, test_iface_hook_mask_limits_points);
    tcase_add_test(tc, test_iface_taps_see_every_frame_in_and_out);
    suite_add_tcase(s, tc);
    return s;
}
