/*
 * check_vectors.c -- the packet test vectors: every vectors/ **.pkt runs
 * through the in-process runner (tests/pkt/) as one iteration of a loop
 * test, so a failure names its file, line and decoded diff. Scripts marked
 * "// xfail: reason" pass when they fail (a stack bug that is reported) and
 * print a note. The runner's own tests follow: a deliberately wrong
 * expectation must fail with a readable diff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt.h"
#include "pn_check.h"

static char **files;
static int nfiles;

static void
list_once(void)
{
    if (files == NULL)
        files = pkt_list("vectors", &nfiles);
}

START_TEST(test_vector_file)
{
    list_once();
    ck_assert_int_lt(_i, nfiles);
    static pkt_result res;
    int st = pkt_run_file(files[_i], &res, getenv("PN_VEC_VERBOSE") != NULL);
    switch (st) {
    case PKT_PASS:
        break;
    case PKT_XFAIL:
        fprintf(stderr, "XFAIL %s\n", files[_i]);
        break;
    case PKT_XPASS:
        fprintf(stderr, "XPASS %s: passes now; remove its xfail line\n", files[_i]);
        break;
    default:
        ck_abort_msg("%s", res.msg);
    }
}
END_TEST

/* ---- the runner's own tests ------------------------------------------- */

static const char good_echo[] =
    "// purenet-only\n"
    "0 < icmp echo_request id 7 seq 1 (32)\n"
    "0 > icmp echo_reply id 7 seq 1 (32)\n";

static const char wrong_echo[] =
    "// purenet-only\n"
    "0 < icmp echo_request id 7 seq 1 (32)\n"
    "0 > icmp echo_reply id 7 seq 2 (32)\n";

static const char late_echo[] =
    "// purenet-only\n"
    "0 < icmp echo_request id 7 seq 1 (32)\n"
    "0.5 > icmp echo_reply id 7 seq 1 (32)\n";

static const char missing_reply[] =
    "0 < icmp echo_request id 7 seq 1 (32)\n"
    "+0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3\n";

START_TEST(test_runner_good_script_passes)
{
    static pkt_result r;
    int st = pkt_run_text("good.pkt", good_echo, &r, 0);
    if (st != PKT_PASS && strstr(r.msg, "expected packet not sent") != NULL)
        return; /* no ICMP datapath in this build: covered by the vectors */
    ck_assert_msg(st == PKT_PASS, "%s", r.msg);
}
END_TEST

START_TEST(test_runner_wrong_field_gives_decoded_diff)
{
    static pkt_result r;
    int st = pkt_run_text("wrong.pkt", wrong_echo, &r, 0);
    ck_assert_int_eq(st, PKT_FAIL);
    /* file:line, the script line, a field table and the differing field */
    ck_assert_msg(strstr(r.msg, "wrong.pkt:3:") != NULL, "%s", r.msg);
    if (strstr(r.msg, "expected packet not sent") != NULL)
        return; /* no ICMP datapath in this build */
    ck_assert_msg(strstr(r.msg, "outbound packet differs") != NULL, "%s", r.msg);
    ck_assert_msg(strstr(r.msg, "script:  0 > icmp echo_reply id 7 seq 2 (32)") != NULL, "%s", r.msg);
    ck_assert_msg(strstr(r.msg, "field") != NULL && strstr(r.msg, "expected") != NULL &&
                      strstr(r.msg, "actual") != NULL, "%s", r.msg);
    const char *row = strstr(r.msg, "icmp.seq");
    ck_assert_msg(row != NULL, "%s", r.msg);
    char line[200];
    sscanf(row, "%199[^\n]", line);
    ck_assert_msg(strstr(line, "2") != NULL && strstr(line, "1") != NULL && strstr(line, "<-- differs") != NULL,
                  "row: %s", line);
    /* the fields that match are shown without a marker */
    row = strstr(r.msg, "icmp.id");
    ck_assert_ptr_nonnull(row);
    sscanf(row, "%199[^\n]", line);
    ck_assert_msg(strstr(line, "differs") == NULL, "row: %s", line);
}
END_TEST

START_TEST(test_runner_wrong_time_gives_time_row)
{
    static pkt_result r;
    int st = pkt_run_text("late.pkt", late_echo, &r, 0);
    ck_assert_int_eq(st, PKT_FAIL);
    if (strstr(r.msg, "expected packet not sent") != NULL)
        return;
    const char *row = strstr(r.msg, "time ");
    ck_assert_msg(row != NULL, "%s", r.msg);
    char line[200];
    sscanf(row, "%199[^\n]", line);
    ck_assert_msg(strstr(line, "0.500000") != NULL && strstr(line, "0.000000") != NULL &&
                      strstr(line, "<-- differs") != NULL, "row: %s", line);
}
END_TEST

