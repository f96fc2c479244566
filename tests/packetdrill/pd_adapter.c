/*
 * pd_adapter.c -- purenet behind packetdrill's shared-object interface.
 *
 *   packetdrill --so_filename=build/purenet_packetdrill.so \
 *       --so_flags=local=192.168.0.1,profile=linux \
 *       --local_ip=192.168.0.1 --remote_ip=192.0.2.1 script.pkt
 *
 * Written from ../shared/packetdrill-so.md; no packetdrill code here.
 *
 * IMPLEMENTATION NOTES
 * - One instance per packetdrill_interface_init, all state behind
 *   userdata (no static mutable data), one mutex around every call:
 *   packetdrill calls in from two threads when a script line blocks.
 * - The virtual clock vnow (µs) only moves in advance(): in usleep, in
 *   gettimeofday (by one tick, so packetdrill's spin loops end) and in
 *   netdev_receive when it waits for a timer to send something. advance()
 *   polls every stack deadline on the way and drains what the stack sends
 *   into a FIFO stamped with the time it left.
 * - Blocking calls (a socket without O_NONBLOCK whose call would return
 *   EAGAIN) sleep on a condition variable, off the main thread only. After
 *   every inject and advance step the main thread re-checks them; one that
 *   can now proceed is counted in `woken`, and the clock does not move on
 *   until that thread has read the time (its next gettimeofday), so the
 *   call's return time is the time of the packet that woke it (2.5).
 * - Each socket reserves a real descriptor (/dev/null) whose number is the
 *   handle packetdrill sees, so its own close() at teardown is harmless.
 * - Flags (comma-separated --so_flags): local=A.B.C.D (default
 *   192.168.0.1), mtu=N, profile=rfc|linux|freebsd, key=HEX32,
 *   idle_cap_s=N (default 120), tick_us=N (default 1), strict_tail, and
 *   every knob of the vector header line "// purenet:" (rto_min=200ms,
 *   delack=off, sack=0, ...; see vectors/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "../pkt/pkt.h"
#include "pd_interface.h"
#include "purenet.h"

#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

#define PD_MAXSOCK 64
#define PD_QCAP 1024
#define PD_EPOCH_US 1000000000000ull /* a fixed, nonzero start */

enum { K_TCP = 1, K_UDP = 2 };
enum { W_READ = 1, W_WRITE, W_ACCEPT, W_CONNECT };

typedef struct pd_sock {
    int used;
    int realfd;      /* placeholder descriptor = the handle */
    int kind;
    int h;           /* purenet handle */
    int nonblock;
    int err_seen;
    int connecting;
    pn_sockaddr peer; /* UDP connect() target */
    int has_peer;
} pd_sock;

typedef struct pd_pkt {
    uint8_t *d;
    size_t len;
    uint64_t t;
} pd_pkt;

typedef struct pd_waiter {
    struct pd_waiter *next;
    pd_sock *sk;
    int what;
    int ready;
} pd_waiter;

typedef struct pd {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *arena;
    pn_stack *s;
    uint64_t vnow;
    uint32_t tick_us;
    uint32_t idle_cap_s;
    int strict_tail;
    pn_ip4 local;
    pd_pkt q[PD_QCAP];
    int qh, qn;
    pd_sock sk[PD_MAXSOCK];
    pd_waiter *waiters;
    int woken;             /* satisfied waiters that have not read the time */
    pthread_t main_thread; /* the thread that calls netdev_* */
    int main_known;
    int blocked_calls;
} pd;

/* A thread that returned from a blocking call and must still take its
 * return time. Thread-local: not shared state. */
static _Thread_local pd *tl_returned;

/* ---- errors ----------------------------------------------------------- */

