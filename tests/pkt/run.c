/*
 * run.c -- the executor of the vector runner: one purenet instance in
 * bare-IP medium, a virtual clock, events played in order, and a decoded
 * field-by-field diff on the first mismatch.
 *
 * IMPLEMENTATION NOTES
 * - Script time 0 is stack time PKT_EPOCH_US. Relative times are relative
 *   to the previous event's actual time (for '>' the time the packet left;
 *   for a blocking call its start), as in packetdrill.
 * - Before a '<' line or a call at time t, the clock advances through every
 *   stack deadline strictly below t (pn_poll, drain after each), then to t.
 *   Any packet the stack sent by then that no '>' line consumed fails the
 *   script ("unexpected packet"). A '>' line takes the oldest packet sent,
 *   advancing through deadlines up to its time + tolerance if none is
 *   queued, and compares it field by field.
 * - A call with a time range (a...b) that would block is kept in flight and
 *   retried after every inject and every timer step; it must return within
 *   the tolerance of b. Without a range, a call that would block on a
 *   blocking socket fails the script (it would deadlock packetdrill).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkt_int.h"

/* ---- messages ----------------------------------------------------------- */

static void
msgf(pkt_run *r, const char *fmt, ...)
{
    size_t u = strlen(r->msg);
    if (u + 1 >= r->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + u, r->cap - u, fmt, ap);
    va_end(ap);
}

static double
sec(int64_t us)
{
    return (double)us / 1e6;
}

static int64_t
st(const pkt_run *r)
{
    return (int64_t)(r->now - PKT_EPOCH_US);
}

/* Start a failure report for event e (NULL: end of script). */
static int
failf(pkt_run *r, const pkt_event *e, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = 1;
    r->fail_line = e ? e->line : 0;
    r->msg[0] = '\0';
    if (e)
        msgf(r, "%s:%d: ", r->sc->name, e->line);
    else
        msgf(r, "%s: end of script: ", r->sc->name);
    size_t u = strlen(r->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + u, r->cap - u, fmt, ap);
    va_end(ap);
    msgf(r, "\n");
    if (e)
        msgf(r, "  script:  %s\n", e->text);
    msgf(r, "  at time: %.6f\n", sec(st(r)));
    return -1;
}

static const char *
ipstr(const uint8_t *a, char *b)
{
    sprintf(b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    return b;
}

/* One line summary of an outbound packet, with script-relative numbers. */
static void
summary(const pkt_run *r, const uint8_t *p, size_t len, char *out, size_t cap)
{
    pkt_dec d;
    char f[12], o[256], a[16], b[16];
    if (pkt_decode(p, len, &d)) {
        snprintf(out, cap, "undecodable (%s)", d.why);
        return;
    }
    if (d.fragoff != 0) {
        snprintf(out, cap, "%s > %s proto %d fragment %u:%zu%s id %u", ipstr(d.src, a), ipstr(d.dst, b), d.proto,
                 d.fragoff, d.fragoff + d.l4len, d.mf ? " mf" : "", d.id);
        return;
    }
    if (d.proto == 6) {
        pkt_optstr(d.opts, d.nopts, r->risn, 1, o, sizeof(o));
        uint32_t s0 = r->lisn_known ? r->lisn : 0;
        int n = snprintf(out, cap, "%s %u:%u(%u)", pkt_flagstr(d.flags, f), d.seq - s0, d.seq - s0 + d.paylen,
                         d.paylen);
        if (n < 0 || (size_t)n >= cap)
            return;
        if (d.flags & PKT_ACK)
            n += snprintf(out + n, cap - (size_t)n, " ack %u", d.ack - r->risn);
        if ((size_t)n < cap)
            n += snprintf(out + n, cap - (size_t)n, " win %u", d.win);
        if (d.nopts && (size_t)n < cap)
            snprintf(out + n, cap - (size_t)n, " <%s>", o);
    } else if (d.proto == 17) {
        snprintf(out, cap, "udp (%u) %u>%u%s", d.paylen, d.sport, d.dport, d.is_frag ? " (first fragment)" : "");
    } else if (d.proto == 1) {
        snprintf(out, cap, "icmp type %d code %d id %u seq %u (%u)", d.icmp_type, d.icmp_code, d.icmp_id,
                 d.icmp_seq, d.paylen);
    } else {
        snprintf(out, cap, "IP proto %d, %zu bytes", d.proto, len);
    }
}

/* ---- the stack and the clock --------------------------------------------- */

static void
drain(pkt_run *r)
{
    static uint8_t buf[70000];
    for (;;) {
        int n = pn_drain_raw(r->s, buf, sizeof(buf));
        if (n <= 0)
            break;
        if (r->qn == PKT_QCAP) {
            failf(r, NULL, "more than %d packets queued unread", PKT_QCAP);
            return;
        }
        pkt_out *o = &r->q[(r->qh + r->qn) % PKT_QCAP];
        o->d = malloc((size_t)n);
        if (o->d == NULL)
            abort();
        memcpy(o->d, buf, (size_t)n);
        o->len = (size_t)n;
        o->t = r->now;
        r->qn++;
        if (r->verbose) {
            char s[400];
            summary(r, o->d, o->len, s, sizeof(s));
            fprintf(stderr, "  %10.6f  out  %s\n", sec(st(r)), s);
        }
    }
}

static void try_pending(pkt_run *r);

/* Poll every deadline below (strict) or up to `limit` (stack µs), then set
 * the clock to limit. */
static int
advance(pkt_run *r, uint64_t limit, int strict)
{
    int spins = 0;
    for (;;) {
        if (r->failed)
            return -1;
        uint64_t d = pn_next_deadline(r->s);
        if (d == PN_TIME_NEVER || d > limit || (strict && d == limit))
            break;
        if (d <= r->now) {
            if (++spins > 10000)
                return failf(r, NULL, "the stack's next deadline does not move past %.6f", sec(st(r)));
            d = r->now;
        } else {
            spins = 0;
        }
        if (r->pend >= 0 && (int64_t)(d - PKT_EPOCH_US) > r->pend_end + r->sc->tolerance_us) {
            r->now = PKT_EPOCH_US + (uint64_t)(r->pend_end + r->sc->tolerance_us);
            pkt_event *pe = &r->sc->ev[r->pend];
            return failf(r, pe, "blocking %s() did not return by %.6f (expected at %.6f)", pe->call.name,
                         sec(r->pend_end + r->sc->tolerance_us), sec(r->pend_end));
        }
        r->now = d;
        pn_poll(r->s, r->now);
        drain(r);
        try_pending(r);
    }
    if (limit > r->now) {
        if (r->pend >= 0 && (int64_t)(limit - PKT_EPOCH_US) > r->pend_end + r->sc->tolerance_us) {
            r->now = PKT_EPOCH_US + (uint64_t)(r->pend_end + r->sc->tolerance_us);
            pkt_event *pe = &r->sc->ev[r->pend];
            return failf(r, pe, "blocking %s() did not return by %.6f (expected at %.6f)", pe->call.name,
                         sec(r->pend_end + r->sc->tolerance_us), sec(r->pend_end));
        }
        r->now = limit;
    }
    return r->failed ? -1 : 0;
}

static void
pop(pkt_run *r)
{
    free(r->q[r->qh].d);
    r->qh = (r->qh + 1) % PKT_QCAP;
    r->qn--;
}

/* ---- the diff table ------------------------------------------------------ */

typedef struct table {
    pkt_run *r;
    int bad;
} table;

static void
row(table *t, const char *field, const char *exp, const char *act, int differs)
{
    msgf(t->r, "  %-14s %-30s %-30s%s\n", field, exp, act, differs ? "  <-- differs" : "");
    if (differs)
        t->bad++;
}

static void
rowu(table *t, const char *field, uint32_t e, uint32_t a)
{
    char x[16], y[16];
    snprintf(x, sizeof(x), "%u", e);
    snprintf(y, sizeof(y), "%u", a);
    row(t, field, x, y, e != a);
}

static int
opt_equal(const pkt_run *r, const pkt_opt *e, const pkt_opt *a)
{
    if (e->kind != a->kind)
        return 0;
    switch (e->kind) {
    case PKT_OPT_MSS:
    case PKT_OPT_WS:
        return e->a == a->a;
    case PKT_OPT_TS:
        return e->b == a->b; /* the value is the stack's clock: not compared */
    case PKT_OPT_SACK:
        if (e->nblocks != a->nblocks)
            return 0;
        for (int b = 0; b < e->nblocks; b++)
            if (e->blk[b][0] != a->blk[b][0] - r->risn || e->blk[b][1] != a->blk[b][1] - r->risn)
                return 0;
        return 1;
    default:
        return 1;
    }
}

static void
payload_row(table *t, const char *what, const uint8_t *p, uint32_t n, uint32_t off)
{
    char e[64], a[64];
    snprintf(e, sizeof(e), "%u bytes of pattern@%u", n, off);
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != pkt_pattern(off + i)) {
            snprintf(a, sizeof(a), "byte %u is 0x%02x, not 0x%02x", i, p[i], pkt_pattern(off + i));
            row(t, what, e, a, 1);
            return;
        }
    row(t, what, e, "same", 0);
}

