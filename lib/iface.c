/*
 * iface.c -- the medium: Ethernet II (or bare IPv4 for a TUN-like device),
 * link-layer receive filtering, the egress queue, taps and filter hooks.
 *
 * IMPLEMENTATION NOTES
 * - Receive (Ethernet): a frame is accepted when its destination is our
 *   MAC, the broadcast address, or (only with cfg.accept_multicast) a
 *   group address (I/G bit set); anything else is counted and dropped.
 *   802.1Q: a priority tag (VID 0, IEEE 802.1Q 9.6: "the frame carries
 *   priority information only") is accepted and treated as untagged;
 *   every other VID is counted eth_vlan_drop (we are not on any VLAN).
 *   A frame received as link broadcast/multicast gets PNI_BUF_F_L2_BCAST
 *   so that no ICMP error is ever sent about it (RFC 1122 3.2.2).
 * - Frames are not padded to the 60-byte Ethernet minimum on output: the
 *   MAC (or the TAP driver) pads, as every NIC does; a 42-byte ARP is what
 *   Linux writes to a TAP device too.
 * - Egress queue: a FIFO of finished frames linked through qnext, bounded
 *   by cfg.egress_max_pkts AND cfg.egress_max_bytes. Drop-tail: the frame
 *   that does not fit is the one dropped (the newest), counted in
 *   egress_drop_pkts and egress_drop_bytes, and PN_ENOBUFS goes back up so
 *   a datagram sender learns about it at the call. pn_drain_raw (api.c)
 *   pops the head and decrements stats.egress_pkts/egress_bytes.
 * - The OUT tap sees a frame when it enters the queue (it will cross the
 *   wire, in that order); a frame dropped by the queue is not tapped.
 * - Hooks see IPv4 packets from the IP header on; a PN_DROP is counted in
 *   hook_drop_<point> by pni_hook_run and the caller frees the packet.
 */
#include "pn_internal.h"

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ------------------------------------------------------------------ hooks */

/* see pn_internal.h */
int
pni_hook_call(pn_stack *s, int point, const pni_buf *ip)
{
    pn_pktview v;
    pni_buf_view(ip, &v);
    if (s->cfg.hook(s->cfg.hook_user, point, &v) != PN_DROP)
        return 1;
    switch (point) {
    case PN_HOOK_PRE_ROUTING:
        PNI_STAT(s, hook_drop_pre_routing);
        break;
    case PN_HOOK_LOCAL_IN:
        PNI_STAT(s, hook_drop_local_in);
        break;
    case PN_HOOK_LOCAL_OUT:
        PNI_STAT(s, hook_drop_local_out);
        break;
    default:
        PNI_STAT(s, hook_drop_post_routing);
        break;
    }
    return 0;
}

/* ---------------------------------------------------------------- receive */

/* see pn_internal.h */
void
pni_iface_input(pn_stack *s, pni_buf *frame)
{
    int l3 = pni_iface_l3(s, pni_buf_data(frame), frame->len);
    if (l3 >= 0) {
        pni_iface_input_l3(s, frame, l3);
        return;
    }
    size_t want = frame->tot_len < PNI_ETH_VLAN_HLEN ? frame->tot_len : PNI_ETH_VLAN_HLEN;
    uint8_t *p = pni_buf_linearize(s, frame, want);
    pni_eth_repr eth;
    if (p == NULL || pni_wire_eth_parse(p, frame->len, &eth) != 0) {
        PNI_STAT(s, eth_bad_len);
        pni_buf_free(s, frame);
        return;
    }
    if (eth.dst[0] & 1) {
        if (memcmp(eth.dst, bcast_mac, 6) != 0 && !s->cfg.accept_multicast) {
            PNI_STAT(s, eth_multicast_drop);
            pni_buf_free(s, frame);
            return;
        }
        frame->flags |= PNI_BUF_F_L2_BCAST;
    } else if (memcmp(eth.dst, s->cfg.mac.b, 6) != 0) {
        PNI_STAT(s, eth_not_for_us);
        pni_buf_free(s, frame);
        return;
    }
    if (eth.has_vlan && (eth.vlan_tci & 0x0fff) != 0) {
        PNI_STAT(s, eth_vlan_drop);
        pni_buf_free(s, frame);
        return;
    }
    pni_buf_pull(frame, eth.hlen);
    switch (eth.ethertype) {
    case PNI_ETHERTYPE_ARP:
        pni_neigh_arp_input(s, frame, &eth);
        break;
    case PNI_ETHERTYPE_IP4:
        pni_ip4_input(s, frame);
        break;
    default:
        PNI_STAT(s, eth_bad_type);
        pni_buf_free(s, frame);
        break;
    }
}

