/*
 * purenet.h -- the public interface of purenet, a packet-in/packet-out
 * TCP/IP stack. This header is the documentation.
 *
 * ======================================================================
 * CONVENTIONS
 * ======================================================================
 *
 * - A stack instance (pn_stack) lives entirely inside a memory arena that
 *   the caller supplies to pn_stack_new(). The library never allocates,
 *   frees, prints, reads a clock, sleeps or draws random numbers. It has no
 *   global or static mutable state: two instances never touch each other.
 *
 * - Time is passed in. Every call that can change state takes `now`, the
 *   caller's monotonic clock in microseconds. A `now` smaller than one seen
 *   before is treated as "no time has passed" (the stack keeps its clock).
 *
 * - Entropy is passed in: pn_config.key is a 128-bit secret from which ISNs
 *   (RFC 6528), ephemeral ports (RFC 6056) and IP IDs derive through
 *   SipHash-2-4. Same config + same calls with same inputs => byte-identical
 *   output.
 *
 * - Errors: functions return 0 (or a length, or a handle) on success and a
 *   negative PN_E* code on failure. A malformed *packet* is never an error
 *   return: pn_inject_raw() returns 0 and bumps a reason-named counter in
 *   pn_stats. Every packet the stack drops is counted.
 *
 * - Pointers: a pointer argument MUST NOT be NULL unless the accompanying
 *   length is 0 or the function says NULL is allowed. The library keeps no
 *   pointer to caller memory after a call returns, except the callbacks and
 *   their user pointers in pn_config, which MUST stay valid for the life of
 *   the instance.
 *
 * - Structs are visible so they can be placed in static storage, but their
 *   fields are not part of the interface unless documented here.
 *
 * - Addresses are in network byte order inside small structs (pn_ip4,
 *   pn_mac). Port numbers are plain host-order integers (uint16_t).
 *
 * - Not thread-safe: one instance MUST be used by one thread at a time.
 */
#ifndef PURENET_H
#define PURENET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PN_VERSION_MAJOR 0
#define PN_VERSION_MINOR 1
#define PN_VERSION_PATCH 0

/* ----------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

#define PN_OK 0
#define PN_EINVAL (-1)        /* bad argument or nonsense config */
#define PN_ENOMEM (-2)        /* arena too small for the config */
#define PN_EALIGN (-3)        /* arena not aligned to PN_ARENA_ALIGN */
#define PN_ENOBUFS (-4)       /* pool exhausted or send buffer full */
#define PN_EAGAIN (-5)        /* nothing can be done now; try after poll */
#define PN_EMSGSIZE (-6)      /* too big, or DF set and above the MTU */
#define PN_EHOSTUNREACH (-7)  /* no route to the host */
#define PN_ENETUNREACH (-8)   /* no route to the network */
#define PN_EADDRINUSE (-9)    /* local address/port already bound */
#define PN_EADDRNOTAVAIL (-10) /* not one of our addresses */
#define PN_EBADF (-11)        /* not an open socket of this kind */
#define PN_EMFILE (-12)       /* no free socket */
#define PN_ENOTCONN (-13)     /* socket not connected */
#define PN_EISCONN (-14)      /* socket already connected */
#define PN_ECONNREFUSED (-15) /* peer refused (RST to our SYN) */
#define PN_ECONNRESET (-16)   /* peer reset the connection */
#define PN_ECONNABORTED (-17) /* connection aborted locally */
#define PN_ETIMEDOUT (-18)    /* retransmissions or keepalives gave up */
#define PN_EPIPE (-19)        /* write after shutdown */
#define PN_EALREADY (-20)     /* operation already in progress */
#define PN_EINPROGRESS (-21)  /* connect started; completes later */
#define PN_EOPNOTSUPP (-22)   /* operation not supported on this socket */
#define PN_ENOPROTOOPT (-23)  /* unknown socket option */
#define PN_ENOSPC (-24)       /* caller's buffer too small (pn_drain_raw) */
#define PN_EPROTO (-25)       /* malformed data handed to a codec-level call */
#define PN_ENOENT (-26)       /* no such entry (route, neighbour, viewed frame,
                                 held inject buffer) */
#define PN_ERRNO_MIN (-26)

/* A short constant description of an error code; never NULL. */
const char *pn_strerror(int err);

/* ----------------------------------------------------------------------
 * Addresses
 * ---------------------------------------------------------------------- */

typedef struct pn_ip4 {
    uint8_t b[4]; /* network byte order: 10.0.0.1 is {10,0,0,1} */
} pn_ip4;

typedef struct pn_mac {
    uint8_t b[6];
} pn_mac;

typedef struct pn_sockaddr {
    pn_ip4 addr;
    uint16_t port; /* host byte order */
} pn_sockaddr;

#define PN_IP4(a, b, c, d) ((pn_ip4){{(uint8_t)(a), (uint8_t)(b), (uint8_t)(c), (uint8_t)(d)}})

/* ----------------------------------------------------------------------
 * Packet views given to callbacks (taps and filter hooks)
 * ---------------------------------------------------------------------- */

/* A read-only view of a packet that may be stored in several segments.
 * `head` points to the first head_len bytes; tot_len is the whole length.
 * Valid only for the duration of the callback. */
typedef struct pn_pktview {
    const uint8_t *head;
    size_t head_len;
    size_t tot_len;
    const void *opaque_; /* internal */
} pn_pktview;

