/*
 * neigh.c -- ARP (RFC 826) and the neighbour cache with its queues of
 * packets waiting for resolution.
 *
 * IMPLEMENTATION NOTES
 * - Entries live in pool[PN_POOL_NEIGH] (cfg.neigh_entries) and are
 *   walked by index; the pool's in-use byte says which are live. States:
 *   INCOMPLETE (request sent, packets held) and REACHABLE (MAC known until
 *   `deadline` = learn time + cfg.neigh_ttl_us). A free slot is back in the
 *   pool, so "every pool at zero" also means "cache empty".
 * - Receive follows RFC 826 "Packet Reception": if the sender's protocol
 *   address is in the table, update its MAC (merge, refreshing the
 *   lifetime); then, if we are the target, add the sender when it was not
 *   merged -- but only for a REQUEST: a reply we did not ask for creates no
 *   entry (arp_unsolicited), so that nobody can fill the table or plant a
 *   mapping by spraying replies. A request for one of our addresses is
 *   answered with a reply to the requester's hardware address.
 *   Requests with sender 0.0.0.0 (RFC 5227 probes) are answered but not
 *   learnt. Sender addresses that cannot be a neighbour (broadcast,
 *   multicast) or a group sender MAC are arp_bad.
 * - Resolve: a REACHABLE entry before its deadline gives the MAC (and its
 *   `used` time moves: LRU). Otherwise the packet is held on the entry
 *   (FIFO through qnext, at most cfg.neigh_hold_pkts: overflow drops the
 *   new packet, neigh_hold_drop) and a broadcast request goes out at once;
 *   poll repeats it every cfg.arp_retry_us until cfg.arp_retries requests
 *   were sent, and one retry interval after the last one gives up: the held
 *   packets are dropped, each counted arp_resolve_fail (a held TCP segment
 *   is first reported to TCP: pni_tcp_link_failure), and the entry is
 *   freed. On the reply the held packets leave IN ORDER.
 * - Full table: a new next hop takes the least recently used REACHABLE
 *   entry (REACHABLE entries never hold packets); if every entry is
 *   INCOMPLETE (all hold packets) the new packet is dropped
 *   (neigh_table_full). Ties on `used` go to the lowest index
 *   (deterministic).
 * - An expired REACHABLE entry is freed by poll, or at once when a resolve
 *   finds it stale, so a send after expiry asks again.
 * - find() tries the entry it returned last before walking (neigh_hint).
 * - Earliest deadline in O(1): pn_next_deadline runs once or twice per
 *   caller loop turn, so it must not walk the table. s->neigh_next caches
 *   the minimum deadline of the live entries (PN_TIME_NEVER when none).
 *   Every deadline change goes through set_deadline(): a new deadline
 *   below the cache lowers it at once; when the entry that held the
 *   minimum moves later or is freed, the cache is marked dirty, and each
 *   of the three entry points (resolve, ARP input, poll) rescans once
 *   before returning (settle()). The rescan is O(entries), like the find()
 *   those paths already make, and happens only when the earliest entry
 *   changes (an ARP refresh of it, its expiry), never per data packet. So
 *   the cache is exact between any two calls, not just a lower bound
 *   (debug builds compare it with a full scan).
 */
#include "pn_internal.h"

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static pni_pool *
npool(pn_stack *s)
{
    return &s->pool[PN_POOL_NEIGH];
}

static pni_neigh *
nat(const pn_stack *s, uint32_t i)
{
    return pni_pool_at(&s->pool[PN_POOL_NEIGH], i);
}

/* Minimum deadline over the live entries, by a full walk. */
static uint64_t
scan_deadline(const pn_stack *s)
{
    uint64_t d = PN_TIME_NEVER;
    for (uint32_t i = 0; i < s->pool[PN_POOL_NEIGH].count; i++) {
        const pni_neigh *n = nat(s, i);
        if (n != NULL && n->deadline < d)
            d = n->deadline;
    }
    return d;
}

/* Change n's deadline, keeping s->neigh_next exact (see notes). */
static void
set_deadline(pn_stack *s, pni_neigh *n, uint64_t d)
{
    uint64_t old = n->deadline;
    n->deadline = d;
    if (d < s->neigh_next)
        s->neigh_next = d;
    else if (d != old && old == s->neigh_next)
        s->neigh_dirty = 1;
}

/* Rescan when the earliest entry moved later or left. */
static void
settle(pn_stack *s)
{
    if (s->neigh_dirty) {
        s->neigh_dirty = 0;
        s->neigh_next = scan_deadline(s);
    }
}

/* The live entry for ip, or NULL. Live entries have distinct addresses
 * (an entry is only made after find() said none), so the entry found last
 * (s->neigh_hint), when it is live and matches, is the answer: one
 * compare instead of a walk for a stream of packets to one next hop. */