/* Compare the outbound packet p with the script line e. Returns the number
 * of differing fields; the table goes into the message. */
static int
compare(pkt_run *r, const pkt_event *e, const uint8_t *p, size_t len, int64_t t_act, int64_t t_exp)
{
    const pkt_spec *k = &e->pkt;
    table T = {r, 0}, *t = &T;
    pkt_dec d;
    char x[400], y[400];
    size_t mark = strlen(r->msg);
    msgf(r, "  %-14s %-30s %-30s\n", "field", "expected", "actual");
    if (e->tkind == PKT_T_ANY) {
        snprintf(y, sizeof(y), "%.6f", sec(t_act));
        row(t, "time", "*", y, 0);
    } else {
        int64_t dt = t_act - t_exp;
        snprintf(x, sizeof(x), "%.6f (+-%.6f)", sec(t_exp), sec(r->sc->tolerance_us));
        snprintf(y, sizeof(y), "%.6f", sec(t_act));
        row(t, "time", x, y, dt > r->sc->tolerance_us || -dt > r->sc->tolerance_us);
    }
    if (pkt_decode(p, len, &d)) {
        row(t, "ip", "IPv4 packet", d.why, 1);
        return t->bad;
    }
    char ea[16], aa[16];
    pn_ip4 lo = PKT_LOCAL_IP, re = PKT_REMOTE_IP;
    row(t, "ip.src", ipstr(lo.b, ea), ipstr(d.src, aa), memcmp(lo.b, d.src, 4) != 0);
    row(t, "ip.dst", ipstr(re.b, ea), ipstr(d.dst, aa), memcmp(re.b, d.dst, 4) != 0);
    int eproto = k->proto == PKT_TCP ? 6 : k->proto == PKT_UDP ? 17 : 1;
    rowu(t, "ip.proto", (uint32_t)eproto, (uint32_t)d.proto);
    row(t, "ip.checksum", "valid", d.ipcsum_ok ? "valid" : "BAD", !d.ipcsum_ok);
    if (k->ttl >= 0)
        rowu(t, "ip.ttl", (uint32_t)k->ttl, (uint32_t)d.ttl);
    if (k->tos >= 0)
        rowu(t, "ip.tos", (uint32_t)k->tos, (uint32_t)d.tos);
    if (k->df >= 0)
        rowu(t, "ip.df", (uint32_t)k->df, (uint32_t)d.df);
    if (k->frag || d.is_frag) {
        snprintf(x, sizeof(x), k->frag ? "%u:%u%s" : "not a fragment", k->frag_off, k->frag_end,
                 k->frag_mf ? " mf" : "");
        snprintf(y, sizeof(y), d.is_frag ? "%u:%zu%s" : "not a fragment", d.fragoff, d.fragoff + d.l4len,
                 d.mf ? " mf" : "");
        row(t, "ip.fragment", x, y, strcmp(x, y) != 0);
    }
    if (eproto != d.proto)
        return t->bad;
    if (k->frag) {
        /* compare the fragment's bytes with the slice of the datagram */
        static uint8_t full[70000];
        pkt_spec whole = *k;
        whole.frag = 0;
        whole.frag_mf = 0;
        size_t n = pkt_build(r, &whole, 0, 0, full, sizeof(full));
        size_t want = n > 20 ? n - 20 : 0;
        size_t end = k->frag_end < want ? k->frag_end : want;
        int same = end == k->frag_off + d.l4len && end <= want &&
                   memcmp(full + 20 + k->frag_off, d.l4, d.l4len) == 0;
        snprintf(x, sizeof(x), "bytes %u:%zu of the datagram", k->frag_off, end);
        row(t, "fragment data", x, same ? "same" : "differ", !same);
        return t->bad;
    }
    if (k->proto == PKT_TCP) {
        if (!r->lport_known && (d.flags & PKT_SYN)) {
            r->lport = d.sport;
            r->lport_known = 1;
        }
        if ((k->flags & PKT_SYN) && (d.flags & PKT_SYN)) {
            /* every SYN names its connection's ISN (SYN cookies, a new
             * connection after TIME_WAIT) */
            r->lisn = d.seq - k->seq;
            r->lisn_known = 1;
        }
        rowu(t, "tcp.sport", r->lport, d.sport);
        rowu(t, "tcp.dport", k->dport >= 0 ? (uint32_t)k->dport : r->rport, d.dport);
        char f1[12], f2[12];
        row(t, "tcp.flags", pkt_flagstr(k->flags, f1), pkt_flagstr(d.flags, f2), k->flags != d.flags);
        uint32_t s0 = r->lisn_known ? r->lisn : 0;
        rowu(t, "tcp.seq", k->seq, d.seq - s0);
        rowu(t, "tcp.len", k->len, d.paylen);
        if ((k->flags & PKT_ACK) || (d.flags & PKT_ACK)) {
            snprintf(x, sizeof(x), (k->flags & PKT_ACK) ? "%u" : "(no ACK)", k->ack);
            snprintf(y, sizeof(y), (d.flags & PKT_ACK) ? "%u" : "(no ACK)", d.ack - r->risn);
            row(t, "tcp.ack", x, y, strcmp(x, y) != 0);
        }
        if (k->has_win)
            rowu(t, "tcp.win", k->win, d.win);
        if (k->has_urg)
            rowu(t, "tcp.urg", k->urg, d.urg);
        if (d.opts_bad) {
            row(t, "tcp.options", "well formed", "MALFORMED", 1);
        } else if (k->opts_mode == PKT_OPTS_ANY) {
            pkt_optstr(d.opts, d.nopts, r->risn, 0, y, sizeof(y));
            row(t, "tcp.options", "...", y, 0);
        } else {
            int same = k->nopts == d.nopts;
            for (int i = 0; same && i < k->nopts; i++)
                same = opt_equal(r, &k->opts[i], &d.opts[i]);
            pkt_optstr(k->opts, k->nopts, 0, 1, x, sizeof(x));
            pkt_optstr(d.opts, d.nopts, r->risn, !same, y, sizeof(y));
            if (same) /* show the expected TS val as "*" when equal */
                pkt_optstr(k->opts, k->nopts, 0, 0, x, sizeof(x));
            row(t, "tcp.options", k->nopts ? x : "(none)", d.nopts ? y : "(none)", !same);
        }
        if (d.paylen > 0 && d.paylen == k->len)
            payload_row(t, "tcp.payload", d.pay, d.paylen, d.seq - s0 + ((d.flags & PKT_SYN) ? 1 : 0) - 1);
        row(t, "tcp.checksum", "valid", d.l4csum_ok ? "valid" : "BAD", !d.l4csum_ok);
        /* learn the TS offset for inbound ecr values */
        if (!r->ts_off_known && k->opts_mode == PKT_OPTS_LIST && t->bad == 0)
            for (int i = 0; i < k->nopts; i++)
                if (k->opts[i].kind == PKT_OPT_TS) {
                    r->ts_off = d.opts[i].a - k->opts[i].a;
                    r->ts_off_known = 1;
                }
    } else if (k->proto == PKT_UDP) {
        if (r->udp_lport == 0)
            r->udp_lport = d.sport; /* autobound: learn the port */
        rowu(t, "udp.sport", r->udp_lport, d.sport);
        rowu(t, "udp.dport", r->udp_rport, d.dport);
        rowu(t, "udp.len", k->len, d.udplen >= 8 ? d.udplen - 8 : 0);
        if (d.is_frag) {
            row(t, "udp.payload", "whole datagram", "first fragment", 1);
        } else {
            rowu(t, "udp.payload", k->len, d.paylen);
            if (d.paylen == k->len)
                payload_row(t, "udp.data", d.pay, d.paylen, 0);
        }
        row(t, "udp.checksum", "valid", d.l4csum_ok ? "valid" : "BAD", !d.l4csum_ok);
    } else {
        rowu(t, "icmp.type", (uint32_t)k->icmp_type, (uint32_t)d.icmp_type);
        rowu(t, "icmp.code", (uint32_t)k->icmp_code, (uint32_t)d.icmp_code);
        row(t, "icmp.checksum", "valid", d.l4csum_ok ? "valid" : "BAD", !d.l4csum_ok);
        if (k->icmp_type == 0 || k->icmp_type == 8) {
            rowu(t, "icmp.id", k->icmp_id, d.icmp_id);
            rowu(t, "icmp.seq", k->icmp_seq, d.icmp_seq);
            rowu(t, "icmp.len", k->len, d.paylen);
            if (d.paylen == k->len)
                payload_row(t, "icmp.data", d.pay, d.paylen, 0);
        } else {
            if (k->icmp_mtu >= 0)
                rowu(t, "icmp.mtu", (uint32_t)k->icmp_mtu, d.icmp_mtu);
            /* RFC 792 / RFC 1812 4.3.2.3: the quote starts with the
             * offending IP header and at least 8 bytes of its data. */
            size_t need = r->last_in_len >= 20 ? (size_t)(r->last_in[0] & 15) * 4 + 8 : 0;
            if (need > r->last_in_len)
                need = r->last_in_len;
            int same = need > 0 && d.paylen >= need && memcmp(d.pay, r->last_in, need) == 0;
            snprintf(x, sizeof(x), "last inbound packet's first %zu bytes", need);
            snprintf(y, sizeof(y), same ? "same (%u bytes quoted)" : "differs (%u bytes quoted)", d.paylen);
            row(t, "icmp.quote", x, y, !same);
        }
    }
    if (t->bad == 0)
        r->msg[mark] = '\0';
    return t->bad;
}

