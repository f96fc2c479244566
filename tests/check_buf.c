/*
 * check_buf.c -- packet buffers: headroom by layer, push/pull without
 * copies, chains, copy in/out, trim, refcounts, exhaustion, checksums.
 * Every test ends with every pool back to zero use.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pn_check.h"
#include "pn_internal.h"

static uint8_t *arena;
static pn_stack *S;

static void
setup(void)
{
    pn_config c;
    pn_config_default(&c);
    c.mac = (pn_mac){{0x02, 0, 0, 0, 0, 1}};
    c.n_addrs = 1;
    c.addrs[0].addr = PN_IP4(10, 0, 0, 1);
    c.addrs[0].prefix_len = 24;
    c.rx_bufs = 8;
    c.tx_bufs = 8;
    c.buf_size = 512;
    size_t need = pn_arena_size(&c);
    ck_assert_uint_gt(need, 0);
    ck_assert_int_eq(posix_memalign((void **)&arena, 64, need), 0);
    S = pn_stack_new(arena, need, &c, NULL);
    ck_assert_ptr_nonnull(S);
}

static void
teardown(void)
{
    pn_test_pools_empty(S);
    EXPECT_UINT(S->stats.buf_double_free, 0);
    free(arena);
}

static int
segs(const pni_buf *b)
{
    int n = 0;
    for (; b != NULL; b = b->next)
        n++;
    return n;
}

START_TEST(test_buf_headroom_per_layer)
{
    static const struct {
        int layer;
        unsigned hr;
    } t[] = {{PNI_LAYER_TRANSPORT, 94}, {PNI_LAYER_IP, 34}, {PNI_LAYER_LINK, 14}, {PNI_LAYER_RAW, 0}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        pni_buf *b = pni_buf_alloc(S, PN_POOL_TXBUF, t[i].layer, 100);
        ck_assert_ptr_nonnull(b);
        EXPECT_UINT(b->off, t[i].hr);
        EXPECT_UINT(b->len, 100);
        EXPECT_UINT(b->tot_len, 100);
        EXPECT_UINT(b->ref, 1);
        ck_assert(pni_buf_check(b));
        pni_buf_free(S, b);
    }
}
END_TEST

/* Headers are prepended in place: the payload never moves. */
START_TEST(test_buf_push_pull_across_layers_no_copy)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, 5);
    uint8_t *payload = pni_buf_data(b);
    memcpy(payload, "hello", 5);
    EXPECT_INT(pni_buf_push(b, 8), 0);     /* UDP */
    EXPECT_INT(pni_buf_push(b, 20), 0);    /* IP */
    EXPECT_INT(pni_buf_push(b, 14), 0);    /* Ethernet */
    EXPECT_UINT(b->tot_len, 5 + 8 + 20 + 14);
    ck_assert_ptr_eq(pni_buf_data(b) + 42, payload);
    EXPECT_MEM(payload, "hello", 5);
    EXPECT_INT(pni_buf_pull(b, 14), 0);
    EXPECT_INT(pni_buf_pull(b, 20), 0);
    EXPECT_INT(pni_buf_pull(b, 8), 0);
    ck_assert_ptr_eq(pni_buf_data(b), payload);
    EXPECT_UINT(b->tot_len, 5);
    ck_assert(pni_buf_check(b));
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_push_beyond_headroom_fails_cleanly)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_TXBUF, PNI_LAYER_LINK, 10);
    EXPECT_INT(pni_buf_push(b, 15), -1);
    EXPECT_UINT(b->off, 14);
    EXPECT_UINT(b->len, 10);
    EXPECT_INT(pni_buf_push(b, 14), 0);
    EXPECT_INT(pni_buf_push(b, 1), -1);
    EXPECT_INT(pni_buf_pull(b, 25), -1);
    EXPECT_UINT(b->len, 24);
    EXPECT_INT(pni_buf_pull(b, 24), 0);
    EXPECT_UINT(b->tot_len, 0);
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_chain_alloc_and_invariant)
{
    /* 512-byte blocks, 94 headroom: 418 + 512 + 512 + 58 = 1500. */
    pni_buf *b = pni_buf_alloc(S, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, 1500);
    ck_assert_ptr_nonnull(b);
    EXPECT_INT(segs(b), 4);
    EXPECT_UINT(b->len, 418);
    EXPECT_UINT(b->next->len, 512);
    EXPECT_UINT(b->next->next->next->len, 58);
    EXPECT_UINT(b->tot_len, 1500);
    ck_assert(pni_buf_check(b));
    EXPECT_UINT(S->stats.pool[PN_POOL_TXBUF].used, 4);
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_copy_in_out_random_ranges)
{
    uint64_t rs = 12345;
    uint8_t src[2000], dst[2000];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)pn_test_rand(&rs);
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, sizeof src);
    ck_assert_ptr_nonnull(b);
    EXPECT_INT(pni_buf_copyin(b, 0, src, sizeof src), 0);
    EXPECT_UINT(pni_buf_copyout(b, 0, dst, sizeof dst), sizeof dst);
    EXPECT_MEM(src, dst, sizeof src);
    for (int k = 0; k < 500; k++) {
        size_t off = pn_test_rand(&rs) % sizeof src;
        size_t len = pn_test_rand(&rs) % (sizeof src - off + 1);
        memset(dst, 0, sizeof dst);
        EXPECT_UINT(pni_buf_copyout(b, off, dst, len), len);
        EXPECT_MEM(dst, src + off, len);
    }
    /* Past the end: short copy; copyin refuses. */
    EXPECT_UINT(pni_buf_copyout(b, 1990, dst, 100), 10);
    EXPECT_INT(pni_buf_copyin(b, 1990, src, 11), -1);
    EXPECT_INT(pni_buf_copyin(b, 2001, src, 0), -1);
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_trim_frees_tail_segments)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 1500);
    EXPECT_INT(segs(b), 3);
    EXPECT_INT(pni_buf_trim(S, b, 1600), -1);
    EXPECT_INT(pni_buf_trim(S, b, 700), 0);
    EXPECT_INT(segs(b), 2);
    EXPECT_UINT(b->tot_len, 700);
    EXPECT_UINT(b->next->len, 188);
    ck_assert(pni_buf_check(b));
    EXPECT_UINT(S->stats.pool[PN_POOL_RXBUF].used, 2);
    EXPECT_INT(pni_buf_trim(S, b, 512), 0);
    EXPECT_INT(segs(b), 1);
    EXPECT_INT(pni_buf_trim(S, b, 0), 0);
    EXPECT_UINT(b->tot_len, 0);
    ck_assert(pni_buf_check(b));
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_cat_and_refcounts)
{
    pni_buf *h = pni_buf_alloc(S, PN_POOL_TXBUF, PNI_LAYER_IP, 20);
    pni_buf *t = pni_buf_alloc(S, PN_POOL_TXBUF, PNI_LAYER_RAW, 600);
    memset(pni_buf_data(h), 'h', 20);
    pni_buf_copyin(t, 0, memset((uint8_t[600]){0}, 't', 600), 600);
    EXPECT_INT(pni_buf_ref(t), 0); /* we keep a pointer to t */
    pni_buf_cat(h, t);
    EXPECT_UINT(h->tot_len, 620);
    ck_assert(pni_buf_check(h));
    uint8_t out[620];
    EXPECT_UINT(pni_buf_copyout(h, 0, out, 620), 620);
    EXPECT_INT(out[19], 'h');
    EXPECT_INT(out[20], 't');
    EXPECT_INT(out[619], 't');
    pni_buf_free(S, h); /* frees h; t still referenced by us */
    EXPECT_UINT(S->stats.pool[PN_POOL_TXBUF].used, 2);
    EXPECT_UINT(t->ref, 1);
    pni_buf_free(S, t);
}
END_TEST

