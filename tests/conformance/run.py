#!/usr/bin/env python3
"""`make conformance`: every PV test guest on Debian's Xen 4.17 and on Keel.

Each guest of tests/guests/MANIFEST boots as dom0 of Xen 4.17
(cache/xen-4.17.elf, from `scripts/fetch-debian.sh --xen`) and of Keel,
under the same QEMU (CPU model, memory, CPUs).  The guests log every
hypercall with its arguments and result (tests/guests/rt/hlog.c); the two
logs are compared call by call (tests/conformance/hlog.py) and every
difference is printed, then `N same, N different`.  Differences listed in
tests/conformance/allowed.txt (with their reason) are Keel's deliberate
ones; any other makes the run fail.

The Xen logs are kept in tests/conformance/xen/<guest>.hlog: `make check`
compares Keel's runs against them, so CI needs no Xen.  This command
rewrites them (review the diff before committing).

    tests/conformance/run.py [-j N] [--xen-only] [guest...]
"""

import argparse
import concurrent.futures
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, HERE)

import hlog  # noqa: E402
import qemu  # noqa: E402
from scenarios import guests  # noqa: E402

XEN_ARGS = "console=com1 dom0_mem=64M loglvl=all guest_loglvl=all"
VERDICT = re.compile(r"^TEST [^:]*: ")
XEN_END = re.compile(r"Dom0 (halted|crashed|shutdown)|Panic on CPU|\*\*\*\*\*\*\*\*")
KEEL_END = re.compile(r"Keel halted \(status")
TIMEOUT = 150


def boot(kernel, args, guest, cmdline, smp, build, end_rx, devices):
    b = qemu.Boot(args=args, modules=[qemu.Module(os.path.join(build, "guests",
                                                               f"{guest}.elf"), cmdline)],
                  smp=smp, build=build, kernel=kernel, devices=devices)
    b.prepare()

    def on_line(line):
        if VERDICT.match(line) or end_rx.search(line):
            return "linger"
        return None
    res = qemu.run(b.command(), TIMEOUT, on_line=on_line, linger=3.0)
    return res.lines


def verdict(lines):
    for line in lines:
        if VERDICT.match(line):
            return line.strip()
    return "(no verdict)"


def one(guest, extra, cmdline, want, devices, o):
    smp = 2 if "dom0_max_vcpus" in extra else 1
    xen_lines = boot(o.xen, f"{XEN_ARGS} {extra}".strip(), guest, cmdline, smp, o.build,
                     XEN_END, devices)
    keel_lines = [] if o.xen_only else boot(
        "", f"{guests.BASE_ARGS} {extra}".strip(), guest, cmdline, smp, o.build, KEEL_END,
        devices)
    logdir = os.path.join(o.build, "conformance")
    os.makedirs(logdir, exist_ok=True)
    for side, lines in (("xen", xen_lines), ("keel", keel_lines)):
        with open(os.path.join(logdir, f"{guest}.{side}.log"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return guest, want, xen_lines, keel_lines


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--xen", default=os.path.join(ROOT, "cache", "xen-4.17.elf"))
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    ap.add_argument("--xen-only", action="store_true",
                    help="only record Xen's logs (no Keel runs, no comparison)")
    ap.add_argument("names", nargs="*")
    o = ap.parse_args()
    o.build = os.path.abspath(o.build)
    if not os.path.isfile(o.xen):
        print(f"no {o.xen}: run scripts/fetch-debian.sh --xen", file=sys.stderr)
        return 2
    todo = [t for t in guests._manifest() if not o.names or t[0] in o.names]
    total, bad = hlog.Result(), []
    allowed = hlog.Allowed()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.jobs)) as pool:
        runs = [pool.submit(one, *t, o) for t in todo]
        for fut in runs:
            guest, want, xen_lines, keel_lines = fut.result()
            xv, kv = verdict(xen_lines), verdict(keel_lines)
            if not re.search(want, xv):
                bad.append(f"{guest}: Xen 4.17 says {xv!r}")
            if not o.xen_only and not re.search(want, kv):
                bad.append(f"{guest}: Keel says {kv!r}")
            hlog.record(guest, xen_lines)
            if o.xen_only:
                print(f"{guest}: recorded {len([1 for line in xen_lines if hlog.LINE.search(line)])}"
                      f" calls", flush=True)
                continue
            res = hlog.compare(guest, xen_lines, keel_lines, allowed)
            print(f"{guest}: {res.summary()}", flush=True)
            for d in res.diffs:
                print(f"    {d}", flush=True)
            total.add(res)
    for b in bad:
        print(f"verdict: {b}")
    if o.xen_only:
        return 1 if bad else 0
    print(f"conformance: {total.summary()}")
    return 1 if bad or total.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
