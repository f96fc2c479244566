/*
 * pn_internal.h -- private declarations shared by the files of lib/.
 *
 * IMPLEMENTATION NOTES
 * - Everything lives in the caller's arena. pn_stack_new() puts struct
 *   pn_stack at the aligned start and bump-carves every pool once
 *   (pni_carve, aligned to PNI_ALIGN). Afterwards only fixed-size free-list
 *   pools are used; nothing is carved again, the arena never moves.
 * - Every pool keeps one in-use byte per object, so a double free is caught
 *   (counted in stats.buf_double_free and refused; an assert in debug
 *   builds) instead of corrupting the free list.
 * - Ownership: a function that takes a pni_buf * "consumes" it unless its
 *   comment says otherwise: it frees it or passes it on, on every path,
 *   including errors.
 * - Naming: cross-file internals are pni_<module>_<verb>; file-local helpers
 *   are static and unprefixed.
 */
#ifndef PN_INTERNAL_H
#define PN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "purenet.h"
#include "wire.h"
#include "pn_features.h"

#ifdef PN_DEBUG
/* Debug builds trap at once on an internal invariant violation. */
#define PNI_ASSERT(x) ((x) ? (void)0 : __builtin_trap())
#else
#define PNI_ASSERT(x) ((void)0)
#endif

/* Keep a rarely taken path out of its caller, so that the common path of
 * a small function needs no stack frame (a hint; no effect elsewhere). */
#if defined(__GNUC__) || defined(__clang__)
#define PNI_NOINLINE __attribute__((noinline))
#else
#define PNI_NOINLINE
#endif

/* Inline a small static helper shared by two public calls, whose
 * out-of-line call would cost each per-packet call a frame. */
#if defined(__GNUC__) || defined(__clang__)
#define PNI_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PNI_ALWAYS_INLINE inline
#endif

#define PNI_ALIGN 16
#define PNI_STAT(s, name) ((s)->stats.name++)

/* ---------------------------------------------------------------------
 * Arena carving and fixed-size pools (lib/arena.c)
 * --------------------------------------------------------------------- */

typedef struct pni_carver {
    uint8_t *base; /* NULL while only measuring */
    size_t off;
} pni_carver;

/* Reserve size bytes aligned to PNI_ALIGN; returns NULL while measuring. */
void *pni_carve(pni_carver *c, size_t size);

typedef struct pni_pool {
    uint8_t *base;       /* count objects of obj_size bytes */
    uint8_t *inuse;      /* count bytes: 1 when allocated */
    void *free_head;     /* free objects linked through their first word */
    uint32_t obj_size;   /* rounded up to PNI_ALIGN */
    uint32_t count;
    pn_pool_stats *st;   /* points into the stack's stats */
    uint32_t div_inv;    /* obj_size = odd << div_tz; odd^-1 mod 2^32 */
    uint32_t div_tz;     /* (exact division without a divide: lib/check.c) */
} pni_pool;

/* Carve a pool of count objects of size bytes (measuring when c->base is
 * NULL). st receives capacity; used/peak/failed start at 0. */
void pni_pool_carve(pni_pool *p, pni_carver *c, uint32_t size, uint32_t count, pn_pool_stats *st);
/* Index of obj, which must be an object of p (in use or free). Inline:
 * it runs for every allocation and every handle-to-object step. The
 * division is exact, so it is a shift and a multiply by the inverse of
 * obj_size's odd part (lib/check.c's divx_index), not a divide: with
 * rel = i * obj_size, (rel >> div_tz) = i * odd, and times odd^-1 modulo
 * 2^32 that is i, which is below 2^32 (so the truncation of the shifted
 * offset to 32 bits loses nothing modulo 2^32, whatever the pool's size). */
static inline uint32_t
pni_pool_index(const pni_pool *p, const void *obj)
{
    size_t rel = (size_t)((const uint8_t *)obj - p->base);
    return (uint32_t)(rel >> p->div_tz) * p->div_inv;
}

/* NULL when empty (counted failed). Inline: one per packet buffer. */
static inline void *
pni_pool_alloc(pni_pool *p)
{
    void *obj = p->free_head;
    if (obj == NULL) {
        if (p->st != NULL)
            p->st->failed++;
        return NULL;
    }
    memcpy(&p->free_head, obj, sizeof(void *));
    p->inuse[pni_pool_index(p, obj)] = 1;
    p->st->used++;
    if (p->st->used > p->st->peak)
        p->st->peak = p->st->used;
    return obj;
}
/* Returns 0, or -1 for a pointer not from this pool or already free. */
int pni_pool_free(pni_pool *p, void *obj);

/* The object at idx, or NULL if idx is out of range or the object free. */
static inline void *
pni_pool_at(const pni_pool *p, uint32_t idx)
{
    if (idx >= p->count || p->inuse[idx] == 0)
        return NULL;
    return p->base + (size_t)idx * p->obj_size;
}

/* ---------------------------------------------------------------------
 * Packet buffers (lib/buf.c), after lwIP's pbuf
 * --------------------------------------------------------------------- */

/* Layers: the headroom reserved in front of the data is the sum of the
 * headers of the layers below the one named. */
#define PNI_HR_LINK 14
#define PNI_HR_IP 20
#define PNI_HR_TRANSPORT 60
#define PNI_LAYER_TRANSPORT 0 /* headroom: link + IP + transport */
#define PNI_LAYER_IP 1        /* headroom: link + IP */
#define PNI_LAYER_LINK 2      /* headroom: link */
#define PNI_LAYER_RAW 3       /* no headroom */

