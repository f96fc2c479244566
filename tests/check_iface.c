/*
 * check_iface.c -- link-layer filtering, 802.1Q, bare-IP medium, hooks at
 * all four points (accept and drop, counted), taps in and out, and the
 * zero-copy device calls (pn_drain_view/_release, pn_inject_buf/_commit/
 * _cancel) against their copying twins pn_drain_raw and pn_inject_raw.
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

/* ---- zero-copy device calls ---- */

/* Every counter and pool figure of a equals b's. */
static void
same_stats(const pn_stack *a, const pn_stack *b)
{
    const pn_stats *x = pn_stats_get(a), *y = pn_stats_get(b);
    const uint64_t *u = (const uint64_t *)x, *v = (const uint64_t *)y;
    for (size_t i = 0; i < pn_stats_count(); i++)
        ck_assert_msg(u[i] == v[i], "counter %s: %llu vs %llu", pn_stats_name(i),
                      (unsigned long long)u[i], (unsigned long long)v[i]);
    ck_assert_mem_eq(x->pool, y->pool, sizeof x->pool);
    ck_assert_uint_eq(x->egress_pkts, y->egress_pkts);
    ck_assert_uint_eq(x->egress_bytes, y->egress_bytes);
}

/* Drain s1 with pn_drain_raw and s2 with pn_drain_view + pn_drain_release
 * until both are empty, asserting the same frames in the same order and
 * the same counters after each. Returns the frames drained. */
static int
drain_both(pn_stack *s1, pn_stack *s2)
{
    int frames = 0;
    for (;;) {
        size_t peek = pn_drain_peek(s2);
        int k1 = pn_drain_raw(s1, out, sizeof out);
        const uint8_t *f = (const uint8_t *)"x", *f2 = NULL;
        int k2 = pn_drain_view(s2, &f);
        ck_assert_int_eq(k2, k1);
        ck_assert_uint_eq((size_t)k2, peek);
        if (k1 == 0) {
            ck_assert_ptr_null(f);
            ck_assert_int_eq(pn_drain_release(s2), PN_ENOENT);
            break;
        }
        ck_assert_mem_eq(f, out, (size_t)k1);
        /* a second view: the same frame, in place, nothing counted */
        ck_assert_int_eq(pn_drain_view(s2, &f2), k2);
        ck_assert_ptr_eq(f2, f);
        ck_assert_uint_eq(pn_stats_get(s2)->frames_out + 1, pn_stats_get(s1)->frames_out);
        ck_assert_int_eq(pn_drain_release(s2), 0);
        ck_assert_int_eq(pn_drain_release(s2), PN_ENOENT); /* no double pop */
        same_stats(s1, s2);
        frames++;
    }
    return frames;
}

/* An echo request of 200 ICMP bytes in two IP fragments from P. Writes
 * the fragments to f1 and f2, their lengths to n1 and n2. */
static void
frag_ping(uint8_t *f1, size_t *n1, uint8_t *f2, size_t *n2)
{
    uint8_t data[192], icmp[256];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 3 + 1);
    pn_tf_ip h = {NULL, NULL, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 9, 0, 0};
    size_t n = pn_tf_icmp(icmp, &h, 8, 0, 0x00070001u, data, sizeof data);
    ck_assert_uint_eq(n, 20 + 200);
    pn_tf_ip e = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 9, 0x2000, 0};
    *n1 = pn_tf_ip4(f1, &e, icmp + 20, 96); /* MF, offset 0 */
    e.frag = 96 / 8;
    *n2 = pn_tf_ip4(f2, &e, icmp + 20 + 96, 104);
}

typedef struct zc_tap {
    int in, out;
    size_t in_bytes, out_bytes;
} zc_tap;

static void
zc_tap_fn(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    (void)now;
    zc_tap *t = user;
    if (dir == PN_TAP_IN) {
        t->in++;
        t->in_bytes += v->tot_len;
    } else {
        t->out++;
        t->out_bytes += v->tot_len;
    }
}

START_TEST(test_iface_drain_view_release_equals_drain_raw)
{
    zc_tap t1, t2;
    memset(&t1, 0, sizeof t1);
    memset(&t2, 0, sizeof t2);
    pn_config c;
    pn_test_config(&c, 1);
    c.tap = zc_tap_fn;
    c.tap_user = &t1;
    pn_test_node A1, A2;
    pn_stack *s1 = pn_test_node_new(&A1, &c);
    c.tap_user = &t2;
    pn_stack *s2 = pn_test_node_new(&A2, &c);
    int frames = 0;

    /* ARP request, echo request: one reply each */
    size_t n = pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A);
    pn_inject_raw(s1, fr, n, 1);
    pn_inject_raw(s2, fr, n, 1);
    frames += drain_both(s1, s2);
    n = ping(MAC_A, IP_A);
    pn_inject_raw(s1, fr, n, 2);
    pn_inject_raw(s2, fr, n, 2);
    frames += drain_both(s1, s2);

    /* UDP datagrams: several frames queued, drained in order */
    int u1 = pn_udp_open(s1), u2 = pn_udp_open(s2);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 9};
    for (int i = 1; i <= 5; i++) {
        ck_assert_int_eq(pn_udp_sendto(s1, u1, fr, (size_t)i * 100, &to, 3), i * 100);
        ck_assert_int_eq(pn_udp_sendto(s2, u2, fr, (size_t)i * 100, &to, 3), i * 100);
    }
    frames += drain_both(s1, s2);

    ck_assert_int_eq(frames, 1 + 1 + 5);
    /* taps: each frame once per direction, the same on both */
    ck_assert_int_eq(t2.out, frames);
    ck_assert_int_eq(t1.out, t2.out);
    ck_assert_uint_eq(t1.out_bytes, t2.out_bytes);
    ck_assert_uint_eq(t1.in, t2.in);
    ck_assert_uint_eq(A1.tap_out, A2.tap_out);
    ck_assert_uint_eq(pn_stats_get(s2)->bytes_out, t2.out_bytes);
    pn_udp_close(s1, u1);
    pn_udp_close(s2, u2);
    same_stats(s1, s2);
    finish(&A1);
    finish(&A2);
}
END_TEST

