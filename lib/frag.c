/*
 * frag.c -- IPv4 fragmentation on send (RFC 791 section 3.2
 * "fragmentation", RFC 791 3.1 "options" copy flag, RFC 1122 3.3.5 / RFC
 * 1812 4.2.2.7 for the choices below).
 *
 * IMPLEMENTATION NOTES
 * - Input: a complete IP packet, header at data (ip is its parsed header),
 *   possibly a buffer chain. DF is the caller's business (pni_ip4_output
 *   answers PN_EMSGSIZE before calling here); the flags are copied as they
 *   are. The packet may itself be a fragment (its offset and MF are
 *   honoured: pieces get offset + position, and MF unless they are the
 *   last piece of a last fragment).
 * - Sizes: every fragment is at most mtu bytes. The payload of all but the
 *   last is a multiple of 8 (offsets are counted in 8-octet units):
 *   first = (mtu - hlen) & ~7, then (mtu - hlen2) & ~7. With mtu >= 68 and
 *   hlen <= 60 there are always at least 8 bytes (RFC 791: 68 = 60 + 8).
 * - Headers: fragment zero carries the original header, options and all.
 *   Later fragments carry only the options whose copied flag (the top bit
 *   of the type octet) is set, packed in order and padded with EOL to a
 *   multiple of 4 (BSD ip_optcopy style: the header shrinks rather than
 *   carrying NOPs). Each header is emitted by pni_wire_ip4_emit, which
 *   writes a fresh header checksum. The ID is the original one.
 * - Buffers: each fragment is a new TX buffer allocated at PNI_LAYER_IP (room
 *   for the link header in front), filled by copying the header and its
 *   slice of payload (the original is a chain we do not split; copying is
 *   what lets each fragment live and die on its own in the egress and ARP
 *   queues). The original is freed at the end, on every path.
 * - Send-buffer accounting: a segment with owner_kind != 0 is charged to a
 *   socket and gives s->buf_size back when freed (lib/buf.c). The charge is
 *   MOVED to the fragments, not duplicated: we count the charged segments
 *   of the original and clear their marks, then mark that many fragment
 *   segments with the same owner as they are allocated; whatever charge is
 *   left over (no fragment segment to carry it, or buffers ran out) is
 *   released at the end. So the socket stays charged while its fragments
 *   wait in the stack and the books always balance. If another holder
 *   still references the original (ref > 1), its charge stays with it.
 * - Each fragment goes to pni_iface_output_ip(nh) (POST_ROUTING runs there)
 *   as soon as it is built and is counted in ip4_frag_tx. When the TX pool
 *   runs dry (pni_buf_alloc counts tx_nobufs) or the egress queue refuses a
 *   fragment (counted egress_drop_pkts) we stop and return PN_ENOBUFS;
 *   fragments already handed on stay sent: the receiver drops the
 *   incomplete datagram at its reassembly timeout.
 */
#include "pn_internal.h"

#if PN_HAVE_FRAG /* the whole file: see pn_features.h */

/* Pack the options of opts[0..len) that RFC 791 says are copied into every
 * fragment (copied flag set). Returns the bytes written to out (<= 40). The
 * options were validated by the parser; a malformed one ends the walk. */
static size_t
copied_options(const uint8_t *opts, size_t len, uint8_t out[40])
{
    size_t i = 0, n = 0;
    while (i < len) {
        uint8_t type = opts[i];
        if (type == 0) /* EOL */
            break;
        if (type == 1) { /* NOP: copied flag clear */
            i++;
            continue;
        }
        if (len - i < 2)
            break;
        size_t olen = opts[i + 1];
        if (olen < 2 || olen > len - i)
            break;
        if ((type & 0x80) != 0 && n + olen <= 40) {
            memcpy(out + n, opts + i, olen);
            n += olen;
        }
        i += olen;
    }
    return n;
}

