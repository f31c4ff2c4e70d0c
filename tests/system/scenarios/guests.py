"""PV test guests (tests/guests/) booted as dom0 on Keel.

tests/guests/MANIFEST lists every guest with its verdict; each one passes on
Xen 4.17 (tests/guests/run-on-xen.sh), and must pass on Keel the same way:
its verdict line, then dom0's power-off ending the run cleanly.

KEEL_READY names the guests whose hypercall families Keel implements; a
family's work adds its guest here in the same commit.
"""
import os
import sys

from . import DEFAULT_FORBID, HALTED_OK, Scenario

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "conformance"))
import hlog  # noqa: E402

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
    "fuzz-race",
    "irq",
    "grant",
    "nofeat",
    "fifo",
    "linear",
    "gntv2",
    "callgate",
    "iostr",
    "reboot",
    "failsafe",
    "toolstack",
    "pinshared",
    "hcallmsr",
    "stale-tlb",
    "memdup",
    "vcpuctx",
    "preempt",
    "dbist",
    "dbreg",
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
            devices = cols[4].split() if len(cols) > 4 else []
            yield (name, "" if extra == "-" else extra, "" if cmdline == "-" else cmdline,
                   verdict, devices)


# How a guest's run ends, when not by powering off: (console lines, QEMU
# exit status).  dom0 rebooting resets the machine, which ends QEMU under
# -no-reboot with status 0.
ENDINGS = {
    "reboot": ([r"Domain 0 shut down: reboot", r"Keel resetting the machine"], 0),
}
POWEROFF = ([r"Domain 0 shut down: poweroff", HALTED_OK], 1)

SCENARIOS = [
    Scenario(f"guest-{name}", f"PV test guest '{name}' as dom0 reports PASS and "
             + ("powers off" if name not in ENDINGS else "ends as it asked"),
             args=f"{BASE_ARGS} {extra}".strip(),
             modules=[(f"build:guests/{name}.elf", cmdline)],
             expect=[verdict.replace("$", r"\s*$")] + ENDINGS.get(name, POWEROFF)[0],
             expect_exit=ENDINGS.get(name, POWEROFF)[1],
             forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
             # Guests with several vCPUs get as many CPUs: cross-CPU wake-ups.
             smp=2 if "dom0_max_vcpus" in extra else 1,
             timeout=90,
             qemu_args=devices,
             # Every hypercall answered as Xen 4.17 answered it (the logs
             # that `make conformance` recorded, less allowed.txt).
             post=lambda lines, name=name: hlog.check_keel(name, lines),
             # Listed, not dropped: a guest waits here until Keel runs it.
             skip="" if name in KEEL_READY else "not yet in KEEL_READY (guests.py)")
    for name, extra, cmdline, verdict, devices in _manifest()
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

# The PVH test domU's irqonce area under -icount on two CPUs, where QEMU's
# TCG re-delivers an EVENTINJ interrupt on its own (svm.c): hundreds of
# event-channel callbacks, each taken exactly once and never with
# interrupts off.
SCENARIOS.append(
    Scenario("guest-pvh-irqonce", "PVH domU: every callback interrupt arrives once, IF on",
             args=BASE_ARGS, cpu="qemu64,+svm,+npt",
             modules=[("build:guests/pvh.elf", "irqonce")],
             expect=[r"^pvh irqonce: PASS\s*$", r"^TEST pvh: PASS\s*$",
                     r"Domain 0 shut down: poweroff", HALTED_OK],
             forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
             smp=2, timeout=300, qemu_args=["-icount", "shift=0,sleep=off"]))

# The toolstack guest on two CPUs: dom0's vCPU on one, the domU it builds
# on the other (least loaded), running at the same time.
SCENARIOS.append(
    Scenario("guest-toolstack-smp2", "toolstack guest: domU on the other CPU, concurrently",
             args=f"{BASE_ARGS} dom0_max_vcpus=1",
             modules=[("build:guests/toolstack.elf", "")],
             expect=[r"^TEST toolstack: PASS\s*$", r"Domain 0 shut down: poweroff", HALTED_OK],
             forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
             smp=2, timeout=120))

# Every continuation path, deterministically: with preempt_every=N every
# Nth preemption check says "other work is pending", so long hypercalls
# (multicall, reservations, mmu batches, console writes) really continue,
# inside multicalls too.  The guests' answers must not change.
PREEMPT_GUESTS = ("preempt", "memdup", "balloon", "mmu", "multicall", "console", "memory",
                  "toolstack")
for _name, _n in [(g, 2) for g in PREEMPT_GUESTS] + [("preempt", 1), ("preempt", 7)]:
    SCENARIOS.append(
        Scenario(f"guest-{_name}-preempt{_n}",
                 f"PV test guest '{_name}' with every {_n}th preemption check forced",
                 args=f"{BASE_ARGS} preempt_every={_n}",
                 modules=[(f"build:guests/{_name}.elf", "")],
                 expect=[rf"^TEST {_name}: PASS\s*$", r"Domain 0 shut down: poweroff", HALTED_OK],
                 forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
                 timeout=90))

# The TLB-flush clock wrapping every 15 flushes: the wrap's global flush
# and the "flush everything while it wraps" rule run all the time.
for _name in ("stale-tlb", "mmu", "balloon", "smp", "memdup"):
    _extra = "dom0_max_vcpus=2" if _name == "smp" else ""
    SCENARIOS.append(
        Scenario(f"guest-{_name}-tlbwrap",
                 f"PV test guest '{_name}' with a 4-bit TLB-flush clock",
                 args=f"{BASE_ARGS} tlbclock_bits=4 {_extra}".strip(),
                 modules=[(f"build:guests/{_name}.elf", "")],
                 expect=[r"TLB clock: 4 bits", rf"^TEST {_name}: PASS\s*$",
                         r"Domain 0 shut down: poweroff", HALTED_OK],
                 forbid=DEFAULT_FORBID + (r"^TEST .*: FAIL", r"^check failed"),
                 smp=2, timeout=90))
