/*
 * check_invariants.c -- the invariant walk the fuzz harnesses run after
 * every step (lib/check.c, pni_stack_check) must pass a healthy stack in
 * every state the tests can build and must name each kind of breakage.
 * Each test breaks one thing by hand in a live instance, checks that the
 * walk reports exactly that invariant, and puts it back.
 */
#include <string.h>

#include "helper_tcp.h"

static uint32_t scratch[4096];

static const char *
walk(pn_stack *s)
{
    ck_assert_uint_le(pni_stack_check_scratch(s), sizeof scratch / sizeof scratch[0]);
    return pni_stack_check(s, scratch, sizeof scratch / sizeof scratch[0], PNI_CHECK_ALL_POOLS);
}

#define EXPECT_WALK(s, want)                                                                      \
    do {                                                                                          \
        const char *got_ = walk(s);                                                               \
        ck_assert_msg(got_ != NULL && strcmp(got_, (want)) == 0, "walk said \"%s\", want \"%s\"", \
                      got_ ? got_ : "(nothing)", (want));                                         \
    } while (0)

/* A stack with one established connection holding unacknowledged data
 * (send queue chunks), received data not yet read (receive queue chunks)
 * and one frame left in the egress queue. */
static int
busy(pn_tt *t)
{
    tt_init(t, NULL);
    int l = tt_listen(t, 80, 4);
    int c = tt_accept_conn(t, l, 80, 4000, 1000, NULL, NULL);
    ck_assert_int_ge(c, 0);
    static uint8_t data[3000];
    memset(data, 0x5a, sizeof data);
    ck_assert_int_eq(pn_tcp_send(t->s, c, data, sizeof data, t->now), (int)sizeof data);
    pni_tcp_repr in = tt_seg(t, c, PNI_TCP_ACK | PNI_TCP_PSH);
    tt_inject(t, &in, data, 100);
    ck_assert_ptr_nonnull(t->s->eg_head);
    ck_assert_ptr_null(walk(t->s));
    return c;
}

START_TEST(test_walk_passes_healthy_stacks)
{
    pn_tt t;
    int c = busy(&t);
    /* drain a frame at a time, reading and acknowledging as we go */
    pni_tcp_repr r;
    while (tt_out(&t, &r))
        ck_assert_ptr_null(walk(t.s));
    uint8_t buf[200];
    ck_assert_int_eq(pn_tcp_recv(t.s, c, buf, sizeof buf, t.now), 100);
    ck_assert_ptr_null(walk(t.s));
    pni_tcp_repr a = tt_seg(&t, c, PNI_TCP_ACK);
    tt_inject(&t, &a, NULL, 0);
    ck_assert_ptr_null(walk(t.s));
    pn_tcp_close(t.s, c, t.now);
    while (tt_out(&t, &r))
        ck_assert_ptr_null(walk(t.s));
    tt_free(&t);
}
END_TEST

/* Free-list breakage in the TCP chunk pool, the pool with the most free
 * objects: a link into the middle of an object, a link outside the pool,
 * a cycle, a free object marked in use, a lost object. */
START_TEST(test_walk_names_free_list_breakage)
{
    pn_tt t;
    busy(&t);
    pni_pool *p = &t.s->pool[PN_POOL_TCPBUF];
    ck_assert_ptr_nonnull(p->free_head);
    void *head = p->free_head;
    void *second;
    memcpy(&second, head, sizeof second);
    ck_assert_ptr_nonnull(second);

    p->free_head = (uint8_t *)head + 8;
    EXPECT_WALK(t.s, "pool: free list points between objects");
    p->free_head = p->base + (size_t)p->obj_size * p->count;
    EXPECT_WALK(t.s, "pool: free list points outside the pool");
    p->free_head = p->base - p->obj_size;
    EXPECT_WALK(t.s, "pool: free list points outside the pool");
    p->free_head = head;

    memcpy(head, &head, sizeof head); /* head links to itself */
    EXPECT_WALK(t.s, "pool: free list longer than capacity - used (cycle or double free)");
    memcpy(head, &second, sizeof second);

    uint32_t idx = pni_pool_index(p, head), peak = p->st->peak;
    p->inuse[idx] = 1;
    p->st->used++;
    if (p->st->peak < p->st->used)
        p->st->peak = p->st->used;
    EXPECT_WALK(t.s, "pool: object both free and in use");
    p->inuse[idx] = 2;
    EXPECT_WALK(t.s, "pool: in-use byte neither 0 nor 1");
    p->inuse[idx] = 0;
    p->st->used--;
    p->st->peak = peak;

    p->free_head = second; /* the head object is lost */
    EXPECT_WALK(t.s, "pool: free list shorter than capacity - used (lost object)");
    p->free_head = head;
    ck_assert_ptr_null(walk(t.s));
    tt_free(&t);
}
END_TEST

