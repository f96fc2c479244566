/*
 * reass.c -- IPv4 reassembly (RFC 791 section 3.2 "reassembly", RFC 815,
 * RFC 1122 3.3.2).
 *
 * IMPLEMENTATION NOTES
 * - A slot (pni_reass, pool PN_POOL_REASS) is one datagram being rebuilt,
 *   keyed by (src, dst, id, proto) (RFC 791 3.2). Live slots sit on one
 *   doubly linked age list, oldest first. The deadline is fixed when the
 *   slot is created (first fragment + cfg.reass_timeout_us); the clock never
 *   goes backwards and the timeout is a constant, so age order IS deadline
 *   order: poll pops expired slots from the old end, pn_next_deadline reads
 *   the oldest slot, eviction takes the oldest. All O(1). Lookup walks the
 *   list from the new end (slots are few: cfg.reass_slots, default 4).
 * - Fragments of a slot are a singly linked list (qnext) sorted by offset.
 *   Each buffer's meta is its payload offset in bytes, meta16 its payload
 *   length. The offset-0 fragment keeps its IP header (it becomes the
 *   datagram's header, options included, as RFC 791 asks); every other
 *   fragment has its header pulled off on arrival, so it holds payload only.
 * - Invariant: the held fragments never overlap. An exact duplicate (same
 *   offset and length) is dropped alone (reass_dup). Any other overlap
 *   drops the whole datagram (reass_overlap): the policy of RFC 5722 for
 *   IPv6, applied to IPv4 the way modern Linux and FreeBSD do, so that no
 *   overlap trick can make us deliver bytes a middlebox did not inspect.
 *   With no overlap, "complete" is simply: the last fragment (MF=0) was
 *   seen, every held fragment ends at or before its end, and the payload
 *   bytes held (got) equal the total. A later fragment that contradicts the
 *   known end (second different last fragment, data past the end) drops the
 *   datagram too (reass_bad).
 * - Fragment checks (each drops the fragment, counted): offset + length
 *   past 65535 (reass_too_big; also checked for the rebuilt datagram with
 *   the first fragment's header length); zero-length fragments, last or
 *   not (reass_bad: no real stack sends them and they would pin a buffer
 *   for nothing; Linux refuses them too); MF=1 with a payload not a
 *   multiple of 8 (reass_bad, RFC 791: all but the last fragment carry a
 *   multiple of 8 octets); a header not in the first segment or a buffer
 *   shorter than tot_len (reass_bad). Link padding past tot_len is trimmed.
 * - Memory: every held buffer is charged its truesize, s->buf_size per
 *   segment, in slot->bytes and s->reass_bytes (mirrored in
 *   stats.reass_bytes and its peak). The budget is cfg.reass_max_bytes,
 *   further capped so that reassembly can never hold more than 7/8 of the
 *   RX pool (at least one RX buffer stays free): otherwise held fragments
 *   could starve pn_inject_raw of the very buffers needed to complete or
 *   evict them, and the stack would be deaf until the timeout.
 * - Pressure policy: EVICT THE OLDEST. When no slot is free, the oldest
 *   datagram is dropped (counted reass_no_slot) and its slot reused; when a
 *   new fragment would exceed the byte budget, the oldest other datagrams
 *   are dropped (each counted reass_mem) until it fits; if even then it
 *   does not fit (its own datagram alone is too big for the budget), the
 *   fragment and its datagram are dropped (reass_mem). Rationale: dropping
 *   the new fragment instead lets a flood of incomplete datagrams pin every
 *   slot for the whole timeout (30 s) and block all legitimate reassembly;
 *   with eviction an attacker must keep flooding faster than a legitimate
 *   datagram's fragments arrive (a burst, microseconds to milliseconds) to
 *   hurt it. Linux does the same (drop oldest queues above its threshold).
 *   Either way held memory never exceeds the budget: the check runs before
 *   every insertion.
 * - Counters count events: reass_dup, reass_bad, reass_too_big count
 *   fragments; reass_overlap, reass_timeout, reass_no_slot, reass_mem count
 *   datagrams dropped (with all their held fragments); reass_ok counts
 *   datagrams delivered.
 * - Timeout (RFC 791 suggests 15 s; cfg.reass_timeout_us): the datagram
 *   is dropped (reass_timeout). RFC 792 / RFC 1122 3.3.2: an ICMP time
 *   exceeded, code 1 "fragment reassembly time exceeded", MAY be sent, but
 *   only if fragment zero was received; we send it through
 *   pni_icmp_send_error (which applies RFC 1122 3.2.2 and the rate limit),
 *   quoting fragment zero, when that fragment lies in one segment.
 * - Completion is zero copy: the fragments are chained (pni_buf_cat) back to
 *   front, so each cat only walks one fragment's segments; tot_len is set,
 *   MF and the offset cleared (DF kept), the header checksum recomputed.
 * - Ownership: pni_reass_input consumes the fragment on every path; every
 *   exit that drops a slot frees all its buffers and the slot.
 */
