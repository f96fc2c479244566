/*
 * tcp_sack.c -- SACK (RFC 2018) on both sides: the sender's scoreboard
 * for RFC 6675 loss recovery, and the receiver's out-of-order ranges.
 *
 * IMPLEMENTATION NOTES
 * - Both are small sorted arrays of disjoint [left, right) ranges inside
 *   the control block (PNI_TCP_SB_MAX, PNI_TCP_OOO_MAX entries; the
 *   receiver uses at most tcp.ooo_max_segs of its PNI_TCP_OOO_MAX): a SACK
 *   flood or endless out-of-order data cannot grow memory. When the
 *   scoreboard is full the highest range is forgotten (we then only
 *   retransmit more than needed); when the out-of-order list is full a
 *   lower new range evicts the highest one (its bytes stay in the receive
 *   buffer as garbage that later data overwrites), a higher one is
 *   refused (the peer resends it).
 * - The scoreboard only holds ranges above snd_una and at most snd_max;
 *   blocks outside that are ignored (RFC 2018 allows reneging, RFC 6675
 *   treats SACK information as advisory).
 * - A build with PN_CONFIG_NO_SACK (pn_features.h) keeps only the
 *   receiver's out-of-order ranges, which every TCP needs: the scoreboard
 *   functions are compiled out (static inline no-ops in tcp.h stand in,
 *   behind PNI_TCP_SACK_ON, which is then constant 0).
 */
#include "tcp.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

static void
range_insert(pni_seqrange *r, uint8_t *n, uint8_t max, uint32_t left, uint32_t right,
             uint8_t *last)
{
    /* merge with everything overlapping or adjacent */
    uint8_t i = 0;
    while (i < *n) {
        if (pni_seq_leq(left, r[i].right) && pni_seq_geq(right, r[i].left)) {
            left = pni_seq_min(left, r[i].left);
            right = pni_seq_max(right, r[i].right);
            memmove(&r[i], &r[i + 1], sizeof(r[0]) * (uint32_t)(*n - i - 1));
            (*n)--;
            continue;
        }
        i++;
    }
    /* sorted position */
    uint8_t pos = 0;
    while (pos < *n && pni_seq_lt(r[pos].left, left))
        pos++;
    if (*n == max) {
        if (pos == *n)
            return; /* above everything and no room: refuse */
        (*n)--;     /* forget the highest */
    }
    memmove(&r[pos + 1], &r[pos], sizeof(r[0]) * (uint32_t)(*n - pos));
    r[pos].left = left;
    r[pos].right = right;
    (*n)++;
    if (last != NULL)
        *last = pos;
}

#if PN_HAVE_SACK

int
pni_tcp_sack_update(pni_tcpcb *cb, const pni_tcp_repr *seg)
{
    uint32_t before = pni_tcp_sacked_bytes(cb);
    for (uint8_t i = 0; i < seg->n_sack && i < PNI_TCP_MAX_SACK; i++) {
        uint32_t l = seg->sack[i].left, r = seg->sack[i].right;
        if (!pni_seq_lt(l, r) || !pni_seq_gt(l, cb->snd_una) || pni_seq_gt(r, cb->snd_max))
            continue; /* D-SACK, stale or bogus */
        range_insert(cb->sb, &cb->n_sb, PNI_TCP_SB_MAX, l, r, NULL);
    }
    /* New information: more bytes SACKed than before. (A full scoreboard
     * that forgot its highest range for a lower new one may show fewer;
     * that is not new information about the hole at snd_una either way.) */
    return pni_tcp_sacked_bytes(cb) > before;
}

void
pni_tcp_sack_clean(pni_tcpcb *cb)
{
    uint8_t k = 0;
    for (uint8_t i = 0; i < cb->n_sb; i++) {
        if (pni_seq_leq(cb->sb[i].right, cb->snd_una))
            continue;
        cb->sb[k] = cb->sb[i];
        if (pni_seq_lt(cb->sb[k].left, cb->snd_una))
            cb->sb[k].left = cb->snd_una;
        k++;
    }
    cb->n_sb = k;
}

uint32_t
pni_tcp_sacked_bytes(const pni_tcpcb *cb)
{
    uint32_t n = 0;
    for (uint8_t i = 0; i < cb->n_sb; i++)
        n += cb->sb[i].right - cb->sb[i].left;
    return n;
}

uint32_t
pni_tcp_sack_fack(const pni_tcpcb *cb)
{
    return cb->n_sb > 0 ? cb->sb[cb->n_sb - 1].right : cb->snd_una;
}

int
pni_tcp_sack_nexthole(const pni_tcpcb *cb, uint32_t from, uint32_t *seq, uint32_t *len)
{
    uint32_t fack = pni_tcp_sack_fack(cb);
    uint32_t p = pni_seq_max(from, cb->snd_una);
    for (uint8_t i = 0; i < cb->n_sb; i++) {
        if (pni_seq_leq(cb->sb[i].right, p))
            continue;
        if (pni_seq_geq(p, cb->sb[i].left)) {
            p = cb->sb[i].right; /* inside a SACKed range: skip it */
            continue;
        }
        *seq = p;
        *len = cb->sb[i].left - p;
        return 1;
    }
    (void)fack;
    return 0;
}

/* Pipe (RFC 6675 4, simplified): bytes above the highest SACK are in
 * flight; holes below it count as lost unless already retransmitted in
 * this recovery (below sack_rxt), when they are in flight again. */
uint32_t
pni_tcp_sack_pipe(const pni_tcpcb *cb)
{
    uint32_t fack = pni_tcp_sack_fack(cb);
    uint32_t pipe = cb->snd_max - fack;
    uint32_t lim = pni_seq_min(cb->sack_rxt, fack);
    uint32_t p = cb->snd_una;
    for (uint8_t i = 0; i < cb->n_sb && pni_seq_lt(p, lim); i++) {
        uint32_t hole_end = pni_seq_min(cb->sb[i].left, lim);
        if (pni_seq_gt(hole_end, p))
            pipe += hole_end - p;
        p = pni_seq_max(p, cb->sb[i].right);
    }
    return pipe;
}

#endif /* PN_HAVE_SACK */

int
pni_tcp_ooo_add(pni_tcpcb *cb, uint32_t left, uint32_t right, uint32_t max)
{
    uint8_t last = 0xff;
    if (max < 1)
        max = 1;
    if (max > PNI_TCP_OOO_MAX)
        max = PNI_TCP_OOO_MAX;
    range_insert(cb->ooo, &cb->n_ooo, (uint8_t)max, left, right, &last);
    if (last == 0xff)
        return -1;
    cb->ooo_last = last;
    return 0;
}

#endif /* PN_HAVE_TCP */
