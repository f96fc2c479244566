/*
 * pn-tun.c -- one purenet instance on a real Linux TUN (bare IP) or TAP
 * (Ethernet, with ARP) device.
 *
 *   pn-tun [--tap] [--dev NAME] [--addr A.B.C.D/N] [--gw A.B.C.D]
 *          [--echo] [--discard] [--chargen] [--http] [--udp-echo]
 *          [--connect A.B.C.D:PORT [--send N] [--recv N]]
 *          [--pcap FILE] [-v] [--loss P] [--reorder P] [--dup P] [--seed S]
 *   pn-tun --gen N          write N bytes of the test pattern to stdout
 *
 * With no service and no --connect, every service runs: TCP echo (7),
 * discard (9), chargen (19), HTTP/1.1 (80: GET /bytes/N answers N bytes of
 * the test pattern with a Content-Length, keep-alive), UDP echo (7).
 * --connect opens one connection out, sends N bytes of the pattern (then a
 * FIN), reads until the peer's FIN, prints the byte count and SHA-256 of
 * what came in, and exits (0 when --recv N matched).
 *
 * It does not configure the host (see README: ip addr add, ip link set up;
 * tools/netns-demo.sh does it all in a throwaway namespace).
 *
 * IMPLEMENTATION NOTES
 * - One thread, one loop: ppoll() on the device fd with pn_next_deadline()
 *   (and the impairment's held frame) as the timeout, signals blocked
 *   except inside ppoll. An idle pn-tun sleeps until a frame or a timer.
 * - After a batch of frames is injected (or a timer ran), every open
 *   connection is serviced (reads, writes bounded by pn_sock_status's
 *   writable so nothing is generated twice), then the egress queue is
 *   drained to the device through the impairment.
 * - Impairment (--loss/--reorder/--dup, seeded xorshift): applied to frames
 *   in both directions at this end of the link. Reorder holds one frame
 *   until the next one in the same direction has gone (or 2 ms pass).
 *   --pcap records what the stack saw and sent (the tap), i.e. before the
 *   impairment on the way out and after it on the way in.
 * - Every line meant for scripts starts with "pn-tun: " on stderr; "ready"
 *   is printed once the device exists.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "pcap.h"
#include "pn-tun-sha256.h"
#include "purenet.h"

/* ---- options -------------------------------------------------------- */

enum { SVC_ECHO = 1, SVC_DISCARD = 2, SVC_CHARGEN = 4, SVC_HTTP = 8, SVC_UDP_ECHO = 16 };

typedef struct opts {
    int tap;
    const char *dev;
    pn_ip4 addr;
    uint8_t prefix;
    pn_ip4 gw;
    int have_gw;
    unsigned svcs;
    int client;
    pn_sockaddr peer;
    uint64_t send_n;
    int64_t recv_n; /* -1: not checked */
    const char *pcap;
    int verbose;
    double loss, reorder, dup;
    uint64_t seed;
    int have_seed;
    uint32_t sndbuf, rcvbuf, max_conns;
    uint16_t mtu;
    uint32_t connect_delay_ms;
} opts;

static opts O;

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pn-tun: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void
say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pn-tun: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static uint64_t
mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
parse_ip(const char *s, pn_ip4 *ip, uint8_t *prefix, uint16_t *port)
{
    unsigned a, b, c, d, x = 0;
    char sep = 0;
    int n = sscanf(s, "%u.%u.%u.%u%c%u", &a, &b, &c, &d, &sep, &x);
    if (n < 4 || a > 255 || b > 255 || c > 255 || d > 255)
        return -1;
    *ip = PN_IP4(a, b, c, d);
    if (n == 6 && sep == '/' && prefix != NULL && x <= 32)
        *prefix = (uint8_t)x;
    else if (n == 6 && sep == ':' && port != NULL && x > 0 && x < 65536)
        *port = (uint16_t)x;
    else if (n != 4)
        return -1;
    return 0;
}

static uint64_t
parse_size(const char *s)
{
    char *e;
    unsigned long long v = strtoull(s, &e, 10);
    if (*e == 'k' || *e == 'K')
        v <<= 10;
    else if (*e == 'm' || *e == 'M')
        v <<= 20;
    else if (*e == 'g' || *e == 'G')
        v <<= 30;
    else if (*e != 0)
        die("bad size '%s'", s);
    return v;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: pn-tun [--tap] [--dev NAME] [--addr A.B.C.D/N] [--gw A.B.C.D] [--mtu N]\n"
            "              [--echo] [--discard] [--chargen] [--http] [--udp-echo]\n"
            "              [--connect A.B.C.D:PORT [--send N] [--recv N] [--connect-delay MS]]\n"
            "              [--pcap FILE] [-v] [--loss P] [--reorder P] [--dup P] [--seed S]\n"
            "              [--sndbuf N] [--rcvbuf N] [--max-conns N]\n"
            "       pn-tun --gen N   (N bytes of the test pattern to stdout)\n");
    exit(2);
}

static int gen_pattern(uint64_t n);