START_TEST(test_iface_drain_view_chained_frame_made_contiguous)
{
    /* cfg.buf_size 256: a 200-byte datagram (94 bytes of headroom) is
     * allocated as a chain of two buffers, and leaves as a 228-byte frame
     * that fits one buffer: the view makes it contiguous in place. */
    pn_config c;
    pn_test_config(&c, 1);
    c.medium = PN_MEDIUM_IP;
    c.buf_size = 256;
    pn_test_node A1, A2;
    pn_stack *s1 = pn_test_node_new(&A1, &c);
    pn_stack *s2 = pn_test_node_new(&A2, &c);
    int u1 = pn_udp_open(s1), u2 = pn_udp_open(s2);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 9};
    for (size_t i = 0; i < 200; i++)
        fr[i] = (uint8_t)(i * 5 + 3);
    ck_assert_int_eq(pn_udp_sendto(s1, u1, fr, 200, &to, 1), 200);
    ck_assert_int_eq(pn_udp_sendto(s2, u2, fr, 200, &to, 1), 200);
    ck_assert_int_eq(pn_udp_sendto(s1, u1, fr, 100, &to, 1), 100);
    ck_assert_int_eq(pn_udp_sendto(s2, u2, fr, 100, &to, 1), 100);
    ck_assert_uint_eq(pn_stats_get(s2)->pool[PN_POOL_TXBUF].used, 3);
    const uint8_t *f;
    ck_assert_int_eq(pn_drain_view(s2, &f), 228);
    ck_assert_uint_eq(pn_stats_get(s2)->pool[PN_POOL_TXBUF].used, 2);
    ck_assert_uint_eq(pn_stats_get(s2)->egress_pkts, 2); /* still queued */
    ck_assert_uint_eq(pn_stats_get(s2)->egress_bytes, 228 + 128);
    ck_assert_mem_eq(f + 28, fr, 200);
    ck_assert_int_eq(drain_both(s1, s2), 2);
    pn_udp_close(s1, u1);
    pn_udp_close(s2, u2);
    same_stats(s1, s2);
    finish(&A1);
    finish(&A2);
}
END_TEST

START_TEST(test_iface_drain_view_misuse_harmless)
{
    pn_config c;
    pn_test_config(&c, 1);
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    const uint8_t *f = (const uint8_t *)"x";
    ck_assert_int_eq(pn_drain_view(NULL, &f), PN_EINVAL);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(pn_drain_view(s, NULL), PN_EINVAL);
    ck_assert_int_eq(pn_drain_release(NULL), PN_EINVAL);
    ck_assert_int_eq(pn_drain_release(s), PN_ENOENT); /* nothing viewed */
    ck_assert_int_eq(pn_drain_view(s, &f), 0);       /* nothing queued */
    ck_assert_ptr_null(f);
    ck_assert_int_eq(pn_drain_release(s), PN_ENOENT);

    /* two frames queued; release before any view drops nothing */
    pn_inject_raw(s, fr, pn_tf_arp(fr, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A), 1);
    size_t n = ping(MAC_A, IP_A);
    pn_inject_raw(s, fr, n, 2);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 2);
    ck_assert_int_eq(pn_drain_release(s), PN_ENOENT);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 2);
    ck_assert_uint_eq(pn_stats_get(s)->frames_out, 0);

    /* view, then pn_drain_raw pops the viewed frame: release is refused
     * and the second frame stays queued */
    int k = pn_drain_view(s, &f);
    ck_assert_int_eq(k, 42);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 42);
    ck_assert_int_eq(pn_drain_release(s), PN_ENOENT);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 1);

    /* a viewed frame stays in place across other calls that queue more */
    k = pn_drain_view(s, &f);
    ck_assert_int_eq(k, (int)n);
    uint8_t copy[256];
    memcpy(copy, f, (size_t)k);
    pn_inject_raw(s, fr, n, 3); /* another echo reply queued behind */
    pn_poll(s, 4);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 2);
    ck_assert_mem_eq(f, copy, (size_t)k);
    const uint8_t *f2;
    ck_assert_int_eq(pn_drain_view(s, &f2), k);
    ck_assert_ptr_eq(f2, f);
    ck_assert_int_eq(pn_drain_release(s), 0);
    ck_assert_uint_eq(pn_stats_get(s)->frames_out, 2);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 1);
    /* pn_drain_raw with a cap too small keeps the frame, view still works */
    ck_assert_int_eq(pn_drain_raw(s, out, 10), PN_ENOSPC);
    ck_assert_uint_eq(pn_stats_get(s)->drain_nospc, 1);
    ck_assert_int_eq(pn_drain_view(s, &f), (int)n);
    ck_assert_int_eq(pn_drain_release(s), 0);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 0);
    finish(&A);
}
END_TEST

START_TEST(test_iface_drain_view_frame_longer_than_a_buffer)
{
    /* cfg.buf_size below the MTU: a 1000-byte datagram leaves as a chain
     * longer than one buffer, which cannot be viewed in place */
    pn_config c;
    pn_test_config(&c, 1);
    c.medium = PN_MEDIUM_IP;
    c.buf_size = 256;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    int u = pn_udp_open(s);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 9};
    ck_assert_int_eq(pn_udp_sendto(s, u, fr, 1000, &to, 1), 1000);
    ck_assert_int_eq(pn_udp_sendto(s, u, fr, 100, &to, 1), 100);
    const uint8_t *f = (const uint8_t *)"x";
    ck_assert_int_eq(pn_drain_view(s, &f), PN_EMSGSIZE);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(pn_drain_release(s), PN_ENOENT);
    ck_assert_uint_eq(pn_stats_get(s)->egress_pkts, 2);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 1028);
    ck_assert_int_eq(pn_drain_view(s, &f), 128);
    ck_assert_int_eq(pn_drain_release(s), 0);
    ck_assert_uint_eq(pn_stats_get(s)->frames_out, 2);
    pn_udp_close(s, u);
    finish(&A);
}
END_TEST

/* Inject frame[0..len) into s2 through pn_inject_buf + pn_inject_commit. */
static int
inject_zc(pn_stack *s, const uint8_t *frame, size_t len, uint64_t now)
{
    uint8_t *b = NULL;
    int cap = pn_inject_buf(s, &b);
    ck_assert_int_gt(cap, 0);
    ck_assert_ptr_nonnull(b);
    memcpy(b, frame, len < (size_t)cap ? len : (size_t)cap);
    return pn_inject_commit(s, len, now);
}

