/*
 * tcp.h -- private declarations of the TCP module (lib/tcp*.c).
 *
 * IMPLEMENTATION NOTES
 * - Three pools carved once by pni_tcp_carve:
 *     PN_POOL_TCP     control blocks (pni_tcpcb): sockets, listeners,
 *                     accepted and orphaned connections, TIME_WAIT;
 *     PN_POOL_SYN     half-open entries (pni_tcp_syn, ~64 bytes) made by a
 *                     listener for each SYN while the SYN queue has room;
 *                     beyond it SYN cookies (RFC 4987) keep no state;
 *     PN_POOL_TCPBUF  data chunks (pni_tcp_chunk) shared by all sockets.
 *   A socket's send and receive buffers are chains of chunks taken lazily
 *   and given back as soon as a queue empties, so an idle connection holds
 *   only its control block (W4: lean control blocks).
 * - A socket handle is the index of its control block in PN_POOL_TCP. The
 *   application owns the handle while PNI_TF_USER is set; a closed but not
 *   finished connection (FIN_WAIT_*, LAST_ACK, TIME_WAIT) is an orphan the
 *   stack frees by itself.
 * - Demultiplexing is by hash of the 4-tuple into one bucket array
 *   (chains of indices); listeners hash with a zero remote address/port.
 *   Half-open entries live in a second bucket array. O(1) expected.
 * - Timers: each control block keeps absolute deadlines (rexmt/persist,
 *   delayed ACK, keep/2MSL/FIN_WAIT_2); one binary min-heap orders objects
 *   by their earliest deadline. A deadline that moves earlier sifts up at
 *   once; one that moves later is left stale in the heap ("early is
 *   harmless", DESIGN.md) and corrected when it pops. pn_next_deadline is
 *   the heap top: O(1) whatever the number of connections.
 * - Sequence numbers are compared only through the pni_seq_* macros.
 */
#ifndef PN_TCP_H
#define PN_TCP_H

#include "pn_internal.h"

/* ---- sequence space arithmetic (RFC 9293 3.4, modulo 2^32) ---- */
#define pni_seq_lt(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define pni_seq_leq(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define pni_seq_gt(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define pni_seq_geq(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define pni_seq_max(a, b) (pni_seq_gt((a), (b)) ? (a) : (b))
#define pni_seq_min(a, b) (pni_seq_lt((a), (b)) ? (a) : (b))

#define PNI_NONE UINT32_MAX

/* Data chunk: 2048 bytes with its link. */
#define PNI_TCPCH_DATA 2040
typedef struct pni_tcp_chunk {
    struct pni_tcp_chunk *next;
    uint8_t d[PNI_TCPCH_DATA];
} pni_tcp_chunk;

/* A byte queue over a chain of chunks. Byte 0 is at head->d[head_off];
 * len bytes are valid; chunks may extend past len (receive side: room for
 * out-of-order data). nch chunks are held. cur (chunk number cur_idx of
 * the chain, or NULL) is a seek cursor: where the last seek landed, so
 * that sequential access (the next segment to send, the next in-order
 * data to store) finds its chunk in O(1) instead of walking from head. */
typedef struct pni_tcpq {
    pni_tcp_chunk *head;
    pni_tcp_chunk *tail;
    pni_tcp_chunk *cur;
    uint32_t len;
    uint16_t head_off;
    uint16_t nch;
    uint16_t cur_idx;
} pni_tcpq;

/* Out-of-order ranges held (receive) and SACKed ranges (send scoreboard). */
#define PNI_TCP_OOO_MAX 6
#define PNI_TCP_SB_MAX 6

typedef struct pni_seqrange {
    uint32_t left;
    uint32_t right;
} pni_seqrange;