#define PNI_BUF_F_CSUM_OK 0x01 /* payload checksum already verified */
#define PNI_BUF_F_L2_BCAST 0x02 /* received as a link-layer broadcast or
                                   multicast (RFC 1122 3.2.2: no ICMP error) */

typedef struct pni_buf {
    struct pni_buf *next;  /* next segment of the same packet */
    struct pni_buf *qnext; /* next packet in a queue (first segment only) */
    uint32_t tot_len;      /* len + next->tot_len (invariant) */
    uint16_t off;          /* start of data in blk[] */
    uint16_t len;          /* bytes of data in this segment */
    uint16_t cap;          /* size of blk[] */
    uint8_t ref;           /* references to this segment */
    uint8_t flags;
    uint8_t pool;          /* PN_POOL_RXBUF or PN_POOL_TXBUF */
    uint8_t owner_kind;    /* 0 none, 1 UDP socket charged for it */
    uint16_t owner;        /* socket index charged (send-buffer accounting) */
    uint32_t meta;         /* free for the current holder */
    uint16_t meta16;       /* free for the current holder */
    uint16_t meta16b;      /* free for the current holder */
    uint64_t time;         /* free for the current holder */
    uint8_t blk[];         /* cap bytes */
} pni_buf;

/* Append packet p (its first segment) at the tail of the queue *head ..
 * *tail linked by qnext: the egress queue, a neighbour's hold queue, a
 * UDP receive queue. */
static inline void
pni_pktq_push(pni_buf **head, pni_buf **tail, pni_buf *p)
{
    p->qnext = NULL;
    if (*tail != NULL)
        (*tail)->qnext = p;
    else
        *head = p;
    *tail = p;
}

struct pn_stack;

/* Allocate a packet whose data part is len bytes, with the headroom of
 * layer in the first segment; chained when len does not fit one block.
 * pool is PN_POOL_RXBUF or PN_POOL_TXBUF. NULL when the pool is empty
 * (nothing leaks: a partial chain is freed). */
pni_buf *pni_buf_alloc(struct pn_stack *s, int pool, int layer, size_t len);
/* Data pointer of a segment. */
static inline uint8_t *
pni_buf_data(pni_buf *b)
{
    return b->blk + b->off;
}
/* Prepend n bytes of header to the first segment (off -= n). Returns 0, or
 * -1 if the headroom is short (nothing changes). */
static inline int
pni_buf_push(pni_buf *b, size_t n)
{
    if (n > b->off)
        return -1;
    b->off = (uint16_t)(b->off - n);
    b->len = (uint16_t)(b->len + n);
    b->tot_len += (uint32_t)n;
    return 0;
}
/* Remove n bytes from the front of the first segment. Returns 0, or -1 if
 * the first segment holds fewer than n bytes (nothing changes). */
static inline int
pni_buf_pull(pni_buf *b, size_t n)
{
    if (n > b->len)
        return -1;
    b->off = (uint16_t)(b->off + n);
    b->len = (uint16_t)(b->len - n);
    b->tot_len -= (uint32_t)n;
    return 0;
}
/* Drop bytes at the end so tot_len becomes new_len (<= tot_len); frees
 * segments that become empty. Returns 0 or -1. */
int pni_buf_trim(struct pn_stack *s, pni_buf *b, size_t new_len);
/* Take one more reference to the first segment. 0, or -1 when the count
 * would overflow (refused; a trap in debug builds). */
int pni_buf_ref(pni_buf *b);
/* Drop one reference of each segment of the chain, returning a segment to
 * its pool when its count reaches 0 (lwIP pbuf_free semantics: stops at the
 * first segment still referenced). NULL is allowed. */
void pni_buf_free(struct pn_stack *s, pni_buf *b);
/* Free a whole queue of packets linked through qnext. */
void pni_buf_free_queue(struct pn_stack *s, pni_buf *head);
/* Append tail to the chain head (head's tot_len grows); takes tail's ref. */
void pni_buf_cat(pni_buf *head, pni_buf *tail);
/* Copy up to len bytes from offset off of the packet. Returns bytes copied. */
size_t pni_buf_copyout(const pni_buf *b, size_t off, void *dst, size_t len);
/* Write len bytes at offset off (must be within tot_len). 0 or -1. */
int pni_buf_copyin(pni_buf *b, size_t off, const void *src, size_t len);
/* Partial Internet checksum of bytes [off, off+len) of the chain, handling
 * odd-length segments (see pni_csum_partial). */
uint64_t pni_buf_csum(const pni_buf *b, size_t off, size_t len);
/* Make the first n bytes contiguous in the first segment (they must fit in
 * its block). Returns a pointer to them or NULL. */
uint8_t *pni_buf_linearize_slow(struct pn_stack *s, pni_buf *b, size_t n);
static inline uint8_t *
pni_buf_linearize(struct pn_stack *s, pni_buf *b, size_t n)
{
    if (b->len >= n)
        return b->blk + b->off; /* already contiguous: the usual case */
    return pni_buf_linearize_slow(s, b, n);
}
/* Fill a pn_pktview for callbacks. */
void pni_buf_view(const pni_buf *b, pn_pktview *v);
/* Debug-only chain invariant check (tot_len sums, refs > 0). 1 if OK. */
int pni_buf_check(const pni_buf *b);

/* ---------------------------------------------------------------------
 * SipHash-2-4 (lib/siphash.c)
 * --------------------------------------------------------------------- */