static void
parse_args(int argc, char **argv)
{
    O.dev = NULL;
    O.addr = PN_IP4(10, 0, 0, 2);
    O.prefix = 24;
    O.recv_n = -1;
    O.sndbuf = 256 * 1024;
    O.rcvbuf = 256 * 1024;
    O.max_conns = 128;
    O.mtu = 1500;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG() (v != NULL ? (i++, v) : (usage(), ""))
        if (!strcmp(a, "--tap"))
            O.tap = 1;
        else if (!strcmp(a, "--tun"))
            O.tap = 0;
        else if (!strcmp(a, "--dev"))
            O.dev = ARG();
        else if (!strcmp(a, "--addr")) {
            if (parse_ip(ARG(), &O.addr, &O.prefix, NULL) != 0)
                die("bad --addr");
        } else if (!strcmp(a, "--gw")) {
            if (parse_ip(ARG(), &O.gw, NULL, NULL) != 0)
                die("bad --gw");
            O.have_gw = 1;
        } else if (!strcmp(a, "--mtu"))
            O.mtu = (uint16_t)atoi(ARG());
        else if (!strcmp(a, "--echo"))
            O.svcs |= SVC_ECHO;
        else if (!strcmp(a, "--discard"))
            O.svcs |= SVC_DISCARD;
        else if (!strcmp(a, "--chargen"))
            O.svcs |= SVC_CHARGEN;
        else if (!strcmp(a, "--http"))
            O.svcs |= SVC_HTTP;
        else if (!strcmp(a, "--udp-echo"))
            O.svcs |= SVC_UDP_ECHO;
        else if (!strcmp(a, "--connect")) {
            O.peer.port = 0;
            if (parse_ip(ARG(), &O.peer.addr, NULL, &O.peer.port) != 0 || O.peer.port == 0)
                die("bad --connect (want A.B.C.D:PORT)");
            O.client = 1;
        } else if (!strcmp(a, "--connect-delay"))
            O.connect_delay_ms = (uint32_t)atoi(ARG());
        else if (!strcmp(a, "--send"))
            O.send_n = parse_size(ARG());
        else if (!strcmp(a, "--recv"))
            O.recv_n = (int64_t)parse_size(ARG());
        else if (!strcmp(a, "--pcap"))
            O.pcap = ARG();
        else if (!strcmp(a, "-v"))
            O.verbose = 1;
        else if (!strcmp(a, "--loss"))
            O.loss = atof(ARG());
        else if (!strcmp(a, "--reorder"))
            O.reorder = atof(ARG());
        else if (!strcmp(a, "--dup"))
            O.dup = atof(ARG());
        else if (!strcmp(a, "--seed")) {
            O.seed = strtoull(ARG(), NULL, 0);
            O.have_seed = 1;
        } else if (!strcmp(a, "--sndbuf"))
            O.sndbuf = (uint32_t)parse_size(ARG());
        else if (!strcmp(a, "--rcvbuf"))
            O.rcvbuf = (uint32_t)parse_size(ARG());
        else if (!strcmp(a, "--max-conns"))
            O.max_conns = (uint32_t)atoi(ARG());
        else if (!strcmp(a, "--gen"))
            exit(gen_pattern(parse_size(ARG())));
        else
            usage();
#undef ARG
    }
    if (O.svcs == 0 && !O.client)
        O.svcs = SVC_ECHO | SVC_DISCARD | SVC_CHARGEN | SVC_HTTP | SVC_UDP_ECHO;
    if (O.dev == NULL)
        O.dev = O.tap ? "pntap0" : "pntun0";
    if (O.max_conns < 8)
        O.max_conns = 8;
}

static int
gen_pattern(uint64_t n)
{
    static uint8_t b[1 << 16];
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < sizeof b ? (size_t)(n - off) : sizeof b;
        pn_pattern_fill(b, off, k);
        if (fwrite(b, 1, k, stdout) != k)
            return 1;
        off += k;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- packet trace (-v) ------------------------------------------------ */

static uint16_t
be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t g_t0;

static void
trace(int dir, uint64_t now, const uint8_t *f, size_t len)
{
    char line[256];
    int o = 0;
#define P(...) o += snprintf(line + o, sizeof line - (size_t)o, __VA_ARGS__)
    uint64_t t = now - g_t0;
    P("%4" PRIu64 ".%06" PRIu64 " %s ", t / 1000000, t % 1000000, dir == PN_TAP_IN ? "in " : "out");
    const uint8_t *p = f;
    size_t n = len;
    if (O.tap) {
        if (len < 14) {
            P("short frame %zu\n", len);
            goto out;
        }
        uint16_t type = be16(f + 12);
        p = f + 14;
        n = len - 14;
        if (type == 0x0806 && n >= 28) {
            P("ARP %s %u.%u.%u.%u tell %u.%u.%u.%u\n", be16(p + 6) == 1 ? "who-has" : "reply",
              p[24], p[25], p[26], p[27], p[14], p[15], p[16], p[17]);
            goto out;
        }
        if (type != 0x0800) {
            P("ethertype 0x%04x len %zu\n", type, len);
            goto out;
        }
    }
    if (n < 20 || (p[0] >> 4) != 4) {
        P("non-IPv4 len %zu\n", len);
        goto out;
    }
    unsigned hl = (p[0] & 15u) * 4u, tot = be16(p + 2), fo = be16(p + 6);
    P("%u.%u.%u.%u > %u.%u.%u.%u ", p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19]);
    if ((fo & 0x1fff) != 0 || (fo & 0x2000))
        P("frag id %u off %u%s ", be16(p + 4), (fo & 0x1fffu) * 8u, (fo & 0x2000) ? " MF" : "");
    if ((fo & 0x1fff) != 0 || n < hl + 8) {
        P("proto %u len %u\n", p[9], tot);
        goto out;
    }
    const uint8_t *l = p + hl;
    if (p[9] == 6 && n >= hl + 20) {
        static const char fl[] = "FSRPAUEC";
        char fs[9];
        int k = 0;
        for (int b = 0; b < 8; b++)
            if (l[13] & (1 << b))
                fs[k++] = fl[b];
        fs[k] = 0;
        unsigned dl = tot - hl - (l[12] >> 4) * 4u;
        P("TCP %u > %u [%s] seq %" PRIu32 " ack %" PRIu32 " win %u len %u\n", be16(l), be16(l + 2), fs,
          be32(l + 4), be32(l + 8), be16(l + 14), dl);
    } else if (p[9] == 17) {
        P("UDP %u > %u len %u\n", be16(l), be16(l + 2), be16(l + 4) - 8u);
    } else if (p[9] == 1) {
        P("ICMP type %u code %u id %u seq %u len %u\n", l[0], l[1], be16(l + 4), be16(l + 6),
          tot - hl - 8u);
    } else {
        P("proto %u len %u\n", p[9], tot);
    }
out:
#undef P
    fputs(line, stdout);
}

