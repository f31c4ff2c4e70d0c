/*
 * Copies that may fault.  The only way Keel touches memory whose mapping it
 * does not control (guest memory): a #PF or #GP during the copy is caught by
 * the exception-fixup table and reported, never fatal.
 */
#ifndef ASM_UACCESS_H
#define ASM_UACCESS_H
#include <keel/types.h>

/* Both return the number of bytes NOT copied (0 on success). */
size_t copy_from_user_safe(void *dst, const void *src, size_t n);
size_t copy_to_user_safe(void *dst, const void *src, size_t n);
#endif
