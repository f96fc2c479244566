/* helper_tcp.c -- see helper_tcp.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_tcp.h"

static uint8_t tt_frame[70000];

pn_tcp_config
tt_plain(void)
{
    pn_tcp_config c;
    memset(&c, 0, sizeof c);
    c.no_sack = 1;
    c.no_timestamps = 1;
    c.no_wscale = 1;
    return c;
}

void
tt_config(pn_config *c, const pn_tcp_config *tcp)
{
    pn_config_default(c);
    c->medium = PN_MEDIUM_IP;
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(10, 0, 0, 1);
    c->addrs[0].prefix_len = 24;
    for (int i = 0; i < 16; i++)
        c->key[i] = (uint8_t)(0x40 + i);
    if (tcp != NULL)
        c->tcp = *tcp;
}

void
tt_init_cfg(pn_tt *t, const pn_config *c)
{
    memset(t, 0, sizeof *t);
    pn_test_node_new(&t->node, c);
    t->s = t->node.s;
    memcpy(t->us, c->addrs[0].addr.b, 4);
    t->peer[0] = t->us[0];
    t->peer[1] = t->us[1];
    t->peer[2] = t->us[2];
    t->peer[3] = 2;
    t->now = 1000000;
    t->ip_ttl = 64;
}

void
tt_init(pn_tt *t, const pn_tcp_config *tcp)
{
    pn_config c;
    tt_config(&c, tcp);
    tt_init_cfg(t, &c);
}

void
tt_free(pn_tt *t)
{
    pn_test_node_free(&t->node);
}

void
tt_free_check(pn_tt *t)
{
    pn_test_drain_all(t->s);
    pn_test_pools_empty(t->s);
    tt_free(t);
}

void
tt_inject_from(pn_tt *t, const uint8_t src[4], const pni_tcp_repr *r, const void *data, size_t len)
{
    pni_tcp_repr c = *r;
    size_t ol = pni_wire_tcp_opts_len(&c, (c.flags & PNI_TCP_SYN) ? PNI_TCP_LAYOUT_LINUX : 0);
    size_t hl = 20 + ol;
    ck_assert(20 + hl + len <= sizeof tt_frame);
    if (len > 0)
        memcpy(tt_frame + 20 + hl, data, len);
    uint64_t sum = pni_csum_partial(tt_frame + 20 + hl, len, 0);
    size_t w = pni_wire_tcp_emit(&c, (c.flags & PNI_TCP_SYN) ? PNI_TCP_LAYOUT_LINUX : 0, tt_frame + 20,
                                 hl, src, t->us, len, sum);
    ck_assert_uint_eq(w, hl);
    pni_ip4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.hlen = 20;
    ip.tot_len = (uint16_t)(20 + hl + len);
    ip.id = 0x1234;
    ip.df = t->ip_df;
    ip.ttl = t->ip_ttl;
    ip.proto = PNI_IPPROTO_TCP;
    memcpy(ip.src, src, 4);
    memcpy(ip.dst, t->us, 4);
    ck_assert_uint_eq(pni_wire_ip4_emit(&ip, tt_frame, 20), 20);
    ck_assert_int_eq(pn_inject_raw(t->s, tt_frame, ip.tot_len, t->now), 0);
}

void
tt_inject(pn_tt *t, const pni_tcp_repr *r, const void *data, size_t len)
{
    tt_inject_from(t, t->peer, r, data, len);
}

void
tt_inject_icmp(pn_tt *t, const uint8_t from[4], uint8_t type, uint8_t code, uint16_t next_mtu,
               uint16_t sport, uint16_t dport, uint32_t seq)
{
    uint8_t *f = tt_frame;
    uint8_t *q = f + 20 + 8; /* the quote */
    pni_ip4_repr qip;
    memset(&qip, 0, sizeof qip);
    qip.hlen = 20;
    qip.tot_len = 20 + 20 + 1000; /* as sent; only 8 bytes are quoted */
    qip.id = 0x4321;
    qip.df = 1;
    qip.ttl = 63;
    qip.proto = PNI_IPPROTO_TCP;
    memcpy(qip.src, t->us, 4);
    memcpy(qip.dst, t->peer, 4);
    ck_assert_uint_eq(pni_wire_ip4_emit(&qip, q, 20), 20);
    pni_put_be16(q + 20, sport);
    pni_put_be16(q + 22, dport);
    pni_put_be32(q + 24, seq);
    size_t ilen = 8 + 28;
    uint8_t *ic = f + 20;
    memset(ic, 0, 8);
    ic[0] = type;
    ic[1] = code;
    if (code == 4)
        pni_put_be16(ic + 6, next_mtu);
    pni_put_be16(ic + 2, (uint16_t)~pni_csum_fold(pni_csum_partial(ic, ilen, 0)));
    pni_ip4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.hlen = 20;
    ip.tot_len = (uint16_t)(20 + ilen);
    ip.id = 0x99;
    ip.ttl = 64;
    ip.proto = PNI_IPPROTO_ICMP;
    memcpy(ip.src, from, 4);
    memcpy(ip.dst, t->us, 4);
    ck_assert_uint_eq(pni_wire_ip4_emit(&ip, f, 20), 20);
    ck_assert_int_eq(pn_inject_raw(t->s, f, ip.tot_len, t->now), 0);
}

