/*
 * check_arena.c -- arena sizing, config validation, pools.
 */
#include <stdlib.h>
#include <string.h>

#include "pn_check.h"
#include "pn_internal.h"

static void
base_cfg(pn_config *c)
{
    pn_config_default(c);
    c->mac = (pn_mac){{0x02, 0, 0, 0, 0, 1}};
    c->n_addrs = 1;
    c->addrs[0].addr = PN_IP4(10, 0, 0, 1);
    c->addrs[0].prefix_len = 24;
}

static void *
aligned_arena(size_t n)
{
    void *p = NULL;
    ck_assert_int_eq(posix_memalign(&p, 64, n + 64), 0);
    return p;
}

START_TEST(test_arena_size_null_is_zero)
{
    EXPECT_UINT(pn_arena_size(NULL), 0);
}
END_TEST

START_TEST(test_arena_nonsense_configs_rejected)
{
    pn_config c;
    int err = 0;
    uint8_t *a = aligned_arena(1 << 20);
    for (int k = 0; k < 12; k++) {
        base_cfg(&c);
        switch (k) {
        case 0: c.medium = 7; break;
        case 1: c.mtu = 67; break;
        case 2: c.n_addrs = PN_MAX_ADDRS + 1; break;
        case 3: c.addrs[0].prefix_len = 33; break;
        case 4: c.addrs[0].addr = PN_IP4(0, 0, 0, 0); break;
        case 5: c.addrs[0].addr = PN_IP4(224, 0, 0, 1); break;
        case 6: c.mac.b[0] = 0x01; break; /* multicast MAC */
        case 7:
            c.n_routes = 1;
            c.routes[0].prefix_len = 0;
            c.routes[0].gateway = PN_IP4(192, 168, 9, 1); /* not on link */
            break;
        case 8: c.rx_bufs = 1; break;
        case 9: c.buf_size = 100; break;
        case 10: c.hook_mask = 1u << PN_HOOK_COUNT; break;
        case 11: c.n_routes = PN_MAX_ROUTES + 1; break;
        }
        EXPECT_UINT(pn_arena_size(&c), 0);
        err = 0;
        ck_assert_ptr_null(pn_stack_new(a, 1 << 20, &c, &err));
        ck_assert_msg(err == PN_EINVAL, "case %d: err %d", k, err);
    }
    free(a);
}
END_TEST

START_TEST(test_arena_misaligned_and_short)
{
    pn_config c;
    base_cfg(&c);
    size_t need = pn_arena_size(&c);
    ck_assert_uint_gt(need, sizeof(pn_stack));
    EXPECT_UINT(need % PN_ARENA_ALIGN, 0);
    uint8_t *a = aligned_arena(need + 16);
    int err = 0;
    ck_assert_ptr_null(pn_stack_new(a + 1, need, &c, &err));
    EXPECT_INT(err, PN_EALIGN);
    ck_assert_ptr_null(pn_stack_new(a + 8, need, &c, &err));
    EXPECT_INT(err, PN_EALIGN);
    ck_assert_ptr_null(pn_stack_new(a, need - 1, &c, &err));
    EXPECT_INT(err, PN_ENOMEM);
    ck_assert_ptr_null(pn_stack_new(NULL, need, &c, &err));
    EXPECT_INT(err, PN_EINVAL);
    ck_assert_ptr_null(pn_stack_new(a, need, NULL, &err));
    EXPECT_INT(err, PN_EINVAL);
    ck_assert_ptr_nonnull(pn_stack_new(a, need, &c, NULL));
    free(a);
}
END_TEST

/* The size is exact: an instance placed right before an unmapped page
 * never touches it, even with every pool drained to empty. */
