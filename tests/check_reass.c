/*
 * check_reass.c -- IPv4 reassembly (lib/reass.c), at the unit level:
 * fragments built by hand are fed to pni_reass_input on a real stack.
 * Every test ends with all pools back to zero use (pnt_free).
 */
#include <stdlib.h>
#include <string.h>

#include "helper_ipfrag.h"

#define UDP PNI_IPPROTO_UDP

static const pn_stats *
st(const pn_stack *s)
{
    return pn_stats_get(s);
}

/* Split total payload bytes into fragments of fsz bytes (a multiple of 8)
 * and feed them in the order given by idx (NULL: in order). Returns what
 * the last call returned; earlier calls must return NULL. */
static pni_buf *
feed_all(pn_stack *s, const pnt_dgram *d, uint32_t total, uint32_t fsz, const uint32_t *idx,
         uint32_t n)
{
    pni_buf *out = NULL;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = idx != NULL ? idx[k] : k;
        uint32_t off = i * fsz;
        uint32_t len = total - off < fsz ? total - off : fsz;
        ck_assert_ptr_null(out);
        out = pnt_feed(s, d, off, len, off + len < total);
    }
    return out;
}

static uint32_t
nfrags(uint32_t total, uint32_t fsz)
{
    return (total + fsz - 1) / fsz;
}

START_TEST(test_reass_in_order)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram d = pnt_dg(0x1234);
    pni_buf *b = feed_all(s, &d, 8000, 1480, NULL, nfrags(8000, 1480));
    pnt_check_dgram(b, d.id, 8000, 20);
    EXPECT_UINT(st(s)->reass_ok, 1);
    EXPECT_UINT(st(s)->reass_bytes, 0); /* the datagram is the caller's now */
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
    EXPECT_UINT(pn_next_deadline(s), PN_TIME_NEVER);
    pni_buf_free(s, b);
    pnt_free(s);
}
END_TEST

START_TEST(test_reass_reverse_order)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram d = pnt_dg(7);
    uint32_t n = nfrags(8000, 1480), idx[16];
    for (uint32_t i = 0; i < n; i++)
        idx[i] = n - 1 - i;
    pni_buf *b = feed_all(s, &d, 8000, 1480, idx, n);
    pnt_check_dgram(b, d.id, 8000, 20);
    pni_buf_free(s, b);
    EXPECT_UINT(st(s)->reass_ok, 1);
    pnt_free(s);
}
END_TEST

/* Random sizes and fragment sizes, random order, many rounds. */
START_TEST(test_reass_random_order)
{
    pn_stack *s = pnt_stack(NULL);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    static uint32_t idx[65536 / 8];
    for (int round = 0; round < 200; round++) {
        uint32_t total = 9 + (uint32_t)(pn_test_rand(&seed) % 30000);
        uint32_t fsz = 8 * (1 + (uint32_t)(pn_test_rand(&seed) % 185)); /* 8..1480 */
        uint32_t n = nfrags(total, fsz);
        if (n < 2)
            continue;
        if (n > 40) { /* keep within the memory budget */
            fsz = ((total + 39) / 40 + 7) & ~7u;
            n = nfrags(total, fsz);
        }
        for (uint32_t i = 0; i < n; i++)
            idx[i] = i;
        pnt_shuffle(idx, n, &seed);
        pnt_dgram d = pnt_dg((uint16_t)round);
        pni_buf *b = feed_all(s, &d, total, fsz, idx, n);
        pnt_check_dgram(b, d.id, total, 20);
        pni_buf_free(s, b);
        pn_test_pools_empty(s);
    }
    EXPECT_UINT(st(s)->reass_dup + st(s)->reass_overlap + st(s)->reass_mem + st(s)->reass_bad, 0);
    pnt_free(s);
}
END_TEST

