/*
 * tcp.c -- TCP sockets: the public pn_tcp_* calls, the control block pool,
 * demultiplexing hashes, ISNs, byte queues over shared chunks, and the
 * arena carving of the module.
 *
 * IMPLEMENTATION NOTES
 * - Handle = index of the control block in PN_POOL_TCP; valid for the
 *   application while PNI_TF_USER is set (see tcp.h).
 * - Demux: bucket = SipHash-keyed hash of (laddr, lport, raddr, rport)
 *   masked; chains are linked by index through cb->hnext. A listener is
 *   hashed with raddr 0.0.0.0 and rport 0. A bound socket is also on the
 *   port hash (cb->pnext) so bind() can find conflicts in O(chain).
 *   The hash key is derived from the secret so chains cannot be forced
 *   long by a remote attacker choosing ports.
 * - Byte queues: see pni_tcpq in tcp.h. Invariant: nch chunks cover at
 *   least head_off + len bytes; a queue with len 0 and nothing beyond it
 *   holds no chunk (chunks are returned at once: idle costs nothing).
 */
#include "tcp.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

/* ---------------------------------------------------------------------
 * Configuration
 * --------------------------------------------------------------------- */

static uint32_t
dflt(uint32_t v, uint32_t d)
{
    return v != 0 ? v : d;
}

static uint32_t
clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Defaults for zero fields, out-of-range values clamped (so a config is
 * never refused for its TCP part). Run in place on s->cfg.tcp at the start
 * of pni_tcp_carve, in both the measuring and the carving pass, so every
 * later reader of s->cfg.tcp sees complete values. */
void
pni_tcp_normalize(pn_tcp_config *t)
{
    t->max_socks = clamp(dflt(t->max_socks, 16), 1, 1u << 20);
    t->sndbuf = clamp(dflt(t->sndbuf, 16384), 536, 1u << 24);
    t->rcvbuf = clamp(dflt(t->rcvbuf, 16384), 536, 1u << 24);
    if (t->buf_budget == 0) {
        uint64_t b = (uint64_t)t->max_socks * (t->sndbuf + t->rcvbuf);
        t->buf_budget = b > 0x7fffffffu ? 0x7fffffffu : (uint32_t)b;
    }
    t->syn_queue = clamp(dflt(t->syn_queue, 64), 1, 1u << 20);
    t->ooo_max_segs = clamp(dflt(t->ooo_max_segs, PNI_TCP_OOO_MAX), 1, PNI_TCP_OOO_MAX);
    if (t->syn_layout > PN_SYN_LAYOUT_FREEBSD)
        t->syn_layout = PN_SYN_LAYOUT_PURENET;
    if (t->cc > PN_CC_CUBIC)
        t->cc = PN_CC_NEWRENO;
    /* A feature compiled out (pn_features.h) is as if configured off:
     * SACK is never offered nor accepted, CUBIC falls back to NewReno as
     * an unknown cc value does. */
    if (!PN_HAVE_CUBIC && t->cc == PN_CC_CUBIC)
        t->cc = PN_CC_NEWRENO;
    if (!PN_HAVE_SACK)
        t->no_sack = 1;
    t->syn_retries = (uint8_t)dflt(t->syn_retries, 6);
    t->synack_retries = (uint8_t)dflt(t->synack_retries, 5);
    t->delack_segs = (uint8_t)dflt(t->delack_segs, 2);
    t->init_cwnd_segs = clamp(dflt(t->init_cwnd_segs, 10), 1, 1000);
    t->delack_us = clamp(dflt(t->delack_us, 40000), 1, 500000);
    t->rto_init_us = dflt(t->rto_init_us, 1000000);
    t->rto_min_us = dflt(t->rto_min_us, 200000);
    t->rto_max_us = dflt(t->rto_max_us, 60000000);
    if (t->rto_max_us < t->rto_min_us)
        t->rto_max_us = t->rto_min_us;
    t->rto_init_us = clamp(t->rto_init_us, t->rto_min_us, t->rto_max_us);
    t->msl_us = dflt(t->msl_us, 30000000);
    t->fin_wait2_us = dflt(t->fin_wait2_us, 60000000);
    t->keepidle_s = clamp(dflt(t->keepidle_s, 7200), 1, 65535);
    t->keepintvl_s = clamp(dflt(t->keepintvl_s, 75), 1, 65535);
    t->keepcnt = clamp(dflt(t->keepcnt, 9), 1, 255);
    t->challenge_ack_limit = dflt(t->challenge_ack_limit, 1000);
}

