/*
 * icmp.c -- ICMPv4 (RFC 792, RFC 1122 3.2.2): echo, errors we send
 * (destination unreachable, time exceeded), errors we receive.
 *
 * IMPLEMENTATION NOTES
 * - Echo (RFC 1122 3.2.2.6): the request's own buffer becomes the reply
 *   when nobody else holds it (zero copy: type rewritten, checksum patched
 *   per RFC 1624, IP header pushed back in front by pni_ip4_output). It may
 *   be a chain (a reassembled large ping): the checksum is then verified
 *   over the chain and the reply is fragmented from the same chain. Shared
 *   buffers are copied. The reply's source is the
 *   address the request was sent to; identifier, sequence and data are
 *   returned unchanged. Requests to a broadcast or multicast address are
 *   ignored (3.2.2.6 allows it; Linux's default, and no smurf amplifier).
 *   IP options of the request (record route, timestamps) are not
 *   reflected. Echo replies are not rate limited (Linux's default ratemask
 *   too): only errors are.
 * - Errors we send: never about an ICMP error, a datagram to a broadcast
 *   or multicast address or received as a link broadcast, a fragment other
 *   than the first, or a source that is not a unicast host (RFC 1122
 *   3.2.2, RFC 1812 4.3.2.7); each such refusal counts
 *   icmp_err_suppressed. Then a token bucket (RFC 1812 4.3.2.8) on the
 *   stack clock: cfg.icmp_rate tokens per second, cfg.icmp_burst deep,
 *   kept in millionths of a token so that integer arithmetic is exact; a
 *   refusal counts icmp_rate_drop. The quote is as much of the offending
 *   datagram as fits in 576 bytes of IP (RFC 1812 4.3.2.3), at least its
 *   header and 8 bytes when it has them (RFC 792).
 * - Errors we receive (types 3, 4, 5, 11, 12) count icmp_err_rx; those
 *   quoting one of our TCP segments go to pni_tcp_icmp_error (it applies
 *   RFC 5927). Anything else (echo replies: we never ping; timestamps,
 *   redirects are for routers) is icmp_ignored.
 */
#include "pn_internal.h"

#define ICMP_QUOTE_MAX (576 - PNI_IP4_HLEN - PNI_ICMP_HLEN) /* RFC 1812 4.3.2.3 */
#define TOKEN 1000000u

static int
is_error_type(uint8_t t)
{
    return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

/* see pn_internal.h */
int
pni_icmp_rate_ok(pn_stack *s)
{
    uint64_t cap = (uint64_t)s->cfg.icmp_burst * TOKEN;
    uint64_t el = s->now - s->icmp_last; /* now never goes backwards */
    s->icmp_last = s->now;
    if (el >= cap / s->cfg.icmp_rate + 1)
        s->icmp_tokens_us = cap;
    else
        s->icmp_tokens_us += el * s->cfg.icmp_rate;
    if (s->icmp_tokens_us > cap)
        s->icmp_tokens_us = cap;
    if (s->icmp_tokens_us < TOKEN)
        return 0;
    s->icmp_tokens_us -= TOKEN;
    return 1;
}

/* see pn_internal.h */
void
pni_icmp_send_error(pn_stack *s, const pni_buf *orig, const pni_ip4_repr *ip, uint8_t type,
                    uint8_t code, uint16_t next_mtu)
{
    int forbidden = (orig->flags & PNI_BUF_F_L2_BCAST) || ip->frag_off != 0 ||
                    pni_ip4_is_our_bcast(s, ip->dst) || pni_ip4_is_mcast(ip->dst) ||
                    !pni_ip4_src_is_unicast(s, ip->src);
    if (!forbidden && ip->proto == PNI_IPPROTO_ICMP) {
        uint8_t t;
        /* An ICMP error about an ICMP error (or one whose type we cannot
         * read) is never sent. */
        if (pni_buf_copyout(orig, ip->hlen, &t, 1) != 1 || is_error_type(t))
            forbidden = 1;
    }
    if (forbidden) {
        PNI_STAT(s, icmp_err_suppressed);
        return;
    }
    if (!pni_icmp_rate_ok(s)) {
        PNI_STAT(s, icmp_rate_drop);
        return;
    }
    size_t q = orig->tot_len;
    if (q > ip->tot_len)
        q = ip->tot_len;
    if (q > ICMP_QUOTE_MAX)
        q = ICMP_QUOTE_MAX;
    pni_buf *b = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, q);
    if (b == NULL)
        return; /* counted tx_nobufs */
    uint8_t tmp[128];
    for (size_t off = 0; off < q;) {
        size_t n = q - off < sizeof tmp ? q - off : sizeof tmp;
        pni_buf_copyout(orig, off, tmp, n);
        pni_buf_copyin(b, off, tmp, n);
        off += n;
    }
    pni_buf_push(b, PNI_ICMP_HLEN);
    uint8_t *h = pni_buf_data(b);
    h[0] = type;
    h[1] = code;
    memset(h + 2, 0, 6);
    if (type == PNI_ICMP_DEST_UNREACH && code == PNI_ICMP_FRAG_NEEDED)
        pni_put_be16(h + 6, next_mtu); /* RFC 1191 */
    pni_put_be16(h + 2, (uint16_t)~pni_csum_fold(pni_buf_csum(b, 0, b->tot_len)));
    pni_ip4_tx tx;
    memset(&tx, 0, sizeof tx);
    if (pni_ip4_is_local(s, ip->dst))
        memcpy(tx.src, ip->dst, 4);
    memcpy(tx.dst, ip->src, 4);
    tx.proto = PNI_IPPROTO_ICMP;
    if (type == PNI_ICMP_DEST_UNREACH)
        PNI_STAT(s, icmp_unreach_tx);
    else if (type == PNI_ICMP_TIME_EXCEEDED)
        PNI_STAT(s, icmp_timex_tx);
    pni_ip4_output(s, b, &tx);
}

