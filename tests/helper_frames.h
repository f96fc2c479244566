/*
 * helper_frames.h -- hand-built frames for tests, written independently of
 * lib/wire_*.c so that codec bugs cannot hide behind themselves.
 * All builders write into out (>= 14 + 60 + 8 + payload bytes) and return
 * the frame length. A NULL smac builds a bare IP packet (no Ethernet).
 */
#ifndef PN_HELPER_FRAMES_H
#define PN_HELPER_FRAMES_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t pn_tf_bcast[6];

/* RFC 1071 checksum of p[0..len) with a starting partial sum. */
uint16_t pn_tf_csum(const void *p, size_t len, uint32_t sum);

size_t pn_tf_arp(uint8_t *out, uint16_t op, const uint8_t ethdst[6], const uint8_t sha[6],
                 const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4]);

typedef struct pn_tf_ip {
    const uint8_t *dmac, *smac; /* smac NULL: no Ethernet header */
    uint8_t src[4], dst[4];
    uint8_t proto, ttl, tos;
    uint16_t id;
    uint16_t frag;              /* flags + offset word as on the wire */
    int16_t tot_len_adj;        /* added to the true tot_len (malformed tests) */
} pn_tf_ip;

/* Ethernet (optional) + 20-byte IPv4 header + payload. */
size_t pn_tf_ip4(uint8_t *out, const pn_tf_ip *h, const void *payload, size_t plen);
/* UDP datagram with a correct checksum (csum_override != 0 replaces it). */
size_t pn_tf_udp(uint8_t *out, const pn_tf_ip *h, uint16_t sport, uint16_t dport, const void *data,
                 size_t len, uint16_t csum_override);
/* ICMP message type/code with 4 "rest of header" bytes and data. */
size_t pn_tf_icmp(uint8_t *out, const pn_tf_ip *h, uint8_t type, uint8_t code, uint32_t rest,
                  const void *data, size_t len);

#endif
