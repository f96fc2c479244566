/*
 * string.h for the freestanding Cortex-M build (mk/cross.mk puts this
 * directory on the include path of `make cross-cortex-m` only).
 *
 * -ffreestanding guarantees only <stddef.h>, <stdint.h>, <limits.h> and
 * friends; <string.h> is not among them, and Debian's gcc-arm-none-eabi
 * ships no C library headers without libnewlib-dev. The library may use
 * the mem* and str* functions a firmware always has; declaring exactly these
 * here turns any other libc call into a compile error on this target.
 */
#ifndef PN_FW_STRING_H
#define PN_FW_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