START_TEST(test_buf_pool_exhaustion_gives_null_and_no_leak)
{
    pni_buf *a = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 6 * 512);
    ck_assert_ptr_nonnull(a);
    EXPECT_UINT(S->stats.pool[PN_POOL_RXBUF].used, 6);
    /* Needs 3 segments, 2 are left: the partial chain must be undone. */
    ck_assert_ptr_null(pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 3 * 512));
    EXPECT_UINT(S->stats.pool[PN_POOL_RXBUF].used, 6);
    ck_assert_uint_ge(S->stats.rx_nobufs, 1);
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 2 * 512);
    ck_assert_ptr_nonnull(b);
    pni_buf_free(S, a);
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_csum_chain_equals_flat)
{
    uint64_t rs = 99;
    uint8_t flat[1500];
    for (int k = 0; k < 200; k++) {
        size_t len = 1 + pn_test_rand(&rs) % sizeof flat;
        for (size_t i = 0; i < len; i++)
            flat[i] = (uint8_t)pn_test_rand(&rs);
        /* An odd first segment forces the odd-boundary swap. */
        pni_buf *h = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, len);
        size_t first = 1 + pn_test_rand(&rs) % 300;
        if (first > len)
            first = len;
        pni_buf_trim(S, h, first);
        if (len > first) {
            pni_buf *t = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, len - first);
            pni_buf_cat(h, t);
        }
        pni_buf_copyin(h, 0, flat, len);
        size_t off = pn_test_rand(&rs) % len;
        size_t n = len - off;
        EXPECT_UINT(pni_csum_fold(pni_buf_csum(h, off, n)), pni_csum_fold(pni_csum_partial(flat + off, n, 0)));
        pni_buf_free(S, h);
    }
}
END_TEST