/* t_flags */
#define PNI_TF_USER 0x00000001u      /* the application holds the handle */
#define PNI_TF_NODELAY 0x00000002u
#define PNI_TF_KEEPALIVE 0x00000004u
#define PNI_TF_LINGER0 0x00000008u
#define PNI_TF_REUSEADDR 0x00000010u
#define PNI_TF_QUICKACK 0x00000020u
#define PNI_TF_BOUND 0x00000040u     /* in the port hash */
#define PNI_TF_HASHED 0x00000080u    /* in the demux hash */
#define PNI_TF_WANT_TS 0x00000100u   /* offer/accept (per-socket switch) */
#define PNI_TF_WANT_SACK 0x00000200u
#define PNI_TF_WANT_WS 0x00000400u
#define PNI_TF_TS 0x00000800u        /* negotiated */
#define PNI_TF_SACK 0x00001000u
#define PNI_TF_WS 0x00002000u
#define PNI_TF_SHUT_WR 0x00004000u   /* FIN queued after the data */
#define PNI_TF_RCV_FIN 0x00008000u   /* peer's FIN received (EOF) */
#define PNI_TF_ACKNOW 0x00010000u
#define PNI_TF_PERSIST 0x00020000u   /* t_rexmt is the persist timer */
#define PNI_TF_RECOVERY 0x00040000u  /* in fast recovery */
#define PNI_TF_RTTING 0x00080000u    /* timing rtt_seq */
#define PNI_TF_ACCEPTQ 0x00100000u   /* on a listener's accept queue */
#define PNI_TF_FORCE1 0x00200000u    /* send one byte into a zero window */
#define PNI_TF_SYNRXT 0x00400000u    /* the SYN was retransmitted */
#define PNI_TF_CONNECTED 0x00800000u /* reached ESTABLISHED once */
#define PNI_TF_KEEPPROBE 0x01000000u /* t_keep is counting probes */
#define PNI_TF_ACKQ 0x02000000u      /* an ACK went out at ack_mark drains */
#define PNI_TF_LTX 0x04000000u       /* limited transmit may use cwnd + dupacks*SMSS now */

typedef struct pni_tcpcb {
    /* identity and demux */
    uint8_t laddr[4];
    uint8_t raddr[4];
    uint16_t lport;
    uint16_t rport;
    uint32_t hnext;      /* demux chain (index or PNI_NONE) */
    uint32_t pnext;      /* port chain */
    uint32_t hpos;       /* position in the timer heap or PNI_NONE */
    uint32_t t_flags;
    uint8_t state;       /* PN_TCP_* */
    uint8_t cc_algo;     /* PN_CC_* */
    uint8_t snd_wscale;  /* peer's shift (applied to its windows) */
    uint8_t rcv_wscale;  /* our shift */
    uint8_t rxtshift;    /* retransmissions of the current segment */
    uint8_t dupacks;
    uint8_t keepcnt;
    uint8_t nprobes;     /* keepalive probes sent */
    uint8_t syn_retries;
    uint8_t n_ooo;
    uint8_t n_sb;
    uint8_t ooo_last;    /* index of the most recently updated ooo range */
    int16_t error;       /* sticky PN_E* */
    int8_t soft_error;   /* last ICMP soft error (PN_E*), reported instead
                            of PN_ETIMEDOUT if the connection gives up */
    uint8_t pad8_;
    uint16_t mss_clamp;  /* user clamp (0 none) */
    uint16_t t_maxseg;   /* payload bytes per segment (options excluded) */
    uint16_t peer_mss;   /* MSS option from the peer */
    uint16_t rcv_mss;    /* largest segment received (delayed-ACK policy) */
    uint16_t keepidle_s;
    uint16_t keepintvl_s;
    uint16_t tos_ttl;    /* tos << 8 | ttl (0 = default) */

    /* send sequence variables (RFC 9293 3.3.1) */
    uint32_t iss;
    uint32_t snd_una;
    uint32_t snd_nxt;
    uint32_t snd_max;    /* highest sequence sent + 1 */
    uint32_t snd_wnd;    /* scaled */
    uint32_t snd_wl1;
    uint32_t snd_wl2;
    uint32_t max_sndwnd;
    /* receive sequence variables */
    uint32_t irs;
    uint32_t rcv_nxt;
    uint32_t rcv_adv;    /* right edge advertised */
    uint32_t last_ack_sent;
    uint32_t rcv_unacked; /* bytes received since our last ACK */
    uint32_t ack_mark;    /* stats.frames_out when our last ACK was queued
                             (PNI_TF_ACKQ): unchanged = not drained yet */

    /* RFC 7323 */
    uint32_t ts_recent;
    uint32_t ts_recent_age; /* seconds of our clock when set */
    uint32_t ts_off;        /* per-connection offset of our TSval */

    /* RFC 6298 estimator, microseconds (scaled: srtt << 3, rttvar << 2) */
    uint32_t srtt;
    uint32_t rttvar;
    uint32_t rto;
    uint32_t rtt_seq;
    uint64_t rtt_time;

    /* congestion control */
    uint32_t cwnd;
    uint32_t ssthresh;
    uint32_t recover;     /* RFC 6582 */
    uint32_t bytes_acked; /* RFC 3465 byte counting in avoidance */
    uint32_t sack_rxt;    /* RFC 6675: holes below this were retransmitted */
    uint32_t lt_sent;     /* RFC 3042: bytes limited transmit sent since the
                             last new ACK (left out of FlightSize) */
    uint32_t cub_wmax;    /* CUBIC (RFC 9438): bytes */
    uint32_t cub_k_ms;
    uint32_t cub_west;
    uint64_t cub_epoch;

    /* timers: absolute deadlines, PN_TIME_NEVER when off */
    uint64_t t_rexmt;     /* retransmission or persist */
    uint64_t t_delack;
    uint64_t t_keep;      /* keepalive, FIN_WAIT_2, TIME_WAIT */
    uint64_t t_idle;      /* last segment received */

    /* buffers */
    pni_tcpq sndq;        /* from snd_una (data only) */
    pni_tcpq rcvq;        /* from rcv_nxt - rcvq.len */
    uint32_t sndbuf;
    uint32_t rcvbuf;
    pni_seqrange ooo[PNI_TCP_OOO_MAX];
    pni_seqrange sb[PNI_TCP_SB_MAX];

    /* listener / accepted child */
    uint32_t parent;      /* listener index while on its accept queue */
    uint32_t acc_next;    /* accept queue link */
    uint32_t acc_head;    /* listener: accept queue */
    uint32_t acc_tail;
    uint32_t syn_head;    /* listener: its half-open entries */
    uint16_t backlog;
    uint16_t acc_len;
    uint16_t nsyn;
    uint16_t pad_;
} pni_tcpcb;

