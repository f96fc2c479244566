/*
 * tcp_syncookie.c -- SYN cookies (RFC 4987 3.6): when the SYN queue is
 * full the listener keeps no state and encodes what it must remember in
 * the ISN of its SYN-ACK.
 *
 * IMPLEMENTATION NOTES
 * Cookie layout (32 bits, the ISS of the SYN-ACK):
 *
 *   31 ........ 10 | 9 8 | 7 6 5 | 4 3 2 1 | 0
 *   MAC (22 bits)  |  t  |  mss  |   ws    | sack
 *
 *   t     low 2 bits of a 64 s counter (now >> 26 microseconds); a
 *         cookie is honoured for the current and the previous period;
 *   mss   index in mss_tab (largest entry <= the peer's MSS);
 *   ws    the peer's window shift, 15 = no window scaling;
 *   sack  the peer offered SACK.
 *   MAC   SipHash-2-4 under the stack key of the 4-tuple, the peer's ISN,
 *         the full counter and the low 10 bits, truncated to 22 bits.
 * Timestamps are not encoded: the completing ACK's own TS option tells
 * whether the peer uses them.
 */
#include "tcp.h"

#if PN_HAVE_TCP /* the whole file: see pn_features.h */

static const uint16_t mss_tab[8] = {536, 1220, 1360, 1400, 1440, 1452, 1460, 8960};

static uint32_t
mac(const pn_stack *s, const pni_tcp_syn *sy, uint64_t t, uint32_t low)
{
    uint8_t k[28];
    memcpy(k, sy->laddr, 4);
    memcpy(k + 4, sy->raddr, 4);
    pni_put_be16(k + 8, sy->lport);
    pni_put_be16(k + 10, sy->rport);
    pni_put_be32(k + 12, sy->irs);
    pni_put_be32(k + 16, (uint32_t)(t >> 32));
    pni_put_be32(k + 20, (uint32_t)t);
    pni_put_be32(k + 24, low);
    return (uint32_t)(pni_siphash(s->cfg.key, k, sizeof k) >> 32) & 0xfffffc00u;
}

uint32_t
pni_tcp_cookie_make(pn_stack *s, const pni_tcp_syn *sy, uint16_t mss)
{
    uint64_t t = s->now >> 26;
    uint32_t mi = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (mss_tab[i] <= mss)
            mi = i;
    uint32_t ws = (sy->opts & PNI_SO_WS) ? sy->peer_ws : 15u;
    uint32_t low = ((uint32_t)(t & 3) << 8) | (mi << 5) | (ws << 1) | !!(sy->opts & PNI_SO_SACK);
    return mac(s, sy, t, low) | low;
}

int
pni_tcp_cookie_check(pn_stack *s, pni_tcp_syn *sy, uint32_t cookie)
{
    uint32_t low = cookie & 0x3ffu;
    uint64_t now_t = s->now >> 26;
    for (uint64_t age = 0; age < 2 && age <= now_t; age++) {
        uint64_t t = now_t - age;
        if ((t & 3) != (low >> 8))
            continue;
        if (mac(s, sy, t, low) != (cookie & 0xfffffc00u))
            return -1;
        uint32_t ws = (low >> 1) & 15u;
        sy->iss = cookie;
        sy->peer_mss = mss_tab[(low >> 5) & 7u];
        sy->opts = 0;
        sy->peer_ws = 0xff;
        if (ws != 15) {
            sy->opts |= PNI_SO_WS;
            sy->peer_ws = (uint8_t)(ws > 14 ? 14 : ws);
        }
        if (low & 1)
            sy->opts |= PNI_SO_SACK;
        return 0;
    }
    return -1;
}

#endif /* PN_HAVE_TCP */
