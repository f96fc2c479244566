/*
 * wire_tcp.c -- TCP header and options, parse and emit (RFC 9293 section
 * 3.1 and 3.2, RFC 7323 for window scale and timestamps, RFC 2018 for SACK).
 *
 * IMPLEMENTATION NOTES
 * - p..len is the IP payload, i.e. the whole segment: TCP has no length of
 *   its own, so the checksum (RFC 9293 section 3.1, with the pseudo-header
 *   of section 3.1 "Checksum") covers all len bytes.
 * - Check order: 20 bytes present (TRUNC); data offset >= 5 (BADHLEN);
 *   data offset * 4 <= len (BADLEN); checksum (BADCSUM) before options, so
 *   that corruption is counted as corruption; then the options (BADOPT).
 * - The option walk follows FreeBSD's tcp_dooptions model (RFC 9293 section
 *   3.1 "Options"): EOL ends the list (the rest is padding); NOP is one
 *   byte; any other kind needs its length byte inside the option space and
 *   2 <= length <= bytes remaining, or the whole segment is rejected. Known
 *   kinds must have their exact length: MSS 4 (RFC 9293 3.2), WS 3
 *   (RFC 7323 2.2), SACK-permitted 2 (RFC 2018 2), TS 10 (RFC 7323 3.2),
 *   SACK 2 + 8n with n >= 1 (RFC 2018 3; n <= 4 follows from the 40-byte
 *   option space). Unknown kinds are skipped by their length (RFC 9293
 *   3.2: "must be prepared to handle an illegal option length" and to
 *   ignore options it does not implement). Parse records options on any
 *   segment; whether a SYN-only option counts is the state machine's call.
 *   A repeated option overwrites the earlier one.
 * - Emit layouts. Every layout writes only the options whose flag is set
 *   (has_mss, has_ws, sack_ok, has_ts, n_sack > 0) and pads to a multiple
 *   of 4. With only TS and SACK blocks set (any non-SYN segment) all three
 *   produce the RFC 7323 appendix A form: NOP NOP TS(10), NOP NOP SACK.
 *     PURENET: MSS(4) | NOP WS(3) | SACKOK(2) TS(10) | NOP NOP SACK.
 *       Without SACKOK the TS word is NOP NOP TS; without TS, SACKOK is
 *       NOP NOP SACKOK. Every option starts where its 32-bit fields are
 *       aligned: the TS value and echo sit at offsets 4k from the header,
 *       and the full SYN set is 20 bytes, the smallest possible.
 *     LINUX (tcp_options_write): MSS | SACKOK TS or NOP NOP TS | NOP NOP
 *       SACKOK (only without TS) | NOP WS | NOP NOP SACK. The SYN with all
 *       four is "02 04 mm mm 04 02 08 0a <val> <ecr> 01 03 03 ws".
 *     FREEBSD (tcp_addoptions): in the order MSS, WS, SACKOK, TS, SACK,
 *       each preceded by NOPs until its start offset satisfies the rule
 *       for its kind (MSS at 0 mod 4, WS at 1 mod 2, SACKOK at 0 mod 2, TS
 *       and SACK at 2 mod 4), then EOL and zero padding to 4. The full SYN
 *       set is "02 04 mm mm 01 03 03 ws 04 02 08 0a <val> <ecr>".
 * - The option space is 40 bytes (data offset 15). SACK blocks that do not
 *   fit are dropped from the end (RFC 2018 section 3 allows fewer blocks);
 *   if not even one fits, the SACK option is left out. The SYN-time options
 *   never exceed 20 bytes, so nothing else is ever dropped.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"
#include "pn_features.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

#define TCP_MAXOLEN 40

#define OLEN_MSS 4
#define OLEN_WS 3
#define OLEN_SACKOK 2
#define OLEN_TS 10
#define OLEN_SACK_HDR 2
#define OLEN_SACK_BLK 8

#define TS_WORD PNI_TCP_TS_WORD

/* Only timestamps (or no option at all): every layout makes NOP NOP TS. */
static int
ts_only(const pni_tcp_repr *r)
{
    return !(r->has_mss | r->has_ws | r->sack_ok | r->n_sack);
}

