/*
 * helper_link.c -- test nodes and the in-memory wire; see helper_link.h.
 * Deterministic: the only randomness is the link's seeded PRNG.
 */
#include <stdlib.h>
#include <string.h>

#include "helper_link.h"
#include "pn_check.h"

static void
node_tap(void *user, int dir, uint64_t now, const pn_pktview *v)
{
    static uint8_t buf[65536];
    pn_test_node *n = user;
    if (dir == PN_TAP_OUT) {
        n->tap_out++;
        size_t len = pn_pktview_copy(v, 0, buf, v->tot_len < sizeof buf ? v->tot_len : sizeof buf);
        pn_test_pcap_frame(n->medium, now, buf, len);
    } else {
        n->tap_in++;
    }
    if (n->tap != NULL)
        n->tap(n->tap_user, dir, now, v);
}

pn_stack *
pn_test_node_new(pn_test_node *n, const pn_config *cfg)
{
    pn_config c = *cfg;
    memset(n, 0, sizeof *n);
    n->medium = c.medium;
    n->tap = c.tap;
    n->tap_user = c.tap_user;
    c.tap = node_tap;
    c.tap_user = n;
    n->arena_len = pn_arena_size(&c);
    ck_assert_msg(n->arena_len > 0, "config rejected");
    ck_assert_int_eq(posix_memalign(&n->arena, 64, n->arena_len), 0);
    int err = 1;
    n->s = pn_stack_new(n->arena, n->arena_len, &c, &err);
    ck_assert_int_eq(err, 0);
    ck_assert_ptr_nonnull(n->s);
    return n->s;
}

void
pn_test_node_free(pn_test_node *n)
{
    free(n->arena);
    n->arena = NULL;
    n->s = NULL;
}

void
pn_test_config(pn_config *c, unsigned id)
{
    pn_config_default(c);
    c->mac = (pn_mac){{0x02, 0, 0, 0, 0, (uint8_t)id}};
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(10, 0, 0, id);
    c->addrs[0].prefix_len = 24;
    for (int i = 0; i < 16; i++)
        c->key[i] = (uint8_t)(id * 16 + i);
    c->tcp.max_socks = 0;
}

int
pn_test_drain_all(pn_stack *s)
{
    static uint8_t buf[65536];
    int n = 0;
    while (pn_drain_raw(s, buf, sizeof buf) > 0)
        n++;
    return n;
}

pn_test_link *
pn_test_link_new(pn_stack *a, pn_stack *b, uint64_t now)
{
    pn_test_link *l = calloc(1, sizeof *l);
    ck_assert_ptr_nonnull(l);
    l->end[0] = a;
    l->end[1] = b;
    l->now = now;
    l->seed = 0x9e3779b97f4a7c15ULL;
    return l;
}

void
pn_test_link_free(pn_test_link *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->nq; i++)
        free(l->q[i].data);
    free(l);
}

static int
chance(pn_test_link *l, uint32_t ppm)
{
    return ppm != 0 && pn_test_rand(&l->seed) % 1000000u < ppm;
}

static void
put(pn_test_link *l, int to, const uint8_t *data, size_t len, uint64_t at)
{
    if (l->nq == PN_TEST_LINK_MAXQ) {
        l->overflow++;
        return;
    }
    pn_test_frame *f = &l->q[l->nq++];
    f->at = at;
    f->seq = l->seq++;
    f->to = to;
    f->len = (uint16_t)len;
    f->data = malloc(len > 0 ? len : 1);
    ck_assert_ptr_nonnull(f->data);
    memcpy(f->data, data, len);
}

/* Drain both ends onto the wire, applying impairments. */
static void
collect(pn_test_link *l)
{
    static uint8_t buf[65536];
    for (int from = 0; from < 2; from++) {
        int n;
        while ((n = pn_drain_raw(l->end[from], buf, sizeof buf)) > 0) {
            size_t len = (size_t)n;
            if (l->filter != NULL && l->filter(l->filter_user, from, buf, &len, l->now)) {
                l->filtered++;
                continue;
            }
            if (chance(l, l->loss_ppm)) {
                l->lost++;
                continue;
            }
            if (chance(l, l->corrupt_ppm) && len > 0) {
                buf[pn_test_rand(&l->seed) % len] ^= (uint8_t)(1u << (pn_test_rand(&l->seed) % 8));
                l->corrupted++;
            }
            uint64_t at = l->now + l->delay_us;
            if (chance(l, l->reorder_ppm)) {
                at += l->reorder_us;
                l->reordered++;
            }
            put(l, 1 - from, buf, len, at);
            if (chance(l, l->dup_ppm)) {
                put(l, 1 - from, buf, len, at);
                l->duped++;
            }
        }
    }
}

/* Index of the next frame to deliver (earliest, FIFO), or -1. */
static long
next_frame(const pn_test_link *l)
{
    long best = -1;
    for (size_t i = 0; i < l->nq; i++) {
        const pn_test_frame *f = &l->q[i];
        if (best < 0 || f->at < l->q[best].at || (f->at == l->q[best].at && f->seq < l->q[best].seq))
            best = (long)i;
    }
    return best;
}

int
pn_test_link_step(pn_test_link *l)
{
    int moved = 0;
    for (;;) {
        collect(l);
        long i = next_frame(l);
        if (i < 0 || l->q[i].at > l->now)
            break;
        pn_test_frame f = l->q[i];
        l->q[i] = l->q[--l->nq];
        if (pn_inject_raw(l->end[f.to], f.data, f.len, l->now) != 0)
            l->inject_err++;
        l->delivered[f.to]++;
        free(f.data);
        moved++;
    }
    return moved;
}

uint64_t
pn_test_link_run(pn_test_link *l, uint64_t until)
{
    for (unsigned guard = 0; guard < 10000000u; guard++) {
        for (int e = 0; e < 2; e++)
            pn_poll(l->end[e], l->now);
        pn_test_link_step(l);
        uint64_t next = PN_TIME_NEVER;
        long i = next_frame(l);
        if (i >= 0)
            next = l->q[i].at;
        for (int e = 0; e < 2; e++) {
            uint64_t d = pn_next_deadline(l->end[e]);
            if (d < next)
                next = d;
        }
        if (next == PN_TIME_NEVER || next > until) {
            if (until != PN_TIME_NEVER && until > l->now) {
                l->now = until;
                for (int e = 0; e < 2; e++)
                    pn_poll(l->end[e], l->now);
                pn_test_link_step(l);
            }
            return l->now;
        }
        if (next <= l->now)
            next = l->now + 1; /* a due timer did not clear: make progress */
        l->now = next;
    }
    ck_abort_msg("pn_test_link_run: no quiescence");
    return l->now;
}
