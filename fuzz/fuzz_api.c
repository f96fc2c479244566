/*
 * fuzz_api.c -- whole-stack target (b): a small bytecode that mixes frames,
 * time jumps and API calls on a few sockets, so the fuzzer reaches deep TCP
 * states and API/packet interleavings.
 *
 * Input: one config byte (FZ_C_* in harness.h), then instructions: an
 * opcode byte (taken modulo OP_COUNT) and its operands, big-endian; reads
 * past the end give zeros. Sockets live in 8 TCP and 4 UDP slots (slot
 * operands are taken modulo the table size). Peer-side helpers build valid
 * segments from what the stack last sent (PEER: a reply acknowledging it,
 * PEER_SYN: a new connection, ICMP_ERR: an ICMP error quoting it), so
 * handshakes, data transfer, loss and closes are a few bytes away; raw
 * frames (FRAME) reach everything else. The invariants are checked after
 * every instruction (under afl-fuzz, a refused API call with the next
 * instruction), and at the end every pool must come back to zero.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

enum {
    OP_FRAME,
    OP_TIME,
    OP_TCP_OPEN,
    OP_TCP_BIND,
    OP_TCP_LISTEN,
    OP_TCP_ACCEPT,
    OP_TCP_CONNECT,
    OP_TCP_SEND,
    OP_TCP_RECV,
    OP_TCP_CLOSE,
    OP_TCP_SHUTDOWN,
    OP_TCP_ABORT,
    OP_TCP_SETOPT,
    OP_TCP_QUERY,
    OP_UDP_OPEN,
    OP_UDP_BIND,
    OP_UDP_SENDTO,
    OP_UDP_RECV,
    OP_UDP_CLOSE,
    OP_PEER,
    OP_PEER_SYN,
    OP_ECHO,
    OP_ICMP_ERR,
    OP_DEADLINE,
    OP_COUNT
};

static const char *const op_name[OP_COUNT] = {
    "FRAME",    "TIME",     "TCP_OPEN",  "TCP_BIND",   "TCP_LISTEN", "TCP_ACCEPT",
    "TCP_CONNECT", "TCP_SEND", "TCP_RECV", "TCP_CLOSE", "TCP_SHUTDOWN", "TCP_ABORT",
    "TCP_SETOPT", "TCP_QUERY", "UDP_OPEN", "UDP_BIND", "UDP_SENDTO", "UDP_RECV",
    "UDP_CLOSE", "PEER",     "PEER_SYN",  "ECHO",       "ICMP_ERR",   "DEADLINE",
};

typedef struct rd {
    const uint8_t *p;
    size_t len, off;
} rd;

static uint8_t
u8(rd *r)
{
    return r->off < r->len ? r->p[r->off++] : 0;
}

static uint16_t
u16(rd *r)
{
    uint16_t hi = u8(r);
    return (uint16_t)(hi << 8 | u8(r));
}

static uint32_t
u32(rd *r)
{
    uint32_t hi = u16(r);
    return hi << 16 | u16(r);
}

static uint8_t pattern[65536];

static pn_ip4
addr_sel(uint8_t v)
{
    switch (v % 8) {
    case 0:
        return FZ_IP4(FZ_REMOTE_IP);
    case 1:
        return FZ_IP4(FZ_PEER2_IP);
    case 2:
        return FZ_IP4(FZ_LOCAL_IP);
    case 3:
        return PN_IP4(255, 255, 255, 255);
    case 4:
        return PN_IP4(0, 0, 0, 0);
    case 5:
        return PN_IP4(224, 0, 0, 1);
    case 6:
        return PN_IP4(192, 168, 0, 255);
    default:
        return PN_IP4(10, 9, 9, 9);
    }
}

static uint16_t
port_sel(uint8_t v)
{
    switch (v % 4) {
    case 0:
        return 0;
    case 1:
        return FZ_TCP_PORT;
    case 2:
        return FZ_TCP_PORT2;
    default:
        return (uint16_t)(1000 + v);
    }
}

static void
ret_ok(int rc)
{
    PN_FUZZ_CHECK(rc >= PN_ERRNO_MIN, "API calls return 0, a length/handle, or a PN_E* code");
}

/* Emit an IPv4 packet around a transport payload already at ip + 20. */
static size_t
ip_wrap(uint8_t *ip, const uint8_t src[4], const uint8_t dst[4], uint8_t proto, size_t l4len)
{
    pni_ip4_repr h;
    memset(&h, 0, sizeof h);
    h.hlen = PNI_IP4_HLEN;
    h.tot_len = (uint16_t)(PNI_IP4_HLEN + l4len);
    h.id = 0x1234;
    h.df = 1;
    h.ttl = 64;
    h.proto = proto;
    memcpy(h.src, src, 4);
    memcpy(h.dst, dst, 4);
    return pni_wire_ip4_emit(&h, ip, PNI_IP4_HLEN) + l4len;
}

