"""System test scenarios: each boots Keel once in QEMU and judges its console.

A scenario says how to boot (protocol, Keel's arguments, modules, CPUs,
memory) and what must happen: `expect` regexes must match console lines in
order, no line may match a `forbid` regex, and QEMU must end with
`expect_exit` (1 = clean halt through isa-debug-exit, 3 = panic,
5 = selftest failure).  `expect_exit=None` means the run ends as soon as every
expected line was seen (for outcomes that cannot reach the debug-exit port,
such as a halt before the command line is read).

A scenario that cannot run here is still listed: `skip` holds the reason
(missing fetched files, a feature gated behind an environment variable) and
the runner prints "SKIP system/NAME (reason)" instead of booting it.

Each module in this package defines SCENARIOS, a list of Scenario; add a
module (or a scenario to an existing one) to add a test.  Module paths
starting with "@" name generated test files (see testdata.py); "build:x"
is x in the build directory (e.g. "build:guests/hello.elf").
"""

import importlib
import os
import pkgutil
import re
from dataclasses import dataclass, field

# Outcomes every scenario forbids unless it says otherwise.
PANIC = r"\*\*\* Keel panic"
CRASH = r"(?i)backtrace"
# (A hub that is not connected to the host network is the point of the
# NIC scenarios: traffic stays inside the machine.)
QEMU_ERROR = r"^qemu-system-\S+: (?!terminating on signal|warning: hub \d+ is not connected)"
SHIM_ERROR = r"mbshim: error"
DEFAULT_FORBID = (PANIC, CRASH, QEMU_ERROR, SHIM_ERROR)

STARTING = r"Keel hypervisor starting"
HALTED_OK = r"Keel halted \(status 0\)"

EXIT_MEANING = {1: "clean halt", 3: "panic", 5: "selftest failure", 0: "reset/triple fault"}


@dataclass
class Scenario:
    name: str
    doc: str
    expect: list
    protocol: str = "mb1"  # mb1 | grub-mb2 | grub-mb1 | shim
    args: str = "debug-exit"
    modules: list = field(default_factory=list)  # ("path or @testfile", "args")
    shim_case: str = ""
    smp: int = 1
    mem: int = 256
    cpu: str = "qemu64"
    forbid: tuple = DEFAULT_FORBID
    expect_exit: object = 1
    timeout: float = 60
    # (regex, text, delay): type text on the serial console `delay` seconds
    # after a line matches regex; used in order (interactive scenarios).
    typing: list = field(default_factory=list)
    # Called with the console lines of a run that passed the rest:
    # returns (error or None, conformance Result or None).
    post: object = None
    # Non-empty: why this scenario is not run (reported as skipped).
    skip: str = ""
    # Hardware beyond Keel's bare machine: raw disk images the run makes
    # afresh in build/disks/<scenario>/ as (name, MiB, "ahci" | "virtio"),
    # and e1000 NICs joined by one QEMU hub (no way out of the machine).
    disks: list = field(default_factory=list)
    nics: int = 0
    qemu_args: list = field(default_factory=list)  # further devices, as QEMU arguments
    # A guest reset restarts the machine instead of ending QEMU.
    reboot: bool = False
    # (regex, command, delay): QEMU monitor commands, used like typing.
    monitor: list = field(default_factory=list)
    # check(console lines, {disk name: image path}) after QEMU ended: an
    # error string, or None (host-side checks, e.g. of the disk images).
    check: object = None

    def __post_init__(self):
        for rx in list(self.expect) + list(self.forbid) + [t[0] for t in self.typing] + \
                [m[0] for m in self.monitor]:
            re.compile(rx)


def missing_files(*paths):
    """A skip reason naming the files that are absent, or ""."""
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    gone = [os.path.relpath(p, root) if p.startswith(root + os.sep) else p
            for p in paths if not os.path.isfile(p)]
    if not gone:
        return ""
    return f"missing {', '.join(gone)}: run scripts/fetch-debian.sh (make fetch)"


def all_scenarios():
    found, seen = [], set()
    here = os.path.dirname(__file__)
    for info in sorted(pkgutil.iter_modules([here]), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for sc in getattr(mod, "SCENARIOS", []):
            if sc.name in seen:
                raise ValueError(f"two scenarios named {sc.name}")
            seen.add(sc.name)
            found.append(sc)
    return found
