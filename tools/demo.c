/*
 * demo.c -- two purenet instances wired back to back in memory over
 * Ethernet. A sends a datagram to B (ARP resolves first), the demo pings B
 * on A's behalf (purenet has no ping API: the echo requests are built here
 * and handed to B as if A's host had sent them; B's replies reach A's
 * stack), B answers the datagram, and A sends one datagram big enough to
 * be fragmented. Every frame on the wire is printed (tcpdump-like) and
 * written to demo.pcap (or argv[1]); then the non-zero counters.
 * Needs only a C compiler and libpurenet: `make demo`.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"
#include "purenet.h"

static uint8_t frame[65536];

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static void
ip_str(char *o, const uint8_t *a)
{
    sprintf(o, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* One line per frame: time, src > dst, protocol, summary. */
static void
trace(uint64_t now, const uint8_t *f, size_t len)
{
    char s[16], d[16];
    printf("%4" PRIu64 ".%06" PRIu64 "  ", now / 1000000, now % 1000000);
    if (len < 14) {
        printf("short frame\n");
        return;
    }
    uint16_t type = be16(f + 12);
    const uint8_t *p = f + 14;
    if (type == 0x0806 && len >= 42) {
        ip_str(s, p + 14);
        ip_str(d, p + 24);
        if (be16(p + 6) == 1)
            printf("%02x:%02x:%02x:%02x:%02x:%02x > broadcast  ARP  who-has %s tell %s\n", f[6],
                   f[7], f[8], f[9], f[10], f[11], d, s);
        else
            printf("%s > %s  ARP  reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x\n", s, d, s, p[8],
                   p[9], p[10], p[11], p[12], p[13]);
        return;
    }
    if (type != 0x0800 || len < 34) {
        printf("ethertype 0x%04x, %zu bytes\n", type, len);
        return;
    }
    unsigned hl = (p[0] & 15u) * 4u;
    uint16_t tot = be16(p + 2), id = be16(p + 4), fo = be16(p + 6);
    ip_str(s, p + 12);
    ip_str(d, p + 16);
    const uint8_t *l4 = p + hl;
    unsigned off = (fo & 0x1fffu) * 8u;
    printf("%s > %s  ", s, d);
    if (off != 0) {
        printf("IP   fragment id 0x%04x offset %u len %u%s\n", id, off, tot - hl,
               (fo & 0x2000) ? " +MF" : "");
        return;
    }
    if (p[9] == 17) {
        printf("UDP  %u > %u length %u%s\n", be16(l4), be16(l4 + 2), be16(l4 + 4) - 8u,
               (fo & 0x2000) ? " (first fragment, +MF)" : "");
    } else if (p[9] == 6 && tot >= hl + 20u) {
        static const char fl[] = "FSRPAUEC";
        char flags[9];
        int k = 0;
        for (int b = 0; b < 8; b++)
            if (l4[13] & (1u << b))
                flags[k++] = fl[b];
        flags[k] = '\0';
        unsigned doff = (l4[12] >> 4) * 4u;
        printf("TCP  %u > %u [%s] seq %" PRIu32 " ack %" PRIu32 " win %u length %u\n", be16(l4),
               be16(l4 + 2), flags, be32(l4 + 4), be32(l4 + 8), be16(l4 + 14), tot - hl - doff);
    } else if (p[9] == 1) {
        const char *t = l4[0] == 8 ? "echo request" : l4[0] == 0 ? "echo reply"
                                                                 : l4[0] == 3 ? "unreachable" : "type";
        printf("ICMP %s id %u seq %u length %u\n", t, be16(l4 + 4), be16(l4 + 6), tot - hl - 8u);
    } else {
        printf("proto %u length %u\n", p[9], tot - hl);
    }
}

typedef struct side {
    const char *name;
    pn_stack *s;
    pn_pcap *pcap;
} side;

static void
tap(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    side *sd = user;
    if (dir != PN_TAP_OUT)
        return; /* each frame leaves exactly one of the two: print it once */
    static uint8_t buf[65536];
    size_t n = pn_pktview_copy(v, 0, buf, v->tot_len);
    trace(now, buf, n);
    pn_pcap_tap(sd->pcap, dir, now, v);
}