static pn_pcap g_pcap;
static int g_pcap_on;

static void
tap_cb(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    (void)user;
    if (g_pcap_on)
        pn_pcap_tap(&g_pcap, dir, now - g_t0 + 1000000, v);
    if (O.verbose) {
        uint8_t head[128];
        size_t n = pn_pktview_copy(v, 0, head, sizeof head);
        /* lengths come from the headers; pass the real total */
        (void)n;
        trace(dir, now, head, v->tot_len < sizeof head ? v->tot_len : sizeof head);
    }
}

/* ---- the device and the impairment ------------------------------------ */

static int g_fd = -1;
static pn_stack *g_s;
static uint64_t g_dev_tx, g_dev_rx, g_dev_tx_err;

typedef struct imp {
    uint64_t rng;
    uint8_t held[65536];
    size_t held_len;
    uint64_t held_until;
    uint64_t lost, reordered, duped;
} imp;

static imp g_imp[2]; /* 0: toward the device (out), 1: from it (in) */
static int g_imp_on;

static double
rnd(imp *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return (double)(m->rng >> 11) / 9007199254740992.0;
}

static void
dev_write(const uint8_t *f, size_t n)
{
    if (write(g_fd, f, n) == (ssize_t)n)
        g_dev_tx++;
    else
        g_dev_tx_err++;
}

static void
stack_inject(const uint8_t *f, size_t n, uint64_t now)
{
    pn_inject_raw(g_s, f, n, now);
}

static void
emit(int d, const uint8_t *f, size_t n, uint64_t now)
{
    if (d == 0)
        dev_write(f, n);
    else
        stack_inject(f, n, now);
}

/* One frame through the impairment of direction d. */
static void
imp_frame(int d, const uint8_t *f, size_t n, uint64_t now)
{
    if (!g_imp_on) {
        emit(d, f, n, now);
        return;
    }
    imp *m = &g_imp[d];
    double r1 = rnd(m), r2 = rnd(m), r3 = rnd(m);
    if (r1 < O.loss) {
        m->lost++;
        return;
    }
    if (r2 < O.reorder && m->held_len == 0 && n <= sizeof m->held) {
        memcpy(m->held, f, n);
        m->held_len = n;
        m->held_until = now + 2000;
        m->reordered++;
        return;
    }
    emit(d, f, n, now);
    if (r3 < O.dup) {
        m->duped++;
        emit(d, f, n, now);
    }
    if (m->held_len > 0) {
        size_t hn = m->held_len;
        m->held_len = 0;
        emit(d, m->held, hn, now);
    }
}

static void
imp_expire(uint64_t now)
{
    for (int d = 0; d < 2; d++) {
        imp *m = &g_imp[d];
        if (m->held_len > 0 && now >= m->held_until) {
            size_t hn = m->held_len;
            m->held_len = 0;
            emit(d, m->held, hn, now);
        }
    }
}

static uint8_t g_frame[65536];

static void
flush_out(uint64_t now)
{
    int n;
    if (!g_imp_on) {
        /* Zero copy: write() each frame from where it lies in the stack,
         * then let it go (a failed write drops it, counted, as before). */
        const uint8_t *f;
        while ((n = pn_drain_view(g_s, &f)) > 0) {
            dev_write(f, (size_t)n);
            pn_drain_release(g_s);
        }
        if (n == 0)
            return; /* else a frame longer than one buffer: copy it out */
    }
    while ((n = pn_drain_raw(g_s, g_frame, sizeof g_frame)) > 0)
        imp_frame(0, g_frame, (size_t)n, now);
}