/* ----------------------------------------------------------------- output */

/* see pn_internal.h */
int
pni_buf_prepend(pn_stack *s, pni_buf **pb, size_t n)
{
    pni_buf *b = *pb;
    if (pni_buf_push(b, n) == 0)
        return 0;
    pni_buf *h = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_RAW, 0);
    if (h == NULL)
        return -1;
    if (n > h->cap) {
        pni_buf_free(s, h);
        return -1;
    }
    h->off = (uint16_t)(h->cap - n); /* all the rest is headroom */
    h->len = (uint16_t)n;
    h->tot_len = (uint32_t)n;
    h->flags = b->flags;
    pni_buf_cat(h, b);
    *pb = h;
    return 0;
}

/* see pn_internal.h */
int
pni_iface_output_eth(pn_stack *s, pni_buf *pkt, const uint8_t dst[6], uint16_t ethertype)
{
    if (pni_buf_prepend(s, &pkt, PNI_ETH_HLEN) != 0) {
        pni_buf_free(s, pkt);
        return PN_ENOBUFS;
    }
    pni_eth_repr eth;
    memset(&eth, 0, sizeof eth);
    memcpy(eth.dst, dst, 6);
    memcpy(eth.src, s->cfg.mac.b, 6);
    eth.ethertype = ethertype;
    eth.hlen = PNI_ETH_HLEN;
    pni_wire_eth_emit(&eth, pni_buf_data(pkt), pkt->len);
    return pni_iface_enqueue(s, pkt);
}

/* RFC 1112 6.4: 01:00:5e + the low 23 bits of the group address. */
static void
mcast_mac(const uint8_t ip[4], uint8_t mac[6])
{
    mac[0] = 0x01;
    mac[1] = 0x00;
    mac[2] = 0x5e;
    mac[3] = ip[1] & 0x7f;
    mac[4] = ip[2];
    mac[5] = ip[3];
}

/* see pn_internal.h */
int
pni_iface_output_ip(pn_stack *s, pni_buf *pkt, const uint8_t nh[4])
{
    if (!pni_hook_run(s, PN_HOOK_POST_ROUTING, pkt)) {
        pni_buf_free(s, pkt);
        return 0;
    }
    if (s->cfg.medium == PN_MEDIUM_IP)
        return pni_iface_enqueue(s, pkt);
    uint8_t mac[6];
    if (pni_ip4_is_our_bcast(s, nh)) {
        memcpy(mac, bcast_mac, 6);
    } else if (pni_ip4_is_mcast(nh)) {
        mcast_mac(nh, mac);
    } else if (pni_neigh_resolve(s, nh, pkt, mac) != 0) {
        return 0; /* held until ARP answers, or dropped and counted */
    }
    return pni_iface_output_eth(s, pkt, mac, PNI_ETHERTYPE_IP4);
}

/* see pn_internal.h */
int
pni_iface_enqueue_drop(pn_stack *s, pni_buf *frame)
{
    PNI_STAT(s, egress_drop_pkts);
    s->stats.egress_drop_bytes += frame->tot_len;
    pni_buf_free(s, frame);
    return PN_ENOBUFS;
}

/* see pn_internal.h */
int
pni_iface_enqueue_tap(pn_stack *s, pni_buf *frame)
{
    pn_pktview v;
    pni_buf_view(frame, &v);
    s->cfg.tap(s->cfg.tap_user, PN_TAP_OUT, s->now, &v);
    return 0;
}