static pn_stack *
make(side *sd, unsigned id, pn_pcap *pcap)
{
    pn_config c;
    pn_config_default(&c);
    c.mac = (pn_mac){{0x02, 0, 0, 0, 0, (uint8_t)id}};
    c.n_addrs = 1;
    c.addrs[0].addr = PN_IP4(10, 0, 0, id);
    c.addrs[0].prefix_len = 24;
    for (int i = 0; i < 16; i++)
        c.key[i] = (uint8_t)(0x40 + id * 16 + i); /* fixed: the demo is reproducible */
    c.tap = tap;
    c.tap_user = sd;
    size_t need = pn_arena_size(&c);
    void *arena = NULL;
    if (need == 0 || posix_memalign(&arena, PN_ARENA_ALIGN, need) != 0)
        return NULL;
    int err;
    sd->pcap = pcap;
    sd->s = pn_stack_new(arena, need, &c, &err);
    if (sd->s == NULL)
        fprintf(stderr, "pn_stack_new: %s\n", pn_strerror(err));
    return sd->s;
}

/* Move frames both ways until the wire is quiet (100 us per hop). */
static uint64_t
pump(side *a, side *b, uint64_t now)
{
    for (int moved = 1; moved;) {
        moved = 0;
        side *ends[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            int n;
            while ((n = pn_drain_raw(ends[i]->s, frame, sizeof frame)) > 0) {
                pn_inject_raw(ends[1 - i]->s, frame, (size_t)n, now);
                moved = 1;
            }
        }
        now += 100;
        pn_poll(a->s, now);
        pn_poll(b->s, now);
    }
    return now;
}

static uint16_t
csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* An echo request from A (02:..:01, 10.0.0.1) to B, built by hand. */
static size_t
echo_request(uint8_t *f, uint16_t seq)
{
    static const uint8_t hdr[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    memcpy(f, hdr, 14);
    uint8_t *ip = f + 14, *ic = ip + 20;
    size_t dl = 32;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + 8 + dl) >> 8);
    ip[3] = (uint8_t)(20 + 8 + dl);
    ip[4] = 0x70;
    ip[5] = (uint8_t)seq;
    ip[8] = 64;
    ip[9] = 1;
    memcpy(ip + 12, (uint8_t[4]){10, 0, 0, 1}, 4);
    memcpy(ip + 16, (uint8_t[4]){10, 0, 0, 2}, 4);
    uint16_t c = csum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    memset(ic, 0, 8);
    ic[0] = 8;
    ic[4] = 0x12;
    ic[5] = 0x34;
    ic[6] = (uint8_t)(seq >> 8);
    ic[7] = (uint8_t)seq;
    for (size_t i = 0; i < dl; i++)
        ic[8 + i] = (uint8_t)('a' + i % 26);
    c = csum(ic, 8 + dl);
    ic[2] = (uint8_t)(c >> 8);
    ic[3] = (uint8_t)c;
    return 14 + 20 + 8 + dl;
}

static void
stats(const char *name, const pn_stack *s)
{
    const pn_stats *st = pn_stats_get(s);
    const uint64_t *v = (const uint64_t *)st;
    printf("%s:", name);
    int col = 0;
    for (size_t i = 0; i < pn_stats_count(); i++) {
        if (v[i] == 0)
            continue;
        printf("%s %s=%" PRIu64, col % 6 == 0 ? "\n " : "", pn_stats_name(i), v[i]);
        col++;
    }
    printf("\n");
}

