/*
 * api.c -- the instance: configuration, arena layout, inject/drain, poll,
 * deadlines, statistics and error strings. Thin by design: protocol work
 * lives in the modules.
 *
 * IMPLEMENTATION NOTES
 * - normalize() turns a caller's config into a complete one (defaults for
 *   zero fields) or rejects it; pn_arena_size and pn_stack_new both run it,
 *   then the same layout() so the size is exact.
 * - Layout: struct pn_stack first, then each pool in a fixed order, then
 *   the TCP module's state. All carving happens here, once.
 */
#include "pn_features.h"
#include "pn_internal.h"
#include "tcp.h" /* pn_next_deadline reads the timer heap's top */

#define MAX_POOL_OBJS (1u << 20)

void
pn_config_default(pn_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->medium = PN_MEDIUM_ETHERNET;
    cfg->mtu = 1500;
}

static uint32_t
dflt(uint32_t v, uint32_t d)
{
    return v != 0 ? v : d;
}

static int
addr_ok(const uint8_t a[4])
{
    return !pni_ip_is_zero(a) && !pni_ip4_is_mcast(a) && !pni_ip4_is_bcast(a);
}

static int
prefix_match(const uint8_t a[4], const uint8_t b[4], unsigned plen)
{
    uint32_t x = pni_be32(a), y = pni_be32(b);
    uint32_t mask = plen == 0 ? 0 : 0xffffffffu << (32 - plen);
    return ((x ^ y) & mask) == 0;
}

/* Fill defaults and check ranges. 0 or PN_EINVAL. */
static int
normalize(const pn_config *in, pn_config *c)
{
    *c = *in;
    if (c->medium != PN_MEDIUM_ETHERNET && c->medium != PN_MEDIUM_IP)
        return PN_EINVAL;
    if (c->mtu == 0)
        c->mtu = 1500;
    if (c->mtu < 68) /* RFC 791: every host must accept 68 */
        return PN_EINVAL;
    if (c->n_addrs > PN_MAX_ADDRS || c->n_routes > PN_MAX_ROUTES)
        return PN_EINVAL;
    for (unsigned i = 0; i < c->n_addrs; i++)
        if (c->addrs[i].prefix_len > 32 || !addr_ok(c->addrs[i].addr.b))
            return PN_EINVAL;
    for (unsigned i = 0; i < c->n_routes; i++) {
        const pn_route *r = &c->routes[i];
        if (r->prefix_len > 32)
            return PN_EINVAL;
        if (!pni_ip_is_zero(r->gateway.b)) {
            /* A gateway must be directly reachable on a connected network. */
            int onlink = 0;
            for (unsigned j = 0; j < c->n_addrs; j++)
                if (prefix_match(r->gateway.b, c->addrs[j].addr.b, c->addrs[j].prefix_len))
                    onlink = 1;
            if (!onlink && c->medium == PN_MEDIUM_ETHERNET)
                return PN_EINVAL;
        }
    }
    if (c->medium == PN_MEDIUM_ETHERNET && (c->mac.b[0] & 1))
        return PN_EINVAL; /* a multicast MAC cannot be ours */
    c->ttl = (uint8_t)dflt(c->ttl, 64);
    uint32_t link = c->medium == PN_MEDIUM_ETHERNET ? PNI_ETH_VLAN_HLEN : 0;
    uint32_t want = (uint32_t)c->mtu + PNI_HR_LINK + PNI_HR_IP + PNI_HR_TRANSPORT;
    want = (want + 63) & ~63u;
    if (want < 256)
        want = 256; /* small MTUs (68) still need room for full headers */
    c->buf_size = dflt(c->buf_size, want > 16384 ? 16384 : want);
    if (c->buf_size < 256 || c->buf_size > 65472 || c->buf_size < link + PNI_IP4_MAX_HLEN + PNI_TCP_MAX_HLEN)
        return PN_EINVAL;
    c->rx_bufs = dflt(c->rx_bufs, 64);
    c->tx_bufs = dflt(c->tx_bufs, 64);
    c->egress_max_pkts = dflt(c->egress_max_pkts, 64);
    c->egress_max_bytes = dflt(c->egress_max_bytes, 256 * 1024);
    c->neigh_entries = dflt(c->neigh_entries, 16);
    c->neigh_hold_pkts = dflt(c->neigh_hold_pkts, 4);
    c->neigh_ttl_us = dflt(c->neigh_ttl_us, 60000000u);
    c->arp_retry_us = dflt(c->arp_retry_us, 1000000u);
    c->arp_retries = dflt(c->arp_retries, 3);
    c->reass_slots = dflt(c->reass_slots, 4);
    c->reass_max_bytes = dflt(c->reass_max_bytes, 128 * 1024);
    c->reass_timeout_us = dflt(c->reass_timeout_us, 30000000u);
    c->udp_socks = dflt(c->udp_socks, 8);
    c->udp_rcvbuf = dflt(c->udp_rcvbuf, 64 * 1024);
    c->udp_sndbuf = dflt(c->udp_sndbuf, 64 * 1024);
    c->icmp_rate = dflt(c->icmp_rate, 100);
    c->icmp_burst = dflt(c->icmp_burst, 50);
    if (c->rx_bufs < 2 || c->tx_bufs < 2 || c->rx_bufs > MAX_POOL_OBJS || c->tx_bufs > MAX_POOL_OBJS ||
        c->neigh_entries > 65535 || c->reass_slots > MAX_POOL_OBJS || c->udp_socks > 32767 ||
        c->neigh_hold_pkts > 65535)
        return PN_EINVAL;
    if (c->hook_mask >> PN_HOOK_COUNT)
        return PN_EINVAL;
    return 0;
}

