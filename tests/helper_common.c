/* helper_common.c -- implementations of pn_check.h helpers. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pn_check.h"

int
pn_test_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p != '\0'; p++) {
        int v;
        char c = *p;
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ':')
            continue;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (int)n : -1;
}

static size_t
guard_span(size_t len, size_t *pages_out)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (len + pg - 1) / pg;
    if (data_pages == 0)
        data_pages = 1;
    *pages_out = data_pages;
    return pg;
}

uint8_t *
pn_test_guard(const void *src, size_t len)
{
    size_t pages;
    size_t pg = guard_span(len, &pages);
    uint8_t *m = mmap(NULL, (pages + 1) * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_int_eq(mprotect(m + pages * pg, pg, PROT_NONE), 0);
    uint8_t *p = m + pages * pg - len;
    if (len > 0)
        memcpy(p, src, len);
    return p;
}

void
pn_test_guard_free(uint8_t *p, size_t len)
{
    size_t pages;
    size_t pg = guard_span(len, &pages);
    uint8_t *m = p + len - pages * pg;
    munmap(m, (pages + 1) * pg);
}

uint64_t
pn_test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
