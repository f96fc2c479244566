/*
 * fuzz_wire_ip4.c -- IPv4 header codec (options included): parse; emit,
 * re-parse, compare; the emitted header checksum must verify. Also the
 * Internet checksum helpers: the incremental update of RFC 1624 must agree
 * with a full recomputation.
 */
#include <string.h>

#include "harness.h"

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    pni_ip4_repr a, b;
    int c = pni_wire_ip4_check(data, len);
    int p = pni_wire_ip4_parse(data, len, &a);
    PN_FUZZ_CHECK(c == p, "ip4: check and parse agree");
    if (p != 0)
        return;
    PN_FUZZ_CHECK(a.hlen >= PNI_IP4_HLEN && a.hlen <= a.tot_len && a.tot_len <= len,
                  "ip4: hlen <= tot_len <= len");
    PN_FUZZ_CHECK(a.opt_len == a.hlen - PNI_IP4_HLEN && (a.opt_len == 0) == (a.opts == NULL),
                  "ip4: options view matches hlen");
    static uint8_t out[65536 + 64];
    PN_FUZZ_CHECK(pni_wire_ip4_emit(&a, out, (size_t)a.hlen - 1) == 0, "ip4: emit refuses a short buffer");
    size_t n = pni_wire_ip4_emit(&a, out, sizeof out);
    PN_FUZZ_CHECK(n == a.hlen, "ip4: emit writes hlen bytes");
    PN_FUZZ_CHECK(pni_csum(out, n) == 0, "ip4: emitted header checksum verifies");
    memcpy(out + n, data + a.hlen, (size_t)a.tot_len - a.hlen);
    PN_FUZZ_CHECK(pni_wire_ip4_parse(out, a.tot_len, &b) == 0, "ip4: emitted header parses");
    PN_FUZZ_CHECK(a.hlen == b.hlen && a.tos == b.tos && a.tot_len == b.tot_len && a.id == b.id &&
                      a.df == b.df && a.mf == b.mf && a.frag_off == b.frag_off && a.ttl == b.ttl &&
                      a.proto == b.proto && !memcmp(a.src, b.src, 4) && !memcmp(a.dst, b.dst, 4) &&
                      a.opt_len == b.opt_len && (a.opt_len == 0 || !memcmp(a.opts, b.opts, a.opt_len)),
                  "ip4: round trip keeps every field");
    /* RFC 1624: change the TTL/proto word and the ID incrementally */
    uint16_t cs = pni_be16(out + 10);
    uint16_t old = pni_be16(out + 8), nw = (uint16_t)(old - 0x0100);
    pni_put_be16(out + 8, nw);
    pni_put_be16(out + 10, pni_csum_update16(cs, old, nw));
    PN_FUZZ_CHECK(pni_csum(out, n) == 0, "csum: RFC 1624 16-bit update agrees with recomputation");
    cs = pni_be16(out + 10);
    uint32_t oa = pni_be32(out + 12), na = oa ^ 0x5a5a0ff0u;
    pni_put_be32(out + 12, na);
    pni_put_be16(out + 10, pni_csum_update32(cs, oa, na));
    PN_FUZZ_CHECK(pni_csum(out, n) == 0, "csum: RFC 1624 32-bit update agrees with recomputation");
    /* odd split: the sum of two spans, the second swapped, equals the whole */
    size_t k = len / 2 | 1;
    if (k < len) {
        uint64_t whole = pni_csum_partial(data, len, 0);
        uint64_t split = pni_csum_partial(data, k, 0) + pni_csum_swap(pni_csum_partial(data + k, len - k, 0));
        PN_FUZZ_CHECK(pni_csum_fold(whole) == pni_csum_fold(split), "csum: odd split with swap");
    }
}