/* A half-open connection held by a listener (SYN received, SYN-ACK sent). */
typedef struct pni_tcp_syn {
    uint8_t laddr[4];
    uint8_t raddr[4];
    uint16_t lport;
    uint16_t rport;
    uint32_t hnext;
    uint32_t hpos;
    uint32_t listener;
    uint32_t lnext;      /* listener's list (doubly linked) */
    uint32_t lprev;
    uint32_t iss;
    uint32_t irs;
    uint32_t ts_recent;
    uint16_t peer_mss;
    uint8_t peer_ws;     /* 0xff: no window scale offered */
    uint8_t opts;        /* PNI_SO_* */
    uint8_t retries;
    uint8_t pad_[3];
    uint64_t deadline;
} pni_tcp_syn;

#define PNI_SO_SACK 0x01
#define PNI_SO_TS 0x02
#define PNI_SO_WS 0x04

struct pni_tcp {
    uint32_t max_socks;
    uint32_t nsyn;        /* SYN pool capacity */
    uint32_t hmask;       /* buckets - 1 */
    uint32_t pmask;
    uint32_t *hash;       /* demux buckets: cb index or PNI_NONE */
    uint32_t *phash;      /* port buckets */
    uint32_t *shash;      /* half-open buckets */
    uint64_t *hkey;       /* timer heap: deadline */
    uint32_t *hid;        /* timer heap: object id (cb index, or
                             max_socks + syn index) */
    uint32_t hn;
    uint16_t eph_next;
    uint16_t pad_;
    uint32_t last_hit;    /* demux cache: last control block found by
                             pni_tcp_lookup, or PNI_NONE (see tcp.c) */
    uint32_t pad2_;
    uint64_t cookie_last; /* last time a cookie was sent, or 0 */
    uint64_t chal_sec;    /* RFC 5961 7: current second */
    uint32_t chal_cnt;
};

