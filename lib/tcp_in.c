/*
 * tcp_in.c -- segment arrival: validation, demultiplexing, listeners and
 * half-open entries (SYN queue, SYN cookies), and the RFC 9293 3.10.7
 * event processing of a connection.
 *
 * IMPLEMENTATION NOTES
 * - Order of checks for synchronized states is RFC 9293 3.10.7.4 with the
 *   hardening of RFC 7323 (PAWS first) and RFC 5961 (RST and SYN need an
 *   exact sequence number, else a rate-limited challenge ACK; ACKs far
 *   behind snd_una are rejected).
 * - As FreeBSD's tcp_input.c, a rejected segment leaves by one of three
 *   exits: drop (silently), dropafterack (answer with an ACK: out of
 *   window, PAWS), dropwithreset (answer with the RFC 9293 3.10.7.1 RST).
 * - Received data goes straight into the receive queue's chunks at its
 *   sequence offset, in order or not; out-of-order data is described by
 *   a few ranges (cb->ooo) which also give the SACK blocks. Memory per
 *   connection is bounded by its receive buffer whatever the peer sends.
 * - The input buffer is freed here on every path. A segment is read,
 *   never kept: its payload is copied into the receive queue, so it can
 *   equally be processed where it lies in the caller's frame
 *   (pni_tcp_input_flat, pn_inject_raw's in-place path), no buffer at all.
 */
#include "tcp.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

int
pni_tcp_challenge_ok(pn_stack *s)
{
    struct pni_tcp *tp = s->tcp;
    uint64_t sec = s->now / 1000000u;
    if (sec != tp->chal_sec) {
        tp->chal_sec = sec;
        tp->chal_cnt = 0;
    }
    if (tp->chal_cnt >= s->cfg.tcp.challenge_ack_limit) {
        PNI_STAT(s, tcp_challenge_ack_limited);
        return 0;
    }
    tp->chal_cnt++;
    PNI_STAT(s, tcp_challenge_ack);
    return 1;
}

void
pni_tcp_drop(pn_stack *s, pni_tcpcb *cb, int err)
{
    if (err != 0 && cb->error == 0)
        cb->error = (int16_t)err;
    if (err == PN_ECONNRESET || err == PN_ECONNREFUSED)
        PNI_STAT(s, tcp_conn_reset);
    pni_tcp_close_cb(s, cb);
}

/* Negotiated options from a SYN (RFC 7323 2.2, 3.2; RFC 2018 2). */
static void
syn_options(pni_tcpcb *cb, const pni_tcp_repr *seg)
{
    cb->peer_mss = seg->has_mss ? seg->mss : 536; /* RFC 9293 3.7.1 */
    if (seg->has_ws && (cb->t_flags & PNI_TF_WANT_WS)) {
        cb->t_flags |= PNI_TF_WS;
        cb->snd_wscale = seg->ws > 14 ? 14 : seg->ws; /* RFC 7323 2.3 */
    } else {
        cb->t_flags &= ~PNI_TF_WS;
        cb->snd_wscale = 0;
        cb->rcv_wscale = 0;
    }
    if (PN_HAVE_SACK && seg->sack_ok && (cb->t_flags & PNI_TF_WANT_SACK))
        cb->t_flags |= PNI_TF_SACK;
    if (seg->has_ts && (cb->t_flags & PNI_TF_WANT_TS)) {
        cb->t_flags |= PNI_TF_TS;
        cb->ts_recent = seg->ts_val;
    }
}

static void
established(pn_stack *s, pni_tcpcb *cb)
{
    cb->state = PN_TCP_ESTABLISHED;
    cb->t_flags |= PNI_TF_CONNECTED;
    cb->t_maxseg = pni_tcp_mss_for(s, cb);
    pni_tcp_cc_init(s, cb);
    /* RFC 6298 5.7: a SYN timed out and no sample since: RTO 3 s. */
    if ((cb->t_flags & PNI_TF_SYNRXT) && cb->srtt == 0 && cb->rto < 3000000u)
        cb->rto = 3000000u;
    cb->rxtshift = 0;
    if (cb->parent != PNI_NONE) {
        pni_tcpcb *l = pni_tcp_cb(s, cb->parent);
        uint32_t idx = pni_tcp_idx(s, cb);
        cb->acc_next = PNI_NONE;
        if (l->acc_tail != PNI_NONE)
            pni_tcp_cb(s, l->acc_tail)->acc_next = idx;
        else
            l->acc_head = idx;
        l->acc_tail = idx;
        l->acc_len++;
        cb->t_flags |= PNI_TF_ACCEPTQ;
    }
    if (cb->t_flags & PNI_TF_SHUT_WR)
        cb->state = PN_TCP_FIN_WAIT_1;
    pni_tcp_set_keep(s, cb);
}

/* ---------------------------------------------------------------------
 * Listener side: SYN queue entries and cookies
 * --------------------------------------------------------------------- */

static pni_tcpcb *
child_new(pn_stack *s, pni_tcpcb *l, const pni_tcp_syn *sy)
{
    pni_tcpcb *c = pni_tcp_cb_alloc(s);
    if (c == NULL) {
        PNI_STAT(s, tcp_backlog_drop);
        return NULL;
    }
    memcpy(c->laddr, sy->laddr, 4);
    memcpy(c->raddr, sy->raddr, 4);
    c->lport = sy->lport;
    c->rport = sy->rport;
    c->t_flags = l->t_flags & (PNI_TF_NODELAY | PNI_TF_KEEPALIVE | PNI_TF_LINGER0 |
                               PNI_TF_QUICKACK | PNI_TF_WANT_TS | PNI_TF_WANT_SACK |
                               PNI_TF_WANT_WS);
    c->sndbuf = l->sndbuf;
    c->rcvbuf = l->rcvbuf;
    c->keepidle_s = l->keepidle_s;
    c->keepintvl_s = l->keepintvl_s;
    c->keepcnt = l->keepcnt;
    c->mss_clamp = l->mss_clamp;
    c->cc_algo = l->cc_algo;
    c->tos_ttl = l->tos_ttl;
    c->peer_mss = sy->peer_mss;
    if (PN_HAVE_SACK && (sy->opts & PNI_SO_SACK))
        c->t_flags |= PNI_TF_SACK;
    if (sy->opts & PNI_SO_TS) {
        c->t_flags |= PNI_TF_TS;
        c->ts_recent = sy->ts_recent;
        c->ts_recent_age = (uint32_t)(s->now / 1000000u);
    }
    pni_tcp_cb_init(s, c);
    if (sy->opts & PNI_SO_WS) {
        c->t_flags |= PNI_TF_WS;
        c->snd_wscale = sy->peer_ws;
        c->rcv_wscale = pni_tcp_wscale_for(c->rcvbuf);
    } else {
        c->snd_wscale = c->rcv_wscale = 0;
    }
    c->t_maxseg = pni_tcp_mss_for(s, c);
    c->iss = sy->iss;
    c->irs = sy->irs;
    c->snd_una = sy->iss;
    c->snd_nxt = c->snd_max = sy->iss + 1;
    c->recover = sy->iss;
    c->rcv_nxt = sy->irs + 1;
    c->rcv_adv = c->rcv_nxt + (c->rcvbuf > 65535 ? 65535 : c->rcvbuf);
    c->last_ack_sent = c->rcv_nxt;
    c->snd_wl1 = sy->irs;
    c->snd_wl2 = sy->iss;
    c->parent = pni_tcp_idx(s, l);
    c->state = PN_TCP_SYN_RECEIVED;
    pni_tcp_hash_insert(s, c);
    /* The SYN-ACK stays unacknowledged until the handshake completes: its
     * timer must run, or a child made by an ACK that is then dropped (seq
     * outside the window) would sit in SYN_RECEIVED for ever. */
    pni_tcp_set_rexmt(s, c);
    PNI_STAT(s, tcp_conn_opened);
    return c;
}

