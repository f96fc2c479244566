/*
 * fuzz_wire_eth.c -- Ethernet II / 802.1Q codec: parse; then emit the
 * repr, parse it again and compare field by field.
 */
#include <string.h>

#include "harness.h"

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    pni_eth_repr a, b;
    int c = pni_wire_eth_check(data, len);
    int p = pni_wire_eth_parse(data, len, &a);
    PN_FUZZ_CHECK(c == p, "eth: check and parse agree");
    if (p != 0)
        return;
    PN_FUZZ_CHECK(a.hlen == (a.has_vlan ? PNI_ETH_VLAN_HLEN : PNI_ETH_HLEN) && a.hlen <= len,
                  "eth: hlen matches the tag and fits");
    uint8_t out[PNI_ETH_VLAN_HLEN];
    PN_FUZZ_CHECK(pni_wire_eth_emit(&a, out, a.hlen - 1) == 0, "eth: emit refuses a short buffer");
    size_t n = pni_wire_eth_emit(&a, out, sizeof out);
    PN_FUZZ_CHECK(n == a.hlen, "eth: emit writes hlen bytes");
    PN_FUZZ_CHECK(pni_wire_eth_parse(out, n, &b) == 0, "eth: emitted header parses");
    PN_FUZZ_CHECK(memcmp(a.dst, b.dst, 6) == 0 && memcmp(a.src, b.src, 6) == 0 &&
                      a.ethertype == b.ethertype && a.has_vlan == b.has_vlan &&
                      (!a.has_vlan || a.vlan_tci == b.vlan_tci) && a.hlen == b.hlen,
                  "eth: round trip keeps every field");
    PN_FUZZ_CHECK(memcmp(out, data, n) == 0, "eth: emit reproduces the parsed bytes");
}
