/*
 * tcp_timer.c -- the timer heap and the TCP timers: retransmission
 * (RFC 6298), persist (RFC 9293 3.8.6.1), delayed ACK (RFC 9293 3.8.6.3,
 * RFC 1122 4.2.3.2), keepalive (RFC 9293 3.8.4), FIN_WAIT_2 and TIME_WAIT
 * (2*MSL), SYN and SYN-ACK retries.
 *
 * IMPLEMENTATION NOTES
 * - One binary min-heap of (deadline, id) pairs; id is a control block
 *   index, or max_socks + a half-open entry index. Each object is in the
 *   heap at most once (hpos). Its key is a lower bound of its earliest
 *   deadline: moving a deadline earlier sifts up at once; moving it later
 *   (the common case: the RTO restarted by every ACK) leaves the key
 *   stale, and pni_tcp_poll re-files the object when the stale key pops.
 *   So an ACK costs O(1) here and idle connections cost nothing.
 * - pni_tcp_deadline() is the heap top: O(1) at any number of sockets.
 */
#include "tcp.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

/* ---------------------------------------------------------------------
 * Heap
 * --------------------------------------------------------------------- */

static void
set_pos(pn_stack *s, uint32_t id, uint32_t pos)
{
    struct pni_tcp *tp = s->tcp;
    if (id < tp->max_socks)
        pni_tcp_cb(s, id)->hpos = pos;
    else
        ((pni_tcp_syn *)pni_pool_at(&s->pool[PN_POOL_SYN], id - tp->max_socks))->hpos = pos;
}

static void
heap_place(pn_stack *s, uint32_t i, uint64_t key, uint32_t id)
{
    s->tcp->hkey[i] = key;
    s->tcp->hid[i] = id;
    set_pos(s, id, i);
}

static void
sift_up(pn_stack *s, uint32_t i)
{
    struct pni_tcp *tp = s->tcp;
    uint64_t key = tp->hkey[i];
    uint32_t id = tp->hid[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (tp->hkey[p] <= key)
            break;
        heap_place(s, i, tp->hkey[p], tp->hid[p]);
        i = p;
    }
    heap_place(s, i, key, id);
}

static void
sift_down(pn_stack *s, uint32_t i)
{
    struct pni_tcp *tp = s->tcp;
    uint64_t key = tp->hkey[i];
    uint32_t id = tp->hid[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= tp->hn)
            break;
        if (c + 1 < tp->hn && tp->hkey[c + 1] < tp->hkey[c])
            c++;
        if (tp->hkey[c] >= key)
            break;
        heap_place(s, i, tp->hkey[c], tp->hid[c]);
        i = c;
    }
    heap_place(s, i, key, id);
}

static void
heap_set(pn_stack *s, uint32_t id, uint32_t *hpos, uint64_t d)
{
    struct pni_tcp *tp = s->tcp;
    if (*hpos == PNI_NONE) {
        if (d == PN_TIME_NEVER)
            return;
        uint32_t i = tp->hn++;
        heap_place(s, i, d, id);
        sift_up(s, i);
    } else if (d < tp->hkey[*hpos]) {
        tp->hkey[*hpos] = d;
        sift_up(s, *hpos);
    }
    /* later or NEVER: stale key, fixed when it pops */
}

void
pni_tcp_timer_remove(pn_stack *s, uint32_t id)
{
    struct pni_tcp *tp = s->tcp;
    uint32_t pos;
    if (id < tp->max_socks) {
        pni_tcpcb *cb = pni_tcp_cb(s, id);
        pos = cb->hpos;
        cb->hpos = PNI_NONE;
    } else {
        pni_tcp_syn *sy = pni_pool_at(&s->pool[PN_POOL_SYN], id - tp->max_socks);
        pos = sy->hpos;
        sy->hpos = PNI_NONE;
    }
    if (pos == PNI_NONE)
        return;
    uint32_t last = --tp->hn;
    if (pos == last)
        return;
    heap_place(s, pos, tp->hkey[last], tp->hid[last]);
    if (pos > 0 && tp->hkey[pos] < tp->hkey[(pos - 1) / 2])
        sift_up(s, pos);
    else
        sift_down(s, pos);
}

/* see tcp.h */
void
pni_tcp_timer_earlier(pn_stack *s, pni_tcpcb *cb, uint64_t d)
{
    /* the control block's index, a division, is only needed here */
    heap_set(s, pni_tcp_idx(s, cb), &cb->hpos, d);
}

void
pni_tcp_timer_update_syn(pn_stack *s, pni_tcp_syn *sy)
{
    uint32_t id = s->tcp->max_socks + pni_pool_index(&s->pool[PN_POOL_SYN], sy);
    heap_set(s, id, &sy->hpos, sy->deadline);
}