/* Copy len bytes starting at off out of a packet view into dst. Returns the
 * number of bytes copied (less than len only if off+len > tot_len). */
size_t pn_pktview_copy(const pn_pktview *v, size_t off, void *dst, size_t len);

/* Taps: a view of every frame in (after pn_inject_raw accepted it for
 * processing, before validation) and out (when it enters the egress queue).
 * The frame is what crosses the wire: Ethernet frame or bare IP packet. */
#define PN_TAP_IN 0
#define PN_TAP_OUT 1
typedef void (*pn_tap_fn)(void *user, int dir, uint64_t now, const pn_pktview *frame);

/* Filter hooks, seeing IPv4 packets (starting at the IP header):
 *  PRE_ROUTING:  every received packet that passed header validation;
 *  LOCAL_IN:     packets addressed to us, after reassembly;
 *  LOCAL_OUT:    packets we originate, before fragmentation;
 *  POST_ROUTING: every packet about to get its link header (each fragment).
 * Return PN_ACCEPT to continue or PN_DROP to drop (counted in
 * stats.hook_drop[point]). The view MUST NOT be retained. */
#define PN_HOOK_PRE_ROUTING 0
#define PN_HOOK_LOCAL_IN 1
#define PN_HOOK_LOCAL_OUT 2
#define PN_HOOK_POST_ROUTING 3
#define PN_HOOK_COUNT 4
#define PN_ACCEPT 0
#define PN_DROP 1
typedef int (*pn_hook_fn)(void *user, int point, const pn_pktview *ip);

/* ----------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------- */

#define PN_MEDIUM_ETHERNET 0 /* frames are Ethernet II; ARP resolves next hops */
#define PN_MEDIUM_IP 1       /* frames are bare IPv4 packets (a TUN device) */

#define PN_MAX_ADDRS 4
#define PN_MAX_ROUTES 16

typedef struct pn_ifaddr {
    pn_ip4 addr;
    uint8_t prefix_len; /* 0..32; a connected route is implied */
} pn_ifaddr;

typedef struct pn_route {
    pn_ip4 dest;        /* network */
    uint8_t prefix_len; /* 0 = default route */
    pn_ip4 gateway;     /* 0.0.0.0 = on link (no gateway) */
    pn_ip4 src;         /* preferred source, 0.0.0.0 = choose from addrs */
} pn_route;

/* TCP segment option layouts for SYNs (see pn_tcp_config.syn_layout). */
#define PN_SYN_LAYOUT_PURENET 0 /* MSS, NOP,WS, SACKOK,TS (smallest, aligned) */
#define PN_SYN_LAYOUT_LINUX 1   /* MSS, SACKOK,TS, NOP,WS */
#define PN_SYN_LAYOUT_FREEBSD 2 /* MSS, NOP,WS, SACKOK, TS */

/* Congestion control algorithms. */
#define PN_CC_NEWRENO 0
#define PN_CC_CUBIC 1

/* Stack-wide TCP knobs (0 means "the default" for every field; values
 * out of range are clamped, never refused). Together they are a profile:
 * a script runner can make purenet behave like Linux or FreeBSD. */
typedef struct pn_tcp_config {
    uint32_t max_socks;       /* TCP control blocks (listeners included); default 16 */
    uint32_t sndbuf;          /* default send buffer per socket, bytes; default 16384 */
    uint32_t rcvbuf;          /* default receive buffer per socket, bytes; default 16384 */
    uint32_t buf_budget;      /* bytes of data buffer for all sockets; default max_socks*(sndbuf+rcvbuf) */
    uint32_t syn_queue;       /* SYN pool: half-open entries of all listeners (each
                                 also bounded by its backlog); default 64 */
    uint32_t ooo_max_segs;    /* disjoint out-of-order ranges held per socket, 1..6;
                                 default 6 (beyond: the highest is dropped) */
    uint8_t no_sack;          /* 1: never offer or accept SACK (forced to 1 in a
                                 build with PN_CONFIG_NO_SACK) */
    uint8_t no_timestamps;    /* 1: never offer or accept timestamps */
    uint8_t no_wscale;        /* 1: never offer or accept window scaling */
    uint8_t no_rfc5961;       /* 1: plain RFC 9293 RST/SYN handling */
    uint8_t no_syncookies;    /* 1: drop SYNs when the SYN queue is full */
    uint8_t syn_layout;       /* PN_SYN_LAYOUT_*; default PURENET */
    uint8_t cc;               /* PN_CC_*; default NEWRENO (CUBIC becomes NEWRENO in a
                                 build with PN_CONFIG_NO_CUBIC) */
    uint8_t syn_retries;      /* SYN retransmissions before PN_ETIMEDOUT; default 6 */
    uint8_t synack_retries;   /* SYN-ACK retransmissions of a half-open entry; default 5 */
    uint8_t delack_segs;      /* ACK at least every N full-sized segments; default 2 */
    uint8_t quickack;         /* 1: no delayed ACKs at all */
    uint8_t reserved_[5];
    uint32_t init_cwnd_segs;  /* default 10 (RFC 6928) */
    uint32_t delack_us;       /* delayed ACK timer; default 40000 */
    uint32_t rto_init_us;     /* default 1000000 (RFC 6298 2.1) */
    uint32_t rto_min_us;      /* default 200000 (Linux; RFC 6298 2.4 says 1 s) */
    uint32_t rto_max_us;      /* backoff cap (also of SYN and probe timers); default 60000000 */
    uint32_t msl_us;          /* TIME_WAIT is 2*MSL; default 30000000 */
    uint32_t fin_wait2_us;    /* FIN_WAIT_2 timeout after close; default 60000000 */
    uint32_t keepidle_s;      /* default 7200 */
    uint32_t keepintvl_s;     /* default 75 */
    uint32_t keepcnt;         /* default 9 */
    uint32_t challenge_ack_limit; /* per second, RFC 5961 7; default 1000 */
} pn_tcp_config;

