/* pkt_int.h -- internals shared by the files of the vector runner. */
#ifndef PN_PKT_INT_H
#define PN_PKT_INT_H

#include "pkt.h"

#define PKT_QCAP 512
#define PKT_MAXFD 64

typedef struct pkt_out {
    uint8_t *d;
    size_t len;
    uint64_t t; /* stack time it was drained */
} pkt_out;

typedef struct pkt_fd {
    int used;
    int kind;          /* PKT_TCP / PKT_UDP */
    int h;             /* pn handle */
    int nonblock;
    int connecting;
    uint32_t rd, wr;   /* stream offsets read / written (TCP) */
    int bound;
    int err_seen;      /* SO_ERROR already reported */
} pkt_fd;

typedef struct pkt_run {
    pkt_script *sc;
    pn_stack *s;
    void *arena;
    int verbose;
    uint64_t now;          /* stack time, µs */
    pkt_out q[PKT_QCAP];
    int qh, qn;
    pkt_fd fd[PKT_MAXFD];
    /* the connection of the script (packetdrill has one at a time) */
    uint16_t lport, rport;
    int lport_known;
    uint32_t lisn, risn;
    int lisn_known;
    uint32_t ts_off;
    int ts_off_known;
    uint16_t udp_lport, udp_rport;
    uint16_t ports[8]; /* script ports named by 'sport N' */
    int nports;
    uint16_t ipid;
    uint8_t last_in[2048];
    size_t last_in_len;
    /* the blocking call in flight (-1: none) */
    int pend;
    int64_t pend_end;      /* script µs when it should return */
    uint32_t pend_done;    /* bytes a blocking write already queued */
    /* result */
    int failed;
    int fail_line;
    char *msg;
    size_t cap;
} pkt_run;

typedef struct pkt_dec {
    char why[160];
    int ver, ihl, tos, ttl, proto, df, mf, is_frag;
    uint32_t totlen, id, fragoff;
    int ipcsum_ok, l4csum_ok;
    uint8_t src[4], dst[4];
    const uint8_t *ip, *l4;
    size_t l4len;
    uint16_t sport, dport;
    uint32_t seq, ack, win, urg;
    unsigned flags;
    int nopts, opts_bad;
    pkt_opt opts[PKT_MAX_OPTS];
    const uint8_t *pay;
    uint32_t paylen;
    uint32_t udplen;
    int icmp_type, icmp_code;
    uint32_t icmp_id, icmp_seq, icmp_mtu;
} pkt_dec;

uint16_t pkt_csum(const uint8_t *p, size_t n);
uint16_t pkt_l4_csum(const uint8_t src[4], const uint8_t dst[4], int proto, const uint8_t *l4, size_t n);
size_t pkt_build(pkt_run *r, const pkt_spec *k, int inbound, uint16_t ipid, uint8_t *out, size_t cap);
int pkt_decode(const uint8_t *p, size_t len, pkt_dec *d);
const char *pkt_flagstr(unsigned f, char *b);
void pkt_optstr(const pkt_opt *o, int n, uint32_t sack_base, int show_tsval, char *out, size_t cap);

#endif