uint64_t pni_siphash(const uint8_t key[16], const void *data, size_t len);

/* ---------------------------------------------------------------------
 * Stack-level structures
 * --------------------------------------------------------------------- */

typedef struct pni_route_ent {
    uint8_t dest[4];
    uint8_t gw[4];
    uint8_t src[4];
    uint8_t prefix_len;
    uint8_t in_use;
    uint8_t connected; /* implied by an interface address */
} pni_route_ent;

#define PNI_NEIGH_FREE 0
#define PNI_NEIGH_INCOMPLETE 1 /* ARP request sent, waiting */
#define PNI_NEIGH_REACHABLE 2

typedef struct pni_neigh {
    uint8_t ip[4];
    uint8_t mac[6];
    uint8_t state;
    uint8_t tries;        /* ARP requests sent */
    uint16_t hold_n;
    uint64_t deadline;    /* INCOMPLETE: next retry; REACHABLE: expiry */
    uint64_t used;        /* last use, for replacement */
    pni_buf *hold_head;   /* IP packets waiting, linked by qnext */
    pni_buf *hold_tail;
} pni_neigh;

typedef struct pni_reass {
    uint8_t in_use;
    uint8_t proto;
    uint8_t src[4];
    uint8_t dst[4];
    uint16_t id;
    uint8_t have_last;    /* MF=0 fragment seen */
    uint8_t have_first;   /* offset-0 fragment held (its header is kept) */
    uint32_t total;       /* payload length, known once have_last */
    uint32_t bytes;       /* buffer bytes held (counted against the budget) */
    uint32_t got;         /* payload bytes held (fragments never overlap) */
    uint64_t deadline;
    pni_buf *frags;       /* sorted by offset, linked by qnext; meta = offset,
                             meta16 = payload length; non-first fragments
                             hold payload only (header pulled) */
    struct pni_reass *older; /* age list (lib/reass.c): oldest first, which */
    struct pni_reass *newer; /* is also deadline order */
} pni_reass;

#define PNI_UDP_FREE 0
#define PNI_UDP_OPEN 1
#define PNI_UDP_CLOSING 2 /* closed by the caller, datagrams still in flight
                             (wmem > 0): the slot is freed at wmem == 0 */

typedef struct pni_udp_sock {
    uint8_t in_use;       /* PNI_UDP_* */
    uint8_t bound;
    uint8_t laddr[4];     /* 0.0.0.0 = any */
    uint16_t lport;
    uint32_t rq_bytes;    /* receive queue bytes (payload) */
    uint32_t wmem;        /* bytes of our datagrams still in the stack */
    pni_buf *rq_head;     /* datagrams: data = payload; meta = src addr
                             (big-endian u32), meta16 = src port */
    pni_buf *rq_tail;
    /* Send fast path (lib/udp.c): route, next hop, neighbour entry and
       header sums of the last destination; valid while fc_gen equals the
       stack's route_gen (0 = empty) and the neighbour entry checks out. */
    uint32_t fc_gen;
    struct pni_neigh *fc_n; /* the next hop's neighbour entry */
    uint32_t fc_ipsum;    /* IP header words that never change, folded,
                             as the host loads them (udp.c's net16) */
    uint32_t fc_psum;     /* pseudo-header src + dst + proto + lport, the
                             same way */
    uint16_t fc_idh;      /* keyed IP ID hash of (src, dst, UDP) */
    uint16_t fc_maxlen;   /* longest payload that fits one buffer and the MTU */
    uint8_t fc_nh[4];
    uint8_t fc_hdr[PNI_ETH_HLEN + PNI_IP4_HLEN + PNI_UDP_HLEN]; /* header
                             template: destination at IP offset 16; MAC,
                             lengths, ID, ports' dport and sums filled per
                             datagram */
    uint8_t fc_bhdr[offsetof(pni_buf, blk)]; /* TX buffer header template:
                             pni_buf_alloc1's fields for the fast path's
                             frame, charged to this socket, lengths 0 */
} pni_udp_sock;

struct pni_tcp; /* lib/tcp.h */

/* Route cache (lib/route.c): the result of a lookup for dst, valid while
 * gen equals the stack's route_gen (0 = empty). */
#define PNI_RCACHE_N 8
typedef struct pni_rcache {
    uint8_t dst[4];
    uint8_t src[4];
    uint8_t nh[4];
    uint32_t gen;
} pni_rcache;

/* IP ID cache (lib/ip4.c): the keyed hash of (src, dst, proto), low 16
 * bits, so that a datagram to a known destination costs no SipHash. */
#define PNI_IDCACHE_N 8
typedef struct pni_idcache {
    uint8_t src[4];
    uint8_t dst[4];
    uint8_t proto;
    uint8_t valid;
    uint16_t h;
} pni_idcache;

/* What a transport asks pni_ip4_output for (only bytes: no padding, so
 * it compares as a whole). */
typedef struct pni_ip4_tx {
    uint8_t src[4];
    uint8_t dst[4];
    uint8_t proto;
    uint8_t tos;
    uint8_t ttl;  /* 0 = config default */
    uint8_t df;
} pni_ip4_tx;
_Static_assert(sizeof(pni_ip4_tx) == 12, "pni_ip4_tx compares as bytes: no padding");

/* IPv4 output cache (lib/ip4.c, IMPLEMENTATION NOTES "Output cache"):
 * what pni_ip4_output's general path worked out for the last datagram it
 * sent, and a header template. Valid while gen equals the stack's
 * route_gen (0 = empty) and the neighbour entry checks out. */