static void
fill_syn_tuple(pni_tcp_syn *sy, const pni_ip4_repr *ip, const pni_tcp_repr *seg)
{
    memcpy(sy->laddr, ip->dst, 4);
    memcpy(sy->raddr, ip->src, 4);
    sy->lport = seg->dport;
    sy->rport = seg->sport;
}

/* A SYN at a listener (RFC 9293 3.10.7.2, RFC 4987 3.6). */
static void
listen_syn(pn_stack *s, pni_tcpcb *l, const pni_ip4_repr *ip, const pni_tcp_repr *seg)
{
    const pn_tcp_config *t = &s->cfg.tcp;
    if (l->acc_len >= l->backlog) {
        PNI_STAT(s, tcp_backlog_drop);
        return;
    }
    pni_tcp_syn tmp;
    memset(&tmp, 0, sizeof tmp);
    fill_syn_tuple(&tmp, ip, seg);
    tmp.irs = seg->seq;
    tmp.peer_mss = seg->has_mss ? seg->mss : 536;
    tmp.peer_ws = 0xff;
    if (seg->has_ws && (l->t_flags & PNI_TF_WANT_WS)) {
        tmp.opts |= PNI_SO_WS;
        tmp.peer_ws = seg->ws > 14 ? 14 : seg->ws;
    }
    if (PN_HAVE_SACK && seg->sack_ok && (l->t_flags & PNI_TF_WANT_SACK))
        tmp.opts |= PNI_SO_SACK;
    if (seg->has_ts && (l->t_flags & PNI_TF_WANT_TS)) {
        tmp.opts |= PNI_SO_TS;
        tmp.ts_recent = seg->ts_val;
    }
    pni_tcp_syn *sy = NULL;
    if (l->nsyn < l->backlog)
        sy = pni_pool_alloc(&s->pool[PN_POOL_SYN]);
    if (sy == NULL) {
        PNI_STAT(s, tcp_syn_queue_full);
        if (t->no_syncookies)
            return;
        uint32_t m = (uint32_t)s->cfg.mtu - PNI_IP4_HLEN - PNI_TCP_HLEN;
        if (tmp.peer_mss < m)
            m = tmp.peer_mss;
        tmp.iss = pni_tcp_cookie_make(s, &tmp, (uint16_t)m);
        /* RFC 4987 3.6: cookies carry no timestamps state here; the
         * ACK's own TS option re-enables them. */
        s->tcp->cookie_last = s->now == 0 ? 1 : s->now;
        PNI_STAT(s, tcp_syncookie_tx);
        pni_tcp_send_synack(s, &tmp, l);
        return;
    }
    tmp.iss = pni_tcp_iss(s, tmp.laddr, tmp.lport, tmp.raddr, tmp.rport);
    *sy = tmp;
    pni_tcp_syn_insert(s, sy, l);
    sy->deadline = s->now + t->rto_init_us;
    pni_tcp_timer_update_syn(s, sy);
    pni_tcp_send_synack(s, sy, l);
}

/* ---------------------------------------------------------------------
 * Connection processing (RFC 9293 3.10.7.3 and 3.10.7.4)
 * --------------------------------------------------------------------- */

typedef struct seginfo {
    const pni_ip4_repr *ip;
    pni_tcp_repr *seg;
    const pni_buf *pkt;  /* NULL for a segment processed in place */
    const uint8_t *p;    /* the datagram from its IP header on, contiguous;
                            NULL when pkt is a chain */
    size_t poff;   /* payload offset in the datagram */
    uint32_t plen; /* payload length */
} seginfo;

static void
rexmit_una(pn_stack *s, pni_tcpcb *cb)
{
    uint32_t m = pni_tcp_segmax(cb);
    uint32_t n = cb->sndq.len < m ? cb->sndq.len : m;
    uint8_t fl = PNI_TCP_ACK;
    if (n == cb->sndq.len && cb->snd_max == cb->snd_una + cb->sndq.len + 1 &&
        (cb->t_flags & PNI_TF_SHUT_WR))
        fl |= PNI_TCP_FIN;
    if (n == 0 && !(fl & PNI_TCP_FIN))
        return;
    PNI_STAT(s, tcp_retrans);
    pni_tcp_send_seg(s, cb, cb->snd_una, n, fl);
    cb->t_flags &= ~PNI_TF_RTTING; /* Karn */
}

/*
 * May duplicate ACKs start a new loss recovery now? (RFC 6582 3.2 step 2
 * and 4, RFC 6675 5.1.)
 *
 * `recover` is snd_max as it was when the last fast retransmit or
 * retransmission timeout happened: one past RFC 6582's recover and RFC
 * 6675's RecoveryPoint, which both name "the highest sequence number
 * transmitted" (HighData). Duplicate ACKs whose cumulative ACK has not
 * reached it may be for losses that recovery or timeout already handled,
 * or be caused by our own go-back-N retransmissions of segments the
 * receiver held (RFC 6582 4): no new recovery, no second cwnd reduction.
 *
 * - Without SACK (RFC 6582 3.2 step 2): only once "the Cumulative
 *   Acknowledgment field covers more than recover", taken as the
 *   reference implementation does (ns-2 NewReno: highest_ack_ > recover_,
 *   a segment sent after the recovery point has been acknowledged):
 *   snd_una > recover. At snd_una == recover, duplicate ACKs cannot be
 *   told apart: a loss of the first segment sent after the recovery point
 *   gives the same ACKs as the receiver getting again, after a timeout,
 *   segments it held below the point. FreeBSD (th_ack <= snd_recover: no
 *   entry) and Linux (Reno "holds old state until something *above*
 *   high_seq is ACKed") choose the same; such a loss waits for the RTO.
 * - With SACK (RFC 6675 5.1: a new recovery "MUST NOT be initiated until
 *   HighACK is greater than or equal to the new value of RecoveryPoint";
 *   HighACK = snd_una - 1, RecoveryPoint = recover - 1): snd_una >=
 *   recover. At equality the SACK scoreboard tells the two cases apart:
 *   every SACKed range lies above snd_una = recover, so the receiver holds
 *   data sent after the recovery point and the hole at snd_una is a new
 *   loss (Linux: "SACK TCP is safe"; FreeBSD tests snd_recover only
 *   without SACK). Duplicate ACKs that SACK nothing new (D-SACKs of
 *   duplicates) fall under the NewReno rule. Found by interop against
 *   Linux with 2% loss: the full ACK landed on recover, the next segment
 *   was lost, and Linux's 7 SACKed duplicate ACKs were ignored until the
 *   RTO (213 RTOs in a 100 MiB transfer).
 *
 * recover never drifts more than 2^31 behind snd_una (new_ack drags it
 * along outside recovery), so these modular compares stay meaningful on
 * long connections.
 */
static int
may_enter_recovery(const pni_tcpcb *cb)
{
    if (pni_seq_gt(cb->snd_una, cb->recover))
        return 1;
    return cb->snd_una == cb->recover && PNI_TCP_SACK_ON(cb) && cb->n_sb > 0;
}

/* Duplicate ACK / SACK driven loss recovery (RFC 5681 3.2, RFC 6582,
 * RFC 6675). Called for each duplicate ACK. */
