/*
 * xzalloc: page-granular allocations for Keel's own objects (domains,
 * vCPUs).  The block's order is kept in a small header in front of the
 * returned pointer, so xfree needs no size.
 */
#include <asm/layout.h>
#include <keel/console.h>
#include <keel/mm.h>
#include <keel/page_alloc.h>

#define HEADER 64 /* keeps the returned pointer 64-byte aligned */

static unsigned int order_for(size_t bytes)
{
    unsigned int order = 0;

    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

void *xzalloc(size_t size)
{
    unsigned int order = order_for(size + HEADER);
    struct page_info *pg;
    u8 *p;

    if (order > MAX_ORDER)
        return NULL;
    pg = alloc_pages(order);
    if (!pg)
        return NULL;
    p = __va(page_to_mfn(pg) << PAGE_SHIFT);
    memset(p, 0, PAGE_SIZE << order);
    *(unsigned int *)p = order;
    return p + HEADER;
}

void xfree(void *ptr)
{
    u8 *p;

    if (!ptr)
        return;
    p = (u8 *)ptr - HEADER;
    free_pages(mfn_to_page(virt_to_mfn(p)), *(unsigned int *)p);
}