static void
send_tcp(fz_world *w, const uint8_t src[4], const uint8_t dst[4], pni_tcp_repr *t, size_t plen)
{
    static uint8_t pkt[PNI_IP4_HLEN + PNI_TCP_MAX_HLEN + 4096];
    uint8_t *l4 = pkt + PNI_IP4_HLEN;
    if (plen > 4096)
        plen = 4096;
    size_t ol = pni_wire_tcp_opts_len(t, PNI_TCP_LAYOUT_LINUX);
    memcpy(l4 + PNI_TCP_HLEN + ol, pattern, plen);
    size_t hl = pni_wire_tcp_emit(t, PNI_TCP_LAYOUT_LINUX, l4, PNI_TCP_MAX_HLEN, src, dst, plen,
                                  pni_csum_partial(pattern, plen, 0));
    PN_FUZZ_CHECK(hl == PNI_TCP_HLEN + ol, "peer segment emitted");
    size_t n = ip_wrap(pkt, src, dst, PNI_IPPROTO_TCP, hl + plen);
    fz_inject_ip(w, pkt, n);
}

static void
set_opts(fz_world *w, pni_tcp_repr *t, uint8_t bits)
{
    if (t->flags & PNI_TCP_SYN) {
        t->has_mss = bits & 1;
        t->mss = (bits & 0x20) ? 536 : 1460;
        t->has_ws = (bits >> 1) & 1;
        t->ws = (bits & 0x40) ? 14 : 7;
        t->sack_ok = (bits >> 2) & 1;
    }
    if (bits & 8) {
        t->has_ts = 1;
        t->ts_val = (uint32_t)(w->now / 1000) + 777;
        t->ts_ecr = w->have_last ? w->last.ts_val : 0;
    }
    if ((bits & 0x10) && !(t->flags & PNI_TCP_SYN)) {
        t->n_sack = 1;
        t->sack[0].left = t->ack + 1000;
        t->sack[0].right = t->ack + 2000 + (bits & 0x80 ? 1000 : 0);
    }
}

static void
op_peer(fz_world *w, rd *r)
{
    uint8_t flags = u8(r);
    uint16_t plen = u16(r) % 3000;
    uint16_t win = u16(r);
    int8_t sadj = (int8_t)u8(r), aadj = (int8_t)u8(r);
    uint8_t ob = u8(r);
    if (!w->have_last)
        return;
    pni_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.sport = w->last.dport;
    t.dport = w->last.sport;
    /* default flags 0 mean "plain ACK"; SYN without ACK is left for PEER_SYN */
    t.flags = flags == 0 ? PNI_TCP_ACK : flags;
    t.seq = w->last.ack + (uint32_t)(int32_t)sadj;
    if ((w->last.flags & PNI_TCP_SYN) && !(w->last.flags & PNI_TCP_ACK))
        t.seq = 1000000u + (uint32_t)(int32_t)sadj; /* answering our SYN: our own ISN */
    t.ack = w->last.seq + w->last_seglen + (uint32_t)(int32_t)aadj;
    t.win = win;
    set_opts(w, &t, ob);
    send_tcp(w, w->last_dst, w->last_src, &t, (t.flags & (PNI_TCP_SYN | PNI_TCP_RST)) ? 0 : plen);
}

static void
op_peer_syn(fz_world *w, rd *r)
{
    uint8_t ps = u8(r);
    uint16_t rport = u16(r);
    uint32_t isn = u32(r);
    uint8_t ob = u8(r);
    uint16_t win = u16(r);
    pni_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.sport = rport;
    t.dport = port_sel(ps);
    t.seq = isn;
    t.flags = PNI_TCP_SYN;
    t.win = win;
    set_opts(w, &t, ob);
    const uint8_t src[4] = {FZ_REMOTE_IP}, dst[4] = {FZ_LOCAL_IP};
    send_tcp(w, src, dst, &t, 0);
}

