/*
 * udp.c -- UDP (RFC 768, RFC 1122 4.1): sockets, bind and autobind,
 * sendto/recvfrom with bounded queues.
 *
 * IMPLEMENTATION NOTES
 * - Sockets are objects of pool[PN_POOL_UDP]; the handle is the pool
 *   index. A closed socket whose datagrams are still in the stack (egress
 *   queue, ARP hold queue, fragments) stays as PNI_UDP_CLOSING, unbound and
 *   invisible to the API, until the last charged buffer is freed: so a
 *   late pni_udp_wmem_release can never credit a new socket that reused
 *   the slot.
 * - Ports: a port is taken by a bound socket; two sockets may share a port
 *   only when both are bound to different specific addresses (a wildcard
 *   conflicts with everything on its port), as BSD without SO_REUSEADDR.
 *   Ephemeral ports follow RFC 6056 algorithm 3 ("simple hash-based"):
 *   port = 49152 + (F(laddr, raddr, rport, key) + next) mod 16384, where
 *   next is a per-stack counter stepped on every probe, trying each port
 *   once. Unpredictable without the key, never repeating quickly.
 * - Send (zero copy between layers): the payload is copied once into TX
 *   buffers allocated at PNI_LAYER_TRANSPORT and summed in the same pass
 *   (pni_csum_copy; over the chain with pni_buf_csum when it spans
 *   segments), the UDP header pushed in front, its checksum completed
 *   from that sum (RFC 768 pseudo-header; a computed 0 goes out as
 *   0xffff), then pni_ip4_output.
 *   Send budget: each TX segment is charged s->buf_size bytes (its
 *   truesize) to sock->wmem and given back by pni_buf_free, wherever the
 *   segment dies. A datagram is refused (PN_ENOBUFS, udp_nobufs) when
 *   wmem + its charge would pass cfg.udp_sndbuf -- unless nothing is in
 *   flight, so that any datagram up to 65507 bytes can always be sent by
 *   an idle socket (Linux's sock_alloc_send_skb lets one overshoot too).
 * - Send fast path: a socket remembers, for the last destination it sent
 *   to through the general path, the route's source and next hop (valid
 *   while fc_gen == s->route_gen), the address of the next hop's
 *   neighbour entry, the keyed IP ID hash, the constant header words'
 *   sums, a header template (Ethernet, IPv4, UDP; 42 bytes) and the TX
 *   buffer header as pni_buf_alloc1 would leave it, charged to it. A
 *   datagram to the same destination that fits one buffer and the MTU,
 *   on Ethernet, with no LOCAL_OUT or POST_ROUTING hook installed and the
 *   neighbour entry still REACHABLE before its deadline for that next
 *   hop (pni_neigh_hit_at), is built in place (Ethernet + IPv4 + UDP header
 *   written straight into the headroom) and enqueued with
 *   pni_iface_enqueue (taps, egress limits and drop counters as usual).
 *   Everything else -- a route table change, a stale or replaced
 *   neighbour, hooks, fragmentation, chains, medium IP, broadcast and
 *   multicast next hops -- takes the general path, which refills the
 *   cache. The bytes, IP IDs, counters, the send budget and the
 *   neighbour's LRU time are exactly the general path's.
 * - Receive demux cache: the socket lookup() found last, keyed by (dst,
 *   port) and s->udp_gen. Only bindings decide lookup()'s answer (our
 *   addresses never change), and every change of one (bind, autobind,
 *   close, slot freed) bumps udp_gen, so a hit is lookup()'s answer.
 * - Receive: RFC 1122 4.1.3.4 checksum (0 = none sent). A datagram for a
 *   port nobody holds gets ICMP port unreachable (RFC 1122 4.1.3.1; the
 *   ICMP module refuses it for broadcasts). Destination match: a socket
 *   bound to exactly the destination address wins over a wildcard one;
 *   broadcast and multicast datagrams go to the wildcard socket only.
 *   The queue is bounded by cfg.udp_rcvbuf bytes of payload
 *   (udp_rcvbuf_drop). Zero copy: the RX buffer itself is queued with the
 *   headers pulled, source address in meta (big-endian) and port in
 *   meta16.
 */
