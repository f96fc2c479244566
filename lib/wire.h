/*
 * wire.h -- stateless codecs: parse and emit of Ethernet II (802.1Q), ARP,
 * IPv4, ICMPv4, UDP, TCP, and the Internet checksum.
 *
 * IMPLEMENTATION NOTES
 * - No stack pointer appears in any signature here: these are pure functions
 *   over byte spans (p, len). They never read outside p[0..len).
 * - Every parse first validates the fixed header length and every length
 *   field against len (pni_wire_<proto>_check), then fills a host-order repr
 *   struct. State machines only ever see reprs.
 * - Multi-byte fields are read and written only through pni_be16/pni_be32
 *   and pni_put_be16/pni_put_be32: never through struct casts, so alignment
 *   and host byte order cannot matter.
 * - Reprs may hold views (pointer + length) into the parsed buffer
 *   (options, payload); they are valid as long as that buffer is.
 * - Emit functions write sizes first, then fields, checksums last. They
 *   return the number of bytes written, or 0 if cap is too small.
 * - Parse errors are the negative PNI_WE_* codes below; each maps to one
 *   stats counter in the stack.
 * - Checksum verification is skipped when built with -DPN_FUZZ_NO_CSUM so
 *   that fuzzers get past it (emit still computes checksums).
 */
#ifndef PN_WIRE_H
#define PN_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* memcpy in the inline parsers */

/* ---- byte order helpers (BearSSL style) ----
 * With gcc or clang and a known byte order each is one load or store
 * through memcpy (any alignment) and at most one byte swap. The byte-wise
 * form is correct everywhere, but gcc 12 merges a run of such stores (a
 * header written field by field) into shift-and-or chains of 60 and more
 * instructions instead of a few swaps. */
/* The host byte order when the compiler says it (gcc, clang); both 0
 * when unknown, which every user handles with byte-wise code. The one
 * place it is worked out (wire_csum.c, wire_ip4.c and csum_short.h use it). */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&                                 \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PNI_HOST_LE 1
#define PNI_HOST_BE 0
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                  \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PNI_HOST_LE 0
#define PNI_HOST_BE 1
#else
#define PNI_HOST_LE 0
#define PNI_HOST_BE 0
#endif

#if defined(__GNUC__) && PNI_HOST_LE
#define PNI_BSWAP16(v) __builtin_bswap16(v)
#define PNI_BSWAP32(v) __builtin_bswap32(v)
#define PNI_WORD_IO 1
#elif defined(__GNUC__) && PNI_HOST_BE
#define PNI_BSWAP16(v) (v)
#define PNI_BSWAP32(v) (v)
#define PNI_WORD_IO 1
#else
#define PNI_WORD_IO 0
#endif

static inline uint16_t
pni_be16(const uint8_t *p)
{
#if PNI_WORD_IO
    uint16_t v;
    __builtin_memcpy(&v, p, 2);
    return PNI_BSWAP16(v);
#else
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
#endif
}

static inline uint32_t
pni_be32(const uint8_t *p)
{
#if PNI_WORD_IO
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return PNI_BSWAP32(v);
#else
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
#endif
}

static inline void
pni_put_be16(uint8_t *p, uint16_t v)
{
#if PNI_WORD_IO
    v = PNI_BSWAP16(v);
    __builtin_memcpy(p, &v, 2);
#else
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
#endif
}

static inline void
pni_put_be32(uint8_t *p, uint32_t v)
{
#if PNI_WORD_IO
    v = PNI_BSWAP32(v);
    __builtin_memcpy(p, &v, 4);
#else
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
#endif
}

/* ---- parse errors ---- */

#define PNI_WE_TRUNC (-1)     /* buffer shorter than the fixed header */
#define PNI_WE_BADLEN (-2)    /* a length field disagrees with the buffer */
#define PNI_WE_BADVER (-3)    /* IP version != 4 */
#define PNI_WE_BADHLEN (-4)   /* IHL < 5 or TCP data offset < 5 */
#define PNI_WE_BADCSUM (-5)   /* checksum mismatch */
#define PNI_WE_BADOPT (-6)    /* malformed IP or TCP option */
#define PNI_WE_BADTYPE (-7)   /* unsupported hardware/protocol type (ARP) */
#define PNI_WE_BADFIELD (-8)  /* any other impossible field value */

