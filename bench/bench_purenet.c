/*
 * bench_purenet.c -- the purenet side of the side-by-side benchmarks.
 *
 * IMPLEMENTATION NOTES
 * - Two instances, A (10.0.0.1) and B (10.0.0.2), each in its own malloc'd
 *   arena, wired back to back by pump(): pn_drain_view shows the next
 *   frame of one where it lies, pn_inject_raw gives it to the other,
 *   pn_drain_release lets it go, until both are quiet. pn_inject_raw
 *   copies a frame into a receive buffer only when the stack keeps it
 *   (UDP, ARP, ...); a TCP segment is processed where it lies (since
 *   w1-rx; the lwIP harness still copies each frame into a pbuf in its
 *   linkoutput, which lwIP's input API needs).
 * - The application copies are the library's own: pn_tcp_send and
 *   pn_udp_sendto copy in, pn_tcp_recv and pn_udp_recvfrom copy out.
 * - Time is virtual (bench_common.h). Timers run when pn_next_deadline()
 *   says so; when a loop turn moves nothing, the clock jumps to the next
 *   deadline and the turn is counted as a stall (a lossless wire should
 *   have none in the steady state).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "purenet.h"

#include "bench_common.h"

static const bench_args *g_args;
static uint8_t *g_pat;
static uint64_t g_now = 1000000;
static pn_stack *g_s[2];
static uint64_t g_frames[2]; /* frames sent by A and by B */
static uint64_t g_stalls;
static uint8_t g_frame[65536 + 64]; /* frames too long to view in place */
static uint8_t g_appbuf[65536];
static uint64_t g_rx_bytes;
static int g_verify_bad;

/* ---- instances ---------------------------------------------------------- */

typedef struct sizing {
    unsigned mtu;
    uint32_t sockbuf;   /* TCP send and receive buffer per socket */
    uint32_t max_socks; /* TCP control blocks */
    uint32_t budget;    /* TCP data buffer bytes, 0 = default */
    int quickack;       /* 1: ACK every segment at once */
} sizing;

static void
make_config(pn_config *c, int id, const sizing *z)
{
    pn_config_default(c);
    c->medium = PN_MEDIUM_ETHERNET;
    c->mac = (pn_mac){{2, 0, 0, 0, 0, (uint8_t)(id + 1)}};
    c->mtu = (uint16_t)z->mtu;
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(10, 0, 0, id + 1);
    c->addrs[0].prefix_len = 24;
    for (int i = 0; i < 16; i++)
        c->key[i] = (uint8_t)(0x5a ^ (i * 7) ^ id);
    /* Room for a whole window of frames in the egress queue. */
    c->tx_bufs = 256;
    c->rx_bufs = 64;
    c->egress_max_pkts = 256;
    c->egress_max_bytes = 4u << 20;
    c->tcp.max_socks = z->max_socks;
    c->tcp.sndbuf = z->sockbuf;
    c->tcp.rcvbuf = z->sockbuf;
    c->tcp.buf_budget = z->budget;
    c->tcp.quickack = (uint8_t)z->quickack;
}

static pn_stack *
make_stack(int id, const sizing *z, size_t *arena_len)
{
    pn_config c;
    make_config(&c, id, z);
    size_t need = pn_arena_size(&c);
    if (need == 0)
        bench_die("pn_arena_size rejected the config", id);
    void *arena = aligned_alloc(64, (need + 63) & ~(size_t)63);
    if (arena == NULL)
        bench_die("aligned_alloc", (long)need);
    int err = 0;
    pn_stack *s = pn_stack_new(arena, need, &c, &err);
    if (s == NULL)
        bench_die(pn_strerror(err), err);
    if (arena_len != NULL)
        *arena_len = need;
    return s;
}

static void
setup(const sizing *z)
{
    g_s[0] = make_stack(0, z, NULL);
    g_s[1] = make_stack(1, z, NULL);
}

/* pump's way for a frame pn_drain_view refused (err): one longer than a
 * buffer (16 KiB at most by default: W1 at MTU 65535) cannot be shown in
 * place, so the copying pair, two copies. Out of line: pump's loop stays
 * small (measured: 20 instructions per W2 datagram otherwise). */
