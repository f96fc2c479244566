/*
 * packet.c -- build inbound IPv4 packets from a script line and decode
 * outbound ones into fields, for the vector runner.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stdio.h>
#include <string.h>

#include "pkt_int.h"

uint8_t
pkt_pattern(uint32_t off)
{
    /* 251 is prime: no common segment size lines the pattern up again. */
    return (uint8_t)(off % 251u + 1u);
}

static void
put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t
get16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
sum(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += get16(p + i);
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t
fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

uint16_t
pkt_csum(const uint8_t *p, size_t n)
{
    return fold(sum(p, n, 0));
}

uint16_t
pkt_l4_csum(const uint8_t src[4], const uint8_t dst[4], int proto, const uint8_t *l4, size_t n)
{
    uint32_t acc = sum(src, 4, 0);
    acc = sum(dst, 4, acc);
    acc += (uint32_t)proto;
    acc += (uint32_t)n;
    return fold(sum(l4, n, acc));
}

/* ---- building ----------------------------------------------------------- */

static size_t
tcp_opts(const pkt_run *r, const pkt_spec *k, uint8_t *o)
{
    size_t n = 0;
    if (k->opts_mode != PKT_OPTS_LIST)
        return 0;
    for (int i = 0; i < k->nopts; i++) {
        const pkt_opt *x = &k->opts[i];
        switch (x->kind) {
        case PKT_OPT_NOP: o[n++] = 1; break;
        case PKT_OPT_EOL: o[n++] = 0; break;
        case PKT_OPT_MSS:
            o[n++] = 2; o[n++] = 4; put16(o + n, x->a); n += 2;
            break;
        case PKT_OPT_WS:
            o[n++] = 3; o[n++] = 3; o[n++] = (uint8_t)x->a;
            break;
        case PKT_OPT_SACKOK:
            o[n++] = 4; o[n++] = 2;
            break;
        case PKT_OPT_TS: {
            uint32_t ecr = x->b;
            if (ecr != 0 && r->ts_off_known)
                ecr += r->ts_off;
            o[n++] = 8; o[n++] = 10; put32(o + n, x->a); put32(o + n + 4, ecr); n += 8;
            break;
        }
        case PKT_OPT_SACK:
            o[n++] = 5; o[n++] = (uint8_t)(2 + 8 * x->nblocks);
            for (int b = 0; b < x->nblocks; b++) {
                uint32_t base = r->lisn_known ? r->lisn : 0;
                put32(o + n, base + x->blk[b][0]);
                put32(o + n + 4, base + x->blk[b][1]);
                n += 8;
            }
            break;
        }
    }
    while (n % 4)
        o[n++] = 0;
    return n;
}

/* The transport part (header + payload) of a script packet, as sent by
 * `from`. Returns its length. */
static size_t
build_l4(const pkt_run *r, const pkt_spec *k, int inbound, uint8_t *l4, size_t cap,
         const uint8_t src[4], const uint8_t dst[4])
{
    size_t n = 0;
    if (k->proto == PKT_TCP) {
        uint8_t opt[60];
        size_t ol = tcp_opts(r, k, opt);
        n = 20 + ol + k->len;
        if (n > cap)
            return 0;
        memset(l4, 0, 20);
        uint32_t peer = k->sport >= 0 ? (uint32_t)k->sport : r->rport;
        put16(l4, inbound ? peer : r->lport);
        put16(l4 + 2, inbound ? r->lport : peer);
        put32(l4 + 4, r->risn + k->seq);
        put32(l4 + 8, k->has_ack ? (r->lisn_known ? r->lisn : 0) + k->ack : 0);
        l4[12] = (uint8_t)(((20 + ol) / 4) << 4);
        l4[13] = (uint8_t)k->flags;
        put16(l4 + 14, k->has_win ? k->win : 65535);
        put16(l4 + 18, k->has_urg ? k->urg : 0);
        memcpy(l4 + 20, opt, ol);
        uint32_t off = k->seq + ((k->flags & PKT_SYN) ? 1 : 0) - 1;
        for (uint32_t i = 0; i < k->len; i++)
            l4[20 + ol + i] = pkt_pattern(off + i);
        put16(l4 + 16, pkt_l4_csum(src, dst, 6, l4, n));
    } else if (k->proto == PKT_UDP) {
        n = 8 + k->len;
        if (n > cap)
            return 0;
        put16(l4, inbound ? r->udp_rport : r->udp_lport);
        put16(l4 + 2, inbound ? (k->dport >= 0 ? (uint32_t)k->dport : r->udp_lport ? r->udp_lport : PKT_PORT) : r->udp_rport);
        put16(l4 + 4, (uint32_t)n);
        put16(l4 + 6, 0);
        for (uint32_t i = 0; i < k->len; i++)
            l4[8 + i] = pkt_pattern(i);
        uint16_t c = pkt_l4_csum(src, dst, 17, l4, n);
        put16(l4 + 6, c == 0 ? 0xffff : c);
    } else {
        n = 8 + k->len;
        if (n > cap)
            return 0;
        l4[0] = (uint8_t)k->icmp_type;
        l4[1] = (uint8_t)k->icmp_code;
        put16(l4 + 2, 0);
        put16(l4 + 4, k->icmp_id);
        put16(l4 + 6, k->icmp_seq);
        for (uint32_t i = 0; i < k->len; i++)
            l4[8 + i] = pkt_pattern(i);
        put16(l4 + 2, pkt_csum(l4, n));
    }
    if (k->badcsum) {
        int at = k->proto == PKT_TCP ? 16 : k->proto == PKT_UDP ? 6 : 2;
        l4[at] ^= 0x5a;
    }
    return n;
}

static int
proto_num(int proto)
{
    return proto == PKT_TCP ? 6 : proto == PKT_UDP ? 17 : 1;
}

size_t
pkt_build(pkt_run *r, const pkt_spec *k, int inbound, uint16_t ipid, uint8_t *out, size_t cap)
{
    static uint8_t l4[70000];
    pn_ip4 lo = PKT_LOCAL_IP, re = PKT_REMOTE_IP;
    const uint8_t *src = inbound ? re.b : lo.b;
    const uint8_t *dst = inbound ? lo.b : re.b;
    size_t n = build_l4(r, k, inbound, l4, sizeof(l4), src, dst);
    if (n == 0)
        return 0;
    size_t from = 0, to = n;
    if (k->frag) {
        from = k->frag_off;
        to = k->frag_end < n ? k->frag_end : n;
        if (from >= to)
            return 0;
    }
    size_t tot = 20 + (to - from);
    if (tot > cap || tot > 65535)
        return 0;
    memset(out, 0, 20);
    out[0] = 0x45;
    out[1] = (uint8_t)(k->tos >= 0 ? k->tos : 0);
    put16(out + 2, (uint32_t)tot);
    put16(out + 4, k->ipid >= 0 ? (uint32_t)k->ipid : ipid);
    uint32_t ff = (uint32_t)(from / 8);
    if (k->frag_mf)
        ff |= 0x2000;
    if (k->df == 1)
        ff |= 0x4000;
    put16(out + 6, ff);
    out[8] = (uint8_t)(k->ttl >= 0 ? k->ttl : 64);
    out[9] = (uint8_t)proto_num(k->proto);
    memcpy(out + 12, src, 4);
    memcpy(out + 16, dst, 4);
    put16(out + 10, pkt_csum(out, 20));
    memcpy(out + 20, l4 + from, to - from);
    return tot;
}

/* ---- decoding ----------------------------------------------------------- */

int
pkt_decode(const uint8_t *p, size_t len, pkt_dec *d)
{
    memset(d, 0, sizeof(*d));
    if (len < 20) {
        snprintf(d->why, sizeof(d->why), "%zu bytes: shorter than an IPv4 header", len);
        return -1;
    }
    d->ver = p[0] >> 4;
    d->ihl = (p[0] & 15) * 4;
    d->tos = p[1];
    d->totlen = get16(p + 2);
    d->id = get16(p + 4);
    uint32_t ff = get16(p + 6);
    d->df = (ff & 0x4000) != 0;
    d->mf = (ff & 0x2000) != 0;
    d->fragoff = (ff & 0x1fff) * 8;
    d->ttl = p[8];
    d->proto = p[9];
    memcpy(d->src, p + 12, 4);
    memcpy(d->dst, p + 16, 4);
    if (d->ver != 4 || d->ihl < 20 || (size_t)d->ihl > len || d->totlen != len) {
        snprintf(d->why, sizeof(d->why), "bad IPv4 header (version %d, header %d bytes, total length %u, frame %zu)",
                 d->ver, d->ihl, d->totlen, len);
        return -1;
    }
    d->ipcsum_ok = pkt_csum(p, (size_t)d->ihl) == 0;
    d->ip = p;
    d->l4 = p + d->ihl;
    d->l4len = len - (size_t)d->ihl;
    d->is_frag = d->mf || d->fragoff != 0;
    if (d->fragoff != 0)
        return 0; /* no transport header in a later fragment */
    const uint8_t *l = d->l4;
    size_t n = d->l4len;
    if (d->proto == 6) {
        if (n < 20 || (size_t)(l[12] >> 4) * 4 < 20 || (size_t)(l[12] >> 4) * 4 > n) {
            snprintf(d->why, sizeof(d->why), "TCP header truncated or bad data offset");
            return -1;
        }
        size_t hl = (size_t)(l[12] >> 4) * 4;
        d->sport = (uint16_t)get16(l);
        d->dport = (uint16_t)get16(l + 2);
        d->seq = get32(l + 4);
        d->ack = get32(l + 8);
        d->flags = l[13];
        d->win = get16(l + 14);
        d->urg = get16(l + 18);
        d->l4csum_ok = d->is_frag || pkt_l4_csum(d->src, d->dst, 6, l, n) == 0;
        for (size_t i = 20; i < hl;) {
            if (d->nopts >= PKT_MAX_OPTS) {
                d->opts_bad = 1;
                break;
            }
            pkt_opt *o = &d->opts[d->nopts];
            memset(o, 0, sizeof(*o));
            uint8_t kind = l[i];
            if (kind == 0) {
                o->kind = PKT_OPT_EOL;
                d->nopts++;
                break;
            }
            if (kind == 1) {
                o->kind = PKT_OPT_NOP;
                d->nopts++;
                i++;
                continue;
            }
            if (i + 1 >= hl || l[i + 1] < 2 || i + l[i + 1] > hl) {
                d->opts_bad = 1;
                break;
            }
            uint8_t ol = l[i + 1];
            o->kind = kind;
            if (kind == 2 && ol == 4)
                o->a = get16(l + i + 2);
            else if (kind == 3 && ol == 3)
                o->a = l[i + 2];
            else if (kind == 8 && ol == 10) {
                o->a = get32(l + i + 2);
                o->b = get32(l + i + 6);
            } else if (kind == 5 && ol >= 10 && (ol - 2) % 8 == 0) {
                o->nblocks = (ol - 2) / 8;
                for (int b = 0; b < o->nblocks && b < 4; b++) {
                    o->blk[b][0] = get32(l + i + 2 + 8 * (size_t)b);
                    o->blk[b][1] = get32(l + i + 6 + 8 * (size_t)b);
                }
            } else if (kind == 4 && ol == 2) {
                /* sackOK */
            } else {
                o->kind = 1000 + kind; /* unknown: shown as "opt<kind>" */
                o->a = ol;
            }
            d->nopts++;
            i += ol;
        }
        d->pay = l + hl;
        d->paylen = (uint32_t)(n - hl);
    } else if (d->proto == 17) {
        if (n < 8) {
            snprintf(d->why, sizeof(d->why), "UDP header truncated");
            return -1;
        }
        d->sport = (uint16_t)get16(l);
        d->dport = (uint16_t)get16(l + 2);
        d->udplen = get16(l + 4);
        d->l4csum_ok = d->is_frag || get16(l + 6) == 0 || pkt_l4_csum(d->src, d->dst, 17, l, n) == 0;
        d->pay = l + 8;
        d->paylen = (uint32_t)(n - 8);
    } else if (d->proto == 1) {
        if (n < 8) {
            snprintf(d->why, sizeof(d->why), "ICMP header truncated");
            return -1;
        }
        d->icmp_type = l[0];
        d->icmp_code = l[1];
        d->icmp_id = get16(l + 4);
        d->icmp_seq = get16(l + 6);
        d->icmp_mtu = get16(l + 6);
        d->l4csum_ok = d->is_frag || pkt_csum(l, n) == 0;
        d->pay = l + 8;
        d->paylen = (uint32_t)(n - 8);
    }
    return 0;
}

static const char *
flagstr(unsigned f, char *b)
{
    char *p = b;
    if (f & PKT_SYN) *p++ = 'S';
    if (f & PKT_FIN) *p++ = 'F';
    if (f & PKT_RST) *p++ = 'R';
    if (f & PKT_PSH) *p++ = 'P';
    if (f & PKT_URG) *p++ = 'U';
    if (f & PKT_ECE) *p++ = 'E';
    if (f & PKT_CWR) *p++ = 'W';
    if (f & PKT_ACK) *p++ = '.';
    if (p == b) *p++ = '-';
    *p = '\0';
    return b;
}

const char *
pkt_flagstr(unsigned f, char *b)
{
    return flagstr(f, b);
}

void
pkt_optstr(const pkt_opt *o, int n, uint32_t sack_base, int show_tsval, char *out, size_t cap)
{
    size_t u = 0;
    out[0] = '\0';
    for (int i = 0; i < n && u < cap; i++) {
        const pkt_opt *x = &o[i];
        const char *sep = i ? "," : "";
        int w = 0;
        switch (x->kind) {
        case PKT_OPT_NOP: w = snprintf(out + u, cap - u, "%snop", sep); break;
        case PKT_OPT_EOL: w = snprintf(out + u, cap - u, "%seol", sep); break;
        case PKT_OPT_MSS: w = snprintf(out + u, cap - u, "%smss %u", sep, x->a); break;
        case PKT_OPT_WS: w = snprintf(out + u, cap - u, "%swscale %u", sep, x->a); break;
        case PKT_OPT_SACKOK: w = snprintf(out + u, cap - u, "%ssackOK", sep); break;
        case PKT_OPT_TS:
            if (show_tsval)
                w = snprintf(out + u, cap - u, "%sTS val %u ecr %u", sep, x->a, x->b);
            else
                w = snprintf(out + u, cap - u, "%sTS val * ecr %u", sep, x->b);
            break;
        case PKT_OPT_SACK:
            w = snprintf(out + u, cap - u, "%ssack", sep);
            for (int b = 0; b < x->nblocks && w >= 0 && u + (size_t)w < cap; b++) {
                int w2 = snprintf(out + u + (size_t)w, cap - u - (size_t)w, " %u:%u",
                                  x->blk[b][0] - sack_base, x->blk[b][1] - sack_base);
                if (w2 > 0)
                    w += w2;
            }
            break;
        default: w = snprintf(out + u, cap - u, "%sopt%d(len %u)", sep, x->kind - 1000, x->a); break;
        }
        if (w < 0)
            break;
        u += (size_t)w;
    }
    if (u >= cap && cap > 0)
        out[cap - 1] = '\0';
}
