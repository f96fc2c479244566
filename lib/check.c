/*
 * check.c -- debug-only walk of a whole instance that checks its
 * accounting invariants (the fuzz harnesses call it after every step; the
 * library never calls it).
 *
 * IMPLEMENTATION NOTES
 * - Read-only: nothing in the stack changes, so a check can run between
 *   any two API calls. It returns the name of the first invariant that
 *   fails (a string constant) or NULL.
 * - Pools (those whose bit is set in walk_pools): the free list must hold
 *   exactly capacity - used objects, each inside the pool, on an object
 *   boundary and marked free; the in-use bytes must add up to used. A free
 *   list that is longer (a cycle, a double free) or shorter (a lost
 *   object) fails. The walk chases one pointer per free object, the
 *   costliest part, so a caller checking after every step may walk only
 *   the pools whose head or use changed.
 * - Buffers: lwIP's rule "ref counts every pointer to a segment". Every
 *   pointer to a segment is counted: one per packet held by a queue (the
 *   egress queue, each neighbour's hold queue, each reassembly slot, each
 *   UDP receive queue) and one per `next` link of a live segment. Each
 *   in-use segment's count must equal its ref, and no pointer may lead to a
 *   free segment. Since every live segment must then be reachable, a leaked
 *   buffer is caught at the step that leaked it, not only at the end. The
 *   counts go to a caller-supplied scratch array (the library allocates
 *   nothing); without one this part is skipped.
 * - Queue figures (egress packets and bytes, reassembly bytes, UDP receive
 *   bytes and send charge, neighbour hold counts) must equal what a walk of
 *   the queue finds.
 * - The buffer held for a zero-copy inject (pn_inject_buf) is one pointer
 *   too: an empty RX segment linked to nothing. A viewed egress frame
 *   (pn_drain_view) is the queue head and contiguous.
 * - TCP: every control block in use keeps snd_una <= snd_nxt <= snd_max
 *   (RFC 9293 3.3.1, modulo 2^32) and its byte queues hold exactly nch
 *   chunks covering head_off + len bytes; the chunks of all queues add up to
 *   the chunk pool's use; half-open entries add up to the SYN pool's use.
 */
#include "pn_internal.h"
#include "tcp.h"

#define FAIL(msg) return (msg)

/* Exact division by a pool's object size without a divide instruction:
 * the walk maps a pointer to an index once per free object, per queued
 * packet, per chain link and per TCP chunk, and a divide costs tens of
 * cycles where a multiply costs three. With obj_size = odd << tz, rel is a
 * multiple of obj_size iff its low tz bits are zero and
 * (rel >> tz) * odd^-1 (mod 2^32) <= (2^32 - 1) / odd, and that product is
 * then the quotient (Granlund and Montgomery, "Division by invariant
 * integers using multiplication", PLDI 1994, section 9). Since the pool
 * spans obj_size * count < 2^32 bytes, (2^32 - 1) / odd >= count - 1, so a
 * product below count is the quotient and any other says "between
 * objects": no divide is needed to set up the test either. */
typedef struct divx {
    const uint8_t *base;
    uint32_t span; /* obj_size * count: offsets at or past it are outside */
    uint32_t count;
    uint32_t inv;
    uint32_t tzmask;
    unsigned tz;
} divx;

static inline divx
divx_make(const pni_pool *p)
{
    divx x;
    x.base = p->base;
    x.count = p->base == NULL ? 0 : p->count;
    x.span = p->obj_size * x.count; /* pools < 4 GiB */
    x.tz = p->div_tz;
    x.tzmask = (1u << x.tz) - 1;
    x.inv = p->div_inv; /* set by pni_pool_carve */
    return x;
}

/* Index of the object obj starts, or UINT32_MAX when obj is outside the
 * pool or between two objects. */
static inline uint32_t
divx_index(const divx *x, const void *obj)
{
    uintptr_t o = (uintptr_t)obj, b = (uintptr_t)x->base;
    if (o < b || o - b >= x->span)
        return UINT32_MAX;
    uint32_t rel = (uint32_t)(o - b);
    if (rel & x->tzmask)
        return UINT32_MAX;
    uint32_t q = (rel >> x->tz) * x->inv;
    return q < x->count ? q : UINT32_MAX;
}