typedef struct pn_config {
    int medium;             /* PN_MEDIUM_* */
    pn_mac mac;             /* our MAC (Ethernet medium) */
    uint16_t mtu;           /* IP MTU; default 1500; 68..65535 */
    uint8_t n_addrs;        /* 1..PN_MAX_ADDRS */
    uint8_t n_routes;       /* 0..PN_MAX_ROUTES */
    pn_ifaddr addrs[PN_MAX_ADDRS];
    pn_route routes[PN_MAX_ROUTES];
    uint8_t key[16];        /* secret for ISNs, ports, IP IDs */
    uint8_t accept_multicast; /* 1: accept Ethernet multicast frames */
    uint8_t ttl;            /* default 64 */
    uint8_t no_vector;      /* 1: never use vector instructions (AVX2 on
                               x86-64, for checksums), e.g. where the vector
                               registers are not saved; 0 (default): use them
                               when the CPU and OS have them. Results are the
                               same either way. */
    uint8_t reserved_[1];

    /* Pools (0 = default). */
    uint32_t rx_bufs;       /* receive buffer blocks; default 64 */
    uint32_t tx_bufs;       /* transmit buffer blocks; default 64 */
    uint32_t buf_size;      /* data bytes per block; default mtu+128 rounded to 64 */
    uint32_t egress_max_pkts;   /* egress queue bound; default 64 */
    uint32_t egress_max_bytes;  /* default 256 KiB */
    uint32_t neigh_entries;     /* ARP cache size; default 16 */
    uint32_t neigh_hold_pkts;   /* packets held per unresolved neighbour; default 4 */
    uint32_t neigh_ttl_us;      /* reachable lifetime; default 60 s */
    uint32_t arp_retry_us;      /* between ARP requests; default 1 s */
    uint32_t arp_retries;       /* requests before giving up; default 3 */
    uint32_t reass_slots;       /* datagrams reassembled at once; default 4 */
    uint32_t reass_max_bytes;   /* fragment bytes held in all; default 128 KiB */
    uint32_t reass_timeout_us;  /* default 30 s (RFC 791 suggests 15 s) */
    uint32_t udp_socks;         /* UDP sockets; default 8 */
    uint32_t udp_rcvbuf;        /* bytes queued per socket; default 64 KiB */
    uint32_t udp_sndbuf;        /* bytes in flight per socket; default 64 KiB */
    uint32_t icmp_rate;         /* ICMP messages per second (token bucket); default 100 */
    uint32_t icmp_burst;        /* bucket depth; default 50 */

    pn_tcp_config tcp;

    /* Callbacks (may be NULL). */
    pn_tap_fn tap;
    void *tap_user;
    pn_hook_fn hook;            /* called for every point in hook_mask */
    void *hook_user;
    uint32_t hook_mask;         /* bit (1u << PN_HOOK_*) */
} pn_config;

/* Fill *cfg with defaults: Ethernet, MTU 1500, no addresses, all pools at
 * their defaults, key all zeros (callers SHOULD set a random key). */
void pn_config_default(pn_config *cfg);

/* ----------------------------------------------------------------------
 * Statistics: one counter for every way a packet can be dropped.
 * ---------------------------------------------------------------------- */