static uint32_t
pow2_at_least(uint32_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

struct pni_tcp *
pni_tcp_carve(pn_stack *s, pni_carver *c)
{
    pni_tcp_normalize(&s->cfg.tcp);
    const pn_tcp_config *t = &s->cfg.tcp;
    uint32_t nb = pow2_at_least(t->max_socks);
    uint32_t np = nb > 65536 ? 65536 : nb;
    uint32_t nheap = t->max_socks + t->syn_queue;
    uint32_t nchunks = (uint32_t)(((uint64_t)t->buf_budget + PNI_TCPCH_DATA - 1) / PNI_TCPCH_DATA);
    struct pni_tcp *tp = pni_carve(c, sizeof(struct pni_tcp));
    uint32_t *hash = pni_carve(c, sizeof(uint32_t) * nb);
    uint32_t *phash = pni_carve(c, sizeof(uint32_t) * np);
    uint32_t *shash = pni_carve(c, sizeof(uint32_t) * nb);
    uint64_t *hkey = pni_carve(c, sizeof(uint64_t) * nheap);
    uint32_t *hid = pni_carve(c, sizeof(uint32_t) * nheap);
    pni_pool dummy;
    pn_pool_stats dst;
    int live = c->base != NULL;
    pni_pool_carve(live ? &s->pool[PN_POOL_TCP] : &dummy, c, sizeof(pni_tcpcb), t->max_socks,
                   live ? &s->stats.pool[PN_POOL_TCP] : &dst);
    pni_pool_carve(live ? &s->pool[PN_POOL_SYN] : &dummy, c, sizeof(pni_tcp_syn), t->syn_queue,
                   live ? &s->stats.pool[PN_POOL_SYN] : &dst);
    pni_pool_carve(live ? &s->pool[PN_POOL_TCPBUF] : &dummy, c, sizeof(pni_tcp_chunk), nchunks,
                   live ? &s->stats.pool[PN_POOL_TCPBUF] : &dst);
    if (!live)
        return NULL;
    memset(tp, 0, sizeof *tp);
    tp->max_socks = t->max_socks;
    tp->nsyn = t->syn_queue;
    tp->hmask = nb - 1;
    tp->pmask = np - 1;
    tp->hash = hash;
    tp->phash = phash;
    tp->shash = shash;
    tp->hkey = hkey;
    tp->hid = hid;
    memset(hash, 0xff, sizeof(uint32_t) * nb);
    memset(phash, 0xff, sizeof(uint32_t) * np);
    memset(shash, 0xff, sizeof(uint32_t) * nb);
    tp->eph_next = (uint16_t)pni_siphash(s->cfg.key, "tcpeph", 6);
    tp->last_hit = PNI_NONE;
    return tp;
}

/* ---------------------------------------------------------------------
 * Control blocks, hashing
 * --------------------------------------------------------------------- */

pni_tcpcb *
pni_tcp_cb(const pn_stack *s, uint32_t idx)
{
    return pni_pool_at(&s->pool[PN_POOL_TCP], idx);
}

uint32_t
pni_tcp_idx(const pn_stack *s, const pni_tcpcb *cb)
{
    return pni_pool_index(&s->pool[PN_POOL_TCP], cb);
}

static uint32_t
tuple_hash(const pn_stack *s, const uint8_t la[4], uint16_t lp, const uint8_t ra[4], uint16_t rp)
{
    uint8_t k[12];
    memcpy(k, la, 4);
    memcpy(k + 4, ra, 4);
    pni_put_be16(k + 8, lp);
    pni_put_be16(k + 10, rp);
    return (uint32_t)pni_siphash(s->cfg.key, k, sizeof k);
}

static const uint8_t zero4[4] = {0, 0, 0, 0};

/*
 * Demux cache. The keyed SipHash of the 4-tuple costs about 600
 * instructions, more than the rest of the lookup and a good part of a
 * segment's whole receive path; a bulk transfer looks up the same
 * connection for every segment. So the last control block found is
 * remembered (tp->last_hit) and compared first. It is only a shortcut to
 * an entry of the hash table, never a second source of truth: it is
 * forgotten when that block leaves the table (hash_remove), and a hit
 * still compares the whole tuple, so the answer is always the one the
 * table walk would give. (It is written from a lookup on a const stack:
 * it lives behind s->tcp and changes nothing anyone can observe.)
 */
static int
tuple_is(const pni_tcpcb *cb, const uint8_t laddr[4], uint16_t lport, const uint8_t raddr[4],
         uint16_t rport)
{
    return cb->lport == lport && cb->rport == rport && pni_ip_eq(cb->raddr, raddr) &&
           pni_ip_eq(cb->laddr, laddr);
}

pni_tcpcb *
pni_tcp_lookup(const pn_stack *s, const uint8_t laddr[4], uint16_t lport, const uint8_t raddr[4],
               uint16_t rport)
{
    struct pni_tcp *tp = s->tcp;
    if (tp->last_hit != PNI_NONE) {
        /* pni_tcp_cb, inline: one call less per segment */
        pni_tcpcb *cb = pni_pool_at(&s->pool[PN_POOL_TCP], tp->last_hit);
        if (cb != NULL && tuple_is(cb, laddr, lport, raddr, rport))
            return cb;
    }
    uint32_t i = tp->hash[tuple_hash(s, laddr, lport, raddr, rport) & tp->hmask];
    while (i != PNI_NONE) {
        pni_tcpcb *cb = pni_tcp_cb(s, i);
        if (tuple_is(cb, laddr, lport, raddr, rport)) {
            tp->last_hit = i;
            return cb;
        }
        i = cb->hnext;
    }
    return NULL;
}

pni_tcpcb *
pni_tcp_lookup_listen(const pn_stack *s, const uint8_t laddr[4], uint16_t lport)
{
    pni_tcpcb *cb = pni_tcp_lookup(s, laddr, lport, zero4, 0);
    if (cb == NULL)
        cb = pni_tcp_lookup(s, zero4, lport, zero4, 0);
    return cb != NULL && cb->state == PN_TCP_LISTEN ? cb : NULL;
}

void
pni_tcp_hash_insert(pn_stack *s, pni_tcpcb *cb)
{
    struct pni_tcp *tp = s->tcp;
    uint32_t b = tuple_hash(s, cb->laddr, cb->lport, cb->raddr, cb->rport) & tp->hmask;
    cb->hnext = tp->hash[b];
    tp->hash[b] = pni_tcp_idx(s, cb);
    cb->t_flags |= PNI_TF_HASHED;
}

static void
hash_remove(pn_stack *s, pni_tcpcb *cb)
{
    struct pni_tcp *tp = s->tcp;
    if (!(cb->t_flags & PNI_TF_HASHED))
        return;
    uint32_t idx = pni_tcp_idx(s, cb);
    if (tp->last_hit == idx)
        tp->last_hit = PNI_NONE;
    uint32_t *pp = &tp->hash[tuple_hash(s, cb->laddr, cb->lport, cb->raddr, cb->rport) & tp->hmask];
    while (*pp != PNI_NONE) {
        if (*pp == idx) {
            *pp = cb->hnext;
            break;
        }
        pp = &pni_tcp_cb(s, *pp)->hnext;
    }
    cb->hnext = PNI_NONE;
    cb->t_flags &= ~PNI_TF_HASHED;
}

static void
port_insert(pn_stack *s, pni_tcpcb *cb)
{
    struct pni_tcp *tp = s->tcp;
    uint32_t b = cb->lport & tp->pmask;
    cb->pnext = tp->phash[b];
    tp->phash[b] = pni_tcp_idx(s, cb);
    cb->t_flags |= PNI_TF_BOUND;
}

static void
port_remove(pn_stack *s, pni_tcpcb *cb)
{
    struct pni_tcp *tp = s->tcp;
    if (!(cb->t_flags & PNI_TF_BOUND))
        return;
    uint32_t idx = pni_tcp_idx(s, cb);
    uint32_t *pp = &tp->phash[cb->lport & tp->pmask];
    while (*pp != PNI_NONE) {
        if (*pp == idx) {
            *pp = cb->pnext;
            break;
        }
        pp = &pni_tcp_cb(s, *pp)->pnext;
    }
    cb->pnext = PNI_NONE;
    cb->t_flags &= ~PNI_TF_BOUND;
}

pni_tcp_syn *
pni_tcp_syn_lookup(const pn_stack *s, const uint8_t laddr[4], uint16_t lport,
                   const uint8_t raddr[4], uint16_t rport)
{
    const struct pni_tcp *tp = s->tcp;
    uint32_t i = tp->shash[tuple_hash(s, laddr, lport, raddr, rport) & tp->hmask];
    while (i != PNI_NONE) {
        pni_tcp_syn *sy = pni_pool_at(&s->pool[PN_POOL_SYN], i);
        if (sy->lport == lport && sy->rport == rport && pni_ip_eq(sy->raddr, raddr) &&
            pni_ip_eq(sy->laddr, laddr))
            return sy;
        i = sy->hnext;
    }
    return NULL;
}

void
pni_tcp_syn_insert(pn_stack *s, pni_tcp_syn *sy, pni_tcpcb *lst)
{
    struct pni_tcp *tp = s->tcp;
    uint32_t si = pni_pool_index(&s->pool[PN_POOL_SYN], sy);
    uint32_t b = tuple_hash(s, sy->laddr, sy->lport, sy->raddr, sy->rport) & tp->hmask;
    sy->hnext = tp->shash[b];
    tp->shash[b] = si;
    sy->listener = pni_tcp_idx(s, lst);
    sy->lprev = PNI_NONE;
    sy->lnext = lst->syn_head;
    if (lst->syn_head != PNI_NONE)
        ((pni_tcp_syn *)pni_pool_at(&s->pool[PN_POOL_SYN], lst->syn_head))->lprev = si;
    lst->syn_head = si;
    lst->nsyn++;
    sy->hpos = PNI_NONE;
}

void
pni_tcp_syn_free(pn_stack *s, pni_tcp_syn *sy)
{
    struct pni_tcp *tp = s->tcp;
    pni_pool *sp = &s->pool[PN_POOL_SYN];
    uint32_t si = pni_pool_index(sp, sy);
    uint32_t *pp = &tp->shash[tuple_hash(s, sy->laddr, sy->lport, sy->raddr, sy->rport) & tp->hmask];
    while (*pp != PNI_NONE) {
        if (*pp == si) {
            *pp = sy->hnext;
            break;
        }
        pp = &((pni_tcp_syn *)pni_pool_at(sp, *pp))->hnext;
    }
    pni_tcpcb *lst = pni_tcp_cb(s, sy->listener);
    if (sy->lprev != PNI_NONE)
        ((pni_tcp_syn *)pni_pool_at(sp, sy->lprev))->lnext = sy->lnext;
    else if (lst != NULL)
        lst->syn_head = sy->lnext;
    if (sy->lnext != PNI_NONE)
        ((pni_tcp_syn *)pni_pool_at(sp, sy->lnext))->lprev = sy->lprev;
    if (lst != NULL && lst->nsyn > 0)
        lst->nsyn--;
    if (sy->hpos != PNI_NONE)
        pni_tcp_timer_remove(s, tp->max_socks + si);
    pni_pool_free(sp, sy);
}

pni_tcpcb *
pni_tcp_cb_alloc(pn_stack *s)
{
    pni_tcpcb *cb = pni_pool_alloc(&s->pool[PN_POOL_TCP]);
    if (cb == NULL)
        return NULL;
    memset(cb, 0, sizeof *cb);
    const pn_tcp_config *t = &s->cfg.tcp;
    cb->hnext = cb->pnext = cb->hpos = PNI_NONE;
    cb->parent = cb->acc_next = cb->acc_head = cb->acc_tail = cb->syn_head = PNI_NONE;
    cb->state = PN_TCP_CLOSED;
    cb->cc_algo = t->cc;
    cb->sndbuf = t->sndbuf;
    cb->rcvbuf = t->rcvbuf;
    cb->keepidle_s = (uint16_t)t->keepidle_s;
    cb->keepintvl_s = (uint16_t)t->keepintvl_s;
    cb->keepcnt = (uint8_t)t->keepcnt;
    cb->syn_retries = t->syn_retries;
    cb->t_rexmt = cb->t_delack = cb->t_keep = PN_TIME_NEVER;
    cb->rto = t->rto_init_us;
    if (!t->no_timestamps)
        cb->t_flags |= PNI_TF_WANT_TS;
    if (!t->no_sack)
        cb->t_flags |= PNI_TF_WANT_SACK;
    if (!t->no_wscale)
        cb->t_flags |= PNI_TF_WANT_WS;
    if (t->quickack)
        cb->t_flags |= PNI_TF_QUICKACK;
    return cb;
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4-microsecond timer and F SipHash-2-4 under the key. */
uint32_t
pni_tcp_iss(const pn_stack *s, const uint8_t laddr[4], uint16_t lport, const uint8_t raddr[4],
            uint16_t rport)
{
    uint8_t k[16];
    memcpy(k, "iss:", 4);
    memcpy(k + 4, laddr, 4);
    memcpy(k + 8, raddr, 4);
    pni_put_be16(k + 12, lport);
    pni_put_be16(k + 14, rport);
    return (uint32_t)(s->now >> 2) + (uint32_t)pni_siphash(s->cfg.key, k, sizeof k);
}

/* Per-connection timestamp offset (RFC 7323 5.4 recommends randomizing
 * it per connection so TSval leaks no host clock). */
uint32_t
pni_tcp_tsoff(const pn_stack *s, const uint8_t laddr[4], uint16_t lport, const uint8_t raddr[4],
              uint16_t rport)
{
    uint8_t k[16];
    memcpy(k, "tso:", 4);
    memcpy(k + 4, laddr, 4);
    memcpy(k + 8, raddr, 4);
    pni_put_be16(k + 12, lport);
    pni_put_be16(k + 14, rport);
    return (uint32_t)pni_siphash(s->cfg.key, k, sizeof k);
}

uint8_t
pni_tcp_wscale_for(uint32_t rcvbuf)
{
    uint8_t ws = 0;
    while (ws < 14 && (rcvbuf >> ws) > 65535)
        ws++;
    return ws;
}

uint16_t
pni_tcp_mss_for(const pn_stack *s, const pni_tcpcb *cb)
{
    uint32_t m = (uint32_t)s->cfg.mtu - PNI_IP4_HLEN - PNI_TCP_HLEN;
    if (cb->peer_mss != 0 && cb->peer_mss < m)
        m = cb->peer_mss;
    if (cb->mss_clamp != 0 && cb->mss_clamp < m)
        m = cb->mss_clamp;
    if (cb->t_flags & PNI_TF_TS)
        m -= 12; /* RFC 7323: TS option on every segment; SACK is on top */
    if (m < 64)
        m = 64;
    return (uint16_t)m;
}

void
pni_tcp_cb_init(pn_stack *s, pni_tcpcb *cb)
{
    cb->ts_off = pni_tcp_tsoff(s, cb->laddr, cb->lport, cb->raddr, cb->rport);
    cb->rcv_wscale = (cb->t_flags & PNI_TF_WANT_WS) ? pni_tcp_wscale_for(cb->rcvbuf) : 0;
    cb->t_maxseg = pni_tcp_mss_for(s, cb);
    cb->t_idle = s->now;
}

/* ---------------------------------------------------------------------
 * Byte queues over chunks
 * --------------------------------------------------------------------- */

/* pni_pool_free for a chunk of a queue, without its range and alignment
 * checks: the chain holds only chunks from the TCPBUF pool (q_grow_slow
 * links nothing else); the in-use byte still refuses a double free. */
static void
chunk_free(pn_stack *s, pni_tcp_chunk *c)
{
    pni_pool *p = &s->pool[PN_POOL_TCPBUF];
    uint32_t i = pni_pool_index(p, c);
    if (p->inuse[i] == 0)
        return;
    p->inuse[i] = 0;
    memcpy(c, &p->free_head, sizeof(void *));
    p->free_head = c;
    p->st->used--;
}

void
pni_tcpq_free(pn_stack *s, pni_tcpq *q)
{
    pni_tcp_chunk *c = q->head;
    while (c != NULL) {
        pni_tcp_chunk *n = c->next;
        chunk_free(s, c);
        c = n;
    }
    memset(q, 0, sizeof *q);
}

static int
q_grow_slow(pn_stack *s, pni_tcpq *q, uint32_t need)
{
    uint64_t have = (uint64_t)q->nch * PNI_TCPCH_DATA;
    while (have < (uint64_t)q->head_off + need) {
        pni_tcp_chunk *c = pni_pool_alloc(&s->pool[PN_POOL_TCPBUF]);
        if (c == NULL) {
            PNI_STAT(s, tcp_nobufs);
            return -1;
        }
        c->next = NULL;
        if (q->tail != NULL)
            q->tail->next = c;
        else
            q->head = c;
        q->tail = c;
        q->nch++;
        have += PNI_TCPCH_DATA;
    }
    return 0;
}

/* Make the chunks cover head_off + need bytes. Inline test: most calls
 * (every in-order segment received) find them covered already. */
static inline int
q_grow(pn_stack *s, pni_tcpq *q, uint32_t need)
{
    if ((uint64_t)q->nch * PNI_TCPCH_DATA >= (uint64_t)q->head_off + need)
        return 0;
    return q_grow_slow(s, q, need);
}

/* Chunk and offset holding queue byte off (the chunks must cover it).
 * The chain is singly linked, so a seek walks forward from the cursor when
 * the target is at or after it, else from head; either way the cursor is
 * left on the target. Sending a window segment by segment, or storing
 * in-order data, then costs O(1) per segment whatever the buffer size
 * (walking from head made each segment O(buffer / 2040), measured as 39%
 * of the instructions of a bulk transfer with a 512 KiB buffer). */
static pni_tcp_chunk *
q_seek(pni_tcpq *q, uint32_t off, uint32_t *in)
{
    uint32_t pos = q->head_off + off;
    uint32_t idx = pos / PNI_TCPCH_DATA;
    pni_tcp_chunk *c = q->head;
    uint32_t i = 0;
    if (q->cur != NULL && q->cur_idx <= idx) {
        c = q->cur;
        i = q->cur_idx;
    }
    while (i < idx) {
        c = c->next;
        i++;
    }
    q->cur = c;
    q->cur_idx = (uint16_t)i;
    *in = pos - idx * PNI_TCPCH_DATA;
    return c;
}

size_t
pni_tcpq_append(pn_stack *s, pni_tcpq *q, const uint8_t *src, size_t n)
{
    if (n > UINT32_MAX - q->len)
        n = UINT32_MAX - q->len;
    /* Chunks for all of it at once if the pool allows, else for what fits
     * in the chunks there are (a partial append, counted as tcp_nobufs). */
    int partial = 0;
    if (q_grow(s, q, q->len + (uint32_t)n) != 0) {
        uint64_t room = (uint64_t)q->nch * PNI_TCPCH_DATA - q->head_off - q->len;
        if (room == 0)
            return 0;
        n = (size_t)room; /* < n: the grow failed */
        partial = 1;
    }
    uint32_t in;
    pni_tcp_chunk *c = q_seek(q, q->len, &in);
    size_t done = 0;
    while (done < n) {
        uint32_t k = PNI_TCPCH_DATA - in;
        if (k > n - done)
            k = (uint32_t)(n - done);
        PNI_OPAQUE_SIZE(k);
        memcpy(c->d + in, src + done, k);
        done += k;
        c = c->next;
        in = 0;
    }
    q->len += (uint32_t)n;
    /* The chunk-at-a-time form this replaced tried once more after a
     * partial copy and counted that failure too (tcp_nobufs and the pool's
     * failed count); so does this, to keep the counters as they were. */
    if (partial)
        (void)q_grow_slow(s, q, q->len + 1);
    return n;
}

int
pni_tcpq_write_flat(pn_stack *s, pni_tcpq *q, uint32_t off, const uint8_t *src, size_t n)
{
    if (q_grow(s, q, off + (uint32_t)n) != 0)
        return -1;
    uint32_t in;
    pni_tcp_chunk *c = q_seek(q, off, &in);
    while (n > 0) {
        uint32_t k = PNI_TCPCH_DATA - in;
        if (k > n)
            k = (uint32_t)n;
        PNI_OPAQUE_SIZE(k);
        memcpy(c->d + in, src, k);
        src += k;
        n -= k;
        c = c->next;
        in = 0;
    }
    return 0;
}

int
pni_tcpq_write(pn_stack *s, pni_tcpq *q, uint32_t off, const pni_buf *src, size_t soff, size_t n)
{
    /* One-block segment: copy from its bytes directly. */
    if (src->next == NULL && soff <= src->len && n <= src->len - soff)
        return pni_tcpq_write_flat(s, q, off, src->blk + src->off + soff, n);
    if (q_grow(s, q, off + (uint32_t)n) != 0)
        return -1; /* all of it or nothing: the pieces below cannot fail */
    for (const pni_buf *b = src; b != NULL && n > 0; b = b->next) {
        if (soff >= b->len) {
            soff -= b->len;
            continue;
        }
        size_t k = b->len - soff;
        if (k > n)
            k = n;
        (void)pni_tcpq_write_flat(s, q, off, b->blk + b->off + soff, k);
        off += (uint32_t)k;
        n -= k;
        soff = 0;
    }
    return 0;
}

uint64_t
pni_tcpq_copy_csum(pni_tcpq *q, uint32_t off, uint8_t *dst, size_t n, int vec)
{
    size_t done = 0;
    uint32_t in;
    if (n == 0)
        return 0;
    const pni_tcp_chunk *c = q_seek(q, off, &in);
    while (done < n) {
        uint32_t k = PNI_TCPCH_DATA - in;
        if (k > n - done)
            k = (uint32_t)(n - done);
        PNI_OPAQUE_SIZE(k);
        memcpy(dst + done, c->d + in, k);
        done += k;
        c = c->next;
        in = 0;
    }
    /* dst is contiguous: one sum over all of it, not one per chunk piece
     * (a segment of MSS 1448 spans two 2040-byte chunks seven times in
     * ten). Up to MSS 9000 or so it is still in the L1 cache. */
    return pni_csum_partial_v(dst, n, 0, vec);
}

void
pni_tcpq_drop(pn_stack *s, pni_tcpq *q, uint32_t n)
{
    if (n > q->len)
        n = q->len;
    q->len -= n;
    uint32_t pos = q->head_off + n;
    while (pos >= PNI_TCPCH_DATA && q->head != NULL) {
        pni_tcp_chunk *c = q->head;
        q->head = c->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->nch--;
        /* the cursor counts chunks from head: follow, or forget a freed one */
        if (q->cur == c)
            q->cur = NULL;
        else if (q->cur != NULL)
            q->cur_idx--;
        chunk_free(s, c);
        pos -= PNI_TCPCH_DATA;
    }
    q->head_off = (uint16_t)pos;
}

size_t
pni_tcpq_read(pn_stack *s, pni_tcpq *q, uint8_t *dst, size_t n)
{
    if (n > q->len)
        n = q->len;
    if (n == 0)
        return 0;
    uint32_t in = q->head_off;
    const pni_tcp_chunk *c = q->head;
    size_t done = 0;
    while (done < n) {
        uint32_t k = PNI_TCPCH_DATA - in;
        if (k > n - done)
            k = (uint32_t)(n - done);
        memcpy(dst + done, c->d + in, k);
        done += k;
        c = c->next;
        in = 0;
    }
    pni_tcpq_drop(s, q, (uint32_t)n);
    return n;
}

/* ---------------------------------------------------------------------
 * Closing
 * --------------------------------------------------------------------- */

static void accept_unlink(pn_stack *s, pni_tcpcb *cb);

void
pni_tcp_close_cb(pn_stack *s, pni_tcpcb *cb)
{
    if (cb->state != PN_TCP_CLOSED)
        PNI_STAT(s, tcp_conn_closed);
    cb->state = PN_TCP_CLOSED;
    hash_remove(s, cb);
    port_remove(s, cb);
    cb->t_rexmt = cb->t_delack = cb->t_keep = PN_TIME_NEVER;
    if (cb->hpos != PNI_NONE)
        pni_tcp_timer_remove(s, pni_tcp_idx(s, cb));
    pni_tcpq_free(s, &cb->sndq);
    if (cb->t_flags & PNI_TF_ACCEPTQ)
        accept_unlink(s, cb);
    if (!(cb->t_flags & PNI_TF_USER)) {
        pni_tcpq_free(s, &cb->rcvq);
        pni_pool_free(&s->pool[PN_POOL_TCP], cb);
    } else if (cb->error != 0) {
        pni_tcpq_free(s, &cb->rcvq); /* a reset loses unread data */
    } else {
        /* keep what is readable, drop out-of-order data */
        cb->n_ooo = 0;
    }
}

static void
accept_unlink(pn_stack *s, pni_tcpcb *cb)
{
    pni_tcpcb *l = pni_tcp_cb(s, cb->parent);
    uint32_t idx = pni_tcp_idx(s, cb);
    cb->t_flags &= ~PNI_TF_ACCEPTQ;
    if (l == NULL)
        return;
    uint32_t *pp = &l->acc_head;
    uint32_t prev = PNI_NONE;
    while (*pp != PNI_NONE) {
        if (*pp == idx) {
            *pp = cb->acc_next;
            if (l->acc_tail == idx)
                l->acc_tail = prev;
            l->acc_len--;
            break;
        }
        prev = *pp;
        pp = &pni_tcp_cb(s, *pp)->acc_next;
    }
    cb->parent = PNI_NONE;
}

/* ---------------------------------------------------------------------
 * Public API
 * --------------------------------------------------------------------- */

static pni_tcpcb *
user_cb(const pn_stack *s, int sock)
{
    if (s == NULL || s->tcp == NULL || sock < 0 || (uint32_t)sock >= s->tcp->max_socks)
        return NULL;
    pni_tcpcb *cb = pni_tcp_cb(s, (uint32_t)sock);
    if (cb == NULL || !(cb->t_flags & PNI_TF_USER))
        return NULL;
    return cb;
}

/* see purenet.h */
int
pn_tcp_open(pn_stack *s)
{
    if (s == NULL || s->tcp == NULL)
        return PN_EINVAL;
    pni_tcpcb *cb = pni_tcp_cb_alloc(s);
    if (cb == NULL)
        return PN_EMFILE;
    cb->t_flags |= PNI_TF_USER;
    return (int)pni_tcp_idx(s, cb);
}

/* 1 if binding cb to addr:port would clash with a socket already bound. */
static int
port_clash(const pn_stack *s, const pni_tcpcb *cb, const uint8_t addr[4], uint16_t port)
{
    uint32_t i = s->tcp->phash[port & s->tcp->pmask];
    while (i != PNI_NONE) {
        const pni_tcpcb *o = pni_tcp_cb(s, i);
        if (o != cb && o->lport == port &&
            (pni_ip_is_zero(o->laddr) || pni_ip_is_zero(addr) || pni_ip_eq(o->laddr, addr))) {
            /* SO_REUSEADDR: a new socket may share the port of
             * connections (not of a listener) when both ask for it. */
            if (!((cb->t_flags & o->t_flags & PNI_TF_REUSEADDR) && o->state != PN_TCP_LISTEN))
                return 1;
        }
        i = o->pnext;
    }
    return 0;
}

/* RFC 6056 3.3.3 (Algorithm 3): offset = F(laddr, raddr, rport, secret),
 * then walk from a shared counter. Port 0 of raddr asks for a port free
 * for binding. */
static int
pick_port(pn_stack *s, pni_tcpcb *cb, const uint8_t raddr[4], uint16_t rport)
{
    const uint16_t lo = 49152, n = 16384;
    uint8_t k[10];
    memcpy(k, cb->laddr, 4);
    memcpy(k + 4, raddr, 4);
    pni_put_be16(k + 8, rport);
    uint32_t off = (uint32_t)pni_siphash(s->cfg.key, k, sizeof k);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t p = (uint16_t)(lo + (off + s->tcp->eph_next + i) % n);
        if (port_clash(s, cb, cb->laddr, p))
            continue;
        if (rport != 0 && pni_tcp_lookup(s, cb->laddr, p, raddr, rport) != NULL)
            continue;
        s->tcp->eph_next = (uint16_t)(s->tcp->eph_next + i + 1);
        cb->lport = p;
        return 0;
    }
    return PN_EADDRINUSE;
}

/* see purenet.h */
int
pn_tcp_bind(pn_stack *s, int sock, const pn_sockaddr *local)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (local == NULL)
        return PN_EINVAL;
    if (cb->state != PN_TCP_CLOSED || (cb->t_flags & PNI_TF_BOUND))
        return PN_EINVAL;
    if (!pni_ip_is_zero(local->addr.b) && !pni_ip4_is_local(s, local->addr.b))
        return PN_EADDRNOTAVAIL;
    memcpy(cb->laddr, local->addr.b, 4);
    if (local->port == 0) {
        int e = pick_port(s, cb, zero4, 0);
        if (e != 0)
            return e;
    } else {
        if (port_clash(s, cb, local->addr.b, local->port))
            return PN_EADDRINUSE;
        cb->lport = local->port;
    }
    port_insert(s, cb);
    return 0;
}

