/*
 * bench_lwip.c -- the lwIP side of the side-by-side benchmarks, against
 * Debian's liblwip-dev 2.1.3 (shared library, built with NO_SYS=0,
 * MEM_LIBC_MALLOC, TCP_MSS 1460, TCP_WND 65535, LWIP_CHECKSUM_ON_COPY).
 *
 * IMPLEMENTATION NOTES
 * - No tcpip thread is started: lwip_init() and the raw API run in this
 *   one thread. lwIP has global state, so both ends live in one lwIP
 *   instance as two Ethernet netifs, A (10.0.0.1) and B (10.0.0.2). Every
 *   pcb is bound to its netif (tcp_bind_netif / udp_bind_netif): without
 *   that, lwIP would route 10.0.0.2 to netif B itself and loop the packet
 *   back inside, never putting it on our wire.
 * - The wire is a FIFO of frames. A netif's linkoutput copies the frame
 *   once, from the sender's pbuf chain into a fresh PBUF_RAM pbuf of the
 *   receiver (pbuf_copy_partial into its payload); deliver() pops it and
 *   calls the other netif's input (ethernet_input). purenet's wire makes
 *   the same one copy: pn_inject_raw from the frame pn_drain_view shows
 *   in place.
 * - sys_now() is defined here and returns the virtual clock: the shared
 *   library calls it through its PLT, so ours wins over the one inside it.
 * - The application copies: tcp_write(..., TCP_WRITE_FLAG_COPY) and
 *   pbuf_take into a fresh pbuf for UDP on the way in, pbuf_copy_partial
 *   out of the received pbuf on the way out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#include "bench_common.h"

/* ---- virtual clock ---------------------------------------------------- */

static uint64_t g_now_us = 1000000;

u32_t sys_now(void);
u32_t
sys_now(void)
{
    return (u32_t)(g_now_us / 1000u);
}

static void
tick(uint64_t us)
{
    g_now_us += us;
    sys_check_timeouts();
}

/* ---- the wire ----------------------------------------------------------- */

#define WIRE_SLOTS 4096u
#define WIRE_FRAME 1536u

typedef struct wire_slot {
    struct pbuf *p; /* the frame, already in a receive pbuf */
    uint8_t to;     /* 0: netif A, 1: netif B */
} wire_slot;

static wire_slot *g_wire;
static uint32_t g_head, g_tail; /* free-running */
static uint64_t g_frames[2];    /* frames sent by A (index 0) and by B */
static uint64_t g_wire_drops;
static struct netif g_if[2];

/* The frame crosses the wire with one copy: straight from the sender's
 * pbuf chain into a fresh pbuf of the receiver, which waits
 * in the FIFO for deliver(). (lwIP may not be re-entered from linkoutput,
 * hence the FIFO.) */
static err_t
linkoutput(struct netif *n, struct pbuf *p)
{
    int from = (n == &g_if[1]);
    if (g_tail - g_head >= WIRE_SLOTS || p->tot_len > WIRE_FRAME) {
        g_wire_drops++;
        return ERR_OK; /* the wire lost it */
    }
    struct pbuf *q = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (q == NULL)
        bench_die("pbuf_alloc failed", p->tot_len);
    /* q is one PBUF_RAM block: copy the chain into it in one pass
     * (pbuf_copy of lwIP 2.1.3 walks both chains and costs more) */
    if (pbuf_copy_partial(p, q->payload, p->tot_len, 0) != p->tot_len)
        bench_die("pbuf_copy_partial failed", p->tot_len);
    wire_slot *s = &g_wire[g_tail % WIRE_SLOTS];
    s->p = q;
    s->to = (uint8_t)!from;
    g_tail++;
    g_frames[from]++;
    return ERR_OK;
}

/* Deliver frames until the wire is empty (frames sent in reaction are
 * delivered too). Returns the number of frames delivered. */
static uint64_t
deliver(void)
{
    uint64_t n = 0;
    while (g_head != g_tail) {
        wire_slot *s = &g_wire[g_head % WIRE_SLOTS];
        struct netif *to = &g_if[s->to];
        struct pbuf *p = s->p;
        g_head++;
        if (to->input(p, to) != ERR_OK)
            pbuf_free(p);
        n++;
    }
    return n;
}