/* Sum of the in-use bytes, eight at a time; -1 when one is neither 0 nor 1. */
static int64_t
inuse_sum(const uint8_t *in, uint32_t n)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t used = 0;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, in + i, 8);
        if (w & ~ones)
            return -1;
        used += (w * ones) >> 56; /* byte sum: at most 8, no carry across */
    }
    for (; i < n; i++) {
        if (in[i] > 1)
            return -1;
        used += in[i];
    }
    return (int64_t)used;
}

/* The first allocated object of p at index i or after (p->count when
 * there is none): the walks visit live objects only, and skip runs of free
 * ones eight in-use bytes at a time. */
static PNI_ALWAYS_INLINE uint32_t
next_live(const pni_pool *p, uint32_t i)
{
    while (i < p->count) {
        if ((i & 7) == 0 && i + 8 <= p->count) {
            uint64_t w;
            memcpy(&w, p->inuse + i, 8);
            if (w == 0) {
                i += 8;
                continue;
            }
        }
        if (p->inuse[i])
            return i;
        i++;
    }
    return p->count;
}

static const char *
pool_check(const pni_pool *p)
{
    if (p->base == NULL || p->st == NULL)
        return NULL; /* not carved (feature left out, or count 0) */
    int64_t u = inuse_sum(p->inuse, p->count);
    if (u < 0)
        FAIL("pool: in-use byte neither 0 nor 1");
    uint32_t used = (uint32_t)u;
    if (used != p->st->used)
        FAIL("pool: in-use bytes disagree with stats used");
    if (p->st->used > p->count || p->st->capacity != p->count)
        FAIL("pool: used or capacity out of range");
    if (p->st->peak < p->st->used)
        FAIL("pool: peak below used");
    divx x = divx_make(p);
    uint32_t nfree = 0, want = p->count - used;
    const void *obj = p->free_head;
    while (obj != NULL) {
        if (nfree >= want)
            FAIL("pool: free list longer than capacity - used (cycle or double free)");
        uint32_t idx = divx_index(&x, obj);
        if (idx == UINT32_MAX) {
            uintptr_t o = (uintptr_t)obj, b = (uintptr_t)p->base;
            if (o < b || o - b >= x.span)
                FAIL("pool: free list points outside the pool");
            FAIL("pool: free list points between objects");
        }
        if (p->inuse[idx] != 0)
            FAIL("pool: object both free and in use");
        nfree++;
        memcpy(&obj, obj, sizeof(void *));
    }
    if (nfree != want)
        FAIL("pool: free list shorter than capacity - used (lost object)");
    return NULL;
}

/* 1 when obj is an allocated object of the pool x was made for (pointers
 * compared as integers: obj may point anywhere). */
static inline int
pool_holds(const pni_pool *p, const divx *x, const void *obj)
{
    uint32_t i = divx_index(x, obj);
    return i != UINT32_MAX && p->inuse[i] == 1;
}

typedef struct walk {
    const pn_stack *s;
    divx rx, tx;    /* the two buffer pools */
    uint32_t nrx;   /* RX segments: TX segment i is number nrx + i */
    uint32_t *cnt;  /* per-segment pointer counts, or NULL */
    uint32_t limit; /* packets a queue may hold at most (cycle guard) */
} walk;

/* Number of segment b in the combined RX+TX numbering, or UINT32_MAX when
 * b is not an allocated segment of either buffer pool. */
static inline uint32_t
seg_live_id(const walk *w, const pni_buf *b)
{
    uint32_t i = divx_index(&w->rx, b);
    if (i != UINT32_MAX)
        return w->s->pool[PN_POOL_RXBUF].inuse[i] ? i : UINT32_MAX;
    i = divx_index(&w->tx, b);
    if (i != UINT32_MAX && w->s->pool[PN_POOL_TXBUF].inuse[i])
        return w->nrx + i;
    return UINT32_MAX;
}

/* Walk a queue of packets linked by qnext; count the pointer to each head,
 * check each chain. *n gets packets, *bytes their tot_len sum. *last the
 * final packet. */
