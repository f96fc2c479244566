/*
 * ip4.c -- IPv4 receive and send (RFC 791, RFC 1122 3.2.1 and 3.3).
 *
 * IMPLEMENTATION NOTES
 * - Receive order: header validation (pni_wire_ip4_parse; each PNI_WE_*
 *   has its ip4_bad_* counter), link padding trimmed to tot_len, source
 *   check (a source that is broadcast, multicast, loopback or one of our
 *   own addresses cannot be a sender on this link: ip4_bad_src, RFC 1122
 *   3.2.1.3), PRE_ROUTING hook, destination check (ours, a broadcast of
 *   ours, or multicast when cfg.accept_multicast; anything else is
 *   ip4_not_for_us: a host does not forward, RFC 1122 3.3.4.1), then
 *   reassembly of fragments (lib/reass.c), LOCAL_IN hook, and the demux.
 *   A received TTL of 0 or 1 is accepted: RFC 1122 3.2.1.7 forbids a host
 *   to drop a datagram for its TTL.
 * - The header is parsed from the first segment (linearized, at most 60
 *   bytes) with the chain's total length as the length bound: the parser
 *   only reads the header, and the chain holds tot_len bytes.
 * - IP options are validated and then ignored (RFC 1122 3.2.1.8 lets a
 *   host pass them up; no option changes what we do).
 * - Receive fast path (pni_ip4_rx_fast, tried by lib/iface.c for a frame
 *   whose IPv4 protocol byte says UDP or TCP). For TCP it is the general
 *   path's outcome for a one-segment datagram with a 20-byte header, not
 *   a fragment, a good source, unicast to one of our addresses, and no
 *   PRE_ROUTING or LOCAL_IN hook: pni_wire_ip4_parse20 (the general
 *   parser's checks and repr for that layout), padding trimmed, ip4_rx,
 *   pni_tcp_input with the same repr. For UDP it goes further: the common datagram -- one segment, a
 *   20-byte header, not a fragment, UDP, both checksums right
 *   (pni_wire_ip4_udp_fast), a good source, unicast to one of our
 *   addresses, no PRE_ROUTING or LOCAL_IN hook installed, a bound socket
 *   with room (pni_udp_input_fast) -- is queued in one pass, without the
 *   IPv4 repr. Each test is one the general path makes, with the answer
 *   that lets it through every check to the same queueing (hooks absent:
 *   pni_hook_run accepts; no fragment: no reassembly; the dst_ok check
 *   passes on its first term), and the counters it bumps are the
 *   general path's (ip4_rx, udp_rx). Anything else -- options, fragments,
 *   broadcast, a bad checksum, no socket (ICMP port unreachable), a full
 *   queue -- goes to the general path untouched, which judges and counts
 *   it as before.
 * - Both fast paths ask "a good source, unicast to one of our addresses"
 *   through pni_ip4_pair_ok, which remembers the last (source,
 *   destination) pair that passed: the answer depends only on the
 *   config's addresses, fixed for the stack's life, so the next datagram
 *   of a flow needs two compares instead of walks over our addresses and
 *   broadcasts.
 * - In place (pni_ip4_rx_inplace, pni_udp_rx_inplace): pn_inject_raw asks the fast path's
 *   tests of the caller's frame before it takes a buffer; a TCP segment
 *   that passes is counted (the frame as pn_inject_raw counts and taps
 *   it, then as the fast path counts it) and handed to
 *   pni_tcp_input_flat where it lies (TCP only reads a segment). A UDP
 *   datagram is judged where it lies by the UDP test above, the demux
 *   and the receive-buffer room (pni_udp_rx_inplace); only then does
 *   it take an RX buffer, which gets the payload alone ("copy on
 *   retain"). The tests read only and count nothing, so a frame that
 *   fails them goes the buffered way with nothing counted twice. A UDP
 *   frame is taken only when the buffered path would hold it in one
 *   block (flen <= buf_size), so the RX pool sees the same single
 *   allocation; when it fails, the result is the buffered path's for an
 *   empty pool (PN_ENOBUFS, inject_nobufs and rx_nobufs, nothing else).
 * - Send: route first (it picks the source when the caller gave none),
 *   then the header (pni_wire_ip4_emit, no options), the LOCAL_OUT hook,
 *   and either one packet to pni_iface_output_ip or, above the MTU,
 *   pni_frag_output (DF set: PN_EMSGSIZE, ip4_df_drop).
 * - IP ID (RFC 6864, RFC 7739): a keyed hash of (src, dst, proto) added to
 *   a per-stack counter. IDs for one destination still step by one per
 *   datagram (good for reassembly), and nobody can predict them without
 *   the key. (A receiver can see how many datagrams we sent in between,
 *   since the counter is shared; RFC 7739 section 5.3's table of
 *   per-bucket counters would hide that, at the price of other IDs.)
 * - The hash depends only on (src, dst, proto) and the key, so it is
 *   cached (s->idcache, PNI_IDCACHE_N direct-mapped entries): one SipHash
 *   per new flow instead of one per datagram, with exactly the same IDs.
 *   Colliding flows only cause misses (one SipHash each, as without it).
 * - Output cache (s->ip4fc): a stream of segments to one destination
 *   (bulk TCP, its ACKs) asks the same things of every datagram: route,
 *   source, next hop, neighbour MAC, ID hash, the constant header words.
 *   After a datagram leaves through the general path on Ethernet to a
 *   unicast next hop with a REACHABLE neighbour entry and no LOCAL_OUT or
 *   POST_ROUTING hook installed, the answers are kept with the request
 *   (pni_ip4_tx) they were found for and a 34-byte Ethernet + IPv4
 *   header template. A later request equal to it byte for byte, while
 *   the route table is unchanged (gen == s->route_gen, which every table
 *   change bumps), the hooks are still absent, the datagram fits the MTU
 *   and the first segment's headroom, and the neighbour entry is still
 *   REACHABLE before its deadline for that next hop (pni_neigh_hit), is
 *   finished in place: template copied, MAC, length, ID and checksum
 *   (from the template's sum, RFC 1071) written, n->used refreshed, and
 *   pni_iface_enqueue (taps, egress limits and drop counters as usual).
 *   Anything else takes the general path, which refills the cache. The
 *   result is a pure function of what the general path reads (routes,
 *   the config, the key, the neighbour entry), so bytes, IP IDs and
 *   counters are exactly the general path's. (UDP has its own per-socket
 *   form of this, which also covers the UDP header: lib/udp.c.)
 */
