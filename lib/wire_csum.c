/*
 * wire_csum.c -- the Internet checksum (RFC 1071), its incremental update
 * (RFC 1624), the IPv4 pseudo-header, and the names of the PNI_WE_* codes.
 *
 * IMPLEMENTATION NOTES
 * - The checksum is the one's complement of the one's complement sum of
 *   16-bit big-endian words (RFC 1071 section 1). One's complement addition
 *   is addition modulo 0xffff (with 0xffff and 0 both standing for zero), so
 *   any wider accumulator whose modulus is a multiple of 0xffff gives the
 *   same residue: we may add 32-bit words into a 64-bit register and fold
 *   the carries back at the end (RFC 1071 section 2 (C), "parallel
 *   summation", and (D) "deferred carries").
 * - Byte order (RFC 1071 section 2 (B)): summing byte-swapped words yields
 *   the byte-swapped sum. So the inner loop loads each 4-byte group with
 *   memcpy in HOST order: on a big-endian host the value is the two BE
 *   words side by side; on a little-endian host it is the same two words,
 *   each byte-swapped, in the other order. Word order does not matter
 *   modulo 0xffff (2^16 = 1). After folding to 16 bits a little-endian
 *   host swaps the two bytes once and the result is the big-endian sum on
 *   every host. Endianness comes from __BYTE_ORDER__ at compile time; with
 *   an unknown compiler we fall back to byte-wise big-endian loads, which
 *   are correct everywhere, only slower.
 * - Wide path (64-bit targets, UINTPTR_MAX > 2^32, known byte order):
 *   8-byte groups, loaded in host order like the 4-byte ones, are added
 *   into 64-bit accumulators, and each carry out of bit 63 is counted
 *   apart ("c += (a < w)" after "a += w": compilers emit add + adc). An
 *   8-byte group holds four 16-bit words at weights 2^0, 2^16, 2^32, 2^48,
 *   all 1 modulo 0xffff, so the byte-order argument above holds; a carry
 *   is worth 2^64, also 1 modulo 0xffff (2^64 - 1 is a multiple of
 *   0xffff), so the carry count is simply added back at the end. With two
 *   accumulator pairs (independent chains) and 64 bytes per turn, gcc 12
 *   and clang 14 make about 22 instructions per 64 bytes on x86-64: 0.35
 *   per byte against 0.85 for the 4-byte loop. (An unsigned __int128
 *   accumulator is the same arithmetic, but gcc 12 spills it.) A counter
 *   gains at most one per 8 bytes, so neither overflows.
 * - x86-64 path (gcc and clang; -DPN_NO_ASM turns it off): 128-byte
 *   blocks are summed by a short inline-asm loop of sixteen `adcq mem,
 *   reg`, the add-with-carry chain of RFC 1071 section 4.3 and Linux's
 *   csum_partial: one instruction per 8 bytes, 19 per 128 (0.15 per byte,
 *   against 23 per 64 for the C loop, whose carries must be counted apart
 *   because C has no carry flag). The rest is one add-with-carry run each
 *   for 64, 32, 16 and 8 bytes as the length has those bits, and one
 *   group for the last 0..7 bytes; one fold at the end.
 * - AVX2 path (x86-64, gcc >= 7 or clang, when the stack's vec flag is
 *   set: pn_stack_new asks CPUID and XGETBV once, unless cfg.no_vector):
 *   the adc chain above does one 8-byte word per cycle however wide the
 *   core, because each adc waits for the last one's carry; in W1 it was
 *   a third of the wall-clock time. vpmaddwd multiplies 16-bit words by 1
 *   and adds neighbours into 32-bit lanes: sixteen words per instruction,
 *   no chain between blocks. It multiplies signed words, so each word w
 *   is biased to w - 0x8000 (xor 0x8000) and 0x8000 per word is added
 *   back at the end; the lanes are widened to 64 bits before they could
 *   overflow. The result is the exact sum of the host-order words, which
 *   joins the adc accumulator like any 64-bit group. It is 16 instructions
 *   per 128 bytes against adc's 19 (the widening and the bias cost a few
 *   per call), so instruction counts barely move; the gain is time (a
 *   microbenchmark on this machine's EPYC: 64 ns to 25 ns to copy and sum
 *   1460 bytes; W1 42 to 55 Gbit/s). Spans under VEC_MIN keep the adc
 *   chain, cheaper there. SSE2 alone (baseline
 *   x86-64) does the same in 16-byte halves for more instructions than
 *   adc, so without AVX2 the adc path stays. AVX-512 is not used:
 *   valgrind cannot run it, and AVX2 already leaves the sum a small part
 *   of W1.
 * - Narrow path (everything else, e.g. Cortex-M, where 64-bit adds are two
 *   instructions anyway): 4-byte groups into four 64-bit accumulators,
 *   which take at most 2^32 additions of values below 2^32 before they
 *   could overflow; the loop folds every 2^30 bytes (CHUNK) so that any
 *   size_t length is safe. The wide path uses the same chunking; it does
 *   not need it, and it costs nothing.
 * - Tail bytes (len % 8, or % 4) are copied into a zeroed group at their
 *   natural positions, so an odd final byte is padded with a zero on its
 *   right exactly as RFC 1071 section 4.1 pads it, on both byte orders.
 * - pni_csum_copy copies and sums. It is memcpy followed by the sum of the
 *   destination while it is still in the L1 cache, in pieces of COPY_PIECE
 *   bytes: measured under callgrind, a scalar loop that loads, stores and
 *   adds each word costs more instructions than the C library's vector
 *   memcpy plus the wide sum.
 * - The public "partial sum" is a canonical BE-word accumulator; joining it
 *   with another uses an end-around-carry 64-bit add (2^64 - 1 is a
 *   multiple of 0xffff), so callers may add partial sums freely.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

#define HOST_LE PNI_HOST_LE
#define HOST_BE PNI_HOST_BE /* neither: portable byte-wise loads */