#include "pn_internal.h"
#include "csum_short.h"
#include "wire_ip4_udp.h"

#if PN_HAVE_UDP /* the whole file: see pn_features.h */

#define EPH_MIN 49152u
#define EPH_NUM 16384u
#define UDP_MAX_PAYLOAD 65507u /* 65535 - 20 - 8 */

static inline pni_udp_sock *
sock_get(pn_stack *s, int sock)
{
    if (s == NULL) /* a negative sock is above the count as unsigned */
        return NULL;
    pni_udp_sock *u = pni_pool_at(&s->pool[PN_POOL_UDP], (uint32_t)sock);
    return u != NULL && u->in_use == PNI_UDP_OPEN ? u : NULL;
}

/* A binding changed: the receive demux cache is stale. */
static void
bindings_changed(pn_stack *s)
{
    if (++s->udp_gen == 0)
        s->udp_gen = 1;
    s->udp_dm_gen = 0;
}

/* 1 if (addr, port) may be bound by `self` (NULL: nobody yet). */
static int
port_free(pn_stack *s, const pni_udp_sock *self, const uint8_t addr[4], uint16_t port)
{
    for (uint32_t i = 0; i < s->pool[PN_POOL_UDP].count; i++) {
        const pni_udp_sock *u = pni_pool_at(&s->pool[PN_POOL_UDP], i);
        if (u == NULL || u == self || u->in_use != PNI_UDP_OPEN || !u->bound || u->lport != port)
            continue;
        if (pni_ip_is_zero(u->laddr) || pni_ip_is_zero(addr) || pni_ip_eq(u->laddr, addr))
            return 0;
    }
    return 1;
}

/* RFC 6056 algorithm 3. 0 when every ephemeral port is taken. */
static uint16_t
ephemeral(pn_stack *s, const pni_udp_sock *u, const uint8_t raddr[4], uint16_t rport)
{
    uint8_t m[10];
    memcpy(m, u->laddr, 4);
    memcpy(m + 4, raddr, 4);
    pni_put_be16(m + 8, rport);
    uint32_t off = (uint32_t)pni_siphash(s->cfg.key, m, sizeof m);
    for (uint32_t n = 0; n < EPH_NUM; n++) {
        uint16_t port = (uint16_t)(EPH_MIN + (off + s->udp_next_eph) % EPH_NUM);
        s->udp_next_eph++;
        if (port_free(s, u, u->laddr, port))
            return port;
    }
    return 0;
}

/* see purenet.h */
int
pn_udp_open(pn_stack *s)
{
    if (s == NULL)
        return PN_EINVAL;
    pni_udp_sock *u = pni_pool_alloc(&s->pool[PN_POOL_UDP]);
    if (u == NULL)
        return PN_EMFILE;
    memset(u, 0, sizeof *u);
    u->in_use = PNI_UDP_OPEN;
    return (int)pni_pool_index(&s->pool[PN_POOL_UDP], u);
}

/* see purenet.h */
int
pn_udp_bind(pn_stack *s, int sock, const pn_sockaddr *local)
{
    pni_udp_sock *u = sock_get(s, sock);
    if (u == NULL)
        return PN_EBADF;
    if (local == NULL || u->bound)
        return PN_EINVAL;
    if (!pni_ip_is_zero(local->addr.b) && !pni_ip4_is_local(s, local->addr.b))
        return PN_EADDRNOTAVAIL;
    memcpy(u->laddr, local->addr.b, 4);
    uint16_t port = local->port;
    if (port == 0) {
        static const uint8_t any[4] = {0, 0, 0, 0};
        port = ephemeral(s, u, any, 0);
        if (port == 0) {
            memset(u->laddr, 0, 4);
            return PN_EADDRINUSE;
        }
    } else if (!port_free(s, u, u->laddr, port)) {
        memset(u->laddr, 0, 4);
        return PN_EADDRINUSE;
    }
    u->lport = port;
    u->bound = 1;
    bindings_changed(s);
    return 0;
}