#include "pn_internal.h"
#include "wire_ip4_udp.h"

/* see pn_internal.h */
uint16_t
pni_ip4_id_hash(pn_stack *s, const uint8_t src[4], const uint8_t dst[4], uint8_t proto)
{
    pni_idcache *c = &s->idcache[(dst[2] ^ dst[3] ^ proto) & (PNI_IDCACHE_N - 1)];
    if (!c->valid || c->proto != proto || !pni_ip_eq(c->dst, dst) || !pni_ip_eq(c->src, src)) {
        uint8_t m[9];
        memcpy(m, src, 4);
        memcpy(m + 4, dst, 4);
        m[8] = proto;
        c->h = (uint16_t)pni_siphash(s->cfg.key, m, sizeof m);
        memcpy(c->src, src, 4);
        memcpy(c->dst, dst, 4);
        c->proto = proto;
        c->valid = 1;
    }
    return c->h;
}

/* see pn_internal.h */
uint16_t
pni_ip4_next_id(pn_stack *s, const uint8_t src[4], const uint8_t dst[4], uint8_t proto)
{
    return (uint16_t)(pni_ip4_id_hash(s, src, dst, proto) + s->ip_id_next++);
}

static void
count_bad(pn_stack *s, int err)
{
    switch (err) {
    case PNI_WE_BADVER:
        PNI_STAT(s, ip4_bad_ver);
        break;
    case PNI_WE_BADHLEN:
        PNI_STAT(s, ip4_bad_hlen);
        break;
    case PNI_WE_BADCSUM:
        PNI_STAT(s, ip4_bad_csum);
        break;
    case PNI_WE_BADOPT:
        PNI_STAT(s, ip4_bad_opt);
        break;
    case PNI_WE_BADFIELD:
        PNI_STAT(s, ip4_bad_field);
        break;
    default: /* TRUNC, BADLEN */
        PNI_STAT(s, ip4_bad_len);
        break;
    }
}