/* ---- system calls -------------------------------------------------------- */

static const struct {
    int code;
    const char *name;
} errnames[] = {
    {PN_EINVAL, "EINVAL"},           {PN_ENOMEM, "ENOMEM"},
    {PN_ENOBUFS, "ENOBUFS"},         {PN_EAGAIN, "EAGAIN"},
    {PN_EMSGSIZE, "EMSGSIZE"},       {PN_EHOSTUNREACH, "EHOSTUNREACH"},
    {PN_ENETUNREACH, "ENETUNREACH"}, {PN_EADDRINUSE, "EADDRINUSE"},
    {PN_EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {PN_EBADF, "EBADF"},
    {PN_EMFILE, "EMFILE"},           {PN_ENOTCONN, "ENOTCONN"},
    {PN_EISCONN, "EISCONN"},         {PN_ECONNREFUSED, "ECONNREFUSED"},
    {PN_ECONNRESET, "ECONNRESET"},   {PN_ECONNABORTED, "ECONNABORTED"},
    {PN_ETIMEDOUT, "ETIMEDOUT"},     {PN_EPIPE, "EPIPE"},
    {PN_EALREADY, "EALREADY"},       {PN_EINPROGRESS, "EINPROGRESS"},
    {PN_EOPNOTSUPP, "EOPNOTSUPP"},   {PN_ENOPROTOOPT, "ENOPROTOOPT"},
    {PN_ENOSPC, "ENOSPC"},           {PN_EPROTO, "EPROTO"},
    {PN_ENOENT, "ENOENT"},
};

const char *
pkt_errname(int code)
{
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (errnames[i].code == code)
            return errnames[i].name;
    return "E?";
}

static int
errcode(const char *name)
{
    if (strcmp(name, "EWOULDBLOCK") == 0)
        return PN_EAGAIN;
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (strcmp(errnames[i].name, name) == 0)
            return errnames[i].code;
    return 1;
}

typedef struct cres {
    int64_t ret;
    char err[24];
    int block;       /* would block on a blocking socket */
    char note[300];  /* extra mismatch detail (content, peer) */
} cres;

static void
seterr(cres *c, int code)
{
    c->ret = -1;
    snprintf(c->err, sizeof(c->err), "%s", pkt_errname(code));
}

static pkt_fd *
getfd(pkt_run *r, const char *arg)
{
    long n = strtol(arg, NULL, 0);
    if (n < 0 || n >= PKT_MAXFD || !r->fd[n].used)
        return NULL;
    return &r->fd[n];
}

/* [N] or [NAME] -> value; returns 0 or -1. */
static int
bracket_int(const char *a, long *v)
{
    if (a == NULL || a[0] != '[')
        return -1;
    const char *p = a + 1;
    while (*p == ' ')
        p++;
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        *v = strtol(p, NULL, 0);
        return 0;
    }
    char w[32];
    size_t n = 0;
    while (*p && *p != ']' && *p != ' ' && n + 1 < sizeof(w))
        w[n++] = *p++;
    w[n] = '\0';
    int c = errcode(w);
    if (c == 1)
        return -1;
    *v = c; /* errno names as their PN_E* codes */
    return 0;
}

