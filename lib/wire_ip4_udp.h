/*
 * wire_ip4_udp.h -- pni_wire_ip4_udp_fast (see wire.h and the notes of
 * lib/wire_ip4.c), inline: the receive fast path runs it once per UDP
 * datagram (lib/ip4.c's buffered path and lib/udp.c's in-place one), and
 * as a call it cost a stack frame and the repr through memory. A
 * stateless codec like the rest of wire/: bytes and lengths in, a repr
 * out. wire_ip4.c keeps the out-of-line entry point for the tests.
 */
#ifndef PURENET_WIRE_IP4_UDP_H
#define PURENET_WIRE_IP4_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"
#include "csum_short.h"

static inline int
pni_wire_ip4_udp_fast_inline(const uint8_t *p, size_t len, pni_udp_repr *r)
{
    if (len < PNI_IP4_HLEN + PNI_UDP_HLEN || p[0] != 0x45 || p[9] != PNI_IPPROTO_UDP)
        return -1;
    size_t tot = pni_be16(p + 2);
    /* (tot - 20 <= 65515: the fragment extent check cannot fail.) */
    if (tot < PNI_IP4_HLEN + PNI_UDP_HLEN || tot > len || (pni_be16(p + 6) & ~PNI_IP4_DF) != 0)
        return -1;
    if (!pni_ip4_sum20_ok(p))
        return -1;
    const uint8_t *u = p + PNI_IP4_HLEN;
    size_t ulen = pni_be16(u + 4);
    if (ulen < PNI_UDP_HLEN || ulen > tot - PNI_IP4_HLEN)
        return -1;
    uint16_t csum = pni_be16(u + 6);
#ifndef PN_FUZZ_NO_CSUM
#if PNI_CS_WIDE
    if (csum != 0 && ulen <= PNI_CSUM_SHORT_MAX) {
        /* RFC 768: the pseudo-header and the datagram sum to all ones,
         * i.e. (as for the IP header above) to 0 modulo 0xffff, in any
         * host order. The pseudo-header's words lie on the wire already:
         * source and destination are p[12..20), and zero, protocol and
         * UDP length are the bytes {0, 17, u[4], u[5]}; each is added at
         * an even offset from u, as its words' positions require. */
        uint64_t a = 0, c = 0, v;
        pni_csum_short_acc(u, ulen, &a, &c);
        memcpy(&v, p + 12, 8);
        a += v;
        c += a < v;
        const uint8_t pl[4] = {0, PNI_IPPROTO_UDP, u[4], u[5]};
        uint32_t v4;
        memcpy(&v4, pl, 4);
        a += v4;
        c += a < v4;
        /* The sum is a + c. Added in 64 bits, a carry out is worth 2^64,
         * which is 1 modulo 0xffff: add it back (a is then below c, so it
         * cannot carry again). One divisibility test instead of two
         * remainders. */
        a += c;
        a += a < c;
        if (!pni_mod_ffff_zero(a))
            return -1;
    } else
#endif
    if (csum != 0) { /* as pni_wire_udp_parse: RFC 768, RFC 1122 4.1.3.4 */
        uint32_t s = pni_csum_pseudo4_short(p + 12, p + 16, PNI_IPPROTO_UDP, (uint32_t)ulen);
        s += ulen <= PNI_CSUM_SHORT_MAX ? pni_csum_short(u, ulen)
                                        : pni_csum_fold(pni_csum_partial(u, ulen, 0));
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        if (s != 0xffff)
            return -1;
    }
#endif
    pni_udp_repr_fill(r, u, ulen, csum);
    return 0;
}

#endif