#include "pn_internal.h"

#if PN_HAVE_FRAG /* the whole file: see pn_features.h */

#define IP4_MAX_LEN 65535u

/* Truesize of a buffer chain: what it pins in the pools. */
static uint32_t
truesize(const pn_stack *s, const pni_buf *b)
{
    uint32_t n = 0;
    for (; b != NULL; b = b->next)
        n += s->buf_size;
    return n;
}

/* The byte budget: cfg.reass_max_bytes, and never more than 7/8 of the RX
 * pool (see the notes). */
static uint32_t
budget(const pn_stack *s)
{
    uint32_t rx = s->cfg.rx_bufs;
    uint32_t keep = rx / 8 != 0 ? rx / 8 : 1;
    uint64_t rx_cap = (uint64_t)(rx - keep) * s->buf_size;
    uint64_t b = s->cfg.reass_max_bytes;
    return (uint32_t)(rx_cap < b ? rx_cap : b);
}

static void
bytes_add(pn_stack *s, pni_reass *r, uint32_t n)
{
    r->bytes += n;
    s->reass_bytes += n;
    s->stats.reass_bytes = s->reass_bytes;
    if (s->stats.reass_bytes > s->stats.reass_bytes_peak)
        s->stats.reass_bytes_peak = s->stats.reass_bytes;
}

static void
list_unlink(pn_stack *s, pni_reass *r)
{
    if (r->older != NULL)
        r->older->newer = r->newer;
    else
        s->reass_oldest = r->newer;
    if (r->newer != NULL)
        r->newer->older = r->older;
    else
        s->reass_newest = r->older;
    r->older = r->newer = NULL;
}

/* Remove slot r from the list and return it to its pool, keeping its
 * fragments (the caller owns them afterwards). */
static void
slot_release(pn_stack *s, pni_reass *r)
{
    list_unlink(s, r);
    PNI_ASSERT(s->reass_bytes >= r->bytes);
    s->reass_bytes -= r->bytes;
    s->stats.reass_bytes = s->reass_bytes;
    r->bytes = 0;
    r->frags = NULL;
    r->in_use = 0;
    pni_pool_free(&s->pool[PN_POOL_REASS], r);
}

/* Drop a whole datagram: its fragments and its slot. */
static void
slot_kill(pn_stack *s, pni_reass *r)
{
    pni_buf *frags = r->frags;
    slot_release(s, r);
    pni_buf_free_queue(s, frags);
}

static pni_reass *
slot_find(const pn_stack *s, const pni_ip4_repr *ip)
{
    for (pni_reass *r = s->reass_newest; r != NULL; r = r->older)
        if (r->id == ip->id && r->proto == ip->proto && pni_ip_eq(r->src, ip->src) &&
            pni_ip_eq(r->dst, ip->dst))
            return r;
    return NULL;
}

