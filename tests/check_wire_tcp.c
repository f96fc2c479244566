/*
 * check_wire_tcp.c -- TCP header and options (RFC 9293, RFC 7323,
 * RFC 2018): Linux's SYN, SYN-ACK, data and SACK segments from
 * tests/data/wire/ (tools/capture-wire.sh) decoded and re-emitted byte for
 * byte under the LINUX layout; the FreeBSD and purenet layouts; the 40-byte
 * cap; every option error; truncation under a guard page; random round
 * trips.
 */
#include <string.h>

#include "pn_check.h"
#include "wire.h"

/* tcp.hex: 10.99.0.1:40002 -> 10.99.0.2:8080. Frame 1 SYN, 2 SYN-ACK,
 * 4 "hello purenet" with timestamps. */
static const char syn_frame[] =
        "02000000000b02000000000a08004500003c516740004006d48c0a6300010a6300029c421f90a86869600000"
        "0000a002faf034c40000020405b40402080ad67c5f67000000000103030a";
static const char synack_frame[] =
        "02000000000a02000000000b08004500003c00004000400625f40a6300020a6300011f909c421afc68c0a868"
        "6961a012fe8877bb0000020405b40402080af006459cd67c5f670103030a";
static const char data_frame[] =
        "02000000000b02000000000a080045000041516940004006d4850a6300010a6300029c421f90a86869611afc"
        "68c18018003f9b8c00000101080ad67c5f67f006459c68656c6c6f20707572656e6574";
/* tcp_nots.hex frame 1: SYN with net.ipv4.tcp_timestamps=0. */
static const char syn_nots_frame[] =
        "02000000000b02000000000a080045000034798d40004006ac6e0a6300010a6300029c431f91cbeb05780000"
        "00008002faf0d21c0000020405b4010104020103030a";
/* raw.hex frame 7: Linux (10.99.1.2:8082) acks 1000001 and SACKs the
 * out-of-order segment 1000101..1000201 the script sent first. */
static const char sack_frame[] =
        "02000000000c02000000000d08004500004023174000400600d70a6301020a6301031f929c4470def241000f"
        "4241b0100040038b00000101080afa9930da000013890101050a000f42a5000f4309";
/* raw.hex frame 6: the script's out-of-order 100-byte segment. */
static const char ooo_frame[] =
        "02000000000d02000000000c080045000098123840004006115e0a6301030a6301029c441f92000f42a570de"
        "f2418018faf0d3cb00000101080a0000138afa99300a42424242424242424242424242424242424242424242"
        "4242424242424242424242424242424242424242424242424242424242424242424242424242424242424242"
        "42424242424242424242424242424242424242424242424242424242424242424242";

typedef struct seg {
    uint8_t b[1600];
    size_t len;  /* TCP segment length (IP payload) */
    uint8_t src[4];
    uint8_t dst[4];
} seg;

static void
load_seg(const char *hex, seg *s)
{
    static uint8_t f[1600];
    int n = pn_test_hex(hex, f, sizeof(f));
    ck_assert_int_gt(n, 34);
    pni_ip4_repr ip;
    ck_assert_int_eq(pni_wire_ip4_parse(f + 14, (size_t)n - 14, &ip), 0);
    ck_assert_uint_eq(ip.proto, PNI_IPPROTO_TCP);
    s->len = (size_t)ip.tot_len - ip.hlen;
    memcpy(s->b, f + 14 + ip.hlen, s->len);
    memcpy(s->src, ip.src, 4);
    memcpy(s->dst, ip.dst, 4);
}

static void
fix_csum(seg *s)
{
    pni_put_be16(s->b + 16, 0);
    uint64_t ps = pni_csum_pseudo4(s->src, s->dst, PNI_IPPROTO_TCP, (uint32_t)s->len);
    pni_put_be16(s->b + 16, (uint16_t)~pni_csum_fold(pni_csum_partial(s->b, s->len, ps)));
}

/* Re-emit a parsed segment under layout; compare with the original. */
static void
expect_reemit(const seg *s, const pni_tcp_repr *r, int layout)
{
    uint8_t out[60];
    uint64_t ps = pni_csum_partial(r->payload, r->payload_len, 0);
    size_t h = pni_wire_tcp_emit(r, layout, out, sizeof(out), s->src, s->dst, r->payload_len, ps);
    EXPECT_UINT(h, r->hlen);
    EXPECT_UINT(pni_wire_tcp_opts_len(r, layout), h - 20);
    EXPECT_MEM(out, s->b, h);
}