static int
parse_options(const uint8_t *o, size_t n, pni_tcp_repr *r)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = o[i];
        if (kind == PNI_TCPOPT_EOL)
            break;
        if (kind == PNI_TCPOPT_NOP) {
            i++;
            continue;
        }
        size_t left = n - i;
        if (left < 2)
            return PNI_WE_BADOPT;
        size_t olen = o[i + 1];
        if (olen < 2 || olen > left)
            return PNI_WE_BADOPT;
        const uint8_t *v = o + i + 2;
        switch (kind) {
        case PNI_TCPOPT_MSS:
            if (olen != OLEN_MSS)
                return PNI_WE_BADOPT;
            r->has_mss = 1;
            r->mss = pni_be16(v);
            break;
        case PNI_TCPOPT_WS:
            if (olen != OLEN_WS)
                return PNI_WE_BADOPT;
            r->has_ws = 1;
            r->ws = v[0];
            break;
        case PNI_TCPOPT_SACKOK:
            if (olen != OLEN_SACKOK)
                return PNI_WE_BADOPT;
            r->sack_ok = 1;
            break;
        case PNI_TCPOPT_TS:
            if (olen != OLEN_TS)
                return PNI_WE_BADOPT;
            r->has_ts = 1;
            r->ts_val = pni_be32(v);
            r->ts_ecr = pni_be32(v + 4);
            break;
        case PNI_TCPOPT_SACK: {
            if (olen < OLEN_SACK_HDR + OLEN_SACK_BLK || (olen - OLEN_SACK_HDR) % OLEN_SACK_BLK != 0)
                return PNI_WE_BADOPT;
            size_t nb = (olen - OLEN_SACK_HDR) / OLEN_SACK_BLK;
            if (nb > PNI_TCP_MAX_SACK)
                return PNI_WE_BADOPT; /* cannot happen in 40 bytes; kept as a guard */
            for (size_t b = 0; b < nb; b++) {
                r->sack[b].left = pni_be32(v + b * OLEN_SACK_BLK);
                r->sack[b].right = pni_be32(v + b * OLEN_SACK_BLK + 4);
            }
            r->n_sack = (uint8_t)nb;
            break;
        }
        default:
            break;
        }
        i += olen;
    }
    return 0;
}

/* Inlined into both callers: pni_wire_tcp_parse runs for every segment
 * received, and the call with its four arguments cost more than the
 * tests. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline int
check_hdr(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4], int vec)
{
    if (len < PNI_TCP_HLEN)
        return PNI_WE_TRUNC;
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < PNI_TCP_HLEN)
        return PNI_WE_BADHLEN;
    if (hlen > len)
        return PNI_WE_BADLEN;
#ifndef PN_FUZZ_NO_CSUM
    /* The pseudo-header (RFC 9293 3.1) as pni_wire_tcp_emit_ts sums it:
     * each address as one 32-bit big-endian value (hi * 2^16 + lo, which
     * is hi + lo modulo 0xffff: pni_csum_pseudo4's two words), the
     * protocol and the 32-bit length (its split into two words is the
     * same residue); below 2^34, a seed pni_csum_partial adds with
     * end-around carry. */
    uint64_t s = (uint64_t)pni_be32(src) + pni_be32(dst) + PNI_IPPROTO_TCP + (uint32_t)len;
    if (pni_csum_fold(pni_csum_partial_v(p, len, s, vec)) != 0xffff)
        return PNI_WE_BADCSUM;
#else
    (void)src;
    (void)dst;
    (void)vec;
#endif
    return 0;
}

int
pni_wire_tcp_check(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4])
{
    int err = check_hdr(p, len, src, dst, 0);
    if (err != 0)
        return err;
    pni_tcp_repr scratch;
    memset(&scratch, 0, sizeof(scratch));
    return parse_options(p + PNI_TCP_HLEN, (size_t)(p[12] >> 4) * 4 - PNI_TCP_HLEN, &scratch);
}

int
pni_wire_tcp_parse(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4],
                   pni_tcp_repr *r)
{
    return pni_wire_tcp_parse_v(p, len, src, dst, r, 0);
}

