/*
 * harness.c -- the fuzzed world shared by the whole-stack targets: one
 * instance in a static arena (fixed key, fixed start time, so every run of
 * an input is the same), the echo application, frame checks, automatic
 * ARP replies and the invariant checks run after every step.
 *
 * IMPLEMENTATION NOTES
 * - Nothing survives an input: fz_world_init re-creates the stack over the
 *   same static arena (filled with pn_fuzz_arena_fill first, unless it is
 *   negative: the AFL build skips the fill for speed, the replayer fills
 *   with 0x00 and then 0xff and compares outputs).
 * - The library is built with -DPN_FUZZ_NO_CSUM so the codecs do not
 *   verify checksums on input; every frame the stack EMITS is still
 *   checked here with our own sums (pni_csum_*), independent of the flag.
 * - After every step (inject, time jump, API call) fz_check runs
 *   pni_stack_check (pools, buffer references, queue figures, TCP
 *   sequence order and queues; lib/check.c) and the checks that need
 *   memory across steps: a connection's advertised right edge (rcv_adv)
 *   never moves left, and what was advertised still fits its receive
 *   buffer. At the end fz_teardown closes everything, lets every timer
 *   run out and requires every pool back at zero.
 * - fz_drain takes every other frame with pn_drain_view + pn_drain_release
 *   instead of pn_drain_raw (same frame, same counters). Frames go in only
 *   through pn_inject_raw: tools/fuzz-seeds records them by wrapping it
 *   (--wrap), so pn_inject_buf/_commit are left to tests/check_iface.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp.h"

#define ARENA_MAX (4u << 20)
static _Alignas(64) uint8_t arena[ARENA_MAX];
static uint32_t scratch[8192];

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t local_ip[4] = {FZ_LOCAL_IP};

/* Per control block: what was last advertised (rcv_adv), to check that
 * the receive window never shrinks (RFC 9293 3.8.6.2.2). */
typedef struct adv_track {
    uint8_t valid;
    uint32_t iss, irs, rcv_adv;
} adv_track;
static adv_track adv[64];

/* Pools whose free list changed since the last check (head or use), plus
 * all of them every 16th check and always in the replayer. */
static void *last_head[PN_POOL_COUNT];
static uint32_t last_used[PN_POOL_COUNT];
static unsigned n_checks;
/* Where the buffers were at the last check (see bufs_moved). */
static const void *last_eg_head, *last_eg_tail, *last_inj;
static uint64_t last_eg_pkts, last_reass;
static int last_viewed;

static void
peer_mac(const uint8_t ip[4], uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x10;
    memcpy(mac + 2, ip, 4);
}

static void
digest(const uint8_t *p, size_t len)
{
    uint64_t h = pn_fuzz_digest ^ 0xcbf29ce484222325ull ^ len;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    pn_fuzz_digest = h;
}

