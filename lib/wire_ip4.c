/*
 * wire_ip4.c -- IPv4 header parse and emit (RFC 791), options walked.
 *
 * IMPLEMENTATION NOTES
 * - Order of checks in pni_wire_ip4_check, each before anything relies on
 *   it: fixed 20 bytes present (TRUNC); version (BADVER); IHL >= 5
 *   (BADHLEN); IHL*4 <= len, then IHL*4 <= tot_len <= len (BADLEN); the
 *   header checksum (BADCSUM), checked before any semantic field so that a
 *   corrupted header is counted as corruption; then the reserved flag and
 *   the fragment extent (BADFIELD); then the options (BADOPT).
 * - Bytes after tot_len are link-layer padding (Ethernet pads to 60) and
 *   are allowed; the parsed repr's tot_len tells the caller where the
 *   datagram really ends.
 * - Options (RFC 791 section 3.1): a type byte; EOL (0) ends the list, and
 *   what follows it is padding; NOP (1) is one byte; every other option
 *   has a length byte that counts the type and length bytes, so it must be
 *   present and 2 <= length <= bytes remaining. The options whose layout
 *   the stack may one day act on are checked further: record route and the
 *   source routes need length >= 3 and pointer >= 4, the timestamp option
 *   length >= 4 and pointer >= 5 (RFC 791 section 3.1 gives those minima),
 *   router alert exactly 4 (RFC 2113 section 2.1). Unknown options are
 *   skipped by their length.
 * - Check and parse are one pass (pni_wire_ip4_parse): parse fills the repr from
 *   the values the checks already read, check is parse without a repr.
 * - The header checksum of the usual 20-byte header is summed inline
 *   (sum20: five 32-bit loads in host order into a 64-bit accumulator,
 *   folded; the byte-order argument of wire_csum.c's notes makes the
 *   folded value the byte-swapped sum on a little-endian host, swapped
 *   back once). Headers with options go through pni_csum.
 * - pni_wire_ip4_parse20 (inline in wire.h, with its header-sum test
 *   pni_ip4_sum20_ok) is pni_wire_ip4_parse for the one layout the
 *   receive fast path takes (IHL 5, not a fragment): -1 for anything
 *   else, which the general parser then judges; the same repr otherwise.
 * - pni_wire_ip4_udp_fast is the receive fast path's test: the checks of
 *   pni_wire_ip4_parse and pni_wire_udp_parse for the one layout it takes
 *   (IHL 5, no fragment), in one function and without the IPv4 repr.
 *   What it accepts both parsers accept with the same results; what it
 *   refuses goes to them, so every counter stays theirs. Its body is
 *   inline in lib/wire_ip4_udp.h, which the two receive paths include
 *   (one datagram, one test: no call and no repr through memory).
 * - Emit computes the header length from opt_len (rounded up to 4, padded
 *   with EOL bytes as RFC 791 asks) and ignores r->hlen and r->csum.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"
#include "csum_short.h"
#include "wire_ip4_udp.h"

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_RR 7
#define IPOPT_TS 68
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137
#define IPOPT_RA 148

#define HOST_LE PNI_HOST_LE
#define HOST_BE PNI_HOST_BE /* neither: pni_csum */

#define IP4_RF 0x8000 /* reserved flag bit (RFC 791 section 3.1: must be zero) */

/* The folded (not complemented) one's complement sum of a 20-byte header:
 * 0xffff for a header whose checksum is right; ~ of it is the checksum of
 * a header whose checksum field is 0. */
static uint16_t
sum20(const uint8_t *p)
{
#if HOST_LE || HOST_BE
    uint32_t w[5];
    memcpy(w, p, sizeof w);
    uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]; /* < 2^35 */
    s = (s & 0xffffffffu) + (s >> 32);                       /* < 2^32 + 8 */
    s = (s & 0xffffffffu) + (s >> 32);                       /* < 2^32 */
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
#if HOST_LE
    s = ((s << 8) | (s >> 8)) & 0xffffu;
#endif
    return (uint16_t)s;
#else
    return (uint16_t)~pni_csum(p, PNI_IP4_HLEN);
#endif
}

static int
check_options(const uint8_t *o, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t type = o[i];
        if (type == IPOPT_EOL)
            return 0;
        if (type == IPOPT_NOP) {
            i++;
            continue;
        }
        size_t left = n - i;
        if (left < 2)
            return PNI_WE_BADOPT;
        size_t olen = o[i + 1];
        if (olen < 2 || olen > left)
            return PNI_WE_BADOPT;
        switch (type) {
        case IPOPT_RR:
        case IPOPT_LSRR:
        case IPOPT_SSRR:
            if (olen < 3 || o[i + 2] < 4)
                return PNI_WE_BADOPT;
            break;
        case IPOPT_TS:
            if (olen < 4 || o[i + 2] < 5)
                return PNI_WE_BADOPT;
            break;
        case IPOPT_RA:
            if (olen != 4)
                return PNI_WE_BADOPT;
            break;
        default:
            break;
        }
        i += olen;
    }
    return 0;
}