static int
sockopt(const char *level, const char *name, int *opt)
{
    (void)level;
    static const struct {
        const char *n;
        int o;
    } map[] = {
        {"SO_REUSEADDR", PN_TCP_REUSEADDR}, {"SO_KEEPALIVE", PN_TCP_KEEPALIVE}, {"SO_SNDBUF", PN_TCP_SNDBUF},
        {"SO_RCVBUF", PN_TCP_RCVBUF},       {"SO_LINGER", PN_TCP_LINGER0},      {"TCP_NODELAY", PN_TCP_NODELAY},
        {"TCP_MAXSEG", PN_TCP_MAXSEG},      {"TCP_KEEPIDLE", PN_TCP_KEEPIDLE},  {"TCP_KEEPINTVL", PN_TCP_KEEPINTVL},
        {"TCP_KEEPCNT", PN_TCP_KEEPCNT},    {"TCP_SYNCNT", PN_TCP_SYNCNT},      {"TCP_QUICKACK", PN_TCP_QUICKACK},
        {"IP_TOS", PN_TCP_TOS},             {"IP_TTL", PN_TCP_TTL},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].n, name) == 0) {
            *opt = map[i].o;
            return 0;
        }
    return -1;
}

static int
alloc_fd(pkt_run *r)
{
    for (int i = 3; i < PKT_MAXFD; i++)
        if (!r->fd[i].used)
            return i;
    return -1;
}

static int
blocking(const pkt_fd *f)
{
    return !f->nonblock;
}

