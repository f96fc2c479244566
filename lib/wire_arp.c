/*
 * wire_arp.c -- ARP for Ethernet hardware and IPv4 protocol addresses
 * (RFC 826). Only the 28-byte Ethernet/IPv4 form exists here; anything
 * else is BADTYPE. Frames shorter than 60 bytes are padded on the wire, so
 * bytes after the 28 are ignored.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

#define ARP_HTYPE_ETHER 1

int
pni_wire_arp_check(const uint8_t *p, size_t len)
{
    if (len < PNI_ARP_LEN)
        return PNI_WE_TRUNC;
    /* RFC 826 "Packet Reception": the hardware and protocol types and
     * their lengths must be ones we speak. */
    if (pni_be16(p) != ARP_HTYPE_ETHER || pni_be16(p + 2) != PNI_ETHERTYPE_IP4 || p[4] != 6 ||
        p[5] != 4)
        return PNI_WE_BADTYPE;
    uint16_t op = pni_be16(p + 6);
    if (op != PNI_ARP_REQUEST && op != PNI_ARP_REPLY)
        return PNI_WE_BADFIELD;
    return 0;
}

int
pni_wire_arp_parse(const uint8_t *p, size_t len, pni_arp_repr *r)
{
    int err = pni_wire_arp_check(p, len);
    if (err != 0)
        return err;
    r->op = pni_be16(p + 6);
    memcpy(r->sha, p + 8, 6);
    memcpy(r->spa, p + 14, 4);
    memcpy(r->tha, p + 18, 6);
    memcpy(r->tpa, p + 24, 4);
    return 0;
}

size_t
pni_wire_arp_emit(const pni_arp_repr *r, uint8_t *p, size_t cap)
{
    if (cap < PNI_ARP_LEN)
        return 0;
    pni_put_be16(p, ARP_HTYPE_ETHER);
    pni_put_be16(p + 2, PNI_ETHERTYPE_IP4);
    p[4] = 6;
    p[5] = 4;
    pni_put_be16(p + 6, r->op);
    memcpy(p + 8, r->sha, 6);
    memcpy(p + 14, r->spa, 4);
    memcpy(p + 18, r->tha, 6);
    memcpy(p + 24, r->tpa, 4);
    return PNI_ARP_LEN;
}
