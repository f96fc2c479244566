/*
 * fuzz_wire_tcp.c -- TCP codec (options per FreeBSD's tcp_dooptions
 * model): parse with a pseudo-header from the first 8 input bytes; emit
 * under each SYN layout, re-parse, compare; emitted checksums must verify.
 */
#include <string.h>

#include "harness.h"

static void
same(const pni_tcp_repr *a, const pni_tcp_repr *b)
{
    PN_FUZZ_CHECK(a->sport == b->sport && a->dport == b->dport && a->seq == b->seq && a->ack == b->ack &&
                      a->flags == b->flags && a->win == b->win && a->urg == b->urg,
                  "tcp: round trip keeps the fixed header");
    PN_FUZZ_CHECK(a->has_mss == b->has_mss && (!a->has_mss || a->mss == b->mss), "tcp: round trip keeps MSS");
    PN_FUZZ_CHECK(a->has_ws == b->has_ws && (!a->has_ws || a->ws == b->ws), "tcp: round trip keeps WS");
    PN_FUZZ_CHECK(a->sack_ok == b->sack_ok, "tcp: round trip keeps SACK-permitted");
    PN_FUZZ_CHECK(a->has_ts == b->has_ts && (!a->has_ts || (a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr)),
                  "tcp: round trip keeps timestamps");
    PN_FUZZ_CHECK(b->n_sack <= a->n_sack, "tcp: emit never invents SACK blocks");
    for (unsigned i = 0; i < b->n_sack; i++)
        PN_FUZZ_CHECK(a->sack[i].left == b->sack[i].left && a->sack[i].right == b->sack[i].right,
                      "tcp: round trip keeps the SACK blocks it fits");
    if (a->n_sack > 0 && !a->has_mss && !a->has_ws && !a->sack_ok)
        PN_FUZZ_CHECK(b->n_sack >= (a->has_ts ? 3 : 4) || b->n_sack == a->n_sack,
                      "tcp: SACK blocks dropped only when they do not fit");
    PN_FUZZ_CHECK(a->payload_len == b->payload_len && memcmp(a->payload, b->payload, a->payload_len) == 0,
                  "tcp: round trip keeps the payload");
}

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    if (len < 8)
        return;
    const uint8_t *src = data, *dst = data + 4;
    data += 8;
    len -= 8;
    pni_tcp_repr a, b;
    int c = pni_wire_tcp_check(data, len, src, dst);
    int p = pni_wire_tcp_parse(data, len, src, dst, &a);
    PN_FUZZ_CHECK(c == p, "tcp: check and parse agree");
    if (p != 0)
        return;
    PN_FUZZ_CHECK(a.hlen >= PNI_TCP_HLEN && a.hlen <= len && a.hlen <= PNI_TCP_MAX_HLEN,
                  "tcp: data offset within the segment");
    PN_FUZZ_CHECK(a.payload == data + a.hlen && a.payload_len == len - a.hlen, "tcp: payload view");
    PN_FUZZ_CHECK(a.n_sack <= PNI_TCP_MAX_SACK, "tcp: at most 4 SACK blocks");
    static uint8_t out[65536 + 64];
    uint64_t psum = pni_csum_partial(a.payload, a.payload_len, 0);
    for (int layout = 0; layout <= PNI_TCP_LAYOUT_FREEBSD; layout++) {
        size_t ol = pni_wire_tcp_opts_len(&a, layout);
        PN_FUZZ_CHECK(ol % 4 == 0 && ol <= 40, "tcp: options length a multiple of 4, at most 40");
        PN_FUZZ_CHECK(pni_wire_tcp_emit(&a, layout, out, PNI_TCP_HLEN + ol - 1, src, dst, a.payload_len, psum) == 0,
                      "tcp: emit refuses a short buffer");
        size_t n = pni_wire_tcp_emit(&a, layout, out, sizeof out, src, dst, a.payload_len, psum);
        PN_FUZZ_CHECK(n == PNI_TCP_HLEN + ol, "tcp: emit writes 20 + opts_len bytes");
        memcpy(out + n, a.payload, a.payload_len);
        size_t tot = n + a.payload_len;
        uint64_t v = pni_csum_pseudo4(src, dst, PNI_IPPROTO_TCP, (uint32_t)tot) + pni_csum_partial(out, tot, 0);
        PN_FUZZ_CHECK(pni_csum_fold(v) == 0xffff, "tcp: emitted checksum verifies");
        PN_FUZZ_CHECK(pni_wire_tcp_parse(out, tot, src, dst, &b) == 0, "tcp: emitted segment parses");
        PN_FUZZ_CHECK(b.hlen == n, "tcp: data offset is what emit wrote");
        same(&a, &b);
    }
}
