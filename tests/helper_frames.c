/* helper_frames.c -- see helper_frames.h. */
#include <stdlib.h>
#include <string.h>

#include "helper_frames.h"

const uint8_t pn_tf_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void
be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

uint16_t
pn_tf_csum(const void *p, size_t len, uint32_t sum)
{
    const uint8_t *b = p;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (len & 1)
        sum += (uint32_t)b[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t
pn_tf_arp(uint8_t *out, uint16_t op, const uint8_t ethdst[6], const uint8_t sha[6],
          const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4])
{
    memcpy(out, ethdst, 6);
    memcpy(out + 6, sha, 6);
    be16(out + 12, 0x0806);
    uint8_t *a = out + 14;
    be16(a, 1);
    be16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    be16(a + 6, op);
    memcpy(a + 8, sha, 6);
    memcpy(a + 14, spa, 4);
    memcpy(a + 18, tha, 6);
    memcpy(a + 24, tpa, 4);
    return 42;
}

size_t
pn_tf_ip4(uint8_t *out, const pn_tf_ip *h, const void *payload, size_t plen)
{
    size_t e = 0;
    if (h->smac != NULL) {
        memcpy(out, h->dmac, 6);
        memcpy(out + 6, h->smac, 6);
        be16(out + 12, 0x0800);
        e = 14;
    }
    uint8_t *ip = out + e;
    ip[0] = 0x45;
    ip[1] = h->tos;
    be16(ip + 2, (uint16_t)(20 + plen + h->tot_len_adj));
    be16(ip + 4, h->id);
    be16(ip + 6, h->frag);
    ip[8] = h->ttl != 0 ? h->ttl : 64;
    ip[9] = h->proto;
    ip[10] = ip[11] = 0;
    memcpy(ip + 12, h->src, 4);
    memcpy(ip + 16, h->dst, 4);
    be16(ip + 10, pn_tf_csum(ip, 20, 0));
    memmove(ip + 20, payload, plen);
    return e + 20 + plen;
}

static uint32_t
pseudo(const pn_tf_ip *h, uint8_t proto, size_t len)
{
    uint32_t s = 0;
    s += (uint32_t)(h->src[0] << 8 | h->src[1]) + (uint32_t)(h->src[2] << 8 | h->src[3]);
    s += (uint32_t)(h->dst[0] << 8 | h->dst[1]) + (uint32_t)(h->dst[2] << 8 | h->dst[3]);
    s += proto + (uint32_t)len;
    return s;
}

size_t
pn_tf_udp(uint8_t *out, const pn_tf_ip *h, uint16_t sport, uint16_t dport, const void *data,
          size_t len, uint16_t csum_override)
{
    uint8_t *u = malloc(8 + len);
    be16(u, sport);
    be16(u + 2, dport);
    be16(u + 4, (uint16_t)(8 + len));
    be16(u + 6, 0);
    memcpy(u + 8, data, len);
    uint16_t c = pn_tf_csum(u, 8 + len, pseudo(h, 17, 8 + len));
    be16(u + 6, csum_override != 0 ? csum_override : (c == 0 ? 0xffff : c));
    pn_tf_ip hh = *h;
    hh.proto = 17;
    size_t n = pn_tf_ip4(out, &hh, u, 8 + len);
    free(u);
    return n;
}

size_t
pn_tf_icmp(uint8_t *out, const pn_tf_ip *h, uint8_t type, uint8_t code, uint32_t rest,
           const void *data, size_t len)
{
    uint8_t *m = malloc(8 + len);
    m[0] = type;
    m[1] = code;
    be16(m + 2, 0);
    be16(m + 4, (uint16_t)(rest >> 16));
    be16(m + 6, (uint16_t)rest);
    memcpy(m + 8, data, len);
    be16(m + 2, pn_tf_csum(m, 8 + len, 0));
    pn_tf_ip hh = *h;
    hh.proto = 1;
    size_t n = pn_tf_ip4(out, &hh, m, 8 + len);
    free(m);
    return n;
}
