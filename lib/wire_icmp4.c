/*
 * wire_icmp4.c -- ICMPv4 (RFC 792): echo, destination unreachable, time
 * exceeded; other types parse to their type, code and data.
 *
 * IMPLEMENTATION NOTES
 * - p..len is the IP payload (tot_len - hlen, not the link-padded span):
 *   the checksum covers the whole ICMP message (RFC 792, "Checksum" of
 *   every message type), so trailing link padding would break it.
 * - Error messages (types 3 and 11) carry "the internet header plus the
 *   first 64 bits of the original datagram's data" (RFC 792); RFC 1812
 *   section 4.3.2.3 lets routers quote more. The quote is parsed leniently:
 *   it is the datagram as it was on the wire at the reporter, so its header
 *   checksum is not verified and its tot_len may exceed what was quoted.
 *   It must still hold a version-4 header with IHL >= 5, that header and
 *   its IHL, and 8 bytes after it; otherwise has_quote stays 0 and the
 *   message itself is still valid (the caller simply cannot demultiplex it).
 * - next_mtu is the RFC 1191 section 4 field, read for code 4 (fragmentation
 *   needed) of type 3 and zero otherwise.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

static int
is_error_type(uint8_t type)
{
    return type == PNI_ICMP_DEST_UNREACH || type == PNI_ICMP_TIME_EXCEEDED;
}

/* Lenient parse of a quoted datagram (see notes). Returns 1 on success. */
static int
parse_quote(const uint8_t *q, size_t qlen, pni_icmp_repr *r)
{
    if (qlen < PNI_IP4_HLEN || (q[0] >> 4) != 4)
        return 0;
    size_t hlen = (size_t)(q[0] & 0x0f) * 4;
    if (hlen < PNI_IP4_HLEN || hlen > qlen || qlen - hlen < 8)
        return 0;
    size_t tot = pni_be16(q + 2);
    if (tot < hlen)
        return 0;
    uint16_t ff = pni_be16(q + 6);
    pni_ip4_repr *ip = &r->quoted;
    ip->hlen = (uint8_t)hlen;
    ip->tos = q[1];
    ip->tot_len = (uint16_t)tot;
    ip->id = pni_be16(q + 4);
    ip->df = (ff & PNI_IP4_DF) != 0;
    ip->mf = (ff & PNI_IP4_MF) != 0;
    ip->frag_off = (uint16_t)((ff & PNI_IP4_OFFMASK) * 8);
    ip->ttl = q[8];
    ip->proto = q[9];
    ip->csum = pni_be16(q + 10);
    memcpy(ip->src, q + 12, 4);
    memcpy(ip->dst, q + 16, 4);
    ip->opt_len = (uint8_t)(hlen - PNI_IP4_HLEN);
    ip->opts = ip->opt_len > 0 ? q + PNI_IP4_HLEN : NULL;
    r->q_sport = pni_be16(q + hlen);
    r->q_dport = pni_be16(q + hlen + 2);
    return 1;
}

int
pni_wire_icmp_check(const uint8_t *p, size_t len)
{
    if (len < PNI_ICMP_HLEN)
        return PNI_WE_TRUNC;
#ifndef PN_FUZZ_NO_CSUM
    if (pni_csum(p, len) != 0)
        return PNI_WE_BADCSUM;
#else
    (void)p;
#endif
    return 0;
}

int
pni_wire_icmp_parse(const uint8_t *p, size_t len, pni_icmp_repr *r)
{
    int err = pni_wire_icmp_check(p, len);
    if (err != 0)
        return err;
    memset(r, 0, sizeof(*r));
    r->type = p[0];
    r->code = p[1];
    r->csum = pni_be16(p + 2);
    r->data = p + PNI_ICMP_HLEN;
    r->data_len = len - PNI_ICMP_HLEN;
    switch (r->type) {
    case PNI_ICMP_ECHO_REQUEST:
    case PNI_ICMP_ECHO_REPLY:
        r->id = pni_be16(p + 4);
        r->seq = pni_be16(p + 6);
        break;
    case PNI_ICMP_DEST_UNREACH:
        if (r->code == PNI_ICMP_FRAG_NEEDED)
            r->next_mtu = pni_be16(p + 6);
        break;
    default:
        break;
    }
    if (is_error_type(r->type))
        r->has_quote = (uint8_t)parse_quote(r->data, r->data_len, r);
    return 0;
}

size_t
pni_wire_icmp_emit(const pni_icmp_repr *r, uint8_t *p, size_t cap)
{
    if (cap < PNI_ICMP_HLEN || cap - PNI_ICMP_HLEN < r->data_len)
        return 0;
    size_t n = PNI_ICMP_HLEN + r->data_len;
    /* Data first: it may overlap p + 8 (or be exactly there). */
    if (r->data_len > 0 && r->data != p + PNI_ICMP_HLEN)
        memmove(p + PNI_ICMP_HLEN, r->data, r->data_len);
    p[0] = r->type;
    p[1] = r->code;
    pni_put_be16(p + 2, 0);
    switch (r->type) {
    case PNI_ICMP_ECHO_REQUEST:
    case PNI_ICMP_ECHO_REPLY:
        pni_put_be16(p + 4, r->id);
        pni_put_be16(p + 6, r->seq);
        break;
    case PNI_ICMP_DEST_UNREACH:
        /* RFC 792 "unused" (zero), RFC 1191 section 4 next-hop MTU. */
        pni_put_be16(p + 4, 0);
        pni_put_be16(p + 6, r->code == PNI_ICMP_FRAG_NEEDED ? r->next_mtu : 0);
        break;
    default:
        pni_put_be32(p + 4, 0);
        break;
    }
    pni_put_be16(p + 2, pni_csum(p, n));
    return n;
}