int
pni_wire_tcp_parse_v(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4],
                     pni_tcp_repr *r, int vec)
{
    int err = check_hdr(p, len, src, dst, vec);
    if (err != 0)
        return err;
    /* Everything before the SACK blocks is zeroed; sack[] is read only
     * below n_sack. */
    memset(r, 0, offsetof(pni_tcp_repr, sack));
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    const uint8_t *o = p + PNI_TCP_HLEN;
    if (hlen == PNI_TCP_HLEN + 12 && pni_be32(o) == TS_WORD) {
        /* The RFC 7323 appendix A form every established segment carries:
         * what parse_options makes of it, without the walk. */
        r->has_ts = 1;
        r->ts_val = pni_be32(o + 4);
        r->ts_ecr = pni_be32(o + 8);
    } else if (hlen > PNI_TCP_HLEN) {
        err = parse_options(o, hlen - PNI_TCP_HLEN, r);
        if (err != 0)
            return err;
    }
    r->sport = pni_be16(p);
    r->dport = pni_be16(p + 2);
    r->seq = pni_be32(p + 4);
    r->ack = pni_be32(p + 8);
    r->hlen = (uint8_t)hlen;
    r->flags = p[13];
    r->win = pni_be16(p + 14);
    r->csum = pni_be16(p + 16);
    r->urg = pni_be16(p + 18);
    r->payload = p + hlen;
    r->payload_len = len - hlen;
    return 0;
}

/* ---- emit ---- */

/* A small writer over the 40-byte option space. Callers never overflow it:
 * the SYN-time options take at most 20 bytes and SACK is sized to fit. */
typedef struct ow {
    uint8_t b[TCP_MAXOLEN];
    size_t n;
} ow;

static void
put1(ow *w, uint8_t v)
{
    w->b[w->n++] = v;
}

static void
put_mss(ow *w, const pni_tcp_repr *r)
{
    put1(w, PNI_TCPOPT_MSS);
    put1(w, OLEN_MSS);
    pni_put_be16(w->b + w->n, r->mss);
    w->n += 2;
}

static void
put_ws(ow *w, const pni_tcp_repr *r)
{
    put1(w, PNI_TCPOPT_WS);
    put1(w, OLEN_WS);
    put1(w, r->ws);
}

static void
put_sackok(ow *w)
{
    put1(w, PNI_TCPOPT_SACKOK);
    put1(w, OLEN_SACKOK);
}

static void
put_ts(ow *w, const pni_tcp_repr *r)
{
    put1(w, PNI_TCPOPT_TS);
    put1(w, OLEN_TS);
    pni_put_be32(w->b + w->n, r->ts_val);
    pni_put_be32(w->b + w->n + 4, r->ts_ecr);
    w->n += 8;
}

/* SACK blocks at the current offset (already aligned by the caller), as
 * many as fit in what is left of the 40 bytes. */
static void
put_sack(ow *w, const pni_tcp_repr *r)
{
    size_t want = r->n_sack > PNI_TCP_MAX_SACK ? PNI_TCP_MAX_SACK : r->n_sack;
    size_t room = TCP_MAXOLEN - w->n;
    if (room < OLEN_SACK_HDR + OLEN_SACK_BLK)
        return;
    size_t fit = (room - OLEN_SACK_HDR) / OLEN_SACK_BLK;
    size_t nb = want < fit ? want : fit;
    put1(w, PNI_TCPOPT_SACK);
    put1(w, (uint8_t)(OLEN_SACK_HDR + nb * OLEN_SACK_BLK));
    for (size_t i = 0; i < nb; i++) {
        pni_put_be32(w->b + w->n, r->sack[i].left);
        pni_put_be32(w->b + w->n + 4, r->sack[i].right);
        w->n += OLEN_SACK_BLK;
    }
}

/* NOP NOP SACK, shared by every layout once the rest is 4-aligned. */
static void
put_nop_sack(ow *w, const pni_tcp_repr *r)
{
    if (r->n_sack == 0 || TCP_MAXOLEN - w->n < 2 + OLEN_SACK_HDR + OLEN_SACK_BLK)
        return;
    put1(w, PNI_TCPOPT_NOP);
    put1(w, PNI_TCPOPT_NOP);
    put_sack(w, r);
}

static void
layout_purenet(ow *w, const pni_tcp_repr *r)
{
    if (r->has_mss)
        put_mss(w, r);
    if (r->has_ws) {
        put1(w, PNI_TCPOPT_NOP);
        put_ws(w, r);
    }
    if (r->has_ts) {
        if (r->sack_ok) {
            put_sackok(w);
        } else {
            put1(w, PNI_TCPOPT_NOP);
            put1(w, PNI_TCPOPT_NOP);
        }
        put_ts(w, r);
    } else if (r->sack_ok) {
        put1(w, PNI_TCPOPT_NOP);
        put1(w, PNI_TCPOPT_NOP);
        put_sackok(w);
    }
    put_nop_sack(w, r);
}

