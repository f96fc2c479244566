/*
 * parse.c -- the packetdrill-subset parser of the vector runner.
 *
 * One event per line (a line with an open '(' '[' or '{' continues on the
 * next). Comments: // to the end of the line, C block comments, and lines
 * starting with '#'. Header directives live in comments so that real
 * packetdrill ignores them: "// xfail: why", "// purenet: knob=value ...",
 * "// purenet-only". Options "--name=value" before the first event.
 * vectors/README.md is the reference for the accepted syntax.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

typedef struct cur {
    const char *p;
    const char *name;
    int line;
    char *err;
    size_t cap;
    int failed;
} cur;

static int
fail(cur *c, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    c->failed = 1;
    int n = snprintf(c->err, c->cap, "%s:%d: ", c->name, c->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->cap)
        vsnprintf(c->err + n, c->cap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void
ws(cur *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r')
        c->p++;
}

static int
eat(cur *c, const char *lit)
{
    ws(c);
    size_t n = strlen(lit);
    if (strncmp(c->p, lit, n) != 0)
        return 0;
    /* a word literal must not run into more word characters */
    if (isalpha((unsigned char)lit[n - 1]) && (isalnum((unsigned char)c->p[n]) || c->p[n] == '_'))
        return 0;
    c->p += n;
    return 1;
}

static int
word(cur *c, char *out, size_t cap)
{
    ws(c);
    size_t n = 0;
    while (isalnum((unsigned char)*c->p) || *c->p == '_') {
        if (n + 1 < cap)
            out[n++] = *c->p;
        c->p++;
    }
    out[n] = '\0';
    return n > 0;
}

static int
number(cur *c, uint64_t *v)
{
    ws(c);
    char *end;
    if (!isdigit((unsigned char)*c->p))
        return 0;
    unsigned long long x = strtoull(c->p, &end, 0);
    c->p = end;
    *v = x;
    return 1;
}

static int
num32(cur *c, uint32_t *v, const char *what)
{
    uint64_t x;
    if (!number(c, &x) || x > 0xffffffffull)
        return fail(c, "expected a number for %s near '%.20s'", what, c->p);
    *v = (uint32_t)x;
    return 0;
}

/* Seconds with an optional fraction, to µs. */
static int
seconds(cur *c, int64_t *us)
{
    ws(c);
    const char *s = c->p;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
        return 0;
    int64_t ip = 0, frac = 0, scale = 1000000;
    while (isdigit((unsigned char)*s))
        ip = ip * 10 + (*s++ - '0');
    if (*s == '.' && s[1] != '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (scale > 1) {
                scale /= 10;
                frac += (*s - '0') * scale;
            }
            s++;
        }
    }
    c->p = s;
    *us = (ip * 1000000 + frac) * (neg ? -1 : 1);
    return 1;
}

/* ---- TCP options -------------------------------------------------------- */

