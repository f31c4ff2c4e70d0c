/*
 * The copies that may fault (asm/uaccess.h).  REP MOVSB leaves RCX at the
 * count still to do when it faults, which is exactly the "bytes not copied"
 * answer, so the fixup only has to return it.
 */
#include <asm/traps.h>

        .text
        .globl  copy_from_user_safe
        .globl  copy_to_user_safe
copy_from_user_safe:
copy_to_user_safe:
        mov     %rdx, %rcx
1:      rep movsb
2:      mov     %rcx, %rax
        ret
        ASM_EXTABLE(1b, 2b)
