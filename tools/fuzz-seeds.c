/*
 * fuzz-seeds.c -- writes the seed inputs of every fuzz target.
 *
 *   fuzz-seeds OUTDIR [VECTOR.pkt...] [--pcap FILE.pcap...]
 *
 * OUTDIR/<target>/seed-<name> for:
 * - fuzz_stack: scenarios played against the fuzzed world itself, so that
 *   sequence numbers are right (handshake, data, close; UDP echo; ping; ARP;
 *   fragments), for the bare-IP and the Ethernet medium; every vector
 *   script given (run by the vector runner, whose pn_inject_raw calls are
 *   recorded through the linker's --wrap); every frame of each pcap given
 *   (Linux captures), replayed as one input;
 * - fuzz_api: hand-written bytecode (active and passive opens, data both
 *   ways, closes, aborts, UDP, ICMP errors);
 * - fuzz_wire_<proto>: every distinct header of that protocol seen in all
 *   of the above (bytes as the codec sees them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "../tests/pkt/pkt.h"

int pn_fuzz_arena_fill = 0;
int pn_fuzz_verbose = 0;
uint64_t pn_fuzz_digest = 0;

_Noreturn void
pn_fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-seeds: invariant broken while making seeds: %s [%s]\n", what, detail);
    abort();
}

static const char *outdir;

/* ---- output ------------------------------------------------------------ */