/* ---- lib/tcp.c ---- */
void pni_tcp_normalize(pn_tcp_config *t);
pni_tcpcb *pni_tcp_cb(const pn_stack *s, uint32_t idx);
uint32_t pni_tcp_idx(const pn_stack *s, const pni_tcpcb *cb);
pni_tcpcb *pni_tcp_lookup(const pn_stack *s, const uint8_t laddr[4], uint16_t lport,
                          const uint8_t raddr[4], uint16_t rport);
pni_tcpcb *pni_tcp_lookup_listen(const pn_stack *s, const uint8_t laddr[4], uint16_t lport);
pni_tcp_syn *pni_tcp_syn_lookup(const pn_stack *s, const uint8_t laddr[4], uint16_t lport,
                                const uint8_t raddr[4], uint16_t rport);
void pni_tcp_hash_insert(pn_stack *s, pni_tcpcb *cb);
pni_tcpcb *pni_tcp_cb_alloc(pn_stack *s);
/* Init the per-connection state that depends on the tuple (ISS, TS offset),
 * options wanted, buffers from the config or the parent. */
void pni_tcp_cb_init(pn_stack *s, pni_tcpcb *cb);
/* Enter CLOSED: unhash, stop timers, free buffers (the receive queue is
 * kept while the application may still read it), free the block when
 * orphaned. */
void pni_tcp_close_cb(pn_stack *s, pni_tcpcb *cb);
/* Free half-open entry. */
void pni_tcp_syn_free(pn_stack *s, pni_tcp_syn *sy);
void pni_tcp_syn_insert(pn_stack *s, pni_tcp_syn *sy, pni_tcpcb *lst);
uint32_t pni_tcp_iss(const pn_stack *s, const uint8_t laddr[4], uint16_t lport,
                     const uint8_t raddr[4], uint16_t rport);
uint32_t pni_tcp_tsoff(const pn_stack *s, const uint8_t laddr[4], uint16_t lport,
                       const uint8_t raddr[4], uint16_t rport);
/* Our timestamp clock: milliseconds. */
static inline uint32_t
pni_tcp_ts_now(const pn_stack *s)
{
    return (uint32_t)(s->now / 1000u);
}
/* Effective MSS for a route (our MTU, peer's offer, clamp). */
uint16_t pni_tcp_mss_for(const pn_stack *s, const pni_tcpcb *cb);
/* Our receive-window shift for a buffer size (RFC 7323 2.3). */
uint8_t pni_tcp_wscale_for(uint32_t rcvbuf);

/* byte queues */
void pni_tcpq_free(pn_stack *s, pni_tcpq *q);
/* Append up to n bytes; returns bytes appended (chunk pool may run dry). */
size_t pni_tcpq_append(pn_stack *s, pni_tcpq *q, const uint8_t *src, size_t n);
/* Write n bytes at offset off (off may exceed len: out-of-order data);
 * allocates chunks. Returns 0 or -1 when the pool is dry (nothing written). */
int pni_tcpq_write(pn_stack *s, pni_tcpq *q, uint32_t off, const pni_buf *src, size_t soff,
                   size_t n);
/* The same from n contiguous bytes at src (a segment processed where it
 * lies: in a one-block buffer, or in the caller's frame). */
int pni_tcpq_write_flat(pn_stack *s, pni_tcpq *q, uint32_t off, const uint8_t *src, size_t n);
/* Copy n bytes at offset off into dst, returning their partial checksum,
 * summed by pni_csum_partial_v(.., vec). */
uint64_t pni_tcpq_copy_csum(pni_tcpq *q, uint32_t off, uint8_t *dst, size_t n, int vec);
size_t pni_tcpq_read(pn_stack *s, pni_tcpq *q, uint8_t *dst, size_t n);
void pni_tcpq_drop(pn_stack *s, pni_tcpq *q, uint32_t n);

/* ---- lib/tcp_timer.c ---- */
/* Place cb in the timer heap at d, earlier than its key (or first). */
void pni_tcp_timer_earlier(pn_stack *s, pni_tcpcb *cb, uint64_t d);
/* After cb's deadlines changed: re-key its heap entry. Inline, as it runs
 * after every segment sent or received: the common case, the deadline
 * the same or later (a stale key, fixed when it pops) or NEVER with no
 * entry, is three loads and compares; only an earlier one calls out. */
