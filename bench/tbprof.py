#!/usr/bin/env python3
"""Per-function instruction counts from bench/tbprof.c profiles.

    bench/tbprof.py KEEL_SYMS PROF_2N PROF_N OPS [KALLSYMS]

PROF_2N and PROF_N are profiles of two boots that differ only in running a
row OPS more times (bench/mm.sh with SCALE=200 and SCALE=100, QEMU_EXTRA
carrying the plugin): their difference is exactly OPS operations, boot and
set-up cancel out.  KEEL_SYMS is build/keel-syms; KALLSYMS the guest's
/proc/kallsyms (text symbols), for the kernel's functions (prefixed k:).
Prints instructions per operation: total, Keel, kernel, user, then the
top functions (TOP=60).
"""
import sys, bisect, subprocess, collections
syms = []
for l in subprocess.run(["nm", "-n", sys.argv[1]], capture_output=True, text=True).stdout.split("\n"):
    p = l.split()
    if len(p) == 3 and p[1] in "tTwW":
        syms.append((int(p[0], 16), p[2]))
for l in open(sys.argv[5] if len(sys.argv) > 5 else "/dev/null"):
    p = l.split()
    if len(p) == 3 and p[1] in "tTwW":
        syms.append((int(p[0], 16), "k:" + p[2]))
syms.sort()
addrs = [a for a, _ in syms]
def load(f):
    c = collections.Counter()
    for l in open(f):
        p = l.split()
        if p[0] in ("kernel", "user"):
            c["<" + p[0] + ">"] += int(p[1]); continue
        va = int(p[0], 16); n = int(p[1]) * int(p[2])
        i = bisect.bisect_right(addrs, va) - 1
        c[syms[i][1] if i >= 0 else hex(va)] += n
    return c
a = load(sys.argv[2])
b = load(sys.argv[3]) if len(sys.argv) > 3 else collections.Counter()
ops = int(sys.argv[4]) if len(sys.argv) > 4 else 1
d = collections.Counter({k: a[k] - b[k] for k in set(a) | set(b)})
tot = sum(v for k, v in d.items())
keel = sum(v for k, v in d.items() if not k.startswith("<") and not k.startswith("k:"))
d["<kernel>"] += sum(v for k, v in d.items() if k.startswith("k:"))
print(f"total/op {tot/ops:.0f}  keel/op {keel/ops:.0f}  kernel/op {d['<kernel>']/ops:.0f}  user/op {d['<user>']/ops:.0f}")
for k, v in d.most_common(int(__import__("os").environ.get("TOP","60"))):
    print(f"{v/ops:12.0f} {k}")