typedef struct pni_ip4_fc {
    uint32_t gen;
    uint32_t neigh;    /* index of the next hop's neighbour entry */
    uint32_t ipsum;    /* sum of the IP header words that never change */
    pni_ip4_tx tx;     /* the request it was filled for, as given */
    uint8_t nh[4];
    uint16_t idh;      /* keyed IP ID hash of (src, dst, proto) */
    uint8_t hdr[PNI_ETH_HLEN + PNI_IP4_HLEN]; /* Ethernet dst left 0;
                                                 IP tot_len, id, csum 0 */
} pni_ip4_fc;

struct pn_stack {
    pn_config cfg;
    uint64_t now;          /* never goes backwards */
    pn_stats stats;

    uint32_t buf_size;     /* effective data bytes per block */
    uint32_t max_frame;    /* mtu + link header */
    uint8_t vec;           /* checksums may use vector code (pni_cpu_vec(),
                              unless cfg.no_vector) */
    pni_pool pool[PN_POOL_COUNT];

    /* egress queue, drop-tail */
    pni_buf *eg_head;
    pni_buf *eg_tail;
    uint8_t drain_viewed;  /* pn_drain_view showed eg_head to the caller;
                              pn_drain_release (or pn_drain_raw) pops it */
    /* zero-copy inject: the RX buffer handed out by pn_inject_buf, held
       (len 0, counted in the RX pool) until pn_inject_commit/_cancel */
    pni_buf *inj_buf;

    /* routing */
    pni_route_ent routes[PN_MAX_ADDRS + PN_MAX_ROUTES];
    uint32_t route_gen;    /* bumped on every table change (never 0) */
    uint32_t dbcast[PN_MAX_ADDRS]; /* directed broadcast per address, or
                                      0 for none (prefix > 30) */
    pni_rcache rcache[PNI_RCACHE_N];

    /* ARP cache: neigh_entries entries, in pool[PN_POOL_NEIGH]
       (walked by index; in-use byte tells live ones) */
    uint64_t neigh_next;   /* earliest deadline of a live entry (exact) */
    uint8_t neigh_dirty;   /* neigh_next to rescan before returning */
    uint32_t neigh_hint;   /* index of the entry find() returned last */

    /* reassembly: pool[PN_POOL_REASS], live slots on an age list */
    uint32_t reass_bytes;
    pni_reass *reass_oldest;
    pni_reass *reass_newest;

    /* UDP sockets: pool[PN_POOL_UDP] */
    uint16_t udp_next_eph;
    /* Receive demux cache (lib/udp.c): the socket found for (dst, port),
       valid while udp_dm_gen equals udp_gen, which every bind, autobind
       and close bumps (never 0). */
    uint32_t udp_gen;
    uint32_t udp_dm_gen;
    uint8_t udp_dm_dst[4];
    uint16_t udp_dm_port;
    struct pni_udp_sock *udp_dm_u; /* (a bump of udp_gen precedes any
                                      change to the slot) */
    /* The source and destination (as loaded, host order) of the last
       datagram pni_ip4_pair_ok passed; rx_ok_dst 0 (never one of our
       addresses) = none yet */
    uint32_t rx_ok_src;
    uint32_t rx_ok_dst;

    /* ICMP token bucket (RFC 1812 4.3.2.8 style rate limit) */
    uint64_t icmp_tokens_us; /* tokens scaled by 1e6 */
    uint64_t icmp_last;

    uint32_t ip_id_next;
    pni_idcache idcache[PNI_IDCACHE_N];
    pni_ip4_fc ip4fc;

    struct pni_tcp *tcp;   /* NULL when tcp.max_socks == 0 */
};

/* One segment with hr bytes of headroom and len bytes of data, for a
 * caller that knows hr + len <= s->buf_size: pni_buf_alloc's common case,
 * inline for the per-packet paths. NULL when the pool is empty (counted
 * as pni_buf_alloc counts it). */
/* The header of a fresh one-segment buffer of a pool of cap-byte blocks:
 * every field zero (next, qnext, flags, owner, meta, time) in a few wide
 * stores, then the ones that are not (pni_buf_alloc1's, and the UDP send
 * fast path's template of it). */
static inline void
pni_buf_hdr_init(pni_buf *b, uint32_t cap, int pool, uint32_t hr, size_t len)
{
    memset(b, 0, offsetof(pni_buf, blk));
    b->cap = (uint16_t)cap;
    b->ref = 1;
    b->pool = (uint8_t)pool;
    b->off = (uint16_t)hr;
    b->len = (uint16_t)len;
    b->tot_len = (uint32_t)len;
}

static inline pni_buf *
pni_buf_alloc1(struct pn_stack *s, int pool, uint32_t hr, size_t len)
{
    pni_buf *b = (pni_buf *)pni_pool_alloc(&s->pool[pool]);
    if (b == NULL) {
        if (pool == PN_POOL_TXBUF)
            PNI_STAT(s, tx_nobufs);
        else
            PNI_STAT(s, rx_nobufs);
        return NULL;
    }
    pni_buf_hdr_init(b, s->buf_size, pool, hr, len);
    return b;
}

/* The last step of freeing b, object i of its pool p, in use and with
 * nothing left to release: back on the free list. */
static inline void
pni_buf_to_pool(pni_pool *p, pni_buf *b, uint32_t i)
{
    b->ref = 0;
    p->inuse[i] = 0;
    memcpy(b, &p->free_head, sizeof(void *));
    p->free_head = b;
    p->st->used--;
}