/* Several datagrams interleaved, same src/dst, different ids and protos. */
START_TEST(test_reass_interleaved_keys)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram a = pnt_dg(1), b = pnt_dg(1), c = pnt_dg(2);
    b.proto = PNI_IPPROTO_ICMP; /* same id, other protocol: another datagram */
    ck_assert_ptr_null(pnt_feed(s, &a, 0, 1000, 1));
    ck_assert_ptr_null(pnt_feed(s, &b, 1000, 500, 0));
    ck_assert_ptr_null(pnt_feed(s, &c, 0, 16, 1));
    pni_buf *x = pnt_feed(s, &b, 0, 1000, 1); /* completes b only */
    pnt_check_dgram(x, 1, 1500, 20);
    EXPECT_UINT(pni_buf_data(x)[9], PNI_IPPROTO_ICMP);
    pni_buf_free(s, x);
    EXPECT_UINT(st(s)->reass_ok, 1);
    x = pnt_feed(s, &c, 16, 8, 0);
    pnt_check_dgram(x, 2, 24, 20);
    pni_buf_free(s, x);
    x = pnt_feed(s, &a, 1000, 3, 0);
    pnt_check_dgram(x, 1, 1003, 20);
    pni_buf_free(s, x);
    EXPECT_UINT(st(s)->reass_ok, 3);
    pnt_free(s);
}
END_TEST

START_TEST(test_reass_duplicates_tolerated)
{
    pn_stack *s = pnt_stack(NULL);
    uint64_t seed = 42;
    pnt_dgram d = pnt_dg(99);
    uint32_t total = 6000, fsz = 800, n = nfrags(total, fsz);
    uint32_t idx[32];
    for (uint32_t i = 0; i < n; i++)
        idx[i] = idx[n + i] = i;
    pnt_shuffle(idx, 2 * n, &seed);
    pni_buf *out = NULL;
    uint32_t fed = 0, dups = 0;
    uint8_t seen[32] = {0};
    for (uint32_t k = 0; k < 2 * n && out == NULL; k++) {
        uint32_t off = idx[k] * fsz, len = total - off < fsz ? total - off : fsz;
        dups += seen[idx[k]];
        seen[idx[k]] = 1;
        out = pnt_feed(s, &d, off, len, off + len < total);
        fed++;
    }
    pnt_check_dgram(out, d.id, total, 20);
    pni_buf_free(s, out);
    EXPECT_UINT(st(s)->reass_dup, dups);
    ck_assert_uint_gt(dups, 0);
    EXPECT_UINT(st(s)->reass_ok, 1);
    /* A straggling duplicate after completion opens a new datagram that
     * can only time out. */
    ck_assert_ptr_null(pnt_feed(s, &d, 0, fsz, 1));
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 1);
    pn_poll(s, pn_next_deadline(s));
    EXPECT_UINT(st(s)->reass_timeout, 1);
    pnt_free(s);
}
END_TEST

/* Each pair overlaps with a different extent: the whole datagram goes. */
START_TEST(test_reass_overlap_drops_whole)
{
    static const struct {
        uint32_t o1, l1, o2, l2;
    } cases[] = {
        {0, 16, 8, 16},    /* tail overlap */
        {8, 16, 0, 16},    /* head overlap */
        {0, 32, 8, 8},     /* contained */
        {8, 8, 0, 32},     /* containing */
        {0, 16, 0, 24},    /* same start, longer */
        {0, 24, 0, 16},    /* same start, shorter */
        {16, 16, 8, 16},   /* inside from below */
        {64, 8, 56, 16},   /* overlaps a later fragment's start */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pn_stack *s = pnt_stack(NULL);
        pnt_dgram d = pnt_dg((uint16_t)k);
        /* Some unrelated held fragment of the same datagram first. */
        ck_assert_ptr_null(pnt_feed(s, &d, 200, 8, 1));
        ck_assert_ptr_null(pnt_feed(s, &d, cases[k].o1, cases[k].l1, 1));
        ck_assert_ptr_null(pnt_feed(s, &d, cases[k].o2, cases[k].l2, 1));
        ck_assert_msg(st(s)->reass_overlap == 1, "case %zu", k);
        EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
        EXPECT_UINT(st(s)->reass_bytes, 0);
        EXPECT_UINT(pn_next_deadline(s), PN_TIME_NEVER);
        /* The rest of the datagram starts afresh and cannot complete. */
        ck_assert_ptr_null(pnt_feed(s, &d, 208, 8, 0));
        EXPECT_UINT(st(s)->reass_ok, 0);
        pn_poll(s, pn_next_deadline(s));
        EXPECT_UINT(st(s)->reass_timeout, 1);
        pnt_free(s);
    }
}
END_TEST