START_TEST(test_buf_linearize_pulls_from_next)
{
    pni_buf *h = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    pni_buf *t = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 30);
    pni_buf_cat(h, t);
    uint8_t src[40];
    for (int i = 0; i < 40; i++)
        src[i] = (uint8_t)i;
    pni_buf_copyin(h, 0, src, 40);
    uint8_t *p = pni_buf_linearize(S, h, 25);
    ck_assert_ptr_nonnull(p);
    EXPECT_MEM(p, src, 25);
    EXPECT_UINT(h->len, 25);
    EXPECT_UINT(h->tot_len, 40);
    ck_assert(pni_buf_check(h));
    /* All of it: the second segment empties and goes back to the pool. */
    p = pni_buf_linearize(S, h, 40);
    EXPECT_MEM(p, src, 40);
    ck_assert_ptr_null(h->next);
    EXPECT_UINT(S->stats.pool[PN_POOL_RXBUF].used, 1);
    ck_assert_ptr_null(pni_buf_linearize(S, h, 41));
    pni_buf_free(S, h);
}
END_TEST

START_TEST(test_buf_view_copy)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 700);
    uint8_t src[700], dst[700];
    for (int i = 0; i < 700; i++)
        src[i] = (uint8_t)(i * 7);
    pni_buf_copyin(b, 0, src, 700);
    pn_pktview v;
    pni_buf_view(b, &v);
    EXPECT_UINT(v.tot_len, 700);
    EXPECT_UINT(v.head_len, 512);
    EXPECT_UINT(pn_pktview_copy(&v, 500, dst, 200), 200);
    EXPECT_MEM(dst, src + 500, 200);
    pni_buf_free(S, b);
}
END_TEST

#ifdef PN_DEBUG
/* Debug builds trap on a double free or a refcount overflow. */
START_TEST(test_buf_double_free_traps_in_debug)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    pni_buf_free(S, b);
    pni_buf_free(S, b);
}
END_TEST

START_TEST(test_buf_ref_overflow_traps_in_debug)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    for (int i = 0; i < 300; i++)
        pni_buf_ref(b);
}
END_TEST
#else
/* Release builds refuse and count: the pool stays consistent. */
START_TEST(test_buf_double_free_refused_and_counted)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    pni_buf_free(S, b);
    pni_buf_free(S, b);
    EXPECT_UINT(S->stats.buf_double_free, 1);
    EXPECT_UINT(S->stats.pool[PN_POOL_RXBUF].used, 0);
    /* The pool still hands out distinct buffers. */
    pni_buf *x = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    pni_buf *y = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    ck_assert_ptr_ne(x, y);
    pni_buf_free(S, x);
    pni_buf_free(S, y);
    S->stats.buf_double_free = 0;
}
END_TEST

START_TEST(test_buf_ref_overflow_refused)
{
    pni_buf *b = pni_buf_alloc(S, PN_POOL_RXBUF, PNI_LAYER_RAW, 10);
    int refused = 0;
    for (int i = 0; i < 300; i++)
        if (pni_buf_ref(b) != 0)
            refused++;
    EXPECT_INT(refused, 300 - 254);
    EXPECT_UINT(b->ref, 255);
    for (int i = 0; i < 255; i++)
        pni_buf_free(S, b);
}
END_TEST
#endif

Suite *
buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_buf_headroom_per_layer);
    tcase_add_test(tc, test_buf_push_pull_across_layers_no_copy);
    tcase_add_test(tc, test_buf_push_beyond_headroom_fails_cleanly);
    tcase_add_test(tc, test_buf_chain_alloc_and_invariant);
    tcase_add_test(tc, test_buf_copy_in_out_random_ranges);
    tcase_add_test(tc, test_buf_trim_frees_tail_segments);
    tcase_add_test(tc, test_buf_cat_and_refcounts);
    tcase_add_test(tc, test_buf_pool_exhaustion_gives_null_and_no_leak);
    tcase_add_test(tc, test_buf_csum_chain_equals_flat);
    tcase_add_test(tc, test_buf_linearize_pulls_from_next);
    tcase_add_test(tc, test_buf_view_copy);
    suite_add_tcase(s, tc);
#ifdef PN_DEBUG
    TCase *dbg = tcase_create("buf_debug_traps");
    tcase_add_checked_fixture(dbg, setup, NULL);
    tcase_add_test_raise_signal(dbg, test_buf_double_free_traps_in_debug, SIGILL);
    tcase_add_test_raise_signal(dbg, test_buf_ref_overflow_traps_in_debug, SIGILL);
    suite_add_tcase(s, dbg);
#else
    tcase_add_test(tc, test_buf_double_free_refused_and_counted);
    tcase_add_test(tc, test_buf_ref_overflow_refused);
#endif
    return s;
}
