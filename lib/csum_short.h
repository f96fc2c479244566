/*
 * csum_short.h -- the Internet checksum of short buffers (headers, small
 * datagrams), inline.
 *
 * IMPLEMENTATION NOTES
 * - For a 20-byte header or a 64-byte datagram the cost of
 *   pni_csum_partial / pni_csum_copy (lib/wire_csum.c) is mostly per call:
 *   the call, the chunk loop set-up, the tail and the fold, and for the
 *   copy a library memcpy call. These helpers do the same arithmetic
 *   inline, in one pass: 8-byte groups loaded in host order into a 64-bit
 *   accumulator with the carries counted, a 4/2/1-byte tail at its
 *   natural position, one fold, one byte swap on little-endian hosts. The
 *   argument that makes this equal to the sum of big-endian 16-bit words
 *   modulo 0xffff is wire_csum.c's (its IMPLEMENTATION NOTES, "Byte
 *   order" and "Wide path").
 * - The result is a partial sum in pni_csum_partial's terms: congruent
 *   modulo 0xffff to the sum of the BE words, so it joins other partial
 *   sums by addition, and it is 0 only for all-zero data.
 * - Where the byte order is unknown or the target is not 64-bit, the
 *   helpers call pni_csum_partial (and memcpy), which are right everywhere.
 * - Meant for lengths up to a few hundred bytes; callers send longer
 *   buffers to wire_csum.c, whose two-chain loop is faster there.
 *   (A candidate to move into wire_csum.c/wire.h with its owner.)
 */
#ifndef PN_CSUM_SHORT_H
#define PN_CSUM_SHORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

#if (PNI_HOST_LE || PNI_HOST_BE) && UINTPTR_MAX > 0xffffffffu
#define PNI_CS_WIDE 1
#define PNI_CS_LE PNI_HOST_LE
#else
#define PNI_CS_WIDE 0
#define PNI_CS_LE 0
#endif

/* Longest buffer worth the inline loop (see the notes). */
#define PNI_CSUM_SHORT_MAX 256

#if PNI_CS_WIDE
/* Fold a host-order accumulator a with carry count c to a BE partial sum. */
static inline uint16_t
pni_cs_finish(uint64_t a, uint64_t c)
{
    a += c;
    a += a < c; /* end-around: 2^64 is 1 modulo 0xffff */
    a = (a & 0xffffffffu) + (a >> 32); /* < 2^33 */
    a = (a & 0xffffffffu) + (a >> 32); /* < 2^32 */
    a = (a & 0xffffu) + (a >> 16);     /* <= 0x1fffe */
    a = (a & 0xffffu) + (a >> 16);     /* <= 0xffff */
#if PNI_CS_LE
    a = ((a << 8) | (a >> 8)) & 0xffffu;
#endif
    return (uint16_t)a;
}
#endif

#if PNI_CS_WIDE
/* Add p[0..len) to the host-order accumulator *pa with carry count *pc,
 * the loop of pni_csum_short: the sum is *pa + *pc (2^64 is 1 modulo
 * 0xffff), in host byte order (see the notes). */
static inline void
pni_csum_short_acc(const uint8_t *p, size_t len, uint64_t *pa, uint64_t *pc)
{
    uint64_t a = *pa, c = *pc, w;
    while (len >= 32) { /* four groups a turn: less loop overhead */
        memcpy(&w, p, 8);
        a += w;
        c += a < w;
        memcpy(&w, p + 8, 8);
        a += w;
        c += a < w;
        memcpy(&w, p + 16, 8);
        a += w;
        c += a < w;
        memcpy(&w, p + 24, 8);
        a += w;
        c += a < w;
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        memcpy(&w, p, 8);
        a += w;
        c += a < w;
        p += 8;
        len -= 8;
    }
    if (len & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        a += v;
        c += a < v;
        p += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        a += v;
        c += a < v;
        p += 2;
    }
    if (len & 1) {
        /* the high byte of a zero-padded BE word (RFC 1071 4.1) */
        uint64_t v = PNI_CS_LE ? (uint64_t)p[0] : (uint64_t)p[0] << 8;
        a += v;
        c += a < v;
    }
    *pa = a;
    *pc = c;
}
#endif

/* Partial sum of p[0..len), as pni_csum_partial(p, len, 0) modulo 0xffff. */
static inline uint16_t
pni_csum_short(const uint8_t *p, size_t len)
{
#if PNI_CS_WIDE
    uint64_t a = 0, c = 0;
    pni_csum_short_acc(p, len, &a, &c);
    return pni_cs_finish(a, c);
#else
    uint64_t s = pni_csum_partial(p, len, 0);
    return pni_csum_fold(s);
#endif
}

/* Copy len bytes from src to dst (not overlapping) and return their
 * partial sum, as pni_csum_copy(dst, src, len, 0) modulo 0xffff. */
static inline uint16_t
pni_csum_copy_short(uint8_t *dst, const uint8_t *src, size_t len)
{
#if PNI_CS_WIDE
    uint64_t a = 0, c = 0, w, v2;
    while (len >= 16) { /* two groups a turn */
        memcpy(&w, src, 8);
        memcpy(&v2, src + 8, 8);
        memcpy(dst, &w, 8);
        memcpy(dst + 8, &v2, 8);
        a += w;
        c += a < w;
        a += v2;
        c += a < v2;
        src += 16;
        dst += 16;
        len -= 16;
    }
    while (len >= 8) {
        memcpy(&w, src, 8);
        memcpy(dst, &w, 8);
        a += w;
        c += a < w;
        src += 8;
        dst += 8;
        len -= 8;
    }
    if (len & 4) {
        uint32_t v;
        memcpy(&v, src, 4);
        memcpy(dst, &v, 4);
        a += v;
        c += a < v;
        src += 4;
        dst += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, src, 2);
        memcpy(dst, &v, 2);
        a += v;
        c += a < v;
        src += 2;
        dst += 2;
    }
    if (len & 1) {
        dst[0] = src[0];
        uint64_t v = PNI_CS_LE ? (uint64_t)src[0] : (uint64_t)src[0] << 8;
        a += v;
        c += a < v;
    }
    return pni_cs_finish(a, c);
#else
    return pni_csum_fold(pni_csum_copy(dst, src, len, 0));
#endif
}

/* The IPv4 pseudo-header's partial sum (RFC 768, RFC 9293 3.1), as
 * pni_csum_pseudo4 modulo 0xffff; below 2^19. */
static inline uint32_t
pni_csum_pseudo4_short(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t l4len)
{
    return ((uint32_t)src[0] << 8 | src[1]) + ((uint32_t)src[2] << 8 | src[3]) +
           ((uint32_t)dst[0] << 8 | dst[1]) + ((uint32_t)dst[2] << 8 | dst[3]) + proto +
           (l4len >> 16) + (l4len & 0xffff);
}

#endif /* PN_CSUM_SHORT_H */
