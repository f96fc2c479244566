/*
 * fuzz_stack.c -- whole-stack target (a): frames only.
 *
 * Input: one config byte (FZ_C_* in harness.h: medium, TCP profile, tiny
 * pools, ARP helper, quick ACK, CUBIC, MTU), then records
 *     [u32 BE delta-us][u16 BE length][frame]
 * (STYLE.md's record format). For each record the clock moves by delta,
 * the stack is polled, the frame is injected, the echo application runs
 * (accept, read, write back; UDP echo) and every queued frame is drained
 * and checked; the invariants are checked after each of those steps. A
 * truncated last record is injected as far as it goes. The instance has
 * TCP listeners on 8080 and 80 and UDP sockets bound to 8080 and 53 at
 * 192.168.0.1 (the vector runner's address). At the end everything is
 * closed, timers run out and every pool must be back at zero.
 */
#include <string.h>

#include "harness.h"

static void
setup(fz_world *w)
{
    pn_stack *s = w->s;
    const uint16_t tports[2] = {FZ_TCP_PORT, FZ_TCP_PORT2};
    for (int i = 0; i < 2; i++) {
        int h = pn_tcp_open(s);
        if (h < 0)
            break; /* TCP left out */
        pn_sockaddr a = {PN_IP4(0, 0, 0, 0), tports[i]};
        PN_FUZZ_CHECK(pn_tcp_bind(s, h, &a) == 0, "bind of a listener");
        PN_FUZZ_CHECK(pn_tcp_listen(s, h, 4) == 0, "listen");
        w->tcp[i] = h;
    }
    const uint16_t uports[2] = {FZ_UDP_PORT, FZ_UDP_PORT2};
    for (int i = 0; i < 2; i++) {
        int h = pn_udp_open(s);
        if (h < 0)
            break;
        pn_sockaddr a = {PN_IP4(0, 0, 0, 0), uports[i]};
        PN_FUZZ_CHECK(pn_udp_bind(s, h, &a) == 0, "bind of a UDP socket");
        w->udp[i] = h;
    }
    fz_check(w);
}

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    static fz_world w;
    fz_world_init(&w, len > 0 ? data[0] : 0);
    setup(&w);
    size_t off = 1;
    while (off + 6 <= len) {
        uint32_t delta = pni_be32(data + off);
        size_t flen = pni_be16(data + off + 4);
        off += 6;
        if (flen > len - off)
            flen = len - off;
        fz_advance(&w, delta);
        if (flen > 0)
            fz_inject(&w, data + off, flen);
        off += flen;
        fz_app_echo(&w);
    }
    fz_teardown(&w);
}
