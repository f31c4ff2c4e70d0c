"""dom0 kernels wrapped as Linux bzImages, as GRUB's Xen entries pass them:
Keel finds the payload through the setup header, decompresses it and builds
dom0 from the ELF inside.  The PV test guest 'hello' stands in for Linux."""
from . import DEFAULT_FORBID, HALTED_OK, PANIC, Scenario

ARGS = "debug-exit console=com1 dom0_mem=64M loglvl=all"

SCENARIOS = [
    Scenario(f"dom0-bzimage-{comp}",
             f"A bzImage with a {comp} payload around a PV kernel boots as dom0",
             args=ARGS, modules=[(f"@bzimage-hello-{comp}", "")],
             expect=[rf"dom0: bzImage \(boot protocol 2\.15\), {comp} payload .* -> ELF",
                     r"^TEST hello: PASS", r"Domain 0 shut down: poweroff", HALTED_OK],
             timeout=90)
    for comp in ("xz", "gzip")
] + [
    Scenario("dom0-bzimage-bzip2",
             "A bzImage with a bzip2 payload is refused by name, and Keel stops cleanly",
             args=ARGS, modules=[("@bzimage-bzip2", "")],
             expect=[r"dom0: kernel rejected: bzImage: unsupported compression bzip2",
                     r"dom0 could not be built"],
             forbid=tuple(f for f in DEFAULT_FORBID if f != PANIC), expect_exit=3),
]