/* see purenet.h */
int
pn_tcp_listen(pn_stack *s, int sock, int backlog)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (cb->state == PN_TCP_LISTEN) {
        cb->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
        return 0;
    }
    if (cb->state != PN_TCP_CLOSED || !(cb->t_flags & PNI_TF_BOUND) || cb->error != 0)
        return PN_EINVAL;
    if (pni_tcp_lookup(s, cb->laddr, cb->lport, zero4, 0) != NULL)
        return PN_EADDRINUSE;
    cb->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
    cb->state = PN_TCP_LISTEN;
    pni_tcp_hash_insert(s, cb);
    return 0;
}

/* see purenet.h */
int
pn_tcp_accept(pn_stack *s, int sock, pn_sockaddr *peer)
{
    pni_tcpcb *l = user_cb(s, sock);
    if (l == NULL)
        return PN_EBADF;
    if (l->state != PN_TCP_LISTEN)
        return PN_EINVAL;
    if (l->acc_head == PNI_NONE)
        return PN_EAGAIN;
    pni_tcpcb *c = pni_tcp_cb(s, l->acc_head);
    l->acc_head = c->acc_next;
    if (l->acc_head == PNI_NONE)
        l->acc_tail = PNI_NONE;
    l->acc_len--;
    c->acc_next = PNI_NONE;
    c->parent = PNI_NONE;
    c->t_flags &= ~PNI_TF_ACCEPTQ;
    c->t_flags |= PNI_TF_USER;
    if (peer != NULL) {
        memcpy(peer->addr.b, c->raddr, 4);
        peer->port = c->rport;
    }
    PNI_STAT(s, tcp_conn_accepted);
    return (int)pni_tcp_idx(s, c);
}