START_TEST(test_arena_size_exact_guard_page)
{
    pn_config c;
    base_cfg(&c);
    c.rx_bufs = 5;
    c.tx_bufs = 7;
    size_t need = pn_arena_size(&c);
    uint8_t *zero = calloc(1, need);
    uint8_t *a = pn_test_guard(zero, need);
    int err = 0;
    pn_stack *s = pn_stack_new(a, need, &c, &err);
    ck_assert_ptr_nonnull(s);
    pni_buf *held[16];
    int n = 0;
    while (n < 16 && (held[n] = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_RAW, s->buf_size)) != NULL) {
        memset(pni_buf_data(held[n]), 0xab, held[n]->len);
        n++;
    }
    EXPECT_INT(n, 7);
    int m = 0;
    pni_buf *rx[8];
    while (m < 8 && (rx[m] = pni_buf_alloc(s, PN_POOL_RXBUF, PNI_LAYER_RAW, s->buf_size)) != NULL) {
        memset(pni_buf_data(rx[m]), 0xcd, rx[m]->len);
        m++;
    }
    EXPECT_INT(m, 5);
    for (int i = 0; i < n; i++)
        pni_buf_free(s, held[i]);
    for (int i = 0; i < m; i++)
        pni_buf_free(s, rx[i]);
    pn_test_pools_empty(s);
    pn_test_guard_free(a, need);
    free(zero);
}
END_TEST

/* RFC 791: 68 is the smallest MTU every host must handle; the default
 * block size must still fit full headers. */
START_TEST(test_arena_min_mtu_default_blocks)
{
    pn_config c;
    base_cfg(&c);
    c.mtu = 68;
    size_t need = pn_arena_size(&c);
    ck_assert_uint_gt(need, 0);
    uint8_t *a = aligned_arena(need);
    pn_stack *s = pn_stack_new(a, need, &c, NULL);
    ck_assert_ptr_nonnull(s);
    EXPECT_UINT(s->buf_size, 256);
    free(a);
}
END_TEST

START_TEST(test_arena_size_grows_with_pools)
{
    pn_config c;
    base_cfg(&c);
    size_t small = pn_arena_size(&c);
    c.rx_bufs = 200;
    size_t big = pn_arena_size(&c);
    ck_assert_uint_gt(big, small + 136 * 1600);
}
END_TEST

START_TEST(test_pool_stats_used_peak_failed)
{
    pn_config c;
    base_cfg(&c);
    c.tx_bufs = 4;
    size_t need = pn_arena_size(&c);
    uint8_t *a = aligned_arena(need);
    pn_stack *s = pn_stack_new(a, need, &c, NULL);
    ck_assert_ptr_nonnull(s);
    const pn_stats *st = pn_stats_get(s);
    EXPECT_UINT(st->pool[PN_POOL_TXBUF].capacity, 4);
    EXPECT_UINT(st->pool[PN_POOL_RXBUF].capacity, 64);
    pni_buf *b[5];
    for (int i = 0; i < 4; i++) {
        b[i] = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, 10);
        ck_assert_ptr_nonnull(b[i]);
        EXPECT_UINT(st->pool[PN_POOL_TXBUF].used, (unsigned)i + 1);
    }
    b[4] = pni_buf_alloc(s, PN_POOL_TXBUF, PNI_LAYER_TRANSPORT, 10);
    ck_assert_ptr_null(b[4]);
    EXPECT_UINT(st->pool[PN_POOL_TXBUF].failed, 1);
    EXPECT_UINT(st->tx_nobufs, 1);
    pni_buf_free(s, b[1]);
    pni_buf_free(s, b[2]);
    EXPECT_UINT(st->pool[PN_POOL_TXBUF].used, 2);
    EXPECT_UINT(st->pool[PN_POOL_TXBUF].peak, 4);
    pni_buf_free(s, b[0]);
    pni_buf_free(s, b[3]);
    pn_test_pools_empty(s);
    free(a);
}
END_TEST

START_TEST(test_pool_rejects_foreign_and_double_free)
{
    pn_config c;
    base_cfg(&c);
    size_t need = pn_arena_size(&c);
    uint8_t *a = aligned_arena(need);
    pn_stack *s = pn_stack_new(a, need, &c, NULL);
    pni_pool *p = &s->pool[PN_POOL_UDP];
    void *o = pni_pool_alloc(p);
    ck_assert_ptr_nonnull(o);
    EXPECT_INT(pni_pool_free(p, (uint8_t *)o + 1), -1); /* not an object start */
    int local;
    EXPECT_INT(pni_pool_free(p, &local), -1);            /* not from the pool */
    EXPECT_INT(pni_pool_free(p, o), 0);
    EXPECT_INT(pni_pool_free(p, o), -1);                 /* double free */
    ck_assert_ptr_null(pni_pool_at(p, pni_pool_index(p, o)));
    pn_test_pools_empty(s);
    free(a);
}
END_TEST

