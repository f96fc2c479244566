/*
 * wire_eth.c -- Ethernet II frames with an optional IEEE 802.1Q tag.
 *
 * The frame check sequence is not part of the span (NICs and TUN/TAP strip
 * it). One 802.1Q tag (TPID 0x8100) is parsed: its TCI is reported and the
 * inner EtherType becomes r->ethertype. A second tag (Q-in-Q) or an 802.3
 * length field (< 0x0600) is reported as is; the interface layer drops
 * types it does not handle, as it must for any unknown EtherType.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

int
pni_wire_eth_check(const uint8_t *p, size_t len)
{
    if (len < PNI_ETH_HLEN)
        return PNI_WE_TRUNC;
    if (pni_be16(p + 12) == PNI_ETHERTYPE_VLAN && len < PNI_ETH_VLAN_HLEN)
        return PNI_WE_TRUNC;
    return 0;
}

int
pni_wire_eth_parse(const uint8_t *p, size_t len, pni_eth_repr *r)
{
    int err = pni_wire_eth_check(p, len);
    if (err != 0)
        return err;
    memcpy(r->dst, p, 6);
    memcpy(r->src, p + 6, 6);
    uint16_t type = pni_be16(p + 12);
    if (type == PNI_ETHERTYPE_VLAN) {
        r->has_vlan = 1;
        r->vlan_tci = pni_be16(p + 14);
        r->ethertype = pni_be16(p + 16);
        r->hlen = PNI_ETH_VLAN_HLEN;
    } else {
        r->has_vlan = 0;
        r->vlan_tci = 0;
        r->ethertype = type;
        r->hlen = PNI_ETH_HLEN;
    }
    return 0;
}

size_t
pni_wire_eth_emit(const pni_eth_repr *r, uint8_t *p, size_t cap)
{
    size_t n = r->has_vlan ? PNI_ETH_VLAN_HLEN : PNI_ETH_HLEN;
    if (cap < n)
        return 0;
    memcpy(p, r->dst, 6);
    memcpy(p + 6, r->src, 6);
    if (r->has_vlan) {
        pni_put_be16(p + 12, PNI_ETHERTYPE_VLAN);
        pni_put_be16(p + 14, r->vlan_tci);
        pni_put_be16(p + 16, r->ethertype);
    } else {
        pni_put_be16(p + 12, r->ethertype);
    }
    return n;
}
