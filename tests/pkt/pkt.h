/*
 * pkt.h -- the packet-vector runner: a packetdrill-subset script parser,
 * an in-process executor that drives one purenet instance (bare-IP medium,
 * virtual clock) and a decoded-diff reporter. Test code (host side): it
 * uses stdio and malloc freely. The accepted syntax is in vectors/README.md.
 */
#ifndef PN_PKT_H
#define PN_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "purenet.h"

/* ---- script model ------------------------------------------------------ */

#define PKT_MAX_OPTS 12
#define PKT_MAX_ARGS 8
#define PKT_MSG_CAP 8192

enum { PKT_TCP = 1, PKT_UDP, PKT_ICMP };
enum { PKT_EV_IN = 1, PKT_EV_OUT, PKT_EV_CALL };
enum { PKT_T_ABS = 1, PKT_T_REL, PKT_T_ANY };

/* TCP flag bits as on the wire. */
#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10
#define PKT_URG 0x20
#define PKT_ECE 0x40
#define PKT_CWR 0x80

enum { PKT_OPT_EOL = 0, PKT_OPT_NOP = 1, PKT_OPT_MSS = 2, PKT_OPT_WS = 3,
       PKT_OPT_SACKOK = 4, PKT_OPT_SACK = 5, PKT_OPT_TS = 8 };

typedef struct pkt_opt {
    int kind;          /* PKT_OPT_* */
    uint32_t a, b;     /* mss / wscale / TS val, ecr */
    int nblocks;       /* SACK */
    uint32_t blk[4][2];
} pkt_opt;

#define PKT_OPTS_NONE 0  /* no <...> list written: expect no options */
#define PKT_OPTS_LIST 1  /* an explicit list */
#define PKT_OPTS_ANY 2   /* <...>: do not compare */

typedef struct pkt_spec {
    int proto;         /* PKT_TCP / PKT_UDP / PKT_ICMP */
    /* IP-level modifiers (-1 = not given) */
    int ttl, tos, ipid, df;
    int frag;          /* 1: a fragment of the datagram */
    uint32_t frag_off, frag_end;
    int frag_mf;
    int badcsum;       /* inbound: corrupt the L4 checksum */
    /* TCP */
    unsigned flags;
    uint32_t seq, seq_end, len;
    int has_ack;
    uint32_t ack;
    int has_win;
    uint32_t win;
    int has_urg;
    uint32_t urg;
    int opts_mode;
    int nopts;
    pkt_opt opts[PKT_MAX_OPTS];
    /* UDP: payload length; dport override (-1) */
    int dport, sport;
    /* ICMP */
    int icmp_type, icmp_code;
    uint32_t icmp_id, icmp_seq;
    int icmp_mtu;      /* -1 */
} pkt_spec;

typedef struct pkt_call {
    char name[24];
    int nargs;
    char *args[PKT_MAX_ARGS];  /* trimmed text of each argument */
    int64_t ret;               /* expected return */
    char err[24];              /* expected errno name, "" if none */
} pkt_call;

typedef struct pkt_event {
    int line;
    int kind;          /* PKT_EV_* */
    int tkind;         /* PKT_T_* */
    int range;         /* a...b given */
    int64_t t, t_end;  /* µs, as written (relative or absolute) */
    pkt_spec pkt;
    pkt_call call;
    char *text;        /* the source line, for messages */
} pkt_event;

typedef struct pkt_script {
    char *name;
    int nev, cap;
    pkt_event *ev;
    /* header */
    int64_t tolerance_us;       /* --tolerance_usecs, default 4000 */
    char xfail[256];            /* "// xfail: reason", "" if none */
    int purenet_only;           /* "// purenet-only": skip in real packetdrill */
    pn_config cfg;              /* the profile, after "// purenet:" knobs */
    char profile[16];
} pkt_script;

/* Parse text (NUL-terminated). Returns 0, or -1 with a message "name:line: ..."
 * in err (cap bytes). */
int pkt_parse(const char *name, const char *text, pkt_script *out, char *err, size_t cap);
void pkt_script_free(pkt_script *s);

/* Fill cfg with the runner's base config (bare IP, 192.168.0.1/24, default
 * route, fixed key) and apply a profile name: "rfc" (default), "linux",
 * "freebsd". Returns 0 or -1 for an unknown name. */
int pkt_profile(pn_config *cfg, const char *name);

/* Apply one "key=value" knob of the "// purenet:" header line to cfg (the
 * packetdrill adapter takes the same knobs in --so_flags). 0 or -1 with a
 * message in err. */
int pkt_knob(pn_config *cfg, const char *kv, char *err, size_t cap);

/* ---- running ----------------------------------------------------------- */

#define PKT_PASS 0
#define PKT_FAIL 1
#define PKT_XFAIL 2   /* failed, and the script says "xfail" */
#define PKT_XPASS 3   /* passed although marked xfail */
#define PKT_ERROR 4   /* could not parse / read */

typedef struct pkt_result {
    int status;
    int fail_line;            /* script line of the first mismatch */
    char msg[PKT_MSG_CAP];    /* the decoded diff, or the parse error */
} pkt_result;

/* Run a script held in memory / read from a file. verbose: trace every
 * event on stderr. Returns the status (also in r->status). */
int pkt_run_text(const char *name, const char *text, pkt_result *r, int verbose);
int pkt_run_file(const char *path, pkt_result *r, int verbose);

/* Every vectors/ **.pkt below dir, sorted; *n gets the count. Free with
 * pkt_list_free. */
char **pkt_list(const char *dir, int *n);
void pkt_list_free(char **v, int n);

/* Shared helpers */
const char *pkt_errname(int pn_err);        /* PN_EAGAIN -> "EAGAIN" */
uint8_t pkt_pattern(uint32_t off);          /* payload filler at stream offset */

/* Fixed addresses and ports (packetdrill's defaults). */
#define PKT_LOCAL_IP PN_IP4(192, 168, 0, 1)
#define PKT_REMOTE_IP PN_IP4(192, 0, 2, 1)
#define PKT_PORT 8080          /* --bind_port and --connect_port */
#define PKT_REMOTE_PORT 50000  /* the script side's port for passive opens */
#define PKT_REMOTE_ISN 1000000u
#define PKT_EPOCH_US 10000000ull /* script time 0 is stack time 10 s */

#endif