#define PN_STATS_LIST(X)                                                     \
    X(frames_in) X(frames_out) X(bytes_in) X(bytes_out)                      \
    X(inject_too_big) X(inject_nobufs)                                       \
    X(eth_bad_len) X(eth_not_for_us) X(eth_multicast_drop)                   \
    X(eth_bad_type) X(eth_vlan_drop)                                         \
    X(arp_rx) X(arp_bad) X(arp_not_for_us) X(arp_req_rx) X(arp_reply_rx)     \
    X(arp_req_tx) X(arp_reply_tx) X(arp_unsolicited) X(arp_resolve_fail)     \
    X(neigh_hold_drop) X(neigh_table_full)                                   \
    X(ip4_rx) X(ip4_bad_len) X(ip4_bad_ver) X(ip4_bad_hlen)                  \
    X(ip4_bad_csum) X(ip4_bad_opt) X(ip4_bad_field) X(ip4_bad_src)          \
    X(ip4_not_for_us)                                                        \
    X(ip4_bad_proto) X(ip4_tx) X(ip4_no_route) X(ip4_frag_tx)               \
    X(ip4_df_drop) X(ip4_ttl_zero)                                           \
    X(reass_ok) X(reass_timeout) X(reass_overlap) X(reass_dup)               \
    X(reass_no_slot) X(reass_mem) X(reass_bad) X(reass_too_big)              \
    X(icmp_rx) X(icmp_bad) X(icmp_bad_csum) X(icmp_echo_rx) X(icmp_echo_tx)  \
    X(icmp_unreach_tx) X(icmp_timex_tx) X(icmp_rate_drop)                    \
    X(icmp_err_suppressed) X(icmp_err_rx) X(icmp_ignored)                    \
    X(udp_rx) X(udp_bad_len) X(udp_bad_csum) X(udp_no_port)                  \
    X(udp_rcvbuf_drop) X(udp_tx) X(udp_nobufs)                               \
    X(tcp_rx) X(tcp_bad_len) X(tcp_bad_csum) X(tcp_bad_opt) X(tcp_bad_flags) \
    X(tcp_no_socket) X(tcp_rst_tx) X(tcp_rst_rx) X(tcp_tx) X(tcp_retrans)    \
    X(tcp_fast_retrans) X(tcp_rto) X(tcp_dup_drop) X(tcp_ooo_drop)           \
    X(tcp_ooo_queued) X(tcp_out_of_window) X(tcp_paws_drop)                  \
    X(tcp_challenge_ack) X(tcp_challenge_ack_limited) X(tcp_syn_queue_full)  \
    X(tcp_syncookie_tx) X(tcp_syncookie_ok) X(tcp_syncookie_bad)             \
    X(tcp_backlog_drop) X(tcp_rcvbuf_drop) X(tcp_nobufs) X(tcp_bad_ack)      \
    X(tcp_keepalive_tx) X(tcp_timeout) X(tcp_zero_window_probe)              \
    X(tcp_conn_opened) X(tcp_conn_accepted) X(tcp_conn_closed)               \
    X(tcp_conn_reset)                                                        \
    X(egress_drop_pkts) X(egress_drop_bytes) X(drain_nospc)                  \
    X(hook_drop_pre_routing) X(hook_drop_local_in)                           \
    X(hook_drop_local_out) X(hook_drop_post_routing)                         \
    X(tx_nobufs) X(rx_nobufs) X(buf_double_free)

typedef struct pn_pool_stats {
    uint32_t capacity; /* objects in the pool */
    uint32_t used;     /* in use now */
    uint32_t peak;     /* high-water mark of used */
    uint32_t failed;   /* allocations refused because the pool was empty */
} pn_pool_stats;

/* Pools, indexing pn_stats.pool[]. */
#define PN_POOL_RXBUF 0   /* receive buffer blocks */
#define PN_POOL_TXBUF 1   /* transmit buffer blocks */
#define PN_POOL_UDP 2     /* UDP sockets */
#define PN_POOL_REASS 3   /* reassembly slots */
#define PN_POOL_NEIGH 4   /* neighbour entries */
#define PN_POOL_TCP 5     /* TCP control blocks */
#define PN_POOL_SYN 6     /* half-open (SYN_RECEIVED) entries */
#define PN_POOL_TCPBUF 7  /* TCP data buffer chunks */
#define PN_POOL_COUNT 8

typedef struct pn_stats {
#define PN_STAT_FIELD_(n) uint64_t n;
    PN_STATS_LIST(PN_STAT_FIELD_)
#undef PN_STAT_FIELD_
    pn_pool_stats pool[PN_POOL_COUNT];
    uint64_t reass_bytes;      /* fragment bytes held now */
    uint64_t reass_bytes_peak; /* high-water mark */
    uint64_t egress_pkts;      /* frames waiting in the egress queue now */
    uint64_t egress_bytes;
} pn_stats;

/* Number of uint64_t counters named by PN_STATS_LIST, and the name of the
 * i-th one (NULL past the end). Counter i is ((const uint64_t *)st)[i]. */
size_t pn_stats_count(void);
const char *pn_stats_name(size_t i);
const char *pn_pool_name(int pool);

/* ----------------------------------------------------------------------
 * Instance
 * ---------------------------------------------------------------------- */

typedef struct pn_stack pn_stack;

#define PN_ARENA_ALIGN 16 /* arenas MUST be aligned to this */
#define PN_TIME_NEVER UINT64_MAX

/* Exact number of arena bytes pn_stack_new() needs for *cfg, or 0 if the
 * config is invalid (the same checks as pn_stack_new). */
size_t pn_arena_size(const pn_config *cfg);

/* Create an instance in arena[0..len). The arena MUST stay valid and
 * untouched by the caller until the instance is no longer used; there is
 * no destroy call: drop the arena. *cfg is copied.
 * Errors (in *err, which may be NULL; the return is then NULL):
 *   PN_EINVAL   arena or cfg NULL, or the config is nonsense (see
 *               pn_config fields for ranges);
 *   PN_EALIGN   arena not aligned to PN_ARENA_ALIGN;
 *   PN_ENOMEM   len < pn_arena_size(cfg). */
pn_stack *pn_stack_new(void *arena, size_t len, const pn_config *cfg, int *err);

/* Hand one received frame to the stack. It is processed at once at time
 * `now`; replies are queued for pn_drain_raw(). The stack reads the frame
 * only during the call and keeps no pointer to it: the caller's buffer is
 * free on return, and MUST NOT change during the call (the IN tap may see
 * it where it lies). A frame the stack keeps (a fragment, a packet held
 * for ARP, ...) is copied into a receive buffer; the common TCP segment
 * for us (untagged IPv4 with a 20-byte header, no hooks) is processed
 * where it lies, without one, and the common UDP datagram for a socket
 * with room is judged where it lies and only its payload copied into a
 * receive buffer. Counters and outputs are the same either way. A
 * malformed frame returns 0 and is counted.
 * Errors: PN_EINVAL (s NULL, frame NULL with len > 0, len 0);
 *         PN_EMSGSIZE (len above MTU + link header: counted inject_too_big);
 *         PN_ENOBUFS (no receive buffer for a frame that needs one:
 *         counted inject_nobufs). */
