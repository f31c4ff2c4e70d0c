/* The few string routines a freestanding Keel needs (the host uses libc's). */
#include <keel/types.h>

#ifndef KEEL_HOST
/*
 * Bulk copies and fills go a word at a time: rep movsq/stosq do an eighth
 * of the iterations of their byte forms (it shows when dom0's hundreds of
 * megabytes are zeroed and its kernel is unpacked, especially under
 * emulation).
 */
void *memcpy(void *dst, const void *src, size_t n)
{
    void *ret = dst;
    size_t words = n / 8, bytes = n % 8;

    __asm__ __volatile__("rep movsq" : "+D"(dst), "+S"(src), "+c"(words)::"memory");
    __asm__ __volatile__("rep movsb" : "+D"(dst), "+S"(src), "+c"(bytes)::"memory");
    return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *ret = dst;
    size_t words = n / 8, bytes = n % 8;
    u64 pattern = 0x0101010101010101ULL * (u8)c;

    __asm__ __volatile__("rep stosq" : "+D"(dst), "+c"(words) : "a"(pattern) : "memory");
    __asm__ __volatile__("rep stosb" : "+D"(dst), "+c"(bytes) : "a"(pattern) : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}
#endif