static pni_neigh *
find(pn_stack *s, const uint8_t ip[4])
{
    pni_neigh *h = nat(s, s->neigh_hint);
    if (h != NULL && pni_ip_eq(h->ip, ip))
        return h;
    for (uint32_t i = 0; i < s->pool[PN_POOL_NEIGH].count; i++) {
        pni_neigh *n = nat(s, i);
        if (n != NULL && pni_ip_eq(n->ip, ip)) {
            s->neigh_hint = i;
            return n;
        }
    }
    return NULL;
}

/* Drop every held packet of n, counting each in *ctr. */
static void
drop_held(pn_stack *s, pni_neigh *n, uint64_t *ctr)
{
    while (n->hold_head != NULL) {
        pni_buf *b = n->hold_head;
        n->hold_head = b->qnext;
        b->qnext = NULL;
        (*ctr)++;
        pni_buf_free(s, b);
    }
    n->hold_tail = NULL;
    n->hold_n = 0;
}

static void
release(pn_stack *s, pni_neigh *n)
{
    /* Only an INCOMPLETE entry that gave up holds packets. The transport
     * hears of it as Linux's does (its ARP failure sends a host
     * unreachable to the local socket): a TCP connect fails with
     * PN_EHOSTUNREACH instead of retrying SYNs for minutes. */
    for (const pni_buf *b = n->hold_head; b != NULL; b = b->qnext)
        pni_tcp_link_failure(s, b);
    drop_held(s, n, &s->stats.arp_resolve_fail);
    set_deadline(s, n, PN_TIME_NEVER);
    n->state = PNI_NEIGH_FREE; /* pni_neigh_hit_at's "in use" */
    pni_pool_free(npool(s), n);
}

/* Send an ARP packet: op, target hardware/protocol addresses, to the
 * Ethernet address eth_dst; sender is us with address spa. */
static void
arp_send(pn_stack *s, uint16_t op, const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4],
         const uint8_t eth_dst[6])
{
    pni_buf *b = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_LINK, PNI_ARP_LEN);
    if (b == NULL)
        return; /* counted tx_nobufs; a request is retried by poll */
    pni_arp_repr a;
    a.op = op;
    memcpy(a.sha, s->cfg.mac.b, 6);
    memcpy(a.spa, spa, 4);
    memcpy(a.tha, tha, 6);
    memcpy(a.tpa, tpa, 4);
    pni_wire_arp_emit(&a, pni_buf_data(b), b->len);
    if (op == PNI_ARP_REQUEST)
        PNI_STAT(s, arp_req_tx);
    else
        PNI_STAT(s, arp_reply_tx);
    pni_iface_output_eth(s, b, eth_dst, PNI_ETHERTYPE_ARP);
}

static void
send_request(pn_stack *s, pni_neigh *n)
{
    static const uint8_t zero_mac[6] = {0, 0, 0, 0, 0, 0};
    uint8_t src[4], nh[4];
    /* Our address on the neighbour's network (route.c's source choice). */
    if (pni_route_lookup(s, n->ip, src, nh) != 0) {
        if (s->cfg.n_addrs > 0)
            memcpy(src, s->cfg.addrs[0].addr.b, 4);
        else
            memset(src, 0, 4);
    }
    n->tries++;
    set_deadline(s, n, s->now + s->cfg.arp_retry_us);
    arp_send(s, PNI_ARP_REQUEST, src, zero_mac, n->ip, bcast_mac);
}

/* Make n REACHABLE with mac and send what it holds, in order. */
static void
learn(pn_stack *s, pni_neigh *n, const uint8_t mac[6])
{
    memcpy(n->mac, mac, 6);
    n->state = PNI_NEIGH_REACHABLE;
    n->tries = 0;
    set_deadline(s, n, s->now + s->cfg.neigh_ttl_us);
    n->used = s->now;
    pni_buf *q = n->hold_head;
    n->hold_head = NULL;
    n->hold_tail = NULL;
    n->hold_n = 0;
    while (q != NULL) {
        pni_buf *b = q;
        q = b->qnext;
        b->qnext = NULL;
        pni_iface_output_eth(s, b, mac, PNI_ETHERTYPE_IP4);
    }
}

/* A fresh entry for ip: a free slot, else the LRU REACHABLE one. Its
 * deadline is PN_TIME_NEVER until the caller sets one. */
static pni_neigh *
new_entry(pn_stack *s, const uint8_t ip[4])
{
    pni_neigh *n = NULL;
    if (npool(s)->free_head != NULL) {
        n = pni_pool_alloc(npool(s));
    } else {
        for (uint32_t i = 0; i < npool(s)->count; i++) {
            pni_neigh *c = nat(s, i);
            if (c != NULL && c->state == PNI_NEIGH_REACHABLE && (n == NULL || c->used < n->used))
                n = c;
        }
        if (n == NULL)
            return NULL;
        set_deadline(s, n, PN_TIME_NEVER); /* the old mapping leaves */
    }
    memset(n, 0, sizeof *n);
    n->deadline = PN_TIME_NEVER;
    memcpy(n->ip, ip, 4);
    n->used = s->now;
    return n;
}