/* Execute call e once. pend: this is a retry of a blocked call. */
static void
exec_call(pkt_run *r, const pkt_event *e, cres *c, int retry)
{
    const pkt_call *k = &e->call;
    memset(c, 0, sizeof(*c));
    const char *nm = k->name;
    pkt_fd *f = k->nargs > 0 && strcmp(nm, "socket") != 0 ? getfd(r, k->args[0]) : NULL;
    pn_sockaddr local = {PKT_LOCAL_IP, PKT_PORT};
    pn_sockaddr remote = {PKT_REMOTE_IP, PKT_PORT};
    static uint8_t buf[1 << 20];

    if (strcmp(nm, "socket") == 0) {
        if (k->nargs != 3) {
            failf(r, e, "socket() takes 3 arguments");
            return;
        }
        int fd = alloc_fd(r);
        int udp = strstr(k->args[1], "SOCK_DGRAM") != NULL;
        int h = udp ? pn_udp_open(r->s) : pn_tcp_open(r->s);
        if (h < 0 || fd < 0) {
            seterr(c, h < 0 ? h : PN_EMFILE);
            return;
        }
        pkt_fd *n = &r->fd[fd];
        memset(n, 0, sizeof(*n));
        n->used = 1;
        n->kind = udp ? PKT_UDP : PKT_TCP;
        n->h = h;
        n->nonblock = strstr(k->args[1], "SOCK_NONBLOCK") != NULL;
        c->ret = fd;
        return;
    }
    if (f == NULL) {
        seterr(c, PN_EBADF);
        return;
    }
    pn_sock_status_t ss;
    int rc;
    if (strcmp(nm, "bind") == 0) {
        rc = f->kind == PKT_UDP ? pn_udp_bind(r->s, f->h, &local) : pn_tcp_bind(r->s, f->h, &local);
        if (rc < 0) {
            seterr(c, rc);
            return;
        }
        f->bound = 1;
        if (f->kind == PKT_UDP) {
            r->udp_lport = PKT_PORT;
        } else {
            r->lport = PKT_PORT;
            r->lport_known = 1;
        }
        c->ret = 0;
    } else if (strcmp(nm, "listen") == 0) {
        long bl = k->nargs > 1 ? strtol(k->args[1], NULL, 0) : 1;
        rc = pn_tcp_listen(r->s, f->h, (int)bl);
        if (rc < 0) {
            seterr(c, rc);
            return;
        }
        r->rport = PKT_REMOTE_PORT;
        c->ret = 0;
    } else if (strcmp(nm, "accept") == 0) {
        pn_sockaddr peer;
        memset(&peer, 0, sizeof(peer));
        rc = pn_tcp_accept(r->s, f->h, &peer);
        if (rc == PN_EAGAIN && blocking(f)) {
            c->block = 1;
            return;
        }
        if (rc < 0) {
            seterr(c, rc);
            return;
        }
        int fd = alloc_fd(r);
        if (fd < 0) {
            pn_tcp_abort(r->s, rc, r->now);
            seterr(c, PN_EMFILE);
            return;
        }
        pkt_fd *n = &r->fd[fd];
        memset(n, 0, sizeof(*n));
        n->used = 1;
        n->kind = PKT_TCP;
        n->h = rc;
        pn_ip4 re = PKT_REMOTE_IP;
        int known = peer.port == r->rport;
        for (int i = 0; i < r->nports; i++)
            known |= peer.port == r->ports[i];
        if (memcmp(peer.addr.b, re.b, 4) != 0 || !known) {
            char a[16];
            snprintf(c->note, sizeof(c->note), "accept() peer is %s:%u, expected 192.0.2.1:%u", ipstr(peer.addr.b, a),
                     peer.port, r->rport);
        }
        c->ret = fd;
    } else if (strcmp(nm, "connect") == 0) {
        if (f->kind == PKT_UDP) {
            r->udp_rport = PKT_PORT;
            c->ret = 0;
            return;
        }
        if (retry || f->connecting) {
            pn_sock_status(r->s, f->h, &ss);
            if (ss.connected) {
                f->connecting = 0;
                c->ret = retry ? 0 : -1;
                if (!retry)
                    seterr(c, PN_EISCONN);
                return;
            }
            if (ss.pending_error) {
                f->connecting = 0;
                seterr(c, ss.pending_error);
                return;
            }
            if (retry) {
                c->block = 1;
                return;
            }
            seterr(c, PN_EALREADY);
            return;
        }
        r->rport = PKT_PORT;
        if (!f->bound)
            r->lport_known = 0;
        rc = pn_tcp_connect(r->s, f->h, &remote, r->now);
        if (rc == PN_EINPROGRESS || rc == 0) {
            f->connecting = 1;
            if (blocking(f)) {
                c->block = 1;
                return;
            }
            seterr(c, PN_EINPROGRESS);
            return;
        }
        seterr(c, rc);
    } else if (strcmp(nm, "read") == 0 || strcmp(nm, "recv") == 0 || strcmp(nm, "recvfrom") == 0) {
        if (k->nargs < 3) {
            failf(r, e, "%s() needs (fd, buf, count)", nm);
            return;
        }
        long cnt = strtol(k->args[2], NULL, 0);
        if (cnt < 0 || cnt > (long)sizeof(buf))
            cnt = sizeof(buf);
        if (f->kind == PKT_UDP) {
            pn_sockaddr from;
            rc = pn_udp_recvfrom(r->s, f->h, buf, (size_t)cnt, &from);
        } else {
            rc = pn_tcp_recv(r->s, f->h, buf, (size_t)cnt, r->now);
        }
        if (rc == PN_EAGAIN && blocking(f)) {
            c->block = 1;
            return;
        }
        if (rc < 0) {
            seterr(c, rc);
            return;
        }
        uint32_t base = f->kind == PKT_TCP ? f->rd : 0;
        for (int i = 0; i < rc; i++)
            if (buf[i] != pkt_pattern(base + (uint32_t)i)) {
                snprintf(c->note, sizeof(c->note),
                         "data read differs from what was sent: byte %d (stream offset %u) is 0x%02x, not 0x%02x", i,
                         base + (uint32_t)i, buf[i], pkt_pattern(base + (uint32_t)i));
                break;
            }
        if (f->kind == PKT_TCP)
            f->rd += (uint32_t)rc;
        c->ret = rc;
    } else if (strcmp(nm, "write") == 0 || strcmp(nm, "send") == 0 || strcmp(nm, "sendto") == 0) {
        if (k->nargs < 3) {
            failf(r, e, "%s() needs (fd, buf, count)", nm);
            return;
        }
        long cnt = strtol(k->args[2], NULL, 0);
        if (cnt < 0 || cnt > (long)sizeof(buf)) {
            seterr(c, PN_EINVAL);
            return;
        }
        if (f->kind == PKT_UDP) {
            for (long i = 0; i < cnt; i++)
                buf[i] = pkt_pattern((uint32_t)i);
            pn_sockaddr to = {PKT_REMOTE_IP, r->udp_rport};
            rc = pn_udp_sendto(r->s, f->h, buf, (size_t)cnt, &to, r->now);
            if (rc < 0)
                seterr(c, rc);
            else
                c->ret = rc;
            return;
        }
        uint32_t done = retry ? r->pend_done : 0;
        for (long i = done; i < cnt; i++)
            buf[i] = pkt_pattern(f->wr + (uint32_t)(i - (long)done));
        rc = pn_tcp_send(r->s, f->h, buf + done, (size_t)(cnt - (long)done), r->now);
        if (rc == PN_EAGAIN || rc == PN_ENOBUFS)
            rc = 0;
        if (rc < 0) {
            if (done > 0) {
                c->ret = done;
                return;
            }
            seterr(c, rc);
            return;
        }
        f->wr += (uint32_t)rc;
        done += (uint32_t)rc;
        if (done < (uint32_t)cnt) {
            if (blocking(f)) {
                r->pend_done = done;
                c->block = 1;
                return;
            }
            if (done == 0) {
                seterr(c, PN_EAGAIN);
                return;
            }
        }
        c->ret = done;
    } else if (strcmp(nm, "shutdown") == 0) {
        const char *how = k->nargs > 1 ? k->args[1] : "";
        if (strstr(how, "SHUT_RD") != NULL && strstr(how, "SHUT_RDWR") == NULL) {
            c->ret = 0;
            return;
        }
        rc = pn_tcp_shutdown(r->s, f->h, r->now);
        if (rc < 0)
            seterr(c, rc);
    } else if (strcmp(nm, "close") == 0) {
        rc = f->kind == PKT_UDP ? pn_udp_close(r->s, f->h) : pn_tcp_close(r->s, f->h, r->now);
        f->used = 0;
        if (rc < 0)
            seterr(c, rc);
    } else if (strcmp(nm, "setsockopt") == 0 || strcmp(nm, "getsockopt") == 0) {
        if (k->nargs != 5) {
            failf(r, e, "%s() takes 5 arguments", nm);
            return;
        }
        int get = nm[0] == 'g';
        if (get && strcmp(k->args[2], "SO_ERROR") == 0) {
            long want = 0;
            bracket_int(k->args[3], &want);
            int have = 0;
            if (f->kind == PKT_TCP && pn_sock_status(r->s, f->h, &ss) == 0)
                have = ss.pending_error;
            /* POSIX: reading SO_ERROR clears it; purenet's error is sticky,
             * so report each error once. */
            if (have != 0 && have == f->err_seen)
                have = 0;
            else if (have != 0)
                f->err_seen = have;
            if (have != (int)want)
                snprintf(c->note, sizeof(c->note), "SO_ERROR is %s, expected %s", have ? pkt_errname(have) : "0",
                         want ? pkt_errname((int)want) : "0");
            c->ret = 0;
            return;
        }
        int opt;
        if (sockopt(k->args[1], k->args[2], &opt)) {
            failf(r, e, "the runner does not know option %s", k->args[2]);
            return;
        }
        long v = 0;
        if (strcmp(k->args[2], "SO_LINGER") == 0) {
            const char *on = strstr(k->args[3], "onoff");
            const char *lg = strstr(k->args[3], "linger");
            long onv = on ? strtol(strchr(on, '=') + 1, NULL, 0) : 0;
            long lgv = lg && strchr(lg, '=') ? strtol(strchr(lg, '=') + 1, NULL, 0) : 1;
            v = onv && lgv == 0;
        } else if (bracket_int(k->args[3], &v)) {
            failf(r, e, "option value must be [N]");
            return;
        }
        if (f->kind == PKT_UDP) {
            c->ret = 0; /* UDP sockets take no options in purenet */
            return;
        }
        if (!get) {
            rc = pn_tcp_setopt(r->s, f->h, opt, (int)v);
            if (rc < 0)
                seterr(c, rc);
            return;
        }
        int have = 0;
        rc = pn_tcp_getopt(r->s, f->h, opt, &have);
        if (rc < 0) {
            seterr(c, rc);
            return;
        }
        if (have != v)
            snprintf(c->note, sizeof(c->note), "%s is %d, expected %ld", k->args[2], have, v);
    } else if (strcmp(nm, "fcntl") == 0) {
        if (k->nargs >= 2 && strcmp(k->args[1], "F_GETFL") == 0) {
            c->ret = 2 | (f->nonblock ? 0x800 : 0);
            return;
        }
        if (k->nargs >= 3 && strcmp(k->args[1], "F_SETFL") == 0) {
            f->nonblock = strstr(k->args[2], "O_NONBLOCK") != NULL || (strtol(k->args[2], NULL, 0) & 0x800);
            c->ret = 0;
            return;
        }
        failf(r, e, "fcntl: only F_GETFL and F_SETFL");
    } else if (strcmp(nm, "ioctl") == 0) {
        long want;
        if (k->nargs != 3 || bracket_int(k->args[2], &want)) {
            failf(r, e, "ioctl(fd, SIOCINQ|SIOCOUTQ|FIONREAD, [N])");
            return;
        }
        if (pn_sock_status(r->s, f->h, &ss) < 0) {
            seterr(c, PN_EBADF);
            return;
        }
        long have = strcmp(k->args[1], "SIOCOUTQ") == 0 ? (long)(ss.unsent + ss.unacked) : (long)ss.readable;
        if (have != want)
            snprintf(c->note, sizeof(c->note), "%s is %ld, expected %ld", k->args[1], have, want);
    } else {
        failf(r, e, "the runner does not support %s()", nm);
    }
}