/* Human-readable name of a PNI_WE_* code (for tests and traces). */
const char *pni_wire_strerror(int err);

/* ---- Internet checksum (RFC 1071, RFC 1624) ----
 * A "partial sum" is an unfolded 64-bit accumulator of 16-bit big-endian
 * words. Sums of consecutive spans may be added when every span but the
 * last has even length; for an odd-length prefix, swap the next span's sum
 * with pni_csum_swap (RFC 1071 section 2 (B), byte order independence). */
uint64_t pni_csum_partial(const void *p, size_t len, uint64_t sum);
uint64_t pni_csum_swap(uint64_t sum);
/* pni_csum_partial with the x86-64 AVX2 loop when vec is nonzero. vec
 * may be nonzero only where pni_cpu_vec() said 1 (the stack keeps that
 * answer, or 0 when its config says no_vector). Elsewhere vec is ignored
 * and pni_cpu_vec() is 0. Same result either way. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PN_NO_ASM) &&                          \
    (defined(__clang__) || __GNUC__ >= 7) && PNI_HOST_LE && UINTPTR_MAX > 0xffffffffu
#define PNI_HAVE_VEC 1
uint64_t pni_csum_partial_v(const void *p, size_t len, uint64_t sum, int vec);
int pni_cpu_vec(void);
#else
#define PNI_HAVE_VEC 0
static inline uint64_t
pni_csum_partial_v(const void *p, size_t len, uint64_t sum, int vec)
{
    (void)vec;
    return pni_csum_partial(p, len, sum);
}
static inline int
pni_cpu_vec(void)
{
    return 0;
}
#endif
/* Copy len bytes from src to dst (not overlapping) and return sum plus
 * the partial sum of the bytes copied, as pni_csum_partial(dst, len, sum)
 * would: one pass over data the caller is copying anyway. */
uint64_t pni_csum_copy(void *dst, const void *src, size_t len, uint64_t sum);
/* Hide a size's range from the optimiser before a memcpy. gcc inlines a
 * memcpy whose size it can bound (by a constant or a min() with one) as
 * `rep movsq`, which moves 8 bytes per step where the C library's vector
 * copy moves 32 or more; byte copies of payload must call memcpy. An empty
 * asm that "may change" the value does that at no cost. */
#if defined(__GNUC__)
#define PNI_OPAQUE_SIZE(n) __asm__("" : "+r"(n))
#else
#define PNI_OPAQUE_SIZE(n) ((void)0)
#endif
/* Fold a partial sum to 16 bits (not complemented), preserving its residue
 * modulo 0xffff (inline: every checksum test and emit ends in one). */
static inline uint16_t
pni_csum_fold(uint64_t s)
{
    /* 64 to 32 bits with end-around carry (modulo 2^32 - 1, a multiple of
     * 0xffff), then two 16-bit folds: < 2^17, then <= 0xffff. Every step
     * adds parts, so the result is 0 only for s == 0; any other s gives
     * the one value in 1..0xffff of its residue. */
    uint32_t lo = (uint32_t)s;
    uint32_t t = lo + (uint32_t)(s >> 32);
    t += t < lo;
    t = (t & 0xffffu) + (t >> 16);
    t = (t & 0xffffu) + (t >> 16);
    return (uint16_t)t;
}
/* The checksum field value: ~fold(partial(p, len)). */
uint16_t pni_csum(const void *p, size_t len);
/* Partial sum of the IPv4 pseudo-header (RFC 793 section 3.1 / RFC 9293
 * section 3.1 and RFC 768): source, destination, zero + protocol, and the
 * transport length. */
static inline uint64_t
pni_csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t l4len)
{
    return (uint64_t)pni_be16(src) + pni_be16(src + 2) + pni_be16(dst) + pni_be16(dst + 2) + proto +
           (l4len >> 16) + (l4len & 0xffffu);
}
/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field change. */
uint16_t pni_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);
/* Same for a 32-bit field (two words). */
uint16_t pni_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* ---- Ethernet II with 802.1Q ---- */

#define PNI_ETH_HLEN 14
#define PNI_ETH_VLAN_HLEN 18
#define PNI_ETHERTYPE_IP4 0x0800
#define PNI_ETHERTYPE_ARP 0x0806
#define PNI_ETHERTYPE_VLAN 0x8100
#define PNI_ETHERTYPE_IP6 0x86dd