/* Segments pni_buf_alloc will use for len bytes at the transport layer. */
static uint32_t
segs_for(const pn_stack *s, size_t len)
{
    size_t room = s->buf_size - (PNI_HR_LINK + PNI_HR_IP + PNI_HR_TRANSPORT);
    if (len <= room)
        return 1;
    return (uint32_t)(1 + (len - room + s->buf_size - 1) / s->buf_size);
}

#define FAST_HLEN (PNI_ETH_HLEN + PNI_IP4_HLEN + PNI_UDP_HLEN)
/* where its frame starts in the buffer: FAST_HLEN before the payload,
 * which lies where pni_buf_alloc at PNI_LAYER_TRANSPORT puts it */
#define FAST_OFF (PNI_HR_LINK + PNI_HR_IP + PNI_HR_TRANSPORT - FAST_HLEN)
#define HOOKS_OUT ((1u << PN_HOOK_LOCAL_OUT) | (1u << PN_HOOK_POST_ROUTING))

/* Sum of the two big-endian 16-bit words of an address. */
static inline uint32_t
words4(const uint8_t a[4])
{
    return ((uint32_t)a[0] << 8 | a[1]) + ((uint32_t)a[2] << 8 | a[3]);
}

/* Fold a partial sum (see wire_csum.c) to 16 bits, end-around carries. A
 * nonzero sum folds into 1..0xffff, as pni_csum_fold does. */
static inline uint16_t
fold16(uint64_t x)
{
    x = (x & 0xffffffffu) + (x >> 32);
    x = (x & 0xffffffffu) + (x >> 32);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    return (uint16_t)x;
}

/* The same for a 32-bit sum (the header sums here: each term is below
 * 2^20), as pni_cs_finish folds: with x = H:L, x + (x rotated by 16) has
 * H + L + (the carry out of L + H) in its upper half, the end-around sum
 * of the halves, 0 only when both are. Nonzero sums fold into 1..0xffff. */
static inline uint16_t
fold32(uint32_t x)
{
    return (uint16_t)((x + (x >> 16 | x << 16)) >> 16);
}

/* The 16-bit value whose bytes in memory are x in network order (a load
 * of those two bytes in host order): byte order helpers for the fast
 * path, which sums header words as they lie in memory. The Internet
 * checksum does not depend on the order the words are summed in (RFC
 * 1071 2(B)): summed as host-order loads, the folded sum is the host-order
 * load of the big-endian one's bytes, and so is its complement. */
static inline uint16_t
net16(uint32_t x)
{
#if PNI_WORD_IO
    return PNI_BSWAP16((uint16_t)x);
#else
    uint8_t b[2] = {(uint8_t)(x >> 8), (uint8_t)x};
    uint16_t v;
    memcpy(&v, b, 2);
    return v;
#endif
}

/* Store v, a value in net16's terms, at p (any alignment). */
static inline void
put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

/* After a datagram to dst left through the general path (src, nh from
 * its route lookup): remember what the fast path needs, when it may be
 * used at all for this destination (see the notes). */