static __attribute__((noinline)) void
move_long(int from, int err)
{
    if (err != PN_EMSGSIZE)
        bench_die("pn_drain_view", err);
    int len = pn_drain_raw(g_s[from], g_frame, sizeof g_frame);
    if (len <= 0)
        bench_die("pn_drain_raw", len);
    pn_inject_raw(g_s[!from], g_frame, (size_t)len, g_now);
}

/* Move frames both ways until both instances are quiet. Returns the
 * number of frames moved. The receiver's pn_inject_raw reads each frame
 * where it lies in the sender's buffer (pn_drain_view; copying it only if
 * it keeps it), then the sender releases it. Measured with callgrind
 * (same harness) against draining the sender straight into the
 * receiver's buffer (pn_inject_buf + pn_drain_raw + pn_inject_commit),
 * this is as cheap for W1's full frames and cheaper for W2's small ones,
 * where empty polls dominate: one call each instead of two. Per W1
 * segment 4,136 vs 4,146 instructions, per W2 datagram 1,609 vs 1,696
 * (1,611 when the inject-buffer variant asks pn_drain_peek first).
 * A side is drained again only after it was given a frame: between
 * pump's entry (both sides may hold output of the application's calls
 * or of a poll) and its return nothing else can make a stack produce
 * output, so a side that received nothing since it was last drained
 * empty has nothing to drain. bench_lwip.c's deliver() pops a FIFO of
 * frames actually sent, which never polls an empty side either. */
static uint64_t
drain_side(int from)
{
    pn_stack *src = g_s[from], *dst = g_s[!from];
    uint64_t n = 0;
    const uint8_t *f;
    int len;
    while ((len = pn_drain_view(src, &f)) != 0) {
        if (len > 0) {
            pn_inject_raw(dst, f, (size_t)len, g_now);
            pn_drain_release(src);
        } else {
            move_long(from, len);
        }
        n++;
    }
    g_frames[from] += n;
    return n;
}

static uint64_t
pump(void)
{
    /* Drain one side into the other, then the other if it may hold
     * output (it was given frames, or it is B at the start), and so on
     * until a side drains empty and the other has had nothing since. */
    uint64_t moved = 0;
    int from = 0, other_dirty = 1;
    for (;;) {
        uint64_t n = drain_side(from);
        moved += n;
        if (n == 0 && !other_dirty)
            return moved;
        from = !from;
        other_dirty = 0; /* the side just drained is empty */
    }
}

/* Advance the clock by us and run the timers that are due. */
static void
tick(uint64_t us)
{
    g_now += us;
    for (int i = 0; i < 2; i++)
        if (pn_next_deadline(g_s[i]) <= g_now)
            pn_poll(g_s[i], g_now);
}

/* Nothing moved: jump to the earliest deadline. */
static void
stall(void)
{
    uint64_t d = pn_next_deadline(g_s[0]);
    uint64_t d1 = pn_next_deadline(g_s[1]);
    if (d1 < d)
        d = d1;
    if (d == PN_TIME_NEVER)
        bench_die("deadlock: nothing moves and no timer is pending", 0);
    g_stalls++;
    if (d > g_now)
        g_now = d;
    tick(0);
}

/* app_take's check of the bytes against the pattern (verify=1 only). Out
 * of line: without it app_take is one add, inlined (measured: 26
 * instructions per W2 datagram when the whole of it was a call). */
static __attribute__((noinline)) void
app_verify(const uint8_t *buf, size_t n)
{
    if (!bench_pattern_ok(g_pat, g_rx_bytes, buf, n))
        g_verify_bad = 1;
}

static inline void
app_take(const uint8_t *buf, size_t n)
{
    if (g_args->verify)
        app_verify(buf, n);
    g_rx_bytes += n;
}

/* ---- TCP plumbing ------------------------------------------------------- */

static int
tcp_listener(pn_stack *s, uint16_t port, int backlog)
{
    int l = pn_tcp_open(s);
    if (l < 0)
        bench_die("pn_tcp_open listener", l);
    pn_sockaddr any = {PN_IP4(0, 0, 0, 0), port};
    int r = pn_tcp_bind(s, l, &any);
    if (r < 0)
        bench_die("pn_tcp_bind", r);
    r = pn_tcp_listen(s, l, backlog);
    if (r < 0)
        bench_die("pn_tcp_listen", r);
    return l;
}

