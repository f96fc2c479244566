/*
 * interop_lwip.c -- purenet and lwIP 2.1.3 (Debian liblwip-dev) in one
 * process, back to back over Ethernet through in-memory frame queues.
 * Two cases, 16 MiB each way on one TCP connection, both directions at
 * once, each received stream checked by SHA-256 against the pattern:
 *   1. lwIP client  -> purenet server
 *   2. purenet client -> lwIP server
 * Usage: interop_lwip [MiB]   (default 16). Exit 0 when both pass.
 *
 * IMPLEMENTATION NOTES
 * - lwIP (10.0.0.1, 02:00:00:00:00:01) runs its raw API in this thread
 *   with no tcpip thread (as bench/bench_lwip.c does); its sys_now() is
 *   ours and returns the virtual clock, which purenet gets in µs.
 * - The wire: lwIP's linkoutput copies each frame into a queue that
 *   pn_inject_raw() consumes; pn_drain_raw() frames go into PBUF_RAM
 *   pbufs handed to lwIP's netif input (PBUF_POOL pbufs of the Debian
 *   build are smaller than its header says: valgrind saw pbuf_take write
 *   past them). ARP resolves on this wire like on any other.
 * - Each round delivers everything queued, runs both stacks' timers and
 *   the two applications, and advances the clock 100 µs (1 ms when
 *   nothing moved) -- no wall clock is involved, so a run is repeatable.
 * - The rate printed is wall-clock bytes per second of this process
 *   (both stacks and the copies share one CPU).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "pn-tun-sha256.h"
#include "purenet.h"

/* ---- clock ---------------------------------------------------------------- */

static uint64_t g_now = 1000000; /* µs */

u32_t sys_now(void);
u32_t
sys_now(void)
{
    return (u32_t)(g_now / 1000u);
}

static double
wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the wire: lwIP -> purenet queue -------------------------------------- */

#define QSLOTS 8192u
#define QFRAME 1536u

typedef struct qslot {
    uint16_t len;
    uint8_t data[QFRAME];
} qslot;

static qslot *g_q;
static uint32_t g_qh, g_qt;
static uint64_t g_qdrops, g_frames_lw, g_frames_pn;
static struct netif g_if;
static pn_stack *g_pn;
static uint8_t g_frame[65536];

static err_t
linkoutput(struct netif *n, struct pbuf *p)
{
    (void)n;
    if (g_qt - g_qh >= QSLOTS || p->tot_len > QFRAME) {
        g_qdrops++;
        return ERR_OK;
    }
    qslot *s = &g_q[g_qt % QSLOTS];
    s->len = (uint16_t)pbuf_copy_partial(p, s->data, p->tot_len, 0);
    g_qt++;
    g_frames_lw++;
    return ERR_OK;
}

static err_t
if_init(struct netif *n)
{
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    n->name[0] = 'l';
    n->name[1] = 'w';
    n->mtu = 1500;
    n->hwaddr_len = 6;
    memcpy(n->hwaddr, mac, 6);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    n->output = etharp_output;
    n->linkoutput = linkoutput;
    return ERR_OK;
}

/* Move every queued frame both ways (and what they provoke). */
static int
deliver(void)
{
    int moved = 0;
    for (int again = 1; again;) {
        again = 0;
        while (g_qh != g_qt) {
            qslot *s = &g_q[g_qh % QSLOTS];
            g_qh++;
            pn_inject_raw(g_pn, s->data, s->len, g_now);
            again = moved = 1;
        }
        int n;
        while ((n = pn_drain_raw(g_pn, g_frame, sizeof g_frame)) > 0) {
            struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
            g_frames_pn++;
            if (p == NULL) {
                g_qdrops++;
                continue;
            }
            pbuf_take(p, g_frame, (u16_t)n);
            if (g_if.input(p, &g_if) != ERR_OK)
                pbuf_free(p);
            again = moved = 1;
        }
    }
    return moved;
}

/* ---- one transfer's bookkeeping ------------------------------------------- */

