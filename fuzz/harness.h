/*
 * harness.h -- shared pieces of the purenet fuzz targets (see README.md).
 *
 * Every target defines pn_fuzz_one(); fuzz/driver.c supplies main():
 * under afl-clang-fast an AFL++ persistent loop over shared-memory input,
 * otherwise a replayer of files and directories given on the command line
 * (for gdb, ASan/UBSan and valgrind).
 *
 * A failed invariant prints one line "purenet-fuzz: INVARIANT: ..." on
 * stderr and aborts, so afl-fuzz files the input as a crash.
 */
#ifndef PN_FUZZ_HARNESS_H
#define PN_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "pn_internal.h"

/* The target's entry point: run one input from scratch. */
void pn_fuzz_one(const uint8_t *data, size_t len);

/* Report a broken invariant and abort. */
_Noreturn void pn_fuzz_fail(const char *what, const char *detail);
#define PN_FUZZ_CHECK(cond, what)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            pn_fuzz_fail(what, #cond);                                                             \
    } while (0)

/* Set by the replay driver: the byte every arena is filled with before
 * an input runs (the replayer runs each input with 0x00 and 0xff and
 * compares outputs, catching reads of stale arena bytes). */
extern int pn_fuzz_arena_fill;
/* Set by the replay driver: print what happens (-v). */
extern int pn_fuzz_verbose;
/* Running digest of every frame the stack emitted during the input. */
extern uint64_t pn_fuzz_digest;

/* ---- the fuzzed stack -------------------------------------------------- */

/* Fixed world, shared with the vector runner (tests/pkt/pkt.h) so seeds
 * made from vectors/ mean the same thing here. */
#define FZ_LOCAL_IP 192, 168, 0, 1
#define FZ_GW_IP 192, 168, 0, 254
#define FZ_REMOTE_IP 192, 0, 2, 1
#define FZ_PEER2_IP 192, 168, 0, 7
#define FZ_EPOCH_US 10000000ull
#define FZ_TCP_PORT 8080
#define FZ_TCP_PORT2 80
#define FZ_UDP_PORT 8080
#define FZ_UDP_PORT2 53
/* PN_IP4 of one of the address macros above (expanded first). */
#define FZ_IP4(x) FZ_IP4_(x)
#define FZ_IP4_(a, b, c, d) PN_IP4(a, b, c, d)

/* Config byte (first byte of a whole-stack input). */
#define FZ_C_ETHERNET 0x01 /* medium Ethernet (else bare IP, like vectors/) */
#define FZ_C_PROFILE 0x06  /* >> 1: 0 rfc, 1 linux, 2 freebsd, 3 no options */
#define FZ_C_SMALL 0x08    /* tiny pools: exhaustion, SYN cookies */
#define FZ_C_NOARP 0x10    /* no automatic ARP replies */
#define FZ_C_QUICKACK 0x20
#define FZ_C_CUBIC 0x40
#define FZ_C_MTU576 0x80

typedef struct fz_world {
    pn_stack *s;
    uint8_t cfgbyte;
    uint64_t now;
    int ethernet;
    int auto_arp;
    /* application handles */
    int tcp[8];
    int udp[4];
    /* the last TCP segment the stack sent (for peer replies) */
    int have_last;
    uint8_t last_src[4], last_dst[4];
    pni_tcp_repr last; /* payload pointer not kept */
    uint32_t last_seglen;
} fz_world;

/* Build the stack for cfgbyte in the static arena at FZ_EPOCH_US. */
void fz_world_init(fz_world *w, uint8_t cfgbyte);
/* Inject a frame as received (link header per medium) at w->now. */
void fz_describe(const char *dir, const fz_world *w, const uint8_t *f, size_t n);
void fz_inject(fz_world *w, const uint8_t *frame, size_t len);
/* Build and inject an IPv4 packet (whole IP header at ip) with the link
 * header of the medium; the peer's MAC is derived from src. */
void fz_inject_ip(fz_world *w, const uint8_t *ip, size_t len);
/* Advance time by delta microseconds and poll. */
void fz_advance(fz_world *w, uint64_t delta);
/* Drain every queued frame, checking each (parse, checksums, addresses),
 * answering ARP requests when enabled, remembering TCP segments. */
void fz_drain(fz_world *w);
/* All invariants of the instance (after every step). */
void fz_check(fz_world *w);
/* Close every socket, let every timer run out, and require every pool to
 * be empty. */
void fz_teardown(fz_world *w);
/* The echo application of the whole-stack target: accept, read, echo. */
void fz_app_echo(fz_world *w);

/* Checks of an emitted frame (used by fz_drain; exposed for the codec
 * targets). ip..len is an IPv4 packet; returns NULL or what is wrong. */
const char *fz_check_ip_packet(const uint8_t *ip, size_t len);

#endif