static int
tcp_connect_to(uint16_t port, int reuse)
{
    int c = pn_tcp_open(g_s[0]);
    if (c < 0)
        bench_die("pn_tcp_open", c);
    /* Without it an instance holds at most 16384 outgoing connections:
     * the ephemeral pick refuses a local port any socket uses. */
    if (reuse && pn_tcp_setopt(g_s[0], c, PN_TCP_REUSEADDR, 1) < 0)
        bench_die("PN_TCP_REUSEADDR", c);
    pn_sockaddr to = {PN_IP4(10, 0, 0, 2), port};
    int r = pn_tcp_connect(g_s[0], c, &to, g_now);
    if (r < 0 && r != PN_EINPROGRESS)
        bench_die("pn_tcp_connect", r);
    return c;
}

/* One connection A -> B:port; returns the client socket, *srv the
 * accepted one. */
static int
connect_pair(uint16_t port, int *srv)
{
    int l = tcp_listener(g_s[1], port, 16);
    int c = tcp_connect_to(port, 0);
    int a = PN_EAGAIN;
    for (int i = 0; i < 1000; i++) {
        pump();
        if (a < 0)
            a = pn_tcp_accept(g_s[1], l, NULL);
        if (a >= 0 && pn_tcp_state(g_s[0], c) == PN_TCP_ESTABLISHED)
            break;
        tick(BENCH_STEP_US);
    }
    if (a < 0 || pn_tcp_state(g_s[0], c) != PN_TCP_ESTABLISHED)
        bench_die("purenet handshake did not complete", a);
    *srv = a;
    return c;
}

/* Read everything readable on B's socket. Returns bytes read; *eof set on
 * end of stream. */
static uint64_t
drain_sock(int sock, int *eof)
{
    uint64_t got = 0;
    for (;;) {
        int n = pn_tcp_recv(g_s[1], sock, g_appbuf, sizeof g_appbuf, g_now);
        if (n > 0) {
            app_take(g_appbuf, (size_t)n);
            got += (uint64_t)n;
            continue;
        }
        if (n == 0 && eof != NULL)
            *eof = 1;
        if (n < 0 && n != PN_EAGAIN)
            bench_die("pn_tcp_recv", n);
        return got;
    }
}

static uint32_t
w1_sockbuf(unsigned mtu)
{
    if (mtu <= 1500)
        return 65535; /* lwIP's window in this build */
    if (mtu <= 9000)
        return 256u << 10;
    return 512u << 10;
}

/* ---- W1: bulk TCP ------------------------------------------------------- */

static int g_cli, g_srv;

BENCH_NOINLINE static void
bench_measured_w1(uint64_t total)
{
    uint64_t tx = 0;
    while (g_rx_bytes < total) {
        int moved = 0;
        while (tx < total) {
            uint64_t n = total - tx;
            if (n > 65536)
                n = 65536;
            int r = pn_tcp_send(g_s[0], g_cli, g_pat + tx % BENCH_PAT_LEN, (size_t)n, g_now);
            if (r <= 0) {
                if (r < 0 && r != PN_EAGAIN && r != PN_ENOBUFS)
                    bench_die("pn_tcp_send", r);
                break;
            }
            tx += (uint64_t)r;
            moved = 1;
        }
        if (pump() != 0)
            moved = 1;
        if (drain_sock(g_srv, NULL) != 0) {
            moved = 1;
            pump(); /* window updates */
        }
        tick(BENCH_STEP_US);
        if (!moved)
            stall();
    }
}

