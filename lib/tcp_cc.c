/*
 * tcp_cc.c -- congestion control: RFC 5681 slow start and congestion
 * avoidance with RFC 3465 byte counting, the RFC 6928 initial window,
 * the reductions of NewReno (RFC 6582) and CUBIC (RFC 9438).
 *
 * IMPLEMENTATION NOTES
 * - cwnd and ssthresh are in bytes. The fast-recovery mechanics (entering,
 *   partial and full ACKs, SACK pipe) live in tcp_in.c / tcp_out.c; this
 *   file decides how large the window grows and how far it falls.
 * - CUBIC arithmetic is integer: time in milliseconds, windows in bytes,
 *   C = 0.4 segments/s^3 and beta = 0.7 as rationals (see cubic_target).
 * - A build with PN_CONFIG_NO_CUBIC (pn_features.h) compiles CUBIC out:
 *   the dispatch tests PN_HAVE_CUBIC first, so the compiler drops the
 *   branches, and tcp.c never lets cc_algo be PN_CC_CUBIC there.
 */
#include "tcp.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

#define CWND_MAX 0x40000000u

void
pni_tcp_cc_init(pn_stack *s, pni_tcpcb *cb)
{
    /* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)), generalised to
     * init_cwnd_segs segments of up to 1460 bytes. */
    uint32_t n = s->cfg.tcp.init_cwnd_segs;
    uint32_t mss = cb->t_maxseg;
    uint64_t a = (uint64_t)n * mss;
    uint64_t b = (uint64_t)n * 1460u;
    if (b < 2u * mss)
        b = 2u * mss;
    cb->cwnd = (uint32_t)(a < b ? a : b);
    cb->ssthresh = CWND_MAX; /* RFC 5681 3.1: arbitrarily high */
    cb->bytes_acked = 0;
    cb->cub_epoch = 0;
    cb->cub_wmax = 0;
}

#if PN_HAVE_CUBIC

/* Integer cube root, floor. */
uint32_t
pni_tcp_cbrt(uint64_t x)
{
    uint64_t r = 0;
    for (int shift = 63; shift >= 0; shift -= 3) {
        r <<= 1;
        uint64_t b = 3 * r * (r + 1) + 1;
        if ((x >> shift) >= b) {
            x -= b << shift;
            r++;
        }
    }
    return (uint32_t)r;
}

/*
 * CUBIC window (RFC 9438 4.2): W(t) = C*(t - K)^3 + W_max, in segments and
 * seconds, with K = cbrt(W_max*(1 - beta)/C) when cwnd fell to beta*W_max
 * (or cbrt((W_max - cwnd_epoch)/C) in general, 4.2 eq. 2).
 *
 * In bytes and milliseconds: (t - K)^3 in ms^3 is 1e9 times the same in
 * s^3, so C*(t-K)^3*MSS bytes = d^3 * MSS * 0.4 / 1e9 with d = |t - K| ms.
 * Evaluated as ((d*d/1000)*d/1000) * MSS * 4 / 10000, which stays within
 * 64 bits for d <= 1e6 ms (d is clamped there; 1000 s is far past where
 * the peer's window binds). K in ms: cbrt(dW/MSS / 0.4 * 1e9) =
 * cbrt(dW * 2.5e9 / MSS) with dW the byte shortfall from W_max.
 */
static uint64_t
cubic_target(const pni_tcpcb *cb, uint64_t t_ms)
{
    uint64_t k = cb->cub_k_ms;
    uint64_t d = t_ms > k ? t_ms - k : k - t_ms;
    if (d > 1000000u)
        d = 1000000u;
    uint64_t c3 = (d * d / 1000u) * d / 1000u;
    uint64_t delta = c3 * cb->t_maxseg * 4u / 10000u;
    if (t_ms >= k)
        return cb->cub_wmax + delta;
    return delta >= cb->cub_wmax ? 0 : cb->cub_wmax - delta;
}