/* Copy len bytes from src at soff into dst at doff (both chains). */
static void
copy_chain(pni_buf *dst, size_t doff, const pni_buf *src, size_t soff, size_t len)
{
    for (pni_buf *q = dst; q != NULL && len > 0; q = q->next) {
        if (doff >= q->len) {
            doff -= q->len;
            continue;
        }
        size_t n = q->len - doff;
        if (n > len)
            n = len;
        size_t got = pni_buf_copyout(src, soff, pni_buf_data(q) + doff, n);
        PNI_ASSERT(got == n);
        (void)got;
        soff += n;
        len -= n;
        doff = 0;
    }
}

/* see pn_internal.h */
int
pni_frag_output(pn_stack *s, pni_buf *pkt, const pni_ip4_repr *ip, uint16_t mtu,
                const uint8_t nh[4])
{
    int rc = 0;
    uint32_t hlen = ip->hlen;
    uint8_t copts[40];
    size_t copt_len = 0;

    if (hlen < PNI_IP4_HLEN || ip->tot_len < hlen || pkt->tot_len < ip->tot_len ||
        (uint32_t)hlen + 8 > mtu) {
        pni_buf_free(s, pkt);
        return PN_EINVAL;
    }
    if (ip->opts != NULL && ip->opt_len > 0)
        copt_len = copied_options(ip->opts, ip->opt_len, copts);

    /* Move the send-buffer charge off the original (see the notes). */
    uint32_t charge = 0;
    uint8_t owner_kind = 0;
    uint16_t owner = 0;
    int sole = 1;
    for (const pni_buf *q = pkt; q != NULL; q = q->next)
        sole &= q->ref == 1;
    for (pni_buf *q = pkt; sole && q != NULL; q = q->next) {
        if (q->owner_kind != 0) {
            if (charge == 0) {
                owner_kind = q->owner_kind;
                owner = q->owner;
            }
            charge++;
            q->owner_kind = 0;
        }
    }

    pni_ip4_repr fr = *ip;
    uint32_t payload = (uint32_t)ip->tot_len - hlen;
    uint32_t pos = 0;
    while (pos < payload) {
        /* This fragment's header and payload size. */
        if (pos == 0) {
            /* The original options, all of them (no view: none). */
            fr.opts = ip->opts;
            fr.opt_len = ip->opts != NULL ? (uint8_t)(hlen - PNI_IP4_HLEN) : 0;
        } else {
            fr.opts = copt_len != 0 ? copts : NULL;
            fr.opt_len = (uint8_t)copt_len;
        }
        uint32_t fhlen = PNI_IP4_HLEN + (((uint32_t)fr.opt_len + 3u) & ~3u);
        uint32_t room = ((uint32_t)mtu - fhlen) & ~7u;
        uint32_t flen = payload - pos;
        int last = flen <= room;
        if (!last)
            flen = room;
        fr.hlen = (uint8_t)fhlen;
        fr.tot_len = (uint16_t)(fhlen + flen);
        fr.frag_off = (uint16_t)(ip->frag_off + pos);
        fr.mf = (uint8_t)(!last || ip->mf);

        pni_buf *f = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_IP, fhlen + flen);
        if (f == NULL) { /* counted tx_nobufs by pni_buf_alloc */
            rc = PN_ENOBUFS;
            break;
        }
        uint8_t hdr[PNI_IP4_MAX_HLEN];
        size_t w = pni_wire_ip4_emit(&fr, hdr, sizeof hdr);
        PNI_ASSERT(w == fhlen);
        (void)w;
        pni_buf_copyin(f, 0, hdr, fhlen);
        copy_chain(f, fhlen, pkt, hlen + pos, flen);
        for (pni_buf *q = f; q != NULL && charge > 0; q = q->next) {
            q->owner_kind = owner_kind;
            q->owner = owner;
            charge--;
        }
        PNI_STAT(s, ip4_frag_tx);
        pos += flen;
        if (pni_iface_output_ip(s, f, nh) == PN_ENOBUFS && pos < payload) {
            /* Egress queue full (counted there): the rest would only be
             * dropped the same way, and the datagram is lost anyway. */
            rc = PN_ENOBUFS;
            break;
        }
    }
    if (charge > 0 && owner_kind == 1)
        pni_udp_wmem_release(s, owner, charge * s->buf_size);
    pni_buf_free(s, pkt);
    return rc;
}

#endif /* PN_HAVE_FRAG */