/* Checksum of the whole ICMP message in a chain: 1 if good. */
static int
chain_csum_ok(const pni_buf *b)
{
#ifdef PN_FUZZ_NO_CSUM
    (void)b;
    return 1;
#else
    return pni_csum_fold(pni_buf_csum(b, 0, b->tot_len)) == 0xffff;
#endif
}

static void
echo_reply(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    PNI_STAT(s, icmp_echo_rx);
    if (!pni_ip4_is_local(s, ip->dst) || (pkt->flags & PNI_BUF_F_L2_BCAST)) {
        PNI_STAT(s, icmp_ignored);
        pni_buf_free(s, pkt);
        return;
    }
    pni_buf *r = pkt;
    if (pkt->ref != 1) {
        /* Shared with another holder: answer from a copy. */
        r = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, pkt->tot_len);
        if (r != NULL) {
            uint8_t tmp[256];
            for (size_t off = 0; off < pkt->tot_len;) {
                size_t n = pkt->tot_len - off < sizeof tmp ? pkt->tot_len - off : sizeof tmp;
                pni_buf_copyout(pkt, off, tmp, n);
                pni_buf_copyin(r, off, tmp, n);
                off += n;
            }
        }
        pni_buf_free(s, pkt);
        if (r == NULL)
            return; /* counted tx_nobufs */
    }
    uint8_t *h = pni_buf_data(r);
    uint16_t old = pni_be16(h);
    h[0] = PNI_ICMP_ECHO_REPLY;
    pni_put_be16(h + 2, pni_csum_update16(pni_be16(h + 2), old, pni_be16(h)));
    r->flags = 0;
    pni_ip4_tx tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.src, ip->dst, 4);
    memcpy(tx.dst, ip->src, 4);
    tx.proto = PNI_IPPROTO_ICMP;
    tx.tos = ip->tos;
    PNI_STAT(s, icmp_echo_tx);
    pni_ip4_output(s, r, &tx);
}

/* see pn_internal.h */
void
pni_icmp_input(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip)
{
    PNI_STAT(s, icmp_rx);
    size_t len = pkt->tot_len;
    if (len < PNI_ICMP_HLEN) {
        PNI_STAT(s, icmp_bad);
        pni_buf_free(s, pkt);
        return;
    }
    uint8_t *p = pni_buf_linearize(s, pkt, len <= pkt->cap ? len : PNI_ICMP_HLEN);
    if (p == NULL) {
        PNI_STAT(s, icmp_bad);
        pni_buf_free(s, pkt);
        return;
    }
    if (pkt->len < len) {
        /* Larger than one block (a reassembled big ping): check the sum
         * over the chain; only an echo request is worth anything then. */
        if (!chain_csum_ok(pkt)) {
            PNI_STAT(s, icmp_bad_csum);
            pni_buf_free(s, pkt);
        } else if (p[0] == PNI_ICMP_ECHO_REQUEST) {
            echo_reply(s, pkt, ip);
        } else {
            if (is_error_type(p[0]))
                PNI_STAT(s, icmp_err_rx);
            else
                PNI_STAT(s, icmp_ignored);
            pni_buf_free(s, pkt);
        }
        return;
    }
    pni_icmp_repr r;
    int err = pni_wire_icmp_parse(p, len, &r);
    if (err != 0) {
        if (err == PNI_WE_BADCSUM)
            PNI_STAT(s, icmp_bad_csum);
        else
            PNI_STAT(s, icmp_bad);
        pni_buf_free(s, pkt);
        return;
    }
    if (r.type == PNI_ICMP_ECHO_REQUEST) {
        echo_reply(s, pkt, ip);
        return;
    }
    if (is_error_type(r.type)) {
        PNI_STAT(s, icmp_err_rx);
        if (r.has_quote && r.quoted.proto == PNI_IPPROTO_TCP && pni_ip4_is_local(s, r.quoted.src))
            pni_tcp_icmp_error(s, &r);
    } else {
        PNI_STAT(s, icmp_ignored);
    }
    pni_buf_free(s, pkt);
}