static int
pn2errno(int e)
{
    switch (e) {
    case PN_EINVAL: return EINVAL;
    case PN_ENOMEM: return ENOMEM;
    case PN_ENOBUFS: return ENOBUFS;
    case PN_EAGAIN: return EAGAIN;
    case PN_EMSGSIZE: return EMSGSIZE;
    case PN_EHOSTUNREACH: return EHOSTUNREACH;
    case PN_ENETUNREACH: return ENETUNREACH;
    case PN_EADDRINUSE: return EADDRINUSE;
    case PN_EADDRNOTAVAIL: return EADDRNOTAVAIL;
    case PN_EBADF: return EBADF;
    case PN_EMFILE: return EMFILE;
    case PN_ENOTCONN: return ENOTCONN;
    case PN_EISCONN: return EISCONN;
    case PN_ECONNREFUSED: return ECONNREFUSED;
    case PN_ECONNRESET: return ECONNRESET;
    case PN_ECONNABORTED: return ECONNABORTED;
    case PN_ETIMEDOUT: return ETIMEDOUT;
    case PN_EPIPE: return EPIPE;
    case PN_EALREADY: return EALREADY;
    case PN_EINPROGRESS: return EINPROGRESS;
    case PN_EOPNOTSUPP: return EOPNOTSUPP;
    case PN_ENOPROTOOPT: return ENOPROTOOPT;
    default: return EIO;
    }
}

static int
fail_errno(int e)
{
    errno = e;
    return -1;
}

/* ---- clock, queue, waiters (mutex held) -------------------------------- */

static void
drain(pd *p)
{
    static _Thread_local uint8_t buf[70000];
    for (;;) {
        int n = pn_drain_raw(p->s, buf, sizeof(buf));
        if (n <= 0)
            return;
        if (p->qn == PD_QCAP) {
            fprintf(stderr, "purenet-pd: more than %d packets unread; dropping\n", PD_QCAP);
            continue;
        }
        pd_pkt *k = &p->q[(p->qh + p->qn) % PD_QCAP];
        k->d = malloc((size_t)n);
        if (k->d == NULL)
            abort();
        memcpy(k->d, buf, (size_t)n);
        k->len = (size_t)n;
        k->t = p->vnow;
        p->qn++;
    }
}

static int
cond_ready(pd *p, pd_sock *sk, int what)
{
    pn_sock_status_t st;
    if (sk->kind == K_UDP) {
        if (what != W_READ)
            return 1;
        return pn_sock_status(p->s, sk->h, &st) < 0 || st.readable > 0;
    }
    if (pn_sock_status(p->s, sk->h, &st) < 0)
        return 1;
    if (st.pending_error)
        return 1;
    switch (what) {
    case W_READ: return st.readable > 0 || st.eof;
    case W_WRITE: return st.writable > 0;
    case W_ACCEPT: return st.accept_queue > 0;
    case W_CONNECT: return st.connected;
    }
    return 1;
}

static void
check_waiters(pd *p)
{
    int any = 0;
    for (pd_waiter *w = p->waiters; w != NULL; w = w->next)
        if (!w->ready && cond_ready(p, w->sk, w->what)) {
            w->ready = 1;
            p->woken++;
            any = 1;
        }
    if (any)
        pthread_cond_broadcast(&p->cv);
}

/* Wait (bounded, real time) until woken threads have taken their time. */
static void
settle(pd *p)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 2;
    while (p->woken > 0)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) != 0) {
            fprintf(stderr, "purenet-pd: a woken blocking call did not read the time within 2 s\n");
            p->woken = 0;
            break;
        }
}

static void
advance(pd *p, uint64_t t)
{
    settle(p);
    for (int guard = 0; guard < 1000000; guard++) {
        uint64_t d = pn_next_deadline(p->s);
        if (d == PN_TIME_NEVER || d > t)
            break;
        if (d > p->vnow)
            p->vnow = d;
        pn_poll(p->s, p->vnow);
        drain(p);
        check_waiters(p);
        settle(p);
    }
    if (t > p->vnow)
        p->vnow = t;
}

static int
on_main(pd *p)
{
    return p->main_known && pthread_equal(p->main_thread, pthread_self());
}

/* Sleep until sk satisfies `what`. Returns 0, or -1 (errno set) when this
 * would deadlock (the main thread must never block). */
static int
block(pd *p, pd_sock *sk, int what)
{
    if (on_main(p) || !p->main_known) {
        fprintf(stderr,
                "purenet-pd: a blocking call would block the thread that injects packets "
                "(use a time range a...b in the script, or O_NONBLOCK)\n");
        return fail_errno(EDEADLK);
    }
    pd_waiter w = {p->waiters, sk, what, 0};
    p->waiters = &w;
    p->blocked_calls++;
    while (!w.ready)
        pthread_cond_wait(&p->cv, &p->mu);
    pd_waiter **pp = &p->waiters;
    while (*pp != &w)
        pp = &(*pp)->next;
    *pp = w.next;
    p->blocked_calls--;
    tl_returned = p; /* woken: counted until this thread reads the time */
    return 0;
}