typedef struct pni_eth_repr {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t ethertype; /* inner type when tagged */
    uint16_t vlan_tci;  /* valid when has_vlan */
    uint8_t has_vlan;
    uint8_t hlen;       /* 14 or 18 */
} pni_eth_repr;

int pni_wire_eth_check(const uint8_t *p, size_t len);
int pni_wire_eth_parse(const uint8_t *p, size_t len, pni_eth_repr *r);
/* Writes r->has_vlan ? 18 : 14 bytes. */
size_t pni_wire_eth_emit(const pni_eth_repr *r, uint8_t *p, size_t cap);

/* ---- ARP for Ethernet/IPv4 (RFC 826) ---- */

#define PNI_ARP_LEN 28
#define PNI_ARP_REQUEST 1
#define PNI_ARP_REPLY 2

typedef struct pni_arp_repr {
    uint16_t op;
    uint8_t sha[6];
    uint8_t spa[4];
    uint8_t tha[6];
    uint8_t tpa[4];
} pni_arp_repr;

/* Rejects anything but htype 1, ptype 0x0800, hlen 6, plen 4 (BADTYPE),
 * and ops other than 1 and 2 (BADFIELD). Trailing padding is allowed. */
int pni_wire_arp_check(const uint8_t *p, size_t len);
int pni_wire_arp_parse(const uint8_t *p, size_t len, pni_arp_repr *r);
size_t pni_wire_arp_emit(const pni_arp_repr *r, uint8_t *p, size_t cap);

/* ---- IPv4 (RFC 791) ---- */

#define PNI_IP4_HLEN 20
#define PNI_IP4_MAX_HLEN 60
#define PNI_IPPROTO_ICMP 1
#define PNI_IPPROTO_TCP 6
#define PNI_IPPROTO_UDP 17
#define PNI_IP4_DF 0x4000
#define PNI_IP4_MF 0x2000
#define PNI_IP4_OFFMASK 0x1fff

typedef struct pni_ip4_repr {
    uint8_t hlen;        /* bytes, 20..60 */
    uint8_t tos;
    uint16_t tot_len;    /* bytes, header included */
    uint16_t id;
    uint8_t df;
    uint8_t mf;
    uint16_t frag_off;   /* in BYTES (field * 8) */
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;       /* as found (parse) */
    uint8_t src[4];
    uint8_t dst[4];
    const uint8_t *opts; /* view of hlen-20 option bytes, NULL if none */
    uint8_t opt_len;
} pni_ip4_repr;

/* Validates: len >= 20, version 4, IHL >= 5, IHL*4 <= len,
 * IHL*4 <= tot_len <= len (trailing bytes beyond tot_len are link padding
 * and allowed), options well-formed (EOL ends; NOP; other options have
 * 2 <= optlen <= remaining), header checksum, and a fragment that would end
 * beyond 65535 (BADFIELD). Reserved flag bit set: BADFIELD. */
int pni_wire_ip4_check(const uint8_t *p, size_t len);
int pni_wire_ip4_parse(const uint8_t *p, size_t len, pni_ip4_repr *r);
/* 1 when 0xffff divides x, without a remainder: 0xffff is odd, so it has
 * an inverse modulo 2^64 (0xfffefffefffeffff), and x times it (modulo
 * 2^64) is at most (2^64 - 1) / 0xffff exactly for the multiples of
 * 0xffff (Hacker's Delight 10-17): one multiply and a compare. */
static inline int
pni_mod_ffff_zero(uint64_t x)
{
    return x * 0xfffefffefffeffffu <= 0x1000100010001u;
}
/* The IPv4 header check of the fast paths: the header sums to all ones
 * (RFC 791 3.1) iff the sum of its five 32-bit words, read in host order,
 * is 0 modulo 0xffff: a word hi * 2^16 + lo is hi + lo modulo 0xffff, and
 * a byte swap multiplies by 2^8, which is invertible modulo 0xffff, so
 * the host's order does not matter. (The sum is not 0: p[0] is 0x45.)
 * One multiply in place of the folds of lib/wire_ip4.c's sum20. */