void
fz_world_init(fz_world *w, uint8_t cfgbyte)
{
    memset(w, 0, sizeof *w);
    memset(adv, 0, sizeof adv);
    memset(last_head, 0, sizeof last_head);
    n_checks = 0;
    last_eg_head = last_eg_tail = last_inj = NULL;
    last_eg_pkts = last_reass = 0;
    last_viewed = 0;
    for (size_t i = 0; i < sizeof w->tcp / sizeof w->tcp[0]; i++)
        w->tcp[i] = -1;
    for (size_t i = 0; i < sizeof w->udp / sizeof w->udp[0]; i++)
        w->udp[i] = -1;
    w->cfgbyte = cfgbyte;
    w->ethernet = (cfgbyte & FZ_C_ETHERNET) != 0;
    w->auto_arp = w->ethernet && !(cfgbyte & FZ_C_NOARP);
    w->now = FZ_EPOCH_US;

    pn_config c;
    pn_config_default(&c);
    c.medium = w->ethernet ? PN_MEDIUM_ETHERNET : PN_MEDIUM_IP;
    memcpy(c.mac.b, our_mac, 6);
    c.mtu = (cfgbyte & FZ_C_MTU576) ? 576 : 1500;
    c.n_addrs = 1;
    c.addrs[0].addr = FZ_IP4(FZ_LOCAL_IP);
    c.addrs[0].prefix_len = 24;
    c.n_routes = 1;
    c.routes[0].dest = PN_IP4(0, 0, 0, 0);
    c.routes[0].prefix_len = 0;
    c.routes[0].gateway = FZ_IP4(FZ_GW_IP);
    for (int i = 0; i < 16; i++)
        c.key[i] = (uint8_t)(0xA5 ^ (i * 17)); /* the vector runner's key */
    pn_tcp_config *t = &c.tcp;
    switch ((cfgbyte & FZ_C_PROFILE) >> 1) {
    case 1:
        t->syn_layout = PN_SYN_LAYOUT_LINUX;
        t->rto_max_us = 120000000;
        break;
    case 2:
        t->syn_layout = PN_SYN_LAYOUT_FREEBSD;
        t->rto_min_us = 30000;
        t->delack_us = 100000;
        t->synack_retries = 3;
        break;
    case 3:
        t->no_sack = 1;
        t->no_timestamps = 1;
        t->no_wscale = 1;
        t->no_rfc5961 = 1;
        break;
    default:
        break;
    }
    t->quickack = (cfgbyte & FZ_C_QUICKACK) ? 1 : 0;
    t->cc = (cfgbyte & FZ_C_CUBIC) ? PN_CC_CUBIC : PN_CC_NEWRENO;
    t->max_socks = 10;
    t->sndbuf = 8192;
    t->rcvbuf = 8192;
    t->buf_budget = 40 * 2040;
    t->syn_queue = 8;
    if (cfgbyte & FZ_C_SMALL) {
        c.rx_bufs = 4;
        c.tx_bufs = 6;
        c.reass_slots = 2;
        c.reass_max_bytes = 4096;
        c.neigh_entries = 2;
        c.neigh_hold_pkts = 2;
        c.udp_socks = 3;
        c.udp_rcvbuf = 2048;
        c.udp_sndbuf = 4096;
        c.egress_max_pkts = 4;
        c.icmp_burst = 2;
        t->max_socks = 6;
        t->syn_queue = 2;
        t->buf_budget = 6 * 2048;
        t->ooo_max_segs = 2;
    } else {
        c.rx_bufs = 16;
        c.tx_bufs = 24;
        c.reass_slots = 3;
        c.neigh_entries = 4;
        c.udp_socks = 4;
    }
    size_t need = pn_arena_size(&c);
    PN_FUZZ_CHECK(need != 0 && need <= sizeof arena, "the fuzz config is valid and fits the arena");
    if (pn_fuzz_arena_fill >= 0)
        memset(arena, pn_fuzz_arena_fill, need);
    int err = 0;
    w->s = pn_stack_new(arena, need, &c, &err);
    PN_FUZZ_CHECK(w->s != NULL, "pn_stack_new accepts the fuzz config");
    PN_FUZZ_CHECK(pni_stack_check_scratch(w->s) <= sizeof scratch / sizeof scratch[0],
                  "scratch big enough");
    pn_poll(w->s, w->now);
}

/* ---- frames out -------------------------------------------------------- */

static uint16_t
fold_l4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, const uint8_t *p, size_t len)
{
    uint64_t sum = pni_csum_pseudo4(src, dst, proto, (uint32_t)len);
    sum += pni_csum_partial(p, len, 0);
    return pni_csum_fold(sum);
}