static void
dupack(pn_stack *s, pni_tcpcb *cb, int newsack)
{
    cb->dupacks++;
    if (cb->t_flags & PNI_TF_RECOVERY) {
        if (!PNI_TCP_SACK_ON(cb))
            cb->cwnd += cb->t_maxseg; /* RFC 6582 3.2 step 4: inflate */
        pni_tcp_output(s, cb);
        return;
    }
    int lost = cb->dupacks >= 3;
    if (PNI_TCP_SACK_ON(cb) && pni_tcp_sacked_bytes(cb) >= 3u * cb->t_maxseg)
        lost = 1; /* RFC 6675 IsLost(SND.UNA) */
    if (!lost) {
        /* Limited transmit (RFC 3042 2, RFC 5681 3.2 step 1): each of the
         * first two duplicate ACKs lets one new segment go, cwnd + 2*SMSS
         * at most, so a small window still gets its third duplicate ACK.
         * The allowance is applied in pni_tcp_output from dupacks, only
         * during this call (PNI_TF_LTX), and does not change cwnd: the
         * output at the end of segment processing, or any later one,
         * must not use it again. */
        if (cb->dupacks <= 2 && (!PNI_TCP_SACK_ON(cb) || newsack)) {
            /* RFC 3042 2: with SACK, only for an ACK with new SACK
             * information. RFC 5681 3.2 step 2: what limited transmit
             * sent is left out of FlightSize for ssthresh (lt_sent). */
            uint32_t before = cb->snd_max;
            cb->t_flags |= PNI_TF_LTX;
            pni_tcp_output(s, cb);
            cb->t_flags &= ~PNI_TF_LTX;
            cb->lt_sent += cb->snd_max - before;
        }
        return;
    }
    /* RFC 6582 3.2 step 2, RFC 6675 5.1: no new recovery for losses of
     * the window that an earlier recovery or timeout already handled. */
    if (!may_enter_recovery(cb))
        return;
    PNI_STAT(s, tcp_fast_retrans);
    pni_tcp_cc_loss(s, cb);
    cb->recover = cb->snd_max;
    cb->t_flags |= PNI_TF_RECOVERY;
    cb->t_flags &= ~PNI_TF_RTTING;
    if (PNI_TCP_SACK_ON(cb)) {
        /* RFC 6675 5 step 4: cwnd = ssthresh; retransmit the first hole
         * now, then let the pipe rule fill. */
        cb->cwnd = cb->ssthresh;
        cb->sack_rxt = cb->snd_una;
        rexmit_una(s, cb);
        cb->sack_rxt = cb->snd_una + (cb->sndq.len < pni_tcp_segmax(cb) ? cb->sndq.len
                                                                        : pni_tcp_segmax(cb));
        pni_tcp_set_rexmt(s, cb);
        pni_tcp_output(s, cb);
    } else {
        rexmit_una(s, cb);
        cb->cwnd = cb->ssthresh + 3u * cb->t_maxseg;
        pni_tcp_set_rexmt(s, cb);
    }
}

/* New data acknowledged: snd_una moves to ack. */
static void
new_ack(pn_stack *s, pni_tcpcb *cb, uint32_t ack)
{
    uint32_t acked = ack - cb->snd_una;
    /* RTT sample (RFC 6298 3, Karn: only from a segment never resent). */
    if ((cb->t_flags & PNI_TF_RTTING) && pni_seq_gt(ack, cb->rtt_seq)) {
        cb->t_flags &= ~PNI_TF_RTTING;
        uint64_t r = s->now - cb->rtt_time;
        pni_tcp_rtt_sample(s, cb, r > 60000000u ? 60000000u : (uint32_t)r);
    }
    uint32_t data = acked < cb->sndq.len ? acked : cb->sndq.len;
    if (cb->state <= PN_TCP_SYN_RECEIVED)
        data = 0;
    pni_tcpq_drop(s, &cb->sndq, data);
    if (cb->sndq.len == 0)
        pni_tcpq_free(s, &cb->sndq);
    cb->snd_una = ack;
    if (pni_seq_lt(cb->snd_nxt, cb->snd_una))
        cb->snd_nxt = cb->snd_una;
    pni_tcp_sack_clean(cb);
    cb->rxtshift = 0;
    if (cb->t_flags & PNI_TF_RECOVERY) {
        if (pni_seq_geq(ack, cb->recover)) {
            /* RFC 6582 3.2 step 3, full ACK: deflate. */
            uint32_t flight = cb->snd_max - cb->snd_una;
            uint32_t w = (flight > cb->t_maxseg ? flight : cb->t_maxseg) + cb->t_maxseg;
            cb->cwnd = w < cb->ssthresh ? w : cb->ssthresh;
            cb->t_flags &= ~PNI_TF_RECOVERY;
            cb->dupacks = 0;
            cb->lt_sent = 0;
            cb->bytes_acked = 0;
        } else if (!PNI_TCP_SACK_ON(cb)) {
            /* RFC 6582 3.2 step 5, partial ACK: resend the next hole,
             * deflate by the amount acked, add back one segment. */
            rexmit_una(s, cb);
            cb->cwnd = cb->cwnd > acked ? cb->cwnd - acked : cb->t_maxseg;
            if (acked >= cb->t_maxseg)
                cb->cwnd += cb->t_maxseg;
            pni_tcp_set_rexmt(s, cb);
        } else {
            if (pni_seq_lt(cb->sack_rxt, cb->snd_una))
                cb->sack_rxt = cb->snd_una;
        }
    } else {
        cb->dupacks = 0;
        cb->lt_sent = 0;
        pni_tcp_cc_ack(s, cb, acked);
        /* Keep recover trailing snd_una: once snd_una is past it, any
         * value below snd_una allows a new recovery, and one just below
         * cannot look "ahead" in modular arithmetic after 2^31 more bytes
         * as a stale recover would (FreeBSD's header prediction pulls
         * snd_recover to th_ack - 1 for the same reason). This also
         * retires the initial recover = ISS (RFC 6582 3.2 step 1). */
        if (pni_seq_gt(cb->snd_una, cb->recover))
            cb->recover = cb->snd_una - 1;
    }
    if (cb->snd_una == cb->snd_max) {
        if (!(cb->t_flags & PNI_TF_PERSIST))
            cb->t_rexmt = PN_TIME_NEVER;
    } else if (!(cb->t_flags & PNI_TF_RECOVERY) || PNI_TCP_SACK_ON(cb)) {
        pni_tcp_set_rexmt(s, cb);
    }
}

/* The segment's payload into the receive queue at off: from the
 * datagram's bytes where they lie, or out of a chain. */
static PNI_ALWAYS_INLINE int
qwrite(pn_stack *s, pni_tcpq *q, uint32_t off, const seginfo *si)
{
    if (si->p != NULL)
        return pni_tcpq_write_flat(s, q, off, si->p + si->poff, si->plen);
    return pni_tcpq_write(s, q, off, si->pkt, si->poff, si->plen);
}

/* In-order and out-of-order data into the receive queue. Returns 1 when
 * the ACK should go at once. */
static int
take_data(pn_stack *s, pni_tcpcb *cb, const seginfo *si, uint32_t seq)
{
    uint32_t head_seq = cb->rcv_nxt - cb->rcvq.len;
    uint32_t off = seq - head_seq;
    if (seq == cb->rcv_nxt) {
        if (qwrite(s, &cb->rcvq, off, si) != 0) {
            PNI_STAT(s, tcp_rcvbuf_drop);
            return 0;
        }
        int had_ooo = cb->n_ooo > 0;
        cb->rcv_nxt += si->plen;
        /* Pull in out-of-order ranges that now touch rcv_nxt. */
        while (cb->n_ooo > 0 && pni_seq_leq(cb->ooo[0].left, cb->rcv_nxt)) {
            if (pni_seq_gt(cb->ooo[0].right, cb->rcv_nxt))
                cb->rcv_nxt = cb->ooo[0].right;
            memmove(&cb->ooo[0], &cb->ooo[1], sizeof(cb->ooo[0]) * (cb->n_ooo - 1u));
            cb->n_ooo--;
            if (cb->ooo_last > 0)
                cb->ooo_last--;
        }
        cb->rcvq.len = cb->rcv_nxt - head_seq;
        if (si->plen > cb->rcv_mss)
            cb->rcv_mss = (uint16_t)(si->plen > 65535 ? 65535 : si->plen);
        cb->rcv_unacked += si->plen;
        /* RFC 5681 4.2: ACK at once when a hole is filled. */
        if (had_ooo)
            return 1;
        return 0;
    }
    /* Out of order: hold it within the buffer, remember the range. The
     * range may merge with its neighbours, so a failed write (chunk pool
     * empty) restores the ranges as they were: a range must never claim
     * bytes the queue does not hold, or filling the hole later would make
     * them readable. */
    pni_seqrange saved[PNI_TCP_OOO_MAX];
    uint8_t saved_n = cb->n_ooo, saved_last = cb->ooo_last;
    memcpy(saved, cb->ooo, sizeof saved);
    if (pni_tcp_ooo_add(cb, seq, seq + si->plen, s->cfg.tcp.ooo_max_segs) != 0) {
        PNI_STAT(s, tcp_ooo_drop);
        return 1;
    }
    if (qwrite(s, &cb->rcvq, off, si) != 0) {
        /* (the range cannot be undone alone: it may have merged) */
        memcpy(cb->ooo, saved, sizeof saved);
        cb->n_ooo = saved_n;
        cb->ooo_last = saved_last;
        PNI_STAT(s, tcp_rcvbuf_drop);
        return 1;
    }
    PNI_STAT(s, tcp_ooo_queued);
    return 1; /* RFC 5681 4.2: duplicate ACK at once for out-of-order data */
}