START_TEST(test_iface_inject_buf_commit_equals_inject_raw)
{
    zc_tap t1, t2;
    memset(&t1, 0, sizeof t1);
    memset(&t2, 0, sizeof t2);
    pn_config c;
    pn_test_config(&c, 1);
    c.tap = zc_tap_fn;
    c.tap_user = &t1;
    pn_test_node A1, A2;
    pn_stack *s1 = pn_test_node_new(&A1, &c);
    c.tap_user = &t2;
    pn_stack *s2 = pn_test_node_new(&A2, &c);

    uint8_t *b = NULL, *b2 = NULL;
    ck_assert_int_eq(pn_inject_buf(s2, &b), 1500 + 18);
    ck_assert_int_eq(pn_inject_buf(s2, &b2), 1500 + 18); /* the same one */
    ck_assert_ptr_eq(b, b2);
    ck_assert_uint_eq(pn_stats_get(s2)->pool[PN_POOL_RXBUF].used, 1);
    ck_assert_int_eq(pn_inject_cancel(s2), 0);

    const uint8_t other[6] = {2, 0, 0, 0, 0, 9};
    uint8_t g1[256], g2[256];
    size_t m1, m2;
    frag_ping(g1, &m1, g2, &m2);
    struct {
        const uint8_t *p;
        size_t n;
    } in[8];
    size_t nin = 0;
    static uint8_t f[8][2048];
    size_t k = pn_tf_arp(f[nin], 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A);
    in[nin].p = f[nin], in[nin].n = k, nin++;
    k = ping(MAC_A, IP_A);
    memcpy(f[nin], fr, k);
    in[nin].p = f[nin], in[nin].n = k, nin++;
    k = ping(other, IP_A); /* not for us: counted */
    memcpy(f[nin], fr, k);
    in[nin].p = f[nin], in[nin].n = k, nin++;
    in[nin].p = fr, in[nin].n = 10, nin++; /* runt: counted eth_bad_len */
    in[nin].p = g1, in[nin].n = m1, nin++;
    in[nin].p = g2, in[nin].n = m2, nin++;
    memset(f[nin], 0, 1519);
    in[nin].p = f[nin], in[nin].n = 1519, nin++; /* too big: PN_EMSGSIZE */
    for (size_t i = 0; i < nin; i++) {
        int r1 = pn_inject_raw(s1, in[i].p, in[i].n, 10 + i);
        int r2 = inject_zc(s2, in[i].p, in[i].n, 10 + i);
        ck_assert_int_eq(r2, r1);
        ck_assert_int_eq(r1, in[i].n > 1518 ? PN_EMSGSIZE : 0);
        ck_assert_int_eq(pn_inject_cancel(s2), PN_ENOENT); /* given back */
        same_stats(s1, s2);
        while ((r1 = pn_drain_raw(s1, out, sizeof out)) > 0) {
            ck_assert_int_eq(pn_drain_raw(s2, fr + 2048, 2048), r1);
            ck_assert_mem_eq(fr + 2048, out, (size_t)r1);
        }
        ck_assert_int_eq(pn_drain_peek(s2), 0);
        same_stats(s1, s2);
    }
    const pn_stats *st = pn_stats_get(s2);
    ck_assert_uint_eq(st->frames_in, nin - 1);
    ck_assert_uint_eq(st->inject_too_big, 1);
    ck_assert_uint_eq(st->eth_not_for_us, 1);
    ck_assert_uint_eq(st->eth_bad_len, 1);
    ck_assert_uint_eq(st->icmp_echo_tx, 2);
    ck_assert_int_eq(t2.in, (int)nin - 1); /* the IN tap: each frame once */
    ck_assert_int_eq(t1.in, t2.in);
    ck_assert_uint_eq(t1.in_bytes, t2.in_bytes);
    ck_assert_uint_eq(t2.in_bytes, st->bytes_in);
    ck_assert_uint_eq(A2.tap_in, A1.tap_in);
    finish(&A1);
    finish(&A2);
}
END_TEST

START_TEST(test_iface_inject_buf_misuse_and_no_leak)
{
    pn_config c;
    pn_test_config(&c, 1);
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    const pn_stats *st = pn_stats_get(s);
    uint8_t *b = (uint8_t *)fr;
    ck_assert_int_eq(pn_inject_buf(NULL, &b), PN_EINVAL);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(pn_inject_buf(s, NULL), PN_EINVAL);
    ck_assert_int_eq(pn_inject_commit(NULL, 10, 1), PN_EINVAL);
    ck_assert_int_eq(pn_inject_cancel(NULL), PN_EINVAL);
    ck_assert_int_eq(pn_inject_commit(s, 42, 1), PN_ENOENT); /* nothing held */
    ck_assert_int_eq(pn_inject_cancel(s), PN_ENOENT);
    ck_assert_uint_eq(st->frames_in, 0);

    /* a held buffer is one RX buffer, whatever the caller does */
    int cap = pn_inject_buf(s, &b);
    ck_assert_int_eq(cap, 1518);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 1);
    size_t n = pn_tf_arp(b, 1, pn_tf_bcast, MAC_P, IP_P, ZERO6, IP_A);
    ck_assert_int_eq(pn_inject_commit(s, 0, 1), PN_EINVAL); /* kept */
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 1);
    /* pn_inject_raw meanwhile uses another buffer; the held one is intact */
    pn_inject_raw(s, fr, ping(MAC_P, IP_A), 1);
    ck_assert_uint_eq(st->eth_not_for_us, 1);
    uint8_t *b2;
    ck_assert_int_eq(pn_inject_buf(s, &b2), cap);
    ck_assert_ptr_eq(b2, b);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 1);
    ck_assert_int_eq(pn_inject_commit(s, n, 2), 0);
    ck_assert_uint_eq(st->arp_req_rx, 1);
    ck_assert_uint_eq(st->frames_in, 2);
    ck_assert_int_eq(pn_inject_commit(s, n, 2), PN_ENOENT); /* no double commit */
    ck_assert_uint_eq(st->frames_in, 2);
    pn_test_drain_all(s);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 0);

    /* a buffer obtained and never committed: held in the one slot, not
     * lost; repeated pn_inject_buf calls take no more; cancel returns it */
    uint32_t failed = st->pool[PN_POOL_RXBUF].failed;
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(pn_inject_buf(s, &b), cap);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 1);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].failed, failed);
    pn_poll(s, 5000000);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 1);
    ck_assert_int_eq(pn_inject_cancel(s), 0);
    ck_assert_int_eq(pn_inject_cancel(s), PN_ENOENT);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 0);

    /* a commit above the capacity: counted as pn_inject_raw counts a frame
     * above the MTU, and the buffer goes back */
    ck_assert_int_eq(pn_inject_buf(s, &b), cap);
    ck_assert_int_eq(pn_inject_commit(s, (size_t)cap + 1, 3), PN_EMSGSIZE);
    ck_assert_uint_eq(st->inject_too_big, 1);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 0);
    ck_assert_int_eq(pn_inject_cancel(s), PN_ENOENT);
    finish(&A);
}
END_TEST