static int
check_result(pkt_run *r, const pkt_event *e, const cres *c, int64_t t_ret)
{
    const pkt_call *k = &e->call;
    int bad = c->ret != k->ret || (k->ret < 0 && strcmp(c->err, k->err) != 0 &&
                                   !(strcmp(k->err, "EWOULDBLOCK") == 0 && strcmp(c->err, "EAGAIN") == 0));
    int64_t tol = r->sc->tolerance_us;
    int late = e->range && (t_ret > r->pend_end + tol || t_ret < r->pend_end - tol);
    if (!bad && !late && c->note[0] == '\0')
        return 0;
    failf(r, e, "%s() result differs", k->name);
    char x[64], y[64];
    msgf(r, "  %-14s %-30s %-30s\n", "field", "expected", "actual");
    snprintf(x, sizeof(x), "%lld%s%s", (long long)k->ret, k->ret < 0 ? " " : "", k->ret < 0 ? k->err : "");
    snprintf(y, sizeof(y), "%lld%s%s", (long long)c->ret, c->ret < 0 ? " " : "", c->ret < 0 ? c->err : "");
    msgf(r, "  %-14s %-30s %-30s%s\n", "result", x, y, bad ? "  <-- differs" : "");
    if (e->range) {
        snprintf(x, sizeof(x), "%.6f (+-%.6f)", sec(r->pend_end), sec(tol));
        snprintf(y, sizeof(y), "%.6f", sec(t_ret));
        msgf(r, "  %-14s %-30s %-30s%s\n", "return time", x, y, late ? "  <-- differs" : "");
    }
    if (c->note[0])
        msgf(r, "  %s\n", c->note);
    return -1;
}

