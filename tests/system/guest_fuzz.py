#!/usr/bin/env python3
"""The long guest-level fuzz run of `make fuzz`: the racing fuzz guest
(tests/guests/fuzz-race) as dom0 of Keel on 2 vCPUs and 2 CPUs, once per
seed, with N calls on each vCPU.  Each run must end with the guest's PASS
line and Keel's clean halt, and Keel must print no panic, backtrace or
failed check.  Prints, per seed, the calls made and how long they took.

    tests/system/guest_fuzz.py [--build build] [--calls N] [--xen] [seed...]

Environment: GUEST_FUZZ_SEEDS (default: three fixed seeds),
GUEST_FUZZ_CALLS (default 1000000).  --xen boots Debian's Xen 4.17
(cache/xen-4.17.elf) instead, for comparison.
"""
import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import qemu  # noqa: E402

DEFAULT_SEEDS = "0x6b65656c66757a7a 0x1 0xdeadbeef"
KEEL_ARGS = "debug-exit console=com1 dom0_mem=64M loglvl=all dom0_max_vcpus=2"
XEN_ARGS = "console=com1 dom0_mem=64M loglvl=all guest_loglvl=all dom0_max_vcpus=2"
VERDICT = re.compile(r"^TEST fuzz-race: (PASS|FAIL.*)$")
FORBID = re.compile(r"\*\*\* Keel panic|(?i:backtrace)|^check failed|Panic on CPU|"
                    r"Assertion .* failed|\bBUG\b|WARN")
CALLS = re.compile(r"^fuzz: (\d+) calls in (\d+) ms")
END = re.compile(r"Keel halted \(status|Dom0 (halted|crashed|shutdown)")


def run_one(build, seed, calls, xen):
    elf = os.path.join(build, "guests", "fuzz-race.elf")
    b = qemu.Boot(args=XEN_ARGS if xen else KEEL_ARGS,
                  modules=[qemu.Module(elf, f"seed={seed} calls={calls}")], smp=2,
                  build=build, kernel=os.path.join(ROOT, "cache", "xen-4.17.elf") if xen else "")
    b.prepare()

    def on_line(line):
        if END.search(line) or (xen and VERDICT.match(line)):
            return "linger"
        return None
    # Generous: 10^6 calls a vCPU took 230-400 s of guest time under TCG.
    timeout = 120 + calls * 0.004
    start = time.time()
    res = qemu.run(b.command(), timeout, on_line=on_line, linger=3.0)
    wall = time.time() - start
    log = os.path.join(build, "logs", f"guest-fuzz-{'xen' if xen else 'keel'}-{seed}.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as f:
        f.write("\n".join(res.lines) + "\n")
    verdict = next((m.group(1) for m in map(VERDICT.match, res.lines) if m), None)
    bad = [ln for ln in res.lines if FORBID.search(ln) and (not xen or "Panic" in ln)]
    made = next((m.groups() for m in map(CALLS.match, res.lines) if m), None)
    ok = verdict == "PASS" and not bad and not res.timed_out
    what = f"{made[0]} calls in {int(made[1]) / 1000:.1f} s of guest time" if made else "no count"
    print(f"seed {seed}: {'PASS' if ok else 'FAIL'}: {what}, {wall:.0f} s wall"
          + ("" if ok else f"; verdict {verdict}, {'timed out, ' if res.timed_out else ''}"
             f"{bad[:3]} (log {log})"), flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--calls", type=int, default=int(os.environ.get("GUEST_FUZZ_CALLS",
                                                                    "1000000")))
    ap.add_argument("--xen", action="store_true")
    ap.add_argument("seeds", nargs="*")
    a = ap.parse_args()
    seeds = a.seeds or os.environ.get("GUEST_FUZZ_SEEDS", DEFAULT_SEEDS).split()
    print(f"== guest fuzz: fuzz-race, {a.calls} calls on each of 2 vCPUs, "
          f"seeds {' '.join(seeds)}, on {'Xen 4.17' if a.xen else 'Keel'}", flush=True)
    failed = [s for s in seeds if not run_one(a.build, s, a.calls, a.xen)]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
