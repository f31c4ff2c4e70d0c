/*
 * Where guest instructions go, for bench/mm.sh profiles (bench/README.md):
 * a QEMU TCG plugin that counts executed instructions per translation
 * block for blocks in the hypervisor's range [lo, hi) (Keel's by default)
 * and in the Linux kernel's (0xffffffff80000000 up), and in total for the
 * rest of the kernel half and for user space.  At exit it writes
 * "<block address> <instructions> <executions>" lines and "kernel N" /
 * "user N" to out= (tbprof.out); bench/tbprof.py turns two such files
 * into per-function counts per operation.  Under -icount the guest's time
 * is exactly these instructions.  The plugin interface of QEMU 7.2
 * (version 1) is declared here by hand; build with
 *   gcc -shared -fPIC -O2 -o build/bench/tbprof.so bench/tbprof.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef void (*tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*atexit_cb_t)(qemu_plugin_id_t, void *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, atexit_cb_t cb, void *udata);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr,
                                              uint64_t imm);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct ent { uint64_t va, insns, count; struct ent *next; };
static struct ent *head;
static uint64_t lo, hi;
static uint64_t cls[3];

static const char *out = "tbprof.out";

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    uint64_t va = qemu_plugin_tb_vaddr(tb);
    if ((va < lo || va >= hi) && va < 0xffffffff80000000UL) {
        int c = va >= 0xffff800000000000UL ? 1 : 2;
        qemu_plugin_register_vcpu_tb_exec_inline(tb, 0, &cls[c], qemu_plugin_tb_n_insns(tb));
        return;
    }
    struct ent *e = calloc(1, sizeof(*e));
    e->va = va;
    e->insns = qemu_plugin_tb_n_insns(tb);
    e->next = head;
    head = e;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, 0, &e->count, 1);
}

static void fin(qemu_plugin_id_t id, void *u)
{
    (void)id; (void)u;
    FILE *f = fopen(out, "w");
    for (struct ent *e = head; e; e = e->next)
        if (e->count)
            fprintf(f, "%lx %lu %lu\n", (unsigned long)e->va, (unsigned long)e->insns,
                    (unsigned long)e->count);
    fprintf(f, "kernel %lu\nuser %lu\n", (unsigned long)cls[1], (unsigned long)cls[2]);
    fclose(f);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const void *info, int argc,
                                                               char **argv)
{
    (void)info;
    lo = 0xffff828000000000UL; hi = 0xffff830000000000UL;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "out=", 4)) out = argv[i] + 4;
        if (!strncmp(argv[i], "lo=", 3)) lo = strtoull(argv[i] + 3, 0, 16);
        if (!strncmp(argv[i], "hi=", 3)) hi = strtoull(argv[i] + 3, 0, 16);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
    qemu_plugin_register_atexit_cb(id, fin, NULL);
    return 0;
}