int
tt_out(pn_tt *t, pni_tcp_repr *r)
{
    int n = pn_drain_raw(t->s, tt_frame, sizeof tt_frame);
    ck_assert_int_ge(n, 0);
    if (n == 0)
        return 0;
    pni_ip4_repr ip;
    ck_assert_int_eq(pni_wire_ip4_parse(tt_frame, (size_t)n, &ip), 0);
    ck_assert_uint_eq(ip.proto, PNI_IPPROTO_TCP);
    int rc = pni_wire_tcp_parse(tt_frame + ip.hlen, ip.tot_len - ip.hlen, ip.src, ip.dst, r);
    ck_assert_msg(rc == 0, "bad TCP segment from the stack: %d", rc);
    t->dlen = r->payload_len;
    memcpy(t->data, r->payload, r->payload_len);
    r->payload = t->data;
    return 1;
}

void
tt_none(pn_tt *t)
{
    pni_tcp_repr r;
    if (tt_out(t, &r))
        ck_abort_msg("unexpected segment flags 0x%02x seq %u ack %u len %zu", r.flags, r.seq, r.ack,
                     r.payload_len);
}

void
tt_at(pn_tt *t, uint64_t to)
{
    t->now = to;
    pn_poll(t->s, to);
}

int
tt_listen(pn_tt *t, uint16_t port, int backlog)
{
    int l = pn_tcp_open(t->s);
    ck_assert_int_ge(l, 0);
    pn_sockaddr a = {{{0, 0, 0, 0}}, port};
    ck_assert_int_eq(pn_tcp_bind(t->s, l, &a), 0);
    ck_assert_int_eq(pn_tcp_listen(t->s, l, backlog), 0);
    return l;
}

pni_tcpcb *
tt_cb(pn_tt *t, int sock)
{
    pni_tcpcb *cb = pni_tcp_cb(t->s, (uint32_t)sock);
    ck_assert_ptr_nonnull(cb);
    return cb;
}