START_TEST(test_iface_inject_buf_small_buffers_cap_is_one_buffer)
{
    /* cfg.buf_size below the MTU: the buffer takes one block; a longer
     * frame is refused there (pn_inject_raw still takes it, chained) */
    pn_config c;
    pn_test_config(&c, 1);
    c.medium = PN_MEDIUM_IP;
    c.buf_size = 256;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    uint8_t *b;
    ck_assert_int_eq(pn_inject_buf(s, &b), 256);
    pn_tf_ip h = {NULL, NULL, {10, 0, 0, 2}, {10, 0, 0, 1}, 1, 64, 0, 3, 0, 0};
    uint8_t data[400] = {0};
    size_t n = pn_tf_icmp(fr, &h, 8, 0, 0x00050001u, data, sizeof data);
    ck_assert_int_eq(pn_inject_commit(s, n, 1), PN_EMSGSIZE);
    ck_assert_uint_eq(pn_stats_get(s)->inject_too_big, 1);
    ck_assert_int_eq(pn_inject_raw(s, fr, n, 1), 0);
    ck_assert_uint_eq(pn_stats_get(s)->icmp_echo_tx, 1);
    n = pn_tf_icmp(fr, &h, 8, 0, 0x00050002u, data, 100);
    ck_assert_int_eq(pn_inject_buf(s, &b), 256);
    memcpy(b, fr, n);
    ck_assert_int_eq(pn_inject_commit(s, n, 2), 0);
    ck_assert_uint_eq(pn_stats_get(s)->icmp_echo_tx, 2);
    finish(&A);
}
END_TEST

START_TEST(test_iface_inject_buf_no_buffer_counted)
{
    /* two receive buffers, both held by a UDP receive queue */
    pn_config c;
    pn_test_config(&c, 1);
    c.medium = PN_MEDIUM_IP;
    c.rx_bufs = 2;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    const pn_stats *st = pn_stats_get(s);
    int u = pn_udp_open(s);
    pn_sockaddr me = {PN_IP4(10, 0, 0, 1), 7000};
    ck_assert_int_eq(pn_udp_bind(s, u, &me), 0);
    pn_tf_ip h = {NULL, NULL, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 3, 0, 0};
    size_t n = pn_tf_udp(fr, &h, 5000, 7000, "hi", 2, 0);
    ck_assert_int_eq(inject_zc(s, fr, n, 1), 0);
    ck_assert_int_eq(inject_zc(s, fr, n, 1), 0);
    ck_assert_uint_eq(st->udp_rx, 2);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 2);
    uint8_t *b = (uint8_t *)fr;
    ck_assert_int_eq(pn_inject_buf(s, &b), PN_ENOBUFS);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(st->inject_nobufs, 1);
    ck_assert_uint_eq(st->rx_nobufs, 1);
    ck_assert_int_eq(pn_inject_commit(s, n, 2), PN_ENOENT);
    ck_assert_int_eq(pn_inject_raw(s, fr, n, 2), PN_ENOBUFS); /* counted alike */
    ck_assert_uint_eq(st->inject_nobufs, 2);
    ck_assert_uint_eq(st->rx_nobufs, 2);
    uint8_t got[16];
    ck_assert_int_eq(pn_udp_recvfrom(s, u, got, sizeof got, NULL), 2);
    ck_assert_int_gt(pn_inject_buf(s, &b), 0);
    ck_assert_int_eq(pn_inject_cancel(s), 0);
    ck_assert_int_eq(pn_udp_recvfrom(s, u, got, sizeof got, NULL), 2);
    pn_udp_close(s, u);
    finish(&A);
}
END_TEST

/* ---- pn_inject_raw processing a TCP segment where it lies ---- */

/* The IN tap of a receiver: every view must copy out whole and agree with
 * its head; a TCP frame (untagged IPv4, protocol 6) is counted, and counted
 * again when the RX pool had no buffer in use as the tap saw it, i.e. the
 * frame was not copied into one (pn_inject_buf + commit always holds one). */
typedef struct inplace_tap {
    const pn_stack *s;
    int tcp_in, tcp_no_buf;
} inplace_tap;

static void
inplace_tap_fn(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    static uint8_t cp[2048];
    inplace_tap *t = user;
    (void)now;
    if (dir != PN_TAP_IN || t->s == NULL)
        return;
    ck_assert_uint_le(v->tot_len, sizeof cp);
    ck_assert_uint_eq(pn_pktview_copy(v, 0, cp, v->tot_len), v->tot_len);
    ck_assert_mem_eq(cp, v->head, v->head_len);
    ck_assert_uint_eq(pn_pktview_copy(v, v->tot_len, cp, 4), 0);
    ck_assert_uint_eq(pn_pktview_copy(v, v->tot_len - 3, cp, 8), 3); /* clipped */
    if (v->tot_len >= 34 && v->head[12] == 0x08 && v->head[13] == 0 && v->head[23] == 6) {
        t->tcp_in++;
        if (pn_stats_get(t->s)->pool[PN_POOL_RXBUF].used == 0)
            t->tcp_no_buf++;
    }
}

/* Give frame f[0..n) to b1 by pn_inject_raw and to b2 by pn_inject_buf +
 * commit, then assert the same counters and the same replies, which go on
 * to a (may be NULL). */
static void
inject_twins(pn_stack *b1, pn_stack *b2, pn_stack *a, const uint8_t *f, size_t n, uint64_t now)
{
    static uint8_t r1[2048], r2[2048];
    ck_assert_int_eq(pn_inject_raw(b1, f, n, now), 0);
    ck_assert_int_eq(inject_zc(b2, f, n, now), 0);
    same_stats(b1, b2);
    int k;
    while ((k = pn_drain_raw(b1, r1, sizeof r1)) > 0) {
        ck_assert_int_eq(pn_drain_raw(b2, r2, sizeof r2), k);
        ck_assert_mem_eq(r1, r2, (size_t)k);
        if (a != NULL)
            ck_assert_int_eq(pn_inject_raw(a, r1, (size_t)k, now), 0);
    }
    ck_assert_uint_eq(pn_drain_peek(b2), 0);
}

/* Move frames until quiet: a's to both receivers, b1's (equal to b2's)
 * back to a. Keeps a copy of the last data segment a sent in seg. */
static void
pump_twins(pn_stack *a, pn_stack *b1, pn_stack *b2, uint64_t now, uint8_t *seg, size_t *seg_len)
{
    static uint8_t f[2048];
    pn_poll(a, now);
    pn_poll(b1, now);
    pn_poll(b2, now);
    int k;
    do {
        while ((k = pn_drain_raw(a, f, sizeof f)) > 0) {
            if (k > 14 + 20 + 32 && f[23] == 6) { /* carries data (32: header + TS) */
                memcpy(seg, f, (size_t)k);
                *seg_len = (size_t)k;
            }
            inject_twins(b1, b2, a, f, (size_t)k, now);
        }
    } while (pn_drain_peek(a) > 0);
}

/* Write the TCP checksum of the Ethernet + 20-byte IPv4 frame f[0..n). */
static void
tcp_fix_csum(uint8_t *f, size_t n)
{
    uint8_t *ip = f + 14, *tcp = ip + 20;
    size_t tlen = (size_t)(ip[2] << 8 | ip[3]) - 20;
    ck_assert_uint_le(14 + 20 + tlen, n);
    uint32_t ps = (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]) +
                  (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]) + 6 +
                  (uint32_t)tlen;
    tcp[16] = tcp[17] = 0;
    uint16_t c = pn_tf_csum(tcp, tlen, ps);
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
}