static err_t
if_init(struct netif *n)
{
    n->name[0] = 'b';
    n->name[1] = (char)('a' + (n == &g_if[1]));
    n->mtu = 1500;
    n->hwaddr_len = 6;
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    memcpy(n->hwaddr, mac[n == &g_if[1]], 6);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    n->output = etharp_output;
    n->linkoutput = linkoutput;
    return ERR_OK;
}

static ip4_addr_t g_ip[2];
static ip_addr_t g_ipa[2]; /* the same, dual-stack type of the pcb calls */

static void
setup(unsigned mtu)
{
    if (mtu != 1500)
        bench_die("lwIP's build has TCP_MSS 1460: only mtu=1500", (long)mtu);
    g_wire = calloc(WIRE_SLOTS, sizeof *g_wire);
    if (g_wire == NULL)
        bench_die("calloc", 0);
    lwip_init();
    ip4_addr_t mask, gw;
    IP4_ADDR(&g_ip[0], 10, 0, 0, 1);
    IP4_ADDR(&g_ip[1], 10, 0, 0, 2);
    IP_ADDR4(&g_ipa[0], 10, 0, 0, 1);
    IP_ADDR4(&g_ipa[1], 10, 0, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    for (int i = 0; i < 2; i++) {
        if (netif_add(&g_if[i], &g_ip[i], &mask, &gw, NULL, if_init, ethernet_input) == NULL)
            bench_die("netif_add", i);
        netif_set_up(&g_if[i]);
        netif_set_link_up(&g_if[i]);
    }
}

/* ---- application state -------------------------------------------------- */

static const bench_args *g_args;
static uint8_t *g_pat;
static uint8_t g_appbuf[65536];
static uint64_t g_rx_bytes;   /* bytes the receiving application got */
static int g_rx_eof;
static int g_verify_bad;

static void
app_take(struct pbuf *p)
{
    uint16_t off = 0;
    while (off < p->tot_len) {
        uint16_t k = pbuf_copy_partial(p, g_appbuf, (u16_t)(p->tot_len - off), off);
        if (g_args->verify && !bench_pattern_ok(g_pat, g_rx_bytes, g_appbuf, k))
            g_verify_bad = 1;
        g_rx_bytes += k;
        off = (uint16_t)(off + k);
        if (k == 0)
            break;
    }
}

/* ---- TCP plumbing ------------------------------------------------------- */

static struct tcp_pcb *g_srv;     /* accepted, on B */
static struct tcp_pcb *g_cli;     /* connecting, on A */
static int g_cli_connected;

static err_t
sink_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        g_rx_eof = 1;
        return ERR_OK;
    }
    app_take(p);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t
sink_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || newpcb == NULL)
        return ERR_VAL;
    g_srv = newpcb;
    tcp_recv(newpcb, sink_recv);
    return ERR_OK;
}

static err_t
cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    if (err == ERR_OK)
        g_cli_connected = 1;
    return ERR_OK;
}

static void
cli_err(void *arg, err_t err)
{
    (void)arg;
    bench_die("lwIP client connection error", err);
}

static struct tcp_pcb *
listen_on(uint16_t port, tcp_accept_fn fn)
{
    struct tcp_pcb *l = tcp_new();
    if (l == NULL)
        bench_die("tcp_new", 0);
    tcp_bind_netif(l, &g_if[1]);
    if (tcp_bind(l, &g_ipa[1], port) != ERR_OK)
        bench_die("tcp_bind", port);
    l = tcp_listen(l);
    if (l == NULL)
        bench_die("tcp_listen", port);
    tcp_accept(l, fn);
    return l;
}

/* Connect A to B:port with sink_accept's server; run until established. */
static void
connect_pair(uint16_t port)
{
    listen_on(port, sink_accept);
    g_cli = tcp_new();
    tcp_bind_netif(g_cli, &g_if[0]);
    tcp_err(g_cli, cli_err);
    if (tcp_connect(g_cli, &g_ipa[1], port, cli_connected) != ERR_OK)
        bench_die("tcp_connect", port);
    for (int i = 0; i < 1000 && !(g_cli_connected && g_srv != NULL); i++) {
        deliver();
        tick(BENCH_STEP_US);
    }
    if (!g_cli_connected || g_srv == NULL)
        bench_die("lwIP handshake did not complete", 0);
}

/* ---- W1: bulk TCP ------------------------------------------------------- */

