/* helper_ipfrag.c -- see helper_ipfrag.h. */
#include <stdlib.h>
#include <string.h>

#include "helper_ipfrag.h"

void
pnt_cfg(pn_config *c)
{
    pn_config_default(c);
    c->medium = PN_MEDIUM_IP;
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(10, 0, 0, 1);
    c->addrs[0].prefix_len = 24;
    c->key[0] = 0x5a;
}

pn_stack *
pnt_stack(const pn_config *cfg)
{
    pn_config c;
    if (cfg == NULL) {
        pnt_cfg(&c);
        cfg = &c;
    }
    size_t need = pn_arena_size(cfg);
    ck_assert_uint_gt(need, 0);
    size_t sz = (need + 63) & ~(size_t)63;
    void *arena = aligned_alloc(64, sz);
    ck_assert_ptr_nonnull(arena);
    int err = 1;
    pn_stack *s = pn_stack_new(arena, sz, cfg, &err);
    ck_assert_int_eq(err, 0);
    ck_assert_ptr_eq(s, arena); /* the stack sits at the arena's start */
    return s;
}

int
pnt_drain(pn_stack *s)
{
    static uint8_t frame[65536];
    int n = 0;
    while (pn_drain_raw(s, frame, sizeof frame) > 0)
        n++;
    return n;
}

void
pnt_free(pn_stack *s)
{
    /* Frames still queued (e.g. ICMP time exceeded) are part of the
     * stack: drop them, then every pool must be back to zero. */
    pnt_drain(s);
    pn_test_pools_empty(s);
    ck_assert_uint_eq(pn_stats_get(s)->reass_bytes, 0);
    free(s);
}

pnt_dgram
pnt_dg(uint16_t id)
{
    pnt_dgram d;
    memset(&d, 0, sizeof d);
    memcpy(d.src, (uint8_t[4]){10, 0, 0, 2}, 4);
    memcpy(d.dst, (uint8_t[4]){10, 0, 0, 1}, 4);
    d.id = id;
    d.proto = PNI_IPPROTO_UDP;
    return d;
}

pni_buf *
pnt_frag(pn_stack *s, const pnt_dgram *d, uint32_t off, uint32_t len, int mf, pni_ip4_repr *ip)
{
    pni_ip4_repr r;
    memset(&r, 0, sizeof r);
    r.tos = 0;
    r.id = d->id;
    r.df = d->df;
    r.mf = (uint8_t)(mf != 0);
    r.frag_off = (uint16_t)off;
    r.ttl = 64;
    r.proto = d->proto;
    memcpy(r.src, d->src, 4);
    memcpy(r.dst, d->dst, 4);
    if (off == 0 && d->opt_len > 0) {
        r.opts = d->opts;
        r.opt_len = d->opt_len;
    }
    uint32_t hlen = PNI_IP4_HLEN + r.opt_len;
    r.hlen = (uint8_t)hlen;
    r.tot_len = (uint16_t)(hlen + len);
    uint8_t hdr[PNI_IP4_MAX_HLEN];
    ck_assert_uint_eq(pni_wire_ip4_emit(&r, hdr, sizeof hdr), hlen);
    size_t flen = hlen + len + d->pad;
    pni_buf *b = pni_buf_alloc(s, PN_POOL_RXBUF, PNI_LAYER_RAW, flen);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(pni_buf_copyin(b, 0, hdr, hlen), 0);
    uint8_t tmp[256];
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < sizeof tmp ? len - done : (uint32_t)sizeof tmp;
        for (uint32_t i = 0; i < n; i++)
            tmp[i] = pnt_pat(d->id, off + done + i);
        ck_assert_int_eq(pni_buf_copyin(b, hlen + done, tmp, n), 0);
        done += n;
    }
    for (uint32_t i = 0; i < d->pad; i++)
        pni_buf_copyin(b, hlen + len + i, "\xee", 1);
    /* Parse what a receiver would parse, from a contiguous copy (the
     * buffer may be a chain); a codec that refuses a fragment ending past
     * 65535 is expected to. The option view then points into the buffer,
     * whose first segment holds the whole header. */
    uint8_t *flat = malloc(flen);
    ck_assert_ptr_nonnull(flat);
    pni_buf_copyout(b, 0, flat, flen);
    int rc = pni_wire_ip4_parse(flat, flen, ip);
    free(flat);
    if (off + len > 65535) {
        *ip = r;
        ip->opts = NULL;
        ip->opt_len = 0;
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_uint_eq(ip->tot_len, hlen + len);
    }
    ck_assert_uint_ge(b->len, hlen);
    ip->opts = ip->opt_len > 0 ? pni_buf_data(b) + PNI_IP4_HLEN : NULL;
    return b;
}

pni_buf *
pnt_feed(pn_stack *s, const pnt_dgram *d, uint32_t off, uint32_t len, int mf)
{
    pni_ip4_repr ip;
    pni_buf *b = pnt_frag(s, d, off, len, mf, &ip);
    return pni_reass_input(s, b, &ip);
}

void
pnt_check_dgram(const pni_buf *b, uint16_t id, uint32_t total, uint32_t hlen)
{
    ck_assert_ptr_nonnull(b);
    ck_assert(pni_buf_check(b));
    ck_assert_uint_eq(b->tot_len, hlen + total);
    uint8_t h[PNI_IP4_MAX_HLEN];
    ck_assert_uint_eq(pni_buf_copyout(b, 0, h, hlen), hlen);
    ck_assert_uint_eq((h[0] & 15u) * 4u, hlen);
    ck_assert_uint_eq(pni_be16(h + 2), hlen + total);
    ck_assert_uint_eq(pni_be16(h + 4), id);
    ck_assert_uint_eq(pni_be16(h + 6) & (PNI_IP4_MF | PNI_IP4_OFFMASK), 0);
    ck_assert_uint_eq(pni_csum(h, hlen), 0); /* header checksum verifies */
    uint8_t tmp[512];
    for (uint32_t done = 0; done < total;) {
        uint32_t n = total - done < sizeof tmp ? total - done : (uint32_t)sizeof tmp;
        ck_assert_uint_eq(pni_buf_copyout(b, hlen + done, tmp, n), n);
        for (uint32_t i = 0; i < n; i++)
            ck_assert_msg(tmp[i] == pnt_pat(id, done + i), "byte %u of datagram %u",
                          (unsigned)(done + i), (unsigned)id);
        done += n;
    }
}

void
pnt_shuffle(uint32_t *v, size_t n, uint64_t *seed)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(pn_test_rand(seed) % i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