/* sum_chunk is inlined into its few callers: pni_csum_partial runs once
 * per header and per payload, and a call costs as much as a short sum. */
#if defined(__GNUC__)
#define SUM_INLINE inline __attribute__((always_inline))
#else
#define SUM_INLINE inline
#endif

/* Bytes summed between two folds of the local accumulator (see notes). */
#define CHUNK ((size_t)1 << 30)

const char *
pni_wire_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case PNI_WE_TRUNC:
        return "truncated header";
    case PNI_WE_BADLEN:
        return "length field disagrees with buffer";
    case PNI_WE_BADVER:
        return "bad IP version";
    case PNI_WE_BADHLEN:
        return "header length too small";
    case PNI_WE_BADCSUM:
        return "checksum mismatch";
    case PNI_WE_BADOPT:
        return "malformed option";
    case PNI_WE_BADTYPE:
        return "unsupported hardware or protocol type";
    case PNI_WE_BADFIELD:
        return "impossible field value";
    default:
        return "unknown wire error";
    }
}

/* Add with end-around carry: one's complement addition modulo 2^64 - 1. */
static uint64_t
add64(uint64_t a, uint64_t b)
{
    uint64_t s = a + b;
    return s + (s < b);
}

/* Fold a 64-bit accumulator to 16 bits, preserving the residue mod 0xffff. */
static uint16_t
fold64(uint64_t s)
{
    return pni_csum_fold(s);
}

static uint16_t
swap16(uint16_t v)
{
    return (uint16_t)((v << 8) | (v >> 8));
}

#if UINTPTR_MAX > 0xffffffffu && (HOST_LE || HOST_BE)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(PN_NO_ASM)
#define HAVE_ADC_LOOP 1
#if PNI_HAVE_VEC /* wire.h: this path with gcc >= 7 or clang */
#define HAVE_VEC_SUM 1
#include <cpuid.h>
#include <immintrin.h>
#endif
/* Sum of n 128-byte blocks (n >= 1) as one add-with-carry chain (see notes:
 * x86-64 path). Returns a 64-bit accumulator whose last carry out of bit
 * 63 has been added back (end-around carry). lea and dec leave the carry
 * flag alone, so the chain runs on across turns of the loop. */
