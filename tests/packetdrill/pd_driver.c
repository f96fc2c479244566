/*
 * pd_driver.c -- loads the packetdrill adapter with dlopen, as packetdrill
 * does (but without DEEPBIND, so it also runs under ASan), and plays a
 * connection through the interface table on the virtual clock: passive
 * open, data both ways, a blocking read on a second thread that a packet
 * wakes, close, the idle diagnostic, teardown. Every step is asserted.
 *
 *   pd_driver path/to/purenet_packetdrill.so
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "pd_interface.h"

#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

static int failures;
static int steps;

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        steps++;                                                                  \
        if (!(cond)) {                                                            \
            failures++;                                                           \
            fprintf(stderr, "pd_driver:%d: FAILED %s: ", __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, "\n");                                                \
        }                                                                         \
    } while (0)

static struct packetdrill_interface ifc;
static void *ud;

/* ---- a tiny peer: IPv4 + TCP segments ------------------------------------ */

static const uint8_t local_ip[4] = {192, 168, 0, 1};
static const uint8_t remote_ip[4] = {192, 0, 2, 1};
#define PEER_PORT 40000
#define LISTEN_PORT 8080

static uint32_t
csum_add(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t
csum_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static void
put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Send one segment from the peer. */
static void
peer_send(uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data, size_t dlen, int mss)
{
    uint8_t pkt[1600];
    size_t ol = mss ? 4 : 0;
    size_t tl = 20 + ol + dlen;
    memset(pkt, 0, 40 + ol);
    pkt[0] = 0x45;
    put16(pkt + 2, (uint32_t)(20 + tl));
    pkt[8] = 64;
    pkt[9] = 6;
    memcpy(pkt + 12, remote_ip, 4);
    memcpy(pkt + 16, local_ip, 4);
    put16(pkt + 10, csum_fold(csum_add(pkt, 20, 0)));
    uint8_t *t = pkt + 20;
    put16(t, PEER_PORT);
    put16(t + 2, LISTEN_PORT);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)(((20 + ol) / 4) << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    if (mss) {
        t[20] = 2;
        t[21] = 4;
        put16(t + 22, (uint32_t)mss);
    }
    if (dlen)
        memcpy(t + 20 + ol, data, dlen);
    uint32_t acc = csum_add(remote_ip, 4, 0);
    acc = csum_add(local_ip, 4, acc);
    acc += 6 + (uint32_t)tl;
    put16(t + 16, csum_fold(csum_add(t, tl, acc)));
    CHECK(ifc.netdev_send(ud, pkt, 20 + tl) == 0, "netdev_send failed: %s", strerror(errno));
}

typedef struct seg {
    uint8_t flags;
    uint32_t seq, ack;
    size_t dlen;
    long long t;
    uint8_t data[1600];
} seg;

static int
stack_recv(seg *s)
{
    uint8_t pkt[2048];
    size_t len = sizeof(pkt);
    int rc = ifc.netdev_receive(ud, pkt, &len, &s->t);
    if (rc != 0 || len == 0)
        return -1;
    CHECK(len >= 40 && pkt[9] == 6, "not a TCP packet (%zu bytes, proto %u)", len, pkt[9]);
    const uint8_t *t = pkt + (pkt[0] & 15) * 4;
    size_t hl = (size_t)(t[12] >> 4) * 4;
    s->flags = t[13];
    s->seq = get32(t + 4);
    s->ack = get32(t + 8);
    s->dlen = len - (size_t)(t - pkt) - hl;
    memcpy(s->data, t + hl, s->dlen < sizeof(s->data) ? s->dlen : sizeof(s->data));
    CHECK(memcmp(pkt + 12, local_ip, 4) == 0 && memcmp(pkt + 16, remote_ip, 4) == 0, "addresses");
    CHECK(((uint32_t)t[0] << 8 | t[1]) == LISTEN_PORT && ((uint32_t)t[2] << 8 | t[3]) == PEER_PORT, "ports");
    return 0;
}

static long long
now_us(void)
{
    struct timeval tv;
    ifc.gettimeofday(ud, &tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* ---- the blocking read on a second thread --------------------------------- */

typedef struct reader {
    int fd;
    ssize_t got;
    int err;
    long long t_ret;
    uint8_t buf[2000];
    volatile int done;
} reader;

static void *
reader_main(void *arg)
{
    reader *r = arg;
    r->got = ifc.read(ud, r->fd, r->buf, sizeof(r->buf));
    r->err = errno;
    r->t_ret = now_us(); /* packetdrill reads the time right after the call */
    r->done = 1;
    return NULL;
}

static void
real_sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/purenet_packetdrill.so\n", argv[0]);
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "pd_driver: dlopen: %s\n", dlerror());
        return 1;
    }
    packetdrill_interface_init_fn init;
    *(void **)&init = dlsym(h, "packetdrill_interface_init");
    if (init == NULL) {
        fprintf(stderr, "pd_driver: dlsym: %s\n", dlerror());
        return 1;
    }
    memset(&ifc, 0xa5, sizeof(ifc));
    init("local=192.168.0.1,profile=rfc,idle_cap_s=100", &ifc);
    void **slot = (void **)&ifc;
    for (size_t i = 0; i < sizeof(ifc) / sizeof(void *); i++)
        CHECK(slot[i] != NULL && slot[i] != (void *)(uintptr_t)0xa5a5a5a5a5a5a5a5ull, "table slot %zu unfilled", i);
    ud = ifc.userdata;

    /* the clock moves a tick per read and exactly by usleep */
    long long t0 = now_us();
    long long t1 = now_us();
    CHECK(t1 > t0 && t1 - t0 < 10, "gettimeofday must advance a little: %lld -> %lld", t0, t1);
    ifc.usleep(ud, 100000);
    long long t2 = now_us();
    CHECK(t2 - t1 >= 100000 && t2 - t1 < 100010, "usleep(100 ms) moved the clock by %lld us", t2 - t1);

    /* listener */
    int lfd = ifc.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(lfd >= 0 && fcntl(lfd, F_GETFD) >= 0, "socket() must return a real descriptor, got %d", lfd);
    int one = 1;
    CHECK(ifc.setsockopt(ud, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0, "SO_REUSEADDR");
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(LISTEN_PORT);
    memcpy(&sin.sin_addr, local_ip, 4);
    CHECK(ifc.bind(ud, lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0, "bind: %s", strerror(errno));
    CHECK(ifc.listen(ud, lfd, 1) == 0, "listen: %s", strerror(errno));
    CHECK(ifc.fcntl(ud, lfd, F_GETFL) == O_RDWR, "F_GETFL");
    CHECK(ifc.fcntl(ud, lfd, F_SETFL, O_RDWR | O_NONBLOCK) == 0, "F_SETFL");
    CHECK(ifc.fcntl(ud, lfd, F_GETFL) == (O_RDWR | O_NONBLOCK), "F_GETFL after O_NONBLOCK");
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    CHECK(ifc.accept(ud, lfd, (struct sockaddr *)&peer, &plen) == -1 && errno == EAGAIN,
          "non-blocking accept with no connection: EAGAIN");

    /* handshake */
    const uint32_t irs = 5000;
    peer_send(0x02, irs, 0, NULL, 0, 1000);
    seg s;
    CHECK(stack_recv(&s) == 0, "no SYN-ACK");
    CHECK(s.flags == 0x12 && s.ack == irs + 1, "SYN-ACK flags %#x ack %u", s.flags, s.ack);
    uint32_t iss = s.seq;
    long long t_synack = s.t;
    ifc.usleep(ud, 100000);
    peer_send(0x10, irs + 1, iss + 1, NULL, 0, 0);
    plen = sizeof(peer);
    int cfd = ifc.accept(ud, lfd, (struct sockaddr *)&peer, &plen);
    CHECK(cfd >= 0 && cfd != lfd, "accept: %d (%s)", cfd, strerror(errno));
    CHECK(plen == sizeof(peer) && peer.sin_family == AF_INET && ntohs(peer.sin_port) == PEER_PORT &&
              memcmp(&peer.sin_addr, remote_ip, 4) == 0,
          "accept must fill in the peer address");
    int nd = 1;
    CHECK(ifc.setsockopt(ud, cfd, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof(nd)) == 0, "TCP_NODELAY");
    int v = 0;
    socklen_t vl = sizeof(v);
    CHECK(ifc.getsockopt(ud, cfd, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1 && vl == sizeof(int),
          "TCP_NODELAY reads back 1");
    vl = sizeof(v);
    CHECK(ifc.getsockopt(ud, cfd, SOL_SOCKET, SO_ERROR, &v, &vl) == 0 && v == 0, "SO_ERROR 0");

    /* a blocking call on the main thread must not hang */
    uint8_t tmp[10];
    CHECK(ifc.read(ud, cfd, tmp, sizeof(tmp)) == -1 && errno == EDEADLK,
          "a blocking read on the injecting thread must fail loudly (EDEADLK), errno %d", errno);

    /* blocking read on a second thread, woken by a data segment */
    static reader rd;
    rd.fd = cfd;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, reader_main, &rd) == 0, "pthread_create");
    real_sleep_ms(50);
    CHECK(!rd.done, "the read must block while there is no data");
    ifc.usleep(ud, 100000);
    long long t_inject = now_us();
    uint8_t data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    peer_send(0x18, irs + 1, iss + 1, data, sizeof(data), 0);
    /* the main thread goes on at once, as packetdrill does: the clock must
     * not pass the reader until it has taken its return time */
    ifc.usleep(ud, 100000);
    pthread_join(th, NULL);
    CHECK(rd.got == (ssize_t)sizeof(data) && memcmp(rd.buf, data, sizeof(data)) == 0, "blocking read got %zd (%s)",
          rd.got, strerror(rd.err));
    CHECK(rd.t_ret >= t_inject && rd.t_ret - t_inject < 1000,
          "the blocking read must return at the time of the packet (%lld), not %lld", t_inject, rd.t_ret);

    /* the ACK of the data (delayed ACK: within 500 ms) */
    CHECK(stack_recv(&s) == 0, "no ACK for the data");
    CHECK((s.flags & 0x10) && s.ack == irs + 1 + sizeof(data) && s.dlen == 0, "ACK flags %#x ack %u len %zu",
          s.flags, s.ack - irs, s.dlen);
    CHECK(s.t >= t_inject && s.t - t_inject <= 500000, "ACK time %lld after inject", s.t - t_inject);

    /* data from the stack */
    uint8_t out[500];
    memset(out, 0, sizeof(out));
    CHECK(ifc.write(ud, cfd, out, sizeof(out)) == (ssize_t)sizeof(out), "write: %s", strerror(errno));
    CHECK(stack_recv(&s) == 0, "no data segment");
    CHECK(s.seq == iss + 1 && s.dlen == sizeof(out) && memcmp(s.data, out, sizeof(out)) == 0,
          "data segment seq %u len %zu", s.seq - iss, s.dlen);
    int q = -1;
    CHECK(ifc.ioctl(ud, cfd, SIOCOUTQ, &q) == 0 && q == (int)sizeof(out), "SIOCOUTQ %d", q);
    peer_send(0x10, irs + 1 + sizeof(data), iss + 1 + sizeof(out), NULL, 0, 0);
    CHECK(ifc.ioctl(ud, cfd, SIOCOUTQ, &q) == 0 && q == 0, "SIOCOUTQ after ACK %d", q);

    /* close: FIN, the peer's FIN, our last ACK */
    CHECK(ifc.close(ud, cfd) == 0, "close");
    CHECK(stack_recv(&s) == 0, "no FIN");
    CHECK((s.flags & 0x01) && s.seq == iss + 1 + sizeof(out), "FIN flags %#x seq %u", s.flags, s.seq - iss);
    ifc.usleep(ud, 50000);
    peer_send(0x11, irs + 1 + sizeof(data), iss + 2 + sizeof(out), NULL, 0, 0);
    CHECK(stack_recv(&s) == 0, "no ACK of the peer's FIN");
    CHECK(s.flags == 0x10 && s.ack == irs + 2 + sizeof(data), "last ACK flags %#x ack %u", s.flags, s.ack - irs);

    /* nothing more to send: netdev_receive ends the wait with length 0
     * (after running the TIME-WAIT timer out) instead of hanging */
    fprintf(stderr, "pd_driver: (an idle diagnostic from the adapter is expected next)\n");
    uint8_t pkt[2048];
    size_t len = sizeof(pkt);
    long long ts = 0;
    CHECK(ifc.netdev_receive(ud, pkt, &len, &ts) == 0 && len == 0, "idle netdev_receive must return length 0");
    CHECK(t_synack > 0, "times are set");

    /* teardown as packetdrill does it: its own close() of the descriptor
     * it was given, then free(userdata) after the table's free */
    CHECK(close(lfd) == 0, "the listener's handle must be a real descriptor packetdrill can close");
    ifc.free(ud);
    free(ud);
    dlclose(h);
    printf("pd_driver: %d checks, %d failed\n", steps, failures);
    return failures ? 1 : 0;
}