int pn_inject_raw(pn_stack *s, const void *frame, size_t len, uint64_t now);

/* Pop the next outbound frame (FIFO) into buf. Returns its length, or 0
 * when nothing is queued. If cap is smaller than the next frame, returns
 * PN_ENOSPC and keeps the frame (pn_drain_peek tells its size). */
int pn_drain_raw(pn_stack *s, void *buf, size_t cap);

/* Length of the next outbound frame, or 0 if none. */
size_t pn_drain_peek(const pn_stack *s);

/* Zero-copy drain (BearSSL's _buf/_ack pair): look at the next outbound
 * frame where it lies in the stack's buffer, then release it.
 *
 * pn_drain_view sets *frame to the first byte of the next outbound frame
 * (FIFO, the frame pn_drain_raw would pop) and returns its length; 0 with
 * *frame = NULL when nothing is queued. The frame stays queued: it still
 * counts in pn_stats egress_pkts/egress_bytes and against the queue's
 * bounds, and a second pn_drain_view returns the same frame at the same
 * address. The bytes are read-only to the caller and stay valid, and in
 * place, until pn_drain_release() or pn_drain_raw() on the same stack;
 * every other call (inject, poll, socket calls, which only append to the
 * queue) leaves them alone, so a host may keep a frame viewed while its
 * device is busy.
 * A frame stored as a chain of buffers (rare: a header segment put in
 * front for lack of headroom) is first made contiguous in its first
 * buffer, one copy of that frame only.
 * Errors (*frame = NULL, nothing changes): PN_EINVAL (s or frame NULL);
 *   PN_EMSGSIZE when the frame is longer than one buffer (cfg.buf_size:
 *   by default MTU + headers, but at most 16384, so MTUs above about
 *   16 KiB, or a cfg.buf_size set below MTU + link header):
 *   pn_drain_raw drains it (the frame stays queued; nothing counted).
 *
 * pn_drain_release pops the viewed frame: it counts exactly as a frame
 * popped by pn_drain_raw (frames_out, bytes_out, egress figures; the OUT
 * tap saw it once, when it was queued). The pointer from pn_drain_view is
 * then invalid. Returns 0; PN_EINVAL (s NULL); PN_ENOENT when no frame is
 * being viewed (none viewed, or already released, or popped by
 * pn_drain_raw): nothing changes, no frame is dropped unseen. */
int pn_drain_view(pn_stack *s, const uint8_t **frame);
int pn_drain_release(pn_stack *s);

/* Zero-copy inject: write a received frame straight into a stack receive
 * buffer (e.g. read() from a TUN/TAP fd into it), then commit it.
 *
 * pn_inject_buf sets *buf to a receive buffer of the stack and returns its
 * capacity: min(MTU + link header (18 on Ethernet, VLAN tag included),
 * cfg.buf_size), the largest frame it takes. The caller owns its bytes
 * until pn_inject_commit or pn_inject_cancel on the same stack; other
 * calls on the stack leave it alone. The stack holds at most one such
 * buffer: while it is held, pn_inject_buf hands out the same buffer again
 * (the bytes written so far stay). It is one buffer of the receive pool
 * (pn_stats pool[PN_POOL_RXBUF].used counts it) until committed or
 * cancelled; it never leaks and is never lost, but a buffer held and
 * never given back keeps that pool from returning to zero.
 * Errors (*buf = NULL): PN_EINVAL (s or buf NULL); PN_ENOBUFS (receive
 * pool empty: counted inject_nobufs and rx_nobufs, as pn_inject_raw).
 *
 * pn_inject_commit hands the first len bytes of that buffer to the stack
 * as one received frame, processed at once at time `now`: the same as
 * pn_inject_raw(s, buf, len, now) without the copy (same counters, same
 * IN tap, same return). The buffer is the stack's again on return, also
 * on PN_EMSGSIZE; the caller calls pn_inject_buf for the next frame.
 * Errors: PN_EINVAL (s NULL, or len 0: the caller keeps the buffer);
 *   PN_ENOENT (no buffer held: pn_inject_buf first);
 *   PN_EMSGSIZE (len above the capacity pn_inject_buf returned: counted
 *   inject_too_big, the frame dropped). A malformed frame returns 0 and
 *   is counted, as with pn_inject_raw.
 *
 * pn_inject_cancel gives the held buffer back unused (e.g. read() found
 * nothing). Returns 0; PN_EINVAL (s NULL); PN_ENOENT when none is held
 * (harmless). */
int pn_inject_buf(pn_stack *s, uint8_t **buf);
int pn_inject_commit(pn_stack *s, size_t len, uint64_t now);
int pn_inject_cancel(pn_stack *s);

/* Run every timer due at `now`. */
void pn_poll(pn_stack *s, uint64_t now);

/* The earliest time at which pn_poll must be called, or PN_TIME_NEVER.
 * A soft deadline: calling earlier is harmless, later delays timers. */
uint64_t pn_next_deadline(const pn_stack *s);