const char *
fz_check_ip_packet(const uint8_t *ip, size_t len)
{
    pni_ip4_repr r;
    if (pni_wire_ip4_parse(ip, len, &r) != 0)
        return "emitted IPv4 header does not parse";
    if (pni_csum_fold(pni_csum_partial(ip, r.hlen, 0)) != 0xffff)
        return "emitted IPv4 header checksum wrong";
    if (!pni_ip_eq(r.src, local_ip))
        return "emitted packet has a source that is not ours";
    if (r.ttl == 0)
        return "emitted packet with TTL 0";
    if (r.mf || r.frag_off != 0)
        return NULL; /* a fragment: the transport header may not be here */
    const uint8_t *l4 = ip + r.hlen;
    size_t l4len = (size_t)r.tot_len - r.hlen;
    switch (r.proto) {
    case PNI_IPPROTO_TCP: {
        pni_tcp_repr t;
        if (pni_wire_tcp_parse(l4, l4len, r.src, r.dst, &t) != 0)
            return "emitted TCP segment does not parse";
        if (fold_l4(r.src, r.dst, PNI_IPPROTO_TCP, l4, l4len) != 0xffff)
            return "emitted TCP checksum wrong";
        if ((t.flags & PNI_TCP_SYN) && (t.flags & (PNI_TCP_RST | PNI_TCP_FIN)))
            return "emitted TCP segment with SYN and RST or FIN";
        break;
    }
    case PNI_IPPROTO_UDP: {
        pni_udp_repr u;
        if (pni_wire_udp_parse(l4, l4len, r.src, r.dst, &u) != 0)
            return "emitted UDP datagram does not parse";
        if (u.csum == 0 || fold_l4(r.src, r.dst, PNI_IPPROTO_UDP, l4, l4len) != 0xffff)
            return "emitted UDP checksum missing or wrong";
        if (u.len != l4len)
            return "emitted UDP length differs from the IP payload";
        break;
    }
    case PNI_IPPROTO_ICMP: {
        pni_icmp_repr m;
        if (pni_wire_icmp_parse(l4, l4len, &m) != 0)
            return "emitted ICMP message does not parse";
        /* An echo reply is the request with its checksum updated
         * incrementally (RFC 1624): under PN_FUZZ_NO_CSUM a request with a
         * bad sum is answered, and the reply inherits the error. */
        if (m.type != PNI_ICMP_ECHO_REPLY && pni_csum_fold(pni_csum_partial(l4, l4len, 0)) != 0xffff)
            return "emitted ICMP checksum wrong";
        if (m.type == PNI_ICMP_DEST_UNREACH || m.type == PNI_ICMP_TIME_EXCEEDED) {
            if (!m.has_quote) {
                /* allowed only when the datagram itself had fewer than 8
                 * bytes after its header: then all of it is quoted */
                size_t qhl = m.data_len >= 1 ? (size_t)(m.data[0] & 15) * 4 : 0;
                if (m.data_len < PNI_IP4_HLEN || (m.data[0] >> 4) != 4 || qhl < PNI_IP4_HLEN ||
                    qhl > m.data_len || pni_be16(m.data + 2) >= qhl + 8 ||
                    m.data_len < pni_be16(m.data + 2))
                    return "emitted ICMP error without a usable quote";
            }
            uint8_t qt = m.data_len > m.quoted.hlen ? m.data[m.quoted.hlen] : 0;
            if (m.quoted.proto == PNI_IPPROTO_ICMP && m.quoted.frag_off == 0 &&
                m.data_len > m.quoted.hlen &&
                (qt == 3 || qt == 4 || qt == 5 || qt == 11 || qt == 12))
                return "ICMP error about an ICMP error (RFC 1122 3.2.2)";
        }
        break;
    }
    default:
        return "emitted packet of an unexpected protocol";
    }
    return NULL;
}

static void
remember_tcp(fz_world *w, const uint8_t *ip, size_t len)
{
    pni_ip4_repr r;
    if (pni_wire_ip4_parse(ip, len, &r) != 0 || r.proto != PNI_IPPROTO_TCP || r.mf || r.frag_off)
        return;
    pni_tcp_repr t;
    if (pni_wire_tcp_parse(ip + r.hlen, (size_t)r.tot_len - r.hlen, r.src, r.dst, &t) != 0)
        return;
    if (t.flags & PNI_TCP_RST)
        return;
    w->have_last = 1;
    memcpy(w->last_src, r.src, 4);
    memcpy(w->last_dst, r.dst, 4);
    w->last = t;
    w->last.payload = NULL;
    w->last_seglen = (uint32_t)t.payload_len + !!(t.flags & PNI_TCP_SYN) + !!(t.flags & PNI_TCP_FIN);
}

