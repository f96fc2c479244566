/*
 * wire_udp.c -- UDP header parse and emit (RFC 768).
 *
 * p..len is the IP payload. The UDP length field may be shorter than the
 * span (the rest is ignored, as IP's tot_len already trimmed link padding)
 * but never longer. A zero checksum field means the sender computed none
 * (RFC 768 "Fields"; RFC 1122 section 4.1.3.4), so it is not verified; a
 * computed zero is sent as all ones for the same reason.
 */
#include <stddef.h>
#include <stdint.h>

#include "wire.h"
#include "csum_short.h"

/* One pass: validate and, when r is not NULL and the datagram is good,
 * fill r. r is left untouched on error. (The parse entry point itself, so
 * that the per-datagram call is one call deep; check is parse without r.) */
int
pni_wire_udp_parse(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4],
                   pni_udp_repr *r)
{
    if (len < PNI_UDP_HLEN)
        return PNI_WE_TRUNC;
    size_t ulen = pni_be16(p + 4);
    if (ulen < PNI_UDP_HLEN || ulen > len)
        return PNI_WE_BADLEN;
    uint16_t csum = pni_be16(p + 6);
#ifndef PN_FUZZ_NO_CSUM
    if (csum != 0) {
        /* Pseudo-header + datagram: nonzero (proto), so it folds into
         * 1..0xffff, and 0xffff is "all ones", a right checksum. */
        uint32_t s = pni_csum_pseudo4_short(src, dst, PNI_IPPROTO_UDP, (uint32_t)ulen);
        s += ulen <= PNI_CSUM_SHORT_MAX ? pni_csum_short(p, ulen)
                                        : pni_csum_fold(pni_csum_partial(p, ulen, 0));
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        if (s != 0xffff)
            return PNI_WE_BADCSUM;
    }
#else
    (void)src;
    (void)dst;
#endif
    if (r == NULL)
        return 0;
    pni_udp_repr_fill(r, p, ulen, csum);
    return 0;
}

int
pni_wire_udp_check(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4])
{
    return pni_wire_udp_parse(p, len, src, dst, NULL);
}

size_t
pni_wire_udp_emit(const pni_udp_repr *r, uint8_t *p, size_t cap, const uint8_t src[4],
                  const uint8_t dst[4], uint64_t payload_sum)
{
    if (cap < PNI_UDP_HLEN)
        return 0;
    pni_put_be16(p, r->sport);
    pni_put_be16(p + 2, r->dport);
    pni_put_be16(p + 4, r->len);
    pni_put_be16(p + 6, 0);
    /* The header's words are the fields just written (the checksum field
     * counts as 0): add them as numbers, no need to read the bytes back. */
    uint64_t s = pni_csum_pseudo4(src, dst, PNI_IPPROTO_UDP, r->len);
    s += (uint64_t)r->sport + r->dport + r->len;
    /* Join the payload's sum: fold both first so the add cannot wrap. */
    uint16_t c = (uint16_t)~pni_csum_fold((uint64_t)pni_csum_fold(s) + pni_csum_fold(payload_sum));
    pni_put_be16(p + 6, c == 0 ? 0xffff : c);
    return PNI_UDP_HLEN;
}