/* pni_buf_free's usual case, inline where a packet dies once per packet
 * (a drained frame, a received datagram): b (not NULL) is one segment
 * losing its last reference and goes back to its pool, its send budget
 * given back to the UDP socket charged for it (pni_udp_wmem_release, but
 * for a closing socket's last buffer: the walk finishes the close).
 * Returns 0, having changed nothing, for any other b: pni_buf_free's walk
 * then judges it, counting and refusing what must be. */
static inline int
pni_buf_free_fast(struct pn_stack *s, pni_buf *b)
{
    if (b->next != NULL || b->ref != 1 || b->pool >= PN_POOL_COUNT)
        return 0;
    pni_pool *p = &s->pool[b->pool];
    uint32_t i = pni_pool_index(p, b);
    if (p->inuse[i] == 0)
        return 0;
    if (b->owner_kind == 1) {
        pni_udp_sock *u = (pni_udp_sock *)pni_pool_at(&s->pool[PN_POOL_UDP], b->owner);
        if (u == NULL || (u->in_use == PNI_UDP_CLOSING && u->wmem <= s->buf_size))
            return 0;
        u->wmem = u->wmem > s->buf_size ? u->wmem - s->buf_size : 0;
    }
    pni_buf_to_pool(p, b, i);
    return 1;
}

/* Clamp time: returns the stack's now after max(now, s->now). */
static inline uint64_t
pni_time(pn_stack *s, uint64_t now)
{
    if (now > s->now)
        s->now = now;
    return s->now;
}

static inline int
pni_ip_eq(const uint8_t a[4], const uint8_t b[4])
{
    return memcmp(a, b, 4) == 0;
}