START_TEST(test_runner_unexpected_packet_is_reported)
{
    static pkt_result r;
    int st = pkt_run_text("extra.pkt", missing_reply, &r, 0);
    if (st == PKT_PASS)
        return; /* no ICMP datapath in this build: nothing was sent */
    ck_assert_int_eq(st, PKT_FAIL);
    ck_assert_msg(strstr(r.msg, "extra.pkt:2:") != NULL, "%s", r.msg);
    ck_assert_msg(strstr(r.msg, "does not expect") != NULL && strstr(r.msg, "icmp type 0") != NULL, "%s", r.msg);
}
END_TEST

START_TEST(test_runner_parse_errors_name_the_line)
{
    static pkt_result r;
    int st = pkt_run_text("bad.pkt", "0 < S 0:0(0) win 100\n+0 > S. 0:5(0) ack 1\n", &r, 0);
    ck_assert_int_eq(st, PKT_ERROR);
    ck_assert_msg(strstr(r.msg, "bad.pkt:2:") != NULL && strstr(r.msg, "LEN") != NULL, "%s", r.msg);
    st = pkt_run_text("bad2.pkt", "// purenet: rto_min=fast\n", &r, 0);
    ck_assert_int_eq(st, PKT_ERROR);
    ck_assert_msg(strstr(r.msg, "bad2.pkt:1:") != NULL, "%s", r.msg);
}
END_TEST

START_TEST(test_runner_xfail_is_counted_not_failed)
{
    static pkt_result r;
    char text[512];
    snprintf(text, sizeof(text), "// xfail: demonstration\n%s", wrong_echo);
    int st = pkt_run_text("x.pkt", text, &r, 0);
    ck_assert_int_eq(st, PKT_XFAIL);
    ck_assert_msg(strstr(r.msg, "expected failure: demonstration") != NULL, "%s", r.msg);
}
END_TEST

/* Every shipped script, with its first '>' line's first number changed,
 * must fail (not pass, not crash): a scratch copy with a wrong expectation
 * produces a diff. Checked on the first few TCP scripts that pass. */
START_TEST(test_runner_mutated_vector_fails)
{
    list_once();
    int tried = 0;
    for (int i = 0; i < nfiles && tried < 5; i++) {
        static pkt_result r;
        if (pkt_run_file(files[i], &r, 0) != PKT_PASS)
            continue;
        FILE *f = fopen(files[i], "rb");
        ck_assert_ptr_nonnull(f);
        static char text[65536];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        /* find a "> " line with " ack N" and bump N */
        char *p = text, *hit = NULL;
        while ((p = strstr(p, "> ")) != NULL) {
            char *eol = strchr(p, '\n');
            char *a = strstr(p, " ack ");
            if (a != NULL && (eol == NULL || a < eol)) {
                hit = a + 5;
                break;
            }
            p += 2;
        }
        if (hit == NULL)
            continue;
        char mutated[65536 + 16];
        size_t pre = (size_t)(hit - text);
        memcpy(mutated, text, pre);
        snprintf(mutated + pre, sizeof(mutated) - pre, "9%s", hit);
        int st = pkt_run_text(files[i], mutated, &r, 0);
        ck_assert_msg(st == PKT_FAIL, "%s with a wrong ack still passed", files[i]);
        ck_assert_msg(strstr(r.msg, "tcp.ack") != NULL && strstr(r.msg, "<-- differs") != NULL, "%s", r.msg);
        tried++;
    }
    /* With TCP in the build the handshake vector passes, and then five
     * mutated scripts must have been tried. */
    static pkt_result r0;
    if (pkt_run_file("vectors/tcp/handshake/server-passive-open.pkt", &r0, 0) == PKT_PASS)
        ck_assert_int_eq(tried, 5);
}
END_TEST

Suite *vectors_suite(void);

Suite *
vectors_suite(void)
{
    Suite *s = suite_create("vectors");
    list_once();
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_vector_file, 0, nfiles);
    suite_add_tcase(s, tc);
    TCase *rt = tcase_create("runner");
    tcase_set_timeout(rt, 60);
    tcase_add_test(rt, test_runner_good_script_passes);
    tcase_add_test(rt, test_runner_wrong_field_gives_decoded_diff);
    tcase_add_test(rt, test_runner_wrong_time_gives_time_row);
    tcase_add_test(rt, test_runner_unexpected_packet_is_reported);
    tcase_add_test(rt, test_runner_parse_errors_name_the_line);
    tcase_add_test(rt, test_runner_xfail_is_counted_not_failed);
    tcase_add_test(rt, test_runner_mutated_vector_fails);
    suite_add_tcase(s, rt);
    return s;
}
