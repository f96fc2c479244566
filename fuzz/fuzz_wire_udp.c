/*
 * fuzz_wire_udp.c -- UDP codec: parse (with a pseudo-header from the first
 * 8 input bytes); emit the header, re-parse, compare; the emitted checksum
 * must verify.
 */
#include <string.h>

#include "harness.h"

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    if (len < 8)
        return;
    const uint8_t *src = data, *dst = data + 4;
    data += 8;
    len -= 8;
    pni_udp_repr a, b;
    int c = pni_wire_udp_check(data, len, src, dst);
    int p = pni_wire_udp_parse(data, len, src, dst, &a);
    PN_FUZZ_CHECK(c == p, "udp: check and parse agree");
    if (p != 0)
        return;
    PN_FUZZ_CHECK(a.len >= PNI_UDP_HLEN && a.len <= len, "udp: length within the buffer");
    PN_FUZZ_CHECK(a.payload == data + PNI_UDP_HLEN && a.payload_len == (size_t)a.len - PNI_UDP_HLEN,
                  "udp: payload view is the bytes after the header");
    static uint8_t out[65536 + 8];
    PN_FUZZ_CHECK(pni_wire_udp_emit(&a, out, 7, src, dst, 0) == 0, "udp: emit refuses a short buffer");
    uint64_t sum = pni_csum_partial(a.payload, a.payload_len, 0);
    PN_FUZZ_CHECK(pni_wire_udp_emit(&a, out, sizeof out, src, dst, sum) == PNI_UDP_HLEN,
                  "udp: emit writes 8 bytes");
    memcpy(out + PNI_UDP_HLEN, a.payload, a.payload_len);
    PN_FUZZ_CHECK(pni_wire_udp_parse(out, a.len, src, dst, &b) == 0, "udp: emitted datagram parses");
    PN_FUZZ_CHECK(a.sport == b.sport && a.dport == b.dport && a.len == b.len &&
                      b.payload_len == a.payload_len,
                  "udp: round trip keeps every field");
    PN_FUZZ_CHECK(b.csum != 0, "udp: emit always sends a checksum");
    uint64_t v = pni_csum_pseudo4(src, dst, PNI_IPPROTO_UDP, a.len) + pni_csum_partial(out, a.len, 0);
    PN_FUZZ_CHECK(pni_csum_fold(v) == 0xffff, "udp: emitted checksum verifies");
}