const pn_stats *pn_stats_get(const pn_stack *s);

/* Add (or replace, when dest/prefix_len match another static route) a
 * static route at run time. Longest prefix wins; on equal prefixes a static
 * route beats the connected route of an interface address. A gateway MUST
 * lie on a connected network (Ethernet); src, when set, MUST be one of our
 * addresses. Errors: PN_EINVAL (s or r NULL, prefix_len > 32, gateway not
 * on link or broadcast/multicast, src not ours); PN_ENOBUFS when the table
 * (PN_MAX_ADDRS + PN_MAX_ROUTES entries) is full. */
int pn_route_add(pn_stack *s, const pn_route *r);
/* Delete a static route (connected routes stay with their address).
 * Errors: PN_EINVAL (s NULL, prefix_len > 32); PN_ENOENT when no such
 * route. */
int pn_route_del(pn_stack *s, pn_ip4 dest, uint8_t prefix_len);

/* ----------------------------------------------------------------------
 * UDP
 * ---------------------------------------------------------------------- */

/* Open a UDP socket. Returns a handle >= 0 (handles are reused after
 * close). Errors: PN_EINVAL (s NULL); PN_EMFILE (cfg.udp_socks open, or
 * closed ones whose datagrams are still queued in the stack). */
int pn_udp_open(pn_stack *s);

/* Bind to a local address (0.0.0.0 = any of ours) and port (0 = choose an
 * ephemeral port in 49152..65535 per RFC 6056 algorithm 3 from the key).
 * A port is shared only by sockets bound to different specific addresses.
 * Errors: PN_EBADF (s NULL or not an open UDP socket); PN_EINVAL (local
 *         NULL, or already bound); PN_EADDRINUSE (port taken, or no free
 *         ephemeral port); PN_EADDRNOTAVAIL (not one of our addresses). */
int pn_udp_bind(pn_stack *s, int sock, const pn_sockaddr *local);

/* Send one datagram of len bytes (0..65507) to *to at time `now`. data is
 * copied; the caller's buffer is free on return. Autobinds an unbound
 * socket (ephemeral port, any address). The route decides the source
 * address unless the socket is bound to one. Above the MTU the datagram
 * is fragmented. To an unresolved neighbour it is held (up to
 * cfg.neigh_hold_pkts) while ARP resolves; a later failure is counted
 * (arp_resolve_fail), not returned. Returns len.
 * Send budget: each transmit buffer the datagram occupies (cfg.buf_size
 * bytes each) is charged to the socket until the stack frees it (drained,
 * or dropped); a datagram is refused when the charge would pass
 * cfg.udp_sndbuf, except that a socket with nothing in flight may always
 * send one.
 * Errors: PN_EBADF; PN_EINVAL (to NULL, port 0, address 0.0.0.0, or data
 *   NULL with len > 0); PN_EMSGSIZE (len > 65507); PN_ENETUNREACH (no
 *   route); PN_EHOSTUNREACH (the destination is one of our own addresses:
 *   there is no loopback); PN_ENOBUFS (send budget full (counted
 *   udp_nobufs), no transmit buffer (tx_nobufs), or the egress queue full
 *   (egress_drop_pkts): try after draining); PN_EADDRINUSE (autobind found
 *   no free port). */
int pn_udp_sendto(pn_stack *s, int sock, const void *data, size_t len,
                  const pn_sockaddr *to, uint64_t now);

/* Receive the next queued datagram into buf (truncated to cap; the rest is
 * discarded, as POSIX recvfrom). *from (may be NULL) gets the sender.
 * Datagrams wait in a queue of at most cfg.udp_rcvbuf payload bytes per
 * socket; beyond it arrivals are dropped (udp_rcvbuf_drop).
 * Returns the bytes copied (0 for an empty datagram).
 * Errors: PN_EBADF; PN_EINVAL (buf NULL with cap > 0); PN_EAGAIN (queue
 * empty). */
int pn_udp_recvfrom(pn_stack *s, int sock, void *buf, size_t cap, pn_sockaddr *from);

/* Close the socket and free its queued datagrams. Datagrams it sent that
 * still wait in the stack are sent as usual; the handle is reusable once
 * they are gone. Errors: PN_EBADF. */
int pn_udp_close(pn_stack *s, int sock);

/* ----------------------------------------------------------------------
 * TCP
 * ---------------------------------------------------------------------- */

/* Handles of TCP sockets and UDP sockets are separate number spaces. */

#define PN_TCP_CLOSED 0
#define PN_TCP_LISTEN 1
#define PN_TCP_SYN_SENT 2
#define PN_TCP_SYN_RECEIVED 3
#define PN_TCP_ESTABLISHED 4
#define PN_TCP_FIN_WAIT_1 5
#define PN_TCP_FIN_WAIT_2 6
#define PN_TCP_CLOSE_WAIT 7
#define PN_TCP_CLOSING 8
#define PN_TCP_LAST_ACK 9
#define PN_TCP_TIME_WAIT 10

