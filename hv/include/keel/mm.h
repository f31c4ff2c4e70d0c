/* Keel's own dynamic memory: whole pages from the heap, zeroed. */
#ifndef KEEL_MM_H
#define KEEL_MM_H
#include <keel/types.h>

void *xzalloc(size_t size); /* NULL on failure */
void xfree(void *p);        /* NULL is fine */
#endif