static void
fast_fill(pn_stack *s, pni_udp_sock *u, int sock, const uint8_t dst[4], const uint8_t src[4],
          const uint8_t nh[4])
{
    u->fc_gen = 0;
    if (s->cfg.medium != PN_MEDIUM_ETHERNET || pni_ip4_is_our_bcast(s, nh) || pni_ip4_is_mcast(nh))
        return;
    int32_t idx = pni_neigh_index(s, nh);
    if (idx < 0)
        return; /* not resolved yet (held): the next send fills */
    u->fc_n = pni_pool_at(&s->pool[PN_POOL_NEIGH], (uint32_t)idx);
    memcpy(u->fc_nh, nh, 4);
    /* Template: Ethernet II from us, IPv4 without options, DF clear, TOS
     * 0, the config's TTL (as the general path sends), UDP from lport. */
    uint8_t *h = u->fc_hdr;
    memset(h, 0, sizeof u->fc_hdr);
    memcpy(h + 6, s->cfg.mac.b, 6);
    pni_put_be16(h + 12, PNI_ETHERTYPE_IP4);
    h += PNI_ETH_HLEN;
    h[0] = 0x45;
    h[8] = s->cfg.ttl;
    h[9] = PNI_IPPROTO_UDP;
    memcpy(h + 12, src, 4);
    memcpy(h + 16, dst, 4);
    pni_put_be16(h + PNI_IP4_HLEN, u->lport);
    u->fc_idh = pni_ip4_id_hash(s, src, dst, PNI_IPPROTO_UDP);
    /* the sums' constant parts, in net16's terms: with the source port
     * (bound for good before the first fill) */
    u->fc_psum = net16(fold32(words4(src) + words4(dst) + PNI_IPPROTO_UDP + u->lport));
    u->fc_ipsum = net16(
        fold32(0x4500u + ((uint32_t)s->cfg.ttl << 8 | PNI_IPPROTO_UDP) + words4(src) + words4(dst)));
    /* one buffer past the headroom reserved by the layer, and the MTU */
    uint32_t room = s->buf_size - (PNI_HR_LINK + PNI_HR_IP + PNI_HR_TRANSPORT);
    uint32_t mtu_room = (uint32_t)s->cfg.mtu - (PNI_IP4_HLEN + PNI_UDP_HLEN);
    u->fc_maxlen = (uint16_t)(room < mtu_room ? room : mtu_room);
    /* The frame's buffer header as pni_buf_alloc1 leaves it (send_fast's
     * headroom, lengths to fill) and charged to this socket. */
    pni_buf t;
    pni_buf_hdr_init(&t, s->buf_size, PN_POOL_TXBUF, FAST_OFF, 0);
    t.owner_kind = 1;
    t.owner = (uint16_t)sock;
    memcpy(u->fc_bhdr, &t, sizeof u->fc_bhdr);
    u->fc_gen = s->route_gen;
}

/* The fast path (see the notes). Returns 0 when the general path must
 * run (nothing was done), else 1 with *res the pn_udp_sendto result. */
static int
send_fast(pn_stack *s, pni_udp_sock *u, const void *data, size_t len, uint16_t dport, int *res)
{
    pni_neigh *n = pni_neigh_hit_at(s, u->fc_n, u->fc_nh);
    if (n == NULL)
        return 0;
    *res = PN_ENOBUFS;
    if (u->wmem > 0 && (uint64_t)u->wmem + s->buf_size > s->cfg.udp_sndbuf) {
        PNI_STAT(s, udp_nobufs);
        return 1;
    }
    /* One segment (the caller checked len against the room): the frame
     * starts FAST_HLEN into the headroom the layer reserves, the payload
     * where the general path would put it. */
    pni_buf *b = pni_pool_alloc(&s->pool[PN_POOL_TXBUF]);
    if (b == NULL) {
        PNI_STAT(s, tx_nobufs); /* as pni_buf_alloc1 counts it */
        return 1;
    }
    /* pni_buf_alloc1's header, owner set, from the template in one copy;
     * the lengths last, where the queueing reads them back */
    memcpy(b, u->fc_bhdr, sizeof u->fc_bhdr);
    uint8_t *p = b->blk + FAST_OFF; /* pni_buf_data(b), off known */
    uint32_t psum = len <= PNI_CSUM_SHORT_MAX
                            ? pni_csum_copy_short(p + FAST_HLEN, data, len)
                            : fold16(pni_csum_copy(p + FAST_HLEN, data, len, 0));
    u->wmem += s->buf_size;
    memcpy(p, u->fc_hdr, FAST_HLEN);
    n->used = s->now;
    memcpy(p, n->mac, 6); /* Ethernet destination */
    uint8_t *ip = p + PNI_ETH_HLEN;
    uint32_t l = (uint32_t)len; /* below fc_maxlen: no length wraps */
    /* the fields and sums in net16's terms (see there) */
    uint16_t tot = net16(l + PNI_IP4_HLEN + PNI_UDP_HLEN);
    uint16_t id = net16(u->fc_idh + s->ip_id_next++);
    put16(ip + 2, tot);
    put16(ip + 4, id);
    put16(ip + 10, (uint16_t)~fold32(u->fc_ipsum + tot + id));
    /* UDP, checksum over the pseudo-header, header and payload (RFC 768;
     * the length twice: pseudo-header and header) */
    uint8_t *uh = ip + PNI_IP4_HLEN;
    uint16_t dp = net16(dport), ulen = net16(l + PNI_UDP_HLEN);
    put16(uh + 2, dp);
    put16(uh + 4, ulen);
    uint16_t c = (uint16_t)~fold32(u->fc_psum + dp + 2u * ulen + net16(psum));
    put16(uh + 6, c == 0 ? 0xffff : c); /* 0 and 0xffff in either order */
    uint32_t flen = l + FAST_HLEN;
    b->tot_len = flen;
    b->len = (uint16_t)flen;
    PNI_STAT(s, ip4_tx);
    int rc = pni_iface_enqueue(s, b);
    if (rc < 0) {
        *res = rc;
        return 1;
    }
    PNI_STAT(s, udp_tx);
    *res = (int)len;
    return 1;
}