static void
run_w1(const bench_args *a)
{
    sizing z = {a->mtu, w1_sockbuf(a->mtu), 4, 0, 0};
    setup(&z);
    g_cli = connect_pair(5001, &g_srv);
    uint64_t f0 = g_frames[0], f1 = g_frames[1];
    double t0 = bench_wall();
    bench_measured_w1(a->bytes);
    double t1 = bench_wall();
    const pn_stats *sa = pn_stats_get(g_s[0]);
    printf("stack=purenet w=w1 mtu=%u bytes=%llu units=%llu segs=%llu secs=%.6f gbps=%.3f "
           "acks=%llu stalls=%llu retrans=%llu rss_kib=%ld verify=%s\n",
           a->mtu, (unsigned long long)g_rx_bytes, (unsigned long long)g_rx_bytes,
           (unsigned long long)(g_frames[0] - f0), t1 - t0,
           (double)g_rx_bytes * 8 / (t1 - t0) / 1e9, (unsigned long long)(g_frames[1] - f1),
           (unsigned long long)g_stalls, (unsigned long long)sa->tcp_retrans, bench_rss_kib(),
           a->verify ? (g_verify_bad ? "BAD" : "ok") : "off");
}

/* ---- W2: small packets -------------------------------------------------- */

static int g_ua, g_ub;
static uint64_t g_udp_rx;

static void
udp_send64(uint64_t i)
{
    static const pn_sockaddr to = {{{10, 0, 0, 2}}, 7001};
    int r = pn_udp_sendto(g_s[0], g_ua, g_pat + (i * 64) % BENCH_PAT_LEN, 64, &to, g_now);
    if (r != 64)
        bench_die("pn_udp_sendto", r);
}

static void
udp_recv_all(void)
{
    int n;
    while ((n = pn_udp_recvfrom(g_s[1], g_ub, g_appbuf, sizeof g_appbuf, NULL)) >= 0) {
        app_take(g_appbuf, (size_t)n);
        g_udp_rx++;
    }
    if (n != PN_EAGAIN)
        bench_die("pn_udp_recvfrom", n);
}

BENCH_NOINLINE static void
bench_measured_w2udp(uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        udp_send64(i);
        pump();
        udp_recv_all();
        tick(1);
    }
}

static void
run_w2udp(const bench_args *a)
{
    sizing z = {a->mtu, 0, 2, 0, 0};
    setup(&z);
    g_ua = pn_udp_open(g_s[0]);
    g_ub = pn_udp_open(g_s[1]);
    pn_sockaddr la = {PN_IP4(0, 0, 0, 0), 7000}, lb = {PN_IP4(0, 0, 0, 0), 7001};
    if (g_ua < 0 || g_ub < 0 || pn_udp_bind(g_s[0], g_ua, &la) < 0 || pn_udp_bind(g_s[1], g_ub, &lb) < 0)
        bench_die("udp setup", 0);
    udp_send64(0); /* resolves ARP (the datagram waits for it) */
    for (int i = 0; i < 10; i++) {
        pump();
        tick(BENCH_STEP_US);
    }
    udp_recv_all();
    g_rx_bytes = 0;
    uint64_t r0 = g_udp_rx, f0 = g_frames[0];
    double t0 = bench_wall();
    bench_measured_w2udp(a->count);
    double t1 = bench_wall();
    uint64_t got = g_udp_rx - r0;
    if (got != a->count)
        bench_die("datagrams lost", (long)(a->count - got));
    printf("stack=purenet w=w2udp units=%llu segs=%llu secs=%.6f pps=%.0f rss_kib=%ld verify=%s\n",
           (unsigned long long)got, (unsigned long long)(g_frames[0] - f0), t1 - t0,
           (double)got / (t1 - t0), bench_rss_kib(), a->verify ? (g_verify_bad ? "BAD" : "ok") : "off");
}

BENCH_NOINLINE static void
bench_measured_w2tcp(uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        int r = pn_tcp_send(g_s[0], g_cli, g_pat + (i * 64) % BENCH_PAT_LEN, 64, g_now);
        if (r != 64)
            bench_die("pn_tcp_send 64", r);
        pump();
        if (drain_sock(g_srv, NULL) != 0)
            pump();
        tick(1);
    }
}