static inline void
pni_tcp_timer_update(pn_stack *s, pni_tcpcb *cb)
{
    uint64_t d = cb->t_rexmt;
    if (cb->t_delack < d)
        d = cb->t_delack;
    if (cb->t_keep < d)
        d = cb->t_keep;
    if (cb->hpos == PNI_NONE ? d == PN_TIME_NEVER : d >= s->tcp->hkey[cb->hpos])
        return;
    pni_tcp_timer_earlier(s, cb, d);
}
void pni_tcp_timer_update_syn(pn_stack *s, pni_tcp_syn *sy);
void pni_tcp_timer_remove(pn_stack *s, uint32_t id);
void pni_tcp_set_rexmt(pn_stack *s, pni_tcpcb *cb);     /* (re)arm at RTO */
void pni_tcp_set_keep(pn_stack *s, pni_tcpcb *cb);      /* per state */
uint32_t pni_tcp_rexmt_timeout(const pn_stack *s, const pni_tcpcb *cb);
/* RFC 6298 2.2/2.3: feed one RTT sample (microseconds). */
void pni_tcp_rtt_sample(pn_stack *s, pni_tcpcb *cb, uint32_t rtt_us);

/* ---- lib/tcp_out.c ---- */
/* Send whatever the state, windows and queues call for. */
void pni_tcp_output(pn_stack *s, pni_tcpcb *cb);
/* Send one segment of len data bytes at seq with flags (retransmissions
 * and probes too). Returns 0 or a PN_E* code. */
int pni_tcp_send_seg(pn_stack *s, pni_tcpcb *cb, uint32_t seq, uint32_t len, uint8_t flags);
uint32_t pni_tcp_segmax(const pni_tcpcb *cb);
/* An ACK now (RFC 5961 challenge ACKs, dropafterack). */
void pni_tcp_send_ack(pn_stack *s, pni_tcpcb *cb);
/* RFC 9293 3.10.7.1: a reset answering seg (repr in host order) arriving
 * at src:sport -> dst:dport. Never answers a RST. */
void pni_tcp_send_rst_for(pn_stack *s, const pni_ip4_repr *ip, const pni_tcp_repr *seg,
                          uint32_t seg_len);
/* RST from a connection (abort). */
void pni_tcp_send_rst(pn_stack *s, pni_tcpcb *cb);
/* SYN-ACK for a half-open entry or a cookie (sy from a stack temporary). */
void pni_tcp_send_synack(pn_stack *s, const pni_tcp_syn *sy, const pni_tcpcb *lst);
/* Receive window we can advertise now (bytes, unscaled). Inline, as the
 * next one: both run for every segment sent or received. */
static inline uint32_t
pni_tcp_rcv_space(const pni_tcpcb *cb)
{
    return cb->rcvq.len < cb->rcvbuf ? cb->rcvbuf - cb->rcvq.len : 0;
}
/* 1 if a window update is worth sending (RFC 9293 3.8.6.2.2). */
static inline int
pni_tcp_wnd_update_due(const pni_tcpcb *cb)
{
    if (cb->state < PN_TCP_ESTABLISHED || (cb->t_flags & PNI_TF_RCV_FIN))
        return 0;
    uint32_t edge = cb->rcv_nxt + pni_tcp_rcv_space(cb);
    if (!pni_seq_gt(edge, cb->rcv_adv))
        return 0;
    uint32_t adv = edge - cb->rcv_adv;
    return adv >= 2u * cb->t_maxseg || 2 * adv >= cb->rcvbuf;
}

/* ---- lib/tcp_in.c ---- */
/* Free or close the connection after a fatal error (sticky err). */
void pni_tcp_drop(pn_stack *s, pni_tcpcb *cb, int err);
/* Rate limit of RFC 5961 7: 1 if a challenge ACK may go now. */
int pni_tcp_challenge_ok(pn_stack *s);