static inline int
pni_ip4_sum20_ok(const uint8_t *p)
{
#ifndef PN_FUZZ_NO_CSUM
    /* five loads straight from p (an array copy is spilled to the stack) */
    uint32_t w0, w1, w2, w3, w4;
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    memcpy(&w3, p + 12, 4);
    memcpy(&w4, p + 16, 4);
    return pni_mod_ffff_zero((uint64_t)w0 + w1 + w2 + w3 + w4);
#else
    (void)p;
    return 1;
#endif
}
/* pni_wire_ip4_parse for the receive fast path's layout only: 0 with r
 * filled exactly as pni_wire_ip4_parse fills it when p..len has a 20-byte
 * header, is not a fragment (RF, MF, offset zero) and passes every check;
 * -1 for anything else, left to pni_wire_ip4_parse to judge and count.
 * Inline: every segment of the receive fast paths passes here. */
static inline int
pni_wire_ip4_parse20(const uint8_t *p, size_t len, pni_ip4_repr *r)
{
    if (len < PNI_IP4_HLEN || p[0] != 0x45)
        return -1;
    size_t tot = pni_be16(p + 2);
    uint16_t ff = pni_be16(p + 6);
    /* (tot - 20 <= 65515: the fragment extent check cannot fail.) */
    if (tot < PNI_IP4_HLEN || tot > len || (ff & ~PNI_IP4_DF) != 0 || !pni_ip4_sum20_ok(p))
        return -1;
    r->hlen = PNI_IP4_HLEN;
    r->tos = p[1];
    r->tot_len = (uint16_t)tot;
    r->id = pni_be16(p + 4);
    r->df = ff != 0;
    r->mf = 0;
    r->frag_off = 0;
    r->ttl = p[8];
    r->proto = p[9];
    r->csum = pni_be16(p + 10);
    memcpy(r->src, p + 12, 4);
    memcpy(r->dst, p + 16, 4);
    r->opt_len = 0;
    r->opts = NULL;
    return 0;
}
/* Writes r->hlen bytes (20 + opt_len rounded up to 4, padded with EOL) and
 * the header checksum; r->csum is ignored. */
size_t pni_wire_ip4_emit(const pni_ip4_repr *r, uint8_t *p, size_t cap);
/* 1 if addr is the limited broadcast 255.255.255.255. Inline: every
 * received datagram's source and destination are classified. */
static inline int
pni_ip4_is_bcast(const uint8_t a[4])
{
    return a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
}
/* 1 for 224.0.0.0/4 */
static inline int
pni_ip4_is_mcast(const uint8_t a[4])
{
    return (a[0] & 0xf0) == 0xe0;
}

/* ---- ICMPv4 (RFC 792) ---- */

#define PNI_ICMP_HLEN 8
#define PNI_ICMP_ECHO_REPLY 0
#define PNI_ICMP_DEST_UNREACH 3
#define PNI_ICMP_ECHO_REQUEST 8
#define PNI_ICMP_TIME_EXCEEDED 11
#define PNI_ICMP_PORT_UNREACH 3     /* code of DEST_UNREACH */
#define PNI_ICMP_FRAG_NEEDED 4      /* code of DEST_UNREACH */

typedef struct pni_icmp_repr {
    uint8_t type;
    uint8_t code;
    uint16_t csum;        /* as found */
    uint16_t id;          /* echo */
    uint16_t seq;         /* echo */
    uint16_t next_mtu;    /* dest unreach / frag needed (RFC 1191) */
    const uint8_t *data;  /* echo: payload; errors: the quoted datagram */
    size_t data_len;
    /* errors only (type 3 and 11): the quoted IP header and the first 8
     * bytes of its payload. has_quote is 1 when the quote held at least a
     * valid IP header (its tot_len may exceed what was quoted) and 8 bytes;
     * q_sport/q_dport are then the first two 16-bit words after it. */
    uint8_t has_quote;
    pni_ip4_repr quoted;
    uint16_t q_sport;
    uint16_t q_dport;
} pni_icmp_repr;

/* Validates len >= 8 and the checksum over all len bytes. For types 3 and
 * 11, parses the quote leniently (a bad quote leaves has_quote 0). */
int pni_wire_icmp_check(const uint8_t *p, size_t len);
int pni_wire_icmp_parse(const uint8_t *p, size_t len, pni_icmp_repr *r);
/* Writes the 8-byte header followed by r->data (data_len bytes) and the
 * checksum over both. Returns 8 + data_len. r->data may be p + 8 (data
 * already in place; then it is not copied). */
