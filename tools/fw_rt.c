/*
 * fw_rt.c -- the least runtime a freestanding Cortex-M4 program of tools/
 * needs to run under qemu-arm user mode (mk/cross.mk): an entry point,
 * write and exit through Linux EABI system calls (svc 0, number in r7),
 * and the mem* and str* functions the library may call. Also what a firmware
 * must supply to link purenet: exactly mem* and str* (see `make
 * cross-cortex-m`'s symbol check).
 *
 * Compiled with -fno-builtin -fno-tree-loop-distribute-patterns so the
 * loops below are not turned back into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

int main(void);
void fw_write(const char *s);
void fw_exit(int code) __attribute__((noreturn));
void _start(void) __attribute__((noreturn, naked));
void fw_start_c(void) __attribute__((noreturn, used));

void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

static long
sys3(long nr, long a, long b, long c)
{
    register long r0 __asm__("r0") = a;
    register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c;
    register long r7 __asm__("r7") = nr;
    __asm__ volatile("svc 0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return r0;
}

void
fw_write(const char *s)
{
    (void)sys3(4 /* write */, 1, (long)s, (long)strlen(s));
}

void
fw_exit(int code)
{
    for (;;)
        (void)sys3(248 /* exit_group */, code, 0, 0);
}

void
fw_start_c(void)
{
    fw_exit(main());
}

/* The kernel (qemu) hands over with sp set; keep it 8-byte aligned (AAPCS). */
void
_start(void)
{
    __asm__ volatile("mov r0, sp\n\t"
                     "bic r0, r0, #7\n\t"
                     "mov sp, r0\n\t"
                     "bl fw_start_c\n\t");
}

void *
memcpy(void *restrict d, const void *restrict s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n-- > 0)
        *dp++ = *sp++;
    return d;
}

void *
memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp) {
        while (n-- > 0)
            *dp++ = *sp++;
    } else {
        while (n-- > 0)
            dp[n] = sp[n];
    }
    return d;
}

void *
memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    while (n-- > 0)
        *dp++ = (uint8_t)c;
    return d;
}

int
memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

void *
memchr(const void *s, int c, size_t n)
{
    const uint8_t *p = s;
    for (size_t i = 0; i < n; i++)
        if (p[i] == (uint8_t)c)
            return (void *)(uintptr_t)(p + i);
    return NULL;
}

size_t
strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int
strcmp(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b || *a == '\0')
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}
