/*
 * helper_link.h -- test nodes (a stack in a malloc'd arena, its emitted
 * frames written to the test pcap) and a virtual link wiring two stacks
 * back to back in memory, with a virtual clock and optional seeded
 * impairments (loss, duplication, reordering, corruption, latency).
 *
 * Typical use:
 *     pn_test_node A, B;
 *     pn_test_node_new(&A, &cfg_a);  pn_test_node_new(&B, &cfg_b);
 *     pn_test_link L;  pn_test_link_init(&L, A.s, B.s, 0);
 *     ... pn_udp_sendto(A.s, ..., L.now) ...
 *     pn_test_link_run(&L, L.now + 5000000);   // frames flow, timers fire
 *     ... close sockets, pn_test_link_run(&L, PN_TIME_NEVER) ...
 *     pn_test_pools_empty(A.s); pn_test_link_free(&L);
 *     pn_test_node_free(&A); ...
 */
#ifndef PN_HELPER_LINK_H
#define PN_HELPER_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "purenet.h"

/* ---- nodes ---- */

typedef struct pn_test_node {
    pn_stack *s;
    void *arena;
    size_t arena_len;
    int medium;
    pn_tap_fn tap;       /* the test's own tap from the config, chained */
    void *tap_user;
    uint64_t tap_in;     /* frames seen by the tap, per direction */
    uint64_t tap_out;
} pn_test_node;

/* Create a stack for *cfg in a fresh 64-byte aligned arena. The node's tap
 * writes every emitted frame to $PN_TEST_PCAP (see helper_pcap.c) and then
 * calls cfg->tap if set. Fails the test on error. Returns n->s. */
pn_stack *pn_test_node_new(pn_test_node *n, const pn_config *cfg);
void pn_test_node_free(pn_test_node *n);

/* A config with our conventions: Ethernet, MAC 02:00:00:00:00:<id>,
 * address 10.0.0.<id>/24, key derived from id, small pools. */
void pn_test_config(pn_config *c, unsigned id);

/* Drain every queued frame of s (writing nothing), returning how many. */
int pn_test_drain_all(pn_stack *s);

/* ---- pcap (helper_pcap.c) ---- */

/* Append a frame to $PN_TEST_PCAP (Ethernet linktype; bare IP frames of
 * PN_MEDIUM_IP get a made-up Ethernet header so one file holds both). A
 * no-op when the variable is unset. */
void pn_test_pcap_frame(int medium, uint64_t now, const uint8_t *frame, size_t len);

/* ---- link ---- */

#define PN_TEST_LINK_MAXQ 4096

typedef struct pn_test_frame {
    uint64_t at;   /* delivery time */
    uint64_t seq;  /* tie-break: FIFO among equal times */
    int to;        /* 0 or 1 */
    uint16_t len;
    uint8_t *data; /* malloc'd */
} pn_test_frame;

/* Optional per-frame filter: may modify the frame in place (and *len,
 * not above its capacity 65535) or return 1 to drop it. */
typedef int (*pn_test_link_filter)(void *user, int from, uint8_t *frame, size_t *len, uint64_t now);

typedef struct pn_test_link {
    pn_stack *end[2];
    uint64_t now;
    /* impairments, per million frames; all 0 = a perfect wire */
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    uint32_t reorder_ppm;  /* frame gets reorder_us extra delay */
    uint32_t corrupt_ppm;  /* one random byte flipped */
    uint64_t delay_us;     /* one-way latency of every frame */
    uint64_t reorder_us;
    uint64_t seed;         /* PRNG state (pn_test_rand), nonzero */
    pn_test_link_filter filter;
    void *filter_user;
    /* in flight */
    pn_test_frame q[PN_TEST_LINK_MAXQ];
    size_t nq;
    uint64_t seq;
    /* counters */
    uint64_t delivered[2]; /* frames injected into end[i] */
    uint64_t lost, duped, reordered, corrupted, filtered, overflow;
    uint64_t inject_err;   /* pn_inject_raw returned an error */
} pn_test_link;

/* a and b start at time now; impairments off. l is large: allocate it
 * with pn_test_link_new or as a static. */
pn_test_link *pn_test_link_new(pn_stack *a, pn_stack *b, uint64_t now);
void pn_test_link_free(pn_test_link *l);
/* Move what is queued now: drain both ends onto the wire, deliver every
 * frame due at l->now (repeatedly, until nothing more is due). Returns the
 * number of frames delivered. No time passes. */
int pn_test_link_step(pn_test_link *l);
/* Run the two stacks and the wire until `until`, jumping the virtual clock
 * from event to event (frame deliveries and pn_next_deadline of both),
 * polling both stacks at each; stops early when nothing is left to happen
 * (no frame in flight, both deadlines PN_TIME_NEVER). Returns l->now. */
uint64_t pn_test_link_run(pn_test_link *l, uint64_t until);

#endif