/* Read one frame from the device into the stack. Without impairments it
 * is read straight into a stack receive buffer (pn_inject_buf; one that
 * read() leaves unused stays held for the next call). The buffer takes
 * MTU + link header: a longer frame (the device's MTU above the stack's)
 * is cut by read() and dropped by the stack as malformed, where
 * pn_inject_raw would have counted it inject_too_big. Returns read()'s
 * result. */
static ssize_t
dev_read(uint64_t *now)
{
    uint8_t *buf;
    int cap = g_imp_on ? PN_EINVAL : pn_inject_buf(g_s, &buf);
    if (cap > 0) {
        ssize_t n = read(g_fd, buf, (size_t)cap);
        if (n > 0) {
            g_dev_rx++;
            *now = mono_us();
            pn_inject_commit(g_s, (size_t)n, *now);
        }
        return n;
    }
    /* impairments on (they may hold or duplicate the frame), or no receive
     * buffer (pn_inject_raw then drops the frame, counted) */
    ssize_t n = read(g_fd, g_frame, sizeof g_frame);
    if (n > 0) {
        g_dev_rx++;
        *now = mono_us();
        imp_frame(1, g_frame, (size_t)n, *now);
    }
    return n;
}

static int
tun_open(const char *name, int tap)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("open /dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        die("TUNSETIFF %s: %s", name, strerror(errno));
    return fd;
}

/* ---- connections --------------------------------------------------------- */

#define BUF_CAP (64 * 1024)

typedef struct conn {
    int used;
    int sock;
    unsigned svc;      /* SVC_* or 0 for the client */
    pn_sockaddr peer;
    uint64_t t_start;
    uint64_t rx, tx;
    pn_sha256 rx_hash;
    uint8_t *buf;      /* echo: bytes waiting to go back; http: response head */
    size_t blen, boff;
    char *req;         /* http: request bytes */
    size_t rlen;
    uint64_t body_left, body_off;
    int http_close;    /* close after this response */
    unsigned requests;
    int rx_eof, shut;
    uint64_t charg_off;
} conn;

static conn *g_conns; /* indexed by socket handle */
static int g_listen[4] = {-1, -1, -1, -1};
static unsigned g_listen_svc[4] = {SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP};
static const uint16_t g_listen_port[4] = {7, 9, 19, 80};
static int g_udp = -1;
static uint8_t g_scratch[BUF_CAP];
static uint64_t g_conns_done, g_conns_failed;

/* client state */
static int g_cli = -1;
static int g_cli_done, g_cli_ok = 1;
static uint64_t g_cli_sent;

static const char *
svc_name(unsigned svc)
{
    switch (svc) {
    case SVC_ECHO: return "echo";
    case SVC_DISCARD: return "discard";
    case SVC_CHARGEN: return "chargen";
    case SVC_HTTP: return "http";
    default: return "client";
    }
}

static void
conn_report(conn *c, uint64_t now, const char *how)
{
    uint8_t d[32];
    char hex[65];
    pn_sha256_final(&c->rx_hash, d);
    pn_sha256_hex(d, hex);
    double secs = (double)(now - c->t_start) / 1e6;
    double mb = (double)(c->rx > c->tx ? c->rx : c->tx) / 1e6;
    say("%s %s %u.%u.%u.%u:%u rx=%" PRIu64 " tx=%" PRIu64 " rx_sha256=%s requests=%u secs=%.3f "
        "MBps=%.1f",
        how, svc_name(c->svc), c->peer.addr.b[0], c->peer.addr.b[1], c->peer.addr.b[2],
        c->peer.addr.b[3], c->peer.port, c->rx, c->tx, hex, c->requests, secs,
        secs > 0 ? mb / secs : 0.0);
}

static void
conn_free(conn *c)
{
    free(c->buf);
    free(c->req);
    memset(c, 0, sizeof *c);
}

/* Finish a connection: graceful close (FIN after queued data), or abort. */
static void
conn_end(conn *c, uint64_t now, int err)
{
    if (err != 0) {
        say("conn error %s", pn_strerror(err));
        g_conns_failed++;
        pn_tcp_abort(g_s, c->sock, now);
        conn_report(c, now, "abort");
    } else {
        pn_tcp_close(g_s, c->sock, now);
        g_conns_done++;
        conn_report(c, now, "close");
    }
    if (c->sock == g_cli) {
        g_cli_done = 1;
        if (err != 0 || (O.recv_n >= 0 && (int64_t)c->rx != O.recv_n) || g_cli_sent != O.send_n)
            g_cli_ok = 0;
    }
    conn_free(c);
}

static conn *
conn_new(int sock, unsigned svc, const pn_sockaddr *peer, uint64_t now)
{
    if (sock < 0 || (uint32_t)sock >= O.max_conns)
        return NULL;
    conn *c = &g_conns[sock];
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->sock = sock;
    c->svc = svc;
    c->peer = *peer;
    c->t_start = now;
    pn_sha256_init(&c->rx_hash);
    if (svc == SVC_ECHO || svc == SVC_HTTP)
        c->buf = malloc(BUF_CAP);
    if (svc == SVC_HTTP)
        c->req = malloc(BUF_CAP);
    if ((svc == SVC_ECHO || svc == SVC_HTTP) && c->buf == NULL)
        die("out of memory");
    if (svc == SVC_HTTP && c->req == NULL)
        die("out of memory");
    return c;
}

