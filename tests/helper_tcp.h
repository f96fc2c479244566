/*
 * helper_tcp.h -- TCP test peer: a stack under test on a bare-IP medium
 * (no ARP) and a scripted remote end that injects segments built relative
 * to a socket's sequence state and reads back the exact segments the
 * stack emits (smoltcp / lwIP test style).
 *
 *   pn_tt t; tt_init(&t, NULL);             stack at 10.0.0.1, peer 10.0.0.2
 *   int l = tt_listen(&t, 80);
 *   tt_inject(&t, &(pni_tcp_repr){...}, data, len);
 *   pni_tcp_repr r; ck_assert(tt_out(&t, &r));  exact fields checked
 *   tt_none(&t);                           nothing else came out
 */
#ifndef PN_HELPER_TCP_H
#define PN_HELPER_TCP_H

#include "helper_link.h"
#include "pn_check.h"
#include "tcp.h"

typedef struct pn_tt {
    pn_test_node node;
    pn_stack *s;
    uint8_t us[4];   /* the stack's address */
    uint8_t peer[4]; /* the scripted peer */
    uint64_t now;
    uint8_t data[65536]; /* payload of the last segment read */
    size_t dlen;
    uint8_t ip_ttl;
    uint8_t ip_df;
} pn_tt;

/* Config for tests: bare IP, 10.0.0.1/24, fixed key, tcp knobs as given
 * (tcp may be NULL: defaults). */
void tt_config(pn_config *c, const pn_tcp_config *tcp);
/* TCP knobs for exact-segment tests: no SACK, timestamps or window scale,
 * so that SYNs carry MSS only and segments carry no options. */
pn_tcp_config tt_plain(void);
void tt_init(pn_tt *t, const pn_tcp_config *tcp);
void tt_init_cfg(pn_tt *t, const pn_config *c);
void tt_free(pn_tt *t); /* checks pools are empty only if tt_free_check */
void tt_free_check(pn_tt *t);

/* Build IPv4 + TCP from r (+ payload) and inject it at t->now. */
void tt_inject(pn_tt *t, const pni_tcp_repr *r, const void *data, size_t len);
/* Same with an explicit source address. */
void tt_inject_from(pn_tt *t, const uint8_t src[4], const pni_tcp_repr *r, const void *data,
                    size_t len);
/* An ICMP error (type, code, next_mtu for code 4) from `from` about a TCP
 * segment the stack sent to the peer: the quote is its IP header and the
 * first 8 bytes of a TCP header with sport, dport and seq. */
void tt_inject_icmp(pn_tt *t, const uint8_t from[4], uint8_t type, uint8_t code,
                    uint16_t next_mtu, uint16_t sport, uint16_t dport, uint32_t seq);
/* Drain one frame: 1 and *r filled (payload copied to t->data, dlen) if it
 * was a TCP segment to the peer; 0 if nothing. Fails on non-TCP. */
int tt_out(pn_tt *t, pni_tcp_repr *r);
/* Assert nothing is queued. */
void tt_none(pn_tt *t);
/* Advance the clock to `to` and poll. */
void tt_at(pn_tt *t, uint64_t to);

/* A listener on port. */
int tt_listen(pn_tt *t, uint16_t port, int backlog);
/* Control block of a handle (white-box access to sequence state). */
pni_tcpcb *tt_cb(pn_tt *t, int sock);

/* Handshake as server: SYN from peer port pport with ISN pisn and the
 * given options (r's option fields), returns the accepted socket; *synack
 * (may be NULL) gets the SYN-ACK. */
int tt_accept_conn(pn_tt *t, int lsock, uint16_t lport, uint16_t pport, uint32_t pisn,
                   const pni_tcp_repr *opts, pni_tcp_repr *synack);
/* Handshake as client: connect to the peer's port, answer the SYN with a
 * SYN-ACK (ISN pisn, options from opts), read the ACK. */
int tt_connect_conn(pn_tt *t, uint16_t pport, uint32_t pisn, const pni_tcp_repr *opts,
                    pni_tcp_repr *syn);

/* A segment from the peer on sock's connection: seq/ack from its state. */
pni_tcp_repr tt_seg(pn_tt *t, int sock, uint8_t flags);

/* Diagnostics to stderr (for failing tests). */
void tt_dump(pn_stack *s, int sock);
/* pn_test_link filter printing each TCP segment (PN_TCP_TRACE=1). */
int tt_trace_filter(void *user, int from, uint8_t *frame, size_t *len, uint64_t now);

#define EXPECT_SEG(r, fl, sq, ak)                                                              \
    do {                                                                                       \
        ck_assert_msg((r).flags == (fl), "flags 0x%02x != 0x%02x", (r).flags, (unsigned)(fl)); \
        ck_assert_uint_eq((r).seq, (uint32_t)(sq));                                            \
        ck_assert_uint_eq((r).ack, (uint32_t)(ak));                                            \
    } while (0)

#endif