/* After a call that may have changed what can proceed. */
static void
after_call(pd *p)
{
    drain(p);
    check_waiters(p);
}

static pd_sock *
getsk(pd *p, int fd)
{
    for (int i = 0; i < PD_MAXSOCK; i++)
        if (p->sk[i].used && p->sk[i].realfd == fd)
            return &p->sk[i];
    return NULL;
}

static pd_sock *
newsk(pd *p)
{
    for (int i = 0; i < PD_MAXSOCK; i++)
        if (!p->sk[i].used) {
            int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return NULL;
            memset(&p->sk[i], 0, sizeof(p->sk[i]));
            p->sk[i].used = 1;
            p->sk[i].realfd = fd;
            return &p->sk[i];
        }
    return NULL;
}

static void
freesk(pd_sock *sk)
{
    close(sk->realfd);
    sk->used = 0;
}

static int
to_pn(const struct sockaddr *a, socklen_t alen, pn_sockaddr *out)
{
    if (a == NULL || alen < (socklen_t)sizeof(struct sockaddr_in) || a->sa_family != AF_INET)
        return -1;
    struct sockaddr_in sin;
    memcpy(&sin, a, sizeof(sin));
    memcpy(out->addr.b, &sin.sin_addr, 4);
    out->port = ntohs(sin.sin_port);
    return 0;
}

static void
from_pn(const pn_sockaddr *in, struct sockaddr *a, socklen_t *alen)
{
    if (a == NULL || alen == NULL)
        return;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(in->port);
    memcpy(&sin.sin_addr, in->addr.b, 4);
    size_t n = *alen < sizeof(sin) ? *alen : sizeof(sin);
    memcpy(a, &sin, n);
    *alen = sizeof(sin);
}

#define LOCK(p) pthread_mutex_lock(&(p)->mu)
#define UNLOCK(p) pthread_mutex_unlock(&(p)->mu)

/* ---- the table ---------------------------------------------------------- */

static void
pd_free(void *ud)
{
    pd *p = ud;
    if (p->strict_tail && p->qn > 0)
        fprintf(stderr, "purenet-pd: %d packet(s) sent after the script's last '>' line\n", p->qn);
    while (p->qn > 0) {
        free(p->q[p->qh].d);
        p->qh = (p->qh + 1) % PD_QCAP;
        p->qn--;
    }
    for (int i = 0; i < PD_MAXSOCK; i++)
        if (p->sk[i].used)
            freesk(&p->sk[i]);
    free(p->arena);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    /* packetdrill frees userdata itself after this call (2.1). */
}

static int
pd_socket(void *ud, int domain, int type, int protocol)
{
    pd *p = ud;
    (void)protocol;
    if (domain != AF_INET)
        return fail_errno(EAFNOSUPPORT);
    LOCK(p);
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int h = base == SOCK_DGRAM ? pn_udp_open(p->s) : base == SOCK_STREAM ? pn_tcp_open(p->s) : PN_EINVAL;
    pd_sock *sk = h >= 0 ? newsk(p) : NULL;
    if (sk == NULL) {
        if (h >= 0)
            base == SOCK_DGRAM ? pn_udp_close(p->s, h) : pn_tcp_abort(p->s, h, p->vnow);
        UNLOCK(p);
        return fail_errno(h < 0 ? pn2errno(h) : EMFILE);
    }
    sk->kind = base == SOCK_DGRAM ? K_UDP : K_TCP;
    sk->h = h;
    sk->nonblock = (type & SOCK_NONBLOCK) != 0;
    int fd = sk->realfd;
    UNLOCK(p);
    return fd;
}