static void
op_icmp_err(fz_world *w, rd *r)
{
    uint8_t type = u8(r) & 1 ? PNI_ICMP_TIME_EXCEEDED : PNI_ICMP_DEST_UNREACH;
    uint8_t code = u8(r) % 16;
    uint16_t mtu = u16(r);
    if (!w->have_last)
        return;
    uint8_t pkt[PNI_IP4_HLEN + PNI_ICMP_HLEN + PNI_IP4_HLEN + 8];
    uint8_t *q = pkt + PNI_IP4_HLEN + PNI_ICMP_HLEN;
    pni_ip4_repr h;
    memset(&h, 0, sizeof h);
    h.hlen = PNI_IP4_HLEN;
    h.tot_len = 1500;
    h.df = 1;
    h.ttl = 1;
    h.proto = PNI_IPPROTO_TCP;
    memcpy(h.src, w->last_src, 4);
    memcpy(h.dst, w->last_dst, 4);
    pni_wire_ip4_emit(&h, q, PNI_IP4_HLEN);
    pni_put_be16(q + 20, w->last.sport);
    pni_put_be16(q + 22, w->last.dport);
    pni_put_be32(q + 24, w->last.seq);
    pni_icmp_repr m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.code = code;
    m.next_mtu = mtu;
    m.data = q;
    m.data_len = PNI_IP4_HLEN + 8;
    size_t n = pni_wire_icmp_emit(&m, pkt + PNI_IP4_HLEN, sizeof pkt - PNI_IP4_HLEN);
    const uint8_t gw[4] = {FZ_GW_IP};
    n = ip_wrap(pkt, gw, w->last_src, PNI_IPPROTO_ICMP, n);
    fz_inject_ip(w, pkt, n);
}

static int
free_tcp_slot(const fz_world *w)
{
    for (int i = 0; i < 8; i++)
        if (w->tcp[i] < 0)
            return i;
    return -1;
}

static void
op_query(fz_world *w, int h)
{
    pn_stack *s = w->s;
    int st = pn_tcp_state(s, h);
    pn_sock_status_t ss;
    int rc = pn_sock_status(s, h, &ss);
    ret_ok(st);
    ret_ok(rc);
    if (rc == 0) {
        PN_FUZZ_CHECK(st == ss.state, "pn_sock_status agrees with pn_tcp_state");
        PN_FUZZ_CHECK(ss.state >= PN_TCP_CLOSED && ss.state <= PN_TCP_TIME_WAIT, "state in range");
    }
    for (int o = 1; o <= PN_TCP_QUICKACK; o++) {
        int v;
        ret_ok(pn_tcp_getopt(s, h, o, &v));
    }
    pn_sockaddr l, p;
    ret_ok(pn_tcp_sockname(s, h, &l, &p));
}