START_TEST(test_tcp_real_linux_syn)
{
    seg s;
    load_seg(syn_frame, &s);
    pni_tcp_repr r;
    EXPECT_INT(pni_wire_tcp_check(s.b, s.len, s.src, s.dst), 0);
    EXPECT_INT(pni_wire_tcp_parse(s.b, s.len, s.src, s.dst, &r), 0);
    EXPECT_UINT(r.sport, 40002);
    EXPECT_UINT(r.dport, 8080);
    EXPECT_UINT(r.seq, 2825415008u);
    EXPECT_UINT(r.ack, 0);
    EXPECT_UINT(r.hlen, 40);
    EXPECT_UINT(r.flags, PNI_TCP_SYN);
    EXPECT_UINT(r.win, 64240);
    EXPECT_UINT(r.csum, 0x34c4);
    EXPECT_UINT(r.has_mss, 1);
    EXPECT_UINT(r.mss, 1460);
    EXPECT_UINT(r.sack_ok, 1);
    EXPECT_UINT(r.has_ts, 1);
    EXPECT_UINT(r.ts_val, 3598475111u);
    EXPECT_UINT(r.ts_ecr, 0);
    EXPECT_UINT(r.has_ws, 1);
    EXPECT_UINT(r.ws, 10);
    EXPECT_UINT(r.n_sack, 0);
    EXPECT_UINT(r.payload_len, 0);
    /* Linux's SYN layout: 02 04 mss, 04 02 08 0a val ecr, 01 03 03 ws. */
    static const uint8_t head[8] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
    EXPECT_MEM(s.b + 20, head, 8);
    EXPECT_UINT(s.b[36], 1);
    EXPECT_UINT(s.b[37], 3);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_LINUX);
}
END_TEST

START_TEST(test_tcp_real_linux_synack)
{
    seg s;
    load_seg(synack_frame, &s);
    pni_tcp_repr r;
    EXPECT_INT(pni_wire_tcp_parse(s.b, s.len, s.src, s.dst, &r), 0);
    EXPECT_UINT(r.sport, 8080);
    EXPECT_UINT(r.dport, 40002);
    EXPECT_UINT(r.seq, 452749504u);
    EXPECT_UINT(r.ack, 2825415009u);
    EXPECT_UINT(r.flags, PNI_TCP_SYN | PNI_TCP_ACK);
    EXPECT_UINT(r.win, 65160);
    EXPECT_UINT(r.mss, 1460);
    EXPECT_UINT(r.ts_val, 4026942876u);
    EXPECT_UINT(r.ts_ecr, 3598475111u);
    EXPECT_UINT(r.ws, 10);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_LINUX);
}
END_TEST

START_TEST(test_tcp_real_linux_data)
{
    seg s;
    load_seg(data_frame, &s);
    pni_tcp_repr r;
    EXPECT_INT(pni_wire_tcp_parse(s.b, s.len, s.src, s.dst, &r), 0);
    EXPECT_UINT(r.seq, 2825415009u);
    EXPECT_UINT(r.ack, 452749505u);
    EXPECT_UINT(r.flags, PNI_TCP_PSH | PNI_TCP_ACK);
    EXPECT_UINT(r.win, 63);
    EXPECT_UINT(r.hlen, 32);
    EXPECT_UINT(r.has_mss | r.has_ws | r.sack_ok, 0);
    EXPECT_UINT(r.has_ts, 1);
    EXPECT_UINT(r.ts_val, 3598475111u);
    EXPECT_UINT(r.ts_ecr, 4026942876u);
    EXPECT_UINT(r.payload_len, 13);
    EXPECT_MEM(r.payload, "hello purenet", 13);
    /* Odd payload length: the payload's sum joins after a 32-byte header. */
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_LINUX);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_FREEBSD);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_PURENET);
}
END_TEST

START_TEST(test_tcp_real_linux_syn_without_ts)
{
    seg s;
    load_seg(syn_nots_frame, &s);
    pni_tcp_repr r;
    EXPECT_INT(pni_wire_tcp_parse(s.b, s.len, s.src, s.dst, &r), 0);
    EXPECT_UINT(r.seq, 3421177208u);
    EXPECT_UINT(r.has_ts, 0);
    EXPECT_UINT(r.sack_ok, 1);
    EXPECT_UINT(r.ws, 10);
    /* mss, nop, nop, sackOK, nop, wscale */
    static const uint8_t opts[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 10};
    EXPECT_MEM(s.b + 20, opts, 12);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_LINUX);
}
END_TEST