static int
dst_ok(const pn_stack *s, const uint8_t a[4])
{
    return pni_ip4_is_local(s, a) || pni_ip4_is_our_bcast(s, a) ||
           (s->cfg.accept_multicast && pni_ip4_is_mcast(a));
}

/* The fast path's test for TCP over the len bytes at p (the IP header
 * on): 1 with *ip filled when the general path would hand it, as it is,
 * to pni_tcp_input with this repr (see the notes). */
static PNI_ALWAYS_INLINE int
tcp_fast_ok(pn_stack *s, const uint8_t *p, size_t len, pni_ip4_repr *ip)
{
    return p[9] == PNI_IPPROTO_TCP && pni_wire_ip4_parse20(p, len, ip) == 0 && pni_ip4_pair_ok(s, p);
}

/* see pn_internal.h */
int
pni_ip4_rx_fast(pn_stack *s, pni_buf *pkt)
{
    const uint8_t *p = pni_buf_data(pkt);
    if (pkt->len < PNI_IP4_HLEN || pkt->next != NULL || pni_ip4_hooks_in(s))
        return 0;
#if PN_HAVE_UDP
    if (p[9] == PNI_IPPROTO_UDP) {
        pni_udp_repr u;
        if (pni_wire_ip4_udp_fast_inline(p, pkt->len, &u) != 0 || !pni_ip4_pair_ok(s, p) ||
            !pni_udp_input_fast(s, pkt, &u))
            return 0;
        PNI_STAT(s, ip4_rx);
        return 1;
    }
#endif
    /* TCP: the general path's outcome without its detours, the same repr
     * handed to the same transport input. */
    pni_ip4_repr ip;
    if (!tcp_fast_ok(s, p, pkt->len, &ip))
        return 0;
    PNI_STAT(s, ip4_rx);
    if (ip.tot_len < pkt->len) { /* link padding: pni_buf_trim's result for one segment */
        pkt->len = ip.tot_len;
        pkt->tot_len = ip.tot_len;
    }
    pni_tcp_input(s, pkt, &ip);
    return 1;
}

/* see pn_internal.h */
int
pni_ip4_rx_inplace(pn_stack *s, const uint8_t *f, size_t flen, size_t l3)
{
    /* pni_ip4_rx_fast's TCP test (one segment: the caller's frame is
     * contiguous); without TCP the segment goes to the general path,
     * which answers with an ICMP error quoting it from a buffer. One
     * call from pn_inject_raw: test, count, hand to TCP. */
    const uint8_t *p = f + l3;
    size_t len = flen - l3;
    pni_ip4_repr ip;
    if (!PN_HAVE_TCP || pni_ip4_hooks_in(s) || !tcp_fast_ok(s, p, len, &ip))
        return 0;
    pni_count_frame(s, NULL, f, flen);
    PNI_STAT(s, ip4_rx);
    /* link padding trimmed, as pni_ip4_rx_fast does */
    pni_tcp_input_flat(s, p, ip.tot_len < len ? ip.tot_len : len, &ip);
    return 1;
}