static void
cubic_ack(pn_stack *s, pni_tcpcb *cb, uint32_t acked)
{
    uint32_t mss = cb->t_maxseg;
    if (cb->cub_epoch == 0) {
        /* 4.2: a new congestion avoidance epoch */
        cb->cub_epoch = s->now == 0 ? 1 : s->now;
        if (cb->cub_wmax > cb->cwnd) {
            uint64_t dw = cb->cub_wmax - cb->cwnd;
            if (dw > CWND_MAX)
                dw = CWND_MAX;
            cb->cub_k_ms = pni_tcp_cbrt(dw * 2500000000ull / mss);
        } else {
            cb->cub_k_ms = 0;
            cb->cub_wmax = cb->cwnd;
        }
        cb->cub_west = cb->cwnd;
    }
    uint64_t t_ms = (s->now - cb->cub_epoch + (cb->srtt >> 3)) / 1000u;
    uint64_t target = cubic_target(cb, t_ms);
    /* 4.3 Reno-friendly region: W_est grows by alpha_cubic per RTT,
     * alpha = 3(1 - beta)/(1 + beta) = 0.529 for beta 0.7. */
    cb->cub_west += (uint32_t)((uint64_t)acked * mss * 529u / (1000u * (uint64_t)cb->cwnd));
    if (cb->cub_west > target)
        target = cb->cub_west;
    /* 4.2: the target is bounded by 1.5 * cwnd. */
    if (target > (uint64_t)cb->cwnd * 3 / 2)
        target = (uint64_t)cb->cwnd * 3 / 2;
    if (target > cb->cwnd) {
        uint64_t inc = (target - cb->cwnd) * acked / cb->cwnd;
        cb->cwnd += (uint32_t)(inc > 0 ? inc : 1);
    } else {
        /* plateau: crawl, one segment per 100 windows acknowledged */
        cb->bytes_acked += acked;
        if (cb->bytes_acked / 100u >= cb->cwnd) {
            cb->bytes_acked = 0;
            cb->cwnd += mss;
        }
    }
}

#else /* !PN_HAVE_CUBIC */

/* Never called (cc_algo is never PN_CC_CUBIC without CUBIC); keeps the
 * dispatch below compiling. */
static inline void
cubic_ack(pn_stack *s, pni_tcpcb *cb, uint32_t acked)
{
    (void)s;
    (void)cb;
    (void)acked;
}

#endif /* PN_HAVE_CUBIC */

void
pni_tcp_cc_ack(pn_stack *s, pni_tcpcb *cb, uint32_t acked)
{
    uint32_t mss = cb->t_maxseg;
    if (cb->state < PN_TCP_ESTABLISHED)
        return;
    if (cb->cwnd < cb->ssthresh) {
        /* RFC 5681 3.1 slow start with RFC 3465 L = 2 SMSS. */
        cb->cwnd += acked < 2u * mss ? acked : 2u * mss;
    } else if (PN_HAVE_CUBIC && cb->cc_algo == PN_CC_CUBIC) {
        cubic_ack(s, cb, acked);
    } else {
        /* RFC 5681 3.1 eq. 3 via byte counting (RFC 3465 2.1): one
         * segment per cwnd of data acknowledged. */
        cb->bytes_acked += acked;
        if (cb->bytes_acked >= cb->cwnd) {
            cb->bytes_acked -= cb->cwnd;
            cb->cwnd += mss;
        }
    }
    if (cb->cwnd > CWND_MAX)
        cb->cwnd = CWND_MAX;
}

/* The new ssthresh after a congestion signal. */
static void
reduce(pn_stack *s, pni_tcpcb *cb)
{
    uint32_t mss = cb->t_maxseg;
    (void)s;
    if (PN_HAVE_CUBIC && cb->cc_algo == PN_CC_CUBIC) {
        /* RFC 9438 4.6 (multiplicative decrease, beta = 0.7) and 4.7
         * (fast convergence: remember a lower W_max when shrinking). */
        if (cb->cub_wmax != 0 && cb->cwnd < cb->cub_wmax)
            cb->cub_wmax = (uint32_t)((uint64_t)cb->cwnd * 85u / 100u);
        else
            cb->cub_wmax = cb->cwnd;
        uint32_t th = (uint32_t)((uint64_t)cb->cwnd * 7u / 10u);
        cb->ssthresh = th > 2u * mss ? th : 2u * mss;
        cb->cub_epoch = 0;
    } else {
        /* RFC 5681 eq. 4: max(FlightSize/2, 2*SMSS), FlightSize without
         * what limited transmit sent (RFC 5681 3.2 step 2). */
        uint32_t flight = cb->snd_max - cb->snd_una;
        flight = flight > cb->lt_sent ? flight - cb->lt_sent : 0;
        cb->ssthresh = flight / 2 > 2u * mss ? flight / 2 : 2u * mss;
    }
    cb->bytes_acked = 0;
}

void
pni_tcp_cc_loss(pn_stack *s, pni_tcpcb *cb)
{
    reduce(s, cb);
}

void
pni_tcp_cc_rto(pn_stack *s, pni_tcpcb *cb)
{
    /* RFC 5681 3.1: ssthresh only on the first timeout of a segment;
     * cwnd to the loss window (1 segment). RFC 6582 4 / RFC 6675 5.1:
     * leave recovery, remember the highest sent as recover. */
    if (cb->rxtshift <= 1)
        reduce(s, cb);
    cb->cwnd = cb->t_maxseg;
    cb->t_flags &= ~PNI_TF_RECOVERY;
    cb->recover = cb->snd_max;
    cb->n_sb = 0;
    cb->sack_rxt = cb->snd_una;
    cb->dupacks = 0;
    cb->lt_sent = 0;
}

#endif /* PN_HAVE_TCP */