static int
pd_bind(void *ud, int fd, const struct sockaddr *a, socklen_t alen)
{
    pd *p = ud;
    pn_sockaddr sa;
    if (to_pn(a, alen, &sa))
        return fail_errno(EINVAL);
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc = sk == NULL ? PN_EBADF : sk->kind == K_UDP ? pn_udp_bind(p->s, sk->h, &sa) : pn_tcp_bind(p->s, sk->h, &sa);
    UNLOCK(p);
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

static int
pd_listen(void *ud, int fd, int backlog)
{
    pd *p = ud;
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc = sk == NULL ? PN_EBADF : sk->kind != K_TCP ? PN_EOPNOTSUPP : pn_tcp_listen(p->s, sk->h, backlog);
    UNLOCK(p);
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

static int
pd_accept(void *ud, int fd, struct sockaddr *a, socklen_t *alen)
{
    pd *p = ud;
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc;
    pn_sockaddr peer;
    for (;;) {
        rc = sk == NULL ? PN_EBADF : pn_tcp_accept(p->s, sk->h, &peer);
        if (rc != PN_EAGAIN || sk->nonblock)
            break;
        if (block(p, sk, W_ACCEPT)) {
            UNLOCK(p);
            return -1;
        }
    }
    if (rc < 0) {
        UNLOCK(p);
        return fail_errno(pn2errno(rc));
    }
    pd_sock *n = newsk(p);
    if (n == NULL) {
        pn_tcp_abort(p->s, rc, p->vnow);
        after_call(p);
        UNLOCK(p);
        return fail_errno(EMFILE);
    }
    n->kind = K_TCP;
    n->h = rc;
    from_pn(&peer, a, alen);
    int nfd = n->realfd;
    after_call(p);
    UNLOCK(p);
    return nfd;
}

static int
pd_connect(void *ud, int fd, const struct sockaddr *a, socklen_t alen)
{
    pd *p = ud;
    pn_sockaddr to;
    if (to_pn(a, alen, &to))
        return fail_errno(EAFNOSUPPORT);
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    if (sk == NULL) {
        UNLOCK(p);
        return fail_errno(EBADF);
    }
    if (sk->kind == K_UDP) {
        sk->peer = to;
        sk->has_peer = 1;
        UNLOCK(p);
        return 0;
    }
    int rc = pn_tcp_connect(p->s, sk->h, &to, p->vnow);
    after_call(p);
    if (rc == PN_EINPROGRESS || rc == 0) {
        if (sk->nonblock) {
            UNLOCK(p);
            return fail_errno(EINPROGRESS);
        }
        if (block(p, sk, W_CONNECT)) {
            UNLOCK(p);
            return -1;
        }
        pn_sock_status_t st;
        pn_sock_status(p->s, sk->h, &st);
        UNLOCK(p);
        if (st.pending_error) {
            sk->err_seen = st.pending_error;
            return fail_errno(pn2errno(st.pending_error));
        }
        return 0;
    }
    UNLOCK(p);
    return fail_errno(pn2errno(rc));
}

static ssize_t
do_recv(pd *p, int fd, void *buf, size_t n, struct sockaddr *a, socklen_t *alen)
{
    static _Thread_local uint8_t scratch[65536];
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc;
    if (buf == NULL && n > 0) {
        UNLOCK(p);
        return fail_errno(EFAULT);
    }
    if (n > sizeof(scratch))
        n = sizeof(scratch);
    for (;;) {
        pn_sockaddr from;
        if (sk == NULL)
            rc = PN_EBADF;
        else if (sk->kind == K_UDP)
            rc = pn_udp_recvfrom(p->s, sk->h, scratch, n, &from);
        else
            rc = pn_tcp_recv(p->s, sk->h, scratch, n, p->vnow);
        if (rc >= 0 && sk->kind == K_UDP)
            from_pn(&from, a, alen);
        if (rc != PN_EAGAIN || sk->nonblock)
            break;
        if (block(p, sk, W_READ)) {
            UNLOCK(p);
            return -1;
        }
    }
    after_call(p);
    UNLOCK(p);
    if (rc < 0)
        return fail_errno(pn2errno(rc));
    memcpy(buf, scratch, (size_t)rc);
    return rc;
}

static ssize_t
pd_read(void *ud, int fd, void *buf, size_t n)
{
    return do_recv(ud, fd, buf, n, NULL, NULL);
}

static ssize_t
pd_recv(void *ud, int fd, void *buf, size_t n, int flags)
{
    (void)flags;
    return do_recv(ud, fd, buf, n, NULL, NULL);
}

static ssize_t
pd_recvfrom(void *ud, int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *alen)
{
    (void)flags;
    return do_recv(ud, fd, buf, n, a, alen);
}

static ssize_t
pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
    if (iovcnt < 1)
        return fail_errno(EINVAL);
    return do_recv(ud, fd, iov[0].iov_base, iov[0].iov_len, NULL, NULL);
}

static ssize_t
pd_recvmsg(void *ud, int fd, struct msghdr *m, int flags)
{
    (void)flags;
    if (m == NULL || m->msg_iovlen < 1)
        return fail_errno(EINVAL);
    m->msg_flags = 0;
    m->msg_controllen = 0;
    socklen_t nl = m->msg_namelen;
    ssize_t r = do_recv(ud, fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len, m->msg_name, &nl);
    m->msg_namelen = nl;
    return r;
}

static ssize_t
do_send(pd *p, int fd, const void *buf, size_t n, const struct sockaddr *a, socklen_t alen)
{
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    if (sk == NULL) {
        UNLOCK(p);
        return fail_errno(EBADF);
    }
    if (buf == NULL && n > 0) {
        UNLOCK(p);
        return fail_errno(EFAULT);
    }
    if (sk->kind == K_UDP) {
        pn_sockaddr to = sk->peer;
        if (a != NULL && to_pn(a, alen, &to)) {
            UNLOCK(p);
            return fail_errno(EINVAL);
        }
        if (a == NULL && !sk->has_peer) {
            UNLOCK(p);
            return fail_errno(EDESTADDRREQ);
        }
        int rc = pn_udp_sendto(p->s, sk->h, buf, n, &to, p->vnow);
        after_call(p);
        UNLOCK(p);
        return rc < 0 ? fail_errno(pn2errno(rc)) : rc;
    }
    size_t done = 0;
    int rc = 0;
    for (;;) {
        rc = pn_tcp_send(p->s, sk->h, (const uint8_t *)buf + done, n - done, p->vnow);
        after_call(p);
        if (rc > 0)
            done += (size_t)rc;
        if (rc < 0 && rc != PN_EAGAIN && rc != PN_ENOBUFS)
            break;
        if (done == n || sk->nonblock)
            break;
        if (block(p, sk, W_WRITE)) {
            UNLOCK(p);
            return done > 0 ? (ssize_t)done : -1;
        }
    }
    UNLOCK(p);
    if (done > 0)
        return (ssize_t)done;
    if (rc == PN_ENOBUFS)
        rc = PN_EAGAIN;
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

static ssize_t
pd_write(void *ud, int fd, const void *buf, size_t n)
{
    return do_send(ud, fd, buf, n, NULL, 0);
}

static ssize_t
pd_send(void *ud, int fd, const void *buf, size_t n, int flags)
{
    (void)flags;
    return do_send(ud, fd, buf, n, NULL, 0);
}

static ssize_t
pd_sendto(void *ud, int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t alen)
{
    (void)flags;
    return do_send(ud, fd, buf, n, a, alen);
}

static ssize_t
pd_writev(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
    size_t tot = 0;
    for (int i = 0; i < iovcnt; i++)
        tot += iov[i].iov_len;
    uint8_t *b = malloc(tot ? tot : 1);
    if (b == NULL)
        return fail_errno(ENOMEM);
    size_t o = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len)
            memcpy(b + o, iov[i].iov_base, iov[i].iov_len);
        o += iov[i].iov_len;
    }
    ssize_t r = do_send(ud, fd, b, tot, NULL, 0);
    free(b);
    return r;
}

