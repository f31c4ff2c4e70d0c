"""Hostile or unusual boot information, crafted by tests/tools/mbshim.

Malformed structures must give a clear message and a halt; they end on the
halt line since Keel cannot read debug-exit from a structure it rejected.
Odd but usable memory information must be sanitized and the boot go on.
"""
from . import CRASH, HALTED_OK, QEMU_ERROR, SHIM_ERROR, STARTING, Scenario


def keel(rx):
    """Match `rx` in Keel's lines only: the shim's own report names the case."""
    return r"(?i)^(?!.*mbshim:)" + rx


MALFORMED = keel(r".*multiboot.*(malformed|invalid|bad|corrupt|absurd|truncat|too (small|short)|overrun|past|outside|align|no end tag)")
HALTED_PANIC = r"Keel halted \(status 1\)"
NO_CRASH = (CRASH, QEMU_ERROR, SHIM_ERROR)


def shim(case, doc, **kw):
    return Scenario(f"mb-{case}", doc, protocol="shim", shim_case=case, **kw)


SCENARIOS = [
    shim("bad-magic", "Wrong loader magic: Keel refuses to start",
         expect=[r"mbshim: case bad-magic", r"not started by a Multiboot loader"],
         forbid=NO_CRASH + (STARTING,), expect_exit=None),
    shim("mb2-ok", "Sound Multiboot 2 information (control case): boots, reads debug-exit",
         expect=[r"mbshim: case mb2-ok", STARTING, HALTED_OK]),
    shim("mb2-bad-size", "Multiboot 2 total_size smaller than its header: rejected",
         expect=[MALFORMED, HALTED_PANIC], forbid=NO_CRASH, expect_exit=None),
    shim("mb2-tag-overrun", "A Multiboot 2 tag running past total_size: rejected",
         expect=[MALFORMED, HALTED_PANIC], forbid=NO_CRASH, expect_exit=None),
    shim("mb2-misaligned", "Multiboot 2 information not 8-byte aligned: rejected",
         expect=[MALFORMED, HALTED_PANIC], forbid=NO_CRASH, expect_exit=None),
    shim("mb1-mmap-overlap",
         "Memory map unsorted, overlapping, with holes and a wide entry: sanitized, boots",
         expect=[STARTING, HALTED_OK]),
    shim("mb1-no-mmap", "Only mem_lower/mem_upper, no memory map: boots",
         expect=[STARTING, HALTED_OK]),
    shim("mb1-bad-module", "A module ending before it starts: clear message, defined outcome",
         expect=[keel(r".*module.*(invalid|bad|malformed|ignor|empty|negative|before)"),
                 r"Keel halted \(status [01]\)"],
         forbid=NO_CRASH, expect_exit=None),
]