/* see pn_internal.h */
uint64_t
pni_tcp_deadline(const pn_stack *s)
{
    if (s->tcp == NULL || s->tcp->hn == 0)
        return PN_TIME_NEVER;
    return s->tcp->hkey[0];
}

/* ---------------------------------------------------------------------
 * RTT estimation and RTO (RFC 6298)
 * --------------------------------------------------------------------- */

/*
 * Fixed point, after Van Jacobson and FreeBSD: srtt is kept scaled by 8
 * and rttvar by 4, both in microseconds, so the gains of RFC 6298 2.3
 * (alpha = 1/8, beta = 1/4) become shifts without losing the fraction:
 *
 *   delta   = R - SRTT                 = R - (srtt >> 3)
 *   SRTT   <- SRTT + delta/8           : srtt   += delta
 *   RTTVAR <- RTTVAR + (|delta| - RTTVAR)/4
 *                                      : rttvar += |delta| - (rttvar >> 2)
 *   RTO     = SRTT + max(G, 4*RTTVAR)  = (srtt >> 3) + max(G, rttvar)
 *
 * The first sample (2.2) sets SRTT = R, RTTVAR = R/2: srtt = R << 3,
 * rttvar = (R/2) << 2 = R << 1. G, the clock granularity, is 1 ms here
 * (our timestamp clock), and the result is clamped to [rto_min, rto_max]
 * (2.4 asks for a 1 s minimum; the knob lets a profile choose, Linux uses
 * 200 ms).
 */
void
pni_tcp_rtt_sample(pn_stack *s, pni_tcpcb *cb, uint32_t r)
{
    const pn_tcp_config *t = &s->cfg.tcp;
    if (r > 60000000u)
        r = 60000000u;
    if (r == 0)
        r = 1; /* srtt == 0 means "no sample yet" */
    if (cb->srtt == 0) {
        cb->srtt = r << 3;
        cb->rttvar = r << 1;
    } else {
        int64_t delta = (int64_t)r - (int64_t)(cb->srtt >> 3);
        int64_t srtt = (int64_t)cb->srtt + delta;
        cb->srtt = srtt > 8 ? (uint32_t)srtt : 8;
        int64_t ad = delta < 0 ? -delta : delta;
        int64_t var = (int64_t)cb->rttvar + ad - (int64_t)(cb->rttvar >> 2);
        cb->rttvar = var > 0 ? (uint32_t)var : 0;
    }
    uint64_t rto = (uint64_t)(cb->srtt >> 3) + (cb->rttvar > 1000 ? cb->rttvar : 1000);
    if (rto < t->rto_min_us)
        rto = t->rto_min_us;
    if (rto > t->rto_max_us)
        rto = t->rto_max_us;
    cb->rto = (uint32_t)rto;
}

/* RTO with the exponential backoff of RFC 6298 5.5, capped at rto_max. */
uint32_t
pni_tcp_rexmt_timeout(const pn_stack *s, const pni_tcpcb *cb)
{
    uint64_t v = (uint64_t)cb->rto << (cb->rxtshift > 20 ? 20 : cb->rxtshift);
    if (v > s->cfg.tcp.rto_max_us)
        v = s->cfg.tcp.rto_max_us;
    return (uint32_t)v;
}

void
pni_tcp_set_rexmt(pn_stack *s, pni_tcpcb *cb)
{
    cb->t_flags &= ~PNI_TF_PERSIST;
    cb->t_rexmt = s->now + pni_tcp_rexmt_timeout(s, cb);
    pni_tcp_timer_update(s, cb);
}

/* Keep timer by state: FIN_WAIT_2 of an orphan, TIME_WAIT, keepalive. */
void
pni_tcp_set_keep(pn_stack *s, pni_tcpcb *cb)
{
    const pn_tcp_config *t = &s->cfg.tcp;
    cb->t_flags &= ~PNI_TF_KEEPPROBE;
    cb->nprobes = 0;
    switch (cb->state) {
    case PN_TCP_TIME_WAIT:
        cb->t_keep = s->now + 2 * (uint64_t)t->msl_us;
        break;
    case PN_TCP_FIN_WAIT_2:
        cb->t_keep = (cb->t_flags & PNI_TF_USER) ? PN_TIME_NEVER : s->now + t->fin_wait2_us;
        break;
    case PN_TCP_ESTABLISHED:
    case PN_TCP_CLOSE_WAIT:
        cb->t_keep = (cb->t_flags & PNI_TF_KEEPALIVE)
                         ? cb->t_idle + (uint64_t)cb->keepidle_s * 1000000u
                         : PN_TIME_NEVER;
        break;
    default:
        cb->t_keep = PN_TIME_NEVER;
        break;
    }
    pni_tcp_timer_update(s, cb);
}