typedef struct side {
    const char *name;
    uint64_t total;
    uint64_t tx, rx;
    pn_sha256 h;
    int eof, shut, closed, err;
} side;

static void
side_init(side *s, const char *name, uint64_t total)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->total = total;
    pn_sha256_init(&s->h);
}

static int
side_ok(side *s, const char *want_hex)
{
    uint8_t d[32];
    char hex[65];
    pn_sha256_final(&s->h, d);
    pn_sha256_hex(d, hex);
    int ok = s->err == 0 && s->rx == s->total && s->tx == s->total && !strcmp(hex, want_hex);
    printf("  %-8s sent %llu received %llu sha256 %s %s\n", s->name, (unsigned long long)s->tx,
           (unsigned long long)s->rx, hex, ok ? "ok" : "MISMATCH");
    return ok;
}

/* ---- lwIP application ------------------------------------------------------ */

static side g_lw;
static struct tcp_pcb *g_lpcb;
static uint8_t g_buf[65536];

static err_t
lw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p == NULL) {
        g_lw.eof = 1;
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next)
        pn_sha256_update(&g_lw.h, q->payload, q->len);
    g_lw.rx += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void
lw_err(void *arg, err_t err)
{
    (void)arg;
    g_lpcb = NULL; /* lwIP has freed the pcb */
    if (err == ERR_CLSD && g_lw.shut && g_lw.eof) {
        /* tcp_shutdown() left the pcb to lwIP, which frees it when our
         * FIN is acknowledged and reports that as ERR_CLSD: a clean end. */
        g_lw.closed = 1;
        return;
    }
    fprintf(stderr, "lwIP connection error %d\n", err);
    g_lw.err = err;
}

static void
lw_attach(struct tcp_pcb *pcb)
{
    g_lpcb = pcb;
    tcp_recv(pcb, lw_recv);
    tcp_err(pcb, lw_err);
}

static err_t
lw_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    lw_attach(pcb);
    return ERR_OK;
}

static err_t
lw_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    return err;
}