size_t pni_wire_icmp_emit(const pni_icmp_repr *r, uint8_t *p, size_t cap);

/* ---- UDP (RFC 768) ---- */

#define PNI_UDP_HLEN 8

typedef struct pni_udp_repr {
    uint16_t sport;
    uint16_t dport;
    uint16_t len;        /* header + payload */
    uint16_t csum;       /* as found; 0 = none */
    const uint8_t *payload;
    size_t payload_len;
} pni_udp_repr;

/* r for the checked UDP datagram of ulen bytes at u whose checksum field
 * reads csum: what both parsers (wire_udp.c, wire_ip4_udp.h) hand on. */
static inline void
pni_udp_repr_fill(pni_udp_repr *r, const uint8_t *u, size_t ulen, uint16_t csum)
{
    r->sport = pni_be16(u);
    r->dport = pni_be16(u + 2);
    r->len = (uint16_t)ulen;
    r->csum = csum;
    r->payload = u + PNI_UDP_HLEN;
    r->payload_len = ulen - PNI_UDP_HLEN;
}

/* p..len is the IP payload. Validates 8 <= udp.len <= len and, unless the
 * field is 0, the checksum with the pseudo-header of src/dst. */
int pni_wire_udp_check(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4]);
/* The receive fast path's test (lib/ip4.c): 0 when p..len (an IPv4
 * datagram) is the common UDP case -- a 20-byte header, version 4, not a
 * fragment (RF, MF and offset zero), tot_len within len, header checksum
 * right, UDP length within the datagram and its checksum right (or 0) --
 * with r filled as pni_wire_udp_parse fills it for the IP payload; -1
 * for anything else, which the general parsers then judge and count. */
int pni_wire_ip4_udp_fast(const uint8_t *p, size_t len, pni_udp_repr *r);
int pni_wire_udp_parse(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4],
                       pni_udp_repr *r);
/* Writes the 8-byte header at p. r->len is the UDP length (header +
 * payload); payload_sum is the partial sum of the payload bytes (they may
 * live elsewhere, e.g. in a buffer chain). A computed 0 is sent as 0xffff. */
size_t pni_wire_udp_emit(const pni_udp_repr *r, uint8_t *p, size_t cap, const uint8_t src[4],
                         const uint8_t dst[4], uint64_t payload_sum);

/* ---- TCP (RFC 9293, RFC 7323, RFC 2018) ---- */

#define PNI_TCP_HLEN 20
#define PNI_TCP_MAX_HLEN 60
#define PNI_TCP_FIN 0x01
#define PNI_TCP_SYN 0x02
#define PNI_TCP_RST 0x04
#define PNI_TCP_PSH 0x08
#define PNI_TCP_ACK 0x10
#define PNI_TCP_URG 0x20
#define PNI_TCP_ECE 0x40
#define PNI_TCP_CWR 0x80

#define PNI_TCPOPT_EOL 0
#define PNI_TCPOPT_NOP 1
#define PNI_TCPOPT_MSS 2
#define PNI_TCPOPT_WS 3
#define PNI_TCPOPT_SACKOK 4
#define PNI_TCPOPT_SACK 5
#define PNI_TCPOPT_TS 8

#define PNI_TCP_MAX_SACK 4

/* Option layouts for emit (same values as PN_SYN_LAYOUT_*). */
#define PNI_TCP_LAYOUT_PURENET 0
#define PNI_TCP_LAYOUT_LINUX 1
#define PNI_TCP_LAYOUT_FREEBSD 2

typedef struct pni_tcp_sack {
    uint32_t left;
    uint32_t right;
} pni_tcp_sack;

typedef struct pni_tcp_repr {
    uint16_t sport;
    uint16_t dport;
    uint32_t seq;
    uint32_t ack;
    uint8_t hlen;        /* data offset in bytes (parse); ignored by emit */
    uint8_t flags;       /* PNI_TCP_* (the low 8 flag bits) */
    uint16_t win;        /* raw, unscaled */
    uint16_t csum;       /* as found */
    uint16_t urg;
    /* options: has_* says presence */
    uint8_t has_mss;
    uint8_t has_ws;
    uint8_t sack_ok;
    uint8_t has_ts;
    uint16_t mss;
    uint8_t ws;          /* shift as sent (parse: raw; callers clamp to 14) */
    uint8_t n_sack;      /* 0..4 blocks */
    uint32_t ts_val;
    uint32_t ts_ecr;
    pni_tcp_sack sack[PNI_TCP_MAX_SACK];
    const uint8_t *payload;
    size_t payload_len;
} pni_tcp_repr;