/* ---------------------------------------------------------------------
 * Timer expiry
 * --------------------------------------------------------------------- */

#define MAX_RXTSHIFT 12 /* data: give up after 12 backoffs (FreeBSD) */

static void
rexmt_fire(pn_stack *s, pni_tcpcb *cb)
{
    cb->t_rexmt = PN_TIME_NEVER;
    if (cb->t_flags & PNI_TF_PERSIST) {
        /* RFC 9293 3.8.6.1, RFC 1122 4.2.2.17: probe the zero window
         * while the peer answers, backing off like the RTO. The probe is
         * Linux's: an old sequence number (SND.UNA - 1) and no data, which
         * the peer must answer with an ACK carrying its current window. */
        cb->t_flags &= ~PNI_TF_PERSIST;
        if (cb->snd_wnd != 0 || cb->sndq.len == 0 || cb->snd_una != cb->snd_max) {
            /* A small window held the data back (sender SWS avoidance,
             * Nagle): this was the override timeout of RFC 1122 4.2.3.4,
             * send what the window allows. */
            if (cb->snd_wnd != 0 && cb->sndq.len > 0 && cb->snd_una == cb->snd_max)
                cb->t_flags |= PNI_TF_FORCE1;
            pni_tcp_output(s, cb);
            return;
        }
        /* An orphan (closed by the application) has nobody to give up
         * for it: after MAX_RXTSHIFT backoffs it is dropped, as Linux
         * does with tcp_orphan_retries; otherwise a peer that shows a
         * zero window and then goes silent would pin it for ever. */
        if (cb->rxtshift >= MAX_RXTSHIFT && !(cb->t_flags & PNI_TF_USER)) {
            PNI_STAT(s, tcp_timeout);
            pni_tcp_drop(s, cb, PN_ETIMEDOUT);
            return;
        }
        if (cb->rxtshift < MAX_RXTSHIFT)
            cb->rxtshift++;
        PNI_STAT(s, tcp_zero_window_probe);
        pni_tcp_send_seg(s, cb, cb->snd_una - 1, 0, PNI_TCP_ACK);
        cb->t_flags |= PNI_TF_PERSIST;
        cb->t_rexmt = s->now + pni_tcp_rexmt_timeout(s, cb);
        return;
    }
    int syn = cb->state == PN_TCP_SYN_SENT || cb->state == PN_TCP_SYN_RECEIVED;
    int limit = syn ? cb->syn_retries : MAX_RXTSHIFT;
    /* An orphan in SYN_RECEIVED (closed by the application during a
     * simultaneous open) has nobody waiting for it: a per-socket
     * PN_TCP_SYNCNT above the stack's default no longer applies, as Linux
     * bounds orphans by tcp_orphan_retries. Otherwise up to 127 backoffs
     * at rto_max keep it, and its ARP traffic, going for hours. */
    if (syn && !(cb->t_flags & PNI_TF_USER) && limit > s->cfg.tcp.syn_retries)
        limit = s->cfg.tcp.syn_retries;
    if (cb->rxtshift >= limit) {
        /* R2 reached (RFC 9293 3.8.3, RFC 1122 4.2.3.5): "close the
         * connection". The stack aborts it on the application's behalf,
         * so it does what ABORT does (RFC 9293 3.10.5): a RST when
         * synchronized, none in SYN_SENT. The RST may well be lost like
         * everything before it, but when only the return path failed it
         * clears the peer's half of a now half-open connection (RFC 9293
         * 3.5.1) instead of leaving it to time out. FreeBSD does the same
         * (tcp_drop -> tcp_output in CLOSED); Linux sends none on RTO
         * give-up but does on keepalive give-up, which keep_fire below
         * also does. The error is the ICMP soft error if one came (RFC
         * 1122 4.2.3.9), else PN_ETIMEDOUT. */
        PNI_STAT(s, tcp_timeout);
        if (cb->state != PN_TCP_SYN_SENT)
            pni_tcp_send_rst(s, cb);
        pni_tcp_drop(s, cb, cb->soft_error != 0 ? cb->soft_error : PN_ETIMEDOUT);
        return;
    }
    cb->rxtshift++;
    PNI_STAT(s, tcp_rto);
    if (syn)
        cb->t_flags |= PNI_TF_SYNRXT;
    /* Karn: no RTT sample from a retransmitted segment. */
    cb->t_flags &= ~PNI_TF_RTTING;
    if (!syn)
        pni_tcp_cc_rto(s, cb);
    /* Go back: resend from snd_una (SYN, data or FIN alike). */
    cb->snd_nxt = cb->snd_una;
    cb->dupacks = 0;
    PNI_STAT(s, tcp_retrans);
    pni_tcp_output(s, cb);
    if (cb->t_rexmt == PN_TIME_NEVER && cb->snd_una != cb->snd_max)
        pni_tcp_set_rexmt(s, cb);
}