void
pn_fuzz_one(const uint8_t *data, size_t len)
{
    static fz_world w;
    static uint8_t buf[65536];
    if (pattern[1] == 0)
        for (size_t i = 0; i < sizeof pattern; i++)
            pattern[i] = (uint8_t)(i * 7 + 1);
    fz_world_init(&w, len > 0 ? data[0] : 0);
    pn_stack *s = w.s;
    rd r = {data, len, 1};
    unsigned steps = 0;
    while (r.off < r.len && steps++ < 2000) {
        uint8_t op = u8(&r) % OP_COUNT;
        int rc = 0;
        switch (op) {
        case OP_FRAME: {
            size_t n = u16(&r);
            if (n > r.len - r.off)
                n = r.len - r.off;
            if (n > 0)
                fz_inject(&w, r.p + r.off, n);
            r.off += n;
            continue;
        }
        case OP_TIME:
            fz_advance(&w, u32(&r));
            continue;
        case OP_DEADLINE: {
            uint64_t d = pn_next_deadline(s);
            if (d != PN_TIME_NEVER && d > w.now)
                fz_advance(&w, d - w.now);
            else
                fz_advance(&w, 1);
            continue;
        }
        case OP_TCP_OPEN: {
            int i = u8(&r) % 8;
            if (w.tcp[i] >= 0)
                break;
            rc = pn_tcp_open(s);
            if (rc >= 0)
                w.tcp[i] = rc;
            break;
        }
        case OP_TCP_BIND: {
            int i = u8(&r) % 8;
            pn_sockaddr a = {addr_sel(u8(&r) % 3 == 1 ? 2 : 4), port_sel(u8(&r))};
            rc = pn_tcp_bind(s, w.tcp[i], &a);
            break;
        }
        case OP_TCP_LISTEN: {
            int i = u8(&r) % 8;
            rc = pn_tcp_listen(s, w.tcp[i], u8(&r) % 8);
            break;
        }
        case OP_TCP_ACCEPT: {
            int i = u8(&r) % 8, j = free_tcp_slot(&w);
            pn_sockaddr peer;
            rc = pn_tcp_accept(s, w.tcp[i], &peer);
            if (rc >= 0) {
                if (j >= 0)
                    w.tcp[j] = rc;
                else
                    pn_tcp_close(s, rc, w.now);
            }
            break;
        }
        case OP_TCP_CONNECT: {
            int i = u8(&r) % 8;
            pn_sockaddr a = {addr_sel(u8(&r)), u16(&r)};
            rc = pn_tcp_connect(s, w.tcp[i], &a, w.now);
            break;
        }
        case OP_TCP_SEND: {
            int i = u8(&r) % 8;
            size_t n = u16(&r);
            rc = pn_tcp_send(s, w.tcp[i], pattern, n, w.now);
            PN_FUZZ_CHECK(rc <= (int)n, "pn_tcp_send takes at most len bytes");
            break;
        }
        case OP_TCP_RECV: {
            int i = u8(&r) % 8;
            size_t cap = u16(&r);
            rc = pn_tcp_recv(s, w.tcp[i], buf, cap, w.now);
            PN_FUZZ_CHECK(rc <= (int)cap, "pn_tcp_recv returns at most cap bytes");
            break;
        }
        case OP_TCP_CLOSE: {
            int i = u8(&r) % 8;
            rc = pn_tcp_close(s, w.tcp[i], w.now);
            w.tcp[i] = -1;
            break;
        }
        case OP_TCP_SHUTDOWN:
            rc = pn_tcp_shutdown(s, w.tcp[u8(&r) % 8], w.now);
            break;
        case OP_TCP_ABORT: {
            int i = u8(&r) % 8;
            rc = pn_tcp_abort(s, w.tcp[i], w.now);
            w.tcp[i] = -1; /* abort gives the handle back */
            break;
        }
        case OP_TCP_SETOPT: {
            int i = u8(&r) % 8;
            int o = u8(&r) % 20;
            int v = (int)u32(&r);
            rc = pn_tcp_setopt(s, w.tcp[i], o, v);
            break;
        }
        case OP_TCP_QUERY:
            op_query(&w, w.tcp[u8(&r) % 8]);
            break;
        case OP_UDP_OPEN: {
            int i = u8(&r) % 4;
            if (w.udp[i] >= 0)
                break;
            rc = pn_udp_open(s);
            if (rc >= 0)
                w.udp[i] = rc;
            break;
        }
        case OP_UDP_BIND: {
            int i = u8(&r) % 4;
            pn_sockaddr a = {addr_sel(u8(&r) % 3 == 1 ? 2 : 4), port_sel(u8(&r))};
            rc = pn_udp_bind(s, w.udp[i], &a);
            break;
        }
        case OP_UDP_SENDTO: {
            int i = u8(&r) % 4;
            size_t n = u16(&r);
            pn_sockaddr to = {addr_sel(u8(&r)), u16(&r)};
            rc = pn_udp_sendto(s, w.udp[i], pattern, n, &to, w.now);
            PN_FUZZ_CHECK(rc < 0 || rc == (int)n, "pn_udp_sendto returns len or an error");
            break;
        }
        case OP_UDP_RECV: {
            int i = u8(&r) % 4;
            size_t cap = u16(&r);
            pn_sockaddr from;
            rc = pn_udp_recvfrom(s, w.udp[i], buf, cap, &from);
            PN_FUZZ_CHECK(rc <= (int)cap, "pn_udp_recvfrom returns at most cap bytes");
            break;
        }
        case OP_UDP_CLOSE: {
            int i = u8(&r) % 4;
            rc = pn_udp_close(s, w.udp[i]);
            w.udp[i] = -1;
            break;
        }
        case OP_PEER:
            op_peer(&w, &r);
            continue;
        case OP_PEER_SYN:
            op_peer_syn(&w, &r);
            continue;
        case OP_ICMP_ERR:
            op_icmp_err(&w, &r);
            continue;
        case OP_ECHO:
            fz_app_echo(&w);
            continue;
        default:
            break;
        }
        if (pn_fuzz_verbose)
            fprintf(stderr, "  op %s -> %d at t=%llu\n", op_name[op], rc, (unsigned long long)w.now);
        ret_ok(rc);
        /* A call the stack refused (rc < 0, most calls on a fuzzed input)
         * is checked with the next step under afl-fuzz: a refusal that
         * broke something still fails there, and the replayer, which
         * checks every instruction, names the call. This halves the walks
         * per execution (measured: 64% of the API steps of the committed
         * corpus are refusals). */
        if (rc >= 0 || pn_fuzz_arena_fill >= 0)
            fz_check(&w);
        fz_drain(&w);
    }
    fz_teardown(&w);
}