/* p..len is the IP payload (the whole TCP segment). Validates 20 <= data
 * offset <= len, checksum with the pseudo-header, and options per FreeBSD's
 * tcp_dooptions model: EOL ends; NOP is one byte; any other option needs a
 * length byte present, 2 <= optlen <= remaining, and the exact length for
 * MSS (4), WS (3), SACKOK (2), TS (10), and SACK (2 + 8n, n = 1..4);
 * otherwise BADOPT. Unknown options are skipped by their length. */
int pni_wire_tcp_check(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4]);
int pni_wire_tcp_parse(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4],
                       pni_tcp_repr *r);
/* The same with the checksum summed by pni_csum_partial_v(.., vec). */
int pni_wire_tcp_parse_v(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4],
                         pni_tcp_repr *r, int vec);
/* Bytes of options emit would write for r under layout (multiple of 4). */
size_t pni_wire_tcp_opts_len(const pni_tcp_repr *r, int layout);
/* Writes header + options (20 + opts_len bytes) at p, with the checksum
 * over header, options and a payload of payload_len bytes whose partial
 * sum is payload_sum, under the pseudo-header. Returns the header length. */
size_t pni_wire_tcp_emit(const pni_tcp_repr *r, int layout, uint8_t *p, size_t cap,
                         const uint8_t src[4], const uint8_t dst[4], size_t payload_len,
                         uint64_t payload_sum);
/* NOP NOP TS(10) as one big-endian word: the options of every segment
 * after the handshake when timestamps are on (RFC 7323 appendix A). */
#define PNI_TCP_TS_WORD 0x0101080au
/* pni_wire_tcp_emit for a header whose only option is NOP NOP TS (has_ts)
 * or that has none (r's has_mss, has_ws, sack_ok and n_sack MUST be 0):
 * every segment of an established connection without SACK blocks, in every
 * layout. The caller guarantees 20 + 12 bytes at p. Inline for the
 * per-segment path: with r a local of the caller it needs no memory.
 * The header is written field by field and its checksum is the sum of
 * the field values (RFC 1071) without reading the header back; a 32-bit
 * field is added whole, its two 16-bit words at weights 2^16 and 1, both
 * 1 modulo 0xffff. Returns the header length. */
static inline size_t
pni_wire_tcp_emit_ts(const pni_tcp_repr *r, uint8_t *p, const uint8_t src[4],
                     const uint8_t dst[4], size_t payload_len, uint64_t payload_sum)
{
    size_t hlen = PNI_TCP_HLEN + (r->has_ts ? 12u : 0u);
    uint32_t off_flags = (uint32_t)((hlen / 4) << 12) | r->flags;
    pni_put_be16(p, r->sport);
    pni_put_be16(p + 2, r->dport);
    pni_put_be32(p + 4, r->seq);
    pni_put_be32(p + 8, r->ack);
    pni_put_be16(p + 12, (uint16_t)off_flags);
    pni_put_be16(p + 14, r->win);
    pni_put_be16(p + 18, r->urg);
    /* The pseudo-header (pni_csum_pseudo4's words, two at a time) and the
     * fields: every term below 2^32, a dozen of them: no wrap in 64 bits. */
    uint64_t s = (uint64_t)pni_be32(src) + pni_be32(dst) + PNI_IPPROTO_TCP + hlen + payload_len;
    s += ((uint64_t)r->sport << 16) + r->dport + (uint64_t)r->seq + r->ack +
         (off_flags << 16 | r->win) + r->urg;
    if (r->has_ts) {
        pni_put_be32(p + 20, PNI_TCP_TS_WORD);
        pni_put_be32(p + 24, r->ts_val);
        pni_put_be32(p + 28, r->ts_ecr);
        s += (uint64_t)PNI_TCP_TS_WORD + r->ts_val + r->ts_ecr;
    }
    /* payload_sum joins with an end-around carry (2^64 = 1 mod 0xffff) */
    s += payload_sum;
    s += s < payload_sum;
    pni_put_be16(p + 16, (uint16_t)~pni_csum_fold(s));
    return hlen;
}

#endif /* PN_WIRE_H */