static void
lw_app(void)
{
    struct tcp_pcb *pcb = g_lpcb;
    if (pcb == NULL || g_lw.closed || pcb->state < ESTABLISHED)
        return;
    while (g_lw.tx < g_lw.total) {
        uint32_t room = tcp_sndbuf(pcb);
        if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
            break;
        uint64_t n = g_lw.total - g_lw.tx;
        if (n > room)
            n = room;
        if (n > sizeof g_buf)
            n = sizeof g_buf;
        if (n > 65535)
            n = 65535;
        pn_pattern_fill(g_buf, g_lw.tx, (size_t)n);
        if (tcp_write(pcb, g_buf, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        g_lw.tx += n;
    }
    tcp_output(pcb);
    if (g_lw.tx == g_lw.total && !g_lw.shut) {
        if (tcp_shutdown(pcb, 0, 1) == ERR_OK)
            g_lw.shut = 1;
    }
    if (g_lw.shut && g_lw.eof && pcb->unacked == NULL && pcb->unsent == NULL) {
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_close(pcb);
        g_lpcb = NULL;
        g_lw.closed = 1;
    }
}

/* ---- purenet application ---------------------------------------------------- */

static side g_ps;
static int g_psock = -1;

static void
pn_app(void)
{
    if (g_psock < 0 || g_ps.closed)
        return;
    pn_sock_status_t st;
    if (pn_sock_status(g_pn, g_psock, &st) != 0)
        return;
    if (st.pending_error != 0) {
        fprintf(stderr, "purenet connection error %s\n", pn_strerror(st.pending_error));
        g_ps.err = st.pending_error;
        g_ps.closed = 1;
        return;
    }
    if (!st.connected)
        return;
    for (;;) {
        int n = pn_tcp_recv(g_pn, g_psock, g_buf, sizeof g_buf, g_now);
        if (n > 0) {
            pn_sha256_update(&g_ps.h, g_buf, (size_t)n);
            g_ps.rx += (uint64_t)n;
            continue;
        }
        if (n == 0)
            g_ps.eof = 1;
        else if (n != PN_EAGAIN)
            g_ps.err = n;
        break;
    }
    while (g_ps.tx < g_ps.total) {
        pn_sock_status(g_pn, g_psock, &st);
        uint64_t n = g_ps.total - g_ps.tx;
        if (n > st.writable)
            n = st.writable;
        if (n > sizeof g_buf)
            n = sizeof g_buf;
        if (n == 0)
            break;
        pn_pattern_fill(g_buf, g_ps.tx, (size_t)n);
        int k = pn_tcp_send(g_pn, g_psock, g_buf, (size_t)n, g_now);
        if (k <= 0)
            break;
        g_ps.tx += (uint64_t)k;
    }
    if (g_ps.tx == g_ps.total && !g_ps.shut) {
        pn_tcp_shutdown(g_pn, g_psock, g_now);
        g_ps.shut = 1;
    }
    pn_sock_status(g_pn, g_psock, &st);
    if (g_ps.shut && g_ps.eof && st.unacked == 0 && st.unsent == 0) {
        pn_tcp_close(g_pn, g_psock, g_now);
        g_ps.closed = 1;
    }
}

/* ---- setup and the two cases -------------------------------------------------- */

static void
die(const char *what, long v)
{
    fprintf(stderr, "interop_lwip: %s (%ld)\n", what, v);
    exit(2);
}

static void
setup(void)
{
    g_q = calloc(QSLOTS, sizeof *g_q);
    if (g_q == NULL)
        die("calloc", 0);
    lwip_init();
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 0, 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (netif_add(&g_if, &ip, &mask, &gw, NULL, if_init, ethernet_input) == NULL)
        die("netif_add", 0);
    netif_set_default(&g_if);
    netif_set_up(&g_if);
    netif_set_link_up(&g_if);

    pn_config c;
    pn_config_default(&c);
    c.mac = (pn_mac){{2, 0, 0, 0, 0, 2}};
    c.n_addrs = 1;
    c.addrs[0].addr = PN_IP4(10, 0, 0, 2);
    c.addrs[0].prefix_len = 24;
    for (int i = 0; i < 16; i++)
        c.key[i] = (uint8_t)(0xa0 + i);
    c.rx_bufs = 256;
    c.tx_bufs = 1024;
    c.egress_max_pkts = 1024;
    c.egress_max_bytes = 2u << 20;
    c.tcp.sndbuf = 256 * 1024;
    c.tcp.rcvbuf = 256 * 1024;
    size_t need = pn_arena_size(&c);
    void *arena = NULL;
    if (need == 0 || posix_memalign(&arena, PN_ARENA_ALIGN, need) != 0)
        die("arena", (long)need);
    int err;
    g_pn = pn_stack_new(arena, need, &c, &err);
    if (g_pn == NULL)
        die("pn_stack_new", err);
}

/* Run until both applications closed (or the virtual clock says it is hopeless). */
static int
run(uint64_t limit_us)
{
    uint64_t start = g_now;
    while (!(g_lw.closed && g_ps.closed)) {
        if (g_lw.err || g_ps.err || g_now - start > limit_us)
            return -1;
        lw_app();
        pn_app();
        int moved = deliver();
        g_now += moved ? 100 : 1000;
        pn_poll(g_pn, g_now);
        sys_check_timeouts();
    }
    /* let the last FIN/ACKs and TIME_WAIT-free cleanup happen */
    for (int i = 0; i < 200; i++) {
        deliver();
        g_now += 1000;
        pn_poll(g_pn, g_now);
        sys_check_timeouts();
    }
    return 0;
}

static int
one_case(int lwip_is_client, uint64_t total, const char *want_hex, uint16_t port)
{
    side_init(&g_lw, "lwIP", total);
    side_init(&g_ps, "purenet", total);
    g_psock = -1;
    g_lpcb = NULL;
    uint64_t f0 = g_frames_lw + g_frames_pn, t_virt = g_now;
    double t0 = wall();
    int listener = -1;
    struct tcp_pcb *lw_listener = NULL;
    if (lwip_is_client) {
        listener = pn_tcp_open(g_pn);
        pn_sockaddr any = {PN_IP4(0, 0, 0, 0), port};
        if (listener < 0 || pn_tcp_bind(g_pn, listener, &any) != 0 ||
            pn_tcp_listen(g_pn, listener, 4) != 0)
            die("purenet listen", port);
        struct tcp_pcb *pcb = tcp_new();
        ip_addr_t to;
        IP_ADDR4(&to, 10, 0, 0, 2);
        lw_attach(pcb);
        g_lpcb = NULL; /* attached for real once connected */
        if (tcp_connect(pcb, &to, port, lw_connected) != ERR_OK)
            die("tcp_connect", port);
        g_lpcb = pcb;
        for (int i = 0; i < 10000 && g_psock < 0; i++) {
            deliver();
            g_now += 100;
            pn_poll(g_pn, g_now);
            sys_check_timeouts();
            g_psock = pn_tcp_accept(g_pn, listener, NULL);
        }
        if (g_psock < 0)
            die("purenet accept", g_psock);
    } else {
        lw_listener = tcp_new();
        if (tcp_bind(lw_listener, IP_ADDR_ANY, port) != ERR_OK)
            die("tcp_bind", port);
        lw_listener = tcp_listen(lw_listener);
        tcp_accept(lw_listener, lw_accept);
        g_psock = pn_tcp_open(g_pn);
        pn_sockaddr to = {PN_IP4(10, 0, 0, 1), port};
        int e = pn_tcp_connect(g_pn, g_psock, &to, g_now);
        if (e != 0 && e != PN_EINPROGRESS)
            die("pn_tcp_connect", e);
    }
    int r = run(600u * 1000000u);
    double secs = wall() - t0;
    printf("%s client -> %s server: %llu bytes each way, %s\n",
           lwip_is_client ? "lwIP" : "purenet", lwip_is_client ? "purenet" : "lwIP",
           (unsigned long long)total, r == 0 ? "closed cleanly" : "DID NOT FINISH");
    int ok = side_ok(&g_lw, want_hex) & side_ok(&g_ps, want_hex) & (r == 0);
    printf("  wall %.3f s (%.1f MB/s each way, %.1f MB/s both), virtual %.3f s, %llu frames, "
           "wire drops %llu\n",
           secs, (double)total / secs / 1e6, 2.0 * (double)total / secs / 1e6,
           (double)(g_now - t_virt) / 1e6, (unsigned long long)(g_frames_lw + g_frames_pn - f0),
           (unsigned long long)g_qdrops);
    if (listener >= 0)
        pn_tcp_close(g_pn, listener, g_now);
    if (lw_listener != NULL)
        tcp_close(lw_listener);
    return ok;
}

int
main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 16;
    uint64_t total = mib << 20;
    setup();
    /* expected hash of the pattern */
    pn_sha256 h;
    pn_sha256_init(&h);
    for (uint64_t off = 0; off < total; off += sizeof g_buf) {
        size_t k = total - off < sizeof g_buf ? (size_t)(total - off) : sizeof g_buf;
        pn_pattern_fill(g_buf, off, k);
        pn_sha256_update(&h, g_buf, k);
    }
    uint8_t d[32];
    char want[65];
    pn_sha256_final(&h, d);
    pn_sha256_hex(d, want);

    printf("pattern: %llu bytes, sha256 %s\n", (unsigned long long)total, want);
    int ok = one_case(1, total, want, 5001);
    ok &= one_case(0, total, want, 5002);
    const pn_stats *st = pn_stats_get(g_pn);
    printf("purenet: tcp_rx=%llu tcp_tx=%llu tcp_retrans=%llu tcp_rto=%llu tcp_dup_drop=%llu "
           "arp_req_tx=%llu arp_req_rx=%llu\n",
           (unsigned long long)st->tcp_rx, (unsigned long long)st->tcp_tx,
           (unsigned long long)st->tcp_retrans, (unsigned long long)st->tcp_rto,
           (unsigned long long)st->tcp_dup_drop, (unsigned long long)st->arp_req_tx,
           (unsigned long long)st->arp_req_rx);
    printf("interop_lwip: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
