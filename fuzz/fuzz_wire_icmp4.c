/*
 * fuzz_wire_icmp4.c -- ICMPv4 codec: parse (quotes of errors included);
 * emit, re-parse, compare; the emitted checksum must verify.
 */
#include <string.h>

#include "harness.h"

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    pni_icmp_repr a, b;
    int c = pni_wire_icmp_check(data, len);
    int p = pni_wire_icmp_parse(data, len, &a);
    PN_FUZZ_CHECK(c == p, "icmp: check and parse agree");
    if (p != 0)
        return;
    PN_FUZZ_CHECK(a.data == data + PNI_ICMP_HLEN && a.data_len == len - PNI_ICMP_HLEN,
                  "icmp: data view is the bytes after the header");
    if (a.has_quote) {
        PN_FUZZ_CHECK(a.quoted.hlen >= PNI_IP4_HLEN && (size_t)a.quoted.hlen + 8 <= a.data_len,
                      "icmp: a usable quote holds its header and 8 bytes");
        PN_FUZZ_CHECK(a.q_sport == pni_be16(a.data + a.quoted.hlen) &&
                          a.q_dport == pni_be16(a.data + a.quoted.hlen + 2),
                      "icmp: quoted ports are the words after the quoted header");
    }
    static uint8_t out[65536 + 8];
    PN_FUZZ_CHECK(pni_wire_icmp_emit(&a, out, PNI_ICMP_HLEN + a.data_len - 1) == 0,
                  "icmp: emit refuses a short buffer");
    size_t n = pni_wire_icmp_emit(&a, out, sizeof out);
    PN_FUZZ_CHECK(n == PNI_ICMP_HLEN + a.data_len, "icmp: emit writes 8 + data bytes");
    PN_FUZZ_CHECK(pni_csum_fold(pni_csum_partial(out, n, 0)) == 0xffff, "icmp: emitted checksum verifies");
    PN_FUZZ_CHECK(pni_wire_icmp_parse(out, n, &b) == 0, "icmp: emitted message parses");
    PN_FUZZ_CHECK(a.type == b.type && a.code == b.code && a.data_len == b.data_len &&
                      memcmp(a.data, b.data, a.data_len) == 0 && a.has_quote == b.has_quote,
                  "icmp: round trip keeps type, code and data");
    if (a.type == PNI_ICMP_ECHO_REQUEST || a.type == PNI_ICMP_ECHO_REPLY)
        PN_FUZZ_CHECK(a.id == b.id && a.seq == b.seq, "icmp: round trip keeps echo id and seq");
    if (a.type == PNI_ICMP_DEST_UNREACH && a.code == PNI_ICMP_FRAG_NEEDED)
        PN_FUZZ_CHECK(a.next_mtu == b.next_mtu, "icmp: round trip keeps next-hop MTU");
    /* emit with the data already in place (r->data == p + 8) */
    b.data = out + PNI_ICMP_HLEN;
    PN_FUZZ_CHECK(pni_wire_icmp_emit(&b, out, sizeof out) == n, "icmp: in-place emit");
    PN_FUZZ_CHECK(pni_csum_fold(pni_csum_partial(out, n, 0)) == 0xffff, "icmp: in-place checksum");
}