static int
parse_opts(cur *c, pkt_spec *k)
{
    /* called after '<' */
    ws(c);
    if (eat(c, "...")) {
        if (!eat(c, ">"))
            return fail(c, "expected '>' after '<...'");
        k->opts_mode = PKT_OPTS_ANY;
        return 0;
    }
    k->opts_mode = PKT_OPTS_LIST;
    if (eat(c, ">"))
        return 0;
    for (;;) {
        char w[32];
        if (k->nopts >= PKT_MAX_OPTS)
            return fail(c, "too many TCP options");
        pkt_opt *o = &k->opts[k->nopts];
        memset(o, 0, sizeof(*o));
        if (!word(c, w, sizeof(w)))
            return fail(c, "expected a TCP option near '%.20s'", c->p);
        if (strcmp(w, "nop") == 0) {
            o->kind = PKT_OPT_NOP;
        } else if (strcmp(w, "eol") == 0) {
            o->kind = PKT_OPT_EOL;
        } else if (strcmp(w, "mss") == 0) {
            o->kind = PKT_OPT_MSS;
            if (num32(c, &o->a, "mss"))
                return -1;
        } else if (strcmp(w, "wscale") == 0) {
            o->kind = PKT_OPT_WS;
            if (num32(c, &o->a, "wscale"))
                return -1;
        } else if (strcmp(w, "sackOK") == 0) {
            o->kind = PKT_OPT_SACKOK;
        } else if (strcmp(w, "TS") == 0) {
            o->kind = PKT_OPT_TS;
            if (!eat(c, "val") || num32(c, &o->a, "TS val") || !eat(c, "ecr") || num32(c, &o->b, "TS ecr"))
                return fail(c, "expected 'TS val N ecr N'");
        } else if (strcmp(w, "sack") == 0) {
            o->kind = PKT_OPT_SACK;
            for (;;) {
                ws(c);
                if (!isdigit((unsigned char)*c->p))
                    break;
                if (o->nblocks >= 4)
                    return fail(c, "more than 4 SACK blocks");
                if (num32(c, &o->blk[o->nblocks][0], "sack") || !eat(c, ":") ||
                    num32(c, &o->blk[o->nblocks][1], "sack"))
                    return fail(c, "expected 'sack L:R ...'");
                o->nblocks++;
            }
            if (o->nblocks == 0)
                return fail(c, "sack with no blocks");
        } else {
            return fail(c, "unknown TCP option '%s'", w);
        }
        k->nopts++;
        if (eat(c, ","))
            continue;
        if (eat(c, ">"))
            return 0;
        return fail(c, "expected ',' or '>' in the option list near '%.20s'", c->p);
    }
}

/* Modifiers after a packet: ttl N, tos N, id N, df, frag A:B, mf, dport N,
 * badcsum, mtu N (ICMP). */
static int
parse_mods(cur *c, pkt_spec *k)
{
    for (;;) {
        ws(c);
        if (*c->p == '\0' || *c->p == '\n')
            return 0;
        char w[32];
        uint32_t v;
        if (!word(c, w, sizeof(w)))
            return fail(c, "unexpected text '%.20s'", c->p);
        if (strcmp(w, "ttl") == 0) {
            if (num32(c, &v, "ttl"))
                return -1;
            k->ttl = (int)v;
        } else if (strcmp(w, "tos") == 0) {
            if (num32(c, &v, "tos"))
                return -1;
            k->tos = (int)v;
        } else if (strcmp(w, "id") == 0) {
            if (num32(c, &v, "id"))
                return -1;
            k->ipid = (int)v;
        } else if (strcmp(w, "df") == 0) {
            k->df = 1;
        } else if (strcmp(w, "nodf") == 0) {
            k->df = 0;
        } else if (strcmp(w, "mf") == 0) {
            k->frag_mf = 1;
        } else if (strcmp(w, "frag") == 0) {
            k->frag = 1;
            if (num32(c, &k->frag_off, "frag") || !eat(c, ":") || num32(c, &k->frag_end, "frag"))
                return fail(c, "expected 'frag START:END'");
            if (k->frag_off % 8 != 0 || k->frag_end <= k->frag_off)
                return fail(c, "frag START must be a multiple of 8 and below END");
        } else if (strcmp(w, "dport") == 0) {
            if (num32(c, &v, "dport"))
                return -1;
            k->dport = (int)v;
        } else if (strcmp(w, "sport") == 0) {
            if (num32(c, &v, "sport"))
                return -1;
            k->sport = (int)v;
        } else if (strcmp(w, "badcsum") == 0) {
            k->badcsum = 1;
        } else if (strcmp(w, "mtu") == 0) {
            if (num32(c, &v, "mtu"))
                return -1;
            k->icmp_mtu = (int)v;
        } else {
            return fail(c, "unknown packet modifier '%s'", w);
        }
    }
}

static const struct {
    const char *name;
    int type, code;
} icmp_names[] = {
    {"echo_reply", 0, 0},
    {"echo_request", 8, 0},
    {"unreachable", 3, -1},
    {"time_exceeded", 11, -1},
    {"source_quench", 4, 0},
    {"parameter_problem", 12, 0},
};