/* The overlap policy holds whatever the arrival order of the parts. */
START_TEST(test_reass_overlap_random_order)
{
    pn_stack *s = pnt_stack(NULL);
    uint64_t seed = 7;
    for (int round = 0; round < 50; round++) {
        pnt_dgram d = pnt_dg((uint16_t)(1000 + round));
        /* 0..2000 in 400-byte fragments plus one rogue [o, o+400+8). */
        uint32_t idx[6] = {0, 1, 2, 3, 4, 5};
        pnt_shuffle(idx, 6, &seed);
        uint64_t before = st(s)->reass_overlap;
        pni_buf *out = NULL;
        for (int k = 0; k < 6; k++) {
            if (idx[k] == 5)
                out = pnt_feed(s, &d, 400 * (1 + (uint32_t)(round % 3)), 408, 1);
            else
                out = pnt_feed(s, &d, idx[k] * 400, 400, idx[k] != 4);
            if (out != NULL)
                break;
        }
        if (out != NULL) {
            /* Completed before the rogue was due (it is not sent). */
            pnt_check_dgram(out, d.id, 2000, 20);
            pni_buf_free(s, out);
        } else {
            EXPECT_UINT(st(s)->reass_overlap, before + 1);
        }
        pn_poll(s, s->now + s->cfg.reass_timeout_us);
        pnt_drain(s); /* time exceeded messages */
        pn_test_pools_empty(s);
    }
    EXPECT_UINT(st(s)->reass_ok + st(s)->reass_overlap, 50);
    pnt_free(s);
}
END_TEST

START_TEST(test_reass_bad_fragments)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram d = pnt_dg(5);
    /* MF=1 with a payload not a multiple of 8. */
    ck_assert_ptr_null(pnt_feed(s, &d, 0, 12, 1));
    EXPECT_UINT(st(s)->reass_bad, 1);
    /* Zero-length fragments, more or last. */
    ck_assert_ptr_null(pnt_feed(s, &d, 8, 0, 1));
    ck_assert_ptr_null(pnt_feed(s, &d, 8, 0, 0));
    EXPECT_UINT(st(s)->reass_bad, 3);
    /* Past 65535: offset 65528 + 16. */
    ck_assert_ptr_null(pnt_feed(s, &d, 65528, 16, 0));
    EXPECT_UINT(st(s)->reass_too_big, 1);
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
    /* Two different ends: the datagram goes. */
    ck_assert_ptr_null(pnt_feed(s, &d, 0, 8, 1));
    ck_assert_ptr_null(pnt_feed(s, &d, 16, 8, 0));
    ck_assert_ptr_null(pnt_feed(s, &d, 16, 16, 0));
    EXPECT_UINT(st(s)->reass_bad, 4);
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
    /* Data past a known end. */
    ck_assert_ptr_null(pnt_feed(s, &d, 16, 8, 0));
    ck_assert_ptr_null(pnt_feed(s, &d, 24, 8, 1));
    EXPECT_UINT(st(s)->reass_bad, 5);
    /* A last fragment ending before data already held. */
    ck_assert_ptr_null(pnt_feed(s, &d, 32, 8, 1));
    ck_assert_ptr_null(pnt_feed(s, &d, 8, 8, 0));
    EXPECT_UINT(st(s)->reass_bad, 6);
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
    EXPECT_UINT(st(s)->reass_ok, 0);
    pnt_free(s);
}
END_TEST

/* 65535 exactly is fine; the first fragment's options count toward it. */
START_TEST(test_reass_max_size)
{
    pn_config c;
    pnt_cfg(&c);
    c.rx_bufs = 128;
    c.reass_max_bytes = 1u << 20;
    pn_stack *s = pnt_stack(&c);
    pnt_dgram d = pnt_dg(77);
    uint32_t total = 65535 - 20;
    pni_buf *b = feed_all(s, &d, total, 1480, NULL, nfrags(total, 1480));
    pnt_check_dgram(b, d.id, total, 20);
    pni_buf_free(s, b);
    /* With 8 bytes of options in fragment zero the same payload is 8 too
     * many: dropped whole at completion. */
    static const uint8_t opts[8] = {0x94, 4, 0, 0, 1, 1, 1, 0};
    d = pnt_dg(78);
    d.opts = opts;
    d.opt_len = 8;
    ck_assert_ptr_null(feed_all(s, &d, total, 1480, NULL, nfrags(total, 1480)));
    EXPECT_UINT(st(s)->reass_too_big, 1);
    EXPECT_UINT(st(s)->reass_ok, 1);
    pnt_free(s);
}
END_TEST