#define DROP 0
#define DROP_AFTER_ACK 1
#define DROP_WITH_RESET 2
#define DONE 3

/* Delayed ACK decision after a segment (the reasoning is at its call in
 * do_segment). */
static void
ack_policy(pn_stack *s, pni_tcpcb *cb)
{
    const pn_tcp_config *t = &s->cfg.tcp;
    if (cb->rcv_unacked > 0 && !(cb->t_flags & PNI_TF_ACKNOW)) {
        uint32_t mss = cb->rcv_mss > cb->t_maxseg ? cb->rcv_mss : cb->t_maxseg;
        if (cb->t_flags & PNI_TF_QUICKACK) {
            cb->t_flags |= PNI_TF_ACKNOW;
        } else if (cb->rcv_unacked >= (uint32_t)t->delack_segs * mss) {
            if ((cb->t_flags & PNI_TF_ACKQ) && cb->ack_mark == (uint32_t)s->stats.frames_out)
                cb->t_delack = s->now; /* owed: one ACK for the burst */
            else
                cb->t_flags |= PNI_TF_ACKNOW;
        } else if (cb->t_delack == PN_TIME_NEVER) {
            cb->t_delack = s->now + t->delack_us;
        }
    }
}

/* Header prediction (Jacobson's, as FreeBSD tcp_input's fast path, for
 * the receiving side of a bulk transfer): in-order data on an established
 * connection whose ACK field acknowledges nothing new and leaves the
 * window as it is, with nothing of ours in flight, no SACK option, no
 * out-of-order data held, a timestamp that passes PAWS, and room for all
 * of it. Each test of do_segment's RFC 9293 3.10.7.4 sequence then has a
 * known outcome: acceptable (seq == RCV.NXT, length within the window),
 * not RST or SYN, nothing to trim, ACK neither new, nor duplicate (nothing
 * outstanding), nor beyond SND.MAX or too old (it equals SND.UNA), no
 * state change, no FIN. What is left is below. Returns 0 when the segment
 * does not fit the prediction. */
static int
predicted(pn_stack *s, pni_tcpcb *cb, seginfo *si)
{
    const pni_tcp_repr *seg = si->seg;
    uint32_t seq = seg->seq;
    if (cb->state != PN_TCP_ESTABLISHED ||
        (seg->flags & (PNI_TCP_SYN | PNI_TCP_FIN | PNI_TCP_RST | PNI_TCP_URG | PNI_TCP_ACK)) !=
                PNI_TCP_ACK ||
        seq != cb->rcv_nxt || si->plen == 0 || seg->n_sack != 0 || seg->ack != cb->snd_una ||
        cb->snd_una != cb->snd_max || cb->n_ooo != 0 ||
        ((uint32_t)seg->win << cb->snd_wscale) != cb->snd_wnd ||
        !(cb->t_flags & (PNI_TF_USER | PNI_TF_ACCEPTQ)) || (cb->t_flags & PNI_TF_RECOVERY))
        return 0;
    if (cb->t_flags & PNI_TF_TS) {
        if (!seg->has_ts || pni_seq_lt(seg->ts_val, cb->ts_recent))
            return 0;
    } else if (seg->has_ts) {
        return 0;
    }
    uint32_t rwnd = pni_seq_gt(cb->rcv_adv, cb->rcv_nxt) ? cb->rcv_adv - cb->rcv_nxt : 0;
    if (si->plen > rwnd || si->plen > pni_tcp_rcv_space(cb))
        return 0;
    /* RFC 7323 4.3: TS.Recent (PAWS passed: ts_val >= ts_recent). */
    if ((cb->t_flags & PNI_TF_TS) && pni_seq_leq(seq, cb->last_ack_sent)) {
        cb->ts_recent = seg->ts_val;
        cb->ts_recent_age = (uint32_t)(s->now / 1000000u);
    }
    /* SND.WL1/SND.WL2 (the window itself is unchanged). */
    if (pni_seq_lt(cb->snd_wl1, seq) || (cb->snd_wl1 == seq && pni_seq_leq(cb->snd_wl2, seg->ack))) {
        cb->snd_wl1 = seq;
        cb->snd_wl2 = seg->ack;
    }
    if (take_data(s, cb, si, seq))
        cb->t_flags |= PNI_TF_ACKNOW;
    ack_policy(s, cb);
    pni_tcp_output(s, cb);
    return 1;
}

/* SYN_SENT (RFC 9293 3.10.7.3). */
static int
syn_sent(pn_stack *s, pni_tcpcb *cb, seginfo *si)
{
    pni_tcp_repr *seg = si->seg;
    int ackok = 0;
    if (seg->flags & PNI_TCP_ACK) {
        if (pni_seq_leq(seg->ack, cb->iss) || pni_seq_gt(seg->ack, cb->snd_max)) {
            PNI_STAT(s, tcp_bad_ack);
            return (seg->flags & PNI_TCP_RST) ? DROP : DROP_WITH_RESET;
        }
        ackok = 1;
    }
    if (seg->flags & PNI_TCP_RST) {
        if (ackok) {
            PNI_STAT(s, tcp_rst_rx);
            pni_tcp_drop(s, cb, PN_ECONNREFUSED);
        }
        return DROP;
    }
    if (!(seg->flags & PNI_TCP_SYN))
        return DROP;
    cb->irs = seg->seq;
    cb->rcv_nxt = seg->seq + 1;
    cb->rcv_adv = cb->rcv_nxt;
    syn_options(cb, seg);
    if (cb->t_flags & PNI_TF_TS)
        cb->ts_recent_age = (uint32_t)(s->now / 1000000u);
    cb->t_maxseg = pni_tcp_mss_for(s, cb);
    /* RFC 7323 2.2: the window of a SYN is never scaled. */
    cb->snd_wnd = seg->win;
    cb->max_sndwnd = cb->snd_wnd;
    cb->snd_wl1 = seg->seq;
    cb->snd_wl2 = seg->ack;
    if (ackok) {
        new_ack(s, cb, seg->ack);
        cb->t_rexmt = PN_TIME_NEVER;
        established(s, cb);
        cb->t_flags |= PNI_TF_ACKNOW;
        pni_tcp_output(s, cb);
        return DONE;
    }
    /* Simultaneous open: SYN-ACK with our ISS again. */
    cb->state = PN_TCP_SYN_RECEIVED;
    cb->snd_nxt = cb->iss;
    cb->t_flags &= ~PNI_TF_RTTING;
    pni_tcp_output(s, cb);
    return DONE;
}

/* do_segment past the SYN_SENT and header prediction exits: the rest of
 * RFC 9293 3.10.7.4 for a segment the prediction did not fit. Out of
 * line, so that a predicted segment pays for the small frame of
 * do_segment only, not for the registers this one needs. */