START_TEST(test_iface_inject_raw_tcp_in_place_equals_inject_buf)
{
    pn_config ca, cb;
    pn_test_config(&ca, 1);
    pn_test_config(&cb, 2);
    inplace_tap t1, t2;
    memset(&t1, 0, sizeof t1);
    memset(&t2, 0, sizeof t2);
    cb.tap = inplace_tap_fn;
    cb.tap_user = &t1;
    pn_test_node A, B1, B2;
    pn_stack *a = pn_test_node_new(&A, &ca);
    pn_stack *b1 = pn_test_node_new(&B1, &cb);
    cb.tap_user = &t2;
    pn_stack *b2 = pn_test_node_new(&B2, &cb);
    t1.s = b1;
    t2.s = b2;
    pn_sockaddr at = {PN_IP4(0, 0, 0, 0), 5001}, to = {PN_IP4(10, 0, 0, 2), 5001};
    int l1 = pn_tcp_open(b1), l2 = pn_tcp_open(b2), c = pn_tcp_open(a);
    ck_assert_int_eq(l1, l2);
    ck_assert_int_eq(pn_tcp_bind(b1, l1, &at), 0);
    ck_assert_int_eq(pn_tcp_bind(b2, l2, &at), 0);
    ck_assert_int_eq(pn_tcp_listen(b1, l1, 4), 0);
    ck_assert_int_eq(pn_tcp_listen(b2, l2, 4), 0);
    uint64_t now = 1000;
    static uint8_t seg[2048], bad[2048], msg[200000], got1[200000], got2[200000];
    size_t seg_len = 0, sent = 0, n1 = 0, n2 = 0;
    ck_assert_int_eq(pn_tcp_connect(a, c, &to, now), PN_EINPROGRESS);
    pump_twins(a, b1, b2, now, seg, &seg_len);
    int s1 = pn_tcp_accept(b1, l1, NULL), s2 = pn_tcp_accept(b2, l2, NULL);
    ck_assert_int_ge(s1, 0);
    ck_assert_int_eq(s2, s1);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + (i >> 11));
    const pn_stats *st = pn_stats_get(b1);
    for (int step = 0; n1 < sizeof msg; step++) {
        ck_assert_int_lt(step, 10000);
        now += 200;
        if (sent < sizeof msg) {
            int k = pn_tcp_send(a, c, msg + sent, sizeof msg - sent, now);
            if (k > 0)
                sent += (size_t)k;
        }
        pump_twins(a, b1, b2, now, seg, &seg_len);
        if (step == 3) {
            /* Malformed and odd copies of a data segment: each judged and
             * counted by the in-place path exactly as by the buffered one. */
            ck_assert_uint_gt(seg_len, 14 + 20 + 32);
            uint64_t csum0 = st->tcp_bad_csum, len0 = st->tcp_bad_len, fl0 = st->tcp_bad_flags,
                     ip0 = st->ip4_bad_len, ipc0 = st->ip4_bad_csum, in0 = st->frames_in;
            int nb0 = t1.tcp_no_buf;
            memcpy(bad, seg, seg_len);
            bad[seg_len - 1] ^= 0x5a; /* payload: TCP checksum wrong */
            inject_twins(b1, b2, a, bad, seg_len, now);
            ck_assert_uint_eq(st->tcp_bad_csum, csum0 + 1);
            ck_assert_int_eq(t1.tcp_no_buf, nb0 + 1); /* judged in place */
            memcpy(bad, seg, seg_len);
            bad[14 + 20 + 12] = 0x40; /* data offset 4 words: below 20 bytes */
            tcp_fix_csum(bad, seg_len);
            inject_twins(b1, b2, a, bad, seg_len, now);
            ck_assert_uint_eq(st->tcp_bad_len, len0 + 1);
            memcpy(bad, seg, seg_len);
            bad[14 + 20 + 13] |= 0x03; /* SYN and FIN */
            tcp_fix_csum(bad, seg_len);
            inject_twins(b1, b2, a, bad, seg_len, now);
            ck_assert_uint_eq(st->tcp_bad_flags, fl0 + 1);
            ck_assert_int_eq(t1.tcp_no_buf, nb0 + 3);
            /* IPv4 length beyond the frame: not for the in-place path,
             * the buffered one counts it */
            inject_twins(b1, b2, a, seg, seg_len - 9, now);
            ck_assert_uint_eq(st->ip4_bad_len, ip0 + 1);
            memcpy(bad, seg, seg_len);
            bad[14 + 10] ^= 0x11; /* IPv4 header checksum */
            inject_twins(b1, b2, a, bad, seg_len, now);
            ck_assert_uint_eq(st->ip4_bad_csum, ipc0 + 1);
            ck_assert_int_eq(t1.tcp_no_buf, nb0 + 3); /* those two took a buffer */
            /* Link padding after the datagram: trimmed; an old segment now,
             * answered with a duplicate ACK (same as b2's) */
            memcpy(bad, seg, seg_len);
            memset(bad + seg_len, 0xee, 4); /* 1518 at most */
            inject_twins(b1, b2, a, bad, seg_len + 4, now);
            ck_assert_int_eq(t1.tcp_no_buf, nb0 + 4);
            ck_assert_uint_eq(st->frames_in, in0 + 6);
        }
        int k;
        while ((k = pn_tcp_recv(b1, s1, got1 + n1, sizeof got1 - n1, now)) > 0)
            n1 += (size_t)k;
        while ((k = pn_tcp_recv(b2, s2, got2 + n2, sizeof got2 - n2, now)) > 0)
            n2 += (size_t)k;
        ck_assert_uint_eq(n1, n2);
        same_stats(b1, b2);
    }
    ck_assert_mem_eq(got1, msg, sizeof msg);
    ck_assert_mem_eq(got2, msg, sizeof msg);
    /* Every TCP frame b1 took in place but the two the buffered path had
     * to judge; b2 always had its commit buffer. */
    ck_assert_int_gt(t1.tcp_in, 100);
    ck_assert_int_eq(t1.tcp_in, t2.tcp_in);
    ck_assert_int_eq(t1.tcp_no_buf, t1.tcp_in - 2);
    ck_assert_int_eq(t2.tcp_no_buf, 0);
    ck_assert_uint_eq(B1.tap_in, st->frames_in);
    pn_tcp_close(a, c, now);
    pn_tcp_close(b1, s1, now);
    pn_tcp_close(b2, s2, now);
    pn_tcp_close(b1, l1, now);
    pn_tcp_close(b2, l2, now);
    for (int i = 0; i < 20; i++) { /* the FIN exchanges */
        now += 10000;
        pump_twins(a, b1, b2, now, seg, &seg_len);
    }
    same_stats(b1, b2);
    finish(&A);
    finish(&B1);
    finish(&B2);
}
END_TEST

