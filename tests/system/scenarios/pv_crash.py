"""Hostile PV guests that must crash themselves, never Keel.

badiret (tests/guests/badiret/) hands the iret hypercall frames Xen 4.17
answers with a domain crash (checked by hand on Xen: "Dom0 crashed").  On
Keel the guest dies with a logged reason and Keel halts with dom0's crash
status (3: QEMU exit 7), without a panic or a backtrace.
"""
from . import DEFAULT_FORBID, Scenario

BASE_ARGS = "debug-exit console=com1 dom0_mem=64M loglvl=all"
DOM0_CRASHED = r"Keel halted \(status 3\)"

VARIANTS = [
    ("rsp", "a kernel-mode frame with RSP in Keel's area",
     r"Domain 0 crashed: cannot write an exception frame"),
    ("frame", "an unreadable iret frame", r"Domain 0 crashed: iret: frame not readable"),
]

SCENARIOS = [
    Scenario(f"pv-badiret-{name}", f"iret hypercall with {what} crashes dom0 only",
             args=BASE_ARGS,
             modules=[("build:guests/badiret.elf", name)],
             expect=[rf"^badiret: {name}: ", reason, DOM0_CRASHED],
             forbid=DEFAULT_FORBID + (r"^TEST badiret: ",),
             expect_exit=7,
             timeout=90)
    for name, what, reason in VARIANTS
]