static const struct {
    const char *name;
    int code;
} icmp_codes[] = {
    {"net_unreachable", 0},       {"host_unreachable", 1}, {"protocol_unreachable", 2},
    {"port_unreachable", 3},      {"frag_needed", 4},      {"source_route_failed", 5},
    {"ttl_exceeded", 0},          {"reassembly_timeout", 1},
};

static int
parse_packet(cur *c, pkt_event *e)
{
    pkt_spec *k = &e->pkt;
    char w[32];
    const char *save = c->p;
    k->ttl = k->tos = k->ipid = k->df = k->dport = k->sport = k->icmp_mtu = -1;
    if (word(c, w, sizeof(w)) && strcmp(w, "udp") == 0) {
        k->proto = PKT_UDP;
        if (!eat(c, "(") || num32(c, &k->len, "udp length") || !eat(c, ")"))
            return fail(c, "expected 'udp (LEN)'");
        return parse_mods(c, k);
    }
    if (strcmp(w, "icmp") == 0) {
        k->proto = PKT_ICMP;
        if (!word(c, w, sizeof(w)))
            return fail(c, "expected an ICMP type");
        size_t i;
        k->icmp_type = -1;
        for (i = 0; i < sizeof(icmp_names) / sizeof(icmp_names[0]); i++)
            if (strcmp(w, icmp_names[i].name) == 0) {
                k->icmp_type = icmp_names[i].type;
                k->icmp_code = icmp_names[i].code;
            }
        if (k->icmp_type < 0) {
            if (strcmp(w, "type") != 0)
                return fail(c, "unknown ICMP type '%s'", w);
            uint32_t t, cd;
            if (num32(c, &t, "type") || !eat(c, "code") || num32(c, &cd, "code"))
                return -1;
            k->icmp_type = (int)t;
            k->icmp_code = (int)cd;
        }
        if (k->icmp_code < 0) {
            const char *s2 = c->p;
            k->icmp_code = 0;
            if (word(c, w, sizeof(w))) {
                int found = 0;
                for (i = 0; i < sizeof(icmp_codes) / sizeof(icmp_codes[0]); i++)
                    if (strcmp(w, icmp_codes[i].name) == 0) {
                        k->icmp_code = icmp_codes[i].code;
                        found = 1;
                    }
                if (!found)
                    c->p = s2;
            }
        }
        if (eat(c, "id") && num32(c, &k->icmp_id, "id"))
            return -1;
        if (eat(c, "seq") && num32(c, &k->icmp_seq, "seq"))
            return -1;
        if (eat(c, "(")) {
            if (num32(c, &k->len, "icmp length") || !eat(c, ")"))
                return fail(c, "expected '(LEN)'");
        }
        return parse_mods(c, k);
    }
    /* TCP: FLAGS START:END(LEN) [ack N] [win N] [urg N] [<opts>] mods */
    c->p = save;
    ws(c);
    k->proto = PKT_TCP;
    int nflags = 0;
    for (;; c->p++, nflags++) {
        switch (*c->p) {
        case 'S': k->flags |= PKT_SYN; continue;
        case 'F': k->flags |= PKT_FIN; continue;
        case 'R': k->flags |= PKT_RST; continue;
        case 'P': k->flags |= PKT_PSH; continue;
        case '.': k->flags |= PKT_ACK; continue;
        case 'U': k->flags |= PKT_URG; continue;
        case 'E': k->flags |= PKT_ECE; continue;
        case 'W': k->flags |= PKT_CWR; continue;
        default: break;
        }
        break;
    }
    if (nflags == 0)
        return fail(c, "expected TCP flags, 'udp' or 'icmp' near '%.20s'", c->p);
    if (num32(c, &k->seq, "seq") || !eat(c, ":") || num32(c, &k->seq_end, "seq") || !eat(c, "(") ||
        num32(c, &k->len, "len") || !eat(c, ")"))
        return fail(c, "expected 'START:END(LEN)'");
    if (k->seq_end - k->seq != k->len)
        return fail(c, "END - START (%u) differs from LEN (%u)", k->seq_end - k->seq, k->len);
    for (;;) {
        if (eat(c, "ack")) {
            if (num32(c, &k->ack, "ack"))
                return -1;
            k->has_ack = 1;
        } else if (eat(c, "win")) {
            if (num32(c, &k->win, "win"))
                return -1;
            k->has_win = 1;
        } else if (eat(c, "urg")) {
            if (num32(c, &k->urg, "urg"))
                return -1;
            k->has_urg = 1;
        } else if (eat(c, "<")) {
            if (parse_opts(c, k))
                return -1;
        } else {
            break;
        }
    }
    if ((k->flags & PKT_ACK) && !k->has_ack)
        return fail(c, "an ACK segment needs 'ack N'");
    return parse_mods(c, k);
}