/* Fragment zero's header, options included, heads the datagram (RFC 791). */
START_TEST(test_reass_first_header_kept)
{
    pn_stack *s = pnt_stack(NULL);
    static const uint8_t opts[12] = {0x07, 7, 4, 0, 0, 0, 0, 0x01, 0x94, 4, 0, 0};
    pnt_dgram d = pnt_dg(3);
    d.opts = opts;
    d.opt_len = 12;
    d.df = 0;
    ck_assert_ptr_null(pnt_feed(s, &d, 1000, 500, 0));
    pni_buf *b = pnt_feed(s, &d, 0, 1000, 1);
    pnt_check_dgram(b, d.id, 1500, 32);
    uint8_t h[32];
    pni_buf_copyout(b, 0, h, 32);
    EXPECT_MEM(h + 20, opts, 12);
    EXPECT_UINT(h[9], UDP);
    pni_buf_free(s, b);
    pnt_free(s);
}
END_TEST

/* Link padding after tot_len is not taken for payload. */
START_TEST(test_reass_link_padding_trimmed)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram d = pnt_dg(4);
    d.pad = 6;
    ck_assert_ptr_null(pnt_feed(s, &d, 0, 8, 1));
    pni_buf *b = pnt_feed(s, &d, 8, 2, 0);
    pnt_check_dgram(b, d.id, 10, 20);
    pni_buf_free(s, b);
    pnt_free(s);
}
END_TEST

/* A packet that is not a fragment passes through untouched. */
START_TEST(test_reass_not_a_fragment)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram d = pnt_dg(4);
    pni_ip4_repr ip;
    pni_buf *in = pnt_frag(s, &d, 0, 100, 0, &ip);
    pni_buf *out = pni_reass_input(s, in, &ip);
    ck_assert_ptr_eq(out, in);
    pni_buf_free(s, out);
    EXPECT_UINT(st(s)->reass_ok, 0);
    pnt_free(s);
}
END_TEST

/* Small blocks: each fragment is a chain of several segments; the
 * datagram is a chain of chains, and every segment is charged. */
START_TEST(test_reass_chained_segments)
{
    pn_config c;
    pnt_cfg(&c);
    c.buf_size = 256;
    c.rx_bufs = 256;
    pn_stack *s = pnt_stack(&c);
    pnt_dgram d = pnt_dg(11);
    uint32_t idx[4] = {2, 0, 3, 1};
    ck_assert_ptr_null(pnt_feed(s, &d, 1480, 1480, 1));
    /* 20 + 1480 bytes in 256-byte blocks: 6 segments, header pulled off
     * the first one (1480 fit in 6 still). */
    ck_assert_uint_eq(st(s)->reass_bytes % 256, 0);
    ck_assert_uint_ge(st(s)->reass_bytes, 6 * 256);
    pni_buf *b = NULL;
    for (int k = 0; k < 4; k++) {
        if (idx[k] == 1)
            continue;
        uint32_t off = idx[k] * 1480, len = idx[k] == 3 ? 100 : 1480;
        ck_assert_ptr_null(b);
        b = pnt_feed(s, &d, off, len, idx[k] != 3);
    }
    pnt_check_dgram(b, d.id, 3 * 1480 + 100, 20);
    pni_buf_free(s, b);
    pnt_free(s);
}
END_TEST