PNI_NOINLINE static int send_general(pn_stack *s, pni_udp_sock *u, int sock, const void *data,
                                     size_t len, const pn_sockaddr *to);

/* see purenet.h */
int
pn_udp_sendto(pn_stack *s, int sock, const void *data, size_t len, const pn_sockaddr *to,
              uint64_t now)
{
    pni_udp_sock *u = sock_get(s, sock);
    if (u == NULL)
        return PN_EBADF;
    pni_time(s, now);
    if (to == NULL)
        return PN_EINVAL;
    /* The fast path first, with the argument checks it needs: a cached
     * destination is never 0.0.0.0 (fast_fill runs only after a datagram
     * to it left), so a match passes that check. (fc_maxlen <
     * UDP_MAX_PAYLOAD: the length check below can wait.) */
    if (u->fc_gen == s->route_gen && pni_ip_eq(u->fc_hdr + PNI_ETH_HLEN + 16, to->addr.b) &&
        to->port != 0 && len <= u->fc_maxlen && (data != NULL || len == 0) &&
        (s->cfg.hook == NULL || (s->cfg.hook_mask & HOOKS_OUT) == 0)) {
        int res;
        if (send_fast(s, u, data, len, to->port, &res))
            return res;
    }
    if (to->port == 0 || pni_ip_is_zero(to->addr.b) || (data == NULL && len > 0))
        return PN_EINVAL;
    if (len > UDP_MAX_PAYLOAD)
        return PN_EMSGSIZE;
    return send_general(s, u, sock, data, len, to);
}

/* pn_udp_sendto past its argument checks, when the fast path did not
 * take the datagram. Out of line: the fast path's caller then keeps a
 * small frame. */
PNI_NOINLINE static int
send_general(pn_stack *s, pni_udp_sock *u, int sock, const void *data, size_t len,
             const pn_sockaddr *to)
{
    uint8_t src[4], nh[4];
    if (pni_route_lookup(s, to->addr.b, src, nh) != 0) {
        PNI_STAT(s, ip4_no_route);
        return PN_ENETUNREACH;
    }
    if (pni_ip4_is_local(s, to->addr.b))
        return PN_EHOSTUNREACH; /* no loopback device */
    if (!u->bound) {
        uint16_t port = ephemeral(s, u, to->addr.b, to->port);
        if (port == 0)
            return PN_EADDRINUSE;
        u->lport = port;
        u->bound = 1;
        bindings_changed(s);
    }
    if (!pni_ip_is_zero(u->laddr))
        memcpy(src, u->laddr, 4);
    uint32_t charge = segs_for(s, len) * s->buf_size;
    if (u->wmem > 0 && (uint64_t)u->wmem + charge > s->cfg.udp_sndbuf) {
        PNI_STAT(s, udp_nobufs);
        return PN_ENOBUFS;
    }
    pni_buf *b = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, len);
    if (b == NULL)
        return PN_ENOBUFS; /* counted tx_nobufs */
    uint64_t psum;
    if (b->next == NULL) {
        /* One segment (the usual case): sum while copying. */
        psum = len > 0 ? pni_csum_copy(pni_buf_data(b), data, len, 0) : 0;
    } else {
        pni_buf_copyin(b, 0, data, len);
        psum = pni_buf_csum(b, 0, len);
    }
    uint16_t idx = (uint16_t)sock;
    for (pni_buf *q = b; q != NULL; q = q->next) {
        q->owner_kind = 1;
        q->owner = idx;
        u->wmem += s->buf_size;
    }
    pni_buf_push(b, PNI_UDP_HLEN); /* headroom reserved by the layer */
    pni_udp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = u->lport;
    r.dport = to->port;
    r.len = (uint16_t)(len + PNI_UDP_HLEN);
    pni_wire_udp_emit(&r, pni_buf_data(b), PNI_UDP_HLEN, src, to->addr.b, psum);
    pni_ip4_tx tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.src, src, 4);
    memcpy(tx.dst, to->addr.b, 4);
    tx.proto = PNI_IPPROTO_UDP;
    int rc = pni_ip4_output(s, b, &tx);
    if (rc < 0)
        return rc;
    PNI_STAT(s, udp_tx);
    fast_fill(s, u, sock, to->addr.b, src, nh);
    return (int)len;
}