static void
run_w2tcp(const bench_args *a)
{
    sizing z = {a->mtu, 65535, 4, 0, 0};
    setup(&z);
    g_cli = connect_pair(5002, &g_srv);
    if (pn_tcp_setopt(g_s[0], g_cli, PN_TCP_NODELAY, 1) < 0)
        bench_die("PN_TCP_NODELAY", 0);
    uint64_t f0 = g_frames[0], f1 = g_frames[1];
    double t0 = bench_wall();
    bench_measured_w2tcp(a->count);
    double t1 = bench_wall();
    if (g_rx_bytes != a->count * 64)
        bench_die("bytes missing", (long)(a->count * 64 - g_rx_bytes));
    printf("stack=purenet w=w2tcp units=%llu segs=%llu acks=%llu secs=%.6f pps=%.0f rss_kib=%ld verify=%s\n",
           (unsigned long long)a->count, (unsigned long long)(g_frames[0] - f0),
           (unsigned long long)(g_frames[1] - f1), t1 - t0, (double)a->count / (t1 - t0),
           bench_rss_kib(), a->verify ? (g_verify_bad ? "BAD" : "ok") : "off");
}

/* ---- W3: churn ---------------------------------------------------------- */

#define W3_REQ 100u
#define W3_REPLY 1024u

static int g_w3_listener;

static void
w3_one(void)
{
    int c = tcp_connect_to(80, 0);
    int sv = -1, sent_req = 0, srv_done = 0, cli_closed = 0;
    uint32_t srv_got = 0, cli_got = 0;
    for (int turns = 0;; turns++) {
        uint64_t moved = pump();
        if (!sent_req && pn_tcp_state(g_s[0], c) == PN_TCP_ESTABLISHED) {
            if (pn_tcp_send(g_s[0], c, g_pat, W3_REQ, g_now) != (int)W3_REQ)
                bench_die("w3 request", 0);
            sent_req = 1;
            moved++;
        }
        if (sv < 0) {
            sv = pn_tcp_accept(g_s[1], g_w3_listener, NULL);
            if (sv >= 0)
                moved++;
        }
        if (sv >= 0 && !srv_done) {
            int n;
            while ((n = pn_tcp_recv(g_s[1], sv, g_appbuf, sizeof g_appbuf, g_now)) > 0)
                srv_got += (uint32_t)n;
            if (srv_got >= W3_REQ) {
                if (pn_tcp_send(g_s[1], sv, g_pat, W3_REPLY, g_now) != (int)W3_REPLY)
                    bench_die("w3 reply", 0);
                if (pn_tcp_close(g_s[1], sv, g_now) < 0)
                    bench_die("w3 server close", 0);
                srv_done = 1;
                moved++;
            }
        }
        if (!cli_closed && sent_req) {
            int n;
            while ((n = pn_tcp_recv(g_s[0], c, g_appbuf, sizeof g_appbuf, g_now)) > 0)
                cli_got += (uint32_t)n;
            if (n == 0) {
                if (pn_tcp_close(g_s[0], c, g_now) < 0)
                    bench_die("w3 client close", 0);
                cli_closed = 1;
                moved++;
            } else if (n != PN_EAGAIN) {
                bench_die("w3 client recv", n);
            }
        }
        if (cli_closed && moved == 0)
            break;
        tick(BENCH_STEP_US);
        if (moved == 0)
            stall();
        if (turns > 100000)
            bench_die("w3 connection stuck", turns);
    }
    if (cli_got != W3_REPLY)
        bench_die("w3 short reply", (long)cli_got);
}

BENCH_NOINLINE static void
bench_measured_w3(uint64_t count)
{
    for (uint64_t i = 0; i < count; i++)
        w3_one();
}

static void
run_w3(const bench_args *a)
{
    /* Every server socket stays in TIME_WAIT for the run (as in lwIP). */
    sizing z = {a->mtu, 16384, (uint32_t)a->count + 16, 1u << 20, 0};
    setup(&z);
    g_w3_listener = tcp_listener(g_s[1], 80, 64);
    w3_one(); /* resolves ARP */
    uint64_t f0 = g_frames[0] + g_frames[1];
    double t0 = bench_wall();
    bench_measured_w3(a->count);
    double t1 = bench_wall();
    printf("stack=purenet w=w3 units=%llu segs=%llu secs=%.6f cps=%.0f stalls=%llu rss_kib=%ld\n",
           (unsigned long long)a->count, (unsigned long long)(g_frames[0] + g_frames[1] - f0),
           t1 - t0, (double)a->count / (t1 - t0), (unsigned long long)g_stalls, bench_rss_kib());
}