/* Buffer references: a ref that disagrees with the pointers, a leaked
 * segment, a queue through a free segment, a broken chain length. */
START_TEST(test_walk_names_buffer_breakage)
{
    pn_tt t;
    busy(&t);
    pni_buf *b = t.s->eg_head;
    b->ref++;
    EXPECT_WALK(t.s, "buf: ref differs from the number of pointers to the segment");
    b->ref--;

    b->tot_len++;
    EXPECT_WALK(t.s, "buf: chain invariant (tot_len == len + next->tot_len) broken");
    b->tot_len--;

    /* unlink the whole queue without freeing: every frame leaks */
    pni_buf *h = t.s->eg_head, *tl = t.s->eg_tail;
    uint64_t pk = t.s->stats.egress_pkts, by = t.s->stats.egress_bytes;
    t.s->eg_head = t.s->eg_tail = NULL;
    t.s->stats.egress_pkts = 0;
    t.s->stats.egress_bytes = 0;
    EXPECT_WALK(t.s, "buf: segment in use but held by nobody (leak)");
    t.s->eg_head = h;
    t.s->eg_tail = tl;
    t.s->stats.egress_pkts = pk;
    t.s->stats.egress_bytes = by;

    /* a queue that leads to a free segment of the TX pool */
    pni_pool *p = &t.s->pool[PN_POOL_TXBUF];
    pni_buf *fr = p->free_head;
    ck_assert_ptr_nonnull(fr);
    ck_assert_ptr_null(t.s->eg_tail->qnext);
    t.s->eg_tail->qnext = fr;
    EXPECT_WALK(t.s, "buf: a queue holds a free or foreign buffer");
    t.s->eg_tail->qnext = NULL;

    t.s->stats.egress_pkts++;
    EXPECT_WALK(t.s, "egress: egress_pkts/egress_bytes disagree with the queue");
    t.s->stats.egress_pkts--;
    ck_assert_ptr_null(walk(t.s));
    tt_free(&t);
}
END_TEST

/* TCP: sequence order and the byte queues' accounting. */
START_TEST(test_walk_names_tcp_breakage)
{
    pn_tt t;
    int c = busy(&t);
    pni_tcpcb *cb = tt_cb(&t, c);
    ck_assert_ptr_nonnull(cb->sndq.head);
    ck_assert_ptr_nonnull(cb->rcvq.head);

    uint32_t una = cb->snd_una;
    cb->snd_una = cb->snd_nxt + 1;
    EXPECT_WALK(t.s, "tcp: snd_una > snd_nxt");
    cb->snd_una = una;
    uint32_t mx = cb->snd_max;
    cb->snd_max = cb->snd_nxt - 1;
    EXPECT_WALK(t.s, "tcp: snd_nxt > snd_max");
    cb->snd_max = mx;

    cb->sndq.nch++;
    EXPECT_WALK(t.s, "tcpq: nch or tail disagrees with the chain");
    cb->sndq.nch--;
    cb->rcvq.len = cb->rcvq.nch * PNI_TCPCH_DATA + 1;
    EXPECT_WALK(t.s, "tcpq: chunks do not cover head_off + len");
    cb->rcvq.len = 100;

    /* a chunk that is free in the pool, linked at the tail */
    pni_pool *p = &t.s->pool[PN_POOL_TCPBUF];
    pni_tcp_chunk *fr = p->free_head, *tail = cb->sndq.tail;
    tail->next = fr;
    EXPECT_WALK(t.s, "tcpq: queue holds a free or foreign chunk");
    tail->next = NULL;

    /* an empty queue must say so in every field */
    pni_tcpq q = cb->rcvq;
    memset(&cb->rcvq, 0, sizeof cb->rcvq);
    EXPECT_WALK(t.s, "tcp: chunks held by queues disagree with the chunk pool");
    cb->rcvq.len = 1;
    EXPECT_WALK(t.s, "tcpq: chunks do not cover head_off + len");
    cb->rcvq = q;
    ck_assert_ptr_null(walk(t.s));
    tt_free(&t);
}
END_TEST

Suite *
invariants_suite(void)
{
    Suite *s = suite_create("invariants");
    TCase *tc = tcase_create("walk");
    tcase_add_test(tc, test_walk_passes_healthy_stacks);
    tcase_add_test(tc, test_walk_names_free_list_breakage);
    tcase_add_test(tc, test_walk_names_buffer_breakage);
    tcase_add_test(tc, test_walk_names_tcp_breakage);
    suite_add_tcase(s, tc);
    return s;
}