START_TEST(test_reass_timeout_exact)
{
    pn_config c;
    pnt_cfg(&c);
    c.reass_timeout_us = 15000000; /* RFC 791's 15 s */
    pn_stack *s = pnt_stack(&c);
    pnt_dgram d = pnt_dg(21);
    EXPECT_UINT(pn_next_deadline(s), PN_TIME_NEVER);
    pn_poll(s, 1000);
    ck_assert_ptr_null(pnt_feed(s, &d, 0, 1480, 1));
    EXPECT_UINT(pn_next_deadline(s), 1000 + 15000000);
    /* More fragments later do not extend it (the timer runs from the
     * first one). */
    pn_poll(s, 5000000);
    ck_assert_ptr_null(pnt_feed(s, &d, 2960, 8, 0));
    EXPECT_UINT(pn_next_deadline(s), 1000 + 15000000);
    pn_poll(s, 1000 + 15000000 - 1);
    EXPECT_UINT(st(s)->reass_timeout, 0);
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 1);
    /* Time going backwards is no time passing. */
    pn_poll(s, 10);
    EXPECT_UINT(st(s)->reass_timeout, 0);
    pn_poll(s, 1000 + 15000000);
    EXPECT_UINT(st(s)->reass_timeout, 1);
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
    EXPECT_UINT(st(s)->reass_bytes, 0);
    EXPECT_UINT(pn_next_deadline(s), PN_TIME_NEVER);
    /* The missing middle fragment now starts afresh. */
    ck_assert_ptr_null(pnt_feed(s, &d, 1480, 1480, 1));
    EXPECT_UINT(pn_next_deadline(s), 1000 + 15000000 + 15000000);
    pn_poll(s, UINT64_MAX - 1);
    EXPECT_UINT(st(s)->reass_timeout, 2);
    pnt_free(s);
}
END_TEST

/* RFC 792 / RFC 1122 3.3.2: time exceeded, code 1, quoting fragment zero,
 * only when fragment zero was received. */
START_TEST(test_reass_timeout_icmp)
{
    pn_stack *s = pnt_stack(NULL);
    pnt_dgram d = pnt_dg(0x4242);
    ck_assert_ptr_null(pnt_feed(s, &d, 1480, 8, 0)); /* no fragment zero */
    pn_poll(s, pn_next_deadline(s));
    EXPECT_UINT(st(s)->reass_timeout, 1);
    EXPECT_UINT(pn_drain_peek(s), 0);
    ck_assert_ptr_null(pnt_feed(s, &d, 0, 1480, 1));
    ck_assert_ptr_null(pnt_feed(s, &d, 2960, 8, 0));
    pn_poll(s, pn_next_deadline(s));
    EXPECT_UINT(st(s)->reass_timeout, 2);
    uint8_t f[1600];
    int n = pn_drain_raw(s, f, sizeof f);
    ck_assert_int_gt(n, 20 + 8 + 28);
    pni_ip4_repr ip;
    EXPECT_INT(pni_wire_ip4_parse(f, (size_t)n, &ip), 0);
    EXPECT_UINT(ip.proto, PNI_IPPROTO_ICMP);
    EXPECT_MEM(ip.dst, d.src, 4);
    EXPECT_MEM(ip.src, d.dst, 4);
    EXPECT_UINT(f[20], PNI_ICMP_TIME_EXCEEDED);
    EXPECT_UINT(f[21], 1); /* fragment reassembly time exceeded */
    /* The quote starts with fragment zero's header. */
    EXPECT_UINT(pni_be16(f + 28 + 4), d.id);
    EXPECT_UINT(pni_be16(f + 28 + 6), PNI_IP4_MF);
    EXPECT_UINT(pn_drain_peek(s), 0);
    pnt_free(s);
}
END_TEST

/* Deadlines of several datagrams are served in order. */
START_TEST(test_reass_timeout_order)
{
    pn_stack *s = pnt_stack(NULL);
    uint64_t to = s->cfg.reass_timeout_us;
    for (uint16_t i = 0; i < 4; i++) {
        pn_poll(s, 100 + i * 1000u);
        pnt_dgram d = pnt_dg(i);
        ck_assert_ptr_null(pnt_feed(s, &d, 8, 8, 1));
    }
    for (uint16_t i = 0; i < 4; i++) {
        uint64_t dl = pn_next_deadline(s);
        EXPECT_UINT(dl, 100 + i * 1000u + to);
        pn_poll(s, dl);
        EXPECT_UINT(st(s)->reass_timeout, i + 1u);
    }
    EXPECT_UINT(pn_next_deadline(s), PN_TIME_NEVER);
    pnt_free(s);
}
END_TEST