/* ---- W4: scale ---------------------------------------------------------- */

#define W4_PER_PORT 10000u /* connections per listening port (16384 ephemeral ports) */

static int *g_w4_cli, *g_w4_srv;

BENCH_NOINLINE static void
bench_measured_w4(uint64_t count, uint64_t conns)
{
    for (uint64_t i = 0; i < count; i++) {
        uint64_t j = (i * 7919u) % conns;
        int r = pn_tcp_send(g_s[0], g_w4_cli[j], g_pat + (i * 64) % BENCH_PAT_LEN, 64, g_now);
        if (r != 64)
            bench_die("w4 send", r);
        pump();
        if (drain_sock(g_w4_srv[j], NULL) != 64)
            bench_die("w4 recv", (long)j);
        pump();
        tick(BENCH_STEP_US);
    }
}

static void
run_w4(const bench_args *a)
{
    uint64_t conns = a->conns;
    uint32_t nports = (uint32_t)((conns + W4_PER_PORT - 1) / W4_PER_PORT);
    /* Every segment is ACKed at once (quickack): with delayed ACKs, 10
     * connections would share ACKs (every second segment of a connection)
     * while 100,000 would each wait for their own delayed-ACK timer, and
     * the two per-packet costs would not be of the same work. Idle
     * connections hold no buffer chunk. */
    sizing z = {a->mtu, 16384, (uint32_t)conns + nports + 16, 32u << 20, 1};
    setup(&z);
    int *listeners = calloc(nports, sizeof *listeners);
    g_w4_cli = calloc(conns, sizeof *g_w4_cli);
    g_w4_srv = calloc(conns, sizeof *g_w4_srv);
    /* Server socket by (listener index, client port). */
    int *map = malloc((size_t)nports * 65536 * sizeof *map);
    if (!listeners || !g_w4_cli || !g_w4_srv || !map)
        bench_die("calloc", 0);
    for (uint32_t p = 0; p < nports; p++)
        listeners[p] = tcp_listener(g_s[1], (uint16_t)(6000 + p), 1024);
    double e0 = bench_wall();
    uint64_t done = 0;
    while (done < conns) {
        uint64_t batch = conns - done < 512 ? conns - done : 512;
        for (uint64_t k = 0; k < batch; k++)
            g_w4_cli[done + k] = tcp_connect_to((uint16_t)(6000 + (done + k) % nports), 1);
        /* Until the batch is established (the first waits for ARP, and
         * SYNs beyond neigh_hold_pkts are retransmitted after it). */
        for (int turn = 0;; turn++) {
            uint64_t moved = pump();
            uint64_t k = 0;
            while (k < batch && pn_tcp_state(g_s[0], g_w4_cli[done + k]) == PN_TCP_ESTABLISHED)
                k++;
            if (k == batch && moved == 0)
                break;
            tick(BENCH_STEP_US);
            if (moved == 0)
                stall();
            if (turn > 1000000)
                bench_die("w4 handshakes stuck", (long)done);
        }
        for (uint32_t p = 0; p < nports; p++) {
            int sv;
            while ((sv = pn_tcp_accept(g_s[1], listeners[p], NULL)) >= 0) {
                pn_sockaddr local, peer;
                pn_tcp_sockname(g_s[1], sv, &local, &peer);
                map[(size_t)p * 65536 + peer.port] = sv;
            }
        }
        done += batch;
    }
    for (uint64_t j = 0; j < conns; j++) {
        pn_sockaddr local, peer;
        if (pn_tcp_state(g_s[0], g_w4_cli[j]) != PN_TCP_ESTABLISHED)
            bench_die("w4 connection not established", (long)j);
        pn_tcp_sockname(g_s[0], g_w4_cli[j], &local, &peer);
        /* Each write is one packet (as W2's TCP case). */
        if (pn_tcp_setopt(g_s[0], g_w4_cli[j], PN_TCP_NODELAY, 1) < 0)
            bench_die("PN_TCP_NODELAY", (long)j);
        g_w4_srv[j] = map[(size_t)(peer.port - 6000) * 65536 + local.port];
    }
    free(map);
    double e1 = bench_wall();
    /* Let the handshakes' delayed ACKs and timers settle. */
    tick(1000000);
    pump();
    uint64_t f0 = g_frames[0] + g_frames[1];
    double t0 = bench_wall();
    bench_measured_w4(a->count, conns);
    double t1 = bench_wall();
    printf("stack=purenet w=w4 conns=%llu units=%llu segs=%llu secs=%.6f ns_per_pkt=%.1f "
           "setup_secs=%.3f rss_kib=%ld\n",
           (unsigned long long)conns, (unsigned long long)a->count,
           (unsigned long long)(g_frames[0] + g_frames[1] - f0), t1 - t0,
           (t1 - t0) * 1e9 / (double)a->count, e1 - e0, bench_rss_kib());
}