START_TEST(test_tcp_real_linux_sack)
{
    seg s;
    load_seg(sack_frame, &s);
    pni_tcp_repr r;
    EXPECT_INT(pni_wire_tcp_parse(s.b, s.len, s.src, s.dst, &r), 0);
    EXPECT_UINT(r.sport, 8082);
    EXPECT_UINT(r.dport, 40004);
    EXPECT_UINT(r.ack, 1000001);
    EXPECT_UINT(r.flags, PNI_TCP_ACK);
    EXPECT_UINT(r.hlen, 44);
    EXPECT_UINT(r.has_ts, 1);
    EXPECT_UINT(r.ts_ecr, 5001);
    EXPECT_UINT(r.n_sack, 1);
    EXPECT_UINT(r.sack[0].left, 1000101);
    EXPECT_UINT(r.sack[0].right, 1000201);
    /* Non-SYN: NOP NOP TS, NOP NOP SACK, the same under every layout. */
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_LINUX);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_FREEBSD);
    expect_reemit(&s, &r, PNI_TCP_LAYOUT_PURENET);

    seg o;
    load_seg(ooo_frame, &o);
    EXPECT_INT(pni_wire_tcp_parse(o.b, o.len, o.src, o.dst, &r), 0);
    EXPECT_UINT(r.seq, 1000101);
    EXPECT_UINT(r.payload_len, 100);
    EXPECT_UINT(r.ts_val, 5002);
}
END_TEST

static void
syn_repr(pni_tcp_repr *r)
{
    memset(r, 0, sizeof(*r));
    r->sport = 1;
    r->dport = 2;
    r->flags = PNI_TCP_SYN;
    r->has_mss = 1;
    r->mss = 1460;
    r->has_ws = 1;
    r->ws = 7;
    r->sack_ok = 1;
    r->has_ts = 1;
    r->ts_val = 0x01020304;
    r->ts_ecr = 0;
}

static void
expect_opts(const pni_tcp_repr *r, int layout, const uint8_t *want, size_t n)
{
    static const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    uint8_t out[60];
    size_t h = pni_wire_tcp_emit(r, layout, out, sizeof(out), a, b, 0, 0);
    ck_assert_uint_eq(h, 20 + n);
    EXPECT_UINT(pni_wire_tcp_opts_len(r, layout), n);
    EXPECT_MEM(out + 20, want, n);
    pni_tcp_repr q;
    EXPECT_INT(pni_wire_tcp_parse(out, h, a, b, &q), 0);
    EXPECT_UINT(q.has_mss, r->has_mss);
    EXPECT_UINT(q.has_ws, r->has_ws);
    EXPECT_UINT(q.sack_ok, r->sack_ok);
    EXPECT_UINT(q.has_ts, r->has_ts);
}

#define TSB 8, 10, 1, 2, 3, 4, 0, 0, 0, 0

START_TEST(test_tcp_layouts_syn)
{
    pni_tcp_repr r;
    syn_repr(&r);
    /* All four options. */
    static const uint8_t lx[] = {2, 4, 5, 0xb4, 4, 2, TSB, 1, 3, 3, 7};
    static const uint8_t fb[] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, TSB};
    expect_opts(&r, PNI_TCP_LAYOUT_LINUX, lx, sizeof(lx));
    expect_opts(&r, PNI_TCP_LAYOUT_FREEBSD, fb, sizeof(fb));
    expect_opts(&r, PNI_TCP_LAYOUT_PURENET, fb, sizeof(fb)); /* same bytes */
    /* No SACK-permitted. */
    r.sack_ok = 0;
    static const uint8_t lx1[] = {2, 4, 5, 0xb4, 1, 1, TSB, 1, 3, 3, 7};
    static const uint8_t fb1[] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, TSB};
    expect_opts(&r, PNI_TCP_LAYOUT_LINUX, lx1, sizeof(lx1));
    expect_opts(&r, PNI_TCP_LAYOUT_FREEBSD, fb1, sizeof(fb1));
    expect_opts(&r, PNI_TCP_LAYOUT_PURENET, fb1, sizeof(fb1));
    /* No timestamps. */
    r.sack_ok = 1;
    r.has_ts = 0;
    static const uint8_t lx2[] = {2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
    static const uint8_t fb2[] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0};
    static const uint8_t pn2[] = {2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2};
    expect_opts(&r, PNI_TCP_LAYOUT_LINUX, lx2, sizeof(lx2));
    expect_opts(&r, PNI_TCP_LAYOUT_FREEBSD, fb2, sizeof(fb2));
    expect_opts(&r, PNI_TCP_LAYOUT_PURENET, pn2, sizeof(pn2));
    /* MSS and SACK-permitted only. */
    r.has_ws = 0;
    static const uint8_t lx3[] = {2, 4, 5, 0xb4, 1, 1, 4, 2};
    static const uint8_t fb3[] = {2, 4, 5, 0xb4, 4, 2, 0, 0};
    expect_opts(&r, PNI_TCP_LAYOUT_LINUX, lx3, sizeof(lx3));
    expect_opts(&r, PNI_TCP_LAYOUT_FREEBSD, fb3, sizeof(fb3));
    expect_opts(&r, PNI_TCP_LAYOUT_PURENET, lx3, sizeof(lx3));
    /* Window scale alone. */
    r.has_mss = 0;
    r.sack_ok = 0;
    r.has_ws = 1;
    static const uint8_t ws[] = {1, 3, 3, 7};
    expect_opts(&r, PNI_TCP_LAYOUT_LINUX, ws, sizeof(ws));
    expect_opts(&r, PNI_TCP_LAYOUT_FREEBSD, ws, sizeof(ws));
    expect_opts(&r, PNI_TCP_LAYOUT_PURENET, ws, sizeof(ws));
    /* Nothing. */
    r.has_ws = 0;
    for (int l = 0; l < 3; l++)
        EXPECT_UINT(pni_wire_tcp_opts_len(&r, l), 0);
}
END_TEST