static void
write_file(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    mkdir(outdir, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/seed-%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* wire seeds: one file per distinct (target, bytes) */
static unsigned wire_n[8];
static uint64_t wire_seen[8][256];

static void
wire_seed(int k, const char *target, const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    for (unsigned i = 0; i < wire_n[k]; i++)
        if (wire_seen[k][i] == h)
            return;
    if (wire_n[k] >= 256)
        return;
    wire_seen[k][wire_n[k]++] = h;
    char name[32];
    snprintf(name, sizeof name, "%03u", wire_n[k]);
    write_file(target, name, p, n);
}

/* Split a frame into the inputs of the codec targets. */
static void
wire_split(const uint8_t *f, size_t n, int ethernet)
{
    const uint8_t *ip = f;
    size_t iplen = n;
    if (ethernet) {
        wire_seed(0, "fuzz_wire_eth", f, n < 64 ? n : 64);
        pni_eth_repr e;
        if (pni_wire_eth_parse(f, n, &e) != 0)
            return;
        if (e.ethertype == PNI_ETHERTYPE_ARP) {
            wire_seed(1, "fuzz_wire_arp", f + e.hlen, n - e.hlen);
            return;
        }
        ip = f + e.hlen;
        iplen = n - e.hlen;
    }
    pni_ip4_repr r;
    if (pni_wire_ip4_parse(ip, iplen, &r) != 0)
        return;
    wire_seed(2, "fuzz_wire_ip4", ip, iplen < 128 ? iplen : 128);
    if (r.mf || r.frag_off)
        return;
    uint8_t buf[8 + 2048];
    size_t l4 = (size_t)r.tot_len - r.hlen;
    if (l4 > 2048)
        l4 = 2048;
    memcpy(buf, r.src, 4);
    memcpy(buf + 4, r.dst, 4);
    memcpy(buf + 8, ip + r.hlen, l4);
    if (r.proto == PNI_IPPROTO_TCP)
        wire_seed(3, "fuzz_wire_tcp", buf, 8 + l4);
    else if (r.proto == PNI_IPPROTO_UDP)
        wire_seed(4, "fuzz_wire_udp", buf, 8 + l4);
    else if (r.proto == PNI_IPPROTO_ICMP)
        wire_seed(5, "fuzz_wire_icmp4", buf + 8, l4);
}

/* ---- recording fuzz_stack inputs ---------------------------------------- */

static uint8_t rec[1 << 20];
static size_t rec_n;
static uint64_t rec_last;
static int recording;
static int rec_ethernet;

static void
rec_start(uint8_t cfgbyte, uint64_t now)
{
    rec_n = 0;
    rec[rec_n++] = cfgbyte;
    rec_last = now;
    recording = 1;
    rec_ethernet = cfgbyte & FZ_C_ETHERNET;
}

static void
rec_frame(const uint8_t *f, size_t n, uint64_t now)
{
    if (!recording || rec_n + 6 + n > sizeof rec)
        return;
    uint64_t d = now > rec_last ? now - rec_last : 0;
    if (d > UINT32_MAX)
        d = UINT32_MAX;
    pni_put_be32(rec + rec_n, (uint32_t)d);
    pni_put_be16(rec + rec_n + 4, (uint16_t)n);
    memcpy(rec + rec_n + 6, f, n);
    rec_n += 6 + n;
    rec_last = now;
    wire_split(f, n, rec_ethernet);
}

static void
rec_end(const char *name)
{
    recording = 0;
    write_file("fuzz_stack", name, rec, rec_n);
}

/* The vector runner's pn_inject_raw calls come here (-Wl,--wrap). */
int __real_pn_inject_raw(pn_stack *s, const void *frame, size_t len, uint64_t now);
int __wrap_pn_inject_raw(pn_stack *s, const void *frame, size_t len, uint64_t now);
int
__wrap_pn_inject_raw(pn_stack *s, const void *frame, size_t len, uint64_t now)
{
    rec_frame(frame, len, now);
    return __real_pn_inject_raw(s, frame, len, now);
}

/* ---- scenarios against the fuzzed world ---------------------------------- */

static uint8_t pkt[4096];
static const uint8_t remote[4] = {FZ_REMOTE_IP}, local[4] = {FZ_LOCAL_IP};
static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* Frame (with link header per medium) around an IP packet; injected and
 * recorded. */
static void
send_ip(fz_world *w, const uint8_t *ip, size_t n)
{
    uint8_t f[4096 + 14];
    size_t off = 0;
    if (w->ethernet) {
        pni_eth_repr e;
        memset(&e, 0, sizeof e);
        memcpy(e.dst, our_mac, 6);
        e.src[0] = 0x02;
        e.src[1] = 0x10;
        memcpy(e.src + 2, ip + 12, 4);
        e.ethertype = PNI_ETHERTYPE_IP4;
        off = pni_wire_eth_emit(&e, f, sizeof f);
    }
    memcpy(f + off, ip, n);
    rec_frame(f, off + n, w->now);
    fz_inject(w, f, off + n);
    fz_app_echo(w);
}

static size_t
ip_hdr(uint8_t *p, uint8_t proto, size_t l4, uint16_t id, int mf, uint16_t frag_off)
{
    pni_ip4_repr h;
    memset(&h, 0, sizeof h);
    h.hlen = 20;
    h.tot_len = (uint16_t)(20 + l4);
    h.id = id;
    h.mf = (uint8_t)mf;
    h.frag_off = frag_off;
    h.ttl = 64;
    h.proto = proto;
    memcpy(h.src, remote, 4);
    memcpy(h.dst, local, 4);
    return pni_wire_ip4_emit(&h, p, 20) + l4;
}

static void
tcp_send(fz_world *w, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
         const char *data, int syn_opts)
{
    pni_tcp_repr t;
    memset(&t, 0, sizeof t);
    t.sport = sport;
    t.dport = dport;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.win = 65535;
    if (syn_opts) {
        t.has_mss = 1;
        t.mss = 1460;
        t.has_ws = 1;
        t.ws = 7;
        t.sack_ok = 1;
    }
    t.has_ts = 1;
    t.ts_val = (uint32_t)(w->now / 1000);
    t.ts_ecr = w->have_last ? w->last.ts_val : 0;
    size_t dl = data ? strlen(data) : 0;
    size_t ol = pni_wire_tcp_opts_len(&t, PNI_TCP_LAYOUT_LINUX);
    memcpy(pkt + 20 + 20 + ol, data, dl);
    size_t hl = pni_wire_tcp_emit(&t, PNI_TCP_LAYOUT_LINUX, pkt + 20, 60, remote, local, dl,
                                  pni_csum_partial(data ? data : "", dl, 0));
    send_ip(w, pkt, ip_hdr(pkt, PNI_IPPROTO_TCP, hl + dl, 1, 0, 0));
}

static void
udp_send(fz_world *w, uint16_t dport, const char *data)
{
    pni_udp_repr u;
    size_t dl = strlen(data);
    memset(&u, 0, sizeof u);
    u.sport = 40000;
    u.dport = dport;
    u.len = (uint16_t)(8 + dl);
    memcpy(pkt + 28, data, dl);
    pni_wire_udp_emit(&u, pkt + 20, 8, remote, local, pni_csum_partial(data, dl, 0));
    send_ip(w, pkt, ip_hdr(pkt, PNI_IPPROTO_UDP, 8 + dl, 2, 0, 0));
}

static void
ping(fz_world *w)
{
    pni_icmp_repr m;
    memset(&m, 0, sizeof m);
    m.type = PNI_ICMP_ECHO_REQUEST;
    m.id = 0x4242;
    m.seq = 1;
    m.data = (const uint8_t *)"abcdefghijklmnop";
    m.data_len = 16;
    size_t n = pni_wire_icmp_emit(&m, pkt + 20, sizeof pkt - 20);
    send_ip(w, pkt, ip_hdr(pkt, PNI_IPPROTO_ICMP, n, 3, 0, 0));
}

static void
udp_frags(fz_world *w)
{
    /* a 48-byte UDP datagram to 8080 in two fragments (32 + 16 bytes) */
    uint8_t l4[48];
    pni_udp_repr u;
    memset(&u, 0, sizeof u);
    u.sport = 40001;
    u.dport = FZ_UDP_PORT;
    u.len = 48;
    for (int i = 8; i < 48; i++)
        l4[i] = (uint8_t)i;
    pni_wire_udp_emit(&u, l4, 8, remote, local, pni_csum_partial(l4 + 8, 40, 0));
    memcpy(pkt + 20, l4 + 32, 16);
    send_ip(w, pkt, ip_hdr(pkt, PNI_IPPROTO_UDP, 16, 77, 0, 32));
    memcpy(pkt + 20, l4, 32);
    send_ip(w, pkt, ip_hdr(pkt, PNI_IPPROTO_UDP, 32, 77, 1, 0));
}

static void
arp_request(fz_world *w)
{
    uint8_t f[64];
    pni_eth_repr e;
    memset(&e, 0, sizeof e);
    memset(e.dst, 0xff, 6);
    const uint8_t peer[6] = {0x02, 0x10, 192, 168, 0, 7};
    memcpy(e.src, peer, 6);
    e.ethertype = PNI_ETHERTYPE_ARP;
    size_t n = pni_wire_eth_emit(&e, f, sizeof f);
    pni_arp_repr a;
    memset(&a, 0, sizeof a);
    a.op = PNI_ARP_REQUEST;
    memcpy(a.sha, peer, 6);
    const uint8_t spa[4] = {FZ_PEER2_IP};
    memcpy(a.spa, spa, 4);
    memcpy(a.tpa, local, 4);
    n += pni_wire_arp_emit(&a, f + n, sizeof f - n);
    rec_frame(f, n, w->now);
    fz_inject(w, f, n);
}

static void
listen_all(fz_world *w)
{
    const uint16_t tp[2] = {FZ_TCP_PORT, FZ_TCP_PORT2}, up[2] = {FZ_UDP_PORT, FZ_UDP_PORT2};
    for (int i = 0; i < 2; i++) {
        w->tcp[i] = pn_tcp_open(w->s);
        pn_sockaddr a = {PN_IP4(0, 0, 0, 0), tp[i]};
        pn_tcp_bind(w->s, w->tcp[i], &a);
        pn_tcp_listen(w->s, w->tcp[i], 4);
        w->udp[i] = pn_udp_open(w->s);
        pn_sockaddr b = {PN_IP4(0, 0, 0, 0), up[i]};
        pn_udp_bind(w->s, w->udp[i], &b);
    }
}

static void
later(fz_world *w, uint64_t us)
{
    w->now += us;
    pn_poll(w->s, w->now);
    fz_drain(w);
}

static void
scenarios(uint8_t cfgbyte, const char *tag)
{
    static fz_world w;
    char name[64];

    /* TCP: handshake, data both ways (echo), close from the peer */
    fz_world_init(&w, cfgbyte);
    listen_all(&w);
    rec_start(cfgbyte, w.now);
    if (w.ethernet)
        arp_request(&w);
    tcp_send(&w, 50000, FZ_TCP_PORT, 1000000, 0, PNI_TCP_SYN, NULL, 1);
    uint32_t our = w.last.seq + 1, their = 1000001;
    later(&w, 10000);
    tcp_send(&w, 50000, FZ_TCP_PORT, their, our, PNI_TCP_ACK, NULL, 0);
    later(&w, 10000);
    tcp_send(&w, 50000, FZ_TCP_PORT, their, our, PNI_TCP_ACK | PNI_TCP_PSH, "hello, purenet\n", 0);
    their += 15;
    later(&w, 50000);
    our = w.last.seq + w.last_seglen;
    tcp_send(&w, 50000, FZ_TCP_PORT, their, our, PNI_TCP_ACK, NULL, 0);
    later(&w, 10000);
    tcp_send(&w, 50000, FZ_TCP_PORT, their, our, PNI_TCP_ACK | PNI_TCP_FIN, NULL, 0);
    their += 1;
    later(&w, 10000);
    our = w.last.seq + w.last_seglen;
    tcp_send(&w, 50000, FZ_TCP_PORT, their, our, PNI_TCP_ACK, NULL, 0);
    snprintf(name, sizeof name, "%s-tcp-echo", tag);
    rec_end(name);
    fz_teardown(&w);

    /* TCP: handshake then RST; a SYN to a closed port */
    fz_world_init(&w, cfgbyte);
    listen_all(&w);
    rec_start(cfgbyte, w.now);
    tcp_send(&w, 50001, FZ_TCP_PORT2, 5000, 0, PNI_TCP_SYN, NULL, 1);
    our = w.last.seq + 1;
    tcp_send(&w, 50001, FZ_TCP_PORT2, 5001, our, PNI_TCP_ACK, NULL, 0);
    tcp_send(&w, 50001, FZ_TCP_PORT2, 5001, our, PNI_TCP_RST | PNI_TCP_ACK, NULL, 0);
    tcp_send(&w, 50002, 9999, 7000, 0, PNI_TCP_SYN, NULL, 1);
    snprintf(name, sizeof name, "%s-tcp-rst", tag);
    rec_end(name);
    fz_teardown(&w);

    /* UDP echo, fragments, ping, port unreachable */
    fz_world_init(&w, cfgbyte);
    listen_all(&w);
    rec_start(cfgbyte, w.now);
    udp_send(&w, FZ_UDP_PORT, "ping over udp");
    udp_send(&w, FZ_UDP_PORT2, "dns?");
    udp_send(&w, 9, "nobody");
    udp_frags(&w);
    ping(&w);
    snprintf(name, sizeof name, "%s-udp-icmp", tag);
    rec_end(name);
    fz_teardown(&w);
}

/* ---- fuzz_api bytecode ----------------------------------------------------- */

static void
api_seeds(void)
{
    /* opcodes as in fuzz_api.c */
    enum { FR, TI, TO, TB, TL, TA, TC, TS, TR, TX, TSH, TAB, TSO, TQ, UO, UB, US, UR, UX, PE, PS, EC, IE, DL };
    /* active open to 192.0.2.1:8080, data, peer answers, close both ways */
    const uint8_t active[] = {
        0x00, TO, 0, TC, 0, 0, 0x1f, 0x90,             /* connect slot 0 */
        PE, PNI_TCP_SYN | PNI_TCP_ACK, 0, 0, 0xff, 0xff, 0, 0, 0x0f, /* SYN-ACK */
        TS, 0, 0x01, 0x00,                             /* send 256 */
        PE, PNI_TCP_ACK, 0, 100, 0xff, 0xff, 0, 0, 0x08, /* ACK + 100 bytes */
        TR, 0, 0x10, 0x00, TQ, 0,
        TI, 0, 0, 0x9c, 0x40,                          /* 40 ms */
        TX, 0,
        PE, PNI_TCP_ACK | PNI_TCP_FIN, 0, 0, 0xff, 0xff, 0, 0, 0x08,
        DL, DL, DL};
    write_file("fuzz_api", "active-ip", active, sizeof active);
    uint8_t eth[sizeof active];
    memcpy(eth, active, sizeof eth);
    eth[0] = FZ_C_ETHERNET;
    write_file("fuzz_api", "active-eth", eth, sizeof eth);
    /* passive open on 8080, peer SYN, handshake, data, app close, abort */
    const uint8_t passive[] = {
        0x02, TO, 1, TB, 1, 1, 1, TL, 1, 4,
        PS, 1, 0xc3, 0x50, 0x00, 0x0f, 0x42, 0x40, 0x0f, 0xff, 0xff, /* SYN from 50000 */
        PE, PNI_TCP_ACK, 0, 0, 0xff, 0xff, 0, 0, 0x08,
        TA, 1, TQ, 2,
        PE, PNI_TCP_ACK | PNI_TCP_PSH, 0x01, 0x00, 0xff, 0xff, 0, 0, 0x08,
        EC, TS, 2, 0x40, 0x00,
        PE, PNI_TCP_ACK, 0, 0, 0x00, 0x00, 0, 0, 0x08, /* zero window */
        DL, DL, TSO, 2, PN_TCP_NODELAY, 0, 0, 0, 1,
        PE, PNI_TCP_ACK, 0, 0, 0xff, 0xff, 0, 0, 0x18, /* SACK */
        IE, 0, 4, 0x02, 0x40,                           /* frag needed, mtu 576 */
        TSH, 2, TAB, 2, TX, 1};
    write_file("fuzz_api", "passive-ip", passive, sizeof passive);
    memcpy(eth, passive, sizeof eth < sizeof passive ? sizeof eth : sizeof passive);
    uint8_t peth[sizeof passive];
    memcpy(peth, passive, sizeof peth);
    peth[0] = FZ_C_ETHERNET | 0x04;
    write_file("fuzz_api", "passive-eth", peth, sizeof peth);
    /* UDP: open, bind, send to three places, receive, close */
    const uint8_t udp[] = {
        0x01, UO, 0, UB, 0, 1, 1, US, 0, 0, 100, 0, 0x1f, 0x90, US, 0, 0x10, 0x00, 1, 0, 53,
        US, 0, 0, 10, 3, 0, 7, UR, 0, 0x10, 0x00, DL, DL, DL, DL, UX, 0};
    write_file("fuzz_api", "udp", udp, sizeof udp);
    /* SYN flood on tiny pools (cookies) */
    uint8_t flood[1 + 10 + 8 * 11];
    size_t n = 0;
    flood[n++] = FZ_C_SMALL;
    const uint8_t l[] = {TO, 0, TB, 0, 1, 1, TL, 0, 1};
    memcpy(flood + n, l, sizeof l);
    n += sizeof l;
    for (int i = 0; i < 8; i++) {
        const uint8_t syn[] = {PS, 1, 0xc3, (uint8_t)(0x50 + i), 0, 0, 0x10, (uint8_t)i, 0x0f, 0x80, 0};
        memcpy(flood + n, syn, sizeof syn);
        n += sizeof syn;
    }
    write_file("fuzz_api", "synflood", flood, n);
}

/* ---- pcap files -------------------------------------------------------------- */

static void
pcap_seed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return;
    }
    uint8_t gh[24];
    if (fread(gh, 1, 24, f) != 24) {
        fclose(f);
        return;
    }
    int swap = gh[0] == 0xa1; /* big-endian file on a little-endian host */
    uint32_t lt = swap ? pni_be32(gh + 20) : (uint32_t)gh[20] | (uint32_t)gh[21] << 8;
    int eth = lt == 1;
    rec_start(eth ? FZ_C_ETHERNET : 0, 0);
    uint8_t rh[16];
    static uint8_t data[65536];
    uint64_t t0 = 0;
    int first = 1;
    while (fread(rh, 1, 16, f) == 16) {
        uint32_t sec, usec, cap;
        if (swap) {
            sec = pni_be32(rh);
            usec = pni_be32(rh + 4);
            cap = pni_be32(rh + 8);
        } else {
            sec = (uint32_t)rh[0] | (uint32_t)rh[1] << 8 | (uint32_t)rh[2] << 16 | (uint32_t)rh[3] << 24;
            usec = (uint32_t)rh[4] | (uint32_t)rh[5] << 8 | (uint32_t)rh[6] << 16 | (uint32_t)rh[7] << 24;
            cap = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 | (uint32_t)rh[11] << 24;
        }
        if (cap > sizeof data || fread(data, 1, cap, f) != cap)
            break;
        uint64_t t = (uint64_t)sec * 1000000u + usec;
        if (first) {
            t0 = t;
            first = 0;
        }
        rec_frame(data, cap, t - t0);
    }
    fclose(f);
    const char *b = strrchr(path, '/');
    char name[128];
    snprintf(name, sizeof name, "pcap-%s", b ? b + 1 : path);
    rec_end(name);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUTDIR [VECTOR.pkt...] [--pcap FILE...]\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    scenarios(0x00, "ip");
    scenarios(FZ_C_ETHERNET, "eth");
    scenarios(FZ_C_ETHERNET | 0x02 | FZ_C_MTU576, "eth-linux-576");
    api_seeds();
    int pcap = 0, nvec = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--pcap") == 0) {
            pcap = 1;
            continue;
        }
        if (pcap) {
            pcap_seed(argv[i]);
            continue;
        }
        static pkt_result res;
        rec_start(0x00, PKT_EPOCH_US);
        pkt_run_file(argv[i], &res, 0);
        const char *b = strrchr(argv[i], '/');
        char name[256];
        const char *d = argv[i];
        if (strncmp(d, "vectors/", 8) == 0)
            d += 8;
        snprintf(name, sizeof name, "vec-%s", d);
        for (char *c = name; *c; c++)
            if (*c == '/')
                *c = '-';
        (void)b;
        if (rec_n > 1)
            rec_end(name);
        recording = 0;
        nvec++;
    }
    printf("fuzz-seeds: wrote seeds to %s (%d vectors)\n", outdir, nvec);
    return 0;
}