/* ---- W5 and arena per connection ---------------------------------------- */

/* The smallest useful configuration: one TCP socket with 2 KiB buffers
 * each way, ARP on Ethernet, one UDP socket (the same as
 * tools/arena-size.c). */
static void
smallest_config(pn_config *c)
{
    pn_config_default(c);
    c->medium = PN_MEDIUM_ETHERNET;
    c->mac = (pn_mac){{2, 0, 0, 0, 0, 1}};
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(192, 168, 1, 10);
    c->addrs[0].prefix_len = 24;
    c->rx_bufs = 4;
    c->tx_bufs = 4;
    c->egress_max_pkts = 4;
    c->egress_max_bytes = 4u * (1500u + 14u);
    c->neigh_entries = 2;
    c->neigh_hold_pkts = 1;
    c->reass_slots = 1;
    c->reass_max_bytes = 1500;
    c->udp_socks = 1;
    c->udp_rcvbuf = 2048;
    c->udp_sndbuf = 2048;
    c->tcp.max_socks = 1;
    c->tcp.sndbuf = 2048;
    c->tcp.rcvbuf = 2048;
    c->tcp.buf_budget = 4096;
    c->tcp.syn_queue = 1;
    c->tcp.ooo_max_segs = 2;
}

static size_t
arena_for_socks(uint32_t n)
{
    sizing z = {1500, 16384, n, 1u << 20, 0};
    pn_config c;
    make_config(&c, 0, &z);
    return pn_arena_size(&c);
}

static void
run_w5(void)
{
    pn_config c;
    smallest_config(&c);
    size_t small = pn_arena_size(&c);
    /* Prove it usable: a stack in exactly that arena opens its sockets. */
    void *arena = aligned_alloc(64, (small + 63) & ~(size_t)63);
    int err = 0;
    pn_stack *s = arena ? pn_stack_new(arena, small, &c, &err) : NULL;
    int ok = s != NULL && pn_tcp_open(s) >= 0 && pn_udp_open(s) >= 0;
    size_t a10 = arena_for_socks(10), a100k = arena_for_socks(100010);
    printf("stack=purenet w=w5 smallest_arena=%zu smallest_ok=%d arena_10=%zu arena_100k=%zu "
           "bytes_per_conn=%.1f\n",
           small, ok, a10, a100k, (double)(a100k - a10) / 100000.0);
    free(arena);
}

/* ---- main ---------------------------------------------------------------- */

int
main(int argc, char **argv)
{
    bench_args a;
    bench_parse(argc, argv, &a);
    g_args = &a;
    g_pat = bench_pattern();
    if (strcmp(a.workload, "w1") == 0)
        run_w1(&a);
    else if (strcmp(a.workload, "w2udp") == 0)
        run_w2udp(&a);
    else if (strcmp(a.workload, "w2tcp") == 0)
        run_w2tcp(&a);
    else if (strcmp(a.workload, "w3") == 0)
        run_w3(&a);
    else if (strcmp(a.workload, "w4") == 0)
        run_w4(&a);
    else if (strcmp(a.workload, "w5") == 0)
        run_w5();
    else
        bench_usage(argv[0]);
    if (g_verify_bad) {
        fprintf(stderr, "bench_purenet: received bytes do not match what was sent\n");
        return 1;
    }
    return 0;
}