/* see pn_internal.h */
void
pni_ip4_input(pn_stack *s, pni_buf *pkt)
{
    pni_ip4_repr ip;
    PNI_STAT(s, ip4_rx);
    size_t want = pkt->tot_len < PNI_IP4_MAX_HLEN ? pkt->tot_len : PNI_IP4_MAX_HLEN;
    uint8_t *p = pni_buf_linearize(s, pkt, want);
    int err = p != NULL ? pni_wire_ip4_parse(p, pkt->tot_len, &ip) : PNI_WE_TRUNC;
    if (err != 0) {
        count_bad(s, err);
        pni_buf_free(s, pkt);
        return;
    }
    if (ip.tot_len < pkt->tot_len)
        pni_buf_trim(s, pkt, ip.tot_len); /* link padding */
    if (!pni_ip4_src_ok(s, ip.src)) {
        PNI_STAT(s, ip4_bad_src);
        pni_buf_free(s, pkt);
        return;
    }
    if (!pni_hook_run(s, PN_HOOK_PRE_ROUTING, pkt)) {
        pni_buf_free(s, pkt);
        return;
    }
    if (!dst_ok(s, ip.dst)) {
        PNI_STAT(s, ip4_not_for_us);
        pni_buf_free(s, pkt);
        return;
    }
    if (ip.mf || ip.frag_off != 0) {
        pkt = pni_reass_input(s, pkt, &ip);
        if (pkt == NULL)
            return; /* held, or dropped and counted */
        /* The datagram's header is fragment zero's, rewritten. */
        p = pni_buf_linearize(s, pkt, ip.hlen);
        if (p == NULL) {
            PNI_STAT(s, ip4_bad_len);
            pni_buf_free(s, pkt);
            return;
        }
        ip.tot_len = (uint16_t)pkt->tot_len;
        ip.mf = 0;
        ip.frag_off = 0;
        ip.opts = ip.opt_len != 0 ? p + PNI_IP4_HLEN : NULL;
        ip.csum = pni_be16(p + 10);
    }
    if (!pni_hook_run(s, PN_HOOK_LOCAL_IN, pkt)) {
        pni_buf_free(s, pkt);
        return;
    }
    switch (ip.proto) {
    case PNI_IPPROTO_ICMP:
        pni_buf_pull(pkt, ip.hlen);
        pni_icmp_input(s, pkt, &ip);
        break;
    case PNI_IPPROTO_UDP:
        pni_udp_input(s, pkt, &ip);
        break;
    case PNI_IPPROTO_TCP:
        pni_tcp_input(s, pkt, &ip);
        break;
    default:
        /* RFC 1122 3.2.2.1: protocol unreachable for a transport we lack. */
        PNI_STAT(s, ip4_bad_proto);
        pni_icmp_send_error(s, pkt, &ip, PNI_ICMP_DEST_UNREACH, 2, 0);
        pni_buf_free(s, pkt);
        break;
    }
}

#define FC_HLEN (PNI_ETH_HLEN + PNI_IP4_HLEN)
#define HOOKS_OUT ((1u << PN_HOOK_LOCAL_OUT) | (1u << PN_HOOK_POST_ROUTING))

/* Sum of the two big-endian 16-bit words of an address. */
static inline uint32_t
words4(const uint8_t a[4])
{
    return ((uint32_t)a[0] << 8 | a[1]) + ((uint32_t)a[2] << 8 | a[3]);
}

static int
hooks_out(const pn_stack *s)
{
    return s->cfg.hook != NULL && (s->cfg.hook_mask & HOOKS_OUT) != 0;
}

/* The general path sent a datagram for tx (src and nh its route's
 * answers, gen the table generation they came from): remember what the
 * output cache needs, when it may serve this request at all (see the
 * notes). */
static void
fc_fill(pn_stack *s, const pni_ip4_tx *tx, uint32_t gen, const uint8_t src[4], const uint8_t nh[4])
{
    pni_ip4_fc *fc = &s->ip4fc;
    fc->gen = 0;
    if (s->cfg.medium != PN_MEDIUM_ETHERNET || hooks_out(s) || pni_ip4_is_our_bcast(s, nh) ||
        pni_ip4_is_mcast(nh))
        return;
    int32_t idx = pni_neigh_index(s, nh);
    if (idx < 0)
        return; /* held for ARP: the next datagram fills */
    uint8_t ttl = tx->ttl != 0 ? tx->ttl : s->cfg.ttl;
    uint16_t ff = tx->df ? PNI_IP4_DF : 0;
    fc->neigh = (uint32_t)idx;
    fc->tx = *tx;
    memcpy(fc->nh, nh, 4);
    fc->idh = pni_ip4_id_hash(s, src, tx->dst, tx->proto);
    uint8_t *h = fc->hdr;
    memset(h, 0, sizeof fc->hdr);
    memcpy(h + 6, s->cfg.mac.b, 6);
    pni_put_be16(h + 12, PNI_ETHERTYPE_IP4);
    h += PNI_ETH_HLEN;
    h[0] = 0x45;
    h[1] = tx->tos;
    pni_put_be16(h + 6, ff);
    h[8] = ttl;
    h[9] = tx->proto;
    memcpy(h + 12, src, 4);
    memcpy(h + 16, tx->dst, 4);
    fc->ipsum = (0x4500u | tx->tos) + ff + ((uint32_t)ttl << 8 | tx->proto) + words4(src) +
                words4(tx->dst);
    fc->gen = gen;
}

/* The output cache's path (see the notes). Returns 1 with *rc the result
 * when it sent b, 0 when the general path must run (nothing was done). */