/* On the bare IP medium too, and with an RX pool that is empty: a TCP
 * segment for us needs no receive buffer at all. */
START_TEST(test_iface_inject_raw_tcp_needs_no_rx_buffer)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.medium = PN_MEDIUM_IP;
    pn_test_node A;
    pn_stack *s = pn_test_node_new(&A, &c);
    /* A SYN to a closed port from 10.0.0.2: answered with a RST. */
    uint8_t syn[40];
    memset(syn, 0, sizeof syn);
    syn[0] = 0x45;
    syn[3] = 40;
    syn[8] = 64;
    syn[9] = 6;
    memcpy(syn + 12, IP_P, 4);
    memcpy(syn + 16, IP_A, 4);
    uint16_t hc = pn_tf_csum(syn, 20, 0);
    syn[10] = (uint8_t)(hc >> 8);
    syn[11] = (uint8_t)hc;
    uint8_t *tcp = syn + 20;
    tcp[0] = 0x9c; /* sport 40000 */
    tcp[1] = 0x40;
    tcp[3] = 81; /* dport 81 */
    tcp[7] = 1;  /* seq 1 */
    tcp[12] = 0x50;
    tcp[13] = 0x02; /* SYN */
    tcp[15] = 0xff;
    uint32_t ps = (uint32_t)(IP_P[0] << 8 | IP_P[1]) + (uint32_t)(IP_P[2] << 8 | IP_P[3]) +
                  (uint32_t)(IP_A[0] << 8 | IP_A[1]) + (uint32_t)(IP_A[2] << 8 | IP_A[3]) + 6 + 20;
    uint16_t tc = pn_tf_csum(tcp, 20, ps);
    tcp[16] = (uint8_t)(tc >> 8);
    tcp[17] = (uint8_t)tc;
    /* Hold every receive buffer: pn_inject_buf takes one, UDP-free. */
    const pn_stats *st = pn_stats_get(s);
    uint8_t *held = NULL;
    ck_assert_int_gt(pn_inject_buf(s, &held), 0);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 1);
    ck_assert_int_eq(pn_inject_raw(s, syn, sizeof syn, 10), 0);
    ck_assert_uint_eq(st->frames_in, 1);
    ck_assert_uint_eq(st->ip4_rx, 1);
    ck_assert_uint_eq(st->tcp_rx, 1);
    ck_assert_uint_eq(st->tcp_no_socket, 1);
    ck_assert_uint_eq(st->tcp_rst_tx, 1);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].peak, 1); /* only the held one */
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 40); /* the RST */
    ck_assert_uint_eq(out[20 + 13], 0x14);                   /* RST+ACK */
    /* A bad TCP checksum: counted, dropped, still no buffer */
    tcp[17] ^= 1;
    ck_assert_int_eq(pn_inject_raw(s, syn, sizeof syn, 11), 0);
    ck_assert_uint_eq(st->tcp_bad_csum, 1);
    ck_assert_uint_eq(st->tcp_rx, 2);
    ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);
    ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].peak, 1);
    ck_assert_uint_eq(st->inject_nobufs, 0);
    ck_assert_int_eq(pn_inject_cancel(s), 0);
    finish(&A);
}
END_TEST

/* ---- pn_inject_raw judging a UDP datagram where it lies ---- */

/* The IN tap of a UDP twin: whether the frame was seen where the caller
 * put it (the in-place path) or in a receive buffer. */
typedef struct udp_tap {
    const uint8_t *frame; /* the caller's frame of the injection under way */
    int in, in_place;
} udp_tap;

static void
udp_tap_fn(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    static uint8_t cp[2048];
    udp_tap *t = user;
    (void)now;
    if (dir != PN_TAP_IN)
        return;
    ck_assert_uint_le(v->tot_len, sizeof cp);
    ck_assert_uint_eq(pn_pktview_copy(v, 0, cp, v->tot_len), v->tot_len);
    ck_assert_mem_eq(cp, v->head, v->head_len);
    t->in++;
    if (v->head == t->frame) {
        ck_assert_uint_eq(v->head_len, v->tot_len);
        t->in_place++;
    }
}

typedef struct udp_twins {
    pn_test_node A1, A2;
    pn_stack *s1, *s2; /* s1 fed by pn_inject_raw, s2 by pn_inject_buf */
    udp_tap t1, t2;
    int u1, u2;
} udp_twins;

static void
udp_twins_new(udp_twins *w, pn_config *c)
{
    memset(w, 0, sizeof *w);
    c->tap = udp_tap_fn;
    c->tap_user = &w->t1;
    w->s1 = pn_test_node_new(&w->A1, c);
    c->tap_user = &w->t2;
    w->s2 = pn_test_node_new(&w->A2, c);
    pn_sockaddr any = {PN_IP4(0, 0, 0, 0), 7000};
    w->u1 = pn_udp_open(w->s1);
    w->u2 = pn_udp_open(w->s2);
    ck_assert_int_ge(w->u1, 0);
    ck_assert_int_eq(pn_udp_bind(w->s1, w->u1, &any), 0);
    ck_assert_int_eq(pn_udp_bind(w->s2, w->u2, &any), 0);
}

/* Receive every queued datagram of both twins: the same bytes, lengths
 * and senders. Returns how many. */
static int
udp_twins_recv(udp_twins *w)
{
    static uint8_t g1[2048], g2[2048];
    int n = 0;
    for (;;) {
        pn_sockaddr f1, f2;
        memset(&f1, 0xaa, sizeof f1);
        memset(&f2, 0x55, sizeof f2);
        int k1 = pn_udp_recvfrom(w->s1, w->u1, g1, sizeof g1, &f1);
        int k2 = pn_udp_recvfrom(w->s2, w->u2, g2, sizeof g2, &f2);
        ck_assert_int_eq(k1, k2);
        if (k1 < 0) {
            ck_assert_int_eq(k1, PN_EAGAIN);
            break;
        }
        ck_assert_mem_eq(g1, g2, (size_t)k1);
        ck_assert_mem_eq(f1.addr.b, f2.addr.b, 4);
        ck_assert_uint_eq(f1.port, f2.port);
        n++;
    }
    same_stats(w->s1, w->s2);
    return n;
}

/* Give f[0..n) to both twins, assert the same result, counters and
 * replies; in_place says whether s1 must have judged it where it lies. */