static uint64_t
adc_blocks(const uint8_t *p, size_t n)
{
    uint64_t a = 0;
    __asm__("clc\n"
            "1:\n\t"
            "adcq 0(%[p]), %[a]\n\t"
            "adcq 8(%[p]), %[a]\n\t"
            "adcq 16(%[p]), %[a]\n\t"
            "adcq 24(%[p]), %[a]\n\t"
            "adcq 32(%[p]), %[a]\n\t"
            "adcq 40(%[p]), %[a]\n\t"
            "adcq 48(%[p]), %[a]\n\t"
            "adcq 56(%[p]), %[a]\n\t"
            "adcq 64(%[p]), %[a]\n\t"
            "adcq 72(%[p]), %[a]\n\t"
            "adcq 80(%[p]), %[a]\n\t"
            "adcq 88(%[p]), %[a]\n\t"
            "adcq 96(%[p]), %[a]\n\t"
            "adcq 104(%[p]), %[a]\n\t"
            "adcq 112(%[p]), %[a]\n\t"
            "adcq 120(%[p]), %[a]\n\t"
            "leaq 128(%[p]), %[p]\n\t"
            "decq %[n]\n\t"
            "jnz 1b\n\t"
            "adcq $0, %[a]"
            : [a] "+&r"(a), [p] "+&r"(p), [n] "+&r"(n)
            :
            : "cc", "memory");
    return a;
}

#if HAVE_VEC_SUM
/* Sum of the 16-bit host-order words of n 64-byte blocks (n >= 1), exact
 * (see notes: AVX2 path). vpmaddwd multiplies signed words, so each word
 * w is biased to w - 0x8000 first (xor 0x8000) and the bias, 0x8000 per
 * word, is added back at the end. Each 32-bit lane of the accumulator
 * gains at most 4 * 65,536 per two blocks: BLOCKS_PER_ROUND blocks keep
 * it inside int32, after which the lanes are widened to 64 bits. */
#define BLOCKS_PER_ROUND ((size_t)4096)
/* Shortest span given to avx2_blocks: below it the call, the widening and
 * the bias cost more than the adc chain saves (W2 TCP's 96-byte segments
 * measured 2,554 instructions per write with adc only and 2,631 with the
 * AVX2 loop from 64 bytes). */
#define VEC_MIN ((size_t)256)

/* The 32 bytes at p as eight 32-bit lanes, each the sum of two biased
 * words. */
__attribute__((target("avx2"))) static inline __m256i
vsum32(const uint8_t *p, __m256i bias, __m256i ones)
{
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
    return _mm256_madd_epi16(_mm256_xor_si256(x, bias), ones);
}

__attribute__((target("avx2"))) static uint64_t
avx2_blocks(const uint8_t *p, size_t n)
{
    const __m256i bias = _mm256_set1_epi16((short)0x8000);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i wide = _mm256_setzero_si256();
    uint64_t words = (uint64_t)n * 32;
#define VSUM(off) vsum32(p + (off), bias, ones)
    while (n > 0) {
        size_t k = n < BLOCKS_PER_ROUND ? n : BLOCKS_PER_ROUND;
        n -= k;
        __m256i a = _mm256_setzero_si256();
        for (; k >= 2; k -= 2) { /* 128 bytes a turn, summed as a tree */
            __m256i t = _mm256_add_epi32(VSUM(0), VSUM(32));
            a = _mm256_add_epi32(a, _mm256_add_epi32(VSUM(64), VSUM(96)));
            a = _mm256_add_epi32(a, t);
            p += 128;
        }
        if (k > 0) {
            a = _mm256_add_epi32(a, _mm256_add_epi32(VSUM(0), VSUM(32)));
            p += 64;
        }
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)));
        wide = _mm256_add_epi64(wide, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1)));
    }
#undef VSUM
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
    h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
    return (uint64_t)_mm_cvtsi128_si64(h) + words * 0x8000u;
}
#endif

/* a plus n 8-byte groups at p (n = 4, 2, 1), with end-around carry. */
#define ADC_GROUPS(a, p, body) __asm__(body "adcq $0, %[a]" : [a] "+r"(a) : [p] "r"(p) : "cc", "memory")

/* Sum of one chunk (len <= CHUNK), folded to 16 bits in BE-word terms:
 * the blocks of 128 in the loop above, then one add-with-carry run each
 * for 64, 32, 16 and 8 bytes as len has those bits, then the last 0..7 bytes
 * placed in one 64-bit group at weights 2^0, 2^32 and 2^48 (all 1 modulo
 * 0xffff; on little-endian hosts a lone last byte is the low byte of its
 * lane, as in the C path). */