static ssize_t
pd_sendmsg(void *ud, int fd, const struct msghdr *m, int flags)
{
    (void)flags;
    if (m == NULL)
        return fail_errno(EINVAL);
    if (m->msg_name != NULL) {
        if (m->msg_iovlen != 1)
            return fail_errno(EOPNOTSUPP);
        return do_send(ud, fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len, m->msg_name, m->msg_namelen);
    }
    return pd_writev(ud, fd, m->msg_iov, (int)m->msg_iovlen);
}

static int
pd_fcntl(void *ud, int fd, int cmd, ...)
{
    pd *p = ud;
    int arg = 0;
    if (cmd == F_SETFL) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int r;
    if (sk == NULL)
        r = fail_errno(EBADF);
    else if (cmd == F_GETFL)
        r = O_RDWR | (sk->nonblock ? O_NONBLOCK : 0);
    else if (cmd == F_SETFL) {
        sk->nonblock = (arg & O_NONBLOCK) != 0;
        r = 0;
    } else
        r = fail_errno(EINVAL);
    UNLOCK(p);
    return r;
}

static int
pd_ioctl(void *ud, int fd, unsigned long req, ...)
{
    pd *p = ud;
    va_list ap;
    va_start(ap, req);
    int *out = va_arg(ap, int *);
    va_end(ap);
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    pn_sock_status_t st;
    int r = 0;
    if (sk == NULL || pn_sock_status(p->s, sk->h, &st) < 0)
        r = fail_errno(EBADF);
    else if (out == NULL)
        r = fail_errno(EFAULT);
    else if (req == SIOCINQ)
        *out = (int)st.readable;
    else if (req == SIOCOUTQ)
        *out = (int)(st.unsent + st.unacked);
    else
        r = fail_errno(ENOTTY);
    UNLOCK(p);
    return r;
}

