/*
 * buf.c -- packet buffers after lwIP's pbuf.
 *
 * IMPLEMENTATION NOTES
 * - A packet is a chain of segments linked by `next`. Each segment is one
 *   fixed-size pool object: the pni_buf header followed by cap bytes of
 *   block; data is blk[off .. off+len). Bounds are integers, not pointers.
 * - Invariant (lwIP): tot_len == len + (next ? next->tot_len : 0) for every
 *   segment; the first segment's tot_len is the packet length. Only the
 *   first segment's off/len change on push/pull, so only its tot_len moves.
 * - Headroom: pni_buf_alloc reserves, in the first segment, the headers of
 *   every layer below the one named (link 14, IP 20, transport 60), so each
 *   layer prepends its header with pni_buf_push and no copy.
 * - ref counts every pointer to a segment. pni_buf_free drops one reference
 *   per segment walking the chain and stops at the first segment that is
 *   still referenced elsewhere (it owns the rest).
 * - A segment charged to a UDP socket (owner_kind 1) gives its truesize
 *   (the block size) back to that socket's send budget when it is freed.
 */
#include "pn_internal.h"

static uint32_t
headroom(int layer)
{
    switch (layer) {
    case PNI_LAYER_TRANSPORT:
        return PNI_HR_LINK + PNI_HR_IP + PNI_HR_TRANSPORT;
    case PNI_LAYER_IP:
        return PNI_HR_LINK + PNI_HR_IP;
    case PNI_LAYER_LINK:
        return PNI_HR_LINK;
    default:
        return 0;
    }
}

static pni_buf *
seg_alloc(pn_stack *s, int pool)
{
    pni_buf *b = pni_pool_alloc(&s->pool[pool]);
    if (b == NULL)
        return NULL;
    /* Every header field zero (next, qnext, lengths, flags, owner, meta,
     * time) in a few wide stores, then the three that are not. */
    memset(b, 0, offsetof(pni_buf, blk));
    b->cap = (uint16_t)s->buf_size;
    b->ref = 1;
    b->pool = (uint8_t)pool;
    return b;
}

/* pni_buf_alloc for a packet that needs more than one segment. */
PNI_NOINLINE static pni_buf *
alloc_chain(pn_stack *s, int pool, uint32_t hr, size_t len)
{
    if (len > UINT32_MAX - hr)
        return NULL;
    pni_buf *head = seg_alloc(s, pool);
    if (head == NULL) {
        if (pool == PN_POOL_TXBUF)
            PNI_STAT(s, tx_nobufs);
        else
            PNI_STAT(s, rx_nobufs);
        return NULL;
    }
    head->off = (uint16_t)hr;
    size_t room = s->buf_size - hr;
    head->len = (uint16_t)(len < room ? len : room);
    head->tot_len = (uint32_t)len;
    size_t rem = len - head->len;
    pni_buf *last = head;
    while (rem > 0) {
        pni_buf *q = seg_alloc(s, pool);
        if (q == NULL) {
            if (pool == PN_POOL_TXBUF)
                PNI_STAT(s, tx_nobufs);
            else
                PNI_STAT(s, rx_nobufs);
            pni_buf_free(s, head);
            return NULL;
        }
        q->len = (uint16_t)(rem < s->buf_size ? rem : s->buf_size);
        q->tot_len = (uint32_t)rem;
        rem -= q->len;
        last->next = q;
        last = q;
    }
    return head;
}

pni_buf *
pni_buf_alloc(pn_stack *s, int pool, int layer, size_t len)
{
    uint32_t hr = headroom(layer);
    if (len > s->buf_size - hr) /* buf_size > every headroom (api.c) */
        return alloc_chain(s, pool, hr, len);
    return pni_buf_alloc1(s, pool, hr, len);
}

int
pni_buf_trim(pn_stack *s, pni_buf *b, size_t new_len)
{
    if (new_len > b->tot_len)
        return -1;
    uint32_t delta = b->tot_len - (uint32_t)new_len;
    if (delta == 0)
        return 0;
    size_t rem = new_len;
    pni_buf *q = b;
    while (rem > q->len) {
        rem -= q->len;
        q->tot_len -= delta;
        q = q->next;
    }
    q->len = (uint16_t)rem;
    q->tot_len = (uint32_t)rem;
    pni_buf *rest = q->next;
    q->next = NULL;
    pni_buf_free(s, rest);
    return 0;
}

int
pni_buf_ref(pni_buf *b)
{
    if (b->ref == UINT8_MAX) {
        PNI_ASSERT(0);
        return -1;
    }
    b->ref++;
    return 0;
}

/* pni_buf_free's general walk: chains, shared segments, the refusals of
 * a double free. Out of line, so that the usual case needs no frame. */
PNI_NOINLINE static void
free_walk(pn_stack *s, pni_buf *b)
{
    while (b != NULL) {
        if (b->ref == 0 || b->pool >= PN_POOL_COUNT) {
            /* Already free: refuse rather than corrupt the pool. */
            PNI_STAT(s, buf_double_free);
            PNI_ASSERT(0);
            return;
        }
        if (--b->ref > 0)
            return;
        pni_buf *next = b->next;
        if (b->owner_kind == 1)
            pni_udp_wmem_release(s, b->owner, s->buf_size);
        pni_pool *p = &s->pool[b->pool];
        /* pni_pool_free, without its range and alignment checks: b came
         * from p (its pool byte says so, and only pni_buf_alloc makes
         * buffers); the in-use byte still catches a double free. */
        uint32_t i = pni_pool_index(p, b);
        if (p->inuse[i] == 0) {
            PNI_STAT(s, buf_double_free);
            PNI_ASSERT(0);
            return;
        }
        p->inuse[i] = 0;
        memcpy(b, &p->free_head, sizeof(void *));
        p->free_head = b;
        p->st->used--;
        b = next;
    }
}