PNI_NOINLINE static int
do_segment_slow(pn_stack *s, pni_tcpcb *cb, seginfo *si)
{
    pni_tcp_repr *seg = si->seg;
    const pn_tcp_config *t = &s->cfg.tcp;
    uint8_t fl = seg->flags;
    uint32_t seq = seg->seq;

    /* RFC 7323 5.3 (PAWS), before the window test. */
    if ((cb->t_flags & PNI_TF_TS) && seg->has_ts && !(fl & PNI_TCP_RST) &&
        pni_seq_lt(seg->ts_val, cb->ts_recent)) {
        uint32_t now_s = (uint32_t)(s->now / 1000000u);
        if (now_s - cb->ts_recent_age > 24u * 24 * 3600) {
            cb->ts_recent = seg->ts_val; /* 5.5: idle > 24 days */
        } else {
            PNI_STAT(s, tcp_paws_drop);
            return DROP_AFTER_ACK;
        }
    }

    /* RFC 9293 3.10.7.4, first: is the segment acceptable? */
    uint32_t seglen = si->plen + ((fl & PNI_TCP_SYN) ? 1u : 0u) + ((fl & PNI_TCP_FIN) ? 1u : 0u);
    uint32_t rwnd = pni_seq_gt(cb->rcv_adv, cb->rcv_nxt) ? cb->rcv_adv - cb->rcv_nxt : 0;
    int ok;
    if (seglen == 0)
        ok = rwnd == 0 ? seq == cb->rcv_nxt
                       : pni_seq_geq(seq, cb->rcv_nxt) && pni_seq_lt(seq, cb->rcv_nxt + rwnd);
    else if (rwnd == 0)
        ok = 0;
    else
        ok = (pni_seq_geq(seq, cb->rcv_nxt) && pni_seq_lt(seq, cb->rcv_nxt + rwnd)) ||
             (pni_seq_geq(seq + seglen - 1, cb->rcv_nxt) &&
              pni_seq_lt(seq + seglen - 1, cb->rcv_nxt + rwnd));
    if (!ok && rwnd == 0 && seq == cb->rcv_nxt && !(fl & (PNI_TCP_SYN | PNI_TCP_RST)))
        ok = 1; /* zero window: still take its ACK and FIN checks below */
    if (!ok) {
        if (fl & PNI_TCP_RST)
            return DROP;
        if (fl & PNI_TCP_SYN)
            goto syn; /* RFC 5961 4.2: challenge ACK whatever the seq */
        if (pni_seq_lt(seq, cb->rcv_nxt))
            PNI_STAT(s, tcp_dup_drop);
        else
            PNI_STAT(s, tcp_out_of_window);
        if (cb->state == PN_TCP_TIME_WAIT && (fl & PNI_TCP_FIN))
            pni_tcp_set_keep(s, cb); /* retransmitted FIN: restart 2MSL */
        return DROP_AFTER_ACK;
    }

    /* second: RST (RFC 5961 3.2) */
    if (fl & PNI_TCP_RST) {
        if (seq != cb->rcv_nxt && !t->no_rfc5961) {
            if (pni_tcp_challenge_ok(s))
                pni_tcp_send_ack(s, cb);
            return DROP;
        }
        PNI_STAT(s, tcp_rst_rx);
        switch (cb->state) {
        case PN_TCP_SYN_RECEIVED:
            pni_tcp_drop(s, cb, cb->parent != PNI_NONE ? 0 : PN_ECONNREFUSED);
            break;
        case PN_TCP_ESTABLISHED:
        case PN_TCP_FIN_WAIT_1:
        case PN_TCP_FIN_WAIT_2:
        case PN_TCP_CLOSE_WAIT:
            pni_tcp_drop(s, cb, PN_ECONNRESET);
            break;
        default:
            pni_tcp_drop(s, cb, 0);
            break;
        }
        return DROP;
    }

    /* fourth: SYN in a synchronized state */
    if (fl & PNI_TCP_SYN) {
    syn:
        if (t->no_rfc5961 && ok && cb->state != PN_TCP_SYN_RECEIVED) {
            /* RFC 793: a SYN in the window is an error: reset. */
            pni_tcp_send_rst(s, cb);
            pni_tcp_drop(s, cb, PN_ECONNRESET);
            return DROP;
        }
        if (cb->state == PN_TCP_SYN_RECEIVED && seq == cb->irs) {
            if (fl & PNI_TCP_ACK) {
                /* Simultaneous open (RFC 9293 3.5, figure 7): the peer's
                 * SYN-ACK crossed ours. Its sequence number is old, so it
                 * is unacceptable (3.10.7.4, first check) and answered
                 * with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; that ACK
                 * completes the peer's side, and the peer's ACK of our
                 * SYN-ACK completes ours. Answering with our SYN-ACK again
                 * would only make the peer do the same. */
                return DROP_AFTER_ACK;
            }
            /* the peer's SYN again: our SYN-ACK was lost, resend it */
            cb->snd_nxt = cb->iss;
            pni_tcp_output(s, cb);
            return DROP;
        }
        if (t->no_rfc5961 || pni_tcp_challenge_ok(s))
            pni_tcp_send_ack(s, cb);
        return DROP;
    }

    /* Trim to the window (FreeBSD style). */
    if (pni_seq_lt(seq, cb->rcv_nxt)) {
        uint32_t todrop = cb->rcv_nxt - seq;
        if (todrop >= si->plen) {
            /* all old data; an old FIN goes too */
            if (si->plen > 0 || (fl & PNI_TCP_FIN))
                PNI_STAT(s, tcp_dup_drop);
            if ((fl & PNI_TCP_FIN) && todrop > si->plen)
                fl &= (uint8_t)~PNI_TCP_FIN;
            if (si->plen > 0 || (seg->flags & PNI_TCP_FIN))
                cb->t_flags |= PNI_TF_ACKNOW;
            todrop = si->plen;
        }
        si->poff += todrop;
        si->plen -= todrop;
        seq += todrop;
    }
    {
        uint32_t space = pni_tcp_rcv_space(cb);
        uint32_t lim = cb->rcv_nxt + (rwnd < space ? rwnd : space);
        if (pni_seq_gt(seq + si->plen, lim)) {
            uint32_t keep = pni_seq_gt(lim, seq) ? lim - seq : 0;
            if (keep < si->plen) {
                si->plen = keep;
                fl &= (uint8_t)~PNI_TCP_FIN;
                cb->t_flags |= PNI_TF_ACKNOW;
                PNI_STAT(s, tcp_out_of_window);
            }
        }
    }

    /* RFC 7323 4.3: TS.Recent from a segment covering Last.ACK.sent. */
    if ((cb->t_flags & PNI_TF_TS) && seg->has_ts && pni_seq_leq(seq, cb->last_ack_sent) &&
        pni_seq_geq(seg->ts_val, cb->ts_recent)) {
        cb->ts_recent = seg->ts_val;
        cb->ts_recent_age = (uint32_t)(s->now / 1000000u);
    }

    /* fifth: the ACK field */
    if (!(fl & PNI_TCP_ACK))
        return DROP;
    uint32_t ack = seg->ack;
    if (cb->state == PN_TCP_SYN_RECEIVED) {
        if (pni_seq_leq(ack, cb->snd_una) || pni_seq_gt(ack, cb->snd_max)) {
            PNI_STAT(s, tcp_bad_ack);
            return DROP_WITH_RESET;
        }
        new_ack(s, cb, ack);
        cb->snd_wnd = (uint32_t)seg->win << cb->snd_wscale;
        cb->max_sndwnd = cb->snd_wnd;
        cb->snd_wl1 = seq;
        cb->snd_wl2 = ack;
        cb->t_rexmt = PN_TIME_NEVER;
        established(s, cb);
    }
    /* RFC 5961 5.2: acceptable if SND.UNA - MAX.SND.WND <= ACK <= SND.NXT. */
    if (pni_seq_gt(ack, cb->snd_max)) {
        PNI_STAT(s, tcp_bad_ack);
        if (!t->no_rfc5961 && !pni_tcp_challenge_ok(s))
            return DROP;
        return DROP_AFTER_ACK;
    }
    if (!t->no_rfc5961 && pni_seq_lt(ack, cb->snd_una - cb->max_sndwnd) &&
        cb->max_sndwnd < 0x40000000u) {
        PNI_STAT(s, tcp_bad_ack);
        if (pni_tcp_challenge_ok(s))
            pni_tcp_send_ack(s, cb);
        return DROP;
    }
    int finacked = 0;
    int newsack = 0;
    uint32_t newwin = (uint32_t)seg->win << cb->snd_wscale;
    if (PNI_TCP_SACK_ON(cb) && seg->n_sack > 0)
        newsack = pni_tcp_sack_update(cb, seg);
    if (pni_seq_gt(ack, cb->snd_una)) {
        int finsent = (cb->t_flags & PNI_TF_SHUT_WR) &&
                      cb->snd_max == cb->snd_una + cb->sndq.len + 1 &&
                      (cb->state == PN_TCP_FIN_WAIT_1 || cb->state == PN_TCP_CLOSING ||
                       cb->state == PN_TCP_LAST_ACK);
        new_ack(s, cb, ack);
        finacked = finsent && ack == cb->snd_max;
    } else if (ack == cb->snd_una && cb->snd_una != cb->snd_max &&
               cb->state >= PN_TCP_ESTABLISHED &&
               (newsack || (si->plen == 0 && !(fl & PNI_TCP_FIN) && newwin == cb->snd_wnd))) {
        /* A duplicate ACK: RFC 5681 2 (no data, no SYN/FIN, same window),
         * or RFC 6675 2, an ACK whose SACK blocks cover bytes not SACKed
         * before, "even if it carries new data, changes the advertised
         * window". Linux grows its receive window while it SACKs, so its
         * duplicate ACKs all differ in window: without the SACK rule
         * they were never counted and every loss waited for the RTO. */
        dupack(s, cb, newsack);
    }
    /* Window update (RFC 9293 3.10.7.4, SND.WL1/SND.WL2 rule). */
    if (pni_seq_lt(cb->snd_wl1, seq) ||
        (cb->snd_wl1 == seq && pni_seq_leq(cb->snd_wl2, ack))) {
        int opened = cb->snd_wnd == 0 && newwin > 0;
        cb->snd_wnd = newwin;
        cb->snd_wl1 = seq;
        cb->snd_wl2 = ack;
        if (newwin > cb->max_sndwnd)
            cb->max_sndwnd = newwin;
        if (opened && (cb->t_flags & PNI_TF_PERSIST)) {
            cb->t_flags &= ~PNI_TF_PERSIST;
            cb->t_rexmt = PN_TIME_NEVER;
            cb->rxtshift = 0;
        }
    }
    switch (cb->state) {
    case PN_TCP_FIN_WAIT_1:
        if (finacked) {
            cb->state = PN_TCP_FIN_WAIT_2;
            pni_tcp_set_keep(s, cb);
        }
        break;
    case PN_TCP_CLOSING:
        if (finacked) {
            cb->state = PN_TCP_TIME_WAIT;
            cb->t_rexmt = PN_TIME_NEVER;
            pni_tcp_set_keep(s, cb);
        }
        break;
    case PN_TCP_LAST_ACK:
        if (finacked) {
            pni_tcp_close_cb(s, cb);
            return DONE;
        }
        break;
    default:
        break;
    }

    /* seventh: segment text */
    if (si->plen > 0) {
        switch (cb->state) {
        case PN_TCP_ESTABLISHED:
        case PN_TCP_FIN_WAIT_1:
        case PN_TCP_FIN_WAIT_2:
            if (!(cb->t_flags & (PNI_TF_USER | PNI_TF_ACCEPTQ))) {
                /* Data for a socket the application closed: nobody will
                 * read it. Reset, as Linux and RFC 2525 2.17 do. */
                pni_tcp_send_rst(s, cb);
                pni_tcp_drop(s, cb, 0);
                return DONE;
            }
            if (take_data(s, cb, si, seq))
                cb->t_flags |= PNI_TF_ACKNOW;
            break;
        default:
            break; /* text after the peer's FIN is ignored */
        }
    }

    /* eighth: FIN, only once everything before it arrived */
    if ((fl & PNI_TCP_FIN) && seq + si->plen == cb->rcv_nxt) {
        int first = !(cb->t_flags & PNI_TF_RCV_FIN);
        if (first) {
            cb->rcv_nxt++;
            cb->t_flags |= PNI_TF_RCV_FIN;
        }
        cb->t_flags |= PNI_TF_ACKNOW;
        switch (cb->state) {
        case PN_TCP_SYN_RECEIVED:
        case PN_TCP_ESTABLISHED:
            cb->state = PN_TCP_CLOSE_WAIT;
            pni_tcp_set_keep(s, cb);
            break;
        case PN_TCP_FIN_WAIT_1:
            cb->state = finacked ? PN_TCP_TIME_WAIT : PN_TCP_CLOSING;
            if (cb->state == PN_TCP_TIME_WAIT)
                cb->t_rexmt = PN_TIME_NEVER;
            pni_tcp_set_keep(s, cb);
            break;
        case PN_TCP_FIN_WAIT_2:
            cb->state = PN_TCP_TIME_WAIT;
            cb->t_rexmt = PN_TIME_NEVER;
            pni_tcp_set_keep(s, cb);
            break;
        case PN_TCP_TIME_WAIT:
            pni_tcp_set_keep(s, cb);
            break;
        default:
            break;
        }
    } else if (fl & PNI_TCP_FIN) {
        cb->t_flags |= PNI_TF_ACKNOW; /* FIN beyond a hole: ask again */
    }

    /*
     * Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): an ACK at least every
     * delack_segs full-sized segments, else within delack_us.
     *
     * "Every second segment" counts segments as they arrive, and with a
     * packet-in/packet-out stack arrival is pn_inject_raw: a caller that
     * injects a burst (everything its link delivered since it last looked)
     * and only then drains hands us the burst at one instant, as an
     * interrupt with GRO/LRO hands Linux one aggregated segment. Linux
     * then sends one ACK for the aggregate (tcp_rcv_established ->
     * __tcp_ack_snd_check: "more than one full frame received" -> ACK
     * now, once). We do the same: the first delack_segs of a burst get
     * their ACK at once, as always; if more data arrives while that ACK
     * still sits in the egress queue undrained (stats.frames_out has not
     * moved since, see ack_mark), a second ACK would reach the wire at the
     * same instant as the first, both only older than necessary. So the
     * ACK is owed instead: t_delack = now, and it is built, once, covering
     * the whole burst, by whichever comes first of pn_tcp_recv (where it
     * also carries the reopened window), data we send, or pn_poll (the
     * deadline is now, so pn_next_deadline says to poll at once). On the
     * wire nothing is later than it would have been: the caller drains
     * no sooner than it injects. A caller that drains after every inject
     * (the vector runner, the test link) sees exactly the old behaviour.
     * Out-of-order data, holes filled and QUICKACK still ACK at once.
     */
    ack_policy(s, cb);
    if (cb->state == PN_TCP_TIME_WAIT && !(fl & PNI_TCP_FIN) && si->plen == 0 &&
        !(cb->t_flags & PNI_TF_ACKNOW))
        return DONE;
    pni_tcp_output(s, cb);
    return DONE;
}