START_TEST(test_tcp_sack_capped_at_40)
{
    pni_tcp_repr r;
    memset(&r, 0, sizeof(r));
    r.flags = PNI_TCP_ACK;
    r.n_sack = 4;
    for (int i = 0; i < 4; i++) {
        r.sack[i].left = 100u * (uint32_t)i + 1000;
        r.sack[i].right = 100u * (uint32_t)i + 1050;
    }
    static const uint8_t a[4] = {1, 1, 1, 1}, b[4] = {2, 2, 2, 2};
    for (int layout = 0; layout < 3; layout++) {
        uint8_t out[60];
        pni_tcp_repr q;
        /* No timestamps: all 4 blocks, 2 + 2 + 32 = 36. */
        r.has_ts = 0;
        r.has_mss = r.has_ws = r.sack_ok = 0;
        size_t h = pni_wire_tcp_emit(&r, layout, out, sizeof(out), a, b, 0, 0);
        EXPECT_UINT(h, 20 + 36);
        EXPECT_INT(pni_wire_tcp_parse(out, h, a, b, &q), 0);
        EXPECT_UINT(q.n_sack, 4);
        EXPECT_UINT(q.sack[3].left, 1300);
        /* Timestamps: 12 + 4 + 3 * 8 = 40, the fourth block dropped. */
        r.has_ts = 1;
        h = pni_wire_tcp_emit(&r, layout, out, sizeof(out), a, b, 0, 0);
        EXPECT_UINT(h, 60);
        EXPECT_INT(pni_wire_tcp_parse(out, h, a, b, &q), 0);
        EXPECT_UINT(q.n_sack, 3);
        EXPECT_UINT(q.sack[2].right, 1250);
        /* A full SYN set (20 bytes) leaves room for two blocks. */
        r.has_mss = r.has_ws = r.sack_ok = 1;
        h = pni_wire_tcp_emit(&r, layout, out, sizeof(out), a, b, 0, 0);
        EXPECT_UINT(h, 60);
        EXPECT_INT(pni_wire_tcp_parse(out, h, a, b, &q), 0);
        EXPECT_UINT(q.n_sack, 2);
        EXPECT_UINT(q.has_mss & q.has_ws & q.sack_ok & q.has_ts, 1);
        /* Too small a buffer. */
        EXPECT_UINT(pni_wire_tcp_emit(&r, layout, out, 59, a, b, 0, 0), 0);
    }
}
END_TEST

START_TEST(test_tcp_truncations)
{
    const char *frames[] = {syn_frame, synack_frame, data_frame, syn_nots_frame, sack_frame,
                            ooo_frame};
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        seg s;
        load_seg(frames[i], &s);
        size_t hlen = (size_t)(s.b[12] >> 4) * 4;
        for (size_t len = 0; len < s.len; len++) {
            uint8_t *g = pn_test_guard(s.b, len);
            pni_tcp_repr r;
            int err = pni_wire_tcp_parse(g, len, s.src, s.dst, &r);
            if (len < 20)
                EXPECT_INT(err, PNI_WE_TRUNC);
            else if (len < hlen)
                EXPECT_INT(err, PNI_WE_BADLEN);
            else
#ifndef PN_FUZZ_NO_CSUM
                EXPECT_INT(err, PNI_WE_BADCSUM); /* the pseudo-header length changed */
#else
                EXPECT_INT(err, 0);
#endif
            pn_test_guard_free(g, len);
        }
    }
}
END_TEST