static void
udp_twins_inject(udp_twins *w, const uint8_t *f, size_t n, int in_place)
{
    static uint8_t r1[2048], r2[2048];
    int p0 = w->t1.in_place, i0 = w->t1.in;
    w->t1.frame = f;
    int k1 = pn_inject_raw(w->s1, f, n, 10);
    w->t1.frame = NULL;
    int k2 = inject_zc(w->s2, f, n, 10);
    ck_assert_int_eq(k1, k2);
    ck_assert_int_eq(w->t1.in, i0 + 1);
    ck_assert_int_eq(w->t1.in_place, p0 + (in_place ? 1 : 0));
    ck_assert_int_eq(w->t2.in_place, 0);
    same_stats(w->s1, w->s2);
    int k;
    while ((k = pn_drain_raw(w->s1, r1, sizeof r1)) > 0) {
        ck_assert_int_eq(pn_drain_raw(w->s2, r2, sizeof r2), k);
        ck_assert_mem_eq(r1, r2, (size_t)k);
    }
    ck_assert_uint_eq(pn_drain_peek(w->s2), 0);
}

static void
udp_twins_free(udp_twins *w)
{
    same_stats(w->s1, w->s2);
    ck_assert_uint_eq(w->A1.tap_in, pn_stats_get(w->s1)->frames_in);
    pn_udp_close(w->s1, w->u1);
    pn_udp_close(w->s2, w->u2);
    finish(&w->A1);
    finish(&w->A2);
}

/* A UDP datagram from 10.0.0.2:5000 to 10.0.0.1:dport on Ethernet. */
static size_t
udp_frame(uint8_t *f, uint16_t dport, const void *data, size_t len)
{
    pn_tf_ip h = {MAC_A, MAC_P, {10, 0, 0, 2}, {10, 0, 0, 1}, 17, 64, 0, 7, 0, 0};
    return pn_tf_udp(f, &h, 5000, dport, data, len, 0);
}

/* Rewrite the IPv4 header checksum of the Ethernet frame f. */
static void
ip_fix_csum(uint8_t *f)
{
    f[24] = f[25] = 0;
    uint16_t c = pn_tf_csum(f + 14, 20, 0);
    f[24] = (uint8_t)(c >> 8);
    f[25] = (uint8_t)c;
}

/* Rewrite the UDP checksum of the Ethernet frame f over its UDP length. */
static void
udp_fix_csum(uint8_t *f)
{
    uint8_t *ip = f + 14, *u = ip + 20;
    size_t ulen = (size_t)(u[4] << 8 | u[5]);
    uint32_t ps = (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]) +
                  (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]) + 17 +
                  (uint32_t)ulen;
    u[6] = u[7] = 0;
    uint16_t c = pn_tf_csum(u, ulen, ps);
    if (c == 0)
        c = 0xffff;
    u[6] = (uint8_t)(c >> 8);
    u[7] = (uint8_t)c;
}

START_TEST(test_iface_inject_raw_udp_in_place_equals_inject_buf)
{
    pn_config c;
    pn_test_config(&c, 1);
    c.udp_rcvbuf = 4000;
    udp_twins w;
    udp_twins_new(&w, &c);
    const pn_stats *st = pn_stats_get(w.s1);
    static uint8_t f[2048], data[1500];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    /* Good datagrams, 0 to 1472 payload bytes: all in place. */
    static const size_t lens[] = {0, 1, 2, 7, 63, 64, 65, 200, 1471, 1472};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = udp_frame(f, 7000, data + i, lens[i]);
        udp_twins_inject(&w, f, n, 1);
        ck_assert_int_eq(udp_twins_recv(&w), 1);
    }
    ck_assert_uint_eq(st->udp_rx, 10);
    ck_assert_uint_eq(st->ip4_rx, 10);
    size_t n = udp_frame(f, 7000, data, 64);
    uint64_t bc0 = st->udp_bad_csum, bl0 = st->udp_bad_len, np0 = st->udp_no_port;
    /* A bad UDP checksum: the buffered path counts it. */
    f[n - 1] ^= 0x40;
    udp_twins_inject(&w, f, n, 0);
    ck_assert_uint_eq(st->udp_bad_csum, bc0 + 1);
    f[n - 1] ^= 0x40;
    /* UDP length beyond the IP payload, and below the header. */
    f[38] = 0;
    f[39] = 64 + 8 + 1;
    udp_fix_csum(f);
    udp_twins_inject(&w, f, n, 0);
    f[39] = 7;
    udp_twins_inject(&w, f, n, 0);
    ck_assert_uint_eq(st->udp_bad_len, bl0 + 2);
    /* Zero checksum (none sent, RFC 768): taken in place. */
    n = udp_frame(f, 7000, data, 64);
    f[40] = f[41] = 0;
    udp_twins_inject(&w, f, n, 1);
    /* Bytes past the UDP length inside the IP datagram: trimmed. */
    f[39] = 8 + 50;
    udp_fix_csum(f);
    udp_twins_inject(&w, f, n, 1);
    /* Link padding past the IP datagram (a short datagram padded to the
     * Ethernet minimum, and more). */
    size_t m = udp_frame(f, 7000, data, 1);
    ck_assert_uint_lt(m, 60);
    memset(f + m, 0xee, 64);
    udp_twins_inject(&w, f, 60, 1);
    udp_twins_inject(&w, f, m + 64, 1);
    ck_assert_int_eq(udp_twins_recv(&w), 4);
    /* IPv4 length beyond the frame, a bad header checksum, options, a
     * fragment: the buffered path judges them. */
    n = udp_frame(f, 7000, data, 64);
    uint64_t il0 = st->ip4_bad_len, ic0 = st->ip4_bad_csum;
    udp_twins_inject(&w, f, n - 3, 0);
    ck_assert_uint_eq(st->ip4_bad_len, il0 + 1);
    f[24] ^= 0x21;
    udp_twins_inject(&w, f, n, 0);
    ck_assert_uint_eq(st->ip4_bad_csum, ic0 + 1);
    f[24] ^= 0x21;
    f[20] = 0x20; /* MF */
    ip_fix_csum(f);
    udp_twins_inject(&w, f, n, 0);
    f[20] = 0x40; /* DF only: still the common datagram */
    ip_fix_csum(f);
    udp_twins_inject(&w, f, n, 1);
    ck_assert_int_eq(udp_twins_recv(&w), 1);
    /* To a broadcast address: not ours alone, the buffered path's. */
    n = udp_frame(f, 7000, data, 64);
    f[14 + 19] = 255;
    ip_fix_csum(f);
    udp_fix_csum(f);
    udp_twins_inject(&w, f, n, 0);
    ck_assert_int_eq(udp_twins_recv(&w), 1);
    /* No socket: port unreachable, sent alike by both. */
    uint64_t icmp0 = st->icmp_unreach_tx;
    n = udp_frame(f, 7999, data, 64);
    udp_twins_inject(&w, f, n, 0);
    ck_assert_uint_eq(st->udp_no_port, np0 + 1);
    ck_assert_uint_eq(st->icmp_unreach_tx, icmp0 + 1);
    /* A full receive queue: 4000 bytes take 62 datagrams of 64, the
     * 63rd is dropped and counted by the buffered path. */
    n = udp_frame(f, 7000, data, 64);
    for (int i = 0; i < 62; i++)
        udp_twins_inject(&w, f, n, 1);
    uint64_t rb0 = st->udp_rcvbuf_drop;
    udp_twins_inject(&w, f, n, 0);
    ck_assert_uint_eq(st->udp_rcvbuf_drop, rb0 + 1);
    ck_assert_int_eq(udp_twins_recv(&w), 62);
    udp_twins_inject(&w, f, n, 1); /* room again */
    ck_assert_int_eq(udp_twins_recv(&w), 1);
    ck_assert_int_gt(w.t1.in_place, 70);
    udp_twins_free(&w);
}
END_TEST