static const char *
queue_walk(const walk *w, const pni_buf *head, uint64_t *n, uint64_t *bytes, const pni_buf **last)
{
    *n = 0;
    *bytes = 0;
    *last = NULL;
    for (const pni_buf *b = head; b != NULL; b = b->qnext) {
        if (*n >= w->limit)
            FAIL("queue: longer than the buffer pools (cycle)");
        uint32_t id = seg_live_id(w, b);
        if (id == UINT32_MAX)
            FAIL("buf: a queue holds a free or foreign buffer");
        if (!pni_buf_check(b))
            FAIL("buf: chain invariant (tot_len == len + next->tot_len) broken");
        uint32_t segs = 0, qid = id;
        for (const pni_buf *q = b; q != NULL; q = q->next) {
            if (++segs > w->limit)
                FAIL("buf: chain longer than the buffer pools (cycle)");
            if (q != b && (qid = seg_live_id(w, q)) == UINT32_MAX)
                FAIL("buf: a chain links a free or foreign segment");
            if ((uint32_t)q->off + q->len > q->cap || q->cap != w->s->buf_size)
                FAIL("buf: off + len beyond the block");
            if (q->pool != (qid < w->nrx ? PN_POOL_RXBUF : PN_POOL_TXBUF))
                FAIL("buf: pool id disagrees with the pool holding the segment");
        }
        if (w->cnt != NULL)
            w->cnt[id]++;
        (*n)++;
        *bytes += b->tot_len;
        *last = b;
    }
    return NULL;
}