static void
arp_reply(fz_world *w, const pni_arp_repr *req)
{
    uint8_t f[PNI_ETH_HLEN + PNI_ARP_LEN];
    pni_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst, our_mac, 6);
    peer_mac(req->tpa, e.src);
    e.ethertype = PNI_ETHERTYPE_ARP;
    size_t n = pni_wire_eth_emit(&e, f, sizeof f);
    pni_arp_repr a;
    a.op = PNI_ARP_REPLY;
    memcpy(a.sha, e.src, 6);
    memcpy(a.spa, req->tpa, 4);
    memcpy(a.tha, our_mac, 6);
    memcpy(a.tpa, req->spa, 4);
    n += pni_wire_arp_emit(&a, f + n, sizeof f - n);
    int rc = pn_inject_raw(w->s, f, n, w->now);
    PN_FUZZ_CHECK(rc == 0 || rc == PN_ENOBUFS, "pn_inject_raw of an ARP reply returns 0 or ENOBUFS");
}

void
fz_drain(fz_world *w)
{
    static uint8_t f[65536 + 64];
    unsigned guard = 0;
    for (;;) {
        size_t peek = pn_drain_peek(w->s);
        int n;
        if (guard & 1) {
            /* every other frame through the zero-copy pair, which must
             * give the same frame (the replayer's digest compares) */
            const uint8_t *v, *v2;
            n = pn_drain_view(w->s, &v);
            PN_FUZZ_CHECK(n >= 0, "pn_drain_view of a frame of one buffer never fails");
            if (n > 0) {
                PN_FUZZ_CHECK(pn_drain_view(w->s, &v2) == n && v2 == v,
                              "a second pn_drain_view shows the same frame in place");
                memcpy(f, v, (size_t)n);
                PN_FUZZ_CHECK(pn_drain_release(w->s) == 0, "pn_drain_release of a viewed frame works");
            }
            PN_FUZZ_CHECK(pn_drain_release(w->s) == PN_ENOENT, "nothing left to release");
        } else {
            n = pn_drain_raw(w->s, f, sizeof f);
            PN_FUZZ_CHECK(n >= 0, "pn_drain_raw with a 64 KiB buffer never fails");
        }
        PN_FUZZ_CHECK((size_t)n == peek, "pn_drain_peek tells the size of the next frame");
        if (n == 0)
            break;
        PN_FUZZ_CHECK(++guard < 4096, "draining ends (no endless output)");
        if (pn_fuzz_arena_fill >= 0) /* the replayer compares two runs */
            digest(f, (size_t)n);
        if (pn_fuzz_verbose)
            fz_describe("out", w, f, (size_t)n);
        const uint8_t *ip = f;
        size_t iplen = (size_t)n;
        if (w->ethernet) {
            pni_eth_repr e;
            PN_FUZZ_CHECK(pni_wire_eth_parse(f, (size_t)n, &e) == 0, "emitted Ethernet frame parses");
            PN_FUZZ_CHECK(memcmp(e.src, our_mac, 6) == 0, "emitted frame has our source MAC");
            PN_FUZZ_CHECK(!e.has_vlan, "no VLAN tag on output");
            if (e.ethertype == PNI_ETHERTYPE_ARP) {
                pni_arp_repr a;
                PN_FUZZ_CHECK(pni_wire_arp_parse(f + e.hlen, (size_t)n - e.hlen, &a) == 0,
                              "emitted ARP parses");
                PN_FUZZ_CHECK(memcmp(a.sha, our_mac, 6) == 0 && pni_ip_eq(a.spa, local_ip),
                              "emitted ARP speaks for us");
                if (a.op == PNI_ARP_REQUEST && w->auto_arp && !pni_ip_eq(a.tpa, local_ip))
                    arp_reply(w, &a);
                continue;
            }
            PN_FUZZ_CHECK(e.ethertype == PNI_ETHERTYPE_IP4, "emitted frame is IPv4 or ARP");
            ip = f + e.hlen;
            iplen = (size_t)n - e.hlen;
        }
        const char *why = fz_check_ip_packet(ip, iplen);
        if (why != NULL) {
            fprintf(stderr, "purenet-fuzz: the frame:");
            for (int i = 0; i < n; i++)
                fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", f[i]);
            fprintf(stderr, "\n");
            pn_fuzz_fail(why, "fz_check_ip_packet");
        }
        if (!w->ethernet) {
            pni_ip4_repr r;
            if (pni_wire_ip4_parse(ip, iplen, &r) == 0)
                PN_FUZZ_CHECK(r.tot_len == iplen, "bare-IP frame length is the IP total length");
        }
        remember_tcp(w, ip, iplen);
    }
}