static int
resolve(pn_stack *s, const uint8_t nh[4], pni_buf *pkt, uint8_t mac[6])
{
    pni_neigh *n = find(s, nh);
    if (n != NULL && n->state == PNI_NEIGH_REACHABLE) {
        if (s->now < n->deadline) {
            n->used = s->now;
            memcpy(mac, n->mac, 6);
            return 0;
        }
        release(s, n); /* stale: ask again */
        n = NULL;
    }
    if (n == NULL) {
        n = new_entry(s, nh);
        if (n == NULL) {
            PNI_STAT(s, neigh_table_full);
            pni_buf_free(s, pkt);
            return 1;
        }
        n->state = PNI_NEIGH_INCOMPLETE;
        send_request(s, n);
    }
    if (n->hold_n >= s->cfg.neigh_hold_pkts) {
        PNI_STAT(s, neigh_hold_drop);
        pni_buf_free(s, pkt);
        return 1;
    }
    pni_pktq_push(&n->hold_head, &n->hold_tail, pkt);
    n->hold_n++;
    return 1;
}

/* see pn_internal.h */
int32_t
pni_neigh_index(const pn_stack *s, const uint8_t nh[4])
{
    for (uint32_t i = 0; i < s->pool[PN_POOL_NEIGH].count; i++) {
        const pni_neigh *n = nat(s, i);
        if (n != NULL && pni_ip_eq(n->ip, nh))
            return n->state == PNI_NEIGH_REACHABLE ? (int32_t)i : -1;
    }
    return -1;
}

/* see pn_internal.h */
int
pni_neigh_resolve(pn_stack *s, const uint8_t nh[4], pni_buf *pkt, uint8_t mac[6])
{
    int r = resolve(s, nh, pkt, mac);
    settle(s);
    return r;
}

static void
arp_input(pn_stack *s, pni_buf *frame, const pni_eth_repr *eth)
{
    (void)eth;
    pni_arp_repr a;
    PNI_STAT(s, arp_rx);
    uint8_t *p = pni_buf_linearize(s, frame, frame->tot_len < PNI_ARP_LEN ? frame->tot_len : PNI_ARP_LEN);
    if (p == NULL || pni_wire_arp_parse(p, frame->len, &a) != 0 || (a.sha[0] & 1) ||
        pni_ip4_is_bcast(a.spa) || pni_ip4_is_mcast(a.spa) || pni_ip4_is_our_bcast(s, a.spa) ||
        pni_ip4_is_local(s, a.spa)) {
        /* A sender claiming one of our addresses is a conflict or a spoof:
         * never learnt, never answered. */
        PNI_STAT(s, arp_bad);
        pni_buf_free(s, frame);
        return;
    }
    if (a.op == PNI_ARP_REQUEST)
        PNI_STAT(s, arp_req_rx);
    else
        PNI_STAT(s, arp_reply_rx);
    int probe = pni_ip_is_zero(a.spa);
    /* RFC 826: merge first. */
    pni_neigh *n = probe ? NULL : find(s, a.spa);
    if (n != NULL)
        learn(s, n, a.sha);
    if (!pni_ip4_is_local(s, a.tpa)) {
        PNI_STAT(s, arp_not_for_us);
        pni_buf_free(s, frame);
        return;
    }
    if (a.op == PNI_ARP_REQUEST) {
        if (n == NULL && !probe) {
            n = new_entry(s, a.spa);
            if (n != NULL)
                learn(s, n, a.sha);
            else
                PNI_STAT(s, neigh_table_full); /* still answered */
        }
        arp_send(s, PNI_ARP_REPLY, a.tpa, a.sha, a.spa, a.sha);
    } else if (n == NULL) {
        PNI_STAT(s, arp_unsolicited);
    }
    pni_buf_free(s, frame);
}

/* see pn_internal.h */
void
pni_neigh_arp_input(pn_stack *s, pni_buf *frame, const pni_eth_repr *eth)
{
    arp_input(s, frame, eth);
    settle(s);
}

/* see pn_internal.h */
void
pni_neigh_poll(pn_stack *s)
{
    for (uint32_t i = 0; i < npool(s)->count; i++) {
        pni_neigh *n = nat(s, i);
        if (n == NULL || s->now < n->deadline)
            continue;
        if (n->state == PNI_NEIGH_INCOMPLETE && n->tries < s->cfg.arp_retries)
            send_request(s, n);
        else
            release(s, n); /* gave up, or expired */
    }
    settle(s);
}

/* see pn_internal.h */
void
pni_neigh_init(pn_stack *s)
{
    s->neigh_next = PN_TIME_NEVER;
    s->neigh_dirty = 0;
}

/* see pn_internal.h */
uint64_t
pni_neigh_deadline(const pn_stack *s)
{
    if (s->neigh_dirty) /* only inside a callback run mid-update */
        return scan_deadline(s);
#ifdef PN_DEBUG
    PNI_ASSERT(s->neigh_next == scan_deadline(s));
#endif
    return s->neigh_next;
}