static const char *
bufs_check(const pn_stack *s, uint32_t *scratch, size_t scratch_n)
{
    const pni_pool *rx = &s->pool[PN_POOL_RXBUF], *tx = &s->pool[PN_POOL_TXBUF];
    uint32_t total = rx->count + tx->count;
    walk w = {s, divx_make(rx), divx_make(tx), rx->count, NULL, total + 1};
    if (scratch != NULL && scratch_n >= total) {
        w.cnt = scratch;
        memset(scratch, 0, sizeof(uint32_t) * total);
    }
    uint64_t n, bytes;
    const pni_buf *last;
    const char *e;

    /* egress queue */
    if ((e = queue_walk(&w, s->eg_head, &n, &bytes, &last)) != NULL)
        return e;
    if (last != s->eg_tail)
        FAIL("egress: tail is not the last packet");
    if (n != s->stats.egress_pkts || bytes != s->stats.egress_bytes)
        FAIL("egress: egress_pkts/egress_bytes disagree with the queue");
    if (n > s->cfg.egress_max_pkts || bytes > s->cfg.egress_max_bytes)
        FAIL("egress: queue above its bound");
    if (s->drain_viewed && (s->eg_head == NULL || s->eg_head->len != s->eg_head->tot_len))
        FAIL("egress: a viewed frame that is not a contiguous queue head");

    /* the zero-copy inject buffer: one empty RX segment, held alone */
    if (s->inj_buf != NULL) {
        const pni_buf *b = s->inj_buf;
        uint32_t id = seg_live_id(&w, b);
        if (id >= rx->count)
            FAIL("inject: the held buffer is free or not a receive buffer");
        if (b->next != NULL || b->qnext != NULL || b->len != 0 || b->tot_len != 0 || b->off != 0)
            FAIL("inject: the held buffer is not one empty segment");
        if (w.cnt != NULL)
            w.cnt[id]++;
    }

    /* neighbour hold queues */
    const pni_pool *np = &s->pool[PN_POOL_NEIGH];
    for (uint32_t i = 0; i < np->count; i++) {
        const pni_neigh *ne = pni_pool_at(np, i);
        if (ne == NULL)
            continue;
        if ((e = queue_walk(&w, ne->hold_head, &n, &bytes, &last)) != NULL)
            return e;
        if (last != ne->hold_tail || n != ne->hold_n)
            FAIL("neigh: hold queue count or tail wrong");
        if (n > s->cfg.neigh_hold_pkts)
            FAIL("neigh: hold queue above its bound");
        if (n > 0 && ne->state != PNI_NEIGH_INCOMPLETE)
            FAIL("neigh: packets held for a resolved entry");
    }

    /* reassembly slots: age list and bytes */
    const pni_pool *rp = &s->pool[PN_POOL_REASS];
    divx rx_reass = divx_make(rp);
    uint64_t rbytes = 0;
    uint32_t nslots = 0;
    const pni_reass *prev = NULL;
    for (const pni_reass *r = s->reass_oldest; r != NULL; r = r->newer) {
        if (++nslots > rp->count)
            FAIL("reass: age list longer than the pool (cycle)");
        if (!pool_holds(rp, &rx_reass, r) || !r->in_use)
            FAIL("reass: age list holds a free slot");
        if (r->older != prev)
            FAIL("reass: age list back link wrong");
        if (prev != NULL && r->deadline < prev->deadline)
            FAIL("reass: age list not in deadline order");
        if ((e = queue_walk(&w, r->frags, &n, &bytes, &last)) != NULL)
            return e;
        if (r->got > 65535u + 8u || (r->have_last && r->got > r->total))
            FAIL("reass: more payload held than the datagram has");
        rbytes += r->bytes;
        prev = r;
    }
    if (prev != s->reass_newest)
        FAIL("reass: newest is not the end of the age list");
    if (nslots != rp->st->used)
        FAIL("reass: slots on the age list disagree with the pool");
    if (rbytes != s->reass_bytes || s->stats.reass_bytes != s->reass_bytes)
        FAIL("reass: reass_bytes disagrees with the slots");
    if (s->reass_bytes > s->cfg.reass_max_bytes)
        FAIL("reass: above reass_max_bytes");

    /* UDP receive queues */
    const pni_pool *up = &s->pool[PN_POOL_UDP];
    for (uint32_t i = 0; up->base != NULL && i < up->count; i++) {
        const pni_udp_sock *u = pni_pool_at(up, i);
        if (u == NULL)
            continue;
        if (u->in_use != PNI_UDP_OPEN && u->in_use != PNI_UDP_CLOSING)
            FAIL("udp: allocated socket neither open nor closing");
        if ((e = queue_walk(&w, u->rq_head, &n, &bytes, &last)) != NULL)
            return e;
        if (last != u->rq_tail || bytes != u->rq_bytes)
            FAIL("udp: receive queue tail or rq_bytes wrong");
        if (u->in_use == PNI_UDP_CLOSING && (u->rq_head != NULL || u->wmem == 0))
            FAIL("udp: closing socket with queued data or nothing in flight");
    }

    if (w.cnt == NULL)
        return NULL;

    /* One pass over the live segments: the pointer in each next link, and
     * the TX segments' send charges, counted per socket in the scratch
     * entries after the segments'. */
    uint32_t *charge = w.cnt + total;
    int have_charge = up->base != NULL && scratch_n >= (size_t)total + up->count;
    if (have_charge)
        memset(charge, 0, sizeof(uint32_t) * up->count);
    const pni_pool *bp[2] = {rx, tx};
    for (int k = 0; k < 2; k++) {
        const pni_pool *p = bp[k];
        for (uint32_t i = next_live(p, 0); i < p->count; i = next_live(p, i + 1)) {
            const pni_buf *b = (const pni_buf *)(p->base + (size_t)i * p->obj_size);
            if (b->next != NULL) {
                uint32_t nid = seg_live_id(&w, b->next);
                if (nid == UINT32_MAX)
                    FAIL("buf: next links a free or foreign segment");
                w.cnt[nid]++;
            }
            if (k == 1 && have_charge && b->owner_kind == 1) {
                if (b->owner >= up->count || !up->inuse[b->owner])
                    FAIL("udp: a buffer is charged to a free socket");
                charge[b->owner]++;
            }
        }
    }
    /* Every pointer counted, each to a live segment (the walks above fail
     * on one to a free segment): each live segment's count is its ref. */
    for (int k = 0; k < 2; k++) {
        const pni_pool *p = bp[k];
        const uint32_t *cnt = w.cnt + (k == 0 ? 0 : rx->count);
        for (uint32_t i = next_live(p, 0); i < p->count; i = next_live(p, i + 1)) {
            if (cnt[i] == 0)
                FAIL("buf: segment in use but held by nobody (leak)");
            if (cnt[i] != ((const pni_buf *)(p->base + (size_t)i * p->obj_size))->ref)
                FAIL("buf: ref differs from the number of pointers to the segment");
        }
    }
    for (uint32_t i = 0; have_charge && i < up->count; i++) {
        const pni_udp_sock *u = pni_pool_at(up, i);
        if (u != NULL && (uint64_t)charge[i] * s->buf_size != u->wmem)
            FAIL("udp: wmem differs from the buffers charged to the socket");
    }
    return NULL;
}