/* see purenet.h */
int
pn_tcp_connect(pn_stack *s, int sock, const pn_sockaddr *to, uint64_t now)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    pni_time(s, now);
    if (cb->state == PN_TCP_SYN_SENT || cb->state == PN_TCP_SYN_RECEIVED)
        return PN_EALREADY;
    if (cb->state == PN_TCP_LISTEN)
        return PN_EINVAL;
    if (cb->state != PN_TCP_CLOSED || (cb->t_flags & PNI_TF_CONNECTED))
        return PN_EISCONN;
    if (cb->error != 0)
        return PN_EINVAL;
    if (to == NULL || to->port == 0 || pni_ip_is_zero(to->addr.b) ||
        pni_ip4_is_bcast(to->addr.b) || pni_ip4_is_mcast(to->addr.b))
        return PN_EINVAL;
    uint8_t src[4], nh[4];
    int e = pni_route_lookup(s, to->addr.b, src, nh);
    if (e != 0)
        return e;
    if (pni_ip_is_zero(cb->laddr))
        memcpy(cb->laddr, src, 4);
    if (!(cb->t_flags & PNI_TF_BOUND)) {
        e = pick_port(s, cb, to->addr.b, to->port);
        if (e != 0)
            return e;
        port_insert(s, cb);
    } else if (pni_tcp_lookup(s, cb->laddr, cb->lport, to->addr.b, to->port) != NULL) {
        return PN_EADDRINUSE;
    }
    memcpy(cb->raddr, to->addr.b, 4);
    cb->rport = to->port;
    pni_tcp_cb_init(s, cb);
    cb->iss = pni_tcp_iss(s, cb->laddr, cb->lport, cb->raddr, cb->rport);
    cb->snd_una = cb->snd_nxt = cb->snd_max = cb->iss;
    cb->recover = cb->iss;
    cb->state = PN_TCP_SYN_SENT;
    pni_tcp_hash_insert(s, cb);
    pni_tcp_cc_init(s, cb);
    PNI_STAT(s, tcp_conn_opened);
    pni_tcp_output(s, cb);
    return PN_EINPROGRESS;
}

