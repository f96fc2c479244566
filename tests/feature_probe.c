/*
 * feature_probe.c -- what a build with compile-time switches (pn_features.h)
 * does, seen through the public API only. mk/features.mk compiles every
 * lib/ source with the switches under test (no file dropped by the build:
 * each left-out file must compile to nothing by itself, so any build system
 * can just compile all of lib/), links this program against the result and
 * runs it.
 * The same -D switches tell the probe what to expect.
 *
 * Checked per feature, both ways (present and left out):
 *   TCP   pn_tcp_open; a SYN to a port gets a SYN-ACK from a listener, or
 *         ICMP protocol unreachable counted ip4_bad_proto (RFC 1122 3.2.2.1)
 *   UDP   pn_udp_open; a datagram without a socket gets port unreachable,
 *         or protocol unreachable counted ip4_bad_proto
 *   FRAG  a 3000-byte datagram over MTU 1500 leaves in fragments, or fails
 *         with PN_EMSGSIZE counted ip4_df_drop; a received fragment is
 *         held for reassembly, or dropped counted reass_no_slot
 *   SACK  setopt(PN_TCP_SACK, 1) is 0 or PN_EOPNOTSUPP
 *   CUBIC setopt(PN_TCP_CC, PN_CC_CUBIC) is 0 or PN_EOPNOTSUPP
 * Exit status 0 when everything holds; each failure is printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "purenet.h"
#include "helper_frames.h"

#ifdef PN_CONFIG_NO_TCP
#define HAVE_TCP 0
#else
#define HAVE_TCP 1
#endif
#ifdef PN_CONFIG_NO_UDP
#define HAVE_UDP 0
#else
#define HAVE_UDP 1
#endif
#ifdef PN_CONFIG_NO_FRAG
#define HAVE_FRAG 0
#else
#define HAVE_FRAG 1
#endif
#if defined(PN_CONFIG_NO_SACK) || !HAVE_TCP
#define HAVE_SACK 0
#else
#define HAVE_SACK 1
#endif
#if defined(PN_CONFIG_NO_CUBIC) || !HAVE_TCP
#define HAVE_CUBIC 0
#else
#define HAVE_CUBIC 1
#endif

static int failures;

#define EXPECT(cond)                                                                       \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            printf("feature_probe: %s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);      \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static _Alignas(64) uint8_t arena[1 << 20];
static uint64_t now = 1000000;

/* An IPv4 packet from 10.0.0.2 to 10.0.0.1 around payload[0..plen), built
 * by tests/helper_frames.c; the TCP or UDP checksum (at 16 or 6 in the
 * payload) is filled in over the pseudo header unless it is a fragment. */
static size_t
ip_packet(uint8_t *pkt, uint8_t proto, uint16_t frag, const uint8_t *payload, size_t plen)
{
    pn_tf_ip h = {.src = {10, 0, 0, 2}, .dst = {10, 0, 0, 1}, .proto = proto, .id = 0x1234,
                  .frag = frag};
    size_t tot = pn_tf_ip4(pkt, &h, payload, plen);
    if (frag == 0 && (proto == 6 || proto == 17)) {
        size_t at = 20 + (proto == 6 ? 16 : 6);
        uint32_t ph = 0x0a00 + 0x0002 + 0x0a00 + 0x0001 + proto + (uint32_t)plen;
        pkt[at] = pkt[at + 1] = 0;
        uint16_t c = pn_tf_csum(pkt + 20, plen, ph);
        if (proto == 17 && c == 0)
            c = 0xffff;
        pkt[at] = (uint8_t)(c >> 8);
        pkt[at + 1] = (uint8_t)c;
    }
    return tot;
}

static size_t
tcp_syn(uint8_t *pkt, uint16_t dport)
{
    uint8_t t[20] = {0x9c, 0x40, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff};
    t[2] = (uint8_t)(dport >> 8);
    t[3] = (uint8_t)dport;
    return ip_packet(pkt, 6, 0, t, sizeof t);
}

static size_t
udp_dgram(uint8_t *pkt, uint16_t dport)
{
    uint8_t u[12] = {0x9c, 0x40, 0, 0, 0, 12, 0, 0, 'p', 'i', 'n', 'g'};
    u[2] = (uint8_t)(dport >> 8);
    u[3] = (uint8_t)dport;
    return ip_packet(pkt, 17, 0, u, sizeof u);
}

/* The next drained frame, or 0 bytes. */
static int
drain(pn_stack *s, uint8_t *buf, size_t cap)
{
    int n = pn_drain_raw(s, buf, cap);
    return n > 0 ? n : 0;
}

/* Is frame an ICMP destination unreachable with this code? */
static int
is_unreach(const uint8_t *f, int n, uint8_t code)
{
    return n >= 28 && f[9] == 1 && f[20] == 3 && f[21] == code;
}