static SUM_INLINE uint16_t
sum_chunk_v(const uint8_t *p, size_t len, int vec)
{
    uint64_t a = 0;
#if HAVE_VEC_SUM
    if (vec && len >= VEC_MIN) {
        a = avx2_blocks(p, len / 64);
        p += len & ~(size_t)63;
        len &= 63;
    }
#else
    (void)vec;
#endif
    if (len >= 128) {
        a = adc_blocks(p, len / 128);
        p += len & ~(size_t)127;
    }
    if (len & 64) {
        ADC_GROUPS(a, p, "addq 0(%[p]), %[a]\n\tadcq 8(%[p]), %[a]\n\t"
                         "adcq 16(%[p]), %[a]\n\tadcq 24(%[p]), %[a]\n\t"
                         "adcq 32(%[p]), %[a]\n\tadcq 40(%[p]), %[a]\n\t"
                         "adcq 48(%[p]), %[a]\n\tadcq 56(%[p]), %[a]\n\t");
        p += 64;
    }
    if (len & 32) {
        ADC_GROUPS(a, p, "addq 0(%[p]), %[a]\n\tadcq 8(%[p]), %[a]\n\t"
                         "adcq 16(%[p]), %[a]\n\tadcq 24(%[p]), %[a]\n\t");
        p += 32;
    }
    if (len & 16) {
        ADC_GROUPS(a, p, "addq 0(%[p]), %[a]\n\tadcq 8(%[p]), %[a]\n\t");
        p += 16;
    }
    if (len & 8) {
        ADC_GROUPS(a, p, "addq 0(%[p]), %[a]\n\t");
        p += 8;
    }
    uint64_t t = 0;
    if (len & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        t = v;
        p += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        t += (uint64_t)v << 32;
        p += 2;
    }
    if (len & 1)
        t += (uint64_t)p[0] << 48;
    return swap16(fold64(add64(a, t)));
}

#define sum_chunk(p, len) sum_chunk_v(p, len, 0)

#else /* C wide path */

/* Load eight bytes as one 64-bit group (host order, see notes). */
static uint64_t
load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Sum of one chunk (len <= CHUNK), folded to 16 bits in BE-word terms. */
static SUM_INLINE uint16_t
sum_chunk(const uint8_t *p, size_t len)
{
    /* Sums a0, a1 and their carry counts c0, c1: two independent chains. */
    uint64_t a0 = 0, a1 = 0, c0 = 0, c1 = 0, w;
#define ADD(a, c, off) (w = load64(p + (off)), (a) += w, (c) += (a) < w)
    while (len >= 64) {
        ADD(a0, c0, 0);
        ADD(a1, c1, 8);
        ADD(a0, c0, 16);
        ADD(a1, c1, 24);
        ADD(a0, c0, 32);
        ADD(a1, c1, 40);
        ADD(a0, c0, 48);
        ADD(a1, c1, 56);
        p += 64;
        len -= 64;
    }
    while (len >= 8) {
        ADD(a0, c0, 0);
        p += 8;
        len -= 8;
    }
    /* Tail: a 4-byte, a 2-byte group and an odd byte, loaded in host
     * order as well. They start at even offsets, where every 16-bit lane
     * of any group width has weight 1 modulo 0xffff, so they join the same
     * accumulator. The odd byte is the high byte of a zero-padded BE word
     * (RFC 1071 4.1): value b << 8, which is b in host order on LE. */
    if (len & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        a1 += v;
        c1 += a1 < v;
        p += 4;
    }
    if (len & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        a1 += v;
        c1 += a1 < v;
        p += 2;
    }
    if (len & 1) {
#if HOST_LE
        uint64_t v = p[0];
#else
        uint64_t v = (uint64_t)p[0] << 8;
#endif
        a1 += v;
        c1 += a1 < v;
    }
#undef ADD
    uint16_t s = fold64(add64(add64(a0, a1), c0 + c1));
#if HOST_LE
    s = swap16(s);
#endif
    return s;
}
#endif /* x86-64 asm or C wide path */

#else /* narrow path */

/* Load four bytes as one 32-bit group in the order the fold expects. */
static uint32_t
load32(const uint8_t *p)
{
#if HOST_LE || HOST_BE
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
#else
    return pni_be32(p);
#endif
}