/* see purenet.h */
int
pn_tcp_send(pn_stack *s, int sock, const void *data, size_t len, uint64_t now)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (data == NULL && len > 0)
        return PN_EINVAL;
    pni_time(s, now);
    if (cb->error != 0)
        return cb->error;
    if (cb->t_flags & PNI_TF_SHUT_WR)
        return PN_EPIPE;
    switch (cb->state) {
    case PN_TCP_SYN_SENT:
    case PN_TCP_SYN_RECEIVED:
    case PN_TCP_ESTABLISHED:
    case PN_TCP_CLOSE_WAIT:
        break;
    default:
        return PN_ENOTCONN;
    }
    if (len == 0)
        return 0;
    uint32_t room = cb->sndq.len < cb->sndbuf ? cb->sndbuf - cb->sndq.len : 0;
    if (room == 0)
        return PN_EAGAIN;
    size_t n = len < room ? len : room;
    n = pni_tcpq_append(s, &cb->sndq, data, n);
    if (n == 0)
        return PN_ENOBUFS;
    if (cb->state >= PN_TCP_ESTABLISHED)
        pni_tcp_output(s, cb);
    return (int)(n > INT32_MAX ? INT32_MAX : n);
}

/* see purenet.h */
int
pn_tcp_recv(pn_stack *s, int sock, void *buf, size_t cap, uint64_t now)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (buf == NULL && cap > 0)
        return PN_EINVAL;
    pni_time(s, now);
    if (cb->state == PN_TCP_LISTEN)
        return PN_ENOTCONN;
    if (cap > INT32_MAX)
        cap = INT32_MAX;
    if (cb->rcvq.len > 0 && cap > 0) {
        size_t n = pni_tcpq_read(s, &cb->rcvq, buf, cap);
        if (cb->rcvq.len == 0 && cb->n_ooo == 0)
            pni_tcpq_free(s, &cb->rcvq);
        if (cb->state != PN_TCP_CLOSED) {
            /* An ACK owed for a burst (tcp_in.c, delayed ACK) goes now,
             * with the window this read reopened. */
            if (cb->rcv_unacked > 0 && cb->t_delack <= s->now)
                cb->t_flags |= PNI_TF_ACKNOW;
            if ((cb->t_flags & PNI_TF_ACKNOW) || pni_tcp_wnd_update_due(cb))
                pni_tcp_output(s, cb);
        }
        return (int)n;
    }
    if (cb->rcvq.len > 0)
        return 0; /* cap 0 */
    if (cb->error != 0)
        return cb->error;
    if (cb->t_flags & PNI_TF_RCV_FIN)
        return 0;
    if (cb->state == PN_TCP_CLOSED)
        return (cb->t_flags & PNI_TF_CONNECTED) ? 0 : PN_ENOTCONN;
    return PN_EAGAIN;
}

