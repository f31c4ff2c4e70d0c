/*
 * The one place where core code learns whether it is built into the
 * hypervisor (freestanding) or into a host unit test (KEEL_HOST, with libc,
 * ASan and UBSan).  Core sources include this instead of any libc header, so
 * the same file compiles in both worlds without edits.
 */
#ifndef KEEL_ENV_H
#define KEEL_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef KEEL_HOST
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Host tests turn a hypervisor panic into an abort the test can see. */
#define keel_host_panic(...)                                                   \
    do {                                                                       \
        fprintf(stderr, __VA_ARGS__);                                          \
        abort();                                                               \
    } while (0)
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

#endif