static inline int
pni_ip_is_zero(const uint8_t a[4])
{
    return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* ---- iface (lib/iface.c): medium, inject/drain, egress queue, taps ---- */

/* A received frame in an RX buffer (data = whole frame). Consumes it. */
void pni_iface_input(pn_stack *s, pni_buf *frame);
/* The link layer's fast test: the offset of the IPv4 header in the frame
 * f[0..len) when it is untagged IPv4 unicast to our MAC (PNI_ETH_HLEN; on
 * PN_MEDIUM_IP every frame, 0), else -1: the frame pni_iface_input judges
 * in full. Reads only, counts nothing (pn_inject_raw asks it before it
 * decides whether the frame needs a buffer). */
static inline int
pni_iface_l3(const pn_stack *s, const uint8_t *f, size_t len)
{
    if (s->cfg.medium != PN_MEDIUM_ETHERNET)
        return 0;
    return len >= PNI_ETH_VLAN_HLEN && f[12] == 0x08 && f[13] == 0x00 && (f[0] & 1) == 0 &&
                   memcmp(f, s->cfg.mac.b, 6) == 0
               ? PNI_ETH_HLEN
               : -1;
}
/* Count a received frame of len bytes and show it to the IN tap: in
 * buffer b, or (b NULL) where it lies at f. So a frame counts and taps
 * the same whichever call brought it in and whether it was copied. */
static PNI_ALWAYS_INLINE void
pni_count_frame(pn_stack *s, const pni_buf *b, const uint8_t *f, size_t len)
{
    PNI_STAT(s, frames_in);
    s->stats.bytes_in += len;
    if (s->cfg.tap != NULL) {
        pn_pktview v;
        if (b != NULL) {
            pni_buf_view(b, &v);
        } else {
            v.head = f;
            v.head_len = len;
            v.tot_len = len;
            v.opaque_ = NULL; /* pn_pktview_copy reads head */
        }
        s->cfg.tap(s->cfg.tap_user, PN_TAP_IN, s->now, &v);
    }
}
/* Send an IPv4 packet (data starts at the IP header) to next hop nh:
 * runs the POST_ROUTING hook, adds the link header (resolving nh through
 * ARP on Ethernet, which may hold the packet), enqueues. Consumes pkt.
 * Returns 0 (sent, held or dropped-and-counted), or PN_ENOBUFS when the
 * egress queue was full (also counted; callers may retry later). */
int pni_iface_output_ip(pn_stack *s, pni_buf *pkt, const uint8_t nh[4]);
/* Prepend an Ethernet header (our MAC as source) and enqueue. Consumes
 * pkt. Returns 0 or PN_ENOBUFS (egress full, or no buffer for a header
 * when the headroom is short). */
int pni_iface_output_eth(pn_stack *s, pni_buf *pkt, const uint8_t dst[6], uint16_t ethertype);
/* Make room for n header bytes in front of *pb: pushes in place when the
 * headroom allows, else chains a new TX segment in front (the packet's
 * ownership moves with *pb). 0, or -1 when no buffer (*pb untouched). */
int pni_buf_prepend(pn_stack *s, pni_buf **pb, size_t n);
/* pni_iface_enqueue's cases out of line: a frame over the egress limits
 * (counted, freed, PN_ENOBUFS) or a frame queued with a tap to show it. */
int pni_iface_enqueue_drop(pn_stack *s, pni_buf *frame);
int pni_iface_enqueue_tap(pn_stack *s, pni_buf *frame);
/* Put a finished frame on the egress queue (tap OUT, drop-tail counted).
 * Consumes it. Returns 0 or PN_ENOBUFS when dropped. Inline: it runs for
 * every frame sent, and without a tap and under the limits it is a few
 * tests and stores. */
static inline int
pni_iface_enqueue(pn_stack *s, pni_buf *frame)
{
    uint32_t len = frame->tot_len;
    if (s->stats.egress_pkts + 1 > s->cfg.egress_max_pkts ||
        s->stats.egress_bytes + len > s->cfg.egress_max_bytes)
        return pni_iface_enqueue_drop(s, frame);
    pni_pktq_push(&s->eg_head, &s->eg_tail, frame);
    s->stats.egress_pkts++;
    s->stats.egress_bytes += len;
    if (s->cfg.tap != NULL)
        return pni_iface_enqueue_tap(s, frame);
    return 0;
}
/* The hook call of pni_hook_run (a hook is installed for point). */
int pni_hook_call(pn_stack *s, int point, const pni_buf *ip);
/* Run the caller's hook at point; 1 = accept, 0 = drop (counted). Inline:
 * without a hook for point (the usual case) it is one test. */
static inline int
pni_hook_run(pn_stack *s, int point, const pni_buf *ip)
{
    if (s->cfg.hook == NULL || (s->cfg.hook_mask & (1u << point)) == 0)
        return 1;
    return pni_hook_call(s, point, ip);
}

/* ---- neigh (lib/neigh.c): ARP cache and pending packets ---- */

/* frame data = the ARP packet (link header pulled). Consumes frame. */
void pni_neigh_arp_input(pn_stack *s, pni_buf *frame, const pni_eth_repr *eth);
/* Fill mac for nh, or hold pkt (consumed: held, or dropped and counted)
 * and return 1; 0 when mac is filled and pkt not consumed. */
int pni_neigh_resolve(pn_stack *s, const uint8_t nh[4], pni_buf *pkt, uint8_t mac[6]);
void pni_neigh_poll(pn_stack *s);
/* Earliest deadline of the cache, O(1) (cached; see lib/neigh.c). */
uint64_t pni_neigh_deadline(const pn_stack *s);
/* Index of the REACHABLE entry for nh, or -1 (for per-socket caches). */
int32_t pni_neigh_index(const pn_stack *s, const uint8_t nh[4]);
/* pni_neigh_hit's test, for a caller that keeps the address n of an entry
 * it had from pni_neigh_index (the arena never moves): the same answer
 * without the bounds test, the index-to-address step and the in-use byte:
 * a freed entry's state is PNI_NEIGH_FREE (lib/neigh.c's release sets it;
 * the free list's link, in the first word, leaves it alone), so "in use"
 * is part of "REACHABLE". */
_Static_assert(offsetof(pni_neigh, state) >= sizeof(void *), "free link clobbers state");
static inline pni_neigh *
pni_neigh_hit_at(const pn_stack *s, pni_neigh *n, const uint8_t nh[4])
{
    if (n->state != PNI_NEIGH_REACHABLE || s->now >= n->deadline || !pni_ip_eq(n->ip, nh))
        return NULL;
    return n;
}
/* Entry idx if it is still the live REACHABLE entry for nh before its
 * deadline, i.e. what pni_neigh_resolve would answer from; else NULL (the
 * caller takes the general path). The caller that uses the MAC sets
 * used = s->now, as resolve's hit does (LRU). */
static inline pni_neigh *
pni_neigh_hit(pn_stack *s, uint32_t idx, const uint8_t nh[4])
{
    pni_neigh *n = (pni_neigh *)pni_pool_at(&s->pool[PN_POOL_NEIGH], idx);
    return n != NULL ? pni_neigh_hit_at(s, n, nh) : NULL;
}
void pni_neigh_init(pn_stack *s);

/* ---- route (lib/route.c) ---- */

/* Longest-prefix match for dst. Fills the chosen source address (route's
 * src, else the interface address on the matching connected network, else
 * the first address) and next hop (gateway, or dst itself when on link).
 * Returns 0 or PN_ENETUNREACH. Limited broadcast goes out on link.
 * Successful results are cached per destination until the table changes
 * (s->route_gen), hence the non-const stack. */
int pni_route_lookup(pn_stack *s, const uint8_t dst[4], uint8_t src[4], uint8_t nh[4]);
void pni_route_init(pn_stack *s);
/* 1 if a is one of our addresses. Inline: every received datagram asks. */
static inline int
pni_ip4_is_local(const pn_stack *s, const uint8_t a[4])
{
    for (unsigned i = 0; i < s->cfg.n_addrs; i++)
        if (pni_ip_eq(s->cfg.addrs[i].addr.b, a))
            return 1;
    return 0;
}
/* 1 if a is a broadcast for us: 255.255.255.255 or a directed broadcast
 * of one of our connected networks. Inline: every received datagram asks. */
static inline int
pni_ip4_is_our_bcast(const pn_stack *s, const uint8_t a[4])
{
    uint32_t x = pni_be32(a);
    if (x == 0xffffffffu)
        return 1;
    for (unsigned i = 0; i < s->cfg.n_addrs; i++)
        if (x == s->dbcast[i])
            return 1;
    return 0;
}

/* ---- ip4 (lib/ip4.c, lib/frag.c, lib/reass.c) ---- */

/* 1 if a may be the source of a datagram we accept: not a broadcast of
 * ours, multicast, loopback or one of our addresses (RFC 1122 3.2.1.3;
 * lib/ip4.c's receive order). 0.0.0.0 is allowed: a host configuring
 * itself (DHCP) sends from it. Inline: the receive fast paths ask it. */
static PNI_ALWAYS_INLINE int
pni_ip4_src_ok(const pn_stack *s, const uint8_t a[4])
{
    return !pni_ip4_is_our_bcast(s, a) && !pni_ip4_is_mcast(a) && a[0] != 127 &&
           !pni_ip4_is_local(s, a);
}
/* pni_ip4_src_ok(p + 12) && pni_ip4_is_local(p + 16) for the IPv4 header
 * at p, remembering the last pair that passed: both tests depend only on
 * the config's addresses, fixed for the stack's life, so a datagram of
 * the same flow as the last one needs two compares, not the walks over
 * our addresses and broadcasts. */
static PNI_ALWAYS_INLINE int
pni_ip4_pair_ok(pn_stack *s, const uint8_t *p)
{
    uint32_t sa, da;
    memcpy(&sa, p + 12, 4);
    memcpy(&da, p + 16, 4);
    if (da == s->rx_ok_dst && sa == s->rx_ok_src && da != 0)
        return 1;
    if (!pni_ip4_src_ok(s, p + 12) || !pni_ip4_is_local(s, p + 16))
        return 0;
    s->rx_ok_src = sa;
    s->rx_ok_dst = da;
    return 1;
}
/* 1 if a PRE_ROUTING or LOCAL_IN hook is installed: the receive fast
 * paths then leave every datagram to the general path. */
static PNI_ALWAYS_INLINE int
pni_ip4_hooks_in(const pn_stack *s)
{
    return s->cfg.hook != NULL &&
           (s->cfg.hook_mask & ((1u << PN_HOOK_PRE_ROUTING) | (1u << PN_HOOK_LOCAL_IN))) != 0;
}


/* The receive fast path for the common unicast UDP datagram (see
 * lib/ip4.c's notes; data = IP header onwards): 1 when it consumed pkt,
 * 0 when it did nothing and pni_ip4_input must run. */
int pni_ip4_rx_fast(pn_stack *s, pni_buf *pkt);
/* In place (see lib/ip4.c's notes): 1 when the flen-byte frame at f,
 * whose IPv4 header is at f + l3 (l3 + 20 <= flen), is a TCP segment that
 * pni_ip4_rx_fast would hand to TCP; it has then been counted and tapped
 * (pni_count_frame) and processed without a buffer, its bytes read during
 * the call only. 0, with nothing read but the frame and nothing counted,
 * for any other frame. */
int pni_ip4_rx_inplace(pn_stack *s, const uint8_t *f, size_t flen, size_t l3);
/* A received IPv4 packet (data = IP header onwards). Consumes it. */
void pni_ip4_input(pn_stack *s, pni_buf *pkt);
/* What pni_iface_input does with a frame whose pni_iface_l3 is l3 (>= 0),
 * without asking again: link header pulled (l3 <= frame->len, which
 * pni_iface_l3 checked), then lib/ip4.c's receive fast path (which
 * refuses what is not UDP or TCP), else the general path. For Ethernet
 * this is exactly what the general path of pni_iface_input concludes for
 * such a frame (the linearize a no-op, the parse giving hlen 14, no VLAN,
 * type IPv4) without building the repr. Inline: pn_inject_raw's buffered
 * path. Consumes frame. */
static PNI_ALWAYS_INLINE void
pni_iface_input_l3(pn_stack *s, pni_buf *frame, int l3)
{
    frame->off = (uint16_t)(frame->off + l3);
    frame->len = (uint16_t)(frame->len - l3);
    frame->tot_len -= (uint32_t)l3;
    if (!pni_ip4_rx_fast(s, frame))
        pni_ip4_input(s, frame);
}
/* Send a transport segment (data = transport header onwards, allocated
 * with at least PNI_LAYER_IP headroom). Builds the IP header (ID from the
 * keyed hash), runs LOCAL_OUT, routes, fragments above the MTU (DF:
 * PN_EMSGSIZE) and passes each piece to pni_iface_output_ip. Consumes b.
 * Returns 0, PN_ENETUNREACH, PN_EMSGSIZE or PN_ENOBUFS. */
int pni_ip4_output(pn_stack *s, pni_buf *b, const pni_ip4_tx *tx);
uint16_t pni_ip4_next_id(pn_stack *s, const uint8_t src[4], const uint8_t dst[4], uint8_t proto);
/* The keyed hash pni_ip4_next_id adds the counter to (the ID of the next
 * datagram is hash + s->ip_id_next++). */
uint16_t pni_ip4_id_hash(pn_stack *s, const uint8_t src[4], const uint8_t dst[4], uint8_t proto);
/* Fragment a complete IP packet (header at data) for mtu; each fragment is
 * handed to pni_iface_output_ip(nh). Consumes pkt. */
int pni_frag_output(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip, uint16_t mtu, const uint8_t nh[4]);
/* Feed a fragment (data = IP header, ip parsed). Returns the reassembled
 * datagram (data = IP header with tot_len fixed, MF/offset cleared; may be
 * a chain) when complete, else NULL. Consumes frag. */
pni_buf *pni_reass_input(pn_stack *s, pni_buf *frag, const pni_ip4_repr *ip);
void pni_reass_poll(pn_stack *s);
/* The oldest slot's deadline (the slots are kept oldest first), or
 * PN_TIME_NEVER; inline: pn_next_deadline asks on every call. */
static inline uint64_t
pni_reass_deadline(const pn_stack *s)
{
#if PN_HAVE_FRAG
    return s->reass_oldest != NULL ? s->reass_oldest->deadline : PN_TIME_NEVER;
#else
    (void)s;
    return PN_TIME_NEVER;
#endif
}

/* ---- icmp (lib/icmp.c) ---- */

/* pkt data = ICMP message, ip = its header. Consumes pkt. */
void pni_icmp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip);
/* Send an ICMP error about orig (data = the offending IP header), unless
 * RFC 1122 3.2.2 forbids it (orig is ICMP error, broadcast, non-first
 * fragment, source not unicast) or the rate limit says no. Does not
 * consume orig. */