/* Carve everything; s is NULL while measuring. */
static void
layout(pn_stack *s, pni_carver *c, const pn_config *cfg)
{
    pni_pool dummy[PN_POOL_COUNT];
    pn_pool_stats dst[PN_POOL_COUNT];
    pni_pool *p = s != NULL ? s->pool : dummy;
    pn_pool_stats *st = s != NULL ? s->stats.pool : dst;
    uint32_t blk = (uint32_t)(sizeof(pni_buf) + cfg->buf_size);
    pni_pool_carve(&p[PN_POOL_RXBUF], c, blk, cfg->rx_bufs, &st[PN_POOL_RXBUF]);
    pni_pool_carve(&p[PN_POOL_TXBUF], c, blk, cfg->tx_bufs, &st[PN_POOL_TXBUF]);
    /* A feature compiled out (pn_features.h) carves no memory. */
    pni_pool_carve(&p[PN_POOL_UDP], c, sizeof(pni_udp_sock), PN_HAVE_UDP ? cfg->udp_socks : 0,
                   &st[PN_POOL_UDP]);
    pni_pool_carve(&p[PN_POOL_REASS], c, sizeof(pni_reass), PN_HAVE_FRAG ? cfg->reass_slots : 0,
                   &st[PN_POOL_REASS]);
    pni_pool_carve(&p[PN_POOL_NEIGH], c, sizeof(pni_neigh), cfg->neigh_entries, &st[PN_POOL_NEIGH]);
}

size_t
pn_arena_size(const pn_config *cfg)
{
    pn_config c;
    if (cfg == NULL || normalize(cfg, &c) != 0)
        return 0;
    pni_carver cv = {NULL, 0};
    pni_carve(&cv, sizeof(pn_stack));
    layout(NULL, &cv, &c);
    pn_stack tmp;
    tmp.cfg = c;
    pni_tcp_carve(&tmp, &cv);
    return cv.off;
}

pn_stack *
pn_stack_new(void *arena, size_t len, const pn_config *cfg, int *err)
{
    int e = 0;
    pn_config c;
    pn_stack *s = NULL;
    if (arena == NULL || cfg == NULL) {
        e = PN_EINVAL;
        goto out;
    }
    if (((uintptr_t)arena & (PN_ARENA_ALIGN - 1)) != 0) {
        e = PN_EALIGN;
        goto out;
    }
    if (normalize(cfg, &c) != 0) {
        e = PN_EINVAL;
        goto out;
    }
    if (len < pn_arena_size(&c)) {
        e = PN_ENOMEM;
        goto out;
    }
    pni_carver cv = {(uint8_t *)arena, 0};
    s = pni_carve(&cv, sizeof(pn_stack));
    memset(s, 0, sizeof *s);
    s->cfg = c;
    s->buf_size = c.buf_size;
    s->max_frame = (uint32_t)c.mtu + (c.medium == PN_MEDIUM_ETHERNET ? PNI_ETH_VLAN_HLEN : 0);
    s->vec = (uint8_t)(!c.no_vector && pni_cpu_vec());
    layout(s, &cv, &c);
    s->tcp = pni_tcp_carve(s, &cv);
    s->icmp_tokens_us = (uint64_t)c.icmp_burst * 1000000u;
    s->ip_id_next = (uint32_t)pni_siphash(c.key, "ipid", 4);
    s->udp_next_eph = 0;
    s->udp_gen = 1; /* udp_dm_gen 0: the demux cache starts empty */
    pni_route_init(s);
    pni_neigh_init(s);
out:
    if (err != NULL)
        *err = e;
    return e == 0 ? s : NULL;
}