static int
pd_close(void *ud, int fd)
{
    pd *p = ud;
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc = PN_EBADF;
    if (sk != NULL) {
        rc = sk->kind == K_UDP ? pn_udp_close(p->s, sk->h) : pn_tcp_close(p->s, sk->h, p->vnow);
        freesk(sk);
        after_call(p);
    }
    UNLOCK(p);
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

static int
pd_shutdown(void *ud, int fd, int how)
{
    pd *p = ud;
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc = 0;
    if (sk == NULL)
        rc = PN_EBADF;
    else if (sk->kind != K_TCP)
        rc = PN_EOPNOTSUPP;
    else if (how == SHUT_WR || how == SHUT_RDWR)
        rc = pn_tcp_shutdown(p->s, sk->h, p->vnow);
    after_call(p);
    UNLOCK(p);
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

/* Linux level/name -> PN_TCP_* (or -1). */
static int
optmap(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return PN_TCP_REUSEADDR;
        case SO_KEEPALIVE: return PN_TCP_KEEPALIVE;
        case SO_SNDBUF: return PN_TCP_SNDBUF;
        case SO_RCVBUF: return PN_TCP_RCVBUF;
        case SO_LINGER: return PN_TCP_LINGER0;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return PN_TCP_NODELAY;
        case TCP_MAXSEG: return PN_TCP_MAXSEG;
        case TCP_KEEPIDLE: return PN_TCP_KEEPIDLE;
        case TCP_KEEPINTVL: return PN_TCP_KEEPINTVL;
        case TCP_KEEPCNT: return PN_TCP_KEEPCNT;
        case TCP_SYNCNT: return PN_TCP_SYNCNT;
        case TCP_QUICKACK: return PN_TCP_QUICKACK;
        }
    } else if (level == IPPROTO_IP) {
        switch (name) {
        case IP_TOS: return PN_TCP_TOS;
        case IP_TTL: return PN_TCP_TTL;
        }
    }
    return -1;
}

static int
pd_getsockopt(void *ud, int fd, int level, int name, void *val, socklen_t *vlen)
{
    pd *p = ud;
    if (val == NULL || vlen == NULL)
        return fail_errno(EFAULT);
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int v = 0, rc = 0;
    if (sk == NULL) {
        rc = PN_EBADF;
    } else if (level == SOL_SOCKET && name == SO_ERROR) {
        pn_sock_status_t st;
        if (sk->kind == K_TCP && pn_sock_status(p->s, sk->h, &st) == 0 && st.pending_error != sk->err_seen) {
            v = pn2errno(st.pending_error);
            sk->err_seen = st.pending_error; /* POSIX clears on read; ours is sticky */
        }
    } else if (sk->kind != K_TCP) {
        rc = PN_ENOPROTOOPT;
    } else {
        int o = optmap(level, name);
        rc = o < 0 ? PN_ENOPROTOOPT : pn_tcp_getopt(p->s, sk->h, o, &v);
    }
    UNLOCK(p);
    if (rc < 0)
        return fail_errno(pn2errno(rc));
    if (level == SOL_SOCKET && name == SO_LINGER && *vlen >= (socklen_t)sizeof(struct linger)) {
        struct linger l = {v != 0, 0};
        memcpy(val, &l, sizeof(l));
        *vlen = sizeof(l);
        return 0;
    }
    size_t n = *vlen < sizeof(int) ? *vlen : sizeof(int);
    memcpy(val, &v, n);
    *vlen = (socklen_t)n;
    return 0;
}