static int
accept_hook(void *user, int point, const pn_pktview *ip)
{
    (void)point;
    (void)ip;
    (*(int *)user)++;
    return PN_ACCEPT;
}

/* Input hooks see every datagram through the buffered path; hooks on the
 * output points only leave the in-place path open. */
START_TEST(test_iface_inject_raw_udp_hooks_take_buffered_path)
{
    static const uint32_t masks[] = {1u << PN_HOOK_PRE_ROUTING, 1u << PN_HOOK_LOCAL_IN,
                                     (1u << PN_HOOK_LOCAL_OUT) | (1u << PN_HOOK_POST_ROUTING)};
    for (size_t i = 0; i < 3; i++) {
        int calls = 0;
        pn_config c;
        pn_test_config(&c, 1);
        c.hook = accept_hook;
        c.hook_user = &calls;
        c.hook_mask = masks[i];
        udp_twins w;
        udp_twins_new(&w, &c);
        static uint8_t f[256];
        size_t n = udp_frame(f, 7000, "hooked", 6);
        udp_twins_inject(&w, f, n, i == 2);
        ck_assert_int_eq(calls, i == 2 ? 0 : 2);
        ck_assert_int_eq(udp_twins_recv(&w), 1);
        udp_twins_free(&w);
    }
}
END_TEST

/* Every counter of s as a flat array (the stats struct, pools included). */
static void
stats_copy(const pn_stack *s, pn_stats *to)
{
    memcpy(to, pn_stats_get(s), sizeof *to);
}

/* With every receive buffer in use, a datagram the in-place path would
 * take gets what the buffered path gives: PN_ENOBUFS, inject_nobufs and
 * the pool's own count, and nothing else counted, tapped or queued. The
 * same for one it would refuse (bad checksum, no socket). On both media. */
START_TEST(test_iface_inject_raw_udp_rx_pool_empty)
{
    for (int medium = 0; medium < 2; medium++) {
        pn_config c;
        pn_test_config(&c, 1);
        c.rx_bufs = 3;
        if (medium)
            c.medium = PN_MEDIUM_IP;
        pn_test_node A;
        pn_stack *s = pn_test_node_new(&A, &c);
        int u = pn_udp_open(s);
        pn_sockaddr me = {PN_IP4(0, 0, 0, 0), 7000};
        ck_assert_int_eq(pn_udp_bind(s, u, &me), 0);
        static uint8_t f[256];
        size_t n = udp_frame(f, 7000, "abcdefgh", 8);
        const uint8_t *fp = f;
        if (medium) { /* the same datagram without its Ethernet header */
            fp = f + 14;
            n -= 14;
        }
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(pn_inject_raw(s, fp, n, 1), 0);
        const pn_stats *st = pn_stats_get(s);
        ck_assert_uint_eq(st->udp_rx, 3);
        ck_assert_uint_eq(st->pool[PN_POOL_RXBUF].used, 3);
        for (int k = 0; k < 3; k++) {
            if (k == 1)
                f[14 + 20 + 7] ^= 1; /* bad checksum */
            if (k == 2) {
                f[14 + 20 + 7] ^= 1;
                f[14 + 20 + 3] ^= 2; /* port 7002: nobody's */
            }
            pn_stats before, after;
            stats_copy(s, &before);
            uint64_t tap0 = A.tap_in;
            ck_assert_int_eq(pn_inject_raw(s, fp, n, 2), PN_ENOBUFS);
            stats_copy(s, &after);
            ck_assert_uint_eq(A.tap_in, tap0);
            ck_assert_uint_eq(after.inject_nobufs, before.inject_nobufs + 1);
            ck_assert_uint_eq(after.rx_nobufs, before.rx_nobufs + 1);
            ck_assert_uint_eq(after.pool[PN_POOL_RXBUF].failed,
                              before.pool[PN_POOL_RXBUF].failed + 1);
            before.inject_nobufs++;
            before.rx_nobufs++;
            before.pool[PN_POOL_RXBUF].failed++;
            ck_assert_mem_eq(&before, &after, sizeof before); /* nothing else */
            ck_assert_int_eq(pn_drain_raw(s, out, sizeof out), 0);
        }
        f[14 + 20 + 3] ^= 2;
        uint8_t got[16];
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(pn_udp_recvfrom(s, u, got, sizeof got, NULL), 8);
        ck_assert_int_eq(pn_udp_recvfrom(s, u, got, sizeof got, NULL), PN_EAGAIN);
        /* buffers back: taken in place again */
        ck_assert_int_eq(pn_inject_raw(s, fp, n, 3), 0);
        ck_assert_int_eq(pn_udp_recvfrom(s, u, got, sizeof got, NULL), 8);
        ck_assert_mem_eq(got, "abcdefgh", 8);
        ck_assert_uint_eq(st->udp_rx, 4);
        pn_udp_close(s, u);
        finish(&A);
    }
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
    tcase_add_test(tc, test_iface_drain_view_release_equals_drain_raw);
    tcase_add_test(tc, test_iface_drain_view_chained_frame_made_contiguous);
    tcase_add_test(tc, test_iface_drain_view_misuse_harmless);
    tcase_add_test(tc, test_iface_drain_view_frame_longer_than_a_buffer);
    tcase_add_test(tc, test_iface_inject_buf_commit_equals_inject_raw);
    tcase_add_test(tc, test_iface_inject_buf_misuse_and_no_leak);
    tcase_add_test(tc, test_iface_inject_buf_small_buffers_cap_is_one_buffer);
    tcase_add_test(tc, test_iface_inject_buf_no_buffer_counted);
    tcase_add_test(tc, test_iface_inject_raw_tcp_in_place_equals_inject_buf);
    tcase_add_test(tc, test_iface_inject_raw_tcp_needs_no_rx_buffer);
    tcase_add_test(tc, test_iface_inject_raw_udp_in_place_equals_inject_buf);
    tcase_add_test(tc, test_iface_inject_raw_udp_hooks_take_buffered_path);
    tcase_add_test(tc, test_iface_inject_raw_udp_rx_pool_empty);
    suite_add_tcase(s, tc);
    return s;
}