/* A segment for connection cb (RFC 9293 3.10.7.3 and 3.10.7.4): the
 * idle and keepalive bookkeeping every segment does, then SYN_SENT, the
 * header prediction, or the full sequence (do_segment_slow), in that
 * order as before. */
static int
do_segment(pn_stack *s, pni_tcpcb *cb, seginfo *si)
{
    cb->t_idle = s->now;
    if (cb->t_flags & PNI_TF_KEEPPROBE)
        pni_tcp_set_keep(s, cb);

    if (cb->state == PN_TCP_SYN_SENT)
        return syn_sent(s, cb, si);
    if (predicted(s, cb, si))
        return DONE;
    return do_segment_slow(s, cb, si);
}

/* ---------------------------------------------------------------------
 * Entry
 * --------------------------------------------------------------------- */

static void
count_parse_error(pn_stack *s, int rc)
{
    switch (rc) {
    case PNI_WE_BADCSUM:
        PNI_STAT(s, tcp_bad_csum);
        break;
    case PNI_WE_BADOPT:
        PNI_STAT(s, tcp_bad_opt);
        break;
    default:
        PNI_STAT(s, tcp_bad_len);
        break;
    }
}

/* Parse a segment held in a chain: header made contiguous, checksum over
 * the chain, then the codec on a header-only copy whose checksum is made
 * to match so the codec's own checks (options, lengths) still run. */