static pni_reass *
slot_new(pn_stack *s, const pni_ip4_repr *ip)
{
    pni_reass *r = pni_pool_alloc(&s->pool[PN_POOL_REASS]);
    if (r == NULL) {
        /* Evict the oldest datagram (see the notes). */
        if (s->reass_oldest == NULL)
            return NULL; /* unreachable: the pool has >= 1 slot */
        PNI_STAT(s, reass_no_slot);
        slot_kill(s, s->reass_oldest);
        r = pni_pool_alloc(&s->pool[PN_POOL_REASS]);
        if (r == NULL)
            return NULL;
    }
    memset(r, 0, sizeof *r);
    r->in_use = 1;
    r->proto = ip->proto;
    memcpy(r->src, ip->src, 4);
    memcpy(r->dst, ip->dst, 4);
    r->id = ip->id;
    r->deadline = s->now + s->cfg.reass_timeout_us;
    r->older = s->reass_newest;
    if (s->reass_newest != NULL)
        s->reass_newest->newer = r;
    else
        s->reass_oldest = r;
    s->reass_newest = r;
    return r;
}

/* Make room for need more bytes by evicting the oldest datagrams other
 * than keep. Returns 1 when it fits. */
static int
make_room(pn_stack *s, const pni_reass *keep, uint32_t need)
{
    uint32_t cap = budget(s);
    while ((uint64_t)s->reass_bytes + need > cap) {
        pni_reass *v = s->reass_oldest;
        if (v == keep)
            v = v->newer;
        if (v == NULL)
            return 0;
        PNI_STAT(s, reass_mem);
        slot_kill(s, v);
    }
    return 1;
}

/* Join the fragments of a complete datagram (zero copy). Frees the slot;
 * returns the datagram, or NULL if it would exceed 65535 bytes. */
static pni_buf *
complete(pn_stack *s, pni_reass *r)
{
    pni_buf *first = r->frags;
    uint8_t *h = pni_buf_data(first);
    uint32_t hlen = (uint32_t)(h[0] & 0x0f) * 4;
    uint32_t total = r->total;
    slot_release(s, r);
    if (hlen + total > IP4_MAX_LEN) {
        PNI_STAT(s, reass_too_big);
        pni_buf_free_queue(s, first);
        return NULL;
    }
    /* Reverse the list, then chain back to front: each pni_buf_cat walks
     * only the (short) chain of the fragment in front. */
    pni_buf *rev = NULL;
    while (first != NULL) {
        pni_buf *n = first->qnext;
        first->qnext = rev;
        rev = first;
        first = n;
    }
    pni_buf *acc = rev;
    rev = rev->qnext;
    acc->qnext = NULL;
    while (rev != NULL) {
        pni_buf *n = rev->qnext;
        rev->qnext = NULL;
        pni_buf_cat(rev, acc);
        acc = rev;
        rev = n;
    }
    first = acc;
    PNI_ASSERT(first->tot_len == hlen + total);
    PNI_ASSERT(pni_buf_check(first));
    /* RFC 791 3.2: the header of fragment zero, total length fixed, MF and
     * the offset cleared; new header checksum. */
    pni_put_be16(h + 2, (uint16_t)(hlen + total));
    pni_put_be16(h + 6, (uint16_t)(pni_be16(h + 6) & ~(PNI_IP4_MF | PNI_IP4_OFFMASK)));
    h[10] = 0;
    h[11] = 0;
    pni_put_be16(h + 10, pni_csum(h, hlen));
    first->meta = 0;
    first->meta16 = 0;
    PNI_STAT(s, reass_ok);
    return first;
}