/* A received frame in b (data = the whole frame, len bytes): count it,
 * tap it and hand it to the link layer, which consumes it. The common tail
 * of pn_inject_raw and pn_inject_commit. */
static PNI_ALWAYS_INLINE int
input_frame(pn_stack *s, pni_buf *b, size_t len)
{
    pni_count_frame(s, b, NULL, len);
    pni_iface_input(s, b);
    return 0;
}

/* see purenet.h */
int
pn_inject_raw(pn_stack *s, const void *frame, size_t len, uint64_t now)
{
    if (s == NULL || frame == NULL || len == 0)
        return PN_EINVAL;
    pni_time(s, now);
    if (len > s->max_frame) {
        PNI_STAT(s, inject_too_big);
        return PN_EMSGSIZE;
    }
    /* A TCP segment for us, the common frame, is only read on its way to
     * the receive queue: processed where it lies, no buffer, no copy. A
     * UDP datagram for a socket with room is judged where it lies, and
     * only its payload copied into a buffer. The tests read only, so a
     * frame that fails them is judged and counted by the buffered path
     * below exactly as before. */
    const uint8_t *f = frame;
    int l3 = pni_iface_l3(s, f, len);
    if (l3 >= 0 && len >= (size_t)l3 + PNI_IP4_HLEN) {
        if (f[l3 + 9] == PNI_IPPROTO_TCP) {
            if (pni_ip4_rx_inplace(s, f, len, (size_t)l3))
                return 0;
        } else if (PN_HAVE_UDP) { /* refuses what is not UDP */
            int r = pni_udp_rx_inplace(s, f, len, (size_t)l3);
            if (r <= 0)
                return r;
        }
    }
    pni_buf *b;
    if (len <= s->buf_size) { /* one block: the usual case */
        b = pni_buf_alloc1(s, PN_POOL_RXBUF, 0, len);
        if (b != NULL)
            memcpy(pni_buf_data(b), f, len);
    } else {
        b = pni_buf_alloc(s, PN_POOL_RXBUF, PNI_LAYER_RAW, len);
        if (b != NULL)
            pni_buf_copyin(b, 0, f, len);
    }
    if (b == NULL) {
        PNI_STAT(s, inject_nobufs);
        return PN_ENOBUFS;
    }
    pni_count_frame(s, b, NULL, len);
    if (l3 >= 0)
        pni_iface_input_l3(s, b, l3); /* what pni_iface_input would find */
    else
        pni_iface_input(s, b);
    return 0;
}

/* Largest frame a pn_inject_buf buffer takes: one block, and no more than
 * pn_inject_raw accepts. */
static uint32_t
inject_cap(const pn_stack *s)
{
    return s->max_frame < s->buf_size ? s->max_frame : s->buf_size;
}

/* pn_inject_buf with no buffer held: take one. Out of line: the call
 * that finds its buffer still held (a host whose read() found nothing)
 * then needs no stack frame. */
PNI_NOINLINE static int
inject_take(pn_stack *s, uint8_t **buf)
{
    /* One segment, no headroom, empty until the commit says how much the
     * caller wrote: the block pn_inject_raw would copy into. */
    pni_buf *b = pni_buf_alloc1(s, PN_POOL_RXBUF, 0, 0);
    if (b == NULL) {
        PNI_STAT(s, inject_nobufs); /* rx_nobufs counted by the alloc */
        return PN_ENOBUFS;
    }
    s->inj_buf = b;
    *buf = pni_buf_data(b);
    return (int)inject_cap(s);
}