/* see purenet.h */
int
pn_tcp_shutdown(pn_stack *s, int sock, uint64_t now)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    pni_time(s, now);
    switch (cb->state) {
    case PN_TCP_CLOSED:
    case PN_TCP_LISTEN:
        return PN_ENOTCONN;
    case PN_TCP_SYN_SENT:
    case PN_TCP_SYN_RECEIVED:
    case PN_TCP_ESTABLISHED:
    case PN_TCP_CLOSE_WAIT:
        if (cb->t_flags & PNI_TF_SHUT_WR)
            return 0;
        cb->t_flags |= PNI_TF_SHUT_WR;
        if (cb->state == PN_TCP_SYN_SENT) {
            /* RFC 9293 3.10.4: nothing sent yet worth a FIN */
            if (cb->sndq.len == 0) {
                cb->state = PN_TCP_CLOSED;
                pni_tcp_close_cb(s, cb);
            }
            return 0;
        }
        if (cb->state == PN_TCP_ESTABLISHED)
            cb->state = PN_TCP_FIN_WAIT_1;
        else if (cb->state == PN_TCP_CLOSE_WAIT)
            cb->state = PN_TCP_LAST_ACK;
        /* SYN_RECEIVED: FIN goes once established (tcp_in.c) */
        pni_tcp_output(s, cb);
        return 0;
    default:
        return 0; /* already closing */
    }
}

