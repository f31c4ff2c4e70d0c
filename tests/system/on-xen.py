#!/usr/bin/env python3
"""Run a Linux dom0 scenario's machine on Debian's Xen 4.17 instead of Keel.

    tests/system/on-xen.py linux-dom0-hw

The same QEMU machine (disks made afresh, NICs, monitor actions, reboots),
the same dom0 kernel, initramfs and test script, with cache/xen-4.17.elf
(scripts/fetch-debian.sh --xen) as the hypervisor.  Prints the test
script's verdict lines (those starting with the scenario's prefix, "HW:"
by default) and the scenario's host-side check, and keeps the console in
build/logs/<scenario>.xen.log.  The reference for what Keel must do.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import qemu  # noqa: E402
from scenarios import all_scenarios  # noqa: E402
import run  # noqa: E402  (tests/run.py: disks, devices, boot)

XEN_ARGS = "console=com1 loglvl=all guest_loglvl=all"
# Keel options that Xen spells the same; the rest are Keel's own.
SHARED_OPTS = ("dom0_mem=", "dom0_max_vcpus=")


class XenBoot(qemu.Boot):
    xen: str = ""

    def keel(self):
        return self.xen


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--xen", default=os.path.join(ROOT, "cache", "xen-4.17.elf"))
    ap.add_argument("--prefix", default="HW:")
    ap.add_argument("--timeout", type=float, default=None)
    o = ap.parse_args()
    build = os.path.abspath(o.build)
    sc = next((s for s in all_scenarios() if s.name == o.scenario), None)
    if sc is None:
        print(f"on-xen: no scenario {o.scenario}", file=sys.stderr)
        return 2
    if not os.path.isfile(o.xen):
        print(f"on-xen: no {o.xen}: run scripts/fetch-debian.sh --xen", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(build, "logs"), exist_ok=True)
    images = run.make_disks(sc, build, f"{sc.name}-xen")  # apart from Keel's runs
    boot = run.make_boot(sc, build, images)
    xboot = XenBoot(**{k: getattr(boot, k) for k in boot.__dataclass_fields__})
    xboot.xen = o.xen
    xboot.args = " ".join([XEN_ARGS] + [w for w in sc.args.split()
                                        if w.startswith(SHARED_OPTS)])
    xboot.monitor = boot.monitor + ".xen" if boot.monitor else ""
    cmd = xboot.command()
    mon = qemu.Monitor(xboot.monitor, sc.monitor) if sc.monitor else None

    log = os.path.join(build, "logs", f"{sc.name}.xen.log")
    live = open(log, "w")
    live.write(f"# {sc.name} on Xen 4.17\n# {' '.join(cmd)}\n")

    def on_line(line):
        live.write(line + "\n")
        live.flush()
        if line.startswith(o.prefix):
            print(line, flush=True)
        # Xen halts instead of powering off in some paths: stop there (but
        # not when it reboots the machine).
        return "linger" if "Dom0 halted" in line or "Entering ACPI S5" in line else None

    res = qemu.run(cmd, o.timeout or sc.timeout, on_line=on_line, monitor=mon)
    live.close()
    print(f"on-xen: QEMU status {res.status}{' (timed out)' if res.timed_out else ''}; "
          f"console in {log}")
    if sc.check:
        err = sc.check(res.lines, images)
        print(f"on-xen: host check: {err or 'PASS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