/* One pass: validate (see the order in the notes) and, when r is not NULL
 * and every check passed, fill r from the values already read. r is left
 * untouched on error. (The parse entry point itself, so that the
 * per-packet call is one call deep; check is parse without r.) */
int
pni_wire_ip4_parse(const uint8_t *p, size_t len, pni_ip4_repr *r)
{
    if (len < PNI_IP4_HLEN)
        return PNI_WE_TRUNC;
    if ((p[0] >> 4) != 4)
        return PNI_WE_BADVER;
    size_t hlen = (size_t)(p[0] & 0x0f) * 4;
    if (hlen < PNI_IP4_HLEN)
        return PNI_WE_BADHLEN;
    if (hlen > len)
        return PNI_WE_BADLEN;
    size_t tot = pni_be16(p + 2);
    if (tot < hlen || tot > len)
        return PNI_WE_BADLEN;
#ifndef PN_FUZZ_NO_CSUM
    /* RFC 791 section 3.1 "Header Checksum": the sum over the header,
     * checksum field included, folds to all ones. */
    if (hlen == PNI_IP4_HLEN ? sum20(p) != 0xffff : pni_csum(p, hlen) != 0)
        return PNI_WE_BADCSUM;
#endif
    uint16_t ff = pni_be16(p + 6);
    if (ff & IP4_RF)
        return PNI_WE_BADFIELD;
    /* A fragment must not reach past the largest datagram (RFC 791
     * section 3.2, 65535 octets): the classic "ping of death". */
    if ((size_t)(ff & PNI_IP4_OFFMASK) * 8 + (tot - hlen) > 65535)
        return PNI_WE_BADFIELD;
    if (hlen > PNI_IP4_HLEN) {
        int err = check_options(p + PNI_IP4_HLEN, hlen - PNI_IP4_HLEN);
        if (err != 0)
            return err;
    }
    if (r == NULL)
        return 0;
    r->hlen = (uint8_t)hlen;
    r->tos = p[1];
    r->tot_len = (uint16_t)tot;
    r->id = pni_be16(p + 4);
    r->df = (ff & PNI_IP4_DF) != 0;
    r->mf = (ff & PNI_IP4_MF) != 0;
    r->frag_off = (uint16_t)((ff & PNI_IP4_OFFMASK) * 8);
    r->ttl = p[8];
    r->proto = p[9];
    r->csum = pni_be16(p + 10);
    memcpy(r->src, p + 12, 4);
    memcpy(r->dst, p + 16, 4);
    r->opt_len = (uint8_t)(hlen - PNI_IP4_HLEN);
    r->opts = r->opt_len > 0 ? p + PNI_IP4_HLEN : NULL;
    return 0;
}

int
pni_wire_ip4_udp_fast(const uint8_t *p, size_t len, pni_udp_repr *r)
{
    return pni_wire_ip4_udp_fast_inline(p, len, r);
}

int
pni_wire_ip4_check(const uint8_t *p, size_t len)
{
    return pni_wire_ip4_parse(p, len, NULL);
}

size_t
pni_wire_ip4_emit(const pni_ip4_repr *r, uint8_t *p, size_t cap)
{
    size_t olen = r->opt_len;
    if (olen > PNI_IP4_MAX_HLEN - PNI_IP4_HLEN || (olen > 0 && r->opts == NULL))
        return 0;
    size_t hlen = PNI_IP4_HLEN + ((olen + 3) & ~(size_t)3);
    if (cap < hlen)
        return 0;
    /* Options first: they may already sit at p + 20 (memmove copes). */
    if (olen > 0) {
        memmove(p + PNI_IP4_HLEN, r->opts, olen);
        memset(p + PNI_IP4_HLEN + olen, IPOPT_EOL, hlen - PNI_IP4_HLEN - olen);
    }
    p[0] = (uint8_t)(0x40 | (hlen / 4));
    p[1] = r->tos;
    pni_put_be16(p + 2, r->tot_len);
    pni_put_be16(p + 4, r->id);
    uint16_t ff = (uint16_t)((r->frag_off / 8) & PNI_IP4_OFFMASK);
    if (r->df)
        ff |= PNI_IP4_DF;
    if (r->mf)
        ff |= PNI_IP4_MF;
    pni_put_be16(p + 6, ff);
    p[8] = r->ttl;
    p[9] = r->proto;
    pni_put_be16(p + 10, 0);
    memcpy(p + 12, r->src, 4);
    memcpy(p + 16, r->dst, 4);
    pni_put_be16(p + 10, hlen == PNI_IP4_HLEN ? (uint16_t)~sum20(p) : pni_csum(p, hlen));
    return hlen;
}