/* Dequeue the head datagram of u (queue not empty) into buf. Out of line:
 * the caller's empty-queue poll then needs no stack frame. */
PNI_NOINLINE static int
recv_one(pn_stack *s, pni_udp_sock *u, void *buf, size_t cap, pn_sockaddr *from)
{
    pni_buf *b = u->rq_head;
    u->rq_head = b->qnext;
    if (u->rq_head == NULL)
        u->rq_tail = NULL;
    b->qnext = NULL;
    u->rq_bytes -= b->tot_len;
    size_t n = b->tot_len < cap ? b->tot_len : cap;
    if (n > 0 && b->next == NULL)
        memcpy(buf, pni_buf_data(b), n); /* n <= len == tot_len */
    else if (n > 0)
        pni_buf_copyout(b, 0, buf, n);
    if (from != NULL) {
        pni_put_be32(from->addr.b, b->meta);
        from->port = b->meta16;
    }
    if (!pni_buf_free_fast(s, b))
        pni_buf_free(s, b);
    return (int)n;
}

/* see purenet.h */
int
pn_udp_recvfrom(pn_stack *s, int sock, void *buf, size_t cap, pn_sockaddr *from)
{
    pni_udp_sock *u = sock_get(s, sock);
    if (u == NULL)
        return PN_EBADF;
    if (buf == NULL && cap > 0)
        return PN_EINVAL;
    if (u->rq_head == NULL)
        return PN_EAGAIN;
    return recv_one(s, u, buf, cap, from);
}

static void
sock_free(pn_stack *s, pni_udp_sock *u)
{
    bindings_changed(s);
    u->in_use = PNI_UDP_FREE;
    pni_pool_free(&s->pool[PN_POOL_UDP], u);
}

/* see purenet.h */
int
pn_udp_close(pn_stack *s, int sock)
{
    pni_udp_sock *u = sock_get(s, sock);
    if (u == NULL)
        return PN_EBADF;
    pni_buf_free_queue(s, u->rq_head);
    u->rq_head = NULL;
    u->rq_tail = NULL;
    u->rq_bytes = 0;
    u->bound = 0;
    u->lport = 0;
    bindings_changed(s);
    if (u->wmem > 0)
        u->in_use = PNI_UDP_CLOSING;
    else
        sock_free(s, u);
    return 0;
}

/* see pn_internal.h */
void
pni_udp_closed_free(pn_stack *s, pni_udp_sock *u)
{
    sock_free(s, u);
}

/* The socket for a datagram to (dst, port), or NULL: a full walk. */
static pni_udp_sock *
lookup_walk(pn_stack *s, const uint8_t dst[4], uint16_t port)
{
    int unicast = pni_ip4_is_local(s, dst);
    pni_udp_sock *wild = NULL;
    for (uint32_t i = 0; i < s->pool[PN_POOL_UDP].count; i++) {
        pni_udp_sock *u = pni_pool_at(&s->pool[PN_POOL_UDP], i);
        if (u == NULL || u->in_use != PNI_UDP_OPEN || !u->bound || u->lport != port)
            continue;
        if (pni_ip_is_zero(u->laddr)) {
            if (wild == NULL)
                wild = u;
        } else if (unicast && pni_ip_eq(u->laddr, dst)) {
            return u;
        }
    }
    return wild;
}