/* No free slot: the oldest datagram is evicted (documented policy). */
START_TEST(test_reass_no_slot_evicts_oldest)
{
    pn_config c;
    pnt_cfg(&c);
    c.reass_slots = 2;
    pn_stack *s = pnt_stack(&c);
    pnt_dgram a = pnt_dg(1), b = pnt_dg(2), x = pnt_dg(3);
    pn_poll(s, 10);
    ck_assert_ptr_null(pnt_feed(s, &a, 0, 8, 1));
    pn_poll(s, 20);
    ck_assert_ptr_null(pnt_feed(s, &b, 0, 8, 1));
    pn_poll(s, 30);
    ck_assert_ptr_null(pnt_feed(s, &x, 0, 8, 1));
    EXPECT_UINT(st(s)->reass_no_slot, 1);
    EXPECT_UINT(pn_next_deadline(s), 20 + s->cfg.reass_timeout_us);
    pni_buf *o = pnt_feed(s, &b, 8, 8, 0);
    pnt_check_dgram(o, 2, 16, 20);
    pni_buf_free(s, o);
    o = pnt_feed(s, &x, 8, 8, 0);
    pnt_check_dgram(o, 3, 16, 20);
    pni_buf_free(s, o);
    /* a's fragment zero is gone: its tail opens a slot that times out. */
    ck_assert_ptr_null(pnt_feed(s, &a, 8, 8, 0));
    pn_poll(s, UINT64_MAX - 1);
    EXPECT_UINT(st(s)->reass_timeout, 1);
    EXPECT_UINT(st(s)->reass_ok, 2);
    pnt_free(s);
}
END_TEST

/* A datagram that alone needs more than the budget is dropped whole, and
 * memory pressure evicts the oldest other datagrams first. */
START_TEST(test_reass_memory_budget)
{
    pn_config c;
    pnt_cfg(&c);
    c.reass_max_bytes = 4 * 1600;
    c.buf_size = 1600;
    pn_stack *s = pnt_stack(&c);
    pnt_dgram a = pnt_dg(1), b = pnt_dg(2);
    ck_assert_ptr_null(pnt_feed(s, &a, 0, 1480, 1));
    ck_assert_ptr_null(pnt_feed(s, &a, 1480, 1480, 1));
    EXPECT_UINT(st(s)->reass_bytes, 2 * 1600);
    ck_assert_ptr_null(pnt_feed(s, &b, 0, 1480, 1));
    ck_assert_ptr_null(pnt_feed(s, &b, 1480, 1480, 1));
    EXPECT_UINT(st(s)->reass_bytes, 4 * 1600);
    /* One more for b: a (oldest) is evicted. */
    ck_assert_ptr_null(pnt_feed(s, &b, 2960, 1480, 1));
    EXPECT_UINT(st(s)->reass_mem, 1);
    EXPECT_UINT(st(s)->reass_bytes, 3 * 1600);
    ck_assert_ptr_null(pnt_feed(s, &b, 4440, 1480, 1));
    EXPECT_UINT(st(s)->reass_bytes, 4 * 1600);
    /* b alone now needs a fifth block: it can never fit, it goes. */
    ck_assert_ptr_null(pnt_feed(s, &b, 5920, 10, 0));
    EXPECT_UINT(st(s)->reass_mem, 2);
    EXPECT_UINT(st(s)->reass_bytes, 0);
    ck_assert_uint_le(st(s)->reass_bytes_peak, c.reass_max_bytes);
    EXPECT_UINT(st(s)->pool[PN_POOL_REASS].used, 0);
    pnt_free(s);
}
END_TEST

/* The budget is also capped to 7/8 of the RX pool so that reassembly can
 * never starve reception. */
START_TEST(test_reass_rx_pool_reserve)
{
    pn_config c;
    pnt_cfg(&c);
    c.rx_bufs = 16;
    c.reass_max_bytes = 1u << 24;
    c.reass_slots = 64;
    pn_stack *s = pnt_stack(&c);
    for (uint16_t i = 0; i < 40; i++) {
        pnt_dgram d = pnt_dg(i);
        ck_assert_ptr_null(pnt_feed(s, &d, 0, 8, 1));
        ck_assert_uint_le(st(s)->pool[PN_POOL_RXBUF].used, 14);
    }
    EXPECT_UINT(st(s)->pool[PN_POOL_RXBUF].used, 14);
    EXPECT_UINT(st(s)->reass_mem, 40 - 14);
    pn_poll(s, UINT64_MAX - 1);
    pnt_free(s);
}
END_TEST

/* A flood of 10,000 incomplete datagrams: held bytes never exceed the
 * budget, slots never exceed the pool, a legitimate datagram sent in a
 * burst in the middle still gets through, and every datagram left expires
 * exactly at first-fragment time + timeout. */