static uint64_t g_stalls;

BENCH_NOINLINE static void
bench_measured_w1(uint64_t total)
{
    uint64_t tx = 0;
    while (g_rx_bytes < total) {
        int moved = 0;
        while (tx < total) {
            uint32_t room = tcp_sndbuf(g_cli);
            uint64_t n = total - tx;
            if (n > room)
                n = room;
            if (n > 65535)
                n = 65535;
            if (n == 0)
                break;
            if (tcp_write(g_cli, g_pat + tx % BENCH_PAT_LEN, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
                break;
            tx += n;
            moved = 1;
        }
        tcp_output(g_cli);
        if (deliver() != 0)
            moved = 1;
        tick(BENCH_STEP_US);
        if (!moved) {
            /* Nothing moved: let the timers run (250 ms tcp_tmr). */
            g_stalls++;
            tick(250000);
        }
    }
}

static void
run_w1(const bench_args *a)
{
    setup(a->mtu);
    connect_pair(5001);
    uint64_t f0 = g_frames[0];
    double t0 = bench_wall();
    bench_measured_w1(a->bytes);
    double t1 = bench_wall();
    uint64_t segs = g_frames[0] - f0;
    printf("stack=lwip w=w1 mtu=%u bytes=%llu units=%llu segs=%llu secs=%.6f gbps=%.3f "
           "acks=%llu stalls=%llu wire_drops=%llu rss_kib=%ld verify=%s\n",
           a->mtu, (unsigned long long)g_rx_bytes, (unsigned long long)g_rx_bytes,
           (unsigned long long)segs, t1 - t0, (double)g_rx_bytes * 8 / (t1 - t0) / 1e9,
           (unsigned long long)g_frames[1], (unsigned long long)g_stalls,
           (unsigned long long)g_wire_drops, bench_rss_kib(),
           a->verify ? (g_verify_bad ? "BAD" : "ok") : "off");
}

/* ---- W2: small packets -------------------------------------------------- */

static uint64_t g_udp_rx;

static void
udp_sink(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    (void)arg;
    (void)pcb;
    (void)addr;
    (void)port;
    app_take(p);
    g_udp_rx++;
    pbuf_free(p);
}

static struct udp_pcb *g_ua;

static void
udp_send64(uint64_t i)
{
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, 64, PBUF_RAM);
    if (p == NULL)
        bench_die("pbuf_alloc", 64);
    pbuf_take(p, g_pat + (i * 64) % BENCH_PAT_LEN, 64);
    if (udp_sendto(g_ua, p, &g_ipa[1], 7001) != ERR_OK)
        bench_die("udp_sendto", 0);
    pbuf_free(p);
}

BENCH_NOINLINE static void
bench_measured_w2udp(uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        udp_send64(i);
        deliver();
        tick(1);
    }
}

static void
run_w2udp(const bench_args *a)
{
    setup(a->mtu);
    g_ua = udp_new();
    struct udp_pcb *ub = udp_new();
    udp_bind_netif(g_ua, &g_if[0]);
    udp_bind_netif(ub, &g_if[1]);
    if (udp_bind(g_ua, &g_ipa[0], 7000) != ERR_OK || udp_bind(ub, &g_ipa[1], 7001) != ERR_OK)
        bench_die("udp_bind", 0);
    udp_recv(ub, udp_sink, NULL);
    udp_send64(0); /* resolves ARP (the datagram waits in ARP's queue) */
    for (int i = 0; i < 10; i++) {
        deliver();
        tick(BENCH_STEP_US);
    }
    uint64_t r0 = g_udp_rx, f0 = g_frames[0];
    g_rx_bytes = 0;
    g_args = a;
    double t0 = bench_wall();
    bench_measured_w2udp(a->count);
    double t1 = bench_wall();
    uint64_t got = g_udp_rx - r0;
    if (got != a->count)
        bench_die("datagrams lost", (long)(a->count - got));
    printf("stack=lwip w=w2udp units=%llu segs=%llu secs=%.6f pps=%.0f rss_kib=%ld\n",
           (unsigned long long)got, (unsigned long long)(g_frames[0] - f0), t1 - t0,
           (double)got / (t1 - t0), bench_rss_kib());
}