static void
try_pending(pkt_run *r)
{
    if (r->pend < 0 || r->failed)
        return;
    pkt_event *e = &r->sc->ev[r->pend];
    cres c;
    exec_call(r, e, &c, 1);
    if (c.block)
        return;
    int idx = r->pend;
    (void)idx;
    drain(r);
    check_result(r, e, &c, st(r));
    r->pend = -1;
    if (r->verbose)
        fprintf(stderr, "  %10.6f  ret  %s = %lld %s\n", sec(st(r)), e->call.name, (long long)c.ret, c.err);
}

/* ---- the event loop ----------------------------------------------------- */

static int
unexpected(pkt_run *r, const pkt_event *next)
{
    if (r->qn == 0)
        return 0;
    pkt_out *o = &r->q[r->qh];
    char s[400];
    summary(r, o->d, o->len, s, sizeof(s));
    uint64_t now = r->now;
    r->now = o->t;
    if (next)
        failf(r, next, "the stack sent a packet the script does not expect before this line");
    else
        failf(r, NULL, "the stack sent a packet the script does not expect");
    r->now = now;
    msgf(r, "  unexpected: %s (sent at %.6f)\n", s, sec((int64_t)(o->t - PKT_EPOCH_US)));
    return -1;
}

static int
inject(pkt_run *r, const pkt_event *e)
{
    static uint8_t b[70000];
    if (e->pkt.proto == PKT_TCP && e->pkt.sport >= 0 && r->nports < 8)
        r->ports[r->nports++] = (uint16_t)e->pkt.sport;
    size_t n = pkt_build(r, &e->pkt, 1, ++r->ipid, b, sizeof(b));
    if (n == 0)
        return failf(r, e, "cannot build this packet (too large or bad fragment range)");
    memcpy(r->last_in, b, n < sizeof(r->last_in) ? n : sizeof(r->last_in));
    r->last_in_len = n < sizeof(r->last_in) ? n : sizeof(r->last_in);
    int rc = pn_inject_raw(r->s, b, n, r->now);
    if (r->verbose)
        fprintf(stderr, "  %10.6f  in   %s (inject %d)\n", sec(st(r)), e->text, rc);
    if (rc < 0)
        return failf(r, e, "pn_inject_raw refused the %zu-byte packet: %s", n, pkt_errname(rc));
    drain(r);
    try_pending(r);
    return 0;
}

static int
expect_out(pkt_run *r, const pkt_event *e, int64_t t_exp, int64_t *t_act)
{
    int64_t tol = r->sc->tolerance_us;
    uint64_t lim = e->tkind == PKT_T_ANY ? r->now + 600000000ull : PKT_EPOCH_US + (uint64_t)(t_exp + tol);
    if (e->range)
        lim = PKT_EPOCH_US + (uint64_t)(e->t_end + tol);
    while (r->qn == 0 && !r->failed) {
        uint64_t d = pn_next_deadline(r->s);
        if (d == PN_TIME_NEVER || d > lim)
            break;
        if (advance(r, d < r->now ? r->now : d, 0))
            return -1;
    }
    if (r->failed)
        return -1;
    if (r->qn == 0) {
        /* Look a little further to say whether it came late. */
        uint64_t save = r->now;
        uint64_t d = pn_next_deadline(r->s);
        char later[160] = "no timer pending: the stack will not send anything";
        if (d != PN_TIME_NEVER)
            snprintf(later, sizeof(later), "the stack's next timer is at %.6f", sec((int64_t)(d - PKT_EPOCH_US)));
        if (lim > r->now)
            r->now = lim;
        failf(r, e, "expected packet not sent by %.6f (%s)", sec((int64_t)(lim - PKT_EPOCH_US)), later);
        r->now = save;
        char f[12];
        msgf(r, "  expected: %s\n", e->kind == PKT_EV_OUT && e->pkt.proto == PKT_TCP ? pkt_flagstr(e->pkt.flags, f) : "");
        return -1;
    }
    pkt_out *o = &r->q[r->qh];
    *t_act = (int64_t)(o->t - PKT_EPOCH_US);
    /* Build the table in the message buffer; keep it only on mismatch. */
    char *save = strdup(r->msg);
    r->msg[0] = '\0';
    int64_t texp = e->range ? (t_exp + e->t_end) / 2 : t_exp;
    int bad;
    if (e->range) {
        /* a window a~b: pass when inside it */
        int64_t tt = *t_act;
        int in = tt >= t_exp - tol && tt <= e->t_end + tol;
        bad = compare(r, e, o->d, o->len, in ? texp : tt, texp);
        (void)in;
    } else {
        bad = compare(r, e, o->d, o->len, *t_act, e->tkind == PKT_T_ANY ? *t_act : t_exp);
    }
    if (bad) {
        char *tab = strdup(r->msg);
        uint64_t now = r->now;
        r->now = o->t;
        r->msg[0] = '\0';
        failf(r, e, "outbound packet differs from the script (%d field%s)", bad, bad > 1 ? "s" : "");
        r->now = now;
        char s[400];
        summary(r, o->d, o->len, s, sizeof(s));
        msgf(r, "  actual:  %s\n", s);
        msgf(r, "%s", tab);
        free(tab);
        free(save);
        return -1;
    }
    strcpy(r->msg, save);
    free(save);
    pop(r);
    return 0;
}