static int
parse_chain(pn_stack *s, const pni_buf *pkt, const pni_ip4_repr *ip, size_t tlen, pni_tcp_repr *seg,
            uint8_t hdr[PNI_TCP_MAX_HLEN])
{
    if (tlen < PNI_TCP_HLEN)
        return PNI_WE_TRUNC;
    uint8_t first[PNI_TCP_HLEN];
    pni_buf_copyout(pkt, ip->hlen, first, PNI_TCP_HLEN);
    size_t hl = (size_t)(first[12] >> 4) * 4;
    if (hl < PNI_TCP_HLEN || hl > tlen)
        return PNI_WE_BADHLEN;
    pni_buf_copyout(pkt, ip->hlen, hdr, hl);
#ifndef PN_FUZZ_NO_CSUM
    uint64_t sum = pni_csum_pseudo4(ip->src, ip->dst, PNI_IPPROTO_TCP, (uint32_t)tlen) +
                   pni_buf_csum(pkt, ip->hlen, tlen);
    if (pni_csum_fold(sum) != 0xffff)
        return PNI_WE_BADCSUM;
#endif
    hdr[16] = hdr[17] = 0;
    uint64_t hs = pni_csum_pseudo4(ip->src, ip->dst, PNI_IPPROTO_TCP, (uint32_t)hl) +
                  pni_csum_partial(hdr, hl, 0);
    pni_put_be16(hdr + 16, (uint16_t)~pni_csum_fold(hs));
    (void)s;
    int rc = pni_wire_tcp_parse(hdr, hl, ip->src, ip->dst, seg);
    seg->payload = NULL;
    seg->payload_len = tlen - hl;
    return rc;
}

/* A segment's arrival, the buffer's owner freeing it afterwards: pkt
 * holds len bytes from the IP header on, p is its first byte when they
 * are contiguous (NULL for a chain); pkt is NULL for a datagram
 * processed where it lies, p then its len bytes. */
static void
input(pn_stack *s, const pni_buf *pkt, const uint8_t *p, size_t len, const pni_ip4_repr *ip)
{
    PNI_STAT(s, tcp_rx);
    if (s->tcp == NULL) {
        PNI_STAT(s, tcp_no_socket);
        return;
    }
    size_t tot = ip->tot_len < len ? ip->tot_len : len;
    if (tot < ip->hlen) {
        PNI_STAT(s, tcp_bad_len);
        return;
    }
    size_t tlen = tot - ip->hlen;
    pni_tcp_repr seg;
    uint8_t hdr[PNI_TCP_MAX_HLEN];
    int rc;
    if (p != NULL)
        rc = pni_wire_tcp_parse_v(p + ip->hlen, tlen, ip->src, ip->dst, &seg, s->vec);
    else
        rc = parse_chain(s, pkt, ip, tlen, &seg, hdr);
    if (rc < 0) {
        count_parse_error(s, rc);
        return;
    }
    uint8_t fl = seg.flags;
    if (((fl & PNI_TCP_SYN) && (fl & (PNI_TCP_FIN | PNI_TCP_RST))) || seg.sport == 0 ||
        seg.dport == 0) {
        PNI_STAT(s, tcp_bad_flags);
        return;
    }
    if (pni_ip4_is_bcast(ip->dst) || pni_ip4_is_mcast(ip->dst) || pni_ip4_is_our_bcast(s, ip->dst)) {
        PNI_STAT(s, tcp_no_socket);
        return;
    }
    seginfo si;
    si.ip = ip;
    si.seg = &seg;
    si.pkt = pkt;
    si.p = p;
    si.plen = (uint32_t)seg.payload_len;
    si.poff = ip->hlen + (tlen - seg.payload_len);
    uint32_t seglen = si.plen + ((fl & PNI_TCP_SYN) ? 1u : 0u) + ((fl & PNI_TCP_FIN) ? 1u : 0u);
    int verdict = DROP;
    pni_tcpcb *cb = pni_tcp_lookup(s, ip->dst, seg.dport, ip->src, seg.sport);

    /* RFC 9293 3.10.7.4 / RFC 6191: a new SYN may take over a TIME_WAIT
     * tuple when it is clearly newer (sequence, or timestamp). */
    if (cb != NULL && cb->state == PN_TCP_TIME_WAIT && (fl & PNI_TCP_SYN) &&
        !(fl & PNI_TCP_ACK) && !(cb->t_flags & PNI_TF_USER) &&
        (((cb->t_flags & PNI_TF_TS) && seg.has_ts) ? pni_seq_gt(seg.ts_val, cb->ts_recent)
                                                    : pni_seq_gt(seg.seq, cb->rcv_nxt)) &&
        pni_tcp_lookup_listen(s, ip->dst, seg.dport) != NULL) {
        pni_tcp_close_cb(s, cb);
        cb = NULL;
    }
    if (cb != NULL) {
        verdict = do_segment(s, cb, &si);
        goto out;
    }

    pni_tcp_syn *sy = pni_tcp_syn_lookup(s, ip->dst, seg.dport, ip->src, seg.sport);
    if (sy != NULL) {
        pni_tcpcb *l = pni_tcp_cb(s, sy->listener);
        if (fl & PNI_TCP_RST) {
            /* RFC 5961 3.2 in SYN-RECEIVED: exact sequence only */
            if (seg.seq == sy->irs + 1) {
                PNI_STAT(s, tcp_rst_rx);
                pni_tcp_syn_free(s, sy);
            }
            goto out;
        }
        if (fl & PNI_TCP_SYN) {
            if (seg.seq == sy->irs)
                pni_tcp_send_synack(s, sy, l); /* our SYN-ACK was lost */
            goto out;
        }
        if (!(fl & PNI_TCP_ACK))
            goto out;
        if (seg.ack != sy->iss + 1) {
            PNI_STAT(s, tcp_bad_ack);
            verdict = DROP_WITH_RESET;
            goto out;
        }
        if (l->acc_len >= l->backlog) {
            PNI_STAT(s, tcp_backlog_drop);
            goto out; /* the SYN-ACK timer will ask again */
        }
        pni_tcpcb *c = child_new(s, l, sy);
        if (c == NULL)
            goto out;
        pni_tcp_syn_free(s, sy);
        cb = c;
        verdict = do_segment(s, c, &si);
        goto out;
    }

    pni_tcpcb *l = pni_tcp_lookup_listen(s, ip->dst, seg.dport);
    if (l == NULL) {
        PNI_STAT(s, tcp_no_socket);
        verdict = DROP_WITH_RESET;
        goto out;
    }
    /* LISTEN (RFC 9293 3.10.7.2) */
    if (fl & PNI_TCP_RST)
        goto out;
    if (fl & PNI_TCP_ACK) {
        /* RFC 4987 3.6: an ACK that may complete a cookie handshake. */
        pni_tcp_syn ck;
        memset(&ck, 0, sizeof ck);
        fill_syn_tuple(&ck, ip, &seg);
        ck.irs = seg.seq - 1;
        if (!(fl & PNI_TCP_SYN) && s->tcp->cookie_last != 0 &&
            s->now - s->tcp->cookie_last < (2ull << 26) &&
            pni_tcp_cookie_check(s, &ck, seg.ack - 1) == 0) {
            PNI_STAT(s, tcp_syncookie_ok);
            if (seg.has_ts && (l->t_flags & PNI_TF_WANT_TS)) {
                ck.opts |= PNI_SO_TS;
                ck.ts_recent = seg.ts_val;
            }
            if (l->acc_len >= l->backlog) {
                PNI_STAT(s, tcp_backlog_drop);
                goto out;
            }
            pni_tcpcb *c = child_new(s, l, &ck);
            if (c == NULL)
                goto out;
            cb = c;
            verdict = do_segment(s, c, &si);
            goto out;
        }
        if (s->tcp->cookie_last != 0 && !(fl & PNI_TCP_SYN))
            PNI_STAT(s, tcp_syncookie_bad);
        verdict = DROP_WITH_RESET;
        goto out;
    }
    if (fl & PNI_TCP_SYN)
        listen_syn(s, l, ip, &seg);
out:
    if (verdict == DROP_WITH_RESET) {
        pni_tcp_send_rst_for(s, ip, &seg, seglen);
    } else if (verdict == DROP_AFTER_ACK && cb != NULL && !(fl & PNI_TCP_RST) &&
               pni_tcp_cb(s, pni_tcp_idx(s, cb)) == cb && cb->state != PN_TCP_CLOSED) {
        cb->t_flags |= PNI_TF_ACKNOW;
        pni_tcp_output(s, cb);
    }
}