/* ---- lib/tcp_cc.c ---- */
void pni_tcp_cc_init(pn_stack *s, pni_tcpcb *cb);
void pni_tcp_cc_ack(pn_stack *s, pni_tcpcb *cb, uint32_t acked);
/* A loss detected by duplicate ACKs or SACK: enter recovery. */
void pni_tcp_cc_loss(pn_stack *s, pni_tcpcb *cb);
/* The retransmission timer expired. */
void pni_tcp_cc_rto(pn_stack *s, pni_tcpcb *cb);
#if PN_HAVE_CUBIC
/* Integer cube root (floor); CUBIC's K (RFC 9438 4.2). */
uint32_t pni_tcp_cbrt(uint64_t x);
#endif

/* ---- lib/tcp_sack.c ---- */
/*
 * SACK on a connection: negotiated (PNI_TF_SACK) and compiled in. Test
 * this, never PNI_TF_SACK itself, so that a build with PN_CONFIG_NO_SACK
 * (pn_features.h) sees a constant 0 and drops the SACK code paths; the
 * flag is never set there anyway (tcp.no_sack is forced on).
 */
#define PNI_TCP_SACK_ON(cb) (PN_HAVE_SACK && ((cb)->t_flags & PNI_TF_SACK) != 0)

#if PN_HAVE_SACK
/* Merge the SACK blocks of an ACK into the scoreboard (RFC 2018, 6675).
 * Returns 1 when they SACKed bytes not SACKed before (RFC 6675 2: such an
 * ACK counts as a duplicate ACK whatever its window), else 0. */
int pni_tcp_sack_update(pni_tcpcb *cb, const pni_tcp_repr *seg);
/* Forget ranges at or below snd_una. */
void pni_tcp_sack_clean(pni_tcpcb *cb);
uint32_t pni_tcp_sacked_bytes(const pni_tcpcb *cb);
/* Highest SACKed sequence + 1, or snd_una when none. */
uint32_t pni_tcp_sack_fack(const pni_tcpcb *cb);
/* RFC 6675 NextSeg (rule 1): first hole byte at or after from, below
 * fack; its length (bounded by the hole) in *len. 0 if none. */
int pni_tcp_sack_nexthole(const pni_tcpcb *cb, uint32_t from, uint32_t *seq, uint32_t *len);
/* RFC 6675 pipe (simplified: holes below fack are lost). */
uint32_t pni_tcp_sack_pipe(const pni_tcpcb *cb);
#else
/* No SACK compiled in: the scoreboard stays empty (n_sb 0). Callers are
 * behind PNI_TCP_SACK_ON, so these only keep them compiling. */
static inline int
pni_tcp_sack_update(pni_tcpcb *cb, const pni_tcp_repr *seg)
{
    (void)cb;
    (void)seg;
    return 0;
}
static inline void
pni_tcp_sack_clean(pni_tcpcb *cb)
{
    (void)cb;
}
static inline uint32_t
pni_tcp_sacked_bytes(const pni_tcpcb *cb)
{
    (void)cb;
    return 0;
}
static inline uint32_t
pni_tcp_sack_fack(const pni_tcpcb *cb)
{
    return cb->snd_una;
}
static inline int
pni_tcp_sack_nexthole(const pni_tcpcb *cb, uint32_t from, uint32_t *seq, uint32_t *len)
{
    (void)cb;
    (void)from;
    (void)seq;
    (void)len;
    return 0;
}
static inline uint32_t
pni_tcp_sack_pipe(const pni_tcpcb *cb)
{
    (void)cb;
    return 0;
}
#endif /* PN_HAVE_SACK */
/* Receive side: record [left, right) as held out of order, in at most
 * max ranges (tcp.ooo_max_segs, clamped to 1..PNI_TCP_OOO_MAX). 0, or -1
 * when it could not be recorded (the data must be dropped). Needed with or
 * without SACK: the ranges describe what the receive queue holds. */
int pni_tcp_ooo_add(pni_tcpcb *cb, uint32_t left, uint32_t right, uint32_t max);

/* ---- lib/tcp_syncookie.c ---- */
uint32_t pni_tcp_cookie_make(pn_stack *s, const pni_tcp_syn *sy, uint16_t mss);
/* Check a cookie (ack - 1) for the tuple and peer ISN (seq - 1); on
 * success fill sy's negotiated values and return 0, else -1. */
int pni_tcp_cookie_check(pn_stack *s, pni_tcp_syn *sy, uint32_t cookie);

#endif /* PN_TCP_H */