void pni_icmp_send_error(pn_stack *s, const pni_buf *orig, const pni_ip4_repr *ip, uint8_t type,
                         uint8_t code, uint16_t next_mtu);
/* 1 if a may be the source of a datagram we answer with an ICMP error:
 * not 0.0.0.0, broadcast (limited or ours), multicast, loopback or class E
 * (RFC 1122 3.2.2, RFC 1812 4.3.2.7). */
int pni_ip4_src_is_unicast(const pn_stack *s, const uint8_t a[4]);
/* Token bucket check (and take one token). 1 = allowed. */
int pni_icmp_rate_ok(pn_stack *s);

/* ---- udp (lib/udp.c) ---- */

/* pkt data = IP header (hlen bytes) + UDP. Consumes pkt. */
void pni_udp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip);
/* The receive fast path's UDP half (pni_ip4_rx_fast): pkt is one
 * segment holding a checked 20-byte IPv4 header and the UDP datagram r
 * describes, unicast to one of our addresses. Queues it and returns 1
 * when a bound socket takes it with room to spare; else returns 0 having
 * changed nothing (the general path then decides). */
int pni_udp_input_fast(pn_stack *s, pni_buf *pkt, const pni_udp_repr *r);
/* In place (see lib/ip4.c's notes): for the flen-byte frame at f whose
 * IPv4 header is at f + l3 (l3 + 20 <= flen), pni_ip4_rx_fast's UDP
 * test and pni_udp_input_fast's socket test, on the frame where it lies.
 * A datagram they take is counted and tapped (pni_count_frame), its
 * payload copied into an RX buffer and queued: 0, pn_inject_raw's
 * result. PN_ENOBUFS when that buffer could not be had: counted as
 * pn_inject_raw's own allocation failure (inject_nobufs, rx_nobufs) and
 * nothing else. 1, nothing counted, for any other frame (not UDP
 * included): the buffered path judges it. */