/* Options for pn_tcp_setopt / pn_tcp_getopt (int values). */
#define PN_TCP_NODELAY 1      /* 1: Nagle off */
#define PN_TCP_KEEPALIVE 2    /* 1: keepalive on */
#define PN_TCP_KEEPIDLE 3     /* seconds */
#define PN_TCP_KEEPINTVL 4    /* seconds */
#define PN_TCP_KEEPCNT 5
#define PN_TCP_SNDBUF 6       /* bytes, any time (queued data is kept) */
#define PN_TCP_RCVBUF 7       /* bytes, before connect/listen (sets the window scale) */
#define PN_TCP_MAXSEG 8       /* MSS clamp: offered in the SYN and used to send */
#define PN_TCP_LINGER0 9      /* 1: pn_tcp_close aborts with RST */
#define PN_TCP_TIMESTAMPS 10  /* 0/1 */
#define PN_TCP_SACK 11        /* 0/1 */
#define PN_TCP_WSCALE 12      /* 0/1 */
#define PN_TCP_CC 13          /* PN_CC_* */
#define PN_TCP_REUSEADDR 14   /* 0/1 */
#define PN_TCP_SYNCNT 15      /* SYN retries (default tcp.syn_retries) */
#define PN_TCP_TOS 16
#define PN_TCP_TTL 17
#define PN_TCP_QUICKACK 18    /* 1: no delayed ACKs on this socket */

typedef struct pn_sock_status {
    int state;            /* PN_TCP_* (UDP: PN_TCP_CLOSED) */
    uint32_t readable;    /* bytes (UDP: bytes of the next datagram) ready to read */
    uint32_t unsent;      /* bytes queued but never sent */
    uint32_t unacked;     /* bytes sent, not yet acknowledged */
    uint32_t writable;    /* bytes pn_tcp_send would accept now */
    uint8_t eof;          /* peer's FIN consumed up to here: read returns 0 */
    uint8_t connected;    /* handshake completed */
    int pending_error;    /* sticky PN_E* error, 0 if none */
    uint32_t accept_queue; /* established connections waiting in accept */
} pn_sock_status_t;

/*
 * TCP sockets (RFC 9293). All calls are non-blocking: when nothing can be
 * done now they return PN_EAGAIN (or PN_EINPROGRESS for connect) and the
 * caller waits for pn_poll/pn_inject_raw and asks again (pn_sock_status
 * tells readiness in one call). Segments a call produces are queued for
 * pn_drain_raw before it returns.
 *
 * Handles: small non-negative ints (index of the control block), valid
 * from pn_tcp_open/pn_tcp_accept until pn_tcp_close/pn_tcp_abort. After
 * close the stack finishes the connection by itself (FIN_WAIT_*,
 * LAST_ACK, TIME_WAIT) and frees it; the number may then be reused.
 * Every call on a handle that is not an open TCP socket returns PN_EBADF.
 *
 * `now`: the caller's clock in microseconds (see CONVENTIONS); calls that
 * take it first advance the stack's clock, then act, so timers armed by
 * the call (retransmission, delayed ACK, keepalive) count from it.
 *
 * Errors of a connection (PN_ECONNREFUSED, PN_ECONNRESET, PN_ETIMEDOUT,
 * PN_EHOSTUNREACH; a connection that gives up after an ICMP error or a
 * failed ARP resolution reports that instead of PN_ETIMEDOUT) are sticky: send/recv return them (recv first returns data already
 * received in order, unless a reset discarded it), pn_sock_status reports
 * them, until pn_tcp_close.
 *
 * Memory: buffers come from a chunk pool shared by all sockets
 * (pn_tcp_config.buf_budget, PN_POOL_TCPBUF); a socket takes chunks only
 * while it holds data. The per-socket limits are its send and receive
 * buffer sizes (PN_TCP_SNDBUF / PN_TCP_RCVBUF); the advertised window is
 * the free receive space.
 */

/* Allocate a socket in CLOSED. Errors: PN_EINVAL (s NULL or no TCP in
 * this config), PN_EMFILE (no free control block: pool PN_POOL_TCP). */
int pn_tcp_open(pn_stack *s);

/* Bind to local->addr (0.0.0.0 = any of ours) and local->port (0 = an
 * ephemeral port chosen per RFC 6056 3.3.3 from the key). *local is read
 * only. Errors: PN_EBADF; PN_EINVAL (local NULL, already bound, not
 * CLOSED); PN_EADDRNOTAVAIL (addr not ours); PN_EADDRINUSE (another
 * socket holds the port, unless both set PN_TCP_REUSEADDR and it is not
 * a listener; or no ephemeral port is free). */
int pn_tcp_bind(pn_stack *s, int sock, const pn_sockaddr *local);

/* Listen on a bound socket. backlog (clamped to 1..65535) bounds both the
 * connections waiting in pn_tcp_accept and the half-open entries this
 * listener holds in the SYN pool (PN_POOL_SYN); beyond that SYNs are
 * answered with SYN cookies (RFC 4987) unless tcp.no_syncookies. Calling
 * it again on a listener only changes the backlog. Errors: PN_EBADF;
 * PN_EINVAL (not bound, not CLOSED, or a pending error); PN_EADDRINUSE
 * (another listener on the same address and port). */
int pn_tcp_listen(pn_stack *s, int sock, int backlog);

/* Take the oldest established connection of a listener. Returns its new
 * handle (owned by the caller) and fills *peer (may be NULL). Errors:
 * PN_EBADF; PN_EINVAL (not listening); PN_EAGAIN (none waiting). */
int pn_tcp_accept(pn_stack *s, int sock, pn_sockaddr *peer);