static void
layout_linux(ow *w, const pni_tcp_repr *r)
{
    if (r->has_mss)
        put_mss(w, r);
    if (r->has_ts) {
        if (r->sack_ok) {
            put_sackok(w);
        } else {
            put1(w, PNI_TCPOPT_NOP);
            put1(w, PNI_TCPOPT_NOP);
        }
        put_ts(w, r);
    } else if (r->sack_ok) {
        put1(w, PNI_TCPOPT_NOP);
        put1(w, PNI_TCPOPT_NOP);
        put_sackok(w);
    }
    if (r->has_ws) {
        put1(w, PNI_TCPOPT_NOP);
        put_ws(w, r);
    }
    put_nop_sack(w, r);
}

static void
layout_freebsd(ow *w, const pni_tcp_repr *r)
{
    if (r->has_mss) {
        while (w->n % 4 != 0)
            put1(w, PNI_TCPOPT_NOP);
        put_mss(w, r);
    }
    if (r->has_ws) {
        while (w->n % 2 != 1)
            put1(w, PNI_TCPOPT_NOP);
        put_ws(w, r);
    }
    if (r->sack_ok) {
        while (w->n % 2 != 0)
            put1(w, PNI_TCPOPT_NOP);
        put_sackok(w);
    }
    if (r->has_ts) {
        while (w->n % 4 != 2)
            put1(w, PNI_TCPOPT_NOP);
        put_ts(w, r);
    }
    if (r->n_sack > 0) {
        size_t at = w->n;
        while (at % 4 != 2)
            at++;
        if (TCP_MAXOLEN - at >= OLEN_SACK_HDR + OLEN_SACK_BLK) {
            while (w->n < at)
                put1(w, PNI_TCPOPT_NOP);
            put_sack(w, r);
        }
    }
}

/* Build the options of r under layout into w; pads to a multiple of 4. */
static void
build_options(ow *w, const pni_tcp_repr *r, int layout)
{
    w->n = 0;
    switch (layout) {
    case PNI_TCP_LAYOUT_LINUX:
        layout_linux(w, r);
        break;
    case PNI_TCP_LAYOUT_FREEBSD:
        layout_freebsd(w, r);
        break;
    default:
        layout_purenet(w, r);
        break;
    }
    /* RFC 9293 section 3.1: the option list ends with EOL when it does not
     * end on the header boundary, and padding after it is zero. */
    while (w->n % 4 != 0)
        put1(w, PNI_TCPOPT_EOL);
}

size_t
pni_wire_tcp_opts_len(const pni_tcp_repr *r, int layout)
{
    if (ts_only(r))
        return r->has_ts ? 12 : 0;
    ow w;
    build_options(&w, r, layout);
    return w.n;
}

size_t
pni_wire_tcp_emit(const pni_tcp_repr *r, int layout, uint8_t *p, size_t cap,
                  const uint8_t src[4], const uint8_t dst[4], size_t payload_len,
                  uint64_t payload_sum)
{
    if (ts_only(r)) {
        if (cap < PNI_TCP_HLEN + (r->has_ts ? 12u : 0u))
            return 0;
        return pni_wire_tcp_emit_ts(r, p, src, dst, payload_len, payload_sum);
    }
    ow w;
    build_options(&w, r, layout);
    size_t hlen = PNI_TCP_HLEN + w.n;
    if (cap < hlen)
        return 0;
    pni_put_be16(p, r->sport);
    pni_put_be16(p + 2, r->dport);
    pni_put_be32(p + 4, r->seq);
    pni_put_be32(p + 8, r->ack);
    p[12] = (uint8_t)((hlen / 4) << 4);
    p[13] = r->flags;
    pni_put_be16(p + 14, r->win);
    pni_put_be16(p + 16, 0);
    pni_put_be16(p + 18, r->urg);
    memcpy(p + PNI_TCP_HLEN, w.b, w.n);
    uint64_t s = pni_csum_pseudo4(src, dst, PNI_IPPROTO_TCP, (uint32_t)(hlen + payload_len));
    s = pni_csum_partial(p, hlen, s);
    /* hlen is a multiple of 4, so the payload's sum joins unswapped; fold
     * both first so the add cannot wrap. */
    uint16_t c = (uint16_t)~pni_csum_fold((uint64_t)pni_csum_fold(s) + pni_csum_fold(payload_sum));
    pni_put_be16(p + 16, c);
    return hlen;
}

#endif /* PN_HAVE_TCP */