BENCH_NOINLINE static void
bench_measured_w2tcp(uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        if (tcp_write(g_cli, g_pat + (i * 64) % BENCH_PAT_LEN, 64, TCP_WRITE_FLAG_COPY) != ERR_OK)
            bench_die("tcp_write", (long)i);
        tcp_output(g_cli);
        deliver();
        tick(1);
    }
}

static void
run_w2tcp(const bench_args *a)
{
    setup(a->mtu);
    connect_pair(5002);
    tcp_nagle_disable(g_cli);
    uint64_t f0 = g_frames[0];
    double t0 = bench_wall();
    bench_measured_w2tcp(a->count);
    double t1 = bench_wall();
    if (g_rx_bytes != a->count * 64)
        bench_die("bytes missing", (long)(a->count * 64 - g_rx_bytes));
    printf("stack=lwip w=w2tcp units=%llu segs=%llu acks=%llu secs=%.6f pps=%.0f rss_kib=%ld verify=%s\n",
           (unsigned long long)a->count, (unsigned long long)(g_frames[0] - f0),
           (unsigned long long)g_frames[1], t1 - t0, (double)a->count / (t1 - t0),
           bench_rss_kib(), a->verify ? (g_verify_bad ? "BAD" : "ok") : "off");
}

/* ---- W3: churn ---------------------------------------------------------- */

#define W3_REQ 100u
#define W3_REPLY 1024u

static uint32_t g_srv_got;
static uint32_t g_cli_got;
static int g_cli_done;

static err_t
w3_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL)
        return ERR_OK;
    g_srv_got += pbuf_copy_partial(p, g_appbuf, p->tot_len, 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (g_srv_got >= W3_REQ) {
        if (tcp_write(pcb, g_pat, W3_REPLY, TCP_WRITE_FLAG_COPY) != ERR_OK)
            bench_die("tcp_write reply", 0);
        tcp_recv(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            bench_die("tcp_close server", 0);
    }
    return ERR_OK;
}

static err_t
w3_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || newpcb == NULL)
        return ERR_VAL;
    g_srv_got = 0;
    tcp_recv(newpcb, w3_srv_recv);
    return ERR_OK;
}

static err_t
w3_cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            bench_die("tcp_close client", 0);
        g_cli_done = 1;
        return ERR_OK;
    }
    g_cli_got += pbuf_copy_partial(p, g_appbuf, p->tot_len, 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t
w3_cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK)
        bench_die("w3 connect", err);
    if (tcp_write(pcb, g_pat, W3_REQ, TCP_WRITE_FLAG_COPY) != ERR_OK)
        bench_die("tcp_write request", 0);
    tcp_output(pcb);
    return ERR_OK;
}

static void
w3_one(void)
{
    g_cli_got = 0;
    g_cli_done = 0;
    struct tcp_pcb *c = tcp_new();
    if (c == NULL)
        bench_die("tcp_new", 0);
    tcp_bind_netif(c, &g_if[0]);
    tcp_err(c, cli_err);
    tcp_recv(c, w3_cli_recv);
    if (tcp_connect(c, &g_ipa[1], 80, w3_cli_connected) != ERR_OK)
        bench_die("tcp_connect", 0);
    for (int turns = 0; !g_cli_done || g_head != g_tail; turns++) {
        deliver();
        tick(BENCH_STEP_US);
        if (turns > 100000)
            bench_die("w3 connection stuck", turns);
    }
    if (g_cli_got != W3_REPLY)
        bench_die("w3 short reply", (long)g_cli_got);
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
    setup(a->mtu);
    listen_on(80, w3_accept);
    w3_one(); /* resolves ARP */
    uint64_t f0 = g_frames[0] + g_frames[1];
    double t0 = bench_wall();
    bench_measured_w3(a->count);
    double t1 = bench_wall();
    printf("stack=lwip w=w3 units=%llu segs=%llu secs=%.6f cps=%.0f rss_kib=%ld\n",
           (unsigned long long)a->count, (unsigned long long)(g_frames[0] + g_frames[1] - f0),
           t1 - t0, (double)a->count / (t1 - t0), bench_rss_kib());
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
    else {
        fprintf(stderr, "bench_lwip: workload %s not implemented for lwIP\n", a.workload);
        return 3;
    }
    if (g_verify_bad) {
        fprintf(stderr, "bench_lwip: received bytes do not match what was sent\n");
        return 1;
    }
    return 0;
}