static void
listener_close(pn_stack *s, pni_tcpcb *l)
{
    while (l->syn_head != PNI_NONE)
        pni_tcp_syn_free(s, pni_pool_at(&s->pool[PN_POOL_SYN], l->syn_head));
    while (l->acc_head != PNI_NONE) {
        pni_tcpcb *c = pni_tcp_cb(s, l->acc_head);
        pni_tcp_send_rst(s, c);
        accept_unlink(s, c);
        pni_tcp_close_cb(s, c);
    }
    /* Children still in SYN_RECEIVED point at l through parent: reset them
     * too, or completing one later would queue it on a freed listener. */
    uint32_t li = pni_tcp_idx(s, l);
    for (uint32_t i = 0; i < s->pool[PN_POOL_TCP].count; i++) {
        pni_tcpcb *c = pni_tcp_cb(s, i);
        if (c != NULL && c != l && c->parent == li && c->state == PN_TCP_SYN_RECEIVED &&
            !(c->t_flags & PNI_TF_ACCEPTQ)) {
            pni_tcp_send_rst(s, c);
            pni_tcp_close_cb(s, c);
        }
    }
}

/* see purenet.h */
int
pn_tcp_abort(pn_stack *s, int sock, uint64_t now)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    pni_time(s, now);
    if (cb->state == PN_TCP_LISTEN)
        listener_close(s, cb);
    if (cb->state >= PN_TCP_SYN_RECEIVED && cb->state != PN_TCP_TIME_WAIT)
        pni_tcp_send_rst(s, cb); /* RFC 9293 3.10.5 */
    /* a listener or a socket that never left CLOSED had no connection
     * to reset */
    if (cb->state != PN_TCP_CLOSED && cb->state != PN_TCP_LISTEN)
        PNI_STAT(s, tcp_conn_reset);
    cb->t_flags &= ~PNI_TF_USER;
    pni_tcp_close_cb(s, cb); /* not the user's any more: freed */
    return 0;
}

/* see purenet.h */
int
pn_tcp_close(pn_stack *s, int sock, uint64_t now)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    pni_time(s, now);
    /* RFC 9293 3.10.4 leaves it open; RFC 2525 2.17 and every modern
     * stack reset when unread data would be lost. Linger 0 asks for it. */
    if ((cb->t_flags & PNI_TF_LINGER0) || cb->rcvq.len > 0 || cb->state == PN_TCP_LISTEN ||
        cb->state == PN_TCP_SYN_SENT || cb->state == PN_TCP_CLOSED)
        return pn_tcp_abort(s, sock, now);
    cb->t_flags &= ~PNI_TF_USER;
    switch (cb->state) {
    case PN_TCP_SYN_RECEIVED:
    case PN_TCP_ESTABLISHED:
    case PN_TCP_CLOSE_WAIT:
        cb->t_flags |= PNI_TF_SHUT_WR;
        if (cb->state == PN_TCP_ESTABLISHED)
            cb->state = PN_TCP_FIN_WAIT_1;
        else if (cb->state == PN_TCP_CLOSE_WAIT)
            cb->state = PN_TCP_LAST_ACK;
        pni_tcp_output(s, cb);
        break;
    case PN_TCP_FIN_WAIT_2:
        pni_tcp_set_keep(s, cb); /* the FIN_WAIT_2 timeout now applies */
        break;
    default:
        break;
    }
    return 0;
}

/* see purenet.h */
int
pn_tcp_state(const pn_stack *s, int sock)
{
    const pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    return cb->state;
}

static int
want_flag(pni_tcpcb *cb, uint32_t f, int v)
{
    if (cb->state != PN_TCP_CLOSED)
        return PN_EISCONN;
    if (v)
        cb->t_flags |= f;
    else
        cb->t_flags &= ~f;
    return 0;
}

