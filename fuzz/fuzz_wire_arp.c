/*
 * fuzz_wire_arp.c -- ARP codec: parse; emit, re-parse, compare.
 */
#include <string.h>

#include "harness.h"

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    pni_arp_repr a, b;
    int c = pni_wire_arp_check(data, len);
    int p = pni_wire_arp_parse(data, len, &a);
    PN_FUZZ_CHECK(c == p, "arp: check and parse agree");
    if (p != 0)
        return;
    PN_FUZZ_CHECK(a.op == PNI_ARP_REQUEST || a.op == PNI_ARP_REPLY, "arp: only ops 1 and 2 parse");
    uint8_t out[PNI_ARP_LEN];
    PN_FUZZ_CHECK(pni_wire_arp_emit(&a, out, PNI_ARP_LEN - 1) == 0, "arp: emit refuses a short buffer");
    PN_FUZZ_CHECK(pni_wire_arp_emit(&a, out, sizeof out) == PNI_ARP_LEN, "arp: emit writes 28 bytes");
    PN_FUZZ_CHECK(pni_wire_arp_parse(out, sizeof out, &b) == 0, "arp: emitted packet parses");
    PN_FUZZ_CHECK(memcmp(&a, &b, sizeof a) == 0 || (a.op == b.op && !memcmp(a.sha, b.sha, 6) &&
                                                     !memcmp(a.spa, b.spa, 4) && !memcmp(a.tha, b.tha, 6) &&
                                                     !memcmp(a.tpa, b.tpa, 4)),
                  "arp: round trip keeps every field");
    PN_FUZZ_CHECK(memcmp(out, data, PNI_ARP_LEN) == 0, "arp: emit reproduces the parsed bytes");
}
