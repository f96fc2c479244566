/*
 * bench_common.h -- what bench_purenet.c and bench_lwip.c share: the
 * command line, the wall clock (host side only: the stacks never see it),
 * peak RSS, the application's data pattern and the result line.
 *
 * Each benchmark program runs one workload once and prints one line of
 * key=value pairs; bench/run.sh alternates the two programs, takes medians
 * and runs them again under callgrind. The function named bench_measured
 * holds exactly the measured work (run.sh passes
 * --toggle-collect=bench_measured to callgrind), so setup, handshakes and
 * teardown are outside the instruction counts.
 *
 * Time seen by the stacks is virtual: it advances by a fixed step per
 * loop turn and jumps to the next deadline when nothing moves, so timer
 * behaviour does not depend on how fast the machine is.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_NOINLINE __attribute__((noinline))

/* Virtual microseconds per loop turn of a workload. */
#define BENCH_STEP_US 10u

typedef struct bench_args {
    const char *workload; /* w1 w2udp w2tcp w3 w4 w5 */
    uint64_t bytes;       /* w1: payload bytes one way */
    uint64_t count;       /* w2/w3/w4: datagrams, writes, connections, packets */
    uint64_t conns;       /* w4: concurrent connections */
    unsigned mtu;         /* IP MTU */
    int verify;           /* 1: check the received bytes (not in timed runs) */
} bench_args;

static inline double
bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline long
bench_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static inline void
bench_usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s WORKLOAD [bytes=N] [count=N] [conns=N] [mtu=N] [verify=1]\n"
            "  w1     bulk TCP one way (bytes, mtu)\n"
            "  w2udp  64-byte UDP datagrams one way (count)\n"
            "  w2tcp  64-byte TCP writes, no-delay (count)\n"
            "  w3     connect, 100 B request, 1 KiB reply, close (count)\n"
            "  w4     count 64-byte writes spread over conns established connections\n"
            "  w5     footprint (purenet only)\n",
            prog);
    exit(2);
}

static inline void
bench_parse(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->bytes = 16u << 20;
    a->count = 100000;
    a->conns = 10;
    a->mtu = 1500;
    if (argc < 2)
        bench_usage(argv[0]);
    a->workload = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            bench_usage(argv[0]);
        uint64_t v = strtoull(eq + 1, NULL, 0);
        size_t k = (size_t)(eq - argv[i]);
        if (k == 5 && memcmp(argv[i], "bytes", 5) == 0)
            a->bytes = v;
        else if (k == 5 && memcmp(argv[i], "count", 5) == 0)
            a->count = v;
        else if (k == 5 && memcmp(argv[i], "conns", 5) == 0)
            a->conns = v;
        else if (k == 3 && memcmp(argv[i], "mtu", 3) == 0)
            a->mtu = (unsigned)v;
        else if (k == 6 && memcmp(argv[i], "verify", 6) == 0)
            a->verify = (int)v;
        else
            bench_usage(argv[0]);
    }
}

/* The application's bytes: a pattern whose value at stream offset o is
 * pattern[o % BENCH_PAT_LEN], so a receiver can verify what it got. The
 * length is prime so segment boundaries never line up with it. */
#define BENCH_PAT_LEN 65521u
#define BENCH_PAT_ALLOC (2u * BENCH_PAT_LEN + 65536u)

static inline uint8_t *
bench_pattern(void)
{
    uint8_t *p = malloc(BENCH_PAT_ALLOC);
    if (p == NULL) {
        perror("malloc");
        exit(1);
    }
    uint32_t x = 0x9e3779b9u;
    for (uint32_t i = 0; i < BENCH_PAT_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    memcpy(p + BENCH_PAT_LEN, p, BENCH_PAT_LEN);
    memcpy(p + 2 * BENCH_PAT_LEN, p, 65536u);
    return p;
}

/* 1 if buf[0..n) matches the pattern at stream offset off. */
static inline int
bench_pattern_ok(const uint8_t *pat, uint64_t off, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        size_t o = (size_t)(off % BENCH_PAT_LEN);
        size_t k = n < BENCH_PAT_LEN ? n : BENCH_PAT_LEN;
        if (memcmp(pat + o, buf, k) != 0)
            return 0;
        buf += k;
        off += k;
        n -= k;
    }
    return 1;
}

static inline void
bench_die(const char *what, long v)
{
    fprintf(stderr, "bench: %s (%ld)\n", what, v);
    exit(1);
}

#endif /* BENCH_COMMON_H */