static int
pd_setsockopt(void *ud, int fd, int level, int name, const void *val, socklen_t vlen)
{
    pd *p = ud;
    int v = 0;
    if (val == NULL)
        return fail_errno(EFAULT);
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (vlen < (socklen_t)sizeof(l))
            return fail_errno(EINVAL);
        memcpy(&l, val, sizeof(l));
        v = l.l_onoff && l.l_linger == 0;
    } else {
        if (vlen < (socklen_t)sizeof(int))
            return fail_errno(EINVAL);
        memcpy(&v, val, sizeof(int));
    }
    LOCK(p);
    pd_sock *sk = getsk(p, fd);
    int rc;
    if (sk == NULL)
        rc = PN_EBADF;
    else if (sk->kind != K_TCP)
        rc = level == SOL_SOCKET && name == SO_REUSEADDR ? 0 : PN_ENOPROTOOPT;
    else {
        int o = optmap(level, name);
        rc = o < 0 ? PN_ENOPROTOOPT : pn_tcp_setopt(p->s, sk->h, o, v);
    }
    after_call(p);
    UNLOCK(p);
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

static int
pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    pd *p = ud;
    (void)timeout_ms;
    LOCK(p);
    int n = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        pd_sock *sk = getsk(p, fds[i].fd);
        fds[i].revents = 0;
        if (sk == NULL) {
            fds[i].revents = POLLNVAL;
        } else {
            pn_sock_status_t st;
            if (pn_sock_status(p->s, sk->h, &st) == 0) {
                if (st.readable || st.eof || st.accept_queue)
                    fds[i].revents |= POLLIN;
                if (st.writable && (st.connected || sk->kind == K_UDP))
                    fds[i].revents |= POLLOUT;
                if (st.pending_error)
                    fds[i].revents |= POLLERR;
            }
            fds[i].revents &= (short)(fds[i].events | POLLERR | POLLHUP | POLLNVAL);
        }
        if (fds[i].revents)
            n++;
    }
    UNLOCK(p);
    return n; /* never waits: scripts that poll with a timeout are not supported */
}

static int
pd_netdev_send(void *ud, const void *pkt, size_t len)
{
    pd *p = ud;
    LOCK(p);
    if (!p->main_known) {
        p->main_thread = pthread_self();
        p->main_known = 1;
    }
    settle(p);
    int rc = pn_inject_raw(p->s, pkt, len, p->vnow);
    after_call(p);
    UNLOCK(p);
    return rc < 0 ? fail_errno(pn2errno(rc)) : 0;
}

static int
pd_netdev_receive(void *ud, void *buf, size_t *len, long long *t_us)
{
    pd *p = ud;
    LOCK(p);
    if (!p->main_known) {
        p->main_thread = pthread_self();
        p->main_known = 1;
    }
    uint64_t cap = p->vnow + (uint64_t)p->idle_cap_s * 1000000u;
    while (p->qn == 0) {
        uint64_t d = pn_next_deadline(p->s);
        if (d == PN_TIME_NEVER || d > cap) {
            fprintf(stderr,
                    "purenet-pd: the stack sends nothing (next timer %s within %u s of virtual time); "
                    "ending the wait\n",
                    d == PN_TIME_NEVER ? "none" : "not", p->idle_cap_s);
            *len = 0;
            UNLOCK(p);
            return 0;
        }
        advance(p, d > p->vnow ? d : p->vnow);
    }
    pd_pkt *k = &p->q[p->qh];
    if (*len < k->len) {
        UNLOCK(p);
        return fail_errno(EMSGSIZE);
    }
    memcpy(buf, k->d, k->len);
    *len = k->len;
    *t_us = (long long)k->t;
    free(k->d);
    p->qh = (p->qh + 1) % PD_QCAP;
    p->qn--;
    UNLOCK(p);
    return 0;
}

static int
pd_usleep(void *ud, useconds_t us)
{
    pd *p = ud;
    LOCK(p);
    advance(p, p->vnow + us);
    UNLOCK(p);
    return 0;
}