/* Start an active open to *to (read only): chooses the source address by
 * route (unless bound) and an ephemeral port (unless bound), sends the
 * SYN at `now`, and returns PN_EINPROGRESS; the connection completes
 * later (pn_tcp_state == PN_TCP_ESTABLISHED, or pn_sock_status.connected)
 * or fails with a sticky PN_ECONNREFUSED (RST), PN_EHOSTUNREACH (ARP
 * for the next hop gave up: cfg.arp_retries requests unanswered) or
 * PN_ETIMEDOUT (SYN retries exhausted, PN_TCP_SYNCNT). Errors: PN_EBADF; PN_EINVAL (to NULL,
 * port 0, address 0, broadcast or multicast; a listener; a pending error);
 * PN_EALREADY (a connect is in progress); PN_EISCONN (connected before);
 * PN_ENETUNREACH (no route); PN_EADDRINUSE (the 4-tuple is taken, or no
 * ephemeral port). */
int pn_tcp_connect(pn_stack *s, int sock, const pn_sockaddr *to, uint64_t now);

/* Queue up to len bytes of data (copied; the caller's buffer is free on
 * return) and send what the windows, Nagle (unless PN_TCP_NODELAY) and
 * congestion control allow at `now`. Data may be queued before the
 * handshake completes. Returns the bytes taken (>= 1, possibly < len), or
 * 0 for len 0. Errors: PN_EBADF; PN_EINVAL (data NULL with len > 0); the
 * sticky connection error; PN_EPIPE (after pn_tcp_shutdown); PN_ENOTCONN
 * (not connected or connecting); PN_EAGAIN (send buffer full);
 * PN_ENOBUFS (the shared chunk pool is empty). */
int pn_tcp_send(pn_stack *s, int sock, const void *data, size_t len, uint64_t now);

/* Copy up to cap bytes of in-order received data into buf. Returns the
 * bytes copied, or 0 at end of stream (the peer's FIN consumed, or cap 0).
 * Reading may send a window update at `now`. Errors: PN_EBADF; PN_EINVAL
 * (buf NULL with cap > 0); PN_ENOTCONN (listener, or never connected);
 * the sticky connection error once no data is left; PN_EAGAIN (nothing
 * yet). */
int pn_tcp_recv(pn_stack *s, int sock, void *buf, size_t cap, uint64_t now);

/* Close the write side: a FIN follows the queued data (ESTABLISHED ->
 * FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK). Reading goes on. Idempotent.
 * Errors: PN_EBADF; PN_ENOTCONN (CLOSED or LISTEN). */
int pn_tcp_shutdown(pn_stack *s, int sock, uint64_t now);

/* Release the handle. A connected socket is shut down and finished by the
 * stack (orphan: FIN_WAIT_2 ends after tcp.fin_wait2_us, TIME_WAIT after
 * 2*MSL; data arriving for it is answered with RST). It aborts instead
 * (pn_tcp_abort) when PN_TCP_LINGER0 is set, when unread data would be
 * lost (RFC 2525 2.17), and for listeners (their pending connections are
 * reset) and connections not yet established. Errors: PN_EBADF. */
int pn_tcp_close(pn_stack *s, int sock, uint64_t now);

/* Release the handle and drop the connection at once, sending RST if it
 * is synchronized (RFC 9293 3.10.5). Errors: PN_EBADF. */
int pn_tcp_abort(pn_stack *s, int sock, uint64_t now);

/* PN_TCP_* state of the socket. Errors: PN_EBADF. */
int pn_tcp_state(const pn_stack *s, int sock);

/* Set an option (int value). Errors: PN_EBADF; PN_ENOPROTOOPT (unknown
 * opt); PN_EINVAL (value out of range: KEEPIDLE/KEEPINTVL 1..65535 s,
 * KEEPCNT 1..255, SNDBUF/RCVBUF 536..16 MiB, MAXSEG 64..65535, CC a
 * PN_CC_*, SYNCNT 1..127, TOS/TTL 0..255); PN_EISCONN (RCVBUF, TIMESTAMPS,
 * SACK and WSCALE only before connect/listen: they shape the SYN);
 * PN_EOPNOTSUPP (SACK with a non-zero value in a build with
 * PN_CONFIG_NO_SACK, CC = PN_CC_CUBIC in a build with PN_CONFIG_NO_CUBIC:
 * the feature is compiled out). The TIMESTAMPS/SACK/WSCALE switches cannot
 * turn on what pn_tcp_config forbids stack-wide. Accepted connections
 * inherit a listener's options. */
int pn_tcp_setopt(pn_stack *s, int sock, int opt, int value);

/* Read an option into *value. TIMESTAMPS/SACK/WSCALE report what was
 * negotiated once connected, what will be offered before; MAXSEG the
 * segment size in use once connecting. Errors: PN_EBADF; PN_EINVAL
 * (value NULL); PN_ENOPROTOOPT. */
int pn_tcp_getopt(const pn_stack *s, int sock, int opt, int *value);

/* Local and remote address of the socket (either pointer may be NULL).
 * Errors: PN_EBADF. */
int pn_tcp_sockname(const pn_stack *s, int sock, pn_sockaddr *local, pn_sockaddr *peer);

/* Readiness of a TCP socket in one call (*st written whole). Errors:
 * PN_EBADF; PN_EINVAL (st NULL). */
int pn_sock_status(const pn_stack *s, int sock, pn_sock_status_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PURENET_H */