/* ---- trace (replayer -v) ------------------------------------------------ */

/* One line per frame: its length and, when it is a TCP segment, ports,
 * flags, sequence numbers, window and payload length, read straight from
 * the bytes (no codec: a malformed frame still prints what it can). */
void
fz_describe(const char *dir, const fz_world *w, const uint8_t *f, size_t n)
{
    fprintf(stderr, "  %-3s %4zu bytes at t=%llu", dir, n, (unsigned long long)w->now);
    const uint8_t *ip = f;
    size_t len = n;
    if (w->ethernet) {
        if (n < 14 || f[12] != 0x08 || f[13] != 0x00) {
            fprintf(stderr, "\n");
            return;
        }
        ip += 14;
        len -= 14;
    }
    size_t ihl = len >= 20 ? (size_t)(ip[0] & 15) * 4 : 0;
    if (ihl < 20 || len < ihl + 20 || ip[9] != 6) {
        if (len >= 20)
            fprintf(stderr, " ip proto %u", ip[9]);
        fprintf(stderr, "\n");
        return;
    }
    const uint8_t *t = ip + ihl;
    size_t tot = (size_t)(ip[2] << 8 | ip[3]);
    size_t doff = (size_t)(t[12] >> 4) * 4;
    uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
    uint32_t ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
    static const char fl[] = "FSRPAUEC";
    char flags[9];
    size_t k = 0;
    for (int b = 0; b < 8; b++)
        if (t[13] & (1u << b))
            flags[k++] = fl[b];
    flags[k] = 0;
    fprintf(stderr, " tcp %u>%u [%s] seq %u ack %u win %u len %zu\n", t[0] << 8 | t[1],
            t[2] << 8 | t[3], flags, seq, ack, t[14] << 8 | t[15],
            tot >= ihl + doff ? tot - ihl - doff : 0);
}

/* ---- frames in --------------------------------------------------------- */

void
fz_inject(fz_world *w, const uint8_t *frame, size_t len)
{
    int rc = pn_inject_raw(w->s, frame, len, w->now);
    if (pn_fuzz_verbose) {
        fz_describe("in", w, frame, len);
        fprintf(stderr, "     -> %d\n", rc);
    }
    PN_FUZZ_CHECK(rc == 0 || rc == PN_ENOBUFS || rc == PN_EMSGSIZE || (rc == PN_EINVAL && len == 0),
                  "pn_inject_raw returns 0, ENOBUFS, EMSGSIZE (or EINVAL for nothing)");
    fz_check(w);
    fz_drain(w);
}

void
fz_inject_ip(fz_world *w, const uint8_t *ip, size_t len)
{
    static uint8_t f[65536 + 64];
    if (len + PNI_ETH_HLEN > sizeof f)
        return;
    if (!w->ethernet) {
        fz_inject(w, ip, len);
        return;
    }
    pni_eth_repr e;
    memset(&e, 0, sizeof e);
    memcpy(e.dst, our_mac, 6);
    peer_mac(len >= 16 ? ip + 12 : local_ip, e.src);
    e.ethertype = PNI_ETHERTYPE_IP4;
    size_t n = pni_wire_eth_emit(&e, f, sizeof f);
    memcpy(f + n, ip, len);
    fz_inject(w, f, n + len);
}

void
fz_advance(fz_world *w, uint64_t delta)
{
    uint64_t due = pn_next_deadline(w->s);
    w->now += delta;
    pn_poll(w->s, w->now);
    /* A poll before the earliest deadline has nothing to do (that is
     * pn_next_deadline's contract): under afl-fuzz it is checked with the
     * next step (a third of the corpus's time steps), in the replayers at
     * once. */
    if (w->now >= due || pn_fuzz_arena_fill >= 0)
        fz_check(w);
    fz_drain(w);
}

/* ---- invariants -------------------------------------------------------- */


/* (see last_head above) */
static unsigned
pools_to_walk(const pn_stack *s)
{
    unsigned m = 0;
    for (int k = 0; k < PN_POOL_COUNT; k++) {
        if (s->pool[k].free_head != last_head[k] || s->stats.pool[k].used != last_used[k])
            m |= 1u << k;
        last_head[k] = s->pool[k].free_head;
        last_used[k] = s->stats.pool[k].used;
    }
    if (pn_fuzz_arena_fill >= 0 || (n_checks++ & 15) == 0)
        m = PNI_CHECK_ALL_POOLS;
    return m;
}