int
tt_accept_conn(pn_tt *t, int lsock, uint16_t lport, uint16_t pport, uint32_t pisn,
               const pni_tcp_repr *opts, pni_tcp_repr *synack)
{
    pni_tcp_repr r;
    if (opts != NULL)
        r = *opts;
    else
        memset(&r, 0, sizeof r);
    r.sport = pport;
    r.dport = lport;
    r.seq = pisn;
    r.ack = 0;
    r.flags = PNI_TCP_SYN;
    if (r.win == 0)
        r.win = 65535;
    tt_inject(t, &r, NULL, 0);
    pni_tcp_repr sa;
    ck_assert(tt_out(t, &sa));
    ck_assert_uint_eq(sa.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    ck_assert_uint_eq(sa.ack, pisn + 1);
    tt_none(t);
    if (synack != NULL)
        *synack = sa;
    pni_tcp_repr a;
    memset(&a, 0, sizeof a);
    a.sport = pport;
    a.dport = lport;
    a.seq = pisn + 1;
    a.ack = sa.seq + 1;
    a.flags = PNI_TCP_ACK;
    a.win = r.win;
    if (sa.has_ts) {
        a.has_ts = 1;
        a.ts_val = r.ts_val + 1;
        a.ts_ecr = sa.ts_val;
    }
    tt_inject(t, &a, NULL, 0);
    tt_none(t);
    pn_sockaddr peer;
    int c = pn_tcp_accept(t->s, lsock, &peer);
    ck_assert_int_ge(c, 0);
    ck_assert_uint_eq(peer.port, pport);
    ck_assert_int_eq(pn_tcp_state(t->s, c), PN_TCP_ESTABLISHED);
    return c;
}

int
tt_connect_conn(pn_tt *t, uint16_t pport, uint32_t pisn, const pni_tcp_repr *opts,
                pni_tcp_repr *syn)
{
    int c = pn_tcp_open(t->s);
    ck_assert_int_ge(c, 0);
    pn_sockaddr to;
    memcpy(to.addr.b, t->peer, 4);
    to.port = pport;
    ck_assert_int_eq(pn_tcp_connect(t->s, c, &to, t->now), PN_EINPROGRESS);
    pni_tcp_repr sy;
    ck_assert(tt_out(t, &sy));
    ck_assert_uint_eq(sy.flags, PNI_TCP_SYN);
    tt_none(t);
    if (syn != NULL)
        *syn = sy;
    pni_tcp_repr r;
    if (opts != NULL)
        r = *opts;
    else
        memset(&r, 0, sizeof r);
    r.sport = pport;
    r.dport = sy.sport;
    r.seq = pisn;
    r.ack = sy.seq + 1;
    r.flags = PNI_TCP_SYN | PNI_TCP_ACK;
    if (r.win == 0)
        r.win = 65535;
    if (r.has_ts)
        r.ts_ecr = sy.ts_val;
    tt_inject(t, &r, NULL, 0);
    pni_tcp_repr a;
    ck_assert(tt_out(t, &a));
    EXPECT_SEG(a, PNI_TCP_ACK, sy.seq + 1, pisn + 1);
    tt_none(t);
    ck_assert_int_eq(pn_tcp_state(t->s, c), PN_TCP_ESTABLISHED);
    return c;
}

pni_tcp_repr
tt_seg(pn_tt *t, int sock, uint8_t flags)
{
    pni_tcpcb *cb = tt_cb(t, sock);
    pni_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.sport = cb->rport;
    r.dport = cb->lport;
    r.seq = cb->rcv_nxt;
    r.ack = cb->snd_nxt;
    r.flags = flags;
    r.win = 65535;
    if (cb->t_flags & PNI_TF_TS) {
        r.has_ts = 1;
        r.ts_val = cb->ts_recent + 1;
        r.ts_ecr = pni_tcp_ts_now(t->s) + cb->ts_off;
    }
    return r;
}

/* Diagnostics printed when a test fails: a socket's state and the stack's
 * non-zero counters; and a link filter tracing every TCP segment. */
void
tt_dump(pn_stack *s, int sock)
{
    pni_tcpcb *cb = pni_tcp_cb(s, (uint32_t)sock);
    if (!cb) { fprintf(stderr, "cb gone\n"); return; }
    fprintf(stderr, "ts_recent %u last_ack %u st %d una %u nxt %u max %u sndq %u wnd %u cwnd %u ssth %u rxtshift %d rto %u flags %x rcv_nxt %u rcvq %u adv %u nooo %d nsb %d err %d trex %llu\n",
        cb->ts_recent, cb->last_ack_sent - cb->irs, cb->state, cb->snd_una - cb->iss, cb->snd_nxt - cb->iss, cb->snd_max - cb->iss, cb->sndq.len, cb->snd_wnd, cb->cwnd, cb->ssthresh, cb->rxtshift, cb->rto, cb->t_flags, cb->rcv_nxt - cb->irs, cb->rcvq.len, cb->rcv_adv - cb->irs, cb->n_ooo, cb->n_sb, cb->error, (unsigned long long)cb->t_rexmt);
    const pn_stats *st = pn_stats_get(s);
    for (size_t i = 0; i < pn_stats_count(); i++) {
        uint64_t v = ((const uint64_t *)st)[i];
        if (v) fprintf(stderr, "%s=%llu ", pn_stats_name(i), (unsigned long long)v);
    }
    fprintf(stderr, "\n");
    for (int i = 0; i < PN_POOL_COUNT; i++) fprintf(stderr, "%s used %u failed %u; ", pn_pool_name(i), st->pool[i].used, st->pool[i].failed);
    fprintf(stderr, "egress %llu delack %llu keep %llu hpos %u deadline %llu\n", (unsigned long long)st->egress_pkts, (unsigned long long)cb->t_delack, (unsigned long long)cb->t_keep, cb->hpos, (unsigned long long)pn_next_deadline(s));
}
int
tt_trace_filter(void *user, int from, uint8_t *frame, size_t *len, uint64_t now)
{
    (void)user;
    pni_eth_repr e; pni_ip4_repr ip; pni_tcp_repr r;
    if (pni_wire_eth_parse(frame, *len, &e) != 0 || e.ethertype != 0x0800) { fprintf(stderr, "%llu %d non-ip\n", (unsigned long long)now, from); return 0; }
    if (pni_wire_ip4_parse(frame + 14, *len - 14, &ip) != 0 || ip.proto != 6) return 0;
    int rc = pni_wire_tcp_parse(frame + 14 + ip.hlen, ip.tot_len - ip.hlen, ip.src, ip.dst, &r);
    if (rc != 0) { fprintf(stderr, "%llu %d tcp parse %d\n", (unsigned long long)now, from, rc); return 0; }
    fprintf(stderr, "%llu %s fl %02x seq %u ack %u len %zu win %u sack %d [%u-%u]\n", (unsigned long long)now, from ? "B>A" : "A>B", r.flags, r.seq, r.ack, r.payload_len, r.win, r.n_sack, r.n_sack ? r.sack[0].left : 0, r.n_sack ? r.sack[0].right : 0);
    return 0;
}