int pni_udp_rx_inplace(pn_stack *s, const uint8_t *f, size_t flen, size_t l3);
/* Free the slot of a closed socket whose last charged buffer left. */
void pni_udp_closed_free(pn_stack *s, pni_udp_sock *u);
/* A transmitted buffer charged to a UDP socket left the stack. Inline:
 * once per datagram sent. */
static inline void
pni_udp_wmem_release(pn_stack *s, uint16_t owner, uint32_t bytes)
{
    pni_udp_sock *u = (pni_udp_sock *)pni_pool_at(&s->pool[PN_POOL_UDP], owner);
    if (u == NULL)
        return;
    u->wmem = u->wmem > bytes ? u->wmem - bytes : 0;
    if (u->wmem == 0 && u->in_use == PNI_UDP_CLOSING)
        pni_udp_closed_free(s, u);
}

/* ---- tcp (lib/tcp*.c, private header lib/tcp.h) ---- */

/* Carve the TCP module's state; returns NULL when measuring. */
struct pni_tcp *pni_tcp_carve(pn_stack *s, pni_carver *c);
/* pkt data = IP header + TCP segment. Consumes pkt. */
void pni_tcp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip);
/* The same for the len contiguous bytes at p (IP header + TCP segment),
 * read during the call only: nothing of them is kept. */
void pni_tcp_input_flat(pn_stack *s, const uint8_t *p, size_t len, const pni_ip4_repr *ip);
/* An ICMP error quoting one of our TCP segments (RFC 5927 rules). */
void pni_tcp_icmp_error(pn_stack *s, const pni_icmp_repr *icmp);
/* ARP gave up on the next hop of pkt (one of our IP packets, held and
 * about to be dropped): if it is a TCP segment of a live connection, a
 * connect fails with PN_EHOSTUNREACH, an established one keeps it as its
 * soft error. Does not consume pkt. */
void pni_tcp_link_failure(pn_stack *s, const pni_buf *pkt);
void pni_tcp_poll(pn_stack *s);
uint64_t pni_tcp_deadline(const pn_stack *s);

/* ---- check (lib/check.c): debug-only invariant walk (fuzz harnesses) ---- */

/* Check the free lists of the pools in walk_pools (bit 1u << PN_POOL_*),
 * every buffer's references, the queue figures and the TCP sequence/queue
 * invariants (see lib/check.c). Returns NULL when all hold, else a
 * constant string naming the first one broken. scratch (scratch_n >=
 * pni_stack_check_scratch(s) entries, may be NULL) enables the
 * per-segment reference count and UDP charge checks. Changes nothing. */
#define PNI_CHECK_ALL_POOLS ((1u << PN_POOL_COUNT) - 1)
const char *pni_stack_check(const pn_stack *s, uint32_t *scratch, size_t scratch_n,
                            unsigned walk_pools);
size_t pni_stack_check_scratch(const pn_stack *s);
/* 1 when every pool is at zero use and nothing is queued or held. */
int pni_stack_idle(const pn_stack *s);

#endif /* PN_INTERNAL_H */