/* One byte queue: the chain holds exactly nch chunks of the chunk pool,
 * ends at tail and covers head_off + len bytes. Inline with an early out
 * for the empty queue, the usual case, since it runs twice per control
 * block per step. */
static inline const char *
tcpq_check(const pni_pool *cp, const divx *cx, const pni_tcpq *q, uint32_t *chunks)
{
    if (q->head == NULL) {
        if (q->nch != 0 || q->tail != NULL)
            FAIL("tcpq: nch or tail disagrees with the chain");
        if (q->head_off != 0 || q->len != 0)
            FAIL("tcpq: chunks do not cover head_off + len");
        return NULL;
    }
    uint32_t n = 0;
    const pni_tcp_chunk *last = NULL;
    for (const pni_tcp_chunk *c = q->head; c != NULL; c = c->next) {
        if (++n > cp->count)
            FAIL("tcpq: chunk chain longer than the pool (cycle)");
        if (!pool_holds(cp, cx, c))
            FAIL("tcpq: queue holds a free or foreign chunk");
        last = c;
    }
    if (n != q->nch || last != q->tail)
        FAIL("tcpq: nch or tail disagrees with the chain");
    if ((uint64_t)q->head_off + q->len > (uint64_t)q->nch * PNI_TCPCH_DATA)
        FAIL("tcpq: chunks do not cover head_off + len");
    if (q->head_off >= PNI_TCPCH_DATA)
        FAIL("tcpq: head_off past the first chunk");
    *chunks += n;
    return NULL;
}

static const char *
tcp_check(const pn_stack *s)
{
    if (s->tcp == NULL)
        return NULL;
    const pni_pool *tp = &s->pool[PN_POOL_TCP];
    const pni_pool *sp = &s->pool[PN_POOL_SYN];
    const pni_pool *cp = &s->pool[PN_POOL_TCPBUF];
    uint32_t chunks = 0, nsyn = 0;
    const char *e;
    divx cx = divx_make(cp);
    for (uint32_t i = next_live(tp, 0); i < tp->count; i = next_live(tp, i + 1)) {
        const pni_tcpcb *cb = (const pni_tcpcb *)(tp->base + (size_t)i * tp->obj_size);
        if (cb->state > PN_TCP_TIME_WAIT)
            FAIL("tcp: state out of range");
        if (cb->state >= PN_TCP_SYN_SENT) {
            if (!pni_seq_leq(cb->snd_una, cb->snd_nxt))
                FAIL("tcp: snd_una > snd_nxt");
            if (!pni_seq_leq(cb->snd_nxt, cb->snd_max))
                FAIL("tcp: snd_nxt > snd_max");
        }
        if ((e = tcpq_check(cp, &cx, &cb->sndq, &chunks)) != NULL)
            return e;
        if ((e = tcpq_check(cp, &cx, &cb->rcvq, &chunks)) != NULL)
            return e;
        if (cb->state == PN_TCP_LISTEN)
            nsyn += cb->nsyn;
    }
    if (chunks != s->stats.pool[PN_POOL_TCPBUF].used)
        FAIL("tcp: chunks held by queues disagree with the chunk pool");
    if (sp->base != NULL && nsyn != s->stats.pool[PN_POOL_SYN].used)
        FAIL("tcp: listeners' half-open counts disagree with the SYN pool");
    return NULL;
}

/* see pn_internal.h */
const char *
pni_stack_check(const pn_stack *s, uint32_t *scratch, size_t scratch_n, unsigned walk_pools)
{
    const char *e;
    for (int k = 0; k < PN_POOL_COUNT; k++)
        if ((walk_pools >> k) & 1)
            if ((e = pool_check(&s->pool[k])) != NULL)
                return e;
    if ((e = bufs_check(s, scratch, scratch_n)) != NULL)
        return e;
    return tcp_check(s);
}

/* see pn_internal.h */
size_t
pni_stack_check_scratch(const pn_stack *s)
{
    return (size_t)s->pool[PN_POOL_RXBUF].count + s->pool[PN_POOL_TXBUF].count +
           s->pool[PN_POOL_UDP].count;
}

/* see pn_internal.h */
int
pni_stack_idle(const pn_stack *s)
{
    for (int k = 0; k < PN_POOL_COUNT; k++)
        if (s->stats.pool[k].used != 0)
            return 0;
    return s->eg_head == NULL && s->reass_bytes == 0;
}