/* lookup_walk's answer, from the demux cache when it holds (dst, port). */
static PNI_ALWAYS_INLINE pni_udp_sock *
lookup(pn_stack *s, const uint8_t dst[4], uint16_t port)
{
    if (s->udp_dm_gen == s->udp_gen && s->udp_dm_port == port && pni_ip_eq(s->udp_dm_dst, dst))
        return s->udp_dm_u;
    pni_udp_sock *u = lookup_walk(s, dst, port);
    if (u != NULL) {
        memcpy(s->udp_dm_dst, dst, 4);
        s->udp_dm_port = port;
        s->udp_dm_u = u;
        s->udp_dm_gen = s->udp_gen;
    }
    return u;
}

/* Validate a datagram that spans a chain (reassembled): length and the
 * checksum over the chain. 0 or a PNI_WE_* code; fills r's ports/len. */
static int
check_chain(const pni_buf *pkt, size_t hlen, const pni_ip4_repr *ip, pni_udp_repr *r)
{
    uint8_t h[PNI_UDP_HLEN];
    size_t avail = pkt->tot_len - hlen;
    if (avail < PNI_UDP_HLEN || pni_buf_copyout(pkt, hlen, h, sizeof h) != sizeof h)
        return PNI_WE_TRUNC;
    r->sport = pni_be16(h);
    r->dport = pni_be16(h + 2);
    r->len = pni_be16(h + 4);
    r->csum = pni_be16(h + 6);
    if (r->len < PNI_UDP_HLEN || r->len > avail)
        return PNI_WE_BADLEN;
#ifndef PN_FUZZ_NO_CSUM
    if (r->csum != 0) {
        uint64_t sum = pni_csum_pseudo4(ip->src, ip->dst, PNI_IPPROTO_UDP, r->len);
        sum += pni_buf_csum(pkt, hlen, r->len);
        if (pni_csum_fold(sum) != 0xffff)
            return PNI_WE_BADCSUM;
    }
#else
    (void)ip;
#endif
    return 0;
}

/* Queue a received datagram (pkt data = its payload) on u, with the
 * sender's address and port for recvfrom; plen payload bytes charged. */
static PNI_ALWAYS_INLINE void
rq_append(pni_udp_sock *u, pni_buf *pkt, uint32_t src, uint16_t sport, uint32_t plen)
{
    pkt->meta = src;
    pkt->meta16 = sport;
    pni_pktq_push(&u->rq_head, &u->rq_tail, pkt);
    u->rq_bytes += plen;
}

/* pni_udp_input_fast once the socket u (or NULL) is known. */
static PNI_ALWAYS_INLINE int
input_fast_to(pn_stack *s, pni_udp_sock *u, pni_buf *pkt, const pni_udp_repr *r, const uint8_t *p)
{
    uint32_t plen = (uint32_t)r->len - PNI_UDP_HLEN;
    if (u == NULL || (uint64_t)u->rq_bytes + plen > s->cfg.udp_rcvbuf)
        return 0; /* the general path sends the ICMP error or counts the drop */
    PNI_STAT(s, udp_rx);
    /* pni_udp_input's queueing for a one-segment datagram: trimmed to the
     * UDP length (IP's padding trim included), headers pulled. */
    uint32_t end = PNI_IP4_HLEN + (uint32_t)r->len;
    pkt->len = (uint16_t)end;
    pkt->tot_len = end;
    pni_buf_pull(pkt, PNI_IP4_HLEN + PNI_UDP_HLEN);
    rq_append(u, pkt, pni_be32(p + 12), r->sport, plen);
    return 1;
}

/* pni_udp_input_fast when the demux cache does not hold (dst, port): the
 * walk, which fills it. Out of line and reached by a tail call, so that
 * the cache hit needs no stack frame. */
PNI_NOINLINE static int
input_fast_miss(pn_stack *s, pni_buf *pkt, const pni_udp_repr *r)
{
    const uint8_t *p = pni_buf_data(pkt);
    return input_fast_to(s, lookup(s, p + 16, r->dport), pkt, r, p);
}