void
pni_buf_free(pn_stack *s, pni_buf *b)
{
    /* The usual case straight-line (pni_buf_free_fast); anything else, or
     * anything odd, takes the walk. */
    if (b != NULL && pni_buf_free_fast(s, b))
        return;
    free_walk(s, b);
}

void
pni_buf_free_queue(pn_stack *s, pni_buf *head)
{
    while (head != NULL) {
        pni_buf *n = head->qnext;
        head->qnext = NULL;
        pni_buf_free(s, head);
        head = n;
    }
}

void
pni_buf_cat(pni_buf *head, pni_buf *tail)
{
    pni_buf *q = head;
    for (;;) {
        q->tot_len += tail->tot_len;
        if (q->next == NULL)
            break;
        q = q->next;
    }
    q->next = tail;
}

size_t
pni_buf_copyout(const pni_buf *b, size_t off, void *dst, size_t len)
{
    uint8_t *d = dst;
    size_t done = 0;
    for (const pni_buf *q = b; q != NULL && done < len; q = q->next) {
        if (off >= q->len) {
            off -= q->len;
            continue;
        }
        size_t n = q->len - off;
        if (n > len - done)
            n = len - done;
        memcpy(d + done, q->blk + q->off + off, n);
        done += n;
        off = 0;
    }
    return done;
}

int
pni_buf_copyin(pni_buf *b, size_t off, const void *src, size_t len)
{
    const uint8_t *p = src;
    if (off > b->tot_len || len > b->tot_len - off)
        return -1;
    for (pni_buf *q = b; q != NULL && len > 0; q = q->next) {
        if (off >= q->len) {
            off -= q->len;
            continue;
        }
        size_t n = q->len - off;
        if (n > len)
            n = len;
        memcpy(q->blk + q->off + off, p, n);
        p += n;
        len -= n;
        off = 0;
    }
    return 0;
}

uint64_t
pni_buf_csum(const pni_buf *b, size_t off, size_t len)
{
    uint64_t sum = 0;
    size_t done = 0;
    for (const pni_buf *q = b; q != NULL && done < len; q = q->next) {
        if (off >= q->len) {
            off -= q->len;
            continue;
        }
        size_t n = q->len - off;
        if (n > len - done)
            n = len - done;
        uint64_t ps = pni_csum_partial(q->blk + q->off + off, n, 0);
        if (done & 1)
            ps = pni_csum_swap(ps);
        sum += ps;
        done += n;
        off = 0;
    }
    return sum;
}

uint8_t *
pni_buf_linearize_slow(pn_stack *s, pni_buf *b, size_t n)
{
    if (n > b->tot_len || n > b->cap)
        return NULL;
    if ((size_t)b->off + n > b->cap) {
        uint16_t noff = (uint16_t)(b->cap - n);
        memmove(b->blk + noff, b->blk + b->off, b->len);
        b->off = noff;
    }
    while (b->len < n) {
        pni_buf *q = b->next;
        PNI_ASSERT(q != NULL && q->ref == 1);
        size_t take = n - b->len;
        if (take > q->len)
            take = q->len;
        memcpy(b->blk + b->off + b->len, q->blk + q->off, take);
        b->len = (uint16_t)(b->len + take);
        q->off = (uint16_t)(q->off + take);
        q->len = (uint16_t)(q->len - take);
        q->tot_len -= (uint32_t)take;
        if (q->len == 0) {
            /* q is empty now: unlink it and return it alone. */
            b->next = q->next;
            q->next = NULL;
            pni_buf_free(s, q);
        }
    }
    return b->blk + b->off;
}

void
pni_buf_view(const pni_buf *b, pn_pktview *v)
{
    v->head = b->blk + b->off;
    v->head_len = b->len;
    v->tot_len = b->tot_len;
    v->opaque_ = b;
}

size_t
pn_pktview_copy(const pn_pktview *v, size_t off, void *dst, size_t len)
{
    if (v == NULL || (dst == NULL && len > 0))
        return 0;
    if (v->opaque_ == NULL) { /* a frame viewed where it lies (pn_inject_raw) */
        if (off >= v->tot_len)
            return 0;
        if (len > v->tot_len - off)
            len = v->tot_len - off;
        if (len > 0)
            memcpy(dst, v->head + off, len);
        return len;
    }
    return pni_buf_copyout((const pni_buf *)v->opaque_, off, dst, len);
}

int
pni_buf_check(const pni_buf *b)
{
    for (const pni_buf *q = b; q != NULL; q = q->next) {
        uint32_t rest = q->next != NULL ? q->next->tot_len : 0;
        if (q->ref == 0 || q->tot_len != (uint32_t)q->len + rest ||
            (uint32_t)q->off + q->len > q->cap)
            return 0;
    }
    return 1;
}