START_TEST(test_tcp_bad_data_offset)
{
    seg s, t;
    load_seg(data_frame, &s);
    for (uint8_t off = 0; off < 5; off++) {
        t = s;
        t.b[12] = (uint8_t)(off << 4);
        fix_csum(&t);
        EXPECT_INT(pni_wire_tcp_check(t.b, t.len, t.src, t.dst), PNI_WE_BADHLEN);
    }
    /* Data offset 15 (60 bytes) in a 45-byte segment. */
    t = s;
    t.b[12] = 0xf0;
    uint8_t *g = pn_test_guard(t.b, t.len);
    EXPECT_INT(pni_wire_tcp_check(g, t.len, t.src, t.dst), PNI_WE_BADLEN);
    pn_test_guard_free(g, t.len);
#ifndef PN_FUZZ_NO_CSUM
    t = s;
    t.b[t.len - 1] ^= 1;
    EXPECT_INT(pni_wire_tcp_check(t.b, t.len, t.src, t.dst), PNI_WE_BADCSUM);
    t = s;
    t.src[3] ^= 1;
    EXPECT_INT(pni_wire_tcp_check(t.b, t.len, t.src, t.dst), PNI_WE_BADCSUM);
#endif
}
END_TEST

/* A header with the given option bytes (multiple of 4), checksum fixed. */
static void
with_opts(seg *s, const uint8_t *o, size_t olen)
{
    memset(s, 0, sizeof(*s));
    s->src[0] = 10;
    s->dst[0] = 11;
    pni_put_be16(s->b, 1234);
    pni_put_be16(s->b + 2, 80);
    s->b[12] = (uint8_t)((5 + olen / 4) << 4);
    s->b[13] = PNI_TCP_SYN;
    memcpy(s->b + 20, o, olen);
    s->len = 20 + olen;
    fix_csum(s);
}