int
main(void)
{
    pn_config cfg;
    pn_config_default(&cfg);
    cfg.medium = PN_MEDIUM_IP;
    cfg.n_addrs = 1;
    cfg.addrs[0].addr = PN_IP4(10, 0, 0, 1);
    cfg.addrs[0].prefix_len = 24;
    cfg.tcp.max_socks = 4;
    cfg.udp_socks = 2;
    for (int i = 0; i < 16; i++)
        cfg.key[i] = (uint8_t)(i * 7 + 1);
    size_t need = pn_arena_size(&cfg);
    EXPECT(need > 0 && need <= sizeof arena);
    int err = 0;
    pn_stack *s = pn_stack_new(arena, sizeof arena, &cfg, &err);
    EXPECT(s != NULL && err == 0);
    if (s == NULL)
        return 1;
    const pn_stats *st = pn_stats_get(s);
    uint8_t pkt[4096], out[4096];
    int n;

    /* ---- TCP */
    int t = pn_tcp_open(s);
    if (HAVE_TCP) {
        EXPECT(t >= 0);
        pn_sockaddr a = {PN_IP4(0, 0, 0, 0), 80};
        EXPECT(pn_tcp_bind(s, t, &a) == 0);
        EXPECT(pn_tcp_setopt(s, t, PN_TCP_SACK, 1) == (HAVE_SACK ? 0 : PN_EOPNOTSUPP));
        EXPECT(pn_tcp_setopt(s, t, PN_TCP_CC, PN_CC_CUBIC) == (HAVE_CUBIC ? 0 : PN_EOPNOTSUPP));
        EXPECT(pn_tcp_setopt(s, t, PN_TCP_CC, PN_CC_NEWRENO) == 0);
        int v = -1;
        EXPECT(pn_tcp_getopt(s, t, PN_TCP_CC, &v) == 0 && v == PN_CC_NEWRENO);
        EXPECT(pn_tcp_listen(s, t, 4) == 0);
    } else {
        EXPECT(t == PN_EOPNOTSUPP);
        EXPECT(pn_tcp_listen(s, 0, 4) == PN_EOPNOTSUPP);
        pn_sock_status_t ss;
        EXPECT(pn_sock_status(s, 0, &ss) == PN_EOPNOTSUPP);
    }
    EXPECT(pn_inject_raw(s, pkt, tcp_syn(pkt, 80), now) >= 0);
    n = drain(s, out, sizeof out);
    if (HAVE_TCP) {
        EXPECT(n >= 40 && out[9] == 6 && out[20 + 13] == 0x12); /* SYN-ACK */
        EXPECT(st->ip4_bad_proto == 0);
    } else {
        EXPECT(is_unreach(out, n, 2)); /* protocol unreachable */
        EXPECT(st->ip4_bad_proto == 1);
    }
    EXPECT(drain(s, out, sizeof out) == 0);

    /* ---- UDP */
    uint64_t bad_proto = st->ip4_bad_proto;
    int u = pn_udp_open(s);
    EXPECT(pn_inject_raw(s, pkt, udp_dgram(pkt, 9999), now) >= 0);
    n = drain(s, out, sizeof out);
    if (HAVE_UDP) {
        EXPECT(u >= 0);
        EXPECT(is_unreach(out, n, 3)); /* port unreachable: no socket on 9999 */
        EXPECT(st->ip4_bad_proto == bad_proto);
    } else {
        EXPECT(u == PN_EOPNOTSUPP);
        EXPECT(pn_udp_sendto(s, 0, "x", 1, NULL, now) == PN_EOPNOTSUPP);
        EXPECT(is_unreach(out, n, 2));
        EXPECT(st->ip4_bad_proto == bad_proto + 1);
    }
    EXPECT(drain(s, out, sizeof out) == 0);

    /* ---- fragmentation, on send (needs UDP) */
    if (HAVE_UDP) {
        static uint8_t big[3000];
        pn_sockaddr to = {PN_IP4(10, 0, 0, 2), 7};
        memset(big, 0x5a, sizeof big);
        int r = pn_udp_sendto(s, u, big, sizeof big, &to, now);
        if (HAVE_FRAG) {
            EXPECT(r == (int)sizeof big);
            int frames = 0;
            while ((n = drain(s, out, sizeof out)) > 0) {
                EXPECT(n <= 1500);
                frames++;
            }
            EXPECT(frames == 3);
            EXPECT(st->ip4_frag_tx == 3); /* counted per fragment */
        } else {
            EXPECT(r == PN_EMSGSIZE);
            EXPECT(st->ip4_df_drop == 1);
            EXPECT(drain(s, out, sizeof out) == 0);
        }
        EXPECT(pn_udp_close(s, u) == 0);
    }

    /* ---- fragmentation, on receive: the first half of a datagram */
    uint8_t part[16];
    memset(part, 0, sizeof part);
    EXPECT(pn_inject_raw(s, pkt, ip_packet(pkt, 17, 0x2000 /* MF */, part, sizeof part), now) >= 0);
    EXPECT(drain(s, out, sizeof out) == 0);
    if (HAVE_FRAG) {
        EXPECT(st->reass_no_slot == 0);
        EXPECT(st->pool[PN_POOL_REASS].used == 1);
    } else {
        EXPECT(st->reass_no_slot == 1);
    }

    /* ---- teardown: sockets closed, timers run out, pools back to zero */
    if (HAVE_TCP)
        EXPECT(pn_tcp_close(s, t, now) == 0);
    for (int i = 0; i < 200 && pn_next_deadline(s) != PN_TIME_NEVER; i++) {
        now = pn_next_deadline(s);
        pn_poll(s, now);
        while (drain(s, out, sizeof out) > 0)
            ;
    }
    EXPECT(pn_next_deadline(s) == PN_TIME_NEVER);
    for (int p = 0; p < PN_POOL_COUNT; p++) {
        if (st->pool[p].used != 0) {
            printf("feature_probe: pool %s still holds %u\n", pn_pool_name(p),
                   (unsigned)st->pool[p].used);
            failures++;
        }
    }
    printf("feature_probe [tcp %d udp %d frag %d sack %d cubic %d]: arena %zu bytes, %s\n",
           HAVE_TCP, HAVE_UDP, HAVE_FRAG, HAVE_SACK, HAVE_CUBIC, need,
           failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
