"""The crash path: a deliberate fault must give a register dump and a backtrace."""
from . import QEMU_ERROR, SHIM_ERROR, STARTING, Scenario

SCENARIOS = [
    Scenario("crash-pf", "crashtest=pf: page fault report, registers, backtrace, panic exit",
             args="debug-exit crashtest=pf",
             expect=[STARTING,
                     r"(?i)page fault|#PF",
                     r"(?i)\brip\b",
                     r"(?i)backtrace",
                     r"Keel halted \(status 1\)"],
             forbid=(QEMU_ERROR, SHIM_ERROR, r"unknown option 'crashtest'"),
             expect_exit=3),
]