START_TEST(test_tcp_option_errors)
{
    static const struct {
        uint8_t o[40];
        size_t len;
        int err;
    } cases[] = {
        {{1, 1, 1, 1}, 4, 0},
        {{0, 9, 9, 9}, 4, 0},                 /* EOL, then padding */
        {{30, 4, 9, 9}, 4, 0},                /* unknown kind, skipped */
        {{30, 2, 1, 1}, 4, 0},                /* unknown, minimal length */
        {{30, 0, 1, 1}, 4, PNI_WE_BADOPT},    /* length 0 */
        {{30, 1, 1, 1}, 4, PNI_WE_BADOPT},    /* length 1 */
        {{30, 5, 1, 1}, 4, PNI_WE_BADOPT},    /* longer than the space */
        {{1, 1, 1, 2}, 4, PNI_WE_BADOPT},     /* kind with no length byte */
        {{2, 3, 5, 1}, 4, PNI_WE_BADOPT},     /* MSS length 3 */
        {{2, 5, 5, 0xb4, 0, 0, 0, 0}, 8, PNI_WE_BADOPT}, /* MSS length 5 */
        {{3, 4, 7, 1}, 4, PNI_WE_BADOPT},     /* WS length 4 */
        {{3, 2, 1, 1}, 4, PNI_WE_BADOPT},     /* WS length 2 */
        {{4, 3, 1, 1}, 4, PNI_WE_BADOPT},     /* SACKOK length 3 */
        {{8, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, 12, PNI_WE_BADOPT}, /* TS length 9 */
        {{8, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 12, PNI_WE_BADOPT}, /* TS length 11 */
        {{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0}, 8, PNI_WE_BADOPT}, /* TS cut by the end */
        {{5, 2, 1, 1}, 4, PNI_WE_BADOPT},     /* SACK with no block */
        {{5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, 12, PNI_WE_BADOPT}, /* SACK 9 */
        {{5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12, PNI_WE_BADOPT}, /* SACK 11 */
        {{5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 1, 1}, 20, 0}, /* 2 blocks */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        seg s;
        with_opts(&s, cases[i].o, cases[i].len);
        uint8_t *g = pn_test_guard(s.b, s.len);
        pni_tcp_repr r;
        int err = pni_wire_tcp_parse(g, s.len, s.src, s.dst, &r);
        ck_assert_msg(err == cases[i].err, "case %zu: %d", i, err);
        EXPECT_INT(pni_wire_tcp_check(g, s.len, s.src, s.dst), err);
        if (i == sizeof(cases) / sizeof(cases[0]) - 1) {
            EXPECT_UINT(r.n_sack, 2);
            EXPECT_UINT(r.sack[1].left, 3);
            EXPECT_UINT(r.sack[1].right, 4);
        }
        pn_test_guard_free(g, s.len);
    }
}
END_TEST

/* Four SACK blocks (34 bytes) are the most 40 bytes can hold. */
START_TEST(test_tcp_four_sack_blocks)
{
    uint8_t o[36] = {1, 1, 5, 34};
    for (int i = 0; i < 8; i++)
        pni_put_be32(o + 4 + 4 * i, (uint32_t)i + 1);
    seg s;
    with_opts(&s, o, sizeof(o));
    pni_tcp_repr r;
    EXPECT_INT(pni_wire_tcp_parse(s.b, s.len, s.src, s.dst, &r), 0);
    EXPECT_UINT(r.n_sack, 4);
    EXPECT_UINT(r.sack[3].left, 7);
    EXPECT_UINT(r.sack[3].right, 8);
}
END_TEST

START_TEST(test_tcp_round_trip_random)
{
    uint64_t st = 9293;
    static uint8_t b[60 + 1500];
    for (int i = 0; i < 3000; i++) {
        pni_tcp_repr r, q;
        uint8_t src[4], dst[4];
        memset(&r, 0, sizeof(r));
        for (int j = 0; j < 4; j++) {
            src[j] = (uint8_t)pn_test_rand(&st);
            dst[j] = (uint8_t)pn_test_rand(&st);
        }
        uint64_t x = pn_test_rand(&st);
        r.sport = (uint16_t)x;
        r.dport = (uint16_t)(x >> 16);
        r.seq = (uint32_t)pn_test_rand(&st);
        r.ack = (uint32_t)pn_test_rand(&st);
        r.flags = (uint8_t)pn_test_rand(&st);
        r.win = (uint16_t)pn_test_rand(&st);
        r.urg = (uint16_t)pn_test_rand(&st);
        x = pn_test_rand(&st);
        r.has_mss = x & 1;
        r.has_ws = (x >> 1) & 1;
        r.sack_ok = (x >> 2) & 1;
        r.has_ts = (x >> 3) & 1;
        r.n_sack = (uint8_t)((x >> 4) % 5);
        r.mss = r.has_mss ? (uint16_t)(x >> 8) : 0;
        r.ws = r.has_ws ? (uint8_t)(x >> 24) % 15 : 0;
        r.ts_val = r.has_ts ? (uint32_t)pn_test_rand(&st) : 0;
        r.ts_ecr = r.has_ts ? (uint32_t)pn_test_rand(&st) : 0;
        for (int j = 0; j < r.n_sack; j++) {
            r.sack[j].left = (uint32_t)pn_test_rand(&st);
            r.sack[j].right = (uint32_t)pn_test_rand(&st);
        }
        int layout = (int)(pn_test_rand(&st) % 3);
        size_t pl = (size_t)(pn_test_rand(&st) % 1500);
        size_t ol = pni_wire_tcp_opts_len(&r, layout);
        ck_assert_uint_le(ol, 40);
        EXPECT_UINT(ol % 4, 0);
        for (size_t j = 0; j < pl; j++)
            b[20 + ol + j] = (uint8_t)pn_test_rand(&st);
        uint64_t ps = pni_csum_partial(b + 20 + ol, pl, 0);
        size_t h = pni_wire_tcp_emit(&r, layout, b, 20 + ol, src, dst, pl, ps);
        EXPECT_UINT(h, 20 + ol);
        EXPECT_INT(pni_wire_tcp_parse(b, h + pl, src, dst, &q), 0);
        EXPECT_UINT(q.sport, r.sport);
        EXPECT_UINT(q.dport, r.dport);
        EXPECT_UINT(q.seq, r.seq);
        EXPECT_UINT(q.ack, r.ack);
        EXPECT_UINT(q.flags, r.flags);
        EXPECT_UINT(q.win, r.win);
        EXPECT_UINT(q.urg, r.urg);
        EXPECT_UINT(q.hlen, h);
        EXPECT_UINT(q.has_mss, r.has_mss);
        EXPECT_UINT(q.mss, r.mss);
        EXPECT_UINT(q.has_ws, r.has_ws);
        EXPECT_UINT(q.ws, r.ws);
        EXPECT_UINT(q.sack_ok, r.sack_ok);
        EXPECT_UINT(q.has_ts, r.has_ts);
        EXPECT_UINT(q.ts_val, r.ts_val);
        EXPECT_UINT(q.ts_ecr, r.ts_ecr);
        ck_assert_uint_le(q.n_sack, r.n_sack);
        if (r.n_sack > 0)
            EXPECT(q.n_sack >= 1); /* at least one block always fits */
        for (int j = 0; j < q.n_sack; j++) {
            EXPECT_UINT(q.sack[j].left, r.sack[j].left);
            EXPECT_UINT(q.sack[j].right, r.sack[j].right);
        }
        EXPECT_UINT(q.payload_len, pl);
    }
}
END_TEST

/* The receive check's pseudo-header (two 32-bit address words and the
 * length, see check_hdr) against RFC 9293 3.1 spelled out byte by byte:
 * the 12-byte pseudo-header and the segment summed as RFC 1071 16-bit
 * words. Parse accepts exactly the segments whose reference sum is all
 * ones, for addresses with every bit set or clear (the carries) and
 * random ones, odd and even lengths, and a checksum field that is right
 * or off by one word. */
static uint16_t
ref_tcp_sum(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4])
{
    uint8_t ph[12] = {src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2], dst[3],
                      0, 6, (uint8_t)(len >> 8), (uint8_t)len};
    uint32_t s = 0;
    for (size_t i = 0; i < 12; i += 2)
        s += (uint32_t)ph[i] << 8 | ph[i + 1];
    for (size_t i = 0; i < len; i += 2)
        s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static int
ref_tcp_csum_ok(const uint8_t *p, size_t len, const uint8_t src[4], const uint8_t dst[4])
{
    return ref_tcp_sum(p, len, src, dst) == 0xffff;
}

START_TEST(test_tcp_pseudo_header_csum)
{
    static const uint8_t edge[4][4] = {
        {255, 255, 255, 255}, {0, 0, 0, 0}, {255, 255, 0, 0}, {0, 0, 255, 255}};
    uint64_t st = 7323;
    static uint8_t b[20 + 1500];
    int ok_seen = 0, bad_seen = 0;
    for (int i = 0; i < 2000; i++) {
        uint8_t src[4], dst[4];
        for (int j = 0; j < 4; j++) {
            src[j] = (uint8_t)pn_test_rand(&st);
            dst[j] = (uint8_t)pn_test_rand(&st);
        }
        if (i < 16) {
            memcpy(src, edge[i % 4], 4);
            memcpy(dst, edge[i / 4], 4);
        }
        size_t pl = (size_t)(pn_test_rand(&st) % 1500);
        for (size_t j = 0; j < 20 + pl; j++)
            b[j] = (uint8_t)pn_test_rand(&st);
        b[12] = 5 << 4; /* 20-byte header, no options */
        /* the right checksum from the reference, then (every other
         * segment) one off by one in its low bit */
        b[16] = b[17] = 0;
        pni_put_be16(b + 16, (uint16_t)~ref_tcp_sum(b, 20 + pl, src, dst));
        if (i & 1)
            b[17] ^= 1;
        int want = ref_tcp_csum_ok(b, 20 + pl, src, dst);
        pni_tcp_repr r;
        int rc = pni_wire_tcp_parse(b, 20 + pl, src, dst, &r);
        EXPECT_INT(rc, want ? 0 : PNI_WE_BADCSUM);
        EXPECT_INT(pni_wire_tcp_check(b, 20 + pl, src, dst), want ? 0 : PNI_WE_BADCSUM);
        ok_seen += want;
        bad_seen += !want;
        /* the same bytes under another source: a different pseudo-header */
        uint8_t other[4];
        memcpy(other, src, 4);
        other[3] ^= 0x01;
        EXPECT_INT(pni_wire_tcp_parse(b, 20 + pl, other, dst, &r) == 0,
                   ref_tcp_csum_ok(b, 20 + pl, other, dst));
    }
    EXPECT(ok_seen > 0 && bad_seen > 0);
}
END_TEST

/* The established-segment fast paths: emit of a header whose only option
 * is TS (or none) writes NOP NOP TS under every layout with a checksum
 * equal to a plain RFC 1071 sum over the bytes written, and parse of that
 * form agrees with the option walk (the same TS after a NOP NOP that is
 * not in the fast form: EOL padding after it, 16 bytes of options). */
START_TEST(test_tcp_ts_only_fast_paths)
{
    uint64_t st = 7323;
    static uint8_t b[60 + 1500];
    for (int i = 0; i < 2000; i++) {
        pni_tcp_repr r, q;
        uint8_t src[4], dst[4];
        memset(&r, 0, sizeof(r));
        for (int j = 0; j < 4; j++) {
            src[j] = (uint8_t)pn_test_rand(&st);
            dst[j] = (uint8_t)pn_test_rand(&st);
        }
        r.sport = (uint16_t)pn_test_rand(&st);
        r.dport = (uint16_t)pn_test_rand(&st);
        r.seq = (uint32_t)pn_test_rand(&st);
        r.ack = (uint32_t)pn_test_rand(&st);
        r.flags = (uint8_t)pn_test_rand(&st);
        r.win = (uint16_t)pn_test_rand(&st);
        r.urg = (uint16_t)pn_test_rand(&st);
        r.has_ts = (i & 3) != 0;
        r.ts_val = r.has_ts ? (uint32_t)pn_test_rand(&st) : 0;
        r.ts_ecr = r.has_ts ? (uint32_t)pn_test_rand(&st) : 0;
        if (i < 8) { /* all-ones fields: every word sum carries */
            r.sport = r.dport = r.win = r.urg = 0xffff;
            r.seq = r.ack = 0xffffffffu;
            if (r.has_ts)
                r.ts_val = r.ts_ecr = 0xffffffffu;
        }
        size_t ol = r.has_ts ? 12 : 0;
        int layout = i % 3;
        EXPECT_UINT(pni_wire_tcp_opts_len(&r, layout), ol);
        size_t pl = (size_t)(pn_test_rand(&st) % 1500);
        for (size_t j = 0; j < pl; j++)
            b[20 + ol + j] = (uint8_t)pn_test_rand(&st);
        uint64_t ps = pni_csum_partial(b + 20 + ol, pl, 0);
        memset(b, 0xa5, 20 + ol);
        EXPECT_UINT(pni_wire_tcp_emit(&r, layout, b, 20 + ol, src, dst, pl, ps), 20 + ol);
        if (r.has_ts) {
            static const uint8_t nopnop_ts[4] = {1, 1, 8, 10};
            EXPECT_MEM(b + 20, nopnop_ts, 4);
        }
        uint16_t c = pni_be16(b + 16);
        pni_put_be16(b + 16, 0);
        uint64_t ph = pni_csum_pseudo4(src, dst, PNI_IPPROTO_TCP, (uint32_t)(20 + ol + pl));
        EXPECT_UINT(c, (uint16_t)~pni_csum_fold(pni_csum_partial(b, 20 + ol + pl, ph)));
        pni_put_be16(b + 16, c);
        EXPECT_INT(pni_wire_tcp_parse(b, 20 + ol + pl, src, dst, &q), 0);
        EXPECT_UINT(q.seq, r.seq);
        EXPECT_UINT(q.ack, r.ack);
        EXPECT_UINT(q.flags, r.flags);
        EXPECT_UINT(q.has_ts, r.has_ts);
        EXPECT_UINT(q.ts_val, r.ts_val);
        EXPECT_UINT(q.ts_ecr, r.ts_ecr);
        EXPECT_UINT(q.has_mss | q.has_ws | q.sack_ok | q.n_sack, 0);
        EXPECT_UINT(q.payload_len, pl);
        if (r.has_ts) {
            /* Same TS with EOL padding after it: the option walk, not the
             * fast path, must give the same repr. */
            uint8_t h2[36];
            memcpy(h2, b, 32);
            memset(h2 + 32, 0, 4);
            h2[12] = (uint8_t)(9 << 4 | (h2[12] & 0x0f));
            pni_put_be16(h2 + 16, 0);
            ph = pni_csum_pseudo4(src, dst, PNI_IPPROTO_TCP, 36);
            pni_put_be16(h2 + 16, (uint16_t)~pni_csum_fold(pni_csum_partial(h2, 36, ph)));
            pni_tcp_repr q2;
            EXPECT_INT(pni_wire_tcp_parse(h2, 36, src, dst, &q2), 0);
            EXPECT_UINT(q2.has_ts, 1);
            EXPECT_UINT(q2.ts_val, r.ts_val);
            EXPECT_UINT(q2.ts_ecr, r.ts_ecr);
            EXPECT_UINT(q2.has_mss | q2.has_ws | q2.sack_ok | q2.n_sack, 0);
        }
    }
}
END_TEST

Suite *
wire_tcp_suite(void)
{
    Suite *s = suite_create("wire_tcp");
    TCase *tc = tcase_create("tcp");
    tcase_add_test(tc, test_tcp_real_linux_syn);
    tcase_add_test(tc, test_tcp_real_linux_synack);
    tcase_add_test(tc, test_tcp_real_linux_data);
    tcase_add_test(tc, test_tcp_real_linux_syn_without_ts);
    tcase_add_test(tc, test_tcp_real_linux_sack);
    tcase_add_test(tc, test_tcp_layouts_syn);
    tcase_add_test(tc, test_tcp_sack_capped_at_40);
    tcase_add_test(tc, test_tcp_truncations);
    tcase_add_test(tc, test_tcp_bad_data_offset);
    tcase_add_test(tc, test_tcp_option_errors);
    tcase_add_test(tc, test_tcp_four_sack_blocks);
    tcase_add_test(tc, test_tcp_round_trip_random);
    tcase_add_test(tc, test_tcp_ts_only_fast_paths);
    tcase_add_test(tc, test_tcp_pseudo_header_csum);
    suite_add_tcase(s, tc);
    return s;
}