static int
output_fast(pn_stack *s, pni_buf *b, const pni_ip4_tx *tx, int *rc)
{
    pni_ip4_fc *fc = &s->ip4fc;
    if (fc->gen != s->route_gen || memcmp(&fc->tx, tx, sizeof *tx) != 0 || b->off < FC_HLEN ||
        b->tot_len > (uint32_t)s->cfg.mtu - PNI_IP4_HLEN || hooks_out(s))
        return 0;
    pni_neigh *n = pni_neigh_hit(s, fc->neigh, fc->nh);
    if (n == NULL)
        return 0;
    uint32_t tot = b->tot_len + PNI_IP4_HLEN;
    b->off = (uint16_t)(b->off - FC_HLEN);
    b->len = (uint16_t)(b->len + FC_HLEN);
    b->tot_len += FC_HLEN;
    uint8_t *p = pni_buf_data(b);
    memcpy(p, fc->hdr, FC_HLEN);
    memcpy(p, n->mac, 6); /* Ethernet destination */
    n->used = s->now;
    uint8_t *ip = p + PNI_ETH_HLEN;
    uint16_t id = (uint16_t)(fc->idh + s->ip_id_next++);
    pni_put_be16(ip + 2, (uint16_t)tot);
    pni_put_be16(ip + 4, id);
    uint32_t x = fc->ipsum + tot + id; /* < 2^21 */
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16); /* 1..0xffff, as sum20 folds */
    pni_put_be16(ip + 10, (uint16_t)~x);
    PNI_STAT(s, ip4_tx);
    *rc = pni_iface_enqueue(s, b);
    return 1;
}

/* pni_ip4_output past the output cache: route, header, hooks, fragments.
 * Out of line, so that the cache's path, taken by nearly every datagram
 * sent, does not pay for this one's stack frame and saved registers
 * (measured: about 10 instructions a datagram). */
PNI_NOINLINE static int
output_slow(pn_stack *s, pni_buf *b, const pni_ip4_tx *tx)
{
    int rc;
    uint8_t src[4], nh[4];
    uint32_t gen = s->route_gen;
    if (pni_route_lookup(s, tx->dst, src, nh) != 0) {
        PNI_STAT(s, ip4_no_route);
        pni_buf_free(s, b);
        return PN_ENETUNREACH;
    }
    if (!pni_ip_is_zero(tx->src))
        memcpy(src, tx->src, 4);
    if (b->tot_len > 65535 - PNI_IP4_HLEN) {
        pni_buf_free(s, b);
        return PN_EMSGSIZE;
    }
    if (pni_buf_prepend(s, &b, PNI_IP4_HLEN) != 0) {
        pni_buf_free(s, b);
        return PN_ENOBUFS;
    }
    pni_ip4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.hlen = PNI_IP4_HLEN;
    ip.tos = tx->tos;
    ip.tot_len = (uint16_t)b->tot_len;
    ip.id = pni_ip4_next_id(s, src, tx->dst, tx->proto);
    ip.df = tx->df ? 1 : 0;
    ip.ttl = tx->ttl != 0 ? tx->ttl : s->cfg.ttl;
    ip.proto = tx->proto;
    memcpy(ip.src, src, 4);
    memcpy(ip.dst, tx->dst, 4);
    pni_wire_ip4_emit(&ip, pni_buf_data(b), b->len);
    if (!pni_hook_run(s, PN_HOOK_LOCAL_OUT, b)) {
        pni_buf_free(s, b);
        return 0;
    }
    PNI_STAT(s, ip4_tx);
    if (ip.tot_len > s->cfg.mtu) {
        if (ip.df) {
            PNI_STAT(s, ip4_df_drop);
            pni_buf_free(s, b);
            return PN_EMSGSIZE;
        }
        return pni_frag_output(s, b, &ip, s->cfg.mtu, nh);
    }
    rc = pni_iface_output_ip(s, b, nh);
    if (rc == 0)
        fc_fill(s, tx, gen, src, nh);
    return rc;
}

/* see pn_internal.h */
int
pni_ip4_output(pn_stack *s, pni_buf *b, const pni_ip4_tx *tx)
{
    int rc;
    if (output_fast(s, b, tx, &rc))
        return rc;
    return output_slow(s, b, tx);
}
