"""Debian's unmodified Xen 4.17 toolstack in dom0 on Keel (issues 7 and 8).

Each group of tests/toolstack/MANIFEST boots Keel with Debian's Linux 6.1 as
a 2-vCPU, 1 GiB dom0 whose initramfs is the toolstack one
(cache/initrd-dom0.gz from `scripts/fetch-debian.sh --toolstack`, plus the
tree's tests/toolstack/ appended by testdata.py): its /init starts xenfs,
the C xenstored, xen-init-dom0 and xenconsoled as Debian does, then runs
tests/toolstack/<group>.sh, which drives `xl` and prints one
"TOOLSTACK: <check>: PASS|FAIL" line per check and a summary.  The same
groups pass on Debian's Xen 4.17: tests/toolstack/run-on-xen.sh.

Gates (the MANIFEST's second column): the toolstack-* groups (issue 7) and
the split-driver ones (splitdrv-*: blkback/netback, the hotplug scripts,
issue 8; under -icount, see ICOUNT) and the PVH one (pvh-*, issue 11;
QEMU's CPU gets SVM and nested paging) run in `make check` unless
KEEL_TOOLSTACK=0 / KEEL_SPLITDRV=0 / KEEL_PVH=0.  All are skipped, with the
reason, when the cached files are missing.
"""
import os

from . import HALTED_OK, STARTING, Scenario, missing_files
from .linux import CACHE, KERNEL, LINUX_FORBID

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MANIFEST = os.path.join(ROOT, "tests", "toolstack", "MANIFEST")
DOM0_ARGS = "console=hvc0 earlyprintk=xen ts_cpus=2 ts_dom0_mb=1024"
KEEL_ARGS = "debug-exit console=com1 dom0_mem=1024M dom0_max_vcpus=2 loglvl=all"
# The split-driver groups run under -icount: guest time then counts executed
# instructions, so libxl's fixed 40-second limit on a hotplug script (block,
# vif-bridge) is not spent by a loaded host's stalls, and idle guest time
# costs no wall time (sleep=off).  In real time, on a 2-core machine running
# several other QEMUs, the scripts took 14 to over 40 s and `xl block-attach`
# / `network-attach` failed ("killing execution of /etc/xen/scripts/block
# add because of timeout").  tests/toolstack/run-on-xen.sh does the same.
QEMU_ARGS = {
    "splitdrv": ["-icount", "shift=0,sleep=off"],
    # PVH domUs need AMD-V with nested paging in the (emulated) CPU.
    "pvh": ["-cpu", "qemu64,+svm,+npt"],
}


def _manifest():
    with open(MANIFEST) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, gate, script, extra, timeout, what = [c.strip() for c in line.split("|")]
            words = [] if extra == "-" else extra.split()
            # hv:WORD goes to the hypervisor's command line (e.g. sched=rtds),
            # qemu:WORD to QEMU's (e.g. qemu:-icount qemu:shift=0,sleep=off).
            hv = " ".join(w[3:] for w in words if w.startswith("hv:"))
            qemu = [w[5:] for w in words if w.startswith("qemu:")]
            dom0 = " ".join(w for w in words if not w.startswith(("hv:", "qemu:")))
            yield name, gate, script, dom0, hv, qemu, float(timeout), what


NEEDS = {
    "toolstack": "Keel's toolstack interface (issue 7)",
    "pvh": "Keel's toolstack interface and PVH domUs (issues 7, 11)",
    "splitdrv": "Keel's toolstack interface and split drivers (issues 7, 8)",
}


# Gates that run unless KEEL_<GATE>=0; the others only with KEEL_<GATE>=1.
ON_BY_DEFAULT = {"toolstack", "splitdrv", "pvh"}


def _skip(gate):
    var = f"KEEL_{gate.upper()}"
    if gate in ON_BY_DEFAULT and os.environ.get(var) == "0":
        return f"{var}=0"
    if gate not in ON_BY_DEFAULT and os.environ.get(var) != "1":
        return f"needs {NEEDS[gate]}; set {var}=1 to run"
    return missing_files(KERNEL, os.path.join(CACHE, "initrd-dom0.gz"),
                         os.path.join(CACHE, "initrd-domu.gz"))


SCENARIOS = [
    Scenario(f"{gate}-{name}", f"xl in dom0: {what}",
             args=f"{KEEL_ARGS} {hv}".strip(),
             modules=[(KERNEL, f"{DOM0_ARGS} KEEL_TEST=/tests/toolstack/{script} {extra}".strip()),
                      ("@toolstack-initrd", "")],
             smp=2,
             mem=2048,
             expect=[STARTING,
                     r"KEEL-INIT: /init reached",
                     r"KEEL-INIT: hypervisor type: xen",
                     r"KEEL-DOM0: xenstored up",
                     r"KEEL-DOM0: toolstack up",
                     rf"KEEL-INIT: running /tests/toolstack/{script}",
                     r"^TOOLSTACK: \d+ passed, 0 failed",
                     r"KEEL-INIT: test exit 0",
                     r"dom0 asked for ACPI S5",
                     HALTED_OK],
             # A failed check does not stop the run: the summary line
             # names every failure, and the log keeps the details.
             forbid=LINUX_FORBID + (r"KEEL-DOM0: toolstack FAILED",),
             timeout=timeout,
             qemu_args=QEMU_ARGS.get(gate, []) + qemu,
             skip=_skip(gate))
    for name, gate, script, extra, hv, qemu, timeout, what in _manifest()
]