/* see pn_internal.h */
pni_buf *
pni_reass_input(pn_stack *s, pni_buf *frag, const pni_ip4_repr *ip)
{
    uint32_t hlen = ip->hlen;
    uint32_t off = ip->frag_off;

    /* ---- the fragment alone ---- */
    if (ip->tot_len < hlen || hlen < PNI_IP4_HLEN || frag->tot_len < ip->tot_len) {
        PNI_STAT(s, reass_bad);
        pni_buf_free(s, frag);
        return NULL;
    }
    uint32_t len = (uint32_t)ip->tot_len - hlen;
    uint32_t end = off + len;
    if (!ip->mf && off == 0) {
        /* Not a fragment at all: nothing to do. */
        return frag;
    }
    if (end > IP4_MAX_LEN) {
        PNI_STAT(s, reass_too_big);
        pni_buf_free(s, frag);
        return NULL;
    }
    if (len == 0 || (ip->mf && (len & 7) != 0)) {
        PNI_STAT(s, reass_bad);
        pni_buf_free(s, frag);
        return NULL;
    }
    /* Drop link padding; the header must be contiguous (we edit it). */
    if (pni_buf_trim(s, frag, ip->tot_len) != 0 || pni_buf_linearize(s, frag, hlen) == NULL) {
        PNI_STAT(s, reass_bad);
        pni_buf_free(s, frag);
        return NULL;
    }
    if (off != 0) {
        /* Only fragment zero keeps a header. A segment left empty is
         * given back at once rather than held. */
        pni_buf_pull(frag, hlen);
        if (frag->len == 0 && frag->next != NULL) {
            pni_buf *rest = frag->next;
            frag->next = NULL;
            pni_buf_free(s, frag);
            frag = rest;
        }
    }
    frag->qnext = NULL;
    frag->meta = off;
    frag->meta16 = (uint16_t)len;

    /* ---- against the datagram so far ---- */
    pni_reass *r = slot_find(s, ip);
    pni_buf *prev = NULL, *cur = NULL;
    int dup = 0;
    if (r != NULL) {
        uint32_t max_end = 0;
        for (pni_buf *f = r->frags; f != NULL; f = f->qnext)
            max_end = f->meta + f->meta16; /* sorted, disjoint: last is max */
        if ((r->have_last && (end > r->total || (!ip->mf && end != r->total))) ||
            (!ip->mf && !r->have_last && max_end > end)) {
            /* Contradicts the known end of the datagram. */
            PNI_STAT(s, reass_bad);
            slot_kill(s, r);
            pni_buf_free(s, frag);
            return NULL;
        }
        cur = r->frags;
        while (cur != NULL && cur->meta < off) {
            if (cur->meta + cur->meta16 > off)
                goto overlap;
            prev = cur;
            cur = cur->qnext;
        }
        if (cur != NULL && cur->meta == off && cur->meta16 == len)
            dup = 1;
        else if (cur != NULL && cur->meta < end)
            goto overlap;
    }
    if (dup) {
        PNI_STAT(s, reass_dup);
        pni_buf_free(s, frag);
        frag = NULL;
    } else {
        uint32_t ts = truesize(s, frag);
        if (!make_room(s, r, ts)) {
            PNI_STAT(s, reass_mem);
            if (r != NULL)
                slot_kill(s, r);
            pni_buf_free(s, frag);
            return NULL;
        }
        if (r == NULL) {
            r = slot_new(s, ip);
            if (r == NULL) {
                PNI_STAT(s, reass_no_slot);
                pni_buf_free(s, frag);
                return NULL;
            }
        }
        frag->qnext = cur;
        if (prev != NULL)
            prev->qnext = frag;
        else
            r->frags = frag;
        bytes_add(s, r, ts);
        r->got += len;
        if (off == 0)
            r->have_first = 1;
    }
    if (!ip->mf) {
        r->have_last = 1;
        r->total = end;
    }
    if (r->have_last && r->got == r->total)
        return complete(s, r);
    return NULL;

overlap:
    PNI_STAT(s, reass_overlap);
    slot_kill(s, r);
    pni_buf_free(s, frag);
    return NULL;
}

/* Tell the source that fragment zero's datagram timed out (RFC 792, RFC
 * 1122 3.3.2: only when fragment zero was received). */
static void
time_exceeded(pn_stack *s, const pni_reass *r)
{
    const pni_buf *f0 = r->frags;
    if (!r->have_first || f0 == NULL || f0->meta != 0 || f0->next != NULL)
        return;
    pni_ip4_repr ip;
    if (pni_wire_ip4_parse(f0->blk + f0->off, f0->len, &ip) != 0)
        return;
    pni_icmp_send_error(s, f0, &ip, PNI_ICMP_TIME_EXCEEDED, 1, 0);
}

/* see pn_internal.h */
void
pni_reass_poll(pn_stack *s)
{
    while (s->reass_oldest != NULL && s->reass_oldest->deadline <= s->now) {
        pni_reass *r = s->reass_oldest;
        PNI_STAT(s, reass_timeout);
        time_exceeded(s, r);
        slot_kill(s, r);
    }
}

#endif /* PN_HAVE_FRAG */