int
main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "demo.pcap";
    remove(path);
    pn_pcap pcap;
    if (pn_pcap_open(&pcap, path, PN_PCAP_LINKTYPE_ETHERNET, 1u << PN_TAP_OUT) != 0) {
        perror(path);
        return 1;
    }
    side A = {"A 10.0.0.1", NULL, NULL}, B = {"B 10.0.0.2", NULL, NULL};
    if (make(&A, 1, &pcap) == NULL || make(&B, 2, &pcap) == NULL)
        return 1;
    uint64_t now = 1000000;

    int ua = pn_udp_open(A.s), ub = pn_udp_open(B.s);
    pn_sockaddr bb = {PN_IP4(0, 0, 0, 0), 7000};
    pn_udp_bind(B.s, ub, &bb);
    pn_sockaddr to_b = {PN_IP4(10, 0, 0, 2), 7000};

    printf("# A sends a datagram to B: ARP first, then the datagram\n");
    pn_udp_sendto(A.s, ua, "hello from A", 12, &to_b, now);
    now = pump(&A, &B, now);

    printf("# three pings of B (requests built by the demo on A's behalf)\n");
    for (uint16_t seq = 1; seq <= 3; seq++) {
        now += 1000000;
        size_t n = echo_request(frame, seq);
        pn_pcap_write(&pcap, now, frame, n); /* on the wire too */
        trace(now, frame, n);
        pn_inject_raw(B.s, frame, n, now);
        now = pump(&A, &B, now);
    }

    printf("# B answers the datagram\n");
    char buf[8192];
    pn_sockaddr from;
    int n = pn_udp_recvfrom(B.s, ub, buf, sizeof buf, &from);
    if (n > 0)
        pn_udp_sendto(B.s, ub, "hello from B", 12, &from, now);
    now = pump(&A, &B, now);
    n = pn_udp_recvfrom(A.s, ua, buf, sizeof buf, &from);
    printf("# A received %d bytes: \"%.*s\"\n", n, n > 0 ? n : 0, buf);

    printf("# A sends 4000 bytes: fragmented on send, reassembled by B\n");
    memset(buf, 'z', 4000);
    pn_udp_sendto(A.s, ua, buf, 4000, &to_b, now);
    now = pump(&A, &B, now);
    n = pn_udp_recvfrom(B.s, ub, buf, sizeof buf, &from);
    printf("# B received %d bytes from %u.%u.%u.%u:%u\n", n, from.addr.b[0], from.addr.b[1],
           from.addr.b[2], from.addr.b[3], from.port);

    printf("# TCP: B listens on 80, A connects, asks, B answers, both close\n");
    int lb = pn_tcp_open(B.s), ca = pn_tcp_open(A.s);
    pn_sockaddr http = {PN_IP4(0, 0, 0, 0), 80}, to_http = {PN_IP4(10, 0, 0, 2), 80};
    pn_tcp_bind(B.s, lb, &http);
    pn_tcp_listen(B.s, lb, 4);
    pn_tcp_connect(A.s, ca, &to_http, now);
    now = pump(&A, &B, now);
    pn_sockaddr peer;
    int cb = pn_tcp_accept(B.s, lb, &peer);
    static const char req[] = "GET /hello HTTP/1.0\r\n\r\n";
    pn_tcp_send(A.s, ca, req, sizeof req - 1, now);
    now = pump(&A, &B, now);
    n = pn_tcp_recv(B.s, cb, buf, sizeof buf, now);
    printf("# B read %d bytes: %.*s\n", n, n > 4 ? n - 4 : 0, buf);
    n = snprintf(buf, sizeof buf, "HTTP/1.0 200 OK\r\nContent-Length: 2000\r\n\r\n");
    memset(buf + n, 'x', 2000);
    pn_tcp_send(B.s, cb, buf, (size_t)n + 2000, now);
    pn_tcp_close(B.s, cb, now);
    now = pump(&A, &B, now);
    int got = 0;
    while ((n = pn_tcp_recv(A.s, ca, buf, sizeof buf, now)) > 0)
        got += n;
    printf("# A read %d bytes, then end of stream (%d)\n", got, n);
    pn_tcp_close(A.s, ca, now);
    now = pump(&A, &B, now);
    pn_tcp_close(B.s, lb, now);
    /* Let TIME_WAIT and every other timer run out. */
    for (int i = 0; i < 100; i++) {
        uint64_t d = pn_next_deadline(A.s), e = pn_next_deadline(B.s);
        if (e < d)
            d = e;
        if (d == PN_TIME_NEVER)
            break;
        now = d > now ? d : now;
        pn_poll(A.s, now);
        pn_poll(B.s, now);
        now = pump(&A, &B, now);
    }
    printf("# all timers done at t=%" PRIu64 ".%06" PRIu64 " s (TIME_WAIT is 2*MSL); A's socket: %s\n",
           now / 1000000, now % 1000000,
           pn_tcp_state(A.s, ca) == PN_EBADF ? "released" : "still open");

    pn_udp_close(A.s, ua);
    pn_udp_close(B.s, ub);
    pn_pcap_close(&pcap);
    printf("# wrote %s\n", path);
    stats("A", A.s);
    stats("B", B.s);
    return 0;
}