/* ---- system calls ------------------------------------------------------- */

static int
parse_call(cur *c, pkt_event *e)
{
    pkt_call *k = &e->call;
    if (!word(c, k->name, sizeof(k->name)))
        return fail(c, "expected a packet or a system call near '%.20s'", c->p);
    if (!eat(c, "("))
        return fail(c, "expected '(' after %s", k->name);
    /* split arguments at top-level commas */
    int depth = 0;
    const char *start = c->p;
    for (;; c->p++) {
        char ch = *c->p;
        if (ch == '\0')
            return fail(c, "unterminated argument list");
        if (ch == '(' || ch == '[' || ch == '{')
            depth++;
        if ((ch == ',' || ch == ')') && depth == 0) {
            const char *a = start, *b = c->p;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if (b > a || ch == ',' || k->nargs > 0) {
                if (k->nargs >= PKT_MAX_ARGS)
                    return fail(c, "too many arguments");
                k->args[k->nargs++] = strndup(a, (size_t)(b - a));
            }
            start = c->p + 1;
            if (ch == ')') {
                c->p++;
                break;
            }
            continue;
        }
        if (ch == ')' || ch == ']' || ch == '}')
            depth--;
    }
    if (!eat(c, "="))
        return fail(c, "expected '= RESULT' after %s(...)", k->name);
    ws(c);
    char *end;
    long long r = strtoll(c->p, &end, 0);
    if (end == c->p)
        return fail(c, "expected a result number");
    k->ret = r;
    c->p = end;
    word(c, k->err, sizeof(k->err));
    ws(c);
    if (*c->p == '(') { /* "(Explanation text)" */
        const char *q = strchr(c->p, ')');
        c->p = q != NULL ? q + 1 : c->p + strlen(c->p);
    }
    ws(c);
    if (*c->p != '\0')
        return fail(c, "unexpected text after the call: '%.20s'", c->p);
    if (k->ret < 0 && k->err[0] == '\0')
        return fail(c, "a negative result needs an errno name");
    return 0;
}

/* ---- events and header --------------------------------------------------- */

static int
parse_event(cur *c, pkt_event *e)
{
    ws(c);
    if (eat(c, "*")) {
        e->tkind = PKT_T_ANY;
    } else {
        e->tkind = eat(c, "+") ? PKT_T_REL : PKT_T_ABS;
        if (!seconds(c, &e->t))
            return fail(c, "expected a time near '%.20s'", c->p);
        if (eat(c, "...") || eat(c, "~")) {
            eat(c, "+");
            e->range = 1;
            if (!seconds(c, &e->t_end))
                return fail(c, "expected the end of the time range");
            if (e->t_end < e->t)
                return fail(c, "time range ends before it starts");
        }
    }
    ws(c);
    if (*c->p == '<' || *c->p == '>') {
        e->kind = *c->p == '<' ? PKT_EV_IN : PKT_EV_OUT;
        c->p++;
        if (e->range && e->kind == PKT_EV_IN)
            return fail(c, "an inbound packet cannot have a time range");
        return parse_packet(c, e);
    }
    e->kind = PKT_EV_CALL;
    return parse_call(c, e);
}