/* see pn_internal.h */
void
pni_tcp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    size_t tot = ip->tot_len < pkt->tot_len ? ip->tot_len : pkt->tot_len;
    input(s, pkt, pkt->len >= tot ? pni_buf_data(pkt) : NULL, pkt->tot_len, ip);
    pni_buf_free(s, pkt);
}

/* see pn_internal.h */
void
pni_tcp_input_flat(pn_stack *s, const uint8_t *p, size_t len, const pni_ip4_repr *ip)
{
    input(s, NULL, p, len, ip);
}

/* see pn_internal.h
 *
 * A local link failure is not an ICMP message: nobody can forge it, so
 * the RFC 5927 caution does not apply, and RFC 1122 4.2.3.9's "MUST NOT
 * abort" is about received net/host unreachables. While connecting
 * (SYN_SENT) the connection fails with PN_EHOSTUNREACH, as Linux's
 * connect() does about 3 s after an on-link peer stops answering ARP; in
 * other states the error is soft (kept in case the retransmissions give
 * up), because a later resolution may still succeed. */
void
pni_tcp_link_failure(pn_stack *s, const pni_buf *pkt)
{
    uint8_t h[PNI_IP4_HLEN + 40 + 8];
    size_t n = pni_buf_copyout(pkt, 0, h, sizeof h);
    if (s->tcp == NULL || n < PNI_IP4_HLEN || h[9] != PNI_IPPROTO_TCP)
        return;
    size_t ihl = (size_t)(h[0] & 15) * 4;
    if (ihl < PNI_IP4_HLEN || n < ihl + 8)
        return;
    pni_tcpcb *cb = pni_tcp_lookup(s, h + 12, pni_be16(h + ihl), h + 16, pni_be16(h + ihl + 2));
    if (cb == NULL || cb->state == PN_TCP_LISTEN)
        return;
    uint32_t seq = pni_be32(h + ihl + 4);
    if (pni_seq_lt(seq, cb->snd_una) || pni_seq_geq(seq, cb->snd_max))
        return; /* not in flight any more (acknowledged meanwhile) */
    if (cb->state == PN_TCP_SYN_SENT)
        pni_tcp_drop(s, cb, PN_EHOSTUNREACH);
    else
        cb->soft_error = PN_EHOSTUNREACH;
}

/* see pn_internal.h
 *
 * RFC 5927 (ICMP attacks against TCP) and RFC 1122 4.2.3.9:
 * - the quoted segment must be one of ours in flight (RFC 5927 4.1: its
 *   sequence number in [SND.UNA, SND.MAX)), else the message is ignored;
 * - fragmentation needed (RFC 1191): lower the segment size and resend
 *   what is in flight at once at the new size; not a congestion signal
 *   (cwnd unchanged). An MTU below 296 or not below ours is ignored (RFC
 *   5927 7.1 suggests refusing implausibly small MTUs);
 * - protocol and port unreachable (codes 2, 3) while connecting (SYN_SENT)
 *   are hard errors: the connection fails with PN_ECONNREFUSED;
 * - everything else is a soft error (RFC 1122 4.2.3.9: net and host
 *   unreachable "MUST NOT abort"; RFC 5461 4 and RFC 5927 5.2: in
 *   synchronized states hard errors too are treated as soft, because a
 *   forged ICMP could otherwise reset a connection). A soft error is only
 *   remembered: should the connection later give up (retransmissions or
 *   SYN retries exhausted), it fails with that error instead of
 *   PN_ETIMEDOUT, as Linux reports sk_err_soft. */
void
pni_tcp_icmp_error(pn_stack *s, const pni_icmp_repr *icmp)
{
    if (s->tcp == NULL || !icmp->has_quote || icmp->quoted.proto != PNI_IPPROTO_TCP)
        return;
    pni_tcpcb *cb = pni_tcp_lookup(s, icmp->quoted.src, icmp->q_sport, icmp->quoted.dst,
                                   icmp->q_dport);
    if (cb == NULL || cb->state == PN_TCP_LISTEN)
        return;
    size_t qh = icmp->quoted.hlen;
    if (icmp->data_len < qh + 8)
        return;
    uint32_t qseq = pni_be32(icmp->data + qh + 4);
    if (pni_seq_lt(qseq, cb->snd_una) || pni_seq_geq(qseq, cb->snd_max))
        return;
    if (icmp->type == PNI_ICMP_DEST_UNREACH && icmp->code == PNI_ICMP_FRAG_NEEDED) {
        if (icmp->next_mtu < 296 || icmp->next_mtu >= s->cfg.mtu)
            return;
        uint16_t m = (uint16_t)(icmp->next_mtu - PNI_IP4_HLEN - PNI_TCP_HLEN);
        if (cb->mss_clamp == 0 || m < cb->mss_clamp)
            cb->mss_clamp = m;
        uint16_t nm = pni_tcp_mss_for(s, cb);
        if (nm < cb->t_maxseg) {
            cb->t_maxseg = nm;
            if (cb->state >= PN_TCP_ESTABLISHED && cb->snd_una != cb->snd_max) {
                cb->snd_nxt = cb->snd_una;
                cb->t_flags &= ~PNI_TF_RTTING; /* Karn: all of it is resent */
                pni_tcp_output(s, cb);
            }
        }
        return;
    }
    int err;
    if (icmp->type == PNI_ICMP_DEST_UNREACH) {
        switch (icmp->code) {
        case 2: /* protocol unreachable */
        case PNI_ICMP_PORT_UNREACH:
            if (cb->state == PN_TCP_SYN_SENT) {
                pni_tcp_drop(s, cb, PN_ECONNREFUSED);
                return;
            }
            err = PN_ECONNREFUSED;
            break;
        case 0:  /* net unreachable */
        case 6:  /* destination network unknown */
        case 9:  /* network administratively prohibited */
        case 11: /* network unreachable for TOS */
            err = PN_ENETUNREACH;
            break;
        default:
            err = PN_EHOSTUNREACH;
            break;
        }
    } else {
        err = PN_EHOSTUNREACH; /* time exceeded: a routing loop or TTL */
    }
    cb->soft_error = (int8_t)err;
}

#endif /* PN_HAVE_TCP */
