/*
 * The copies that may fault (asm/uaccess.h).  Whole words go first, then
 * the tail bytes: REP MOVSQ/MOVSB stop with RCX at the count still to do
 * when they fault, so each fixup only has to turn that into bytes.  Words
 * rather than bytes because every hypercall argument and exception frame
 * comes through here (one iteration per word, not per byte).
 */
#include <asm/traps.h>

        .text
        .globl  copy_from_user_safe
        .globl  copy_to_user_safe
copy_from_user_safe:
copy_to_user_safe:
        mov     %rdx, %rcx
        shr     $3, %rcx
        and     $7, %edx
1:      rep movsq
        mov     %rdx, %rcx
2:      rep movsb
3:      mov     %rcx, %rax
        ret
        /* Faulted in the words: those left, and all the tail bytes. */
4:      lea     (%rdx, %rcx, 8), %rcx
        jmp     3b
        ASM_EXTABLE(1b, 4b)
        ASM_EXTABLE(2b, 3b)
