/*
 * arena-size.c -- print pn_arena_size() of the smallest useful
 * configuration: one TCP socket with 2 KiB buffers each way, ARP on
 * Ethernet, one UDP socket, and nothing to spare; then create the instance
 * in a static arena of exactly that size and open the sockets, so the
 * figure is proven usable, not just computed.
 *
 * Built twice by mk/cross.mk:
 *  - hosted (the machine's cc, build/libpurenet.a): the x86-64 figure;
 *  - freestanding for Cortex-M4 (build/cortex-m*, tools/fw_rt.c supplies
 *    _start and mem*), run under qemu-arm user mode: the figure on the
 *    target, where pointers are 4 bytes.
 * Output: "key value" lines, parsed by tools/size-table.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include "purenet.h"


#if __STDC_HOSTED__
#include <stdio.h>
#include <stdlib.h>
static void
out(const char *s)
{
    fputs(s, stdout);
}
#define FINISH(code) return (code)
#else
void fw_write(const char *s);
void fw_exit(int code) __attribute__((noreturn));
static void
out(const char *s)
{
    fw_write(s);
}
#define FINISH(code) fw_exit(code)
#endif

static void
out_num(const char *key, long v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
    *--p = '\0';
    *--p = '\n';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    out(key);
    out(" ");
    out(p);
}

/* The smallest useful configuration (see the README's size section). */
static void
smallest_config(pn_config *c, uint16_t mtu)
{
    pn_config_default(c);
    c->medium = PN_MEDIUM_ETHERNET;
    c->mac = (pn_mac){{0x02, 0, 0, 0, 0, 1}};
    c->mtu = mtu;
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(192, 168, 1, 10);
    c->addrs[0].prefix_len = 24;
    c->n_routes = 1;
    c->routes[0].dest = PN_IP4(0, 0, 0, 0);
    c->routes[0].prefix_len = 0;
    c->routes[0].gateway = PN_IP4(192, 168, 1, 1);
    for (int i = 0; i < 16; i++)
        c->key[i] = (uint8_t)(0xa5 ^ i);
    c->rx_bufs = 4;          /* frames being received / reassembled into TCP */
    c->tx_bufs = 4;          /* frames being built or waiting in the egress queue */
    c->egress_max_pkts = 4;
    c->egress_max_bytes = 4u * (mtu + 14u);
    c->neigh_entries = 2;    /* the gateway and one on-link peer */
    c->neigh_hold_pkts = 1;
    c->reass_slots = 1;      /* 0 means "default"; 1 is the least */
    c->reass_max_bytes = mtu;
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

#if defined(PN_CONFIG_NO_TCP) || defined(PN_CONFIG_NO_UDP)
/* A left-out protocol: every public call of it is PN_EOPNOTSUPP. */
static int
expect_unsupported(const char *what, int ret)
{
    if (ret == PN_EOPNOTSUPP)
        return 0;
    out(what);
    out_num(": expected PN_EOPNOTSUPP, got", ret);
    return 1;
}
#endif

#ifdef PN_CONFIG_NO_TCP
static int
check_no_tcp(pn_stack *s)
{
    pn_sockaddr a = {PN_IP4(10, 0, 0, 1), 80};
    pn_sock_status_t st;
    int v = 0, bad = 0;
    char b[4] = {0};
    bad |= expect_unsupported("pn_tcp_open", pn_tcp_open(s));
    bad |= expect_unsupported("pn_tcp_bind", pn_tcp_bind(s, 0, &a));
    bad |= expect_unsupported("pn_tcp_listen", pn_tcp_listen(s, 0, 1));
    bad |= expect_unsupported("pn_tcp_accept", pn_tcp_accept(s, 0, &a));
    bad |= expect_unsupported("pn_tcp_connect", pn_tcp_connect(s, 0, &a, 0));
    bad |= expect_unsupported("pn_tcp_send", pn_tcp_send(s, 0, b, sizeof b, 0));
    bad |= expect_unsupported("pn_tcp_recv", pn_tcp_recv(s, 0, b, sizeof b, 0));
    bad |= expect_unsupported("pn_tcp_shutdown", pn_tcp_shutdown(s, 0, 0));
    bad |= expect_unsupported("pn_tcp_close", pn_tcp_close(s, 0, 0));
    bad |= expect_unsupported("pn_tcp_abort", pn_tcp_abort(s, 0, 0));
    bad |= expect_unsupported("pn_tcp_state", pn_tcp_state(s, 0));
    bad |= expect_unsupported("pn_tcp_setopt", pn_tcp_setopt(s, 0, PN_TCP_NODELAY, 1));
    bad |= expect_unsupported("pn_tcp_getopt", pn_tcp_getopt(s, 0, PN_TCP_NODELAY, &v));
    bad |= expect_unsupported("pn_tcp_sockname", pn_tcp_sockname(s, 0, &a, &a));
    bad |= expect_unsupported("pn_sock_status", pn_sock_status(s, 0, &st));
    return bad;
}
#endif

#ifdef PN_CONFIG_NO_UDP
static int
check_no_udp(pn_stack *s)
{
    pn_sockaddr a = {PN_IP4(10, 0, 0, 1), 53};
    char b[4] = {0};
    int bad = 0;
    bad |= expect_unsupported("pn_udp_open", pn_udp_open(s));
    bad |= expect_unsupported("pn_udp_bind", pn_udp_bind(s, 0, &a));
    bad |= expect_unsupported("pn_udp_sendto", pn_udp_sendto(s, 0, b, sizeof b, &a, 0));
    bad |= expect_unsupported("pn_udp_recvfrom", pn_udp_recvfrom(s, 0, b, sizeof b, &a));
    bad |= expect_unsupported("pn_udp_close", pn_udp_close(s, 0));
    return bad;
}
#endif

/* Big enough for the configurations below on any target; the exact size
 * is what pn_stack_new is given. */
#define ARENA_MAX (64 * 1024)
static _Alignas(16) uint8_t arena[ARENA_MAX];

static int
try_config(const char *name, uint16_t mtu)
{
    pn_config c;
    smallest_config(&c, mtu);
    size_t need = pn_arena_size(&c);
    out_num(name, (long)need);
    if (need == 0 || need > ARENA_MAX) {
        out("error: config rejected or arena too big\n");
        return 1;
    }
    int err = 0;
    pn_stack *s = pn_stack_new(arena, need, &c, &err);
    if (s == NULL) {
        out_num("error: pn_stack_new", err);
        return 1;
    }
    /* One byte less must be refused: the figure is exact. */
    pn_stack *t = pn_stack_new(arena, need - 1, &c, &err);
    if (t != NULL || err != PN_ENOMEM) {
        out("error: arena size is not exact\n");
        return 1;
    }
    s = pn_stack_new(arena, need, &c, &err);
    int bad = 0;
    /* The config asks for one socket of each: both must be there (or, in
     * a build that left the protocol out, say PN_EOPNOTSUPP). */
#ifdef PN_CONFIG_NO_TCP
    bad |= check_no_tcp(s);
#else
    int tcp = pn_tcp_open(s);
    if (tcp < 0) {
        out_num("error: pn_tcp_open", tcp);
        bad = 1;
    }
#endif
#ifdef PN_CONFIG_NO_UDP
    bad |= check_no_udp(s);
#else
    int udp = pn_udp_open(s);
    if (udp < 0) {
        out_num("error: pn_udp_open", udp);
        bad = 1;
    }
#endif
    pn_poll(s, 1000);
    (void)pn_next_deadline(s);
    return bad;
}

/* Every public function, so the linked program (--gc-sections) holds
 * what a firmware using the whole API would: its size is the "linked
 * image" line of the size table. (void (*)(void) converts from any
 * function pointer type; the entries are never called through.) */
typedef void (*any_fn)(void);
static const any_fn whole_api[] = {
    (any_fn)pn_strerror,     (any_fn)pn_pktview_copy, (any_fn)pn_config_default,
    (any_fn)pn_stats_count,  (any_fn)pn_stats_name,   (any_fn)pn_pool_name,
    (any_fn)pn_arena_size,   (any_fn)pn_stack_new,    (any_fn)pn_inject_raw,
    (any_fn)pn_drain_raw,    (any_fn)pn_drain_peek,   (any_fn)pn_poll,
    (any_fn)pn_next_deadline, (any_fn)pn_stats_get,   (any_fn)pn_route_add,
    (any_fn)pn_route_del,    (any_fn)pn_udp_open,     (any_fn)pn_udp_bind,
    (any_fn)pn_udp_sendto,   (any_fn)pn_udp_recvfrom, (any_fn)pn_udp_close,
    (any_fn)pn_tcp_open,     (any_fn)pn_tcp_bind,     (any_fn)pn_tcp_listen,
    (any_fn)pn_tcp_accept,   (any_fn)pn_tcp_connect,  (any_fn)pn_tcp_send,
    (any_fn)pn_tcp_recv,     (any_fn)pn_tcp_shutdown, (any_fn)pn_tcp_close,
    (any_fn)pn_tcp_abort,    (any_fn)pn_tcp_state,    (any_fn)pn_tcp_setopt,
    (any_fn)pn_tcp_getopt,   (any_fn)pn_tcp_sockname, (any_fn)pn_sock_status,
};

int
main(void)
{
    int bad = 0;
    const any_fn *volatile keep = whole_api; /* a reference --gc-sections sees */
    (void)keep;
    out_num("sizeof_pointer", (long)sizeof(void *));
    bad |= try_config("arena_mtu1500", 1500);
    bad |= try_config("arena_mtu576", 576);
    FINISH(bad ? 1 : 0);
}