static int
pd_gettimeofday(void *ud, struct timeval *tv, void *tz)
{
    pd *p = ud;
    (void)tz;
    LOCK(p);
    if (tl_returned == p) {
        /* the first clock read after a blocking call returned: its time */
        tl_returned = NULL;
        if (p->woken > 0)
            p->woken--;
        pthread_cond_broadcast(&p->cv);
    } else if (p->blocked_calls == 0 || on_main(p)) {
        advance(p, p->vnow + p->tick_us);
    }
    if (tv != NULL) {
        tv->tv_sec = (time_t)(p->vnow / 1000000u);
        tv->tv_usec = (suseconds_t)(p->vnow % 1000000u);
    }
    UNLOCK(p);
    return 0;
}

static int
pd_unsupported(void)
{
    return fail_errno(EOPNOTSUPP);
}

static int
pd_epoll_create(void *ud, int size)
{
    (void)ud;
    (void)size;
    return pd_unsupported();
}

static int
pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *ev)
{
    (void)ud, (void)epfd, (void)op, (void)fd, (void)ev;
    return pd_unsupported();
}

static int
pd_epoll_wait(void *ud, int epfd, struct epoll_event *ev, int maxev, int timeout_ms)
{
    (void)ud, (void)epfd, (void)ev, (void)maxev, (void)timeout_ms;
    return pd_unsupported();
}

static int
pd_pipe(void *ud, int fds[2])
{
    (void)ud, (void)fds;
    return pd_unsupported();
}

static int
pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len, unsigned int flags)
{
    (void)ud, (void)fd_in, (void)off_in, (void)fd_out, (void)off_out, (void)len, (void)flags;
    return pd_unsupported();
}

/* ---- init ---------------------------------------------------------------- */

static int
hexnib(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
parse_flags(pd *p, const char *flags, pn_config *cfg)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", flags ? flags : "");
    char *save = NULL;
    /* profile first, so that other flags refine it */
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        if (strncmp(t, "profile=", 8) == 0 && pkt_profile(cfg, t + 8) != 0)
            fprintf(stderr, "purenet-pd: unknown profile '%s', using rfc\n", t + 8);
    snprintf(buf, sizeof(buf), "%s", flags ? flags : "");
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        unsigned a, b, c, d;
        if (strncmp(t, "local=", 6) == 0 && sscanf(t + 6, "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
            p->local = PN_IP4(a, b, c, d);
        } else if (strncmp(t, "mtu=", 4) == 0) {
            cfg->mtu = (uint16_t)strtoul(t + 4, NULL, 0);
        } else if (strncmp(t, "key=", 4) == 0 && strlen(t + 4) == 32) {
            for (int i = 0; i < 16; i++)
                cfg->key[i] = (uint8_t)(hexnib(t[4 + 2 * i]) << 4 | hexnib(t[5 + 2 * i]));
        } else if (strncmp(t, "idle_cap_s=", 11) == 0) {
            p->idle_cap_s = (uint32_t)strtoul(t + 11, NULL, 0);
        } else if (strncmp(t, "tick_us=", 8) == 0) {
            p->tick_us = (uint32_t)strtoul(t + 8, NULL, 0);
        } else if (strcmp(t, "strict_tail") == 0) {
            p->strict_tail = 1;
        } else if (strncmp(t, "profile=", 8) != 0 && strncmp(t, "local6=", 7) != 0) {
            char err[200];
            if (pkt_knob(cfg, t, err, sizeof(err)) != 0)
                fprintf(stderr, "purenet-pd: ignoring flag '%s' (%s)\n", t, err);
        }
    }
}

void
packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    pd *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->vnow = PD_EPOCH_US;
    p->tick_us = 1;
    p->idle_cap_s = 120;
    p->local = PN_IP4(192, 168, 0, 1);
    pn_config cfg;
    pkt_profile(&cfg, "rfc");
    parse_flags(p, flags, &cfg);
    cfg.addrs[0].addr = p->local;
    cfg.routes[0].gateway = PN_IP4(0, 0, 0, 0);
    size_t need = pn_arena_size(&cfg);
    int err = 0;
    p->arena = need ? aligned_alloc(PN_ARENA_ALIGN, (need + PN_ARENA_ALIGN - 1) & ~(size_t)(PN_ARENA_ALIGN - 1)) : NULL;
    p->s = p->arena ? pn_stack_new(p->arena, need, &cfg, &err) : NULL;
    if (p->s == NULL) {
        fprintf(stderr, "purenet-pd: cannot create the stack (%s)\n", pn_strerror(err));
        abort();
    }
    memset(ifc, 0, sizeof(*ifc));
    ifc->userdata = p;
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