/* Read whatever is there; returns 1 when the peer's FIN was seen, a
 * negative error, or 0. Bytes go to the hash (and into dst when given). */
static int
take(conn *c, uint8_t *dst, size_t cap, size_t *got, uint64_t now)
{
    if (got)
        *got = 0;
    for (;;) {
        uint8_t *b = dst ? dst + (got ? *got : 0) : g_scratch;
        size_t room = dst ? cap - (got ? *got : 0) : sizeof g_scratch;
        if (room == 0)
            return 0;
        int n = pn_tcp_recv(g_s, c->sock, b, room, now);
        if (n == PN_EAGAIN)
            return 0;
        if (n < 0)
            return n;
        if (n == 0) {
            c->rx_eof = 1;
            return 1;
        }
        pn_sha256_update(&c->rx_hash, b, (size_t)n);
        c->rx += (uint64_t)n;
        if (dst && got)
            *got += (size_t)n;
    }
}

static uint32_t
writable(conn *c)
{
    pn_sock_status_t st;
    if (pn_sock_status(g_s, c->sock, &st) != 0)
        return 0;
    return st.writable;
}

/* Send pattern bytes [*off, *off + max) as far as the socket takes them. */
static int
push_pattern(conn *c, uint64_t *off, uint64_t max, uint64_t now)
{
    while (max > 0) {
        uint32_t w = writable(c);
        if (w == 0)
            return 0;
        size_t k = max < w ? (size_t)max : w;
        if (k > sizeof g_scratch)
            k = sizeof g_scratch;
        pn_pattern_fill(g_scratch, *off, k);
        int n = pn_tcp_send(g_s, c->sock, g_scratch, k, now);
        if (n == PN_EAGAIN || n == PN_ENOBUFS || n == 0)
            return 0;
        if (n < 0)
            return n;
        *off += (uint64_t)n;
        c->tx += (uint64_t)n;
        max -= (uint64_t)n;
    }
    return 0;
}

static int
push_buf(conn *c, uint64_t now)
{
    while (c->boff < c->blen) {
        int n = pn_tcp_send(g_s, c->sock, c->buf + c->boff, c->blen - c->boff, now);
        if (n == PN_EAGAIN || n == PN_ENOBUFS || n == 0)
            return 0;
        if (n < 0)
            return n;
        c->boff += (size_t)n;
        c->tx += (uint64_t)n;
    }
    c->boff = c->blen = 0;
    return 0;
}

static void
svc_echo(conn *c, uint64_t now)
{
    for (;;) {
        int e = push_buf(c, now);
        if (e < 0)
            return conn_end(c, now, e);
        if (c->blen > 0)
            return; /* send side full: read more later */
        if (c->rx_eof)
            return conn_end(c, now, 0);
        int n = pn_tcp_recv(g_s, c->sock, c->buf, BUF_CAP, now);
        if (n == PN_EAGAIN)
            return;
        if (n < 0)
            return conn_end(c, now, n);
        if (n == 0) {
            c->rx_eof = 1;
            continue;
        }
        pn_sha256_update(&c->rx_hash, c->buf, (size_t)n);
        c->rx += (uint64_t)n;
        c->blen = (size_t)n;
        c->boff = 0;
    }
}

static void
svc_discard(conn *c, uint64_t now)
{
    int e = take(c, NULL, 0, NULL, now);
    if (e < 0)
        return conn_end(c, now, e);
    if (e == 1)
        return conn_end(c, now, 0);
}

/* RFC 864: lines of 72 printable characters rotating through 95. */
static int
push_chargen(conn *c, uint64_t now)
{
    for (;;) {
        uint32_t w = writable(c);
        if (w == 0)
            return 0;
        size_t k = w < sizeof g_scratch ? w : sizeof g_scratch;
        for (size_t i = 0; i < k; i++) {
            uint64_t p = c->charg_off + i, line = p / 74, col = p % 74;
            g_scratch[i] = col == 72 ? '\r' : col == 73 ? '\n' : (uint8_t)(' ' + (line + col) % 95);
        }
        int n = pn_tcp_send(g_s, c->sock, g_scratch, k, now);
        if (n == PN_EAGAIN || n == PN_ENOBUFS || n == 0)
            return 0;
        if (n < 0)
            return n;
        c->charg_off += (uint64_t)n;
        c->tx += (uint64_t)n;
    }
}

static void
svc_chargen(conn *c, uint64_t now)
{
    int e = take(c, NULL, 0, NULL, now);
    if (e < 0)
        return conn_end(c, now, e);
    if (e == 1)
        return conn_end(c, now, 0);
    e = push_chargen(c, now);
    if (e < 0)
        return conn_end(c, now, e);
}

/* Parse one request from c->req if a whole head is there; set up the
 * response. Returns 1 when a request was taken, 0 when more bytes are
 * needed, -1 on a request too big to hold. */