/* Where the buffers are held, as far as a step can move them: the buffer
 * pools' free lists and use (pools_to_walk), the egress queue's ends and
 * count, the reassembly bytes, the held inject buffer and the drain view.
 * A buffer changes hands only through one of these (neighbour hold ->
 * egress, reassembly -> a UDP queue, any queue -> free), so a step that
 * changed none of them left every segment's pointer count as the last
 * walk counted it, and the walk skips the counting (scratch NULL: the
 * queue figures are still checked). Every walk that walks all pools (every
 * 16th, and always in the replayers) counts. */

static int
bufs_moved(const pn_stack *s, unsigned walk)
{
    unsigned bufpools = (1u << PN_POOL_RXBUF) | (1u << PN_POOL_TXBUF);
    int moved = (walk & bufpools) != 0 || s->eg_head != last_eg_head || s->eg_tail != last_eg_tail ||
                s->stats.egress_pkts != last_eg_pkts || s->reass_bytes != last_reass ||
                s->inj_buf != last_inj || s->drain_viewed != last_viewed;
    last_eg_head = s->eg_head;
    last_eg_tail = s->eg_tail;
    last_eg_pkts = s->stats.egress_pkts;
    last_reass = s->reass_bytes;
    last_inj = s->inj_buf;
    last_viewed = s->drain_viewed;
    return moved;
}

void
fz_check(fz_world *w)
{
    unsigned walk = pools_to_walk(w->s);
    int count = bufs_moved(w->s, walk);
    const char *why = pni_stack_check(w->s, count ? scratch : NULL,
                                      count ? sizeof scratch / sizeof scratch[0] : 0, walk);
    if (why != NULL)
        pn_fuzz_fail(why, "pni_stack_check");
    pn_stack *s = w->s;
    if (s->tcp == NULL)
        return;
    const pni_pool *tp = &s->pool[PN_POOL_TCP];
    for (uint32_t i = 0; i < tp->count && i < sizeof adv / sizeof adv[0]; i++) {
        const pni_tcpcb *cb =
            tp->inuse[i] ? (const pni_tcpcb *)(tp->base + (size_t)i * tp->obj_size) : NULL;
        int synced = cb != NULL && cb->state >= PN_TCP_ESTABLISHED;
        if (!synced) {
            adv[i].valid = 0;
            continue;
        }
        if (adv[i].valid && adv[i].iss == cb->iss && adv[i].irs == cb->irs) {
            PN_FUZZ_CHECK(pni_seq_geq(cb->rcv_adv, adv[i].rcv_adv),
                          "the advertised receive window never shrinks (rcv_adv moves right)");
        }
        adv[i].valid = 1;
        adv[i].iss = cb->iss;
        adv[i].irs = cb->irs;
        adv[i].rcv_adv = cb->rcv_adv;
        if (!(cb->t_flags & PNI_TF_RCV_FIN) && cb->rcvbuf >= cb->rcvq.len)
            PN_FUZZ_CHECK(pni_seq_leq(cb->rcv_adv, cb->rcv_nxt + (cb->rcvbuf - cb->rcvq.len)),
                          "what was advertised fits the receive buffer");
    }
}

/* ---- the echo application ---------------------------------------------- */