/* Two instances in one process never touch each other. */
START_TEST(test_arena_two_instances_independent)
{
    pn_config c;
    base_cfg(&c);
    size_t need = pn_arena_size(&c);
    uint8_t *a = aligned_arena(need), *b = aligned_arena(need);
    pn_stack *s1 = pn_stack_new(a, need, &c, NULL);
    c.addrs[0].addr = PN_IP4(10, 0, 0, 2);
    pn_stack *s2 = pn_stack_new(b, need, &c, NULL);
    pni_buf *x = pni_buf_alloc(s1, PN_POOL_RXBUF, PNI_LAYER_RAW, 100);
    EXPECT_UINT(pn_stats_get(s1)->pool[PN_POOL_RXBUF].used, 1);
    EXPECT_UINT(pn_stats_get(s2)->pool[PN_POOL_RXBUF].used, 0);
    pni_buf_free(s1, x);
    pn_test_pools_empty(s1);
    pn_test_pools_empty(s2);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_strerror_every_code)
{
    for (int e = 0; e >= PN_ERRNO_MIN; e--) {
        const char *m = pn_strerror(e);
        ck_assert_ptr_nonnull(m);
        ck_assert_str_ne(m, "unknown error");
    }
    ck_assert_str_eq(pn_strerror(PN_ERRNO_MIN - 1), "unknown error");
    ck_assert_str_eq(pn_strerror(5), "unknown error");
    ck_assert_str_eq(pn_strerror(PN_ENOBUFS), "no buffer space");
}
END_TEST

START_TEST(test_stats_names_cover_struct)
{
    size_t n = pn_stats_count();
    ck_assert_uint_gt(n, 50);
    ck_assert_uint_le(n * sizeof(uint64_t), offsetof(pn_stats, pool));
    ck_assert_str_eq(pn_stats_name(0), "frames_in");
    ck_assert_ptr_null(pn_stats_name(n));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_str_ne(pn_stats_name(i), pn_stats_name(j));
    ck_assert_str_eq(pn_pool_name(PN_POOL_RXBUF), "rxbuf");
}
END_TEST

START_TEST(test_api_misuse_null_stack)
{
    uint8_t buf[64] = {0};
    EXPECT_INT(pn_inject_raw(NULL, buf, 10, 0), PN_EINVAL);
    EXPECT_INT(pn_drain_raw(NULL, buf, sizeof buf), PN_EINVAL);
    EXPECT_UINT(pn_next_deadline(NULL), PN_TIME_NEVER);
    ck_assert_ptr_null(pn_stats_get(NULL));
    pn_poll(NULL, 5); /* harmless */
}
END_TEST

START_TEST(test_time_never_goes_backwards)
{
    pn_config c;
    base_cfg(&c);
    size_t need = pn_arena_size(&c);
    uint8_t *a = aligned_arena(need);
    pn_stack *s = pn_stack_new(a, need, &c, NULL);
    pn_poll(s, 1000);
    EXPECT_UINT(s->now, 1000);
    pn_poll(s, 10);
    EXPECT_UINT(s->now, 1000);
    pn_poll(s, 2000);
    EXPECT_UINT(s->now, 2000);
    free(a);
}
END_TEST

Suite *
arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_add_test(tc, test_arena_size_null_is_zero);
    tcase_add_test(tc, test_arena_nonsense_configs_rejected);
    tcase_add_test(tc, test_arena_misaligned_and_short);
    tcase_add_test(tc, test_arena_size_exact_guard_page);
    tcase_add_test(tc, test_arena_min_mtu_default_blocks);
    tcase_add_test(tc, test_arena_size_grows_with_pools);
    tcase_add_test(tc, test_pool_stats_used_peak_failed);
    tcase_add_test(tc, test_pool_rejects_foreign_and_double_free);
    tcase_add_test(tc, test_arena_two_instances_independent);
    tcase_add_test(tc, test_strerror_every_code);
    tcase_add_test(tc, test_stats_names_cover_struct);
    tcase_add_test(tc, test_api_misuse_null_stack);
    tcase_add_test(tc, test_time_never_goes_backwards);
    suite_add_tcase(s, tc);
    return s;
}
