/*
 * Application processor start-up.  smp.c copies trampoline_start ..
 * trampoline_end to TRAMPOLINE_PA and patches the tramp_* fields; a SIPI
 * with vector TRAMPOLINE_PA >> 12 starts the AP here in real mode with
 * CS = TRAMPOLINE_PA >> 4, IP = 0.  The code below the copy runs at
 * TRAMPOLINE_PA, so addresses in it are computed with T().
 *
 * The AP checks it is the CPU the BSP is waiting for (a late AP from an
 * earlier, abandoned attempt parks itself instead), claims the slot
 * atomically, then jumps to ap_entry_high in Keel's image.
 */
#include <asm/layout.h>
#include <asm/smp.h>

#define T(x) (TRAMPOLINE_PA + (x) - trampoline_start)
#define TRAMP_WAITING 1
#define TRAMP_CLAIMED 2

        .section .rodata, "a"
        .align 16
        .globl trampoline_start, trampoline_end
        .globl tramp_apic_id, tramp_state, tramp_cr3, tramp_efer, tramp_cr0

        .code16
trampoline_start:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        lgdtl   tramp_gdt_desc - trampoline_start
        mov     %cr0, %eax
        or      $1, %eax                /* PE */
        mov     %eax, %cr0
        ljmpl   $0x08, $T(tramp32)

        .code32
tramp32:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        mov     T(tramp_cr3), %eax
        mov     %eax, %cr3
        mov     $0xc0000080, %ecx       /* EFER: the BSP's LME/SCE/NXE */
        rdmsr
        or      T(tramp_efer), %eax
        wrmsr
        mov     T(tramp_cr0), %eax      /* the BSP's CR0: PG, PE, WP, NE... */
        mov     %eax, %cr0
        ljmpl   $0x18, $T(tramp64)

        .code64
tramp64:
        /* Who am I?  Leaf 0xb gives the full x2APIC id when it exists. */
        xor     %eax, %eax
        cpuid
        cmp     $0xb, %eax
        jb      1f
        mov     $0xb, %eax
        xor     %ecx, %ecx
        cpuid
        test    %ebx, %ebx
        jz      1f
        mov     %edx, %esi
        jmp     2f
1:      mov     $1, %eax
        cpuid
        shr     $24, %ebx
        mov     %ebx, %esi
2:      cmp     T(tramp_apic_id), %esi
        jne     park
        mov     $TRAMP_WAITING, %eax
        mov     $TRAMP_CLAIMED, %ecx
        lock cmpxchg %ecx, T(tramp_state)
        jne     park
        movabs  $ap_entry_high, %rax
        jmp     *%rax

park:   cli
        hlt
        jmp     park

        .align 16
tramp_gdt:
        .quad   0
        .quad   0x00cf9b000000ffff      /* 0x08: 32-bit code */
        .quad   0x00cf93000000ffff      /* 0x10: data */
        .quad   0x00af9b000000ffff      /* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdt_desc:
        .short  tramp_gdt_end - tramp_gdt - 1
        .long   T(tramp_gdt)

        .align 4
tramp_apic_id:  .long 0
tramp_state:    .long 0
tramp_cr3:      .long 0
tramp_efer:     .long 0
tramp_cr0:      .long 0
trampoline_end:

        /* Keel's own GDT for the AP until traps_init_cpu: same selectors as
         * the boot CPU's, reachable once the identity map is gone.  The
         * accessed bits are preset: this is read-only data, and the CPU
         * would otherwise write them when the segments are loaded. */
        .align 16
ap_gdt:
        .quad   0
        .quad   0x00af9b000000ffff      /* 0x08: 64-bit code */
        .quad   0x00cf93000000ffff      /* 0x10: data */
ap_gdt_end:
ap_gdt_desc:
        .short  ap_gdt_end - ap_gdt - 1
        .quad   ap_gdt

        .text
        .code64
/* Still on the trampoline page tables, which also map Keel high. */
ap_entry_high:
        mov     ap_boot_stack(%rip), %rsp       /* the far return needs one */
        lgdt    ap_gdt_desc(%rip)
        pushq   $0x08
        lea     1f(%rip), %rax
        pushq   %rax
        lretq
1:      mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
        mov     ap_boot_cr3(%rip), %rax
        mov     %rax, %cr3
        mov     ap_boot_cr4(%rip), %rax
        mov     %rax, %cr4
        xor     %ebp, %ebp
        call    ap_start
2:      cli
        hlt
        jmp     2b