/* see purenet.h */
int
pn_inject_buf(pn_stack *s, uint8_t **buf)
{
    if (s == NULL || buf == NULL) {
        if (buf != NULL)
            *buf = NULL;
        return PN_EINVAL;
    }
    *buf = NULL;
    if (s->inj_buf == NULL)
        return inject_take(s, buf);
    *buf = pni_buf_data(s->inj_buf);
    return (int)inject_cap(s);
}

/* see purenet.h */
int
pn_inject_commit(pn_stack *s, size_t len, uint64_t now)
{
    if (s == NULL || len == 0)
        return PN_EINVAL;
    pni_buf *b = s->inj_buf;
    if (b == NULL)
        return PN_ENOENT;
    pni_time(s, now);
    s->inj_buf = NULL; /* the stack's again, whatever happens below */
    if (len > inject_cap(s)) {
        /* As pn_inject_raw counts a frame above MTU + link header; a frame
         * that fits the MTU but not one block (cfg.buf_size below the
         * MTU) cannot have been written into this buffer either. */
        PNI_STAT(s, inject_too_big);
        pni_buf_free(s, b);
        return PN_EMSGSIZE;
    }
    b->len = (uint16_t)len;
    b->tot_len = (uint32_t)len;
    return input_frame(s, b, len);
}

/* see purenet.h */
int
pn_inject_cancel(pn_stack *s)
{
    if (s == NULL)
        return PN_EINVAL;
    if (s->inj_buf == NULL)
        return PN_ENOENT;
    pni_buf_free(s, s->inj_buf);
    s->inj_buf = NULL;
    return 0;
}

/* see purenet.h */
size_t
pn_drain_peek(const pn_stack *s)
{
    if (s == NULL || s->eg_head == NULL)
        return 0;
    return s->eg_head->tot_len;
}

/* Take b, the head of the egress queue, off the queue, count it as
 * drained and free it: the common tail of pn_drain_raw and
 * pn_drain_release, so that a frame counts the same whichever call took
 * it. The OUT tap saw it when it was queued (iface.c), not here. */
static PNI_ALWAYS_INLINE void
drain_pop(pn_stack *s, pni_buf *b)
{
    s->eg_head = b->qnext;
    if (s->eg_head == NULL)
        s->eg_tail = NULL;
    b->qnext = NULL;
    s->drain_viewed = 0;
    s->stats.egress_pkts--;
    s->stats.egress_bytes -= b->tot_len;
    PNI_STAT(s, frames_out);
    s->stats.bytes_out += b->tot_len;
    if (!pni_buf_free_fast(s, b))
        pni_buf_free(s, b);
}

/* Pop the head of the (non-empty) egress queue into buf. Out of line: the
 * caller's empty-queue poll then needs no stack frame. */
PNI_NOINLINE static int
drain_one(pn_stack *s, void *buf, size_t cap)
{
    pni_buf *b = s->eg_head;
    if (cap < b->tot_len) {
        PNI_STAT(s, drain_nospc);
        return PN_ENOSPC;
    }
    int n = (int)b->tot_len;
    if (b->next == NULL)
        memcpy(buf, pni_buf_data(b), b->len); /* len == tot_len */
    else
        pni_buf_copyout(b, 0, buf, b->tot_len);
    drain_pop(s, b);
    return n;
}

/* see purenet.h */
int
pn_drain_raw(pn_stack *s, void *buf, size_t cap)
{
    if (s == NULL || (buf == NULL && cap > 0))
        return PN_EINVAL;
    if (s->eg_head == NULL)
        return 0; /* the common empty poll: no frame work below */
    return drain_one(s, buf, cap);
}

/* Make the queued frame b (a chain) contiguous in its first block, in
 * place: 0, or -1 when it cannot be (longer than a block, or a segment
 * shared with another holder, which nothing in the stack does today). The
 * emptied segments go back to their pool; the frame's length, position in
 * the queue and egress figures do not change. */
static int
view_linearize(pn_stack *s, pni_buf *b)
{
    if (b->tot_len > b->cap)
        return -1;
    for (const pni_buf *q = b; q != NULL; q = q->next)
        if (q->ref != 1)
            return -1;
    return pni_buf_linearize_slow(s, b, b->tot_len) != NULL ? 0 : -1;
}

/* Show the head of the (non-empty) egress queue. Out of line, as
 * drain_one. */