/* Sum of one chunk (len <= CHUNK), folded to 16 bits in BE-word terms. */
static SUM_INLINE uint16_t
sum_chunk(const uint8_t *p, size_t len)
{
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    /* Four independent accumulators keep the adds from serialising. */
    while (len >= 16) {
        a0 += load32(p);
        a1 += load32(p + 4);
        a2 += load32(p + 8);
        a3 += load32(p + 12);
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        a0 += load32(p);
        p += 4;
        len -= 4;
    }
    if (len > 0) {
        uint8_t t[4] = {0, 0, 0, 0};
        memcpy(t, p, len);
        a1 += load32(t);
    }
    uint16_t s = fold64(add64(add64(a0, a1), add64(a2, a3)));
#if HOST_LE
    s = swap16(s);
#endif
    return s;
}
#endif /* wide or narrow path */

/* More than CHUNK bytes: kept out of line, so that the usual short call
 * has one inlined sum_chunk. */
static uint64_t
partial_big(const uint8_t *p, size_t len, uint64_t sum)
{
    while (len > CHUNK) {
        sum = add64(sum, sum_chunk(p, CHUNK));
        p += CHUNK;
        len -= CHUNK;
    }
    return add64(sum, sum_chunk(p, len));
}

uint64_t
pni_csum_partial(const void *data, size_t len, uint64_t sum)
{
    if (len > CHUNK)
        return partial_big(data, len, sum);
    return add64(sum, sum_chunk(data, len));
}

#if HAVE_VEC_SUM
uint64_t
pni_csum_partial_v(const void *data, size_t len, uint64_t sum, int vec)
{
    if (len > CHUNK)
        return partial_big(data, len, sum);
    return add64(sum, sum_chunk_v(data, len, vec));
}

int
pni_cpu_vec(void)
{
    /* AVX2 needs the CPU's flag (CPUID leaf 7, EBX bit 5) and an OS that
     * saves the YMM registers: OSXSAVE and AVX in leaf 1, and XCR0's SSE
     * and AVX state bits (Intel SDM vol. 1, 14.3). */
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_OSXSAVE) == 0 || (c & bit_AVX) == 0)
        return 0;
    uint32_t lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 6u) != 6u || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b & bit_AVX2) != 0;
}
#endif

/* Bytes copied before they are summed, small enough to stay in L1. */
#define COPY_PIECE ((size_t)4096)

uint64_t
pni_csum_copy(void *dst, const void *src, size_t len, uint64_t sum)
{
    uint8_t *d = dst;
    const uint8_t *p = src;
    uint64_t part = 0;
    size_t done = 0;
    /* Pieces are even, so every piece's sum joins without a swap. */
    while (len - done > COPY_PIECE) {
        memcpy(d + done, p + done, COPY_PIECE);
        part = add64(part, sum_chunk(d + done, COPY_PIECE));
        done += COPY_PIECE;
    }
    memcpy(d + done, p + done, len - done);
    part = add64(part, sum_chunk(d + done, len - done));
    return add64(sum, fold64(part));
}

uint64_t
pni_csum_swap(uint64_t sum)
{
    return swap16(fold64(sum));
}

uint16_t
pni_csum(const void *p, size_t len)
{
    return (uint16_t)~fold64(pni_csum_partial(p, len, 0));
}

/* RFC 1624 section 3, eqn. 3: HC' = ~(~HC + ~m + m'). The end-around-carry
 * sum inside is never 0 unless every term is, so HC' is never 0xffff: the
 * same form a full recomputation gives (RFC 1624 section 3 derives why eqn.
 * 3 rather than RFC 1141's form). The one difference from a recomputation
 * is data that becomes all zeros (recompute 0xffff, eqn. 3 gives 0), which
 * no IPv4 header or transport segment with a pseudo-header can be. */
uint16_t
pni_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    uint64_t s = (uint16_t)~csum;
    s += (uint16_t)~old_word;
    s += new_word;
    return (uint16_t)~fold64(s);
}

uint16_t
pni_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
    uint64_t s = (uint16_t)~csum;
    s += (uint16_t)~(old_val >> 16);
    s += (uint16_t)~(old_val & 0xffffu);
    s += new_val >> 16;
    s += new_val & 0xffffu;
    return (uint16_t)~fold64(s);
}