void
fz_app_echo(fz_world *w)
{
    static uint8_t buf[16384];
    pn_stack *s = w->s;
    /* accept on the listeners (slots 0 and 1) into free slots */
    for (int l = 0; l < 2; l++) {
        if (w->tcp[l] < 0)
            continue;
        for (;;) {
            int free_slot = -1;
            for (int i = 2; i < 8; i++)
                if (w->tcp[i] < 0) {
                    free_slot = i;
                    break;
                }
            if (free_slot < 0)
                break;
            pn_sockaddr peer;
            int h = pn_tcp_accept(s, w->tcp[l], &peer);
            if (h < 0)
                break;
            w->tcp[free_slot] = h;
        }
    }
    for (int i = 2; i < 8; i++) {
        if (w->tcp[i] < 0)
            continue;
        int n = pn_tcp_recv(s, w->tcp[i], buf, sizeof buf, w->now);
        if (n > 0) {
            int m = pn_tcp_send(s, w->tcp[i], buf, (size_t)n, w->now);
            (void)m;
        } else if (n == 0 || (n != PN_EAGAIN)) {
            pn_tcp_close(s, w->tcp[i], w->now);
            w->tcp[i] = -1;
        }
    }
    for (int i = 0; i < 4; i++) {
        if (w->udp[i] < 0)
            continue;
        for (int k = 0; k < 4; k++) {
            pn_sockaddr from;
            int n = pn_udp_recvfrom(s, w->udp[i], buf, sizeof buf, &from);
            if (n < 0)
                break;
            if (from.port != 0)
                (void)pn_udp_sendto(s, w->udp[i], buf, (size_t)n, &from, w->now);
        }
    }
    fz_check(w);
    fz_drain(w);
}

/* ---- the end ----------------------------------------------------------- */

/* What is still alive, for failure messages. */
static const char *
describe(const pn_stack *s)
{
    static char msg[1024];
    size_t u = 0;
    for (int k = 0; k < PN_POOL_COUNT; k++)
        u += (size_t)snprintf(msg + u, sizeof msg - u, "%s=%u ", pn_pool_name(k),
                              (unsigned)s->stats.pool[k].used);
    u += (size_t)snprintf(msg + u, sizeof msg - u, "egress=%llu reass=%u",
                          (unsigned long long)s->stats.egress_pkts, (unsigned)s->reass_bytes);
    for (uint32_t i = 0; s->tcp != NULL && i < s->pool[PN_POOL_TCP].count && u < sizeof msg; i++) {
        const pni_tcpcb *cb = pni_pool_at(&s->pool[PN_POOL_TCP], i);
        if (cb != NULL)
            u += (size_t)snprintf(msg + u, sizeof msg - u,
                                  "; tcb %u state %d flags 0x%x lport %u snd_wnd %u sndq %u rxtshift %u "
                                  "rexmt %llu keep %llu",
                                  (unsigned)i, cb->state, (unsigned)cb->t_flags, cb->lport,
                                  (unsigned)cb->snd_wnd, (unsigned)cb->sndq.len, cb->rxtshift,
                                  (unsigned long long)cb->t_rexmt, (unsigned long long)cb->t_keep);
    }
    return msg;
}


void
fz_teardown(fz_world *w)
{
    pn_stack *s = w->s;
    for (size_t i = 0; i < sizeof w->tcp / sizeof w->tcp[0]; i++)
        if (w->tcp[i] >= 0) {
            pn_tcp_close(s, w->tcp[i], w->now);
            w->tcp[i] = -1;
        }
    for (size_t i = 0; i < sizeof w->udp / sizeof w->udp[0]; i++)
        if (w->udp[i] >= 0) {
            PN_FUZZ_CHECK(pn_udp_close(s, w->udp[i]) == 0, "pn_udp_close of an open socket works");
            w->udp[i] = -1;
        }
    fz_check(w);
    fz_drain(w);
    /* run every timer out: a few hours of stack time at most */
    const uint64_t end = w->now + 4ull * 3600 * 1000000;
    for (int k = 0; k < 4000; k++) {
        uint64_t d = pn_next_deadline(s);
        if (d == PN_TIME_NEVER)
            break;
        if (d >= end)
            pn_fuzz_fail("every timer runs out within hours once all is closed", describe(s));
        w->now = d > w->now ? d : w->now + 1;
        pn_poll(s, w->now);
        fz_check(w);
        fz_drain(w);
    }
    PN_FUZZ_CHECK(pn_next_deadline(s) == PN_TIME_NEVER, "no timer left after teardown");
    const char *why = pni_stack_check(s, scratch, sizeof scratch / sizeof scratch[0], PNI_CHECK_ALL_POOLS);
    if (why != NULL)
        pn_fuzz_fail(why, "pni_stack_check at the end");
    if (!pni_stack_idle(s))
        pn_fuzz_fail("every pool back at zero once all is closed and timers ran out", describe(s));
}