static int
play(pkt_run *r)
{
    pkt_script *sc = r->sc;
    int64_t base = 0;
    for (int i = 0; i < sc->nev && !r->failed; i++) {
        pkt_event *e = &sc->ev[i];
        int64_t t = e->tkind == PKT_T_REL ? base + e->t : e->tkind == PKT_T_ABS ? e->t : st(r);
        int64_t tend = e->range ? (e->tkind == PKT_T_REL ? base + e->t_end : e->t_end) : t;
        if (e->kind == PKT_EV_OUT) {
            int64_t ta;
            pkt_event ee = *e;
            ee.t_end = tend;
            if (expect_out(r, &ee, t, &ta))
                return -1;
            if (r->verbose)
                fprintf(stderr, "  %10.6f  ok   %s\n", sec(ta), e->text);
            base = ta;
            continue;
        }
        if (t < st(r) && e->tkind != PKT_T_ANY) {
            /* The clock is already past t (a late packet moved it): keep
             * going at the current time, as packetdrill does. */
            t = st(r);
        }
        if (advance(r, PKT_EPOCH_US + (uint64_t)t, 1))
            return -1;
        if (unexpected(r, e))
            return -1;
        if (e->kind == PKT_EV_IN) {
            if (inject(r, e))
                return -1;
        } else {
            if (r->pend >= 0)
                return failf(r, e, "a call while blocking %s() is still in flight", sc->ev[r->pend].call.name);
            cres c;
            r->pend_done = 0;
            exec_call(r, e, &c, 0);
            if (r->failed)
                return -1;
            drain(r);
            if (r->verbose)
                fprintf(stderr, "  %10.6f  call %s%s\n", sec(st(r)), e->text, c.block ? "  (blocks)" : "");
            if (c.block) {
                if (!e->range)
                    return failf(r, e,
                                 "%s() would block on a blocking socket and the line has no time range "
                                 "(use 'a...b' or make the socket non-blocking)",
                                 e->call.name);
                r->pend = i;
                r->pend_end = tend;
            } else {
                r->pend_end = tend;
                if (check_result(r, e, &c, st(r)))
                    return -1;
            }
        }
        base = t;
    }
    if (r->failed)
        return -1;
    if (r->pend >= 0) {
        pkt_event *pe = &sc->ev[r->pend];
        if (advance(r, PKT_EPOCH_US + (uint64_t)(r->pend_end + sc->tolerance_us), 0))
            return -1;
        if (r->pend >= 0)
            return failf(r, pe, "blocking %s() never returned", pe->call.name);
    }
    return unexpected(r, NULL);
}

int
pkt_run_text(const char *name, const char *text, pkt_result *res, int verbose)
{
    memset(res, 0, sizeof(*res));
    pkt_script sc;
    if (pkt_parse(name, text, &sc, res->msg, sizeof(res->msg))) {
        pkt_script_free(&sc);
        res->status = PKT_ERROR;
        return res->status;
    }
    pkt_run *r = calloc(1, sizeof(*r));
    if (r == NULL)
        abort();
    r->sc = &sc;
    r->verbose = verbose;
    r->msg = res->msg;
    r->cap = sizeof(res->msg);
    r->pend = -1;
    r->risn = PKT_REMOTE_ISN;
    r->udp_lport = 0;
    r->udp_rport = PKT_REMOTE_PORT;
    r->lport = PKT_PORT;
    r->rport = PKT_REMOTE_PORT;
    r->now = PKT_EPOCH_US;
    int err = 0;
    size_t need = pn_arena_size(&sc.cfg);
    if (need == 0) {
        snprintf(res->msg, sizeof(res->msg), "%s: the profile gives an invalid pn_config", name);
        res->status = PKT_ERROR;
        free(r);
        pkt_script_free(&sc);
        return res->status;
    }
    r->arena = aligned_alloc(PN_ARENA_ALIGN, (need + PN_ARENA_ALIGN - 1) & ~(size_t)(PN_ARENA_ALIGN - 1));
    r->s = pn_stack_new(r->arena, need, &sc.cfg, &err);
    if (r->s == NULL) {
        snprintf(res->msg, sizeof(res->msg), "%s: pn_stack_new failed: %s", name, pn_strerror(err));
        res->status = PKT_ERROR;
    } else {
        if (verbose)
            fprintf(stderr, "%s (profile %s)\n", name, sc.profile);
        play(r);
        res->fail_line = r->fail_line;
        if (sc.xfail[0])
            res->status = r->failed ? PKT_XFAIL : PKT_XPASS;
        else
            res->status = r->failed ? PKT_FAIL : PKT_PASS;
        if (!r->failed)
            res->msg[0] = '\0';
        if (res->status == PKT_XFAIL) {
            size_t u = strlen(res->msg);
            snprintf(res->msg + u, sizeof(res->msg) - u, "  (expected failure: %s)\n", sc.xfail);
        }
    }
    while (r->qn > 0)
        pop(r);
    free(r->arena);
    free(r);
    pkt_script_free(&sc);
    return res->status;
}

int
pkt_run_file(const char *path, pkt_result *res, int verbose)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        memset(res, 0, sizeof(*res));
        snprintf(res->msg, sizeof(res->msg), "%s: %s", path, strerror(errno));
        res->status = PKT_ERROR;
        return res->status;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    if (t == NULL)
        abort();
    size_t got = fread(t, 1, (size_t)n, f);
    t[got] = '\0';
    fclose(f);
    int rc = pkt_run_text(path, t, res, verbose);
    free(t);
    return rc;
}

/* ---- listing ------------------------------------------------------------ */

static void
walk(const char *dir, char ***v, int *n, int *cap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *p = malloc(len);
        if (p == NULL)
            abort();
        snprintf(p, len, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            walk(p, v, n, cap);
            free(p);
            continue;
        }
        size_t nl = strlen(de->d_name);
        if (nl > 4 && strcmp(de->d_name + nl - 4, ".pkt") == 0) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                *v = realloc(*v, (size_t)*cap * sizeof(char *));
                if (*v == NULL)
                    abort();
            }
            (*v)[(*n)++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int
cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
pkt_list(const char *dir, int *n)
{
    char **v = NULL;
    int cap = 0;
    *n = 0;
    walk(dir, &v, n, &cap);
    if (*n > 1)
        qsort(v, (size_t)*n, sizeof(char *), cmpstr);
    return v;
}

void
pkt_list_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