/* see purenet.h */
int
pn_tcp_setopt(pn_stack *s, int sock, int opt, int value)
{
    pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    const pn_tcp_config *t = &s->cfg.tcp;
    switch (opt) {
    case PN_TCP_NODELAY:
        if (value)
            cb->t_flags |= PNI_TF_NODELAY;
        else
            cb->t_flags &= ~PNI_TF_NODELAY;
        if (value && cb->state >= PN_TCP_ESTABLISHED)
            pni_tcp_output(s, cb);
        return 0;
    case PN_TCP_KEEPALIVE:
        if (value)
            cb->t_flags |= PNI_TF_KEEPALIVE;
        else
            cb->t_flags &= ~PNI_TF_KEEPALIVE;
        pni_tcp_set_keep(s, cb);
        return 0;
    case PN_TCP_KEEPIDLE:
        if (value < 1 || value > 65535)
            return PN_EINVAL;
        cb->keepidle_s = (uint16_t)value;
        pni_tcp_set_keep(s, cb);
        return 0;
    case PN_TCP_KEEPINTVL:
        if (value < 1 || value > 65535)
            return PN_EINVAL;
        cb->keepintvl_s = (uint16_t)value;
        return 0;
    case PN_TCP_KEEPCNT:
        if (value < 1 || value > 255)
            return PN_EINVAL;
        cb->keepcnt = (uint8_t)value;
        return 0;
    case PN_TCP_SNDBUF:
    case PN_TCP_RCVBUF:
        if (value < 536 || value > (1 << 24))
            return PN_EINVAL;
        if (opt == PN_TCP_SNDBUF) {
            cb->sndbuf = (uint32_t)value;
            return 0;
        }
        if (cb->state != PN_TCP_CLOSED)
            return PN_EISCONN; /* the window scale is fixed at the SYN */
        cb->rcvbuf = (uint32_t)value;
        return 0;
    case PN_TCP_MAXSEG:
        if (value < 64 || value > 65535)
            return PN_EINVAL;
        cb->mss_clamp = (uint16_t)value;
        if (cb->state != PN_TCP_CLOSED && cb->state != PN_TCP_LISTEN)
            cb->t_maxseg = pni_tcp_mss_for(s, cb);
        return 0;
    case PN_TCP_LINGER0:
        if (value)
            cb->t_flags |= PNI_TF_LINGER0;
        else
            cb->t_flags &= ~PNI_TF_LINGER0;
        return 0;
    case PN_TCP_TIMESTAMPS:
        return want_flag(cb, PNI_TF_WANT_TS, value && !t->no_timestamps);
    case PN_TCP_SACK:
        if (!PN_HAVE_SACK && value)
            return PN_EOPNOTSUPP; /* compiled out (PN_CONFIG_NO_SACK) */
        return want_flag(cb, PNI_TF_WANT_SACK, value && !t->no_sack);
    case PN_TCP_WSCALE:
        return want_flag(cb, PNI_TF_WANT_WS, value && !t->no_wscale);
    case PN_TCP_CC:
        if (value != PN_CC_NEWRENO && value != PN_CC_CUBIC)
            return PN_EINVAL;
        if (!PN_HAVE_CUBIC && value == PN_CC_CUBIC)
            return PN_EOPNOTSUPP; /* compiled out (PN_CONFIG_NO_CUBIC) */
        if (cb->cc_algo != (uint8_t)value) {
            cb->cc_algo = (uint8_t)value;
            cb->cub_epoch = 0;
            cb->cub_wmax = 0;
        }
        return 0;
    case PN_TCP_REUSEADDR:
        if (value)
            cb->t_flags |= PNI_TF_REUSEADDR;
        else
            cb->t_flags &= ~PNI_TF_REUSEADDR;
        return 0;
    case PN_TCP_SYNCNT:
        if (value < 1 || value > 127)
            return PN_EINVAL;
        cb->syn_retries = (uint8_t)value;
        return 0;
    case PN_TCP_TOS:
        if (value < 0 || value > 255)
            return PN_EINVAL;
        cb->tos_ttl = (uint16_t)((cb->tos_ttl & 0xff) | (value << 8));
        return 0;
    case PN_TCP_TTL:
        if (value < 0 || value > 255)
            return PN_EINVAL;
        cb->tos_ttl = (uint16_t)((cb->tos_ttl & 0xff00) | value);
        return 0;
    case PN_TCP_QUICKACK:
        if (value)
            cb->t_flags |= PNI_TF_QUICKACK;
        else
            cb->t_flags &= ~PNI_TF_QUICKACK;
        return 0;
    default:
        return PN_ENOPROTOOPT;
    }
}

/* see purenet.h */
int
pn_tcp_getopt(const pn_stack *s, int sock, int opt, int *value)
{
    const pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (value == NULL)
        return PN_EINVAL;
    uint32_t f = cb->t_flags;
    int v;
    switch (opt) {
    case PN_TCP_NODELAY:
        v = !!(f & PNI_TF_NODELAY);
        break;
    case PN_TCP_KEEPALIVE:
        v = !!(f & PNI_TF_KEEPALIVE);
        break;
    case PN_TCP_KEEPIDLE:
        v = cb->keepidle_s;
        break;
    case PN_TCP_KEEPINTVL:
        v = cb->keepintvl_s;
        break;
    case PN_TCP_KEEPCNT:
        v = cb->keepcnt;
        break;
    case PN_TCP_SNDBUF:
        v = (int)cb->sndbuf;
        break;
    case PN_TCP_RCVBUF:
        v = (int)cb->rcvbuf;
        break;
    case PN_TCP_MAXSEG:
        v = (cb->state >= PN_TCP_SYN_SENT) ? cb->t_maxseg : cb->mss_clamp;
        break;
    case PN_TCP_LINGER0:
        v = !!(f & PNI_TF_LINGER0);
        break;
    case PN_TCP_TIMESTAMPS:
        v = (cb->t_flags & PNI_TF_CONNECTED) ? !!(f & PNI_TF_TS) : !!(f & PNI_TF_WANT_TS);
        break;
    case PN_TCP_SACK:
        v = (cb->t_flags & PNI_TF_CONNECTED) ? !!(f & PNI_TF_SACK) : !!(f & PNI_TF_WANT_SACK);
        break;
    case PN_TCP_WSCALE:
        v = (cb->t_flags & PNI_TF_CONNECTED) ? !!(f & PNI_TF_WS) : !!(f & PNI_TF_WANT_WS);
        break;
    case PN_TCP_CC:
        v = cb->cc_algo;
        break;
    case PN_TCP_REUSEADDR:
        v = !!(f & PNI_TF_REUSEADDR);
        break;
    case PN_TCP_SYNCNT:
        v = cb->syn_retries;
        break;
    case PN_TCP_TOS:
        v = cb->tos_ttl >> 8;
        break;
    case PN_TCP_TTL:
        v = cb->tos_ttl & 0xff;
        break;
    case PN_TCP_QUICKACK:
        v = !!(f & PNI_TF_QUICKACK);
        break;
    default:
        return PN_ENOPROTOOPT;
    }
    *value = v;
    return 0;
}

/* see purenet.h */
int
pn_tcp_sockname(const pn_stack *s, int sock, pn_sockaddr *local, pn_sockaddr *peer)
{
    const pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (local != NULL) {
        memcpy(local->addr.b, cb->laddr, 4);
        local->port = cb->lport;
    }
    if (peer != NULL) {
        memcpy(peer->addr.b, cb->raddr, 4);
        peer->port = cb->rport;
    }
    return 0;
}

/* see purenet.h */
int
pn_sock_status(const pn_stack *s, int sock, pn_sock_status_t *st)
{
    const pni_tcpcb *cb = user_cb(s, sock);
    if (cb == NULL)
        return PN_EBADF;
    if (st == NULL)
        return PN_EINVAL;
    memset(st, 0, sizeof *st);
    st->state = cb->state;
    st->readable = cb->rcvq.len;
    uint32_t inflight = cb->snd_max - cb->snd_una;
    if (cb->state <= PN_TCP_SYN_RECEIVED)
        inflight = 0;
    if (inflight > cb->sndq.len)
        inflight = cb->sndq.len;
    st->unacked = inflight;
    st->unsent = cb->sndq.len - inflight;
    int can_send = !(cb->t_flags & PNI_TF_SHUT_WR) && cb->error == 0 &&
                   (cb->state == PN_TCP_ESTABLISHED || cb->state == PN_TCP_CLOSE_WAIT ||
                    cb->state == PN_TCP_SYN_SENT || cb->state == PN_TCP_SYN_RECEIVED);
    st->writable = can_send && cb->sndq.len < cb->sndbuf ? cb->sndbuf - cb->sndq.len : 0;
    st->eof = (cb->t_flags & PNI_TF_RCV_FIN) && cb->rcvq.len == 0;
    st->connected = !!(cb->t_flags & PNI_TF_CONNECTED);
    st->pending_error = cb->error;
    st->accept_queue = cb->state == PN_TCP_LISTEN ? cb->acc_len : 0;
    return 0;
}

#endif /* PN_HAVE_TCP */