static int
header_knob(cur *c, pkt_script *s, const char *kv)
{
    char key[32], val[64];
    const char *eq = strchr(kv, '=');
    if (eq == NULL || (size_t)(eq - kv) >= sizeof(key))
        return fail(c, "purenet knob '%s' is not key=value", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    snprintf(val, sizeof(val), "%s", eq + 1);
    pn_tcp_config *t = &s->cfg.tcp;
    char *end;
    unsigned long long n = strtoull(val, &end, 0);
    /* time values take an s / ms / us suffix; bare numbers are µs */
    unsigned long long us = n;
    if (strcmp(end, "ms") == 0)
        us = n * 1000;
    else if (strcmp(end, "s") == 0)
        us = n * 1000000;
    else if (strcmp(end, "us") != 0 && *end != '\0' && strcmp(key, "profile") != 0 &&
             strcmp(key, "delack") != 0)
        return fail(c, "bad value '%s' for %s", val, key);
    if (strcmp(key, "profile") == 0) {
        if (strlen(val) >= sizeof(s->profile) || pkt_profile(&s->cfg, val))
            return fail(c, "unknown profile '%s' (rfc, linux, freebsd)", val);
        memcpy(s->profile, val, strlen(val) + 1);
    } else if (strcmp(key, "sack") == 0) {
        t->no_sack = n == 0;
    } else if (strcmp(key, "ts") == 0) {
        t->no_timestamps = n == 0;
    } else if (strcmp(key, "ws") == 0) {
        t->no_wscale = n == 0;
    } else if (strcmp(key, "rfc5961") == 0) {
        t->no_rfc5961 = n == 0;
    } else if (strcmp(key, "syncookies") == 0) {
        t->no_syncookies = n == 0;
    } else if (strcmp(key, "init_cwnd") == 0) {
        t->init_cwnd_segs = (uint32_t)n;
    } else if (strcmp(key, "delack") == 0) {
        if (strcmp(val, "off") == 0 || strcmp(val, "quick") == 0)
            t->quickack = 1;
        else if (strcmp(val, "on") == 0)
            t->quickack = 0;
        else
            return fail(c, "delack=on|off");
    } else if (strcmp(key, "delack_segs") == 0) {
        t->delack_segs = (uint8_t)n;
    } else if (strcmp(key, "delack_us") == 0) {
        t->delack_us = (uint32_t)us;
    } else if (strcmp(key, "rto_init") == 0) {
        t->rto_init_us = (uint32_t)us;
    } else if (strcmp(key, "rto_min") == 0) {
        t->rto_min_us = (uint32_t)us;
    } else if (strcmp(key, "rto_max") == 0) {
        t->rto_max_us = (uint32_t)us;
    } else if (strcmp(key, "syn_retries") == 0) {
        t->syn_retries = (uint8_t)n;
    } else if (strcmp(key, "synack_retries") == 0) {
        t->synack_retries = (uint8_t)n;
    } else if (strcmp(key, "syn_queue") == 0) {
        t->syn_queue = (uint32_t)n;
    } else if (strcmp(key, "msl") == 0) {
        t->msl_us = (uint32_t)us;
    } else if (strcmp(key, "fin_wait2") == 0) {
        t->fin_wait2_us = (uint32_t)us;
    } else if (strcmp(key, "sndbuf") == 0) {
        t->sndbuf = (uint32_t)n;
    } else if (strcmp(key, "rcvbuf") == 0) {
        t->rcvbuf = (uint32_t)n;
    } else if (strcmp(key, "keepidle") == 0) {
        t->keepidle_s = (uint32_t)n;
    } else if (strcmp(key, "keepintvl") == 0) {
        t->keepintvl_s = (uint32_t)n;
    } else if (strcmp(key, "keepcnt") == 0) {
        t->keepcnt = (uint32_t)n;
    } else if (strcmp(key, "challenge_ack_limit") == 0) {
        t->challenge_ack_limit = (uint32_t)n;
    } else if (strcmp(key, "syn_layout") == 0) {
        t->syn_layout = (uint8_t)n;
    } else if (strcmp(key, "mtu") == 0) {
        s->cfg.mtu = (uint16_t)n;
    } else if (strcmp(key, "reass_timeout") == 0) {
        s->cfg.reass_timeout_us = (uint32_t)us;
    } else if (strcmp(key, "icmp_rate") == 0) {
        s->cfg.icmp_rate = (uint32_t)n;
    } else if (strcmp(key, "icmp_burst") == 0) {
        s->cfg.icmp_burst = (uint32_t)n;
    } else {
        return fail(c, "unknown purenet knob '%s'", key);
    }
    return 0;
}

int
pkt_knob(pn_config *cfg, const char *kv, char *err, size_t cap)
{
    pkt_script tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.cfg = *cfg;
    cur c = {.name = "knob", .err = err, .cap = cap};
    if (header_knob(&c, &tmp, kv))
        return -1;
    *cfg = tmp.cfg;
    return 0;
}

static int
header_comment(cur *c, pkt_script *s, const char *txt)
{
    while (*txt == ' ' || *txt == '\t')
        txt++;
    if (strncmp(txt, "xfail:", 6) == 0) {
        txt += 6;
        while (*txt == ' ')
            txt++;
        snprintf(s->xfail, sizeof(s->xfail), "%s", *txt ? txt : "(no reason given)");
        size_t n = strlen(s->xfail);
        while (n > 0 && isspace((unsigned char)s->xfail[n - 1]))
            s->xfail[--n] = '\0';
        return 0;
    }
    if (strncmp(txt, "purenet-only", 12) == 0) {
        s->purenet_only = 1;
        return 0;
    }
    if (strncmp(txt, "purenet:", 8) == 0) {
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", txt + 8);
        for (char *tok = strtok(buf, " \t\r"); tok != NULL; tok = strtok(NULL, " \t\r"))
            if (header_knob(c, s, tok))
                return -1;
    }
    return 0;
}

static int
option_line(cur *c, pkt_script *s, const char *txt)
{
    /* --name=value */
    if (strncmp(txt, "--tolerance_usecs=", 18) == 0) {
        s->tolerance_us = strtoll(txt + 18, NULL, 0);
        return 0;
    }
    /* Other packetdrill options are accepted and ignored (the runner's
     * addresses and ports are fixed). */
    (void)c;
    return 0;
}

static void
push(pkt_script *s, const pkt_event *e)
{
    if (s->nev == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->ev = realloc(s->ev, (size_t)s->cap * sizeof(*s->ev));
        if (s->ev == NULL)
            abort();
    }
    s->ev[s->nev++] = *e;
}

int
pkt_parse(const char *name, const char *text, pkt_script *s, char *err, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    s->tolerance_us = 4000;
    pkt_profile(&s->cfg, "rfc");
    snprintf(s->profile, sizeof(s->profile), "rfc");
    cur c = {.name = name, .err = err, .cap = cap};
    err[0] = '\0';

    /* Pass 1: strip comments into a copy, keeping line structure; read the
     * header directives on the way. */
    size_t tl = strlen(text);
    char *clean = malloc(tl + 1);
    if (clean == NULL)
        abort();
    size_t o = 0;
    int line = 1, bol = 1;
    for (size_t i = 0; i < tl;) {
        if (text[i] == '/' && text[i + 1] == '*') {
            i += 2;
            while (i < tl && !(text[i] == '*' && text[i + 1] == '/')) {
                if (text[i] == '\n') {
                    clean[o++] = '\n';
                    line++;
                }
                i++;
            }
            i = i < tl ? i + 2 : tl;
            continue;
        }
        if ((text[i] == '/' && text[i + 1] == '/') || (bol && text[i] == '#')) {
            size_t j = i + (text[i] == '#' ? 1 : 2);
            size_t e = j;
            while (e < tl && text[e] != '\n')
                e++;
            char *cm = strndup(text + j, e - j);
            c.line = line;
            int r = header_comment(&c, s, cm);
            free(cm);
            if (r) {
                free(clean);
                return -1;
            }
            i = e;
            continue;
        }
        if (text[i] == '\n') {
            line++;
            bol = 1;
        } else if (text[i] != ' ' && text[i] != '\t') {
            bol = 0;
        }
        clean[o++] = text[i++];
    }
    clean[o] = '\0';

    /* Pass 2: statements. */
    char *p = clean;
    line = 1;
    while (*p != '\0') {
        char *nl = p;
        int depth = 0, startline = line;
        while (*nl != '\0') {
            if (*nl == '(' || *nl == '[' || *nl == '{')
                depth++;
            else if (*nl == ')' || *nl == ']' || *nl == '}')
                depth--;
            else if (*nl == '\n') {
                line++;
                if (depth <= 0)
                    break;
                *nl = ' ';
            }
            nl++;
        }
        char *next = *nl ? nl + 1 : nl;
        *nl = '\0';
        char *t = p;
        while (isspace((unsigned char)*t))
            t++;
        size_t tlen = strlen(t);
        while (tlen > 0 && isspace((unsigned char)t[tlen - 1]))
            t[--tlen] = '\0';
        if (tlen > 0) {
            c.line = startline;
            if (strncmp(t, "--", 2) == 0) {
                if (option_line(&c, s, t))
                    goto bad;
            } else {
                pkt_event e;
                memset(&e, 0, sizeof(e));
                e.line = startline;
                e.text = strdup(t);
                c.p = t;
                if (parse_event(&c, &e)) {
                    free(e.text);
                    for (int i = 0; i < e.call.nargs; i++)
                        free(e.call.args[i]);
                    goto bad;
                }
                push(s, &e);
            }
        }
        p = next;
    }
    free(clean);
    return 0;
bad:
    free(clean);
    return -1;
}

void
pkt_script_free(pkt_script *s)
{
    for (int i = 0; i < s->nev; i++) {
        free(s->ev[i].text);
        for (int j = 0; j < s->ev[i].call.nargs; j++)
            free(s->ev[i].call.args[j]);
    }
    free(s->ev);
    free(s->name);
    memset(s, 0, sizeof(*s));
}

int
pkt_profile(pn_config *cfg, const char *name)
{
    pn_config base;
    pn_config_default(&base);
    base.medium = PN_MEDIUM_IP;
    base.mtu = 1500;
    base.n_addrs = 1;
    base.addrs[0].addr = PKT_LOCAL_IP;
    base.addrs[0].prefix_len = 24;
    base.n_routes = 1;
    base.routes[0].dest = PN_IP4(0, 0, 0, 0);
    base.routes[0].prefix_len = 0;
    base.routes[0].gateway = PN_IP4(192, 168, 0, 254);
    for (int i = 0; i < 16; i++)
        base.key[i] = (uint8_t)(0xA5 ^ (i * 17));
    pn_tcp_config *t = &base.tcp;
    if (strcmp(name, "rfc") == 0) {
        t->syn_layout = PN_SYN_LAYOUT_PURENET;
    } else if (strcmp(name, "linux") == 0) {
        /* Linux 6.x defaults: SYN layout, 200 ms min RTO, 40 ms delayed ACK,
         * IW10, 1 s initial RTO, 6 SYN retries, 5 SYN-ACK retries. */
        t->syn_layout = PN_SYN_LAYOUT_LINUX;
        t->rto_min_us = 200000;
        t->rto_init_us = 1000000;
        t->rto_max_us = 120000000;
        t->delack_us = 40000;
        t->init_cwnd_segs = 10;
        t->syn_retries = 6;
        t->synack_retries = 5;
    } else if (strcmp(name, "freebsd") == 0) {
        /* FreeBSD 14 defaults: 30 ms min RTO, 100 ms delayed ACK, IW10. */
        t->syn_layout = PN_SYN_LAYOUT_FREEBSD;
        t->rto_min_us = 30000;
        t->rto_init_us = 1000000;
        t->rto_max_us = 64000000;
        t->delack_us = 100000;
        t->init_cwnd_segs = 10;
        t->syn_retries = 6;
        t->synack_retries = 3;
    } else {
        return -1;
    }
    *cfg = base;
    return 0;
}