PNI_NOINLINE static int
view_one(pn_stack *s, const uint8_t **frame)
{
    pni_buf *b = s->eg_head;
    if (b->len != b->tot_len && view_linearize(s, b) != 0)
        return PN_EMSGSIZE;
    s->drain_viewed = 1;
    *frame = pni_buf_data(b);
    return (int)b->tot_len;
}

/* see purenet.h */
int
pn_drain_view(pn_stack *s, const uint8_t **frame)
{
    if (s == NULL || frame == NULL) {
        if (frame != NULL)
            *frame = NULL;
        return PN_EINVAL;
    }
    const pni_buf *b = s->eg_head;
    if (b == NULL) {
        *frame = NULL;
        return 0; /* the common empty poll */
    }
    if (b->len == b->tot_len) {
        /* view_one for a frame in one segment (the usual case), without
         * its call */
        s->drain_viewed = 1;
        *frame = b->blk + b->off;
        return (int)b->tot_len;
    }
    *frame = NULL;
    return view_one(s, frame);
}

/* see purenet.h */
int
pn_drain_release(pn_stack *s)
{
    if (s == NULL)
        return PN_EINVAL;
    if (!s->drain_viewed)
        return PN_ENOENT;
    /* drain_viewed is only set with a frame at the head, and only
     * drain_pop takes the head off (clearing it). */
    drain_pop(s, s->eg_head);
    return 0;
}

/* see purenet.h */
void
pn_poll(pn_stack *s, uint64_t now)
{
    if (s == NULL)
        return;
    pni_time(s, now);
    pni_neigh_poll(s);
    pni_reass_poll(s);
    pni_tcp_poll(s);
}

/* see purenet.h */
uint64_t
pn_next_deadline(const pn_stack *s)
{
    if (s == NULL)
        return PN_TIME_NEVER;
    /* The three modules' deadlines, read in place: each is
     * an aggregate kept exact by its module (the neighbour minimum, the
     * oldest reassembly slot, the TCP timer heap's top), so this is a few
     * loads instead of three calls (bench W2 asks twice per datagram).
     * A module compiled out (pn_features.h) has no deadline. */
#ifdef PN_DEBUG
    uint64_t d = pni_neigh_deadline(s); /* its consistency assertion */
#else
    uint64_t d = s->neigh_dirty ? pni_neigh_deadline(s) : s->neigh_next;
#endif
    uint64_t r = pni_reass_deadline(s);
    if (r < d)
        d = r;
#if PN_HAVE_TCP
    const struct pni_tcp *tp = s->tcp;
    if (tp != NULL && tp->hn != 0 && tp->hkey[0] < d)
        d = tp->hkey[0];
#endif
    return d;
}

/* see purenet.h */
const pn_stats *
pn_stats_get(const pn_stack *s)
{
    return s != NULL ? &s->stats : NULL;
}

static const char *const stat_names[] = {
#define PN_STAT_NAME_(n) #n,
    PN_STATS_LIST(PN_STAT_NAME_)
#undef PN_STAT_NAME_
};

/* see purenet.h */
size_t
pn_stats_count(void)
{
    return sizeof stat_names / sizeof stat_names[0];
}

/* see purenet.h */
const char *
pn_stats_name(size_t i)
{
    return i < pn_stats_count() ? stat_names[i] : NULL;
}

/* see purenet.h */
const char *
pn_pool_name(int pool)
{
    static const char *const names[PN_POOL_COUNT] = {"rxbuf", "txbuf", "udp", "reass",
                                                     "neigh", "tcp",   "syn", "tcpbuf"};
    return pool >= 0 && pool < PN_POOL_COUNT ? names[pool] : "?";
}

/* see purenet.h */
const char *
pn_strerror(int err)
{
    static const char *const msg[] = {
        "success",
        "invalid argument",
        "arena too small",
        "arena misaligned",
        "no buffer space",
        "try again",
        "message too long",
        "host unreachable",
        "network unreachable",
        "address in use",
        "address not available",
        "bad socket",
        "no free socket",
        "not connected",
        "already connected",
        "connection refused",
        "connection reset",
        "connection aborted",
        "timed out",
        "broken pipe",
        "already in progress",
        "in progress",
        "operation not supported",
        "protocol option not available",
        "buffer too small",
        "protocol error",
        "no such entry",
    };
    if (err > 0 || err < PN_ERRNO_MIN)
        return "unknown error";
    return msg[-err];
}