static int
http_parse(conn *c)
{
    char *end = NULL;
    for (size_t i = 0; i + 3 < c->rlen; i++)
        if (!memcmp(c->req + i, "\r\n\r\n", 4)) {
            end = c->req + i + 4;
            break;
        }
    if (end == NULL)
        return c->rlen >= BUF_CAP - 1 ? -1 : 0;
    size_t head = (size_t)(end - c->req);
    char save = c->req[head - 1];
    c->req[head - 1] = 0;
    char method[16] = "", path[256] = "", ver[16] = "";
    sscanf(c->req, "%15s %255s %15s", method, path, ver);
    int close_req = strcmp(ver, "HTTP/1.1") != 0;
    for (char *h = strstr(c->req, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n")) {
        if (!strncasecmp(h + 2, "connection:", 11)) {
            const char *v = h + 13;
            while (*v == ' ')
                v++;
            if (!strncasecmp(v, "close", 5))
                close_req = 1;
            else if (!strncasecmp(v, "keep-alive", 10))
                close_req = 0;
        }
    }
    c->req[head - 1] = save;
    memmove(c->req, end, c->rlen - head);
    c->rlen -= head;
    c->requests++;

    unsigned long long n = 0;
    char *e = NULL;
    int ok = !strcmp(method, "GET") && !strncmp(path, "/bytes/", 7) &&
             (n = strtoull(path + 7, &e, 10), e != path + 7 && (*e == 0 || *e == '?'));
    const char *status = ok ? "200 OK" : !strcmp(method, "GET") ? "404 Not Found" : "405 Method Not Allowed";
    const char *msg = "purenet pn-tun: try GET /bytes/N\n";
    if (!ok)
        n = strlen(msg);
    int h = snprintf((char *)c->buf, BUF_CAP,
                     "HTTP/1.1 %s\r\nServer: purenet-pn-tun\r\nContent-Type: %s\r\n"
                     "Content-Length: %llu\r\nConnection: %s\r\n\r\n%s",
                     status, ok ? "application/octet-stream" : "text/plain", n,
                     close_req ? "close" : "keep-alive", ok ? "" : msg);
    c->blen = (size_t)h;
    c->boff = 0;
    c->body_left = ok ? n : 0;
    c->body_off = 0;
    c->http_close = close_req;
    return 1;
}

static void
svc_http(conn *c, uint64_t now)
{
    for (;;) {
        size_t got = 0;
        int e = 0;
        if (!c->rx_eof && c->rlen < BUF_CAP - 1) {
            e = take(c, (uint8_t *)c->req + c->rlen, BUF_CAP - 1 - c->rlen, &got, now);
            if (e < 0)
                return conn_end(c, now, e);
            c->rlen += got;
        }
        /* the response in progress */
        e = push_buf(c, now);
        if (e < 0)
            return conn_end(c, now, e);
        if (c->blen > 0)
            return;
        if (c->body_left > 0) {
            uint64_t before = c->body_off;
            e = push_pattern(c, &c->body_off, c->body_left, now);
            if (e < 0)
                return conn_end(c, now, e);
            c->body_left -= c->body_off - before;
            if (c->body_left > 0)
                return;
        }
        if (c->requests > 0 && c->http_close)
            return conn_end(c, now, 0);
        int r = http_parse(c);
        if (r < 0)
            return conn_end(c, now, 0);
        if (r == 0) {
            if (c->rx_eof)
                return conn_end(c, now, 0);
            if (got == 0)
                return;
        }
    }
}

static void
svc_client(conn *c, uint64_t now)
{
    pn_sock_status_t st;
    if (pn_sock_status(g_s, c->sock, &st) != 0)
        return;
    if (st.pending_error != 0)
        return conn_end(c, now, st.pending_error);
    if (!st.connected)
        return;
    int e = take(c, NULL, 0, NULL, now);
    if (e < 0)
        return conn_end(c, now, e);
    if (g_cli_sent < O.send_n) {
        e = push_pattern(c, &g_cli_sent, O.send_n - g_cli_sent, now);
        if (e < 0)
            return conn_end(c, now, e);
    }
    if (g_cli_sent == O.send_n && !c->shut) {
        pn_tcp_shutdown(g_s, c->sock, now);
        c->shut = 1;
    }
    if (c->shut && c->rx_eof) {
        pn_sock_status(g_s, c->sock, &st);
        if (st.unacked == 0 && st.unsent == 0)
            return conn_end(c, now, 0);
    }
}

static void
service(uint64_t now)
{
    for (int i = 0; i < 4; i++) {
        if (g_listen[i] < 0)
            continue;
        pn_sockaddr peer;
        int ns;
        while ((ns = pn_tcp_accept(g_s, g_listen[i], &peer)) >= 0) {
            if (conn_new(ns, g_listen_svc[i], &peer, now) == NULL) {
                say("no room for connection %d", ns);
                pn_tcp_abort(g_s, ns, now);
            } else if (g_listen_svc[i] == SVC_HTTP || g_listen_svc[i] == SVC_ECHO) {
                /* request/response: a response's tail must not wait
                 * for the peer's delayed ACK (Nagle) */
                pn_tcp_setopt(g_s, ns, PN_TCP_NODELAY, 1);
            }
        }
    }
    for (uint32_t i = 0; i < O.max_conns; i++) {
        conn *c = &g_conns[i];
        if (!c->used)
            continue;
        switch (c->svc) {
        case SVC_ECHO: svc_echo(c, now); break;
        case SVC_DISCARD: svc_discard(c, now); break;
        case SVC_CHARGEN: svc_chargen(c, now); break;
        case SVC_HTTP: svc_http(c, now); break;
        default: svc_client(c, now); break;
        }
    }
    if (g_udp >= 0) {
        pn_sockaddr from;
        int n;
        while ((n = pn_udp_recvfrom(g_s, g_udp, g_scratch, sizeof g_scratch, &from)) >= 0)
            pn_udp_sendto(g_s, g_udp, g_scratch, (size_t)n, &from, now);
    }
}

static int
open_listener(uint16_t port)
{
    int s = pn_tcp_open(g_s);
    if (s < 0)
        die("pn_tcp_open: %s", pn_strerror(s));
    pn_tcp_setopt(g_s, s, PN_TCP_REUSEADDR, 1);
    pn_sockaddr any = {PN_IP4(0, 0, 0, 0), port};
    int e = pn_tcp_bind(g_s, s, &any);
    if (e == 0)
        e = pn_tcp_listen(g_s, s, 64);
    if (e != 0)
        die("listen on %u: %s", port, pn_strerror(e));
    return s;
}

/* ---- main loop -------------------------------------------------------- */

static volatile sig_atomic_t g_sig;

static void
on_sig(int sig)
{
    g_sig = sig;
}

static void
print_stats(void)
{
    const pn_stats *st = pn_stats_get(g_s);
    const uint64_t *v = (const uint64_t *)st;
    fprintf(stderr, "pn-tun: stats");
    for (size_t i = 0; i < pn_stats_count(); i++)
        if (v[i] != 0)
            fprintf(stderr, " %s=%" PRIu64, pn_stats_name(i), v[i]);
    fprintf(stderr, "\npn-tun: device rx=%" PRIu64 " tx=%" PRIu64 " tx_err=%" PRIu64
                    " conns_done=%" PRIu64 " conns_failed=%" PRIu64 "\n",
            g_dev_rx, g_dev_tx, g_dev_tx_err, g_conns_done, g_conns_failed);
    if (g_imp_on)
        fprintf(stderr,
                "pn-tun: impairment out lost=%" PRIu64 " reordered=%" PRIu64 " duped=%" PRIu64
                " in lost=%" PRIu64 " reordered=%" PRIu64 " duped=%" PRIu64 "\n",
                g_imp[0].lost, g_imp[0].reordered, g_imp[0].duped, g_imp[1].lost,
                g_imp[1].reordered, g_imp[1].duped);
}

int
main(int argc, char **argv)
{
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);

    pn_config cfg;
    pn_config_default(&cfg);
    cfg.medium = O.tap ? PN_MEDIUM_ETHERNET : PN_MEDIUM_IP;
    cfg.mtu = O.mtu;
    cfg.n_addrs = 1;
    cfg.addrs[0].addr = O.addr;
    cfg.addrs[0].prefix_len = O.prefix;
    if (O.have_gw) {
        cfg.n_routes = 1;
        cfg.routes[0].dest = PN_IP4(0, 0, 0, 0);
        cfg.routes[0].prefix_len = 0;
        cfg.routes[0].gateway = O.gw;
    }
    if (O.have_seed) {
        for (int i = 0; i < 16; i++)
            cfg.key[i] = (uint8_t)(O.seed >> (8 * (i % 8))) ^ (uint8_t)(0x5a + i);
    } else if (getrandom(cfg.key, sizeof cfg.key, 0) != (ssize_t)sizeof cfg.key) {
        die("getrandom: %s", strerror(errno));
    }
    /* locally administered MAC from the key */
    cfg.mac = (pn_mac){{0x02, 0x70, 0x6e, cfg.key[0], cfg.key[1], cfg.key[2]}};
    cfg.rx_bufs = 512;
    cfg.tx_bufs = 2048;
    cfg.egress_max_pkts = 2048;
    cfg.egress_max_bytes = 4u << 20;
    cfg.tcp.max_socks = O.max_conns;
    cfg.tcp.sndbuf = O.sndbuf;
    cfg.tcp.rcvbuf = O.rcvbuf;
    cfg.tcp.buf_budget = 64u << 20;
    cfg.tcp.syn_queue = 128;
    cfg.tcp.ooo_max_segs = 64;
    cfg.tap = tap_cb;
    g_t0 = mono_us();

    if (O.pcap != NULL) {
        remove(O.pcap);
        if (pn_pcap_open(&g_pcap, O.pcap, O.tap ? PN_PCAP_LINKTYPE_ETHERNET : PN_PCAP_LINKTYPE_RAW,
                         (1u << PN_TAP_IN) | (1u << PN_TAP_OUT)) != 0)
            die("%s: %s", O.pcap, strerror(errno));
        g_pcap_on = 1;
    }
    size_t need = pn_arena_size(&cfg);
    void *arena = NULL;
    if (need == 0)
        die("invalid configuration");
    if (posix_memalign(&arena, PN_ARENA_ALIGN, need) != 0)
        die("cannot allocate %zu bytes of arena", need);
    int err = 0;
    g_s = pn_stack_new(arena, need, &cfg, &err);
    if (g_s == NULL)
        die("pn_stack_new: %s", pn_strerror(err));
    g_conns = calloc(O.max_conns, sizeof *g_conns);
    if (g_conns == NULL)
        die("out of memory");

    g_imp_on = O.loss > 0 || O.reorder > 0 || O.dup > 0;
    for (int d = 0; d < 2; d++)
        g_imp[d].rng = (O.have_seed ? O.seed : 1) * 0x9e3779b97f4a7c15ull + (uint64_t)d + 1;

    g_fd = tun_open(O.dev, O.tap);

    uint64_t now = mono_us();
    for (int i = 0; i < 4; i++)
        if (O.svcs & g_listen_svc[i])
            g_listen[i] = open_listener(g_listen_port[i]);
    if (O.svcs & SVC_UDP_ECHO) {
        g_udp = pn_udp_open(g_s);
        pn_sockaddr any = {PN_IP4(0, 0, 0, 0), 7};
        if (g_udp < 0 || pn_udp_bind(g_s, g_udp, &any) != 0)
            die("UDP echo: cannot bind port 7");
    }
    uint64_t cli_start = 0;
    if (O.client) {
        /* A device that just got its first reader turns its carrier on
         * through Linux's linkwatch, which may lag: a SYN sent at once
         * can be lost (and cost a 1 s RTO). --connect-delay waits. */
        if (O.connect_delay_ms > 0)
            usleep(O.connect_delay_ms * 1000u);
        now = mono_us();
        g_cli = pn_tcp_open(g_s);
        if (g_cli < 0)
            die("pn_tcp_open: %s", pn_strerror(g_cli));
        cli_start = now;
        int e = pn_tcp_connect(g_s, g_cli, &O.peer, now);
        if (e != 0 && e != PN_EINPROGRESS)
            die("connect: %s", pn_strerror(e));
        conn_new(g_cli, 0, &O.peer, now);
    }
    say("ready %s %s %u.%u.%u.%u/%u mtu %u%s", O.tap ? "tap" : "tun", O.dev, O.addr.b[0],
        O.addr.b[1], O.addr.b[2], O.addr.b[3], O.prefix, O.mtu, g_imp_on ? " impaired" : "");

    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &orig);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    uint64_t closing_since = 0, last_traffic = now;
    for (;;) {
        now = mono_us();
        pn_poll(g_s, now);
        imp_expire(now);
        service(now);
        flush_out(now);

        if (g_sig && closing_since == 0) {
            say("signal %d: closing connections", (int)g_sig);
            closing_since = now;
            for (uint32_t i = 0; i < O.max_conns; i++)
                if (g_conns[i].used)
                    conn_end(&g_conns[i], now, 0);
            for (int i = 0; i < 4; i++)
                if (g_listen[i] >= 0)
                    pn_tcp_close(g_s, g_listen[i], now);
            flush_out(now);
        }
        if (O.client && g_cli_done && closing_since == 0) {
            double secs = (double)(now - cli_start) / 1e6;
            say("client done %s sent=%" PRIu64 " secs=%.3f", g_cli_ok ? "ok" : "FAILED", g_cli_sent,
                secs);
            closing_since = now;
        }
        /* After closing: a short linger for the FIN exchange, then out. */
        if (closing_since != 0 &&
            (now - closing_since > 2000000 || (now - last_traffic > 200000 && now - closing_since > 50000)))
            break;

        uint64_t dl = pn_next_deadline(g_s);
        for (int d = 0; d < 2; d++)
            if (g_imp[d].held_len > 0 && g_imp[d].held_until < dl)
                dl = g_imp[d].held_until;
        if (closing_since != 0 && now + 50000 < dl)
            dl = now + 50000;
        struct timespec ts, *tsp = NULL;
        if (dl != PN_TIME_NEVER) {
            uint64_t us = dl > now ? dl - now : 0;
            ts.tv_sec = (time_t)(us / 1000000);
            ts.tv_nsec = (long)(us % 1000000) * 1000;
            tsp = &ts;
        }
        struct pollfd pfd = {g_fd, POLLIN, 0};
        int r = ppoll(&pfd, 1, tsp, &orig);
        if (r < 0 && errno != EINTR)
            die("ppoll: %s", strerror(errno));
        if (r <= 0)
            continue;
        /* Read a batch; service and flush every few frames so that the
         * receive queues drain and ACKs go out while the batch runs. */
        for (int k = 0; k < 256; k++) {
            if (dev_read(&now) <= 0)
                break;
            last_traffic = now;
            if ((k & 15) == 15) {
                service(now);
                flush_out(now);
            }
        }
    }
    print_stats();
    if (g_pcap_on)
        pn_pcap_close(&g_pcap);
    close(g_fd);
    free(g_conns);
    free(arena);
    return O.client ? (g_cli_ok ? 0 : 1) : 0;
}
