/*
 * pn_check.h -- shared helpers for the Check suites.
 *
 * Each tests/check_<name>.c defines `Suite *<name>_suite(void)`; the
 * Makefile lists them for check_main.c, so adding a file adds a suite.
 */
#ifndef PN_CHECK_H
#define PN_CHECK_H

#include <check.h>
#include <stdint.h>
#include <stddef.h>

#include "purenet.h"

/* EXPECT-style aliases (lwIP's unit tests). */
#define EXPECT(x) ck_assert(x)
#define EXPECT_RET(x) do { if (!(x)) { ck_assert(x); return; } } while (0)
#define EXPECT_INT(a, b) ck_assert_int_eq((a), (b))
#define EXPECT_UINT(a, b) ck_assert_uint_eq((a), (b))
#define EXPECT_MEM(a, b, n) ck_assert_mem_eq((a), (b), (n))

/* Parse a hex string (whitespace ignored) into out; returns the byte count,
 * or -1 on a bad digit or overflow. */
int pn_test_hex(const char *hex, uint8_t *out, size_t cap);

/* A guard-page buffer (picohttpparser's trick): returns a pointer p such
 * that p[0..len) is readable/writable and p[len] is an unmapped page, so
 * any one-byte over-read faults at once. Copy `src` into it. Release with
 * pn_test_guard_free. */
uint8_t *pn_test_guard(const void *src, size_t len);
void pn_test_guard_free(uint8_t *p, size_t len);

/* Assert every pool of s is back to zero use (teardown leak check). */
void pn_test_pools_empty(const pn_stack *s);

/* Deterministic PRNG for tests (xorshift64*). */
uint64_t pn_test_rand(uint64_t *state);

#endif