static void
keep_fire(pn_stack *s, pni_tcpcb *cb)
{
    cb->t_keep = PN_TIME_NEVER;
    switch (cb->state) {
    case PN_TCP_TIME_WAIT:
    case PN_TCP_FIN_WAIT_2:
        pni_tcp_close_cb(s, cb);
        return;
    case PN_TCP_ESTABLISHED:
    case PN_TCP_CLOSE_WAIT:
        break;
    default:
        return;
    }
    if (!(cb->t_flags & PNI_TF_KEEPALIVE))
        return;
    uint64_t idle_end = cb->t_idle + (uint64_t)cb->keepidle_s * 1000000u;
    if (s->now < idle_end) {
        cb->t_keep = idle_end; /* traffic since: not idle yet */
        return;
    }
    if (cb->nprobes >= cb->keepcnt) {
        PNI_STAT(s, tcp_timeout);
        pni_tcp_send_rst(s, cb);
        pni_tcp_drop(s, cb, cb->soft_error != 0 ? cb->soft_error : PN_ETIMEDOUT);
        return;
    }
    /* RFC 9293 3.8.4: SEG.SEQ = SND.NXT - 1 with no data elicits an ACK
     * without needing any of the peer's buffer. */
    PNI_STAT(s, tcp_keepalive_tx);
    cb->nprobes++;
    cb->t_flags |= PNI_TF_KEEPPROBE;
    pni_tcp_send_seg(s, cb, cb->snd_una - 1, 0, PNI_TCP_ACK);
    cb->t_keep = s->now + (uint64_t)cb->keepintvl_s * 1000000u;
}

static void
syn_fire(pn_stack *s, pni_tcp_syn *sy)
{
    const pn_tcp_config *t = &s->cfg.tcp;
    if (sy->retries >= t->synack_retries) {
        pni_tcp_syn_free(s, sy);
        return;
    }
    sy->retries++;
    PNI_STAT(s, tcp_retrans);
    pni_tcp_send_synack(s, sy, pni_tcp_cb(s, sy->listener));
    uint64_t to = (uint64_t)t->rto_init_us << sy->retries;
    if (to > t->rto_max_us)
        to = t->rto_max_us;
    sy->deadline = s->now + to;
}

/* see pn_internal.h */
void
pni_tcp_poll(pn_stack *s)
{
    struct pni_tcp *tp = s->tcp;
    if (tp == NULL)
        return;
    /* Bounded: every object popped is either re-filed strictly later than
     * now or leaves the heap. */
    uint32_t budget = tp->hn * 2 + 16;
    while (tp->hn > 0 && tp->hkey[0] <= s->now && budget-- > 0) {
        uint32_t id = tp->hid[0];
        pni_tcp_timer_remove(s, id);
        if (id >= tp->max_socks) {
            pni_tcp_syn *sy = pni_pool_at(&s->pool[PN_POOL_SYN], id - tp->max_socks);
            if (sy->deadline <= s->now)
                syn_fire(s, sy);
            if (pni_pool_at(&s->pool[PN_POOL_SYN], id - tp->max_socks) == sy) {
                if (sy->deadline <= s->now)
                    sy->deadline = s->now + 1;
                pni_tcp_timer_update_syn(s, sy);
            }
            continue;
        }
        pni_tcpcb *cb = pni_tcp_cb(s, id);
        if (cb->t_delack <= s->now) {
            cb->t_delack = PN_TIME_NEVER;
            cb->t_flags |= PNI_TF_ACKNOW;
            pni_tcp_output(s, cb);
        }
        if (pni_tcp_cb(s, id) != cb)
            continue;
        if (cb->t_rexmt <= s->now)
            rexmt_fire(s, cb);
        if (pni_tcp_cb(s, id) != cb || cb->state == PN_TCP_CLOSED)
            continue;
        if (cb->t_keep <= s->now)
            keep_fire(s, cb);
        if (pni_tcp_cb(s, id) != cb || cb->state == PN_TCP_CLOSED)
            continue;
        if (cb->t_rexmt <= s->now)
            cb->t_rexmt = s->now + 1;
        if (cb->t_delack <= s->now)
            cb->t_delack = s->now + 1;
        if (cb->t_keep <= s->now)
            cb->t_keep = s->now + 1;
        pni_tcp_timer_update(s, cb);
    }
}

#endif /* PN_HAVE_TCP */
