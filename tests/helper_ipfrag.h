/*
 * helper_ipfrag.h -- helpers shared by the fragmentation and reassembly
 * suites (check_frag.c, check_reass.c): a stack in a heap arena, and IPv4
 * fragments built by hand with pni_wire_ip4_emit into RX buffers.
 */
#ifndef HELPER_IPFRAG_H
#define HELPER_IPFRAG_H

#include "pn_check.h"
#include "pn_internal.h"

/* Defaults for the suites: bare IP medium, 10.0.0.1/24, MTU 1500. */
void pnt_cfg(pn_config *c);
/* Create a stack for cfg (NULL: pnt_cfg defaults). Free with pnt_free,
 * which first asserts every pool is back to zero use. */
pn_stack *pnt_stack(const pn_config *cfg);
void pnt_free(pn_stack *s);
/* Drop every queued outbound frame; returns how many there were. */
int pnt_drain(pn_stack *s);

/* The payload byte at datagram offset i of datagram id (a pattern that
 * differs per offset and per datagram, so misplaced bytes show). */
static inline uint8_t
pnt_pat(uint16_t id, uint32_t i)
{
    return (uint8_t)(i * 7u + (i >> 8) * 13u + id * 31u + 1u);
}

typedef struct pnt_dgram {
    uint8_t src[4];
    uint8_t dst[4];
    uint16_t id;
    uint8_t proto;
    uint8_t df;
    const uint8_t *opts; /* options of fragment zero (may be NULL) */
    uint8_t opt_len;     /* a multiple of 4 */
    uint16_t pad;        /* extra link padding bytes after tot_len */
} pnt_dgram;

/* A datagram with defaults: 10.0.0.2 -> 10.0.0.1, UDP, the given id. */
pnt_dgram pnt_dg(uint16_t id);

/* Build the fragment [off, off+len) of datagram d with flag mf in an RX
 * buffer (data = IP header) and parse its header into *ip. Fragment zero
 * carries d->opts. Payload bytes are pnt_pat(d->id, offset). */
pni_buf *pnt_frag(pn_stack *s, const pnt_dgram *d, uint32_t off, uint32_t len, int mf,
                  pni_ip4_repr *ip);

/* Build and feed a fragment to pni_reass_input; returns its result. */
pni_buf *pnt_feed(pn_stack *s, const pnt_dgram *d, uint32_t off, uint32_t len, int mf);

/* Check a reassembled datagram: valid header checksum, tot_len, no MF or
 * offset, payload of total bytes following pnt_pat(id). Does not free. */
void pnt_check_dgram(const pni_buf *b, uint16_t id, uint32_t total, uint32_t hlen);

/* Shuffle n uint32_t (Fisher-Yates with pn_test_rand). */
void pnt_shuffle(uint32_t *v, size_t n, uint64_t *seed);

#endif
