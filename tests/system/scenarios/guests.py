"""PV test guests (tests/guests/) booted as dom0 on Keel.

tests/guests/MANIFEST lists every guest with its verdict; each one passes on
Xen 4.17 (tests/guests/run-on-xen.sh), and must pass on Keel the same way:
its verdict line, then dom0's power-off ending the run cleanly.

KEEL_READY names the guests whose hypercall families Keel implements; a
family's work adds its guest here in the same commit.
"""
import os

from . import DEFAULT_FORBID, HALTED_OK, Scenario

KEEL_READY = {
    "hello",
    "console",
    "version",
    "multicall",
    "hypercall-page",
    "privops",
    "badiret",
    "usermode",
    "traps",
    "hostile",
    "mmu",
    "sched",
    "evtchn",
    "timer",
    "vcpu",
    "smp",
    "memory",
    "balloon",
    "gdt",
    "fuzz",
    "grant",
    "toolstack",
    "pvh",
}

HERE = os.path.dirname(__file__)
MANIFEST = os.path.join(HERE, "..", "..", "guests", "MANIFEST")
BASE_ARGS = "debug-exit console=com1 dom0_mem=64M loglvl=all"


def _manifest():
    with open(MANIFEST) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cols = [c.strip() for c in line.split("|")]
            name, extra, cmdline, verdict = cols[:4]
            cpu = cols[4] if len(cols) > 4 else "qemu64"
            yield (name, "" if extra == "-" else extra, "" if cmdline == "-" else cmdline,
                   verdict, cpu)


SCENARIOS = [
    Scenario(f"guest-{name}", f"PV test guest '{name}' as dom0 reports PASS and powers off",
             args=f"{BASE_ARGS} {extra}".strip(),
             modules=[(f"build:guests/{name}.elf", cmdline)],
             expect=[verdict.replace("$", r"\s*$"), r"Domain 0 shut down: poweroff", HALTED_OK],
             forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
             # Guests with several vCPUs get as many CPUs: cross-CPU wake-ups.
             smp=2 if "dom0_max_vcpus" in extra else 1,
             cpu=cpu, timeout=90)
    for name, extra, cmdline, verdict, cpu in _manifest()
    if name in KEEL_READY
]

# With SMEP and SMAP on, Keel must still reach guest memory (stac/clac
# around every copy) and never run guest code in ring 0.
SCENARIOS.append(
    Scenario("guest-console-smap", "PV guest I/O with SMEP and SMAP enabled in Keel",
             args=BASE_ARGS, cpu="qemu64,+smep,+smap",
             modules=[("build:guests/console.elf", "")],
             expect=[r"Paging: NX on, SMEP on, SMAP on", r"^TEST console: PASS\s*$",
                     HALTED_OK],
             forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL",), timeout=90))

# The toolstack guest on two CPUs: dom0's vCPU on one, the domU it builds
# on the other (least loaded), running at the same time.
SCENARIOS.append(
    Scenario("guest-toolstack-smp2", "toolstack guest: domU on the other CPU, concurrently",
             args=f"{BASE_ARGS} dom0_max_vcpus=1",
             modules=[("build:guests/toolstack.elf", "")],
             expect=[r"^TEST toolstack: PASS\s*$", r"Domain 0 shut down: poweroff", HALTED_OK],
             forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
             smp=2, timeout=120))