/* see pn_internal.h */
int
pni_udp_input_fast(pn_stack *s, pni_buf *pkt, const pni_udp_repr *r)
{
    const uint8_t *p = pni_buf_data(pkt);
    /* lookup()'s cache hit, inline */
    if (s->udp_dm_gen != s->udp_gen || s->udp_dm_port != r->dport ||
        !pni_ip_eq(s->udp_dm_dst, p + 16))
        return input_fast_miss(s, pkt, r);
    pni_udp_sock *u = s->udp_dm_u;
    return input_fast_to(s, u, pkt, r, p);
}

/* see pn_internal.h */
int
pni_udp_rx_inplace(pn_stack *s, const uint8_t *f, size_t flen, size_t l3)
{
    /* pni_ip4_rx_fast's UDP test, for a frame the buffered path would
     * hold in one RX block only (so that the pool sees the same one
     * allocation either way), then input_fast_to's. */
    const uint8_t *p = f + l3;
    pni_udp_repr r;
    if (p[9] != PNI_IPPROTO_UDP || flen > s->buf_size || pni_ip4_hooks_in(s) ||
        pni_wire_ip4_udp_fast_inline(p, flen - l3, &r) != 0 || !pni_ip4_pair_ok(s, p))
        return 1;
    pni_udp_sock *u = lookup(s, p + 16, r.dport);
    uint32_t plen = (uint32_t)r.len - PNI_UDP_HLEN;
    if (u == NULL || (uint64_t)u->rq_bytes + plen > s->cfg.udp_rcvbuf)
        return 1; /* the general path sends the ICMP error or counts the drop */
    /* Copy on retain: what input_fast_to queues (the payload, trimmed to
     * the UDP length), in a block of its own. */
    pni_buf *b = pni_buf_alloc1(s, PN_POOL_RXBUF, 0, plen);
    if (b == NULL) {
        PNI_STAT(s, inject_nobufs); /* rx_nobufs counted by the alloc */
        return PN_ENOBUFS;
    }
    memcpy(pni_buf_data(b), r.payload, plen);
    pni_count_frame(s, NULL, f, flen);
    PNI_STAT(s, udp_rx);
    PNI_STAT(s, ip4_rx);
    rq_append(u, b, pni_be32(p + 12), r.sport, plen);
    return 0;
}

/* see pn_internal.h */
void
pni_udp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    PNI_STAT(s, udp_rx);
    size_t hlen = ip->hlen;
    pni_udp_repr r;
    int err;
    if (pkt->next == NULL)
        err = pni_wire_udp_parse(pni_buf_data(pkt) + hlen, pkt->len - hlen, ip->src, ip->dst, &r);
    else
        err = check_chain(pkt, hlen, ip, &r);
    if (err != 0) {
        if (err == PNI_WE_BADCSUM)
            PNI_STAT(s, udp_bad_csum);
        else
            PNI_STAT(s, udp_bad_len);
        pni_buf_free(s, pkt);
        return;
    }
    pni_udp_sock *u = lookup(s, ip->dst, r.dport);
    if (u == NULL) {
        PNI_STAT(s, udp_no_port);
        pni_icmp_send_error(s, pkt, ip, PNI_ICMP_DEST_UNREACH, PNI_ICMP_PORT_UNREACH, 0);
        pni_buf_free(s, pkt);
        return;
    }
    uint32_t plen = (uint32_t)r.len - PNI_UDP_HLEN;
    if ((uint64_t)u->rq_bytes + plen > s->cfg.udp_rcvbuf) {
        PNI_STAT(s, udp_rcvbuf_drop);
        pni_buf_free(s, pkt);
        return;
    }
    /* Keep the buffer: headers off, trailing bytes past the UDP length
     * (allowed by RFC 768's length field) trimmed. */
    if (pkt->tot_len > hlen + r.len)
        pni_buf_trim(s, pkt, hlen + r.len);
    pni_buf_pull(pkt, hlen + PNI_UDP_HLEN);
    rq_append(u, pkt, pni_be32(ip->src), r.sport, plen);
}

#endif /* PN_HAVE_UDP */
