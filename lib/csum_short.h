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
    /* Each fold halves the width by adding x to x rotated by half: the
     * upper half of that sum is the halves' sum with its carry out added
     * back (the carry out of the lower half lands in it), i.e. the
     * end-around sum, which is 0 only when both halves are. */
    uint32_t t = (uint32_t)((a + (a >> 32 | a << 32)) >> 32);
    t = (t + (t >> 16 | t << 16)) >> 16;
#if PNI_CS_LE
    t = ((t << 8) | (t >> 8)) & 0xffffu;
#endif
    return (uint16_t)t;
}
#endif

#if PNI_CS_WIDE && defined(__x86_64__) && defined(__GNUC__) && !defined(PN_NO_ASM)
/* x86-64: whole 32-byte blocks by an add-with-carry chain, as
 * wire_csum.c's adc_blocks (see its notes): the carry out of each add
 * goes into the next, and the last is added back at once (end-around),
 * so no carry count is kept. 7 instructions per 32 bytes summed, 16 per
 * 32 copied and summed, against 13 and 25 for the C loops below. */
#define PNI_CS_ADC 1
#endif

#if PNI_CS_WIDE
/* Add p[0..len) to the host-order accumulator *pa with carry count *pc,
 * the loop of pni_csum_short: the sum is *pa + *pc (2^64 is 1 modulo
 * 0xffff), in host byte order (see the notes). */
static inline void
pni_csum_short_acc(const uint8_t *p, size_t len, uint64_t *pa, uint64_t *pc)
{
    uint64_t a = *pa, c = *pc, w;
#if PNI_CS_ADC
    if (len >= 32) {
        size_t n = len / 32;
        __asm__("clc\n"
                "1:\n\t"
                "adcq 0(%[p]), %[a]\n\t"
                "adcq 8(%[p]), %[a]\n\t"
                "adcq 16(%[p]), %[a]\n\t"
                "adcq 24(%[p]), %[a]\n\t"
                "leaq 32(%[p]), %[p]\n\t"
                "decq %[n]\n\t"
                "jnz 1b\n\t"
                "adcq $0, %[a]"
                : [a] "+&r"(a), [p] "+&r"(p), [n] "+&r"(n)
                :
                : "cc", "memory");
        len &= 31;
    }
    /* 16 and 8 bytes of the tail: one short chain each */
    if (len & 16) {
        __asm__("addq 0(%[p]), %[a]\n\t"
                "adcq 8(%[p]), %[a]\n\t"
                "adcq $0, %[a]"
                : [a] "+r"(a)
                : [p] "r"(p)
                : "cc", "memory");
        p += 16;
    }
    if (len & 8) {
        __asm__("addq 0(%[p]), %[a]\n\t"
                "adcq $0, %[a]"
                : [a] "+r"(a)
                : [p] "r"(p)
                : "cc", "memory");
        p += 8;
    }
    len &= 7;
#endif
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
#if PNI_CS_ADC
    if (len >= 32) {
        size_t n = len / 32;
        uint64_t t0, t1;
        __asm__("clc\n"
                "1:\n\t"
                "movq 0(%[s]), %[t0]\n\t"
                "movq 8(%[s]), %[t1]\n\t"
                "movq %[t0], 0(%[d])\n\t"
                "movq %[t1], 8(%[d])\n\t"
                "adcq %[t0], %[a]\n\t"
                "adcq %[t1], %[a]\n\t"
                "movq 16(%[s]), %[t0]\n\t"
                "movq 24(%[s]), %[t1]\n\t"
                "movq %[t0], 16(%[d])\n\t"
                "movq %[t1], 24(%[d])\n\t"
                "adcq %[t0], %[a]\n\t"
                "adcq %[t1], %[a]\n\t"
                "leaq 32(%[s]), %[s]\n\t"
                "leaq 32(%[d]), %[d]\n\t"
                "decq %[n]\n\t"
                "jnz 1b\n\t"
                "adcq $0, %[a]"
                : [a] "+&r"(a), [s] "+&r"(src), [d] "+&r"(dst), [n] "+&r"(n), [t0] "=&r"(t0),
                  [t1] "=&r"(t1)
                :
                : "cc", "memory");
        len &= 31;
    }
#endif
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