START_TEST(test_reass_flood_bounded)
{
    pn_config c;
    pnt_cfg(&c);
    c.reass_slots = 32;
    c.reass_max_bytes = 20 * 1600;
    c.buf_size = 1600;
    c.reass_timeout_us = 1000000;
    pn_stack *s = pnt_stack(&c);
    uint64_t seed = 1;
    uint64_t t = 1;
    int legit_ok = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        t += 10;
        pn_poll(s, t);
        pnt_dgram d = pnt_dg((uint16_t)i);
        d.src[3] = (uint8_t)(2 + (i >> 16));
        uint32_t off = 8 * (uint32_t)(pn_test_rand(&seed) % 100);
        ck_assert_ptr_null(pnt_feed(s, &d, off, 8 * (1 + (uint32_t)(pn_test_rand(&seed) % 180)), 1));
        ck_assert_uint_le(st(s)->reass_bytes, c.reass_max_bytes);
        ck_assert_uint_le(st(s)->pool[PN_POOL_REASS].used, c.reass_slots);
        if (i == 5000) {
            pnt_dgram l = pnt_dg(0xbeef);
            l.src[3] = 99;
            pni_buf *b = feed_all(s, &l, 4000, 1480, NULL, 3);
            pnt_check_dgram(b, l.id, 4000, 20);
            pni_buf_free(s, b);
            legit_ok = 1;
        }
    }
    ck_assert(legit_ok);
    ck_assert_uint_le(st(s)->reass_bytes_peak, c.reass_max_bytes);
    ck_assert_uint_gt(st(s)->reass_bytes_peak, 0);
    EXPECT_UINT(st(s)->reass_ok, 1);
    /* Drain by deadlines: each is a first-fragment time + timeout, in
     * increasing order, and polling exactly then expires it. */
    uint64_t prev = 0, left = st(s)->pool[PN_POOL_REASS].used;
    ck_assert_uint_gt(left, 0);
    while (pn_next_deadline(s) != PN_TIME_NEVER) {
        uint64_t dl = pn_next_deadline(s);
        ck_assert_uint_gt(dl, prev);
        ck_assert_uint_le(dl, t + c.reass_timeout_us);
        ck_assert_uint_eq((dl - 1 - c.reass_timeout_us) % 10, 0);
        uint64_t before = st(s)->reass_timeout;
        pn_poll(s, dl - 1);
        EXPECT_UINT(st(s)->reass_timeout, before);
        pn_poll(s, dl);
        EXPECT_UINT(st(s)->reass_timeout, before + 1);
        prev = dl;
    }
    EXPECT_UINT(st(s)->reass_timeout, left);
    /* Every datagram is accounted for exactly once. */
    EXPECT_UINT(st(s)->reass_timeout + st(s)->reass_mem + st(s)->reass_no_slot +
                    st(s)->reass_overlap + st(s)->reass_bad,
                10000);
    pnt_free(s);
}
END_TEST

Suite *
reass_suite(void)
{
    Suite *su = suite_create("reass");
    TCase *tc = tcase_create("unit");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_reass_in_order);
    tcase_add_test(tc, test_reass_reverse_order);
    tcase_add_test(tc, test_reass_random_order);
    tcase_add_test(tc, test_reass_interleaved_keys);
    tcase_add_test(tc, test_reass_duplicates_tolerated);
    tcase_add_test(tc, test_reass_overlap_drops_whole);
    tcase_add_test(tc, test_reass_overlap_random_order);
    tcase_add_test(tc, test_reass_bad_fragments);
    tcase_add_test(tc, test_reass_max_size);
    tcase_add_test(tc, test_reass_first_header_kept);
    tcase_add_test(tc, test_reass_link_padding_trimmed);
    tcase_add_test(tc, test_reass_not_a_fragment);
    tcase_add_test(tc, test_reass_chained_segments);
    tcase_add_test(tc, test_reass_timeout_exact);
    tcase_add_test(tc, test_reass_timeout_icmp);
    tcase_add_test(tc, test_reass_timeout_order);
    tcase_add_test(tc, test_reass_no_slot_evicts_oldest);
    tcase_add_test(tc, test_reass_memory_budget);
    tcase_add_test(tc, test_reass_rx_pool_reserve);
    tcase_add_test(tc, test_reass_flood_bounded);
    suite_add_tcase(su, tc);
    return su;
}
