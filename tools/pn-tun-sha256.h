/*
 * pn-tun-sha256.h -- SHA-256 (FIPS 180-4) and the position-addressed test
 * pattern shared by tools/pn-tun and tests/interop_lwip. Host-side only.
 */
#ifndef PN_TUN_SHA256_H
#define PN_TUN_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct pn_sha256 {
    uint32_t h[8];
    uint64_t len;     /* bytes hashed so far */
    uint8_t blk[64];
    size_t nblk;      /* bytes waiting in blk */
} pn_sha256;

void pn_sha256_init(pn_sha256 *c);
void pn_sha256_update(pn_sha256 *c, const void *data, size_t n);
void pn_sha256_final(pn_sha256 *c, uint8_t out[32]);
/* Lower-case hex of the digest into hex[65] (NUL-terminated). */
void pn_sha256_hex(const uint8_t d[32], char hex[65]);

/* The test pattern: byte i of the stream is byte (i % 8) (little end
 * first) of splitmix64(i / 8). No period: a byte at the wrong offset
 * changes the hash. Fills dst with bytes [off, off + n). */
void pn_pattern_fill(uint8_t *dst, uint64_t off, size_t n);

#endif
